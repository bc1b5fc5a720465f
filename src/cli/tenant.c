/* tenant.c: `sipwarden tenant add|list|show|set`. */
#include "cli/cli.h"
#include "core/names.h"
#include "core/settings.h"
#include "lib/util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char tenant_help[] =
    "usage: sipwarden -c CONF tenant COMMAND ...\n"
    "\n"
    "  add NAME --domain DOMAIN [--timezone TZ] [--currency CUR] [--json]\n"
    "      NAME: a slug [a-z0-9-]; DOMAIN: its SIP domain and digest realm\n"
    "      (defaults: timezone UTC, currency EUR)\n"
    "  list [--json]\n"
    "  show TENANT [--json]\n"
    "  set TENANT KEY=VALUE... [--json]\n"
    "      keys: domain, timezone, currency, srtp=required|optional,\n"
    "      digest=md5,sha256|sha256,md5|sha256|md5 (challenges, in order;\n"
    "      default md5: see README), allow=CIDR,... (the networks its\n"
    "      phones may come from, for the host firewall; empty: anywhere)\n";

static json_t *
tenant_json(const struct store_tenant *t)
{
	const struct settings_def *d;
	json_t *j, *s = json_object();
	char buf[STORE_SETTINGS_MAX];

	for (d = settings_defs; d->key != NULL; d++)
		if (d->scope == SETTINGS_TENANT)
			json_object_set_new(s, d->key,
			    json_string(settings_get(
			        t->settings, d, buf, sizeof(buf))));
	j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "name",
	    t->name, "domain", t->domain, "timezone", t->timezone, "currency",
	    t->currency, "extensions", (json_int_t)t->extensions, "settings", s,
	    "created", cli_json_time(t->created_us), "updated",
	    cli_json_time(t->updated_us));
	return j;
}

static void
tenant_print_row(const struct store_tenant *t)
{
	char srtp[32], digest[32], ts[32];

	settings_get(t->settings, settings_find(SETTINGS_TENANT, "srtp"), srtp,
	    sizeof(srtp));
	settings_get(t->settings, settings_find(SETTINGS_TENANT, "digest"),
	    digest, sizeof(digest));
	printf("%-20s %-30s %6lld  %-16s %-3s  %-8s %-10s %s\n", t->name,
	    t->domain, (long long)t->extensions, t->timezone, t->currency, srtp,
	    digest, util_rfc3339(t->created_us, ts, sizeof(ts)));
}

static int
tenant_add(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--domain", true, false, NULL},
	    {"--timezone", true, false, NULL},
	    {"--currency", true, false, NULL}, {"--json", false, false, NULL}};
	struct store_tenant t;
	const char *pos[1], *why;
	size_t npos;
	int rc;

	if ((rc = cli_args("tenant add", argc, argv, o, 4, pos, 1, 1, &npos)))
		return rc;
	if (!o[0].set)
		return cli_fail(EXIT_USAGE, "tenant add: --domain is required");
	if ((why = names_tenant_check(pos[0], strlen(pos[0]))))
		return cli_fail(
		    EXIT_USAGE, "tenant add: NAME \"%s\": %s", pos[0], why);
	if ((why = names_domain_check(o[0].val, strlen(o[0].val))))
		return cli_fail(EXIT_USAGE, "tenant add: --domain \"%s\": %s",
		    o[0].val, why);
	if (o[1].set &&
	    (why = names_timezone_check(o[1].val, strlen(o[1].val))))
		return cli_fail(EXIT_USAGE, "tenant add: --timezone \"%s\": %s",
		    o[1].val, why);
	if (o[2].set &&
	    (why = names_currency_check(o[2].val, strlen(o[2].val))))
		return cli_fail(EXIT_USAGE, "tenant add: --currency \"%s\": %s",
		    o[2].val, why);
	memset(&t, 0, sizeof(t));
	snprintf(t.name, sizeof(t.name), "%s", pos[0]);
	snprintf(t.domain, sizeof(t.domain), "%s", o[0].val);
	snprintf(
	    t.timezone, sizeof(t.timezone), "%s", o[1].set ? o[1].val : "UTC");
	snprintf(
	    t.currency, sizeof(t.currency), "%s", o[2].set ? o[2].val : "EUR");
	snprintf(t.settings, sizeof(t.settings), "{}");
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	if ((rc = store_tx_begin(c->st)) != 0)
		goto dberr;
	rc = store_tenant_add(c->st, &t);
	if (rc == 0)
		rc = cli_audit(c, t.id, "tenant.add", t.name, t.domain);
	if (rc != 0) {
		store_tx_rollback(c->st);
		if (rc == EEXIST) {
			struct store_tenant other;

			if (store_tenant_get(c->st, t.name, &other) == 0)
				return cli_fail(EXIT_FAILED,
				    "tenant add: tenant \"%s\" already "
				    "exists",
				    t.name);
			return cli_fail(EXIT_FAILED,
			    "tenant add: domain \"%s\" already belongs to "
			    "another tenant",
			    t.domain);
		}
		goto dberr;
	}
	if ((rc = store_tx_commit(c->st)) != 0)
		goto dberr;
	if (o[3].set)
		cli_json_print(tenant_json(&t));
	else
		printf("tenant %s added: SIP domain and realm %s\n", t.name,
		    t.domain);
	return EXIT_OK;
