/* scache.c: see scache.h. Each shard is a ring of entries, oldest reused
 * first, with a chained hash index, under its own mutex. */
#include "txn/scache.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_NONE UINT32_MAX

struct sc_entry {
	char key[SCACHE_KEY_MAX];
	size_t klen;
	char *resp;
	size_t len;
	int64_t expires_us;
	uint32_t next;
	uint32_t bucket;
	int used;
};

struct sc_shard {
	pthread_mutex_t mu;
	uint32_t head;
	uint32_t buckets[SCACHE_SHARD_ENTRIES];
	struct sc_entry e[SCACHE_SHARD_ENTRIES];
};

struct scache {
	unsigned char seed[crypto_shorthash_KEYBYTES];
	struct sc_shard sh[SCACHE_SHARDS];
};

int
scache_new(struct scache **out)
{
	struct scache *c = calloc(1, sizeof(*c));
	size_t s, i;

	if (c == NULL)
		return ENOMEM;
	randombytes_buf(c->seed, sizeof(c->seed));
	for (s = 0; s < SCACHE_SHARDS; s++) {
		pthread_mutex_init(&c->sh[s].mu, NULL);
		for (i = 0; i < SCACHE_SHARD_ENTRIES; i++)
			c->sh[s].buckets[i] = SC_NONE;
	}
	*out = c;
	return 0;
}

void
scache_free(struct scache *c)
{
	size_t s, i;

	if (c == NULL)
		return;
	for (s = 0; s < SCACHE_SHARDS; s++) {
		for (i = 0; i < SCACHE_SHARD_ENTRIES; i++)
			free(c->sh[s].e[i].resp);
		pthread_mutex_destroy(&c->sh[s].mu);
	}
	free(c);
}

size_t
scache_key(char *key, size_t size, struct sv branch, struct sv host,
    unsigned port, struct sv method)
{
	int n = snprintf(key, size, "%.*s|%.*s:%u|%.*s", (int)branch.len,
	    branch.p, (int)host.len, host.p, port, (int)method.len, method.p);

	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* The key's shard and its bucket there. */
static struct sc_shard *
sc_locate(struct scache *c, const char *key, size_t klen, uint32_t *bucket)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, (const unsigned char *)key, klen, c->seed);
	v = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
	    (uint32_t)h[3] << 24;
	*bucket = (v / SCACHE_SHARDS) % SCACHE_SHARD_ENTRIES;
	return &c->sh[v % SCACHE_SHARDS];
}

bool
scache_get(struct scache *c, const char *key, size_t klen, int64_t now_us,
    char *out, size_t size, size_t *len)
{
	uint32_t b, i;
	struct sc_shard *s = sc_locate(c, key, klen, &b);
	bool found = false;

	pthread_mutex_lock(&s->mu);
	for (i = s->buckets[b]; i != SC_NONE; i = s->e[i].next) {
		const struct sc_entry *e = &s->e[i];

		if (e->klen == klen && memcmp(e->key, key, klen) == 0 &&
		    e->expires_us > now_us) {
			if (e->len <= size) {
				memcpy(out, e->resp, e->len);
				*len = e->len;
				found = true;
			}
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return found;
}

void
scache_put(struct scache *c, const char *key, size_t klen, const char *resp,
    size_t len, int64_t now_us)
{
	struct sc_shard *s;
	struct sc_entry *e;
	uint32_t i, b;
	char *copy, *old = NULL;

	if (klen > SCACHE_KEY_MAX || len > SCACHE_RESP_MAX)
		return;
	if ((copy = malloc(len)) == NULL)
		return;
	memcpy(copy, resp, len);
	s = sc_locate(c, key, klen, &b);
	pthread_mutex_lock(&s->mu);
	i = s->head;
	s->head = (s->head + 1) % SCACHE_SHARD_ENTRIES;
	e = &s->e[i];
	if (e->used) {
		uint32_t *pp = &s->buckets[e->bucket];

		while (*pp != SC_NONE && *pp != i)
			pp = &s->e[*pp].next;
		if (*pp == i)
			*pp = e->next;
		old = e->resp;
	}
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->resp = copy;
	e->len = len;
	e->expires_us = now_us + SCACHE_TIMER_J_US;
	e->bucket = b;
	e->used = 1;
	e->next = s->buckets[b];
	s->buckets[b] = i;
	pthread_mutex_unlock(&s->mu);
	free(old);
}
