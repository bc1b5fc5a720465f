/* tables.c: the tables later parts fill: bindings, trunks, numbers,
 * devices, admins, calls and call legs, bans, alerts (store_tables.h).
 * Every SQL text is a literal: the SQLite back-end keeps its prepared
 * statement by the text's address. */
#include "store/store_priv.h"
#include "lib/util.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* ---- helpers shared by the tables ---- */

/* A text parameter from the fixed buffer buf of size bytes: never reads
 * past it (an unterminated buffer is cut at size - 1, what a row struct
 * holds back). With null_if_empty, "" is written as NULL. */
static struct store_val
tab_text(const char *buf, size_t size, bool null_if_empty)
{
	size_t len = strnlen(buf, size - 1);

	if (len == 0 && null_if_empty)
		return SV_NULL;
	return (struct store_val){.type = STORE_TEXT, .p = buf, .len = len};
}

/* f must be an array (a struct field), not a pointer. */
#define TX(f)      tab_text((f), sizeof(f), false)
#define TX_NULL(f) tab_text((f), sizeof(f), true)

/* EINVAL for a box too long or a box without the id of its key. */
static int
sealed_check(const struct store_sealed *s)
{
	if (s->box_len > STORE_BOX_MAX)
		return EINVAL;
	if (s->box_len > 0 && strnlen(s->key_id, sizeof(s->key_id)) == 0)
		return EINVAL;
	return 0;
}

/* Fills the two parameters key_id, box: both NULL when there is no box. */
static void
sealed_params(const struct store_sealed *s, struct store_val *p)
{
	if (s->box_len == 0) {
		p[0] = SV_NULL;
		p[1] = SV_NULL;
		return;
	}
	p[0] = TX(s->key_id);
	p[1] = SV_BLOB(s->box, s->box_len);
}

/* Reads the columns key_id and box into s; EIO for a box too long. */
static int
sealed_cols(const struct store_val *key_id, const struct store_val *box,
    struct store_sealed *s)
{
	memset(s, 0, sizeof(*s));
	if (box->type == STORE_NULL)
		return 0;
	if (box->len > sizeof(s->box))
		return EIO;
	s->box_len = store_col_blob(box, s->box, sizeof(s->box));
	store_col_text(key_id, s->key_id, sizeof(s->key_id));
	return 0;
}

/* A LIMIT for at most max rows, 0 meaning no limit. */
static int64_t
tab_limit(size_t max)
{
	if (max == 0 || (uint64_t)max > (uint64_t)INT64_MAX)
		return INT64_MAX;
	return (int64_t)max;
}

/* Runs an UPDATE or DELETE meant to touch one row: ENOENT when none. */
static int
tab_exec_one(
    struct store *st, const char *sql, const struct store_val *p, size_t np)
{
	int rc;

	if ((rc = store_query(st, sql, p, np, NULL, NULL)) != 0)
		return rc;
	return st->be->changes(st->impl) == 0 ? ENOENT : 0;
}

static int
tab_remove(struct store *st, const char *sql, int64_t id)
{
	struct store_val p[1] = {SV_INT(id)};

	return tab_exec_one(st, sql, p, 1);
}

/* Runs a DELETE of many rows; their count in *removed (may be NULL). */
static int
tab_delete_many(
    struct store *st, const char *sql, int64_t key, int64_t *removed)
{
	struct store_val p[1] = {SV_INT(key)};
	int rc;

	if ((rc = store_query(st, sql, p, 1, NULL, NULL)) != 0)
		return rc;
	if (removed != NULL)
		*removed = st->be->changes(st->impl);
	return 0;
}

/* The tenant (0 for NULL) of the row with this id that sql (one id
 * parameter, one column) selects, in *tenant; `missing` when there is no
 * such row: ENOENT for the row being changed, EINVAL for a reference. */
static int
tab_tenant_of(
    struct store *st, const char *sql, int64_t id, int missing, int64_t *tenant)
{
	struct store_val p[1] = {SV_INT(id)};
	int rc;

	rc = store_query_int(st, sql, p, 1, tenant);
	return rc == ENOENT ? missing : rc;
}

/* The reference checks below run outside a transaction on purpose: a
 * row's tenant never changes, and a row removed between the check and the
 * write fails the foreign key instead (EINVAL). So a failed check never
 * spoils a caller's batch transaction.
 *
 * Checks that extension_id is an extension of tenant_id; with *tenant_id
 * 0, takes the extension's. EINVAL when not. */
static int
ref_extension(struct store *st, int64_t extension_id, int64_t *tenant_id)
{
	int64_t t;
	int rc;

	rc = tab_tenant_of(st, "SELECT tenant_id FROM extensions WHERE id = ?",
	    extension_id, EINVAL, &t);
	if (rc != 0)
		return rc;
	if (*tenant_id == 0)
		*tenant_id = t;
	return *tenant_id == t ? 0 : EINVAL;
}

/* Checks that trunk_id (0 = none) is a trunk of tenant_id or a shared
 * one. EINVAL when not. */
static int
ref_trunk(struct store *st, int64_t trunk_id, int64_t tenant_id)
{
	int64_t t;
	int rc;

	if (trunk_id == 0)
		return 0;
	rc = tab_tenant_of(st, "SELECT tenant_id FROM trunks WHERE id = ?",
	    trunk_id, EINVAL, &t);
	if (rc != 0)
		return rc;
	return t == 0 || t == tenant_id ? 0 : EINVAL;
}

/* Collects up to 4 integer columns of the one row a statement returns. */
struct ints_row {
	int64_t v[4];
	bool found;
};

static int
ints_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct ints_row *r = arg;
	size_t i;

	for (i = 0; i < n && i < 4; i++)
		r->v[i] = store_col_int(&c[i]);
	r->found = true;
	return 0;
}

/* ---- bindings ---- */

#define BINDING_COLS                                                           \
	"id, tenant_id, extension_id, node, contact, instance, reg_id, "       \
	"source, transport, user_agent, call_id, cseq, expires_us, "           \
	"created_us, updated_us"

struct binding_walk {
	store_binding_cb cb;
	void *arg;
	struct store_binding *one; /* set for a single-row get */
	bool found;
};

static int
binding_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct binding_walk *w = arg;
	struct store_binding b, *bp = w->one ? w->one : &b;

	if (n < 15)
		return EIO;
	memset(bp, 0, sizeof(*bp));
	bp->id = store_col_int(&c[0]);
	bp->tenant_id = store_col_int(&c[1]);
	bp->extension_id = store_col_int(&c[2]);
	store_col_text(&c[3], bp->node, sizeof(bp->node));
	store_col_text(&c[4], bp->contact, sizeof(bp->contact));
	store_col_text(&c[5], bp->instance, sizeof(bp->instance));
	bp->reg_id = store_col_int(&c[6]);
	store_col_text(&c[7], bp->source, sizeof(bp->source));
	store_col_text(&c[8], bp->transport, sizeof(bp->transport));
	store_col_text(&c[9], bp->user_agent, sizeof(bp->user_agent));
	store_col_text(&c[10], bp->call_id, sizeof(bp->call_id));
	bp->cseq = store_col_int(&c[11]);
	bp->expires_us = store_col_int(&c[12]);
	bp->created_us = store_col_int(&c[13]);
	bp->updated_us = store_col_int(&c[14]);
	w->found = true;
	return w->cb ? w->cb(w->arg, bp) : 0;
}

