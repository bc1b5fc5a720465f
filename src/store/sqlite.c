/* sqlite.c: the SQLite back-end of the store (the embedded default). WAL,
 * foreign keys on, a busy timeout, secure_delete, and prepared statements
 * only: each statement is prepared once and kept, keyed by its text's
 * address (callers pass literals). */
#include "store/store_priv.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SQLITE_STMT_BUCKETS = 256, SQLITE_BUSY_MS = 10000 };

struct stmt_entry {
	const char *sql;
	sqlite3_stmt *stmt;
	struct stmt_entry *next;
};

struct sqlite_impl {
	sqlite3 *db;
	struct stmt_entry *buckets[SQLITE_STMT_BUCKETS];
	char err[256];
};

static int
rc_to_errno(struct sqlite_impl *s, int rc)
{
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_CONSTRAINT:
		switch (rc == SQLITE_CONSTRAINT
		            ? sqlite3_extended_errcode(s->db)
		            : rc) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return EEXIST;
		default:
			return EINVAL;
		}
	default:
		return EIO;
	}
}

static int
sqlite_open(const char *path, void **implp, char *err, size_t errsize)
{
	static const char *pragmas = "PRAGMA journal_mode = WAL;"
	                             "PRAGMA synchronous = NORMAL;"
	                             "PRAGMA foreign_keys = ON;"
	                             "PRAGMA secure_delete = ON;"
	                             "PRAGMA trusted_schema = OFF;";
	struct sqlite_impl *s;
	char *msg = NULL;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ENOMEM;
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errsize, "cannot open database %s: %s", path,
		    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, SQLITE_BUSY_MS);
	/* Switching a new database to WAL takes an exclusive lock and does
	 * not wait on the busy handler: retry, within the busy timeout. */
	for (int waited = 0;; waited += 10) {
		rc = sqlite3_exec(s->db, pragmas, NULL, NULL, &msg);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= SQLITE_BUSY_MS)
			break;
		sqlite3_free(msg);
		msg = NULL;
		usleep(10000);
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errsize, "cannot open database %s: %s", path,
		    msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		goto fail;
	}
	*implp = s;
	return 0;
fail:
	sqlite3_close(s->db);
	free(s);
	return rc == SQLITE_CANTOPEN ? ENOENT : EIO;
}

static void
sqlite_close(void *impl)
{
	struct sqlite_impl *s = impl;
	size_t i;

	for (i = 0; i < SQLITE_STMT_BUCKETS; i++) {
		struct stmt_entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			sqlite3_finalize(e->stmt);
			free(e);
		}
	}
	sqlite3_close(s->db);
	free(s);
}

/* Returns the kept statement for sql, preparing it the first time. */
static int
stmt_get(struct sqlite_impl *s, const char *sql, sqlite3_stmt **out)
{
	size_t h = ((uintptr_t)sql >> 3) % SQLITE_STMT_BUCKETS;
	struct stmt_entry *e;
	int rc;

	for (e = s->buckets[h]; e != NULL; e = e->next)
		if (e->sql == sql) {
			*out = e->stmt;
			return 0;
		}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ENOMEM;
	rc = sqlite3_prepare_v3(
	    s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &e->stmt, NULL);
	if (rc != SQLITE_OK) {
		free(e);
		return rc_to_errno(s, rc);
	}
	e->sql = sql;
	e->next = s->buckets[h];
	s->buckets[h] = e;
	*out = e->stmt;
	return 0;
}

