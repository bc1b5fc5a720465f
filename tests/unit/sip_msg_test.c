/* sip_msg_test.c: the SIP message parser and stream framer
 * (src/sip/msg.c, src/sip/hdr.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sip_msg msg;

#define VIA  "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"
#define FROM "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
#define TO   "To: Bob <sip:bob@example.com>\r\n"
#define CID  "Call-ID: a84b4c76e66710@pc33.example.com\r\n"

static int
parse(const char *s)
{
	return sip_msg_parse(s, strlen(s), &msg);
}

static void
parse_ok(const char *s)
{
	int r = parse(s);

	if (r != 0)
		fail_msg(
		    "parse failed with %d (%s) for:\n%s", r, strerror(r), s);
}

static bool
sv_is(struct sv v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

#define assert_sv(v, s)                                                        \
	do {                                                                   \
		if (!sv_is((v), (s)))                                          \
			fail_msg("got \"%.*s\", want \"%s\"", (int)(v).len,    \
			    (v).p, (s));                                       \
	} while (0)

/* A growing text buffer for the large messages. */
struct text {
	char *p;
	size_t len, size;
};

static void
text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n + 1 > t->size) {
		t->size = (t->len + n + 1) * 2;
		t->p = realloc(t->p, t->size);
		assert_non_null(t->p);
	}
	memcpy(t->p + t->len, s, n + 1);
	t->len += n;
}

static void
text_request_head(struct text *t)
{
	text_add(t, "OPTIONS sip:bob@example.com SIP/2.0\r\n" FROM TO CID
	            "CSeq: 1 OPTIONS\r\n");
}

static void
test_methods(void **state)
{
	static const char *const names[] = {"INVITE", "ACK", "BYE", "CANCEL",
	    "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH",
	    "INFO", "REFER", "MESSAGE", "UPDATE", "FOOBAR"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char buf[1024];

		snprintf(buf, sizeof(buf),
		    "%s sip:bob@example.com SIP/2.0\r\n" VIA FROM TO CID
		    "CSeq: 7 %s\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n"
		    "\r\n",
		    names[i], names[i]);
		parse_ok(buf);
		assert_true(msg.is_request);
		assert_sv(msg.method_name, names[i]);
		assert_int_equal(msg.method, i < 14 ? (int)i + 1 : 0);
		assert_int_equal(msg.cseq_method, msg.method);
		assert_int_equal(msg.cseq, 7);
		assert_int_equal(msg.max_forwards, 70);
		assert_string_equal(sip_method_name(msg.method)
		                        ? sip_method_name(msg.method)
		                        : "FOOBAR",
		    names[i]);
	}
	/* Methods are case-sensitive. */
	assert_int_equal(sip_method_from_name("invite", 6), SIP_METHOD_UNKNOWN);
}

static void
test_request_fields(void **state)
{
	(void)state;
	parse_ok("INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n"
	         "Via: SIP/2.0/TCP client.atlanta.example.com:5060;branch="
	         "z9hG4bK74bf9;rport\r\n"
	         "Max-Forwards: 70\r\n"
	         "From: \"Alice \\\"A\\\"\" <sip:alice@atlanta.example.com>;"
	         "tag=9fxced76sl\r\n"
	         "To: sip:bob@biloxi.example.com\r\n"
	         "Call-ID: 3848276298220188511@atlanta.example.com\r\n"
	         "CSeq: 2 INVITE\r\n"
	         "Contact: <sip:alice@client.atlanta.example.com;"
	         "transport=tcp>\r\n"
	         "Content-Type: application/sdp\r\n"
	         "Content-Length: 4\r\n"
	         "\r\n"
	         "v=0\r");
	assert_int_equal(msg.method, SIP_METHOD_INVITE);
	assert_int_equal(msg.ruri.scheme, SIP_URI_SIP);
	assert_sv(msg.ruri.user, "bob");
	assert_sv(msg.ruri.host, "biloxi.example.com");
	assert_sv(msg.ruri.transport, "tcp");
	assert_int_equal(msg.nvia, 1);
	assert_int_equal(msg.via[0].transport, SIP_TRANSPORT_TCP);
	assert_sv(msg.via[0].host, "client.atlanta.example.com");
	assert_true(msg.via[0].has_port);
	assert_int_equal(msg.via[0].port, 5060);
	assert_sv(msg.via[0].branch, "z9hG4bK74bf9");
	assert_true(msg.via[0].branch_rfc3261);
	assert_true(msg.via[0].rport);
	assert_false(msg.via[0].has_rport_value);
	assert_true(msg.from.display_quoted);
	assert_sv(msg.from.display, "Alice \\\"A\\\"");
	assert_sv(msg.from.tag, "9fxced76sl");
	assert_false(msg.to.has_tag);
	assert_false(msg.to.bracketed);
	assert_sv(msg.to.uri.user, "bob");
	assert_sv(msg.call_id, "3848276298220188511@atlanta.example.com");
	assert_int_equal(msg.ncontact, 1);
	assert_sv(msg.contact[0].na.uri.transport, "tcp");
	assert_sv(msg.body, "v=0\r");
	assert_int_equal(msg.len, strlen(msg.buf));
	{
		char out[64];
		size_t n;

		assert_int_equal(
		    sip_quoted_unescape(msg.from.display, out, sizeof(out), &n),
		    0);
		assert_int_equal(n, 9);
		assert_memory_equal(out, "Alice \"A\"", 9);
		assert_int_equal(
		    sip_quoted_unescape(msg.from.display, out, 3, &n),
		    EMSGSIZE);
	}
}

