/* credtab.h: the registrar's in-memory credentials: for each extension,
 * its tenant, number, domain, enabled flag and HA1 digests (never the
 * password). Loaded from the store at start and kept current by the
 * change log; looked up by "number@domain" on the hot path (no store
 * query while a SIP message is handled). Also each tenant's domain and
 * digest algorithms. Thread-safe: a read-write lock; lookups copy. The
 * find functions that return pointers are for single-threaded use (tests,
 * loading) only. */
#ifndef SW_CREDTAB_H
#define SW_CREDTAB_H

#include "core/config.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct credtab;

enum { CRED_ALGS_MAX = 2 };

/* A tenant's SIP domain (its digest realm) and the digest algorithms it
 * offers, in order (values of enum sip_digest_alg). */
struct cred_domain {
	int64_t tenant_id;
	char domain[STORE_DOMAIN_MAX];
	uint8_t algs[CRED_ALGS_MAX];
	uint8_t nalgs;
	/* The tenant's allow setting: the networks its phones may come
	 * from; none: anywhere. */
	size_t allow_n;
	struct config_cidr allow[CONFIG_CIDR_MAX];
};

/* Whether d lets a phone at sa log in (its allow list, if any). */
bool cred_domain_allows(const struct cred_domain *d, const struct sockaddr *sa);

struct cred_entry {
	int64_t ext_id, tenant_id;
	char number[STORE_EXT_MAX];
	char domain[STORE_DOMAIN_MAX];
	bool enabled;
	bool srtp_optional; /* plain RTP allowed: the extension's srtp
	                       setting, or its tenant's when it inherits */
	char ha1_md5[STORE_HASH_MAX];
	char ha1_sha256[STORE_HASH_MAX];
	bool tls_pinned; /* registered over TLS: refused on UDP and TCP
	                    (settings "pin": "tls"; `ext set ... pin=reset`) */
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

/* Copies the entry for number@domain into *e, and the domain's tenant
 * into *d (either may be NULL). Returns a bit set: 1 when the domain is a
 * tenant's, 2 when the extension exists. */
int credtab_lookup(struct credtab *t, const char *number, size_t nlen,
    const char *domain, size_t dlen, struct cred_entry *e,
    struct cred_domain *d);
int credtab_domain_put(struct credtab *t, const struct cred_domain *d);
/* The domain entry of tenant_id into *out. Returns 0 or ENOENT. */
int credtab_domain_of(
    struct credtab *t, int64_t tenant_id, struct cred_domain *out);
size_t credtab_domain_count(struct credtab *t);

/* Marks ext_id pinned to TLS in memory (the store learns it from the
 * binding the registration writes: migration 0004). Returns 0 or ENOENT. */
int credtab_pin(struct credtab *t, int64_t ext_id);

/* Loads one extension (ext_id) of the store into t, or removes it from t
 * when the store no longer has it. */
int credtab_load_ext(struct credtab *t, struct store *st, int64_t ext_id);
/* Reloads every extension of a tenant (its domain changed, say), and
 * drops entries of the tenant that the store no longer has. */
int credtab_load_tenant(struct credtab *t, struct store *st, int64_t tenant_id);
/* Loads every extension of every tenant. */
int credtab_load_all(struct credtab *t, struct store *st);

#endif
