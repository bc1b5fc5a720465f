/* ng_test.c: unit tests of the rtpengine "ng" protocol codec
 * (src/media/ng.c): requests as Kamailio's and OpenSIPS's rtpengine modules
 * and rtpengine's own test client send them, every rejection rule, and the
 * replies byte for byte. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/ng.h"

enum { MSG_MAX = NG_DATAGRAM_MAX + 1024 };

/* A request being written; the test's own tiny bencoder, independent of
 * the one under test. */
struct msg {
	char buf[MSG_MAX];
	size_t len;
};

static struct msg m;
static struct ng_request req;
static char out[MSG_MAX];

static const char sdp_offer[] =
    "v=0\r\n"
    "o=- 1545997027 1 IN IP4 198.51.100.1\r\n"
    "s=tester\r\n"
    "c=IN IP4 198.51.100.1\r\n"
    "t=0 0\r\n"
    "m=audio 2000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=ice-ufrag:F7gI\r\n"
    "a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host\r\n"
    "a=sendrecv\r\n";

static const char sdp_answer[] = "v=0\r\n"
                                 "o=- 1545997028 1 IN IP4 198.51.100.2\r\n"
                                 "s=tester\r\n"
                                 "c=IN IP4 198.51.100.2\r\n"
                                 "t=0 0\r\n"
                                 "m=audio 3000 RTP/AVP 0\r\n"
                                 "a=sendrecv\r\n";

static void
msg_init(const char *cookie)
{
	m.len = 0;
	if (cookie != NULL) {
		memcpy(m.buf, cookie, strlen(cookie));
		m.len = strlen(cookie);
		m.buf[m.len++] = ' ';
	}
}

/* Appends raw bytes. */
static void
raw(const char *s)
{
	size_t n = strlen(s);

	assert_true(n <= MSG_MAX - m.len);
	memcpy(m.buf + m.len, s, n);
	m.len += n;
}

/* Appends "<len>:<bytes>". */
static void
bsn(const char *p, size_t n)
{
	int k = snprintf(m.buf + m.len, MSG_MAX - m.len, "%zu:", n);

	assert_true(k > 0 && (size_t)k < MSG_MAX - m.len);
	m.len += (size_t)k;
	assert_true(n <= MSG_MAX - m.len);
	memcpy(m.buf + m.len, p, n);
	m.len += n;
}

static void
bs(const char *s)
{
	bsn(s, strlen(s));
}

/* Appends key and string value. */
static void
kv(const char *k, const char *v)
{
	bs(k);
	bs(v);
}

static int
msg_parse(void)
{
	return ng_request_parse(m.buf, m.len, &req);
}

static void
assert_sv(struct sv v, const char *s)
{
	assert_non_null(v.p);
	assert_int_equal(v.len, strlen(s));
	assert_memory_equal(v.p, s, v.len);
}

static void
assert_absent(struct sv v)
{
	assert_null(v.p);
	assert_int_equal(v.len, 0);
}

/* Every view of a parsed request lies in the datagram. */
static void
assert_views_inside(void)
{
	const struct sv *all[] = {&req.cookie, &req.command, &req.call_id,
	    &req.from_tag, &req.to_tag, &req.via_branch, &req.sdp,
	    &req.transport_protocol, &req.ice, &req.received_family,
	    &req.received_addr};
	size_t i;

	for (i = 0; i < ARRAY_LEN(all); i++) {
		if (all[i]->p == NULL)
			continue;
		assert_true(all[i]->p >= m.buf &&
		            all[i]->p + all[i]->len <= m.buf + m.len);
	}
}

/* Kamailio's rtpengine_offer("replace-origin replace-session-connection
 * ICE=remove RTP/AVP") on an INVITE from 192.0.2.10: keys in the order the
 * module adds them (unsorted), cookie "<server_id>_<pid>_<seq>". */
static void
test_kamailio_offer(void **state)
{
	(void)state;
	msg_init("0_2114_7");
	raw("d");
	kv("sdp", sdp_offer);
	kv("ICE", "remove");
	bs("replace");
	raw("l");
	bs("origin");
	bs("session-connection");
	raw("e");
	kv("transport-protocol", "RTP/AVP");
	kv("call-id", "a84b4c76e66710@pc33.example.com");
	bs("received-from");
	raw("l");
	bs("IP4");
	bs("192.0.2.10");
	raw("e");
	kv("from-tag", "1928301774");
	kv("command", "offer");
	raw("e");

	assert_int_equal(msg_parse(), 0);
	assert_null(req.reason);
	assert_views_inside();
	assert_sv(req.cookie, "0_2114_7");
	assert_int_equal(req.cmd, NG_CMD_OFFER);
	assert_sv(req.command, "offer");
	assert_sv(req.sdp, sdp_offer);
	assert_sv(req.ice, "remove");
	assert_int_equal(req.nreplace, 2);
	assert_sv(req.replace[0], "origin");
	assert_sv(req.replace[1], "session-connection");
	assert_sv(req.transport_protocol, "RTP/AVP");
	assert_sv(req.call_id, "a84b4c76e66710@pc33.example.com");
	assert_true(req.has_received_from);
	assert_sv(req.received_family, "IP4");
	assert_sv(req.received_addr, "192.0.2.10");
	assert_sv(req.from_tag, "1928301774");
	assert_absent(req.to_tag);
	assert_absent(req.via_branch);
	assert_int_equal(req.nflags, 0);
	assert_int_equal(req.ndirection, 0);
	assert_int_equal(req.nrtcp_mux, 0);
	assert_string_equal(ng_command_name(req.cmd), "offer");

	/* the dictionary stays reachable */
	assert_non_null(ng_request_dict(&req));
	assert_int_equal(ng_request_dict(&req)->len, 8);
	assert_sv(ng_request_get(&req, "ICE")->s, "remove");
	assert_null(ng_request_get(&req, "TOS"));
}

