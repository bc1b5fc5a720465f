/* srtp.c: SRTP and SRTCP transforms (RFC 3711, RFC 6188, RFC 7714) on
 * OpenSSL, for the media relay (see srtp.h).
 *
 * Per packet nothing is allocated: the AES-CTR and AES-GCM EVP contexts are
 * keyed once in srtp_ctx_new and only given a new IV per packet
 * (EVP_EncryptInit_ex with a NULL cipher and key keeps the key schedule).
 *
 * HMAC-SHA1 uses precomputed inner and outer SHA_CTX states (the key block
 * XOR ipad and XOR opad already hashed) that are struct-copied per packet.
 * OpenSSL 3.0 has no allocation-free way to do this through EVP: measured
 * on this machine with a counting CRYPTO_set_mem_functions, for a 176-byte
 * message, EVP_MAC re-initialised with EVP_MAC_init(ctx, NULL, 0, NULL)
 * costs 208 ns and 2 allocations, precomputed EVP_MD_CTX states copied with
 * EVP_MD_CTX_copy_ex 171 ns and 2 allocations (the provider's dupctx), an
 * HMAC built from EVP_DigestInit_ex2 246 ns and 2 allocations (a new
 * provider context per init), and the SHA_CTX copies 112 ns and none. The
 * SHA1_* functions are deprecated in OpenSSL 3.0, hence
 * OPENSSL_SUPPRESS_DEPRECATED; once an OpenSSL we build on copies digest
 * contexts without allocating, this can move to EVP_MD_CTX_copy_ex.
 *
 * Packet layouts (RFC 3711 3.1 and 3.4, RFC 7714 8 and 9):
 *   SRTP:            header | payload (encrypted) | tag
 *   SRTCP, HMAC:     header(8) | body (encrypted) | E+index | tag
 *   SRTCP, AES-GCM:  header(8) | body (encrypted) | tag | E+index
 * The HMAC tag covers header + encrypted payload + ROC (SRTP) or
 * header + encrypted body + E+index (SRTCP); AES-GCM authenticates the
 * header (SRTP) or the header and E+index (SRTCP) as associated data. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA1_Init/Update/Final: see above */

#include "media/srtp.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "lib/util.h"

#ifdef OPENSSL_NO_DEPRECATED_3_0
#error "srtp.c needs SHA1_Init/SHA1_Update/SHA1_Final (see the top comment)"
#endif

enum {
	SRTP_AES_BLOCK = 16,
	SRTP_CM_SALT_LEN = 14,  /* AES-CM master and session salt */
	SRTP_GCM_SALT_LEN = 12, /* AES-GCM master and session salt */
	SRTP_GCM_IV_LEN = 12,
	SRTP_GCM_TAG_LEN = 16,
	SRTP_AUTH_KEY_LEN = 20, /* HMAC-SHA1 session key */
	SRTP_HMAC_BLOCK = 64,
	SRTP_CIPHER_KEY_MAX = 32,
	/* cipher key + salt + auth key, the largest suite */
	SRTP_SESSION_MAX =
	    SRTP_CIPHER_KEY_MAX + SRTP_CM_SALT_LEN + SRTP_AUTH_KEY_LEN,
	SRTP_RTP_HDR_MIN = 12,
	SRTP_RTCP_HDR_LEN = 8, /* first word and the sender's SSRC */
	SRTP_RTCP_TRAILER = 4, /* E flag and 31-bit SRTCP index */
	SRTP_SEQ_HALF = 32768, /* 2^15, RFC 3711 3.3.1 */
	SRTP_RTCP_E_FLAG = 0x80,
	/* The EVP update calls take an int length. */
	SRTP_LEN_LIMIT = INT_MAX - SRTP_RTCP_OVERHEAD_MAX,
};

/* SRTP index: 32-bit ROC and 16-bit sequence number. */
#define SRTP_INDEX_MAX  ((UINT64_C(1) << 48) - 1)
#define SRTCP_INDEX_MAX UINT64_C(0x7fffffff)

