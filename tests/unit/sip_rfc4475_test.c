/* sip_rfc4475_test.c: the torture messages of RFC 4475 section 3
 * (tests/data/rfc4475/NAME.sip, exact bytes) through the parser.
 *
 * The files hold the messages of RFC 4475 section 3 with the RFC's own
 * conventions resolved (section 2: <allOneLine> lines joined, <hex> bytes
 * written as bytes) and CRLF line ends; the binary part of mpart01 is the
 * RFC's hex. Every Content-Length matches its body as in the RFC (clerr,
 * ncl and mcl01 are wrong on purpose; dblreq's second request, with its
 * "m =video" line, is the trailing noise the RFC means). The archive's
 * test.dat is not one of the section 3 messages and is left out.
 *
 * The table below is the contract: what sip_msg_parse() returns for each
 * message and what the caller (transaction layer, registrar, B2BUA) does
 * with it. "dgram" means the message came in a datagram; on a stream
 * sip_stream_frame() sees it first.
 *
 * intmeth's To display name holds BEL, NUL and DEL as quoted-pairs, which
 * RFC 3261 allows: they parse; control bytes in clear do not. Who copies
 * a display name out reduces it to printable text (b2bua, log).
 * (longreq, with 34 Via values, parses: SIP_VIA_MAX is 64.)
 *
 *   name        RFC       parser           caller
 *   wsinv       3.1.1.1   0                process
 *   intmeth     3.1.1.2   0                method UNKNOWN: 501
 *   esc01       3.1.1.3   0                process; unescape with
 *                                          sip_uri_unescape()
 *   escnull     3.1.1.4   0                process; user parts hold %00:
 *                                          compare with lengths
 *   esc02       3.1.1.5   0                method UNKNOWN: 501 at a UAS;
 *                                          C%6Fntact is no Contact
 *   lwsdisp     3.1.1.6   0                process
 *   longreq     3.1.1.7   0                process (34 Via values)
 *   dblreq      3.1.1.8   0                process the REGISTER; m.len
 *                                          ends before the extra octets
 *   semiuri     3.1.1.9   0                process; user is
 *                                          "user;par=u%40example.net"
 *   transports  3.1.1.10  0                process; via[3] is OTHER
 *   mpart01     3.1.1.11  0                process; the body holds NULs
 *   unreason    3.1.1.12  0                process (response)
 *   noreason    3.1.1.13  0                process (response)
 *   badinv01    3.1.2.1   EBADMSG          400
 *   clerr       3.1.2.2   EBADMSG (dgram)  400; on a stream ENODATA
 *                                          until a timeout closes it
 *   ncl         3.1.2.3   EBADMSG          400; on a stream EBADMSG:
 *                                          close the connection
 *   scalar02    3.1.2.4   EBADMSG          400 (CSeq >= 2^31)
 *   scalarlg    3.1.2.5   EBADMSG          drop (a response)
 *   quotbal     3.1.2.6   EBADMSG          400
 *   ltgtruri    3.1.2.7   EBADMSG          400
 *   lwsruri     3.1.2.8   EBADMSG          400
 *   lwsstart    3.1.2.9   EBADMSG          400
 *   trws        3.1.2.10  EBADMSG          400
 *   escruri     3.1.2.11  EBADMSG          400
 *   baddate     3.1.2.12  0                process: Date is not read
 *                                          by the parser, and we do not
 *                                          use it (RFC 4475 allows)
 *   regbadct    3.1.2.13  EBADMSG          400
 *   badaspec    3.1.2.14  EBADMSG          400
 *   baddn       3.1.2.15  EBADMSG          400
 *   badvers     3.1.2.16  EPROTONOSUPPORT  505 (m is filled for it)
 *   mismatch01  3.1.2.17  EBADMSG          400
 *   mismatch02  3.1.2.18  EBADMSG          400 (RFC 4475 allows it in
 *                                          place of 501)
 *   bigcode     3.1.2.19  EBADMSG          drop (a response)
 *   badbranch   3.2.1     0                branch_rfc3261 is false:
 *                                          match the RFC 2543 way or 400
 *   insuf       3.3.1     EBADMSG          400 (no Call-ID, From, To)
 *   unkscm      3.3.2     0                ruri.scheme OTHER: 416
 *   novelsc     3.3.3     0                ruri.scheme OTHER: 416
 *   unksm2      3.3.4     0                registrar: 416 (To, From and
 *                                          Contact are not SIP URIs)
 *   bext01      3.3.5     0                420 with Unsupported
 *   invut       3.3.6     0                415 with Accept
 *   regaut01    3.3.7     0                401 (challenge; ignore the
 *                                          unknown scheme)
 *   multi01     3.3.8     EBADMSG          400
 *   mcl01       3.3.9     EBADMSG          400; on a stream EBADMSG:
 *                                          close
 *   bcast       3.3.10    0                match on the top Via only;
 *                                          never send to a broadcast
 *   zeromf      3.3.11    0                max_forwards 0: 483 when
 *                                          forwarding; the target of an
 *                                          OPTIONS may answer it
 *   cparam01    3.3.12    0                bind the URI; unknownparam is
 *                                          a contact parameter
 *   cparam02    3.3.13    0                bind the URI; unknownparam is
 *                                          a URI parameter
 *   regescrt    3.3.14    0                uri.headers is set: sipwarden's
 *                                          registrar refuses (400) rather
 *                                          than bind a URI with headers
 *   sdp01       3.3.15    0                406 (Accept names no type we
 *                                          can answer with)
 *   inv2543     3.4.1     0                RFC 2543 peer: no branch, no
 *                                          From tag, no Max-Forwards, no
 *                                          Content-Length (dgram: the
 *                                          rest is the body); process or
 *                                          refuse by policy
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/build.h"
#include "sip/msg.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIR_DEFAULT "tests/data/rfc4475"

static const struct expect {
	const char *name;
	int err;
} table[] = {
    {"wsinv", 0},
    {"intmeth", 0},
    {"esc01", 0},
    {"escnull", 0},
    {"esc02", 0},
    {"lwsdisp", 0},
    {"longreq", 0},
    {"dblreq", 0},
    {"semiuri", 0},
    {"transports", 0},
    {"mpart01", 0},
    {"unreason", 0},
    {"noreason", 0},
    {"badinv01", EBADMSG},
    {"clerr", EBADMSG},
    {"ncl", EBADMSG},
    {"scalar02", EBADMSG},
    {"scalarlg", EBADMSG},
    {"quotbal", EBADMSG},
    {"ltgtruri", EBADMSG},
    {"lwsruri", EBADMSG},
    {"lwsstart", EBADMSG},
    {"trws", EBADMSG},
    {"escruri", EBADMSG},
    {"baddate", 0},
    {"regbadct", EBADMSG},
    {"badaspec", EBADMSG},
    {"baddn", EBADMSG},
    {"badvers", EPROTONOSUPPORT},
    {"mismatch01", EBADMSG},
    {"mismatch02", EBADMSG},
    {"bigcode", EBADMSG},
    {"badbranch", 0},
    {"insuf", EBADMSG},
    {"unkscm", 0},
    {"novelsc", 0},
    {"unksm2", 0},
    {"bext01", 0},
    {"invut", 0},
    {"regaut01", 0},
    {"multi01", EBADMSG},
    {"mcl01", EBADMSG},
    {"bcast", 0},
    {"zeromf", 0},
    {"cparam01", 0},
    {"cparam02", 0},
    {"regescrt", 0},
    {"sdp01", 0},
    {"inv2543", 0},
};

static struct sip_msg msg;
static char buf[SIP_MSG_MAX + 1], out[SIP_MSG_MAX + 1];
static size_t buflen;

static const char *
data_dir(void)
{
	const char *d = getenv("SW_RFC4475_DIR");

	return d != NULL ? d : DIR_DEFAULT;
}

static int
load(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.sip", data_dir(), name);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	buflen = fread(buf, 1, sizeof(buf), f);
	assert_int_equal(ferror(f), 0);
	assert_true(buflen < sizeof(buf));
	fclose(f);
	return sip_msg_parse(buf, buflen, &msg);
}

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

/* Every message gives the result of the table; every prefix of it parses
 * or fails cleanly; the framer agrees. */
