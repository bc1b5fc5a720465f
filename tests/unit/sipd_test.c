/* sipd_test.c: the registrar through sipd_process, without sockets:
 * challenges, digest answers, and the no-enumeration property: an unknown
 * user, a disabled one and a wrong password get byte-identical answers
 * (but for the To tag) after the same work (a counting hook: one table
 * lookup and one digest computation each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "call/sipd.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static const char *domain = "acme.example.com";

struct fixture {
	struct credtab *creds;
	struct regtab *reg;
	struct nctab *nc;
	struct sipd *d;
	struct tp_flow f;
	char out[SIPD_OUT_MAX];
	size_t outlen;
};

static void
md5_hex(const char *s, char out[33])
{
	unsigned char md[16];
	unsigned int n;

	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	util_hex(md, 16, out);
}

static void
add_ext(struct credtab *t, int64_t id, const char *num, const char *pw,
    bool enabled)
{
	struct cred_entry e;
	char a1[256];

	memset(&e, 0, sizeof(e));
	e.ext_id = id;
	e.tenant_id = 1;
	e.enabled = enabled;
	snprintf(e.number, sizeof(e.number), "%s", num);
	snprintf(e.domain, sizeof(e.domain), "%s", domain);
	snprintf(a1, sizeof(a1), "%s:%s:%s", num, domain, pw);
	md5_hex(a1, e.ha1_md5);
	snprintf(e.ha1_sha256, sizeof(e.ha1_sha256), "%064d", 0);
	assert_int_equal(credtab_put(t, &e), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sipd_params p;
	struct cred_domain dom;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&fx->f.peer;

	assert_non_null(fx);
	assert_int_equal(credtab_new(&fx->creds), 0);
	assert_int_equal(regtab_new(&fx->reg), 0);
	assert_int_equal(nctab_new(&fx->nc), 0);
	memset(&dom, 0, sizeof(dom));
	dom.tenant_id = 1;
	snprintf(dom.domain, sizeof(dom.domain), "%s", domain);
	dom.algs[0] = 0; /* MD5 */
	dom.algs[1] = 2; /* SHA-256 */
	dom.nalgs = 2;
	assert_int_equal(credtab_domain_put(fx->creds, &dom), 0);
	add_ext(fx->creds, 1, "1001", "Xk3#pL9vQ2!mTz7wQ9", true);
	add_ext(fx->creds, 2, "1002", "Zz9#pL9vQ2!mTz7wQ8", false);
	memset(&p, 0, sizeof(p));
	p.node = "test";
	p.nworkers = 1;
	p.creds = fx->creds;
	p.reg = fx->reg;
	p.nc = fx->nc;
	randombytes_buf(p.nonce_key, sizeof(p.nonce_key));
	assert_int_equal(sipd_new(&p, &fx->d), 0);
	fx->f.proto = TP_TCP; /* no retransmission cache in the way */
	sin->sin_family = AF_INET;
	sin->sin_port = htons(5070);
	inet_pton(AF_INET, "192.0.2.7", &sin->sin_addr);
	fx->f.peerlen = sizeof(*sin);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	sipd_free(fx->d);
	nctab_free(fx->nc);
	regtab_free(fx->reg);
	credtab_free(fx->creds);
	free(fx);
	return 0;
}

/* Sends a REGISTER for user with an optional Authorization value. */
static void
send_register(struct fixture *fx, const char *user, int cseq, const char *auth)
{
	char msg[4096], ah[1024] = "";
	int n;

	if (auth != NULL)
		snprintf(ah, sizeof(ah), "Authorization: %s\r\n", auth);
	n = snprintf(msg, sizeof(msg),
	    "REGISTER sip:%s SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 192.0.2.7:5070;branch=z9hG4bK%d\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:%s@%s>;tag=f1\r\n"
	    "To: <sip:%s@%s>\r\n"
	    "Call-ID: cid-%s\r\n"
	    "CSeq: %d REGISTER\r\n"
	    "Contact: <sip:%s@192.0.2.7:5070;transport=tcp>\r\n"
	    "Expires: 300\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n",
	    domain, cseq, user, domain, user, domain, user, cseq, user, ah);
	assert_true(n > 0 && (size_t)n < sizeof(msg));
	assert_int_equal(sipd_process(fx->d, 0, &fx->f, msg, (size_t)n, fx->out,
	                     sizeof(fx->out), &fx->outlen),
	    0);
	fx->out[fx->outlen] = '\0';
}

