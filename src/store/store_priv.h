/* store_priv.h: what the back-ends (sqlite.c, later postgres.c) implement,
 * and the helpers the table files (tenant.c, ext.c, ...) share. */
#ifndef SW_STORE_PRIV_H
#define SW_STORE_PRIV_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum store_type { STORE_NULL, STORE_INT, STORE_TEXT, STORE_BLOB };

/* A parameter or a column value. Text and blobs are views: a column's
 * view lives until the row callback returns. */
struct store_val {
	enum store_type type;
	int64_t i;
	const void *p;
	size_t len;
};

#define SV_INT(v) ((struct store_val){.type = STORE_INT, .i = (v)})
#define SV_TEXT(s)                                                             \
	((struct store_val){.type = STORE_TEXT, .p = (s), .len = strlen(s)})
#define SV_BLOB(b, n)                                                          \
	((struct store_val){.type = STORE_BLOB, .p = (b), .len = (n)})
#define SV_NULL ((struct store_val){.type = STORE_NULL})
/* NULL for an id of 0, else the id */
#define SV_ID(v) ((v) ? SV_INT(v) : SV_NULL)

typedef int (*store_row_cb)(
    void *arg, const struct store_val *cols, size_t ncols);

enum store_dialect { STORE_DIALECT_SQLITE, STORE_DIALECT_POSTGRES };

struct store_backend {
	const char *name;
	enum store_dialect dialect;
	int (*open)(const char *url, void **impl, char *err, size_t errsize);
	void (*close)(void *impl);
	/* Runs one statement with '?' placeholders (the back-end rewrites
	 * them for its own syntax) as a prepared statement kept for reuse;
	 * sql must be a string that lives as long as the program (a literal).
	 * Calls cb for each result row. Maps unique violations to EEXIST. */
	int (*query)(void *impl, const char *sql, const struct store_val *par,
	    size_t npar, store_row_cb cb, void *arg);
	/* Runs a script of several statements (migrations only). */
	int (*exec_script)(void *impl, const char *sql);
	int (*begin)(void *impl);
	int (*commit)(void *impl);
	int (*rollback)(void *impl);
	/* Rows changed by the last statement. */
	int64_t (*changes)(void *impl);
	const char *(*errmsg)(void *impl);
};

extern const struct store_backend store_backend_sqlite;

struct store {
	const struct store_backend *be;
	void *impl;
	int tx_depth;
	bool tx_failed;
};

/* Runs a statement (see store_backend.query). */
int store_query(struct store *st, const char *sql, const struct store_val *par,
    size_t npar, store_row_cb cb, void *arg);
/* Runs a statement that returns at most one row with one integer column;
 * ENOENT when none. */
int store_query_int(struct store *st, const char *sql,
    const struct store_val *par, size_t npar, int64_t *out);

/* Copies a text column into a fixed buffer (truncating at size-1 bytes;
 * our own writers never store longer values). NULL gives "". */
void store_col_text(const struct store_val *v, char *buf, size_t size);
int64_t store_col_int(const struct store_val *v); /* NULL gives 0 */
/* Copies a blob column; returns its length, or 0 when it does not fit. */
size_t store_col_blob(const struct store_val *v, void *buf, size_t size);

#endif
