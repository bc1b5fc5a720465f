/* srtp_test.c: unit tests of the SRTP/SRTCP transforms (src/media/srtp.c):
 * the RFC 3711 appendix B and RFC 7714 section 16/17 vectors, byte for
 * byte against libsrtp2 for every suite, and the failure paths (tampering,
 * replay, malformed packets, room, many SSRCs). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>
#include <srtp2/srtp.h>

#include "media/srtp.h"

enum {
	PKT_MAX = 2048,
	HEX_MAX = 512,
	INTEROP_PACKETS = 300, /* per SSRC */
	INTEROP_SSRCS = 3,
	B2_BLOCKS = 65282, /* RFC 3711 B.2 keystream segment */
};

static const enum srtp_suite all_suites[] = {
    SRTP_SUITE_AES_CM_128_HMAC_SHA1_80,
    SRTP_SUITE_AES_CM_128_HMAC_SHA1_32,
    SRTP_SUITE_AES_256_CM_HMAC_SHA1_80,
    SRTP_SUITE_AEAD_AES_128_GCM,
};
#define NSUITES (sizeof(all_suites) / sizeof(all_suites[0]))

/* OpenSSL allocations, counted through CRYPTO_set_mem_functions. */
static unsigned long ossl_allocs;

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

/* Decodes hex (spaces allowed) into out; returns the byte count. */
static size_t
unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	int hi = -1, v = 0;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\n')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			fail_msg("bad hex digit");
		if (hi < 0) {
			hi = v;
			continue;
		}
		assert_true(n < max);
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	assert_int_equal(hi, -1);
	return n;
}

/* xorshift64*: reproducible "random" keys and packets. */
static uint64_t
rnd_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void
rnd_fill(uint64_t *s, unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(rnd_next(s) >> 32);
}

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* An RTP packet with cc CSRCs, an extension of ext words (ext < 0: none)
 * and plen payload bytes from s. Returns its length. */
static size_t
rtp_build(unsigned char *p, uint16_t seq, uint32_t ssrc, unsigned cc, int ext,
    size_t plen, uint64_t *s)
{
	size_t len = 12, i;

	p[0] = (unsigned char)(0x80 | (ext >= 0 ? 0x10 : 0) | cc);
	p[1] = 0;
	put16(p + 2, seq);
	put32(p + 4, (uint32_t)seq * 160);
	put32(p + 8, ssrc);
	for (i = 0; i < cc; i++, len += 4)
		put32(p + len, 0x1000 + (uint32_t)i);
	if (ext >= 0) {
		put16(p + len, 0xbede);
		put16(p + len + 2, (uint16_t)ext);
		len += 4;
		rnd_fill(s, p + len, 4 * (size_t)ext);
		len += 4 * (size_t)ext;
	}
	rnd_fill(s, p + len, plen);
	return len + plen;
}

/* A simple RTP packet: no CSRC, no extension, plen bytes of 0xab. */
static size_t
rtp_simple(unsigned char *p, uint16_t seq, uint32_t ssrc, size_t plen)
{
	p[0] = 0x80;
	p[1] = 0;
	put16(p + 2, seq);
	put32(p + 4, 1000);
	put32(p + 8, ssrc);
	memset(p + 12, 0xab, plen);
	return 12 + plen;
}

/* An RTCP packet (receiver report type) of 8 + blen bytes. */
static size_t
rtcp_build(unsigned char *p, uint32_t ssrc, size_t blen, uint64_t *s)
{
	p[0] = 0x81;
	p[1] = 201;
	put16(p + 2, (uint16_t)((8 + blen) / 4 - 1));
	put32(p + 4, ssrc);
	rnd_fill(s, p + 8, blen);
	return 8 + blen;
}

static struct srtp_ctx *
ctx_new(enum srtp_suite suite, const unsigned char *key)
{
	struct srtp_ctx *c = NULL;

	assert_int_equal(
	    srtp_ctx_new(suite, key, srtp_suite_keylen(suite), &c), 0);
	assert_non_null(c);
	return c;
}

static srtp_t
lib_session(enum srtp_suite suite, const unsigned char *key, bool inbound)
{
	srtp_policy_t p;
	srtp_t s = NULL;

	memset(&p, 0, sizeof(p));
	switch (suite) {
	case SRTP_SUITE_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
		break;
	case SRTP_SUITE_AES_CM_128_HMAC_SHA1_32:
		/* RFC 4568: SRTCP keeps the 80-bit tag */
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
		break;
	case SRTP_SUITE_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtcp);
		break;
	case SRTP_SUITE_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
		break;
	}
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = (unsigned char *)key;
	p.window_size = SRTP_REPLAY_WINDOW;
	assert_int_equal(srtp_create(&s, &p), srtp_err_status_ok);
	return s;
}

