/* ext.c: `sipwarden ext add|import|list|show|set|enable|disable|rotate|
 * remove`: extensions and their SIP passwords. A password is printed only
 * when it is created (add, import) or replaced (rotate). */
#include "cli/cli.h"
#include "core/import.h"
#include "core/names.h"
#include "core/settings.h"
#include "cred/policy.h"
#include "lib/util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char ext_help[] =
    "usage: sipwarden -c CONF ext COMMAND ...\n"
    "\n"
    "  add TENANT EXT [--name \"Full Name\"] [--password-stdin] [--json]\n"
    "      generates a password and prints it once; with --password-stdin\n"
    "      reads one line and refuses it (exit 2, reason) unless it passes\n"
    "      the password policy\n"
    "  import TENANT FILE.csv [--json]\n"
    "      CSV with the header extension,name,password; an empty password\n"
    "      is generated; one bad row refuses the whole file; prints\n"
    "      extension,password for every generated password\n"
    "  list TENANT [--json]          every extension, password age\n"
    "  show TENANT EXT [--json]\n"
    "  set TENANT EXT KEY=VALUE... [--json]\n"
    "      keys: name=\"Full Name\", srtp=required|optional|inherit,\n"
    "      pin=reset|tls (an extension that registered over TLS is\n"
    "      refused on UDP and TCP until pin=reset)\n"
    "  enable|disable TENANT EXT [--json]\n"
    "  rotate TENANT EXT [--password-stdin] [--json]\n"
    "      replaces the password (generated unless --password-stdin) and\n"
    "      prints it once; it may not be one of the last 5\n"
    "  remove TENANT EXT [--json]\n";

static int
ext_find(struct cli *c, const char *cmd, const struct store_tenant *t,
    const char *number, struct store_ext *e)
{
	int rc = store_ext_get(c->st, t->id, number, e);

	if (rc == ENOENT)
		return cli_fail(EXIT_FAILED, "%s: no extension %s in tenant %s",
		    cmd, number, t->name);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	return EXIT_OK;
}

/* A JSON string of stored text that a peer sent (never fails on bad
 * UTF-8: such bytes become '?'). */
static json_t *
json_text(const char *s)
{
	char buf[STORE_TEXT_MAX];

	snprintf(buf, sizeof(buf), "%s", s);
	util_utf8_sanitize(buf);
	return json_string(buf);
}

/* The transport pin ("pin": "tls" in the settings): set by the bindings
 * trigger of migration 0004 when the extension registers over TLS, not
 * one of settings_defs (no default to inherit; only reset or set). */
static const struct settings_def ext_pin_def = {
    SETTINGS_EXT, "pin", "", NULL, NULL};

static json_t *
ext_json(const struct store_tenant *t, const struct store_ext *e)
{
	const struct settings_def *d;
	json_t *s = json_object();
	char buf[STORE_SETTINGS_MAX], uri[STORE_EXT_MAX + STORE_DOMAIN_MAX + 8];
	int64_t age = (util_now_us() - e->password_rotated_us) / 86400000000LL;
	json_t *j;

	for (d = settings_defs; d->key != NULL; d++)
		if (d->scope == SETTINGS_EXT)
			json_object_set_new(s, d->key,
			    json_string(settings_get(
			                    e->settings, d, buf, sizeof(buf))[0]
			                    ? buf
			                    : "inherit"));
	snprintf(uri, sizeof(uri), "sip:%s@%s", e->number, t->domain);
	j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:o, "
	              "s:o, s:o, s:o}",
	    "tenant", t->name, "extension", e->number, "name", e->display_name,
	    "sip_uri", uri, "enabled", e->enabled, "settings", s, "created",
	    cli_json_time(e->created_us), "password_rotated",
	    cli_json_time(e->password_rotated_us), "password_age_days",
	    (json_int_t)(age < 0 ? 0 : age), "last_registered",
	    cli_json_time(e->last_registered_us), "last_source",
	    e->last_source[0] ? json_string(e->last_source) : json_null(),
	    "last_user_agent",
	    e->last_user_agent[0] ? json_text(e->last_user_agent) : json_null(),
	    "updated", cli_json_time(e->updated_us));
	/* The transport pin: "tls" or null. */
	if (j != NULL)
		json_object_set_new(j, "pin",
		    strcmp(settings_get(
		               e->settings, &ext_pin_def, buf, sizeof(buf)),
		        "tls") == 0
		        ? json_string("tls")
		        : json_null());
	return j;
}

