/* sip_build_test.c: the response and request builders (src/sip/build.c),
 * checked by parsing what they write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/build.h"

#include <errno.h>
#include <string.h>

static struct sip_msg req, resp;
static char out[SIP_MSG_MAX + 1];

static const char REGISTER[] =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport\r\n"
    "Via: SIP/2.0/TCP p1.example.com;branch=z9hG4bK-2,\r\n"
    "  SIP/2.0/UDP\r\n  p2.example.com;branch=z9hG4bK-3\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Ann\" <sip:ann@example.com>;tag=a73kszlfl\r\n"
    "To: <sip:ann@example.com>\r\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n"
    "CSeq: 42 REGISTER\r\n"
    "Contact: <sip:ann@192.0.2.10:5060>;expires=3600\r\n"
    "User-Agent: Phone 1.0\r\n"
    "Content-Length: 0\r\n\r\n";

static bool
sv_is(struct sv v, const char *s)
{
	return v.len == strlen(s) && (v.len == 0 || memcmp(v.p, s, v.len) == 0);
}

#define assert_sv(v, s)                                                        \
	do {                                                                   \
		if (!sv_is((v), (s)))                                          \
			fail_msg("got \"%.*s\", want \"%s\"", (int)(v).len,    \
			    (v).p, (s));                                       \
	} while (0)

static void
load(const char *s)
{
	assert_int_equal(sip_msg_parse(s, strlen(s), &req), 0);
}

static void
test_roundtrip(void **state)
{
	size_t n;
	struct sv v;

	(void)state;
	load(REGISTER);
	assert_int_equal(
	    sip_build_response(out, sizeof(out), &req, 200, NULL, "xyz789",
	        "198.51.100.7", 40000,
	        "Contact: <sip:ann@192.0.2.10:5060>;expires=3600\r\n"
	        "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n",
	        NULL, 0, &n),
	    0);
	assert_int_equal(sip_msg_parse(out, n, &resp), 0);
	assert_int_equal(resp.len, n);
	assert_false(resp.is_request);
	assert_int_equal(resp.status, 200);
	assert_sv(resp.reason, "OK");
	assert_int_equal(resp.nvia, 3);
	assert_sv(resp.via[0].host, "192.0.2.10");
	assert_sv(resp.via[0].branch, "z9hG4bK-1");
	assert_sv(resp.via[0].received, "198.51.100.7");
	assert_true(resp.via[0].has_rport_value);
	assert_int_equal(resp.via[0].rport_value, 40000);
	assert_sv(
	    resp.via[1].value, "SIP/2.0/TCP p1.example.com;branch=z9hG4bK-2");
	/* The fold became one space. */
	assert_sv(
	    resp.via[2].value, "SIP/2.0/UDP p2.example.com;branch=z9hG4bK-3");
	assert_sv(
	    resp.from.value, "\"Ann\" <sip:ann@example.com>;tag=a73kszlfl");
	assert_sv(resp.to.tag, "xyz789");
	assert_sv(resp.call_id, "1j9FpLxk3uxtm8tn@192.0.2.10");
	assert_int_equal(resp.cseq, 42);
	assert_sv(resp.cseq_method_name, "REGISTER");
	assert_int_equal(resp.ncontact, 1);
	assert_int_equal(resp.contact[0].expires, 3600);
	assert_true(resp.has_content_length);
	assert_int_equal(resp.content_length, 0);
	/* Nothing that names the product. */
	assert_null(sip_msg_hdr(&resp, SIP_HDR_SERVER));
	assert_null(sip_msg_hdr(&resp, SIP_HDR_USER_AGENT));
	assert_int_equal(sip_param_find(resp.via[0].params, "rport", &v), 0);
	assert_sv(v, "40000");
	/* Exactly these bytes. */
	static const char want[] =
	    "SIP/2.0 200 OK\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;"
	    "received=198.51.100.7;rport=40000\r\n"
	    "Via: SIP/2.0/TCP p1.example.com;branch=z9hG4bK-2\r\n"
	    "Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK-3\r\n"
	    "From: \"Ann\" <sip:ann@example.com>;tag=a73kszlfl\r\n"
	    "To: <sip:ann@example.com>;tag=xyz789\r\n"
	    "Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10\r\n"
	    "CSeq: 42 REGISTER\r\n"
	    "Contact: <sip:ann@192.0.2.10:5060>;expires=3600\r\n"
	    "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
	    "Content-Length: 0\r\n\r\n";
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);
}