static void
test_keylen_and_args(void **state)
{
	unsigned char key[SRTP_MASTER_MAX] = {0}, pkt[64] = {0};
	struct srtp_ctx *c = NULL;
	size_t n;

	(void)state;
	assert_int_equal(
	    srtp_suite_keylen(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80), 30);
	assert_int_equal(
	    srtp_suite_keylen(SRTP_SUITE_AES_CM_128_HMAC_SHA1_32), 30);
	assert_int_equal(
	    srtp_suite_keylen(SRTP_SUITE_AES_256_CM_HMAC_SHA1_80), 46);
	assert_int_equal(srtp_suite_keylen(SRTP_SUITE_AEAD_AES_128_GCM), 28);
	assert_int_equal(srtp_suite_keylen((enum srtp_suite)4), 0);
	assert_int_equal(srtp_suite_keylen((enum srtp_suite) - 1), 0);

	assert_int_equal(
	    srtp_ctx_new(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, key, 29, &c),
	    EINVAL);
	assert_int_equal(
	    srtp_ctx_new(SRTP_SUITE_AEAD_AES_128_GCM, key, 30, &c), EINVAL);
	assert_int_equal(srtp_ctx_new((enum srtp_suite)9, key, 30, &c), EINVAL);
	assert_int_equal(
	    srtp_ctx_new(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, NULL, 30, &c),
	    EINVAL);
	assert_int_equal(
	    srtp_ctx_new(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, key, 30, NULL),
	    EINVAL);
	assert_null(c);
	assert_int_equal(srtp_ctx_new_session_keys(
	                     SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, key, 30, &c),
	    EINVAL);
	srtp_ctx_free(NULL);

	c = ctx_new(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, key);
	assert_int_equal(srtp_rtp_protect(NULL, pkt, 12, 64, &n), EINVAL);
	assert_int_equal(srtp_rtp_protect(c, NULL, 12, 64, &n), EINVAL);
	assert_int_equal(srtp_rtp_unprotect(c, pkt, 12, NULL), EINVAL);
	assert_int_equal(srtp_rtcp_protect(c, pkt, 12, 64, NULL), EINVAL);
	assert_int_equal(srtp_rtcp_unprotect(NULL, pkt, 12, &n), EINVAL);
	srtp_ctx_free(c);
}

/* RFC 3711 B.2: with session key 2B7E..., salt F0F1...FCFD, SSRC 0, ROC 0
 * and SEQ 0 the payload of zeros encrypts to the AES-CM key stream. */
static void
test_rfc3711_b2_keystream(void **state)
{
	static const struct {
		size_t block;
		const char *hex;
	} want[] = {
	    {0x0000, "E03EAD0935C95E80E166B16DD92B4EB4"},
	    {0x0001, "D23513162B02D0F72A43A2FE4A5F97AB"},
	    {0x0002, "41E95B3BB0A2E8DD477901E4FCA894C0"},
	    {0xfeff, "EC8CDF7398607CB0F2D21675EA9EA1E4"},
	    {0xff00, "362B7C3C6773516318A077D7FC5073AE"},
	    {0xff01, "6A2CC3787889374FBEB4C81B17BA6C44"},
	};
	unsigned char keys[50] = {0}, block[16];
	size_t len = 12 + (size_t)B2_BLOCKS * 16, n, i;
	struct srtp_ctx *c = NULL;
	unsigned char *pkt;

	(void)state;
	unhex("2B7E151628AED2A6ABF7158809CF4F3C F0F1F2F3F4F5F6F7F8F9FAFBFCFD",
	    keys, 30);
	assert_int_equal(
	    srtp_ctx_new_session_keys(
	        SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, keys, sizeof(keys), &c),
	    0);
	pkt = calloc(1, len + SRTP_RTP_OVERHEAD_MAX);
	assert_non_null(pkt);
	pkt[0] = 0x80;
	assert_int_equal(
	    srtp_rtp_protect(c, pkt, len, len + SRTP_RTP_OVERHEAD_MAX, &n), 0);
	assert_int_equal(n, len + 10);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		unhex(want[i].hex, block, sizeof(block));
		assert_memory_equal(pkt + 12 + want[i].block * 16, block, 16);
	}
	free(pkt);
	srtp_ctx_free(c);
}

/* RFC 3711 B.3 (and RFC 6188 7.2 for AES-256): a context from the master
 * key protects exactly as one given the derived session keys. */
static void
test_rfc3711_b3_kdf(void **state)
{
	unsigned char master[46], sess[66], a[PKT_MAX], b[PKT_MAX];
	struct srtp_ctx *cm, *cs;
	size_t la, lb, na, nb;
	uint64_t s = 1;

	(void)state;
	unhex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6",
	    master, sizeof(master));
	unhex("C61E7A93744F39EE10734AFE3FF7A087 30CBBC08863D8C85D49DB34A9AE1"
	      "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4",
	    sess, sizeof(sess));
	cm = ctx_new(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, master);
	assert_int_equal(srtp_ctx_new_session_keys(
	                     SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, sess, 50, &cs),
	    0);
	la = rtp_build(a, 4711, 0xcafe, 2, 1, 160, &s);
	memcpy(b, a, la);
	lb = la;
	assert_int_equal(srtp_rtp_protect(cm, a, la, sizeof(a), &na), 0);
	assert_int_equal(srtp_rtp_protect(cs, b, lb, sizeof(b), &nb), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	srtp_ctx_free(cm);
	srtp_ctx_free(cs);

	/* RFC 6188 7.2: the AES-256 PRF gives this cipher key and salt (the
	 * auth key is not listed, so the tags are left out). */
	unhex("F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6"
	      "3B04803DE51EE7C96423AB5B78D2",
	    master, sizeof(master));
	memset(sess, 0, sizeof(sess));
	unhex("5BA1064E30EC51613CAD926C5A28EF731EC7FB397F70A960653CAF06554CD8C4"
	      "FA31791685CA444A9E07C6C64E93",
	    sess, sizeof(sess));
	cm = ctx_new(SRTP_SUITE_AES_256_CM_HMAC_SHA1_80, master);
	assert_int_equal(srtp_ctx_new_session_keys(
	                     SRTP_SUITE_AES_256_CM_HMAC_SHA1_80, sess, 66, &cs),
	    0);
	la = rtp_build(a, 1, 0x1234, 0, -1, 64, &s);
	memcpy(b, a, la);
	assert_int_equal(srtp_rtp_protect(cm, a, la, sizeof(a), &na), 0);
	assert_int_equal(srtp_rtp_protect(cs, b, la, sizeof(b), &nb), 0);
	assert_memory_equal(a, b, la);
	assert_memory_not_equal(a + la, b + la, 10);
	srtp_ctx_free(cm);
	srtp_ctx_free(cs);
}

