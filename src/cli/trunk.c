/* trunk.c: `sipwarden trunk add|list|show|set|remove`: carrier trunks:
 * the networks a carrier's calls come from, and how to reach it. The
 * password for calls to the carrier is read from stdin, sealed under the
 * key file (like SIP passwords) and never printed again; `show` only says
 * whether one is set. Trunk names are unique across tenants (the store's
 * trunks.name is UNIQUE). Every change writes an audit row and, through
 * the store, a change-log row (kind "trunk") a running daemon follows. */
#include "call/trunktab.h"
#include "cli/cli.h"
#include "core/names.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	TRUNK_PW_MAX = 128,  /* bytes of a carrier password */
	TRUNK_USER_MAX = 64, /* bytes of a carrier auth user */
	TRUNK_SET_MAX = 8,   /* KEY=VALUE pairs of one `trunk set` */
	TRUNK_PORT_TLS = 5061,
	TRUNK_PORT_PLAIN = 5060,
};

static const char trunk_help[] =
    "usage: sipwarden -c CONF trunk COMMAND ...\n"
    "\n"
    "  add NAME --tenant TENANT --host HOST [--port N]\n"
    "      [--transport tls|tcp|udp] --addresses CIDR,...\n"
    "      [--user USER --password-stdin] [--json]\n"
    "      NAME: [a-z0-9-], unique across tenants; HOST: the carrier's\n"
    "      host name or IP address; port default 5061 for tls, 5060\n"
    "      otherwise; --addresses: the carrier's source networks (at\n"
    "      most 64; none wider than an IPv4 /16 or an IPv6 /32): calls\n"
    "      from them are the carrier's. --password-stdin reads the\n"
    "      password for calls to the carrier from one line of stdin;\n"
    "      it is sealed with the key file and never printed.\n"
    "  list [TENANT] [--json]        every trunk, or a tenant's\n"
    "  show NAME [--json]            (says whether a password is set)\n"
    "  set NAME KEY=VALUE... [--json]\n"
    "      keys: addresses=CIDR,..., host=HOST, port=N,\n"
    "      transport=tls|tcp|udp, enabled=on|off\n"
    "  remove NAME [--json]          refused while numbers use it\n";

/* ---- checks of what the operator types ---- */

static const char *
trunk_host_check(const char *s)
{
	static const unsigned char zero[16];
	unsigned char a[16];
	size_t len = strlen(s), i;

	if (inet_pton(AF_INET, s, a) == 1)
		return memcmp(a, zero, 4) == 0 ? "0.0.0.0 is not a host" : NULL;
	if (inet_pton(AF_INET6, s, a) == 1)
		return memcmp(a, zero, 16) == 0 ? ":: is not a host" : NULL;
	if (len > 0 && s[0] == '[')
		return "an IPv6 address is written without brackets";
	for (i = 0; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.');
	     i++)
		;
	if (len > 0 && i == len)
		return "not a valid IPv4 address";
	return names_domain_check(s, len);
}

static const char *
trunk_port_check(const char *s, int *port)
{
	uint64_t v;

	if (util_u64_parse(s, strlen(s), 65535, &v) != 0 || v == 0)
		return "must be a number from 1 to 65535";
	*port = (int)v;
	return NULL;
}

static const char *
trunk_transport_check(const char *s)
{
	if (strcmp(s, "tls") == 0 || strcmp(s, "tcp") == 0 ||
	    strcmp(s, "udp") == 0)
		return NULL;
	return "must be tls, tcp or udp";
}

static const char *
trunk_user_check(const char *s)
{
	size_t len = strlen(s), i;

	if (len == 0)
		return "empty";
	if (len > TRUNK_USER_MAX)
		return "longer than 64 bytes";
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || strchr("._+@-", ch)))
			return "only A-Z, a-z, 0-9 and . _ + @ - are allowed";
	}
	return NULL;
}

/* Parses the source networks s (field names the option or key in the
 * messages) into out as the normalised list "a.b.c.d/n,x::/n". Returns
 * EXIT_OK, or EXIT_USAGE with the message printed. */