static void
test_responses(void **state)
{
	static const char *const lines[] = {"SIP/2.0 100 Trying",
	    "SIP/2.0 180 Ringing", "SIP/2.0 200 OK", "SIP/2.0 404 Not Found",
	    "SIP/2.0 699 Whatever it is", "SIP/2.0 302 "};
	static const unsigned codes[] = {100, 180, 200, 404, 699, 302};
	static const char *const bad[] = {"SIP/2.0 099 Low", "SIP/2.0 700 High",
	    "SIP/2.0 1000 Big", "SIP/2.0 2x0 OK", "SIP/2.0 200",
	    "SIP/2.0  200 OK", "SIP/2.0 20 OK", "SIP/2.0200 OK"};
	char buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(buf, sizeof(buf),
		    "%s\r\n" VIA FROM TO CID
		    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		    lines[i]);
		parse_ok(buf);
		assert_false(msg.is_request);
		assert_int_equal(msg.status, codes[i]);
		assert_sv(msg.reason, lines[i] + 12);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
		    "%s\r\n" VIA FROM TO CID
		    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		    bad[i]);
		assert_int_equal(parse(buf), EBADMSG);
	}
	/* A response needs no Via to parse (the transaction layer drops it)
	 * and its CSeq method is not compared with anything. */
	parse_ok("SIP/2.0 200 OK\r\n" FROM TO CID "CSeq: 1 BYE\r\n\r\n");
	assert_int_equal(msg.nvia, 0);
	/* Reason phrases may hold UTF-8 and bytes that are not UTF-8. */
	parse_ok("SIP/2.0 200 \xd0\x9e\xd0\x9a \xff\xfe\tok\r\n" VIA FROM TO CID
	         "CSeq: 1 BYE\r\n\r\n");
	assert_sv(msg.reason, "\xd0\x9e\xd0\x9a \xff\xfe\tok");
}

static void
test_versions(void **state)
{
	(void)state;
	assert_int_equal(
	    parse("OPTIONS sip:a@b SIP/3.0\r\n"
	          "Via: SIP/3.0/UDP h;branch=z9hG4bKx\r\n" FROM TO CID
	          "CSeq: 1 OPTIONS\r\n\r\n"),
	    EPROTONOSUPPORT);
	/* Filled as on success, for the 505. */
	assert_true(msg.is_request);
	assert_int_equal(msg.nvia, 1);
	assert_sv(msg.call_id, "a84b4c76e66710@pc33.example.com");
	assert_int_equal(parse("SIP/1.0 200 OK\r\n" VIA FROM TO CID
	                       "CSeq: 1 OPTIONS\r\n\r\n"),
	    EPROTONOSUPPORT);
	assert_int_equal(parse("OPTIONS sip:a@b HTTP/1.1\r\n" VIA FROM TO CID
	                       "CSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), EBADMSG);
	parse_ok("OPTIONS sip:a@b sip/2.0\r\n" VIA FROM TO CID
	         "CSeq: 1 OPTIONS\r\n\r\n");
	/* The top Via must be SIP/2.0 too. */
	assert_int_equal(
	    parse("OPTIONS sip:a@b SIP/2.0\r\n"
	          "Via: SIP/3.0/UDP h;branch=z9hG4bKx\r\n" FROM TO CID
	          "CSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
}

static void
test_request_line_errors(void **state)
{
	static const char *const lines[] = {"OPTIONS  sip:a@b SIP/2.0",
	    "OPTIONS sip:a@b  SIP/2.0", "OPTIONS sip:a@b SIP/2.0 ",
	    "OPTIONS <sip:a@b> SIP/2.0", "OPTIONS sip:a@b; lr SIP/2.0",
	    "OPTIONS sip:a@b", "OPTIONS", " OPTIONS sip:a@b SIP/2.0",
	    "OPT(IONS sip:a@b SIP/2.0", "OPTIONS sip:a@b?Route=x SIP/2.0",
	    "OPTIONS sip:a@b\tSIP/2.0", "OPTIONS sip: SIP/2.0",
	    "OPTIONS sip:a@b SIP/2.", "OPTIONS sip:a@b SIP/.0"};
	char buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		snprintf(buf, sizeof(buf),
		    "%s\r\n" VIA FROM TO CID "CSeq: 1 OPTIONS\r\n\r\n",
		    lines[i]);
		if (parse(buf) != EBADMSG)
			fail_msg("accepted: %s", lines[i]);
	}
	/* Unknown schemes parse; the scheme is there for a 416. */
	parse_ok("OPTIONS urn:service:sos SIP/2.0\r\n" VIA FROM TO CID
	         "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(msg.ruri.scheme, SIP_URI_OTHER);
	assert_sv(msg.ruri.scheme_name, "urn");
}

static void
test_compact_forms(void **state)
{
	(void)state;
	parse_ok("SUBSCRIBE sip:bob@example.com SIP/2.0\r\n"
	         "v: SIP/2.0/UDP h.example.com;branch=z9hG4bKa\r\n"
	         "f: <sip:alice@example.com>;tag=1\r\n"
	         "t: <sip:bob@example.com>\r\n"
	         "i: abc@h\r\n"
	         "CSeq: 3 SUBSCRIBE\r\n"
	         "m: <sip:alice@h.example.com>\r\n"
	         "c: text/plain\r\n"
	         "k: 100rel, timer\r\n"
	         "s: Hello\r\n"
	         "e: gzip\r\n"
	         "o: presence\r\n"
	         "r: <sip:carol@example.com>\r\n"
	         "u: presence, dialog\r\n"
	         "b: <sip:dave@example.com>\r\n"
	         "x: 1800\r\n"
	         "L: 5\r\n"
	         "\r\n"
	         "hello");
	assert_int_equal(msg.nvia, 1);
	assert_sv(msg.from.tag, "1");
	assert_sv(msg.to.uri.user, "bob");
	assert_sv(msg.call_id, "abc@h");
	assert_int_equal(msg.ncontact, 1);
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_CONTENT_TYPE)->value, "text/plain");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_SUPPORTED)->value, "100rel, timer");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_SUBJECT)->value, "Hello");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_CONTENT_ENCODING)->value, "gzip");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_EVENT)->value, "presence");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_REFER_TO)->value,
	    "<sip:carol@example.com>");
	assert_sv(
	    sip_msg_hdr(&msg, SIP_HDR_ALLOW_EVENTS)->value, "presence, dialog");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_REFERRED_BY)->value,
	    "<sip:dave@example.com>");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_SESSION_EXPIRES)->value, "1800");
	assert_int_equal(msg.content_length, 5);
	assert_sv(msg.body, "hello");
	/* Case-insensitive long names. */
	assert_int_equal(sip_hdr_id_from_name("cALL-iD", 7), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_id_from_name("WWW-AUTHENTICATE", 16),
	    SIP_HDR_WWW_AUTHENTICATE);
	assert_int_equal(sip_hdr_id_from_name("X-Foo", 5), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_id_from_name("q", 1), SIP_HDR_OTHER);
	assert_string_equal(sip_hdr_name(SIP_HDR_CSEQ), "CSeq");
	assert_null(sip_hdr_name(SIP_HDR_OTHER));
	{
		size_t id;

		for (id = 1; id < SIP_HDR__COUNT; id++) {
			const char *n = sip_hdr_name((enum sip_hdr_id)id);

			assert_int_equal(
			    sip_hdr_id_from_name(n, strlen(n)), id);
		}
	}
}

