/* tlsrec.c: TLS 1.2/1.3 record protection after OpenSSL's handshake (see
 * tlsrec.h). Keys come from the key block (TLS 1.2: PRF over the master
 * secret and the randoms) or from the application traffic secrets that
 * OpenSSL hands its keylog callback (TLS 1.3: the only way out in 3.0).
 *
 * Each thread keeps one EVP_CIPHER_CTX per cipher (freed when the thread
 * ends, through a pthread key), given the record's key and nonce per
 * record: EVP_CipherInit_ex with a NULL cipher re-keys the provider
 * context without allocating. */
#include "transport/tlsrec.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/ssl.h>

#include "lib/util.h"

enum {
	REC_CCS = 20,
	REC_ALERT = 21,
	REC_HANDSHAKE = 22,
	REC_APPDATA = 23,
	HS_KEY_UPDATE = 24,
	ALERT_LEN = 2,
	KEYUPDATE_MSG_LEN = 5, /* type, length (3), request */
	NONCE_LEN = 12,
	KEY_MAX = 32,
	GCM_SALT_LEN = 4,     /* TLS 1.2 AES-GCM implicit nonce part */
	GCM_EXPLICIT_LEN = 8, /* TLS 1.2 AES-GCM explicit nonce part */
	TLS12_AAD_LEN = 13,   /* seq (8), type, version (2), length (2) */
	/* RFC 8446 5.2 and 5.4: ciphertext length, and the inner plaintext
	 * (content, type, padding) after decryption. */
	TLS13_CIPHER_LEN_MAX = TLSREC_PLAIN_MAX + 256,
	TLS13_INNER_MAX = TLSREC_PLAIN_MAX + 1,
	MASTER_LEN = 48,
	KEY_BLOCK_MAX = 2 * (KEY_MAX + NONCE_LEN),
	HKDF_INFO_MAX = 2 + 1 + 255 + 1,
	NSUITES = 3,
};

static const char KEYLOG_CLIENT[] = "CLIENT_TRAFFIC_SECRET_0 ";
static const char KEYLOG_SERVER[] = "SERVER_TRAFFIC_SECRET_0 ";
static const char KEY_EXPANSION[] = "key expansion";

/* One direction: its key, IV (TLS 1.2 AES-GCM: the 4-byte salt first) and
 * next sequence number; for TLS 1.3 the traffic secret too. */
struct tlsrec_dir {
	uint64_t seq;
	unsigned char key[KEY_MAX];
	unsigned char iv[NONCE_LEN];
	unsigned char secret[TLSREC_SECRET_MAX];
};

struct tlsrec {
	struct tlsrec_dir rx, tx;
	uint16_t version;  /* TLS1_2_VERSION or TLS1_3_VERSION */
	uint16_t frag_max; /* plaintext per record, both ways */
	uint8_t suite;     /* enum tlsrec_suite */
	bool reply_due;    /* a KeyUpdate must be sent */
};

struct suite_info {
	const char *cipher, *md;
	size_t keylen, hashlen;
	int cipher_nid, md_nid;
};

static const struct suite_info suites[NSUITES] = {
    [TLSREC_AES_128_GCM] = {"AES-128-GCM", "SHA256", 16, 32, NID_aes_128_gcm,
        NID_sha256},
    [TLSREC_AES_256_GCM] = {"AES-256-GCM", "SHA384", 32, 48, NID_aes_256_gcm,
        NID_sha384},
    [TLSREC_CHACHA20_POLY1305] = {"ChaCha20-Poly1305", "SHA256", 32, 32,
        NID_chacha20_poly1305, NID_sha256},
};

/* The TLS 1.3 secrets the keylog callback saw, in the SSL's ex_data. */
struct keylog {
	unsigned char client[TLSREC_SECRET_MAX], server[TLSREC_SECRET_MAX];
	size_t clientlen, serverlen;
};

