/* scache.c: see scache.h. A ring of entries, oldest reused first, with a
 * chained hash index. */
#include "txn/scache.h"

#include <errno.h>
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

struct scache {
	unsigned char seed[crypto_shorthash_KEYBYTES];
	uint32_t head;
	uint32_t buckets[SCACHE_ENTRIES];
	struct sc_entry e[SCACHE_ENTRIES];
};

int
scache_new(struct scache **out)
{
	struct scache *c = calloc(1, sizeof(*c));
	size_t i;

	if (c == NULL)
		return ENOMEM;
	randombytes_buf(c->seed, sizeof(c->seed));
	for (i = 0; i < SCACHE_ENTRIES; i++)
		c->buckets[i] = SC_NONE;
	*out = c;
	return 0;
}

void
scache_free(struct scache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < SCACHE_ENTRIES; i++)
		free(c->e[i].resp);
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

static uint32_t
sc_bucket(const struct scache *c, const char *key, size_t klen)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, (const unsigned char *)key, klen, c->seed);
	v = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
	    (uint32_t)h[3] << 24;
	return v % SCACHE_ENTRIES;
}

const char *
scache_get(
    struct scache *c, const char *key, size_t klen, int64_t now_us, size_t *len)
{
	uint32_t i;

	for (i = c->buckets[sc_bucket(c, key, klen)]; i != SC_NONE;
	     i = c->e[i].next)
		if (c->e[i].klen == klen &&
		    memcmp(c->e[i].key, key, klen) == 0 &&
		    c->e[i].expires_us > now_us) {
			*len = c->e[i].len;
			return c->e[i].resp;
		}
	return NULL;
}

void
scache_put(struct scache *c, const char *key, size_t klen, const char *resp,
    size_t len, int64_t now_us)
{
	struct sc_entry *e;
	uint32_t i = c->head, b;
	char *copy;

	if (klen > SCACHE_KEY_MAX || len > SCACHE_RESP_MAX)
		return;
	if ((copy = malloc(len)) == NULL)
		return;
	memcpy(copy, resp, len);
	c->head = (c->head + 1) % SCACHE_ENTRIES;
	e = &c->e[i];
	if (e->used) {
		uint32_t *pp = &c->buckets[e->bucket];

		while (*pp != SC_NONE && *pp != i)
			pp = &c->e[*pp].next;
		if (*pp == i)
			*pp = e->next;
		free(e->resp);
	}
	b = sc_bucket(c, key, klen);
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->resp = copy;
	e->len = len;
	e->expires_us = now_us + SCACHE_TIMER_J_US;
	e->bucket = b;
	e->used = 1;
	e->next = c->buckets[b];
	c->buckets[b] = i;
}