/* rtpengine_offer("trust-address SIP-source-address direction=pub
 * direction=priv rtcp-mux-demux via-branch=1 RTP/SAVP"). */
static void
test_kamailio_offer_flags(void **state)
{
	(void)state;
	msg_init("1_31337_4294967295");
	raw("d");
	kv("sdp", sdp_offer);
	bs("direction");
	raw("l");
	bs("pub");
	bs("priv");
	raw("e");
	bs("flags");
	raw("l");
	bs("trust-address");
	bs("SIP-source-address");
	raw("e");
	kv("transport-protocol", "RTP/SAVP");
	bs("rtcp-mux");
	raw("l");
	bs("demux");
	raw("e");
	kv("call-id", "3848276298220188511@atlanta.example.com");
	kv("via-branch", "z9hG4bK74bf9");
	bs("received-from");
	raw("l");
	bs("IP6");
	bs("2001:db8::10");
	raw("e");
	kv("from-tag", "9fxced76sl");
	kv("command", "offer");
	raw("e");

	assert_int_equal(msg_parse(), 0);
	assert_views_inside();
	assert_int_equal(req.cmd, NG_CMD_OFFER);
	assert_int_equal(req.ndirection, 2);
	assert_sv(req.direction[0], "pub");
	assert_sv(req.direction[1], "priv");
	assert_int_equal(req.nflags, 2);
	assert_sv(req.flags[0], "trust-address");
	assert_sv(req.flags[1], "SIP-source-address");
	assert_sv(req.transport_protocol, "RTP/SAVP");
	assert_int_equal(req.nrtcp_mux, 1);
	assert_sv(req.rtcp_mux[0], "demux");
	assert_sv(req.via_branch, "z9hG4bK74bf9");
	assert_sv(req.received_family, "IP6");
	assert_sv(req.received_addr, "2001:db8::10");
	assert_absent(req.ice);
	assert_int_equal(req.nreplace, 0);
}

/* rtpengine_answer() on the 200 OK: from-tag and to-tag. */
static void
test_kamailio_answer(void **state)
{
	(void)state;
	msg_init("0_2114_8");
	raw("d");
	kv("sdp", sdp_answer);
	kv("ICE", "remove");
	bs("replace");
	raw("l");
	bs("origin");
	bs("session-connection");
	raw("e");
	kv("call-id", "a84b4c76e66710@pc33.example.com");
	bs("received-from");
	raw("l");
	bs("IP4");
	bs("203.0.113.7");
	raw("e");
	kv("from-tag", "1928301774");
	kv("to-tag", "a6c85cf");
	kv("command", "answer");
	raw("e");

	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.cmd, NG_CMD_ANSWER);
	assert_sv(req.sdp, sdp_answer);
	assert_sv(req.from_tag, "1928301774");
	assert_sv(req.to_tag, "a6c85cf");
	assert_absent(req.transport_protocol);
}

/* OpenSIPS's rtpengine_delete() ("<pid>_<rand>_<seq>" cookie), with a
 * "delete delay" the codec does not read. */
static void
test_opensips_delete(void **state)
{
	const struct bencode_node *v;

	(void)state;
	msg_init("4242_1804289383_12");
	raw("d");
	kv("call-id", "a84b4c76e66710@pc33.example.com");
	bs("received-from");
	raw("l");
	bs("IP4");
	bs("192.0.2.10");
	raw("e");
	kv("from-tag", "1928301774");
	kv("to-tag", "a6c85cf");
	bs("delete delay");
	raw("i30e");
	kv("command", "delete");
	raw("e");

	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.cmd, NG_CMD_DELETE);
	assert_sv(req.cookie, "4242_1804289383_12");
	assert_absent(req.sdp);
	v = ng_request_get(&req, "delete delay");
	assert_non_null(v);
	assert_int_equal(v->type, BENCODE_INT);
	assert_int_equal(v->i, 30);

	/* from-tag is optional for delete (the whole call goes) */
	msg_init("4242_1804289383_13");
	raw("d");
	kv("call-id", "x");
	kv("command", "delete");
	raw("e");
	assert_int_equal(msg_parse(), 0);
	assert_absent(req.from_tag);
}