static void
test_folding(void **state)
{
	struct sv rest, tok;

	(void)state;
	parse_ok("OPTIONS sip:bob@example.com SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP\r\n h.example.com\r\n\t;branch=z9hG4bKa\r\n"
	         "From: <sip:alice@example.com>\r\n  ;tag=1\r\n"
	         "To:\r\n <sip:bob@example.com>\r\n"
	         "Call-ID: x\r\n"
	         "CSeq: 5\r\n OPTIONS\r\n"
	         "Require: a,\r\n b ,\r\n\tc\r\n"
	         "X-Empty:\r\n"
	         "X-Blank:   \r\n"
	         "\r\n");
	assert_sv(msg.via[0].host, "h.example.com");
	assert_sv(msg.via[0].branch, "z9hG4bKa");
	assert_sv(msg.from.tag, "1");
	assert_sv(msg.to.uri.host, "example.com");
	assert_int_equal(msg.cseq, 5);
	rest = sip_msg_hdr(&msg, SIP_HDR_REQUIRE)->value;
	assert_int_equal(sip_token_next(&rest, &tok), 0);
	assert_sv(tok, "a");
	assert_int_equal(sip_token_next(&rest, &tok), 0);
	assert_sv(tok, "b");
	assert_int_equal(sip_token_next(&rest, &tok), 0);
	assert_sv(tok, "c");
	assert_int_equal(sip_token_next(&rest, &tok), ENOENT);
	assert_sv(sip_msg_hdr_find(&msg, "x-empty")->value, "");
	assert_sv(sip_msg_hdr_find(&msg, "X-BLANK")->value, "");
	assert_null(sip_msg_hdr_find(&msg, "X-None"));
	/* A continuation line without a header before it. */
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n"
	                       " Via: SIP/2.0/UDP h\r\n\r\n"),
	    EBADMSG);
}

