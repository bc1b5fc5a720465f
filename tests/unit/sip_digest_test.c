/* sip_digest_test.c: unit tests of digest authentication (src/sip/digest.c):
 * the credentials parser, response verification against the RFC examples
 * and SIP examples, stateless nonces, and challenge text.
 *
 * The SIP vectors were computed independently with Python's hashlib:
 *
 *   def H(alg, s): return hashlib.new(alg, s.encode()).hexdigest()
 *   def resp(alg, user, realm, pw, method, uri, nonce, nc=None,
 *            cnonce=None, qop=None, sess=False, body=b""):
 *       ha1 = H(alg, f"{user}:{realm}:{pw}")
 *       if sess: ha1 = H(alg, f"{ha1}:{nonce}:{cnonce}")
 *       if qop == "auth-int":
 *           ha2 = H(alg, f"{method}:{uri}:"
 *                   f"{hashlib.new(alg, body).hexdigest()}")
 *       else:
 *           ha2 = H(alg, f"{method}:{uri}")
 *       if qop: return H(alg, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
 *       return H(alg, f"{ha1}:{nonce}:{ha2}")
 *
 * with user "1001", realm "acme.example.com", password "Tr0ub4dor&3-horse",
 * method REGISTER, uri "sip:acme.example.com", nonce SIP_NONCE below,
 * cnonce "5f1b3c9a", nc "00000001"; auth-int uses method INVITE, uri
 * "sip:1002@acme.example.com", nc "0000000a" and SIP_BODY. The nonce
 * vector is
 *
 *   tb = struct.pack(">Q", 1767225600); r = bytes(range(1, 9))
 *   mac = hmac.new(bytes(range(32)), b"sw-nonce-v1" + b"acme.example.com"
 *                  + tb + r, hashlib.sha256).digest()[:16]
 *   base64.urlsafe_b64encode(tb + r + mac).rstrip(b"=")
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sip/digest.h"

#define SV(s)   ((struct sv){(s), strlen(s)})
#define SV_NONE ((struct sv){NULL, 0})

/* RFC 2617 §3.5: Mufasa / "Circle Of Life". */
#define RFC2617_HA1 "939e7578ed9e3c518a452acee763bce9"
/* RFC 7616 §3.9.1: Mufasa / "Circle of Life", realm http-auth@example.org.
 */
#define RFC7616_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC7616_CNONCE "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
#define RFC7616_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC7616_HA1_SHA256                                                     \
	"7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"

/* The SIP example (see the top comment). */
#define SIP_HA1_MD5 "2ac51bde4c1679d848a84975c05281aa"
#define SIP_HA1_SHA256                                                         \
	"291c615f26f322961f739306c91ca6cda14791d5de8c1d7889529e3d33386e3e"
#define SIP_NONCE "AAAAAGkmnzoBAgMEBQYHCKqqqqqqqqqqqqqqqqqqqqo"
#define SIP_BODY  "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
#define SIP_HDR_HEAD                                                           \
	"Digest username=\"1001\", realm=\"acme.example.com\", "               \
	"nonce=\"" SIP_NONCE "\", "

/* The nonce vector. */
#define NONCE_T      INT64_C(1767225600)
#define NONCE_REALM  "acme.example.com"
#define NONCE_VECTOR "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9XY"

static char buf[SIP_DIGEST_BUF_SIZE];

static int
parse(const char *s, struct sip_digest_cred *c)
{
	return sip_digest_parse(s, strlen(s), buf, sizeof(buf), c);
}

/* Parses s, which must succeed, and verifies it with ha1. */
static bool
check(const char *s, const char *ha1, const char *method, struct sv body)
{
	struct sip_digest_cred c;
	bool ok = true;

	assert_int_equal(parse(s, &c), 0);
	assert_int_equal(sip_digest_verify(&c, ha1, SV(method), body, &ok), 0);
	return ok;
}