static void
test_table(void **state)
{
	size_t i, cut, skipped, n;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int r = load(table[i].name);

		if (r != table[i].err)
			fail_msg("%s: got %d (%s), want %d (%s)", table[i].name,
			    r, strerror(r), table[i].err,
			    strerror(table[i].err));
		for (cut = 0; cut <= buflen; cut++) {
			r = sip_msg_parse(buf, cut, &msg);
			assert_true(r == 0 || r == EBADMSG || r == EMSGSIZE ||
			            r == ENODATA || r == EPROTONOSUPPORT);
			r = sip_stream_frame(buf, cut, &skipped, &n);
			assert_true(r == 0 || r == EBADMSG || r == EMSGSIZE ||
			            r == ENODATA);
		}
	}
}

/* Every file in the folder has a line in the table. */
static void
test_files_listed(void **state)
{
	DIR *d = opendir(data_dir());
	struct dirent *e;
	size_t files = 0, i;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		bool found = false;

		if (len < 5 || strcmp(e->d_name + len - 4, ".sip") != 0)
			continue;
		files++;
		for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			if (strlen(table[i].name) == len - 4 &&
			    memcmp(table[i].name, e->d_name, len - 4) == 0)
				found = true;
		if (!found)
			fail_msg("%s has no expectation", e->d_name);
	}
	closedir(d);
	assert_int_equal(files, sizeof(table) / sizeof(table[0]));
}

