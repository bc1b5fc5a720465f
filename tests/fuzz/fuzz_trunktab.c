/* fuzz_trunktab.c: libFuzzer target for the parts of the trunk and number
 * table (src/call/trunktab.c) that see what a carrier sends: the called
 * number of a Request-URI (trunktab_e164_normalize, trunktab_number), the
 * source address (trunktab_match_source, _match_tenant, _trunk_match) and
 * the network policy on any CIDR list config_cidrs_parse accepts
 * (trunktab_cidr_check). The table is loaded once from a throwaway SQLite
 * store; every answer is checked against a reference written here, and
 * any difference aborts. */
#include "call/trunktab.h"
#include "core/config.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports the broken invariant and aborts (libFuzzer keeps the input). */
static void
ft_fail(const char *what, int line)
{
	fprintf(
	    stderr, "fuzz_trunktab.c:%d: invariant broken: %s\n", line, what);
	abort();
}

#define check(e) ((e) ? (void)0 : ft_fail(#e, __LINE__))

/* ---- the table and what it must hold ---- */

enum { FT_TENANTS = 2, FT_NUMBERS = 40, FT_CIDRS_MAX = 4 };

/* A trunk as stored, and the networks the table must keep of it. */
struct ft_trunk {
	int tenant; /* index into ft_tenant_id; -1: shared */
	const char *addresses;
	bool enabled;
	const char *usable[FT_CIDRS_MAX]; /* NULL-terminated */
	int64_t id;
	struct config_cidr cidr[FT_CIDRS_MAX];
	size_t ncidr;
};

static struct ft_trunk ft_trunks[] = {
    {0, "192.0.2.0/24, 2001:db8::/32, 10.1.0.0/16, 0.0.0.0/0, ::ffff:0:0/96",
        true, {"192.0.2.0/24", "2001:db8::/32", "10.1.0.0/16", NULL}, 0, {{0}},
        0},
    {1, "192.0.2.128/25, 2001:db8:1::/48, ::/0", true,
        {"192.0.2.128/25", "2001:db8:1::/48", NULL}, 0, {{0}}, 0},
    {-1, "198.51.100.0/24, 10.1.2.0/24, 192.0.2.128/25", true,
        {"198.51.100.0/24", "10.1.2.0/24", "192.0.2.128/25", NULL}, 0, {{0}},
        0},
    {0, "203.0.113.0/24", false, {NULL}, 0, {{0}}, 0},
    {1, "10.0.0.0/8, ::/16, ::ffff:10.0.0.0/104", true, {NULL}, 0, {{0}}, 0},
};

/* A number as the table must hold it (e164 canonical). */
struct ft_number {
	char e164[STORE_E164_MAX];
	char ext[STORE_EXT_MAX];
	int64_t tenant_id, trunk_id;
	bool routable; /* destination is an extension */
};

static struct trunktab *ft_tab;
static int64_t ft_tenant_id[FT_TENANTS];
static struct ft_number ft_numbers[FT_NUMBERS];
static size_t ft_nnumbers;

static void
ft_rmdir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Stores number i under the text stored (a canonical or a digits-only
 * form) and records what the table must make of it. */