static void
test_multiple_vias(void **state)
{
	static const char *const hosts[] = {"a.example.com", "b.example.com",
	    "c.example.com", "192.0.2.4", "[2001:db8::9:1]", "e.example.com"};
	const struct sip_hdr *h;
	size_t i, n = 0;

	(void)state;
	parse_ok("OPTIONS sip:bob@example.com SIP/2.0\r\n"
	         "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, "
	         "SIP/2.0/TCP b.example.com:5070;branch=z9hG4bK2\r\n"
	         "Max-Forwards: 10\r\n"
	         "v: SIP/2.0/TLS c.example.com;branch=z9hG4bK3 ,SIP/2.0/SCTP "
	         "192.0.2.4;branch=z9hG4bK4\r\n" FROM TO CID
	         "VIA: SIP/2.0/WSS [2001:db8::9:1];branch=z9hG4bK5\r\n"
	         "Via: SIP/2.0/WS e.example.com;branch=old\r\n"
	         "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(msg.nvia, 6);
	for (i = 0; i < 6; i++)
		assert_sv(msg.via[i].host, hosts[i]);
	assert_int_equal(msg.via[1].transport, SIP_TRANSPORT_TCP);
	assert_int_equal(msg.via[1].port, 5070);
	assert_int_equal(msg.via[2].transport, SIP_TRANSPORT_TLS);
	assert_int_equal(msg.via[3].transport, SIP_TRANSPORT_SCTP);
	assert_int_equal(msg.via[3].host_type, SIP_HOST_IPV4);
	assert_int_equal(msg.via[4].transport, SIP_TRANSPORT_WSS);
	assert_int_equal(msg.via[4].host_type, SIP_HOST_IPV6);
	assert_int_equal(msg.via[5].transport, SIP_TRANSPORT_WS);
	assert_false(msg.via[5].branch_rfc3261);
	/* Iteration over the Via headers, in order. */
	for (h = sip_msg_hdr(&msg, SIP_HDR_VIA); h != NULL;
	     h = sip_msg_hdr_next(&msg, h))
		n++;
	assert_int_equal(n, 4);
	assert_int_equal(msg.first[SIP_HDR_VIA], 0);
	assert_null(sip_msg_hdr(&msg, SIP_HDR_ROUTE));
	/* Empty list elements are refused. */
	assert_int_equal(
	    parse("OPTIONS sip:a@b SIP/2.0\r\n"
	          "Via: SIP/2.0/UDP a;branch=z9hG4bK1,,SIP/2.0/UDP "
	          "b\r\n" FROM TO CID "CSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(
	    parse("OPTIONS sip:a@b SIP/2.0\r\n"
	          "Via: SIP/2.0/UDP a;branch=z9hG4bK1,\r\n" FROM TO CID
	          "CSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
}

static void
test_via_params(void **state)
{
	(void)state;
	/* RFC 5118 4.5: received with and without brackets. */
	parse_ok(
	    "OPTIONS sip:a@b SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP [2001:db8::9:1]:5070;received=[2001:db8::9:"
	    "255];branch=z9hG4bKas3-111;rport=5061;maddr=224.2.0.1;ttl=16;"
	    "x-ext=\"quoted;,value\"\r\n"
	    "Via: SIP/2.0/UDP [2001:db8::9:255];received=2001:db8::9:255;"
	    "branch=z9hG4bKas3\r\n"
	    "Via: SIP/2.0/UDP [::ffff:192.0.2.10];branch=z9hG4bKas4\r\n" FROM TO
	        CID "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(msg.nvia, 3);
	assert_sv(msg.via[0].host, "[2001:db8::9:1]");
	assert_int_equal(msg.via[0].port, 5070);
	assert_sv(msg.via[0].received, "[2001:db8::9:255]");
	assert_true(msg.via[0].rport);
	assert_true(msg.via[0].has_rport_value);
	assert_int_equal(msg.via[0].rport_value, 5061);
	assert_sv(msg.via[0].maddr, "224.2.0.1");
	assert_int_equal(msg.via[0].ttl, 16);
	{
		struct sv v;

		assert_int_equal(
		    sip_param_find(msg.via[0].params, "X-EXT", &v), 0);
		assert_sv(v, "quoted;,value");
		assert_int_equal(
		    sip_param_find(msg.via[0].params, "nope", &v), ENOENT);
	}
	assert_sv(msg.via[1].received, "2001:db8::9:255");
	assert_sv(msg.via[2].host, "[::ffff:192.0.2.10]");
	/* Bad values. */
	static const char *const bad[] = {
	    "SIP/2.0/UDP h;received=host.example.com",
	    "SIP/2.0/UDP h;rport=70000", "SIP/2.0/UDP h;rport=x",
	    "SIP/2.0/UDP h;ttl=256", "SIP/2.0/UDP h;branch",
	    "SIP/2.0/UDP h;branch=a;branch=b", "SIP/2.0/UDP h;;branch=a",
	    "SIP/2.0/UDP [2001:db8:::1]", "SIP/2.0/UDP 2001:db8::1",
	    "SIP/2.0/UDP h:", "SIP/2.0/UDP h:99999", "SIP/2.0 UDP h",
	    "SIP/2.0/UDPh", "SIP/2.0/UDP",
	    "SIP/2.0/UDP h;maddr=", "SIP/2.0/UDP -h",
	    "SIP/2.0/UDP h;x=\"unterminated"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[512];

		snprintf(buf, sizeof(buf),
		    "OPTIONS sip:a@b SIP/2.0\r\nVia: %s\r\n" FROM TO CID
		    "CSeq: 1 OPTIONS\r\n\r\n",
		    bad[i]);
		if (parse(buf) != EBADMSG)
			fail_msg("accepted Via: %s", bad[i]);
	}
	/* Unknown transports are an extension (RFC 3261 20.42). */
	parse_ok("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/FOO h\r\n" FROM TO CID
	         "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(msg.via[0].transport, SIP_TRANSPORT_OTHER);
	assert_sv(msg.via[0].transport_name, "FOO");
	assert_false(msg.via[0].has_branch);
}

static void
test_from_to(void **state)
{
	static const char *const bad[] = {"\"unterminated <sip:a@b>",
	    "Bell, Alexander <sip:a@b>", "< sip:a@b >", "<sip:a@b",
	    "<sip:a@b>;tag", "<sip:a@b>;tag=1;tag=2", "<sip:a@b>, <sip:c@d>",
	    "sip:a@b?x=y", "<sip:a@b> junk", "", "<>", "<sip:a@b>;;",
	    "\"a\"sip:a@b"};
	char buf[512];
	size_t i;

	(void)state;
	parse_ok(
	    "OPTIONS sip:a@b SIP/2.0\r\n" VIA
	    "From: caller<sip:caller@example.com>;tag=323\r\n"
	    "To: A. Bell   Jr <sip:bell@example.com;user=phone>;x=y\r\n" CID
	    "CSeq: 1 OPTIONS\r\n\r\n");
	assert_sv(msg.from.display, "caller");
	assert_false(msg.from.display_quoted);
	assert_sv(msg.to.display, "A. Bell   Jr");
	assert_sv(msg.to.uri.user_param, "phone");
	assert_sv(msg.to.params, ";x=y");
	assert_int_equal(msg.to.nparams, 1);
	/* An addr-spec: ';' starts header parameters. */
	parse_ok(
	    "OPTIONS sip:a@b SIP/2.0\r\n" VIA
	    "From: sip:caller@example.com;tag=323;user=phone\r\n"
	    "To: sip:user;par=x@example.com\r\n" CID "CSeq: 1 OPTIONS\r\n\r\n");
	assert_sv(msg.from.tag, "323");
	assert_int_equal(msg.from.uri.user_param.len, 0);
	assert_true(sip_param_find(msg.from.params, "user", &msg.to.tag) == 0);
	/* Display names with bytes that are not UTF-8 are tolerated. */
	parse_ok(
	    "OPTIONS sip:a@b SIP/2.0\r\n" VIA
	    "From: \"\xff\xc3\x28 \xe2\x82\xac\" <sip:a@b>;tag=1\r\n" TO CID
	    "CSeq: 1 OPTIONS\r\n\r\n");
	assert_sv(msg.from.display, "\xff\xc3\x28 \xe2\x82\xac");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
		    "OPTIONS sip:a@b SIP/2.0\r\n" VIA "To: %s\r\n" FROM CID
		    "CSeq: 1 OPTIONS\r\n\r\n",
		    bad[i]);
		if (parse(buf) != EBADMSG)
			fail_msg("accepted To: %s", bad[i]);
	}
}

static void
test_contacts(void **state)
{
	(void)state;
	parse_ok(
	    "REGISTER sip:example.com SIP/2.0\r\n" VIA FROM TO CID
	    "CSeq: 1 REGISTER\r\n"
	    "Contact: <sip:a@192.0.2.1:5060;transport=tcp>;expires=600;"
	    "q=0.7;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-"
	    "000A95A0E128>\";reg-id=1, \"Mr. B\" <sips:b@h.example.com>\r\n"
	    "m: sip:c@h.example.com;expires=99999999999999;q=1\r\n"
	    "Expires: 3600\r\n\r\n");
	assert_int_equal(msg.ncontact, 3);
	assert_false(msg.contact_star);
	assert_true(msg.contact[0].has_expires);
	assert_int_equal(msg.contact[0].expires, 600);
	assert_int_equal(msg.contact[0].q, 700);
	assert_sv(msg.contact[0].instance,
	    "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	assert_int_equal(msg.contact[0].reg_id, 1);
	assert_sv(msg.contact[1].na.display, "Mr. B");
	assert_int_equal(msg.contact[1].na.uri.scheme, SIP_URI_SIPS);
	assert_false(msg.contact[1].has_expires);
	assert_int_equal(msg.contact[2].expires, SIP_DELTA_MAX);
	assert_int_equal(msg.contact[2].q, 1000);
	assert_true(msg.has_expires);
	assert_int_equal(msg.expires, 3600);

	parse_ok("REGISTER sip:example.com SIP/2.0\r\n" VIA FROM TO CID
	         "CSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0\r\n\r\n");
	assert_true(msg.contact_star);
	assert_int_equal(msg.ncontact, 0);
	assert_int_equal(msg.expires, 0);

	static const char *const bad[] = {"*, <sip:a@b>", "<sip:a@b>;q=1.5",
	    "<sip:a@b>;q=0.1234", "<sip:a@b>;expires=-1", "<sip:a@b>;expires=x",
	    "<sip:a@b>;+sip.instance=unquoted", "<sip:a@b>;reg-id=x",
	    "<sip:a@b>;;", "<sip:a@b>,", ","};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[512];

		snprintf(buf, sizeof(buf),
		    "REGISTER sip:example.com SIP/2.0\r\n" VIA FROM TO CID
		    "CSeq: 1 REGISTER\r\nContact: %s\r\n\r\n",
		    bad[i]);
		if (parse(buf) != EBADMSG)
			fail_msg("accepted Contact: %s", bad[i]);
	}
	/* '*' and another Contact header. */
	assert_int_equal(
	    parse("REGISTER sip:example.com SIP/2.0\r\n" VIA FROM TO CID
	          "CSeq: 1 REGISTER\r\nContact: <sip:a@b>\r\n"
	          "Contact: *\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(
	    parse("REGISTER sip:example.com SIP/2.0\r\n" VIA FROM TO CID
	          "CSeq: 1 REGISTER\r\nContact: *\r\n"
	          "Contact: <sip:a@b>\r\n\r\n"),
	    EBADMSG);
}

static void
test_scalars(void **state)
{
	static const struct {
		const char *hdr;
		int err;
	} cases[] = {
	    {"Max-Forwards: 0", 0},
	    {"Max-Forwards: 255", 0},
	    {"Max-Forwards: 256", EBADMSG},
	    {"Max-Forwards: -1", EBADMSG},
	    {"Max-Forwards: 1 2", EBADMSG},
	    {"Max-Forwards: 70\r\nMax-Forwards: 70", EBADMSG},
	    {"Expires: 1\r\nExpires: 1", EBADMSG},
	    {"Expires: soon", EBADMSG},
	    {"Expires: 99999999999999999999", 0},
	    {"Call-ID: second", EBADMSG},
	    {"CSeq: 2 OPTIONS", EBADMSG},
	    {"To: <sip:x@y>", EBADMSG},
	    {"From: <sip:x@y>;tag=2", EBADMSG},
	    {"Content-Length: 0\r\nContent-Length: 0", 0},
	    {"Content-Length: 0\r\nl: 1", EBADMSG},
	    {"Content-Length: -1", EBADMSG},
	    {"Content-Length: five", EBADMSG},
	    {"Content-Length: 99999999999999999999999", EBADMSG},
	    {"Content-Length: 1", EBADMSG},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[512];
		int r;

		snprintf(buf, sizeof(buf),
		    "OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
		    "CSeq: 1 OPTIONS\r\n%s\r\n\r\n",
		    cases[i].hdr);
		r = parse(buf);
		if (r != cases[i].err)
			fail_msg("%s: got %d, want %d", cases[i].hdr, r,
			    cases[i].err);
	}
	parse_ok("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	         "CSeq: 2147483647 OPTIONS\r\n\r\n");
	assert_int_equal(msg.cseq, 2147483647u);
	assert_int_equal(msg.max_forwards, -1);
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: 2147483648 OPTIONS\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: 1OPTIONS\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: OPTIONS\r\n\r\n"),
	    EBADMSG);
	/* The CSeq method must be the request's (case-sensitive). */
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: 1 options\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(parse("ACK sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: 1 INVITE\r\n\r\n"),
	    EBADMSG);
	/* Call-ID syntax. */
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO
	                       "Call-ID: a b\r\nCSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO
	                       "Call-ID: a@b@c\r\nCSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO
	                       "Call-ID:\r\nCSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
}

static void
test_required(void **state)
{
	static const char *const parts[] = {
	    VIA, FROM, TO, CID, "CSeq: 1 OPTIONS\r\n"};
	size_t skip, i;

	(void)state;
	for (skip = 0; skip < 5; skip++) {
		struct text t = {0};

		text_add(&t, "OPTIONS sip:a@b SIP/2.0\r\n");
		for (i = 0; i < 5; i++)
			if (i != skip)
				text_add(&t, parts[i]);
		text_add(&t, "\r\n");
		assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EBADMSG);
		free(t.p);
	}
}

static void
test_body(void **state)
{
	static const char dgram[] =
	    "MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	    "CSeq: 1 MESSAGE\r\nContent-Length: 5\r\n\r\nab\0de trailing junk";

	(void)state;
	/* Bytes after the body of a datagram are ignored; NULs in bodies are
	 * fine. */
	assert_int_equal(sip_msg_parse(dgram, sizeof(dgram) - 1, &msg), 0);
	assert_int_equal(msg.body.len, 5);
	assert_memory_equal(msg.body.p, "ab\0de", 5);
	assert_int_equal(msg.len, sizeof(dgram) - 1 - 14);
	/* No Content-Length on a datagram: the rest is the body. */
	parse_ok("MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	         "CSeq: 1 MESSAGE\r\n\r\nthe rest");
	assert_sv(msg.body, "the rest");
	assert_false(msg.has_content_length);
	/* Content-Length beyond the datagram. */
	assert_int_equal(parse("MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: 1 MESSAGE\r\nContent-Length: 9\r\n\r\n"
	                       "12345678"),
	    EBADMSG);
	/* No empty line. */
	assert_int_equal(parse("MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: 1 MESSAGE\r\n"),
	    EBADMSG);
	assert_int_equal(parse("MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	                       "CSeq: 1 MESSAGE\r\n\r"),
	    EBADMSG);
	/* Leading CRLFs are skipped; CRLFs alone are no message. */
	parse_ok("\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	         "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(msg.buf[0], 'O');
	assert_int_equal(parse("\r\n\r\n"), ENODATA);
	assert_int_equal(parse(""), ENODATA);
	assert_int_equal(parse("\r\n\r"), EBADMSG);
}

static void
test_bad_bytes(void **state)
{
	static const char nul_hdr[] =
	    "OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	    "CSeq: 1 OPTIONS\r\nX-A: a\0b\r\n\r\n";
	static const char nul_name[] =
	    "OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	    "CSeq: 1 OPTIONS\r\nX-\0A: ab\r\n\r\n";
	static const char nul_line[] =
	    "OPTIONS sip:a@b\0 SIP/2.0\r\n" VIA FROM TO CID
	    "CSeq: 1 OPTIONS\r\n\r\n";
	static const char *const bad[] = {"X-A: a\x01"
	                                  "b",
	    "X-A: a\x7f"
	    "b",
	    "X-A: a\x1b[31m", "X-A: a\rb", "X-A: a\nb", "X-A: \"q\x07\"",
	    "X-A\x01: b", "X A: b", ": b", "X-A b"};
	size_t i;

	(void)state;
	assert_int_equal(
	    sip_msg_parse(nul_hdr, sizeof(nul_hdr) - 1, &msg), EBADMSG);
	assert_int_equal(
	    sip_msg_parse(nul_name, sizeof(nul_name) - 1, &msg), EBADMSG);
	assert_int_equal(
	    sip_msg_parse(nul_line, sizeof(nul_line) - 1, &msg), EBADMSG);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[512];

		snprintf(buf, sizeof(buf),
		    "OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
		    "CSeq: 1 OPTIONS\r\n%s\r\n\r\n",
		    bad[i]);
		if (parse(buf) != EBADMSG)
			fail_msg("accepted %s", bad[i]);
	}
	/* Lines must end in CRLF. */
	assert_int_equal(parse("OPTIONS sip:a@b SIP/2.0\n" VIA FROM TO CID
	                       "CSeq: 1 OPTIONS\r\n\r\n"),
	    EBADMSG);
	/* HT is fine. */
	parse_ok("OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	         "CSeq:\t1\tOPTIONS\r\nX-A:\ta\tb\t\r\n\r\n");
	assert_sv(sip_msg_hdr_find(&msg, "X-A")->value, "a\tb");
}

static void
test_limits(void **state)
{
	struct text t = {0};
	size_t i;
	char line[128];

	(void)state;
	/* 128 headers pass, 129 do not. */
	text_request_head(&t);
	text_add(&t, VIA);
	for (i = 5; i < SIP_HDRS_MAX; i++)
		text_add(&t, "X-Filler: 1\r\n");
	text_add(&t, "\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), 0);
	assert_int_equal(msg.nhdr, SIP_HDRS_MAX);
	t.len -= 2;
	text_add(&t, "X-Filler: 1\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);
	/* 10,000 headers. */
	t.len = 0;
	text_request_head(&t);
	for (i = 0; i < 10000; i++)
		text_add(&t, "X-Filler: 1\r\n");
	text_add(&t, "\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);

	/* 16 Via values pass, 17 do not, in headers or in a list. */
	t.len = 0;
	text_request_head(&t);
	for (i = 0; i < SIP_VIA_MAX; i++) {
		snprintf(line, sizeof(line),
		    "Via: SIP/2.0/UDP h%zu.example.com;branch=z9hG4bK%zu\r\n",
		    i, i);
		text_add(&t, line);
	}
	text_add(&t, "\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), 0);
	assert_int_equal(msg.nvia, SIP_VIA_MAX);
	t.len -= 2;
	text_add(&t, "Via: SIP/2.0/UDP h17\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);
	t.len = 0;
	text_request_head(&t);
	text_add(&t, "Via: SIP/2.0/UDP h0");
	for (i = 1; i < 1000; i++)
		text_add(&t, ", SIP/2.0/UDP h");
	text_add(&t, "\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);
	/* 1,000 Via headers. */
	t.len = 0;
	text_request_head(&t);
	for (i = 0; i < 1000; i++)
		text_add(&t, "Via: SIP/2.0/UDP h\r\n");
	text_add(&t, "\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);

	/* A header line of SIP_HDR_LINE_MAX bytes passes, one more not. */
	for (i = 0; i < 2; i++) {
		size_t n = SIP_HDR_LINE_MAX + i - strlen("X-Long: ");

		t.len = 0;
		text_request_head(&t);
		text_add(&t, VIA "X-Long: ");
		while (n-- > 0)
			text_add(&t, "a");
		text_add(&t, "\r\n\r\n");
		assert_int_equal(
		    sip_msg_parse(t.p, t.len, &msg), i == 0 ? 0 : EMSGSIZE);
	}
	/* Folds count. */
	t.len = 0;
	text_request_head(&t);
	text_add(&t, VIA "X-Long: a");
	for (i = 0; i < SIP_HDR_LINE_MAX / 4; i++)
		text_add(&t, "\r\n a");
	text_add(&t, "\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);

	/* A message of SIP_MSG_MAX bytes passes, one byte more not. */
	for (i = 0; i < 2; i++) {
		size_t head;

		t.len = 0;
		text_request_head(&t);
		text_add(&t, VIA "\r\n");
		head = t.len;
		while (t.len < SIP_MSG_MAX + i)
			text_add(&t, "b");
		t.len = SIP_MSG_MAX + i;
		assert_int_equal(
		    sip_msg_parse(t.p, t.len, &msg), i == 0 ? 0 : EMSGSIZE);
		if (i == 0)
			assert_int_equal(msg.body.len, SIP_MSG_MAX - head);
	}

	/* 17 Contacts; 33 parameters. */
	t.len = 0;
	text_request_head(&t);
	text_add(&t, VIA "Contact: <sip:a@b>");
	for (i = 1; i < SIP_CONTACT_MAX + 1; i++)
		text_add(&t, ", <sip:a@b>");
	text_add(&t, "\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);
	t.len = 0;
	text_request_head(&t);
	text_add(&t, "Via: SIP/2.0/UDP h");
	for (i = 0; i < SIP_PARAMS_MAX + 1; i++)
		text_add(&t, ";p");
	text_add(&t, "\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);
	t.len = 0;
	text_request_head(&t);
	text_add(&t, VIA "Contact: <sip:a@b>");
	for (i = 0; i < SIP_PARAMS_MAX + 1; i++)
		text_add(&t, ";p");
	text_add(&t, "\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);
	/* A Request-URI longer than SIP_URI_MAX. */
	t.len = 0;
	text_add(&t, "OPTIONS sip:");
	for (i = 0; i < SIP_URI_MAX; i++)
		text_add(&t, "u");
	text_add(
	    &t, "@b SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(sip_msg_parse(t.p, t.len, &msg), EMSGSIZE);
	free(t.p);
}

static void
test_nameaddr_list(void **state)
{
	struct sv rest;
	struct sip_nameaddr na;

	(void)state;
	parse_ok(
	    "INVITE sip:a@b SIP/2.0\r\n" VIA FROM TO CID "CSeq: 1 INVITE\r\n"
	    "Record-Route: <sip:p1.example.com;lr>, \"x, y\" "
	    "<sip:p2.example.com;lr>;foo=bar\r\n"
	    "Route: <sip:[2001:db8::1]:5061;transport=tls;lr>\r\n\r\n");
	rest = sip_msg_hdr(&msg, SIP_HDR_RECORD_ROUTE)->value;
	assert_int_equal(sip_nameaddr_next(&rest, &na), 0);
	assert_sv(na.uri.host, "p1.example.com");
	assert_true(na.uri.lr);
	assert_int_equal(sip_nameaddr_next(&rest, &na), 0);
	assert_sv(na.display, "x, y");
	assert_sv(na.uri.host, "p2.example.com");
	assert_sv(na.params, ";foo=bar");
	assert_int_equal(sip_nameaddr_next(&rest, &na), ENOENT);
	rest = sip_msg_hdr(&msg, SIP_HDR_ROUTE)->value;
	assert_int_equal(sip_nameaddr_next(&rest, &na), 0);
	assert_int_equal(na.uri.host_type, SIP_HOST_IPV6);
	assert_int_equal(na.uri.port, 5061);
	rest.p = "<sip:a@b>,, <sip:c@d>";
	rest.len = strlen(rest.p);
	assert_int_equal(sip_nameaddr_next(&rest, &na), 0);
	assert_int_equal(sip_nameaddr_next(&rest, &na), EBADMSG);
}

/* Two pipelined messages, the second with a body holding CRLFCRLF. */
static const char pipe2[] =
    "OPTIONS sip:a@b SIP/2.0\r\n" VIA FROM TO CID
    "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    "MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
    "CSeq: 2 MESSAGE\r\nContent-Type: text/plain\r\nl :\r\n 8\r\n\r\n"
    "hi\r\n\r\nyo";

static void
test_frame_split(void **state)
{
	size_t total = sizeof(pipe2) - 1, first, cut, skipped, n;
	int r;

	(void)state;
	first = (size_t)(strstr(pipe2, "MESSAGE") - pipe2);
	for (cut = 0; cut <= total; cut++) {
		r = sip_stream_frame(pipe2, cut, &skipped, &n);
		if (cut < first) {
			assert_int_equal(r, ENODATA);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(skipped, 0);
		assert_int_equal(n, first);
		assert_int_equal(sip_msg_parse(pipe2, n, &msg), 0);
		assert_int_equal(msg.len, n);
		r = sip_stream_frame(pipe2 + first, cut - first, &skipped, &n);
		if (cut < total) {
			assert_int_equal(r, ENODATA);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(n, total - first);
		assert_int_equal(sip_msg_parse(pipe2 + first, n, &msg), 0);
		assert_int_equal(msg.len, n);
		assert_sv(msg.body, "hi\r\n\r\nyo");
	}
}

static size_t fskip, flen;

static int
frame_str(const char *s)
{
	return sip_stream_frame(s, strlen(s), &fskip, &flen);
}

static void
test_frame(void **state)
{
	size_t skipped = 99, n = 99;
	struct text t = {0};
	size_t i;

	(void)state;
	/* Keep-alives come out first, alone. */
	assert_int_equal(frame_str("\r\n\r\nOPT"), 0);
	assert_int_equal(fskip, 4);
	assert_int_equal(flen, 0);
	assert_int_equal(frame_str("\r\n"), 0);
	assert_int_equal(fskip, 2);
	assert_int_equal(frame_str("\r"), ENODATA);
	assert_int_equal(frame_str(""), ENODATA);
	/* Garbage. */
	assert_int_equal(sip_stream_frame("ab\0cd", 5, &skipped, &n), EBADMSG);
	assert_int_equal(frame_str("ab\ncd"), EBADMSG);
	assert_int_equal(frame_str("ab\rcd"), EBADMSG);
	assert_int_equal(frame_str("ab\r"), ENODATA);
	/* Content-Length is required on a stream, and must be sound. */
	assert_int_equal(
	    frame_str("OPTIONS sip:a@b SIP/2.0\r\nX: 1\r\n\r\n"), EBADMSG);
	assert_int_equal(frame_str("A\r\nContent-Length: x\r\n\r\n"), EBADMSG);
	assert_int_equal(frame_str("A\r\nContent-Length: -1\r\n\r\n"), EBADMSG);
	assert_int_equal(
	    frame_str("A\r\nl: 1\r\nContent-Length: 2\r\n\r\nab"), EBADMSG);
	assert_int_equal(
	    frame_str("A\r\nl: 2\r\nContent-Length: 2\r\n\r\nab"), 0);
	assert_int_equal(fskip, 0);
	assert_int_equal(flen, 32);
	assert_int_equal(
	    frame_str("A\r\nContent-Length: 65535\r\n\r\n"), EMSGSIZE);
	assert_int_equal(
	    frame_str("A\r\nContent-Length: 65000\r\n\r\n"), ENODATA);
	/* Not a Content-Length, though it starts like one. */
	assert_int_equal(
	    frame_str("A\r\nContent-Lengthy: 5\r\nl: 0\r\n\r\n"), 0);
	assert_int_equal(flen, 31);
	/* Out-parameters stay alone on errors. */
	skipped = n = 99;
	assert_int_equal(frame_str("A\r\n\r\n"), EBADMSG);
	assert_int_equal(skipped, 99);
	/* No end of headers within SIP_MSG_MAX bytes. */
	text_add(&t, "OPTIONS sip:a@b SIP/2.0\r\n");
	for (i = 0; t.len < SIP_MSG_MAX + 10; i++)
		text_add(&t, "X-Filler: 1\r\n");
	assert_int_equal(sip_stream_frame(t.p, t.len, &skipped, &n), EBADMSG);
	assert_int_equal(
	    sip_stream_frame(t.p, SIP_MSG_MAX - 1, &skipped, &n), ENODATA);
	/* A message of exactly SIP_MSG_MAX bytes. */
	t.len = 0;
	text_add(&t, "MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
	             "CSeq: 1 MESSAGE\r\nContent-Length: 65000\r\n\r\n");
	{
		size_t head = t.len;
		char cl[32];

		while (t.len < SIP_MSG_MAX)
			text_add(&t, "z");
		t.len = 0;
		snprintf(cl, sizeof(cl), "%05zu", SIP_MSG_MAX - head);
		text_add(&t, "MESSAGE sip:a@b SIP/2.0\r\n" VIA FROM TO CID
		             "CSeq: 1 MESSAGE\r\nContent-Length: ");
		text_add(&t, cl);
		text_add(&t, "\r\n\r\n");
		t.len = SIP_MSG_MAX;
		assert_int_equal(sip_stream_frame(t.p, t.len, &skipped, &n), 0);
		assert_int_equal(n, SIP_MSG_MAX);
		assert_int_equal(sip_msg_parse(t.p, n, &msg), 0);
	}
	free(t.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_methods),
	    cmocka_unit_test(test_request_fields),
	    cmocka_unit_test(test_responses),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_request_line_errors),
	    cmocka_unit_test(test_compact_forms),
	    cmocka_unit_test(test_folding),
	    cmocka_unit_test(test_multiple_vias),
	    cmocka_unit_test(test_via_params),
	    cmocka_unit_test(test_from_to),
	    cmocka_unit_test(test_contacts),
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_required),
	    cmocka_unit_test(test_body),
	    cmocka_unit_test(test_bad_bytes),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_nameaddr_list),
	    cmocka_unit_test(test_frame_split),
	    cmocka_unit_test(test_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
