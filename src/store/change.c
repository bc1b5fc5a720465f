/* change.c: the change log a running daemon follows, and the append-only
 * audit log of administrative actions. */
#include "store/store_priv.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>

int
store_change_add(struct store *st, int64_t tenant_id, const char *kind,
    int64_t object_id, const char *op)
{
	struct store_val p[5] = {SV_INT(util_now_us()), SV_ID(tenant_id),
	    SV_TEXT(kind), SV_INT(object_id), SV_TEXT(op)};

	return store_query(st,
	    "INSERT INTO changes (at_us, tenant_id, kind, object_id, op) "
	    "VALUES (?, ?, ?, ?, ?)",
	    p, 5, NULL, NULL);
}

struct change_walk {
	store_change_cb cb;
	void *arg;
};

static int
change_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct change_walk *w = arg;
	struct store_change ch;

	if (n < 6)
		return EIO;
	memset(&ch, 0, sizeof(ch));
	ch.seq = store_col_int(&c[0]);
	ch.at_us = store_col_int(&c[1]);
	ch.tenant_id = store_col_int(&c[2]);
	store_col_text(&c[3], ch.kind, sizeof(ch.kind));
	ch.object_id = store_col_int(&c[4]);
	store_col_text(&c[5], ch.op, sizeof(ch.op));
	return w->cb(w->arg, &ch);
}

int
store_change_since(
    struct store *st, int64_t after, size_t max, store_change_cb cb, void *arg)
{
	struct change_walk w = {cb, arg};
	struct store_val p[2] = {SV_INT(after), SV_INT((int64_t)max)};

	return store_query(st,
	    "SELECT seq, at_us, tenant_id, kind, object_id, op FROM changes "
	    "WHERE seq > ? ORDER BY seq LIMIT ?",
	    p, 2, change_row_cb, &w);
}

int
store_change_last(struct store *st, int64_t *seq)
{
	return store_query_int(
	    st, "SELECT COALESCE(MAX(seq), 0) FROM changes", NULL, 0, seq);
}

int
store_audit_add(struct store *st, struct store_audit *a)
{
	struct store_val p[7];
	int64_t id;
	int rc;

	if (a->at_us == 0)
		a->at_us = util_now_us();
	p[0] = SV_INT(a->at_us);
	p[1] = SV_TEXT(a->actor);
	p[2] = SV_TEXT(a->source);
	p[3] = SV_ID(a->tenant_id);
	p[4] = SV_TEXT(a->action);
	p[5] = SV_TEXT(a->target);
	p[6] = SV_TEXT(a->detail);
	rc = store_query_int(st,
	    "INSERT INTO audit_log (at_us, actor, source, tenant_id, action, "
	    "target, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 7, &id);
	if (rc == 0)
		a->id = id;
	return rc;
}

struct audit_walk {
	store_audit_cb cb;
	void *arg;
};

static int
audit_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct audit_walk *w = arg;
	struct store_audit a;

	if (n < 8)
		return EIO;
	memset(&a, 0, sizeof(a));
	a.id = store_col_int(&c[0]);
	a.at_us = store_col_int(&c[1]);
	store_col_text(&c[2], a.actor, sizeof(a.actor));
	store_col_text(&c[3], a.source, sizeof(a.source));
	a.tenant_id = store_col_int(&c[4]);
	store_col_text(&c[5], a.action, sizeof(a.action));
	store_col_text(&c[6], a.target, sizeof(a.target));
	store_col_text(&c[7], a.detail, sizeof(a.detail));
	return w->cb(w->arg, &a);
}

int
store_audit_list(struct store *st, int64_t after_id, size_t max,
    store_audit_cb cb, void *arg)
{
	struct audit_walk w = {cb, arg};
	struct store_val p[2] = {SV_INT(after_id), SV_INT((int64_t)max)};

	return store_query(st,
	    "SELECT id, at_us, actor, source, tenant_id, action, target, "
	    "detail FROM audit_log WHERE id > ? ORDER BY id LIMIT ?",
	    p, 2, audit_row_cb, &w);
}

struct secret_read {
	char *key_id;
	unsigned char *box;
	size_t len;
	bool found;
};

static int
secret_read_cb(void *arg, const struct store_val *c, size_t n)
{
	struct secret_read *r = arg;

	if (n < 2)
		return EIO;
	store_col_text(&c[0], r->key_id, STORE_NAME_MAX);
	r->len = store_col_blob(&c[1], r->box, STORE_BOX_MAX);
	r->found = r->len > 0;
	return 0;
}

int
store_cluster_secret_ensure(struct store *st, const char *name,
    char key_id[STORE_NAME_MAX], unsigned char *box, size_t *box_len)
{
	struct store_val p[4] = {SV_TEXT(name), SV_TEXT(key_id),
	    SV_BLOB(box, *box_len), SV_INT(util_now_us())};
	unsigned char got[STORE_BOX_MAX];
	char gid[STORE_NAME_MAX];
	struct secret_read r = {gid, got, 0, false};
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = store_query(st,
	    "INSERT INTO cluster_secrets (name, key_id, box, created_us) "
	    "VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
	    p, 4, NULL, NULL);
	if (rc == 0)
		rc = store_query(st,
		    "SELECT key_id, box FROM cluster_secrets WHERE name = ?", p,
		    1, secret_read_cb, &r);
	if (rc == 0 && !r.found)
		rc = EIO;
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	if ((rc = store_tx_commit(st)) != 0)
		return rc;
	memcpy(key_id, gid, STORE_NAME_MAX);
	memcpy(box, got, r.len);
	*box_len = r.len;
	return 0;
}
