/* ban.c: `sipwarden ban list|add|remove`: the guard's bans as the store
 * keeps them (shared by every node). A ban covers a source: an IPv4
 * address, or the /64 of an IPv6 address, as the guard counts them.
 *
 * add and remove write the ban and a "ban" row of the change log in one
 * transaction; a running daemon reads the row back within a second and
 * bans (guard_ban) or lifts (guard_unban) the source. remove does not
 * delete the row: it ends the ban now (expires_us = now, offences
 * forgotten), so every node sees the change; the daemon deletes rows a
 * day after their ban ended. */
#include "cli/cli.h"
#include "guard/guard.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	BAN_FOR_MIN_S = 1,              /* --for at least */
	BAN_FOR_MAX_S = 365 * 86400,    /* --for at most ([guard] ban's max) */
	BAN_FOR_DIGITS_MAX = 100000000, /* before the unit */
	BAN_REASON_MAX = GUARD_REASON_MAX, /* bytes of --reason */
	BAN_ROWS_MAX = 1 << 22,            /* rows a list holds at most */
};

static const char ban_help[] =
    "usage: sipwarden -c CONF ban COMMAND ...\n"
    "\n"
    "  list [--json]\n"
    "      the bans in force: source, until, offences, manual or automatic\n"
    "  add ADDRESS [--for DURATION] [--reason TEXT] [--json]\n"
    "      bans an IPv4 address, or the /64 of an IPv6 address, for\n"
    "      DURATION (30s, 5m, 1h, 7d; default [guard] ban); refused for\n"
    "      an address in [guard] allow\n"
    "  remove ADDRESS [--json]\n"
    "      lifts the ban of ADDRESS (exit 1 when there is none) and forgets\n"
    "      its repeat offences\n"
    "\n"
    "A running daemon applies add and remove within a second.\n";

/* A source as the guard keys it: an IPv4 address (prefix 32), or an IPv6
 * /64 (prefix 64, the last 8 bytes zero). */
struct ban_key {
	int family;
	unsigned char addr[16];
	unsigned prefix;
};

/* A stored ban and its source's key. */
struct ban_row {
	struct ban_key k;
	struct store_ban b;
};

struct ban_rows {
	struct ban_row *v;
	size_t n, cap;
	int err;
};

/* Parses an address given by an operator or stored: "192.0.2.7",
 * "192.0.2.7/32", "2001:db8::5", "2001:db8::/64" (an IPv4-mapped IPv6
 * address is its IPv4 address). Returns NULL and fills *k, or the reason
 * it is not a source. */
static const char *
ban_key_parse(const char *s, struct ban_key *k)
{
	static const unsigned char v4mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct ban_key out;
	uint64_t prefix = 0;
	bool v6;

	memset(&out, 0, sizeof(out));
	if (alen == 0 || alen >= sizeof(a))
		return "not an IPv4 or IPv6 address";
	memcpy(a, s, alen);
	a[alen] = '\0';
	v6 = memchr(a, ':', alen) != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, a, out.addr) != 1)
		return "not an IPv4 or IPv6 address";
	if (slash != NULL &&
	    util_u64_parse(slash + 1, strlen(slash + 1), 128, &prefix) != 0)
		return "the prefix length is not a number up to 128";
	if (v6 && memcmp(out.addr, v4mapped, sizeof(v4mapped)) == 0) {
		if (slash != NULL)
			return "an IPv4-mapped address takes no prefix length";
		memmove(out.addr, out.addr + 12, 4);
		memset(out.addr + 4, 0, 12);
		v6 = false;
	}
	out.family = v6 ? AF_INET6 : AF_INET;
	out.prefix = v6 ? 64 : 32;
	if (slash != NULL && prefix != out.prefix)
		return v6 ? "an IPv6 ban covers a /64: give an address or "
		            "ADDRESS/64"
		          : "an IPv4 ban covers one address: give an address "
		            "or ADDRESS/32";
	if (v6) {
		static const unsigned char zero[16];

		/* "::" is no source; "::/64" is the /64 of ::1 */
		if (slash == NULL && memcmp(out.addr, zero, sizeof(zero)) == 0)
			return "the unspecified address is no source";
		if (out.addr[0] == 0xff)
			return "a multicast address is no source";
		memset(out.addr + 8, 0, 8);
	} else {
		if (out.addr[0] >= 224)
			return "a multicast or reserved address is no source";
		if (out.addr[0] == 0)
			return "0.0.0.0/8 is no source";
	}
	*k = out;
	return NULL;
}

