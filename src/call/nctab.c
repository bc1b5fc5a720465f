/* nctab.c: see nctab.h. Sharded rings: each shard keeps its entries in
 * a ring, oldest overwritten first, indexed by a chained hash. */
#include "call/nctab.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
	NC_SHARDS = 16,
	NC_PER_SHARD = NCTAB_ENTRIES / NC_SHARDS,
	NC_BUCKETS = NC_PER_SHARD,
	NC_WINDOW = 64,
};

#define NC_NONE UINT32_MAX /* end of a hash chain */

struct nc_entry {
	char nonce[NCTAB_NONCE_MAX];
	uint8_t len;
	bool used;
	uint32_t max_nc;
	uint64_t window; /* bit i: max_nc - i was seen */
	int64_t expires_us;
	uint32_t next; /* hash chain */
};

struct nc_shard {
	pthread_mutex_t lock;
	uint32_t head; /* next ring slot to (re)use */
	uint32_t buckets[NC_BUCKETS];
	struct nc_entry e[NC_PER_SHARD];
};

struct nctab {
	unsigned char seed[crypto_shorthash_KEYBYTES];
	struct nc_shard s[NC_SHARDS];
};

int
nctab_new(struct nctab **out)
{
	struct nctab *t = calloc(1, sizeof(*t));
	size_t i, j;

	if (t == NULL)
		return ENOMEM;
	randombytes_buf(t->seed, sizeof(t->seed));
	for (i = 0; i < NC_SHARDS; i++) {
		pthread_mutex_init(&t->s[i].lock, NULL);
		for (j = 0; j < NC_BUCKETS; j++)
			t->s[i].buckets[j] = NC_NONE;
	}
	*out = t;
	return 0;
}

void
nctab_free(struct nctab *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < NC_SHARDS; i++)
		pthread_mutex_destroy(&t->s[i].lock);
	free(t);
}

static void
unlink_entry(struct nc_shard *s, uint32_t b, uint32_t idx)
{
	uint32_t *pp = &s->buckets[b];

	while (*pp != NC_NONE && *pp != idx)
		pp = &s->e[*pp].next;
	if (*pp == idx)
		*pp = s->e[idx].next;
}

enum nc_verdict
nctab_check(struct nctab *t, const char *nonce, size_t len, uint32_t nc,
    int64_t expires_us, int64_t now_us)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t hv = 0;
	struct nc_shard *s;
	struct nc_entry *e = NULL;
	enum nc_verdict v;
	uint32_t b, i;

	if (len == 0 || len > NCTAB_NONCE_MAX || nc == 0)
		return NC_REPLAY;
	crypto_shorthash(h, (const unsigned char *)nonce, len, t->seed);
	for (i = 0; i < 8; i++)
		hv |= (uint64_t)h[i] << (8 * i);
	s = &t->s[hv % NC_SHARDS];
	b = (uint32_t)((hv / NC_SHARDS) % NC_BUCKETS);
	pthread_mutex_lock(&s->lock);
	for (i = s->buckets[b]; i != NC_NONE; i = s->e[i].next)
		if (s->e[i].len == len &&
		    memcmp(s->e[i].nonce, nonce, len) == 0 &&
		    s->e[i].expires_us > now_us) {
			e = &s->e[i];
			break;
		}
	if (e == NULL) {
		if (nc != 1) {
			v = NC_UNKNOWN;
			goto out;
		}
		/* Take the oldest slot of the ring. */
		i = s->head;
		s->head = (s->head + 1) % NC_PER_SHARD;
		e = &s->e[i];
		if (e->used) {
			unsigned char h2[crypto_shorthash_BYTES];
			uint64_t hv2 = 0;
			size_t k;

			crypto_shorthash(h2, (const unsigned char *)e->nonce,
			    e->len, t->seed);
			for (k = 0; k < 8; k++)
				hv2 |= (uint64_t)h2[k] << (8 * k);
			unlink_entry(
			    s, (uint32_t)((hv2 / NC_SHARDS) % NC_BUCKETS), i);
		}
		memcpy(e->nonce, nonce, len);
		e->len = (uint8_t)len;
		e->used = true;
		e->max_nc = 1;
		e->window = 1;
		e->expires_us = expires_us;
		e->next = s->buckets[b];
		s->buckets[b] = i;
		v = NC_OK;
		goto out;
	}
	if (nc > e->max_nc) {
		uint32_t shift = nc - e->max_nc;

		e->window = shift >= NC_WINDOW ? 0 : e->window << shift;
		e->window |= 1;
		e->max_nc = nc;
		v = NC_OK;
	} else if (e->max_nc - nc < NC_WINDOW &&
	           !(e->window & ((uint64_t)1 << (e->max_nc - nc)))) {
		e->window |= (uint64_t)1 << (e->max_nc - nc);
		v = NC_OK;
	} else {
		v = NC_REPLAY;
	}
out:
	pthread_mutex_unlock(&s->lock);
	return v;
}
