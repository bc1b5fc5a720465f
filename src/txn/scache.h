/* scache.h: non-INVITE server transactions over UDP (RFC 3261 17.2.2):
 * the final response of each request is kept for Timer J (64*T1 = 32 s),
 * and a retransmitted request gets it again instead of being processed
 * twice. One cache shared by the workers (a source's datagrams go to any
 * worker: the transport spreads them at random), in shards with a lock
 * each. Bounded: the oldest entry of a shard goes first when it is
 * full. */
#ifndef SW_SCACHE_H
#define SW_SCACHE_H

#include "lib/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SCACHE_SHARDS = 16,
	SCACHE_SHARD_ENTRIES = 1024, /* 16,384 transactions in all */
	SCACHE_KEY_MAX = 256,
	SCACHE_RESP_MAX = 4096,
	SCACHE_TIMER_J_US = 32000000,
};

struct scache;

int scache_new(struct scache **out);
void scache_free(struct scache *c); /* accepts NULL */
/* The key of a request: branch, sent-by and CSeq method, as one string
 * (e.g. "z9hG4bK..|10.0.0.1:5060|REGISTER") into key; returns its length,
 * or 0 when it does not fit. */
size_t scache_key(char *key, size_t size, struct sv branch, struct sv host,
    unsigned port, struct sv method);
/* Copies the response kept for key into out (size bytes) and sets *len;
 * false when there is none (or it does not fit). Thread-safe. */
bool scache_get(struct scache *c, const char *key, size_t klen, int64_t now_us,
    char *out, size_t size, size_t *len);
/* Keeps resp (len bytes; not kept when over SCACHE_RESP_MAX) for key.
 * Thread-safe. */
void scache_put(struct scache *c, const char *key, size_t klen,
    const char *resp, size_t len, int64_t now_us);

#endif