static bool
sv_is(struct sv v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

/* ---- verification: RFC examples ---- */

static const char rfc2617_hdr[] =
    "Digest username=\"Mufasa\",\r\n"
    "                 realm=\"testrealm@host.com\",\r\n"
    "                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n"
    "                 uri=\"/dir/index.html\",\r\n"
    "                 qop=auth,\r\n"
    "                 nc=00000001,\r\n"
    "                 cnonce=\"0a4f113b\",\r\n"
    "                 response=\"6629fae49393a05397450978507c4ef1\",\r\n"
    "                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

static void
test_rfc2617_example(void **state)
{
	struct sip_digest_cred c;
	bool ok = false;

	(void)state;
	assert_int_equal(parse(rfc2617_hdr, &c), 0);
	assert_true(sv_is(c.username, "Mufasa"));
	assert_true(sv_is(c.realm, "testrealm@host.com"));
	assert_true(sv_is(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093"));
	assert_true(sv_is(c.uri, "/dir/index.html"));
	assert_true(sv_is(c.cnonce, "0a4f113b"));
	assert_true(sv_is(c.opaque, "5ccc069c403ebaf9f0171e9517f40e41"));
	assert_true(sv_is(c.qop_text, "auth"));
	assert_true(sv_is(c.nc_text, "00000001"));
	assert_int_equal(c.alg, SIP_DIGEST_MD5);
	assert_int_equal(c.qop, SIP_DIGEST_QOP_AUTH);
	assert_int_equal(c.nc, 1);
	assert_false(c.userhash);
	/* No escapes: every view points into the input. */
	assert_ptr_equal(c.username.p, rfc2617_hdr + 17);
	assert_int_equal(
	    sip_digest_verify(&c, RFC2617_HA1, SV("GET"), SV_NONE, &ok), 0);
	assert_true(ok);
	/* H("Mufasa:testrealm@host.com:Circle of Life"), a wrong password */
	assert_int_equal(
	    sip_digest_verify(&c, "7650d211d93fae2c3f56cdb1f1af23b2", SV("GET"),
	        SV_NONE, &ok),
	    0);
	assert_false(ok);
	assert_int_equal(
	    sip_digest_verify(&c, RFC2617_HA1, SV("POST"), SV_NONE, &ok), 0);
	assert_false(ok);
}

static void
test_rfc7616_sha256_example(void **state)
{
	static const char hdr[] =
	    "Digest username=\"Mufasa\",\r\n"
	    "    realm=\"http-auth@example.org\",\r\n"
	    "    uri=\"/dir/index.html\",\r\n"
	    "    algorithm=SHA-256,\r\n"
	    "    nonce=\"" RFC7616_NONCE "\",\r\n"
	    "    nc=00000001,\r\n"
	    "    cnonce=\"" RFC7616_CNONCE "\",\r\n"
	    "    qop=auth,\r\n"
	    "    response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697"
	    "cf8db5856cb6c1\",\r\n"
	    "    opaque=\"" RFC7616_OPAQUE "\"";
	struct sip_digest_cred c;
	bool ok = false;

	(void)state;
	assert_int_equal(parse(hdr, &c), 0);
	assert_int_equal(c.alg, SIP_DIGEST_SHA256);
	assert_int_equal(
	    sip_digest_verify(&c, RFC7616_HA1_SHA256, SV("GET"), SV_NONE, &ok),
	    0);
	assert_true(ok);
	/* An MD5 HA1 has the wrong length for SHA-256. */
	assert_int_equal(
	    sip_digest_verify(&c, RFC2617_HA1, SV("GET"), SV_NONE, &ok),
	    EINVAL);
}

static void
test_rfc7616_md5_example(void **state)
{
	/* RFC 7616 §3.9.1, MD5 variant; HA1 = MD5("Mufasa:
	 * http-auth@example.org:Circle of Life") */
	static const char hdr[] =
	    "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
	    "uri=\"/dir/index.html\", algorithm=MD5, nonce=\"" RFC7616_NONCE
	    "\", nc=00000001, cnonce=\"" RFC7616_CNONCE "\", qop=auth, "
	    "response=\"8ca523f5e9506fed4657c9700eebdbec\", "
	    "opaque=\"" RFC7616_OPAQUE "\"";

	(void)state;
	assert_true(
	    check(hdr, "3d78807defe7de2157e2b0b6573a855f", "GET", SV_NONE));
	/* HA1 of "Circle Of Life" (RFC 2617's capital O): not ok. */
	assert_false(
	    check(hdr, "651b2f029f19e04ca0129776867d2121", "GET", SV_NONE));
}

/* ---- verification: the SIP example ---- */

static void
test_sip_md5_auth(void **state)
{
	static const char hdr[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"cf807af47acf34ac65779545"
	    "67f1cb9c\", algorithm=MD5, cnonce=\"5f1b3c9a\", qop=auth, "
	    "nc=00000001";

	(void)state;
	assert_true(check(hdr, SIP_HA1_MD5, "REGISTER", SV_NONE));
	assert_false(check(hdr, SIP_HA1_MD5, "INVITE", SV_NONE));
	/* An upper-case stored HA1 is not the same text: not ok. */
	assert_false(check(
	    hdr, "2AC51BDE4C1679D848A84975C05281AA", "REGISTER", SV_NONE));
}

static void
test_sip_sha256_auth(void **state)
{
	static const char hdr[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"78f66fa8ea91aa0302b7d42b"
	    "8795b46b6f5a55d458b455851740f683d921f5d3\", algorithm=SHA-256, "
	    "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001";
	/* The response in upper case is the same digest. */
	static const char upper[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"78F66FA8EA91AA0302B7D42B"
	    "8795B46B6F5A55D458B455851740F683D921F5D3\", algorithm=sha-256, "
	    "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001";

	(void)state;
	assert_true(check(hdr, SIP_HA1_SHA256, "REGISTER", SV_NONE));
	assert_true(check(upper, SIP_HA1_SHA256, "REGISTER", SV_NONE));
}

static void
test_sip_sess(void **state)
{
	static const char md5[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"de01075c3bd7cf2918a7c5d4"
	    "cf289600\", algorithm=MD5-sess, cnonce=\"5f1b3c9a\", qop=auth, "
	    "nc=00000001";
	static const char sha[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"3509bc95cef739305aa84dd1"
	    "0de1a88c10bd02e18acc9fb4926e97d83ee5b453\", "
	    "algorithm=SHA-256-sess, cnonce=\"5f1b3c9a\", qop=auth, "
	    "nc=00000001";
	/* -sess without qop: H(H(HA1:nonce:cnonce):nonce:HA2) */
	static const char md5_noqop[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"f34f2a28c5f47a06fd3618eb"
	    "9e744025\", algorithm=md5-SESS, cnonce=\"5f1b3c9a\"";
	static const char sha_noqop[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"301157d137fc525edfe7aa59"
	    "d8f9c075e8fee0dd71aa9d2a6c544cd744d42629\", "
	    "algorithm=SHA-256-sess, cnonce=\"5f1b3c9a\"";
	/* The MD5 auth response under MD5-sess: not ok. */
	static const char wrong[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"cf807af47acf34ac65779545"
	    "67f1cb9c\", algorithm=MD5-sess, cnonce=\"5f1b3c9a\", qop=auth, "
	    "nc=00000001";
	struct sip_digest_cred c;

	(void)state;
	assert_true(check(md5, SIP_HA1_MD5, "REGISTER", SV_NONE));
	assert_true(check(sha, SIP_HA1_SHA256, "REGISTER", SV_NONE));
	assert_true(check(md5_noqop, SIP_HA1_MD5, "REGISTER", SV_NONE));
	assert_true(check(sha_noqop, SIP_HA1_SHA256, "REGISTER", SV_NONE));
	assert_false(check(wrong, SIP_HA1_MD5, "REGISTER", SV_NONE));
	assert_int_equal(parse(md5, &c), 0);
	assert_int_equal(c.alg, SIP_DIGEST_MD5_SESS);
	assert_int_equal(parse(sha_noqop, &c), 0);
	assert_int_equal(c.alg, SIP_DIGEST_SHA256_SESS);
	assert_int_equal(c.qop, SIP_DIGEST_QOP_NONE);
}

static void
test_sip_auth_int(void **state)
{
	static const char md5[] =
	    SIP_HDR_HEAD "uri=\"sip:1002@acme.example.com\", "
	                 "response=\"ff69a718bd66a2ef72326ad4ce84e7dd\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth-int, nc=0000000a";
	static const char sha[] = SIP_HDR_HEAD
	    "uri=\"sip:1002@acme.example.com\", response=\"cd1497b637566f5f25e4"
	    "dbd1cdbdabea3b800f3c6f1e98a88d7e5dffe343e565\", "
	    "algorithm=SHA-256, cnonce=\"5f1b3c9a\", qop=auth-int, "
	    "nc=0000000a";
	struct sip_digest_cred c;

	(void)state;
	assert_int_equal(parse(md5, &c), 0);
	assert_int_equal(c.qop, SIP_DIGEST_QOP_AUTH_INT);
	assert_int_equal(c.nc, 10);
	assert_true(check(md5, SIP_HA1_MD5, "INVITE", SV(SIP_BODY)));
	assert_true(check(sha, SIP_HA1_SHA256, "INVITE", SV(SIP_BODY)));
	/* A changed or missing body fails. */
	assert_false(check(md5, SIP_HA1_MD5, "INVITE",
	    SV("v=0\r\no=- 1 1 IN IP4 192.0.2.66\r\ns=-\r\n")));
	assert_false(check(sha, SIP_HA1_SHA256, "INVITE", SV_NONE));
}

static void
test_sip_no_qop(void **state)
{
	/* RFC 2069 style: H(HA1:nonce:HA2) */
	static const char md5[] =
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"bf01a8f51f5168e3699910f38612b0d7\"";
	static const char sha[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"f1d0e36fa0c5fb6bb43340df"
	    "25d9f6bf6c63c2658dca2957c3e9c3bcb74fa348\", algorithm=SHA-256";
	struct sip_digest_cred c;

	(void)state;
	assert_int_equal(parse(md5, &c), 0);
	assert_int_equal(c.qop, SIP_DIGEST_QOP_NONE);
	assert_int_equal(c.nc, 0);
	assert_null(c.cnonce.p);
	assert_null(c.nc_text.p);
	assert_true(check(md5, SIP_HA1_MD5, "REGISTER", SV_NONE));
	assert_true(check(sha, SIP_HA1_SHA256, "REGISTER", SV_NONE));
}

static void
test_tampered(void **state)
{
	/* Each is the MD5 auth example with one field changed. */
	static const char *const bad[] = {
	    /* nonce */
	    "Digest username=\"1001\", realm=\"acme.example.com\", "
	    "nonce=\"AAAAAGkmnzoBAgMEBQYHCKqqqqqqqqqqqqqqqqqqqqA\", "
	    "uri=\"sip:acme.example.com\", "
	    "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	    "cnonce=\"5f1b3c9a\", "
	    "qop=auth, nc=00000001",
	    /* uri */
	    SIP_HDR_HEAD "uri=\"sip:evil.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001",
	    /* nc */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth, nc=00000002",
	    /* cnonce */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9b\", qop=auth, nc=00000001",
	    /* response, last digit */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9d\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001",
	    /* qop: auth-int over the auth response */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth-int, nc=00000001",
	    /* qop dropped */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9a\", nc=00000001",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++)
		assert_false(check(bad[i], SIP_HA1_MD5, "REGISTER", SV_NONE));
	/* The wrong password: MD5("1001:acme.example.com:Tr0ub4dor&3-horsE"),
	 * any other HA1 of the right length. */
	assert_false(
	    check(SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                       "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                       "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001",
	        "2ac51bde4c1679d848a84975c05281ab", "REGISTER", SV_NONE));
}

static void
test_verify_unknown(void **state)
{
	static const char hdr[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"cf807af47acf34ac65779545"
	    "67f1cb9c\", cnonce=\"5f1b3c9a\", qop=auth, nc=00000001";
	struct sip_digest_cred c;
	bool ok = true;

	(void)state;
	assert_int_equal(parse(hdr, &c), 0);
	/* Even the right HA1 never passes as an unknown user. */
	assert_int_equal(sip_digest_verify_unknown(
	                     &c, SIP_HA1_MD5, SV("REGISTER"), SV_NONE, &ok),
	    0);
	assert_false(ok);
	ok = true;
	assert_int_equal(
	    sip_digest_verify_unknown(&c, "00000000000000000000000000000000",
	        SV("REGISTER"), SV_NONE, &ok),
	    0);
	assert_false(ok);
	/* Same argument checks as sip_digest_verify. */
	assert_int_equal(
	    sip_digest_verify_unknown(&c, "0000", SV("REGISTER"), SV_NONE, &ok),
	    EINVAL);
}

static void
test_verify_args(void **state)
{
	static const char hdr[] = SIP_HDR_HEAD
	    "uri=\"sip:acme.example.com\", response=\"cf807af47acf34ac65779545"
	    "67f1cb9c\", cnonce=\"5f1b3c9a\", qop=auth, nc=00000001";
	struct sip_digest_cred c, bad;
	bool ok = true;

	(void)state;
	assert_int_equal(parse(hdr, &c), 0);
	assert_int_equal(sip_digest_verify(
	                     &c, SIP_HA1_MD5 "0", SV("REGISTER"), SV_NONE, &ok),
	    EINVAL);
	assert_int_equal(
	    sip_digest_verify(&c, SIP_HA1_SHA256, SV("REGISTER"), SV_NONE, &ok),
	    EINVAL);
	assert_int_equal(
	    sip_digest_verify(&c, SIP_HA1_MD5, SV(""), SV_NONE, &ok), EINVAL);
	assert_int_equal(
	    sip_digest_verify(&c, NULL, SV("REGISTER"), SV_NONE, &ok), EINVAL);
	bad = c;
	bad.alg = (enum sip_digest_alg)7;
	assert_int_equal(
	    sip_digest_verify(&bad, SIP_HA1_MD5, SV("REGISTER"), SV_NONE, &ok),
	    EINVAL);
	bad = c;
	bad.cnonce = SV_NONE;
	assert_int_equal(
	    sip_digest_verify(&bad, SIP_HA1_MD5, SV("REGISTER"), SV_NONE, &ok),
	    EINVAL);
	assert_true(ok); /* untouched on error */
}

/* ---- the parser ---- */

static void
test_parse_lws(void **state)
{
	/* Folded lines and tabs around '=' and ',', LF-only folding, an
	 * upper-case scheme and parameter names, leading and trailing LWS. */
	static const char hdr[] =
	    " \tDIGEST\r\n\tUserName \r\n = \"1001\"\t,realm=\r\n "
	    "\"acme.example.com\" ,\n nonce\t=\t\"" SIP_NONCE "\"\r\n ,\r\n "
	    "URI=\"sip:acme.example.com\",response=\"cf807af47acf34ac6577954567"
	    "f1cb9c\",cnonce=\"5f1b3c9a\",QOP=auth,nc=00000001 \t";
	struct sip_digest_cred c;

	(void)state;
	assert_int_equal(parse(hdr, &c), 0);
	assert_true(sv_is(c.username, "1001"));
	assert_true(sv_is(c.realm, "acme.example.com"));
	assert_true(check(hdr, SIP_HA1_MD5, "REGISTER", SV_NONE));
	/* A line end not followed by white space is not LWS. */
	assert_int_equal(
	    parse("Digest username=\"a\"\r\n, realm=\"r\"", &c), EBADMSG);
	assert_int_equal(parse("Digest\r\nusername=\"a\"", &c), EBADMSG);
	assert_int_equal(parse("Digest username=\"a\"\r\n", &c), EBADMSG);
	assert_int_equal(parse("Digest username=\"a\"\r", &c), EBADMSG);
	/* A line end inside a quoted value is refused. */
	assert_int_equal(parse("Digest username=\"a\r\n b\"", &c), EBADMSG);
}

static void
test_parse_escapes(void **state)
{
	static const char hdr[] =
	    "Digest username=\"al\\\"ice\\\\x\\y\", "
	    "realm=\"acme.\\example.com\", "
	    "nonce=\"" SIP_NONCE "\", uri=\"sip:acme.example.com\", "
	    "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	    "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001, "
	    "foo=\"\\\"unknown\\\\\"";
	struct sip_digest_cred c;
	char small[8];

	(void)state;
	assert_int_equal(parse(hdr, &c), 0);
	assert_true(sv_is(c.username, "al\"ice\\xy"));
	assert_true(sv_is(c.realm, "acme.example.com"));
	assert_true(c.username.p >= buf && c.username.p < buf + sizeof(buf));
	/* The realm, unescaped, gives the same response. */
	assert_true(check(hdr, SIP_HA1_MD5, "REGISTER", SV_NONE));
	/* No buffer, or one too small, for the escaped values. */
	assert_int_equal(
	    sip_digest_parse(hdr, strlen(hdr), NULL, 0, &c), EMSGSIZE);
	assert_int_equal(
	    sip_digest_parse(hdr, strlen(hdr), small, sizeof(small), &c),
	    EMSGSIZE);
	/* Unknown parameters with escapes need no buffer. */
	assert_int_equal(
	    sip_digest_parse(rfc2617_hdr, strlen(rfc2617_hdr), NULL, 0, &c), 0);
	/* An escape at the very end, an escaped control character. */
	assert_int_equal(parse("Digest username=\"a\\", &c), EBADMSG);
	assert_int_equal(parse("Digest username=\"a\\\"", &c), EBADMSG);
	assert_int_equal(parse("Digest username=\"a\\\x01\"", &c), EBADMSG);
	/* No escapes in token-valued fields. */
	assert_int_equal(parse(SIP_HDR_HEAD
	                     "uri=\"sip:acme.example.com\", "
	                     "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                     "cnonce=\"5f1b3c9a\", qop=\"au\\th\", nc=00000001",
	                     &c),
	    EBADMSG);
}

/* The MD5 auth example, for the variations below. */
#define GOOD_TAIL                                                              \
	"uri=\"sip:acme.example.com\", "                                       \
	"response=\"cf807af47acf34ac6577954567f1"                              \
	"cb9c\", cnonce=\"5f1b3c9a\", qop=auth, nc=00000001"

static void
test_parse_duplicates_unknown(void **state)
{
	struct sip_digest_cred c;

	(void)state;
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", username=\"1002\"", &c), EBADMSG);
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", Username=\"1001\"", &c), EBADMSG);
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", nc=00000002", &c), EBADMSG);
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", algorithm=MD5, algorithm=MD5", &c),
	    EBADMSG);
	/* Unknown parameters, repeated or not, token or quoted: ignored. */
	assert_int_equal(parse(SIP_HDR_HEAD GOOD_TAIL
	                     ", x-foo=bar, x-foo=\"baz, qux\", stale=true, "
	                     "domain=\"sip:a sip:b\"",
	                     &c),
	    0);
	assert_true(check(SIP_HDR_HEAD "x=1, " GOOD_TAIL ", y=\"2\"",
	    SIP_HA1_MD5, "REGISTER", SV_NONE));
}

static void
test_parse_missing(void **state)
{
	static const char *const missing[] = {
	    /* username */
	    "Digest realm=\"acme.example.com\", nonce=\"" SIP_NONCE
	    "\", " GOOD_TAIL,
	    /* realm */
	    "Digest username=\"1001\", nonce=\"" SIP_NONCE "\", " GOOD_TAIL,
	    /* nonce */
	    "Digest username=\"1001\", realm=\"acme.example.com\", " GOOD_TAIL,
	    /* uri */
	    SIP_HDR_HEAD "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001",
	    /* response */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", cnonce=\"5f1b3c9a\", "
	                 "qop=auth, nc=00000001",
	    /* empty username */
	    "Digest username=\"\", realm=\"acme.example.com\", "
	    "nonce=\"" SIP_NONCE "\", " GOOD_TAIL,
	    /* qop without cnonce (sipvicious svcrack) */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "qop=auth, nc=00000001",
	    /* qop with an empty cnonce */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"\", qop=auth, nc=00000001",
	    /* qop without nc */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth",
	    /* qop without either */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "qop=auth",
	    /* -sess without cnonce */
	    SIP_HDR_HEAD "uri=\"sip:acme.example.com\", "
	                 "response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "algorithm=MD5-sess",
	};
	struct sip_digest_cred c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(missing); i++)
		assert_int_equal(parse(missing[i], &c), EBADMSG);
}

static void
test_parse_algorithm(void **state)
{
	static const char *const unsupported[] = {"SHA-512-256", "AKAv1-MD5",
	    "\"SHA-512-256-sess\"", "MD5-SESS2", "SHA256", "md4"};
	struct sip_digest_cred c;
	char hdr[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(unsupported); i++) {
		snprintf(hdr, sizeof(hdr),
		    SIP_HDR_HEAD GOOD_TAIL ", algorithm=%s", unsupported[i]);
		assert_int_equal(parse(hdr, &c), ENOTSUP);
	}
	/* The algorithm is judged before the missing fields. */
	assert_int_equal(
	    parse("Digest username=\"a\", algorithm=SHA-512-256", &c), ENOTSUP);
	/* ... but after syntax errors. */
	assert_int_equal(
	    parse("Digest algorithm=SHA-512-256, username=\"a", &c), EBADMSG);
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", algorithm=\"\"", &c), EBADMSG);
	/* Quoted and in any case. */
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", algorithm=\"md5\"", &c), 0);
	assert_int_equal(c.alg, SIP_DIGEST_MD5);
	/* The response must match the algorithm's length. */
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", algorithm=SHA-256", &c), EBADMSG);
}