/* The ping of the protocol documentation, byte for byte. */
static void
test_ping(void **state)
{
	static const char in[] = "5323_1 d7:command4:pinge";

	(void)state;
	assert_int_equal(ng_request_parse(in, sizeof(in) - 1, &req), 0);
	assert_int_equal(req.cmd, NG_CMD_PING);
	assert_sv(req.cookie, "5323_1");
	assert_absent(req.call_id);
	assert_int_equal(req.nnodes, 3);
}

/* rtpengine's Perl test client: a rand() cookie, keys sorted (Bencode.pm
 * sorts them) and the spellings of the documentation ("transport
 * protocol", "received from"). */
static void
test_perl_client(void **state)
{
	(void)state;
	msg_init("0.718281828459045");
	raw("d");
	kv("ICE", "remove");
	kv("call-id", "2-test-callID-0.5");
	kv("command", "offer");
	bs("flags");
	raw("l");
	bs("loop protect");
	raw("e");
	kv("from-tag", "3-test-fromtag-0.5");
	bs("received from");
	raw("l");
	bs("IP4");
	bs("198.51.100.1");
	raw("e");
	bs("replace");
	raw("l");
	bs("origin");
	raw("e");
	kv("sdp", sdp_offer);
	kv("transport protocol", "RTP/AVP");
	raw("e");

	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.cmd, NG_CMD_OFFER);
	assert_sv(req.cookie, "0.718281828459045");
	assert_sv(req.transport_protocol, "RTP/AVP");
	assert_sv(req.received_addr, "198.51.100.1");
	assert_sv(req.flags[0], "loop protect");

	/* query, with an exponent cookie rand() can print */
	msg_init("8.5e-05");
	raw("d");
	kv("call-id", "2-test-callID-0.5");
	kv("command", "query");
	kv("from-tag", "3-test-fromtag-0.5");
	raw("e");
	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.cmd, NG_CMD_QUERY);
	assert_sv(req.cookie, "8.5e-05");

	/* the other spellings rtpengine accepts */
	msg_init("c1");
	raw("d");
	kv("call id", "c");
	kv("command", "answer");
	kv("from tag", "f");
	kv("ice", "force");
	bs("rtcp mux");
	raw("l");
	bs("accept");
	raw("e");
	kv("sdp", sdp_answer);
	kv("to tag", "t");
	kv("via branch", "b");
	raw("e");
	assert_int_equal(msg_parse(), 0);
	assert_sv(req.call_id, "c");
	assert_sv(req.from_tag, "f");
	assert_sv(req.to_tag, "t");
	assert_sv(req.via_branch, "b");
	assert_sv(req.ice, "force");
	assert_sv(req.rtcp_mux[0], "accept");
}

/* Keys the codec does not read are ignored, and kept by name. */
static void
test_unknown_keys(void **state)
{
	const struct bencode_node *v;
	struct bencode_iter it;

	(void)state;
	msg_init("7_1");
	raw("d");
	kv("command", "offer");
	kv("call-id", "c");
	kv("from-tag", "f");
	kv("sdp", sdp_offer);
	kv("address family", "IP4");
	bs("TOS");
	raw("i184e");
	bs("codec");
	raw("d");
	bs("transcode");
	raw("l");
	bs("PCMA");
	bs("opus");
	raw("ee");
	bs("supports");
	raw("l");
	bs("load limit");
	raw("e");
	bs("flags");
	raw("le"); /* empty */
	raw("e");

	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.nflags, 0);
	assert_sv(ng_request_get(&req, "address family")->s, "IP4");
	assert_int_equal(ng_request_get(&req, "TOS")->i, 184);
	v = bencode_dict_get(ng_request_get(&req, "codec"), "transcode");
	assert_non_null(v);
	bencode_iter_init(&it, v);
	assert_sv(bencode_list_next(&it)->s, "PCMA");
	assert_sv(bencode_list_next(&it)->s, "opus");
	assert_null(bencode_list_next(&it));
	assert_null(ng_request_get(&req, NULL));
	assert_null(ng_request_get(NULL, "TOS"));
}

/* Empty strings in lists are kept; an empty to-tag where none is needed
 * is a present, empty view. */
static void
test_empty_values(void **state)
{
	(void)state;
	msg_init("e1");
	raw("d");
	kv("command", "offer");
	kv("call-id", "c");
	kv("from-tag", "f");
	kv("to-tag", "");
	kv("sdp", "v=0\r\n");
	bs("flags");
	raw("l0:e");
	raw("e");
	assert_int_equal(msg_parse(), 0);
	assert_non_null(req.to_tag.p);
	assert_int_equal(req.to_tag.len, 0);
	assert_int_equal(req.nflags, 1);
	assert_int_equal(req.flags[0].len, 0);
}

struct bad {
	const char *in; /* the whole datagram */
	int err;
	const char *cookie; /* expected cookie, NULL: none */
	const char *reason;
};

