/* trunktab_test.c: unit tests of the daemon's trunk and number table
 * (src/call/trunktab.c) on a fresh SQLite store per test: the network
 * policy, E.164 normalisation, source matching (longest prefix, ties,
 * IPv4-mapped IPv6, disabled and refused networks), number lookups,
 * reloads and removals through the change-log loaders, and lookups from
 * several threads while the table is reloaded. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "call/trunktab.h"
#include "lib/util.h"
#include "store/store.h"

#define SET(f, s) snprintf((f), sizeof(f), "%s", (s))

struct fixture {
	char dir[64];
	struct store *st;
	struct trunktab *tt;
	int64_t t1, t2; /* tenants acme and beta */
};

static int64_t
tenant_make(struct store *st, const char *name, const char *domain)
{
	struct store_tenant t;

	memset(&t, 0, sizeof(t));
	SET(t.name, name);
	SET(t.domain, domain);
	SET(t.timezone, "UTC");
	SET(t.currency, "EUR");
	assert_int_equal(store_tenant_add(st, &t), 0);
	return t.id;
}

/* Adds a trunk (the store checks none of the networks: the table must). */
static int64_t
trunk_make(struct store *st, int64_t tenant_id, const char *name,
    const char *addresses, bool enabled)
{
	struct store_trunk t;

	memset(&t, 0, sizeof(t));
	t.tenant_id = tenant_id;
	SET(t.name, name);
	SET(t.host, "sip.carrier.example");
	t.port = 5061;
	SET(t.transport, "tls");
	SET(t.addresses, addresses);
	t.enabled = enabled;
	assert_int_equal(store_trunk_add(st, &t), 0);
	return t.id;
}

static int64_t
number_make(struct store *st, int64_t tenant_id, const char *e164,
    const char *destination, int64_t trunk_id)
{
	struct store_number n;

	memset(&n, 0, sizeof(n));
	n.tenant_id = tenant_id;
	n.trunk_id = trunk_id;
	SET(n.e164, e164);
	SET(n.destination, destination);
	assert_int_equal(store_number_add(st, &n), 0);
	return n.id;
}

static int
fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char url[128], err[256];

	assert_non_null(f);
	SET(f->dir, "/tmp/trunktab_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	err[0] = '\0';
	if (store_open(url, &f->st, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	f->t1 = tenant_make(f->st, "acme", "acme.example");
	f->t2 = tenant_make(f->st, "beta", "beta.example");
	assert_int_equal(trunktab_new(&f->tt), 0);
	*state = f;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *de;
	DIR *d;

	trunktab_free(f->tt);
	store_close(f->st);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A source address from text: IPv4 or IPv6 (port 5060). */
static struct sockaddr_storage
src(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(5060);
	} else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(5060);
	} else {
		fail_msg("bad address %s", text);
	}
	return ss;
}

/* The id of the trunk match_source finds for text, or 0 for ENOENT. */
static int64_t
match_id(struct trunktab *tt, const char *text)
{
	struct sockaddr_storage ss = src(text);
	struct trunk_info ti;
	int rc = trunktab_match_source(tt, &ss, &ti);

	if (rc == ENOENT)
		return 0;
	assert_int_equal(rc, 0);
	return ti.id;
}

static struct config_cidr
cidr(const char *text)
{
	struct config_cidr c[1];
	char why[128];
	size_t n = 0;

	if (config_cidrs_parse(text, c, 1, &n, why, sizeof(why)) != 0 || n != 1)
		fail_msg("bad cidr %s: %s", text, why);
	return c[0];
}

static void
test_cidr_check(void **state)
{
	static const char *ok[] = {"192.0.2.0/24", "10.0.0.0/16", "192.0.2.7",
	    "2001:db8::/32", "2001:db8:1::/48", "::1", "fe80::/64",
	    "::fffe:0:0/96"};
	static const char *bad[] = {"0.0.0.0/0", "10.0.0.0/15", "10.0.0.0/8",
	    "::/0", "2000::/3", "2001:db8::/31", "::ffff:0:0/96",
	    "::ffff:192.0.2.0/120", "::/32", "::/64", "::/80",
	    "::ffff:0.0.0.0/112"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct config_cidr c = cidr(ok[i]);

		if (trunktab_cidr_check(&c) != NULL)
			fail_msg(
			    "%s refused: %s", ok[i], trunktab_cidr_check(&c));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config_cidr c = cidr(bad[i]);

		if (trunktab_cidr_check(&c) == NULL)
			fail_msg("%s accepted", bad[i]);
	}
}

static void
test_e164_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {{"+4930123456", "+4930123456"}, {"4930123456", "+4930123456"},
	    {"004930123456", "+4930123456"}, {"+1234567", "+1234567"},
	    {"1234567", "+1234567"}, {"+123456789012345", "+123456789012345"},
	    {"00123456789012345", "+123456789012345"}};
	static const char *bad[] = {"", "+", "00", "+123456", "123456",
	    "+0123456789", "0123456789", "000493012345", "+1234567890123456",
	    "1234567890123456", "+49 30 123456", "+49-30-123456",
	    "tel:+4930123456", "+4930123456;npdi", "++4930123456",
	    "+49301234x6"};
	char out[STORE_E164_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(
		    trunktab_e164_normalize(ok[i].in, strlen(ok[i].in), out),
		    0);
		assert_string_equal(out, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 'x', sizeof(out));
		if (trunktab_e164_normalize(bad[i], strlen(bad[i]), out) !=
		    EINVAL)
			fail_msg("%s accepted", bad[i]);
		assert_int_equal(out[0], 'x'); /* untouched */
	}
	/* A view: only len bytes are read. */
	assert_int_equal(trunktab_e164_normalize("+4930123456@x", 11, out), 0);
	assert_string_equal(out, "+4930123456");
}

