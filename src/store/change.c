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