static int
binding_get(struct store *st, const char *sql, const struct store_val *p,
    size_t np, struct store_binding *b)
{
	struct store_binding tmp;
	struct binding_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, p, np, binding_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*b = tmp;
	return 0;
}

/* Fills the 14 parameters of an INSERT of b (every column but id). */
static void
binding_params(const struct store_binding *b, int64_t tenant_id, int64_t now,
    struct store_val *p)
{
	p[0] = SV_INT(tenant_id);
	p[1] = SV_INT(b->extension_id);
	p[2] = TX(b->node);
	p[3] = TX(b->contact);
	p[4] = TX_NULL(b->instance);
	p[5] = SV_ID(b->reg_id);
	p[6] = TX(b->source);
	p[7] = TX(b->transport);
	p[8] = TX_NULL(b->user_agent);
	p[9] = TX(b->call_id);
	p[10] = SV_INT(b->cseq);
	p[11] = SV_INT(b->expires_us);
	p[12] = SV_INT(now);
	p[13] = SV_INT(now);
}

/* Adds (upsert false) or adds-or-refreshes b; on success fills b's id,
 * tenant_id and times. */
static int
binding_put(struct store *st, struct store_binding *b, bool upsert)
{
	struct store_val p[14];
	struct ints_row r = {.found = false};
	int64_t tenant_id = b->tenant_id, now = util_now_us();
	int rc;

	if ((rc = ref_extension(st, b->extension_id, &tenant_id)) != 0)
		return rc;
	binding_params(b, tenant_id, now, p);
	if (upsert)
		rc = store_query(st,
		    "INSERT INTO bindings (tenant_id, extension_id, node, "
		    "contact, instance, reg_id, source, transport, user_agent, "
		    "call_id, cseq, expires_us, created_us, updated_us) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		    "ON CONFLICT (extension_id, contact) DO UPDATE SET "
		    "node = excluded.node, instance = excluded.instance, "
		    "reg_id = excluded.reg_id, source = excluded.source, "
		    "transport = excluded.transport, "
		    "user_agent = excluded.user_agent, "
		    "call_id = excluded.call_id, cseq = excluded.cseq, "
		    "expires_us = excluded.expires_us, "
		    "updated_us = excluded.updated_us "
		    "RETURNING id, created_us",
		    p, 14, ints_row_cb, &r);
	else
		rc = store_query(st,
		    "INSERT INTO bindings (tenant_id, extension_id, node, "
		    "contact, instance, reg_id, source, transport, user_agent, "
		    "call_id, cseq, expires_us, created_us, updated_us) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		    "RETURNING id, created_us",
		    p, 14, ints_row_cb, &r);
	if (rc == 0 && !r.found)
		rc = EIO;
	if (rc != 0)
		return rc;
	b->id = r.v[0];
	b->tenant_id = tenant_id;
	b->created_us = r.v[1];
	b->updated_us = now;
	return 0;
}

int
store_binding_add(struct store *st, struct store_binding *b)
{
	return binding_put(st, b, false);
}

int
store_binding_upsert(struct store *st, struct store_binding *b)
{
	return binding_put(st, b, true);
}

int
store_binding_get(struct store *st, int64_t extension_id, const char *contact,
    struct store_binding *b)
{
	struct store_val p[2] = {SV_INT(extension_id), SV_TEXT(contact)};

	return binding_get(st,
	    "SELECT " BINDING_COLS
	    " FROM bindings WHERE extension_id = ? AND contact = ?",
	    p, 2, b);
}

int
store_binding_get_by_id(struct store *st, int64_t id, struct store_binding *b)
{
	struct store_val p[1] = {SV_INT(id)};

	return binding_get(
	    st, "SELECT " BINDING_COLS " FROM bindings WHERE id = ?", p, 1, b);
}

int
store_binding_update(struct store *st, const struct store_binding *b)
{
	struct store_val p[11] = {TX(b->node), TX_NULL(b->instance),
	    SV_ID(b->reg_id), TX(b->source), TX(b->transport),
	    TX_NULL(b->user_agent), TX(b->call_id), SV_INT(b->cseq),
	    SV_INT(b->expires_us), SV_INT(util_now_us()), SV_INT(b->id)};

	return tab_exec_one(st,
	    "UPDATE bindings SET node = ?, instance = ?, reg_id = ?, "
	    "source = ?, transport = ?, user_agent = ?, call_id = ?, cseq = ?, "
	    "expires_us = ?, updated_us = ? WHERE id = ?",
	    p, 11);
}

int
store_binding_remove(struct store *st, int64_t id)
{
	return tab_remove(st, "DELETE FROM bindings WHERE id = ?", id);
}

int
store_binding_expire(struct store *st, int64_t now_us, int64_t *removed)
{
	return tab_delete_many(
	    st, "DELETE FROM bindings WHERE expires_us <= ?", now_us, removed);
}

int
store_binding_list(
    struct store *st, int64_t extension_id, store_binding_cb cb, void *arg)
{
	struct binding_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(extension_id)};

	return store_query(st,
	    "SELECT " BINDING_COLS
	    " FROM bindings WHERE extension_id = ? ORDER BY id",
	    p, 1, binding_row_cb, &w);
}

int
store_binding_list_node(
    struct store *st, const char *node, store_binding_cb cb, void *arg)
{
	struct binding_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_TEXT(node)};

	return store_query(st,
	    "SELECT " BINDING_COLS " FROM bindings WHERE node = ? ORDER BY id",
	    p, 1, binding_row_cb, &w);
}

/* ---- trunks ---- */

#define TRUNK_COLS                                                             \
	"id, tenant_id, name, host, port, transport, addresses, auth_user, "   \
	"key_id, auth_box, enabled, settings, created_us, updated_us"

enum { TRUNK_PORT_DEFAULT = 5061, TRUNK_PORT_MAX = 65535 };

struct trunk_walk {
	store_trunk_cb cb;
	void *arg;
	struct store_trunk *one;
	bool found;
};

static int
trunk_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct trunk_walk *w = arg;
	struct store_trunk t, *tp = w->one ? w->one : &t;
	int rc;

	if (n < 14)
		return EIO;
	memset(tp, 0, sizeof(*tp));
	tp->id = store_col_int(&c[0]);
	tp->tenant_id = store_col_int(&c[1]);
	store_col_text(&c[2], tp->name, sizeof(tp->name));
	store_col_text(&c[3], tp->host, sizeof(tp->host));
	tp->port = (int)store_col_int(&c[4]);
	store_col_text(&c[5], tp->transport, sizeof(tp->transport));
	store_col_text(&c[6], tp->addresses, sizeof(tp->addresses));
	store_col_text(&c[7], tp->auth_user, sizeof(tp->auth_user));
	if ((rc = sealed_cols(&c[8], &c[9], &tp->auth)) != 0)
		return rc;
	tp->enabled = store_col_int(&c[10]) != 0;
	store_col_text(&c[11], tp->settings, sizeof(tp->settings));
	tp->created_us = store_col_int(&c[12]);
	tp->updated_us = store_col_int(&c[13]);
	w->found = true;
	return w->cb ? w->cb(w->arg, tp) : 0;
}

