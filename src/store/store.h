/* store.h: the one interface to sipwarden's database. Two back-ends share
 * one schema (src/store/migrations): SQLite (embedded default) and, later,
 * PostgreSQL. Every function here runs portable SQL through the back-end's
 * prepared statements; callers never see SQL.
 *
 * Conventions: functions return 0 or a positive errno code: ENOENT (no such
 * row), EEXIST (a unique key is taken), EBUSY (locked past the busy
 * timeout), EIO (any other database error; the message is in
 * store_errmsg()). Rows are plain structs with bounded fixed buffers, so
 * they own nothing and need no free. Every mutation of a tenant, extension
 * or trunk appends to the change log in the same transaction. */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum {
	STORE_NAME_MAX = 64,    /* tenant slug, trunk name, key id */
	STORE_DOMAIN_MAX = 254, /* DNS name */
	STORE_EXT_MAX = 33,     /* extension number */
	STORE_TEXT_MAX = 256,   /* display names, user agents, sources */
	STORE_SETTINGS_MAX = 2048,
	STORE_BOX_MAX = 256, /* a sealed secret */
	STORE_HASH_MAX = 65, /* hex digest + NUL */
	STORE_KHASH_LEN = 32,
};

/* Opens (creating if needed) the store at url ("sqlite:/path" or
 * "postgresql://..."), applies pending migrations in one transaction each,
 * and returns it in *sp. On failure err holds the reason. */
int store_open(const char *url, struct store **sp, char *err, size_t errsize);
/* Opens without migrating, up to no version: for tests of the migrations. */
int store_open_raw(
    const char *url, struct store **sp, char *err, size_t errsize);
/* Applies migrations up to and including version `upto` (0 = all). */
int store_migrate(struct store *st, int upto);
/* The highest applied migration, or 0. */
int store_schema_version(struct store *st, int *version);
void store_close(struct store *st); /* accepts NULL */
const char *store_errmsg(struct store *st);
const char *store_backend_name(const struct store *st);

/* A write transaction. Nested calls are counted; only the outermost
 * commits. store_tx_rollback undoes the whole outermost transaction. */
int store_tx_begin(struct store *st);
int store_tx_commit(struct store *st);
void store_tx_rollback(struct store *st);

/* ---- tenants ---- */
struct store_tenant {
	int64_t id;
	char name[STORE_NAME_MAX];
	char domain[STORE_DOMAIN_MAX];
	char timezone[STORE_NAME_MAX];
	char currency[4];
	char settings[STORE_SETTINGS_MAX]; /* JSON object */
	int64_t created_us, updated_us;
	int64_t extensions; /* count, filled by get and list */
};
int store_tenant_add(struct store *st, struct store_tenant *t); /* sets id */
int store_tenant_get(
    struct store *st, const char *name, struct store_tenant *t);
int store_tenant_get_by_id(
    struct store *st, int64_t id, struct store_tenant *t);
int store_tenant_get_by_domain(
    struct store *st, const char *domain, struct store_tenant *t);
/* Writes domain, timezone, currency and settings of t (by id). */
int store_tenant_update(struct store *st, const struct store_tenant *t);
typedef int (*store_tenant_cb)(void *arg, const struct store_tenant *t);
/* Calls cb for each tenant by name; a non-zero cb return stops the walk
 * and is returned. */
int store_tenant_list(struct store *st, store_tenant_cb cb, void *arg);

/* ---- extensions and their secrets ---- */
struct store_ext {
	int64_t id, tenant_id;
	char number[STORE_EXT_MAX];
	char display_name[STORE_TEXT_MAX];
	bool enabled;
	char settings[STORE_SETTINGS_MAX];
	int64_t created_us, updated_us, password_rotated_us;
	int64_t last_registered_us; /* 0 = never */
	char last_source[STORE_TEXT_MAX];
	char last_user_agent[STORE_TEXT_MAX];
};
struct store_secret {
	int64_t extension_id, tenant_id;
	char key_id[STORE_NAME_MAX];
	unsigned char box[STORE_BOX_MAX];
	size_t box_len;
	unsigned char khash[STORE_KHASH_LEN];
	char ha1_md5[STORE_HASH_MAX];
	char ha1_sha256[STORE_HASH_MAX];
	int64_t updated_us;
};
/* Adds the extension and its secret (sec->extension_id is set from it) and
 * the first password-history entry. */
