/* guard.c: the in-memory brute-force tables (see guard.h).
 *
 * Each shard holds a fixed pool of entries, a chained hash table of pool
 * indices and an LRU list of the entries in use. Nothing is allocated after
 * guard_new. Eviction walks the LRU list from its oldest end; a banned
 * entry met on the way is moved to the newest end, so a shard full of bans
 * is walked once per insertion at most. */
#include "guard/guard.h"
#include "lib/util.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#define GUARD_NIL UINT32_MAX

/* A source: an IPv4 address (v6 == 0, v4 in network order) or an IPv6
 * /64 prefix (v6 == 1, hi holds its 8 bytes); an extension (v6 == 2, hi
 * holds its id) in the table of extensions. */
struct guard_key {
	uint64_t hi;
	uint32_t v4;
	uint32_t v6;
};

/* One entry of a table: a source (its failures, ban and trust), an
 * extension (its failures and lock: banned_until) or a source's token
 * bucket. Eviction keeps the entries with banned_until in the future. */
struct guard_entry {
	struct guard_key key;
	uint32_t chain;       /* next index in the bucket */
	uint32_t prev, next;  /* LRU list (or free list in next) */
	int64_t banned_until; /* a ban, or an extension's lock; 0: none */
	union {
		struct {                       /* a source or an extension */
			unsigned fails;        /* failures in the window */
			unsigned offences;     /* bans so far */
			int64_t window_start;  /* of the failure window */
			int64_t offence_until; /* offences forgotten then */
			int64_t trusted_until; /* 0: not trusted */
			bool manual;           /* ban set by guard_ban */
			char reason[GUARD_REASON_MAX + 1];
			/* Hashes of the last targets (a source's sweep) or
			 * sources (an extension's failures), and how many
			 * distinct ones the window has seen. */
			uint64_t seen[GUARD_SEEN_MAX];
			unsigned nseen;
			unsigned unbannable; /* an extension's failures from
			                        sources that cannot be banned */
		};
		struct {                   /* a token bucket */
			int64_t tokens;    /* micro-messages */
			int64_t refill_us; /* 0: new */
			int64_t report_us; /* last rate-limit report */
			uint64_t dropped;  /* since the last report */
		};
	};
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

/* The settings: replaced whole by guard_reconfigure (a reload), read
 * through one pointer; a replaced one is freed a minute later (readers
 * hold it for one call). */
struct guard_conf {
	struct guard_params p;
	struct config_cidr allow[CONFIG_CIDR_MAX];
	struct config_cidr deny[CONFIG_CIDR_MAX];
	char decoys[CONFIG_DECOYS_MAX][CONFIG_DECOY_LEN + 1];
	struct guard_conf *retired_next;
	int64_t retired_us;
};

struct guard {
	_Atomic(struct guard_conf *) cf;
	pthread_mutex_t cf_lock; /* reconfigure; retired */
	struct guard_conf *retired;
	uint64_t seed;
	unsigned nshard;                        /* a power of two */
	struct guard_shard shard[GUARD_SHARDS]; /* sources */
	unsigned nxshard;
	struct guard_shard xshard[GUARD_SHARDS]; /* extensions */
	unsigned nrshard;
	struct guard_shard rshard[GUARD_SHARDS]; /* token buckets */
};

/* The settings in force. */
static const struct guard_conf *
guard_conf(const struct guard *g)
{
	return atomic_load_explicit(
	    (_Atomic(struct guard_conf *) *)&g->cf, memory_order_acquire);
}

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

/* True when src is in [guard] deny: dropped like a banned source. */
static bool
guard_denied(const struct guard *g, const struct sockaddr_storage *src)
{
	const struct guard_conf *cf = guard_conf(g);
	size_t i;

	for (i = 0; i < cf->p.deny_n; i++)
		if (config_cidr_match(
		        &cf->deny[i], (const struct sockaddr *)src))
			return true;
	return false;
}

static bool
guard_allowed(const struct guard *g, const struct sockaddr_storage *src)
{
	const struct guard_conf *cf = guard_conf(g);
	size_t i;

	for (i = 0; i < cf->p.allow_n; i++)
		if (config_cidr_match(
		        &cf->allow[i], (const struct sockaddr *)src))
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
	const struct guard_conf *cf = guard_conf(g);
	if (e->offences > 0 && e->banned_until <= now_us &&
	    e->offence_until <= now_us)
		e->offences = 0;
	if ((e->fails > 0 || e->nseen > 0) &&
	    now_us - e->window_start >= cf->p.window_us) {
		e->fails = 0;
		e->nseen = 0;
		e->unbannable = 0;
		memset(e->seen, 0, sizeof(e->seen));
	}
}

/* Returns the length of the next ban for an entry with offences bans. */
static int64_t
guard_ban_length(const struct guard *g, unsigned offences)
{
	const struct guard_conf *cf = guard_conf(g);
	int64_t d = cf->p.ban_us;
	unsigned i;

	for (i = 0; i < offences && d < cf->p.ban_max_us; i++)
		d = d > cf->p.ban_max_us / 2 ? cf->p.ban_max_us : d * 2;
	return d < cf->p.ban_max_us ? d : cf->p.ban_max_us;
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

static void
guard_table_free(struct guard_shard *tab, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		pthread_mutex_destroy(&tab[i].lock);
		guard_shard_free(&tab[i]);
	}
}

/* Sets up a table of capacity entries in tab (GUARD_SHARDS shards when
 * it is large enough, else one); *n gets the number of shards. Returns 0
 * or ENOMEM (nothing left allocated). */
static int
guard_table_init(struct guard_shard *tab, unsigned *n, size_t capacity)
{
	unsigned i,
	    want = capacity >= (size_t)GUARD_SHARDS * 16 ? GUARD_SHARDS : 1;
	int err;

	for (i = 0; i < want; i++) {
		if ((err = guard_shard_init(
		         &tab[i], (uint32_t)(capacity / want))) != 0) {
			guard_table_free(tab, i);
			return err;
		}
	}
	*n = want;
	return 0;
}

/* Whether p holds settings a guard can run with. */
static bool
guard_params_ok(const struct guard_params *p)
{
	return p != NULL && p->max_failures >= 1 &&
	       p->max_failures <= GUARD_FAILURES_MAX && p->window_us > 0 &&
	       p->ban_us > 0 && p->ban_max_us >= p->ban_us &&
	       p->trust_us >= 0 && p->offence_keep_us >= 0 &&
	       p->allow_n <= CONFIG_CIDR_MAX && p->deny_n <= CONFIG_CIDR_MAX &&
	       (p->deny_n == 0 || p->deny != NULL) &&
	       (p->allow_n == 0 || p->allow != NULL) && p->capacity >= 1 &&
	       p->capacity <= GUARD_CAPACITY_MAX && p->lock_us >= 0 &&
	       p->rate <= GUARD_RATE_MAX && p->rate_burst <= GUARD_RATE_MAX &&
	       p->decoys_n <= CONFIG_DECOYS_MAX &&
	       (p->decoys_n == 0 || p->decoys != NULL);
}

/* A settings block with copies of p's lists and its defaults filled. */
static struct guard_conf *
guard_conf_new(const struct guard_params *p)
{
	struct guard_conf *cf = calloc(1, sizeof(*cf));
	size_t i;

	if (cf == NULL)
		return NULL;
	cf->p = *p;
	if (p->allow_n > 0)
		memcpy(cf->allow, p->allow, p->allow_n * sizeof(*p->allow));
	cf->p.allow = cf->allow;
	if (p->deny_n > 0)
		memcpy(cf->deny, p->deny, p->deny_n * sizeof(*p->deny));
	cf->p.deny = cf->deny;
	for (i = 0; i < p->decoys_n; i++)
		snprintf(
		    cf->decoys[i], sizeof(cf->decoys[i]), "%s", p->decoys[i]);
	cf->p.decoys = (const char(*)[CONFIG_DECOY_LEN + 1]) cf->decoys;
	if (cf->p.lock_sources == 0)
		cf->p.lock_sources = GUARD_LOCK_SOURCES;
	if (cf->p.rate_burst == 0)
		cf->p.rate_burst = cf->p.rate;
	if (cf->p.offence_keep_us == 0)
		cf->p.offence_keep_us = GUARD_OFFENCE_KEEP_US;
	return cf;
}

/* Returns 0 and sets *out, EINVAL or ENOMEM; on error *out is untouched. */
int
guard_new(const struct guard_params *p, struct guard **out)
{
	struct guard *g = NULL;
	struct guard_conf *cf;
	unsigned i, ready = 0;
	size_t xcap;
	int err = 0;

	if (!guard_params_ok(p) || out == NULL)
		return EINVAL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ENOMEM;
	if ((cf = guard_conf_new(p)) == NULL) {
		free(g);
		return ENOMEM;
	}
	atomic_init(&g->cf, cf);
	pthread_mutex_init(&g->cf_lock, NULL);
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
	/* Extensions with failures: fewer than sources. */
	xcap = p->capacity / 4 > 0 ? p->capacity / 4 : 1;
	if ((err = guard_table_init(g->xshard, &g->nxshard, xcap)) != 0)
		goto out;
	if ((err = guard_table_init(g->rshard, &g->nrshard, p->capacity)) !=
	    0) {
		guard_table_free(g->xshard, g->nxshard);
		goto out;
	}
	*out = g;
	g = NULL;
out:
	if (g != NULL) {
		for (i = 0; i < ready; i++) {
			pthread_mutex_destroy(&g->shard[i].lock);
			guard_shard_free(&g->shard[i]);
		}
		pthread_mutex_destroy(&g->cf_lock);
		free(atomic_load(&g->cf));
		free(g);
	}
	return err;
}

int
guard_reconfigure(struct guard *g, const struct guard_params *p, int64_t now_us)
{
	struct guard_conf *cf, *old, **pp;

	if (!guard_params_ok(p))
		return EINVAL;
	pthread_mutex_lock(&g->cf_lock);
	old = atomic_load(&g->cf);
	if (p->capacity != old->p.capacity) {
		pthread_mutex_unlock(&g->cf_lock);
		return EINVAL; /* the tables are sized once */
	}
	if ((cf = guard_conf_new(p)) == NULL) {
		pthread_mutex_unlock(&g->cf_lock);
		return ENOMEM;
	}
	cf->p.on_ban = old->p.on_ban; /* the daemon's, not the config's */
	cf->p.on_ban_arg = old->p.on_ban_arg;
	atomic_store_explicit(&g->cf, cf, memory_order_release);
	/* Readers hold a settings block for one call: one replaced a
	 * minute ago is nobody's any more. */
	old->retired_us = now_us;
	old->retired_next = g->retired;
	g->retired = old;
	for (pp = &g->retired->retired_next; *pp != NULL;)
		if (now_us - (*pp)->retired_us > GUARD_RETIRE_US) {
			struct guard_conf *x = *pp;

			*pp = x->retired_next;
			free(x);
		} else {
			pp = &(*pp)->retired_next;
		}
	pthread_mutex_unlock(&g->cf_lock);
	return 0;
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
	guard_table_free(g->xshard, g->nxshard);
	guard_table_free(g->rshard, g->nrshard);
	while (g->retired != NULL) {
		struct guard_conf *x = g->retired;

		g->retired = x->retired_next;
		free(x);
	}
	free(atomic_load(&g->cf));
	pthread_mutex_destroy(&g->cf_lock);
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
	return guard_strike(g, src, now_us, GUARD_WHY_AUTH, 0, banned_until);
}

/* True when h is among the recent hashes of e; else remembers it (the
 * oldest one goes) and counts it as a new one. */
static bool
guard_seen(struct guard_entry *e, uint64_t h)
{
	size_t i;

	for (i = 0; i < GUARD_SEEN_MAX && i < e->nseen; i++)
		if (e->seen[i] == h)
			return true;
	memmove(&e->seen[1], &e->seen[0],
	    (GUARD_SEEN_MAX - 1) * sizeof(e->seen[0]));
	e->seen[0] = h;
	if (e->nseen < UINT32_MAX)
		e->nseen++;
	return false;
}

static const struct {
	const char *name, *text;
} guard_whys[] = {
    [GUARD_WHY_AUTH] = {"auth-failures", "failed authentications"},
    [GUARD_WHY_SCANNER] = {"scanner", "scanner"},
    [GUARD_WHY_DOMAIN] = {"unknown-domain", "requests for unknown domains"},
    [GUARD_WHY_SWEEP] = {"sweep", "sweep of unknown users"},
    [GUARD_WHY_DECOY] = {"decoy", "decoy extension"},
};

const char *
guard_why_name(enum guard_why why)
{
	return (size_t)why < ARRAY_LEN(guard_whys) ? guard_whys[why].name : "?";
}

const char *
guard_why_text(enum guard_why why)
{
	return (size_t)why < ARRAY_LEN(guard_whys) ? guard_whys[why].text : "?";
}

/* Returns 1 (and sets *banned_until) when this offence banned src, else
 * 0. */
int
guard_strike(struct guard *g, const struct sockaddr_storage *src,
    int64_t now_us, enum guard_why why, uint64_t target, int64_t *banned_until)
{
	const struct guard_conf *cf = guard_conf(g);
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	int64_t until = 0;
	int banned = 0;

	if (cf->p.disabled || guard_key_make(src, &k) != 0 ||
	    guard_allowed(g, src))
		return 0;
	s = guard_shard_lock(g, &k, &h);
	if ((e = guard_entry_get(s, g, &k, h, now_us)) == NULL)
		goto out;
	if (e->banned_until > now_us)
		goto out;
	guard_entry_age(g, e, now_us);
	if (e->fails == 0 && e->nseen == 0)
		e->window_start = now_us;
	if (why == GUARD_WHY_SWEEP && guard_seen(e, target))
		goto out; /* this user was counted already */
	if (e->fails < cf->p.max_failures)
		e->fails++;
	if (why == GUARD_WHY_DECOY && e->trusted_until <= now_us)
		e->fails = cf->p.max_failures; /* at once */
	if (e->fails < cf->p.max_failures || e->trusted_until > now_us)
		goto out;
	until = guard_add_sat(now_us, guard_ban_length(g, e->offences));
	e->banned_until = until;
	e->offence_until = guard_add_sat(until, cf->p.offence_keep_us);
	if (e->offences < UINT32_MAX)
		e->offences++;
	e->fails = 0;
	e->nseen = 0;
	e->manual = false;
	guard_reason_set(e, guard_why_text(why));
	banned = 1;
out:
	pthread_mutex_unlock(&s->lock);
	if (banned && banned_until != NULL)
		*banned_until = until;
	if (banned && cf->p.on_ban != NULL)
		cf->p.on_ban(cf->p.on_ban_arg, src, until);
	return banned;
}

void
guard_success(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us)
{
	const struct guard_conf *cf = guard_conf(g);
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;

	if (cf->p.disabled || guard_key_make(src, &k) != 0 ||
	    guard_allowed(g, src))
		return;
	s = guard_shard_lock(g, &k, &h);
	if ((e = guard_entry_get(s, g, &k, h, now_us)) != NULL) {
		e->fails = 0;
		e->trusted_until = guard_add_sat(now_us, cf->p.trust_us);
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
	const struct guard_conf *cf = guard_conf(g);
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	unsigned n = 0;

	if (guard_key_make(src, &k) != 0)
		return 0;
	s = guard_shard_lock(g, &k, &h);
	e = guard_entry_find(s, &k, h);
	if (e != NULL && now_us - e->window_start < cf->p.window_us)
		n = e->fails;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Returns 0, EINVAL, EAFNOSUPPORT, EPERM or ENOSPC. */
int
guard_ban(struct guard *g, const struct sockaddr_storage *src, int64_t now_us,
    int64_t until_us, const char *reason)
{
	const struct guard_conf *cf = guard_conf(g);
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
	e->offence_until = guard_add_sat(until_us, cf->p.offence_keep_us);
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

bool
guard_enabled(const struct guard *g)
{
	const struct guard_conf *cf = guard_conf(g);
	return !cf->p.disabled;
}

bool
guard_stealth(const struct guard *g)
{
	const struct guard_conf *cf = guard_conf(g);
	return cf->p.stealth;
}

bool
guard_is_allowed(const struct guard *g, const struct sockaddr_storage *src)
{
	return guard_allowed(g, src);
}

bool
guard_is_decoy(const struct guard *g, const char *user, size_t len)
{
	const struct guard_conf *cf = guard_conf(g);
	size_t i;

	for (i = 0; i < cf->p.decoys_n; i++)
		if (strlen(cf->decoys[i]) == len &&
		    strncasecmp(cf->decoys[i], user, len) == 0)
			return true;
	return false;
}

/* Locks the shard of k in one of the tables; *h gets the hash. */
static struct guard_shard *
guard_table_lock(struct guard *g, struct guard_shard *tab, unsigned n,
    const struct guard_key *k, uint64_t *h)
{
	struct guard_shard *s;

	*h = guard_key_hash(g, k);
	s = &tab[(*h >> 48) & (n - 1)];
	pthread_mutex_lock(&s->lock);
	return s;
}

static void
guard_ext_key(int64_t ext_id, struct guard_key *k)
{
	memset(k, 0, sizeof(*k));
	k->hi = (uint64_t)ext_id;
	k->v6 = 2;
}

/* Returns 1 (and fills *lock) when this failure locked the extension. */
int
guard_ext_failure(struct guard *g, int64_t ext_id,
    const struct sockaddr_storage *src, int64_t now_us, struct guard_lock *lock)
{
	const struct guard_conf *cf = guard_conf(g);
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k, sk;
	struct guard_lock out;
	bool unbannable;
	uint64_t h;
	int locked = 0;

	if (cf->p.disabled || cf->p.lock_us <= 0 ||
	    guard_key_make(src, &sk) != 0)
		return 0;
	/* Before the extension's lock is taken: one lock at a time. */
	unbannable = guard_allowed(g, src) || guard_is_trusted(g, src, now_us);
	memset(&out, 0, sizeof(out));
	guard_ext_key(ext_id, &k);
	s = guard_table_lock(g, g->xshard, g->nxshard, &k, &h);
	if ((e = guard_entry_get(s, g, &k, h, now_us)) == NULL)
		goto unlock;
	if (e->banned_until > now_us)
		goto unlock;
	guard_entry_age(g, e, now_us);
	if (e->fails == 0 && e->nseen == 0)
		e->window_start = now_us;
	if (e->fails < UINT32_MAX)
		e->fails++;
	if (unbannable && e->unbannable < UINT32_MAX)
		e->unbannable++;
	(void)guard_seen(e, guard_key_hash(g, &sk));
	if (e->unbannable >= cf->p.max_failures ||
	    (e->fails >= cf->p.max_failures &&
	        e->nseen >= cf->p.lock_sources)) {
		out.until_us = guard_add_sat(now_us, cf->p.lock_us);
		out.failures = e->fails;
		out.sources = e->nseen;
		out.unbannable = e->unbannable >= cf->p.max_failures;
		e->banned_until = out.until_us;
		e->fails = e->nseen = e->unbannable = 0;
		memset(e->seen, 0, sizeof(e->seen));
		locked = 1;
	}
unlock:
	pthread_mutex_unlock(&s->lock);
	if (locked && lock != NULL)
		*lock = out;
	return locked;
}

bool
guard_ext_is_locked(struct guard *g, int64_t ext_id, int64_t now_us)
{
	const struct guard_conf *cf = guard_conf(g);
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	bool locked;

	if (cf->p.disabled)
		return false;
	guard_ext_key(ext_id, &k);
	s = guard_table_lock(g, g->xshard, g->nxshard, &k, &h);
	e = guard_entry_find(s, &k, h);
	locked = e != NULL && e->banned_until > now_us;
	pthread_mutex_unlock(&s->lock);
	return locked;
}

/* Returns 0 or ENOENT. */
int
guard_ext_unlock(struct guard *g, int64_t ext_id)
{
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;
	int err = ENOENT;

	guard_ext_key(ext_id, &k);
	s = guard_table_lock(g, g->xshard, g->nxshard, &k, &h);
	if ((e = guard_entry_find(s, &k, h)) != NULL && e->banned_until != 0) {
		e->banned_until = 0;
		e->fails = e->nseen = e->unbannable = 0;
		err = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

enum { GUARD_TOKEN = 1000000 }; /* one message, in micro-messages */

/* Refills e's bucket up to the burst and takes one token: true when
 * there was one. */
static bool
guard_bucket_take(const struct guard *g, struct guard_entry *e, int64_t now_us)
{
	const struct guard_conf *cf = guard_conf(g);
	int64_t cap = (int64_t)cf->p.rate_burst * GUARD_TOKEN;
	int64_t elapsed = now_us - e->refill_us;

	if (e->refill_us == 0) {
		e->tokens = cap;
	} else if (elapsed > 0) {
		/* rate tokens per second = rate micro-tokens per us */
		if (elapsed >= cap / (int64_t)cf->p.rate + 1)
			e->tokens = cap;
		else if ((e->tokens += elapsed * (int64_t)cf->p.rate) > cap)
			e->tokens = cap;
	}
	if (elapsed > 0 || e->refill_us == 0)
		e->refill_us = now_us;
	if (e->tokens < GUARD_TOKEN)
		return false;
	e->tokens -= GUARD_TOKEN;
	return true;
}

enum guard_verdict
guard_admit(struct guard *g, const struct sockaddr_storage *src, int64_t now_us,
    uint64_t *report)
{
	const struct guard_conf *cf = guard_conf(g);
	enum guard_verdict v = GUARD_PASS;
	struct guard_shard *s;
	struct guard_entry *e;
	struct guard_key k;
	uint64_t h;

	if (report != NULL)
		*report = 0;
	if (cf->p.disabled)
		return GUARD_PASS;
	if (guard_is_banned(g, src, now_us) || guard_denied(g, src))
		return GUARD_BANNED;
	if (cf->p.rate == 0 || guard_key_make(src, &k) != 0 ||
	    guard_allowed(g, src))
		return GUARD_PASS;
	s = guard_table_lock(g, g->rshard, g->nrshard, &k, &h);
	if ((e = guard_entry_get(s, g, &k, h, now_us)) != NULL &&
	    !guard_bucket_take(g, e, now_us)) {
		v = GUARD_RATE_LIMITED;
		if (e->dropped < UINT64_MAX)
			e->dropped++;
		if (e->report_us == 0 || now_us - e->report_us >= 1000000) {
			if (report != NULL)
				*report = e->dropped;
			e->dropped = 0;
			e->report_us = now_us;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return v;
}

void
guard_params_config(struct guard_params *p, const struct config *c)
{
	p->max_failures = c->guard_max_auth_failures;
	p->window_us = c->guard_window_us;
	p->ban_us = c->guard_ban_us;
	p->allow = c->guard_allow;
	p->allow_n = c->guard_allow_n;
	p->deny = c->guard_deny;
	p->deny_n = c->guard_deny_n;
	p->disabled = !c->guard_enabled;
	p->stealth = c->guard_stealth;
	p->lock_us = c->guard_lock_us;
	p->lock_sources = GUARD_LOCK_SOURCES;
	p->rate = c->guard_rate;
	p->rate_burst = c->guard_rate_burst;
	p->decoys = c->guard_decoys;
	p->decoys_n = c->guard_decoys_n;
}