/* RFC 7714 section 16 (SRTP) and 17 (SRTCP), AEAD_AES_128_GCM with the
 * session key 000102...0f and salt "Quid pro quo". */
static const char rfc7714_keys[] =
    "000102030405060708090a0b0c0d0e0f 517569642070726f2071756f";
static const char rfc7714_rtp[] =
    "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973"
    "20646976 69736120 696e2070 61727465 73207472 6573";
static const char rfc7714_srtp[] =
    "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca"
    "be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1"
    "6a9152cf 765ee439 0cce";
static const char rfc7714_rtcp[] =
    "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
    "4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef";
static const char rfc7714_srtcp[] =
    "81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7"
    "6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded 0bb9275b c84aa458"
    "96cf4d2f c5abf872 45d9eade 800005d4";
static const char rfc7714_srtcp_noenc[] =
    "81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930"
    "4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef 841dd968"
    "3dd78ec9 2ae58790 125f62b3 000005d4";

static struct srtp_ctx *
rfc7714_ctx(void)
{
	unsigned char keys[28];
	struct srtp_ctx *c = NULL;

	assert_int_equal(unhex(rfc7714_keys, keys, sizeof(keys)), 28);
	assert_int_equal(srtp_ctx_new_session_keys(SRTP_SUITE_AEAD_AES_128_GCM,
	                     keys, sizeof(keys), &c),
	    0);
	return c;
}

static void
test_rfc7714_srtp(void **state)
{
	unsigned char plain[HEX_MAX], want[HEX_MAX], pkt[HEX_MAX];
	struct srtp_ctx *tx = rfc7714_ctx(), *rx = rfc7714_ctx();
	size_t lp, lw, n;

	(void)state;
	lp = unhex(rfc7714_rtp, plain, sizeof(plain));
	lw = unhex(rfc7714_srtp, want, sizeof(want));
	memcpy(pkt, plain, lp);
	assert_int_equal(srtp_rtp_protect(tx, pkt, lp, sizeof(pkt), &n), 0);
	assert_int_equal(n, lw);
	assert_memory_equal(pkt, want, lw);

	assert_int_equal(srtp_rtp_unprotect(rx, pkt, n, &n), 0);
	assert_int_equal(n, lp);
	assert_memory_equal(pkt, plain, lp);
	memcpy(pkt, want, lw);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, lw, &n), EALREADY);
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);
}

static void
test_rfc7714_srtcp(void **state)
{
	unsigned char plain[HEX_MAX], want[HEX_MAX], pkt[HEX_MAX];
	struct srtp_ctx *tx = rfc7714_ctx(), *rx = rfc7714_ctx();
	size_t lp, lw, n, i;

	(void)state;
	lp = unhex(rfc7714_rtcp, plain, sizeof(plain));
	lw = unhex(rfc7714_srtcp, want, sizeof(want));
	/* The vector's SRTCP index is 0x5d4; ours start at 1. */
	for (i = 1; i < 0x5d4; i++) {
		memcpy(pkt, plain, lp);
		assert_int_equal(
		    srtp_rtcp_protect(tx, pkt, lp, sizeof(pkt), &n), 0);
		assert_int_equal(n, lp + 20);
		assert_int_equal(pkt[n - 1], i & 0xff);
	}
	memcpy(pkt, plain, lp);
	assert_int_equal(srtp_rtcp_protect(tx, pkt, lp, sizeof(pkt), &n), 0);
	assert_int_equal(n, lw);
	assert_memory_equal(pkt, want, lw);

	assert_int_equal(srtp_rtcp_unprotect(rx, pkt, n, &n), 0);
	assert_int_equal(n, lp);
	assert_memory_equal(pkt, plain, lp);
	memcpy(pkt, want, lw);
	assert_int_equal(srtp_rtcp_unprotect(rx, pkt, lw, &n), EALREADY);

	/* 17.3: E clear, authenticated only, index 0x5d4 again: a fresh
	 * receiver accepts it, the one above has seen that index. */
	lw = unhex(rfc7714_srtcp_noenc, want, sizeof(want));
	memcpy(pkt, want, lw);
	assert_int_equal(srtp_rtcp_unprotect(rx, pkt, lw, &n), EALREADY);
	srtp_ctx_free(rx);
	rx = rfc7714_ctx();
	assert_int_equal(srtp_rtcp_unprotect(rx, pkt, lw, &n), 0);
	assert_int_equal(n, lp);
	assert_memory_equal(pkt, plain, lp);
	memcpy(pkt, want, lw);
	pkt[20] ^= 1; /* associated data, not encrypted */
	assert_int_equal(srtp_rtcp_unprotect(rx, pkt, lw, &n), EALREADY);
	srtp_ctx_free(rx);
	rx = rfc7714_ctx();
	assert_int_equal(srtp_rtcp_unprotect(rx, pkt, lw, &n), EACCES);
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);
}

/* Ours and libsrtp2 with the same random master key: protect gives the
 * same bytes, and each receiver accepts the other's packets. One SSRC
 * starts at SEQ 65500 and rolls over to ROC 1, one crosses 32768. */