static void
test_valid_details(void **state)
{
	const struct sip_hdr *h;
	char tmp[64];
	size_t n;

	(void)state;
	assert_int_equal(load("wsinv"), 0);
	assert_int_equal(msg.method, SIP_METHOD_INVITE);
	assert_sv(msg.ruri.params, ";unknownparam");
	assert_sv(msg.to.tag, "1918181833n");
	assert_sv(msg.from.display, "J Rosenberg \\\\\\\"");
	assert_sv(msg.from.tag, "98asjd8");
	assert_int_equal(msg.max_forwards, 68);
	assert_int_equal(msg.cseq, 9);
	assert_int_equal(msg.nvia, 3);
	assert_sv(msg.via[0].host, "192.0.2.2");
	assert_sv(msg.via[0].branch, "390skdjuw");
	assert_false(msg.via[0].branch_rfc3261);
	assert_sv(msg.via[1].host, "spindle.example.com");
	assert_int_equal(msg.via[1].transport, SIP_TRANSPORT_TCP);
	assert_sv(msg.via[2].branch, "z9hG4bK30239");
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_SUBJECT)->value, "");
	assert_sv(
	    sip_msg_hdr_find(&msg, "UnknownHeaderWithUnusualValue")->value,
	    ";;,,;;,;");
	assert_sv(sip_msg_hdr_find(&msg, "newfangledheader")->value,
	    "newfangled value\r\n continued newfangled value");
	assert_int_equal(msg.ncontact, 1);
	assert_sv(msg.contact[0].na.display, "Quoted string \\\"\\\"");
	assert_int_equal(msg.contact[0].q, 330);
	assert_int_equal(msg.body.len, 150);

	assert_int_equal(load("esc01"), 0);
	assert_int_equal(
	    sip_uri_unescape(msg.to.uri.user, tmp, sizeof(tmp), &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(tmp, "user", 4);

	assert_int_equal(load("escnull"), 0);
	assert_int_equal(msg.ncontact, 2);
	assert_sv(msg.contact[1].na.uri.user, "%00%00");
	assert_int_equal(
	    sip_uri_unescape(msg.contact[1].na.uri.user, tmp, sizeof(tmp), &n),
	    0);
	assert_int_equal(n, 2);

	assert_int_equal(load("esc02"), 0);
	assert_int_equal(msg.method, SIP_METHOD_UNKNOWN);
	assert_sv(msg.method_name, "RE%47IST%45R");
	assert_int_equal(msg.ncontact, 2);
	assert_sv(msg.to.display, "%Z%45");
	assert_sv(sip_msg_hdr_find(&msg, "C%6Fntact")->value,
	    "<sip:alias2@host2.example.com>");

	assert_int_equal(load("lwsdisp"), 0);
	assert_sv(msg.from.display, "caller");

	assert_int_equal(load("dblreq"), 0);
	assert_int_equal(msg.method, SIP_METHOD_REGISTER);
	assert_true(msg.len < buflen);
	assert_int_equal(msg.body.len, 0);

	assert_int_equal(load("semiuri"), 0);
	assert_sv(msg.ruri.user, "user;par=u%40example.net");
	assert_sv(msg.ruri.host, "example.com");

	assert_int_equal(load("transports"), 0);
	assert_int_equal(msg.nvia, 5);
	assert_int_equal(msg.via[1].transport, SIP_TRANSPORT_SCTP);
	assert_int_equal(msg.via[2].transport, SIP_TRANSPORT_TLS);
	assert_int_equal(msg.via[3].transport, SIP_TRANSPORT_OTHER);
	assert_sv(msg.via[3].transport_name, "UNKNOWN");

	assert_int_equal(load("mpart01"), 0);
	assert_int_equal(msg.body.len, 553);
	assert_non_null(memchr(msg.body.p, '\0', msg.body.len));
	assert_true(msg.via[0].rport);

	assert_int_equal(load("unreason"), 0);
	assert_int_equal(msg.status, 200);
	assert_true(msg.reason.len > 20);
	assert_int_equal(msg.body.len, 154);

	assert_int_equal(load("noreason"), 0);
	assert_int_equal(msg.status, 100);
	assert_int_equal(msg.reason.len, 0);

	assert_int_equal(load("badbranch"), 0);
	assert_sv(msg.via[0].branch, "z9hG4bK");
	assert_false(msg.via[0].branch_rfc3261);

	assert_int_equal(load("unkscm"), 0);
	assert_int_equal(msg.ruri.scheme, SIP_URI_OTHER);
	assert_sv(msg.ruri.scheme_name, "nobodyKnowsThisScheme");
	assert_int_equal(load("novelsc"), 0);
	assert_sv(msg.ruri.scheme_name, "soap.beep");

	assert_int_equal(load("unksm2"), 0);
	assert_int_equal(msg.to.uri.scheme, SIP_URI_OTHER);
	assert_sv(msg.to.uri.scheme_name, "isbn");
	assert_sv(msg.from.uri.scheme_name, "http");
	assert_sv(msg.contact[0].na.uri.scheme_name, "name");

	assert_int_equal(load("bext01"), 0);
	h = sip_msg_hdr(&msg, SIP_HDR_PROXY_REQUIRE);
	assert_non_null(h);
	{
		struct sv rest = sip_msg_hdr(&msg, SIP_HDR_REQUIRE)->value, tok;

		assert_int_equal(sip_token_next(&rest, &tok), 0);
		assert_sv(tok, "nothingSupportsThis");
	}

	assert_int_equal(load("invut"), 0);
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_CONTENT_TYPE)->value,
	    "application/unknownformat");
	assert_int_equal(load("regaut01"), 0);
	assert_non_null(sip_msg_hdr(&msg, SIP_HDR_AUTHORIZATION));

	assert_int_equal(load("bcast"), 0);
	assert_int_equal(msg.nvia, 2);
	assert_sv(msg.via[1].host, "255.255.255.255");

	assert_int_equal(load("zeromf"), 0);
	assert_int_equal(msg.max_forwards, 0);

	assert_int_equal(load("cparam01"), 0);
	assert_false(msg.contact[0].na.bracketed);
	assert_sv(msg.contact[0].na.params, ";unknownparam");
	assert_int_equal(msg.contact[0].na.uri.params.len, 0);
	assert_int_equal(load("cparam02"), 0);
	assert_sv(msg.contact[0].na.uri.params, ";unknownparam");
	assert_int_equal(msg.contact[0].na.params.len, 0);

	assert_int_equal(load("regescrt"), 0);
	assert_sv(
	    msg.contact[0].na.uri.headers, "Route=%3Csip:sip.example.com%3E");

	assert_int_equal(load("sdp01"), 0);
	assert_sv(
	    sip_msg_hdr(&msg, SIP_HDR_ACCEPT)->value, "text/nobodyKnowsThis");

	assert_int_equal(load("inv2543"), 0);
	assert_false(msg.has_content_length);
	assert_false(msg.via[0].has_branch);
	assert_false(msg.from.has_tag);
	assert_int_equal(msg.max_forwards, -1);
	assert_int_equal(msg.body.len, 105);
	assert_sv(msg.to.params, ";user=phone");

	assert_int_equal(load("baddate"), 0);
	assert_sv(sip_msg_hdr(&msg, SIP_HDR_DATE)->value,
	    "Fri, 01 Jan 2010 16:00:00 EST");
}