static void
test_parse_qop_nc_userhash(void **state)
{
	static const char *const bad_nc[] = {"0000001", "000000001", "0000000g",
	    "\"\"", "-0000001", "0x000001", "\"0000 001\""};
	struct sip_digest_cred c;
	char hdr[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad_nc); i++) {
		snprintf(hdr, sizeof(hdr),
		    SIP_HDR_HEAD
		    "uri=\"sip:a\", response=\"cf807af47acf34ac6577"
		    "954567f1cb9c\", cnonce=\"c\", qop=auth, nc=%s",
		    bad_nc[i]);
		assert_int_equal(parse(hdr, &c), EBADMSG);
	}
	assert_int_equal(
	    parse(SIP_HDR_HEAD "uri=\"sip:a\", response=\"cf807af4"
	                       "7acf34ac6577954567f1cb9c\", "
	                       "cnonce=\"c\", qop=auth, nc=FFFFFFFF",
	        &c),
	    0);
	assert_int_equal(c.nc, UINT32_MAX);
	assert_int_equal(
	    parse(SIP_HDR_HEAD "uri=\"sip:a\", response=\"cf807af4"
	                       "7acf34ac6577954567f1cb9c\", "
	                       "cnonce=\"c\", qop=\"auth\", nc=\"0000000A\"",
	        &c),
	    0);
	assert_int_equal(c.nc, 10);
	assert_true(sv_is(c.nc_text, "0000000A"));
	assert_int_equal(c.qop, SIP_DIGEST_QOP_AUTH);
	assert_int_equal(
	    parse(SIP_HDR_HEAD "uri=\"sip:a\", response=\"cf807af4"
	                       "7acf34ac6577954567f1cb9c\", "
	                       "cnonce=\"c\", qop=auth-conf, nc=00000001",
	        &c),
	    EBADMSG);
	assert_int_equal(
	    parse(SIP_HDR_HEAD "uri=\"sip:a\", response=\"cf807af4"
	                       "7acf34ac6577954567f1cb9c\", "
	                       "cnonce=\"c\", qop=\"auth,auth-int\", "
	                       "nc=00000001",
	        &c),
	    EBADMSG);
	/* userhash */
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", userhash=true", &c), 0);
	assert_true(c.userhash);
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", userhash=\"FALSE\"", &c), 0);
	assert_false(c.userhash);
	assert_int_equal(
	    parse(SIP_HDR_HEAD GOOD_TAIL ", userhash=yes", &c), EBADMSG);
	/* response: hex only */
	assert_int_equal(parse(SIP_HDR_HEAD "uri=\"sip:a\", response=\"cf807af4"
	                                    "7acf34ac6577954567f1cb9z\"",
	                     &c),
	    EBADMSG);
	assert_int_equal(parse(SIP_HDR_HEAD "uri=\"sip:a\", response=\"cf807af4"
	                                    "7acf34ac6577954567f1cb9\"",
	                     &c),
	    EBADMSG);
	/* an unquoted response token is accepted */
	assert_int_equal(parse(SIP_HDR_HEAD "uri=\"sip:a\", response=cf807af4"
	                                    "7acf34ac6577954567f1cb9c",
	                     &c),
	    0);
}