/* Reads a chosen password from stdin and checks the policy for ext in t,
 * then that it is no other extension's and not in ext_id's recent
 * history. Returns an exit code; on EXIT_OK pw holds it. */
static int
ext_password_read(struct cli *c, const char *cmd, const struct store_tenant *t,
    const char *number, int64_t ext_id, char *pw, size_t size, size_t *lenp)
{
	struct cred_pw_context ctx = {number, t->name, t->domain};
	char reason[CRED_PW_REASON_MAX];
	const char *why;
	size_t len;
	int rc;

	rc = cli_read_secret_line(pw, size, CRED_PW_MAX_LEN, &len);
	if (rc == ENODATA)
		return cli_fail(EXIT_USAGE,
		    "%s: --password-stdin: no password on standard input", cmd);
	if (rc == EMSGSIZE)
		return cli_fail(EXIT_USAGE,
		    "%s: password is not acceptable: %s", cmd,
		    cred_pw_verdict_str(CRED_PW_TOO_LONG));
	if (cred_password_check(pw, len, &ctx) != CRED_PW_OK) {
		cred_password_reason(pw, len, &ctx, reason, sizeof(reason));
		sodium_memzero(pw, size);
		return cli_fail(EXIT_USAGE,
		    "%s: password is not acceptable: %s", cmd, reason);
	}
	rc = cred_password_reuse_check(
	    c->st, c->keys, t->id, ext_id, pw, len, &why);
	if (rc != 0) {
		sodium_memzero(pw, size);
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	}
	if (why != NULL) {
		sodium_memzero(pw, size);
		return cli_fail(
		    EXIT_USAGE, "%s: password is not acceptable: %s", cmd, why);
	}
	*lenp = len;
	return EXIT_OK;
}

/* Generates a password that passes the policy and is unused in t. */
static int
ext_password_generate(struct cli *c, const char *cmd,
    const struct store_tenant *t, const char *number, int64_t ext_id, char *pw,
    size_t size, size_t *lenp)
{
	struct cred_pw_context ctx = {number, t->name, t->domain};
	const char *why = "";
	int tries, rc;

	for (tries = 0; tries < 8 && why != NULL; tries++) {
		if (cred_password_generate_checked(&ctx, pw, size) != 0)
			continue;
		rc = cred_password_reuse_check(
		    c->st, c->keys, t->id, ext_id, pw, strlen(pw), &why);
		if (rc != 0)
			return cli_fail(EXIT_FAILED, "%s: store: %s", cmd,
			    store_errmsg(c->st));
	}
	if (why != NULL)
		return cli_fail(
		    EXIT_FAILED, "%s: could not generate a password", cmd);
	*lenp = strlen(pw);
	return EXIT_OK;
}