static void
test_malformed(void **state)
{
	static const struct bad bad[] = {
	    /* the cookie */
	    {"d7:command4:pinge", EBADMSG, NULL, "Invalid cookie"},
	    {" d7:command4:pinge", EBADMSG, NULL, "Invalid cookie"},
	    {"ab/c d7:command4:pinge", EBADMSG, NULL, "Invalid cookie"},
	    {"ab\tc d7:command4:pinge", EBADMSG, NULL, "Invalid cookie"},
	    {"abc", EBADMSG, NULL, "Invalid cookie"},
	    {"", EBADMSG, NULL, "Invalid cookie"},
	    {"\xc3\xa9 d7:command4:pinge", EBADMSG, NULL, "Invalid cookie"},
	    /* the dictionary */
	    {"1 ", EBADMSG, "1", "empty input"},
	    {"1  d7:command4:pinge", EBADMSG, "1", "not a bencoded value"},
	    {"1 {\"command\":\"ping\"}", EBADMSG, "1", "JSON is not supported"},
	    {"1 l4:pinge", EBADMSG, "1", "Message is not a dictionary"},
	    {"1 4:ping", EBADMSG, "1", "Message is not a dictionary"},
	    {"1 d7:command4:pingee", EBADMSG, "1", "bytes after the value"},
	    {"1 d7:command4:pinge\n", EBADMSG, "1", "bytes after the value"},
	    {"1 d7:command4:ping", EBADMSG, "1",
	        "unterminated list or dictionary"},
	    {"1 d7:command9:pinge", EBADMSG, "1",
	        "string longer than the input"},
	    {"1 d07:command4:pinge", EBADMSG, "1",
	        "leading zero in string length"},
	    {"1 d7:command4:ping3:TOSi-0ee", EBADMSG, "1", "negative zero"},
	    {"1 d7:command4:ping3:TOSi007ee", EBADMSG, "1",
	        "leading zero in integer"},
	    {"1 d7:command4:pingi1e1:xe", EBADMSG, "1",
	        "dictionary key is not a string"},
	    {"1 d7:command4:ping7:command4:pinge", EBADMSG, "1",
	        "duplicate dictionary key"},
	    /* the command */
	    {"1 de", EBADMSG, "1", "No command in message"},
	    {"1 d7:commandi1ee", EBADMSG, "1", "Invalid command"},
	    {"1 d7:command4:PINGe", ENOTSUP, "1", "Unrecognized command"},
	    {"1 d7:command15:start recordinge", ENOTSUP, "1",
	        "Unrecognized command"},
	    /* required keys */
	    {"1 d7:command6:deletee", EBADMSG, "1", "No call-id in message"},
	    {"1 d7:command6:delete7:call-id0:e", EBADMSG, "1",
	        "No call-id in message"},
	    {"1 d7:command5:querye", EBADMSG, "1", "No call-id in message"},
	    {"1 d7:command5:offer7:call-id1:c8:from-tag1:fe", EBADMSG, "1",
	        "No SDP body in message"},
	    {"1 d7:command5:offer3:sdp0:7:call-id1:c8:from-tag1:fe", EBADMSG,
	        "1", "No SDP body in message"},
	    {"1 d7:command5:offer3:sdp3:v=07:call-id1:ce", EBADMSG, "1",
	        "No from-tag in message"},
	    {"1 d7:command6:answer3:sdp3:v=07:call-id1:c8:from-tag1:fe",
	        EBADMSG, "1", "No to-tag in message"},
	    {"1 d7:command6:answer3:sdp3:v=07:call-id1:c8:from-tag1:f"
	     "6:to-tag0:e",
	        EBADMSG, "1", "No to-tag in message"},
	    /* types of known keys */
	    {"1 d7:command6:delete7:call-idi1ee", EBADMSG, "1",
	        "Invalid call-id"},
	    {"1 d7:command6:delete7:call-idlee", EBADMSG, "1",
	        "Invalid call-id"},
	    {"1 d7:command4:ping8:from-tagdee", EBADMSG, "1",
	        "Invalid from-tag"},
	    {"1 d7:command4:ping3:sdpi0ee", EBADMSG, "1", "Invalid sdp"},
	    {"1 d7:command4:ping3:ICEl6:removeee", EBADMSG, "1", "Invalid ICE"},
	    {"1 d7:command4:ping18:transport-protocoli1ee", EBADMSG, "1",
	        "Invalid transport-protocol"},
	    {"1 d7:command4:ping10:via-branchi1ee", EBADMSG, "1",
	        "Invalid via-branch"},
	    {"1 d7:command4:ping6:to-tagi1ee", EBADMSG, "1", "Invalid to-tag"},
	    {"1 d7:command4:ping5:flags13:trust-addresse", EBADMSG, "1",
	        "Invalid flags"},
	    {"1 d7:command4:ping5:flagsli1eee", EBADMSG, "1", "Invalid flags"},
	    {"1 d7:command4:ping5:flagsl1:aleee", EBADMSG, "1",
	        "Invalid flags"},
	    {"1 d7:command4:ping9:direction3:pube", EBADMSG, "1",
	        "Invalid direction"},
	    {"1 d7:command4:ping7:replaced1:a1:bee", EBADMSG, "1",
	        "Invalid replace"},
	    {"1 d7:command4:ping8:rtcp-muxi1ee", EBADMSG, "1",
	        "Invalid rtcp-mux"},
	    {"1 d7:command4:ping13:received-from14:IP4 192.0.2.10e", EBADMSG,
	        "1", "Invalid received-from"},
	    {"1 d7:command4:ping13:received-froml3:IP4ee", EBADMSG, "1",
	        "Invalid received-from"},
	    {"1 d7:command4:ping13:received-froml3:IP41:a1:bee", EBADMSG, "1",
	        "Invalid received-from"},
	    {"1 d7:command4:ping13:received-froml3:IP4i1eee", EBADMSG, "1",
	        "Invalid received-from"},
	    {"1 d7:command4:ping13:received-fromlee", EBADMSG, "1",
	        "Invalid received-from"},
	    /* one key under two spellings */
	    {"1 d7:call-id1:a7:call id1:b7:command6:deletee", EBADMSG, "1",
	        "Key given twice"},
	    {"1 d3:ICE6:remove3:ice5:force7:command4:pinge", EBADMSG, "1",
	        "Key given twice"},
	    /* limits */
	    {"1 d7:command4:ping9:directionl1:a1:b1:cee", EMSGSIZE, "1",
	        "Too many directions"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		const char *in = bad[i].in;
		int err = ng_request_parse(in, strlen(in), &req);
		const char *want = bad[i].cookie ? bad[i].cookie : "";

		if (err != bad[i].err || req.reason == NULL ||
		    strcmp(req.reason, bad[i].reason) != 0 ||
		    req.cookie.len != strlen(want) ||
		    memcmp(req.cookie.p ? req.cookie.p : "", want,
		        req.cookie.len) != 0)
			fail_msg("#%zu \"%s\": got %d (%s) cookie \"%.*s\"", i,
			    in, err, req.reason ? req.reason : "-",
			    (int)req.cookie.len,
			    req.cookie.p ? req.cookie.p : "");
		/* nothing is reachable after a failure */
		assert_null(ng_request_dict(&req));
	}
	assert_int_equal(ng_request_parse(NULL, 0, &req), EINVAL);
	assert_int_equal(ng_request_parse("1 de", 4, NULL), EINVAL);
}

/* The cookie: 64 bytes of the allowed set, not 65. */
static void
test_cookie_limits(void **state)
{
	char cookie[NG_COOKIE_MAX + 2];

	(void)state;
	memset(cookie, 'a', NG_COOKIE_MAX);
	memcpy(cookie, "Az09_.-", 7);
	cookie[NG_COOKIE_MAX] = '\0';
	msg_init(cookie);
	raw("d7:command4:pinge");
	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.cookie.len, NG_COOKIE_MAX);

	cookie[NG_COOKIE_MAX] = 'a';
	cookie[NG_COOKIE_MAX + 1] = '\0';
	msg_init(cookie);
	raw("d7:command4:pinge");
	assert_int_equal(msg_parse(), EBADMSG);
	assert_string_equal(req.reason, "Invalid cookie");
	assert_int_equal(req.cookie.len, 0);
}

