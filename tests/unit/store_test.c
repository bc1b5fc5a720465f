/* store_test.c: unit tests of the store core on SQLite: migrations
 * (src/store/store.c, build/gen/migrations.c), the back-end
 * (src/store/sqlite.c), tenants, extensions and secrets (tenant.c, ext.c),
 * transactions, the change log and the audit log (change.c). Each test runs
 * in its own mkdtemp folder under /tmp, removed afterwards. The database is
 * inspected through the store's own connection (store_priv.h: PRAGMAs are
 * per connection) or through a second sqlite3 connection. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lib/util.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_priv.h"

enum {
	TEST_PATH_MAX = 256,
	TEST_URL_MAX = TEST_PATH_MAX + 16,
	TEST_ERR_MAX = 512,
	TEST_BUSY_MS = 10000,
	CHANGES_MAX = 2048,
	NAMES_MAX = 16,
	ROTATIONS = 5,
	HISTORY_KEEP = 3,
	CONC_CHILDREN = 2,
	CONC_PER_CHILD = 300,
	CONC_READ_EVERY = 25,
	CONC_READS = 200,
	FRESH_CHILDREN = 8,
	FRESH_ROUNDS = 10,
	CHILD_OK = 0,
	CHILD_FAIL = 1,
	CHILD_EBUSY = 2,
};

struct fx {
	char dir[64];
	char path[TEST_PATH_MAX]; /* dir/t.db */
	char url[TEST_URL_MAX];   /* sqlite:dir/t.db */
	struct store *st;         /* open on url, or NULL */
};

/* ---- fixture ---- */

static void
fx_db(const struct fx *f, const char *name, char *path, char *url)
{
	int n;

	n = snprintf(path, TEST_PATH_MAX, "%s/%s", f->dir, name);
	assert_true(n > 0 && n < TEST_PATH_MAX);
	n = snprintf(url, TEST_URL_MAX, "sqlite:%s", path);
	assert_true(n > 0 && n < TEST_URL_MAX);
}

static int
setup_dir(void **state)
{
	struct fx *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sw_store_test_XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	fx_db(f, "t.db", f->path, f->url);
	*state = f;
	return 0;
}

static int
setup_open(void **state)
{
	char err[TEST_ERR_MAX] = "";
	struct fx *f;

	if (setup_dir(state) != 0)
		return -1;
	f = *state;
	if (store_open(f->url, &f->st, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	return 0;
}

/* Removes the files of dir (the database, its -wal and -shm), then dir. */
static void
dir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[TEST_PATH_MAX];

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) <
		    (int)sizeof(p))
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	dir_remove(f->dir);
	free(f);
	return 0;
}

/* ---- helpers: a second sqlite3 connection ---- */

static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;

	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, TEST_BUSY_MS);
	return db;
}

static int64_t
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	int64_t v;

	assert_int_equal(
	    sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* Returns (malloc'd) every schema object of the database at path with its
 * SQL, sorted: what a fresh and an upgraded database must agree on. */
static char *
raw_schema(const char *path)
{
	sqlite3 *db = raw_open(path);
	sqlite3_stmt *stmt = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m;
	int rc;

	assert_non_null(m = open_memstream(&buf, &len));
	assert_int_equal(sqlite3_prepare_v2(db,
	                     "SELECT type, name, tbl_name, sql FROM "
	                     "sqlite_master WHERE sql IS NOT NULL "
	                     "ORDER BY type, name",
	                     -1, &stmt, NULL),
	    SQLITE_OK);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		fprintf(m, "%s|%s|%s|%s\n", sqlite3_column_text(stmt, 0),
		    sqlite3_column_text(stmt, 1), sqlite3_column_text(stmt, 2),
		    sqlite3_column_text(stmt, 3));
	assert_int_equal(rc, SQLITE_DONE);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	fclose(m);
	return buf;
}

/* ---- helpers: the store's own connection (sql must be a literal) ---- */

static int64_t
st_int(struct store *st, const char *sql)
{
	int64_t v = -1;
	int rc;

	rc = store_query_int(st, sql, NULL, 0, &v);
	if (rc != 0)
		fail_msg("%s: %s", sql, store_errmsg(st));
	return v;
}

static int64_t
st_int_id(struct store *st, const char *sql, int64_t id)
{
	struct store_val p[1] = {SV_INT(id)};
	int64_t v = -1;
	int rc;

	rc = store_query_int(st, sql, p, 1, &v);
	if (rc != 0)
		fail_msg("%s: %s", sql, store_errmsg(st));
	return v;
}

struct text_out {
	char buf[TEST_PATH_MAX];
	int rows;
};

static int
text_cb(void *arg, const struct store_val *cols, size_t ncols)
{
	struct text_out *o = arg;

	if (ncols < 1)
		return EIO;
	store_col_text(&cols[0], o->buf, sizeof(o->buf));
	o->rows++;
	return 0;
}

static void
st_text(struct store *st, const char *sql, char *out, size_t size)
{
	struct text_out o = {.rows = 0};

	assert_int_equal(store_query(st, sql, NULL, 0, text_cb, &o), 0);
	assert_int_equal(o.rows, 1);
	snprintf(out, size, "%s", o.buf);
}

static bool
st_object_exists(struct store *st, const char *type, const char *name)
{
	struct store_val p[2] = {SV_TEXT(type), SV_TEXT(name)};
	int64_t n = -1;

	assert_int_equal(
	    store_query_int(st,
	        "SELECT count(*) FROM sqlite_master WHERE type = ? "
	        "AND name = ?",
	        p, 2, &n),
	    0);
	return n == 1;
}

/* ---- helpers: rows ---- */

static int
migrations_highest(void)
{
	int v = 0;
	size_t i;

	for (i = 0; i < store_migrations_count; i++)
		if (store_migrations[i].version > v)
			v = store_migrations[i].version;
	return v;
}

static void
tenant_fill(struct store_tenant *t, const char *name, const char *domain)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->domain, sizeof(t->domain), "%s", domain);
	snprintf(t->timezone, sizeof(t->timezone), "Europe/Paris");
	snprintf(t->currency, sizeof(t->currency), "EUR");
}

static int64_t
tenant_make(struct store *st, const char *name, const char *domain)
{
	struct store_tenant t;

	tenant_fill(&t, name, domain);
	assert_int_equal(store_tenant_add(st, &t), 0);
	assert_true(t.id > 0);
	return t.id;
}

static void
ext_fill(struct store_ext *e, int64_t tenant_id, const char *number)
{
	memset(e, 0, sizeof(*e));
	e->tenant_id = tenant_id;
	snprintf(e->number, sizeof(e->number), "%s", number);
	snprintf(e->display_name, sizeof(e->display_name), "Ext %s", number);
	e->enabled = true;
}

/* Test bytes derived from seed: a binary box (with 0x00 and 0xff in it),
 * a keyed hash, and hex HA1s. */
static void
secret_fill(struct store_secret *s, unsigned seed, const char *key_id)
{
	unsigned char md5[16];
	size_t i;

	memset(s, 0, sizeof(*s));
	snprintf(s->key_id, sizeof(s->key_id), "%s", key_id);
	s->box_len = 72;
	for (i = 0; i < s->box_len; i++)
		s->box[i] = (unsigned char)(seed * 31 + i * 7);
	s->box[3] = 0x00;
	s->box[4] = 0xff;
	for (i = 0; i < STORE_KHASH_LEN; i++)
		s->khash[i] = (unsigned char)(seed ^ (i * 13 + 1));
	for (i = 0; i < sizeof(md5); i++)
		md5[i] = (unsigned char)(seed + i);
	util_hex(md5, sizeof(md5), s->ha1_md5);
	util_hex(s->khash, STORE_KHASH_LEN, s->ha1_sha256);
}

static int64_t
ext_make(struct store *st, int64_t tenant_id, const char *number, unsigned seed)
{
	struct store_ext e;
	struct store_secret s;

	ext_fill(&e, tenant_id, number);
	secret_fill(&s, seed, "k1");
	assert_int_equal(store_ext_add(st, &e, &s), 0);
	assert_true(e.id > 0);
	return e.id;
}