static void
test_libsrtp_interop(void **state)
{
	enum srtp_suite suite = *(const enum srtp_suite *)*state;
	static const uint16_t seq0[INTEROP_SSRCS] = {65500, 32700, 7};
	unsigned char key[SRTP_MASTER_MAX], plain[PKT_MAX], a[PKT_MAX],
	    b[PKT_MAX];
	uint32_t ssrc[INTEROP_SSRCS], roc;
	struct srtp_ctx *tx, *rx;
	srtp_t ltx, lrx;
	uint64_t s = 0x9e3779b97f4a7c15u + (uint64_t)suite;
	size_t lp, n, np, i, k;
	int len;

	rnd_fill(&s, key, sizeof(key));
	tx = ctx_new(suite, key);
	rx = ctx_new(suite, key);
	ltx = lib_session(suite, key, false);
	lrx = lib_session(suite, key, true);
	for (k = 0; k < INTEROP_SSRCS; k++)
		ssrc[k] = (uint32_t)rnd_next(&s);

	for (i = 0; i < INTEROP_PACKETS; i++) {
		for (k = 0; k < INTEROP_SSRCS; k++) {
			unsigned cc = rnd_next(&s) % 4 == 0
			                  ? (unsigned)(rnd_next(&s) % 16)
			                  : 0;
			int ext = rnd_next(&s) % 3 == 0
			              ? (int)(rnd_next(&s) % 4)
			              : -1;

			lp = rtp_build(plain, (uint16_t)(seq0[k] + i), ssrc[k],
			    cc, ext, (size_t)(rnd_next(&s) % 400), &s);
			memcpy(a, plain, lp);
			memcpy(b, plain, lp);
			assert_int_equal(
			    srtp_rtp_protect(tx, a, lp, sizeof(a), &np), 0);
			len = (int)lp;
			assert_int_equal(srtp_protect(ltx, b, &len), 0);
			assert_int_equal(np, (size_t)len);
			assert_memory_equal(a, b, np);
			/* each side unprotects the other's output */
			assert_int_equal(srtp_rtp_unprotect(rx, b, np, &n), 0);
			assert_int_equal(n, lp);
			assert_memory_equal(b, plain, lp);
			len = (int)np;
			assert_int_equal(srtp_unprotect(lrx, a, &len), 0);
			assert_int_equal(len, (int)lp);
			assert_memory_equal(a, plain, lp);

			if (rnd_next(&s) % 3 != 0)
				continue;
			lp = rtcp_build(
			    plain, ssrc[k], (size_t)(rnd_next(&s) % 300), &s);
			memcpy(a, plain, lp);
			memcpy(b, plain, lp);
			assert_int_equal(
			    srtp_rtcp_protect(tx, a, lp, sizeof(a), &np), 0);
			len = (int)lp;
			assert_int_equal(srtp_protect_rtcp(ltx, b, &len), 0);
			assert_int_equal(np, (size_t)len);
			assert_memory_equal(a, b, np);
			assert_int_equal(srtp_rtcp_unprotect(rx, b, np, &n), 0);
			assert_int_equal(n, lp);
			assert_memory_equal(b, plain, lp);
			len = (int)np;
			assert_int_equal(srtp_unprotect_rtcp(lrx, a, &len), 0);
			assert_int_equal(len, (int)lp);
			assert_memory_equal(a, plain, lp);
		}
	}
	/* The first SSRC went past 65535: both libsrtp sides are at ROC 1,
	 * and accepted our packets after the wrap. */
	assert_int_equal(srtp_get_stream_roc(ltx, ssrc[0], &roc), 0);
	assert_int_equal(roc, 1);
	assert_int_equal(srtp_get_stream_roc(lrx, ssrc[0], &roc), 0);
	assert_int_equal(roc, 1);
	assert_int_equal(srtp_get_stream_roc(lrx, ssrc[2], &roc), 0);
	assert_int_equal(roc, 0);

	srtp_dealloc(ltx);
	srtp_dealloc(lrx);
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);
}

static size_t
rtp_tag(enum srtp_suite suite)
{
	switch (suite) {
	case SRTP_SUITE_AES_CM_128_HMAC_SHA1_32:
		return 4;
	case SRTP_SUITE_AEAD_AES_128_GCM:
		return 16;
	default:
		return 10;
	}
}

/* A flipped bit anywhere (header, payload, tag) fails with EACCES and
 * changes nothing: the original packet and the next still pass. */
static void
test_tamper(void **state)
{
	unsigned char key[SRTP_MASTER_MAX] = {7}, pkt[PKT_MAX], good[PKT_MAX],
	              bad[PKT_MAX];
	struct srtp_ctx *tx, *rx;
	size_t k, lp, n, ng, pos;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		enum srtp_suite suite = all_suites[k];
		size_t at[] = {1, 3, 11, 12, 100, 0, 0};

		tx = ctx_new(suite, key);
		rx = ctx_new(suite, key);
		lp = rtp_simple(good, 100, 42, 160);
		assert_int_equal(
		    srtp_rtp_protect(tx, good, lp, sizeof(good), &ng), 0);
		at[5] = ng - 1;              /* last tag byte */
		at[6] = ng - rtp_tag(suite); /* first tag byte */
		for (pos = 0; pos < sizeof(at) / sizeof(at[0]); pos++) {
			memcpy(bad, good, ng);
			bad[at[pos]] ^= 0x04;
			n = 12345;
			assert_int_equal(
			    srtp_rtp_unprotect(rx, bad, ng, &n), EACCES);
			assert_int_equal(n, 12345);
		}
		memcpy(pkt, good, ng);
		assert_int_equal(srtp_rtp_unprotect(rx, pkt, ng, &n), 0);
		lp = rtp_simple(good, 101, 42, 160);
		assert_int_equal(
		    srtp_rtp_protect(tx, good, lp, sizeof(good), &ng), 0);
		assert_int_equal(srtp_rtp_unprotect(rx, good, ng, &n), 0);
		assert_int_equal(n, lp);

		/* SRTCP: body, E+index trailer, tag */
		lp = rtcp_build(good, 42, 40, &(uint64_t){5});
		assert_int_equal(
		    srtp_rtcp_protect(tx, good, lp, sizeof(good), &ng), 0);
		{
			size_t rat[] = {0, 9, lp, lp + 3, ng - 1};

			for (pos = 0; pos < sizeof(rat) / sizeof(rat[0]);
			     pos++) {
				memcpy(bad, good, ng);
				bad[rat[pos]] ^= 0x80;
				assert_int_equal(
				    srtp_rtcp_unprotect(rx, bad, ng, &n),
				    rat[pos] == 0 ? EBADMSG : EACCES);
			}
		}
		memcpy(pkt, good, ng);
		assert_int_equal(srtp_rtcp_unprotect(rx, pkt, ng, &n), 0);
		assert_int_equal(n, lp);
		srtp_ctx_free(tx);
		srtp_ctx_free(rx);
	}
}

