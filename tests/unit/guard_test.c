/* guard_test.c: unit tests of the brute-force tables (guard/guard.h). */
#include "guard/guard.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define SEC ((int64_t)1000000)

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, s, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, s, &sin->sin_addr), 1);
	}
	return ss;
}

static struct sockaddr_storage
addr_v4n(uint32_t n)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000000u + n);
	return ss;
}

static struct guard_params
params(void)
{
	struct guard_params p;

	memset(&p, 0, sizeof(p));
	p.max_failures = 5;
	p.window_us = 60 * SEC;
	p.ban_us = 600 * SEC;
	p.ban_max_us = 4 * 600 * SEC;
	p.trust_us = 3600 * SEC;
	p.capacity = 4096;
	return p;
}

static struct guard *
guard_make(const struct guard_params *p)
{
	struct guard *g = NULL;

	assert_int_equal(guard_new(p, &g), 0);
	assert_non_null(g);
	return g;
}

static void
test_new_bad_params(void **state)
{
	struct guard_params p = params();
	struct guard *g = NULL;

	(void)state;
	p.max_failures = 0;
	assert_int_equal(guard_new(&p, &g), EINVAL);
	p = params();
	p.ban_max_us = p.ban_us - 1;
	assert_int_equal(guard_new(&p, &g), EINVAL);
	p = params();
	p.capacity = 0;
	assert_int_equal(guard_new(&p, &g), EINVAL);
	p = params();
	p.allow_n = 1;
	assert_int_equal(guard_new(&p, &g), EINVAL);
	assert_null(g);
	guard_free(NULL);
}

static void
test_ban_after_max(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.1"), b = addr("192.0.2.2");
	int64_t t = 1000 * SEC, until = 0;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(guard_failure(g, &a, t + i * SEC, &until), 0);
	assert_int_equal(guard_failures(g, &a, t + 4 * SEC), 4);
	assert_false(guard_is_banned(g, &a, t + 4 * SEC));
	assert_int_equal(guard_failure(g, &a, t + 5 * SEC, &until), 1);
	assert_int_equal(until, t + 5 * SEC + p.ban_us);
	assert_true(guard_is_banned(g, &a, t + 6 * SEC));
	assert_false(guard_is_banned(g, &b, t + 6 * SEC));
	/* failures while banned change nothing */
	assert_int_equal(guard_failure(g, &a, t + 7 * SEC, &until), 0);
	assert_int_equal(until, t + 5 * SEC + p.ban_us);
	guard_free(g);
}

static void
test_spread_not_banned(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("198.51.100.7");
	int64_t t = 1000 * SEC;
	int i;

	(void)state;
	/* 50 failures, one every 25 s: never 5 in 60 s */
	for (i = 0; i < 50; i++)
		assert_int_equal(
		    guard_failure(g, &a, t + i * 25 * SEC, NULL), 0);
	assert_false(guard_is_banned(g, &a, t + 50 * 25 * SEC));
	assert_int_equal(
	    guard_failures(g, &a, t + 49 * 25 * SEC + 61 * SEC), 0);
	guard_free(g);
}

static void
test_ban_expires(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("203.0.113.9");
	int64_t t = 1000 * SEC, until = 0;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		(void)guard_failure(g, &a, t, &until);
	assert_int_equal(until, t + p.ban_us);
	assert_true(guard_is_banned(g, &a, until - 1));
	assert_false(guard_is_banned(g, &a, until));
	assert_false(guard_is_banned(g, &a, until + SEC));
	guard_free(g);
}

static int64_t
ban_once(struct guard *g, const struct sockaddr_storage *a, int64_t t)
{
	int64_t until = 0;
	int i;

	for (i = 0; i < 4; i++)
		assert_int_equal(guard_failure(g, a, t, &until), 0);
	assert_int_equal(guard_failure(g, a, t, &until), 1);
	return until - t;
}

static void
test_doubling_cap(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.50");
	int64_t t = 1000 * SEC, d;

	(void)state;
	d = ban_once(g, &a, t);
	assert_int_equal(d, p.ban_us);
	t += d;
	d = ban_once(g, &a, t);
	assert_int_equal(d, 2 * p.ban_us);
	t += d;
	d = ban_once(g, &a, t);
	assert_int_equal(d, 4 * p.ban_us);
	t += d;
	d = ban_once(g, &a, t);
	assert_int_equal(d, p.ban_max_us);
	t += d;
	d = ban_once(g, &a, t);
	assert_int_equal(d, p.ban_max_us);
	/* offences are forgotten a day after the last ban ends */
	t += d + GUARD_OFFENCE_KEEP_US;
	d = ban_once(g, &a, t);
	assert_int_equal(d, p.ban_us);
	guard_free(g);
}