static void
secret_assert_equal(const struct store_secret *a, const struct store_secret *b)
{
	assert_string_equal(a->key_id, b->key_id);
	assert_int_equal(a->box_len, b->box_len);
	assert_memory_equal(a->box, b->box, a->box_len);
	assert_memory_equal(a->khash, b->khash, STORE_KHASH_LEN);
	assert_string_equal(a->ha1_md5, b->ha1_md5);
	assert_string_equal(a->ha1_sha256, b->ha1_sha256);
}

struct chg_list {
	struct store_change *c;
	size_t n, cap;
};

static int
chg_cb(void *arg, const struct store_change *c)
{
	struct chg_list *l = arg;

	if (l->n >= l->cap)
		return ENOSPC;
	l->c[l->n++] = *c;
	return 0;
}

/* Collects the changes after seq `after` (at most max) into l; free l->c. */
static void
chg_collect(struct store *st, int64_t after, size_t max, struct chg_list *l)
{
	l->cap = CHANGES_MAX;
	l->n = 0;
	assert_non_null(l->c = calloc(l->cap, sizeof(*l->c)));
	assert_int_equal(store_change_since(st, after, max, chg_cb, l), 0);
}

static void
chg_assert(const struct store_change *c, int64_t tenant_id, const char *kind,
    int64_t object_id, const char *op)
{
	assert_int_equal(c->tenant_id, tenant_id);
	assert_string_equal(c->kind, kind);
	assert_int_equal(c->object_id, object_id);
	assert_string_equal(c->op, op);
	assert_true(c->at_us > 0);
}

static int64_t
chg_last(struct store *st)
{
	int64_t seq = -1;

	assert_int_equal(store_change_last(st, &seq), 0);
	return seq;
}

/* ---- 1. migrations on a fresh database ---- */

static const char *const schema_tables[] = {"schema_migrations", "tenants",
    "extensions", "ext_secrets", "password_history", "bindings", "trunks",
    "numbers", "devices", "admins", "calls", "call_legs", "bans", "alerts",
    "changes", "audit_log"};
static const char *const schema_indexes[] = {"ext_secrets_khash",
    "password_history_ext", "bindings_node", "calls_tenant_start",
    "bans_expires"};
static const char *const schema_triggers[] = {
    "audit_log_no_update", "audit_log_no_delete"};

