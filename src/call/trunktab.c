/* trunktab.c: see trunktab.h. Trunks: an array sorted by id, matched by
 * a walk over every network (a node has tens of trunks, not thousands).
 * Numbers: a chained hash table by canonical E.164 text (SipHash under a
 * random key) with a second chain by id, like credtab. */
#include "call/trunktab.h"
#include "core/names.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tt_trunk {
	struct trunk_info info;
	size_t ncidr;
	struct config_cidr cidr[TRUNKTAB_CIDRS_MAX];
};

struct tt_num {
	struct number_info info;
	struct tt_num *next_key, *next_id;
};

/* The content of a table: built aside and swapped whole on a full load. */
struct tt_data {
	struct tt_trunk *trunks; /* sorted by info.id */
	size_t ntrunks, cap;
	struct tt_num **by_key, **by_id;
	size_t nbuckets, nnum;
};

struct trunktab {
	pthread_rwlock_t lock;
	struct tt_data d;
	unsigned char seed[crypto_shorthash_KEYBYTES];
};

enum { TT_MIN_BUCKETS = 256 };

/* The lock of a table a lookup receives as const: the lock itself is the
 * one part a reader changes (the table is always malloc'd, never const
 * storage). */
static pthread_rwlock_t *
tt_lock(const struct trunktab *t)
{
	return (pthread_rwlock_t *)&t->lock;
}

static int
tt_data_init(struct tt_data *d)
{
	memset(d, 0, sizeof(*d));
	d->nbuckets = TT_MIN_BUCKETS;
	d->by_key = calloc(d->nbuckets, sizeof(*d->by_key));
	d->by_id = calloc(d->nbuckets, sizeof(*d->by_id));
	if (d->by_key == NULL || d->by_id == NULL) {
		free(d->by_key);
		free(d->by_id);
		memset(d, 0, sizeof(*d));
		return ENOMEM;
	}
	return 0;
}

static void
tt_data_free(struct tt_data *d)
{
	size_t i;

	for (i = 0; d->by_id != NULL && i < d->nbuckets; i++) {
		struct tt_num *n = d->by_id[i], *next;

		for (; n != NULL; n = next) {
			next = n->next_id;
			free(n);
		}
	}
	free(d->by_key);
	free(d->by_id);
	free(d->trunks);
	memset(d, 0, sizeof(*d));
}

int
trunktab_new(struct trunktab **out)
{
	struct trunktab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return ENOMEM;
	if (tt_data_init(&t->d) != 0) {
		free(t);
		return ENOMEM;
	}
	pthread_rwlock_init(&t->lock, NULL);
	randombytes_buf(t->seed, sizeof(t->seed));
	*out = t;
	return 0;
}