static int
ext_add(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--name", true, false, NULL},
	    {"--password-stdin", false, false, NULL},
	    {"--json", false, false, NULL}};
	const char *pos[2], *why, *cmd = "ext add";
	struct store_tenant t;
	struct store_ext e, old;
	struct store_secret sec;
	char *pw = NULL;
	size_t npos, pwlen = 0;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 3, pos, 2, 2, &npos)))
		return rc;
	if ((why = names_ext_check(pos[1], strlen(pos[1]))))
		return cli_fail(
		    EXIT_USAGE, "%s: EXT \"%s\": %s", cmd, pos[1], why);
	if (o[0].set && (why = names_display_check(o[0].val, strlen(o[0].val))))
		return cli_fail(EXIT_USAGE, "%s: --name: %s", cmd, why);
	if ((rc = cli_open(c, true)) != EXIT_OK)
		return rc;
	if ((rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK)
		return rc;
	if (store_ext_get(c->st, t.id, pos[1], &old) == 0)
		return cli_fail(EXIT_FAILED,
		    "%s: extension %s already exists in tenant %s", cmd, pos[1],
		    t.name);
	if ((pw = sodium_malloc(CRED_PASSWORD_MAX)) == NULL)
		return cli_fail(EXIT_FAILED, "%s: out of memory", cmd);
	if (o[1].set)
		rc = ext_password_read(
		    c, cmd, &t, pos[1], 0, pw, CRED_PASSWORD_MAX, &pwlen);
	else
		rc = ext_password_generate(
		    c, cmd, &t, pos[1], 0, pw, CRED_PASSWORD_MAX, &pwlen);
	if (rc != EXIT_OK)
		goto out;
	memset(&e, 0, sizeof(e));
	e.tenant_id = t.id;
	e.enabled = true;
	snprintf(e.number, sizeof(e.number), "%s", pos[1]);
	snprintf(e.display_name, sizeof(e.display_name), "%s",
	    o[0].set ? o[0].val : "");
	if ((rc = cred_secret_make(
	         c->keys, t.id, e.number, t.domain, pw, pwlen, &sec)) != 0) {
		rc = cli_fail(EXIT_FAILED, "%s: cannot seal the password: %s",
		    cmd, strerror(rc));
		goto out;
	}
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_ext_add(c->st, &e, &sec);
		if (rc == 0)
			rc = cli_audit(c, t.id, "ext.add", e.number,
			    o[1].set ? "password chosen"
			             : "password generated");
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	if (rc == EEXIST) {
		rc = cli_fail(EXIT_FAILED,
		    "%s: extension %s already exists in tenant %s", cmd,
		    e.number, t.name);
		goto out;
	}
	if (rc != 0) {
		rc = cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
		goto out;
	}
	if (o[2].set) {
		char uri[STORE_EXT_MAX + STORE_DOMAIN_MAX + 8];

		snprintf(uri, sizeof(uri), "sip:%s@%s", e.number, t.domain);
		cli_json_print(json_pack("{s:s, s:s, s:s, s:s, s:o}", "tenant",
		    t.name, "extension", e.number, "name", e.display_name,
		    "sip_uri", uri, "password",
		    o[1].set ? json_null() : json_string(pw)));
	} else {
		printf("extension %s added to tenant %s: sip:%s@%s\n", e.number,
		    t.name, e.number, t.domain);
		if (!o[1].set)
			printf("password: %s\n(shown once: it cannot be "
			       "displayed again; `ext rotate` replaces it)\n",
			    pw);
	}
	rc = EXIT_OK;
out:
	sodium_free(pw);
	return rc;
}

/* The numbers of one tenant, sorted, for the import's existence check. */
struct numset {
	char (*v)[STORE_EXT_MAX];
	size_t n, cap;
};

static int
numset_cb(void *arg, const struct store_ext *e)
{
	struct numset *s = arg;
	void *nv = util_grow(s->v, &s->cap, s->n, sizeof(*s->v), 256);

	if (nv == NULL)
		return ENOMEM;
	s->v = nv;
	memcpy(s->v[s->n++], e->number, STORE_EXT_MAX);
	return 0;
}