static void
test_migrations_fresh(void **state)
{
	struct fx *f = *state;
	char mode[32];
	int version = -1;
	size_t i;

	assert_true(store_migrations_count >= 1);
	assert_int_equal(store_migrations[0].version, 1);
	for (i = 0; i < store_migrations_count; i++) {
		if (i > 0)
			assert_true(store_migrations[i].version >
			            store_migrations[i - 1].version);
		assert_non_null(store_migrations[i].lines);
	}
	assert_string_equal(store_backend_name(f->st), "sqlite");
	assert_int_equal(store_schema_version(f->st, &version), 0);
	assert_int_equal(version, migrations_highest());
	assert_int_equal(
	    st_int(f->st, "SELECT count(*) FROM schema_migrations"),
	    store_migrations_count);
	assert_int_equal(
	    st_int(f->st, "SELECT count(*) FROM schema_migrations WHERE "
	                  "applied_us <= 0 OR name = ''"),
	    0);
	for (i = 0; i < ARRAY_LEN(schema_tables); i++)
		if (!st_object_exists(f->st, "table", schema_tables[i]))
			fail_msg("missing table %s", schema_tables[i]);
	for (i = 0; i < ARRAY_LEN(schema_indexes); i++)
		if (!st_object_exists(f->st, "index", schema_indexes[i]))
			fail_msg("missing index %s", schema_indexes[i]);
	for (i = 0; i < ARRAY_LEN(schema_triggers); i++)
		if (!st_object_exists(f->st, "trigger", schema_triggers[i]))
			fail_msg("missing trigger %s", schema_triggers[i]);
	/* Nothing of the PostgreSQL blocks leaked into SQLite. */
	assert_int_equal(
	    st_int(f->st, "SELECT count(*) FROM sqlite_master WHERE sql "
	                  "LIKE '%plpgsql%' OR sql LIKE '%{{%'"),
	    0);

	/* Connection settings (per connection: asked on the store's own). */
	assert_int_equal(st_int(f->st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(st_int(f->st, "PRAGMA secure_delete"), 1);
	assert_int_equal(st_int(f->st, "PRAGMA trusted_schema"), 0);
	st_text(f->st, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
}

/* ---- 2. migrations from every earlier version ---- */

static void
test_migrations_upgrade(void **state)
{
	struct fx *f = *state;
	char path[TEST_PATH_MAX], url[TEST_URL_MAX], err[TEST_ERR_MAX];
	char *fresh, *upgraded;
	struct store *st;
	int highest = migrations_highest(), k, version;

	fx_db(f, "fresh.db", path, url);
	assert_int_equal(store_open(url, &st, err, sizeof(err)), 0);
	store_close(st);
	fresh = raw_schema(path);

	for (k = 0; k < highest; k++) {
		char name[32];
		bool seeded = false;

		snprintf(name, sizeof(name), "up%d.db", k);
		fx_db(f, name, path, url);
		st = NULL;
		assert_int_equal(store_open_raw(url, &st, err, sizeof(err)), 0);
		if (k > 0)
			assert_int_equal(store_migrate(st, k), 0);
		assert_int_equal(store_schema_version(st, &version), 0);
		assert_int_equal(version, k);
		if (st_object_exists(st, "table", "tenants")) {
			/* The columns of 0001 only, so it works at any k. */
			struct store_val p[4] = {SV_TEXT("old"),
			    SV_TEXT("old.example"), SV_INT(1), SV_INT(1)};

			assert_int_equal(store_query(st,
			                     "INSERT INTO tenants (name, "
			                     "domain, created_us, updated_us) "
			                     "VALUES (?, ?, ?, ?)",
			                     p, 4, NULL, NULL),
			    0);
			seeded = true;
		}
		store_close(st);

		st = NULL;
		if (store_open(url, &st, err, sizeof(err)) != 0)
			fail_msg("upgrade from %d: %s", k, err);
		assert_int_equal(store_schema_version(st, &version), 0);
		assert_int_equal(version, highest);
		assert_int_equal(
		    st_int(st, "SELECT count(*) FROM schema_migrations"),
		    store_migrations_count);
		if (seeded) {
			struct store_tenant t;

			assert_int_equal(store_tenant_get(st, "old", &t), 0);
			assert_string_equal(t.domain, "old.example");
		}
		store_close(st);

		upgraded = raw_schema(path);
		if (strcmp(fresh, upgraded) != 0)
			fail_msg("schema upgraded from %d differs:\n%s\n--- "
			         "fresh:\n%s",
			    k, upgraded, fresh);
		free(upgraded);
	}

	/* store_migrate(st, k) stops at k exactly, for every k. */
	for (k = 1; k <= highest; k++) {
		char name[32];

		snprintf(name, sizeof(name), "to%d.db", k);
		fx_db(f, name, path, url);
		assert_int_equal(store_open_raw(url, &st, err, sizeof(err)), 0);
		assert_int_equal(store_migrate(st, k), 0);
		assert_int_equal(store_schema_version(st, &version), 0);
		assert_int_equal(version, k);
		store_close(st);
	}
	free(fresh);
}

/* ---- 3. idempotence ---- */

static void
test_migrations_idempotent(void **state)
{
	struct fx *f = *state;
	char err[TEST_ERR_MAX];
	int64_t rows, sum;
	int version;

	rows = st_int(f->st, "SELECT count(*) FROM schema_migrations");
	sum = st_int(f->st, "SELECT sum(applied_us) FROM schema_migrations");
	assert_int_equal(store_migrate(f->st, 0), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->url, &f->st, err, sizeof(err)), 0);
	assert_int_equal(
	    st_int(f->st, "SELECT count(*) FROM schema_migrations"), rows);
	assert_int_equal(
	    st_int(f->st, "SELECT sum(applied_us) FROM schema_migrations"),
	    sum);
	assert_int_equal(store_schema_version(f->st, &version), 0);
	assert_int_equal(version, migrations_highest());
}

/* ---- 4. tenants ---- */

struct name_list {
	char names[NAMES_MAX][STORE_NAME_MAX];
	int64_t counts[NAMES_MAX];
	size_t n;
	size_t stop_after; /* 0 = never */
};

static int
tenant_name_cb(void *arg, const struct store_tenant *t)
{
	struct name_list *l = arg;

	if (l->n >= NAMES_MAX)
		return ENOSPC;
	snprintf(l->names[l->n], STORE_NAME_MAX, "%s", t->name);
	l->counts[l->n] = t->extensions;
	l->n++;
	return l->stop_after != 0 && l->n >= l->stop_after ? 42 : 0;
}

static void
test_tenants(void **state)
{
	struct fx *f = *state;
	struct store_tenant a, b, g, dup;
	struct name_list l;
	struct chg_list cl;
	int64_t start = chg_last(f->st);

	tenant_fill(&a, "acme", "acme.example");
	snprintf(a.settings, sizeof(a.settings), "{\"max_calls\":4}");
	assert_int_equal(store_tenant_add(f->st, &a), 0);
	assert_true(a.id > 0);
	assert_true(a.created_us > 0);
	assert_int_equal(a.updated_us, a.created_us);

	tenant_fill(&b, "beta", "beta.example");
	snprintf(b.currency, sizeof(b.currency), "USD");
	assert_int_equal(store_tenant_add(f->st, &b), 0);
	assert_true(b.id > a.id);

	assert_int_equal(store_tenant_get(f->st, "acme", &g), 0);
	assert_int_equal(g.id, a.id);
	assert_string_equal(g.name, "acme");
	assert_string_equal(g.domain, "acme.example");
	assert_string_equal(g.timezone, "Europe/Paris");
	assert_string_equal(g.currency, "EUR");
	assert_string_equal(g.settings, "{\"max_calls\":4}");
	assert_int_equal(g.created_us, a.created_us);
	assert_int_equal(g.extensions, 0);

	assert_int_equal(store_tenant_get_by_id(f->st, b.id, &g), 0);
	assert_string_equal(g.name, "beta");
	assert_string_equal(g.currency, "USD");
	assert_string_equal(g.settings, "{}"); /* empty settings: {} */
	assert_int_equal(
	    store_tenant_get_by_domain(f->st, "beta.example", &g), 0);
	assert_int_equal(g.id, b.id);

	/* Unique name, unique domain. */
	tenant_fill(&dup, "acme", "other.example");
	assert_int_equal(store_tenant_add(f->st, &dup), EEXIST);
	assert_int_equal(dup.id, 0);
	tenant_fill(&dup, "other", "acme.example");
	assert_int_equal(store_tenant_add(f->st, &dup), EEXIST);

	/* Missing rows; out-parameters untouched. */
	memset(&g, 0x5a, sizeof(g));
	assert_int_equal(store_tenant_get(f->st, "nope", &g), ENOENT);
	assert_int_equal(g.id, 0x5a5a5a5a5a5a5a5a);
	assert_int_equal(store_tenant_get_by_id(f->st, 9999, &g), ENOENT);
	assert_int_equal(
	    store_tenant_get_by_domain(f->st, "no.example", &g), ENOENT);

	/* Update by id. */
	g = a;
	snprintf(g.domain, sizeof(g.domain), "acme.example.net");
	snprintf(g.timezone, sizeof(g.timezone), "UTC");
	snprintf(g.settings, sizeof(g.settings), "{\"a\":1}");
	assert_int_equal(store_tenant_update(f->st, &g), 0);
	assert_int_equal(
	    store_tenant_get_by_domain(f->st, "acme.example", &g), ENOENT);
	assert_int_equal(
	    store_tenant_get_by_domain(f->st, "acme.example.net", &g), 0);
	assert_int_equal(g.id, a.id);
	assert_string_equal(g.timezone, "UTC");
	assert_string_equal(g.settings, "{\"a\":1}");
	assert_true(g.updated_us >= a.updated_us);
	/* The update may not take another tenant's domain. */
	g.id = b.id;
	assert_int_equal(store_tenant_update(f->st, &g), EEXIST);
	g.id = 9999;
	assert_int_equal(store_tenant_update(f->st, &g), ENOENT);

	/* Extension counts. */
	ext_make(f->st, a.id, "100", 1);
	ext_make(f->st, a.id, "101", 2);
	assert_int_equal(store_tenant_get(f->st, "acme", &g), 0);
	assert_int_equal(g.extensions, 2);

	/* List by name; a non-zero callback return stops and is returned. */
	tenant_make(f->st, "aardvark", "aardvark.example");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_tenant_list(f->st, tenant_name_cb, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.names[0], "aardvark");
	assert_string_equal(l.names[1], "acme");
	assert_string_equal(l.names[2], "beta");
	assert_int_equal(l.counts[0], 0);
	assert_int_equal(l.counts[1], 2);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	assert_int_equal(store_tenant_list(f->st, tenant_name_cb, &l), 42);
	assert_int_equal(l.n, 2);

	/* The change log: the three tenant mutations that succeeded, the two
	 * extension adds, the third tenant; no row for the failures. */
	chg_collect(f->st, start, 100, &cl);
	assert_int_equal(cl.n, 6);
	chg_assert(&cl.c[0], a.id, "tenant", a.id, "add");
	chg_assert(&cl.c[1], b.id, "tenant", b.id, "add");
	chg_assert(&cl.c[2], a.id, "tenant", a.id, "update");
	assert_string_equal(cl.c[3].kind, "extension");
	assert_string_equal(cl.c[4].kind, "extension");
	assert_string_equal(cl.c[5].kind, "tenant");
	assert_string_equal(cl.c[5].op, "add");
	for (size_t i = 1; i < cl.n; i++)
		assert_true(cl.c[i].seq > cl.c[i - 1].seq);
	free(cl.c);
}

/* ---- 5. extensions and secrets ---- */

struct num_list {
	char numbers[NAMES_MAX][STORE_EXT_MAX];
	size_t n;
};

static int
ext_number_cb(void *arg, const struct store_ext *e)
{
	struct num_list *l = arg;

	if (l->n >= NAMES_MAX)
		return ENOSPC;
	snprintf(l->numbers[l->n++], STORE_EXT_MAX, "%s", e->number);
	return 0;
}

static void
test_extensions(void **state)
{
	struct fx *f = *state;
	struct store_ext e, g, o;
	struct store_secret s, sg;
	struct chg_list cl;
	int64_t ta, tb, start;

	ta = tenant_make(f->st, "acme", "acme.example");
	tb = tenant_make(f->st, "beta", "beta.example");
	start = chg_last(f->st);

	ext_fill(&e, ta, "100");
	snprintf(e.settings, sizeof(e.settings), "{\"vm\":true}");
	secret_fill(&s, 7, "k1");
	assert_int_equal(store_ext_add(f->st, &e, &s), 0);
	assert_true(e.id > 0);
	assert_true(e.created_us > 0);
	assert_int_equal(e.password_rotated_us, e.created_us);
	assert_int_equal(s.extension_id, e.id);
	assert_int_equal(s.tenant_id, ta);

	assert_int_equal(store_ext_get(f->st, ta, "100", &g), 0);
	assert_int_equal(g.id, e.id);
	assert_int_equal(g.tenant_id, ta);
	assert_string_equal(g.number, "100");
	assert_string_equal(g.display_name, "Ext 100");
	assert_true(g.enabled);
	assert_string_equal(g.settings, "{\"vm\":true}");
	assert_int_equal(g.created_us, e.created_us);
	assert_int_equal(g.password_rotated_us, e.created_us);
	assert_int_equal(g.last_registered_us, 0);
	assert_string_equal(g.last_source, "");
	assert_string_equal(g.last_user_agent, "");
	assert_int_equal(store_ext_get_by_id(f->st, e.id, &g), 0);
	assert_string_equal(g.number, "100");
	assert_int_equal(store_ext_get(f->st, tb, "100", &g), ENOENT);
	assert_int_equal(store_ext_get(f->st, ta, "999", &g), ENOENT);
	assert_int_equal(store_ext_get_by_id(f->st, 9999, &g), ENOENT);

	/* The secret reads back byte for byte. */
	assert_int_equal(store_secret_get(f->st, e.id, &sg), 0);
	assert_int_equal(sg.extension_id, e.id);
	assert_int_equal(sg.tenant_id, ta);
	assert_int_equal(sg.updated_us, e.created_us);
	secret_assert_equal(&sg, &s);
	assert_int_equal(store_secret_get(f->st, 9999, &sg), ENOENT);
	assert_int_equal(st_int_id(f->st,
	                     "SELECT count(*) FROM password_history WHERE "
	                     "extension_id = ?",
	                     e.id),
	    1);

	/* Update: display name, enabled, settings. */
	g = e;
	snprintf(g.display_name, sizeof(g.display_name), "Reception");
	g.enabled = false;
	snprintf(g.settings, sizeof(g.settings), "{\"vm\":false}");
	assert_int_equal(store_ext_update(f->st, &g), 0);
	assert_int_equal(store_ext_get_by_id(f->st, e.id, &g), 0);
	assert_string_equal(g.display_name, "Reception");
	assert_false(g.enabled);
	assert_string_equal(g.settings, "{\"vm\":false}");
	assert_true(g.updated_us >= e.updated_us);
	assert_string_equal(g.number, "100");
	o = g;
	o.id = 9999;
	assert_int_equal(store_ext_update(f->st, &o), ENOENT);

	/* Seen: a registration, no change-log row. */
	g.last_registered_us = 1700000000123456;
	snprintf(g.last_source, sizeof(g.last_source), "192.0.2.7:5061");
	snprintf(g.last_user_agent, sizeof(g.last_user_agent), "Yealink T54W");
	assert_int_equal(store_ext_seen(f->st, &g), 0);
	assert_int_equal(store_ext_get(f->st, ta, "100", &o), 0);
	assert_int_equal(o.last_registered_us, 1700000000123456);
	assert_string_equal(o.last_source, "192.0.2.7:5061");
	assert_string_equal(o.last_user_agent, "Yealink T54W");
	assert_string_equal(o.display_name, "Reception");

	/* Unique number within a tenant only. */
	ext_fill(&o, ta, "100");
	secret_fill(&sg, 8, "k1");
	assert_int_equal(store_ext_add(f->st, &o, &sg), EEXIST);
	assert_int_equal(o.id, 0);
	ext_fill(&o, tb, "100");
	assert_int_equal(store_ext_add(f->st, &o, &sg), 0);
	assert_true(o.id > e.id);
	assert_int_equal(store_ext_get(f->st, tb, "100", &g), 0);
	assert_int_equal(g.id, o.id);
	/* An unknown tenant is refused (foreign key). */
	ext_fill(&g, 9999, "100");
	assert_int_not_equal(store_ext_add(f->st, &g, &sg), 0);

	/* Remove: the secret and the history go with it. */
	assert_int_equal(store_ext_remove(f->st, e.id), 0);
	assert_int_equal(store_ext_get_by_id(f->st, e.id, &g), ENOENT);
	assert_int_equal(store_secret_get(f->st, e.id, &sg), ENOENT);
	assert_int_equal(st_int_id(f->st,
	                     "SELECT count(*) FROM password_history WHERE "
	                     "extension_id = ?",
	                     e.id),
	    0);
	assert_int_equal(st_int_id(f->st,
	                     "SELECT count(*) FROM ext_secrets WHERE "
	                     "extension_id = ?",
	                     e.id),
	    0);
	assert_int_equal(store_ext_remove(f->st, e.id), ENOENT);
	/* The other tenant's "100" is untouched. */
	assert_int_equal(store_ext_get(f->st, tb, "100", &g), 0);
	assert_int_equal(store_secret_get(f->st, o.id, &sg), 0);

	chg_collect(f->st, start, 100, &cl);
	assert_int_equal(cl.n, 4);
	chg_assert(&cl.c[0], ta, "extension", e.id, "add");
	chg_assert(&cl.c[1], ta, "extension", e.id, "update");
	chg_assert(&cl.c[2], tb, "extension", o.id, "add");
	chg_assert(&cl.c[3], ta, "extension", e.id, "remove");
	free(cl.c);
}

static void
test_extensions_list_order(void **state)
{
	static const char *const add[] = {
	    "100", "99", "1000", "2", "200", "10"};
	static const char *const want[] = {
	    "2", "10", "99", "100", "200", "1000"};
	struct fx *f = *state;
	struct num_list l;
	int64_t ta, tb;
	size_t i;

	ta = tenant_make(f->st, "acme", "acme.example");
	tb = tenant_make(f->st, "beta", "beta.example");
	for (i = 0; i < ARRAY_LEN(add); i++)
		ext_make(f->st, ta, add[i], (unsigned)i);
	ext_make(f->st, tb, "5", 50);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_ext_list(f->st, ta, ext_number_cb, &l), 0);
	assert_int_equal(l.n, ARRAY_LEN(want));
	for (i = 0; i < ARRAY_LEN(want); i++)
		assert_string_equal(l.numbers[i], want[i]);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_ext_list(f->st, tb, ext_number_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.numbers[0], "5");
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_ext_list(f->st, 9999, ext_number_cb, &l), 0);
	assert_int_equal(l.n, 0);
}