/* The nonce of the first (MD5) challenge in fx->out. */
static void
nonce_of(struct fixture *fx, char *nonce, size_t size)
{
	const char *p = strstr(fx->out, "nonce=\""), *q;

	assert_non_null(p);
	p += 7;
	q = strchr(p, '"');
	assert_non_null(q);
	assert_true((size_t)(q - p) < size);
	memcpy(nonce, p, (size_t)(q - p));
	nonce[q - p] = '\0';
}

static void
auth_value(const char *user, const char *pw, const char *nonce, const char *nc,
    char *out, size_t size)
{
	char a1[256], a2[256], r[512], ha1[33], ha2[33], resp[33];

	snprintf(a1, sizeof(a1), "%s:%s:%s", user, domain, pw);
	md5_hex(a1, ha1);
	snprintf(a2, sizeof(a2), "REGISTER:sip:%s", domain);
	md5_hex(a2, ha2);
	snprintf(r, sizeof(r), "%s:%s:%s:c0ffee:auth:%s", ha1, nonce, nc, ha2);
	md5_hex(r, resp);
	snprintf(out, size,
	    "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", "
	    "uri=\"sip:%s\", response=\"%s\", algorithm=MD5, qop=auth, "
	    "nc=%s, cnonce=\"c0ffee\"",
	    user, domain, nonce, domain, resp, nc);
}

/* The answer without its To tag (";tag=..." up to the line end). */
static void
strip_tag(const char *in, char *out, size_t size)
{
	const char *to = strstr(in, "\r\nTo: "), *tag, *eol;

	assert_non_null(to);
	tag = strstr(to, ";tag=");
	eol = strstr(to + 2, "\r\n");
	assert_true(tag != NULL && tag < eol);
	snprintf(out, size, "%.*s%s", (int)(tag - in), in, eol);
}

static void
test_challenge_and_register(void **state)
{
	struct fixture *fx = *state;
	char nonce[128], auth[1024];
	struct reg_contact c[REG_CONTACTS_MAX];

	send_register(fx, "1001", 1, NULL);
	assert_non_null(strstr(fx->out, "SIP/2.0 401 Unauthorized\r\n"));
	assert_non_null(strstr(fx->out, "algorithm=MD5"));
	assert_non_null(strstr(fx->out, "algorithm=SHA-256"));
	assert_true(strstr(fx->out, "algorithm=MD5") <
	            strstr(fx->out, "algorithm=SHA-256"));
	assert_null(strstr(fx->out, "Server:"));
	nonce_of(fx, nonce, sizeof(nonce));
	auth_value("1001", "Xk3#pL9vQ2!mTz7wQ9", nonce, "00000001", auth,
	    sizeof(auth));
	send_register(fx, "1001", 2, auth);
	assert_non_null(strstr(fx->out, "SIP/2.0 200 OK\r\n"));
	assert_non_null(strstr(fx->out,
	    "Contact: <sip:1001@192.0.2.7:5070;transport=tcp>;expires=300"));
	assert_int_equal(regtab_get(fx->reg, 1, util_now_us(), c, 10), 1);
	assert_true(c[0].has_flow);
	/* The same nonce and count again: a replay, challenged anew. */
	send_register(fx, "1001", 3, auth);
	assert_non_null(strstr(fx->out, "SIP/2.0 401 "));
	/* The next count is fine. */
	auth_value("1001", "Xk3#pL9vQ2!mTz7wQ9", nonce, "00000002", auth,
	    sizeof(auth));
	send_register(fx, "1001", 4, auth);
	assert_non_null(strstr(fx->out, "SIP/2.0 200 OK\r\n"));
}