/* "192.0.2.7" or "2001:db8:1:2::" into buf (INET6_ADDRSTRLEN bytes). */
static const char *
ban_key_fmt(const struct ban_key *k, char *buf, size_t size)
{
	if (inet_ntop(k->family, k->addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

/* "192.0.2.7/32" or "2001:db8:1:2::/64". */
static const char *
ban_key_fmt_prefix(const struct ban_key *k, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, size, "%s/%u", ban_key_fmt(k, a, sizeof(a)), k->prefix);
	return buf;
}

static int
ban_key_cmp(const struct ban_key *a, const struct ban_key *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* True when the source k and the block c share an address. */
static bool
ban_key_overlaps(const struct ban_key *k, const struct config_cidr *c)
{
	unsigned bits = c->prefix < k->prefix ? c->prefix : k->prefix;
	unsigned full = bits / 8, rest = bits % 8;

	if (k->family != c->family)
		return false;
	if (memcmp(k->addr, c->addr, full) != 0)
		return false;
	return rest == 0 || ((k->addr[full] ^ c->addr[full]) &
	                        (unsigned char)(0xff00u >> rest)) == 0;
}

/* Parses "30s", "5m", "1h" or "7d" into seconds. Returns NULL or why. */
static const char *
ban_duration_parse(const char *v, int64_t *secs)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	size_t len = strlen(v), i;
	uint64_t n;
	int err;

	for (i = 0; len >= 2 && i < ARRAY_LEN(units); i++)
		if (v[len - 1] == units[i].unit)
			break;
	if (len < 2 || i == ARRAY_LEN(units) ||
	    (err = util_u64_parse(v, len - 1, BAN_FOR_DIGITS_MAX, &n)) ==
	        EINVAL)
		return "not a duration (use 30s, 5m, 1h, 7d)";
	if (err != 0 || n * units[i].secs < BAN_FOR_MIN_S ||
	    n * units[i].secs > BAN_FOR_MAX_S)
		return "out of range (1s..365d)";
	*secs = (int64_t)(n * units[i].secs);
	return NULL;
}

/* Seconds as "7d", "1h", "5m" or "90s". */
static const char *
ban_duration_fmt(int64_t secs, char *buf, size_t size)
{
	if (secs != 0 && secs % 86400 == 0)
		snprintf(buf, size, "%" PRId64 "d", secs / 86400);
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(buf, size, "%" PRId64 "h", secs / 3600);
	else if (secs != 0 && secs % 60 == 0)
		snprintf(buf, size, "%" PRId64 "m", secs / 60);
	else
		snprintf(buf, size, "%" PRId64 "s", secs);
	return buf;
}

static int
ban_rows_cb(void *arg, const struct store_ban *b)
{
	struct ban_rows *r = arg;
	struct ban_key k;

	if (ban_key_parse(b->source, &k) != NULL)
		return 0; /* not a source we know how to read: skip it */
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct ban_row *v;

		if (cap > BAN_ROWS_MAX ||
		    (v = realloc(r->v, cap * sizeof(*v))) == NULL) {
			r->err = ENOMEM;
			return ENOMEM;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n].k = k;
	r->v[r->n].b = *b;
	r->n++;
	return 0;
}

/* By source, then the latest end first. */
static int
ban_row_cmp(const void *x, const void *y)
{
	const struct ban_row *a = x, *b = y;
	int c = ban_key_cmp(&a->k, &b->k);

	if (c != 0)
		return c;
	if (a->b.expires_us != b->b.expires_us)
		return a->b.expires_us > b->b.expires_us ? -1 : 1;
	return a->b.id < b->b.id ? -1 : a->b.id > b->b.id;
}

/* Reads the bans in force at now into r (the caller frees r->v), one per
 * source: rows of one /64 (the guard stores a peer's full IPv6 address)
 * become the one that ends last, with the most offences of them. Returns
 * 0, ENOMEM or the store's error. */
static int
ban_rows_load(struct cli *c, int64_t now, struct ban_rows *r)
{
	size_t i, o = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = store_ban_list_active(c->st, now, ban_rows_cb, r)) != 0)
		return r->err ? r->err : rc;
	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), ban_row_cmp);
	for (i = 0; i < r->n; i++) {
		if (o > 0 && ban_key_cmp(&r->v[o - 1].k, &r->v[i].k) == 0) {
			if (r->v[i].b.offences > r->v[o - 1].b.offences)
				r->v[o - 1].b.offences = r->v[i].b.offences;
			continue;
		}
		r->v[o++] = r->v[i];
	}
	r->n = o;
	return 0;
}