struct sec_list {
	int64_t ids[NAMES_MAX];
	size_t n;
};

static int
sec_id_cb(void *arg, const struct store_secret *s)
{
	struct sec_list *l = arg;

	if (l->n >= NAMES_MAX)
		return ENOSPC;
	l->ids[l->n++] = s->extension_id;
	return 0;
}

static void
test_secret_rotation(void **state)
{
	struct fx *f = *state;
	struct store_secret s[ROTATIONS + 1], g;
	struct store_ext e;
	struct sec_list sl;
	int64_t ta, tb, x, other, z, prev_rot;
	bool found;
	unsigned i;

	ta = tenant_make(f->st, "acme", "acme.example");
	tb = tenant_make(f->st, "beta", "beta.example");
	x = ext_make(f->st, ta, "100", 0);
	other = ext_make(f->st, ta, "101", 100);
	z = ext_make(f->st, tb, "100", 0); /* same password, other tenant */
	assert_int_equal(store_ext_get_by_id(f->st, x, &e), 0);
	prev_rot = e.password_rotated_us;

	/* s[0] is what ext_make wrote; rotate through s[1..ROTATIONS]. */
	secret_fill(&s[0], 0, "k1");
	for (i = 1; i <= ROTATIONS; i++) {
		usleep(1000); /* distinct microsecond timestamps */
		secret_fill(&s[i], i, i == ROTATIONS ? "k2" : "k1");
		s[i].extension_id = x;
		s[i].tenant_id = ta;
		assert_int_equal(
		    store_secret_replace(f->st, &s[i], HISTORY_KEEP), 0);
		assert_int_equal(store_secret_get(f->st, x, &g), 0);
		secret_assert_equal(&g, &s[i]);
		assert_true(g.updated_us > prev_rot);
		assert_int_equal(store_ext_get_by_id(f->st, x, &e), 0);
		assert_true(e.password_rotated_us > prev_rot);
		assert_int_equal(e.password_rotated_us, g.updated_us);
		prev_rot = e.password_rotated_us;
		assert_int_equal(st_int_id(f->st,
		                     "SELECT count(*) FROM password_history "
		                     "WHERE extension_id = ?",
		                     x),
		    i + 1 < HISTORY_KEEP ? i + 1 : HISTORY_KEEP);
	}
	/* The other extensions' secrets and history are untouched. */
	assert_int_equal(store_secret_get(f->st, other, &g), 0);
	secret_fill(&s[0], 100, "k1");
	secret_assert_equal(&g, &s[0]);
	assert_int_equal(st_int_id(f->st,
	                     "SELECT count(*) FROM password_history WHERE "
	                     "extension_id = ?",
	                     other),
	    1);
	assert_int_equal(st_int_id(f->st,
	                     "SELECT count(*) FROM password_history WHERE "
	                     "extension_id = ?",
	                     z),
	    1);

	/* History holds s[3], s[4], s[5] (newest first: 5, 4, 3). */
	assert_int_equal(store_khash_in_history(
	                     f->st, x, HISTORY_KEEP, "k2", s[5].khash, &found),
	    0);
	assert_true(found);
	assert_int_equal(store_khash_in_history(
	                     f->st, x, HISTORY_KEEP, "k1", s[3].khash, &found),
	    0);
	assert_true(found);
	assert_int_equal(
	    store_khash_in_history(f->st, x, 100, "k1", s[2].khash, &found), 0);
	assert_false(found); /* trimmed */
	secret_fill(&s[0], 0, "k1");
	assert_int_equal(
	    store_khash_in_history(f->st, x, 100, "k1", s[0].khash, &found), 0);
	assert_false(found); /* trimmed */
	/* depth counts the newest entries only */
	assert_int_equal(
	    store_khash_in_history(f->st, x, 1, "k2", s[5].khash, &found), 0);
	assert_true(found);
	assert_int_equal(
	    store_khash_in_history(f->st, x, 1, "k1", s[4].khash, &found), 0);
	assert_false(found);
	assert_int_equal(
	    store_khash_in_history(f->st, x, 2, "k1", s[4].khash, &found), 0);
	assert_true(found);
	assert_int_equal(
	    store_khash_in_history(f->st, x, 2, "k1", s[3].khash, &found), 0);
	assert_false(found);
	assert_int_equal(
	    store_khash_in_history(f->st, x, 0, "k2", s[5].khash, &found), 0);
	assert_false(found);
	/* the key id is part of the match */
	assert_int_equal(store_khash_in_history(
	                     f->st, x, HISTORY_KEEP, "k1", s[5].khash, &found),
	    0);
	assert_false(found);
	/* another extension's history is not this one's */
	assert_int_equal(
	    store_khash_in_history(f->st, other, 100, "k2", s[5].khash, &found),
	    0);
	assert_false(found);

	/* Replacing the secret of a missing extension. */
	g = s[1];
	g.extension_id = 9999;
	assert_int_equal(store_secret_replace(f->st, &g, HISTORY_KEEP), ENOENT);

	/* Secret lists: one tenant, all tenants. */
	memset(&sl, 0, sizeof(sl));
	assert_int_equal(store_secret_list(f->st, ta, sec_id_cb, &sl), 0);
	assert_int_equal(sl.n, 2);
	assert_int_equal(sl.ids[0], x);
	assert_int_equal(sl.ids[1], other);
	memset(&sl, 0, sizeof(sl));
	assert_int_equal(store_secret_list(f->st, 0, sec_id_cb, &sl), 0);
	assert_int_equal(sl.n, 3);
	assert_int_equal(sl.ids[2], z);
}

