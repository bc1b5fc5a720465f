/* sdp_test.c: SDP parser and builder (src/sdp/sdp.c): offers from baresip
 * (SRTP), Linphone and SIPp, hold, IPv6, rtcp-mux, SDES crypto key lengths
 * per suite, every error path, limits, parse -> build -> parse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sdp/sdp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 30, 46 and 28 bytes of key + salt in base64. */
#define K30 "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
#define K46 "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Ng=="
#define K28 "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA=="

#define HEAD                                                                   \
	"v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\n"     \
	"t=0 0\r\n"

static const char baresip[] =
    "v=0\r\n"
    "o=- 1832883516 2064431238 IN IP4 192.168.1.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.168.1.10\r\n"
    "t=0 0\r\n"
    "m=audio 10164 RTP/SAVP 96 0 8 101\r\n"
    "b=AS:128\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=sendrecv\r\n"
    "a=label:1\r\n"
    "a=rtcp-mux\r\n"
    "a=ssrc:2876543 cname:abc\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^31\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:" K30 "|2^31|1:4\r\n"
    "a=ptime:20\r\n";

static const char linphone[] =
    "v=0\r\n"
    "o=alice 3012 2270 IN IP4 10.0.0.5\r\n"
    "s=Talk\r\n"
    "c=IN IP4 10.0.0.5\r\n"
    "t=0 0\r\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL\r\n"
    "a=record:off\r\n"
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 useinbandfec=1\r\n"
    "a=rtpmap:97 speex/16000\r\n"
    "a=fmtp:97 vbr=on\r\n"
    "a=rtpmap:98 speex/8000\r\n"
    "a=fmtp:98 vbr=on\r\n"
    "a=fmtp:18 annexb=yes\r\n"
    "a=rtpmap:101 telephone-event/48000\r\n"
    "a=rtpmap:99 telephone-event/16000\r\n"
    "a=rtpmap:100 telephone-event/8000\r\n"
    "a=rtcp-fb:* trr-int 1000\r\n"
    "a=rtcp-fb:* ccm tmmbr\r\n";

static const char sipp[] = "v=0\r\n"
                           "o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n"
                           "s=-\r\n"
                           "c=IN IP4 127.0.0.1\r\n"
                           "t=0 0\r\n"
                           "m=audio 6000 RTP/AVP 0\r\n"
                           "a=rtpmap:0 PCMU/8000\r\n";

static struct sdp_session sess, sess2;
static char big[SDP_MAX * 2];
static char out[SDP_MAX * 2];

static int
parse(const char *s)
{
	return sdp_session_parse(s, strlen(s), &sess);
}

static void
parse_ok(const char *s)
{
	int r = parse(s);

	if (r != 0)
		fail_msg("%s: %d (%s)", s, r, strerror(r));
}

static void
parse_err(const char *s, int want)
{
	int r = parse(s);

	if (r != want)
		fail_msg("%s: got %d (%s), want %d", s, r, strerror(r), want);
}

static bool
sv_is(struct sv v, const char *s)
{
	return v.len == strlen(s) && (v.len == 0 || memcmp(v.p, s, v.len) == 0);
}

