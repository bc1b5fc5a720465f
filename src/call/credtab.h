/* credtab.h: the registrar's in-memory credentials: for each extension,
 * its tenant, number, domain, enabled flag and HA1 digests (never the
 * password). Loaded from the store at start and kept current by the
 * change log; looked up by "number@domain" on the hot path (no store
 * query while a SIP message is handled). One owner thread; not locked. */
#ifndef SW_CREDTAB_H
#define SW_CREDTAB_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct credtab;

struct cred_entry {
	int64_t ext_id, tenant_id;
	char number[STORE_EXT_MAX];
	char domain[STORE_DOMAIN_MAX];
	bool enabled;
	char ha1_md5[STORE_HASH_MAX];
	char ha1_sha256[STORE_HASH_MAX];
};

int credtab_new(struct credtab **out);
void credtab_free(struct credtab *t); /* wipes; accepts NULL */
size_t credtab_count(const struct credtab *t);
/* Inserts or replaces the entry with e->ext_id. Returns 0 or ENOMEM. */
int credtab_put(struct credtab *t, const struct cred_entry *e);
/* Removes the entry of ext_id; returns ENOENT when absent. */
int credtab_remove(struct credtab *t, int64_t ext_id);
/* The entry for number@domain (not NUL-terminated views), or NULL. */
const struct cred_entry *credtab_find(const struct credtab *t,
    const char *number, size_t nlen, const char *domain, size_t dlen);
const struct cred_entry *credtab_find_id(
    const struct credtab *t, int64_t ext_id);

/* Loads one extension (ext_id) of the store into t, or removes it from t
 * when the store no longer has it. */
int credtab_load_ext(struct credtab *t, struct store *st, int64_t ext_id);
/* Reloads every extension of a tenant (its domain changed, say), and
 * drops entries of the tenant that the store no longer has. */
int credtab_load_tenant(struct credtab *t, struct store *st, int64_t tenant_id);
/* Loads every extension of every tenant. */
int credtab_load_all(struct credtab *t, struct store *st);

#endif
