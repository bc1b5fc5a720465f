/* digest.h: HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617,
 * RFC 7616, RFC 8760) as pure functions: the credentials parser, the
 * response check, stateless nonces and the challenge text. No I/O, no
 * logging, no globals; time, randomness and secrets are parameters.
 *
 * What the caller still does after sip_digest_parse() (none of it is here):
 * - compare c->realm with its own realm and c->uri with the Request-URI;
 * - check c->nonce with sip_nonce_check() against its own realm;
 * - reject a repeated (nonce, nc) pair: the registrar keeps that state;
 * - look the user up by c->username (by H(user:realm) when c->userhash)
 *   and call sip_digest_verify(), or sip_digest_verify_unknown() with a
 *   dummy HA1 of the same algorithm when there is no such user.
 *
 * Crypto is OpenSSL EVP. This code allocates nothing itself, but OpenSSL
 * allocates a digest context inside each call; when that fails the call
 * returns ENOMEM (or SIP_NONCE_BAD). */
#ifndef SW_SIP_DIGEST_H
#define SW_SIP_DIGEST_H

#include "lib/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SIP_DIGEST_VALUE_MAX = 256, /* bytes of one parameter value or name */
	SIP_DIGEST_PARAMS_MAX = 32, /* auth-params in one header value */
	/* Unescaped copies of the 7 string fields always fit in this. */
	SIP_DIGEST_BUF_SIZE = 7 * SIP_DIGEST_VALUE_MAX,
	SIP_DIGEST_MD5_HEX = 32,    /* hex digits of an MD5 HA1 or response */
	SIP_DIGEST_SHA256_HEX = 64, /* hex digits of a SHA-256 one */
	/* base64url, no padding, of time(8) || random(8) || MAC(16) */
	SIP_NONCE_LEN = 43,
	SIP_NONCE_SIZE = SIP_NONCE_LEN + 1, /* with the NUL */
	SIP_NONCE_FUTURE_MAX = 60,          /* seconds of clock skew allowed */
	SIP_CHALLENGE_MAX = 2048, /* a buffer that holds any challenge */
	SIP_NONCE_REALM_MAX = SIP_DIGEST_VALUE_MAX, /* realm bytes in a nonce */
};

/* Values chosen so that a zeroed struct means MD5 without qop. */
enum sip_digest_alg {
	SIP_DIGEST_MD5 = 0,
	SIP_DIGEST_MD5_SESS,
	SIP_DIGEST_SHA256,
	SIP_DIGEST_SHA256_SESS,
};

enum sip_digest_qop {
	SIP_DIGEST_QOP_NONE = 0,
	SIP_DIGEST_QOP_AUTH,
	SIP_DIGEST_QOP_AUTH_INT,
};

/* Parsed Authorization / Proxy-Authorization credentials. Each view points
 * into the parsed input, or into the caller's buf when the quoted value had
 * backslash escapes (then it holds the unescaped bytes); both must outlive
 * the struct. Absent optional fields are {NULL, 0}. Values may hold any
 * byte but NUL, CR, LF and other controls (HTAB excepted); UTF-8 is not
 * checked. */
struct sip_digest_cred {
	struct sv username; /* the user, or H(user:realm) hex when userhash */
	struct sv realm;
	struct sv nonce;
	struct sv uri; /* digest-uri, as the client hashed it */
	struct sv response;
	struct sv cnonce;   /* required with qop and with a -sess algorithm */
	struct sv opaque;   /* absent unless sent */
	struct sv qop_text; /* qop as sent ("auth"), hashed as it is */
	struct sv nc_text;  /* nc as sent ("0000000a"), hashed as it is */
	enum sip_digest_alg alg; /* MD5 when absent */
	enum sip_digest_qop qop;
	uint32_t nc; /* 0 when absent */
	bool userhash;
};

/* Parses a credentials header value [p, p+len): "Digest" (any case), LWS,
 * then name=value auth-params separated by commas; a value is a token or a
 * quoted-string; LWS, folded lines included, may surround '=' and ','.
 * Unknown parameters are checked for syntax and ignored. buf (size bytes;
 * SIP_DIGEST_BUF_SIZE is always enough, NULL with 0 is fine when no value
 * has an escape) receives unescaped values. Returns 0 and fills *c, or:
 *   EPROTONOSUPPORT  a scheme other than Digest (Basic, ...): re-challenge;
 *   ENOTSUP          an algorithm other than the four: re-challenge;
 *   EMSGSIZE         a value or name over SIP_DIGEST_VALUE_MAX, more than
 *                    SIP_DIGEST_PARAMS_MAX params, or buf too small;
 *   EBADMSG          anything else: bad syntax, a duplicated parameter, a
 *                    missing username/realm/nonce/uri/response, an unknown
 *                    qop, qop or -sess without cnonce, qop without nc, nc
 *                    not 8 hex digits, userhash not true/false, response
 *                    not hex of the algorithm's length.
 * Syntax, size and duplicate errors come first, in input order; then the
 * algorithm; then the other field checks. */