static int
trunk_get(struct store *st, const char *sql, struct store_val key,
    struct store_trunk *t)
{
	struct store_trunk tmp;
	struct trunk_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, &key, 1, trunk_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*t = tmp;
	return 0;
}

/* Checks the mutable columns of t and fills their 8 parameters: host,
 * port, transport, addresses, auth_user, key_id, auth_box, enabled, then
 * settings (9 in all). */
static int
trunk_params(const struct store_trunk *t, struct store_val *p)
{
	int rc;

	if (t->port < 0 || t->port > TRUNK_PORT_MAX)
		return EINVAL;
	if ((rc = sealed_check(&t->auth)) != 0)
		return rc;
	p[0] = TX(t->host);
	p[1] = SV_INT(t->port == 0 ? TRUNK_PORT_DEFAULT : t->port);
	p[2] = t->transport[0] ? TX(t->transport) : SV_TEXT("tls");
	p[3] = TX(t->addresses);
	p[4] = TX_NULL(t->auth_user);
	sealed_params(&t->auth, &p[5]);
	p[7] = SV_INT(t->enabled ? 1 : 0);
	p[8] = t->settings[0] ? TX(t->settings) : SV_TEXT("{}");
	return 0;
}

int
store_trunk_add(struct store *st, struct store_trunk *t)
{
	struct store_val p[13];
	int64_t id, now = util_now_us();
	int rc;

	p[0] = SV_ID(t->tenant_id);
	p[1] = TX(t->name);
	if ((rc = trunk_params(t, &p[2])) != 0)
		return rc;
	p[11] = SV_INT(now);
	p[12] = SV_INT(now);
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = store_query_int(st,
	    "INSERT INTO trunks (tenant_id, name, host, port, transport, "
	    "addresses, auth_user, key_id, auth_box, enabled, settings, "
	    "created_us, updated_us) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 13, &id);
	if (rc == 0)
		rc = store_change_add(st, t->tenant_id, "trunk", id, "add");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	if ((rc = store_tx_commit(st)) != 0)
		return rc;
	t->id = id;
	t->created_us = t->updated_us = now;
	return 0;
}

int
store_trunk_get(struct store *st, const char *name, struct store_trunk *t)
{
	return trunk_get(st, "SELECT " TRUNK_COLS " FROM trunks WHERE name = ?",
	    SV_TEXT(name), t);
}

int
store_trunk_get_by_id(struct store *st, int64_t id, struct store_trunk *t)
{
	return trunk_get(st, "SELECT " TRUNK_COLS " FROM trunks WHERE id = ?",
	    SV_INT(id), t);
}

int
store_trunk_update(struct store *st, const struct store_trunk *t)
{
	struct store_val p[11];
	int64_t tenant_id;
	int rc;

	if ((rc = trunk_params(t, p)) != 0)
		return rc;
	p[9] = SV_INT(util_now_us());
	p[10] = SV_INT(t->id);
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = tab_tenant_of(st, "SELECT tenant_id FROM trunks WHERE id = ?",
	    t->id, ENOENT, &tenant_id);
	if (rc == 0)
		rc = tab_exec_one(st,
		    "UPDATE trunks SET host = ?, port = ?, transport = ?, "
		    "addresses = ?, auth_user = ?, key_id = ?, auth_box = ?, "
		    "enabled = ?, settings = ?, updated_us = ? WHERE id = ?",
		    p, 11);
	if (rc == 0)
		rc = store_change_add(st, tenant_id, "trunk", t->id, "update");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_trunk_remove(struct store *st, int64_t id)
{
	int64_t tenant_id;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = tab_tenant_of(st, "SELECT tenant_id FROM trunks WHERE id = ?", id,
	    ENOENT, &tenant_id);
	if (rc == 0)
		rc = tab_remove(st, "DELETE FROM trunks WHERE id = ?", id);
	if (rc == 0)
		rc = store_change_add(st, tenant_id, "trunk", id, "remove");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_trunk_list(
    struct store *st, int64_t tenant_id, store_trunk_cb cb, void *arg)
{
	struct trunk_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(tenant_id)};

	if (tenant_id == STORE_TENANT_ALL)
		return store_query(st,
		    "SELECT " TRUNK_COLS " FROM trunks ORDER BY name", NULL, 0,
		    trunk_row_cb, &w);
	if (tenant_id == 0)
		return store_query(st,
		    "SELECT " TRUNK_COLS " FROM trunks WHERE tenant_id IS NULL "
		    "ORDER BY name",
		    NULL, 0, trunk_row_cb, &w);
	if (tenant_id < 0)
		return EINVAL;
	return store_query(st,
	    "SELECT " TRUNK_COLS " FROM trunks WHERE tenant_id = ? "
	    "ORDER BY name",
	    p, 1, trunk_row_cb, &w);
}

/* ---- numbers ---- */

#define NUMBER_COLS                                                            \
	"id, tenant_id, trunk_id, e164, destination, created_us, updated_us"

struct number_walk {
	store_number_cb cb;
	void *arg;
	struct store_number *one;
	bool found;
};

static int
number_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct number_walk *w = arg;
	struct store_number num, *np = w->one ? w->one : &num;

	if (n < 7)
		return EIO;
	memset(np, 0, sizeof(*np));
	np->id = store_col_int(&c[0]);
	np->tenant_id = store_col_int(&c[1]);
	np->trunk_id = store_col_int(&c[2]);
	store_col_text(&c[3], np->e164, sizeof(np->e164));
	store_col_text(&c[4], np->destination, sizeof(np->destination));
	np->created_us = store_col_int(&c[5]);
	np->updated_us = store_col_int(&c[6]);
	w->found = true;
	return w->cb ? w->cb(w->arg, np) : 0;
}

static int
number_get(struct store *st, const char *sql, struct store_val key,
    struct store_number *n)
{
	struct store_number tmp;
	struct number_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, &key, 1, number_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*n = tmp;
	return 0;
}

int
store_number_add(struct store *st, struct store_number *n)
{
	struct store_val p[6] = {SV_INT(n->tenant_id), SV_ID(n->trunk_id),
	    TX(n->e164), TX(n->destination)};
	int64_t id, now = util_now_us();
	int rc;

	p[4] = SV_INT(now);
	p[5] = SV_INT(now);
	if ((rc = ref_trunk(st, n->trunk_id, n->tenant_id)) != 0)
		return rc;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = store_query_int(st,
	    "INSERT INTO numbers (tenant_id, trunk_id, e164, destination, "
	    "created_us, updated_us) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 6, &id);
	if (rc == 0)
		rc = store_change_add(st, n->tenant_id, "number", id, "add");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	if ((rc = store_tx_commit(st)) != 0)
		return rc;
	n->id = id;
	n->created_us = n->updated_us = now;
	return 0;
}

int
store_number_get(struct store *st, const char *e164, struct store_number *n)
{
	return number_get(st,
	    "SELECT " NUMBER_COLS " FROM numbers WHERE e164 = ?", SV_TEXT(e164),
	    n);
}

int
store_number_get_by_id(struct store *st, int64_t id, struct store_number *n)
{
	return number_get(st,
	    "SELECT " NUMBER_COLS " FROM numbers WHERE id = ?", SV_INT(id), n);
}

int
store_number_update(struct store *st, const struct store_number *n)
{
	struct store_val p[4] = {SV_ID(n->trunk_id), TX(n->destination),
	    SV_INT(util_now_us()), SV_INT(n->id)};
	int64_t tenant_id;
	int rc;

	rc = tab_tenant_of(st, "SELECT tenant_id FROM numbers WHERE id = ?",
	    n->id, ENOENT, &tenant_id);
	if (rc == 0)
		rc = ref_trunk(st, n->trunk_id, tenant_id);
	if (rc != 0)
		return rc;
	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = tab_exec_one(st,
	    "UPDATE numbers SET trunk_id = ?, destination = ?, "
	    "updated_us = ? WHERE id = ?",
	    p, 4);
	if (rc == 0)
		rc = store_change_add(st, tenant_id, "number", n->id, "update");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_number_remove(struct store *st, int64_t id)
{
	int64_t tenant_id;
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = tab_tenant_of(st, "SELECT tenant_id FROM numbers WHERE id = ?", id,
	    ENOENT, &tenant_id);
	if (rc == 0)
		rc = tab_remove(st, "DELETE FROM numbers WHERE id = ?", id);
	if (rc == 0)
		rc = store_change_add(st, tenant_id, "number", id, "remove");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_number_list(
    struct store *st, int64_t tenant_id, store_number_cb cb, void *arg)
{
	struct number_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(tenant_id)};

	if (tenant_id == STORE_TENANT_ALL)
		return store_query(st,
		    "SELECT " NUMBER_COLS " FROM numbers ORDER BY e164", NULL,
		    0, number_row_cb, &w);
	if (tenant_id < 0)
		return EINVAL;
	return store_query(st,
	    "SELECT " NUMBER_COLS " FROM numbers WHERE tenant_id = ? "
	    "ORDER BY e164",
	    p, 1, number_row_cb, &w);
}

/* ---- devices ---- */

#define DEVICE_COLS                                                            \
	"id, tenant_id, extension_id, mac, vendor, model, firmware_seen, "     \
	"key_id, admin_password_box, last_provisioned_us, created_us, "        \
	"updated_us"

struct device_walk {
	store_device_cb cb;
	void *arg;
	struct store_device *one;
	bool found;
};

static int
device_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct device_walk *w = arg;
	struct store_device d, *dp = w->one ? w->one : &d;
	int rc;

	if (n < 12)
		return EIO;
	memset(dp, 0, sizeof(*dp));
	dp->id = store_col_int(&c[0]);
	dp->tenant_id = store_col_int(&c[1]);
	dp->extension_id = store_col_int(&c[2]);
	store_col_text(&c[3], dp->mac, sizeof(dp->mac));
	store_col_text(&c[4], dp->vendor, sizeof(dp->vendor));
	store_col_text(&c[5], dp->model, sizeof(dp->model));
	store_col_text(&c[6], dp->firmware_seen, sizeof(dp->firmware_seen));
	if ((rc = sealed_cols(&c[7], &c[8], &dp->admin_password)) != 0)
		return rc;
	dp->last_provisioned_us = store_col_int(&c[9]);
	dp->created_us = store_col_int(&c[10]);
	dp->updated_us = store_col_int(&c[11]);
	w->found = true;
	return w->cb ? w->cb(w->arg, dp) : 0;
}

static int
device_get(struct store *st, const char *sql, struct store_val key,
    struct store_device *d)
{
	struct store_device tmp;
	struct device_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, &key, 1, device_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*d = tmp;
	return 0;
}

/* Checks that extension_id (0 = none) is one of tenant_id's. */
static int
device_ref_extension(struct store *st, int64_t extension_id, int64_t tenant_id)
{
	int64_t t = tenant_id;

	if (extension_id == 0)
		return 0;
	if (tenant_id == 0)
		return EINVAL;
	return ref_extension(st, extension_id, &t);
}

int
store_device_add(struct store *st, struct store_device *d)
{
	struct store_val p[11];
	int64_t id, now = util_now_us();
	int rc;

	if ((rc = sealed_check(&d->admin_password)) != 0)
		return rc;
	p[0] = SV_INT(d->tenant_id);
	p[1] = SV_ID(d->extension_id);
	p[2] = TX(d->mac);
	p[3] = TX(d->vendor);
	p[4] = TX(d->model);
	p[5] = TX_NULL(d->firmware_seen);
	sealed_params(&d->admin_password, &p[6]);
	p[8] = SV_ID(d->last_provisioned_us);
	p[9] = SV_INT(now);
	p[10] = SV_INT(now);
	if ((rc = device_ref_extension(st, d->extension_id, d->tenant_id)) != 0)
		return rc;
	rc = store_query_int(st,
	    "INSERT INTO devices (tenant_id, extension_id, mac, vendor, model, "
	    "firmware_seen, key_id, admin_password_box, last_provisioned_us, "
	    "created_us, updated_us) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 11, &id);
	if (rc != 0)
		return rc;
	d->id = id;
	d->created_us = d->updated_us = now;
	return 0;
}

int
store_device_get(struct store *st, const char *mac, struct store_device *d)
{
	return device_get(st,
	    "SELECT " DEVICE_COLS " FROM devices WHERE mac = ?", SV_TEXT(mac),
	    d);
}

int
store_device_get_by_id(struct store *st, int64_t id, struct store_device *d)
{
	return device_get(st,
	    "SELECT " DEVICE_COLS " FROM devices WHERE id = ?", SV_INT(id), d);
}

int
store_device_update(struct store *st, const struct store_device *d)
{
	struct store_val p[7];
	int64_t tenant_id;
	int rc;

	if ((rc = sealed_check(&d->admin_password)) != 0)
		return rc;
	p[0] = SV_ID(d->extension_id);
	p[1] = TX(d->vendor);
	p[2] = TX(d->model);
	sealed_params(&d->admin_password, &p[3]);
	p[5] = SV_INT(util_now_us());
	p[6] = SV_INT(d->id);
	rc = tab_tenant_of(st, "SELECT tenant_id FROM devices WHERE id = ?",
	    d->id, ENOENT, &tenant_id);
	if (rc == 0)
		rc = device_ref_extension(st, d->extension_id, tenant_id);
	if (rc == 0)
		rc = tab_exec_one(st,
		    "UPDATE devices SET extension_id = ?, vendor = ?, "
		    "model = ?, key_id = ?, admin_password_box = ?, "
		    "updated_us = ? WHERE id = ?",
		    p, 7);
	return rc;
}

int
store_device_seen(struct store *st, const struct store_device *d)
{
	struct store_val p[3] = {TX_NULL(d->firmware_seen),
	    SV_ID(d->last_provisioned_us), SV_INT(d->id)};

	return tab_exec_one(st,
	    "UPDATE devices SET firmware_seen = ?, last_provisioned_us = ? "
	    "WHERE id = ?",
	    p, 3);
}

int
store_device_remove(struct store *st, int64_t id)
{
	return tab_remove(st, "DELETE FROM devices WHERE id = ?", id);
}

int
store_device_list(
    struct store *st, int64_t tenant_id, store_device_cb cb, void *arg)
{
	struct device_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(tenant_id)};

	if (tenant_id == STORE_TENANT_ALL)
		return store_query(st,
		    "SELECT " DEVICE_COLS " FROM devices ORDER BY mac", NULL, 0,
		    device_row_cb, &w);
	if (tenant_id < 0)
		return EINVAL;
	return store_query(st,
	    "SELECT " DEVICE_COLS " FROM devices WHERE tenant_id = ? "
	    "ORDER BY mac",
	    p, 1, device_row_cb, &w);
}

/* ---- admins ---- */

#define ADMIN_COLS                                                             \
	"id, tenant_id, username, role, password_hash, key_id, totp_box, "     \
	"totp_confirmed, enabled, created_us, updated_us, last_login_us"

struct admin_walk {
	store_admin_cb cb;
	void *arg;
	struct store_admin *one;
	bool found;
};

static int
admin_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct admin_walk *w = arg;
	struct store_admin a, *ap = w->one ? w->one : &a;
	int rc;

	if (n < 12)
		return EIO;
	memset(ap, 0, sizeof(*ap));
	ap->id = store_col_int(&c[0]);
	ap->tenant_id = store_col_int(&c[1]);
	store_col_text(&c[2], ap->username, sizeof(ap->username));
	store_col_text(&c[3], ap->role, sizeof(ap->role));
	store_col_text(&c[4], ap->password_hash, sizeof(ap->password_hash));
	if ((rc = sealed_cols(&c[5], &c[6], &ap->totp)) != 0)
		return rc;
	ap->totp_confirmed = store_col_int(&c[7]) != 0;
	ap->enabled = store_col_int(&c[8]) != 0;
	ap->created_us = store_col_int(&c[9]);
	ap->updated_us = store_col_int(&c[10]);
	ap->last_login_us = store_col_int(&c[11]);
	w->found = true;
	return w->cb ? w->cb(w->arg, ap) : 0;
}

static int
admin_get(struct store *st, const char *sql, struct store_val key,
    struct store_admin *a)
{
	struct store_admin tmp;
	struct admin_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, &key, 1, admin_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*a = tmp;
	return 0;
}

/* Checks a (of tenant tenant_id): a superadmin is the provider's (no
 * tenant), a tenant_admin has a tenant; the schema checks the role's
 * name. EINVAL when wrong. */
static int
admin_check(const struct store_admin *a, int64_t tenant_id)
{
	if (memchr(a->role, '\0', sizeof(a->role)) == NULL)
		return EINVAL;
	if (strcmp(a->role, "superadmin") == 0 && tenant_id != 0)
		return EINVAL;
	if (strcmp(a->role, "tenant_admin") == 0 && tenant_id == 0)
		return EINVAL;
	return sealed_check(&a->totp);
}

int
store_admin_add(struct store *st, struct store_admin *a)
{
	struct store_val p[10];
	int64_t id, now = util_now_us();
	int rc;

	if ((rc = admin_check(a, a->tenant_id)) != 0)
		return rc;
	p[0] = SV_ID(a->tenant_id);
	p[1] = TX(a->username);
	p[2] = TX(a->role);
	p[3] = TX(a->password_hash);
	sealed_params(&a->totp, &p[4]);
	p[6] = SV_INT(a->totp_confirmed ? 1 : 0);
	p[7] = SV_INT(a->enabled ? 1 : 0);
	p[8] = SV_INT(now);
	p[9] = SV_INT(now);
	rc = store_query_int(st,
	    "INSERT INTO admins (tenant_id, username, role, password_hash, "
	    "key_id, totp_box, totp_confirmed, enabled, created_us, "
	    "updated_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 10, &id);
	if (rc != 0)
		return rc;
	a->id = id;
	a->created_us = a->updated_us = now;
	a->last_login_us = 0;
	return 0;
}

int
store_admin_get(struct store *st, const char *username, struct store_admin *a)
{
	return admin_get(st,
	    "SELECT " ADMIN_COLS " FROM admins WHERE username = ?",
	    SV_TEXT(username), a);
}

int
store_admin_get_by_id(struct store *st, int64_t id, struct store_admin *a)
{
	return admin_get(st, "SELECT " ADMIN_COLS " FROM admins WHERE id = ?",
	    SV_INT(id), a);
}

int
store_admin_update(struct store *st, const struct store_admin *a)
{
	struct store_val p[8];
	int64_t tenant_id;
	int rc;

	if ((rc = sealed_check(&a->totp)) != 0)
		return rc;
	p[0] = TX(a->role);
	p[1] = TX(a->password_hash);
	sealed_params(&a->totp, &p[2]);
	p[4] = SV_INT(a->totp_confirmed ? 1 : 0);
	p[5] = SV_INT(a->enabled ? 1 : 0);
	p[6] = SV_INT(util_now_us());
	p[7] = SV_INT(a->id);
	rc = tab_tenant_of(st, "SELECT tenant_id FROM admins WHERE id = ?",
	    a->id, ENOENT, &tenant_id);
	if (rc == 0)
		rc = admin_check(a, tenant_id);
	if (rc == 0)
		rc = tab_exec_one(st,
		    "UPDATE admins SET role = ?, password_hash = ?, "
		    "key_id = ?, totp_box = ?, totp_confirmed = ?, "
		    "enabled = ?, updated_us = ? WHERE id = ?",
		    p, 8);
	return rc;
}

int
store_admin_login(struct store *st, int64_t id, int64_t at_us)
{
	struct store_val p[2] = {SV_INT(at_us), SV_INT(id)};

	return tab_exec_one(
	    st, "UPDATE admins SET last_login_us = ? WHERE id = ?", p, 2);
}

int
store_admin_remove(struct store *st, int64_t id)
{
	return tab_remove(st, "DELETE FROM admins WHERE id = ?", id);
}

int
store_admin_list(
    struct store *st, int64_t tenant_id, store_admin_cb cb, void *arg)
{
	struct admin_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(tenant_id)};

	if (tenant_id == STORE_TENANT_ALL)
		return store_query(st,
		    "SELECT " ADMIN_COLS " FROM admins ORDER BY username", NULL,
		    0, admin_row_cb, &w);
	if (tenant_id == 0)
		return store_query(st,
		    "SELECT " ADMIN_COLS " FROM admins WHERE tenant_id IS NULL "
		    "ORDER BY username",
		    NULL, 0, admin_row_cb, &w);
	if (tenant_id < 0)
		return EINVAL;
	return store_query(st,
	    "SELECT " ADMIN_COLS " FROM admins WHERE tenant_id = ? "
	    "ORDER BY username",
	    p, 1, admin_row_cb, &w);
}

/* ---- calls ---- */

#define CALL_COLS                                                              \
	"id, tenant_id, uuid, node, caller, callee, direction, start_us, "     \
	"answer_us, end_us, disposition, duration_ms, source, user_agent, "    \
	"transport, cost_micro"

struct call_walk {
	store_call_cb cb;
	void *arg;
	struct store_call *one;
	bool found;
};

static int
call_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct call_walk *w = arg;
	struct store_call call, *cp = w->one ? w->one : &call;

	if (n < 16)
		return EIO;
	memset(cp, 0, sizeof(*cp));
	cp->id = store_col_int(&c[0]);
	cp->tenant_id = store_col_int(&c[1]);
	store_col_text(&c[2], cp->uuid, sizeof(cp->uuid));
	store_col_text(&c[3], cp->node, sizeof(cp->node));
	store_col_text(&c[4], cp->caller, sizeof(cp->caller));
	store_col_text(&c[5], cp->callee, sizeof(cp->callee));
	store_col_text(&c[6], cp->direction, sizeof(cp->direction));
	cp->start_us = store_col_int(&c[7]);
	cp->answer_us = store_col_int(&c[8]);
	cp->end_us = store_col_int(&c[9]);
	store_col_text(&c[10], cp->disposition, sizeof(cp->disposition));
	cp->duration_ms = store_col_int(&c[11]);
	store_col_text(&c[12], cp->source, sizeof(cp->source));
	store_col_text(&c[13], cp->user_agent, sizeof(cp->user_agent));
	store_col_text(&c[14], cp->transport, sizeof(cp->transport));
	cp->cost_micro = store_col_int(&c[15]);
	w->found = true;
	return w->cb ? w->cb(w->arg, cp) : 0;
}