static void
test_parse_syntax(void **state)
{
	static const char *const bad[] = {
	    "",
	    " \t ",
	    "Digest",
	    "Digest ",
	    "Digest\t\r\n ",
	    "Digest,username=\"a\"",
	    "Digest=username",
	    "username=\"1001\", realm=\"r\"",
	    "\"Digest\" username=\"a\"",
	    SIP_HDR_HEAD GOOD_TAIL ",",
	    SIP_HDR_HEAD GOOD_TAIL ", ",
	    "Digest , " GOOD_TAIL,
	    SIP_HDR_HEAD ", " GOOD_TAIL,
	    SIP_HDR_HEAD GOOD_TAIL " x",
	    SIP_HDR_HEAD GOOD_TAIL " ; x=y",
	    "Digest username=\"a\" realm=\"b\"",
	    "Digest username=\"a\",, realm=\"b\"",
	};
	/* Each replaces the uri parameter of an otherwise valid header, so
	 * that the syntax is the only fault. */
	static const char *const bad_slot[] = {
	    "uri",
	    "uri=",
	    "uri= ",
	    "uri \"sip:a\"",
	    "=\"sip:a\"",
	    "uri=\"sip:a",
	    "uri=\"sip:a\"\"b\"",
	    "uri=\"sip:a\"b",
	    "uri=sip:a",
	    "uri=\"sip:\x7f\"",
	    "uri=\"sip:\x1b[31m\"",
	    "uri=\"sip:a\rb\"",
	    "uri=\"sip:a\nb\"",
	    "uri=\"sip:a\" x=y",
	    "uri=\"sip:a\",",
	    "uri=\"sip:a\";x=y",
	    "uri:\"sip:a\"",
	    "u/ri=\"sip:a\"",
	};
	static const char slot_fmt[] =
	    SIP_HDR_HEAD "%s, response=\"cf807af47acf34ac6577954567f1cb9c\", "
	                 "cnonce=\"5f1b3c9a\", qop=auth, nc=00000001";
	struct sip_digest_cred c, untouched;
	char hdr[512];
	size_t i;
	int n;

	(void)state;
	memset(&untouched, 0xa5, sizeof(untouched));
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		c = untouched;
		assert_int_equal(parse(bad[i], &c), EBADMSG);
		assert_memory_equal(&c, &untouched, sizeof(c));
	}
	snprintf(hdr, sizeof(hdr), slot_fmt, "uri=\"sip:a\"");
	assert_int_equal(parse(hdr, &c), 0);
	for (i = 0; i < ARRAY_LEN(bad_slot); i++) {
		snprintf(hdr, sizeof(hdr), slot_fmt, bad_slot[i]);
		c = untouched;
		assert_int_equal(parse(hdr, &c), EBADMSG);
		assert_memory_equal(&c, &untouched, sizeof(c));
	}
	/* A NUL byte, in or out of quotes. */
	n = snprintf(hdr, sizeof(hdr), slot_fmt, "uri=\"sip:a@b\"");
	assert_int_equal(
	    sip_digest_parse(hdr, (size_t)n, buf, sizeof(buf), &c), 0);
	hdr[strlen(SIP_HDR_HEAD "uri=\"sip:a")] = '\0';
	assert_int_equal(
	    sip_digest_parse(hdr, (size_t)n, buf, sizeof(buf), &c), EBADMSG);
	n = snprintf(hdr, sizeof(hdr), slot_fmt, "uri=\"sip:a\" ");
	hdr[strlen(SIP_HDR_HEAD "uri=\"sip:a\"")] = '\0';
	assert_int_equal(
	    sip_digest_parse(hdr, (size_t)n, buf, sizeof(buf), &c), EBADMSG);
	/* UTF-8 in a quoted value passes through. */
	assert_int_equal(parse("Digest username=\"J\xc3\xbcrgen\", "
	                       "realm=\"acme.example.com\", nonce=\"" SIP_NONCE
	                       "\", " GOOD_TAIL,
	                     &c),
	    0);
	assert_true(sv_is(c.username, "J\xc3\xbcrgen"));
	/* Arguments */
	assert_int_equal(
	    sip_digest_parse(NULL, 0, buf, sizeof(buf), &c), EINVAL);
	assert_int_equal(
	    sip_digest_parse("Digest", 6, buf, sizeof(buf), NULL), EINVAL);
}

