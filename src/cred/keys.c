/* keys.c: see keys.h. */
#include "cred/keys.h"
#include "lib/util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { KEYFILE_MAX = 4096 };

static void
key_derive(struct cred_key *k, const unsigned char master[CRED_KEY_LEN])
{
	crypto_kdf_derive_from_key(
	    k->seal, sizeof(k->seal), 1, "swseal__", master);
	crypto_kdf_derive_from_key(
	    k->khash, sizeof(k->khash), 2, "swkhash_", master);
}

int
cred_keys_create(const char *path, bool overwrite, char *err, size_t errsize)
{
	unsigned char master[CRED_KEY_LEN], idb[4];
	char id[9], hex[2 * CRED_KEY_LEN + 1], text[512];
	int n, rc;

	if (sodium_init() < 0)
		return EIO;
	randombytes_buf(master, sizeof(master));
	randombytes_buf(idb, sizeof(idb));
	util_hex(idb, sizeof(idb), id);
	util_hex(master, sizeof(master), hex);
	n = snprintf(text, sizeof(text),
	    "# sipwarden secret key file: keep it mode 0600 and back it up.\n"
	    "# The first key seals new secrets; older keys below still open "
	    "theirs.\nk%s %s\n",
	    id, hex);
	if (n < 0 || (size_t)n >= sizeof(text))
		rc = EMSGSIZE;
	else
		rc = util_file_write(path, text, (size_t)n, 0600, !overwrite);
	sodium_memzero(master, sizeof(master));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(text, sizeof(text));
	if (rc != 0)
		snprintf(err, errsize, "%s: %s", path, strerror(rc));
	return rc;
}

int
cred_keys_load(
    const char *path, struct cred_keys **out, char *err, size_t errsize)
{
	struct cred_keys *keys = NULL;
	struct stat sb;
	char *text = NULL, *line, *next;
	size_t len, lineno = 0;
	int rc;

	if (sodium_init() < 0)
		return EIO;
	if (stat(path, &sb) == -1) {
		rc = errno;
		snprintf(err, errsize, "secret key %s: %s", path, strerror(rc));
		return rc;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(
		    err, errsize, "secret key %s: not a regular file", path);
		return EINVAL;
	}
	if ((sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errsize,
		    "secret key %s: mode %04o lets others read it; refusing to "
		    "use it (chmod 600 %s)",
		    path, (unsigned)(sb.st_mode & 07777), path);
		return EPERM;
	}
	if ((rc = util_file_read(path, KEYFILE_MAX, &text, &len)) != 0) {
		snprintf(err, errsize, "secret key %s: %s", path, strerror(rc));
		return rc;
	}
	if ((keys = sodium_malloc(sizeof(*keys))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	memset(keys, 0, sizeof(*keys));
	for (line = text; line != NULL && *line != '\0'; line = next) {
		unsigned char master[CRED_KEY_LEN];
		char *sp, *end;
		size_t idlen, i;

		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		end = line + strlen(line);
		if (end > line && end[-1] == '\r')
			*--end = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		sp = strchr(line, ' ');
		idlen = sp ? (size_t)(sp - line) : 0;
		rc = EINVAL;
		if (sp == NULL || idlen == 0 || idlen >= CRED_KEY_ID_MAX)
			goto bad;
		for (i = 0; i < idlen; i++)
			if (!((line[i] >= 'a' && line[i] <= 'z') ||
			        (line[i] >= '0' && line[i] <= '9')))
				goto bad;
		if (keys->n == CRED_KEYS_MAX)
			goto bad;
		if (util_unhex(
		        sp + 1, strlen(sp + 1), master, sizeof(master)) != 0)
			goto bad;
		memcpy(keys->k[keys->n].id, line, idlen);
		keys->k[keys->n].id[idlen] = '\0';
		if (cred_keys_find(keys, keys->k[keys->n].id) != NULL) {
			snprintf(err, errsize,
			    "secret key %s:%zu: duplicate "
			    "key id",
			    path, lineno);
			sodium_memzero(master, sizeof(master));
			goto out;
		}
		key_derive(&keys->k[keys->n], master);
		sodium_memzero(master, sizeof(master));
		keys->n++;
		continue;
	bad:
		snprintf(err, errsize,
		    "secret key %s:%zu: not a key line (want \"ID HEX\": ID of "
		    "1-16 [a-z0-9], 64 hex digits; at most %d keys)",
		    path, lineno, CRED_KEYS_MAX);
		goto out;
	}
	if (keys->n == 0) {
		snprintf(
		    err, errsize, "secret key %s: no key in the file", path);
		rc = EINVAL;
		goto out;
	}
	*out = keys;
	keys = NULL;
	rc = 0;
out:
	if (text != NULL) {
		sodium_memzero(text, len);
		free(text);
	}
	cred_keys_free(keys);
	return rc;
}

void
cred_keys_free(struct cred_keys *keys)
{
	if (keys != NULL)
		sodium_free(keys); /* wipes */
}

const struct cred_key *
cred_keys_find(const struct cred_keys *keys, const char *id)
{
	size_t i;

	for (i = 0; i < keys->n; i++)
		if (strcmp(keys->k[i].id, id) == 0)
			return &keys->k[i];
	return NULL;
}

void
cred_khash(const struct cred_key *key, int64_t tenant_id, const char *pw,
    size_t pwlen, unsigned char out[STORE_KHASH_LEN])
{
	crypto_generichash_state h;
	unsigned char tid[8];
	size_t i;

	for (i = 0; i < 8; i++)
		tid[i] = (unsigned char)((uint64_t)tenant_id >> (8 * i));
	crypto_generichash_init(
	    &h, key->khash, sizeof(key->khash), STORE_KHASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)"sw-pw-v1", 8);
	crypto_generichash_update(&h, tid, sizeof(tid));
	crypto_generichash_update(&h, (const unsigned char *)pw, pwlen);
	crypto_generichash_final(&h, out, STORE_KHASH_LEN);
	sodium_memzero(&h, sizeof(h));
}

int
cred_ha1(const char *alg, const char *user, const char *realm, const char *pw,
    size_t pwlen, char out[STORE_HASH_MAX])
{
	const EVP_MD *md = strcmp(alg, "md5") == 0      ? EVP_md5()
	                   : strcmp(alg, "sha256") == 0 ? EVP_sha256()
	                                                : NULL;
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if (md == NULL)
		return EINVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL) &&
	     EVP_DigestUpdate(ctx, user, strlen(user)) &&
	     EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, realm, strlen(realm)) &&
	     EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, pw, pwlen) &&
	     EVP_DigestFinal_ex(ctx, dig, &dlen);
	EVP_MD_CTX_free(ctx);
	if (!ok || 2 * (size_t)dlen + 1 > STORE_HASH_MAX)
		return EIO;
	util_hex(dig, dlen, out);
	return 0;
}