/* RFC 3711 4.3.1 key derivation labels; SRTCP adds 3. */
enum {
	SRTP_LABEL_CIPHER = 0,
	SRTP_LABEL_AUTH = 1,
	SRTP_LABEL_SALT = 2,
	SRTP_LABEL_RTCP = 3
};

struct srtp_suite_info {
	size_t key;      /* cipher key bytes */
	size_t salt;     /* salt bytes (master and session) */
	size_t rtp_tag;  /* SRTP tag bytes */
	size_t rtcp_tag; /* SRTCP tag bytes: 80 bits for every CM suite */
	bool gcm;
};

static const struct srtp_suite_info srtp_suites[] = {
    [SRTP_SUITE_AES_CM_128_HMAC_SHA1_80] = {16, SRTP_CM_SALT_LEN, 10, 10,
        false},
    [SRTP_SUITE_AES_CM_128_HMAC_SHA1_32] = {16, SRTP_CM_SALT_LEN, 4, 10, false},
    [SRTP_SUITE_AES_256_CM_HMAC_SHA1_80] = {32, SRTP_CM_SALT_LEN, 10, 10,
        false},
    [SRTP_SUITE_AEAD_AES_128_GCM] = {16, SRTP_GCM_SALT_LEN, SRTP_GCM_TAG_LEN,
        SRTP_GCM_TAG_LEN, true},
};

/* The session keys of one of SRTP and SRTCP. */
struct srtp_keys {
	EVP_CIPHER_CTX *cipher; /* AES-CTR or AES-GCM, keyed */
	SHA_CTX ipad, opad;     /* HMAC-SHA1 after the key block (CM) */
	unsigned char salt[SRTP_CM_SALT_LEN]; /* 14 (CM) or 12 (GCM) used */
	size_t taglen;
};

/* Replay state of one index space. A sender uses seen and hi only. */
struct srtp_replay {
	bool seen;       /* hi is valid */
	uint64_t hi;     /* highest index accepted (or sent) */
	uint64_t win[2]; /* bit k set: index hi - k accepted */
};

struct srtp_stream {
	bool live;
	uint32_t ssrc;
	uint64_t stamp; /* the context's clock when last used, for LRU */
	struct srtp_replay rtp, rtcp;
};

struct srtp_ctx {
	const struct srtp_suite_info *si;
	struct srtp_keys rtp, rtcp;
	struct srtp_stream streams[SRTP_SSRC_MAX];
	uint64_t clock;
	/* The highest SRTCP index a replaced stream had; a new sender stream
	 * starts above it, so an SSRC that comes back after being replaced
	 * never reuses an SRTCP IV (fatal with AES-GCM). */
	uint64_t rtcp_floor;
};