static int
call_get(struct store *st, const char *sql, struct store_val key,
    struct store_call *c)
{
	struct store_call tmp;
	struct call_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, &key, 1, call_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*c = tmp;
	return 0;
}

int
store_call_add(struct store *st, struct store_call *c)
{
	struct store_val p[15] = {SV_INT(c->tenant_id), TX(c->uuid),
	    TX(c->node), TX(c->caller), TX(c->callee), TX(c->direction),
	    SV_INT(c->start_us), SV_ID(c->answer_us), SV_ID(c->end_us),
	    TX_NULL(c->disposition), SV_INT(c->duration_ms), TX_NULL(c->source),
	    TX_NULL(c->user_agent), TX_NULL(c->transport),
	    SV_INT(c->cost_micro)};
	int64_t id;
	int rc;

	rc = store_query_int(st,
	    "INSERT INTO calls (tenant_id, uuid, node, caller, callee, "
	    "direction, start_us, answer_us, end_us, disposition, duration_ms, "
	    "source, user_agent, transport, cost_micro) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 15, &id);
	if (rc != 0)
		return rc;
	c->id = id;
	return 0;
}

int
store_call_get(struct store *st, const char *uuid, struct store_call *c)
{
	return call_get(st, "SELECT " CALL_COLS " FROM calls WHERE uuid = ?",
	    SV_TEXT(uuid), c);
}

int
store_call_get_by_id(struct store *st, int64_t id, struct store_call *c)
{
	return call_get(
	    st, "SELECT " CALL_COLS " FROM calls WHERE id = ?", SV_INT(id), c);
}

int
store_call_update(struct store *st, const struct store_call *c)
{
	struct store_val p[6] = {SV_ID(c->answer_us), SV_ID(c->end_us),
	    TX_NULL(c->disposition), SV_INT(c->duration_ms),
	    SV_INT(c->cost_micro), SV_INT(c->id)};

	return tab_exec_one(st,
	    "UPDATE calls SET answer_us = ?, end_us = ?, disposition = ?, "
	    "duration_ms = ?, cost_micro = ? WHERE id = ?",
	    p, 6);
}

int
store_call_remove(struct store *st, int64_t id)
{
	return tab_remove(st, "DELETE FROM calls WHERE id = ?", id);
}

int
store_call_purge(struct store *st, int64_t before_us, int64_t *removed)
{
	return tab_delete_many(
	    st, "DELETE FROM calls WHERE start_us < ?", before_us, removed);
}

int
store_call_list(struct store *st, int64_t tenant_id, int64_t from_us,
    int64_t to_us, size_t max, store_call_cb cb, void *arg)
{
	struct call_walk w = {.cb = cb, .arg = arg};
	struct store_val p[4] = {SV_INT(tenant_id), SV_INT(from_us),
	    SV_INT(to_us), SV_INT(tab_limit(max))};

	if (tenant_id == STORE_TENANT_ALL)
		return store_query(st,
		    "SELECT " CALL_COLS " FROM calls WHERE start_us >= ? AND "
		    "start_us < ? ORDER BY start_us, id LIMIT ?",
		    &p[1], 3, call_row_cb, &w);
	if (tenant_id < 0)
		return EINVAL;
	return store_query(st,
	    "SELECT " CALL_COLS " FROM calls WHERE tenant_id = ? AND "
	    "start_us >= ? AND start_us < ? ORDER BY start_us, id LIMIT ?",
	    p, 4, call_row_cb, &w);
}

/* ---- call legs ---- */

#define LEG_COLS                                                               \
	"id, call_id, tenant_id, leg, kind, peer, trunk_id, transport, "       \
	"start_us, answer_us, end_us, disposition, cost_micro, packets, "      \
	"bytes, lost, jitter_us"

struct leg_walk {
	store_call_leg_cb cb;
	void *arg;
	struct store_call_leg *one;
	bool found;
};

static int
leg_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct leg_walk *w = arg;
	struct store_call_leg l, *lp = w->one ? w->one : &l;

	if (n < 17)
		return EIO;
	memset(lp, 0, sizeof(*lp));
	lp->id = store_col_int(&c[0]);
	lp->call_id = store_col_int(&c[1]);
	lp->tenant_id = store_col_int(&c[2]);
	lp->leg = (int)store_col_int(&c[3]);
	store_col_text(&c[4], lp->kind, sizeof(lp->kind));
	store_col_text(&c[5], lp->peer, sizeof(lp->peer));
	lp->trunk_id = store_col_int(&c[6]);
	store_col_text(&c[7], lp->transport, sizeof(lp->transport));
	lp->start_us = store_col_int(&c[8]);
	lp->answer_us = store_col_int(&c[9]);
	lp->end_us = store_col_int(&c[10]);
	store_col_text(&c[11], lp->disposition, sizeof(lp->disposition));
	lp->cost_micro = store_col_int(&c[12]);
	lp->packets = store_col_int(&c[13]);
	lp->bytes = store_col_int(&c[14]);
	lp->lost = store_col_int(&c[15]);
	lp->jitter_us = store_col_int(&c[16]);
	w->found = true;
	return w->cb ? w->cb(w->arg, lp) : 0;
}