static void
test_no_enumeration(void **state)
{
	struct fixture *fx = *state;
	struct sipd_stats *st = sipd_stats(fx->d);
	const char *users[3] = {"1001", "1002", "1009"};
	const char *pws[3] = {
	    "wrong-password-1", "Zz9#pL9vQ2!mTz7wQ8", "whatever-pw-9"};
	char nonce[128], auth[1024], answers[3][SIPD_OUT_MAX];
	uint64_t lookups[3], digests[3];
	int i;

	/* 1001: known, wrong password; 1002: disabled, right password;
	 * 1009: unknown. */
	for (i = 0; i < 3; i++) {
		uint64_t l0, d0;

		send_register(fx, users[i], 1, NULL);
		nonce_of(fx, nonce, sizeof(nonce));
		auth_value(
		    users[i], pws[i], nonce, "00000001", auth, sizeof(auth));
		l0 = atomic_load(&st->auth_lookups);
		d0 = atomic_load(&st->auth_digests);
		send_register(fx, users[i], 2, auth);
		lookups[i] = atomic_load(&st->auth_lookups) - l0;
		digests[i] = atomic_load(&st->auth_digests) - d0;
		strip_tag(fx->out, answers[i], sizeof(answers[i]));
	}
	assert_non_null(strstr(answers[0], "SIP/2.0 403 Forbidden\r\n"));
	for (i = 0; i < 3; i++) {
		/* Identical but for the user in From/To/Call-ID/Contact, which
		 * the request itself carries: swap it out to compare. */
		char norm[SIPD_OUT_MAX], *p;

		snprintf(norm, sizeof(norm), "%s", answers[i]);
		while ((p = strstr(norm, users[i])) != NULL)
			memcpy(p, "XXXX", 4);
		snprintf(answers[i], sizeof(answers[i]), "%s", norm);
		assert_int_equal(lookups[i], 1);
		assert_int_equal(digests[i], 1);
	}
	assert_string_equal(answers[0], answers[1]);
	assert_string_equal(answers[0], answers[2]);
	assert_int_equal(atomic_load(&st->unknown_user), 1);
	assert_int_equal(atomic_load(&st->disabled), 1);
}

static void
test_bad_input(void **state)
{
	struct fixture *fx = *state;
	char msg[] = "REGISTER sip:acme.example.com SIP/2.0\r\n"
	             "Via: SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKx\r\n"
	             "From: <sip:1@acme.example.com>;tag=1\r\n"
	             "To: <sip:1@acme.example.com>\r\n"
	             "Call-ID: x\r\n"
	             "CSeq: 1 INVITE\r\n" /* method mismatch: EBADMSG */
	             "Content-Length: 0\r\n\r\n";
	char v3[] = "REGISTER sip:acme.example.com SIP/3.0\r\n"
	            "Via: SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKx\r\n"
	            "From: <sip:1@acme.example.com>;tag=1\r\n"
	            "To: <sip:1@acme.example.com>\r\n"
	            "Call-ID: x\r\nCSeq: 1 REGISTER\r\n"
	            "Content-Length: 0\r\n\r\n";
	char junk[] = "\x01\x02garbage\r\n\r\n";

	assert_int_not_equal(
	    sipd_process(fx->d, 0, &fx->f, msg, sizeof(msg) - 1, fx->out,
	        sizeof(fx->out), &fx->outlen),
	    0);
	fx->out[fx->outlen] = '\0';
	assert_non_null(strstr(fx->out, "SIP/2.0 400 Bad Request\r\n"));
	assert_non_null(strstr(fx->out, "Call-ID: x\r\n"));
	/* RFC 3261 8.2.6.2: the 400 has a To tag of ours. */
	assert_non_null(strstr(fx->out, "To: <sip:1@acme.example.com>;tag="));
	assert_int_equal(sipd_process(fx->d, 0, &fx->f, v3, sizeof(v3) - 1,
	                     fx->out, sizeof(fx->out), &fx->outlen),
	    0);
	fx->out[fx->outlen] = '\0';
	assert_non_null(strstr(fx->out, "SIP/2.0 505 "));
	sipd_process(fx->d, 0, &fx->f, junk, sizeof(junk) - 1, fx->out,
	    sizeof(fx->out), &fx->outlen);
	assert_int_equal(fx->outlen, 0);
}

/* Strangers send no large bodies: 413 before any authentication. */
static void
test_preauth_body_limit(void **state)
{
	struct fixture *fx = *state;
	static char msg[8192];
	char body[5000];
	int n;

	memset(body, 'x', sizeof(body));
	n = snprintf(msg, sizeof(msg),
	    "OPTIONS sip:acme.example.com SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 192.0.2.7;branch=z9hG4bKb\r\n"
	    "From: <sip:1@acme.example.com>;tag=1\r\n"
	    "To: <sip:acme.example.com>\r\n"
	    "Call-ID: big\r\nCSeq: 1 OPTIONS\r\n"
	    "Content-Length: %zu\r\n\r\n%.*s",
	    sizeof(body), (int)sizeof(body), body);
	assert_true(n > 0 && (size_t)n < sizeof(msg));
	assert_int_equal(sipd_process(fx->d, 0, &fx->f, msg, (size_t)n, fx->out,
	                     sizeof(fx->out), &fx->outlen),
	    0);
	fx->out[fx->outlen] = '\0';
	assert_non_null(strstr(fx->out, "SIP/2.0 413 "));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_challenge_and_register, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_enumeration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_preauth_body_limit, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