/* One context may protect its own SSRC and check another's (the GCM
 * context switches between encrypting and decrypting). */
static void
test_both_directions(void **state)
{
	unsigned char key[SRTP_MASTER_MAX] = {2}, p1[PKT_MAX], p2[PKT_MAX],
	              plain[PKT_MAX];
	struct srtp_ctx *c1, *c2;
	size_t k, i, lp, n1, n2, n;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		c1 = ctx_new(all_suites[k], key);
		c2 = ctx_new(all_suites[k], key);
		for (i = 0; i < 5; i++) {
			lp = rtp_simple(plain, (uint16_t)(i + 1), 1, 50);
			memcpy(p1, plain, lp);
			assert_int_equal(
			    srtp_rtp_protect(c1, p1, lp, sizeof(p1), &n1), 0);
			lp = rtp_simple(p2, (uint16_t)(i + 9), 2, 50);
			assert_int_equal(
			    srtp_rtp_protect(c2, p2, lp, sizeof(p2), &n2), 0);
			assert_int_equal(srtp_rtp_unprotect(c1, p2, n2, &n), 0);
			assert_int_equal(srtp_rtp_unprotect(c2, p1, n1, &n), 0);
			assert_memory_equal(p1, plain, lp);
			lp = rtcp_build(plain, 1, 20, &(uint64_t){4});
			memcpy(p1, plain, lp);
			assert_int_equal(
			    srtp_rtcp_protect(c1, p1, lp, sizeof(p1), &n1), 0);
			assert_int_equal(
			    srtp_rtcp_unprotect(c2, p1, n1, &n), 0);
			assert_memory_equal(p1, plain, lp);
		}
		srtp_ctx_free(c1);
		srtp_ctx_free(c2);
	}
}

/* Replays and packets older than the window: EALREADY, and no state
 * change; late packets inside the window pass once. */
static void
test_replay(void **state)
{
	static unsigned char saved[300][PKT_MAX / 8];
	unsigned char key[SRTP_MASTER_MAX] = {1, 2, 3}, pkt[PKT_MAX];
	size_t len[300], k, i, n;
	struct srtp_ctx *tx, *rx;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		tx = ctx_new(all_suites[k], key);
		rx = ctx_new(all_suites[k], key);
		for (i = 0; i < 300; i++) {
			size_t lp =
			    rtp_simple(saved[i], (uint16_t)(1000 + i), 9, 20);

			assert_int_equal(srtp_rtp_protect(tx, saved[i], lp,
			                     sizeof(saved[i]), &len[i]),
			    0);
		}
		/* 299 first, then the rest in order */
		memcpy(pkt, saved[299], len[299]);
		assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[299], &n), 0);
		memcpy(pkt, saved[299], len[299]);
		assert_int_equal(
		    srtp_rtp_unprotect(rx, pkt, len[299], &n), EALREADY);
		for (i = 0; i < 299; i++) {
			int want =
			    299 - i > SRTP_REPLAY_WINDOW - 1 ? EALREADY : 0;

			memcpy(pkt, saved[i], len[i]);
			assert_int_equal(
			    srtp_rtp_unprotect(rx, pkt, len[i], &n), want);
			memcpy(pkt, saved[i], len[i]);
			assert_int_equal(
			    srtp_rtp_unprotect(rx, pkt, len[i], &n), EALREADY);
		}
		/* exactly 127 behind passed above; 128 behind did not */
		srtp_ctx_free(tx);
		srtp_ctx_free(rx);
	}
}

/* Packets delivered in a random order with duplicates, against a model
 * of the window: a packet passes when it was not accepted before and is
 * less than SRTP_REPLAY_WINDOW behind the highest accepted. */