static int
cmp_num(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
ext_import(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[2], *cmd = "ext import";
	struct store_tenant t;
	struct import_row *rows = NULL;
	struct numset have = {0};
	bool *generated = NULL;
	char err[512], *buf = NULL;
	size_t npos, len, n = 0, i, ngen = 0;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, 2, 2, &npos)))
		return rc;
	if ((rc = util_file_read(pos[1], IMPORT_FILE_MAX, &buf, &len)) != 0)
		return cli_fail(EXIT_USAGE, "%s: cannot read %s: %s", cmd,
		    pos[1], rc == EFBIG ? "larger than 32 MiB" : strerror(rc));
	if ((rc = cli_open(c, true)) != EXIT_OK)
		goto out;
	if ((rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK)
		goto out;
	if (import_parse(
	        buf, len, t.name, t.domain, &rows, &n, err, sizeof(err)) != 0) {
		/* "line N: ..." -> "FILE:N: ..." */
		rc = cli_fail(EXIT_USAGE, "%s: %s:%s; nothing imported", cmd,
		    pos[1], strncmp(err, "line ", 5) == 0 ? err + 5 : err);
		goto out;
	}
	/* Against the store: numbers taken, chosen passwords in use. */
	if (store_ext_list(c->st, t.id, numset_cb, &have) != 0) {
		rc = cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
		goto out;
	}
	if (have.n > 0)
		qsort(have.v, have.n, sizeof(*have.v), cmp_num);
	for (i = 0; i < n; i++) {
		const char *why = NULL;

		if (have.n > 0 && bsearch(rows[i].number, have.v, have.n,
		                      sizeof(*have.v), cmp_num) != NULL) {
			rc = cli_fail(EXIT_FAILED,
			    "%s: %s:%zu: extension %s already exists in "
			    "tenant %s; nothing imported",
			    cmd, pos[1], rows[i].line, rows[i].number, t.name);
			goto out;
		}
		if (rows[i].pwlen == 0)
			continue;
		if (cred_password_reuse_check(c->st, c->keys, t.id, 0,
		        rows[i].password, rows[i].pwlen, &why) != 0) {
			rc = cli_fail(EXIT_FAILED, "%s: store: %s", cmd,
			    store_errmsg(c->st));
			goto out;
		}
		if (why != NULL) {
			rc = cli_fail(EXIT_USAGE,
			    "%s: %s:%zu: password of extension %s is not "
			    "acceptable: %s; nothing imported",
			    cmd, pos[1], rows[i].line, rows[i].number, why);
			goto out;
		}
	}
	if ((generated = calloc(n, sizeof(*generated))) == NULL) {
		rc = cli_fail(EXIT_FAILED, "%s: out of memory", cmd);
		goto out;
	}
	/* All checked: one transaction for the whole file. */
	if ((rc = store_tx_begin(c->st)) != 0) {
		rc = cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++) {
		struct store_ext e;
		struct store_secret sec;

		if (rows[i].pwlen == 0) {
			struct cred_pw_context ctx = {
			    rows[i].number, t.name, t.domain};

			/* 115 random bits: a collision with another
			 * password of the tenant is not a real event, and
			 * the unique keyed hash is checked by the rows. */
			rc = cred_password_generate_checked(
			    &ctx, rows[i].password, sizeof(rows[i].password));
			if (rc != 0)
				break;
			rows[i].pwlen = strlen(rows[i].password);
			generated[i] = true;
			ngen++;
		}
		memset(&e, 0, sizeof(e));
		e.tenant_id = t.id;
		e.enabled = true;
		memcpy(e.number, rows[i].number, sizeof(e.number));
		snprintf(
		    e.display_name, sizeof(e.display_name), "%s", rows[i].name);
		rc = cred_secret_make(c->keys, t.id, e.number, t.domain,
		    rows[i].password, rows[i].pwlen, &sec);
		if (rc == 0)
			rc = store_ext_add(c->st, &e, &sec);
		sodium_memzero(&sec, sizeof(sec));
	}
	if (rc == 0) {
		snprintf(err, sizeof(err),
		    "%zu extensions (%zu generated "
		    "passwords) from %s",
		    n, ngen, pos[1]);
		rc = cli_audit(c, t.id, "ext.import", "", err);
	}
	if (rc != 0) {
		store_tx_rollback(c->st);
		rc = cli_fail(EXIT_FAILED, "%s: store: %s; nothing imported",
		    cmd, store_errmsg(c->st));
		goto out;
	}
	if ((rc = store_tx_commit(c->st)) != 0) {
		rc = cli_fail(EXIT_FAILED, "%s: store: %s; nothing imported",
		    cmd, store_errmsg(c->st));
		goto out;
	}
	if (o[0].set) {
		json_t *arr = json_array();

		for (i = 0; i < n; i++)
			if (generated[i])
				json_array_append_new(
				    arr, json_pack("{s:s, s:s}", "extension",
				             rows[i].number, "password",
				             rows[i].password));
		cli_json_print(json_pack("{s:s, s:I, s:o}", "tenant", t.name,
		    "imported", (json_int_t)n, "generated", arr));
	} else {
		puts("extension,password");
		for (i = 0; i < n; i++)
			if (generated[i])
				printf("%s,%s\n", rows[i].number,
				    rows[i].password);
		fprintf(stderr,
		    "sipwarden: imported %zu extensions into tenant %s; the "
		    "%zu generated passwords above are shown once\n",
		    n, t.name, ngen);
	}
	rc = EXIT_OK;
out:
	free(generated);
	free(have.v);
	import_rows_free(rows, n);
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	return rc;
}