int store_ext_add(
    struct store *st, struct store_ext *e, struct store_secret *sec);
int store_ext_get(struct store *st, int64_t tenant_id, const char *number,
    struct store_ext *e);
int store_ext_get_by_id(struct store *st, int64_t id, struct store_ext *e);
/* Writes display_name, enabled and settings (by id). */
int store_ext_update(struct store *st, const struct store_ext *e);
/* Records a registration: last_registered_us, last_source, last UA. */
int store_ext_seen(struct store *st, const struct store_ext *e);
int store_ext_remove(struct store *st, int64_t id);
/* The smallest extension id of the tenant above after; ENOENT past the
 * last (for walks that write as they go). */
int store_ext_next_id(
    struct store *st, int64_t tenant_id, int64_t after, int64_t *next);
typedef int (*store_ext_cb)(void *arg, const struct store_ext *e);
int store_ext_list(
    struct store *st, int64_t tenant_id, store_ext_cb cb, void *arg);

int store_secret_get(
    struct store *st, int64_t extension_id, struct store_secret *sec);
/* Replaces the secret of an extension (a rotation): the old keyed hash
 * stays in the password history, password_rotated_us is set, the history
 * is trimmed to the newest `keep` entries. */
int store_secret_replace(
    struct store *st, const struct store_secret *sec, unsigned keep);
/* Rewrites only the HA1 digests (the realm, i.e. the domain, changed). */
int store_secret_set_ha1(struct store *st, int64_t extension_id,
    const char *ha1_md5, const char *ha1_sha256);
typedef int (*store_secret_cb)(void *arg, const struct store_secret *sec);
/* Every secret of a tenant (tenant_id > 0) or of all tenants (0). */
int store_secret_list(
    struct store *st, int64_t tenant_id, store_secret_cb cb, void *arg);
/* True in *found when an extension of the tenant other than except_ext
 * (0 = none) has a current password with this keyed hash. */
int store_khash_in_use(struct store *st, int64_t tenant_id, int64_t except_ext,
    const char *key_id, const unsigned char khash[STORE_KHASH_LEN],
    bool *found);
/* True in *found when the extension's newest `depth` history entries hold
 * this keyed hash. */
int store_khash_in_history(struct store *st, int64_t extension_id,
    unsigned depth, const char *key_id,
    const unsigned char khash[STORE_KHASH_LEN], bool *found);

/* ---- change log ---- */
struct store_change {
	int64_t seq, at_us, tenant_id, object_id;
	char kind[16]; /* "tenant", "extension", "trunk", ... */
	char op[8];    /* "add", "update", "remove" */
};
int store_change_add(struct store *st, int64_t tenant_id, const char *kind,
    int64_t object_id, const char *op);
typedef int (*store_change_cb)(void *arg, const struct store_change *c);
/* Calls cb for changes with seq > after, in order, at most max of them. */
int store_change_since(
    struct store *st, int64_t after, size_t max, store_change_cb cb, void *arg);
int store_change_last(struct store *st, int64_t *seq);

/* ---- audit log (append-only) ---- */
struct store_audit {
	int64_t id, at_us, tenant_id; /* tenant_id 0 = none */
	char actor[STORE_TEXT_MAX];
	char source[STORE_TEXT_MAX];
	char action[STORE_NAME_MAX];
	char target[STORE_TEXT_MAX];
	char detail[STORE_TEXT_MAX];
};
int store_audit_add(struct store *st, struct store_audit *a);
typedef int (*store_audit_cb)(void *arg, const struct store_audit *a);
int store_audit_list(struct store *st, int64_t after_id, size_t max,
    store_audit_cb cb, void *arg);

/* ---- cluster secrets (shared by every node, sealed) ---- */
/* Stores box under name unless the name exists; then (or anyway) reads
 * the stored one back into box (box_len in/out, size STORE_BOX_MAX) and
 * key_id, so every node ends up with the first one written. */
int store_cluster_secret_ensure(struct store *st, const char *name,
    char key_id[STORE_NAME_MAX], unsigned char *box, size_t *box_len);

#include "store/store_tables.h"

#endif