static void
test_received_rport(void **state)
{
	size_t n;

	(void)state;
	/* Same host, no rport: no received. */
	load("OPTIONS sip:a@b SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=10.0.0.1\r\n"
	     "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\n"
	     "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, "Fine",
	                     "ignored", "192.0.2.1", 5060, NULL, NULL, 0, &n),
	    0);
	assert_int_equal(sip_msg_parse(out, n, &resp), 0);
	assert_sv(resp.via[0].received, "10.0.0.1"); /* left as it was */
	assert_false(resp.via[0].rport);
	assert_sv(resp.to.tag, "2"); /* the To had a tag already */
	assert_sv(resp.reason, "Fine");
	/* Another host: received replaces the old one. */
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, NULL,
	                     NULL, "203.0.113.9", 0, NULL, NULL, 0, &n),
	    0);
	assert_int_equal(sip_msg_parse(out, n, &resp), 0);
	assert_sv(resp.via[0].received, "203.0.113.9");
	assert_null(memmem(out, n, "10.0.0.1", 8));
	/* IPv6 (RFC 5118): brackets in sent-by, none in received. */
	load("OPTIONS sip:a@b SIP/2.0\r\n"
	     "Via: SIP/2.0/UDP [2001:db8::9:1];rport=5;branch=z9hG4bK1\r\n"
	     "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n"
	     "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 100, NULL,
	                     "t", "2001:db8::9:1", 5062, NULL, NULL, 0, &n),
	    0);
	assert_int_equal(sip_msg_parse(out, n, &resp), 0);
	assert_sv(resp.via[0].received, "2001:db8::9:1"); /* rport asked */
	assert_int_equal(resp.via[0].rport_value, 5062);
	assert_false(resp.to.has_tag); /* no tag on a 100 */
	assert_sv(resp.reason, "Trying");
	/* rport 0 leaves the parameter as it was. */
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 180, NULL,
	                     "t", NULL, 0, NULL, NULL, 0, &n),
	    0);
	assert_int_equal(sip_msg_parse(out, n, &resp), 0);
	assert_int_equal(resp.via[0].rport_value, 5);
	assert_false(resp.via[0].has_received);
	assert_sv(resp.to.tag, "t");
}

static void
test_body_and_505(void **state)
{
	static const char sdp[] = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";
	size_t n;

	(void)state;
	load(REGISTER);
	assert_int_equal(
	    sip_build_response(out, sizeof(out), &req, 488,
	        "Not Acceptable Here", "x", NULL, 0,
	        "Content-Type: application/sdp\r\n", sdp, sizeof(sdp) - 1, &n),
	    0);
	assert_int_equal(sip_msg_parse(out, n, &resp), 0);
	assert_int_equal(resp.body.len, sizeof(sdp) - 1);
	assert_memory_equal(resp.body.p, sdp, sizeof(sdp) - 1);
	/* A request parsed with EPROTONOSUPPORT can get its 505. */
	static const char v3[] = "OPTIONS sip:a@b SIP/3.0\r\n"
	                         "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	                         "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
	                         "Call-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n";
	assert_int_equal(
	    sip_msg_parse(v3, sizeof(v3) - 1, &req), EPROTONOSUPPORT);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 505, NULL,
	                     "t", NULL, 0, NULL, NULL, 0, &n),
	    0);
	assert_int_equal(sip_msg_parse(out, n, &resp), 0);
	assert_int_equal(resp.status, 505);
	assert_sv(resp.reason, "Version Not Supported");
}

static void
test_sizes(void **state)
{
	size_t n, full, i;

	(void)state;
	load(REGISTER);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 401, NULL,
	                     "t", "198.51.100.7", 1, NULL, "body", 4, &full),
	    0);
	for (i = 0; i < full; i++)
		assert_int_equal(
		    sip_build_response(out, i, &req, 401, NULL, "t",
		        "198.51.100.7", 1, NULL, "body", 4, &n),
		    EMSGSIZE);
	assert_int_equal(sip_build_response(out, full, &req, 401, NULL, "t",
	                     "198.51.100.7", 1, NULL, "body", 4, &n),
	    0);
	assert_int_equal(n, full);
	/* Past SIP_MSG_MAX. */
	{
		static char big[SIP_MSG_MAX];

		memset(big, 'b', sizeof(big));
		assert_int_equal(
		    sip_build_response(out, sizeof(out), &req, 200, NULL, "t",
		        NULL, 0, NULL, big, sizeof(big), &n),
		    EMSGSIZE);
	}
	/* A header line past SIP_HDR_LINE_MAX. */
	{
		static char line[SIP_HDR_LINE_MAX + 16];

		memset(line, 'x', sizeof(line));
		memcpy(line, "X-Long: ", 8);
		memcpy(line + sizeof(line) - 3, "\r\n", 3);
		assert_int_equal(sip_build_response(out, sizeof(out), &req, 200,
		                     NULL, "t", NULL, 0, line, NULL, 0, &n),
		    EINVAL);
	}
}