static int
trunk_addresses_parse(const char *cmd, const char *field, const char *s,
    char out[STORE_ADDRESSES_MAX])
{
	struct config_cidr cidrs[TRUNKTAB_CIDRS_MAX];
	char why[256], buf[CONFIG_ADDR_STRLEN];
	size_t n = 0, i, used = 0;

	if (config_cidrs_parse(
	        s, cidrs, TRUNKTAB_CIDRS_MAX, &n, why, sizeof(why)) != 0)
		return cli_fail(
		    EXIT_USAGE, "%s: %s \"%s\": %s", cmd, field, s, why);
	if (n == 0)
		return cli_fail(EXIT_USAGE,
		    "%s: %s: at least one network is required (the carrier's "
		    "source addresses)",
		    cmd, field);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *bad = trunktab_cidr_check(&cidrs[i]);
		int w;

		config_cidr_fmt(&cidrs[i], buf, sizeof(buf));
		if (bad != NULL)
			return cli_fail(EXIT_USAGE, "%s: %s \"%s\": %s: %s",
			    cmd, field, s, buf, bad);
		w = snprintf(out + used, STORE_ADDRESSES_MAX - used, "%s%s",
		    i ? "," : "", buf);
		if (w < 0 || (size_t)w >= STORE_ADDRESSES_MAX - used)
			return cli_fail(EXIT_USAGE,
			    "%s: %s: too many networks (the list takes more "
			    "than %d bytes)",
			    cmd, field, STORE_ADDRESSES_MAX - 1);
		used += (size_t)w;
	}
	return EXIT_OK;
}

/* Reads the carrier password (one line of stdin) into pw (size >
 * TRUNK_PW_MAX). Returns EXIT_OK with *lenp set, or EXIT_USAGE (message
 * printed, pw wiped). */
static int
trunk_password_read(const char *cmd, char *pw, size_t size, size_t *lenp)
{
	size_t len = 0, i;
	int rc;

	rc = cli_read_secret_line(pw, size, TRUNK_PW_MAX, &len);
	if (rc == ENODATA)
		return cli_fail(EXIT_USAGE,
		    "%s: --password-stdin: no password on standard input", cmd);
	if (rc == EMSGSIZE)
		return cli_fail(EXIT_USAGE,
		    "%s: --password-stdin: longer than %d bytes", cmd,
		    TRUNK_PW_MAX);
	if (rc != 0 || len == 0) {
		sodium_memzero(pw, size);
		return cli_fail(
		    EXIT_USAGE, "%s: --password-stdin: empty password", cmd);
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f) {
			sodium_memzero(pw, size);
			return cli_fail(EXIT_USAGE,
			    "%s: --password-stdin: control characters are not "
			    "allowed",
			    cmd);
		}
	*lenp = len;
	return EXIT_OK;
}

/* ---- output ---- */

static json_t *
trunk_json(const struct store_trunk *tr, const char *tenant)
{
	json_t *addrs = json_array();
	const char *p = tr->addresses;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char one[CONFIG_ADDR_STRLEN];

		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		if (one[0] != '\0')
			json_array_append_new(addrs, json_string(one));
		p += n;
		if (*p == ',')
			p++;
	}
	return json_pack("{s:s, s:o, s:s, s:i, s:s, s:o, s:o, s:b, s:b, s:o, "
	                 "s:o}",
	    "name", tr->name, "tenant",
	    tenant != NULL ? json_string(tenant) : json_null(), "host",
	    tr->host, "port", tr->port, "transport", tr->transport, "addresses",
	    addrs, "user",
	    tr->auth_user[0] ? json_string(tr->auth_user) : json_null(),
	    "password_set", tr->auth.box_len > 0, "enabled", tr->enabled,
	    "created", cli_json_time(tr->created_us), "updated",
	    cli_json_time(tr->updated_us));
}

/* The name of the trunk's tenant into buf, or NULL for a shared trunk
 * (or a tenant that is gone). */
static const char *
trunk_tenant_name(
    struct cli *c, const struct store_trunk *tr, char buf[STORE_NAME_MAX])
{
	struct store_tenant tn;

	if (tr->tenant_id == 0 ||
	    store_tenant_get_by_id(c->st, tr->tenant_id, &tn) != 0)
		return NULL;
	memcpy(buf, tn.name, STORE_NAME_MAX);
	return buf;
}