static void
test_replay_model(void **state)
{
	enum { N = 700 };
	static unsigned char saved[N][64];
	static bool accepted[N];
	unsigned char key[SRTP_MASTER_MAX] = {8}, pkt[64];
	size_t len[N], k, i, n, hi, idx, back;
	struct srtp_ctx *tx, *rx;
	uint64_t s = 77, r;
	bool any;
	int want;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		tx = ctx_new(all_suites[k], key);
		rx = ctx_new(all_suites[k], key);
		for (i = 0; i < N; i++) {
			size_t lp = rtp_simple(saved[i], (uint16_t)(65000 + i),
			    5, 4); /* wraps at 536 */

			assert_int_equal(srtp_rtp_protect(tx, saved[i], lp,
			                     sizeof(saved[i]), &len[i]),
			    0);
		}
		memset(accepted, 0, sizeof(accepted));
		any = false;
		hi = 0;
		for (i = 0; i < 4 * N; i++) {
			/* mostly forward by up to 90, sometimes back by up
			 * to 200 */
			r = rnd_next(&s);
			back = hi < 200 ? hi : 200;
			if (r % 4 == 0)
				idx = hi - back + (size_t)(r >> 8) % (back + 1);
			else
				idx = hi + (size_t)(r >> 8) % 91;
			if (idx >= N)
				continue;
			want = 0;
			if (accepted[idx] ||
			    (any && idx < hi && hi - idx >= SRTP_REPLAY_WINDOW))
				want = EALREADY;
			memcpy(pkt, saved[idx], len[idx]);
			assert_int_equal(
			    srtp_rtp_unprotect(rx, pkt, len[idx], &n), want);
			if (want == 0) {
				accepted[idx] = true;
				if (!any || idx > hi)
					hi = idx;
				any = true;
			}
		}
		assert_true(hi > 600);
		srtp_ctx_free(tx);
		srtp_ctx_free(rx);
	}
}

/* Jumps of more than 2^15 while the ROC is 0 (no ROC - 1 then, as in
 * libsrtp) and later ones that move the ROC: the same bytes as libsrtp. */
static void
test_libsrtp_jumps(void **state)
{
	static const uint16_t seqs[] = {10, 60000, 20000, 50000, 16000, 16001,
	    48000, 48001, 65535, 0, 32768 /* exactly 2^15 ahead: same ROC */};
	unsigned char key[SRTP_MASTER_MAX] = {6}, a[PKT_MAX], b[PKT_MAX];
	struct srtp_ctx *tx, *rx;
	srtp_t ltx, lrx;
	size_t k, i, lp, n, np;
	uint32_t roc;
	int len;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		tx = ctx_new(all_suites[k], key);
		rx = ctx_new(all_suites[k], key);
		ltx = lib_session(all_suites[k], key, false);
		lrx = lib_session(all_suites[k], key, true);
		for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
			lp = rtp_simple(a, seqs[i], 0x5eed, 30);
			memcpy(b, a, lp);
			assert_int_equal(
			    srtp_rtp_protect(tx, a, lp, sizeof(a), &np), 0);
			len = (int)lp;
			assert_int_equal(srtp_protect(ltx, b, &len), 0);
			assert_int_equal(np, (size_t)len);
			assert_memory_equal(a, b, np);
			assert_int_equal(srtp_unprotect(lrx, b, &len), 0);
			assert_int_equal(srtp_rtp_unprotect(rx, a, np, &n), 0);
			assert_int_equal(n, lp);
		}
		assert_int_equal(srtp_get_stream_roc(lrx, 0x5eed, &roc), 0);
		assert_int_equal(roc, 3);
		srtp_dealloc(ltx);
		srtp_dealloc(lrx);
		srtp_ctx_free(tx);
		srtp_ctx_free(rx);
	}
}

/* SEQ exactly 2^15 behind the highest (40000 - 32768 = 7232): the same
 * ROC, so too old; one less than that: the next ROC. libsrtp's sender at
 * 40001 makes 7232 with ROC 1. */
static void
test_roc_boundary(void **state)
{
	static const uint16_t seqs[] = {40001, 40000, 7232};
	unsigned char key[SRTP_MASTER_MAX] = {3}, p[3][PKT_MAX], pkt[PKT_MAX];
	int len[3], i;
	struct srtp_ctx *rx;
	size_t k, n;
	srtp_t ltx;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		ltx = lib_session(all_suites[k], key, false);
		rx = ctx_new(all_suites[k], key);
		for (i = 0; i < 3; i++) {
			len[i] = (int)rtp_simple(p[i], seqs[i], 0xb0b, 20);
			assert_int_equal(srtp_protect(ltx, p[i], &len[i]), 0);
		}
		memcpy(pkt, p[1], (size_t)len[1]);
		assert_int_equal(
		    srtp_rtp_unprotect(rx, pkt, (size_t)len[1], &n), 0);
		memcpy(pkt, p[2], (size_t)len[2]);
		assert_int_equal(
		    srtp_rtp_unprotect(rx, pkt, (size_t)len[2], &n), EALREADY);
		memcpy(pkt, p[0], (size_t)len[0]);
		assert_int_equal(
		    srtp_rtp_unprotect(rx, pkt, (size_t)len[0], &n), 0);
		memcpy(pkt, p[2], (size_t)len[2]);
		assert_int_equal(
		    srtp_rtp_unprotect(rx, pkt, (size_t)len[2], &n), 0);
		srtp_dealloc(ltx);
		srtp_ctx_free(rx);
	}
}

/* Reordering across the SEQ wrap: 65534, 65535, 0 (ROC 1), then the late
 * 65533 (ROC 0) and 1 (ROC 1). */
static void
test_rollover_reorder(void **state)
{
	static const uint16_t seqs[] = {65533, 65534, 65535, 0, 1, 2};
	static const int order[] = {1, 2, 3, 0, 5, 4};
	unsigned char key[SRTP_MASTER_MAX] = {9}, saved[6][64], pkt[64];
	struct srtp_ctx *tx, *rx;
	size_t len[6], i, k, n;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		tx = ctx_new(all_suites[k], key);
		rx = ctx_new(all_suites[k], key);
		for (i = 0; i < 6; i++) {
			size_t lp = rtp_simple(saved[i], seqs[i], 77, 8);

			assert_int_equal(srtp_rtp_protect(tx, saved[i], lp,
			                     sizeof(saved[i]), &len[i]),
			    0);
		}
		for (i = 0; i < 6; i++) {
			memcpy(pkt, saved[order[i]], len[order[i]]);
			assert_int_equal(
			    srtp_rtp_unprotect(rx, pkt, len[order[i]], &n), 0);
			assert_int_equal(n, 20);
		}
		/* and a packet from ROC 0 is not valid as ROC 1 */
		memcpy(pkt, saved[0], len[0]);
		assert_int_equal(
		    srtp_rtp_unprotect(rx, pkt, len[0], &n), EALREADY);
		srtp_ctx_free(tx);
		srtp_ctx_free(rx);
	}
}

