/* keys.h: the node's secret key file (DIR/secret.key, mode 0600) and what
 * is made with it: sealed SIP passwords (libsodium secretbox), keyed
 * password hashes for the uniqueness and reuse checks, and the HA1 digests
 * the registrar uses (RFC 2617 MD5, RFC 8760 SHA-256).
 *
 * File format: one key per line, "ID HEX" (ID: 1-16 of [a-z0-9], HEX: 64
 * hex digits); '#' starts a comment line. The first key seals new
 * secrets; the others still open what they sealed, so a key can be
 * rotated by putting a new line first. */
#ifndef SW_KEYS_H
#define SW_KEYS_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

enum {
	CRED_KEYS_MAX = 16,
	CRED_KEY_ID_MAX = 17,
	CRED_KEY_LEN = 32,
	CRED_PASSWORD_MAX = 129, /* CRED_PW_MAX_LEN + NUL */
	CRED_HISTORY_DEPTH = 5,  /* a password may not be one of the last 5 */
};

struct cred_key {
	char id[CRED_KEY_ID_MAX];
	unsigned char seal[CRED_KEY_LEN];  /* derived: secretbox key */
	unsigned char khash[CRED_KEY_LEN]; /* derived: keyed-hash key */
};

struct cred_keys {
	size_t n;
	struct cred_key k[CRED_KEYS_MAX]; /* k[0] seals new secrets */
};

/* Creates path with one fresh key, mode 0600, refusing to overwrite
 * unless overwrite. Returns 0 or an errno code with err filled. */
int cred_keys_create(
    const char *path, bool overwrite, char *err, size_t errsize);
/* Loads the key file into guarded memory (sodium_malloc). Refuses a file
 * that is not a regular file or that group or others may read or write.
 * Returns 0 or an errno code with err filled. */
int cred_keys_load(
    const char *path, struct cred_keys **out, char *err, size_t errsize);
void cred_keys_free(struct cred_keys *keys); /* wipes; accepts NULL */
const struct cred_key *cred_keys_find(
    const struct cred_keys *keys, const char *id);

/* Fills sec (key_id, box, khash, ha1_md5, ha1_sha256) for the password of
 * extension number in tenant (id tenant_id, SIP realm domain). Returns 0
 * or an errno code. */
int cred_secret_make(const struct cred_keys *keys, int64_t tenant_id,
    const char *number, const char *domain, const char *pw, size_t pwlen,
    struct store_secret *sec);
/* Opens a sealed password into pw (size >= CRED_PASSWORD_MAX), NUL
 * terminated. Returns 0, ENOKEY when its key is not in the file, EBADMSG
 * when it does not authenticate. */
int cred_secret_open(const struct cred_keys *keys,
    const struct store_secret *sec, char *pw, size_t size);
/* Seals len bytes under the active key into box (size bytes; needs len +
 * 40), its length in *box_len and the key's id in key_id. */
int cred_seal(const struct cred_keys *keys, const void *in, size_t len,
    unsigned char *box, size_t size, size_t *box_len,
    char key_id[CRED_KEY_ID_MAX]);
/* Opens a box sealed by cred_seal into out (size >= box_len - 40);
 * ENOKEY, EBADMSG or EMSGSIZE on failure. */
int cred_unseal(const struct cred_keys *keys, const char *key_id,
    const unsigned char *box, size_t box_len, void *out, size_t size,
    size_t *outlen);
/* The keyed hash of a password under one key, scoped to a tenant. */
void cred_khash(const struct cred_key *key, int64_t tenant_id, const char *pw,
    size_t pwlen, unsigned char out[STORE_KHASH_LEN]);
/* HA1 = H(user:realm:password) in lower-case hex; md5 or sha256. */
int cred_ha1(const char *alg, const char *user, const char *realm,
    const char *pw, size_t pwlen, char out[STORE_HASH_MAX]);

/* Checks that a chosen password is no other extension's current password
 * in the tenant and not one of the last CRED_HISTORY_DEPTH passwords of
 * extension_id (0 for a new extension), under every key in the file.
 * Returns 0 with *reason NULL when acceptable, or with *reason a sentence
 * that names no other extension; or an errno code from the store. */
int cred_password_reuse_check(struct store *st, const struct cred_keys *keys,
    int64_t tenant_id, int64_t extension_id, const char *pw, size_t pwlen,
    const char **reason);

#endif