static int
leg_get(struct store *st, const char *sql, const struct store_val *p, size_t np,
    struct store_call_leg *l)
{
	struct store_call_leg tmp;
	struct leg_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, p, np, leg_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*l = tmp;
	return 0;
}

int
store_call_leg_add(struct store *st, struct store_call_leg *l)
{
	struct store_val p[16];
	int64_t id, tenant_id;
	int rc;

	rc = tab_tenant_of(st, "SELECT tenant_id FROM calls WHERE id = ?",
	    l->call_id, EINVAL, &tenant_id);
	if (rc == 0 && l->tenant_id != 0 && l->tenant_id != tenant_id)
		rc = EINVAL;
	if (rc == 0)
		rc = ref_trunk(st, l->trunk_id, tenant_id);
	if (rc != 0)
		return rc;
	p[0] = SV_INT(l->call_id);
	p[1] = SV_INT(tenant_id);
	p[2] = SV_INT(l->leg);
	p[3] = TX(l->kind);
	p[4] = TX(l->peer);
	p[5] = SV_ID(l->trunk_id);
	p[6] = TX_NULL(l->transport);
	p[7] = SV_INT(l->start_us);
	p[8] = SV_ID(l->answer_us);
	p[9] = SV_ID(l->end_us);
	p[10] = TX_NULL(l->disposition);
	p[11] = SV_INT(l->cost_micro);
	p[12] = SV_INT(l->packets);
	p[13] = SV_INT(l->bytes);
	p[14] = SV_INT(l->lost);
	p[15] = SV_INT(l->jitter_us);
	rc = store_query_int(st,
	    "INSERT INTO call_legs (call_id, tenant_id, leg, kind, peer, "
	    "trunk_id, transport, start_us, answer_us, end_us, disposition, "
	    "cost_micro, packets, bytes, lost, jitter_us) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "RETURNING id",
	    p, 16, &id);
	if (rc != 0)
		return rc;
	l->id = id;
	l->tenant_id = tenant_id;
	return 0;
}

