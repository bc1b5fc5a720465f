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

/* ---- the guard in front of the registrar ---- */

struct gfixture {
	struct fixture fx;
	struct guard *g;
};

static int
setup_guard_mode(void **state, bool stealth)
{
	struct gfixture *gx = calloc(1, sizeof(*gx));
	struct fixture *fx;
	struct guard_params gp;
	struct sipd_params p;
	struct cred_domain dom;
	static const char decoys[2][CONFIG_DECOY_LEN + 1] = {"100", "1000"};
	struct sockaddr_in *sin;

	assert_non_null(gx);
	fx = &gx->fx;
	sin = (struct sockaddr_in *)(void *)&fx->f.peer;
	memset(&gp, 0, sizeof(gp));
	gp.max_failures = 5;
	gp.window_us = 60 * 1000000LL;
	gp.ban_us = 3600 * 1000000LL;
	gp.ban_max_us = gp.ban_us * 16;
	gp.trust_us = 3600 * 1000000LL;
	gp.capacity = 1024;
	gp.stealth = stealth;
	gp.lock_us = 900 * 1000000LL;
	gp.decoys = decoys;
	gp.decoys_n = 2;
	assert_int_equal(guard_new(&gp, &gx->g), 0);
	assert_int_equal(credtab_new(&fx->creds), 0);
	assert_int_equal(regtab_new(&fx->reg), 0);
	assert_int_equal(nctab_new(&fx->nc), 0);
	memset(&dom, 0, sizeof(dom));
	dom.tenant_id = 1;
	snprintf(dom.domain, sizeof(dom.domain), "%s", domain);
	dom.algs[0] = 0; /* MD5 */
	dom.nalgs = 1;
	assert_int_equal(credtab_domain_put(fx->creds, &dom), 0);
	add_ext(fx->creds, 1, "1001", "Xk3#pL9vQ2!mTz7wQ9", true);
	/* A real extension with a decoy's number: no decoy. */
	add_ext(fx->creds, 3, "1000", "Yk3#pL9vQ2!mTz7wQ7", true);
	memset(&p, 0, sizeof(p));
	p.node = "test";
	p.nworkers = 1;
	p.creds = fx->creds;
	p.reg = fx->reg;
	p.nc = fx->nc;
	p.guard = gx->g;
	randombytes_buf(p.nonce_key, sizeof(p.nonce_key));
	assert_int_equal(sipd_new(&p, &fx->d), 0);
	fx->f.proto = TP_TCP;
	fx->f.worker = 0;
	fx->f.conn_id = 1;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(5070);
	inet_pton(AF_INET, "192.0.2.7", &sin->sin_addr);
	fx->f.peerlen = sizeof(*sin);
	*state = gx;
	return 0;
}

static int
setup_guard(void **state)
{
	return setup_guard_mode(state, true);
}

static int
setup_guard_loud(void **state)
{
	return setup_guard_mode(state, false);
}

static int
teardown_guard(void **state)
{
	struct gfixture *gx = *state;

	sipd_free(gx->fx.d);
	nctab_free(gx->fx.nc);
	regtab_free(gx->fx.reg);
	credtab_free(gx->fx.creds);
	guard_free(gx->g);
	free(gx);
	return 0;
}

/* Sets the source of the next messages: an IPv4 address and port, and
 * for TCP/TLS a connection id. */
static void
source(struct fixture *fx, const char *ip, unsigned port, enum tp_proto proto,
    uint64_t conn)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&fx->f.peer;

	memset(&fx->f.peer, 0, sizeof(fx->f.peer));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	fx->f.proto = proto;
	fx->f.conn_id = conn;
}

/* Sends a request: method, Request-URI, From/To user, extra header lines;
 * returns the answer's status code (0: no answer). */
static unsigned
send_req(struct fixture *fx, const char *method, const char *ruri,
    const char *from, const char *to, int cseq, const char *extra)
{
	char msg[4096];
	int n;

	n = snprintf(msg, sizeof(msg),
	    "%s %s SIP/2.0\r\n"
	    "Via: SIP/2.0/TCP 192.0.2.7:5070;branch=z9hG4bKg%d\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <%s>;tag=f1\r\n"
	    "To: <%s>\r\n"
	    "Call-ID: g-%d\r\n"
	    "CSeq: %d %s\r\n"
	    "Contact: <sip:x@192.0.2.7:5070;transport=tcp>\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n",
	    method, ruri, cseq, from, to, cseq, cseq, method,
	    extra ? extra : "");
	assert_true(n > 0 && (size_t)n < sizeof(msg));
	fx->outlen = 0;
	sipd_process(fx->d, 0, &fx->f, msg, (size_t)n, fx->out, sizeof(fx->out),
	    &fx->outlen);
	fx->out[fx->outlen] = '\0';
	if (fx->outlen < 12)
		return 0;
	return (unsigned)((fx->out[8] - '0') * 100 + (fx->out[9] - '0') * 10 +
	                  (fx->out[10] - '0'));
}