static void
test_match(void **state)
{
	struct fixture *f = *state;
	struct trunktab *tt = f->tt;
	struct sockaddr_storage ss;
	struct sockaddr_un un;
	struct trunk_info ti;
	int64_t a, b, c, d, e, g, h;

	a = trunk_make(f->st, f->t1, "a", "192.0.2.0/24, 2001:db8:1::/48", 1);
	b = trunk_make(f->st, f->t2, "b", "192.0.2.128/25", 1);
	c = trunk_make(f->st, f->t1, "c", "198.51.100.7/32", 0); /* off */
	/* The store keeps what it is given: the table drops too-wide and
	 * IPv4-mapped networks, and keeps the rest of the trunk. */
	d = trunk_make(f->st, f->t2, "d",
	    "10.0.0.0/8,203.0.113.0/24,::ffff:198.18.0.0/112", 1);
	e = trunk_make(f->st, 0, "shared", "100.64.0.0/16", 1);
	trunk_make(f->st, f->t1, "open", "0.0.0.0/0,::/0", 1);
	trunk_make(f->st, f->t1, "junk", "not an address", 1);
	g = trunk_make(f->st, f->t2, "g", "192.0.2.0/24", 1); /* = a's */
	h = trunk_make(f->st, f->t1, "h", "2001:db8:1:2::/64", 1);
	assert_int_equal(trunktab_load_all(tt, f->st), 0);
	assert_int_equal(trunktab_trunk_count(tt), 6); /* a b d e g h */

	assert_int_equal(match_id(tt, "192.0.2.5"), a);   /* a before g */
	assert_int_equal(match_id(tt, "192.0.2.200"), b); /* longest */
	assert_int_equal(match_id(tt, "::ffff:192.0.2.5"), a);
	assert_int_equal(match_id(tt, "::ffff:192.0.2.200"), b);
	assert_int_equal(match_id(tt, "2001:db8:1::9"), a);
	assert_int_equal(match_id(tt, "2001:db8:1:2::9"), h);
	assert_int_equal(match_id(tt, "2001:db8:2::1"), 0);
	assert_int_equal(match_id(tt, "198.51.100.7"), 0); /* disabled */
	assert_int_equal(match_id(tt, "10.1.2.3"), 0);     /* dropped /8 */
	assert_int_equal(match_id(tt, "198.18.0.1"), 0);   /* dropped */
	assert_int_equal(match_id(tt, "::ffff:198.18.0.1"), 0);
	assert_int_equal(match_id(tt, "203.0.113.9"), d);
	assert_int_equal(match_id(tt, "100.64.3.4"), e);
	assert_int_equal(match_id(tt, "8.8.8.8"), 0);
	assert_int_equal(match_id(tt, "::1"), 0);
	/* An IPv4 network never matches an IPv6 address that merely ends
	 * in the same bytes. */
	assert_int_equal(match_id(tt, "::c000:205"), 0);

	ss = src("192.0.2.200");
	assert_int_equal(trunktab_match_source(tt, &ss, &ti), 0);
	assert_string_equal(ti.name, "b");
	assert_int_equal(ti.tenant_id, f->t2);
	assert_int_equal(ti.prefix, 25);
	assert_string_equal(ti.transport, "tls");
	assert_int_equal(ti.port, 5061);
	assert_string_equal(ti.host, "sip.carrier.example");

	/* Per tenant: its own trunks and the shared ones. */
	assert_int_equal(trunktab_match_tenant(tt, f->t1, &ss, &ti), 0);
	assert_int_equal(ti.id, a);
	assert_int_equal(ti.prefix, 24);
	ss = src("192.0.2.5");
	assert_int_equal(trunktab_match_tenant(tt, f->t2, &ss, &ti), 0);
	assert_int_equal(ti.id, g);
	ss = src("100.64.0.1");
	assert_int_equal(trunktab_match_tenant(tt, f->t1, &ss, &ti), 0);
	assert_int_equal(ti.id, e);
	ss = src("203.0.113.9");
	assert_int_equal(trunktab_match_tenant(tt, f->t1, &ss, &ti), ENOENT);
	assert_int_equal(trunktab_match_tenant(tt, -5, &ss, &ti), EINVAL);

	/* One trunk. */
	ss = src("192.0.2.200");
	assert_int_equal(trunktab_trunk_match(tt, a, &ss, &ti), 0);
	assert_int_equal(ti.id, a);
	assert_int_equal(ti.prefix, 24);
	assert_int_equal(trunktab_trunk_match(tt, a, &ss, NULL), 0);
	ss = src("192.0.2.5");
	assert_int_equal(trunktab_trunk_match(tt, b, &ss, &ti), ENOENT);
	ss = src("198.51.100.7");
	assert_int_equal(trunktab_trunk_match(tt, c, &ss, &ti), ENOENT);
	assert_int_equal(trunktab_trunk_match(tt, 99999, &ss, &ti), ENOENT);

	/* Another family. */
	memset(&ss, 0, sizeof(ss));
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(&ss, &un, sizeof(un));
	assert_int_equal(trunktab_match_source(tt, &ss, &ti), EINVAL);
	assert_int_equal(trunktab_trunk_match(tt, a, &ss, &ti), EINVAL);
}