struct list_arg {
	const struct store_tenant *t;
	json_t *arr;
};

static int
list_cb(void *arg, const struct store_ext *e)
{
	struct list_arg *a = arg;
	char ts[32];
	int64_t age = (util_now_us() - e->password_rotated_us) / 86400000000LL;

	if (a->arr != NULL) {
		json_array_append_new(a->arr, ext_json(a->t, e));
		return 0;
	}
	printf("%-8s %-28s %-8s %5lldd  %-20s %s\n", e->number, e->display_name,
	    e->enabled ? "enabled" : "disabled", (long long)(age < 0 ? 0 : age),
	    e->last_registered_us
	        ? util_rfc3339(e->last_registered_us, ts, sizeof(ts))
	        : "never",
	    e->last_source[0] ? e->last_source : "-");
	return 0;
}

static int
ext_list(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1];
	struct store_tenant t;
	struct list_arg a = {&t, NULL};
	size_t npos;
	int rc;

	if ((rc = cli_args("ext list", argc, argv, o, 1, pos, 1, 1, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	if ((rc = cli_tenant_find(c, "ext list", pos[0], &t)) != EXIT_OK)
		return rc;
	if (o[0].set)
		a.arr = json_array();
	else
		printf("%-8s %-28s %-8s %6s  %-20s %s\n", "EXT", "NAME",
		    "STATE", "PW-AGE", "LAST-REGISTERED", "LAST-SOURCE");
	if ((rc = store_ext_list(c->st, t.id, list_cb, &a)) != 0) {
		json_decref(a.arr);
		return cli_fail(
		    EXIT_FAILED, "ext list: store: %s", store_errmsg(c->st));
	}
	if (a.arr != NULL)
		cli_json_print(a.arr);
	return EXIT_OK;
}

static int
ext_show(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[2];
	struct store_tenant t;
	struct store_ext e;
	size_t npos;
	int rc;

	if ((rc = cli_args("ext show", argc, argv, o, 1, pos, 2, 2, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = cli_tenant_find(c, "ext show", pos[0], &t)) != EXIT_OK ||
	    (rc = ext_find(c, "ext show", &t, pos[1], &e)) != EXIT_OK)
		return rc;
	if (o[0].set) {
		cli_json_print(ext_json(&t, &e));
	} else {
		json_t *j = ext_json(&t, &e);
		char *s = json_dumps(j, JSON_INDENT(2));

		if (s)
			puts(s);
		free(s);
		json_decref(j);
	}
	return EXIT_OK;
}

/* set, enable, disable: change the extension row. */
static int
ext_modify(struct cli *c, const char *cmd, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	enum { SET_MAX = 8 };
	const char *pos[2 + SET_MAX], *why;
	bool is_set = strcmp(cmd, "ext set") == 0;
	char detail[STORE_TEXT_MAX] = "", action[32];
	struct store_tenant t;
	struct store_ext e;
	size_t npos, i;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, is_set ? 3 : 2,
	         is_set ? 2 + SET_MAX : 2, &npos)))
		return rc;
	for (i = 2; i < npos; i++) {
		const char *eq = strchr(pos[i], '='), *v;

		if (eq == NULL || eq == pos[i])
			return cli_fail(EXIT_USAGE,
			    "%s: \"%s\" is not KEY=VALUE", cmd, pos[i]);
		v = eq + 1;
		if (strncmp(pos[i], "name=", 5) == 0)
			why = names_display_check(v, strlen(v));
		else if (strncmp(pos[i], "srtp=", 5) == 0)
			why = settings_find(SETTINGS_EXT, "srtp")->check(v);
		else if (strncmp(pos[i], "pin=", 4) == 0)
			why = strcmp(v, "reset") == 0 || strcmp(v, "tls") == 0
			          ? NULL
			          : "must be reset or tls";
		else
			return cli_fail(EXIT_USAGE,
			    "%s: unknown key \"%.*s\" (keys: name, srtp, pin)",
			    cmd, (int)(eq - pos[i]), pos[i]);
		if (why != NULL)
			return cli_fail(EXIT_USAGE, "%s: %.*s \"%s\": %s", cmd,
			    (int)(eq - pos[i]), pos[i], v, why);
	}
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK ||
	    (rc = ext_find(c, cmd, &t, pos[1], &e)) != EXIT_OK)
		return rc;
	if (strcmp(cmd, "ext enable") == 0) {
		e.enabled = true;
		snprintf(detail, sizeof(detail), "enabled");
	} else if (strcmp(cmd, "ext disable") == 0) {
		e.enabled = false;
		snprintf(detail, sizeof(detail), "disabled");
	}
	for (i = 2; i < npos; i++) {
		const char *v = strchr(pos[i], '=') + 1;

		if (strncmp(pos[i], "name=", 5) == 0)
			snprintf(
			    e.display_name, sizeof(e.display_name), "%s", v);
		else if (strncmp(pos[i], "pin=", 4) == 0) {
			if (settings_put(e.settings, sizeof(e.settings), "pin",
			        strcmp(v, "tls") == 0 ? v : NULL) != 0)
				return cli_fail(EXIT_FAILED,
				    "%s: the stored settings are not a JSON "
				    "object",
				    cmd);
		} else if (settings_put(e.settings, sizeof(e.settings), "srtp",
		               strcmp(v, "inherit") == 0 ? NULL : v) != 0)
			return cli_fail(EXIT_FAILED,
			    "%s: the stored settings are not a JSON object",
			    cmd);
		if (strlen(detail) + strlen(pos[i]) + 2 < sizeof(detail)) {
			if (detail[0])
				strncat(detail, " ", 2);
			strncat(detail, pos[i],
			    sizeof(detail) - strlen(detail) - 1);
		}
	}
	snprintf(action, sizeof(action), "ext.%s", cmd + 4);
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_ext_update(c->st, &e);
		if (rc == 0)
			rc = cli_audit(c, t.id, action, e.number, detail);
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	store_ext_get_by_id(c->st, e.id, &e);
	if (o[0].set)
		cli_json_print(ext_json(&t, &e));
	else
		printf("extension %s of tenant %s: %s\n", e.number, t.name,
		    detail);
	return EXIT_OK;
}

