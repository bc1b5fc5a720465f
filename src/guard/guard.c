/* guard.c: the in-memory brute-force tables (see guard.h).
 *
 * Each shard holds a fixed pool of entries, a chained hash table of pool
 * indices and an LRU list of the entries in use. Nothing is allocated after
 * guard_new. Eviction walks the LRU list from its oldest end; a banned
 * entry met on the way is moved to the newest end, so a shard full of bans
 * is walked once per insertion at most. */
#include "guard/guard.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define GUARD_NIL UINT32_MAX

/* A source: an IPv4 address (v6 == 0, v4 in network order) or an IPv6
 * /64 prefix (v6 == 1, hi holds its 8 bytes). */
struct guard_key {
	uint64_t hi;
	uint32_t v4;
	uint32_t v6;
};

struct guard_entry {
	struct guard_key key;
	uint32_t chain;        /* next index in the bucket */
	uint32_t prev, next;   /* LRU list (or free list in next) */
	unsigned fails;        /* failures in the current window */
	unsigned offences;     /* bans so far */
	int64_t window_start;  /* of the failure window */
	int64_t banned_until;  /* 0: none */
	int64_t offence_until; /* offences forgotten after this */
	int64_t trusted_until; /* 0: not trusted */
	bool manual;           /* ban set by guard_ban */
	char reason[GUARD_REASON_MAX + 1];
};

struct guard_shard {
	pthread_mutex_t lock;
	struct guard_entry *e; /* per entries */
	uint32_t *bucket;      /* nbucket heads */
	uint32_t nbucket;      /* a power of two */
	uint32_t per;          /* entries in e */
	uint32_t used;
	uint32_t free_head;
	uint32_t lru_head, lru_tail; /* oldest, newest */
};

struct guard {
	struct guard_params p;
	struct config_cidr allow[CONFIG_CIDR_MAX];
	uint64_t seed;
	unsigned nshard; /* a power of two */
	struct guard_shard shard[GUARD_SHARDS];
};

/* Sets *k to the key of src. Returns 0 or EAFNOSUPPORT. */
static int
guard_key_make(const struct sockaddr_storage *src, struct guard_key *k)
{
	memset(k, 0, sizeof(*k));
	if (src->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)src;

		memcpy(&k->v4, &sin->sin_addr, sizeof(k->v4));
		return 0;
	}
	if (src->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)src;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			memcpy(&k->v4, &sin6->sin6_addr.s6_addr[12],
			    sizeof(k->v4));
			return 0;
		}
		memcpy(&k->hi, sin6->sin6_addr.s6_addr, sizeof(k->hi));
		k->v6 = 1;
		return 0;
	}
	return EAFNOSUPPORT;
}

static bool
guard_key_eq(const struct guard_key *a, const struct guard_key *b)
{
	return a->hi == b->hi && a->v4 == b->v4 && a->v6 == b->v6;
}

static uint64_t
guard_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* Returns the keyed hash of k (the seed is random per guard, so a peer
 * cannot aim its addresses at one bucket). */
static uint64_t
guard_key_hash(const struct guard *g, const struct guard_key *k)
{
	uint64_t h = guard_mix(g->seed ^ k->hi);

	return guard_mix(h ^ ((uint64_t)k->v4 << 1 | k->v6) ^ g->seed);
}

static bool
guard_allowed(const struct guard *g, const struct sockaddr_storage *src)
{
	size_t i;

	for (i = 0; i < g->p.allow_n; i++)
		if (config_cidr_match(
		        &g->allow[i], (const struct sockaddr *)src))
			return true;
	return false;
}

/* Locks the shard of k and returns it; *h gets the hash. */
static struct guard_shard *
guard_shard_lock(struct guard *g, const struct guard_key *k, uint64_t *h)
{
	struct guard_shard *s;

	*h = guard_key_hash(g, k);
	s = &g->shard[(*h >> 48) & (g->nshard - 1)];
	pthread_mutex_lock(&s->lock);
	return s;
}

/* Returns the entry of k in s, or NULL. */
static struct guard_entry *
guard_entry_find(struct guard_shard *s, const struct guard_key *k, uint64_t h)
{
	uint32_t i = s->bucket[h & (s->nbucket - 1)];

	while (i != GUARD_NIL) {
		if (guard_key_eq(&s->e[i].key, k))
			return &s->e[i];
		i = s->e[i].chain;
	}
	return NULL;
}

