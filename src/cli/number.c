/* number.c: `sipwarden number add|list|remove`: the numbers (DIDs) a
 * tenant owns and the extension inbound calls to each go to. A number is
 * written in E.164 (+ and 7-15 digits) and is unique across tenants.
 * Every change writes an audit row and, through the store, a change-log
 * row (kind "number") a running daemon follows. */
#include "call/trunktab.h"
#include "cli/cli.h"
#include "core/names.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char number_help[] =
    "usage: sipwarden -c CONF number COMMAND ...\n"
    "\n"
    "  add TENANT E164 --to EXT [--trunk NAME] [--json]\n"
    "      E164: + and 7 to 15 digits (+4930123456), unique across\n"
    "      tenants; EXT: an extension of the tenant, where inbound calls\n"
    "      to the number go; NAME: the tenant's trunk the number comes\n"
    "      in on (without it: any trunk of the tenant)\n"
    "  list TENANT [--json]\n"
    "  remove TENANT E164 [--json]\n";

static const char ext_prefix[] = "ext:";

/* NULL when s is a number in E.164 as we store it, else the reason. */
static const char *
number_e164_check(const char *s)
{
	char canon[STORE_E164_MAX];
	size_t len = strlen(s);

	if (len == 0 || s[0] != '+' ||
	    trunktab_e164_normalize(s, len, canon) != 0)
		return "must be + and 7 to 15 digits, the first not 0 "
		       "(E.164, e.g. +4930123456)";
	return NULL;
}

/* The name of trunk id into buf, or NULL (none, or gone). */
static const char *
number_trunk_name(struct cli *c, int64_t id, char buf[STORE_NAME_MAX])
{
	struct store_trunk tr;

	if (id == 0 || store_trunk_get_by_id(c->st, id, &tr) != 0)
		return NULL;
	memcpy(buf, tr.name, STORE_NAME_MAX);
	return buf;
}

static json_t *
number_json(const char *tenant, const struct store_number *n, const char *trunk)
{
	const char *d = n->destination;
	bool is_ext = strncmp(d, ext_prefix, sizeof(ext_prefix) - 1) == 0;

	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "tenant",
	    tenant, "e164", n->e164, "destination", d, "extension",
	    is_ext ? json_string(d + sizeof(ext_prefix) - 1) : json_null(),
	    "trunk", trunk != NULL ? json_string(trunk) : json_null(),
	    "created", cli_json_time(n->created_us), "updated",
	    cli_json_time(n->updated_us));
}

static int
number_add(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--to", true, false, NULL},
	    {"--trunk", true, false, NULL}, {"--json", false, false, NULL}};
	const char *pos[2], *why, *cmd = "number add";
	/* cli_audit keeps STORE_TEXT_MAX - 1 bytes of it */
	char detail[STORE_TEXT_MAX + STORE_NAME_MAX + 16];
	struct store_tenant t;
	struct store_ext e;
	struct store_trunk tr;
	struct store_number n, old;
	size_t npos;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, ARRAY_LEN(o), pos, 2, 2, &npos)))
		return rc;
	if ((why = names_tenant_check(pos[0], strlen(pos[0]))))
		return cli_fail(
		    EXIT_USAGE, "%s: TENANT \"%s\": %s", cmd, pos[0], why);
	if ((why = number_e164_check(pos[1])))
		return cli_fail(
		    EXIT_USAGE, "%s: E164 \"%s\": %s", cmd, pos[1], why);
	if (!o[0].set)
		return cli_fail(EXIT_USAGE,
		    "%s: --to is required (the extension calls go to)", cmd);
	if ((why = names_ext_check(o[0].val, strlen(o[0].val))))
		return cli_fail(
		    EXIT_USAGE, "%s: --to \"%s\": %s", cmd, o[0].val, why);
	if (o[1].set && (why = names_tenant_check(o[1].val, strlen(o[1].val))))
		return cli_fail(
		    EXIT_USAGE, "%s: --trunk \"%s\": %s", cmd, o[1].val, why);
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK)
		return rc;
	if ((rc = store_ext_get(c->st, t.id, o[0].val, &e)) == ENOENT)
		return cli_fail(EXIT_FAILED,
		    "%s: --to: no extension %s in tenant %s", cmd, o[0].val,
		    t.name);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	memset(&n, 0, sizeof(n));
	memset(&tr, 0, sizeof(tr));
	n.tenant_id = t.id;
	snprintf(n.e164, sizeof(n.e164), "%s", pos[1]);
	snprintf(
	    n.destination, sizeof(n.destination), "%s%s", ext_prefix, e.number);
	if (o[1].set) {
		if ((rc = store_trunk_get(c->st, o[1].val, &tr)) == ENOENT)
			return cli_fail(EXIT_FAILED,
			    "%s: --trunk: no trunk \"%s\"", cmd, o[1].val);
		if (rc != 0)
			return cli_fail(EXIT_FAILED, "%s: store: %s", cmd,
			    store_errmsg(c->st));
		if (tr.tenant_id != 0 && tr.tenant_id != t.id)
			return cli_fail(EXIT_FAILED,
			    "%s: --trunk: trunk \"%s\" is not tenant %s's", cmd,
			    tr.name, t.name);
		n.trunk_id = tr.id;
	}
	if ((rc = store_number_get(c->st, n.e164, &old)) == 0)
		return cli_fail(EXIT_FAILED,
		    "%s: number %s already exists (numbers are unique across "
		    "tenants)",
		    cmd, n.e164);
	if (rc != ENOENT)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	snprintf(detail, sizeof(detail), "to %s trunk=%s", n.destination,
	    o[1].set ? o[1].val : "any");
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_number_add(c->st, &n);
		if (rc == 0)
			rc = cli_audit(c, t.id, "number.add", n.e164, detail);
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	if (rc == EEXIST)
		return cli_fail(EXIT_FAILED,
		    "%s: number %s already exists (numbers are unique across "
		    "tenants)",
		    cmd, n.e164);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if (o[2].set)
		cli_json_print(
		    number_json(t.name, &n, o[1].set ? tr.name : NULL));
	else
		printf("number %s added to tenant %s: calls go to extension "
		       "%s%s%s\n",
		    n.e164, t.name, e.number, o[1].set ? " from trunk " : "",
		    o[1].set ? tr.name : "");
	return EXIT_OK;
}