int
store_call_leg_get(
    struct store *st, int64_t call_id, int leg, struct store_call_leg *l)
{
	struct store_val p[2] = {SV_INT(call_id), SV_INT(leg)};

	return leg_get(st,
	    "SELECT " LEG_COLS " FROM call_legs WHERE call_id = ? AND leg = ?",
	    p, 2, l);
}

int
store_call_leg_get_by_id(struct store *st, int64_t id, struct store_call_leg *l)
{
	struct store_val p[1] = {SV_INT(id)};

	return leg_get(
	    st, "SELECT " LEG_COLS " FROM call_legs WHERE id = ?", p, 1, l);
}

int
store_call_leg_update(struct store *st, const struct store_call_leg *l)
{
	struct store_val p[11] = {SV_ID(l->trunk_id), TX_NULL(l->transport),
	    SV_ID(l->answer_us), SV_ID(l->end_us), TX_NULL(l->disposition),
	    SV_INT(l->cost_micro), SV_INT(l->packets), SV_INT(l->bytes),
	    SV_INT(l->lost), SV_INT(l->jitter_us), SV_INT(l->id)};
	int64_t tenant_id;
	int rc;

	rc = tab_tenant_of(st, "SELECT tenant_id FROM call_legs WHERE id = ?",
	    l->id, ENOENT, &tenant_id);
	if (rc == 0)
		rc = ref_trunk(st, l->trunk_id, tenant_id);
	if (rc == 0)
		rc = tab_exec_one(st,
		    "UPDATE call_legs SET trunk_id = ?, transport = ?, "
		    "answer_us = ?, end_us = ?, disposition = ?, "
		    "cost_micro = ?, packets = ?, bytes = ?, lost = ?, "
		    "jitter_us = ? WHERE id = ?",
		    p, 11);
	return rc;
}