static int
ext_rotate(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--password-stdin", false, false, NULL},
	    {"--json", false, false, NULL}};
	const char *pos[2], *cmd = "ext rotate";
	struct store_tenant t;
	struct store_ext e;
	struct store_secret sec;
	char *pw = NULL;
	size_t npos, pwlen = 0;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 2, pos, 2, 2, &npos)))
		return rc;
	if ((rc = cli_open(c, true)) != EXIT_OK ||
	    (rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK ||
	    (rc = ext_find(c, cmd, &t, pos[1], &e)) != EXIT_OK)
		return rc;
	if ((pw = sodium_malloc(CRED_PASSWORD_MAX)) == NULL)
		return cli_fail(EXIT_FAILED, "%s: out of memory", cmd);
	if (o[0].set)
		rc = ext_password_read(
		    c, cmd, &t, e.number, e.id, pw, CRED_PASSWORD_MAX, &pwlen);
	else
		rc = ext_password_generate(
		    c, cmd, &t, e.number, e.id, pw, CRED_PASSWORD_MAX, &pwlen);
	if (rc != EXIT_OK)
		goto out;
	if ((rc = cred_secret_make(
	         c->keys, t.id, e.number, t.domain, pw, pwlen, &sec)) != 0) {
		rc = cli_fail(EXIT_FAILED, "%s: cannot seal the password: %s",
		    cmd, strerror(rc));
		goto out;
	}
	sec.extension_id = e.id;
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_secret_replace(c->st, &sec, CRED_HISTORY_DEPTH);
		if (rc == 0)
			rc = cli_audit(c, t.id, "ext.rotate", e.number,
			    o[0].set ? "password chosen"
			             : "password generated");
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	sodium_memzero(&sec, sizeof(sec));
	if (rc != 0) {
		rc = cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
		goto out;
	}
	if (o[1].set)
		cli_json_print(json_pack("{s:s, s:s, s:o}", "tenant", t.name,
		    "extension", e.number, "password",
		    o[0].set ? json_null() : json_string(pw)));
	else if (o[0].set)
		printf("extension %s of tenant %s: password replaced\n",
		    e.number, t.name);
	else
		printf("extension %s of tenant %s: new password: %s\n(shown "
		       "once: it cannot be displayed again)\n",
		    e.number, t.name, pw);
	rc = EXIT_OK;
out:
	sodium_free(pw);
	return rc;
}