static json_t *
ban_json(const struct ban_key *k, const struct store_ban *b)
{
	char a[INET6_ADDRSTRLEN], reason[STORE_TEXT_MAX];

	snprintf(reason, sizeof(reason), "%s", b->reason);
	util_utf8_sanitize(reason);
	return json_pack("{s:s, s:I, s:o, s:o, s:I, s:s, s:b, s:s}", "source",
	    ban_key_fmt(k, a, sizeof(a)), "prefix", (json_int_t)k->prefix,
	    "until", cli_json_time(b->expires_us), "created",
	    cli_json_time(b->created_us), "offences", (json_int_t)b->offences,
	    "reason", reason, "manual", b->manual, "node", b->node);
}

static int
ban_list(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1];
	struct ban_rows r;
	size_t npos, i;
	int rc;

	if ((rc = cli_args("ban list", argc, argv, o, 1, pos, 0, 0, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	if ((rc = ban_rows_load(c, util_now_us(), &r)) != 0) {
		free(r.v);
		if (rc == ENOMEM)
			return cli_fail(EXIT_FAILED, "ban list: out of memory");
		return cli_fail(
		    EXIT_FAILED, "ban list: store: %s", store_errmsg(c->st));
	}
	if (o[0].set) {
		json_t *arr = json_array();

		for (i = 0; i < r.n; i++)
			json_array_append_new(
			    arr, ban_json(&r.v[i].k, &r.v[i].b));
		cli_json_print(arr);
	} else {
		printf("%-44s %-20s %8s  %-9s %s\n", "SOURCE", "UNTIL",
		    "OFFENCES", "KIND", "REASON");
		for (i = 0; i < r.n; i++) {
			char src[INET6_ADDRSTRLEN + 8], until[32];

			printf("%-44s %-20s %8" PRId64 "  %-9s %s\n",
			    ban_key_fmt_prefix(&r.v[i].k, src, sizeof(src)),
			    util_rfc3339(
			        r.v[i].b.expires_us, until, sizeof(until)),
			    r.v[i].b.offences,
			    r.v[i].b.manual ? "manual" : "automatic",
			    r.v[i].b.reason);
		}
	}
	free(r.v);
	return EXIT_OK;
}

/* Finds the ban in force of k among r. Returns its index or r->n. */
static size_t
ban_rows_find(const struct ban_rows *r, const struct ban_key *k)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (ban_key_cmp(&r->v[i].k, k) == 0)
			return i;
	return r->n;
}

static int
ban_add(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--for", true, false, NULL},
	    {"--reason", true, false, NULL}, {"--json", false, false, NULL}};
	const char *pos[1], *why, *cmd = "ban add";
	char src[INET6_ADDRSTRLEN + 8], until[32], dur[24],
	    cf[CONFIG_ADDR_STRLEN];
	char detail[STORE_TEXT_MAX];
	struct ban_rows r = {NULL, 0, 0, 0};
	struct store_ban b;
	struct ban_key k;
	int64_t secs = 0, now;
	size_t npos, i;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 3, pos, 1, 1, &npos)))
		return rc;
	if ((why = ban_key_parse(pos[0], &k)) != NULL)
		return cli_fail(
		    EXIT_USAGE, "%s: ADDRESS \"%s\": %s", cmd, pos[0], why);
	if (o[0].set && (why = ban_duration_parse(o[0].val, &secs)) != NULL)
		return cli_fail(
		    EXIT_USAGE, "%s: --for \"%s\": %s", cmd, o[0].val, why);
	if (o[1].set) {
		size_t len = strlen(o[1].val);

		if (len == 0 || len > BAN_REASON_MAX)
			return cli_fail(EXIT_USAGE,
			    "%s: --reason: must be 1 to %d bytes", cmd,
			    BAN_REASON_MAX);
		if (!util_utf8_printable(o[1].val, len))
			return cli_fail(EXIT_USAGE,
			    "%s: --reason: must be UTF-8 text without control "
			    "characters",
			    cmd);
	}
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	ban_key_fmt_prefix(&k, src, sizeof(src));
	for (i = 0; i < c->cfg->guard_allow_n; i++)
		if (ban_key_overlaps(&k, &c->cfg->guard_allow[i]))
			return cli_fail(EXIT_USAGE,
			    "%s: ADDRESS \"%s\": %s is in [guard] allow (%s): "
			    "allow-listed sources are never banned",
			    cmd, pos[0], src,
			    config_cidr_fmt(
			        &c->cfg->guard_allow[i], cf, sizeof(cf)));
	if (!o[0].set)
		secs = c->cfg->guard_ban_us / 1000000;
	now = util_now_us();
	memset(&b, 0, sizeof(b));
	if (k.family == AF_INET)
		ban_key_fmt(&k, b.source, sizeof(b.source));
	else
		snprintf(b.source, sizeof(b.source), "%s", src);
	snprintf(b.reason, sizeof(b.reason), "%s",
	    o[1].set ? o[1].val : "manual ban");
	snprintf(b.node, sizeof(b.node), "%s", c->cfg->node);
	b.created_us = now;
	b.expires_us = now + secs * 1000000;
	b.manual = true;
	util_rfc3339(b.expires_us, until, sizeof(until));
	snprintf(detail, sizeof(detail), "until %s (%s): %.*s", until,
	    ban_duration_fmt(secs, dur, sizeof(dur)), (int)BAN_REASON_MAX,
	    b.reason);

	if ((rc = store_tx_begin(c->st)) != 0)
		goto out;
	if ((rc = ban_rows_load(c, now, &r)) == 0 &&
	    (i = ban_rows_find(&r, &k)) < r.n) {
		util_rfc3339(r.v[i].b.expires_us, until, sizeof(until));
		rc = EEXIST;
	}
	if (rc == 0)
		rc = store_ban_upsert(c->st, &b);
	if (rc == 0)
		rc = store_change_add(c->st, 0, "ban", b.id, "add");
	if (rc == 0)
		rc = cli_audit(c, 0, "ban.add", src, detail);
	if (rc != 0)
		store_tx_rollback(c->st);
	else
		rc = store_tx_commit(c->st);