static void
guard_lru_unlink(struct guard_shard *s, uint32_t i)
{
	struct guard_entry *e = &s->e[i];

	if (e->prev != GUARD_NIL)
		s->e[e->prev].next = e->next;
	else
		s->lru_head = e->next;
	if (e->next != GUARD_NIL)
		s->e[e->next].prev = e->prev;
	else
		s->lru_tail = e->prev;
	e->prev = e->next = GUARD_NIL;
}

static void
guard_lru_append(struct guard_shard *s, uint32_t i)
{
	struct guard_entry *e = &s->e[i];

	e->prev = s->lru_tail;
	e->next = GUARD_NIL;
	if (s->lru_tail != GUARD_NIL)
		s->e[s->lru_tail].next = i;
	else
		s->lru_head = i;
	s->lru_tail = i;
}

static void
guard_entry_touch(struct guard_shard *s, struct guard_entry *e)
{
	uint32_t i = (uint32_t)(e - s->e);

	if (s->lru_tail == i)
		return;
	guard_lru_unlink(s, i);
	guard_lru_append(s, i);
}

/* Takes entry i out of its bucket and the LRU list; it becomes unused. */
static void
guard_entry_remove(struct guard_shard *s, const struct guard *g, uint32_t i)
{
	uint64_t h = guard_key_hash(g, &s->e[i].key);
	uint32_t *pp = &s->bucket[h & (s->nbucket - 1)];

	while (*pp != i)
		pp = &s->e[*pp].chain;
	*pp = s->e[i].chain;
	guard_lru_unlink(s, i);
	s->used--;
}

/* Returns the index of an entry to reuse: a free one, else the oldest one
 * not banned at now_us. GUARD_NIL when every entry is banned. */
static uint32_t
guard_entry_take(struct guard_shard *s, const struct guard *g, int64_t now_us)
{
	uint32_t i, n;

	if ((i = s->free_head) != GUARD_NIL) {
		s->free_head = s->e[i].next;
		return i;
	}
	for (n = 0; n < s->used; n++) {
		i = s->lru_head;
		if (s->e[i].banned_until <= now_us) {
			guard_entry_remove(s, g, i);
			return i;
		}
		guard_entry_touch(s, &s->e[i]); /* skip it next time */
	}
	return GUARD_NIL;
}

/* Returns the entry of k in s, adding it when missing; NULL when the shard
 * is full of bans. */
static struct guard_entry *
guard_entry_get(struct guard_shard *s, const struct guard *g,
    const struct guard_key *k, uint64_t h, int64_t now_us)
{
	struct guard_entry *e;
	uint32_t i, *head;

	if ((e = guard_entry_find(s, k, h)) != NULL) {
		guard_entry_touch(s, e);
		return e;
	}
	if ((i = guard_entry_take(s, g, now_us)) == GUARD_NIL)
		return NULL;
	e = &s->e[i];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	head = &s->bucket[h & (s->nbucket - 1)];
	e->chain = *head;
	*head = i;
	guard_lru_append(s, i);
	s->used++;
	return e;
}

/* Forgets offences whose memory has run out and a failure window that has
 * ended. */
static void
guard_entry_age(const struct guard *g, struct guard_entry *e, int64_t now_us)
{
	if (e->offences > 0 && e->banned_until <= now_us &&
	    e->offence_until <= now_us)
		e->offences = 0;
	if (e->fails > 0 && now_us - e->window_start >= g->p.window_us)
		e->fails = 0;
}

/* Returns the length of the next ban for an entry with offences bans. */
static int64_t
guard_ban_length(const struct guard *g, unsigned offences)
{
	int64_t d = g->p.ban_us;
	unsigned i;

	for (i = 0; i < offences && d < g->p.ban_max_us; i++)
		d = d > g->p.ban_max_us / 2 ? g->p.ban_max_us : d * 2;
	return d < g->p.ban_max_us ? d : g->p.ban_max_us;
}

static void
guard_reason_set(struct guard_entry *e, const char *reason)
{
	size_t n = reason ? strnlen(reason, GUARD_REASON_MAX) : 0;

	if (n > 0)
		memcpy(e->reason, reason, n);
	e->reason[n] = '\0';
}

static int64_t
guard_add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void
guard_shard_free(struct guard_shard *s)
{
	free(s->e);
	free(s->bucket);
}