/* Lists at their limits, and one past. */
static void
test_list_limits(void **state)
{
	size_t i;

	(void)state;
	msg_init("l1");
	raw("d7:command4:ping5:flagsl");
	for (i = 0; i < NG_FLAGS_MAX; i++)
		bs("symmetric");
	raw("e");
	bs("replace");
	raw("l");
	for (i = 0; i < NG_REPLACE_MAX; i++)
		bs("origin");
	raw("e");
	bs("rtcp-mux");
	raw("l");
	for (i = 0; i < NG_RTCP_MUX_MAX; i++)
		bs("offer");
	raw("ee");
	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.nflags, NG_FLAGS_MAX);
	assert_int_equal(req.nreplace, NG_REPLACE_MAX);
	assert_int_equal(req.nrtcp_mux, NG_RTCP_MUX_MAX);

	msg_init("l2");
	raw("d7:command4:ping5:flagsl");
	for (i = 0; i <= NG_FLAGS_MAX; i++)
		bs("symmetric");
	raw("ee");
	assert_int_equal(msg_parse(), EMSGSIZE);
	assert_string_equal(req.reason, "Too many flags");
	assert_sv(req.cookie, "l2");

	msg_init("l3");
	raw("d7:command4:ping7:replacel");
	for (i = 0; i <= NG_REPLACE_MAX; i++)
		bs("origin");
	raw("ee");
	assert_int_equal(msg_parse(), EMSGSIZE);
	assert_string_equal(req.reason, "Too many replace");

	msg_init("l4");
	raw("d7:command4:ping8:rtcp-muxl");
	for (i = 0; i <= NG_RTCP_MUX_MAX; i++)
		bs("offer");
	raw("ee");
	assert_int_equal(msg_parse(), EMSGSIZE);
	assert_string_equal(req.reason, "Too many rtcp-mux");
}