static void
test_invalid_details(void **state)
{
	size_t skipped, n;

	(void)state;
	/* clerr on a stream waits for the rest; ncl and mcl01 are garbage. */
	load("clerr");
	assert_int_equal(sip_stream_frame(buf, buflen, &skipped, &n), ENODATA);
	load("ncl");
	assert_int_equal(sip_stream_frame(buf, buflen, &skipped, &n), EBADMSG);
	load("mcl01");
	assert_int_equal(sip_stream_frame(buf, buflen, &skipped, &n), EBADMSG);
	/* inv2543 has no Content-Length: a stream refuses it. */
	load("inv2543");
	assert_int_equal(sip_stream_frame(buf, buflen, &skipped, &n), EBADMSG);
	/* The 505 for badvers. */
	assert_int_equal(load("badvers"), EPROTONOSUPPORT);
	assert_int_equal(sip_build_response(out, sizeof(out), &msg, 505, NULL,
	                     "t1", "192.0.2.99", 0, NULL, NULL, 0, &n),
	    0);
	assert_non_null(
	    memmem(out, n, "SIP/2.0 505 Version Not Supported\r\n", 35));
	assert_non_null(memmem(out, n, "SIP/7.0/UDP c.example.com", 25));
}

/* Valid requests answer and parse back. */
static void
test_responses(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct sip_msg *r;

		if (table[i].err != 0 || load(table[i].name) != 0 ||
		    !msg.is_request)
			continue;
		assert_int_equal(
		    sip_build_response(out, sizeof(out), &msg, 200, NULL, "tt",
		        "192.0.2.200", 5060, NULL, NULL, 0, &n),
		    0);
		r = malloc(sizeof(*r));
		assert_non_null(r);
		if (sip_msg_parse(out, n, r) != 0)
			fail_msg("%s: the response does not parse:\n%.*s",
			    table[i].name, (int)n, out);
		assert_int_equal(r->nvia, msg.nvia);
		assert_int_equal(r->cseq, msg.cseq);
		free(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_files_listed),
	    cmocka_unit_test(test_valid_details),
	    cmocka_unit_test(test_invalid_details),
	    cmocka_unit_test(test_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