static int
guard_shard_init(struct guard_shard *s, uint32_t per)
{
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->per = per;
	s->nbucket = 1;
	while (s->nbucket < per)
		s->nbucket <<= 1;
	s->e = calloc(per, sizeof(*s->e));
	s->bucket = calloc(s->nbucket, sizeof(*s->bucket));
	if (s->e == NULL || s->bucket == NULL) {
		guard_shard_free(s);
		return ENOMEM;
	}
	for (i = 0; i < s->nbucket; i++)
		s->bucket[i] = GUARD_NIL;
	for (i = 0; i < per; i++) {
		s->e[i].prev = GUARD_NIL;
		s->e[i].next = i + 1 < per ? i + 1 : GUARD_NIL;
	}
	s->free_head = 0;
	s->lru_head = s->lru_tail = GUARD_NIL;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		guard_shard_free(s);
		return ENOMEM;
	}
	return 0;
}

/* Returns 0 and sets *out, EINVAL or ENOMEM; on error *out is untouched. */
int
guard_new(const struct guard_params *p, struct guard **out)
{
	struct guard *g = NULL;
	unsigned i, ready = 0;
	int err = 0;

	if (p == NULL || out == NULL || p->max_failures < 1 ||
	    p->max_failures > GUARD_FAILURES_MAX || p->window_us <= 0 ||
	    p->ban_us <= 0 || p->ban_max_us < p->ban_us || p->trust_us < 0 ||
	    p->offence_keep_us < 0 || p->allow_n > CONFIG_CIDR_MAX ||
	    (p->allow_n > 0 && p->allow == NULL) || p->capacity < 1 ||
	    p->capacity > GUARD_CAPACITY_MAX)
		return EINVAL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ENOMEM;
	g->p = *p;
	if (p->allow_n > 0)
		memcpy(g->allow, p->allow, p->allow_n * sizeof(*p->allow));
	g->p.allow = g->allow;
	if (g->p.offence_keep_us == 0)
		g->p.offence_keep_us = GUARD_OFFENCE_KEEP_US;
	if (getrandom(&g->seed, sizeof(g->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(g->seed))
		g->seed = (uint64_t)(uintptr_t)g ^ (uint64_t)time(NULL);
	g->nshard = p->capacity >= (size_t)GUARD_SHARDS * 16 ? GUARD_SHARDS : 1;
	for (i = 0; i < g->nshard; i++) {
		if ((err = guard_shard_init(&g->shard[i],
		         (uint32_t)(p->capacity / g->nshard))) != 0)
			goto out;
		ready++;
	}
	*out = g;
	g = NULL;
out:
	if (g != NULL) {
		for (i = 0; i < ready; i++) {
			pthread_mutex_destroy(&g->shard[i].lock);
			guard_shard_free(&g->shard[i]);
		}
		free(g);
	}
	return err;
}

void
guard_free(struct guard *g)
{
	unsigned i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nshard; i++) {
		pthread_mutex_destroy(&g->shard[i].lock);
		guard_shard_free(&g->shard[i]);
	}
	free(g);
}

/* One hash lookup under the shard lock; allocates nothing. */
bool
guard_is_banned(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	bool banned;

	if (guard_key_make(src, &k) != 0)
		return false;
	s = guard_shard_lock(g, &k, &h);
	e = guard_entry_find(s, &k, h);
	banned = e != NULL && e->banned_until > now_us;
	pthread_mutex_unlock(&s->lock);
	return banned;
}

/* Returns 1 (and sets *banned_until) when this failure banned src, else 0. */
int
guard_failure(struct guard *g, const struct sockaddr_storage *src,
    int64_t now_us, int64_t *banned_until)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	int64_t until = 0;
	int banned = 0;

	if (guard_key_make(src, &k) != 0 || guard_allowed(g, src))
		return 0;
	s = guard_shard_lock(g, &k, &h);
	if ((e = guard_entry_get(s, g, &k, h, now_us)) == NULL)
		goto out;
	if (e->banned_until > now_us)
		goto out;
	guard_entry_age(g, e, now_us);
	if (e->fails == 0)
		e->window_start = now_us;
	if (e->fails < g->p.max_failures)
		e->fails++;
	if (e->fails < g->p.max_failures || e->trusted_until > now_us)
		goto out;
	until = guard_add_sat(now_us, guard_ban_length(g, e->offences));
	e->banned_until = until;
	e->offence_until = guard_add_sat(until, g->p.offence_keep_us);
	if (e->offences < UINT32_MAX)
		e->offences++;
	e->fails = 0;
	e->manual = false;
	guard_reason_set(e, "authentication failures");
	banned = 1;
out:
	pthread_mutex_unlock(&s->lock);
	if (banned && banned_until != NULL)
		*banned_until = until;
	return banned;
}