static void
trunk_print(struct cli *c, const struct store_trunk *tr, bool json)
{
	char tname[STORE_NAME_MAX];
	json_t *j = trunk_json(tr, trunk_tenant_name(c, tr, tname));
	char *s;

	if (json) {
		cli_json_print(j);
		return;
	}
	s = json_dumps(j, JSON_INDENT(2));
	if (s != NULL)
		puts(s);
	free(s);
	json_decref(j);
}

/* The trunk named name, or an exit code with the message printed. */
static int
trunk_find(
    struct cli *c, const char *cmd, const char *name, struct store_trunk *tr)
{
	int rc = store_trunk_get(c->st, name, tr);

	if (rc == ENOENT)
		return cli_fail(EXIT_FAILED, "%s: no trunk \"%s\"", cmd, name);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	return EXIT_OK;
}

/* ---- commands ---- */

static int
trunk_add(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--tenant", true, false, NULL},
	    {"--host", true, false, NULL}, {"--port", true, false, NULL},
	    {"--transport", true, false, NULL},
	    {"--addresses", true, false, NULL}, {"--user", true, false, NULL},
	    {"--password-stdin", false, false, NULL},
	    {"--json", false, false, NULL}};
	const char *pos[1], *why, *cmd = "trunk add";
	struct store_tenant tn;
	struct store_trunk tr, other;
	/* cli_audit keeps STORE_TEXT_MAX - 1 bytes of detail */
	char *pw = NULL, detail[STORE_DOMAIN_MAX + STORE_ADDRESSES_MAX + 64];
	size_t npos, pwlen = 0;
	int rc, port = 0;

	if ((rc = cli_args(cmd, argc, argv, o, ARRAY_LEN(o), pos, 1, 1, &npos)))
		return rc;
	memset(&tr, 0, sizeof(tr));
	if ((why = names_tenant_check(pos[0], strlen(pos[0]))))
		return cli_fail(
		    EXIT_USAGE, "%s: NAME \"%s\": %s", cmd, pos[0], why);
	if (!o[0].set)
		return cli_fail(EXIT_USAGE, "%s: --tenant is required", cmd);
	if ((why = names_tenant_check(o[0].val, strlen(o[0].val))))
		return cli_fail(
		    EXIT_USAGE, "%s: --tenant \"%s\": %s", cmd, o[0].val, why);
	if (!o[1].set)
		return cli_fail(EXIT_USAGE, "%s: --host is required", cmd);
	if ((why = trunk_host_check(o[1].val)))
		return cli_fail(
		    EXIT_USAGE, "%s: --host \"%s\": %s", cmd, o[1].val, why);
	if (o[2].set && (why = trunk_port_check(o[2].val, &port)))
		return cli_fail(
		    EXIT_USAGE, "%s: --port \"%s\": %s", cmd, o[2].val, why);
	if (o[3].set && (why = trunk_transport_check(o[3].val)))
		return cli_fail(EXIT_USAGE, "%s: --transport \"%s\": %s", cmd,
		    o[3].val, why);
	if (!o[4].set)
		return cli_fail(EXIT_USAGE,
		    "%s: --addresses is required (the carrier's source "
		    "networks)",
		    cmd);
	if ((rc = trunk_addresses_parse(
	         cmd, "--addresses", o[4].val, tr.addresses)) != EXIT_OK)
		return rc;
	if (o[5].set && (why = trunk_user_check(o[5].val)))
		return cli_fail(
		    EXIT_USAGE, "%s: --user \"%s\": %s", cmd, o[5].val, why);
	if (o[5].set != o[6].set)
		return cli_fail(EXIT_USAGE,
		    "%s: %s: --user and --password-stdin go together", cmd,
		    o[5].set ? "--password-stdin" : "--user");
	snprintf(tr.name, sizeof(tr.name), "%s", pos[0]);
	snprintf(tr.host, sizeof(tr.host), "%s", o[1].val);
	snprintf(tr.transport, sizeof(tr.transport), "%s",
	    o[3].set ? o[3].val : "tls");
	tr.port = port                               ? port
	          : strcmp(tr.transport, "tls") == 0 ? TRUNK_PORT_TLS
	                                             : TRUNK_PORT_PLAIN;
	tr.enabled = true;
	snprintf(tr.settings, sizeof(tr.settings), "{}");
	if (o[6].set) {
		if ((pw = sodium_malloc(TRUNK_PW_MAX + 1)) == NULL)
			return cli_fail(EXIT_FAILED, "%s: out of memory", cmd);
		if ((rc = trunk_password_read(
		         cmd, pw, TRUNK_PW_MAX + 1, &pwlen)) != EXIT_OK)
			goto out;
		snprintf(tr.auth_user, sizeof(tr.auth_user), "%s", o[5].val);
	}
	if ((rc = cli_open(c, o[6].set)) != EXIT_OK)
		goto out;
	if ((rc = cli_tenant_find(c, cmd, o[0].val, &tn)) != EXIT_OK)
		goto out;
	tr.tenant_id = tn.id;
	if (pw != NULL) {
		char kid[CRED_KEY_ID_MAX];

		rc = cred_seal(c->keys, pw, pwlen, tr.auth.box,
		    sizeof(tr.auth.box), &tr.auth.box_len, kid);
		if (rc != 0) {
			rc = cli_fail(EXIT_FAILED,
			    "%s: cannot seal the password: %s", cmd,
			    strerror(rc));
			goto out;
		}
		snprintf(tr.auth.key_id, sizeof(tr.auth.key_id), "%s", kid);
	}
	snprintf(detail, sizeof(detail),
	    "host=%s port=%d transport=%s auth=%s addresses=%s", tr.host,
	    tr.port, tr.transport, pw != NULL ? "password" : "none",
	    tr.addresses);
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_trunk_add(c->st, &tr);
		if (rc == 0)
			rc = cli_audit(c, tn.id, "trunk.add", tr.name, detail);
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	if (rc == EEXIST) {
		char oname[STORE_NAME_MAX];

		if (store_trunk_get(c->st, tr.name, &other) == 0 &&
		    other.tenant_id != tn.id &&
		    trunk_tenant_name(c, &other, oname) != NULL)
			rc = cli_fail(EXIT_FAILED,
			    "%s: trunk \"%s\" already exists (in tenant %s: "
			    "trunk names are unique across tenants)",
			    cmd, tr.name, oname);
		else
			rc = cli_fail(EXIT_FAILED,
			    "%s: trunk \"%s\" already exists", cmd, tr.name);
		goto out;
	}
	if (rc != 0) {
		rc = cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
		goto out;
	}
	if (o[7].set)
		cli_json_print(trunk_json(&tr, tn.name));
	else
		printf("trunk %s added to tenant %s: %s:%d over %s, calls "
		       "accepted from %s%s\n",
		    tr.name, tn.name, tr.host, tr.port, tr.transport,
		    tr.addresses,
		    pw != NULL ? "; password sealed (never shown)" : "");
	rc = EXIT_OK;