static void
test_numbers(void **state)
{
	struct fixture *f = *state;
	struct trunktab *tt = f->tt;
	struct number_info ni;
	int64_t tr, n1, n2;

	tr = trunk_make(f->st, f->t1, "a", "192.0.2.0/24", 1);
	n1 = number_make(f->st, f->t1, "+4930123456", "ext:1001", tr);
	n2 = number_make(f->st, f->t2, "+14155550100", "ext:200", 0);
	number_make(f->st, f->t1, "+4930999999", "ivr:main", 0);
	number_make(f->st, f->t1, "+4930888888", "ext:", 0);
	number_make(f->st, f->t1, "+4930777777", "ext:12ab", 0);
	number_make(f->st, f->t1, "4930666666", "ext:1001", 0); /* no + */
	assert_int_equal(trunktab_load_all(tt, f->st), 0);
	/* ivr:, "ext:" and a non-number extension are not routable; a
	 * stored number without its '+' is read as E.164 all the same. */
	assert_int_equal(trunktab_number_count(tt), 3);

	assert_int_equal(trunktab_number(tt, "+4930123456", 11, &ni), 0);
	assert_int_equal(ni.id, n1);
	assert_int_equal(ni.tenant_id, f->t1);
	assert_int_equal(ni.trunk_id, tr);
	assert_string_equal(ni.e164, "+4930123456");
	assert_string_equal(ni.ext, "1001");
	memset(&ni, 0, sizeof(ni));
	assert_int_equal(trunktab_number(tt, "4930123456", 10, &ni), 0);
	assert_int_equal(ni.id, n1);
	assert_int_equal(trunktab_number(tt, "004930123456", 12, &ni), 0);
	assert_int_equal(ni.id, n1);
	/* A view of a Request-URI: only len bytes count. */
	assert_int_equal(
	    trunktab_number(tt, "4930123456@pbx.example", 10, &ni), 0);
	assert_int_equal(ni.id, n1);

	assert_int_equal(trunktab_number(tt, "+14155550100", 12, &ni), 0);
	assert_int_equal(ni.id, n2);
	assert_int_equal(ni.trunk_id, 0);
	assert_string_equal(ni.ext, "200");
	assert_int_equal(trunktab_number(tt, "+4930666666", 11, &ni), 0);
	assert_string_equal(ni.e164, "+4930666666");

	assert_int_equal(trunktab_number(tt, "+4930999999", 11, &ni), ENOENT);
	assert_int_equal(trunktab_number(tt, "+4930123457", 11, &ni), ENOENT);
	assert_int_equal(trunktab_number(tt, "1001", 4, &ni), EINVAL);
	assert_int_equal(trunktab_number(tt, "030123456", 9, &ni), EINVAL);
	assert_int_equal(trunktab_number(tt, "", 0, &ni), EINVAL);
	assert_int_equal(trunktab_number(tt, "+49 30123456", 12, &ni), EINVAL);
}