void
guard_success(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;

	if (guard_key_make(src, &k) != 0 || guard_allowed(g, src))
		return;
	s = guard_shard_lock(g, &k, &h);
	if ((e = guard_entry_get(s, g, &k, h, now_us)) != NULL) {
		e->fails = 0;
		e->trusted_until = guard_add_sat(now_us, g->p.trust_us);
	}
	pthread_mutex_unlock(&s->lock);
}

bool
guard_is_trusted(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	bool trusted;

	if (guard_key_make(src, &k) != 0)
		return false;
	s = guard_shard_lock(g, &k, &h);
	e = guard_entry_find(s, &k, h);
	trusted = e != NULL && e->trusted_until > now_us;
	pthread_mutex_unlock(&s->lock);
	return trusted;
}

unsigned
guard_failures(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	unsigned n = 0;

	if (guard_key_make(src, &k) != 0)
		return 0;
	s = guard_shard_lock(g, &k, &h);
	e = guard_entry_find(s, &k, h);
	if (e != NULL && now_us - e->window_start < g->p.window_us)
		n = e->fails;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Returns 0, EINVAL, EAFNOSUPPORT, EPERM or ENOSPC. */
int
guard_ban(struct guard *g, const struct sockaddr_storage *src, int64_t now_us,
    int64_t until_us, const char *reason)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	int err = 0;

	if (until_us <= now_us)
		return EINVAL;
	if ((err = guard_key_make(src, &k)) != 0)
		return err;
	if (guard_allowed(g, src))
		return EPERM;
	s = guard_shard_lock(g, &k, &h);
	if ((e = guard_entry_get(s, g, &k, h, now_us)) == NULL) {
		err = ENOSPC;
		goto out;
	}
	guard_entry_age(g, e, now_us);
	e->banned_until = until_us;
	e->offence_until = guard_add_sat(until_us, g->p.offence_keep_us);
	if (e->offences < UINT32_MAX)
		e->offences++;
	e->fails = 0;
	e->manual = true;
	guard_reason_set(e, reason);
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

/* Returns 0, ENOENT or EAFNOSUPPORT. The entry stays (not banned). */
int
guard_unban(struct guard *g, const struct sockaddr_storage *src)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	int err = 0;

	if ((err = guard_key_make(src, &k)) != 0)
		return err;
	s = guard_shard_lock(g, &k, &h);
	e = guard_entry_find(s, &k, h);
	if (e == NULL || e->banned_until == 0) {
		err = ENOENT;
		goto out;
	}
	e->banned_until = 0;
	e->offence_until = 0;
	e->offences = 0;
	e->fails = 0;
	e->manual = false;
	e->reason[0] = '\0';
out:
	pthread_mutex_unlock(&s->lock);
	return err;
}

static void
guard_info_fill(const struct guard_entry *e, struct guard_ban_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	if (e->key.v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&bi->addr;

		sin6->sin6_family = AF_INET6;
		memcpy(sin6->sin6_addr.s6_addr, &e->key.hi, sizeof(e->key.hi));
		bi->prefix = 64;
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&bi->addr;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, &e->key.v4, sizeof(e->key.v4));
		bi->prefix = 32;
	}
	bi->until_us = e->banned_until;
	bi->offences = e->offences;
	bi->manual = e->manual;
	memcpy(bi->reason, e->reason, sizeof(bi->reason));
}

/* Returns the first nonzero value of cb, or 0. */
int
guard_list(struct guard *g, int64_t now_us, guard_list_cb *cb, void *arg)
{
	struct guard_ban_info bi;
	unsigned si;
	uint32_t i;
	int rc = 0;

	for (si = 0; si < g->nshard && rc == 0; si++) {
		struct guard_shard *s = &g->shard[si];

		pthread_mutex_lock(&s->lock);
		for (i = s->lru_head; i != GUARD_NIL && rc == 0;
		     i = s->e[i].next) {
			if (s->e[i].banned_until <= now_us)
				continue;
			guard_info_fill(&s->e[i], &bi);
			rc = cb(&bi, arg);
		}
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

size_t
guard_count(struct guard *g)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < g->nshard; i++) {
		pthread_mutex_lock(&g->shard[i].lock);
		n += g->shard[i].used;
		pthread_mutex_unlock(&g->shard[i].lock);
	}
	return n;
}