static void
ft_number_add(struct store *st, const char *stored, const char *canonical,
    const char *dest, int tenant, int64_t trunk_id)
{
	struct store_number n;
	struct ft_number *f = &ft_numbers[ft_nnumbers++];

	check(ft_nnumbers <= FT_NUMBERS);
	memset(&n, 0, sizeof(n));
	n.tenant_id = ft_tenant_id[tenant];
	n.trunk_id = trunk_id;
	snprintf(n.e164, sizeof(n.e164), "%s", stored);
	snprintf(n.destination, sizeof(n.destination), "%s", dest);
	check(store_number_add(st, &n) == 0);
	snprintf(f->e164, sizeof(f->e164), "%s", canonical);
	f->tenant_id = n.tenant_id;
	f->trunk_id = trunk_id;
	f->routable = strncmp(dest, "ext:", 4) == 0;
	if (f->routable)
		snprintf(f->ext, sizeof(f->ext), "%s", dest + 4);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_trunktab_XXXXXX", url[128], err[256];
	char why[256], e164[STORE_E164_MAX], ext[STORE_EXT_MAX];
	size_t i, j, trunks = 0, routable = 0;
	struct store *st = NULL;
	int k;

	(void)argc;
	(void)argv;
	check(mkdtemp(dir) != NULL);
	snprintf(url, sizeof(url), "sqlite:%s/t.db", dir);
	if (store_open(url, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	for (k = 0; k < FT_TENANTS; k++) {
		struct store_tenant t;

		memset(&t, 0, sizeof(t));
		snprintf(t.name, sizeof(t.name), "tenant%d", k);
		snprintf(t.domain, sizeof(t.domain), "t%d.example", k);
		snprintf(t.timezone, sizeof(t.timezone), "UTC");
		snprintf(t.currency, sizeof(t.currency), "EUR");
		check(store_tenant_add(st, &t) == 0);
		ft_tenant_id[k] = t.id;
	}
	for (i = 0; i < sizeof(ft_trunks) / sizeof(ft_trunks[0]); i++) {
		struct ft_trunk *f = &ft_trunks[i];
		struct store_trunk t;

		memset(&t, 0, sizeof(t));
		t.tenant_id = f->tenant < 0 ? 0 : ft_tenant_id[f->tenant];
		snprintf(t.name, sizeof(t.name), "trunk%zu", i);
		snprintf(t.host, sizeof(t.host), "sip%zu.carrier.example", i);
		snprintf(t.addresses, sizeof(t.addresses), "%s", f->addresses);
		t.enabled = f->enabled;
		check(store_trunk_add(st, &t) == 0);
		f->id = t.id;
		for (j = 0; f->usable[j] != NULL; j++) {
			size_t n = 0;

			check(config_cidrs_parse(f->usable[j], &f->cidr[j], 1,
			          &n, why, sizeof(why)) == 0 &&
			      n == 1);
		}
		f->ncidr = j;
		trunks += j > 0;
	}
	/* Numbers with a trunk of their tenant, a shared one or none, the
	 * shortest and longest, two stored without '+' and two that are not
	 * extensions. */
	for (k = 0; k < 30; k++) {
		int64_t trunk = k % 3 == 0   ? ft_trunks[k % 2].id
		                : k % 3 == 1 ? ft_trunks[2].id
		                             : 0;

		snprintf(e164, sizeof(e164), "+4930100000%02d", k);
		snprintf(ext, sizeof(ext), "ext:1%02d", k);
		ft_number_add(st, e164, e164, ext, k % 2, trunk);
	}
	ft_number_add(st, "+1234567", "+1234567", "ext:77", 0, 0);
	ft_number_add(st, "+123456789012345", "+123456789012345", "ext:15", 1,
	    ft_trunks[1].id);
	ft_number_add(st, "4930200000", "+4930200000", "ext:200", 0, 0);
	ft_number_add(st, "00442079460000", "+442079460000", "ext:44", 1, 0);
	ft_number_add(st, "+4930300000", "+4930300000", "ivr:main", 0, 0);
	ft_number_add(st, "+4930400000", "+4930400000", "voicemail:1", 1, 0);
	check(trunktab_new(&ft_tab) == 0);
	check(trunktab_load_all(ft_tab, st) == 0);
	store_close(st);
	ft_rmdir(dir);
	for (i = 0; i < ft_nnumbers; i++)
		routable += ft_numbers[i].routable;
	check(trunktab_trunk_count(ft_tab) == trunks);
	check(trunktab_number_count(ft_tab) == routable);
	return 0;
}

/* ---- references ---- */

static bool
ft_is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* The E.164 rules of trunktab.h, written again: "+D...", "00D..." or
 * "D...", 7..15 digits, the first 1-9. */
static bool
ft_e164_ref(const uint8_t *s, size_t len, char out[STORE_E164_MAX])
{
	size_t skip = 0, i;

	if (len > 0 && s[0] == '+')
		skip = 1;
	else if (len > 1 && s[0] == '0' && s[1] == '0')
		skip = 2;
	if (len - skip < TRUNKTAB_E164_DIGITS_MIN ||
	    len - skip > TRUNKTAB_E164_DIGITS_MAX || s[skip] == '0')
		return false;
	for (i = skip; i < len; i++)
		if (!ft_is_digit(s[i]))
			return false;
	out[0] = '+';
	for (i = skip; i < len; i++)
		out[1 + i - skip] = (char)s[i];
	out[1 + len - skip] = '\0';
	return true;
}

/* A well-formed canonical number: '+', 7..15 digits, the first 1-9. */
static bool
ft_e164_canonical(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 + TRUNKTAB_E164_DIGITS_MIN ||
	    n > 1 + TRUNKTAB_E164_DIGITS_MAX || s[0] != '+' || s[1] < '1' ||
	    s[1] > '9')
		return false;
	for (i = 1; i < n; i++)
		if (!ft_is_digit((unsigned char)s[i]))
			return false;
	return true;
}

static const struct ft_number *
ft_number_find(const char *e164)
{
	size_t i;

	for (i = 0; i < ft_nnumbers; i++)
		if (ft_numbers[i].routable &&
		    strcmp(ft_numbers[i].e164, e164) == 0)
			return &ft_numbers[i];
	return NULL;
}

/* Bit i (0: the most significant) of a. */
static unsigned
ft_bit(const unsigned char *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1u;
}

/* True when the first n bits of a and b agree. */
static bool
ft_bits_equal(const unsigned char *a, const unsigned char *b, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (ft_bit(a, i) != ft_bit(b, i))
			return false;
	return true;
}

static const unsigned char ft_v4mapped[16] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};

