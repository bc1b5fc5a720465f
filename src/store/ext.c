/* ext.c: extensions, their sealed passwords and password history. */
#include "store/store_priv.h"
#include "lib/util.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#define EXT_COLS                                                               \
	"id, tenant_id, number, display_name, enabled, settings, "             \
	"created_us, updated_us, password_rotated_us, last_registered_us, "    \
	"last_source, last_user_agent"

struct ext_walk {
	store_ext_cb cb;
	void *arg;
	struct store_ext *one;
	bool found;
};

static int
ext_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct ext_walk *w = arg;
	struct store_ext e, *ep = w->one ? w->one : &e;

	if (n < 12)
		return EIO;
	memset(ep, 0, sizeof(*ep));
	ep->id = store_col_int(&c[0]);
	ep->tenant_id = store_col_int(&c[1]);
	store_col_text(&c[2], ep->number, sizeof(ep->number));
	store_col_text(&c[3], ep->display_name, sizeof(ep->display_name));
	ep->enabled = store_col_int(&c[4]) != 0;
	store_col_text(&c[5], ep->settings, sizeof(ep->settings));
	ep->created_us = store_col_int(&c[6]);
	ep->updated_us = store_col_int(&c[7]);
	ep->password_rotated_us = store_col_int(&c[8]);
	ep->last_registered_us = store_col_int(&c[9]);
	store_col_text(&c[10], ep->last_source, sizeof(ep->last_source));
	store_col_text(
	    &c[11], ep->last_user_agent, sizeof(ep->last_user_agent));
	w->found = true;
	return w->cb ? w->cb(w->arg, ep) : 0;
}

static int
history_add(struct store *st, const struct store_secret *sec, int64_t now)
{
	struct store_val p[5] = {SV_INT(sec->tenant_id),
	    SV_INT(sec->extension_id), SV_TEXT(sec->key_id),
	    SV_BLOB(sec->khash, STORE_KHASH_LEN), SV_INT(now)};

	return store_query(st,
	    "INSERT INTO password_history (tenant_id, extension_id, key_id, "
	    "pw_khash, created_us) VALUES (?, ?, ?, ?, ?)",
	    p, 5, NULL, NULL);
}

int
store_ext_add(struct store *st, struct store_ext *e, struct store_secret *sec)
{
	struct store_val p[8];
	int64_t id, now = util_now_us();
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	p[0] = SV_INT(e->tenant_id);
	p[1] = SV_TEXT(e->number);
	p[2] = SV_TEXT(e->display_name);
	p[3] = SV_INT(e->enabled ? 1 : 0);
	p[4] = SV_TEXT(e->settings[0] ? e->settings : "{}");
	p[5] = SV_INT(now);
	p[6] = SV_INT(now);
	p[7] = SV_INT(now);
	rc = store_query_int(st,
	    "INSERT INTO extensions (tenant_id, number, display_name, "
	    "enabled, settings, created_us, updated_us, password_rotated_us) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
	    p, 8, &id);
	if (rc != 0)
		goto fail;
	{
		struct store_val q[8] = {SV_INT(id), SV_INT(e->tenant_id),
		    SV_TEXT(sec->key_id), SV_BLOB(sec->box, sec->box_len),
		    SV_BLOB(sec->khash, STORE_KHASH_LEN), SV_TEXT(sec->ha1_md5),
		    SV_TEXT(sec->ha1_sha256), SV_INT(now)};

		rc = store_query(st,
		    "INSERT INTO ext_secrets (extension_id, tenant_id, key_id, "
		    "password_box, pw_khash, ha1_md5, ha1_sha256, updated_us) "
		    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		    q, 8, NULL, NULL);
	}
	if (rc == 0) {
		struct store_secret h =
		    *sec; /* sec is written on success only */

		h.extension_id = id;
		h.tenant_id = e->tenant_id;
		rc = history_add(st, &h, now);
		sodium_memzero(&h, sizeof(h));
	}
	if (rc == 0)
		rc = store_change_add(st, e->tenant_id, "extension", id, "add");
	if (rc != 0)
		goto fail;
	if ((rc = store_tx_commit(st)) != 0)
		return rc;
	e->id = id;
	e->created_us = e->updated_us = e->password_rotated_us = now;
	sec->extension_id = id;
	sec->tenant_id = e->tenant_id;
	sec->updated_us = now;
	return 0;
fail:
	store_tx_rollback(st);
	return rc;
}

static int
ext_get(struct store *st, const char *sql, const struct store_val *p, size_t np,
    struct store_ext *e)
{
	struct store_ext tmp;
	struct ext_walk w = {.one = &tmp};
	int rc;

	if ((rc = store_query(st, sql, p, np, ext_row_cb, &w)) != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*e = tmp;
	return 0;
}

int
store_ext_get(struct store *st, int64_t tenant_id, const char *number,
    struct store_ext *e)
{
	struct store_val p[2] = {SV_INT(tenant_id), SV_TEXT(number)};