static void
test_allow_list(void **state)
{
	struct config_cidr allow[2];
	struct guard_params p = params();
	struct guard *g;
	struct sockaddr_storage a = addr("10.1.2.3"),
	                        m = addr("::ffff:10.9.9.9"),
	                        v6 = addr("2001:db8::1"),
	                        out = addr("11.0.0.1");
	int i;

	(void)state;
	memset(allow, 0, sizeof(allow));
	allow[0].family = AF_INET;
	allow[0].addr[0] = 10;
	allow[0].prefix = 8;
	allow[1].family = AF_INET6;
	allow[1].addr[0] = 0x20;
	allow[1].addr[1] = 0x01;
	allow[1].addr[2] = 0x0d;
	allow[1].addr[3] = 0xb8;
	allow[1].prefix = 32;
	p.allow = allow;
	p.allow_n = 2;
	g = guard_make(&p);
	for (i = 0; i < 100; i++) {
		assert_int_equal(guard_failure(g, &a, i, NULL), 0);
		assert_int_equal(guard_failure(g, &m, i, NULL), 0);
		assert_int_equal(guard_failure(g, &v6, i, NULL), 0);
	}
	assert_false(guard_is_banned(g, &a, 100));
	assert_false(guard_is_banned(g, &m, 100));
	assert_false(guard_is_banned(g, &v6, 100));
	assert_int_equal(guard_ban(g, &a, 0, SEC, "x"), EPERM);
	for (i = 0; i < 5; i++)
		(void)guard_failure(g, &out, i, NULL);
	assert_true(guard_is_banned(g, &out, 10));
	guard_free(g);
}

