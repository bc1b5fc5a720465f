/* storew.h: the store writer thread. The hot path never waits on the
 * database: workers queue writes (bindings, registrations seen, call
 * records) and one thread with its own store connection applies them in
 * batched transactions. */
#ifndef SW_STOREW_H
#define SW_STOREW_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

enum { STOREW_QUEUE_MAX = 200000 };

struct storew;

/* Opens its own connection to url and starts the thread. */
int storew_start(
    const char *url, struct storew **out, char *err, size_t errsize);
/* Writes what is queued, stops the thread, closes. Accepts NULL. */
void storew_stop(struct storew *w);

/* Queue a copy; ENOBUFS when the queue is full (the write is dropped and
 * counted). */
int storew_binding_put(struct storew *w, const struct store_binding *b);
int storew_binding_del(
    struct storew *w, int64_t extension_id, const char *contact);
int storew_ext_seen(struct storew *w, const struct store_ext *e);
/* A ban (store_ban_upsert: a repeat offence counts up). */
int storew_ban_put(struct storew *w, const struct store_ban *b);
/* A call record and its legs (at most STOREW_LEGS_MAX), in one job. */
enum { STOREW_LEGS_MAX = 12 };
int storew_call_put(struct storew *w, const struct store_call *c,
    const struct store_call_leg *legs, size_t nlegs);

/* Blocks until everything queued so far is written (tests, shutdown). */
void storew_flush(struct storew *w);

struct storew_stats {
	uint64_t written, dropped, failed, batches;
};
void storew_stats(struct storew *w, struct storew_stats *out);

#endif