static int
sqlite_query(void *impl, const char *sql, const struct store_val *par,
    size_t npar, store_row_cb cb, void *arg)
{
	enum { COLS_MAX = 32 };
	struct sqlite_impl *s = impl;
	struct store_val cols[COLS_MAX];
	sqlite3_stmt *stmt;
	size_t i;
	int rc, err;

	if ((err = stmt_get(s, sql, &stmt)) != 0)
		return err;
	if ((size_t)sqlite3_bind_parameter_count(stmt) != npar) {
		snprintf(s->err, sizeof(s->err),
		    "statement wants %d parameters, got %zu",
		    sqlite3_bind_parameter_count(stmt), npar);
		return EINVAL;
	}
	for (i = 0; i < npar; i++) {
		int idx = (int)i + 1;

		switch (par[i].type) {
		case STORE_NULL:
			rc = sqlite3_bind_null(stmt, idx);
			break;
		case STORE_INT:
			rc = sqlite3_bind_int64(stmt, idx, par[i].i);
			break;
		case STORE_TEXT:
			rc = sqlite3_bind_text64(stmt, idx, par[i].p,
			    par[i].len, SQLITE_STATIC, SQLITE_UTF8);
			break;
		default:
			rc = sqlite3_bind_blob64(
			    stmt, idx, par[i].p, par[i].len, SQLITE_STATIC);
			break;
		}
		if (rc != SQLITE_OK) {
			err = rc_to_errno(s, rc);
			goto out;
		}
	}
	err = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int n = sqlite3_column_count(stmt);

		if (n > COLS_MAX)
			n = COLS_MAX;
		for (i = 0; i < (size_t)n; i++) {
			int ci = (int)i;

			switch (sqlite3_column_type(stmt, ci)) {
			case SQLITE_NULL:
				cols[i] = SV_NULL;
				break;
			case SQLITE_INTEGER:
			case SQLITE_FLOAT:
				cols[i] =
				    SV_INT(sqlite3_column_int64(stmt, ci));
				break;
			case SQLITE_TEXT:
				cols[i].type = STORE_TEXT;
				cols[i].p = sqlite3_column_text(stmt, ci);
				cols[i].len =
				    (size_t)sqlite3_column_bytes(stmt, ci);
				break;
			default:
				cols[i].type = STORE_BLOB;
				cols[i].p = sqlite3_column_blob(stmt, ci);
				cols[i].len =
				    (size_t)sqlite3_column_bytes(stmt, ci);
				break;
			}
		}
		if (cb != NULL && (err = cb(arg, cols, (size_t)n)) != 0)
			goto out;
	}
	if (rc != SQLITE_DONE)
		err = rc_to_errno(s, rc);
out:
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return err;
}

static int
sqlite_exec_script(void *impl, const char *sql)
{
	struct sqlite_impl *s = impl;
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s",
		    msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return EIO;
	}
	return 0;
}

static int
sqlite_simple(struct sqlite_impl *s, const char *sql)
{
	sqlite3_stmt *stmt;
	int rc, err;

	if ((err = stmt_get(s, sql, &stmt)) != 0)
		return err;
	rc = sqlite3_step(stmt);
	err = rc == SQLITE_DONE ? 0 : rc_to_errno(s, rc);
	sqlite3_reset(stmt);
	return err;
}

static int
sqlite_begin(void *impl)
{
	/* IMMEDIATE takes the write lock now, so two writers wait on the
	 * busy timeout instead of failing at their first write. */
	return sqlite_simple(impl, "BEGIN IMMEDIATE");
}

static int
sqlite_commit(void *impl)
{
	return sqlite_simple(impl, "COMMIT");
}

static int
sqlite_rollback(void *impl)
{
	struct sqlite_impl *s = impl;

	if (sqlite3_get_autocommit(s->db))
		return 0;
	return sqlite_simple(impl, "ROLLBACK");
}

static int64_t
sqlite_changes(void *impl)
{
	struct sqlite_impl *s = impl;

	return sqlite3_changes64(s->db);
}

static const char *
sqlite_errmsg(void *impl)
{
	struct sqlite_impl *s = impl;

	return s->err;
}

const struct store_backend store_backend_sqlite = {
    .name = "sqlite",
    .dialect = STORE_DIALECT_SQLITE,
    .open = sqlite_open,
    .close = sqlite_close,
    .query = sqlite_query,
    .exec_script = sqlite_exec_script,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .changes = sqlite_changes,
    .errmsg = sqlite_errmsg,
};
