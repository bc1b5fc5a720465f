/* srtp.h: SRTP and SRTCP (RFC 3711) with AES-CM + HMAC-SHA1 and
 * AES-256-CM (RFC 6188), and AEAD AES-GCM (RFC 7714), on OpenSSL's EVP.
 * Our own transforms: Debian's libsrtp2 is built on NSS and costs several
 * microseconds per packet under load (see the media issue); the tests
 * prove these byte for byte against libsrtp2 and the RFC test vectors.
 *
 * A context is one direction of one leg: the key a sender protects with,
 * or the key a receiver checks with. It follows up to SRTP_SSRC_MAX
 * synchronisation sources (each with its rollover counter and, for a
 * receiver, its replay window); a new SSRC beyond that replaces the one
 * least recently seen. Packets are transformed in place; nothing is
 * allocated per packet. A context is used by one thread at a time. */
#ifndef SW_SRTP_H
#define SW_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The same numbering as enum sdp_suite (sdp/sdp.h). */
enum srtp_suite {
	SRTP_SUITE_AES_CM_128_HMAC_SHA1_80,
	SRTP_SUITE_AES_CM_128_HMAC_SHA1_32,
	SRTP_SUITE_AES_256_CM_HMAC_SHA1_80,
	SRTP_SUITE_AEAD_AES_128_GCM
};

enum {
	SRTP_MASTER_MAX = 46, /* master key + salt bytes, largest suite */
	SRTP_SSRC_MAX = 4,    /* sources followed per context */
	SRTP_REPLAY_WINDOW = 128,
	/* Bytes a protect call may add: RTP: tag (10, 4 or 16);
	 * RTCP: E+index (4) + tag. */
	SRTP_RTP_OVERHEAD_MAX = 16,
	SRTP_RTCP_OVERHEAD_MAX = 20,
};

struct srtp_ctx; /* opaque; srtp_ctx_new / srtp_ctx_free */

/* Master key || master salt bytes for suite: 30, 30, 46, 28; 0 when
 * unknown. */
size_t srtp_suite_keylen(enum srtp_suite suite);

/* A context for suite with master key||salt (srtp_suite_keylen bytes),
 * key derivation rate 0. Returns 0, EINVAL (unknown suite, wrong key
 * length), ENOMEM, EIO (OpenSSL failed). The session keys are derived
 * here (the master key is not kept) and wiped on free. */
int srtp_ctx_new(enum srtp_suite suite, const unsigned char *key, size_t keylen,
    struct srtp_ctx **out);
void srtp_ctx_free(struct srtp_ctx *c); /* wipes keys; accepts NULL */

/* For tests only (RFC 3711 B.2 and RFC 7714 section 16 give session keys,
 * not master keys): a context whose session keys are given, the same for
 * SRTP and SRTCP, with no key derivation: cipher key || session salt ||
 * authentication key (20 bytes, HMAC suites only), so 50, 50, 66 or 28
 * bytes. Returns as srtp_ctx_new. */
int srtp_ctx_new_session_keys(enum srtp_suite suite, const unsigned char *keys,
    size_t keylen, struct srtp_ctx **out);

/* Protects the RTP packet in pkt[0, len) in place; the buffer holds size
 * bytes (at least len + SRTP_RTP_OVERHEAD_MAX). Sets *outlen. Returns 0,
 * EBADMSG (not an RTP packet: version, length, CSRC/extension overrun),
 * EMSGSIZE (no room), EOVERFLOW (the SSRC's 2^48 indices, or 2^31 SRTCP
 * indices, are used up: rekey), EIO (OpenSSL failed). Protecting the same
 * index twice is not refused (libsrtp's allow_repeat_tx): forward only
 * what a receive side accepted. */
int srtp_rtp_protect(struct srtp_ctx *c, unsigned char *pkt, size_t len,
    size_t size, size_t *outlen);
/* Checks and decrypts the SRTP packet in pkt[0, len) in place; sets
 * *outlen (the RTP length). Returns 0, EBADMSG (malformed or too short),
 * EACCES (authentication failed), EALREADY (replayed or older than the
 * window). A packet that fails changes no state (with AES-GCM its bytes
 * may have been decrypted in place: drop it). */
int srtp_rtp_unprotect(
    struct srtp_ctx *c, unsigned char *pkt, size_t len, size_t *outlen);

/* The same for RTCP: SRTCP with the E flag set (encrypted) and the
 * context's own SRTCP index counter per SSRC (the first is 1, as in
 * libsrtp). Unprotect also accepts packets with the E flag clear
 * (authenticated only). */
int srtp_rtcp_protect(struct srtp_ctx *c, unsigned char *pkt, size_t len,
    size_t size, size_t *outlen);
int srtp_rtcp_unprotect(
    struct srtp_ctx *c, unsigned char *pkt, size_t len, size_t *outlen);

#endif