static void
test_reload(void **state)
{
	struct fixture *f = *state;
	struct trunktab *tt = f->tt;
	struct store_trunk row;
	struct store_number nrow;
	struct number_info ni;
	int64_t a, b, n1, n2;

	a = trunk_make(f->st, f->t1, "a", "192.0.2.0/24", 1);
	n1 = number_make(f->st, f->t1, "+4930123456", "ext:1001", a);
	assert_int_equal(trunktab_load_all(tt, f->st), 0);
	assert_int_equal(match_id(tt, "192.0.2.1"), a);

	/* New addresses. */
	assert_int_equal(store_trunk_get_by_id(f->st, a, &row), 0);
	SET(row.addresses, "198.51.100.0/24");
	assert_int_equal(store_trunk_update(f->st, &row), 0);
	assert_int_equal(match_id(tt, "198.51.100.1"), 0); /* not yet */
	assert_int_equal(trunktab_load_trunk(tt, f->st, a), 0);
	assert_int_equal(match_id(tt, "192.0.2.1"), 0);
	assert_int_equal(match_id(tt, "198.51.100.1"), a);

	/* Disabled: gone; its numbers keep naming it. */
	row.enabled = false;
	assert_int_equal(store_trunk_update(f->st, &row), 0);
	assert_int_equal(trunktab_load_trunk(tt, f->st, a), 0);
	assert_int_equal(trunktab_trunk_count(tt), 0);
	assert_int_equal(match_id(tt, "198.51.100.1"), 0);
	assert_int_equal(trunktab_number(tt, "+4930123456", 11, &ni), 0);
	assert_int_equal(ni.trunk_id, a);
	/* Enabled again. */
	row.enabled = true;
	assert_int_equal(store_trunk_update(f->st, &row), 0);
	assert_int_equal(trunktab_load_trunk(tt, f->st, a), 0);
	assert_int_equal(match_id(tt, "198.51.100.1"), a);
	/* Addresses that are all refused: gone. */
	SET(row.addresses, "0.0.0.0/0");
	assert_int_equal(store_trunk_update(f->st, &row), 0);
	assert_int_equal(trunktab_load_trunk(tt, f->st, a), 0);
	assert_int_equal(trunktab_trunk_count(tt), 0);
	SET(row.addresses, "198.51.100.0/24");
	assert_int_equal(store_trunk_update(f->st, &row), 0);
	assert_int_equal(trunktab_load_trunk(tt, f->st, a), 0);
	assert_int_equal(trunktab_trunk_count(tt), 1);

	/* A second trunk, added and loaded. */
	b = trunk_make(f->st, f->t1, "b", "203.0.113.0/24", 1);
	assert_int_equal(trunktab_load_trunk(tt, f->st, b), 0);
	assert_int_equal(match_id(tt, "203.0.113.1"), b);
	assert_int_equal(trunktab_trunk_count(tt), 2);

	/* A number added, changed, removed. */
	n2 = number_make(f->st, f->t1, "+4930555000", "ext:1002", b);
	assert_int_equal(trunktab_number(tt, "+4930555000", 11, &ni), ENOENT);
	assert_int_equal(trunktab_load_number(tt, f->st, n2), 0);
	assert_int_equal(trunktab_number(tt, "+4930555000", 11, &ni), 0);
	assert_string_equal(ni.ext, "1002");
	assert_int_equal(store_number_get_by_id(f->st, n2, &nrow), 0);
	SET(nrow.destination, "ext:1003");
	nrow.trunk_id = 0;
	assert_int_equal(store_number_update(f->st, &nrow), 0);
	assert_int_equal(trunktab_load_number(tt, f->st, n2), 0);
	assert_int_equal(trunktab_number(tt, "+4930555000", 11, &ni), 0);
	assert_string_equal(ni.ext, "1003");
	assert_int_equal(ni.trunk_id, 0);
	SET(nrow.destination, "voicemail:1003"); /* not routable here */
	assert_int_equal(store_number_update(f->st, &nrow), 0);
	assert_int_equal(trunktab_load_number(tt, f->st, n2), 0);
	assert_int_equal(trunktab_number(tt, "+4930555000", 11, &ni), ENOENT);
	assert_int_equal(trunktab_number_count(tt), 1);
	assert_int_equal(store_number_remove(f->st, n2), 0);
	assert_int_equal(trunktab_load_number(tt, f->st, n2), 0);
	assert_int_equal(trunktab_load_number(tt, f->st, 99999), 0);
	assert_int_equal(trunktab_number_count(tt), 1);

	/* A trunk removed: gone, and its numbers left without it, as the
	 * store's ON DELETE SET NULL does. */
	assert_int_equal(store_trunk_remove(f->st, a), 0);
	assert_int_equal(trunktab_load_trunk(tt, f->st, a), 0);
	assert_int_equal(match_id(tt, "198.51.100.1"), 0);
	assert_int_equal(trunktab_number(tt, "+4930123456", 11, &ni), 0);
	assert_int_equal(ni.id, n1);
	assert_int_equal(ni.trunk_id, 0);
	assert_int_equal(store_number_get_by_id(f->st, n1, &nrow), 0);
	assert_int_equal(nrow.trunk_id, 0);
	assert_int_equal(trunktab_load_trunk(tt, f->st, 99999), 0);

	/* A full load gives what the changes gave. */
	assert_int_equal(trunktab_load_all(tt, f->st), 0);
	assert_int_equal(trunktab_trunk_count(tt), 1);
	assert_int_equal(trunktab_number_count(tt), 1);
	assert_int_equal(match_id(tt, "203.0.113.1"), b);
	assert_int_equal(trunktab_number(tt, "+4930123456", 11, &ni), 0);
	assert_int_equal(ni.trunk_id, 0);
}