/* The network policy of trunktab.h, written again. */
static bool
ft_cidr_ok_ref(const struct config_cidr *c)
{
	unsigned n;

	if (c->family == AF_INET)
		return c->prefix >= TRUNKTAB_V4_PREFIX_MIN;
	if (c->family != AF_INET6 || c->prefix < TRUNKTAB_V6_PREFIX_MIN)
		return false;
	n = c->prefix < 96 ? c->prefix : 96;
	return !ft_bits_equal(c->addr, ft_v4mapped, n);
}

/* The longest network of trunk f holding the address (family AF_INET with
 * 4 bytes, or AF_INET6 with 16 not IPv4-mapped), or -1. */
static int
ft_trunk_prefix(const struct ft_trunk *f, int family, const unsigned char *a)
{
	int best = -1;
	size_t i;

	for (i = 0; i < f->ncidr; i++)
		if (f->cidr[i].family == family &&
		    (int)f->cidr[i].prefix > best &&
		    ft_bits_equal(f->cidr[i].addr, a, f->cidr[i].prefix))
			best = (int)f->cidr[i].prefix;
	return best;
}

/* The trunk the table must pick for the address among those of tenant
 * (-2: any; -1: the shared ones only), or NULL; *prefix its network. */
static const struct ft_trunk *
ft_match_ref(int tenant, int family, const unsigned char *a, int *prefix)
{
	const struct ft_trunk *best = NULL;
	size_t i;

	*prefix = -1;
	for (i = 0; i < sizeof(ft_trunks) / sizeof(ft_trunks[0]); i++) {
		const struct ft_trunk *f = &ft_trunks[i];
		int p;

		if (tenant != -2 && f->tenant != -1 && f->tenant != tenant)
			continue;
		p = ft_trunk_prefix(f, family, a);
		if (p > *prefix ||
		    (p == *prefix && p >= 0 && f->id < best->id)) {
			*prefix = p;
			best = f;
		}
	}
	return best;
}

/* ---- the checks ---- */

/* The input as the user part of a Request-URI. */
static void
ft_number_check(const uint8_t *data, size_t size)
{
	char out[STORE_E164_MAX], again[STORE_E164_MAX], ref[STORE_E164_MAX];
	char sentinel[STORE_E164_MAX];
	const struct ft_number *want;
	struct number_info ni;
	bool ok;
	int r;

	memset(out, 0x5a, sizeof(out));
	memset(sentinel, 0x5a, sizeof(sentinel));
	r = trunktab_e164_normalize((const char *)data, size, out);
	ok = ft_e164_ref(data, size, ref);
	check(r == 0 || r == EINVAL);
	check((r == 0) == ok);
	if (r != 0) {
		check(memcmp(out, sentinel, sizeof(out)) == 0); /* untouched */
		check(trunktab_number(ft_tab, (const char *)data, size, &ni) ==
		      EINVAL);
		return;
	}
	check(memchr(out, '\0', sizeof(out)) != NULL);
	check(ft_e164_canonical(out));
	check(strcmp(out, ref) == 0);
	/* normalising the result again changes nothing */
	check(trunktab_e164_normalize(out, strlen(out), again) == 0);
	check(strcmp(again, out) == 0);

	want = ft_number_find(out);
	memset(&ni, 0, sizeof(ni));
	r = trunktab_number(ft_tab, (const char *)data, size, &ni);
	if (want == NULL) {
		check(r == ENOENT);
	} else {
		check(r == 0);
		check(strcmp(ni.e164, want->e164) == 0);
		check(strcmp(ni.ext, want->ext) == 0);
		check(ni.tenant_id == want->tenant_id);
		check(ni.trunk_id == want->trunk_id);
		check(ni.id > 0);
	}
	/* the canonical form finds the same */
	check(trunktab_number(ft_tab, out, strlen(out), &ni) == r);
}