/* store_secret_replace must set the extension's updated_us to the rotation
 * time (its SQL reads "updated_us = password_rotated_us", which in an
 * UPDATE is the old value). */
static void
test_secret_replace_updated_us(void **state)
{
	struct fx *f = *state;
	struct store_secret s;
	struct store_ext e;
	int64_t ta, x;

	ta = tenant_make(f->st, "acme", "acme.example");
	x = ext_make(f->st, ta, "100", 0);
	usleep(2000);
	secret_fill(&s, 1, "k1");
	s.extension_id = x;
	s.tenant_id = ta;
	assert_int_equal(store_secret_replace(f->st, &s, HISTORY_KEEP), 0);
	assert_int_equal(store_ext_get_by_id(f->st, x, &e), 0);
	assert_true(e.password_rotated_us > e.created_us);
	assert_int_equal(e.updated_us, e.password_rotated_us);
}

static void
test_khash_in_use(void **state)
{
	struct fx *f = *state;
	struct store_secret s1, s7;
	int64_t ta, tb, x, y, z;
	bool found;

	ta = tenant_make(f->st, "acme", "acme.example");
	tb = tenant_make(f->st, "beta", "beta.example");
	x = ext_make(f->st, ta, "100", 1);
	y = ext_make(f->st, ta, "101", 7);
	z = ext_make(f->st, tb, "100", 1);
	secret_fill(&s1, 1, "k1");
	secret_fill(&s7, 7, "k1");

	found = false;
	assert_int_equal(
	    store_khash_in_use(f->st, ta, 0, "k1", s1.khash, &found), 0);
	assert_true(found);
	/* x's own hash does not count against x; z's is in another tenant */
	assert_int_equal(
	    store_khash_in_use(f->st, ta, x, "k1", s1.khash, &found), 0);
	assert_false(found);
	assert_int_equal(
	    store_khash_in_use(f->st, tb, 0, "k1", s1.khash, &found), 0);
	assert_true(found);
	assert_int_equal(
	    store_khash_in_use(f->st, tb, z, "k1", s1.khash, &found), 0);
	assert_false(found);
	/* y's hash is found for x, not for y */
	assert_int_equal(
	    store_khash_in_use(f->st, ta, x, "k1", s7.khash, &found), 0);
	assert_true(found);
	assert_int_equal(
	    store_khash_in_use(f->st, ta, y, "k1", s7.khash, &found), 0);
	assert_false(found);
	/* the key id is part of the match */
	assert_int_equal(
	    store_khash_in_use(f->st, ta, 0, "k2", s1.khash, &found), 0);
	assert_false(found);
	assert_int_equal(
	    store_khash_in_use(f->st, 9999, 0, "k1", s1.khash, &found), 0);
	assert_false(found);
}

static void
test_ext_next_id_and_ha1(void **state)
{
	struct fx *f = *state;
	struct store_secret s, g;
	int64_t ta, tb, x, y, z, next = -1;

	ta = tenant_make(f->st, "acme", "acme.example");
	tb = tenant_make(f->st, "beta", "beta.example");
	x = ext_make(f->st, ta, "100", 1);
	z = ext_make(f->st, tb, "100", 2);
	y = ext_make(f->st, ta, "101", 3);

	/* A walk by id stays within the tenant. */
	assert_int_equal(store_ext_next_id(f->st, ta, 0, &next), 0);
	assert_int_equal(next, x);
	assert_int_equal(store_ext_next_id(f->st, ta, x, &next), 0);
	assert_int_equal(next, y);
	next = -1;
	assert_int_equal(store_ext_next_id(f->st, ta, y, &next), ENOENT);
	assert_int_equal(next, -1);
	assert_int_equal(store_ext_next_id(f->st, tb, 0, &next), 0);
	assert_int_equal(next, z);

	/* Only the HA1s change. */
	secret_fill(&s, 1, "k1");
	assert_int_equal(
	    store_secret_set_ha1(f->st, x, "0123456789abcdef0123456789abcdef",
	        "00112233445566778899aabbccddeeff"
	        "00112233445566778899aabbccddeeff"),
	    0);
	assert_int_equal(store_secret_get(f->st, x, &g), 0);
	assert_string_equal(g.ha1_md5, "0123456789abcdef0123456789abcdef");
	assert_string_equal(g.ha1_sha256, "00112233445566778899aabbccddeeff"
	                                  "00112233445566778899aabbccddeeff");
	assert_string_equal(g.key_id, s.key_id);
	assert_int_equal(g.box_len, s.box_len);
	assert_memory_equal(g.box, s.box, s.box_len);
	assert_memory_equal(g.khash, s.khash, STORE_KHASH_LEN);
	assert_int_equal(store_secret_get(f->st, y, &g), 0);
	secret_fill(&s, 3, "k1");
	secret_assert_equal(&g, &s);
	assert_int_equal(store_secret_set_ha1(f->st, 9999, "a", "b"), ENOENT);
}

/* ---- 6. transactions ---- */

static void
test_tx_nested_commit(void **state)
{
	struct fx *f = *state;
	struct store_tenant t;
	sqlite3 *db = raw_open(f->path);

	assert_int_equal(store_tx_commit(f->st), EINVAL); /* none open */
	store_tx_rollback(f->st);                         /* a no-op */

	assert_int_equal(store_tx_begin(f->st), 0);
	assert_int_equal(store_tx_begin(f->st), 0);
	tenant_make(f->st, "nested", "nested.example");
	assert_int_equal(store_tx_commit(f->st), 0); /* inner: nothing yet */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM tenants"), 0);
	tenant_make(f->st, "nested2", "nested2.example");
	assert_int_equal(store_tx_commit(f->st), 0); /* outer */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM tenants"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM changes"), 2);
	assert_int_equal(store_tenant_get(f->st, "nested", &t), 0);
	assert_int_equal(store_tx_commit(f->st), EINVAL);
	sqlite3_close(db);
}