static void
test_parse_other_scheme(void **state)
{
	struct sip_digest_cred c;

	(void)state;
	assert_int_equal(
	    parse("Basic dXNlcjpwYXNzd29yZA==", &c), EPROTONOSUPPORT);
	assert_int_equal(parse("Basic", &c), EPROTONOSUPPORT);
	assert_int_equal(parse("Bearer abc.def.ghi", &c), EPROTONOSUPPORT);
	assert_int_equal(parse("Digestx username=\"a\"", &c), EPROTONOSUPPORT);
	assert_int_equal(
	    parse("NTLM TlRMTVNTUAABAAAAB4IIog==", &c), EPROTONOSUPPORT);
}

static void
test_parse_limits(void **state)
{
	static char hdr[8192];
	struct sip_digest_cred c;
	char val[SIP_DIGEST_VALUE_MAX + 2];
	size_t n, i;

	(void)state;
	/* A username of exactly the limit passes; one byte more does not. */
	memset(val, 'u', sizeof(val));
	val[SIP_DIGEST_VALUE_MAX] = '\0';
	snprintf(hdr, sizeof(hdr),
	    "Digest username=\"%s\", realm=\"r\", nonce=\"n\", " GOOD_TAIL,
	    val);
	assert_int_equal(parse(hdr, &c), 0);
	assert_int_equal(c.username.len, SIP_DIGEST_VALUE_MAX);
	val[SIP_DIGEST_VALUE_MAX] = 'u';
	val[SIP_DIGEST_VALUE_MAX + 1] = '\0';
	snprintf(hdr, sizeof(hdr),
	    "Digest username=\"%s\", realm=\"r\", nonce=\"n\", " GOOD_TAIL,
	    val);
	assert_int_equal(parse(hdr, &c), EMSGSIZE);
	/* The same for an unknown parameter's token value and for a name. */
	snprintf(hdr, sizeof(hdr), SIP_HDR_HEAD GOOD_TAIL ", x=%s", val);
	assert_int_equal(parse(hdr, &c), EMSGSIZE);
	snprintf(hdr, sizeof(hdr), SIP_HDR_HEAD GOOD_TAIL ", %s=x", val);
	assert_int_equal(parse(hdr, &c), EMSGSIZE);
	/* Escapes count in the limit: 129 escaped quotes are 258 bytes. */
	n = (size_t)snprintf(hdr, sizeof(hdr), "Digest username=\"");
	for (i = 0; i < 129; i++) {
		hdr[n++] = '\\';
		hdr[n++] = '"';
	}
	snprintf(hdr + n, sizeof(hdr) - n,
	    "\", realm=\"r\", nonce=\"n\", " GOOD_TAIL);
	assert_int_equal(parse(hdr, &c), EMSGSIZE);
	/* With every string field full of escapes, SIP_DIGEST_BUF_SIZE is
	 * enough. */
	memset(val, 'a', sizeof(val));
	for (i = 0; i < SIP_DIGEST_VALUE_MAX; i += 2)
		val[i] = '\\';
	val[SIP_DIGEST_VALUE_MAX] = '\0';
	snprintf(hdr, sizeof(hdr),
	    "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
	    "cnonce=\"%s\", opaque=\"%s\", response=\"cf807af47acf34ac657795"
	    "4567f1cb9\\c\", qop=auth, nc=00000001",
	    val, val, val, val, val, val);
	assert_int_equal(parse(hdr, &c), 0);
	assert_int_equal(c.username.len, SIP_DIGEST_VALUE_MAX / 2);
	assert_true(sv_is(c.response, "cf807af47acf34ac6577954567f1cb9c"));

	/* 32 parameters pass, 33 do not (8 known + unknown ones). */
	n = (size_t)snprintf(hdr, sizeof(hdr), SIP_HDR_HEAD GOOD_TAIL);
	for (i = 8; i < SIP_DIGEST_PARAMS_MAX; i++)
		n += (size_t)snprintf(hdr + n, sizeof(hdr) - n, ", p%zu=v", i);
	assert_int_equal(parse(hdr, &c), 0);
	snprintf(hdr + n, sizeof(hdr) - n, ", last=v");
	assert_int_equal(parse(hdr, &c), EMSGSIZE);
}

