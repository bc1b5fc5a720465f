/* fuzz_sip_digest.c: libFuzzer target for digest authentication
 * (src/sip/digest.c). Parses the input as a credentials header value and
 * checks the result's invariants; when it parses, verifies it against a
 * fixed HA1 (the user 1001 of the corpus) and as an unknown user. Also
 * feeds the input, and any parsed nonce, to sip_nonce_check(); makes and
 * checks a nonce from the input's bytes; and uses the input as a realm for
 * a challenge whose quoted realm must parse back to the same bytes. Aborts when
 * an invariant breaks. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/digest.h"

/* H("1001:acme.example.com:Tr0ub4dor&3-horse") for MD5 and SHA-256: the
 * corpus headers carry responses computed from these. */
static const char ha1_md5[] = "2ac51bde4c1679d848a84975c05281aa";
static const char ha1_sha256[] =
    "291c615f26f322961f739306c91ca6cda14791d5de8c1d7889529e3d33386e3e";
static const char realm[] = "acme.example.com";
static const char body[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";
/* The corpus nonces were made with this secret at 1767225600. */
static const unsigned char secret[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    31};
enum { NOW = 1767225610, MAX_AGE = 300 };

static char buf[SIP_DIGEST_BUF_SIZE];

static void
check(bool ok)
{
	if (!ok)
		abort();
}

/* A view is either absent or inside the input or inside buf, and holds
 * no NUL, CR or LF. */
static void
view_check(struct sv v, const char *in, size_t len)
{
	if (v.p == NULL) {
		check(v.len == 0);
		return;
	}
	check((v.p >= in && v.len <= len &&
	          v.p - in <= (ptrdiff_t)(len - v.len)) ||
	      (v.p >= buf && v.len <= sizeof(buf) &&
	          v.p - buf <= (ptrdiff_t)(sizeof(buf) - v.len)));
	check(v.len <= SIP_DIGEST_VALUE_MAX);
	check(v.len == 0 || (memchr(v.p, '\0', v.len) == NULL &&
	                        memchr(v.p, '\r', v.len) == NULL &&
	                        memchr(v.p, '\n', v.len) == NULL));
}

static void
nonce_try(struct sv n)
{
	int64_t issued = -1;
	enum sip_nonce_result r;

	r = sip_nonce_check(secret, sizeof(secret),
	    (struct sv){realm, sizeof(realm) - 1}, n, NOW, MAX_AGE, &issued);
	check(r == SIP_NONCE_OK || r == SIP_NONCE_STALE || r == SIP_NONCE_BAD);
	if (r == SIP_NONCE_BAD)
		check(issued == -1);
	else
		check(n.len == SIP_NONCE_LEN && issued >= 0 &&
		      issued <= NOW + SIP_NONCE_FUTURE_MAX);
	if (r == SIP_NONCE_STALE)
		check(NOW - issued > MAX_AGE);
}

static void
cred_check(const struct sip_digest_cred *c, const char *in, size_t len)
{
	const char *ha1;
	bool ok = true;
	int err;

	view_check(c->username, in, len);
	view_check(c->realm, in, len);
	view_check(c->nonce, in, len);
	view_check(c->uri, in, len);
	view_check(c->response, in, len);
	view_check(c->cnonce, in, len);
	view_check(c->opaque, in, len);
	view_check(c->qop_text, in, len);
	view_check(c->nc_text, in, len);
	check(c->username.len > 0 && c->realm.len > 0 && c->nonce.len > 0 &&
	      c->uri.len > 0);
	check(c->alg <= SIP_DIGEST_SHA256_SESS);
	check(c->qop <= SIP_DIGEST_QOP_AUTH_INT);
	ha1 = c->alg >= SIP_DIGEST_SHA256 ? ha1_sha256 : ha1_md5;
	check(c->response.len == strlen(ha1));
	if (c->qop != SIP_DIGEST_QOP_NONE)
		check(c->cnonce.len > 0 && c->nc_text.len == 8);
	if (c->alg == SIP_DIGEST_MD5_SESS || c->alg == SIP_DIGEST_SHA256_SESS)
		check(c->cnonce.len > 0);

	err = sip_digest_verify(c, ha1, (struct sv){"REGISTER", 8},
	    (struct sv){body, sizeof(body) - 1}, &ok);
	check(err == 0);
	ok = true;
	err = sip_digest_verify_unknown(
	    c, ha1, (struct sv){"REGISTER", 8}, (struct sv){NULL, 0}, &ok);
	check(err == 0 && !ok);
	/* The wrong length of HA1 for the algorithm is a caller error. */
	err = sip_digest_verify(c, ha1 == ha1_md5 ? ha1_sha256 : ha1_md5,
	    (struct sv){"REGISTER", 8}, (struct sv){NULL, 0}, &ok);
	check(err == EINVAL);
	nonce_try(c->nonce);
}

/* Uses the input as a realm in a challenge; when it is accepted, the
 * quoted realm must parse back, as a credentials realm, to the input. */
static void
challenge_roundtrip(const char *in, size_t len)
{
	static char out[SIP_CHALLENGE_MAX], hdr[SIP_CHALLENGE_MAX + 256];
	struct sip_digest_cred c;
	const char *q, *e, *suffix;
	int err, n;

	err = sip_digest_challenge(out, sizeof(out), (struct sv){in, len},
	    (struct sv){"n", 1}, SIP_DIGEST_MD5, len & 1, NULL);
	if (len > SIP_DIGEST_VALUE_MAX)
		return; /* may or may not fit; nothing to compare */
	if (err != 0) {
		check(err == EINVAL && out[0] == '\0');
		return;
	}
	check(strlen(out) < sizeof(out));
	check(strchr(out, '\r') == NULL && strchr(out, '\n') == NULL);
	suffix = (len & 1) ? "\", nonce=\"n\", algorithm=MD5, qop=\"auth\", "
	                     "stale=true"
	                   : "\", nonce=\"n\", algorithm=MD5, qop=\"auth\"";
	check(strncmp(out, "Digest realm=\"", 14) == 0);
	check(strlen(out) >= 14 + strlen(suffix));
	q = out + strlen("Digest realm=");
	e = out + strlen(out) - strlen(suffix);
	check(strcmp(e, suffix) == 0);
	n = snprintf(hdr, sizeof(hdr),
	    "Digest username=\"1001\", realm=%.*s\", nonce=\"n\", uri=\"u\", "
	    "response=\"00000000000000000000000000000000\"",
	    (int)(e - q), q);
	check(n > 0 && (size_t)n < sizeof(hdr));
	err = sip_digest_parse(hdr, (size_t)n, buf, sizeof(buf), &c);
	if (e - q - 1 > SIP_DIGEST_VALUE_MAX) {
		check(err == EMSGSIZE); /* the escapes made it too long */
		return;
	}
	check(err == 0);
	check(c.realm.len == len &&
	      (len == 0 || memcmp(c.realm.p, in, len) == 0));
}

/* Makes a nonce from the input (random bytes, time, realm) and checks it
 * at its time, at the limits of its age, and for another realm. */
static void
nonce_roundtrip(const uint8_t *data, size_t size)
{
	char n[SIP_NONCE_SIZE];
	struct sv r, nv;
	int64_t t, issued = -1;
	uint64_t u = 0;
	size_t i;
	int err;

	if (size < 16)
		return;
	for (i = 8; i < 16; i++)
		u = u << 8 | data[i];
	t = (int64_t)(u >> 2); /* >= 0, room for the age below */
	r.p = (const char *)data + 16;
	r.len = size - 16;
	err = sip_nonce_make(secret, sizeof(secret), r, t, data, n, sizeof(n));
	if (r.len > SIP_NONCE_REALM_MAX) {
		check(err == EINVAL);
		return;
	}
	check(err == 0 && strlen(n) == SIP_NONCE_LEN);
	nv.p = n;
	nv.len = SIP_NONCE_LEN;
	check(sip_nonce_check(secret, sizeof(secret), r, nv, t, MAX_AGE,
	          &issued) == SIP_NONCE_OK &&
	      issued == t);
	check(sip_nonce_check(secret, sizeof(secret), r, nv, t + MAX_AGE,
	          MAX_AGE, NULL) == SIP_NONCE_OK);
	check(sip_nonce_check(secret, sizeof(secret), r, nv, t + MAX_AGE + 1,
	          MAX_AGE, NULL) == SIP_NONCE_STALE);
	check(
	    sip_nonce_check(secret, sizeof(secret), r, nv,
	        t - SIP_NONCE_FUTURE_MAX - 1, MAX_AGE, NULL) == SIP_NONCE_BAD);
	if (r.len > 0) {
		r.len--;
		check(sip_nonce_check(secret, sizeof(secret), r, nv, t, MAX_AGE,
		          NULL) == SIP_NONCE_BAD);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct sip_digest_cred c, c2;
	int err, err2;

	err = sip_digest_parse(in, size, buf, sizeof(buf), &c);
	check(err == 0 || err == EBADMSG || err == EMSGSIZE || err == ENOTSUP ||
	      err == EPROTONOSUPPORT);
	if (err == 0)
		cred_check(&c, in, size);
	/* Without a buffer: the same, or EMSGSIZE at the first escape. */
	err2 = sip_digest_parse(in, size, NULL, 0, &c2);
	check(err2 == err || err2 == EMSGSIZE);
	nonce_try((struct sv){in, size});
	challenge_roundtrip(in, size);
	nonce_roundtrip(data, size);
	return 0;
}