static int
ext_remove(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[2], *cmd = "ext remove";
	struct store_tenant t;
	struct store_ext e;
	size_t npos;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, 2, 2, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK ||
	    (rc = ext_find(c, cmd, &t, pos[1], &e)) != EXIT_OK)
		return rc;
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_ext_remove(c->st, e.id);
		if (rc == 0)
			rc = cli_audit(c, t.id, "ext.remove", e.number, "");
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if (o[0].set)
		cli_json_print(json_pack("{s:s, s:s, s:b}", "tenant", t.name,
		    "extension", e.number, "removed", 1));
	else
		printf(
		    "extension %s removed from tenant %s\n", e.number, t.name);
	return EXIT_OK;
}

static int
ext_set(struct cli *c, int argc, char **argv)
{
	return ext_modify(c, "ext set", argc, argv);
}

static int
ext_enable(struct cli *c, int argc, char **argv)
{
	return ext_modify(c, "ext enable", argc, argv);
}

static int
ext_disable(struct cli *c, int argc, char **argv)
{
	return ext_modify(c, "ext disable", argc, argv);
}

static const struct cli_sub ext_subs[] = {
    {"add", ext_add},
    {"import", ext_import},
    {"list", ext_list},
    {"show", ext_show},
    {"set", ext_set},
    {"enable", ext_enable},
    {"disable", ext_disable},
    {"rotate", ext_rotate},
    {"remove", ext_remove},
};

int
cmd_ext(const char *conf, int argc, char **argv)
{
	return cli_dispatch(conf, "ext", ext_help, ext_subs,
	    sizeof(ext_subs) / sizeof(ext_subs[0]), argc, argv);
}