out:
	sodium_memzero(&tr.auth, sizeof(tr.auth));
	if (pw != NULL)
		sodium_free(pw);
	return rc;
}

struct trunk_rows {
	struct store_trunk *v;
	size_t n, cap;
};

static int
trunk_rows_cb(void *arg, const struct store_trunk *tr)
{
	struct trunk_rows *r = arg;
	void *nv = util_grow(r->v, &r->cap, r->n, sizeof(*r->v), 16);

	if (nv == NULL)
		return ENOMEM;
	r->v = nv;
	r->v[r->n] = *tr;
	sodium_memzero(&r->v[r->n].auth.box, sizeof(r->v[r->n].auth.box));
	r->n++;
	return 0;
}

static int
trunk_list(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1], *cmd = "trunk list";
	struct trunk_rows rows = {NULL, 0, 0};
	int64_t tenant_id = STORE_TENANT_ALL;
	json_t *arr = NULL;
	size_t npos, i;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, 0, 1, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK)
		return rc;
	if (npos == 1) {
		struct store_tenant tn;

		if ((rc = cli_tenant_find(c, cmd, pos[0], &tn)) != EXIT_OK)
			return rc;
		tenant_id = tn.id;
	}
	if ((rc = store_trunk_list(c->st, tenant_id, trunk_rows_cb, &rows))) {
		free(rows.v);
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	}
	if (o[0].set)
		arr = json_array();
	else
		printf("%-20s %-20s %-5s %-30s %-8s %-8s %s\n", "NAME",
		    "TENANT", "TRANS", "HOST:PORT", "STATE", "AUTH",
		    "ADDRESSES");
	for (i = 0; i < rows.n; i++) {
		const struct store_trunk *tr = &rows.v[i];
		char tname[STORE_NAME_MAX], hp[STORE_DOMAIN_MAX + 16];
		const char *tn = trunk_tenant_name(c, tr, tname);

		if (arr != NULL) {
			json_array_append_new(arr, trunk_json(tr, tn));
			continue;
		}
		snprintf(hp, sizeof(hp), "%s:%d", tr->host, tr->port);
		printf("%-20s %-20s %-5s %-30s %-8s %-8s %s\n", tr->name,
		    tn != NULL ? tn : "-", tr->transport, hp,
		    tr->enabled ? "enabled" : "disabled",
		    tr->auth.box_len > 0 ? "password" : "none", tr->addresses);
	}
	free(rows.v);
	if (arr != NULL)
		cli_json_print(arr);
	return EXIT_OK;
}