int
store_call_leg_list(
    struct store *st, int64_t call_id, store_call_leg_cb cb, void *arg)
{
	struct leg_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(call_id)};

	return store_query(st,
	    "SELECT " LEG_COLS " FROM call_legs WHERE call_id = ? ORDER BY leg",
	    p, 1, leg_row_cb, &w);
}

/* ---- bans ---- */

#define BAN_COLS                                                               \
	"id, source, reason, offences, node, created_us, expires_us, manual"

struct ban_walk {
	store_ban_cb cb;
	void *arg;
	struct store_ban *one;
	bool found;
};

static int
ban_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct ban_walk *w = arg;
	struct store_ban b, *bp = w->one ? w->one : &b;

	if (n < 8)
		return EIO;
	memset(bp, 0, sizeof(*bp));
	bp->id = store_col_int(&c[0]);
	store_col_text(&c[1], bp->source, sizeof(bp->source));
	store_col_text(&c[2], bp->reason, sizeof(bp->reason));
	bp->offences = store_col_int(&c[3]);
	store_col_text(&c[4], bp->node, sizeof(bp->node));
	bp->created_us = store_col_int(&c[5]);
	bp->expires_us = store_col_int(&c[6]);
	bp->manual = store_col_int(&c[7]) != 0;
	w->found = true;
	return w->cb ? w->cb(w->arg, bp) : 0;
}

static int
ban_get(struct store *st, const char *sql, struct store_val key,
    struct store_ban *b)
{
	struct store_ban tmp;
	struct ban_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, &key, 1, ban_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*b = tmp;
	return 0;
}