struct number_rows {
	struct store_number *v;
	size_t n, cap;
};

static int
number_rows_cb(void *arg, const struct store_number *n)
{
	struct number_rows *r = arg;
	void *nv = util_grow(r->v, &r->cap, r->n, sizeof(*r->v), 64);

	if (nv == NULL)
		return ENOMEM;
	r->v = nv;
	r->v[r->n++] = *n;
	return 0;
}

static int
number_list(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1], *cmd = "number list";
	struct number_rows rows = {NULL, 0, 0};
	struct store_tenant t;
	json_t *arr = NULL;
	size_t npos, i;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, 1, 1, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK)
		return rc;
	if ((rc = store_number_list(c->st, t.id, number_rows_cb, &rows))) {
		free(rows.v);
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	}
	if (o[0].set)
		arr = json_array();
	else
		printf("%-17s %-20s %-20s %s\n", "E164", "DESTINATION", "TRUNK",
		    "CREATED");
	for (i = 0; i < rows.n; i++) {
		const struct store_number *n = &rows.v[i];
		char tname[STORE_NAME_MAX], ts[32];
		const char *tn = number_trunk_name(c, n->trunk_id, tname);

		if (arr != NULL)
			json_array_append_new(arr, number_json(t.name, n, tn));
		else
			printf("%-17s %-20s %-20s %s\n", n->e164,
			    n->destination, tn != NULL ? tn : "any",
			    util_rfc3339(n->created_us, ts, sizeof(ts)));
	}
	free(rows.v);
	if (arr != NULL)
		cli_json_print(arr);
	return EXIT_OK;
}

static int
number_remove(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[2], *why, *cmd = "number remove";
	struct store_tenant t;
	struct store_number n;
	size_t npos;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, 2, 2, &npos)))
		return rc;
	if ((why = names_tenant_check(pos[0], strlen(pos[0]))))
		return cli_fail(
		    EXIT_USAGE, "%s: TENANT \"%s\": %s", cmd, pos[0], why);
	if ((why = number_e164_check(pos[1])))
		return cli_fail(
		    EXIT_USAGE, "%s: E164 \"%s\": %s", cmd, pos[1], why);
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = cli_tenant_find(c, cmd, pos[0], &t)) != EXIT_OK)
		return rc;
	rc = store_number_get(c->st, pos[1], &n);
	if (rc == ENOENT || (rc == 0 && n.tenant_id != t.id))
		return cli_fail(EXIT_FAILED, "%s: no number %s in tenant %s",
		    cmd, pos[1], t.name);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_number_remove(c->st, n.id);
		if (rc == 0)
			rc = cli_audit(
			    c, t.id, "number.remove", n.e164, n.destination);
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
		    "e164", n.e164, "removed", 1));
	else
		printf("number %s removed from tenant %s\n", n.e164, t.name);
	return EXIT_OK;
}

static const struct cli_sub number_subs[] = {
    {"add", number_add},
    {"list", number_list},
    {"remove", number_remove},
};

int
cmd_number(const char *conf, int argc, char **argv)
{
	return cli_dispatch(conf, "number", number_help, number_subs,
	    sizeof(number_subs) / sizeof(number_subs[0]), argc, argv);
}