static int
trunk_show(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1];
	struct store_trunk tr;
	size_t npos;
	int rc;

	if ((rc = cli_args("trunk show", argc, argv, o, 1, pos, 1, 1, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = trunk_find(c, "trunk show", pos[0], &tr)) != EXIT_OK)
		return rc;
	trunk_print(c, &tr, o[0].set);
	return EXIT_OK;
}

/* Appends " PREFIXVALUE" to the audit detail, cut at its size. */
static void
detail_add(char *detail, size_t size, const char *prefix, const char *v)
{
	size_t used = strlen(detail);

	snprintf(
	    detail + used, size - used, "%s%s%s", used ? " " : "", prefix, v);
}

static int
trunk_set(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1 + TRUNK_SET_MAX], *why, *cmd = "trunk set";
	/* cli_audit keeps STORE_TEXT_MAX - 1 bytes of detail */
	char addrs[STORE_ADDRESSES_MAX], detail[2 * STORE_ADDRESSES_MAX] = "";
	struct store_trunk tr;
	size_t npos, i;
	int rc, port;

	if ((rc = cli_args(
	         cmd, argc, argv, o, 1, pos, 2, 1 + TRUNK_SET_MAX, &npos)))
		return rc;
	/* Check every KEY=VALUE before opening anything. */
	for (i = 1; i < npos; i++) {
		const char *eq = strchr(pos[i], '='), *v;
		size_t klen;

		if (eq == NULL || eq == pos[i])
			return cli_fail(EXIT_USAGE,
			    "%s: \"%s\" is not KEY=VALUE", cmd, pos[i]);
		klen = (size_t)(eq - pos[i]);
		v = eq + 1;
		if (klen == 9 && strncmp(pos[i], "addresses", 9) == 0) {
			if ((rc = trunk_addresses_parse(
			         cmd, "addresses", v, addrs)) != EXIT_OK)
				return rc;
			why = NULL;
		} else if (klen == 4 && strncmp(pos[i], "host", 4) == 0) {
			why = trunk_host_check(v);
		} else if (klen == 4 && strncmp(pos[i], "port", 4) == 0) {
			why = trunk_port_check(v, &port);
		} else if (klen == 9 && strncmp(pos[i], "transport", 9) == 0) {
			why = trunk_transport_check(v);
		} else if (klen == 7 && strncmp(pos[i], "enabled", 7) == 0) {
			why = strcmp(v, "on") == 0 || strcmp(v, "off") == 0
			          ? NULL
			          : "must be on or off";
		} else {
			return cli_fail(EXIT_USAGE,
			    "%s: unknown key \"%.*s\" (keys: addresses, host, "
			    "port, transport, enabled)",
			    cmd, (int)klen, pos[i]);
		}
		if (why != NULL)
			return cli_fail(EXIT_USAGE, "%s: %.*s \"%s\": %s", cmd,
			    (int)klen, pos[i], v, why);
	}
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = trunk_find(c, cmd, pos[0], &tr)) != EXIT_OK)
		return rc;
	for (i = 1; i < npos; i++) {
		const char *v = strchr(pos[i], '=') + 1;

		if (strncmp(pos[i], "addresses=", 10) == 0) {
			trunk_addresses_parse(cmd, "addresses", v, addrs);
			memcpy(tr.addresses, addrs, sizeof(tr.addresses));
			detail_add(detail, sizeof(detail), "addresses=", addrs);
			continue;
		}
		if (strncmp(pos[i], "host=", 5) == 0)
			snprintf(tr.host, sizeof(tr.host), "%s", v);
		else if (strncmp(pos[i], "port=", 5) == 0)
			trunk_port_check(v, &tr.port);
		else if (strncmp(pos[i], "transport=", 10) == 0)
			snprintf(tr.transport, sizeof(tr.transport), "%s", v);
		else
			tr.enabled = strcmp(v, "on") == 0;
		detail_add(detail, sizeof(detail), "", pos[i]);
	}
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_trunk_update(c->st, &tr);
		if (rc == 0)
			rc = cli_audit(
			    c, tr.tenant_id, "trunk.set", tr.name, detail);
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if ((rc = store_trunk_get_by_id(c->st, tr.id, &tr)) != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if (o[0].set)
		trunk_print(c, &tr, true);
	else
		printf("trunk %s updated: %s\n", tr.name, detail);
	return EXIT_OK;
}