/* The SDP, the datagram, the nodes and the nesting. */
static void
test_size_limits(void **state)
{
	static char sdp[NG_SDP_MAX + 2];
	size_t i;

	(void)state;
	memset(sdp, 'a', sizeof(sdp) - 1);
	msg_init("s1");
	raw("d7:command5:offer7:call-id1:c8:from-tag1:f3:sdp");
	bsn(sdp, NG_SDP_MAX);
	raw("e");
	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.sdp.len, NG_SDP_MAX);

	msg_init("s2");
	raw("d7:command5:offer7:call-id1:c8:from-tag1:f3:sdp");
	bsn(sdp, NG_SDP_MAX + 1);
	raw("e");
	assert_int_equal(msg_parse(), EMSGSIZE);
	assert_string_equal(req.reason, "SDP too large");

	/* a datagram of exactly NG_DATAGRAM_MAX bytes parses; one more
	 * byte does not */
	{
		static char pad[NG_DATAGRAM_MAX];
		size_t fixed, padlen, at;
		char head[16];

		msg_init("d1");
		raw("d7:command4:ping3:padXXXXX:");
		at = m.len - 6;    /* the five digits */
		fixed = m.len + 1; /* with the closing 'e' */
		padlen = NG_DATAGRAM_MAX - fixed;
		memset(pad, 'p', sizeof(pad));
		snprintf(head, sizeof(head), "%5zu", padlen);
		memcpy(m.buf + at, head, 5);
		memcpy(m.buf + m.len, pad, padlen);
		m.len += padlen;
		raw("e");
		assert_int_equal(m.len, NG_DATAGRAM_MAX);
		assert_int_equal(msg_parse(), 0);
		assert_int_equal(ng_request_get(&req, "pad")->s.len, padlen);

		snprintf(head, sizeof(head), "%5zu", padlen + 1);
		memcpy(m.buf + at, head, 5);
		m.len--;
		memcpy(m.buf + m.len, "pe", 2);
		m.len += 2;
		assert_int_equal(msg_parse(), EMSGSIZE);
		assert_string_equal(req.reason, "Message too large");
		assert_sv(req.cookie, "d1");
	}

	/* nodes: a list of NG_NODES_MAX strings is too many with the rest */
	msg_init("n1");
	raw("d7:command4:ping1:xl");
	for (i = 0; i < NG_NODES_MAX; i++)
		raw("0:");
	raw("ee");
	assert_int_equal(msg_parse(), EMSGSIZE);
	assert_string_equal(req.reason, "Message too complex");

	/* nesting */
	msg_init("n2");
	raw("d7:command4:ping1:x");
	for (i = 0; i < NG_DEPTH_MAX; i++)
		raw("l");
	for (i = 0; i < NG_DEPTH_MAX; i++)
		raw("e");
	raw("e");
	assert_int_equal(msg_parse(), EMSGSIZE);
	assert_string_equal(req.reason, "Message too complex");
	/* one level less fits */
	msg_init("n3");
	raw("d7:command4:ping1:x");
	for (i = 0; i < NG_DEPTH_MAX - 1; i++)
		raw("l");
	for (i = 0; i < NG_DEPTH_MAX - 1; i++)
		raw("e");
	raw("e");
	assert_int_equal(msg_parse(), 0);
}

/* A parsed request and a failed one leave nothing behind for the next. */
static void
test_reuse(void **state)
{
	(void)state;
	msg_init("r1");
	raw("d7:command6:delete7:call-id1:c8:from-tag1:f5:flagsl1:aee");
	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.nflags, 1);
	msg_init("r2");
	raw("d7:command4:pinge");
	assert_int_equal(msg_parse(), 0);
	assert_int_equal(req.nflags, 0);
	assert_absent(req.call_id);
	assert_absent(req.from_tag);
}

static void
assert_out(size_t len, const char *want)
{
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
}

static struct sv
sv_of(const char *s)
{
	struct sv v = {s, strlen(s)};

	return v;
}