/* REGISTER user with password from the current source: challenge, then
 * credentials. Returns the final status. */
static unsigned
register_pw(struct fixture *fx, const char *user, const char *pw, int cseq)
{
	char nonce[128], auth[1024];

	send_register(fx, user, cseq, NULL);
	if (strstr(fx->out, "SIP/2.0 401 ") == NULL)
		return fx->outlen == 0 ? 0 : 1;
	nonce_of(fx, nonce, sizeof(nonce));
	auth_value(user, pw, nonce, "00000001", auth, sizeof(auth));
	send_register(fx, user, cseq + 1, auth);
	if (fx->outlen < 12)
		return 0;
	return (unsigned)((fx->out[8] - '0') * 100 + (fx->out[9] - '0') * 10 +
	                  (fx->out[10] - '0'));
}

static void
test_scanner_user_agent(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;
	struct sipd_stats *st = sipd_stats(fx->d);
	int i;

	/* svmap's OPTIONS: silence, counted toward a ban. */
	for (i = 0; i < 4; i++) {
		assert_int_equal(send_req(fx, "OPTIONS", "sip:100@192.0.2.1",
		                     "sip:100@192.0.2.1", "sip:100@192.0.2.1",
		                     i + 1, "User-Agent: friendly-scanner\r\n"),
		    0);
		assert_false(
		    guard_is_banned(gx->g, &fx->f.peer, util_now_us()));
	}
	assert_int_equal(
	    send_req(fx, "REGISTER", "sip:acme.example.com",
	        "sip:1001@acme.example.com", "sip:1001@acme.example.com", 9,
	        "User-Agent: SIPVicious-0.3\r\n"),
	    0);
	assert_true(guard_is_banned(gx->g, &fx->f.peer, util_now_us()));
	assert_int_equal(atomic_load(&st->scanners), 5);
	assert_int_equal(atomic_load(&st->bans), 1);
	/* A phone's user agent from another source: answered. */
	source(fx, "192.0.2.8", 5070, TP_TCP, 2);
	assert_int_equal(
	    send_req(fx, "OPTIONS", "sip:acme.example.com",
	        "sip:1001@acme.example.com", "sip:acme.example.com", 1,
	        "User-Agent: Yealink SIP-T46U 108.86.0.20\r\n"),
	    200);
}

static void
test_scanner_answered_when_loud(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;

	assert_int_equal(
	    send_req(fx, "OPTIONS", "sip:100@192.0.2.1", "sip:100@192.0.2.1",
	        "sip:100@192.0.2.1", 1, "User-Agent: sipcli/v1.8\r\n"),
	    403);
	assert_null(strstr(fx->out, "Server:"));
	assert_null(strstr(fx->out, "User-Agent:"));
	assert_int_equal(send_req(fx, "REGISTER", "sip:other.example.net",
	                     "sip:1001@other.example.net",
	                     "sip:1001@other.example.net", 2, NULL),
	    404);
	assert_int_equal(guard_failures(gx->g, &fx->f.peer, util_now_us()), 2);
}

static void
test_unknown_domain(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;
	int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(
		    send_req(fx, "REGISTER", "sip:other.example.net",
		        "sip:1001@other.example.net",
		        "sip:1001@other.example.net", i + 1, NULL),
		    0);
	assert_true(guard_is_banned(gx->g, &fx->f.peer, util_now_us()));
	/* An INVITE from a domain no tenant has, from a new source. */
	source(fx, "192.0.2.9", 5070, TP_TCP, 3);
	assert_int_equal(
	    send_req(fx, "INVITE", "sip:1001@192.0.2.1", "sip:1001@192.0.2.1",
	        "sip:1001@192.0.2.1", 1, NULL),
	    0);
	assert_int_equal(guard_failures(gx->g, &fx->f.peer, util_now_us()), 1);
	/* A trusted source (it authenticated): answered as before. */
	source(fx, "192.0.2.10", 5070, TP_TCP, 4);
	assert_int_equal(register_pw(fx, "1001", "Xk3#pL9vQ2!mTz7wQ9", 1), 200);
	assert_int_equal(send_req(fx, "REGISTER", "sip:other.example.net",
	                     "sip:1001@other.example.net",
	                     "sip:1001@other.example.net", 5, NULL),
	    401);
	/* A ping without a user is no request for a domain. */
	source(fx, "192.0.2.11", 5070, TP_TCP, 5);
	assert_int_equal(
	    send_req(fx, "OPTIONS", "sip:192.0.2.1:5060",
	        "sip:probe@192.0.2.11", "sip:192.0.2.1:5060", 1, NULL),
	    200);
}