/* Many numbers: the table grows and finds every one. */
static void
test_many_numbers(void **state)
{
	struct fixture *f = *state;
	struct trunktab *tt = f->tt;
	struct number_info ni;
	char e164[STORE_E164_MAX];
	int i;

	assert_int_equal(store_tx_begin(f->st), 0);
	for (i = 0; i < 3000; i++) {
		snprintf(e164, sizeof(e164), "+4930%07d", i);
		number_make(f->st, i % 2 ? f->t1 : f->t2, e164, "ext:1001", 0);
	}
	assert_int_equal(store_tx_commit(f->st), 0);
	assert_int_equal(trunktab_load_all(tt, f->st), 0);
	assert_int_equal(trunktab_number_count(tt), 3000);
	for (i = 0; i < 3000; i++) {
		snprintf(e164, sizeof(e164), "4930%07d", i);
		assert_int_equal(
		    trunktab_number(tt, e164, strlen(e164), &ni), 0);
		assert_int_equal(ni.tenant_id, i % 2 ? f->t1 : f->t2);
	}
	/* One at a time, as the change log does, also grows it. */
	assert_int_equal(trunktab_load_all(tt, f->st), 0);
	for (i = 0; i < 600; i++) {
		int64_t id;

		snprintf(e164, sizeof(e164), "+4940%07d", i);
		id = number_make(f->st, f->t1, e164, "ext:1002", 0);
		assert_int_equal(trunktab_load_number(tt, f->st, id), 0);
	}
	assert_int_equal(trunktab_number_count(tt), 3600);
	assert_int_equal(trunktab_number(tt, "+49400000599", 12, &ni), 0);
	assert_string_equal(ni.ext, "1002");
}