/* ---- nonces ---- */

static const unsigned char secret[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
    31};
static const unsigned char rand8[8] = {1, 2, 3, 4, 5, 6, 7, 8};

static enum sip_nonce_result
nonce_check(const char *nonce, int64_t now, int64_t *issued)
{
	return sip_nonce_check(secret, sizeof(secret), SV(NONCE_REALM),
	    SV(nonce), now, 300, issued);
}

static void
test_nonce_vector(void **state)
{
	char out[SIP_NONCE_SIZE];
	int64_t issued = -1;

	(void)state;
	assert_int_equal(sip_nonce_make(secret, sizeof(secret), SV(NONCE_REALM),
	                     NONCE_T, rand8, out, sizeof(out)),
	    0);
	assert_string_equal(out, NONCE_VECTOR);
	assert_int_equal(strlen(out), SIP_NONCE_LEN);
	assert_int_equal(nonce_check(out, NONCE_T, &issued), SIP_NONCE_OK);
	assert_int_equal(issued, NONCE_T);
	assert_int_equal(nonce_check(out, NONCE_T, NULL), SIP_NONCE_OK);
}

static void
test_nonce_age(void **state)
{
	int64_t issued = -1;

	(void)state;
	assert_int_equal(
	    nonce_check(NONCE_VECTOR, NONCE_T + 300, &issued), SIP_NONCE_OK);
	issued = -1;
	assert_int_equal(
	    nonce_check(NONCE_VECTOR, NONCE_T + 301, &issued), SIP_NONCE_STALE);
	assert_int_equal(issued, NONCE_T);
	assert_int_equal(
	    nonce_check(NONCE_VECTOR, INT64_MAX, NULL), SIP_NONCE_STALE);
	/* Up to SIP_NONCE_FUTURE_MAX seconds of clock skew. */
	assert_int_equal(
	    nonce_check(NONCE_VECTOR, NONCE_T - SIP_NONCE_FUTURE_MAX, NULL),
	    SIP_NONCE_OK);
	issued = -1;
	assert_int_equal(nonce_check(NONCE_VECTOR,
	                     NONCE_T - SIP_NONCE_FUTURE_MAX - 1, &issued),
	    SIP_NONCE_BAD);
	assert_int_equal(issued, -1);
	assert_int_equal(
	    nonce_check(NONCE_VECTOR, INT64_MIN, NULL), SIP_NONCE_BAD);
	assert_int_equal(
	    sip_nonce_check(secret, sizeof(secret), SV(NONCE_REALM),
	        SV(NONCE_VECTOR), NONCE_T, 0, NULL),
	    SIP_NONCE_OK);
	assert_int_equal(
	    sip_nonce_check(secret, sizeof(secret), SV(NONCE_REALM),
	        SV(NONCE_VECTOR), NONCE_T + 1, 0, NULL),
	    SIP_NONCE_STALE);
}