static bool
sv_same(struct sv a, struct sv b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

#define assert_sv(v, s)                                                        \
	do {                                                                   \
		if (!sv_is((v), (s)))                                          \
			fail_msg("got \"%.*s\", want \"%s\"", (int)(v).len,    \
			    (v).p, (s));                                       \
	} while (0)

static void
test_baresip_srtp(void **state)
{
	const struct sdp_media *m;
	unsigned char key[30];

	(void)state;
	parse_ok(baresip);
	assert_sv(sess.origin_user, "-");
	assert_true(sess.sess_id == 1832883516u);
	assert_true(sess.sess_version == 2064431238u);
	assert_sv(sess.origin_addr, "192.168.1.10");
	assert_int_equal(sess.nmedia, 1);
	m = &sess.media[0];
	assert_sv(m->type, "audio");
	assert_int_equal(m->port, 10164);
	assert_int_equal(m->proto, SDP_PROTO_RTP_SAVP);
	assert_true(m->secure);
	assert_int_equal(m->nfmt, 4);
	assert_sv(m->fmt[3], "101");
	assert_int_equal(m->nrtpmap, 4);
	assert_int_equal(m->rtpmap[0].pt, 96);
	assert_sv(m->rtpmap[0].encoding, "opus");
	assert_int_equal(m->rtpmap[0].clock, 48000);
	assert_int_equal(m->rtpmap[0].channels, 2);
	assert_int_equal(m->rtpmap[1].channels, 0);
	assert_int_equal(m->nfmtp, 2);
	assert_sv(m->fmtp[0].params, "stereo=1;sprop-stereo=1");
	assert_int_equal(m->dir, SDP_DIR_SENDRECV);
	assert_true(m->rtcp_mux);
	assert_int_equal(m->ptime, 20);
	assert_int_equal(m->nline, 1);
	assert_int_equal(m->line[0].type, 'b');
	assert_sv(m->line[0].value, "AS:128");
	assert_int_equal(m->ncrypto, 2);
	assert_int_equal(m->crypto[0].tag, 1);
	assert_int_equal(m->crypto[0].suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(m->crypto[0].keylen, 30);
	memcpy(key, "YS___semctl () {\t220;}\n}\nunles", 30);
	assert_memory_equal(m->crypto[0].key, key, 30);
	assert_sv(m->crypto[0].lifetime, "2^31");
	assert_sv(m->crypto[0].mki, "");
	assert_int_equal(m->crypto[1].suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_32);
	assert_sv(m->crypto[1].lifetime, "2^31");
	assert_sv(m->crypto[1].mki, "1:4");
	assert_int_equal(m->nattr, 2);
	assert_sv(m->attr[0].name, "label");
	assert_sv(m->attr[0].value, "1");
	assert_sv(m->attr[1].name, "ssrc");
	assert_sv(m->attr[1].value, "2876543 cname:abc");
}

static void
test_linphone(void **state)
{
	const struct sdp_media *m;

	(void)state;
	parse_ok(linphone);
	assert_sv(sess.name, "Talk");
	assert_int_equal(sess.nattr, 2);
	assert_sv(sess.attr[0].name, "rtcp-xr");
	assert_sv(sess.attr[1].value, "off");
	m = &sess.media[0];
	assert_int_equal(m->proto, SDP_PROTO_RTP_AVP);
	assert_false(m->secure);
	assert_int_equal(m->nfmt, 9);
	assert_int_equal(m->nrtpmap, 6);
	assert_int_equal(m->nfmtp, 4);
	assert_int_equal(m->fmtp[3].pt, 18);
	assert_sv(m->fmtp[3].params, "annexb=yes");
	assert_int_equal(m->nattr, 2);
	assert_int_equal(sdp_media_dir(&sess, m), SDP_DIR_SENDRECV);
}

static void
test_sipp(void **state)
{
	const struct sdp_media *m;

	(void)state;
	parse_ok(sipp);
	assert_true(sess.sess_version == 2353687637u);
	assert_true(sess.conn.present);
	assert_int_equal(sess.conn.type, SDP_ADDR_IP4);
	assert_sv(sess.conn.addr, "127.0.0.1");
	m = &sess.media[0];
	assert_int_equal(m->port, 6000);
	assert_int_equal(m->nports, 0);
	assert_false(m->conn.present);
	assert_ptr_equal(sdp_media_conn(&sess, m), &sess.conn);
	assert_int_equal(m->dir, SDP_DIR_NONE);
	assert_int_equal(sdp_media_dir(&sess, m), SDP_DIR_SENDRECV);
}

static void
test_lf_only(void **state)
{
	char buf[sizeof(sipp)];
	size_t i, n = 0;

	(void)state;
	for (i = 0; sipp[i] != '\0'; i++)
		if (sipp[i] != '\r')
			buf[n++] = sipp[i];
	assert_int_equal(sdp_session_parse(buf, n, &sess), 0);
	assert_sv(sess.media[0].rtpmap[0].encoding, "PCMU");
	/* No line end after the last line. */
	parse_ok("v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0");
	assert_int_equal(sess.nmedia, 0);
}

static void
test_hold(void **state)
{
	const struct sdp_media *m;

	(void)state;
	parse_ok("v=0\r\no=- 1 3 IN IP4 192.0.2.1\r\ns=-\r\n"
	         "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=sendonly\r\n"
	         "m=audio 6000 RTP/AVP 0\r\n"
	         "m=video 6002 RTP/AVP 31\r\na=sendrecv\r\n");
	assert_int_equal(sess.dir, SDP_DIR_SENDONLY);
	assert_int_equal(
	    sdp_media_dir(&sess, &sess.media[0]), SDP_DIR_SENDONLY);
	/* Media overrides session. */
	assert_int_equal(
	    sdp_media_dir(&sess, &sess.media[1]), SDP_DIR_SENDRECV);

	parse_ok(HEAD "m=audio 6000 RTP/AVP 0\r\na=inactive\r\n");
	assert_int_equal(
	    sdp_media_dir(&sess, &sess.media[0]), SDP_DIR_INACTIVE);
	parse_ok(HEAD "m=audio 6000 RTP/AVP 0\r\na=recvonly\r\n");
	assert_int_equal(sess.media[0].dir, SDP_DIR_RECVONLY);

	/* RFC 2543 hold: c=0.0.0.0 at media level. */
	parse_ok(HEAD "m=audio 6000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n");
	m = &sess.media[0];
	assert_true(m->conn.present);
	assert_sv(sdp_media_conn(&sess, m)->addr, "0.0.0.0");
	/* Two directions in one section are malformed. */
	parse_err(HEAD "m=audio 6000 RTP/AVP 0\r\na=inactive\r\na=sendonly\r\n",
	    EBADMSG);
	parse_err("v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\n"
	          "t=0 0\r\na=sendonly\r\na=recvonly\r\n",
	    EBADMSG);
}

static void
test_ipv6(void **state)
{
	(void)state;
	parse_ok("v=0\r\no=- 1 2 IN IP6 2001:db8::1\r\ns=-\r\n"
	         "c=IN IP6 2001:db8::1\r\nt=0 0\r\n"
	         "m=audio 4000 RTP/AVP 0\r\nc=IN IP6 ::1\r\n"
	         "a=rtcp:4001 IN IP6 2001:db8::2\r\n");
	assert_int_equal(sess.origin_type, SDP_ADDR_IP6);
	assert_int_equal(sess.conn.type, SDP_ADDR_IP6);
	assert_sv(sess.conn.addr, "2001:db8::1");
	assert_int_equal(sess.media[0].conn.type, SDP_ADDR_IP6);
	assert_sv(sess.media[0].conn.addr, "::1");
	assert_true(sess.media[0].rtcp.has_addr);
	assert_int_equal(sess.media[0].rtcp.type, SDP_ADDR_IP6);
	assert_sv(sess.media[0].rtcp.addr, "2001:db8::2");
}

static void
test_rtcp_mux(void **state)
{
	const struct sdp_media *m;

	(void)state;
	parse_ok(HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtcp:9\r\n"
	              "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n");
	m = &sess.media[0];
	assert_int_equal(m->proto, SDP_PROTO_UDP_TLS_RTP_SAVPF);
	assert_true(m->secure);
	assert_true(m->rtcp_mux);
	assert_true(m->rtcp.present);
	assert_int_equal(m->rtcp.port, 9);
	assert_false(m->rtcp.has_addr);
	parse_ok(HEAD "m=audio 9 RTP/AVPF 0\r\n");
	assert_int_equal(sess.media[0].proto, SDP_PROTO_RTP_AVPF);
	assert_false(sess.media[0].rtcp_mux);
	parse_ok(HEAD "m=audio 9 RTP/SAVPF 0\r\n");
	assert_int_equal(sess.media[0].proto, SDP_PROTO_RTP_SAVPF);
	parse_ok(HEAD "m=audio 9 UDP/TLS/RTP/SAVP 0\r\n");
	assert_int_equal(sess.media[0].proto, SDP_PROTO_UDP_TLS_RTP_SAVP);
	/* Other protocols: formats and rtpmap kept as written. */
	parse_ok(HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	              "a=rtpmap:x y\r\n");
	assert_int_equal(sess.media[0].proto, SDP_PROTO_OTHER);
	assert_sv(sess.media[0].proto_name, "UDP/DTLS/SCTP");
	assert_sv(sess.media[0].fmt[0], "webrtc-datachannel");
	assert_int_equal(sess.media[0].nattr, 1);
	parse_ok(HEAD "m=audio 49170/2 RTP/AVP 0\r\n");
	assert_int_equal(sess.media[0].nports, 2);
}

static void
test_crypto_suites(void **state)
{
	static const struct {
		const char *suite, *key;
		int want;
	} cases[] = {
	    {"AES_CM_128_HMAC_SHA1_80", K30, 0},
	    {"AES_CM_128_HMAC_SHA1_32", K30, 0},
	    {"AES_256_CM_HMAC_SHA1_80", K46, 0},
	    {"AEAD_AES_128_GCM", K28, 0},
	    {"AES_CM_128_HMAC_SHA1_80", K46, EBADMSG},
	    {"AES_CM_128_HMAC_SHA1_80", K28, EBADMSG},
	    {"AES_CM_128_HMAC_SHA1_32", K28, EBADMSG},
	    {"AES_256_CM_HMAC_SHA1_80", K30, EBADMSG},
	    {"AES_256_CM_HMAC_SHA1_80", K28, EBADMSG},
	    {"AEAD_AES_128_GCM", K30, EBADMSG},
	    {"AEAD_AES_128_GCM", K46, EBADMSG},
	    {"AES_CM_128_HMAC_SHA1_80", K46 K46, EBADMSG},   /* too long */
	    {"AES_CM_128_HMAC_SHA1_80", "", EBADMSG},        /* empty */
	    {"AES_CM_128_HMAC_SHA1_80", "A", EBADMSG},       /* 6 bits */
	    {"AES_CM_128_HMAC_SHA1_80", "!" K30, EBADMSG},   /* bad char */
	    {"AES_CM_128_HMAC_SHA1_80", K30 "===", EBADMSG}, /* padding */
	    {"AEAD_AES_128_GCM", "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA", 0},
	};
	char buf[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		snprintf(buf, sizeof(buf),
		    HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:1 %s inline:%s\r\n",
		    cases[i].suite, cases[i].key);
		parse_err(buf, cases[i].want);
		if (cases[i].want == 0) {
			assert_int_equal(sess.media[0].ncrypto, 1);
			assert_int_equal(sess.media[0].crypto[0].keylen,
			    sdp_suite_keylen(sess.media[0].crypto[0].suite));
		}
	}
	assert_int_equal(
	    sdp_suite_keylen(SDP_SUITE_AES_256_CM_HMAC_SHA1_80), 46);
	assert_int_equal(sdp_suite_keylen((enum sdp_suite)99), 0);
	assert_null(sdp_suite_name((enum sdp_suite)99));
	assert_string_equal(
	    sdp_suite_name(SDP_SUITE_AEAD_AES_128_GCM), "AEAD_AES_128_GCM");
}

static void
test_crypto_params(void **state)
{
	const struct sdp_crypto *c;

	(void)state;
	parse_ok(
	    HEAD "m=audio 1 RTP/SAVP 0\r\n"
	         "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:" K30
	         "|1048576|2:1 KDR=1 UNENCRYPTED_SRTCP\r\n"
	         "a=crypto:8 AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:4\r\n"
	         "a=crypto:9 F8_128_HMAC_SHA1_80 inline:" K30 "\r\n");
	assert_int_equal(sess.media[0].ncrypto, 2);
	c = &sess.media[0].crypto[0];
	assert_int_equal(c->tag, 7);
	assert_sv(c->lifetime, "1048576");
	assert_sv(c->mki, "2:1");
	assert_sv(c->params, "KDR=1 UNENCRYPTED_SRTCP");
	c = &sess.media[0].crypto[1];
	assert_sv(c->lifetime, "");
	assert_sv(c->mki, "1:4");
	/* An unknown suite is kept as an unknown attribute. */
	assert_int_equal(sess.media[0].nattr, 1);
	assert_sv(sess.media[0].attr[0].name, "crypto");

	parse_err(HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:1 "
	               "AES_CM_128_HMAC_SHA1_80 key:" K30 "\r\n",
	    EBADMSG);
	parse_err(HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:x "
	               "AES_CM_128_HMAC_SHA1_80 inline:" K30 "\r\n",
	    EBADMSG);
	parse_err(HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:1 "
	               "AES_CM_128_HMAC_SHA1_80\r\n",
	    EBADMSG);
	parse_err(HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:1 "
	               "AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:4|2^20\r\n",
	    EBADMSG);
	parse_err(HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:1 "
	               "AES_CM_128_HMAC_SHA1_80 inline:" K30 "|2^20|1:4|x\r\n",
	    EBADMSG);
	parse_err(HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:1 "
	               "AES_CM_128_HMAC_SHA1_80 inline:" K30 "|\r\n",
	    EBADMSG);
	parse_err(HEAD "m=audio 1 RTP/SAVP 0\r\na=crypto:1 "
	               "AES_CM_128_HMAC_SHA1_80 inline:" K30 "|1:0\r\n",
	    EBADMSG);
}

static void
test_errors(void **state)
{
	static const char *const bad[] = {
	    "",
	    "v=1\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n",
	    "o=- 1 2 IN IP4 1.2.3.4\r\nv=0\r\ns=-\r\nt=0 0\r\n",
	    "v=0\r\ns=-\r\no=- 1 2 IN IP4 1.2.3.4\r\nt=0 0\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\nt=0 0\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\n",              /* no t= */
	    "v=0\r\no=- 1 2 IN IP4\r\ns=-\r\nt=0 0\r\n",             /* o= */
	    "v=0\r\no=- x 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n",     /* o= */
	    "v=0\r\no=- 1 2 IN IP5 1.2.3.4\r\ns=-\r\nt=0 0\r\n",     /* o= */
	    "v=0\r\no=- 1 2 ATM IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n",    /* o= */
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4 x\r\ns=-\r\nt=0 0\r\n",   /* o= */
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0\r\n",       /* t= */
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 x\r\n",     /* t= */
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n\r\n", /* empty */
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nX=y\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=:x\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=x y\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=x\ry\r\n",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=x\r",
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n"
	    "t=0 0\r\n", /* m= before t= */
	    "v=0\r\no=- 1 2 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n" /* no c= */
	    "m=audio 1 RTP/AVP 0\r\n",
	    HEAD "c=IN IP4 1.2.3.4\r\n", /* two c= */
	    HEAD
	    "m=audio 1 RTP/AVP 0\r\nc=IN IP4 1.2.3.4\r\nc=IN IP4 1.2.3.4\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\nc=IN IP4\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\nc=IN IP7 1.2.3.4\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\nt=0 0\r\n", /* t= in media */
	    HEAD "m=audio 1 RTP/AVP 0\r\ns=x\r\n",
	    HEAD "m=audio 1 RTP/AVP\r\n", /* no format */
	    HEAD "m=audio RTP/AVP 0\r\n",
	    HEAD "m=audio 65536 RTP/AVP 0\r\n",
	    HEAD "m=audio -1 RTP/AVP 0\r\n",
	    HEAD "m=audio 1/0 RTP/AVP 0\r\n",
	    HEAD "m=audio 1/ RTP/AVP 0\r\n",
	    HEAD "m=audio 1 RTP/AVP 128\r\n", /* payload type */
	    HEAD "m=audio 1 RTP/AVP PCMU\r\n",
	    HEAD "m=au dio 1 RTP/AVP 0\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/0\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 /8000\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/0\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000/1/1\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:128 PCMU/8000\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000 x\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtpmap:0\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=fmtp:x a=b\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=fmtp:\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=ptime:x\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=ptime:0\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=ptime:20\r\na=ptime:30\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:x\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:1 IN IP4\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:1\r\na=rtcp:2\r\n",
	    HEAD "m=audio 1 RTP/AVP 0\r\na=rtcp:70000\r\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(bad); i++)
		parse_err(bad[i], EBADMSG);
	assert_int_equal(sdp_session_parse("v=0\0", 4, &sess), EBADMSG);
	assert_int_equal(sdp_session_parse(NULL, 0, &sess), EINVAL);
	assert_int_equal(sdp_session_parse("", 0, NULL), EINVAL);
}

/* Appends to big; returns the new length. */
static size_t
append(size_t n, const char *s)
{
	size_t k = strlen(s);

	assert_true(n + k < sizeof(big));
	memcpy(big + n, s, k);
	big[n + k] = '\0';
	return n + k;
}

static void
test_limits(void **state)
{
	char tmp[64];
	size_t i, n;

	(void)state;
	/* Size. */
	n = append(0, HEAD "m=audio 1 RTP/AVP 0\r\n");
	while (n <= SDP_MAX - 10)
		n = append(n, "i=xxxxxx\r\n");
	assert_int_equal(sdp_session_parse(big, n, &sess), EMSGSIZE);
	assert_int_equal(sdp_session_parse(big, SDP_MAX + 1, &sess), EMSGSIZE);

	/* Media sections: 8 fit, 9 do not. */
	n = append(0, HEAD);
	for (i = 0; i < SDP_MEDIA_MAX; i++)
		n = append(n, "m=audio 1 RTP/AVP 0\r\n");
	parse_ok(big);
	assert_int_equal(sess.nmedia, SDP_MEDIA_MAX);
	n = append(n, "m=audio 1 RTP/AVP 0\r\n");
	parse_err(big, EMSGSIZE);

	/* Formats and rtpmaps. */
	n = append(0, HEAD "m=audio 1 RTP/AVP");
	for (i = 0; i < SDP_FMT_MAX; i++) {
		snprintf(tmp, sizeof(tmp), " %zu", i);
		n = append(n, tmp);
	}
	n = append(n, "\r\n");
	for (i = 0; i < SDP_FMT_MAX; i++) {
		snprintf(tmp, sizeof(tmp), "a=rtpmap:%zu X/8000\r\n", i);
		n = append(n, tmp);
	}
	parse_ok(big);
	assert_int_equal(sess.media[0].nfmt, SDP_FMT_MAX);
	assert_int_equal(sess.media[0].nrtpmap, SDP_FMT_MAX);
	(void)append(n, "a=rtpmap:1 X/8000\r\n");
	parse_err(big, EMSGSIZE);
	parse_err(HEAD "m=audio 1 RTP/AVP 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
	               "15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 "
	               "32\r\n",
	    EMSGSIZE);

	/* Attributes per section, session and media. */
	n = append(0, HEAD);
	for (i = 0; i < SDP_ATTR_MAX; i++)
		n = append(n, "a=x\r\n");
	parse_ok(big);
	(void)append(n, "a=sendrecv\r\n");
	parse_err(big, EMSGSIZE);
	n = append(0, HEAD "a=y\r\nm=audio 1 RTP/AVP 0\r\n");
	for (i = 0; i < SDP_ATTR_MAX; i++)
		n = append(n, "a=rtcp-mux\r\n");
	parse_ok(big);
	(void)append(n, "a=x\r\n");
	parse_err(big, EMSGSIZE);

	/* Crypto lines. */
	n = append(0, HEAD "m=audio 1 RTP/SAVP 0\r\n");
	for (i = 0; i < SDP_CRYPTO_MAX; i++)
		n = append(
		    n, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" K30 "\r\n");
	parse_ok(big);
	assert_int_equal(sess.media[0].ncrypto, SDP_CRYPTO_MAX);
	(void)append(
	    n, "a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" K30 "\r\n");
	parse_err(big, EMSGSIZE);

	/* Other lines. */
	n = append(0, HEAD);
	for (i = 0; i < SDP_LINE_MAX; i++)
		n = append(n, "b=AS:1\r\n");
	parse_ok(big);
	(void)append(n, "b=AS:1\r\n");
	parse_err(big, EMSGSIZE);
}

static void
sv_check(struct sv a, struct sv b)
{
	if (!sv_same(a, b))
		fail_msg(
		    "\"%.*s\" != \"%.*s\"", (int)a.len, a.p, (int)b.len, b.p);
}

static void
session_check_equal(const struct sdp_session *a, const struct sdp_session *b)
{
	size_t i, k;

	sv_check(a->origin_user, b->origin_user);
	assert_true(a->sess_id == b->sess_id);
	assert_true(a->sess_version == b->sess_version);
	assert_int_equal(a->origin_type, b->origin_type);
	sv_check(a->origin_addr, b->origin_addr);
	sv_check(a->name, b->name);
	assert_int_equal(a->conn.present, b->conn.present);
	sv_check(a->conn.addr, b->conn.addr);
	assert_true(a->t_start == b->t_start && a->t_stop == b->t_stop);
	assert_int_equal(a->nline, b->nline);
	for (i = 0; i < a->nline; i++) {
		assert_int_equal(a->line[i].type, b->line[i].type);
		sv_check(a->line[i].value, b->line[i].value);
	}
	assert_int_equal(a->dir, b->dir);
	assert_int_equal(a->nattr, b->nattr);
	for (i = 0; i < a->nattr; i++) {
		sv_check(a->attr[i].name, b->attr[i].name);
		sv_check(a->attr[i].value, b->attr[i].value);
	}
	assert_int_equal(a->nmedia, b->nmedia);
	for (i = 0; i < a->nmedia; i++) {
		const struct sdp_media *x = &a->media[i], *y = &b->media[i];

		sv_check(x->type, y->type);
		assert_int_equal(x->port, y->port);
		assert_int_equal(x->nports, y->nports);
		assert_int_equal(x->proto, y->proto);
		assert_int_equal(x->secure, y->secure);
		assert_int_equal(x->nfmt, y->nfmt);
		for (k = 0; k < x->nfmt; k++)
			sv_check(x->fmt[k], y->fmt[k]);
		assert_int_equal(x->conn.present, y->conn.present);
		sv_check(x->conn.addr, y->conn.addr);
		assert_int_equal(x->nline, y->nline);
		assert_int_equal(x->dir, y->dir);
		assert_int_equal(x->rtcp_mux, y->rtcp_mux);
		assert_int_equal(x->rtcp.present, y->rtcp.present);
		assert_int_equal(x->rtcp.port, y->rtcp.port);
		assert_int_equal(x->ptime, y->ptime);
		assert_int_equal(x->nrtpmap, y->nrtpmap);
		for (k = 0; k < x->nrtpmap; k++) {
			assert_int_equal(x->rtpmap[k].pt, y->rtpmap[k].pt);
			sv_check(x->rtpmap[k].encoding, y->rtpmap[k].encoding);
			assert_int_equal(
			    x->rtpmap[k].clock, y->rtpmap[k].clock);
			assert_int_equal(
			    x->rtpmap[k].channels, y->rtpmap[k].channels);
		}
		assert_int_equal(x->nfmtp, y->nfmtp);
		for (k = 0; k < x->nfmtp; k++)
			sv_check(x->fmtp[k].params, y->fmtp[k].params);
		assert_int_equal(x->ncrypto, y->ncrypto);
		for (k = 0; k < x->ncrypto; k++) {
			const struct sdp_crypto *c = &x->crypto[k],
			                        *d = &y->crypto[k];

			assert_int_equal(c->tag, d->tag);
			assert_int_equal(c->suite, d->suite);
			assert_int_equal(c->keylen, d->keylen);
			assert_memory_equal(c->key, d->key, c->keylen);
			sv_check(c->lifetime, d->lifetime);
			sv_check(c->mki, d->mki);
			sv_check(c->params, d->params);
		}
		assert_int_equal(x->nattr, y->nattr);
		for (k = 0; k < x->nattr; k++) {
			sv_check(x->attr[k].name, y->attr[k].name);
			sv_check(x->attr[k].value, y->attr[k].value);
		}
	}
}

static void
round_trip(const char *text)
{
	size_t n, n2;

	parse_ok(text);
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), 0);
	assert_int_equal(sdp_session_parse(out, n, &sess2), 0);
	session_check_equal(&sess, &sess2);
	/* The builder's output is its own fixed point. */
	assert_int_equal(sdp_build(big, sizeof(big), &sess2, &n2), 0);
	assert_int_equal(n, n2);
	assert_memory_equal(out, big, n);
	/* One byte short. */
	assert_int_equal(sdp_build(big, n - 1, &sess, &n2), EMSGSIZE);
}

static void
test_round_trip(void **state)
{
	(void)state;
	round_trip(baresip);
	round_trip(linphone);
	round_trip(sipp);
	round_trip("v=0\r\no=jdoe 2890844526 2890842807 IN IP4 10.47.16.5\r\n"
	           "s=SDP Seminar\r\ni=A Seminar\r\nu=http://x/y\r\n"
	           "e=j@example.com\r\np=+1 617\r\nc=IN IP4 224.2.17.12/127\r\n"
	           "b=CT:128\r\nt=2873397496 2873404696\r\nr=7d 1h 0 25h\r\n"
	           "a=recvonly\r\nm=audio 49170/2 RTP/AVP 0\r\ni=voice\r\n"
	           "b=AS:64\r\nk=prompt\r\nm=video 51372 RTP/AVP 99\r\n"
	           "c=IN IP6 ::1\r\na=rtpmap:99 h263-1998/90000\r\n"
	           "a=rtcp:51373 IN IP6 ::2\r\na=inactive\r\n");
	round_trip(HEAD "m=audio 1 RTP/SAVPF 0\r\n"
	                "a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:" K46
	                "|2^20|1:4 KDR=1\r\n"
	                "a=crypto:2 AEAD_AES_128_GCM inline:" K28 "\r\n"
	                "a=fmtp:0\r\n");
}

static void
test_build_edit(void **state)
{
	static const char expect[] =
	    "v=0\r\no=- 1 3 IN IP6 2001:db8::9\r\ns=-\r\n"
	    "c=IN IP6 2001:db8::9\r\nt=0 0\r\n"
	    "m=audio 40000 RTP/SAVP 0\r\n"
	    "a=rtpmap:0 PCMU/8000\r\n"
	    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
	    "inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n";
	struct sdp_media *m;
	size_t n;

	(void)state;
	parse_ok(sipp);
	sess.origin_user.p = "-";
	sess.origin_user.len = 1;
	sess.sess_id = 1;
	sess.sess_version = 3;
	sess.origin_type = sess.conn.type = SDP_ADDR_IP6;
	sess.origin_addr.p = sess.conn.addr.p = "2001:db8::9";
	sess.origin_addr.len = sess.conn.addr.len = 11;
	m = &sess.media[0];
	m->port = 40000;
	m->proto = SDP_PROTO_RTP_SAVP;
	m->ncrypto = 1;
	m->crypto[0].tag = 1;
	m->crypto[0].suite = SDP_SUITE_AES_CM_128_HMAC_SHA1_80;
	m->crypto[0].keylen = 30;
	memset(m->crypto[0].key, 0, sizeof(m->crypto[0].key));
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), 0);
	assert_int_equal(n, strlen(expect));
	assert_memory_equal(out, expect, n);
	assert_int_equal(sdp_session_parse(out, n, &sess2), 0);
	assert_true(sess2.media[0].secure);

	/* Fields that cannot be written. */
	m->crypto[0].keylen = 46;
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), EINVAL);
	m->crypto[0].keylen = 30;
	m->crypto[0].suite = (enum sdp_suite)9;
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), EINVAL);
	m->crypto[0].suite = SDP_SUITE_AES_CM_128_HMAC_SHA1_80;
	sess.name.p = "a\r\nm=x";
	sess.name.len = 6;
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), EINVAL);
	sess.name.len = 1;
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), 0);
	m->proto = (enum sdp_proto)42;
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), EINVAL);
	m->proto = SDP_PROTO_RTP_AVP;
	m->dir = (enum sdp_dir)42;
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), EINVAL);
	m->dir = SDP_DIR_NONE;
	sess.nmedia = SDP_MEDIA_MAX + 1;
	assert_int_equal(sdp_build(out, sizeof(out), &sess, &n), EINVAL);
	sess.nmedia = 1;
	assert_int_equal(sdp_build(out, 0, &sess, &n), EMSGSIZE);
	assert_int_equal(sdp_build(NULL, 0, &sess, &n), EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_baresip_srtp),
	    cmocka_unit_test(test_linphone),
	    cmocka_unit_test(test_sipp),
	    cmocka_unit_test(test_lf_only),
	    cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_rtcp_mux),
	    cmocka_unit_test(test_crypto_suites),
	    cmocka_unit_test(test_crypto_params),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_build_edit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