/* ---- threads ---- */

struct reader {
	struct trunktab *tt;
	atomic_bool *stop;
	int64_t a_id;
	unsigned long lookups, found;
	int bad;
};

/* Looks up while the main thread reloads: every answer is either
 * "none" or exactly what the store says. */
static void *
reader_main(void *arg)
{
	struct reader *r = arg;
	struct sockaddr_storage in = src("192.0.2.9"),
	                        mapped = src("::ffff:192.0.2.9");
	struct trunk_info ti;
	struct number_info ni;

	while (!atomic_load(r->stop)) {
		int rc = trunktab_match_source(
		    r->tt, r->lookups % 2 ? &in : &mapped, &ti);

		if (rc == 0) {
			r->found++;
			if (ti.id != r->a_id || strcmp(ti.name, "a") != 0 ||
			    ti.prefix != 24)
				r->bad++;
		} else if (rc != ENOENT) {
			r->bad++;
		}
		rc = trunktab_number(r->tt, "+4930123456", 11, &ni);
		if (rc == 0) {
			r->found++;
			if (strcmp(ni.ext, "1001") != 0 ||
			    strcmp(ni.e164, "+4930123456") != 0)
				r->bad++;
		} else if (rc != ENOENT) {
			r->bad++;
		}
		r->lookups++;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	enum { READERS = 4 };
	struct fixture *f = *state;
	struct reader r[READERS];
	pthread_t th[READERS];
	atomic_bool stop = false;
	struct store_trunk row;
	int64_t a, n, deadline;
	int i, round = 0;

	a = trunk_make(f->st, f->t1, "a", "192.0.2.0/24", 1);
	n = number_make(f->st, f->t1, "+4930123456", "ext:1001", a);
	for (i = 0; i < 50; i++) {
		char e[STORE_E164_MAX];

		snprintf(e, sizeof(e), "+4989%06d", i);
		number_make(f->st, f->t2, e, "ext:200", 0);
	}
	assert_int_equal(trunktab_load_all(f->tt, f->st), 0);
	assert_int_equal(store_trunk_get_by_id(f->st, a, &row), 0);
	for (i = 0; i < READERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].tt = f->tt;
		r[i].stop = &stop;
		r[i].a_id = a;
		assert_int_equal(
		    pthread_create(&th[i], NULL, reader_main, &r[i]), 0);
	}
	deadline = util_now_us() + 700000;
	while (util_now_us() < deadline) {
		switch (round++ % 4) {
		case 0:
			row.enabled = !row.enabled;
			assert_int_equal(store_trunk_update(f->st, &row), 0);
			assert_int_equal(
			    trunktab_load_trunk(f->tt, f->st, a), 0);
			break;
		case 1:
			assert_int_equal(store_number_remove(f->st, n), 0);
			assert_int_equal(
			    trunktab_load_number(f->tt, f->st, n), 0);
			n = number_make(
			    f->st, f->t1, "+4930123456", "ext:1001", 0);
			assert_int_equal(
			    trunktab_load_number(f->tt, f->st, n), 0);
			break;
		default:
			assert_int_equal(trunktab_load_all(f->tt, f->st), 0);
		}
	}
	atomic_store(&stop, true);
	for (i = 0; i < READERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(r[i].bad, 0);
		assert_true(r[i].lookups > 0);
		assert_true(r[i].found > 0);
	}
	assert_true(round > 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr_check),
	    cmocka_unit_test(test_e164_normalize),
	    cmocka_unit_test_setup_teardown(
	        test_match, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_numbers, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reload, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_many_numbers, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_threads, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