int
store_ban_add(struct store *st, struct store_ban *b)
{
	int64_t created = b->created_us ? b->created_us : util_now_us();
	int64_t offences = b->offences ? b->offences : 1;
	struct store_val p[7] = {TX(b->source), TX(b->reason), SV_INT(offences),
	    TX(b->node), SV_INT(created), SV_INT(b->expires_us),
	    SV_INT(b->manual ? 1 : 0)};
	int64_t id;
	int rc;

	rc = store_query_int(st,
	    "INSERT INTO bans (source, reason, offences, node, created_us, "
	    "expires_us, manual) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 7, &id);
	if (rc != 0)
		return rc;
	b->id = id;
	b->offences = offences;
	b->created_us = created;
	return 0;
}

int
store_ban_upsert(struct store *st, struct store_ban *b)
{
	int64_t created = b->created_us ? b->created_us : util_now_us();
	struct store_val p[6] = {TX(b->source), TX(b->reason), TX(b->node),
	    SV_INT(created), SV_INT(b->expires_us), SV_INT(b->manual ? 1 : 0)};
	struct ints_row r = {.found = false};
	int rc;

	/* bans.offences: PostgreSQL finds a bare name ambiguous here. */
	rc = store_query(st,
	    "INSERT INTO bans (source, reason, offences, node, created_us, "
	    "expires_us, manual) VALUES (?, ?, 1, ?, ?, ?, ?) "
	    "ON CONFLICT (source) DO UPDATE SET "
	    "offences = bans.offences + 1, reason = excluded.reason, "
	    "node = excluded.node, expires_us = excluded.expires_us, "
	    "manual = excluded.manual "
	    "RETURNING id, offences, created_us",
	    p, 6, ints_row_cb, &r);
	if (rc == 0 && !r.found)
		rc = EIO;
	if (rc != 0)
		return rc;
	b->id = r.v[0];
	b->offences = r.v[1];
	b->created_us = r.v[2];
	return 0;
}

int
store_ban_get(struct store *st, const char *source, struct store_ban *b)
{
	return ban_get(st, "SELECT " BAN_COLS " FROM bans WHERE source = ?",
	    SV_TEXT(source), b);
}

int
store_ban_get_by_id(struct store *st, int64_t id, struct store_ban *b)
{
	return ban_get(
	    st, "SELECT " BAN_COLS " FROM bans WHERE id = ?", SV_INT(id), b);
}

int
store_ban_update(struct store *st, const struct store_ban *b)
{
	struct store_val p[6] = {TX(b->reason), SV_INT(b->offences),
	    TX(b->node), SV_INT(b->expires_us), SV_INT(b->manual ? 1 : 0),
	    SV_INT(b->id)};

	return tab_exec_one(st,
	    "UPDATE bans SET reason = ?, offences = ?, node = ?, "
	    "expires_us = ?, manual = ? WHERE id = ?",
	    p, 6);
}

int
store_ban_remove(struct store *st, int64_t id)
{
	return tab_remove(st, "DELETE FROM bans WHERE id = ?", id);
}

int
store_ban_expire(struct store *st, int64_t before_us, int64_t *removed)
{
	return tab_delete_many(
	    st, "DELETE FROM bans WHERE expires_us <= ?", before_us, removed);
}

int
store_ban_list_active(
    struct store *st, int64_t now_us, store_ban_cb cb, void *arg)
{
	struct ban_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(now_us)};

	return store_query(st,
	    "SELECT " BAN_COLS " FROM bans WHERE expires_us > ? ORDER BY id", p,
	    1, ban_row_cb, &w);
}

/* ---- alerts ---- */

#define ALERT_COLS                                                             \
	"id, tenant_id, kind, severity, subject, detail, created_us, "         \
	"sent_us, acked_us"

struct alert_walk {
	store_alert_cb cb;
	void *arg;
	struct store_alert *one;
	bool found;
};

static int
alert_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct alert_walk *w = arg;
	struct store_alert a, *ap = w->one ? w->one : &a;

	if (n < 9)
		return EIO;
	memset(ap, 0, sizeof(*ap));
	ap->id = store_col_int(&c[0]);
	ap->tenant_id = store_col_int(&c[1]);
	store_col_text(&c[2], ap->kind, sizeof(ap->kind));
	store_col_text(&c[3], ap->severity, sizeof(ap->severity));
	store_col_text(&c[4], ap->subject, sizeof(ap->subject));
	store_col_text(&c[5], ap->detail, sizeof(ap->detail));
	ap->created_us = store_col_int(&c[6]);
	ap->sent_us = store_col_int(&c[7]);
	ap->acked_us = store_col_int(&c[8]);
	w->found = true;
	return w->cb ? w->cb(w->arg, ap) : 0;
}

int
store_alert_add(struct store *st, struct store_alert *a)
{
	int64_t created = a->created_us ? a->created_us : util_now_us();
	struct store_val p[8] = {SV_ID(a->tenant_id), TX(a->kind),
	    TX(a->severity), TX(a->subject), TX(a->detail), SV_INT(created),
	    SV_ID(a->sent_us), SV_ID(a->acked_us)};
	int64_t id;
	int rc;

	rc = store_query_int(st,
	    "INSERT INTO alerts (tenant_id, kind, severity, subject, detail, "
	    "created_us, sent_us, acked_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
	    "RETURNING id",
	    p, 8, &id);
	if (rc != 0)
		return rc;
	a->id = id;
	a->created_us = created;
	return 0;
}

int
store_alert_get_by_id(struct store *st, int64_t id, struct store_alert *a)
{
	struct store_alert tmp;
	struct alert_walk w = {.one = &tmp};
	struct store_val p[1] = {SV_INT(id)};
	int rc;

	rc = store_query(st, "SELECT " ALERT_COLS " FROM alerts WHERE id = ?",
	    p, 1, alert_row_cb, &w);
	if (rc != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*a = tmp;
	return 0;
}

/* Sets a time column that is still NULL (sql: time, id); ENOENT when no
 * such alert, EALREADY when the column was set. */
static int
alert_mark(struct store *st, const char *sql, int64_t id, int64_t at_us)
{
	struct store_val p[2] = {SV_INT(at_us), SV_INT(id)};
	int64_t n;
	int rc;

	if ((rc = store_query(st, sql, p, 2, NULL, NULL)) != 0)
		return rc;
	if (st->be->changes(st->impl) > 0)
		return 0;
	rc = store_query_int(
	    st, "SELECT count(*) FROM alerts WHERE id = ?", &p[1], 1, &n);
	if (rc != 0)
		return rc;
	return n == 0 ? ENOENT : EALREADY;
}

int
store_alert_mark_sent(struct store *st, int64_t id, int64_t at_us)
{
	return alert_mark(st,
	    "UPDATE alerts SET sent_us = ? WHERE id = ? AND sent_us IS NULL",
	    id, at_us);
}

int
store_alert_mark_acked(struct store *st, int64_t id, int64_t at_us)
{
	return alert_mark(st,
	    "UPDATE alerts SET acked_us = ? WHERE id = ? AND acked_us IS NULL",
	    id, at_us);
}

int
store_alert_remove(struct store *st, int64_t id)
{
	return tab_remove(st, "DELETE FROM alerts WHERE id = ?", id);
}

int
store_alert_list(struct store *st, int64_t tenant_id, size_t max,
    store_alert_cb cb, void *arg)
{
	struct alert_walk w = {.cb = cb, .arg = arg};
	struct store_val p[2] = {SV_INT(tenant_id), SV_INT(tab_limit(max))};

	if (tenant_id == STORE_TENANT_ALL)
		return store_query(st,
		    "SELECT " ALERT_COLS " FROM alerts "
		    "ORDER BY created_us DESC, id DESC LIMIT ?",
		    &p[1], 1, alert_row_cb, &w);
	if (tenant_id == 0)
		return store_query(st,
		    "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id IS NULL "
		    "ORDER BY created_us DESC, id DESC LIMIT ?",
		    &p[1], 1, alert_row_cb, &w);
	if (tenant_id < 0)
		return EINVAL;
	return store_query(st,
	    "SELECT " ALERT_COLS " FROM alerts WHERE tenant_id = ? "
	    "ORDER BY created_us DESC, id DESC LIMIT ?",
	    p, 2, alert_row_cb, &w);
}

int
store_alert_list_unsent(
    struct store *st, size_t max, store_alert_cb cb, void *arg)
{
	struct alert_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(tab_limit(max))};

	return store_query(st,
	    "SELECT " ALERT_COLS " FROM alerts WHERE sent_us IS NULL "
	    "ORDER BY created_us, id LIMIT ?",
	    p, 1, alert_row_cb, &w);
}