/* One lookup of the table against the reference: tenant as
 * ft_match_ref takes it. */
static void
ft_match_one(int tenant, const struct sockaddr_storage *ss, int family,
    const unsigned char *a)
{
	const struct ft_trunk *want;
	struct trunk_info ti;
	int prefix, r;
	size_t i;

	want = ft_match_ref(tenant, family, a, &prefix);
	memset(&ti, 0, sizeof(ti));
	if (tenant == -2)
		r = trunktab_match_source(ft_tab, ss, &ti);
	else
		r = trunktab_match_tenant(
		    ft_tab, tenant < 0 ? 0 : ft_tenant_id[tenant], ss, &ti);
	if (want == NULL || prefix < 0) {
		check(r == ENOENT);
	} else {
		check(r == 0);
		check(ti.id == want->id && ti.prefix == (unsigned)prefix);
		check(
		    ti.prefix >= (family == AF_INET ? TRUNKTAB_V4_PREFIX_MIN
		                                    : TRUNKTAB_V6_PREFIX_MIN));
	}
	if (tenant != -2)
		return;
	for (i = 0; i < sizeof(ft_trunks) / sizeof(ft_trunks[0]); i++) {
		int p = ft_trunk_prefix(&ft_trunks[i], family, a);

		r = trunktab_trunk_match(ft_tab, ft_trunks[i].id, ss, &ti);
		check(r == (p >= 0 ? 0 : ENOENT));
		check(r != 0 || ti.prefix == (unsigned)p);
	}
}

/* The first bytes of the input as a source address: data[0] picks IPv4,
 * IPv6, IPv4-mapped IPv6 or another family. */
static void
ft_source_check(const uint8_t *data, size_t size)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
	unsigned char a[16];
	struct trunk_info ti;
	int family, tenant;

	if (size < 1)
		return;
	memset(&ss, 0, sizeof(ss));
	memset(a, 0, sizeof(a));
	memcpy(a, data + 1, size - 1 < sizeof(a) ? size - 1 : sizeof(a));
	switch (data[0] % 4) {
	case 0:
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		family = AF_INET;
		break;
	case 1:
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		family = memcmp(a, ft_v4mapped, 12) == 0 ? AF_INET : AF_INET6;
		if (family == AF_INET)
			memmove(a, a + 12, 4);
		break;
	case 2:
		s6->sin6_family = AF_INET6;
		memcpy(s6->sin6_addr.s6_addr, ft_v4mapped, 12);
		memcpy(s6->sin6_addr.s6_addr + 12, a, 4);
		family = AF_INET;
		break;
	default:
		ss.ss_family = AF_UNIX;
		check(trunktab_match_source(ft_tab, &ss, &ti) == EINVAL);
		check(trunktab_match_tenant(ft_tab, 0, &ss, &ti) == EINVAL);
		check(trunktab_trunk_match(
		          ft_tab, ft_trunks[0].id, &ss, NULL) == EINVAL);
		return;
	}
	for (tenant = -2; tenant < FT_TENANTS; tenant++)
		ft_match_one(tenant, &ss, family, a);
	check(trunktab_match_tenant(ft_tab, -1, &ss, &ti) == EINVAL);
}

/* The input as a list of networks, as `sipwarden trunk` reads one. */
static void
ft_cidrs_check(const uint8_t *data, size_t size)
{
	struct config_cidr c[CONFIG_CIDR_MAX], back;
	char why[256], buf[CONFIG_ADDR_STRLEN], *s;
	size_t n = 0, m, i;

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (config_cidrs_parse(s, c, CONFIG_CIDR_MAX, &n, why, sizeof(why)) !=
	    0)
		n = 0;
	free(s);
	for (i = 0; i < n; i++) {
		const char *bad = trunktab_cidr_check(&c[i]);

		check((bad == NULL) == ft_cidr_ok_ref(&c[i]));
		check(bad == NULL || bad[0] != '\0');
		/* the printed form reads back as the same network */
		config_cidr_fmt(&c[i], buf, sizeof(buf));
		m = 0;
		check(config_cidrs_parse(buf, &back, 1, &m, why, sizeof(why)) ==
		      0);
		check(m == 1 && back.family == c[i].family &&
		      back.prefix == c[i].prefix &&
		      memcmp(back.addr, c[i].addr, sizeof(back.addr)) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ft_number_check(data, size);
	ft_source_check(data, size);
	ft_cidrs_check(data, size);
	return 0;
}