static void
test_bad_args(void **state)
{
	size_t n = 12345;

	(void)state;
	load(REGISTER);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 99, NULL,
	                     NULL, NULL, 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 700, NULL,
	                     NULL, NULL, 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(
	    sip_build_response(out, sizeof(out), &req, 200,
	        "OK\r\nX-Injected: 1", NULL, NULL, 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, NULL,
	                     "a;b", NULL, 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, NULL,
	                     "", NULL, 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, NULL,
	                     NULL, "host.example.com", 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, NULL,
	                     NULL, "1.2.3.4;x=y", 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, NULL,
	                     NULL, NULL, 70000, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), &req, 200, NULL,
	                     NULL, NULL, 0, NULL, NULL, 3, &n),
	    EINVAL);
	static const char *const extras[] = {"X-A: 1",
	    "X-A: 1\r\n\r\nX-B: 2\r\n", "Content-Length: 5\r\n", "l: 5\r\n",
	    "X-A 1\r\n", ": 1\r\n", "X-A: \x01\r\n", "X-A: 1\n",
	    "X-A: 1\r\n X-B\r\n"};
	size_t i;

	static const char ok200[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n"
	                            "From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\n"
	                            "Call-ID: c\r\nCSeq: 1 BYE\r\n\r\n";

	for (i = 0; i < sizeof(extras) / sizeof(extras[0]); i++)
		if (sip_build_response(out, sizeof(out), &req, 200, NULL, NULL,
		        NULL, 0, extras[i], NULL, 0, &n) != EINVAL)
			fail_msg("accepted extra headers %s", extras[i]);
	assert_int_equal(n, 12345); /* untouched */
	/* Not a request. */
	assert_int_equal(sip_msg_parse(ok200, sizeof(ok200) - 1, &resp), 0);
	assert_int_equal(sip_build_response(out, sizeof(out), &resp, 200, NULL,
	                     NULL, NULL, 0, NULL, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_response(out, sizeof(out), NULL, 200, NULL,
	                     NULL, NULL, 0, NULL, NULL, 0, &n),
	    EINVAL);
}

static void
test_request(void **state)
{
	static const char *const hdrs[] = {
	    "Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKnashds8",
	    "Max-Forwards: 70",
	    "From: <sip:pbx@example.com>;tag=88sja8x",
	    "To: <sip:1001@example.com>",
	    "Call-ID: 987asjd97y7atg",
	    "CSeq: 986759 INVITE",
	    "Content-Type: application/sdp",
	};
	static const char sdp[] = "v=0\r\n";
	size_t n, full, i;

	(void)state;
	assert_int_equal(sip_build_request(out, sizeof(out), "INVITE",
	                     "sips:1001@[2001:db8::5]:5061;transport=tls", hdrs,
	                     7, sdp, 5, &full),
	    0);
	assert_int_equal(sip_msg_parse(out, full, &req), 0);
	assert_int_equal(req.method, SIP_METHOD_INVITE);
	assert_int_equal(req.ruri.scheme, SIP_URI_SIPS);
	assert_int_equal(req.ruri.port, 5061);
	assert_int_equal(req.nvia, 1);
	assert_int_equal(req.max_forwards, 70);
	assert_sv(req.body, "v=0\r\n");
	assert_int_equal(req.content_length, 5);
	for (i = 0; i < full; i++)
		assert_int_equal(
		    sip_build_request(out, i, "INVITE",
		        "sips:1001@[2001:db8::5]:5061;transport=tls", hdrs, 7,
		        sdp, 5, &n),
		    EMSGSIZE);
	/* Bad arguments. */
	static const char *const bad_hdr[] = {"X-A: 1\r\nX-B: 2"};
	static const char *const cl_hdr[] = {"Content-Length: 0"};
	static const char *const null_hdr[] = {NULL};
	assert_int_equal(sip_build_request(out, sizeof(out), "IN VITE",
	                     "sip:a@b", hdrs, 7, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_request(out, sizeof(out), "INVITE",
	                     "sip:a@b c", hdrs, 7, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_request(out, sizeof(out), "INVITE",
	                     "<sip:a@b>", hdrs, 7, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_request(out, sizeof(out), "INVITE",
	                     "sip:a@b", bad_hdr, 1, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_request(out, sizeof(out), "INVITE",
	                     "sip:a@b", cl_hdr, 1, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_request(out, sizeof(out), "INVITE",
	                     "sip:a@b", null_hdr, 1, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_request(out, sizeof(out), "INVITE",
	                     "sip:a@b", NULL, 1, NULL, 0, &n),
	    EINVAL);
	assert_int_equal(sip_build_request(out, sizeof(out), "", "sip:a@b",
	                     NULL, 0, NULL, 0, &n),
	    EINVAL);
	/* No headers at all is the caller's business; it still frames. */
	assert_int_equal(sip_build_request(out, sizeof(out), "OPTIONS",
	                     "sip:a@b", NULL, 0, NULL, 0, &n),
	    0);
	assert_int_equal(n, strlen("OPTIONS sip:a@b SIP/2.0\r\n"
	                           "Content-Length: 0\r\n\r\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_received_rport),
	    cmocka_unit_test(test_body_and_505),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