out:
	free(r.v);
	if (rc == EEXIST)
		return cli_fail(EXIT_FAILED,
		    "%s: %s is already banned until %s (ban remove it first)",
		    cmd, src, until);
	if (rc == ENOMEM)
		return cli_fail(EXIT_FAILED, "%s: out of memory", cmd);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if (o[2].set)
		cli_json_print(ban_json(&k, &b));
	else
		printf("%s banned %s\n", src, detail);
	return EXIT_OK;
}

static int
ban_remove(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1], *why, *cmd = "ban remove";
	char src[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN];
	struct ban_rows r = {NULL, 0, 0, 0};
	struct ban_key k;
	size_t npos, i, lifted = 0;
	int64_t now;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, 1, 1, &npos)))
		return rc;
	if ((why = ban_key_parse(pos[0], &k)) != NULL)
		return cli_fail(
		    EXIT_USAGE, "%s: ADDRESS \"%s\": %s", cmd, pos[0], why);
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	ban_key_fmt_prefix(&k, src, sizeof(src));
	now = util_now_us();
	if ((rc = store_tx_begin(c->st)) != 0)
		goto out;
	/* Every stored row of the source (one /64 may have several). */
	if ((rc = store_ban_list_active(c->st, now, ban_rows_cb, &r)) != 0)
		rc = r.err ? r.err : rc;
	for (i = 0; i < r.n && rc == 0; i++) {
		struct store_ban *b = &r.v[i].b;

		if (ban_key_cmp(&r.v[i].k, &k) != 0)
			continue;
		b->expires_us = now; /* ended: no longer in force */
		b->offences = 0;
		if ((rc = store_ban_update(c->st, b)) == 0)
			rc = store_change_add(c->st, 0, "ban", b->id, "remove");
		lifted++;
	}
	if (rc == 0 && lifted == 0)
		rc = ENOENT;
	if (rc == 0)
		rc = cli_audit(c, 0, "ban.remove", src, "");
	if (rc != 0)
		store_tx_rollback(c->st);
	else
		rc = store_tx_commit(c->st);
out:
	free(r.v);
	if (rc == ENOENT)
		return cli_fail(EXIT_FAILED, "%s: %s is not banned", cmd, src);
	if (rc == ENOMEM)
		return cli_fail(EXIT_FAILED, "%s: out of memory", cmd);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if (o[0].set)
		cli_json_print(json_pack("{s:s, s:I, s:b}", "source",
		    ban_key_fmt(&k, a, sizeof(a)), "prefix",
		    (json_int_t)k.prefix, "removed", 1));
	else
		printf("%s is no longer banned\n", src);
	return EXIT_OK;
}

static const struct cli_sub ban_subs[] = {
    {"list", ban_list},
    {"add", ban_add},
    {"remove", ban_remove},
};

int
cmd_ban(const char *conf, int argc, char **argv)
{
	return cli_dispatch(conf, "ban", ban_help, ban_subs,
	    sizeof(ban_subs) / sizeof(ban_subs[0]), argc, argv);
}