static void
test_tx_inner_rollback(void **state)
{
	struct fx *f = *state;
	struct store_tenant t;
	int64_t before = chg_last(f->st);

	assert_int_equal(store_tx_begin(f->st), 0);
	tenant_make(f->st, "outer", "outer.example");
	assert_int_equal(store_tx_begin(f->st), 0);
	tenant_make(f->st, "inner", "inner.example");
	store_tx_rollback(f->st);
	tenant_make(f->st, "after", "after.example");
	assert_int_equal(store_tx_commit(f->st), EIO);

	assert_int_equal(store_tenant_get(f->st, "outer", &t), ENOENT);
	assert_int_equal(store_tenant_get(f->st, "inner", &t), ENOENT);
	assert_int_equal(store_tenant_get(f->st, "after", &t), ENOENT);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM tenants"), 0);
	assert_int_equal(chg_last(f->st), before);

	/* The failure does not stick to the next transaction. */
	assert_int_equal(store_tx_commit(f->st), EINVAL);
	tenant_make(f->st, "later", "later.example");
	assert_int_equal(store_tenant_get(f->st, "later", &t), 0);

	/* An outer rollback undoes everything too. */
	assert_int_equal(store_tx_begin(f->st), 0);
	tenant_make(f->st, "gone", "gone.example");
	store_tx_rollback(f->st);
	assert_int_equal(store_tenant_get(f->st, "gone", &t), ENOENT);
}

struct row_counts {
	int64_t ext, sec, hist, chg, tenants;
};

static void
row_counts(struct store *st, struct row_counts *c)
{
	c->ext = st_int(st, "SELECT count(*) FROM extensions");
	c->sec = st_int(st, "SELECT count(*) FROM ext_secrets");
	c->hist = st_int(st, "SELECT count(*) FROM password_history");
	c->chg = st_int(st, "SELECT count(*) FROM changes");
	c->tenants = st_int(st, "SELECT count(*) FROM tenants");
}

static void
row_counts_assert(const struct row_counts *a, const struct row_counts *b)
{
	assert_int_equal(a->ext, b->ext);
	assert_int_equal(a->sec, b->sec);
	assert_int_equal(a->hist, b->hist);
	assert_int_equal(a->chg, b->chg);
	assert_int_equal(a->tenants, b->tenants);
}