static void
test_replies(void **state)
{
	size_t len = 0;

	(void)state;
	assert_int_equal(
	    ng_reply_pong(out, sizeof(out), sv_of("5323_1"), &len), 0);
	assert_out(len, "5323_1 d6:result4:ponge");

	assert_int_equal(
	    ng_reply_ok(out, sizeof(out), sv_of("0_2114_9"), &len), 0);
	assert_out(len, "0_2114_9 d6:result2:oke");

	assert_int_equal(ng_reply_ok_sdp(out, sizeof(out), sv_of("0_2114_7"),
	                     sv_of("v=0\r\n"), &len),
	    0);
	assert_out(len, "0_2114_7 d6:result2:ok3:sdp5:v=0\r\ne");

	assert_int_equal(ng_reply_error(out, sizeof(out), sv_of("1"),
	                     "No call-id in message", &len),
	    0);
	assert_out(
	    len, "1 d12:error-reason21:No call-id in message6:result5:errore");

	/* an empty reason is still a reason */
	assert_int_equal(
	    ng_reply_error(out, sizeof(out), sv_of("1"), "", &len), 0);
	assert_out(len, "1 d12:error-reason0:6:result5:errore");

	/* the reply to a parsed request echoes its cookie */
	msg_init("0.5");
	raw("d7:command4:pinge");
	assert_int_equal(msg_parse(), 0);
	assert_int_equal(ng_reply_pong(out, sizeof(out), req.cookie, &len), 0);
	assert_out(len, "0.5 d6:result4:ponge");
	msg_init("0.6");
	raw("d7:command4:PINGe");
	assert_int_equal(msg_parse(), ENOTSUP);
	assert_int_equal(
	    ng_reply_error(out, sizeof(out), req.cookie, req.reason, &len), 0);
	assert_out(len, "0.6 d12:error-reason20:Unrecognized command"
	                "6:result5:errore");
}

/* Replies the glue writes with the builder: delete and query. */
static void
test_reply_builder(void **state)
{
	struct ng_reply r;
	size_t len = 0;

	(void)state;
	assert_int_equal(ng_reply_start(&r, out, sizeof(out), sv_of("7_3")), 0);
	bencode_put_kv_int(&r.b, "created", 1700000000);
	bencode_put_kv_int(&r.b, "last signal", 1700000042);
	bencode_put_kv_cstr(&r.b, "result", "ok");
	assert_int_equal(ng_reply_finish(&r, &len), 0);
	assert_out(len, "7_3 d7:createdi1700000000e11:last signal"
	                "i1700000042e6:result2:oke");

	assert_int_equal(ng_reply_start(&r, out, sizeof(out), sv_of("7_4")), 0);
	bencode_put_kv_int(&r.b, "created", 1700000000);
	bencode_put_kv_cstr(&r.b, "result", "ok");
	bencode_put_key(&r.b, "tags");
	bencode_put_dict(&r.b);
	bencode_put_key(&r.b, "1928301774");
	bencode_put_dict(&r.b);
	bencode_put_kv_int(&r.b, "created", 1700000000);
	bencode_put_kv_cstr(&r.b, "in dialogue with", "a6c85cf");
	bencode_put_kv_cstr(&r.b, "tag", "1928301774");
	bencode_put_end(&r.b);
	bencode_put_key(&r.b, "a6c85cf");
	bencode_put_dict(&r.b);
	bencode_put_kv_int(&r.b, "created", 1700000001);
	bencode_put_kv_cstr(&r.b, "in dialogue with", "1928301774");
	bencode_put_kv_cstr(&r.b, "tag", "a6c85cf");
	bencode_put_end(&r.b);
	bencode_put_end(&r.b);
	bencode_put_key(&r.b, "totals");
	bencode_put_dict(&r.b);
	bencode_put_key(&r.b, "RTCP");
	bencode_put_dict(&r.b);
	bencode_put_kv_int(&r.b, "bytes", 640);
	bencode_put_kv_int(&r.b, "errors", 0);
	bencode_put_kv_int(&r.b, "packets", 8);
	bencode_put_end(&r.b);
	bencode_put_key(&r.b, "RTP");
	bencode_put_dict(&r.b);
	bencode_put_kv_int(&r.b, "bytes", 344000);
	bencode_put_kv_int(&r.b, "errors", 2);
	bencode_put_kv_int(&r.b, "packets", 2000);
	bencode_put_end(&r.b);
	bencode_put_end(&r.b);
	assert_int_equal(ng_reply_finish(&r, &len), 0);
	assert_out(len, "7_4 d7:createdi1700000000e6:result2:ok"
	                "4:tagsd10:1928301774d7:createdi1700000000e"
	                "16:in dialogue with7:a6c85cf3:tag10:1928301774e"
	                "7:a6c85cfd7:createdi1700000001e"
	                "16:in dialogue with10:19283017743:tag7:a6c85cfee"
	                "6:totalsd4:RTCPd5:bytesi640e6:errorsi0e7:packetsi8ee"
	                "3:RTPd5:bytesi344000e6:errorsi2e7:packetsi2000eeee");

	/* keys out of order are refused, at the end too */
	assert_int_equal(ng_reply_start(&r, out, sizeof(out), sv_of("7_5")), 0);
	bencode_put_kv_cstr(&r.b, "result", "ok");
	assert_int_equal(bencode_put_kv_int(&r.b, "created", 1), EINVAL);
	assert_int_equal(ng_reply_finish(&r, &len), EINVAL);

	/* a dictionary left open by the glue */
	assert_int_equal(ng_reply_start(&r, out, sizeof(out), sv_of("7_6")), 0);
	bencode_put_key(&r.b, "tags");
	bencode_put_dict(&r.b);
	assert_int_equal(ng_reply_finish(&r, &len), EINVAL);
}