dberr:
	return cli_fail(
	    EXIT_FAILED, "tenant add: store: %s", store_errmsg(c->st));
}

static int
list_cb(void *arg, const struct store_tenant *t)
{
	json_t *arr = arg;

	if (arr != NULL)
		json_array_append_new(arr, tenant_json(t));
	else
		tenant_print_row(t);
	return 0;
}

static int
tenant_list(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1];
	json_t *arr = NULL;
	size_t npos;
	int rc;

	if ((rc = cli_args("tenant list", argc, argv, o, 1, pos, 0, 0, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	if (o[0].set)
		arr = json_array();
	else
		printf("%-20s %-30s %6s  %-16s %-3s  %-8s %-10s %s\n", "NAME",
		    "DOMAIN", "EXTS", "TIMEZONE", "CUR", "SRTP", "DIGEST",
		    "CREATED");
	if ((rc = store_tenant_list(c->st, list_cb, arr)) != 0) {
		json_decref(arr);
		return cli_fail(
		    EXIT_FAILED, "tenant list: store: %s", store_errmsg(c->st));
	}
	if (arr != NULL)
		cli_json_print(arr);
	return EXIT_OK;
}

static int
tenant_show(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	struct store_tenant t;
	const char *pos[1];
	size_t npos;
	int rc;

	if ((rc = cli_args("tenant show", argc, argv, o, 1, pos, 1, 1, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	if ((rc = cli_tenant_find(c, "tenant show", pos[0], &t)) != EXIT_OK)
		return rc;
	if (o[0].set) {
		cli_json_print(tenant_json(&t));
	} else {
		json_t *j = tenant_json(&t);
		char *s = json_dumps(j, JSON_INDENT(2));

		if (s)
			puts(s);
		free(s);
		json_decref(j);
	}
	return EXIT_OK;
}

/* Recomputes every extension's HA1 for a new realm (domain). */
static int
tenant_rehash(struct cli *c, const struct store_tenant *t)
{
	struct store_secret sec;
	struct store_ext e;
	int64_t after = 0;
	int rc = 0;

	/* Walk by extension id; each step opens one sealed password. */
	for (;;) {
		char pw[CRED_PASSWORD_MAX], md5[STORE_HASH_MAX],
		    sha[STORE_HASH_MAX];
		int64_t next;

		rc = store_ext_next_id(c->st, t->id, after, &next);
		if (rc == ENOENT)
			return 0;
		if (rc != 0)
			return rc;
		after = next;
		if ((rc = store_ext_get_by_id(c->st, next, &e)) != 0 ||
		    (rc = store_secret_get(c->st, next, &sec)) != 0)
			return rc;
		if ((rc = cred_secret_open(c->keys, &sec, pw, sizeof(pw))))
			return rc;
		rc = cred_ha1("md5", e.number, t->domain, pw, strlen(pw), md5);
		if (rc == 0)
			rc = cred_ha1(
			    "sha256", e.number, t->domain, pw, strlen(pw), sha);
		sodium_memzero(pw, sizeof(pw));
		if (rc == 0)
			rc = store_secret_set_ha1(c->st, next, md5, sha);
		if (rc != 0)
			return rc;
	}
}

static int
tenant_set(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	enum { SET_MAX = 16 };
	const char *pos[SET_MAX + 1], *why;
	struct store_tenant t;
	char detail[STORE_TEXT_MAX] = "", olddomain[STORE_DOMAIN_MAX];
	size_t npos, i;
	bool rehash = false;
	int rc;

	if ((rc = cli_args(
	         "tenant set", argc, argv, o, 1, pos, 2, SET_MAX + 1, &npos)))
		return rc;
	/* Check every KEY=VALUE before opening anything. */
	for (i = 1; i < npos; i++) {
		const char *eq = strchr(pos[i], '='), *v;
		size_t klen;

		if (eq == NULL || eq == pos[i])
			return cli_fail(EXIT_USAGE,
			    "tenant set: \"%s\" is not KEY=VALUE", pos[i]);
		klen = (size_t)(eq - pos[i]);
		v = eq + 1;
		if (klen == 6 && strncmp(pos[i], "domain", 6) == 0)
			why = names_domain_check(v, strlen(v));
		else if (klen == 8 && strncmp(pos[i], "timezone", 8) == 0)
			why = names_timezone_check(v, strlen(v));
		else if (klen == 8 && strncmp(pos[i], "currency", 8) == 0)
			why = names_currency_check(v, strlen(v));
		else {
			char key[32];
			const struct settings_def *d;

			snprintf(key, sizeof(key), "%.*s", (int)klen, pos[i]);
			if ((d = settings_find(SETTINGS_TENANT, key)) == NULL)
				return cli_fail(EXIT_USAGE,
				    "tenant set: unknown key \"%s\" (keys: "
				    "domain, timezone, currency, srtp, "
				    "digest, allow)",
				    key);
			why = d->check(v);
		}
		if (why != NULL)
			return cli_fail(EXIT_USAGE,
			    "tenant set: %.*s \"%s\": %s", (int)klen, pos[i], v,
			    why);
	}
	/* The key file is needed only to re-derive HA1 for a new domain. */
	for (i = 1; i < npos && !rehash; i++)
		rehash = strncmp(pos[i], "domain=", 7) == 0;
	if ((rc = cli_open(c, rehash)) != EXIT_OK)
		return rc;
	rehash = false;
	if ((rc = store_tx_begin(c->st)) != 0)
		goto dberr;
	if ((rc = store_tenant_get(c->st, pos[0], &t)) != 0) {
		store_tx_rollback(c->st);
		if (rc == ENOENT)
			return cli_fail(EXIT_FAILED,
			    "tenant set: no tenant \"%s\"", pos[0]);
		goto dberr;
	}
	snprintf(olddomain, sizeof(olddomain), "%s", t.domain);
	for (i = 1; i < npos && rc == 0; i++) {
		const char *eq = strchr(pos[i], '='), *v = eq + 1;
		size_t klen = (size_t)(eq - pos[i]);
		char key[32];

		snprintf(key, sizeof(key), "%.*s", (int)klen, pos[i]);
		if (strcmp(key, "domain") == 0) {
			snprintf(t.domain, sizeof(t.domain), "%s", v);
			rehash = strcmp(t.domain, olddomain) != 0;
		} else if (strcmp(key, "timezone") == 0) {
			snprintf(t.timezone, sizeof(t.timezone), "%s", v);
		} else if (strcmp(key, "currency") == 0) {
			snprintf(t.currency, sizeof(t.currency), "%s", v);
		} else {
			rc = settings_put(
			    t.settings, sizeof(t.settings), key, v);
		}
		if (strlen(detail) + strlen(pos[i]) + 2 < sizeof(detail)) {
			if (detail[0])
				strncat(detail, " ", 2);
			strncat(detail, pos[i],
			    sizeof(detail) - strlen(detail) - 1);
		}
	}
	if (rc == 0)
		rc = store_tenant_update(c->st, &t);
	if (rc == 0 && rehash)
		rc = tenant_rehash(c, &t);
	if (rc == 0)
		rc = cli_audit(c, t.id, "tenant.set", t.name, detail);
	if (rc != 0) {
		store_tx_rollback(c->st);
		if (rc == EEXIST)
			return cli_fail(EXIT_FAILED,
			    "tenant set: domain \"%s\" already belongs to "
			    "another tenant",
			    t.domain);
		if (rc == ENOKEY || rc == EBADMSG)
			return cli_fail(EXIT_FAILED,
			    "tenant set: a stored password cannot be opened "
			    "with %s (%s); nothing changed",
			    c->cfg->secret_key, strerror(rc));
		goto dberr;
	}
	if ((rc = store_tx_commit(c->st)) != 0)
		goto dberr;
	store_tenant_get_by_id(c->st, t.id, &t);
	if (o[0].set)
		cli_json_print(tenant_json(&t));
	else
		printf("tenant %s updated: %s\n", t.name, detail);
	return EXIT_OK;
dberr:
	return cli_fail(
	    EXIT_FAILED, "tenant set: store: %s", store_errmsg(c->st));
}

static const struct cli_sub tenant_subs[] = {
    {"add", tenant_add},
    {"list", tenant_list},
    {"show", tenant_show},
    {"set", tenant_set},
};

int
cmd_tenant(const char *conf, int argc, char **argv)
{
	return cli_dispatch(conf, "tenant", tenant_help, tenant_subs,
	    sizeof(tenant_subs) / sizeof(tenant_subs[0]), argc, argv);
}
