/* tenant.c: the tenants table. */
#include "store/store_priv.h"
#include "lib/util.h"

#include <errno.h>
#include <string.h>

#define TENANT_COLS                                                            \
	"t.id, t.name, t.domain, t.timezone, t.currency, t.settings, "         \
	"t.created_us, t.updated_us, "                                         \
	"(SELECT count(*) FROM extensions e WHERE e.tenant_id = t.id)"

struct tenant_walk {
	store_tenant_cb cb;
	void *arg;
	struct store_tenant *one; /* set for a single-row get */
	bool found;
};

static int
tenant_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct tenant_walk *w = arg;
	struct store_tenant t, *tp = w->one ? w->one : &t;

	if (n < 9)
		return EIO;
	memset(tp, 0, sizeof(*tp));
	tp->id = store_col_int(&c[0]);
	store_col_text(&c[1], tp->name, sizeof(tp->name));
	store_col_text(&c[2], tp->domain, sizeof(tp->domain));
	store_col_text(&c[3], tp->timezone, sizeof(tp->timezone));
	store_col_text(&c[4], tp->currency, sizeof(tp->currency));
	store_col_text(&c[5], tp->settings, sizeof(tp->settings));
	tp->created_us = store_col_int(&c[6]);
	tp->updated_us = store_col_int(&c[7]);
	tp->extensions = store_col_int(&c[8]);
	w->found = true;
	return w->cb ? w->cb(w->arg, tp) : 0;
}

int
store_tenant_add(struct store *st, struct store_tenant *t)
{
	struct store_val p[7];
	int64_t id, now = util_now_us();
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	p[0] = SV_TEXT(t->name);
	p[1] = SV_TEXT(t->domain);
	p[2] = SV_TEXT(t->timezone);
	p[3] = SV_TEXT(t->currency);
	p[4] = SV_TEXT(t->settings[0] ? t->settings : "{}");
	p[5] = SV_INT(now);
	p[6] = SV_INT(now);
	rc = store_query_int(st,
	    "INSERT INTO tenants (name, domain, timezone, currency, settings, "
	    "created_us, updated_us) VALUES (?, ?, ?, ?, ?, ?, ?) "
	    "RETURNING id",
	    p, 7, &id);
	if (rc == 0)
		rc = store_change_add(st, id, "tenant", id, "add");
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

static int
tenant_get(struct store *st, const char *sql, struct store_val key,
    struct store_tenant *t)
{
	struct store_tenant tmp;
	struct tenant_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, &key, 1, tenant_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*t = tmp;
	return 0;
}

int
store_tenant_get(struct store *st, const char *name, struct store_tenant *t)
{
	return tenant_get(st,
	    "SELECT " TENANT_COLS " FROM tenants t WHERE t.name = ?",
	    SV_TEXT(name), t);
}

int
store_tenant_get_by_id(struct store *st, int64_t id, struct store_tenant *t)
{
	return tenant_get(st,
	    "SELECT " TENANT_COLS " FROM tenants t WHERE t.id = ?", SV_INT(id),
	    t);
}

int
store_tenant_get_by_domain(
    struct store *st, const char *domain, struct store_tenant *t)
{
	return tenant_get(st,
	    "SELECT " TENANT_COLS " FROM tenants t WHERE t.domain = ?",
	    SV_TEXT(domain), t);
}

int
store_tenant_update(struct store *st, const struct store_tenant *t)
{
	struct store_val p[6];
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	p[0] = SV_TEXT(t->domain);
	p[1] = SV_TEXT(t->timezone);
	p[2] = SV_TEXT(t->currency);
	p[3] = SV_TEXT(t->settings[0] ? t->settings : "{}");
	p[4] = SV_INT(util_now_us());
	p[5] = SV_INT(t->id);
	rc = store_query(st,
	    "UPDATE tenants SET domain = ?, timezone = ?, currency = ?, "
	    "settings = ?, updated_us = ? WHERE id = ?",
	    p, 6, NULL, NULL);
	if (rc == 0 && st->be->changes(st->impl) == 0)
		rc = ENOENT;
	if (rc == 0)
		rc = store_change_add(st, t->id, "tenant", t->id, "update");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_tenant_list(struct store *st, store_tenant_cb cb, void *arg)
{
	struct tenant_walk w = {.cb = cb, .arg = arg};

	return store_query(st,
	    "SELECT " TENANT_COLS " FROM tenants t ORDER BY t.name", NULL, 0,
	    tenant_row_cb, &w);
}
