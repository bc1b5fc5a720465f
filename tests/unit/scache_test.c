/* scache_test.c: the shared retransmission cache of UDP non-INVITE
 * transactions. */
#include "txn/scache.h"

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

enum { T0 = 1000000, THREADS = 4, PER_THREAD = 2000 };

static size_t
key_of(char *key, size_t size, unsigned i)
{
	char br[32];
	struct sv b, h = {"10.0.0.1", 8}, m = {"REGISTER", 8};

	snprintf(br, sizeof(br), "z9hG4bK%u", i);
	b = (struct sv){br, strlen(br)};
	return scache_key(key, size, b, h, 5060, m);
}

static void
test_put_get_expiry(void **state)
{
	struct scache *c = NULL;
	char key[SCACHE_KEY_MAX], out[64];
	size_t klen = key_of(key, sizeof(key), 1), len = 0;

	(void)state;
	assert_int_equal(scache_new(&c), 0);
	assert_string_equal(key, "z9hG4bK1|10.0.0.1:5060|REGISTER");
	assert_false(scache_get(c, key, klen, T0, out, sizeof(out), &len));
	scache_put(c, key, klen, "SIP/2.0 401", 11, T0);
	assert_true(scache_get(c, key, klen, T0 + 1, out, sizeof(out), &len));
	assert_int_equal(len, 11);
	assert_memory_equal(out, "SIP/2.0 401", 11);
	/* Too small a buffer: not found, nothing written past it. */
	assert_false(scache_get(c, key, klen, T0 + 1, out, 5, &len));
	/* Timer J over: gone. */
	assert_false(scache_get(
	    c, key, klen, T0 + SCACHE_TIMER_J_US, out, sizeof(out), &len));
	/* A longer key with the same start is another key. */
	assert_false(
	    scache_get(c, key, klen - 1, T0 + 1, out, sizeof(out), &len));
	scache_free(c);
}

static void
test_oversize_not_kept_and_oldest_evicted(void **state)
{
	static char big[SCACHE_RESP_MAX + 1];
	struct scache *c = NULL;
	char key[SCACHE_KEY_MAX], out[64];
	size_t klen, len, n = (size_t)SCACHE_SHARDS * SCACHE_SHARD_ENTRIES * 4;
	unsigned i, first_kept = 0;

	(void)state;
	assert_int_equal(scache_new(&c), 0);
	klen = key_of(key, sizeof(key), 7);
	scache_put(c, key, klen, big, sizeof(big), T0);
	assert_false(scache_get(c, key, klen, T0, out, sizeof(out), &len));
	for (i = 0; i < n; i++) {
		klen = key_of(key, sizeof(key), 100 + i);
		scache_put(c, key, klen, (const char *)&i, sizeof(i), T0);
	}
	/* Bounded: the first ones went, the last ones stay. */
	klen = key_of(key, sizeof(key), 100);
	assert_false(scache_get(c, key, klen, T0, out, sizeof(out), &len));
	for (i = 0; i < 100; i++) {
		klen = key_of(key, sizeof(key), 100 + (unsigned)n - 1 - i);
		if (scache_get(c, key, klen, T0, out, sizeof(out), &len))
			first_kept++;
	}
	assert_int_equal(first_kept, 100);
	scache_free(c);
}

struct worker {
	struct scache *c;
	unsigned base, bad;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char key[SCACHE_KEY_MAX], val[32], out[32];
	unsigned i;

	for (i = 0; i < PER_THREAD; i++) {
		size_t klen = key_of(key, sizeof(key), w->base + i), len = 0;
		int vl = snprintf(val, sizeof(val), "resp-%u", w->base + i);

		scache_put(w->c, key, klen, val, (size_t)vl, T0);
		/* Our own entry comes back whole, whatever the others do. */
		if (!scache_get(w->c, key, klen, T0, out, sizeof(out), &len) ||
		    len != (size_t)vl || memcmp(out, val, len) != 0)
			w->bad++;
	}
	return NULL;
}

/* Workers share the cache: puts and gets from several threads at once
 * (ThreadSanitizer-free check: every read returns what was written). */
static void
test_threads(void **state)
{
	struct scache *c = NULL;
	pthread_t th[THREADS];
	struct worker w[THREADS];
	unsigned i;

	(void)state;
	assert_int_equal(scache_new(&c), 0);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){c, 1000000 * (i + 1), 0};
		assert_int_equal(
		    pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	scache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_get_expiry),
	    cmocka_unit_test(test_oversize_not_kept_and_oldest_evicted),
	    cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