/* Malformed input: EBADMSG; no room: EMSGSIZE. */
static void
test_malformed(void **state)
{
	unsigned char key[SRTP_MASTER_MAX] = {0}, pkt[PKT_MAX];
	struct srtp_ctx *c;
	size_t k, lp, n, tag;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		c = ctx_new(all_suites[k], key);
		tag = rtp_tag(all_suites[k]);
		memset(pkt, 0, sizeof(pkt));

		lp = rtp_simple(pkt, 1, 1, 0);
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, 11, PKT_MAX, &n), EBADMSG);
		pkt[0] = 0x40; /* version 1 */
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, lp, PKT_MAX, &n), EBADMSG);
		pkt[0] = 0x83; /* 3 CSRCs, 12 bytes missing */
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, 12 + 8, PKT_MAX, &n), EBADMSG);
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, 12 + 12, PKT_MAX, &n), 0);
		assert_int_equal(
		    srtp_rtp_unprotect(c, pkt, 12 + 8 + tag, &n), EBADMSG);

		lp = rtp_simple(pkt, 2, 1, 40);
		pkt[0] = 0x90;      /* extension header ... */
		put16(pkt + 14, 9); /* ... of 9 words: 40 bytes are not 40 */
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, 12 + 2, PKT_MAX, &n), EBADMSG);
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, 12 + 4 + 35, PKT_MAX, &n),
		    EBADMSG);
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, 12 + 4 + 36, PKT_MAX, &n),
		    0); /* an empty payload is fine */
		assert_int_equal(n, 12 + 4 + 36 + tag);
		assert_int_equal(
		    srtp_rtp_unprotect(c, pkt, 12 + 4 + 35 + tag, &n), EBADMSG);

		/* too short for the tag */
		lp = rtp_simple(pkt, 3, 1, 0);
		assert_int_equal(
		    srtp_rtp_unprotect(c, pkt, 12 + tag - 1, &n), EBADMSG);
		assert_int_equal(srtp_rtp_unprotect(c, pkt, 5, &n), EBADMSG);
		assert_int_equal(srtp_rtp_unprotect(c, pkt, 0, &n), EBADMSG);

		/* room */
		lp = rtp_simple(pkt, 4, 1, 100);
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, lp, lp + tag - 1, &n), EMSGSIZE);
		assert_int_equal(
		    srtp_rtp_protect(c, pkt, lp, lp - 1, &n), EMSGSIZE);
		assert_int_equal(srtp_rtp_protect(c, pkt, lp, lp + tag, &n), 0);

		/* SRTCP */
		lp = rtcp_build(pkt, 5, 0, &(uint64_t){3});
		assert_int_equal(
		    srtp_rtcp_protect(c, pkt, 7, PKT_MAX, &n), EBADMSG);
		pkt[0] = 0x01;
		assert_int_equal(
		    srtp_rtcp_protect(c, pkt, lp, PKT_MAX, &n), EBADMSG);
		pkt[0] = 0x81;
		assert_int_equal(
		    srtp_rtcp_protect(c, pkt, lp, lp + 4 + tag - 1, &n),
		    EMSGSIZE);
		if (all_suites[k] == SRTP_SUITE_AES_CM_128_HMAC_SHA1_32)
			assert_int_equal(
			    srtp_rtcp_protect(c, pkt, lp, lp + 4 + tag, &n),
			    EMSGSIZE); /* SRTCP keeps 80 bits */
		assert_int_equal(srtp_rtcp_protect(c, pkt, lp, PKT_MAX, &n), 0);
		assert_int_equal(
		    srtp_rtcp_unprotect(c, pkt, n - 1, &n) != 0, 1);
		assert_int_equal(
		    srtp_rtcp_unprotect(c, pkt, 8 + 4 + 3, &n), EBADMSG);
		srtp_ctx_free(c);
	}
}

/* Five SSRCs through four slots: the least recently used one is
 * replaced, which forgets its replay window. */