int sip_digest_parse(const char *p, size_t len, char *buf, size_t size,
    struct sip_digest_cred *c);

/* Computes the response of c for method (the request's method) and body
 * (the message body; used only with qop=auth-int) from ha1_hex, the stored
 * lower-case hex H(user:realm:password) of c->alg's hash (32 digits for
 * MD5, 64 for SHA-256), and compares it with c->response in constant time.
 * The work done depends only on the lengths of the inputs, never on the
 * values of ha1_hex or c->response. Returns 0 and sets *ok, or EINVAL (c
 * not from sip_digest_parse, ha1_hex of the wrong length, empty method) or
 * ENOMEM/EIO from OpenSSL. */
int sip_digest_verify(const struct sip_digest_cred *c, const char *ha1_hex,
    struct sv method, struct sv body, bool *ok);

/* The same work as sip_digest_verify(), for a user that does not exist:
 * the caller passes a dummy HA1 of c->alg's length, and *ok is always
 * false. Unknown and known users cost the same. Returns as
 * sip_digest_verify(). */
int sip_digest_verify_unknown(const struct sip_digest_cred *c,
    const char *dummy_ha1_hex, struct sv method, struct sv body, bool *ok);

/* Stateless nonces, verifiable by every node that holds the secret:
 * base64url (no padding) of [issue time, 8 bytes big-endian seconds]
 * [rand8] [the first 16 bytes of HMAC-SHA256(secret, "sw-nonce-v1" ||
 * realm || time || rand8)]. */

/* Writes the nonce for realm (the tenant's configured realm, at most
 * SIP_NONCE_REALM_MAX bytes) issued at now_s (>= 0) into out, NUL
 * terminated: SIP_NONCE_LEN characters. rand8: fresh CSPRNG bytes. Returns
 * 0, EINVAL on a bad argument, EMSGSIZE when size < SIP_NONCE_SIZE, EIO
 * when HMAC fails. */
int sip_nonce_make(const unsigned char *secret, size_t secret_len,
    struct sv realm, int64_t now_s, const unsigned char rand8[8], char *out,
    size_t size);

enum sip_nonce_result {
	SIP_NONCE_OK = 0,
	SIP_NONCE_STALE, /* authentic, older than max_age: answer stale=true */
	SIP_NONCE_BAD, /* forged, malformed, other realm, or from the future */
};

/* Checks a nonce received for realm (the caller's configured realm, not
 * the client's) at now_s: canonical base64url of the right length, MAC
 * (constant-time compare), issued no more than SIP_NONCE_FUTURE_MAX
 * seconds in the future, and no more than max_age_s seconds old. Sets
 * *issued_s (may be NULL) on OK and STALE. Bad arguments give BAD. */
enum sip_nonce_result sip_nonce_check(const unsigned char *secret,
    size_t secret_len, struct sv realm, struct sv nonce, int64_t now_s,
    int64_t max_age_s, int64_t *issued_s);

/* Writes one challenge value (a WWW-Authenticate or Proxy-Authenticate
 * header value), NUL terminated, into buf:
 *   Digest realm="R", nonce="N"[, opaque="O"], algorithm=A, qop="auth"
 *   [, stale=true]
 * realm, nonce and opaque (NULL for none) are quoted and escaped; they may
 * not hold NUL, CR, LF or other controls but HTAB. The caller emits one
 * challenge per algorithm, in the tenant's order of preference (RFC 8760
 * §2.4). Returns 0, EINVAL (bad character, empty realm or nonce, bad alg)
 * or EMSGSIZE (buf too small; SIP_CHALLENGE_MAX holds any challenge with
 * values of at most SIP_DIGEST_VALUE_MAX bytes). */
int sip_digest_challenge(char *buf, size_t size, struct sv realm,
    struct sv nonce, enum sip_digest_alg alg, bool stale,
    const struct sv *opaque);

#endif