static void
test_ipv6_prefix(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a1 = addr("2001:db8:1:2::1"),
	                        a2 = addr("2001:db8:1:2:ffff:1:2:3"),
	                        b = addr("2001:db8:1:3::1");
	int64_t until = 0;
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(guard_failure(g, &a1, 0, NULL), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(guard_failure(g, &a2, 0, NULL), 0);
	assert_int_equal(guard_failures(g, &a1, 0), 4);
	assert_int_equal(guard_failures(g, &b, 0), 0);
	assert_int_equal(guard_failure(g, &b, 0, NULL), 0);
	assert_int_equal(guard_failure(g, &a2, 0, &until), 1);
	assert_true(guard_is_banned(g, &a1, 1));
	assert_true(guard_is_banned(g, &a2, 1));
	assert_false(guard_is_banned(g, &b, 1));
	guard_free(g);
}

static void
test_v4mapped(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage v4 = addr("192.0.2.77"),
	                        m = addr("::ffff:192.0.2.77"),
	                        other = addr("::192.0.2.77");
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		(void)guard_failure(g, &v4, 0, NULL);
	assert_int_equal(guard_failures(g, &m, 0), 3);
	assert_int_equal(guard_failures(g, &other, 0), 0);
	assert_int_equal(guard_failure(g, &m, 0, NULL), 0);
	assert_int_equal(guard_failure(g, &m, 0, NULL), 1);
	assert_true(guard_is_banned(g, &v4, 1));
	assert_true(guard_is_banned(g, &m, 1));
	assert_int_equal(guard_unban(g, &m), 0);
	assert_false(guard_is_banned(g, &v4, 1));
	guard_free(g);
}

static void
test_trusted(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.10");
	int64_t t = 1000 * SEC;
	int i;

	(void)state;
	assert_false(guard_is_trusted(g, &a, t));
	guard_success(g, &a, t);
	assert_true(guard_is_trusted(g, &a, t + 1));
	for (i = 0; i < 20; i++)
		assert_int_equal(guard_failure(g, &a, t + 1, NULL), 0);
	assert_false(guard_is_banned(g, &a, t + 2));
	assert_int_equal(guard_failures(g, &a, t + 2), 5);
	/* trust ends */
	assert_false(guard_is_trusted(g, &a, t + p.trust_us));
	guard_free(g);
}

static void
test_success_clears(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.11");
	int64_t t = 1000 * SEC;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		(void)guard_failure(g, &a, t, NULL);
	assert_int_equal(guard_failures(g, &a, t), 4);
	guard_success(g, &a, t);
	assert_int_equal(guard_failures(g, &a, t), 0);
	guard_free(g);
}

struct list_ctx {
	int n;
	bool seen_manual;
	bool seen_v6;
};

static int
list_cb(const struct guard_ban_info *bi, void *arg)
{
	struct list_ctx *c = arg;

	c->n++;
	if (bi->manual) {
		c->seen_manual = true;
		assert_string_equal(bi->reason, "operator");
		assert_int_equal(bi->prefix, 32);
	}
	if (bi->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&bi->addr;
		struct sockaddr_storage want = addr("2001:db8:5::");

		c->seen_v6 = true;
		assert_int_equal(bi->prefix, 64);
		assert_memory_equal(&s6->sin6_addr,
		    &((struct sockaddr_in6 *)&want)->sin6_addr, 16);
	}
	return 0;
}

static void
test_manual(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.20"),
	                        v6 = addr("2001:db8:5::42"),
	                        none = addr("192.0.2.21");
	struct list_ctx c;
	int i;

	(void)state;
	assert_int_equal(guard_ban(g, &a, 0, 0, "x"), EINVAL);
	assert_int_equal(guard_ban(g, &a, 0, 100 * SEC, "operator"), 0);
	assert_true(guard_is_banned(g, &a, 50 * SEC));
	for (i = 0; i < 5; i++)
		(void)guard_failure(g, &v6, 0, NULL);
	memset(&c, 0, sizeof(c));
	assert_int_equal(guard_list(g, SEC, list_cb, &c), 0);
	assert_int_equal(c.n, 2);
	assert_true(c.seen_manual);
	assert_true(c.seen_v6);
	assert_int_equal(guard_unban(g, &a), 0);
	assert_false(guard_is_banned(g, &a, 50 * SEC));
	assert_int_equal(guard_unban(g, &a), ENOENT);
	assert_int_equal(guard_unban(g, &none), ENOENT);
	memset(&c, 0, sizeof(c));
	assert_int_equal(guard_list(g, SEC, list_cb, &c), 0);
	assert_int_equal(c.n, 1);
	guard_free(g);
}

static void
test_capacity(void **state)
{
	struct guard_params p = params();
	struct guard *g;
	struct sockaddr_storage a;
	uint32_t i, nban = 32;

	(void)state;
	p.capacity = 1024;
	g = guard_make(&p);
	for (i = 0; i < nban; i++) {
		a = addr_v4n(i);
		assert_int_equal(guard_ban(g, &a, 0, 1000 * SEC, "cap"), 0);
	}
	for (i = nban; i < nban + 3 * 1024; i++) {
		a = addr_v4n(i);
		(void)guard_failure(g, &a, SEC + i, NULL);
		assert_true(guard_count(g) <= p.capacity);
	}
	for (i = 0; i < nban; i++) {
		a = addr_v4n(i);
		assert_true(guard_is_banned(g, &a, 10 * SEC));
	}
	/* the oldest non-banned sources went first */
	a = addr_v4n(nban);
	assert_int_equal(guard_failures(g, &a, SEC + nban), 0);
	a = addr_v4n(nban + 3 * 1024 - 1);
	assert_int_equal(guard_failures(g, &a, SEC + nban + 3 * 1024), 1);
	guard_free(g);
}

static void
test_capacity_full_of_bans(void **state)
{
	struct guard_params p = params();
	struct guard *g;
	struct sockaddr_storage a;
	uint32_t i;
	int err, full = 0;

	(void)state;
	p.capacity = 8; /* one shard */
	g = guard_make(&p);
	for (i = 0; i < 10; i++) {
		a = addr_v4n(i);
		err = guard_ban(g, &a, 0, 1000 * SEC, NULL);
		if (err == ENOSPC)
			full++;
		else
			assert_int_equal(err, 0);
	}
	assert_int_equal(full, 2);
	assert_int_equal(guard_count(g), 8);
	a = addr_v4n(100);
	assert_int_equal(guard_failure(g, &a, SEC, NULL), 0);
	/* once the bans end their entries are reused */
	assert_int_equal(guard_ban(g, &a, 1000 * SEC, 2000 * SEC, NULL), 0);
	guard_free(g);
}

enum { THREADS = 4, THREAD_OPS = 20000 };

struct thread_arg {
	struct guard *g;
	unsigned id;
	unsigned bans;
};

static void *
thread_run(void *arg)
{
	struct thread_arg *ta = arg;
	struct sockaddr_storage a;
	uint32_t x = ta->id * 2654435761u + 1;
	int i;

	for (i = 0; i < THREAD_OPS; i++) {
		int64_t now = (int64_t)i * 1000;

		x = x * 1664525u + 1013904223u;
		a = addr_v4n((x >> 16) % 3000);
		if (guard_failure(ta->g, &a, now, NULL))
			ta->bans++;
		(void)guard_is_banned(ta->g, &a, now);
		if (i % 97 == 0)
			guard_success(ta->g, &a, now);
		if (i % 1001 == 0)
			(void)guard_unban(ta->g, &a);
	}
	return NULL;
}

static int
count_cb(const struct guard_ban_info *bi, void *arg)
{
	(void)bi;
	(*(int *)arg)++;
	return 0;
}

static void
test_threads(void **state)
{
	struct guard_params p = params();
	struct guard *g;
	struct thread_arg ta[THREADS];
	pthread_t th[THREADS];
	unsigned i, bans = 0;
	int listed = 0;

	(void)state;
	p.max_failures = 3;
	p.capacity = 2048;
	g = guard_make(&p);
	for (i = 0; i < THREADS; i++) {
		ta[i].g = g;
		ta[i].id = i;
		ta[i].bans = 0;
		assert_int_equal(
		    pthread_create(&th[i], NULL, thread_run, &ta[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		bans += ta[i].bans;
	}
	assert_true(bans > 0);
	assert_true(guard_count(g) <= p.capacity);
	assert_int_equal(guard_list(g, 0, count_cb, &listed), 0);
	assert_true(listed > 0);
	guard_free(g);
}

/* The reason of the one ban guard_list reports. */
static int
reason_cb(const struct guard_ban_info *bi, void *arg)
{
	snprintf(arg, GUARD_REASON_MAX + 1, "%s", bi->reason);
	return 1;
}

static void
test_strike_reasons(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.30"), b = addr("192.0.2.31");
	char reason[GUARD_REASON_MAX + 1] = "";
	int64_t t = 1000 * SEC, until = 0;
	int i;

	(void)state;
	assert_string_equal(guard_why_name(GUARD_WHY_AUTH), "auth-failures");
	assert_string_equal(guard_why_name(GUARD_WHY_SCANNER), "scanner");
	assert_string_equal(guard_why_name(GUARD_WHY_DOMAIN), "unknown-domain");
	assert_string_equal(guard_why_name(GUARD_WHY_SWEEP), "sweep");
	assert_string_equal(guard_why_name(GUARD_WHY_DECOY), "decoy");
	assert_string_equal(
	    guard_why_text(GUARD_WHY_AUTH), "failed authentications");
	/* Scanner strikes and failed logins share one count. */
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    guard_strike(g, &a, t, GUARD_WHY_SCANNER, 0, &until), 0);
	assert_int_equal(guard_failure(g, &a, t, NULL), 0);
	assert_int_equal(guard_failures(g, &a, t), 4);
	assert_int_equal(
	    guard_strike(g, &a, t, GUARD_WHY_DOMAIN, 0, &until), 1);
	assert_int_equal(until, t + p.ban_us);
	assert_int_equal(guard_list(g, t, reason_cb, reason), 1);
	assert_string_equal(reason, "requests for unknown domains");
	/* An allow-listed-free other source is untouched. */
	assert_false(guard_is_banned(g, &b, t));
	guard_free(g);
}

static void
test_decoy_bans_at_once(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.40"), b = addr("192.0.2.41");
	char reason[GUARD_REASON_MAX + 1] = "";
	int64_t t = 1000 * SEC, until = 0;

	(void)state;
	assert_int_equal(guard_strike(g, &a, t, GUARD_WHY_DECOY, 0, &until), 1);
	assert_true(guard_is_banned(g, &a, t + 1));
	assert_int_equal(until, t + p.ban_us);
	assert_int_equal(guard_list(g, t, reason_cb, reason), 1);
	assert_string_equal(reason, "decoy extension");
	/* A source that authenticated recently: one failure, no ban. */
	guard_success(g, &b, t);
	assert_int_equal(guard_strike(g, &b, t, GUARD_WHY_DECOY, 0, NULL), 0);
	assert_false(guard_is_banned(g, &b, t + 1));
	assert_int_equal(guard_failures(g, &b, t), 1);
	/* The second decoy of an offender banned before: a doubled ban. */
	assert_int_equal(
	    guard_strike(g, &a, t + p.ban_us, GUARD_WHY_DECOY, 0, &until), 1);
	assert_int_equal(until, t + p.ban_us + 2 * p.ban_us);
	guard_free(g);
}

static void
test_sweep_counts_distinct_users(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.50");
	int64_t t = 1000 * SEC;
	uint64_t u;
	int i;

	(void)state;
	/* The same unknown user again and again: one failure. */
	for (i = 0; i < 20; i++)
		assert_int_equal(
		    guard_strike(g, &a, t, GUARD_WHY_SWEEP, 77, NULL), 0);
	assert_int_equal(guard_failures(g, &a, t), 1);
	/* Two users alternating: two. */
	for (i = 0; i < 20; i++)
		assert_int_equal(guard_strike(g, &a, t, GUARD_WHY_SWEEP,
		                     i % 2 ? 77 : 78, NULL),
		    0);
	assert_int_equal(guard_failures(g, &a, t), 2);
	/* Then new users: banned at the fifth in the window. */
	for (u = 100; u < 102; u++)
		assert_int_equal(
		    guard_strike(g, &a, t, GUARD_WHY_SWEEP, u, NULL), 0);
	assert_int_equal(guard_strike(g, &a, t, GUARD_WHY_SWEEP, 102, NULL), 1);
	assert_true(guard_is_banned(g, &a, t + 1));
	/* The window ends and the users are forgotten with it. */
	guard_free(g);
	g = guard_make(&p);
	for (i = 0; i < 4; i++)
		assert_int_equal(guard_strike(g, &a, t + i * 30 * SEC,
		                     GUARD_WHY_SWEEP, 77, NULL),
		    0);
	assert_int_equal(guard_failures(g, &a, t + 90 * SEC), 1);
	guard_free(g);
}

static struct guard_params
lock_params(void)
{
	struct guard_params p = params();

	p.lock_us = 900 * SEC;
	return p;
}

static void
test_ext_lock_many_sources(void **state)
{
	struct guard_params p = lock_params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("203.0.113.1"),
	                        b = addr("203.0.113.2"),
	                        c = addr("203.0.113.3");
	struct guard_lock lk;
	int64_t t = 1000 * SEC;
	int i;

	(void)state;
	/* One source, any number of failures: its ban's business. */
	for (i = 0; i < 10; i++)
		assert_int_equal(guard_ext_failure(g, 7, &a, t, &lk), 0);
	assert_false(guard_ext_is_locked(g, 7, t));
	/* A second source: still two. */
	assert_int_equal(guard_ext_failure(g, 7, &b, t, &lk), 0);
	assert_false(guard_ext_is_locked(g, 7, t));
	/* A third: locked. */
	memset(&lk, 0, sizeof(lk));
	assert_int_equal(guard_ext_failure(g, 7, &c, t + SEC, &lk), 1);
	assert_true(guard_ext_is_locked(g, 7, t + SEC));
	assert_int_equal(lk.until_us, t + SEC + p.lock_us);
	assert_int_equal(lk.failures, 12);
	assert_int_equal(lk.sources, 3);
	assert_false(lk.unbannable);
	/* Other extensions are not locked; the lock ends. */
	assert_false(guard_ext_is_locked(g, 8, t + SEC));
	assert_int_equal(guard_ext_failure(g, 7, &c, t + 2 * SEC, NULL), 0);
	assert_true(guard_ext_is_locked(g, 7, t + SEC + p.lock_us - 1));
	assert_false(guard_ext_is_locked(g, 7, t + SEC + p.lock_us));
	/* Three sources, but fewer than max_failures: no lock. */
	assert_int_equal(guard_ext_failure(g, 9, &a, t, NULL), 0);
	assert_int_equal(guard_ext_failure(g, 9, &b, t, NULL), 0);
	assert_int_equal(guard_ext_failure(g, 9, &c, t, NULL), 0);
	assert_false(guard_ext_is_locked(g, 9, t));
	/* ... and the window ends before the fifth. */
	assert_int_equal(guard_ext_failure(g, 9, &a, t + 61 * SEC, NULL), 0);
	assert_int_equal(guard_ext_failure(g, 9, &b, t + 61 * SEC, NULL), 0);
	assert_false(guard_ext_is_locked(g, 9, t + 61 * SEC));
	/* Unlock by hand. */
	assert_int_equal(guard_ext_unlock(g, 9), ENOENT);
	assert_int_equal(guard_ext_failure(g, 9, &c, t + 62 * SEC, NULL), 0);
	assert_int_equal(guard_ext_failure(g, 9, &a, t + 62 * SEC, NULL), 0);
	assert_int_equal(guard_ext_failure(g, 9, &b, t + 62 * SEC, NULL), 1);
	assert_int_equal(guard_ext_unlock(g, 9), 0);
	assert_false(guard_ext_is_locked(g, 9, t + 63 * SEC));
	guard_free(g);
}

static void
test_ext_lock_unbannable(void **state)
{
	struct guard_params p = lock_params();
	struct config_cidr allow = {AF_INET, {192, 0, 2, 0}, 24};
	struct sockaddr_storage office = addr("198.51.100.10"),
	                        lan = addr("192.0.2.99");
	struct guard_lock lk;
	struct guard *g;
	int64_t t = 1000 * SEC;
	int i;

	(void)state;
	p.allow = &allow;
	p.allow_n = 1;
	g = guard_make(&p);
	/* A trusted address (an office NAT where a phone authenticated):
	 * never banned, but its failures lock the extension. */
	guard_success(g, &office, t);
	for (i = 0; i < 4; i++)
		assert_int_equal(guard_ext_failure(g, 5, &office, t, NULL), 0);
	assert_int_equal(guard_ext_failure(g, 5, &office, t, &lk), 1);
	assert_true(lk.unbannable);
	assert_int_equal(lk.sources, 1);
	for (i = 0; i < 10; i++)
		assert_int_equal(guard_failure(g, &office, t, NULL), 0);
	assert_false(guard_is_banned(g, &office, t));
	/* An allow-listed one likewise. */
	for (i = 0; i < 4; i++)
		assert_int_equal(guard_ext_failure(g, 6, &lan, t, NULL), 0);
	assert_int_equal(guard_ext_failure(g, 6, &lan, t, &lk), 1);
	assert_true(lk.unbannable);
	/* Locks off (lock_us 0): nothing is locked. */
	guard_free(g);
	p.lock_us = 0;
	g = guard_make(&p);
	for (i = 0; i < 10; i++)
		assert_int_equal(guard_ext_failure(g, 6, &lan, t, NULL), 0);
	assert_false(guard_ext_is_locked(g, 6, t));
	guard_free(g);
}

static void
test_rate_limit(void **state)
{
	struct guard_params p = params();
	struct config_cidr allow = {AF_INET, {10, 9, 0, 0}, 16};
	struct sockaddr_storage a = addr("192.0.2.60"), b = addr("192.0.2.61"),
	                        lan = addr("10.9.1.1");
	struct guard *g;
	int64_t t = 1000 * SEC;
	uint64_t report = 99;
	int i;

	(void)state;
	p.rate = 2;
	p.rate_burst = 4;
	p.allow = &allow;
	p.allow_n = 1;
	g = guard_make(&p);
	/* The burst passes, the next message is dropped and reported. */
	for (i = 0; i < 4; i++)
		assert_int_equal(guard_admit(g, &a, t, &report), GUARD_PASS);
	assert_int_equal(report, 0);
	assert_int_equal(guard_admit(g, &a, t, &report), GUARD_RATE_LIMITED);
	assert_int_equal(report, 1);
	/* Within the second: dropped, counted, not reported. */
	for (i = 0; i < 9; i++) {
		assert_int_equal(guard_admit(g, &a, t + 100000, &report),
		    GUARD_RATE_LIMITED);
		assert_int_equal(report, 0);
	}
	/* Another source has its own bucket; allow-listed ones none. */
	assert_int_equal(guard_admit(g, &b, t, NULL), GUARD_PASS);
	for (i = 0; i < 1000; i++)
		assert_int_equal(guard_admit(g, &lan, t, NULL), GUARD_PASS);
	/* Half a second later one token (2 per second) has come back. */
	assert_int_equal(guard_admit(g, &a, t + 500000, &report), GUARD_PASS);
	assert_int_equal(
	    guard_admit(g, &a, t + 500000, &report), GUARD_RATE_LIMITED);
	assert_int_equal(report, 0);
	/* A second after the first report: the next one reports 9 + 1. */
	assert_int_equal(guard_admit(g, &a, t + 1000000, NULL), GUARD_PASS);
	assert_int_equal(
	    guard_admit(g, &a, t + 1000000, &report), GUARD_RATE_LIMITED);
	assert_int_equal(report, 11);
	/* An idle hour refills to the burst, no more. */
	for (i = 0; i < 4; i++)
		assert_int_equal(
		    guard_admit(g, &a, t + 3600 * SEC, NULL), GUARD_PASS);
	assert_int_equal(
	    guard_admit(g, &a, t + 3600 * SEC, NULL), GUARD_RATE_LIMITED);
	/* A banned source: dropped as banned before its bucket. */
	assert_int_equal(guard_ban(g, &b, t, t + 10 * SEC, "x"), 0);
	assert_int_equal(guard_admit(g, &b, t + 1, NULL), GUARD_BANNED);
	assert_int_equal(guard_admit(g, &b, t + 10 * SEC, NULL), GUARD_PASS);
	guard_free(g);
	/* rate 0: no limit. */
	p.rate = 0;
	g = guard_make(&p);
	for (i = 0; i < 1000; i++)
		assert_int_equal(guard_admit(g, &a, t, NULL), GUARD_PASS);
	guard_free(g);
}

static void
test_disabled(void **state)
{
	struct guard_params p = lock_params();
	struct sockaddr_storage a = addr("192.0.2.70");
	struct guard *g;
	int64_t t = 1000 * SEC;
	int i;

	(void)state;
	p.disabled = true;
	p.rate = 1;
	p.rate_burst = 1;
	g = guard_make(&p);
	assert_false(guard_enabled(g));
	for (i = 0; i < 100; i++) {
		assert_int_equal(guard_failure(g, &a, t, NULL), 0);
		assert_int_equal(
		    guard_strike(g, &a, t, GUARD_WHY_DECOY, 0, NULL), 0);
		assert_int_equal(guard_ext_failure(g, 1, &a, t, NULL), 0);
		assert_int_equal(guard_admit(g, &a, t, NULL), GUARD_PASS);
	}
	assert_false(guard_is_banned(g, &a, t));
	assert_false(guard_ext_is_locked(g, 1, t));
	/* A ban set by hand is kept but not enforced while off. */
	assert_int_equal(guard_ban(g, &a, t, t + SEC, "x"), 0);
	assert_int_equal(guard_admit(g, &a, t, NULL), GUARD_PASS);
	guard_free(g);
}

static void
test_params_config(void **state)
{
	static const char text[] =
	    "[guard]\nmax_auth_failures = 3\nwindow = 2m\nlock = 5m\n"
	    "stealth = off\ndecoys = 100, Admin ,test\nrate = 10\n"
	    "rate_burst = 20\nallow = 10.1.0.0/16\n";
	static const char *const bad[] = {"[guard]\ndecoys = a b\n",
	    "[guard]\ndecoys = admin,ADMIN\n", "[guard]\ndecoys = x,,y\n",
	    "[guard]\ndecoys = 123456789012345678901234567890123\n",
	    "[guard]\nrate_burst = 0\n", "[guard]\nlock = 30s\n",
	    "[guard]\nenabled = maybe\n"};
	struct guard_params p;
	struct config *c = NULL;
	struct guard *g;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(config_load_string(text, sizeof(text) - 1, "/tmp",
	                     "sw.conf", &c, err, sizeof(err)),
	    0);
	memset(&p, 0, sizeof(p));
	p.ban_max_us = 30 * 86400 * SEC;
	p.capacity = 1024;
	guard_params_config(&p, c);
	assert_int_equal(p.max_failures, 3);
	assert_int_equal(p.window_us, 120 * SEC);
	assert_int_equal(p.lock_us, 300 * SEC);
	assert_int_equal(p.rate, 10);
	assert_int_equal(p.rate_burst, 20);
	assert_false(p.disabled);
	assert_false(p.stealth);
	assert_int_equal(p.decoys_n, 3);
	assert_int_equal(p.allow_n, 1);
	g = guard_make(&p);
	config_free(c); /* the guard keeps copies */
	assert_true(guard_is_decoy(g, "100", 3));
	assert_true(guard_is_decoy(g, "ADMIN", 5));
	assert_true(guard_is_decoy(g, "Test", 4));
	assert_false(guard_is_decoy(g, "1000", 4));
	assert_false(guard_is_decoy(g, "10", 2));
	assert_false(guard_stealth(g));
	assert_true(guard_enabled(g));
	guard_free(g);

	/* The defaults. */
	assert_int_equal(
	    config_load_string("", 0, "/tmp", "sw.conf", &c, err, sizeof(err)),
	    0);
	memset(&p, 0, sizeof(p));
	guard_params_config(&p, c);
	assert_false(p.disabled);
	assert_true(p.stealth);
	assert_int_equal(p.lock_us, 900 * SEC);
	assert_int_equal(p.rate, 200);
	assert_int_equal(p.rate_burst, 400);
	assert_int_equal(p.decoys_n, 8);
	config_free(c);
	assert_int_equal(config_load_string("[guard]\nenabled = off\n", 22,
	                     "/tmp", "sw.conf", &c, err, sizeof(err)),
	    0);
	guard_params_config(&p, c);
	assert_true(p.disabled);
	config_free(c);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		c = NULL;
		assert_int_equal(config_load_string(bad[i], strlen(bad[i]),
		                     "/tmp", "sw.conf", &c, err, sizeof(err)),
		    EINVAL);
		assert_null(c);
		assert_non_null(strstr(err, "sw.conf:2: [guard] "));
	}
}

/* [guard] deny: a source inside a denied network is dropped as banned
 * before its token bucket, without being banned; others pass. */
static void
test_deny(void **state)
{
	static const char text[] =
	    "[guard]\ndeny = 192.0.2.0/24, 2001:db8:bad::/48\nrate = 1\n"
	    "rate_burst = 1\n";
	struct config_cidr deny[CONFIG_CIDR_MAX];
	struct guard_params p = params();
	struct sockaddr_storage d4 = addr("198.51.100.7"),
	                        mapped = addr("::ffff:198.51.100.7"),
	                        d6a = addr("2001:db8:bad::1"),
	                        d6b = addr("2001:db8:bad:ffff:1:2:3:4"),
	                        v4next = addr("198.51.100.8"),
	                        v6below = addr("2001:db8:bac:ffff::1"),
	                        v6above = addr("2001:db8:bae::1"),
	                        other = addr("10.0.0.1");
	const struct sockaddr_storage *denied[] = {&d4, &mapped, &d6a, &d6b},
	                              *passed[] = {
	                                  &v4next, &v6below, &v6above, &other};
	struct config *c = NULL;
	struct guard *g;
	char why[128], err[256];
	size_t n = 0, i;
	int64_t t = 1000 * SEC;
	int k;

	(void)state;
	assert_int_equal(config_cidrs_parse("198.51.100.7, 2001:db8:bad::/48",
	                     deny, CONFIG_CIDR_MAX, &n, why, sizeof(why)),
	    0);
	assert_int_equal(n, 2);
	p.deny = deny;
	p.deny_n = n;
	g = guard_make(&p);
	memset(deny, 0, sizeof(deny)); /* the guard keeps a copy */
	for (k = 0; k < 3; k++) {
		for (i = 0; i < ARRAY_LEN(denied); i++)
			assert_int_equal(
			    guard_admit(g, denied[i], t, NULL), GUARD_BANNED);
		for (i = 0; i < ARRAY_LEN(passed); i++)
			assert_int_equal(
			    guard_admit(g, passed[i], t, NULL), GUARD_PASS);
	}
	/* denied is not banned: nothing to list or lift */
	assert_false(guard_is_banned(g, &d4, t));
	assert_int_equal(guard_unban(g, &d4), ENOENT);
	assert_int_equal(
	    guard_admit(g, &d4, t + 3600 * SEC, NULL), GUARD_BANNED);
	guard_free(g);

	/* [guard] enabled = off: everything passes, denied sources too */
	p.disabled = true;
	assert_int_equal(config_cidrs_parse("198.51.100.7, 2001:db8:bad::/48",
	                     deny, CONFIG_CIDR_MAX, &n, why, sizeof(why)),
	    0);
	g = guard_make(&p);
	for (i = 0; i < ARRAY_LEN(denied); i++)
		assert_int_equal(
		    guard_admit(g, denied[i], t, NULL), GUARD_PASS);
	for (i = 0; i < ARRAY_LEN(passed); i++)
		assert_int_equal(
		    guard_admit(g, passed[i], t, NULL), GUARD_PASS);
	guard_free(g);

	/* a deny list without its entries is refused */
	p = params();
	p.deny_n = 1;
	g = NULL;
	assert_int_equal(guard_new(&p, &g), EINVAL);
	p.deny = deny;
	p.deny_n = CONFIG_CIDR_MAX + 1;
	assert_int_equal(guard_new(&p, &g), EINVAL);
	assert_null(g);

	/* from the config file; denied sources never reach their bucket */
	assert_int_equal(config_load_string(text, sizeof(text) - 1, "/tmp",
	                     "sw.conf", &c, err, sizeof(err)),
	    0);
	p = params();
	p.ban_max_us = 30 * 86400 * SEC; /* the file's ban is 1h */
	guard_params_config(&p, c);
	assert_int_equal(p.deny_n, 2);
	g = guard_make(&p);
	config_free(c);
	d4 = addr("192.0.2.200");
	for (k = 0; k < 5; k++) {
		assert_int_equal(guard_admit(g, &d4, t, NULL), GUARD_BANNED);
		assert_int_equal(guard_admit(g, &d6b, t, NULL), GUARD_BANNED);
	}
	assert_int_equal(guard_admit(g, &other, t, NULL), GUARD_PASS);
	assert_int_equal(guard_admit(g, &other, t, NULL), GUARD_RATE_LIMITED);
	guard_free(g);
}

/* A reload: new settings apply at once, whole; bans stay; the table size
 * cannot change; bad settings leave the old ones. */
static void
test_reconfigure(void **state)
{
	struct guard_params p = params();
	struct guard *g = guard_make(&p);
	struct sockaddr_storage a = addr("192.0.2.1"), b = addr("192.0.2.2"),
	                        c = addr("198.51.100.9");
	struct config_cidr lists[2][CONFIG_CIDR_MAX];
	char why[128];
	size_t n = 0;
	int64_t t = 1000 * SEC, until = 0;
	unsigned i;

	(void)state;
	for (i = 0; i < 5; i++)
		guard_failure(g, &a, t, &until);
	assert_true(guard_is_banned(g, &a, t));
	assert_int_equal(guard_admit(g, &c, t, NULL), GUARD_PASS);
	/* Deny 198.51.100.0/24, allow 192.0.2.2, ban at 2 failures. */
	assert_int_equal(config_cidrs_parse("198.51.100.0/24", lists[0],
	                     CONFIG_CIDR_MAX, &n, why, sizeof(why)),
	    0);
	p.deny = lists[0];
	p.deny_n = n;
	assert_int_equal(config_cidrs_parse("192.0.2.2", lists[1],
	                     CONFIG_CIDR_MAX, &n, why, sizeof(why)),
	    0);
	p.allow = lists[1];
	p.allow_n = n;
	p.max_failures = 2;
	assert_int_equal(guard_reconfigure(g, &p, t), 0);
	memset(lists, 0, sizeof(lists)); /* the guard keeps copies */
	assert_int_equal(guard_admit(g, &c, t, NULL), GUARD_BANNED);
	assert_true(guard_is_allowed(g, &b));
	for (i = 0; i < 10; i++)
		assert_int_equal(guard_failure(g, &b, t, &until), 0);
	assert_false(guard_is_banned(g, &b, t));
	assert_true(guard_is_banned(g, &a, t)); /* bans stay */
	{
		struct sockaddr_storage d = addr("203.0.113.4");

		assert_int_equal(guard_failure(g, &d, t, &until), 0);
		assert_int_equal(guard_failure(g, &d, t, &until), 1);
	}
	/* Refused: another capacity, bad params. The old settings stay. */
	p.capacity = 8192;
	assert_int_equal(guard_reconfigure(g, &p, t), EINVAL);
	p = params();
	p.max_failures = 0;
	assert_int_equal(guard_reconfigure(g, &p, t), EINVAL);
	assert_int_equal(guard_admit(g, &c, t, NULL), GUARD_BANNED);
	/* Back to none; replaced settings are freed a minute on. */
	p = params();
	for (i = 0; i < 5; i++)
		assert_int_equal(
		    guard_reconfigure(g, &p, t + (int64_t)i * GUARD_RETIRE_US),
		    0);
	assert_int_equal(guard_admit(g, &c, t, NULL), GUARD_PASS);
	assert_false(guard_is_allowed(g, &b));
	guard_free(g);
}

struct reconf_reader {
	struct guard *g;
	atomic_bool stop;
	unsigned passes, bans;
};

static void *
reconf_reader_run(void *arg)
{
	struct reconf_reader *r = arg;
	struct sockaddr_storage c = addr("198.51.100.9");
	int64_t t = 1000 * SEC;

	while (!atomic_load(&r->stop)) {
		enum guard_verdict v = guard_admit(r->g, &c, t, NULL);

		if (v == GUARD_PASS)
			r->passes++;
		else if (v == GUARD_BANNED)
			r->bans++;
		(void)guard_is_allowed(r->g, &c);
		(void)guard_is_decoy(r->g, "100", 3);
	}
	return NULL;
}

/* Reloads while another thread asks the guard all the time: every call
 * sees the old settings or the new ones (ASan: no use after free). */
static void
test_reconfigure_while_used(void **state)
{
	struct guard_params p = params(), q = params();
	struct config_cidr deny[CONFIG_CIDR_MAX];
	struct reconf_reader r;
	pthread_t th;
	char why[128];
	size_t n = 0;
	unsigned i;

	(void)state;
	assert_int_equal(config_cidrs_parse("198.51.100.0/24", deny,
	                     CONFIG_CIDR_MAX, &n, why, sizeof(why)),
	    0);
	q.deny = deny;
	q.deny_n = n;
	memset(&r, 0, sizeof(r));
	r.g = guard_make(&p);
	atomic_init(&r.stop, false);
	assert_int_equal(pthread_create(&th, NULL, reconf_reader_run, &r), 0);
	for (i = 0; i < 2000; i++)
		assert_int_equal(guard_reconfigure(r.g, i % 2 ? &p : &q,
		                     (int64_t)i * GUARD_RETIRE_US / 100),
		    0);
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	assert_true(r.passes + r.bans > 0);
	guard_free(r.g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_bad_params),
	    cmocka_unit_test(test_ban_after_max),
	    cmocka_unit_test(test_spread_not_banned),
	    cmocka_unit_test(test_ban_expires),
	    cmocka_unit_test(test_doubling_cap),
	    cmocka_unit_test(test_allow_list),
	    cmocka_unit_test(test_ipv6_prefix),
	    cmocka_unit_test(test_v4mapped),
	    cmocka_unit_test(test_trusted),
	    cmocka_unit_test(test_success_clears),
	    cmocka_unit_test(test_manual),
	    cmocka_unit_test(test_capacity),
	    cmocka_unit_test(test_capacity_full_of_bans),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_strike_reasons),
	    cmocka_unit_test(test_decoy_bans_at_once),
	    cmocka_unit_test(test_sweep_counts_distinct_users),
	    cmocka_unit_test(test_ext_lock_many_sources),
	    cmocka_unit_test(test_ext_lock_unbannable),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_disabled),
	    cmocka_unit_test(test_params_config),
	    cmocka_unit_test(test_deny),
	    cmocka_unit_test(test_reconfigure),
	    cmocka_unit_test(test_reconfigure_while_used),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