void
trunktab_free(struct trunktab *t)
{
	if (t == NULL)
		return;
	tt_data_free(&t->d);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

size_t
trunktab_trunk_count(const struct trunktab *t)
{
	size_t n;

	pthread_rwlock_rdlock(tt_lock(t));
	n = t->d.ntrunks;
	pthread_rwlock_unlock(tt_lock(t));
	return n;
}

size_t
trunktab_number_count(const struct trunktab *t)
{
	size_t n;

	pthread_rwlock_rdlock(tt_lock(t));
	n = t->d.nnum;
	pthread_rwlock_unlock(tt_lock(t));
	return n;
}

/* ---- policy and normalisation ---- */

const char *
trunktab_cidr_check(const struct config_cidr *c)
{
	/* ::ffff:0:0/96: 80 zero bits, 16 one bits. */
	static const unsigned char v4mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned bits, full, rest;

	if (c->family == AF_INET) {
		if (c->prefix == 0)
			return "the whole Internet could call in as this "
			       "carrier (toll fraud): list the carrier's own "
			       "networks";
		if (c->prefix < TRUNKTAB_V4_PREFIX_MIN)
			return "an IPv4 network wider than a /16: list the "
			       "carrier's own networks";
		return NULL;
	}
	if (c->family != AF_INET6)
		return "not an IPv4 or IPv6 network";
	if (c->prefix == 0)
		return "the whole Internet could call in as this carrier (toll "
		       "fraud): list the carrier's own networks";
	if (c->prefix < TRUNKTAB_V6_PREFIX_MIN)
		return "an IPv6 network wider than a /32: list the carrier's "
		       "own networks";
	/* Overlaps ::ffff:0:0/96 when their common leading bits agree. */
	bits = c->prefix < 96 ? c->prefix : 96;
	full = bits / 8;
	rest = bits % 8;
	if (memcmp(c->addr, v4mapped, full) == 0 &&
	    (rest == 0 || ((c->addr[full] ^ v4mapped[full]) &
	                      (unsigned char)(0xff00u >> rest)) == 0))
		return "holds IPv4-mapped IPv6 addresses (::ffff:0:0/96): "
		       "write IPv4 networks as IPv4 (a.b.c.d/n)";
	return NULL;
}

int
trunktab_e164_normalize(const char *s, size_t len, char out[STORE_E164_MAX])
{
	size_t start = 0, n, i;

	if (len >= 1 && s[0] == '+')
		start = 1;
	else if (len >= 2 && s[0] == '0' && s[1] == '0')
		start = 2;
	n = len - start;
	if (n < TRUNKTAB_E164_DIGITS_MIN || n > TRUNKTAB_E164_DIGITS_MAX)
		return EINVAL;
	if (s[start] < '1' || s[start] > '9')
		return EINVAL;
	for (i = start; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return EINVAL;
	out[0] = '+';
	memcpy(out + 1, s + start, n);
	out[n + 1] = '\0';
	return 0;
}

/* ---- numbers: the hash table ---- */

static size_t
tt_key_hash(const struct trunktab *t, size_t nbuckets, const char *e164)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v = 0;
	size_t i;

	crypto_shorthash(h, (const unsigned char *)e164, strlen(e164), t->seed);
	for (i = 0; i < 8; i++)
		v |= (uint64_t)h[i] << (8 * i);
	return (size_t)(v % nbuckets);
}

static size_t
tt_id_hash(size_t nbuckets, int64_t id)
{
	return (
	    size_t)((((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 20) % nbuckets);
}

/* Unlinks node n from its key chain (it is known to be there). */
static void
tt_num_unlink_key(const struct trunktab *t, struct tt_data *d, struct tt_num *n)
{
	struct tt_num **pp =
	    &d->by_key[tt_key_hash(t, d->nbuckets, n->info.e164)];

	for (; *pp != NULL; pp = &(*pp)->next_key)
		if (*pp == n) {
			*pp = n->next_key;
			return;
		}
}

/* Removes and frees the number with this id; ENOENT when absent. */
static int
tt_num_remove_id(const struct trunktab *t, struct tt_data *d, int64_t id)
{
	struct tt_num **pp = &d->by_id[tt_id_hash(d->nbuckets, id)], *n;

	for (; *pp != NULL; pp = &(*pp)->next_id)
		if ((*pp)->info.id == id) {
			n = *pp;
			*pp = n->next_id;
			tt_num_unlink_key(t, d, n);
			free(n);
			d->nnum--;
			return 0;
		}
	return ENOENT;
}

static struct tt_num *
tt_num_find(const struct trunktab *t, const struct tt_data *d, const char *e164)
{
	struct tt_num *n = d->by_key[tt_key_hash(t, d->nbuckets, e164)];

	for (; n != NULL; n = n->next_key)
		if (strcmp(n->info.e164, e164) == 0)
			return n;
	return NULL;
}

/* Doubles the bucket arrays (a failure leaves them as they are). */
static void
tt_num_grow(const struct trunktab *t, struct tt_data *d)
{
	size_t nb = d->nbuckets * 2, i;
	struct tt_num **bk = calloc(nb, sizeof(*bk)),
	              **bi = calloc(nb, sizeof(*bi)), *n, *next;

	if (bk == NULL || bi == NULL) {
		free(bk);
		free(bi);
		return;
	}
	for (i = 0; i < d->nbuckets; i++)
		for (n = d->by_id[i]; n != NULL; n = next) {
			size_t hk = tt_key_hash(t, nb, n->info.e164);
			size_t hi = tt_id_hash(nb, n->info.id);

			next = n->next_id;
			n->next_key = bk[hk];
			bk[hk] = n;
			n->next_id = bi[hi];
			bi[hi] = n;
		}
	free(d->by_key);
	free(d->by_id);
	d->by_key = bk;
	d->by_id = bi;
	d->nbuckets = nb;
}

/* Inserts or replaces a number (by id, and by e164: one entry per
 * number). Returns 0 or ENOMEM. */
static int
tt_num_put(
    const struct trunktab *t, struct tt_data *d, const struct number_info *info)
{
	struct tt_num *n, *old;
	size_t hk, hi;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return ENOMEM;
	n->info = *info;
	tt_num_remove_id(t, d, info->id);
	if ((old = tt_num_find(t, d, info->e164)) != NULL)
		tt_num_remove_id(t, d, old->info.id);
	if (d->nnum >= d->nbuckets)
		tt_num_grow(t, d);
	hk = tt_key_hash(t, d->nbuckets, info->e164);
	hi = tt_id_hash(d->nbuckets, info->id);
	n->next_key = d->by_key[hk];
	d->by_key[hk] = n;
	n->next_id = d->by_id[hi];
	d->by_id[hi] = n;
	d->nnum++;
	return 0;
}

/* Numbers that named trunk_id are left without a trunk. */
static void
tt_num_untrunk(struct tt_data *d, int64_t trunk_id)
{
	size_t i;
	struct tt_num *n;

	for (i = 0; i < d->nbuckets; i++)
		for (n = d->by_id[i]; n != NULL; n = n->next_id)
			if (n->info.trunk_id == trunk_id)
				n->info.trunk_id = 0;
}

/* ---- trunks: the array ---- */

/* The index of trunk id, or where it would go, in *at; true when found. */
static bool
tt_trunk_find(const struct tt_data *d, int64_t id, size_t *at)
{
	size_t lo = 0, hi = d->ntrunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->trunks[mid].info.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < d->ntrunks && d->trunks[lo].info.id == id;
}

static void
tt_trunk_remove(struct tt_data *d, int64_t id)
{
	size_t at;

	if (!tt_trunk_find(d, id, &at))
		return;
	memmove(&d->trunks[at], &d->trunks[at + 1],
	    (d->ntrunks - at - 1) * sizeof(*d->trunks));
	d->ntrunks--;
}

/* Inserts or replaces a trunk. Returns 0 or ENOMEM. */
static int
tt_trunk_put(struct tt_data *d, const struct tt_trunk *tr)
{
	size_t at;

	if (tt_trunk_find(d, tr->info.id, &at)) {
		d->trunks[at] = *tr;
		return 0;
	}
	{
		struct tt_trunk *nt =
		    util_grow(d->trunks, &d->cap, d->ntrunks, sizeof(*nt), 16);

		if (nt == NULL)
			return ENOMEM;
		d->trunks = nt;
	}
	memmove(&d->trunks[at + 1], &d->trunks[at],
	    (d->ntrunks - at) * sizeof(*d->trunks));
	d->trunks[at] = *tr;
	d->ntrunks++;
	return 0;
}

/* ---- rows of the store ---- */

/* The table's entry for a trunk row: 0, or ENOENT when the trunk has no
 * place in the table (disabled, no usable network; logged). */
static int
tt_trunk_from_row(const struct store_trunk *row, struct tt_trunk *tr)
{
	struct config_cidr cidrs[TRUNKTAB_CIDRS_MAX];
	char why[256], buf[CONFIG_ADDR_STRLEN];
	size_t n = 0, i;

	if (!row->enabled)
		return ENOENT;
	memset(tr, 0, sizeof(*tr));
	if (config_cidrs_parse(row->addresses, cidrs, TRUNKTAB_CIDRS_MAX, &n,
	        why, sizeof(why)) != 0) {
		log_warn("trunk %s: its addresses are not usable (%s): no "
		         "call is accepted from it",
		    row->name, why);
		return ENOENT;
	}
	for (i = 0; i < n; i++) {
		const char *bad = trunktab_cidr_check(&cidrs[i]);

		if (bad != NULL) {
			log_warn("trunk %s: network %s ignored: %s", row->name,
			    config_cidr_fmt(&cidrs[i], buf, sizeof(buf)), bad);
			continue;
		}
		tr->cidr[tr->ncidr++] = cidrs[i];
	}
	if (tr->ncidr == 0) {
		log_warn("trunk %s: no usable network: no call is accepted "
		         "from it",
		    row->name);
		return ENOENT;
	}
	tr->info.id = row->id;
	tr->info.tenant_id = row->tenant_id;
	memcpy(tr->info.name, row->name, sizeof(tr->info.name));
	memcpy(tr->info.host, row->host, sizeof(tr->info.host));
	tr->info.port =
	    row->port > 0 && row->port <= 65535 ? (uint16_t)row->port : 5061;
	memcpy(tr->info.transport, row->transport, sizeof(tr->info.transport));
	return 0;
}

/* The table's entry for a number row: 0, or ENOENT when its destination
 * is not an extension or its text is not E.164. */
static int
tt_num_from_row(const struct store_number *row, struct number_info *info)
{
	static const char pfx[] = "ext:";
	const char *ext = row->destination + (sizeof(pfx) - 1);

	memset(info, 0, sizeof(*info));
	if (strncmp(row->destination, pfx, sizeof(pfx) - 1) != 0 ||
	    names_ext_check(ext, strlen(ext)) != NULL ||
	    strlen(ext) >= sizeof(info->ext))
		return ENOENT;
	if (trunktab_e164_normalize(row->e164, strlen(row->e164), info->e164) !=
	    0)
		return ENOENT;
	info->id = row->id;
	info->tenant_id = row->tenant_id;
	info->trunk_id = row->trunk_id;
	memcpy(info->ext, ext, strlen(ext) + 1);
	return 0;
}

struct tt_load {
	const struct trunktab *t;
	struct tt_data *d;
};

static int
tt_load_trunk_cb(void *arg, const struct store_trunk *row)
{
	struct tt_load *l = arg;
	struct tt_trunk tr;

	if (tt_trunk_from_row(row, &tr) != 0)
		return 0;
	return tt_trunk_put(l->d, &tr);
}

static int
tt_load_number_cb(void *arg, const struct store_number *row)
{
	struct tt_load *l = arg;
	struct number_info info;

	if (tt_num_from_row(row, &info) != 0)
		return 0;
	return tt_num_put(l->t, l->d, &info);
}

int
trunktab_load_all(struct trunktab *t, struct store *st)
{
	struct tt_data fresh, old;
	struct tt_load l = {t, &fresh};
	int rc;

	if ((rc = tt_data_init(&fresh)) != 0)
		return rc;
	rc = store_trunk_list(st, STORE_TENANT_ALL, tt_load_trunk_cb, &l);
	if (rc == 0)
		rc = store_number_list(
		    st, STORE_TENANT_ALL, tt_load_number_cb, &l);
	if (rc != 0) {
		tt_data_free(&fresh);
		return rc;
	}
	pthread_rwlock_wrlock(&t->lock);
	old = t->d;
	t->d = fresh;
	pthread_rwlock_unlock(&t->lock);
	tt_data_free(&old);
	return 0;
}

int
trunktab_load_trunk(struct trunktab *t, struct store *st, int64_t id)
{
	struct store_trunk row;
	struct tt_trunk tr;
	bool usable;
	int rc;

	rc = store_trunk_get_by_id(st, id, &row);
	if (rc != 0 && rc != ENOENT)
		return rc;
	if (rc == ENOENT) {
		pthread_rwlock_wrlock(&t->lock);
		tt_trunk_remove(&t->d, id);
		tt_num_untrunk(&t->d, id);
		pthread_rwlock_unlock(&t->lock);
		return 0;
	}
	/* The row's sealed password is not kept: inbound needs none. */
	sodium_memzero(&row.auth, sizeof(row.auth));
	usable = tt_trunk_from_row(&row, &tr) == 0; /* logs: not locked */
	pthread_rwlock_wrlock(&t->lock);
	if (usable)
		rc = tt_trunk_put(&t->d, &tr);
	else
		tt_trunk_remove(&t->d, id);
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

int
trunktab_load_number(struct trunktab *t, struct store *st, int64_t id)
{
	struct store_number row;
	struct number_info info;
	int rc;

	rc = store_number_get_by_id(st, id, &row);
	if (rc != 0 && rc != ENOENT)
		return rc;
	pthread_rwlock_wrlock(&t->lock);
	if (rc == ENOENT || tt_num_from_row(&row, &info) != 0) {
		tt_num_remove_id(t, &t->d, id);
		rc = 0;
	} else {
		rc = tt_num_put(t, &t->d, &info);
	}
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

/* ---- lookups ---- */

/* src as the family it is matched in: an IPv4-mapped IPv6 address becomes
 * its IPv4 address. EINVAL for another family. */
static int
tt_src_norm(const struct sockaddr_storage *src, struct sockaddr_storage *out)
{
	static const unsigned char v4mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(out, 0, sizeof(*out));
	if (src->ss_family == AF_INET) {
		memcpy(out, src, sizeof(struct sockaddr_in));
		return 0;
	}
	if (src->ss_family != AF_INET6)
		return EINVAL;
	{
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)(const void *)src;
		struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)out;

		if (memcmp(s6->sin6_addr.s6_addr, v4mapped, sizeof(v4mapped)) !=
		    0) {
			memcpy(out, src, sizeof(struct sockaddr_in6));
			return 0;
		}
		s4->sin_family = AF_INET;
		s4->sin_port = s6->sin6_port;
		memcpy(&s4->sin_addr, s6->sin6_addr.s6_addr + 12, 4);
	}
	return 0;
}

/* The longest network of trunk tr holding sa, or -1. */
static int
tt_trunk_prefix(const struct tt_trunk *tr, const struct sockaddr *sa)
{
	int best = -1;
	size_t i;

	for (i = 0; i < tr->ncidr; i++)
		if ((int)tr->cidr[i].prefix > best &&
		    config_cidr_match(&tr->cidr[i], sa))
			best = (int)tr->cidr[i].prefix;
	return best;
}

enum { TT_ANY_TENANT = -1 };

/* The best trunk holding src among those of tenant_id and the shared ones
 * (TT_ANY_TENANT: all). Callers hold the read lock. */
static int
tt_match(const struct trunktab *t, int64_t tenant_id,
    const struct sockaddr_storage *src, struct trunk_info *out)
{
	const struct tt_trunk *best = NULL;
	struct sockaddr_storage ss;
	int bestp = -1, p;
	size_t i;

	if (tt_src_norm(src, &ss) != 0)
		return EINVAL;
	for (i = 0; i < t->d.ntrunks; i++) {
		const struct tt_trunk *tr = &t->d.trunks[i];

		if (tenant_id != TT_ANY_TENANT && tr->info.tenant_id != 0 &&
		    tr->info.tenant_id != tenant_id)
			continue;
		/* Sorted by id: a tie keeps the lower id. */
		p = tt_trunk_prefix(tr, (const struct sockaddr *)&ss);
		if (p > bestp) {
			bestp = p;
			best = tr;
		}
	}
	if (best == NULL)
		return ENOENT;
	*out = best->info;
	out->prefix = (unsigned)bestp;
	return 0;
}

int
trunktab_match_source(const struct trunktab *t,
    const struct sockaddr_storage *src, struct trunk_info *out)
{
	int rc;

	pthread_rwlock_rdlock(tt_lock(t));
	rc = tt_match(t, TT_ANY_TENANT, src, out);
	pthread_rwlock_unlock(tt_lock(t));
	return rc;
}

int
trunktab_match_tenant(const struct trunktab *t, int64_t tenant_id,
    const struct sockaddr_storage *src, struct trunk_info *out)
{
	int rc;

	if (tenant_id < 0)
		return EINVAL;
	pthread_rwlock_rdlock(tt_lock(t));
	rc = tt_match(t, tenant_id, src, out);
	pthread_rwlock_unlock(tt_lock(t));
	return rc;
}

int
trunktab_trunk_match(const struct trunktab *t, int64_t trunk_id,
    const struct sockaddr_storage *src, struct trunk_info *out)
{
	struct sockaddr_storage ss;
	size_t at;
	int rc = ENOENT, p;

	if (tt_src_norm(src, &ss) != 0)
		return EINVAL;
	pthread_rwlock_rdlock(tt_lock(t));
	if (tt_trunk_find(&t->d, trunk_id, &at)) {
		p = tt_trunk_prefix(
		    &t->d.trunks[at], (const struct sockaddr *)&ss);
		if (p >= 0) {
			if (out != NULL) {
				*out = t->d.trunks[at].info;
				out->prefix = (unsigned)p;
			}
			rc = 0;
		}
	}
	pthread_rwlock_unlock(tt_lock(t));
	return rc;
}

int
trunktab_number(const struct trunktab *t, const char *e164_or_digits,
    size_t len, struct number_info *out)
{
	char key[STORE_E164_MAX];
	const struct tt_num *n;
	int rc = ENOENT;

	if (trunktab_e164_normalize(e164_or_digits, len, key) != 0)
		return EINVAL;
	pthread_rwlock_rdlock(tt_lock(t));
	if ((n = tt_num_find(t, &t->d, key)) != NULL) {
		*out = n->info;
		rc = 0;
	}
	pthread_rwlock_unlock(tt_lock(t));
	return rc;
}