int
cred_seal(const struct cred_keys *keys, const void *in, size_t len,
    unsigned char *box, size_t size, size_t *box_len,
    char key_id[CRED_KEY_ID_MAX])
{
	const struct cred_key *k = &keys->k[0];
	size_t need =
	    crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;

	if (need > size)
		return EMSGSIZE;
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(
	    box + crypto_secretbox_NONCEBYTES, in, len, box, k->seal);
	*box_len = need;
	memcpy(key_id, k->id, CRED_KEY_ID_MAX);
	return 0;
}

int
cred_unseal(const struct cred_keys *keys, const char *key_id,
    const unsigned char *box, size_t box_len, void *out, size_t size,
    size_t *outlen)
{
	const struct cred_key *k = cred_keys_find(keys, key_id);
	size_t n;

	if (k == NULL)
		return ENOKEY;
	if (box_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return EBADMSG;
	n = box_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	if (n > size)
		return EMSGSIZE;
	if (crypto_secretbox_open_easy(out, box + crypto_secretbox_NONCEBYTES,
	        box_len - crypto_secretbox_NONCEBYTES, box, k->seal) != 0)
		return EBADMSG;
	*outlen = n;
	return 0;
}

int
cred_secret_make(const struct cred_keys *keys, int64_t tenant_id,
    const char *number, const char *domain, const char *pw, size_t pwlen,
    struct store_secret *sec)
{
	const struct cred_key *k = &keys->k[0];
	int rc;

	if (pwlen == 0 || pwlen >= CRED_PASSWORD_MAX ||
	    crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + pwlen >
	        sizeof(sec->box))
		return EINVAL;
	memset(sec, 0, sizeof(*sec));
	snprintf(sec->key_id, sizeof(sec->key_id), "%s", k->id);
	randombytes_buf(sec->box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(sec->box + crypto_secretbox_NONCEBYTES,
	    (const unsigned char *)pw, pwlen, sec->box, k->seal);
	sec->box_len =
	    crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + pwlen;
	sec->tenant_id = tenant_id;
	cred_khash(k, tenant_id, pw, pwlen, sec->khash);
	if ((rc = cred_ha1("md5", number, domain, pw, pwlen, sec->ha1_md5)) ||
	    (rc = cred_ha1(
	         "sha256", number, domain, pw, pwlen, sec->ha1_sha256)))
		return rc;
	return 0;
}

int
cred_secret_open(const struct cred_keys *keys, const struct store_secret *sec,
    char *pw, size_t size)
{
	const struct cred_key *k = cred_keys_find(keys, sec->key_id);
	size_t n;

	if (k == NULL)
		return ENOKEY;
	if (sec->box_len <
	    crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return EBADMSG;
	n = sec->box_len - crypto_secretbox_NONCEBYTES -
	    crypto_secretbox_MACBYTES;
	if (n + 1 > size)
		return EMSGSIZE;
	if (crypto_secretbox_open_easy((unsigned char *)pw,
	        sec->box + crypto_secretbox_NONCEBYTES,
	        sec->box_len - crypto_secretbox_NONCEBYTES, sec->box,
	        k->seal) != 0)
		return EBADMSG;
	pw[n] = '\0';
	return 0;
}

int
cred_password_reuse_check(struct store *st, const struct cred_keys *keys,
    int64_t tenant_id, int64_t extension_id, const char *pw, size_t pwlen,
    const char **reason)
{
	unsigned char kh[STORE_KHASH_LEN];
	size_t i;
	int rc = 0;

	*reason = NULL;
	for (i = 0; i < keys->n && *reason == NULL; i++) {
		bool found = false;

		cred_khash(&keys->k[i], tenant_id, pw, pwlen, kh);
		rc = store_khash_in_use(
		    st, tenant_id, extension_id, keys->k[i].id, kh, &found);
		if (rc != 0)
			break;
		if (found) {
			*reason = "already in use in this tenant; every "
			          "extension needs its own password";
			break;
		}
		if (extension_id == 0)
			continue;
		rc = store_khash_in_history(st, extension_id,
		    CRED_HISTORY_DEPTH, keys->k[i].id, kh, &found);
		if (rc != 0)
			break;
		if (found)
			*reason = "one of this extension's last 5 passwords";
	}
	sodium_memzero(kh, sizeof(kh));
	return rc;
}