static void
test_decoys(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;
	struct sipd_stats *st = sipd_stats(fx->d);

	/* The first REGISTER for decoy 100: banned at once, no answer. */
	assert_int_equal(send_req(fx, "REGISTER", "sip:acme.example.com",
	                     "sip:100@acme.example.com",
	                     "sip:100@acme.example.com", 1, NULL),
	    0);
	assert_true(guard_is_banned(gx->g, &fx->f.peer, util_now_us()));
	assert_int_equal(atomic_load(&st->decoys), 1);
	/* 1000 is a decoy name but a real extension: challenged. */
	source(fx, "192.0.2.12", 5070, TP_TCP, 6);
	assert_int_equal(send_req(fx, "REGISTER", "sip:acme.example.com",
	                     "sip:1000@acme.example.com",
	                     "sip:1000@acme.example.com", 1, NULL),
	    401);
	assert_false(guard_is_banned(gx->g, &fx->f.peer, util_now_us()));
	/* An INVITE to decoy 100 from a source that authenticated: one
	 * failure, and the usual challenge. */
	assert_int_equal(register_pw(fx, "1001", "Xk3#pL9vQ2!mTz7wQ9", 2), 200);
	assert_int_equal(send_req(fx, "INVITE", "sip:100@acme.example.com",
	                     "sip:1001@acme.example.com",
	                     "sip:100@acme.example.com", 9, NULL),
	    501); /* no b2bua in this test: INVITE gets 501 after it */
	assert_false(guard_is_banned(gx->g, &fx->f.peer, util_now_us()));
	assert_int_equal(guard_failures(gx->g, &fx->f.peer, util_now_us()), 1);
}

static void
test_sweep(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;
	char ruri[64];
	int i;

	/* The same unknown user again: counted once; answered as any. */
	for (i = 0; i < 3; i++)
		assert_int_equal(
		    send_req(fx, "OPTIONS", "sip:4711@acme.example.com",
		        "sip:x@acme.example.com", "sip:4711@acme.example.com",
		        i + 1, NULL),
		    200);
	/* A real extension: not counted. */
	assert_int_equal(
	    send_req(fx, "OPTIONS", "sip:1001@acme.example.com",
	        "sip:x@acme.example.com", "sip:1001@acme.example.com", 5, NULL),
	    200);
	assert_int_equal(guard_failures(gx->g, &fx->f.peer, util_now_us()), 1);
	/* New unknown users: banned at the fifth, which gets no answer. */
	for (i = 0; i < 4; i++) {
		snprintf(
		    ruri, sizeof(ruri), "sip:%d@acme.example.com", 2000 + i);
		assert_int_equal(
		    send_req(fx, "OPTIONS", ruri, "sip:x@acme.example.com",
		        ruri, 10 + i, NULL),
		    i < 3 ? 200 : 0);
	}
	assert_true(guard_is_banned(gx->g, &fx->f.peer, util_now_us()));
}

static void
test_wrong_realm_is_a_failure(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;

	assert_int_equal(
	    send_req(fx, "REGISTER", "sip:acme.example.com",
	        "sip:1001@acme.example.com", "sip:1001@acme.example.com", 1,
	        "Authorization: Digest username=\"1001\", "
	        "realm=\"evil.example\", nonce=\"abc\", uri=\"sip:x\", "
	        "response=\"00000000000000000000000000000000\", "
	        "algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c\"\r\n"),
	    401);
	assert_int_equal(guard_failures(gx->g, &fx->f.peer, util_now_us()), 1);
}