static void
test_nonce_bad(void **state)
{
	static const char *const bad[] = {
	    /* MAC: last MAC character changed (canonically) */
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9XA",
	    /* time changed */
	    "AAAAAGlVuQEBAgMEBQYHCMGI0ohweNy6dTwAotBo9XY",
	    /* random changed */
	    "AAAAAGlVuQABAgMEBQYHCcGI0ohweNy6dTwAotBo9XY",
	    /* truncated, too long, empty */
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9X",
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9XYA",
	    "",
	    /* padded, standard base64 characters, spaces, a dot */
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9XY=",
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9X+",
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9X/",
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9X ",
	    " AAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9XY",
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9X.",
	    /* the same bytes spelled with non-zero unused bits: Y=24, Z=25 */
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9XZ",
	    "AAAAAGlVuQABAgMEBQYHCMGI0ohweNy6dTwAotBo9Xb",
	    /* an RFC 7616 nonce */
	    RFC7616_NONCE,
	};
	size_t i;
	int64_t issued = -1;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++)
		assert_int_equal(
		    nonce_check(bad[i], NONCE_T, &issued), SIP_NONCE_BAD);
	assert_int_equal(issued, -1);
	/* Another realm, another secret, a prefix of the secret. */
	assert_int_equal(
	    sip_nonce_check(secret, sizeof(secret), SV("acme.example.co"),
	        SV(NONCE_VECTOR), NONCE_T, 300, NULL),
	    SIP_NONCE_BAD);
	assert_int_equal(
	    sip_nonce_check(secret, sizeof(secret), SV("other.example.com"),
	        SV(NONCE_VECTOR), NONCE_T, 300, NULL),
	    SIP_NONCE_BAD);
	assert_int_equal(
	    sip_nonce_check(secret, sizeof(secret) - 1, SV(NONCE_REALM),
	        SV(NONCE_VECTOR), NONCE_T, 300, NULL),
	    SIP_NONCE_BAD);
	assert_int_equal(sip_nonce_check(rand8, sizeof(rand8), SV(NONCE_REALM),
	                     SV(NONCE_VECTOR), NONCE_T, 300, NULL),
	    SIP_NONCE_BAD);
	/* Bad arguments. */
	assert_int_equal(sip_nonce_check(NULL, 0, SV(NONCE_REALM),
	                     SV(NONCE_VECTOR), NONCE_T, 300, NULL),
	    SIP_NONCE_BAD);
	assert_int_equal(sip_nonce_check(secret, sizeof(secret),
	                     SV(NONCE_REALM), SV_NONE, NONCE_T, 300, NULL),
	    SIP_NONCE_BAD);
}

static void
test_nonce_make_args(void **state)
{
	char out[SIP_NONCE_SIZE], big[SIP_NONCE_REALM_MAX + 2];
	char n1[SIP_NONCE_SIZE], n2[SIP_NONCE_SIZE];
	unsigned char r2[8] = {8, 7, 6, 5, 4, 3, 2, 1};

	(void)state;
	assert_int_equal(sip_nonce_make(secret, sizeof(secret), SV(NONCE_REALM),
	                     NONCE_T, rand8, out, SIP_NONCE_LEN),
	    EMSGSIZE);
	assert_int_equal(sip_nonce_make(secret, sizeof(secret), SV(NONCE_REALM),
	                     -1, rand8, out, sizeof(out)),
	    EINVAL);
	assert_int_equal(sip_nonce_make(secret, 0, SV(NONCE_REALM), NONCE_T,
	                     rand8, out, sizeof(out)),
	    EINVAL);
	memset(big, 'r', sizeof(big));
	big[SIP_NONCE_REALM_MAX + 1] = '\0';
	assert_int_equal(sip_nonce_make(secret, sizeof(secret), SV(big),
	                     NONCE_T, rand8, out, sizeof(out)),
	    EINVAL);
	big[SIP_NONCE_REALM_MAX] = '\0';
	assert_int_equal(sip_nonce_make(secret, sizeof(secret), SV(big),
	                     NONCE_T, rand8, out, sizeof(out)),
	    0);
	assert_int_equal(sip_nonce_check(secret, sizeof(secret), SV(big),
	                     SV(out), NONCE_T, 300, NULL),
	    SIP_NONCE_OK);
	/* Other random bytes, other nonce; both check. Time 0 works. */
	assert_int_equal(sip_nonce_make(secret, sizeof(secret), SV(NONCE_REALM),
	                     0, rand8, n1, sizeof(n1)),
	    0);
	assert_int_equal(sip_nonce_make(secret, sizeof(secret), SV(NONCE_REALM),
	                     0, r2, n2, sizeof(n2)),
	    0);
	assert_string_not_equal(n1, n2);
	assert_int_equal(nonce_check(n1, 0, NULL), SIP_NONCE_OK);
	assert_int_equal(nonce_check(n2, 0, NULL), SIP_NONCE_OK);
}

/* Builds a nonce by hand (as the Python vector does) for any 64-bit time,
 * with a valid MAC, to reach times sip_nonce_make() refuses. */
static void
nonce_forge(uint64_t t, char out[SIP_NONCE_SIZE])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789-_";
	unsigned char in[64], bin[33] = {0}, mac[32];
	unsigned int maclen = 0;
	size_t n = 0, i;

	memcpy(in, "sw-nonce-v1", 11);
	n = 11;
	memcpy(in + n, NONCE_REALM, strlen(NONCE_REALM));
	n += strlen(NONCE_REALM);
	for (i = 0; i < 8; i++)
		bin[i] = (unsigned char)(t >> (56 - 8 * i));
	memcpy(bin + 8, rand8, 8);
	memcpy(in + n, bin, 16);
	n += 16;
	assert_non_null(
	    HMAC(EVP_sha256(), secret, sizeof(secret), in, n, mac, &maclen));
	memcpy(bin + 16, mac, 16);
	/* 11 groups of 3 bytes (the last padded with a zero byte), 4 chars
	 * each; the 44th character is dropped. */
	for (i = 0; i < 11; i++) {
		uint32_t g = (uint32_t)bin[3 * i] << 16 |
		             (uint32_t)bin[3 * i + 1] << 8 | bin[3 * i + 2];

		out[4 * i] = b64[g >> 18 & 63];
		out[4 * i + 1] = b64[g >> 12 & 63];
		out[4 * i + 2] = b64[g >> 6 & 63];
		if (4 * i + 3 < SIP_NONCE_LEN)
			out[4 * i + 3] = b64[g & 63];
	}
	out[SIP_NONCE_LEN] = '\0';
}

static void
test_nonce_forged_times(void **state)
{
	char n[SIP_NONCE_SIZE];
	int64_t issued = -1;

	(void)state;
	/* The hand-made encoding agrees with sip_nonce_make(). */
	nonce_forge((uint64_t)NONCE_T, n);
	assert_string_equal(n, NONCE_VECTOR);
	/* Times past INT64_MAX, which a signed view would make negative. */
	nonce_forge(UINT64_C(1) << 63, n);
	assert_int_equal(nonce_check(n, NONCE_T, &issued), SIP_NONCE_BAD);
	nonce_forge(UINT64_MAX, n);
	assert_int_equal(nonce_check(n, NONCE_T, &issued), SIP_NONCE_BAD);
	assert_int_equal(issued, -1);
	/* INT64_MAX itself is merely far in the future. */
	nonce_forge((uint64_t)INT64_MAX, n);
	assert_int_equal(nonce_check(n, NONCE_T, NULL), SIP_NONCE_BAD);
	assert_int_equal(nonce_check(n, INT64_MAX, &issued), SIP_NONCE_OK);
	assert_int_equal(issued, INT64_MAX);
	nonce_forge(0, n);
	assert_int_equal(nonce_check(n, NONCE_T, NULL), SIP_NONCE_STALE);
	assert_int_equal(nonce_check(n, -60, NULL), SIP_NONCE_OK);
	assert_int_equal(nonce_check(n, -61, NULL), SIP_NONCE_BAD);
}