static void
test_ssrc_lru(void **state)
{
	static const uint32_t ssrcs[] = {0xa, 0xb, 0xc, 0xd, 0xe};
	static const struct {
		uint32_t ssrc;
		unsigned count, first;
	} floor_seq[] = {{0xa, 10, 1}, {0xb, 1, 1}, {0xc, 1, 1}, {0xd, 1, 1},
	    {0xe, 2, 11}, {0xf, 1, 11}, {0xa, 1, 11}};
	unsigned char key[SRTP_MASTER_MAX] = {4}, saved[5][2][64], pkt[64];
	struct srtp_ctx *tx, *rx;
	size_t len[5][2], i, j, n;

	(void)state;
	tx = ctx_new(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, key);
	rx = ctx_new(SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, key);
	for (i = 0; i < 5; i++)
		for (j = 0; j < 2; j++) {
			size_t lp = rtp_simple(
			    saved[i][j], (uint16_t)(500 + j), ssrcs[i], 4);

			assert_int_equal(srtp_rtp_protect(tx, saved[i][j], lp,
			                     64, &len[i][j]),
			    0);
		}
	/* A, B, C, D, then A again: B is now the least recently used */
	for (i = 0; i < 4; i++) {
		memcpy(pkt, saved[i][0], len[i][0]);
		assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[i][0], &n), 0);
	}
	memcpy(pkt, saved[0][1], len[0][1]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[0][1], &n), 0);
	/* a failing packet of a new SSRC replaces nothing */
	memcpy(pkt, saved[4][0], len[4][0]);
	pkt[len[4][0] - 1] ^= 1;
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[4][0], &n), EACCES);
	memcpy(pkt, saved[1][0], len[1][0]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[1][0], &n), EALREADY);
	/* E replaces B */
	memcpy(pkt, saved[4][0], len[4][0]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[4][0], &n), 0);
	memcpy(pkt, saved[1][0], len[1][0]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[1][0], &n), 0);
	/* that replaced C (least recent now); A, D, E kept their windows */
	memcpy(pkt, saved[0][1], len[0][1]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[0][1], &n), EALREADY);
	memcpy(pkt, saved[3][0], len[3][0]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[3][0], &n), EALREADY);
	memcpy(pkt, saved[4][0], len[4][0]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[4][0], &n), EALREADY);
	memcpy(pkt, saved[2][0], len[2][0]);
	assert_int_equal(srtp_rtp_unprotect(rx, pkt, len[2][0], &n), 0);
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);

	/* A sender that replaced a stream starts new SRTCP streams above
	 * the indices any replaced one used: A sends 10, B, C, D one each;
	 * E replaces A and starts at 11, F replaces B and starts at 11 too,
	 * A comes back (replacing C) at 11. */
	tx = ctx_new(SRTP_SUITE_AEAD_AES_128_GCM, key);
	for (i = 0; i < sizeof(floor_seq) / sizeof(floor_seq[0]); i++)
		for (j = 0; j < floor_seq[i].count; j++) {
			size_t lp = rtcp_build(
			    pkt, floor_seq[i].ssrc, 8, &(uint64_t){1});

			assert_int_equal(
			    srtp_rtcp_protect(tx, pkt, lp, 64, &n), 0);
			assert_int_equal(pkt[n - 1], floor_seq[i].first + j);
		}
	srtp_ctx_free(tx);
}

/* After the context is made, protect and unprotect allocate nothing. */
static void
test_no_alloc(void **state)
{
	unsigned char key[SRTP_MASTER_MAX] = {5}, pkt[PKT_MAX];
	struct srtp_ctx *tx, *rx;
	unsigned long before;
	size_t k, i, lp, n;

	(void)state;
	for (k = 0; k < NSUITES; k++) {
		tx = ctx_new(all_suites[k], key);
		rx = ctx_new(all_suites[k], key);
		before = ossl_allocs;
		for (i = 0; i < 1000; i++) {
			lp = rtp_simple(pkt, (uint16_t)i, 3, 160);
			assert_int_equal(
			    srtp_rtp_protect(tx, pkt, lp, sizeof(pkt), &n), 0);
			assert_int_equal(srtp_rtp_unprotect(rx, pkt, n, &n), 0);
			lp = rtcp_build(pkt, 3, 40, &(uint64_t){2});
			assert_int_equal(
			    srtp_rtcp_protect(tx, pkt, lp, sizeof(pkt), &n), 0);
			assert_int_equal(
			    srtp_rtcp_unprotect(rx, pkt, n, &n), 0);
			/* and the failure paths */
			lp = rtp_simple(pkt, (uint16_t)(i + 5000), 3, 160);
			assert_int_equal(
			    srtp_rtp_protect(tx, pkt, lp, sizeof(pkt), &n), 0);
			pkt[20] ^= 1;
			assert_int_equal(
			    srtp_rtp_unprotect(rx, pkt, n, &n), EACCES);
			lp = rtcp_build(pkt, 3, 40, &(uint64_t){2});
			assert_int_equal(
			    srtp_rtcp_protect(tx, pkt, lp, sizeof(pkt), &n), 0);
			pkt[20] ^= 1;
			assert_int_equal(
			    srtp_rtcp_unprotect(rx, pkt, n, &n), EACCES);
		}
		assert_int_equal(ossl_allocs, before);
		srtp_ctx_free(tx);
		srtp_ctx_free(rx);
	}
	assert_true(ossl_allocs > 0); /* the counter does count */
}

int
main(void)
{
	static const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keylen_and_args),
	    cmocka_unit_test(test_rfc3711_b2_keystream),
	    cmocka_unit_test(test_rfc3711_b3_kdf),
	    cmocka_unit_test(test_rfc7714_srtp),
	    cmocka_unit_test(test_rfc7714_srtcp),
	    cmocka_unit_test_prestate(
	        test_libsrtp_interop, (void *)&all_suites[0]),
	    cmocka_unit_test_prestate(
	        test_libsrtp_interop, (void *)&all_suites[1]),
	    cmocka_unit_test_prestate(
	        test_libsrtp_interop, (void *)&all_suites[2]),
	    cmocka_unit_test_prestate(
	        test_libsrtp_interop, (void *)&all_suites[3]),
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_both_directions),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_replay_model),
	    cmocka_unit_test(test_libsrtp_jumps),
	    cmocka_unit_test(test_roc_boundary),
	    cmocka_unit_test(test_rollover_reorder),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_ssrc_lru),
	    cmocka_unit_test(test_no_alloc),
	};

	/* Before OpenSSL allocates anything. */
	if (CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free) !=
	    1)
		return 1;
	if (srtp_init() != srtp_err_status_ok)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