static void
test_reply_errors(void **state)
{
	static char big[NG_DATAGRAM_MAX + 16];
	struct ng_reply r;
	size_t len = 0, size;
	char cookie[NG_COOKIE_MAX + 1];

	(void)state;
	/* bad cookies */
	assert_int_equal(
	    ng_reply_pong(out, sizeof(out), sv_of(""), &len), EINVAL);
	assert_int_equal(
	    ng_reply_pong(out, sizeof(out), sv_of("a b"), &len), EINVAL);
	memset(cookie, 'c', sizeof(cookie));
	assert_int_equal(ng_reply_pong(out, sizeof(out),
	                     (struct sv){cookie, NG_COOKIE_MAX + 1}, &len),
	    EINVAL);
	assert_int_equal(ng_reply_pong(out, sizeof(out),
	                     (struct sv){cookie, NG_COOKIE_MAX}, &len),
	    0);
	assert_int_equal(
	    ng_reply_pong(out, sizeof(out), (struct sv){NULL, 0}, &len),
	    EINVAL);
	/* NULL */
	assert_int_equal(ng_reply_pong(NULL, 10, sv_of("1"), &len), EINVAL);
	assert_int_equal(
	    ng_reply_pong(out, sizeof(out), sv_of("1"), NULL), EINVAL);
	assert_int_equal(
	    ng_reply_error(out, sizeof(out), sv_of("1"), NULL, &len), EINVAL);
	assert_int_equal(ng_reply_ok_sdp(out, sizeof(out), sv_of("1"),
	                     (struct sv){NULL, 3}, &len),
	    EINVAL);
	assert_int_equal(ng_reply_start(NULL, out, 10, sv_of("1")), EINVAL);

	/* every size short of the reply fails, and writes nothing past it */
	for (size = 0; size < strlen("5323_1 d6:result4:ponge"); size++) {
		memset(out, '#', 64);
		assert_int_equal(
		    ng_reply_pong(out, size, sv_of("5323_1"), &len), EMSGSIZE);
		assert_int_equal(out[size], '#');
	}
	assert_int_equal(ng_reply_pong(out, size, sv_of("5323_1"), &len), 0);
	assert_int_equal(len, size);

	/* a failed start makes finish fail too */
	assert_int_equal(ng_reply_start(&r, out, 3, sv_of("5323_1")), EMSGSIZE);
	assert_int_equal(bencode_put_kv_cstr(&r.b, "result", "ok"), EMSGSIZE);
	assert_int_equal(ng_reply_finish(&r, &len), EMSGSIZE);

	/* no reply past NG_DATAGRAM_MAX, whatever the buffer */
	memset(big, 'a', sizeof(big));
	assert_int_equal(ng_reply_ok_sdp(out, sizeof(out), sv_of("1"),
	                     (struct sv){big, NG_DATAGRAM_MAX}, &len),
	    EMSGSIZE);
	/* "1 d6:result2:ok3:sdpNNNNN:" + sdp + "e" */
	size = NG_DATAGRAM_MAX - strlen("1 d6:result2:ok3:sdp65500:e");
	assert_int_equal(ng_reply_ok_sdp(out, sizeof(out), sv_of("1"),
	                     (struct sv){big, size}, &len),
	    0);
	assert_int_equal(len, NG_DATAGRAM_MAX);
	assert_int_equal(ng_reply_ok_sdp(out, sizeof(out), sv_of("1"),
	                     (struct sv){big, size + 1}, &len),
	    EMSGSIZE);
}

/* An ok reply carrying an SDP parses back to the same bytes. */
static void
test_reply_roundtrip(void **state)
{
	static struct bencode_node nodes[8];
	const struct bencode_node *v;
	const char *why;
	size_t len = 0, n;

	(void)state;
	assert_int_equal(ng_reply_ok_sdp(out, sizeof(out), sv_of("0_1_2"),
	                     sv_of(sdp_offer), &len),
	    0);
	assert_int_equal(
	    bencode_parse(out + 6, len - 6, nodes, 8, &n, &why), 0);
	v = bencode_dict_get(&nodes[0], "sdp");
	assert_non_null(v);
	assert_sv(v->s, sdp_offer);
	assert_sv(bencode_dict_get(&nodes[0], "result")->s, "ok");
	assert_null(ng_command_name(NG_CMD_NONE));
	assert_string_equal(ng_command_name(NG_CMD_QUERY), "query");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kamailio_offer),
	    cmocka_unit_test(test_kamailio_offer_flags),
	    cmocka_unit_test(test_kamailio_answer),
	    cmocka_unit_test(test_opensips_delete),
	    cmocka_unit_test(test_ping),
	    cmocka_unit_test(test_perl_client),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_empty_values),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_cookie_limits),
	    cmocka_unit_test(test_list_limits),
	    cmocka_unit_test(test_size_limits),
	    cmocka_unit_test(test_reuse),
	    cmocka_unit_test(test_replies),
	    cmocka_unit_test(test_reply_builder),
	    cmocka_unit_test(test_reply_errors),
	    cmocka_unit_test(test_reply_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