/* ---- challenges ---- */

static void
test_challenge_text(void **state)
{
	char out[SIP_CHALLENGE_MAX];
	struct sv op = SV("5ccc069c403ebaf9f0171e9517f40e41");

	(void)state;
	assert_int_equal(
	    sip_digest_challenge(out, sizeof(out), SV("acme.example.com"),
	        SV(NONCE_VECTOR), SIP_DIGEST_SHA256, false, NULL),
	    0);
	assert_string_equal(out,
	    "Digest realm=\"acme.example.com\", nonce=\"" NONCE_VECTOR
	    "\", algorithm=SHA-256, qop=\"auth\"");
	assert_int_equal(
	    sip_digest_challenge(out, sizeof(out), SV("acme.example.com"),
	        SV(NONCE_VECTOR), SIP_DIGEST_MD5, true, NULL),
	    0);
	assert_string_equal(out,
	    "Digest realm=\"acme.example.com\", nonce=\"" NONCE_VECTOR
	    "\", algorithm=MD5, qop=\"auth\", stale=true");
	assert_int_equal(
	    sip_digest_challenge(out, sizeof(out), SV("acme.example.com"),
	        SV(NONCE_VECTOR), SIP_DIGEST_SHA256_SESS, true, &op),
	    0);
	assert_string_equal(out,
	    "Digest realm=\"acme.example.com\", nonce=\"" NONCE_VECTOR
	    "\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", "
	    "algorithm=SHA-256-sess, qop=\"auth\", stale=true");
	assert_int_equal(
	    sip_digest_challenge(out, sizeof(out), SV("acme.example.com"),
	        SV(NONCE_VECTOR), SIP_DIGEST_MD5_SESS, false, NULL),
	    0);
	assert_string_equal(out,
	    "Digest realm=\"acme.example.com\", nonce=\"" NONCE_VECTOR
	    "\", algorithm=MD5-sess, qop=\"auth\"");
}

static void
test_challenge_escape_and_limits(void **state)
{
	static const char want[] =
	    "Digest realm=\"a\\\"b\\\\c\", nonce=\"n\", algorithm=MD5, "
	    "qop=\"auth\"";
	char out[SIP_CHALLENGE_MAX], val[SIP_DIGEST_VALUE_MAX + 1];
	struct sip_digest_cred c;
	struct sv op;
	char hdr[256];

	(void)state;
	assert_int_equal(sip_digest_challenge(out, sizeof(out), SV("a\"b\\c"),
	                     SV("n"), SIP_DIGEST_MD5, false, NULL),
	    0);
	assert_string_equal(out, want);
	/* The escaped realm reads back through the credentials parser. */
	snprintf(hdr, sizeof(hdr), "Digest username=\"u\", %.*s, " GOOD_TAIL,
	    (int)strlen("realm=\"a\\\"b\\\\c\", nonce=\"n\""),
	    out + strlen("Digest "));
	assert_int_equal(parse(hdr, &c), 0);
	assert_true(sv_is(c.realm, "a\"b\\c"));
	/* Exact fit, one byte short. */
	assert_int_equal(sip_digest_challenge(out, sizeof(want), SV("a\"b\\c"),
	                     SV("n"), SIP_DIGEST_MD5, false, NULL),
	    0);
	assert_string_equal(out, want);
	assert_int_equal(
	    sip_digest_challenge(out, sizeof(want) - 1, SV("a\"b\\c"), SV("n"),
	        SIP_DIGEST_MD5, false, NULL),
	    EMSGSIZE);
	assert_string_equal(out, "");
	/* Header injection and controls are refused. */
	assert_int_equal(
	    sip_digest_challenge(out, sizeof(out), SV("a\r\nX-Evil: 1"),
	        SV("n"), SIP_DIGEST_MD5, false, NULL),
	    EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(sip_digest_challenge(out, sizeof(out), SV("r"),
	                     SV("n\x01"), SIP_DIGEST_MD5, false, NULL),
	    EINVAL);
	op = SV("o\n");
	assert_int_equal(sip_digest_challenge(out, sizeof(out), SV("r"),
	                     SV("n"), SIP_DIGEST_MD5, false, &op),
	    EINVAL);
	assert_int_equal(sip_digest_challenge(out, sizeof(out), SV(""), SV("n"),
	                     SIP_DIGEST_MD5, false, NULL),
	    EINVAL);
	assert_int_equal(sip_digest_challenge(out, sizeof(out), SV("r"), SV(""),
	                     SIP_DIGEST_MD5, false, NULL),
	    EINVAL);
	assert_int_equal(sip_digest_challenge(out, sizeof(out), SV("r"),
	                     SV("n"), (enum sip_digest_alg)4, false, NULL),
	    EINVAL);
	/* SIP_CHALLENGE_MAX holds the largest: every value full of quotes. */
	memset(val, '"', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	op = SV(val);
	assert_int_equal(sip_digest_challenge(out, sizeof(out), SV(val),
	                     SV(val), SIP_DIGEST_SHA256_SESS, true, &op),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc2617_example),
	    cmocka_unit_test(test_rfc7616_sha256_example),
	    cmocka_unit_test(test_rfc7616_md5_example),
	    cmocka_unit_test(test_sip_md5_auth),
	    cmocka_unit_test(test_sip_sha256_auth),
	    cmocka_unit_test(test_sip_sess),
	    cmocka_unit_test(test_sip_auth_int),
	    cmocka_unit_test(test_sip_no_qop),
	    cmocka_unit_test(test_tampered),
	    cmocka_unit_test(test_verify_unknown),
	    cmocka_unit_test(test_verify_args),
	    cmocka_unit_test(test_parse_lws),
	    cmocka_unit_test(test_parse_escapes),
	    cmocka_unit_test(test_parse_duplicates_unknown),
	    cmocka_unit_test(test_parse_missing),
	    cmocka_unit_test(test_parse_algorithm),
	    cmocka_unit_test(test_parse_qop_nc_userhash),
	    cmocka_unit_test(test_parse_syntax),
	    cmocka_unit_test(test_parse_other_scheme),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_nonce_vector),
	    cmocka_unit_test(test_nonce_age),
	    cmocka_unit_test(test_nonce_bad),
	    cmocka_unit_test(test_nonce_make_args),
	    cmocka_unit_test(test_nonce_forged_times),
	    cmocka_unit_test(test_challenge_text),
	    cmocka_unit_test(test_challenge_escape_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