static void
test_lock_spares_own_flow(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;
	struct sipd_stats *st = sipd_stats(fx->d);
	const char *pw = "Xk3#pL9vQ2!mTz7wQ9";
	char ip[32];
	int i;

	/* The phone registers over its TCP connection 10. */
	source(fx, "198.51.100.5", 5062, TP_TCP, 10);
	assert_int_equal(register_pw(fx, "1001", pw, 1), 200);
	/* Five attackers, one wrong password each: no ban, a lock. */
	for (i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 1);
		source(fx, ip, 5060, TP_TCP, (uint64_t)(20 + i));
		assert_int_equal(
		    register_pw(fx, "1001", "wrong-pw-1234", 1), 403);
	}
	assert_int_equal(atomic_load(&st->locks), 1);
	assert_true(guard_ext_is_locked(gx->g, 1, util_now_us()));
	/* The right password on a new flow: refused as a wrong one. */
	source(fx, "203.0.113.9", 5060, TP_TCP, 30);
	assert_int_equal(register_pw(fx, "1001", pw, 1), 403);
	assert_int_equal(atomic_load(&st->locked), 1);
	/* The same address, another connection: refused too. */
	source(fx, "198.51.100.5", 5063, TP_TCP, 11);
	assert_int_equal(register_pw(fx, "1001", pw, 3), 403);
	/* The phone's own connection: it keeps registering. */
	source(fx, "198.51.100.5", 5062, TP_TCP, 10);
	assert_int_equal(register_pw(fx, "1001", pw, 5), 200);
	/* UDP: the address and port its REGISTER came from. */
	assert_int_equal(guard_ext_unlock(gx->g, 1), 0);
	source(fx, "198.51.100.6", 5070, TP_UDP, 0);
	assert_int_equal(register_pw(fx, "1001", pw, 7), 200);
	for (i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "203.0.113.%d", i + 40);
		source(fx, ip, 5060, TP_TCP, (uint64_t)(40 + i));
		assert_int_equal(
		    register_pw(fx, "1001", "wrong-pw-1234", 1), 403);
	}
	assert_true(guard_ext_is_locked(gx->g, 1, util_now_us()));
	source(fx, "198.51.100.6", 5071, TP_UDP, 0);
	assert_int_equal(register_pw(fx, "1001", pw, 9), 403);
	source(fx, "198.51.100.6", 5070, TP_UDP, 0);
	assert_int_equal(register_pw(fx, "1001", pw, 11), 200);
}

static void
test_tls_pin(void **state)
{
	struct gfixture *gx = *state;
	struct fixture *fx = &gx->fx;
	struct sipd_stats *st = sipd_stats(fx->d);
	const char *pw = "Xk3#pL9vQ2!mTz7wQ9";
	const struct cred_entry *e;
	struct cred_entry copy;

	/* Over TCP first: not pinned. */
	source(fx, "198.51.100.7", 5070, TP_TCP, 50);
	assert_int_equal(register_pw(fx, "1001", pw, 1), 200);
	/* Over TLS: pinned from now on. */
	source(fx, "198.51.100.7", 5071, TP_TLS, 51);
	assert_int_equal(register_pw(fx, "1001", pw, 3), 200);
	e = credtab_find(fx->creds, "1001", 4, domain, strlen(domain));
	assert_non_null(e);
	assert_true(e->tls_pinned);
	/* TCP and UDP: the right password is refused, as a wrong one. */
	source(fx, "198.51.100.7", 5070, TP_TCP, 50);
	assert_int_equal(register_pw(fx, "1001", pw, 5), 403);
	source(fx, "198.51.100.7", 5072, TP_UDP, 0);
	assert_int_equal(register_pw(fx, "1001", pw, 7), 403);
	assert_int_equal(atomic_load(&st->pinned), 2);
	/* TLS still works. */
	source(fx, "198.51.100.7", 5071, TP_TLS, 51);
	assert_int_equal(register_pw(fx, "1001", pw, 9), 200);
	/* Reset (the store reloads the entry without the pin). */
	copy = *e;
	copy.tls_pinned = false;
	assert_int_equal(credtab_put(fx->creds, &copy), 0);
	source(fx, "198.51.100.7", 5072, TP_UDP, 0);
	assert_int_equal(register_pw(fx, "1001", pw, 11), 200);
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
	    cmocka_unit_test_setup_teardown(
	        test_scanner_user_agent, setup_guard, teardown_guard),
	    cmocka_unit_test_setup_teardown(test_scanner_answered_when_loud,
	        setup_guard_loud, teardown_guard),
	    cmocka_unit_test_setup_teardown(
	        test_unknown_domain, setup_guard, teardown_guard),
	    cmocka_unit_test_setup_teardown(
	        test_decoys, setup_guard, teardown_guard),
	    cmocka_unit_test_setup_teardown(
	        test_sweep, setup_guard, teardown_guard),
	    cmocka_unit_test_setup_teardown(
	        test_wrong_realm_is_a_failure, setup_guard, teardown_guard),
	    cmocka_unit_test_setup_teardown(
	        test_lock_spares_own_flow, setup_guard, teardown_guard),
	    cmocka_unit_test_setup_teardown(
	        test_tls_pin, setup_guard, teardown_guard),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