static struct {
	EVP_CIPHER *cipher[NSUITES];
	EVP_KDF *hkdf, *prf;
	pthread_key_t tkey; /* frees a thread's cipher contexts */
	int exidx;          /* struct keylog in SSL ex_data */
	bool ok;
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static _Thread_local EVP_CIPHER_CTX *t_cctx[NSUITES];
static _Thread_local bool t_registered;

static void
tlsrec_keylog_free_cb(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	OPENSSL_clear_free(ptr, sizeof(struct keylog));
}

/* Thread exit: frees the cipher contexts of t_cctx (passed as arg). */
static void
tlsrec_thread_free_cb(void *arg)
{
	EVP_CIPHER_CTX **v = arg;
	size_t i;

	for (i = 0; i < NSUITES; i++) {
		EVP_CIPHER_CTX_free(v[i]);
		v[i] = NULL;
	}
}

static void
tlsrec_global_init(void)
{
	size_t i;

	g.ok = true;
	for (i = 0; i < NSUITES; i++)
		if ((g.cipher[i] = EVP_CIPHER_fetch(
		         NULL, suites[i].cipher, NULL)) == NULL)
			g.ok = false;
	g.hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	g.prf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	g.exidx =
	    SSL_get_ex_new_index(0, NULL, NULL, NULL, tlsrec_keylog_free_cb);
	if (g.hkdf == NULL || g.prf == NULL || g.exidx < 0 ||
	    pthread_key_create(&g.tkey, tlsrec_thread_free_cb) != 0)
		g.ok = false;
}

static bool
tlsrec_global_ok(void)
{
	return pthread_once(&g_once, tlsrec_global_init) == 0 && g.ok;
}

/* The calling thread's context for suite, created on first use; NULL when
 * out of memory. */
static EVP_CIPHER_CTX *
tlsrec_cctx_get(unsigned suite)
{
	EVP_CIPHER_CTX *x = t_cctx[suite];

	if (x != NULL)
		return x;
	if (!t_registered) {
		if (pthread_setspecific(g.tkey, t_cctx) != 0)
			return NULL;
		t_registered = true;
	}
	if ((x = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(x, g.cipher[suite], NULL, NULL, NULL, 1) != 1) {
		EVP_CIPHER_CTX_free(x);
		return NULL;
	}
	t_cctx[suite] = x;
	return x;
}

/* One AEAD pass: encrypts (enc) or decrypts in[0, len) into out with key,
 * nonce and the AAD; then in[len, len + tail) into tailout (a second
 * output, for the TLS 1.3 content type). Encrypting writes the tag into
 * tag; decrypting checks it. Returns 0, EPROTO (bad tag), ENOMEM, EIO. */
static int
tlsrec_aead(unsigned suite, const unsigned char *key,
    const unsigned char nonce[NONCE_LEN], const unsigned char *aad,
    size_t aadlen, const unsigned char *in, size_t len, unsigned char *out,
    const unsigned char *tailin, size_t tail, unsigned char *tailout,
    unsigned char tag[TLSREC_TAG], int enc)
{
	EVP_CIPHER_CTX *x = tlsrec_cctx_get(suite);
	unsigned char fin[EVP_MAX_BLOCK_LENGTH];
	int n;

	if (x == NULL)
		return ENOMEM;
	if (EVP_CipherInit_ex(x, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(x, NULL, &n, aad, (int)aadlen) != 1 ||
	    (len > 0 && EVP_CipherUpdate(x, out, &n, in, (int)len) != 1) ||
	    (tail > 0 &&
	        EVP_CipherUpdate(x, tailout, &n, tailin, (int)tail) != 1))
		return EIO;
	if (enc) {
		if (EVP_CipherFinal_ex(x, fin, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(
		        x, EVP_CTRL_AEAD_GET_TAG, TLSREC_TAG, tag) != 1)
			return EIO;
		return 0;
	}
	if (EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, TLSREC_TAG, tag) != 1)
		return EIO;
	return EVP_CipherFinal_ex(x, fin, &n) == 1 ? 0 : EPROTO;
}

static void
tlsrec_be64_put(unsigned char *p, uint64_t v)
{
	size_t i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

/* The per-record nonce of TLS 1.3 and TLS 1.2 ChaCha20-Poly1305: the IV
 * XOR the sequence number, left-padded. */
static void
tlsrec_nonce_xor(const struct tlsrec_dir *d, unsigned char n[NONCE_LEN])
{
	unsigned char s[8];
	size_t i;

	tlsrec_be64_put(s, d->seq);
	memcpy(n, d->iv, NONCE_LEN);
	for (i = 0; i < 8; i++)
		n[NONCE_LEN - 8 + i] ^= s[i];
}

/* HKDF-Expand-Label(secret, label, "", outlen) of RFC 8446 7.1 with the
 * suite's hash. Returns 0, ENOMEM, EIO. */
static int
tlsrec_hkdf_label(const struct suite_info *si, const unsigned char *secret,
    const char *label, unsigned char *out, size_t outlen)
{
	static const char prefix[] = "tls13 ";
	unsigned char info[HKDF_INFO_MAX];
	size_t lablen = strlen(label), n = 0;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY, err;
	OSSL_PARAM p[5];
	EVP_KDF_CTX *k;

	info[n++] = (unsigned char)(outlen >> 8);
	info[n++] = (unsigned char)outlen;
	info[n++] = (unsigned char)(sizeof(prefix) - 1 + lablen);
	memcpy(info + n, prefix, sizeof(prefix) - 1);
	n += sizeof(prefix) - 1;
	memcpy(info + n, label, lablen);
	n += lablen;
	info[n++] = 0; /* empty context */
	if ((k = EVP_KDF_CTX_new(g.hkdf)) == NULL)
		return ENOMEM;
	p[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)si->md, 0);
	p[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)secret, si->hashlen);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	p[4] = OSSL_PARAM_construct_end();
	err = EVP_KDF_derive(k, out, outlen, p) == 1 ? 0 : EIO;
	EVP_KDF_CTX_free(k);
	return err;
}

/* Sets d's TLS 1.3 key and IV from secret (which it copies). Returns 0,
 * ENOMEM, EIO; d is unchanged on failure. */
static int
tlsrec_dir_from_secret(
    struct tlsrec_dir *d, unsigned suite, const unsigned char *secret)
{
	const struct suite_info *si = &suites[suite];
	struct tlsrec_dir nd;
	int err;

	memset(&nd, 0, sizeof(nd));
	memcpy(nd.secret, secret, si->hashlen);
	if ((err = tlsrec_hkdf_label(si, secret, "key", nd.key, si->keylen)) !=
	        0 ||
	    (err = tlsrec_hkdf_label(si, secret, "iv", nd.iv, NONCE_LEN)) != 0)
		goto out;
	memcpy(d->key, nd.key, sizeof(d->key));
	memcpy(d->iv, nd.iv, sizeof(d->iv));
	memcpy(d->secret, nd.secret, sizeof(d->secret));
out:
	OPENSSL_cleanse(&nd, sizeof(nd));
	return err;
}

/* RFC 8446 7.2: the next traffic secret of d, and its key and IV;
 * the sequence number restarts at 0. Returns 0, ENOMEM, EIO. */
static int
tlsrec_dir_update(struct tlsrec_dir *d, unsigned suite)
{
	const struct suite_info *si = &suites[suite];
	unsigned char next[TLSREC_SECRET_MAX];
	int err;

	if ((err = tlsrec_hkdf_label(
	         si, d->secret, "traffic upd", next, si->hashlen)) != 0 ||
	    (err = tlsrec_dir_from_secret(d, suite, next)) != 0)
		goto out;
	d->seq = 0;
out:
	OPENSSL_cleanse(next, sizeof(next));
	return err;
}

/* TLS 1.2 IV bytes per direction from the key block. */
static size_t
tlsrec_tls12_ivlen(unsigned suite)
{
	return suite == TLSREC_CHACHA20_POLY1305 ? NONCE_LEN : GCM_SALT_LEN;
}

/* Sets r's TLS 1.2 directions from client and server write key || IV. */
static void
tlsrec_tls12_set(
    struct tlsrec *r, const unsigned char *rx, const unsigned char *tx)
{
	size_t kl = suites[r->suite].keylen;

	memcpy(r->rx.key, rx, kl);
	memcpy(r->rx.iv, rx + kl, tlsrec_tls12_ivlen(r->suite));
	memcpy(r->tx.key, tx, kl);
	memcpy(r->tx.iv, tx + kl, tlsrec_tls12_ivlen(r->suite));
}

void
tlsrec_free(struct tlsrec *r)
{
	if (r == NULL)
		return;
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

/* Builds a state of version and suite, with no keys yet. */
static int
tlsrec_alloc(int version, unsigned suite, struct tlsrec **out)
{
	struct tlsrec *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ENOMEM;
	r->version = (uint16_t)version;
	r->suite = (uint8_t)suite;
	r->frag_max = TLSREC_PLAIN_MAX;
	*out = r;
	return 0;
}

int
tlsrec_new_raw(int version, enum tlsrec_suite suite, const unsigned char *rx,
    const unsigned char *tx, size_t len, uint64_t rx_seq, uint64_t tx_seq,
    struct tlsrec **out)
{
	struct tlsrec *r = NULL;
	size_t want;
	int err;

	if ((unsigned)suite >= NSUITES ||
	    (version != TLS1_2_VERSION && version != TLS1_3_VERSION))
		return EINVAL;
	want = version == TLS1_3_VERSION
	           ? suites[suite].hashlen
	           : suites[suite].keylen + tlsrec_tls12_ivlen(suite);
	if (len != want)
		return EINVAL;
	if (!tlsrec_global_ok())
		return EIO;
	if ((err = tlsrec_alloc(version, suite, &r)) != 0)
		return err;
	if (version == TLS1_3_VERSION) {
		if ((err = tlsrec_dir_from_secret(&r->rx, suite, rx)) != 0 ||
		    (err = tlsrec_dir_from_secret(&r->tx, suite, tx)) != 0)
			goto out;
	} else
		tlsrec_tls12_set(r, rx, tx);
	r->rx.seq = rx_seq;
	r->tx.seq = tx_seq;
	*out = r;
	r = NULL;
out:
	tlsrec_free(r);
	return err;
}

/* The keylog callback: keeps CLIENT_ and SERVER_TRAFFIC_SECRET_0 of the
 * connection (checked against its client random) in its ex_data. A line
 * that cannot be kept is dropped: tlsrec_take then says ENOTSUP. */
static void
tlsrec_keylog_cb(const SSL *ssl, const char *line)
{
	unsigned char rnd[SSL3_RANDOM_SIZE], own[SSL3_RANDOM_SIZE];
	const size_t plen = sizeof(KEYLOG_CLIENT) - 1;
	size_t len = strlen(line), hexlen;
	unsigned char *dst;
	size_t *dstlen;
	struct keylog *kl;
	const char *p;
	bool client;

	if (len < plen)
		return;
	if (memcmp(line, KEYLOG_CLIENT, plen) == 0)
		client = true;
	else if (memcmp(line, KEYLOG_SERVER, plen) == 0)
		client = false;
	else
		return;
	p = line + plen;
	len -= plen;
	if (len < 2 * SSL3_RANDOM_SIZE + 1 || p[2 * SSL3_RANDOM_SIZE] != ' ')
		return;
	hexlen = len - 2 * SSL3_RANDOM_SIZE - 1;
	if (hexlen != 2 * 32 && hexlen != 2 * TLSREC_SECRET_MAX)
		return;
	/* The randoms are public: a plain comparison. */
	if (util_unhex(p, 2 * SSL3_RANDOM_SIZE, rnd, sizeof(rnd)) != 0 ||
	    SSL_get_client_random(ssl, own, sizeof(own)) != sizeof(own) ||
	    memcmp(rnd, own, sizeof(rnd)) != 0)
		return;
	if ((kl = SSL_get_ex_data(ssl, g.exidx)) == NULL) {
		if ((kl = OPENSSL_zalloc(sizeof(*kl))) == NULL)
			return;
		/* ssl is only const in the callback's type. */
		if (!SSL_set_ex_data((SSL *)ssl, g.exidx, kl)) {
			OPENSSL_free(kl);
			return;
		}
	}
	dst = client ? kl->client : kl->server;
	dstlen = client ? &kl->clientlen : &kl->serverlen;
	if (util_unhex(p + 2 * SSL3_RANDOM_SIZE + 1, hexlen, dst, hexlen / 2) !=
	    0) {
		OPENSSL_cleanse(dst, TLSREC_SECRET_MAX);
		*dstlen = 0;
		return;
	}
	*dstlen = hexlen / 2;
}

void
tlsrec_ctx_setup(SSL_CTX *ctx)
{
	/* Without the globals, tlsrec_take says ENOTSUP: the connection
	 * keeps its SSL object. */
	(void)tlsrec_global_ok();
	SSL_CTX_set_keylog_callback(ctx, tlsrec_keylog_cb);
	SSL_CTX_set_num_tickets(ctx, 0);
}

/* The suite of the negotiated cipher c, or -1 when not handled. */
static int
tlsrec_suite_of(const SSL_CIPHER *c)
{
	const EVP_MD *md;
	int nid, i;

	if (c == NULL || (md = SSL_CIPHER_get_handshake_digest(c)) == NULL)
		return -1;
	nid = SSL_CIPHER_get_cipher_nid(c);
	for (i = 0; i < NSUITES; i++)
		if (suites[i].cipher_nid == nid &&
		    suites[i].md_nid == EVP_MD_get_type(md))
			return i;
	return -1;
}

/* TLS 1.2: the key block from the session's master secret. */
static int
tlsrec_take12(SSL *ssl, struct tlsrec *r)
{
	const struct suite_info *si = &suites[r->suite];
	unsigned char mk[MASTER_LEN], block[KEY_BLOCK_MAX];
	unsigned char seed[sizeof(KEY_EXPANSION) - 1 + 2 * SSL3_RANDOM_SIZE];
	size_t kl = si->keylen, il = tlsrec_tls12_ivlen(r->suite);
	size_t blen = 2 * (kl + il), off = sizeof(KEY_EXPANSION) - 1;
	unsigned char rx[KEY_MAX + NONCE_LEN], tx[KEY_MAX + NONCE_LEN];
	EVP_KDF_CTX *k = NULL;
	OSSL_PARAM p[4];
	int err = ENOTSUP;

	if (SSL_SESSION_get_master_key(SSL_get_session(ssl), mk, sizeof(mk)) !=
	    sizeof(mk))
		goto out;
	memcpy(seed, KEY_EXPANSION, off);
	if (SSL_get_server_random(ssl, seed + off, SSL3_RANDOM_SIZE) !=
	        SSL3_RANDOM_SIZE ||
	    SSL_get_client_random(ssl, seed + off + SSL3_RANDOM_SIZE,
	        SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE)
		goto out;
	err = ENOMEM;
	if ((k = EVP_KDF_CTX_new(g.prf)) == NULL)
		goto out;
	p[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)si->md, 0);
	p[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SECRET, mk, sizeof(mk));
	p[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SEED, seed, sizeof(seed));
	p[3] = OSSL_PARAM_construct_end();
	err = EIO;
	if (EVP_KDF_derive(k, block, blen, p) != 1)
		goto out;
	/* client key, server key, client IV, server IV (RFC 5246 6.3) */
	memcpy(rx, block, kl);
	memcpy(tx, block + kl, kl);
	memcpy(rx + kl, block + 2 * kl, il);
	memcpy(tx + kl, block + 2 * kl + il, il);
	tlsrec_tls12_set(r, rx, tx);
	/* Each side's Finished was record 0 under these keys. */
	r->rx.seq = 1;
	r->tx.seq = 1;
	err = 0;
out:
	EVP_KDF_CTX_free(k);
	OPENSSL_cleanse(mk, sizeof(mk));
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(rx, sizeof(rx));
	OPENSSL_cleanse(tx, sizeof(tx));
	return err;
}

/* TLS 1.3: the keys from the secrets the keylog callback kept. */
static int
tlsrec_take13(SSL *ssl, struct tlsrec *r)
{
	size_t hl = suites[r->suite].hashlen;
	struct keylog *kl = SSL_get_ex_data(ssl, g.exidx);
	int err;

	if (kl == NULL || kl->clientlen != hl || kl->serverlen != hl)
		return ENOTSUP;
	if ((err = tlsrec_dir_from_secret(&r->rx, r->suite, kl->client)) != 0 ||
	    (err = tlsrec_dir_from_secret(&r->tx, r->suite, kl->server)) != 0)
		return err;
	r->rx.seq = 0;
	r->tx.seq = 0;
	OPENSSL_cleanse(kl, sizeof(*kl));
	return 0;
}

int
tlsrec_take(SSL *ssl, struct tlsrec **out)
{
	struct tlsrec *r = NULL;
	SSL_SESSION *sess;
	uint8_t mfl;
	int version, suite, err = ENOTSUP;

	if (!tlsrec_global_ok() || !SSL_is_server(ssl) ||
	    !SSL_is_init_finished(ssl) || SSL_has_pending(ssl) ||
	    SSL_get_num_tickets(ssl) != 0 ||
	    SSL_get_current_compression(ssl) != NULL ||
	    (sess = SSL_get_session(ssl)) == NULL)
		return ENOTSUP;
	version = SSL_version(ssl);
	if ((version != TLS1_2_VERSION && version != TLS1_3_VERSION) ||
	    (suite = tlsrec_suite_of(SSL_get_current_cipher(ssl))) < 0)
		return ENOTSUP;
	if ((err = tlsrec_alloc(version, (unsigned)suite, &r)) != 0)
		return err;
	/* RFC 6066 max_fragment_length: 1 to 4 is 2^9 to 2^12 bytes. */
	mfl = SSL_SESSION_get_max_fragment_length(sess);
	if (mfl >= TLSEXT_max_fragment_length_512 &&
	    mfl <= TLSEXT_max_fragment_length_4096)
		r->frag_max = (uint16_t)(512u << (mfl - 1));
	err = version == TLS1_3_VERSION ? tlsrec_take13(ssl, r)
	                                : tlsrec_take12(ssl, r);
	if (err != 0)
		goto out;
	*out = r;
	r = NULL;
out:
	tlsrec_free(r);
	return err;
}

/* Checks the header h of the next record; sets *plain to the bytes its
 * decryption writes to out. Returns 0 or EPROTO. */
static int
tlsrec_hdr_check(const struct tlsrec *r, const unsigned char *h, size_t *plain)
{
	size_t len = (size_t)h[3] << 8 | h[4], over;

	if (h[1] != 3 || h[2] != 3)
		return EPROTO;
	if (r->version == TLS1_3_VERSION) {
		/* Content type and padding are inside; the last byte of
		 * the inner plaintext is not written to out. */
		if (h[0] != REC_APPDATA || len > TLS13_CIPHER_LEN_MAX ||
		    len < TLSREC_TAG + 1 || len - TLSREC_TAG > TLS13_INNER_MAX)
			return EPROTO;
		*plain = len - TLSREC_TAG - 1;
		return 0;
	}
	/* TLS 1.2: handshake (renegotiation), ChangeCipherSpec and
	 * anything else are refused before decryption. */
	if (h[0] != REC_APPDATA && h[0] != REC_ALERT)
		return EPROTO;
	over = TLSREC_TAG +
	       (r->suite == TLSREC_CHACHA20_POLY1305 ? 0 : GCM_EXPLICIT_LEN);
	if (len < over || len - over > r->frag_max)
		return EPROTO;
	*plain = len - over;
	return 0;
}

/* Opens one TLS 1.3 record h (header checked, wholly in the input) into
 * out; sets *n to its application data bytes. Returns 0, EPIPE, EPROTO,
 * ENOMEM, EIO. */
static int
tlsrec_open13(
    struct tlsrec *r, const unsigned char *h, unsigned char *out, size_t *n)
{
	size_t len = (size_t)h[3] << 8 | h[4], clen = len - TLSREC_TAG - 1;
	unsigned char nonce[NONCE_LEN], tag[TLSREC_TAG], last;
	const unsigned char *body = h + TLSREC_HDR;
	int err;

	tlsrec_nonce_xor(&r->rx, nonce);
	memcpy(tag, body + len - TLSREC_TAG, TLSREC_TAG);
	if ((err = tlsrec_aead(r->suite, r->rx.key, nonce, h, TLSREC_HDR, body,
	         clen, out, body + clen, 1, &last, tag, 0)) != 0) {
		if (clen > 0)
			memset(out, 0, clen); /* unauthenticated */
		return err;
	}
	r->rx.seq++;
	/* RFC 8446 5.4: the type is the last non-zero byte. */
	if (last == 0) {
		while (clen > 0 && out[clen - 1] == 0)
			clen--;
		if (clen == 0)
			return EPROTO;
		last = out[--clen];
	}
	switch (last) {
	case REC_APPDATA:
		if (clen > r->frag_max)
			return EPROTO;
		*n = clen;
		return 0;
	case REC_ALERT:
		return clen == ALERT_LEN ? EPIPE : EPROTO;
	case REC_HANDSHAKE:
		/* Only a KeyUpdate, alone in its record (RFC 8446 5.1: it
		 * must end its record, and none may follow it there). */
		if (clen != KEYUPDATE_MSG_LEN || out[0] != HS_KEY_UPDATE ||
		    out[1] != 0 || out[2] != 0 || out[3] != 1 || out[4] > 1)
			return EPROTO;
		if ((err = tlsrec_dir_update(&r->rx, r->suite)) != 0)
			return err;
		if (out[4] == 1)
			r->reply_due = true;
		*n = 0;
		return 0;
	default:
		return EPROTO;
	}
}

/* Opens one TLS 1.2 record h into out; sets *n as tlsrec_open13. */
static int
tlsrec_open12(
    struct tlsrec *r, const unsigned char *h, unsigned char *out, size_t *n)
{
	size_t len = (size_t)h[3] << 8 | h[4], clen;
	unsigned char nonce[NONCE_LEN], tag[TLSREC_TAG], aad[TLS12_AAD_LEN];
	const unsigned char *body = h + TLSREC_HDR;
	int err;

	if (r->suite == TLSREC_CHACHA20_POLY1305) {
		tlsrec_nonce_xor(&r->rx, nonce);
	} else {
		memcpy(nonce, r->rx.iv, GCM_SALT_LEN);
		memcpy(nonce + GCM_SALT_LEN, body, GCM_EXPLICIT_LEN);
		body += GCM_EXPLICIT_LEN;
		len -= GCM_EXPLICIT_LEN;
	}
	clen = len - TLSREC_TAG;
	tlsrec_be64_put(aad, r->rx.seq);
	aad[8] = h[0];
	aad[9] = h[1];
	aad[10] = h[2];
	aad[11] = (unsigned char)(clen >> 8);
	aad[12] = (unsigned char)clen;
	memcpy(tag, body + clen, TLSREC_TAG);
	if ((err = tlsrec_aead(r->suite, r->rx.key, nonce, aad, sizeof(aad),
	         body, clen, out, NULL, 0, NULL, tag, 0)) != 0) {
		if (clen > 0)
			memset(out, 0, clen);
		return err;
	}
	r->rx.seq++;
	if (h[0] == REC_ALERT)
		return clen == ALERT_LEN ? EPIPE : EPROTO;
	*n = clen;
	return 0;
}

int
tlsrec_open(struct tlsrec *r, const unsigned char *in, size_t inlen,
    size_t *used, unsigned char *out, size_t size, size_t *outlen)
{
	size_t off = 0, o = 0, len, plain, n;
	unsigned char none;
	const unsigned char *h;
	int err = 0;

	if (out == NULL) {
		out = &none;
		size = 0;
	}
	while (inlen - off >= TLSREC_HDR) {
		h = in + off;
		len = (size_t)h[3] << 8 | h[4];
		if ((err = tlsrec_hdr_check(r, h, &plain)) != 0)
			return err;
		if (inlen - off - TLSREC_HDR < len || plain > size - o)
			break;
		if (r->rx.seq == UINT64_MAX)
			return EPROTO; /* RFC 8446 5.3, RFC 5246 6.1 */
		n = 0;
		err = r->version == TLS1_3_VERSION
		          ? tlsrec_open13(r, h, out + o, &n)
		          : tlsrec_open12(r, h, out + o, &n);
		if (err != 0 && err != EPIPE)
			return err;
		off += TLSREC_HDR + len;
		o += n;
		if (err == EPIPE)
			break;
	}
	*used = off;
	*outlen = o;
	return err;
}

/* Seals one record of type (TLS 1.3: the inner type) with content
 * in[0, len) at out; returns 0 or as tlsrec_aead, and sets *n. */
static int
tlsrec_seal_one(struct tlsrec *r, unsigned char type, const unsigned char *in,
    size_t len, unsigned char *out, size_t *n)
{
	unsigned char nonce[NONCE_LEN], aad[TLS12_AAD_LEN];
	unsigned char *body = out + TLSREC_HDR;
	size_t blen;
	int err;

	out[1] = 3;
	out[2] = 3;
	if (r->version == TLS1_3_VERSION) {
		blen = len + 1 + TLSREC_TAG;
		out[0] = REC_APPDATA;
		out[3] = (unsigned char)(blen >> 8);
		out[4] = (unsigned char)blen;
		tlsrec_nonce_xor(&r->tx, nonce);
		if ((err = tlsrec_aead(r->suite, r->tx.key, nonce, out,
		         TLSREC_HDR, in, len, body, &type, 1, body + len,
		         body + len + 1, 1)) != 0)
			return err;
	} else {
		out[0] = type;
		tlsrec_be64_put(aad, r->tx.seq);
		aad[8] = type;
		aad[9] = 3;
		aad[10] = 3;
		aad[11] = (unsigned char)(len >> 8);
		aad[12] = (unsigned char)len;
		if (r->suite == TLSREC_CHACHA20_POLY1305) {
			tlsrec_nonce_xor(&r->tx, nonce);
		} else {
			/* The explicit nonce is the sequence number. */
			memcpy(nonce, r->tx.iv, GCM_SALT_LEN);
			tlsrec_be64_put(nonce + GCM_SALT_LEN, r->tx.seq);
			memcpy(body, nonce + GCM_SALT_LEN, GCM_EXPLICIT_LEN);
			body += GCM_EXPLICIT_LEN;
		}
		if ((err = tlsrec_aead(r->suite, r->tx.key, nonce, aad,
		         sizeof(aad), in, len, body, NULL, 0, NULL, body + len,
		         1)) != 0)
			return err;
		blen = (size_t)(body - out - TLSREC_HDR) + len + TLSREC_TAG;
		out[3] = (unsigned char)(blen >> 8);
		out[4] = (unsigned char)blen;
	}
	r->tx.seq++;
	*n = TLSREC_HDR + blen;
	return 0;
}

/* Bytes a sealed record adds to its content. */
static size_t
tlsrec_overhead(const struct tlsrec *r)
{
	if (r->version == TLS1_3_VERSION)
		return TLSREC_HDR + 1 + TLSREC_TAG;
	if (r->suite == TLSREC_CHACHA20_POLY1305)
		return TLSREC_HDR + TLSREC_TAG;
	return TLSREC_HDR + GCM_EXPLICIT_LEN + TLSREC_TAG;
}

static size_t
tlsrec_nrec(const struct tlsrec *r, size_t inlen)
{
	return inlen / r->frag_max + (inlen % r->frag_max != 0);
}

size_t
tlsrec_sealed_max(const struct tlsrec *r, size_t inlen)
{
	size_t n = tlsrec_nrec(r, inlen), over = tlsrec_overhead(r);

	if (n > (SIZE_MAX - TLSREC_KEYUPDATE_LEN - inlen) / over)
		return SIZE_MAX;
	return inlen + n * over + (r->reply_due ? TLSREC_KEYUPDATE_LEN : 0);
}

bool
tlsrec_reply_due(const struct tlsrec *r)
{
	return r->reply_due;
}

int
tlsrec_seal(struct tlsrec *r, const unsigned char *in, size_t inlen,
    unsigned char *out, size_t size, size_t *outlen)
{
	static const unsigned char ku[KEYUPDATE_MSG_LEN] = {
	    HS_KEY_UPDATE, 0, 0, 1, 0};
	size_t need = tlsrec_sealed_max(r, inlen), off = 0, o = 0, chunk, n;
	uint64_t nrec;
	int err;

	if (need == SIZE_MAX || need > size)
		return EMSGSIZE;
	nrec = tlsrec_nrec(r, inlen);
	if (r->tx.seq > UINT64_MAX - 1 - nrec - 1)
		return EOVERFLOW;
	if (r->reply_due) {
		/* Sealed under the old key, then the write key moves on. */
		if ((err = tlsrec_seal_one(
		         r, REC_HANDSHAKE, ku, sizeof(ku), out, &n)) != 0 ||
		    (err = tlsrec_dir_update(&r->tx, r->suite)) != 0)
			return err;
		r->reply_due = false;
		o += n;
	}
	while (off < inlen) {
		chunk = inlen - off < r->frag_max ? inlen - off : r->frag_max;
		if ((err = tlsrec_seal_one(
		         r, REC_APPDATA, in + off, chunk, out + o, &n)) != 0)
			return err;
		off += chunk;
		o += n;
	}
	*outlen = o;
	return 0;
}

int
tlsrec_seal_close(
    struct tlsrec *r, unsigned char *out, size_t size, size_t *outlen)
{
	static const unsigned char alert[2] = {
	    1, 0}; /* warning, close_notify */

	if (size < TLSREC_CLOSE_LEN)
		return EMSGSIZE;
	if (r->tx.seq > UINT64_MAX - 2)
		return EOVERFLOW;
	return tlsrec_seal_one(r, REC_ALERT, alert, sizeof(alert), out, outlen);
}