static void
test_tx_ext_add_failure(void **state)
{
	struct fx *f = *state;
	struct row_counts before, after;
	struct store_secret s;
	struct store_ext e;
	int64_t ta;
	sqlite3 *db;
	char *msg = NULL;

	ta = tenant_make(f->st, "acme", "acme.example");
	ext_make(f->st, ta, "100", 1);
	row_counts(f->st, &before);

	/* A duplicate: the first insert fails. */
	ext_fill(&e, ta, "100");
	secret_fill(&s, 2, "k1");
	assert_int_equal(store_ext_add(f->st, &e, &s), EEXIST);
	row_counts(f->st, &after);
	row_counts_assert(&before, &after);

	/* A failure at the last step (the change log, made to fail by a
	 * trigger): the extension, secret and history rows are undone. */
	db = raw_open(f->path);
	if (sqlite3_exec(db,
	        "CREATE TRIGGER fail_ext_change BEFORE INSERT ON changes "
	        "WHEN NEW.kind = 'extension' BEGIN SELECT RAISE(ABORT, "
	        "'injected'); END",
	        NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("create trigger: %s", msg);
	ext_fill(&e, ta, "200");
	secret_fill(&s, 3, "k1");
	assert_int_not_equal(store_ext_add(f->st, &e, &s), 0);
	assert_int_equal(e.id, 0);
	row_counts(f->st, &after);
	row_counts_assert(&before, &after);
	assert_int_equal(store_ext_get(f->st, ta, "200", &e), ENOENT);

	/* The same inside an outer transaction: the outer commit fails and
	 * the outer's own writes are gone too. */
	assert_int_equal(store_tx_begin(f->st), 0);
	tenant_make(f->st, "beta", "beta.example");
	ext_fill(&e, ta, "300");
	assert_int_not_equal(store_ext_add(f->st, &e, &s), 0);
	assert_int_equal(store_tx_commit(f->st), EIO);
	row_counts(f->st, &after);
	row_counts_assert(&before, &after);

	if (sqlite3_exec(db, "DROP TRIGGER fail_ext_change", NULL, NULL,
	        &msg) != SQLITE_OK)
		fail_msg("drop trigger: %s", msg);
	sqlite3_close(db);
	/* And it works again. */
	ext_fill(&e, ta, "200");
	assert_int_equal(store_ext_add(f->st, &e, &s), 0);
	assert_int_equal(store_ext_get(f->st, ta, "200", &e), 0);
}

/* STYLE.md: out-parameters are written only on success. store_ext_add
 * writes sec->extension_id, tenant_id and updated_us before its later
 * statements can fail. */
static void
test_ext_add_failure_keeps_secret(void **state)
{
	struct fx *f = *state;
	struct store_secret s, copy;
	struct store_ext e;
	int64_t ta;
	sqlite3 *db;
	char *msg = NULL;

	ta = tenant_make(f->st, "acme", "acme.example");
	db = raw_open(f->path);
	if (sqlite3_exec(db,
	        "CREATE TRIGGER fail_secret BEFORE INSERT ON ext_secrets "
	        "BEGIN SELECT RAISE(ABORT, 'injected'); END",
	        NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("create trigger: %s", msg);
	sqlite3_close(db);
	ext_fill(&e, ta, "100");
	secret_fill(&s, 1, "k1");
	copy = s;
	assert_int_not_equal(store_ext_add(f->st, &e, &s), 0);
	assert_int_equal(e.id, 0);
	assert_int_equal(s.extension_id, copy.extension_id);
	assert_memory_equal(&s, &copy, sizeof(s));
}

/* ---- 7. audit log ---- */

struct audit_list {
	struct store_audit a[NAMES_MAX];
	size_t n;
};

static int
audit_cb(void *arg, const struct store_audit *a)
{
	struct audit_list *l = arg;

	if (l->n >= NAMES_MAX)
		return ENOSPC;
	l->a[l->n++] = *a;
	return 0;
}

static void
test_audit_log(void **state)
{
	struct fx *f = *state;
	struct store_audit a[3];
	struct audit_list l;
	sqlite3 *db;
	char *msg = NULL;
	int64_t ta;
	size_t i;

	ta = tenant_make(f->st, "acme", "acme.example");
	for (i = 0; i < ARRAY_LEN(a); i++) {
		memset(&a[i], 0, sizeof(a[i]));
		snprintf(a[i].actor, sizeof(a[i].actor), "admin%zu", i);
		snprintf(
		    a[i].source, sizeof(a[i].source), "198.51.100.%zu", i + 1);
		snprintf(a[i].action, sizeof(a[i].action), "ext.add");
		snprintf(a[i].target, sizeof(a[i].target), "acme/%zu", 100 + i);
		snprintf(a[i].detail, sizeof(a[i].detail), "detail %zu", i);
		a[i].tenant_id = i == 1 ? 0 : ta;
		assert_int_equal(store_audit_add(f->st, &a[i]), 0);
		assert_true(a[i].id > 0);
		assert_true(a[i].at_us > 0);
		if (i > 0)
			assert_true(a[i].id > a[i - 1].id);
	}
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_audit_list(f->st, 0, 10, audit_cb, &l), 0);
	assert_int_equal(l.n, 3);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.a[i].id, a[i].id);
		assert_int_equal(l.a[i].at_us, a[i].at_us);
		assert_int_equal(l.a[i].tenant_id, a[i].tenant_id);
		assert_string_equal(l.a[i].actor, a[i].actor);
		assert_string_equal(l.a[i].source, a[i].source);
		assert_string_equal(l.a[i].action, a[i].action);
		assert_string_equal(l.a[i].target, a[i].target);
		assert_string_equal(l.a[i].detail, a[i].detail);
	}
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_audit_list(f->st, a[0].id, 1, audit_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.a[0].id, a[1].id);

	/* The database refuses UPDATE and DELETE. */
	db = raw_open(f->path);
	assert_int_not_equal(
	    sqlite3_exec(
	        db, "UPDATE audit_log SET actor = 'mallory'", NULL, NULL, &msg),
	    SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(
	    sqlite3_exec(db, "DELETE FROM audit_log", NULL, NULL, &msg),
	    SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM audit_log"), 3);
	assert_int_equal(
	    raw_int(db, "SELECT count(*) FROM audit_log WHERE actor = "
	                "'mallory'"),
	    0);
	sqlite3_close(db);
}

/* ---- 8. concurrent writers in two processes, and a reader ---- */

/* A child: opens the store, waits on the gate, adds CONC_PER_CHILD
 * extensions numbered base.. each in its own transaction, and reads in
 * between. Returns CHILD_OK, CHILD_EBUSY or CHILD_FAIL; never asserts
 * (cmocka's state belongs to the parent). */
static int
conc_child(const char *url, int64_t tenant_id, unsigned base, int gate)
{
	char err[TEST_ERR_MAX] = "", num[STORE_EXT_MAX];
	struct store *st = NULL;
	struct store_secret s;
	struct store_ext e, g;
	struct num_list l;
	int64_t seq;
	char b;
	int rc, i;

	if ((rc = store_open(url, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "child %u: store_open: %d %s\n", base, rc, err);
		return rc == EBUSY ? CHILD_EBUSY : CHILD_FAIL;
	}
	if (read(gate, &b, 1) < 0) {
		store_close(st);
		return CHILD_FAIL;
	}
	close(gate);
	for (i = 0; i < CONC_PER_CHILD; i++) {
		snprintf(num, sizeof(num), "%u", base + (unsigned)i);
		ext_fill(&e, tenant_id, num);
		secret_fill(&s, base + (unsigned)i, "k1");
		rc = store_ext_add(st, &e, &s);
		if (rc == 0)
			rc = store_ext_get(st, tenant_id, num, &g);
		if (rc == 0 && g.id != e.id)
			rc = EIO;
		if (rc == 0 && i % CONC_READ_EVERY == 0) {
			memset(&l, 0, sizeof(l));
			rc = store_ext_list(st, tenant_id, ext_number_cb, &l);
			if (rc == ENOSPC) /* more than NAMES_MAX: fine */
				rc = 0;
			if (rc == 0)
				rc = store_change_last(st, &seq);
		}
		if (rc != 0) {
			fprintf(stderr, "child %u: ext %s: %d %s\n", base, num,
			    rc, store_errmsg(st));
			store_close(st);
			return rc == EBUSY ? CHILD_EBUSY : CHILD_FAIL;
		}
	}
	store_close(st);
	return CHILD_OK;
}

static int
ext_count_cb(void *arg, const struct store_ext *e)
{
	size_t *n = arg;

	(void)e;
	(*n)++;
	return 0;
}

/* A reader next to the writers: walks the tenant's extensions and the
 * change log CONC_READS times; what it sees may only grow. */
static int
conc_reader(const char *url, int64_t tenant_id, int gate)
{
	char err[TEST_ERR_MAX] = "";
	struct store *st = NULL;
	size_t n, prev_n = 0;
	int64_t seq, prev_seq = 0;
	char b;
	int rc = 0, i;

	if ((rc = store_open(url, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "reader: store_open: %d %s\n", rc, err);
		return rc == EBUSY ? CHILD_EBUSY : CHILD_FAIL;
	}
	if (read(gate, &b, 1) < 0) {
		store_close(st);
		return CHILD_FAIL;
	}
	close(gate);
	for (i = 0; i < CONC_READS && rc == 0; i++) {
		n = 0;
		rc = store_ext_list(st, tenant_id, ext_count_cb, &n);
		if (rc == 0)
			rc = store_change_last(st, &seq);
		if (rc == 0 && (n < prev_n || seq < prev_seq)) {
			fprintf(stderr,
			    "reader: went back: %zu < %zu or %lld < "
			    "%lld\n",
			    n, prev_n, (long long)seq, (long long)prev_seq);
			rc = EIO;
		}
		prev_n = n;
		prev_seq = seq;
	}
	if (rc != 0)
		fprintf(stderr, "reader: %d %s\n", rc, store_errmsg(st));
	store_close(st);
	if (rc != 0)
		return rc == EBUSY ? CHILD_EBUSY : CHILD_FAIL;
	return CHILD_OK;
}

/* Reaps every child, then fails if one did not exit with CHILD_OK. */
static void
children_wait(pid_t *pids, size_t n)
{
	int status[FRESH_CHILDREN + CONC_CHILDREN + 1];
	size_t i;

	assert_true(n <= ARRAY_LEN(status));
	for (i = 0; i < n; i++) {
		status[i] = -1;
		assert_int_equal(waitpid(pids[i], &status[i], 0), pids[i]);
	}
	for (i = 0; i < n; i++) {
		assert_true(WIFEXITED(status[i]));
		if (WEXITSTATUS(status[i]) == CHILD_EBUSY)
			fail_msg(
			    "child %zu got EBUSY: BEGIN IMMEDIATE with the "
			    "busy timeout should have waited",
			    i);
		if (WEXITSTATUS(status[i]) != CHILD_OK)
			fail_msg("child %zu failed (its stderr says why)", i);
	}
}

struct id_set {
	int64_t *ids;
	size_t n;
};

static int
ext_id_cb(void *arg, const struct store_ext *e)
{
	struct id_set *s = arg;

	if (s->n >= CONC_CHILDREN * CONC_PER_CHILD)
		return ENOSPC;
	s->ids[s->n++] = e->id;
	return 0;
}

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_concurrent_writers(void **state)
{
	struct fx *f = *state;
	char err[TEST_ERR_MAX], ok[32], num[STORE_EXT_MAX];
	pid_t pids[CONC_CHILDREN + 1];
	struct id_set ids;
	struct chg_list cl;
	struct store_ext e;
	int64_t ta, start, *chg_ids;
	int gate[2];
	size_t i;
	unsigned c;

	ta = tenant_make(f->st, "acme", "acme.example");
	start = chg_last(f->st);
	store_close(f->st); /* no connection crosses fork() */
	f->st = NULL;

	assert_int_equal(pipe(gate), 0);
	for (c = 0; c < CONC_CHILDREN; c++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			close(gate[1]);
			_exit(conc_child(f->url, ta, 1000 * (c + 1), gate[0]));
		}
		pids[c] = pid;
	}
	if ((pids[CONC_CHILDREN] = fork()) == 0) {
		close(gate[1]);
		_exit(conc_reader(f->url, ta, gate[0]));
	}
	assert_true(pids[CONC_CHILDREN] > 0);
	close(gate[0]);
	close(gate[1]); /* go */
	children_wait(pids, CONC_CHILDREN + 1);

	assert_int_equal(store_open(f->url, &f->st, err, sizeof(err)), 0);
	for (c = 0; c < CONC_CHILDREN; c++)
		for (i = 0; i < CONC_PER_CHILD; i++) {
			snprintf(num, sizeof(num), "%zu", 1000 * (c + 1) + i);
			if (store_ext_get(f->st, ta, num, &e) != 0)
				fail_msg("extension %s missing", num);
		}
	assert_non_null(
	    ids.ids = calloc(CONC_CHILDREN * CONC_PER_CHILD, sizeof(*ids.ids)));
	ids.n = 0;
	assert_int_equal(store_ext_list(f->st, ta, ext_id_cb, &ids), 0);
	assert_int_equal(ids.n, CONC_CHILDREN * CONC_PER_CHILD);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM ext_secrets"),
	    CONC_CHILDREN * CONC_PER_CHILD);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM password_history"),
	    CONC_CHILDREN * CONC_PER_CHILD);

	/* The change log: exactly one "add" per extension, seq increasing. */
	chg_collect(f->st, start, CHANGES_MAX, &cl);
	assert_int_equal(cl.n, CONC_CHILDREN * CONC_PER_CHILD);
	assert_non_null(chg_ids = calloc(cl.n, sizeof(*chg_ids)));
	for (i = 0; i < cl.n; i++) {
		assert_string_equal(cl.c[i].kind, "extension");
		assert_string_equal(cl.c[i].op, "add");
		assert_int_equal(cl.c[i].tenant_id, ta);
		if (i > 0)
			assert_true(cl.c[i].seq > cl.c[i - 1].seq);
		chg_ids[i] = cl.c[i].object_id;
	}
	assert_int_equal(chg_last(f->st), cl.c[cl.n - 1].seq);
	qsort(chg_ids, cl.n, sizeof(*chg_ids), id_cmp);
	qsort(ids.ids, ids.n, sizeof(*ids.ids), id_cmp);
	assert_memory_equal(chg_ids, ids.ids, cl.n * sizeof(*chg_ids));

	st_text(f->st, "PRAGMA integrity_check", ok, sizeof(ok));
	assert_string_equal(ok, "ok");
	assert_int_equal(
	    st_int(f->st, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	free(chg_ids);
	free(ids.ids);
	free(cl.c);
}

/* Several processes open a database that does not exist yet at the same
 * time: one creates and migrates it, the others wait and apply nothing. */
static void
child_fresh(const char *url, unsigned i, int gate)
{
	char err[TEST_ERR_MAX] = "", name[32], domain[64];
	struct store *st = NULL;
	struct store_tenant t;
	char b;
	int rc;

	if (read(gate, &b, 1) < 0)
		_exit(CHILD_FAIL);
	close(gate);
	if ((rc = store_open(url, &st, err, sizeof(err))) != 0) {
		fprintf(stderr, "child %u: store_open: %d %s\n", i, rc, err);
		_exit(rc == EBUSY ? CHILD_EBUSY : CHILD_FAIL);
	}
	snprintf(name, sizeof(name), "t%u", i);
	snprintf(domain, sizeof(domain), "t%u.example", i);
	tenant_fill(&t, name, domain);
	if ((rc = store_tenant_add(st, &t)) != 0) {
		fprintf(stderr, "child %u: tenant_add: %d %s\n", i, rc,
		    store_errmsg(st));
		store_close(st);
		_exit(rc == EBUSY ? CHILD_EBUSY : CHILD_FAIL);
	}
	store_close(st);
	_exit(CHILD_OK);
}

static void
test_concurrent_first_open(void **state)
{
	struct fx *f = *state;
	char path[TEST_PATH_MAX], url[TEST_URL_MAX], err[TEST_ERR_MAX];
	pid_t pids[FRESH_CHILDREN];
	struct store *st = NULL;
	int gate[2], version, round;
	unsigned c;

	for (round = 0; round < FRESH_ROUNDS; round++) {
		char name[32];

		snprintf(name, sizeof(name), "fresh%d.db", round);
		fx_db(f, name, path, url);
		assert_int_equal(pipe(gate), 0);
		for (c = 0; c < FRESH_CHILDREN; c++) {
			pid_t pid = fork();

			assert_true(pid >= 0);
			if (pid == 0) {
				close(gate[1]);
				child_fresh(url, c, gate[0]);
			}
			pids[c] = pid;
		}
		close(gate[0]);
		close(gate[1]);
		children_wait(pids, FRESH_CHILDREN);

		assert_int_equal(store_open(url, &st, err, sizeof(err)), 0);
		assert_int_equal(store_schema_version(st, &version), 0);
		assert_int_equal(version, migrations_highest());
		assert_int_equal(
		    st_int(st, "SELECT count(*) FROM schema_migrations"),
		    store_migrations_count);
		assert_int_equal(
		    st_int(st, "SELECT count(*) FROM tenants"), FRESH_CHILDREN);
		store_close(st);
		st = NULL;
	}
}

/* ---- 9. change log ---- */

static void
test_change_log(void **state)
{
	struct fx *f = *state;
	struct chg_list cl;
	int64_t seq, ta;
	int i;

	assert_int_equal(chg_last(f->st), 0); /* empty */
	chg_collect(f->st, 0, 10, &cl);
	assert_int_equal(cl.n, 0);
	free(cl.c);

	ta = tenant_make(f->st, "acme", "acme.example"); /* seq 1 */
	for (i = 0; i < 9; i++)
		assert_int_equal(
		    store_change_add(f->st, i % 2 ? ta : 0, "trunk", 100 + i,
		        i % 3 == 0 ? "add"
		                   : (i % 3 == 1 ? "update" : "remove")),
		    0);
	assert_int_equal(chg_last(f->st), 10);

	/* Paging by 4: 1-4, 5-8, 9-10, nothing. */
	seq = 0;
	for (i = 0; i < 4; i++) {
		size_t want = i < 2 ? 4 : (i == 2 ? 2 : 0), k;

		chg_collect(f->st, seq, 4, &cl);
		assert_int_equal(cl.n, want);
		for (k = 0; k < cl.n; k++) {
			assert_int_equal(cl.c[k].seq, seq + 1);
			seq = cl.c[k].seq;
		}
		free(cl.c);
	}
	assert_int_equal(seq, 10);

	chg_collect(f->st, 0, 100, &cl);
	assert_int_equal(cl.n, 10);
	chg_assert(&cl.c[0], ta, "tenant", ta, "add");
	chg_assert(&cl.c[1], 0, "trunk", 100, "add"); /* tenant 0: none */
	chg_assert(&cl.c[2], ta, "trunk", 101, "update");
	chg_assert(&cl.c[3], 0, "trunk", 102, "remove");
	free(cl.c);
	chg_collect(f->st, 9, 100, &cl);
	assert_int_equal(cl.n, 1);
	assert_int_equal(cl.c[0].seq, 10);
	free(cl.c);

	/* op is checked by the schema */
	assert_int_not_equal(
	    store_change_add(f->st, ta, "trunk", 1, "bogus"), 0);
	assert_int_equal(chg_last(f->st), 10);
}

/* ---- 10. open errors ---- */

static void
test_open_errors(void **state)
{
	static const char junk[] = "this is not an SQLite database, at all";
	struct fx *f = *state;
	char url[TEST_URL_MAX], path[TEST_PATH_MAX], err[TEST_ERR_MAX];
	struct store *st = NULL;

	snprintf(path, sizeof(path), "%s/missing/t.db", f->dir);
	snprintf(url, sizeof(url), "sqlite:%s", path);
	err[0] = '\0';
	assert_int_not_equal(store_open(url, &st, err, sizeof(err)), 0);
	assert_null(st);
	if (strstr(err, path) == NULL)
		fail_msg("error does not name the path: \"%s\"", err);
	err[0] = '\0';
	assert_int_not_equal(store_open_raw(url, &st, err, sizeof(err)), 0);
	assert_null(st);
	assert_non_null(strstr(err, path));

	err[0] = '\0';
	assert_int_equal(store_open("postgresql://sw@db.example/sipwarden", &st,
	                     err, sizeof(err)),
	    EINVAL);
	assert_null(st);
	assert_non_null(strstr(err, "PostgreSQL"));
	assert_non_null(strstr(err, "sqlite:"));

	err[0] = '\0';
	assert_int_equal(
	    store_open("mysql://x", &st, err, sizeof(err)), EINVAL);
	assert_null(st);
	assert_non_null(strstr(err, "unknown scheme"));

	/* A file that is not a database. */
	fx_db(f, "junk.db", path, url);
	assert_int_equal(
	    util_file_write(path, junk, sizeof(junk) - 1, 0600, true), 0);
	err[0] = '\0';
	assert_int_not_equal(store_open(url, &st, err, sizeof(err)), 0);
	assert_null(st);
	assert_true(err[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_migrations_fresh, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_migrations_upgrade, setup_dir, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_migrations_idempotent, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(test_tenants, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_extensions, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_extensions_list_order, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_secret_rotation, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_secret_replace_updated_us, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_khash_in_use, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ext_next_id_and_ha1, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tx_nested_commit, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tx_inner_rollback, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tx_ext_add_failure, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ext_add_failure_keeps_secret, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_audit_log, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_concurrent_writers, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_concurrent_first_open, setup_dir, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_change_log, setup_open, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_open_errors, setup_dir, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