	return ext_get(st,
	    "SELECT " EXT_COLS
	    " FROM extensions WHERE tenant_id = ? AND number = ?",
	    p, 2, e);
}

int
store_ext_get_by_id(struct store *st, int64_t id, struct store_ext *e)
{
	struct store_val p[1] = {SV_INT(id)};

	return ext_get(
	    st, "SELECT " EXT_COLS " FROM extensions WHERE id = ?", p, 1, e);
}

/* Runs an UPDATE or DELETE of one extension and logs the change. */
static int
ext_mutate(struct store *st, const char *sql, const struct store_val *p,
    size_t np, int64_t tenant_id, int64_t id, const char *op)
{
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	rc = store_query(st, sql, p, np, NULL, NULL);
	if (rc == 0 && st->be->changes(st->impl) == 0)
		rc = ENOENT;
	if (rc == 0)
		rc = store_change_add(st, tenant_id, "extension", id, op);
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_ext_update(struct store *st, const struct store_ext *e)
{
	struct store_val p[5] = {SV_TEXT(e->display_name),
	    SV_INT(e->enabled ? 1 : 0),
	    SV_TEXT(e->settings[0] ? e->settings : "{}"), SV_INT(util_now_us()),
	    SV_INT(e->id)};

	return ext_mutate(st,
	    "UPDATE extensions SET display_name = ?, enabled = ?, settings = "
	    "?, "
	    "updated_us = ? WHERE id = ?",
	    p, 5, e->tenant_id, e->id, "update");
}

int
store_ext_seen(struct store *st, const struct store_ext *e)
{
	struct store_val p[4] = {SV_INT(e->last_registered_us),
	    SV_TEXT(e->last_source), SV_TEXT(e->last_user_agent),
	    SV_INT(e->id)};

	/* No change-log entry: the daemon itself is the writer. */
	return store_query(st,
	    "UPDATE extensions SET last_registered_us = ?, last_source = ?, "
	    "last_user_agent = ? WHERE id = ?",
	    p, 4, NULL, NULL);
}

int
store_ext_remove(struct store *st, int64_t id)
{
	struct store_ext e;
	struct store_val p[1] = {SV_INT(id)};
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	if ((rc = store_ext_get_by_id(st, id, &e)) == 0)
		rc = ext_mutate(st, "DELETE FROM extensions WHERE id = ?", p, 1,
		    e.tenant_id, id, "remove");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_ext_next_id(
    struct store *st, int64_t tenant_id, int64_t after, int64_t *next)
{
	struct store_val p[2] = {SV_INT(tenant_id), SV_INT(after)};

	return store_query_int(st,
	    "SELECT id FROM extensions WHERE tenant_id = ? AND id > ? "
	    "ORDER BY id LIMIT 1",
	    p, 2, next);
}

int
store_ext_list(struct store *st, int64_t tenant_id, store_ext_cb cb, void *arg)
{
	struct ext_walk w = {.cb = cb, .arg = arg};
	struct store_val p[1] = {SV_INT(tenant_id)};

	/* Numeric order: shorter numbers first, then by text. */
	return store_query(st,
	    "SELECT " EXT_COLS " FROM extensions WHERE tenant_id = ? "
	    "ORDER BY length(number), number",
	    p, 1, ext_row_cb, &w);
}

struct secret_walk {
	store_secret_cb cb;
	void *arg;
	struct store_secret *one;
	bool found;
};

static int
secret_row_cb(void *arg, const struct store_val *c, size_t n)
{
	struct secret_walk *w = arg;
	struct store_secret s, *sp = w->one ? w->one : &s;

	if (n < 8)
		return EIO;
	memset(sp, 0, sizeof(*sp));
	sp->extension_id = store_col_int(&c[0]);
	sp->tenant_id = store_col_int(&c[1]);
	store_col_text(&c[2], sp->key_id, sizeof(sp->key_id));
	sp->box_len = store_col_blob(&c[3], sp->box, sizeof(sp->box));
	if (store_col_blob(&c[4], sp->khash, sizeof(sp->khash)) !=
	    STORE_KHASH_LEN)
		return EIO;
	store_col_text(&c[5], sp->ha1_md5, sizeof(sp->ha1_md5));
	store_col_text(&c[6], sp->ha1_sha256, sizeof(sp->ha1_sha256));
	sp->updated_us = store_col_int(&c[7]);
	w->found = true;
	return w->cb ? w->cb(w->arg, sp) : 0;
}

#define SECRET_COLS                                                            \
	"extension_id, tenant_id, key_id, password_box, pw_khash, ha1_md5, "   \
	"ha1_sha256, updated_us"

int
store_secret_get(
    struct store *st, int64_t extension_id, struct store_secret *sec)
{
	struct store_secret tmp;
	struct secret_walk w = {.one = &tmp};
	struct store_val p[1] = {SV_INT(extension_id)};
	int rc;

	rc = store_query(st,
	    "SELECT " SECRET_COLS " FROM ext_secrets WHERE extension_id = ?", p,
	    1, secret_row_cb, &w);
	if (rc != 0)
		return rc;
	if (!w.found)
		return ENOENT;
	*sec = tmp;
	return 0;
}

int
store_secret_list(
    struct store *st, int64_t tenant_id, store_secret_cb cb, void *arg)
{
	struct secret_walk w = {.cb = cb, .arg = arg};
	struct store_val p[2] = {SV_INT(tenant_id), SV_INT(tenant_id)};

	return store_query(st,
	    "SELECT " SECRET_COLS " FROM ext_secrets WHERE ? = 0 OR "
	    "tenant_id = ? ORDER BY extension_id",
	    p, 2, secret_row_cb, &w);
}

int
store_secret_replace(
    struct store *st, const struct store_secret *sec, unsigned keep)
{
	int64_t now = util_now_us();
	int rc;

	if ((rc = store_tx_begin(st)) != 0)
		return rc;
	{
		struct store_val p[7] = {SV_TEXT(sec->key_id),
		    SV_BLOB(sec->box, sec->box_len),
		    SV_BLOB(sec->khash, STORE_KHASH_LEN), SV_TEXT(sec->ha1_md5),
		    SV_TEXT(sec->ha1_sha256), SV_INT(now),
		    SV_INT(sec->extension_id)};

		rc = store_query(st,
		    "UPDATE ext_secrets SET key_id = ?, password_box = ?, "
		    "pw_khash = ?, ha1_md5 = ?, ha1_sha256 = ?, updated_us = ? "
		    "WHERE extension_id = ?",
		    p, 7, NULL, NULL);
		if (rc == 0 && st->be->changes(st->impl) == 0)
			rc = ENOENT;
	}
	if (rc == 0) {
		struct store_val p[3] = {
		    SV_INT(now), SV_INT(now), SV_INT(sec->extension_id)};

		rc = store_query(st,
		    "UPDATE extensions SET password_rotated_us = ?, "
		    "updated_us = ? WHERE id = ?",
		    p, 3, NULL, NULL);
	}
	if (rc == 0)
		rc = history_add(st, sec, now);
	if (rc == 0) {
		struct store_val p[3] = {SV_INT(sec->extension_id),
		    SV_INT(sec->extension_id), SV_INT(keep)};

		rc = store_query(st,
		    "DELETE FROM password_history WHERE extension_id = ? AND "
		    "id NOT IN (SELECT id FROM password_history WHERE "
		    "extension_id = ? ORDER BY id DESC LIMIT ?)",
		    p, 3, NULL, NULL);
	}
	if (rc == 0)
		rc = store_change_add(st, sec->tenant_id, "extension",
		    sec->extension_id, "update");
	if (rc != 0) {
		store_tx_rollback(st);
		return rc;
	}
	return store_tx_commit(st);
}

int
store_secret_set_ha1(struct store *st, int64_t extension_id,
    const char *ha1_md5, const char *ha1_sha256)
{
	struct store_val p[4] = {SV_TEXT(ha1_md5), SV_TEXT(ha1_sha256),
	    SV_INT(util_now_us()), SV_INT(extension_id)};
	int rc;

	rc = store_query(st,
	    "UPDATE ext_secrets SET ha1_md5 = ?, ha1_sha256 = ?, "
	    "updated_us = ? WHERE extension_id = ?",
	    p, 4, NULL, NULL);
	if (rc == 0 && st->be->changes(st->impl) == 0)
		rc = ENOENT;
	return rc;
}

int
store_khash_in_use(struct store *st, int64_t tenant_id, int64_t except_ext,
    const char *key_id, const unsigned char khash[STORE_KHASH_LEN], bool *found)
{
	struct store_val p[4] = {SV_INT(tenant_id), SV_TEXT(key_id),
	    SV_BLOB(khash, STORE_KHASH_LEN), SV_INT(except_ext)};
	int64_t n;
	int rc;

	rc = store_query_int(st,
	    "SELECT count(*) FROM ext_secrets WHERE tenant_id = ? AND "
	    "key_id = ? AND pw_khash = ? AND extension_id <> ?",
	    p, 4, &n);
	if (rc == 0)
		*found = n > 0;
	return rc;
}

int
store_khash_in_history(struct store *st, int64_t extension_id, unsigned depth,
    const char *key_id, const unsigned char khash[STORE_KHASH_LEN], bool *found)
{
	struct store_val p[4] = {SV_INT(extension_id), SV_INT(depth),
	    SV_TEXT(key_id), SV_BLOB(khash, STORE_KHASH_LEN)};
	int64_t n;
	int rc;

	rc = store_query_int(st,
	    "SELECT count(*) FROM (SELECT key_id, pw_khash FROM "
	    "password_history WHERE extension_id = ? ORDER BY id DESC "
	    "LIMIT ?) h WHERE h.key_id = ? AND h.pw_khash = ?",
	    p, 4, &n);
	if (rc == 0)
		*found = n > 0;
	return rc;
}