static uint16_t
srtp_rd16(const unsigned char *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t
srtp_rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
srtp_wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

size_t
srtp_suite_keylen(enum srtp_suite suite)
{
	if ((unsigned)suite >= ARRAY_LEN(srtp_suites))
		return 0;
	return srtp_suites[suite].key + srtp_suites[suite].salt;
}

/* The RFC 3711 4.3.3 PRF (AES-CM, kdr 0): fills out[0, len) with the key
 * stream of the master key at IV (master salt XOR label << 48) * 2^16. A
 * 12-byte (GCM) master salt is padded with zeros to 14 bytes, as libsrtp
 * does. x is a scratch cipher context. Returns 0 or EIO. */
static int
srtp_kdf(EVP_CIPHER_CTX *x, const EVP_CIPHER *aes_ctr,
    const unsigned char *mkey, const unsigned char *msalt, size_t msaltlen,
    unsigned label, unsigned char *out, size_t len)
{
	unsigned char iv[SRTP_AES_BLOCK] = {0};
	int n;

	memcpy(iv, msalt, msaltlen);
	iv[7] ^= (unsigned char)label;
	memset(out, 0, len);
	if (EVP_EncryptInit_ex(x, aes_ctr, NULL, mkey, iv) != 1 ||
	    EVP_EncryptUpdate(x, out, &n, out, (int)len) != 1)
		return EIO;
	return 0;
}

/* Keys k from the session keys: the cipher key (si->key bytes), salt
 * (si->salt bytes) and, for HMAC suites, the 20-byte authentication key.
 * Returns 0, ENOMEM or EIO. */
static int
srtp_keys_init(struct srtp_keys *k, const struct srtp_suite_info *si,
    const unsigned char *ckey, const unsigned char *salt,
    const unsigned char *akey, size_t taglen)
{
	unsigned char pad[SRTP_HMAC_BLOCK];
	const EVP_CIPHER *cipher;
	size_t i;

	if (si->gcm)
		cipher = EVP_aes_128_gcm();
	else
		cipher = si->key == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
	if ((k->cipher = EVP_CIPHER_CTX_new()) == NULL)
		return ENOMEM;
	if (EVP_EncryptInit_ex(k->cipher, cipher, NULL, ckey, NULL) != 1)
		return EIO;
	memcpy(k->salt, salt, si->salt);
	k->taglen = taglen;
	if (si->gcm)
		return 0;

	/* HMAC (RFC 2104) with the key blocks hashed once. */
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= akey[i];
	SHA1_Init(&k->ipad);
	SHA1_Update(&k->ipad, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < SRTP_AUTH_KEY_LEN; i++)
		pad[i] ^= akey[i];
	SHA1_Init(&k->opad);
	SHA1_Update(&k->opad, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
	return 0;
}

/* A zeroed context for a known suite, or NULL (ENOMEM). */
static struct srtp_ctx *
srtp_ctx_alloc(enum srtp_suite suite)
{
	struct srtp_ctx *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->si = &srtp_suites[suite];
	return c;
}

int
srtp_ctx_new(enum srtp_suite suite, const unsigned char *key, size_t keylen,
    struct srtp_ctx **out)
{
	unsigned char sk[SRTP_SESSION_MAX];
	const struct srtp_suite_info *si;
	const EVP_CIPHER *prf;
	EVP_CIPHER_CTX *x = NULL;
	struct srtp_ctx *c = NULL;
	struct srtp_keys *k;
	const unsigned char *msalt;
	unsigned base;
	int err = 0;

	if (key == NULL || out == NULL || srtp_suite_keylen(suite) == 0 ||
	    keylen != srtp_suite_keylen(suite))
		return EINVAL;
	if ((c = srtp_ctx_alloc(suite)) == NULL)
		return ENOMEM;
	si = c->si;
	msalt = key + si->key;
	prf = si->key == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
	if ((x = EVP_CIPHER_CTX_new()) == NULL) {
		err = ENOMEM;
		goto out;
	}
	/* sk: cipher key | salt | auth key, for SRTP then for SRTCP */
	for (base = 0; base <= SRTP_LABEL_RTCP; base += SRTP_LABEL_RTCP) {
		k = base == 0 ? &c->rtp : &c->rtcp;
		if ((err = srtp_kdf(x, prf, key, msalt, si->salt,
		         base + SRTP_LABEL_CIPHER, sk, si->key)) != 0 ||
		    (err = srtp_kdf(x, prf, key, msalt, si->salt,
		         base + SRTP_LABEL_SALT, sk + si->key, si->salt)) != 0)
			goto out;
		if (!si->gcm &&
		    (err = srtp_kdf(x, prf, key, msalt, si->salt,
		         base + SRTP_LABEL_AUTH, sk + si->key + si->salt,
		         SRTP_AUTH_KEY_LEN)) != 0)
			goto out;
		if ((err = srtp_keys_init(k, si, sk, sk + si->key,
		         sk + si->key + si->salt,
		         base == 0 ? si->rtp_tag : si->rtcp_tag)) != 0)
			goto out;
	}
	*out = c;
	c = NULL;
out:
	OPENSSL_cleanse(sk, sizeof(sk));
	EVP_CIPHER_CTX_free(x);
	srtp_ctx_free(c);
	return err;
}

int
srtp_ctx_new_session_keys(enum srtp_suite suite, const unsigned char *keys,
    size_t keylen, struct srtp_ctx **out)
{
	const struct srtp_suite_info *si;
	struct srtp_ctx *c;
	int err;

	if (keys == NULL || out == NULL ||
	    (unsigned)suite >= ARRAY_LEN(srtp_suites))
		return EINVAL;
	si = &srtp_suites[suite];
	if (keylen != si->key + si->salt + (si->gcm ? 0 : SRTP_AUTH_KEY_LEN))
		return EINVAL;
	if ((c = srtp_ctx_alloc(suite)) == NULL)
		return ENOMEM;
	if ((err = srtp_keys_init(&c->rtp, si, keys, keys + si->key,
	         keys + si->key + si->salt, si->rtp_tag)) != 0 ||
	    (err = srtp_keys_init(&c->rtcp, si, keys, keys + si->key,
	         keys + si->key + si->salt, si->rtcp_tag)) != 0) {
		srtp_ctx_free(c);
		return err;
	}
	*out = c;
	return 0;
}

void
srtp_ctx_free(struct srtp_ctx *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->rtp.cipher);
	EVP_CIPHER_CTX_free(c->rtcp.cipher);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* The length of the RTP header at p[0, len): fixed part, CSRC list and
 * header extension. Returns 0, or EBADMSG when it is not version 2 or
 * overruns len. */
static int
srtp_rtp_header(const unsigned char *p, size_t len, size_t *hdrp)
{
	size_t hdr;

	if (len < SRTP_RTP_HDR_MIN || (p[0] >> 6) != 2)
		return EBADMSG;
	hdr = SRTP_RTP_HDR_MIN + 4 * (size_t)(p[0] & 0x0f);
	if (p[0] & 0x10) {
		if (len < hdr + 4)
			return EBADMSG;
		hdr += 4 + 4 * (size_t)srtp_rd16(p + hdr + 2);
	}
	if (hdr > len)
		return EBADMSG;
	*hdrp = hdr;
	return 0;
}

/* The 48-bit index of sequence number seq given the highest index hi of
 * its stream (RFC 3711 3.3.1 and appendix A). While the ROC is 0 there is
 * no ROC - 1: such a packet counts as ahead, as libsrtp has it. May return
 * 2^48 or more when the ROC would pass 2^32 - 1. */
static uint64_t
srtp_index_estimate(uint64_t hi, uint16_t seq)
{
	uint64_t roc = hi >> 16, v = roc;
	unsigned sl = (unsigned)(hi & 0xffff);

	if (sl < SRTP_SEQ_HALF) {
		if (seq > sl && seq - sl > SRTP_SEQ_HALF && roc > 0)
			v = roc - 1;
	} else if (sl - SRTP_SEQ_HALF > seq) {
		v = roc + 1;
	}
	return v << 16 | seq;
}

/* 0 when index is new to r (or r is NULL: a stream not yet seen);
 * EALREADY when it was accepted before or is older than the window. */
static int
srtp_replay_check(const struct srtp_replay *r, uint64_t index)
{
	uint64_t d;

	if (r == NULL || !r->seen || index > r->hi)
		return 0;
	d = r->hi - index;
	if (d >= SRTP_REPLAY_WINDOW)
		return EALREADY;
	return ((r->win[d / 64] >> (d % 64)) & 1) != 0 ? EALREADY : 0;
}

/* Records index as accepted; srtp_replay_check said it is new. */
static void
srtp_replay_add(struct srtp_replay *r, uint64_t index)
{
	uint64_t d;

	if (!r->seen || index > r->hi) {
		d = r->seen ? index - r->hi : SRTP_REPLAY_WINDOW;
		if (d >= SRTP_REPLAY_WINDOW) {
			r->win[0] = r->win[1] = 0;
		} else if (d >= 64) {
			r->win[1] = r->win[0] << (d - 64);
			r->win[0] = 0;
		} else {
			r->win[1] = r->win[1] << d | r->win[0] >> (64 - d);
			r->win[0] <<= d;
		}
		r->win[0] |= 1;
		r->hi = index;
		r->seen = true;
		return;
	}
	d = r->hi - index;
	r->win[d / 64] |= UINT64_C(1) << (d % 64);
}

/* The live stream of ssrc, or NULL. */
static struct srtp_stream *
srtp_stream_find(struct srtp_ctx *c, uint32_t ssrc)
{
	size_t i;

	for (i = 0; i < SRTP_SSRC_MAX; i++)
		if (c->streams[i].live && c->streams[i].ssrc == ssrc)
			return &c->streams[i];
	return NULL;
}

/* The slot a new SSRC would take: a free one, or the least recently used
 * one. */
static struct srtp_stream *
srtp_stream_victim(struct srtp_ctx *c)
{
	struct srtp_stream *s = &c->streams[0];
	size_t i;

	for (i = 0; i < SRTP_SSRC_MAX && s->live; i++)
		if (!c->streams[i].live || c->streams[i].stamp < s->stamp)
			s = &c->streams[i];
	return s;
}

/* The SRTCP index floor once victim v is replaced (see rtcp_floor). */
static uint64_t
srtp_rtcp_floor(const struct srtp_ctx *c, const struct srtp_stream *v)
{
	if (v->live && v->rtcp.seen && v->rtcp.hi > c->rtcp_floor)
		return v->rtcp.hi;
	return c->rtcp_floor;
}

/* Marks s (or, when NULL, a new stream for ssrc in srtp_stream_victim's
 * slot, wiped) as used now. Called only once a packet has passed, so a
 * failed packet never replaces a stream. */
static struct srtp_stream *
srtp_stream_touch(struct srtp_ctx *c, struct srtp_stream *s, uint32_t ssrc)
{
	if (s == NULL) {
		s = srtp_stream_victim(c);
		c->rtcp_floor = srtp_rtcp_floor(c, s);
		memset(s, 0, sizeof(*s));
		s->live = true;
		s->ssrc = ssrc;
	}
	s->stamp = ++c->clock;
	return s;
}

/* AES-CM IV (RFC 3711 4.1.1): (salt * 2^16) XOR (SSRC * 2^64) XOR
 * (index * 2^16). */
static void
srtp_cm_iv(unsigned char iv[SRTP_AES_BLOCK], const unsigned char *salt,
    uint32_t ssrc, uint64_t index)
{
	memcpy(iv, salt, SRTP_CM_SALT_LEN);
	iv[14] = iv[15] = 0;
	iv[4] ^= (unsigned char)(ssrc >> 24);
	iv[5] ^= (unsigned char)(ssrc >> 16);
	iv[6] ^= (unsigned char)(ssrc >> 8);
	iv[7] ^= (unsigned char)ssrc;
	iv[8] ^= (unsigned char)(index >> 40);
	iv[9] ^= (unsigned char)(index >> 32);
	iv[10] ^= (unsigned char)(index >> 24);
	iv[11] ^= (unsigned char)(index >> 16);
	iv[12] ^= (unsigned char)(index >> 8);
	iv[13] ^= (unsigned char)index;
}

/* AES-GCM IV (RFC 7714 8.1 and 9.1): 00 00 | SSRC | 48-bit index (ROC and
 * SEQ, or 0 and the SRTCP index), XOR the 12-byte salt. */
static void
srtp_gcm_iv(unsigned char iv[SRTP_GCM_IV_LEN], const unsigned char *salt,
    uint32_t ssrc, uint64_t index)
{
	unsigned char b[SRTP_GCM_IV_LEN];
	size_t i;

	b[0] = b[1] = 0;
	srtp_wr32(b + 2, ssrc);
	srtp_wr32(b + 6, (uint32_t)(index >> 16));
	b[10] = (unsigned char)(index >> 8);
	b[11] = (unsigned char)index;
	for (i = 0; i < SRTP_GCM_IV_LEN; i++)
		iv[i] = b[i] ^ salt[i];
}

/* XORs p[0, len) with the AES-CM key stream at iv. Returns 0 or EIO. */
static int
srtp_ctr_xor(const struct srtp_keys *k, uint32_t ssrc, uint64_t index,
    unsigned char *p, size_t len)
{
	unsigned char iv[SRTP_AES_BLOCK];
	int n;

	srtp_cm_iv(iv, k->salt, ssrc, index);
	if (EVP_EncryptInit_ex(k->cipher, NULL, NULL, NULL, iv) != 1)
		return EIO;
	if (len > 0 && EVP_EncryptUpdate(k->cipher, p, &n, p, (int)len) != 1)
		return EIO;
	return 0;
}

/* HMAC-SHA1 of p[0, len) followed by extra[0, extralen) into out. */
static void
srtp_hmac(const struct srtp_keys *k, const unsigned char *p, size_t len,
    const unsigned char *extra, size_t extralen,
    unsigned char out[SHA_DIGEST_LENGTH])
{
	SHA_CTX h = k->ipad;

	SHA1_Update(&h, p, len);
	if (extralen > 0)
		SHA1_Update(&h, extra, extralen);
	SHA1_Final(out, &h);
	h = k->opad;
	SHA1_Update(&h, out, SHA_DIGEST_LENGTH);
	SHA1_Final(out, &h);
}

/* One AES-GCM operation in place on p[0, len) with the associated data
 * a1 | a2. enc: encrypt and write the tag; otherwise decrypt and check it
 * (EACCES on mismatch; p then holds unauthenticated bytes). Returns 0,
 * EACCES or EIO. */
static int
srtp_gcm(const struct srtp_keys *k, int enc, uint32_t ssrc, uint64_t index,
    const unsigned char *a1, size_t a1len, const unsigned char *a2,
    size_t a2len, unsigned char *p, size_t len,
    unsigned char tag[SRTP_GCM_TAG_LEN])
{
	unsigned char iv[SRTP_GCM_IV_LEN], fin[SRTP_AES_BLOCK];
	EVP_CIPHER_CTX *x = k->cipher;
	int n;

	srtp_gcm_iv(iv, k->salt, ssrc, index);
	if (EVP_CipherInit_ex(x, NULL, NULL, NULL, iv, enc) != 1 ||
	    EVP_CipherUpdate(x, NULL, &n, a1, (int)a1len) != 1 ||
	    (a2len > 0 && EVP_CipherUpdate(x, NULL, &n, a2, (int)a2len) != 1) ||
	    (len > 0 && EVP_CipherUpdate(x, p, &n, p, (int)len) != 1))
		return EIO;
	if (enc) {
		if (EVP_CipherFinal_ex(x, fin, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(
		        x, EVP_CTRL_AEAD_GET_TAG, SRTP_GCM_TAG_LEN, tag) != 1)
			return EIO;
		return 0;
	}
	if (EVP_CIPHER_CTX_ctrl(
	        x, EVP_CTRL_AEAD_SET_TAG, SRTP_GCM_TAG_LEN, tag) != 1)
		return EIO;
	return EVP_CipherFinal_ex(x, fin, &n) == 1 ? 0 : EACCES;
}

int
srtp_rtp_protect(struct srtp_ctx *c, unsigned char *pkt, size_t len,
    size_t size, size_t *outlen)
{
	unsigned char mac[SHA_DIGEST_LENGTH], roc[4];
	const struct srtp_keys *k;
	struct srtp_stream *s;
	uint64_t index;
	uint32_t ssrc;
	size_t hdr;
	int err;

	if (c == NULL || pkt == NULL || outlen == NULL)
		return EINVAL;
	if ((err = srtp_rtp_header(pkt, len, &hdr)) != 0)
		return err;
	k = &c->rtp;
	if (len > SRTP_LEN_LIMIT || size < len + k->taglen)
		return EMSGSIZE;
	ssrc = srtp_rd32(pkt + 8);
	s = srtp_stream_find(c, ssrc);
	index = srtp_rd16(pkt + 2);
	if (s != NULL && s->rtp.seen)
		index = srtp_index_estimate(s->rtp.hi, (uint16_t)index);
	if (index > SRTP_INDEX_MAX)
		return EOVERFLOW;

	if (c->si->gcm) {
		if ((err = srtp_gcm(k, 1, ssrc, index, pkt, hdr, NULL, 0,
		         pkt + hdr, len - hdr, pkt + len)) != 0)
			return err;
	} else {
		if ((err = srtp_ctr_xor(
		         k, ssrc, index, pkt + hdr, len - hdr)) != 0)
			return err;
		srtp_wr32(roc, (uint32_t)(index >> 16));
		srtp_hmac(k, pkt, len, roc, sizeof(roc), mac);
		memcpy(pkt + len, mac, k->taglen);
	}
	s = srtp_stream_touch(c, s, ssrc);
	if (!s->rtp.seen || index > s->rtp.hi) {
		s->rtp.hi = index;
		s->rtp.seen = true;
	}
	*outlen = len + k->taglen;
	return 0;
}

int
srtp_rtp_unprotect(
    struct srtp_ctx *c, unsigned char *pkt, size_t len, size_t *outlen)
{
	unsigned char mac[SHA_DIGEST_LENGTH], roc[4];
	const struct srtp_keys *k;
	struct srtp_stream *s;
	size_t hdr, rlen;
	uint64_t index;
	uint32_t ssrc;
	int err;

	if (c == NULL || pkt == NULL || outlen == NULL)
		return EINVAL;
	k = &c->rtp;
	if (len < SRTP_RTP_HDR_MIN + k->taglen || len > SRTP_LEN_LIMIT)
		return EBADMSG;
	rlen = len - k->taglen;
	if ((err = srtp_rtp_header(pkt, rlen, &hdr)) != 0)
		return err;
	ssrc = srtp_rd32(pkt + 8);
	s = srtp_stream_find(c, ssrc);
	index = srtp_rd16(pkt + 2);
	if (s != NULL && s->rtp.seen)
		index = srtp_index_estimate(s->rtp.hi, (uint16_t)index);
	if (index > SRTP_INDEX_MAX)
		return EACCES; /* no sender can have sent it */
	if ((err = srtp_replay_check(s != NULL ? &s->rtp : NULL, index)) != 0)
		return err;

	if (c->si->gcm) {
		if ((err = srtp_gcm(k, 0, ssrc, index, pkt, hdr, NULL, 0,
		         pkt + hdr, rlen - hdr, pkt + rlen)) != 0)
			return err;
	} else {
		srtp_wr32(roc, (uint32_t)(index >> 16));
		srtp_hmac(k, pkt, rlen, roc, sizeof(roc), mac);
		if (CRYPTO_memcmp(mac, pkt + rlen, k->taglen) != 0)
			return EACCES;
		if ((err = srtp_ctr_xor(
		         k, ssrc, index, pkt + hdr, rlen - hdr)) != 0)
			return err;
	}
	s = srtp_stream_touch(c, s, ssrc);
	srtp_replay_add(&s->rtp, index);
	*outlen = rlen;
	return 0;
}

int
srtp_rtcp_protect(struct srtp_ctx *c, unsigned char *pkt, size_t len,
    size_t size, size_t *outlen)
{
	unsigned char mac[SHA_DIGEST_LENGTH], *trailer;
	const struct srtp_keys *k;
	struct srtp_stream *s;
	uint64_t index;
	uint32_t ssrc;
	int err;

	if (c == NULL || pkt == NULL || outlen == NULL)
		return EINVAL;
	if (len < SRTP_RTCP_HDR_LEN || (pkt[0] >> 6) != 2)
		return EBADMSG;
	k = &c->rtcp;
	if (len > SRTP_LEN_LIMIT || size < len + SRTP_RTCP_TRAILER + k->taglen)
		return EMSGSIZE;
	ssrc = srtp_rd32(pkt + 4);
	s = srtp_stream_find(c, ssrc);
	if (s != NULL)
		index = s->rtcp.seen ? s->rtcp.hi + 1 : c->rtcp_floor + 1;
	else
		index = srtp_rtcp_floor(c, srtp_stream_victim(c)) + 1;
	if (index > SRTCP_INDEX_MAX)
		return EOVERFLOW;

	if (c->si->gcm) {
		trailer = pkt + len + k->taglen;
		srtp_wr32(trailer, (uint32_t)index | 0x80000000u);
		if ((err = srtp_gcm(k, 1, ssrc, index, pkt, SRTP_RTCP_HDR_LEN,
		         trailer, SRTP_RTCP_TRAILER, pkt + SRTP_RTCP_HDR_LEN,
		         len - SRTP_RTCP_HDR_LEN, pkt + len)) != 0)
			return err;
	} else {
		trailer = pkt + len;
		srtp_wr32(trailer, (uint32_t)index | 0x80000000u);
		if ((err = srtp_ctr_xor(k, ssrc, index, pkt + SRTP_RTCP_HDR_LEN,
		         len - SRTP_RTCP_HDR_LEN)) != 0)
			return err;
		srtp_hmac(k, pkt, len + SRTP_RTCP_TRAILER, NULL, 0, mac);
		memcpy(trailer + SRTP_RTCP_TRAILER, mac, k->taglen);
	}
	s = srtp_stream_touch(c, s, ssrc);
	s->rtcp.hi = index;
	s->rtcp.seen = true;
	*outlen = len + SRTP_RTCP_TRAILER + k->taglen;
	return 0;
}

int
srtp_rtcp_unprotect(
    struct srtp_ctx *c, unsigned char *pkt, size_t len, size_t *outlen)
{
	unsigned char mac[SHA_DIGEST_LENGTH], *trailer, *tag;
	const struct srtp_keys *k;
	struct srtp_stream *s;
	size_t rlen;
	uint64_t index;
	uint32_t ssrc;
	bool enc;
	int err;

	if (c == NULL || pkt == NULL || outlen == NULL)
		return EINVAL;
	k = &c->rtcp;
	if (len < SRTP_RTCP_HDR_LEN + SRTP_RTCP_TRAILER + k->taglen ||
	    len > SRTP_LEN_LIMIT || (pkt[0] >> 6) != 2)
		return EBADMSG;
	rlen = len - SRTP_RTCP_TRAILER - k->taglen;
	if (c->si->gcm) {
		tag = pkt + rlen;
		trailer = tag + k->taglen;
	} else {
		trailer = pkt + rlen;
		tag = trailer + SRTP_RTCP_TRAILER;
	}
	enc = (trailer[0] & SRTP_RTCP_E_FLAG) != 0;
	index = srtp_rd32(trailer) & SRTCP_INDEX_MAX;
	ssrc = srtp_rd32(pkt + 4);
	s = srtp_stream_find(c, ssrc);
	if ((err = srtp_replay_check(s != NULL ? &s->rtcp : NULL, index)) != 0)
		return err;

	if (c->si->gcm) {
		/* E clear: the whole packet is associated data. */
		size_t alen = enc ? SRTP_RTCP_HDR_LEN : rlen;

		if ((err = srtp_gcm(k, 0, ssrc, index, pkt, alen, trailer,
		         SRTP_RTCP_TRAILER, pkt + alen, rlen - alen, tag)) != 0)
			return err;
	} else {
		srtp_hmac(k, pkt, rlen + SRTP_RTCP_TRAILER, NULL, 0, mac);
		if (CRYPTO_memcmp(mac, tag, k->taglen) != 0)
			return EACCES;
		if (enc &&
		    (err = srtp_ctr_xor(k, ssrc, index, pkt + SRTP_RTCP_HDR_LEN,
		         rlen - SRTP_RTCP_HDR_LEN)) != 0)
			return err;
	}
	s = srtp_stream_touch(c, s, ssrc);
	srtp_replay_add(&s->rtcp, index);
	*outlen = rlen;
	return 0;
}