struct trunk_users {
	int64_t trunk_id;
	size_t n;
	char first[STORE_E164_MAX];
};

static int
trunk_users_cb(void *arg, const struct store_number *n)
{
	struct trunk_users *u = arg;

	if (n->trunk_id != u->trunk_id)
		return 0;
	if (u->n++ == 0)
		memcpy(u->first, n->e164, sizeof(u->first));
	return 0;
}

static int
trunk_remove(struct cli *c, int argc, char **argv)
{
	struct cli_opt o[] = {{"--json", false, false, NULL}};
	const char *pos[1], *cmd = "trunk remove";
	struct store_trunk tr;
	struct trunk_users u;
	char tname[STORE_NAME_MAX];
	const char *tn;
	size_t npos;
	int rc;

	if ((rc = cli_args(cmd, argc, argv, o, 1, pos, 1, 1, &npos)))
		return rc;
	if ((rc = cli_open(c, false)) != EXIT_OK ||
	    (rc = trunk_find(c, cmd, pos[0], &tr)) != EXIT_OK)
		return rc;
	/* A number that names the trunk would lose it (ON DELETE SET NULL)
	 * and then take calls from any trunk of its tenant: refused. */
	memset(&u, 0, sizeof(u));
	u.trunk_id = tr.id;
	if (store_number_list(c->st, STORE_TENANT_ALL, trunk_users_cb, &u))
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if (u.n > 0)
		return cli_fail(EXIT_FAILED,
		    "%s: trunk \"%s\" still carries %zu number(s) (%s%s): "
		    "remove them first with `sipwarden number remove`",
		    cmd, tr.name, u.n, u.first, u.n > 1 ? ", ..." : "");
	tn = trunk_tenant_name(c, &tr, tname);
	if ((rc = store_tx_begin(c->st)) == 0) {
		rc = store_trunk_remove(c->st, tr.id);
		if (rc == 0)
			rc = cli_audit(
			    c, tr.tenant_id, "trunk.remove", tr.name, tr.host);
		if (rc != 0)
			store_tx_rollback(c->st);
		else
			rc = store_tx_commit(c->st);
	}
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	if (o[0].set)
		cli_json_print(json_pack("{s:s, s:o, s:b}", "name", tr.name,
		    "tenant", tn != NULL ? json_string(tn) : json_null(),
		    "removed", 1));
	else
		printf("trunk %s removed\n", tr.name);
	return EXIT_OK;
}

static const struct cli_sub trunk_subs[] = {
    {"add", trunk_add},
    {"list", trunk_list},
    {"show", trunk_show},
    {"set", trunk_set},
    {"remove", trunk_remove},
};

int
cmd_trunk(const char *conf, int argc, char **argv)
{
	return cli_dispatch(conf, "trunk", trunk_help, trunk_subs,
	    sizeof(trunk_subs) / sizeof(trunk_subs[0]), argc, argv);
}
