/* anchor_test.c: offers and answers through the anchor, on a real relay
 * (ports bound on this host): policy refusals, the rewritten SDP each side
 * gets (relay address and port, a key per side, no address or key of the
 * other side), hold, declined streams, key stability across re-offers. */
#include "media/anchor.h"
#include "sdp/sdp.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

enum { OUT_MAX = 8192, PORT_LO = 42000, PORT_HI = 42099 };

static const struct anchor_leg TLS_REQ = {
    true, false, ANCHOR_SRTP_REQUIRED, "192.0.2.10"};
static const struct anchor_leg TLS_REQ_B = {
    true, false, ANCHOR_SRTP_REQUIRED, "192.0.2.20"};
static const struct anchor_leg TLS_OPT = {
    true, false, ANCHOR_SRTP_OPTIONAL, "192.0.2.10"};
static const struct anchor_leg UDP_REQ = {
    false, false, ANCHOR_SRTP_REQUIRED, "192.0.2.20"};
static const struct anchor_leg UDP_OPT = {
    false, false, ANCHOR_SRTP_OPTIONAL, "192.0.2.20"};
static const struct anchor_leg LOCAL_OPT = {
    false, true, ANCHOR_SRTP_OPTIONAL, "127.0.0.1"};

static const char *const OFFER_SRTP =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 10.0.0.5\r\n"
    "s=call\r\n"
    "c=IN IP4 10.0.0.5\r\n"
    "t=0 0\r\n"
    "a=ice-ufrag:abcd\r\n"
    "m=audio 49170 RTP/SAVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n"
    "a=rtcp-mux\r\n"
    "a=candidate:1 1 UDP 2130706431 10.0.0.5 49170 typ host\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
    "inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj\r\n"
    "m=video 49172 RTP/SAVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
    "inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj\r\n";

static const char *const OFFER_PLAIN = "v=0\r\n"
                                       "o=alice 1 1 IN IP4 10.0.0.5\r\n"
                                       "s=-\r\n"
                                       "c=IN IP4 10.0.0.5\r\n"
                                       "t=0 0\r\n"
                                       "m=audio 49170 RTP/AVP 0\r\n"
                                       "a=rtpmap:0 PCMU/8000\r\n";

static const char *const ANSWER_B = "v=0\r\n"
                                    "o=bob 7 7 IN IP4 10.0.0.9\r\n"
                                    "s=-\r\n"
                                    "c=IN IP4 10.0.0.9\r\n"
                                    "t=0 0\r\n"
                                    "m=audio 50000 RTP/SAVP 0 101\r\n"
                                    "a=rtpmap:0 PCMU/8000\r\n"
                                    "a=rtpmap:101 telephone-event/8000\r\n"
                                    "a=rtcp-mux\r\n"
                                    "a=crypto:%s inline:%s\r\n"
                                    "m=video 0 RTP/SAVP 96\r\n";

struct fx {
	struct media_relay *r;
	struct anchor *a;
	char out[OUT_MAX];
	size_t outlen;
	char why[ANCHOR_WHY_MAX];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct media_relay_config cfg = {PORT_LO, PORT_HI, 1, 0, NULL, NULL};

	assert_non_null(f);
	assert_int_equal(media_relay_new(&cfg, &f->r), 0);
	assert_int_equal(anchor_new(f->r, 1, AF_INET, AF_INET, &f->a), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	anchor_free(f->a);
	media_relay_free(f->r);
	free(f);
	return 0;
}

static void
parse(const char *text, size_t len, struct sdp_session *s)
{
	assert_int_equal(sdp_session_parse(text, len, s), 0);
}

static bool
has(const struct fx *f, const char *needle)
{
	return memmem(f->out, f->outlen, needle, strlen(needle)) != NULL;
}

/* The B64 key of crypto line `tag` in text (in *out, 64 bytes). */
static void
key_of(const char *text, size_t len, unsigned tag, char *out)
{
	char pat[32];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "a=crypto:%u ", tag);
	p = memmem(text, len, pat, strlen(pat));
	assert_non_null(p);
	p = strstr(p, "inline:");
	assert_non_null(p);
	p += 7;
	q = p;
	while (*q != '\r' && *q != '|')
		q++;
	assert_true(q - p < 64);
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
}

static void
offer_a(struct fx *f, const char *sdp, const struct anchor_leg *leg)
{
	assert_int_equal(anchor_offer(f->a, 0, leg, sdp, strlen(sdp), f->why,
	                     sizeof(f->why)),
	    0);
}

static void
test_srtp_offer_rewritten(void **state)
{
	struct fx *f = *state;
	struct sdp_session *s = malloc(sizeof(*s));
	char ka[64], kb[64], port[16];

	assert_non_null(s);
	offer_a(f, OFFER_SRTP, &TLS_REQ);
	assert_int_equal(
	    anchor_offer_out(f->a, &TLS_REQ_B, f->out, sizeof(f->out),
	        &f->outlen, f->why, sizeof(f->why)),
	    0);
	parse(f->out, f->outlen, s);
	/* Our address and port, nothing of A's. */
	assert_true(has(f, "c=IN IP4 192.0.2.20\r\n"));
	assert_true(has(f, "o=- "));
	assert_false(has(f, "10.0.0.5"));
	assert_false(has(f, "candidate"));
	assert_false(has(f, "ice-ufrag"));
	assert_int_equal(s->nmedia, 2);
	assert_int_equal(
	    s->media[0].port, media_call_port(anchor_media(f->a), 1));
	assert_true(s->media[0].port >= PORT_LO && s->media[0].port <= PORT_HI);
	assert_int_equal(s->media[0].proto, SDP_PROTO_RTP_SAVP);
	assert_true(s->media[0].rtcp_mux);
	assert_int_equal(s->media[0].nfmt, 3);
	/* The offerer's suites, in its order, with our keys. */
	assert_int_equal(s->media[0].ncrypto, 2);
	assert_int_equal(
	    s->media[0].crypto[0].suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(
	    s->media[0].crypto[1].suite, SDP_SUITE_AES_CM_128_HMAC_SHA1_32);
	assert_false(has(f, "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"));
	assert_false(has(f, "NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj"));
	/* The video stream is declined, its key gone. */
	assert_int_equal(s->media[1].port, 0);
	assert_int_equal(s->media[1].ncrypto, 0);
	assert_false(has(f, "d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj"));

	/* B answers with tag 1 and its own key. */
	key_of(f->out, f->outlen, 1, kb);
	{
		char ans[2048];
		int n = snprintf(ans, sizeof(ans), ANSWER_B,
		    "1 AES_CM_128_HMAC_SHA1_80",
		    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk");

		assert_int_equal(anchor_answer(f->a, &TLS_REQ_B, &TLS_REQ, ans,
		                     (size_t)n, f->out, sizeof(f->out),
		                     &f->outlen, f->why, sizeof(f->why)),
		    0);
	}
	parse(f->out, f->outlen, s);
	assert_true(has(f, "c=IN IP4 192.0.2.10\r\n"));
	assert_false(has(f, "10.0.0.9"));
	assert_false(has(f, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"));
	assert_int_equal(
	    s->media[0].port, media_call_port(anchor_media(f->a), 0));
	assert_int_equal(s->media[0].proto, SDP_PROTO_RTP_SAVP);
	assert_int_equal(s->media[0].ncrypto, 1);
	assert_int_equal(s->media[0].crypto[0].tag, 1);
	assert_true(s->media[0].rtcp_mux);
	assert_int_equal(s->media[1].port, 0);
	key_of(f->out, f->outlen, 1, ka);
	assert_string_not_equal(ka, kb);
	assert_string_not_equal(ka, "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
	snprintf(
	    port, sizeof(port), "%u", media_call_port(anchor_media(f->a), 1));
	assert_false(has(f, port)); /* B's relay port is not A's business */
	anchor_offer_done(f->a);

	/* A re-offer (hold) with the same suite: A's key from us stays. */
	{
		char hold[2048];
		char ka2[64];
		const char *p = strstr(OFFER_SRTP, "a=sendrecv");
		int n;

		n = snprintf(hold, sizeof(hold), "%.*sa=sendonly%s",
		    (int)(p - OFFER_SRTP), OFFER_SRTP,
		    p + strlen("a=sendrecv"));
		assert_int_equal(anchor_offer(f->a, 0, &TLS_REQ, hold,
		                     (size_t)n, f->why, sizeof(f->why)),
		    0);
		assert_int_equal(
		    anchor_offer_out(f->a, &TLS_REQ_B, f->out, sizeof(f->out),
		        &f->outlen, f->why, sizeof(f->why)),
		    0);
		assert_true(has(f, "a=sendonly\r\n"));
		key_of(f->out, f->outlen, 1, kb);
		{
			char ans[2048];
			int m = snprintf(ans, sizeof(ans), ANSWER_B,
			    "1 AES_CM_128_HMAC_SHA1_80",
			    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk");

			memcpy(strstr(ans, "a=rtcp-mux"), "a=recvonly", 10);
			assert_int_equal(
			    anchor_answer(f->a, &TLS_REQ_B, &TLS_REQ, ans,
			        (size_t)m, f->out, sizeof(f->out), &f->outlen,
			        f->why, sizeof(f->why)),
			    0);
		}
		assert_true(has(f, "a=recvonly\r\n"));
		key_of(f->out, f->outlen, 1, ka2);
		assert_string_equal(ka, ka2);
	}
	free(s);
}

static void
test_policy_refusals(void **state)
{
	struct fx *f = *state;

	/* Plain RTP from a phone that must use SRTP. */
	assert_int_equal(anchor_offer(f->a, 0, &TLS_REQ, OFFER_PLAIN,
	                     strlen(OFFER_PLAIN), f->why, sizeof(f->why)),
	    EPROTO);
	assert_non_null(strstr(f->why, "SRTP required"));
	/* A key over plain SIP, even where plain RTP is allowed. */
	assert_int_equal(anchor_offer(f->a, 0, &UDP_OPT, OFFER_SRTP,
	                     strlen(OFFER_SRTP), f->why, sizeof(f->why)),
	    EPROTO);
	assert_non_null(strstr(f->why, "unencrypted SIP"));
	/* Plain RTP where allowed. */
	offer_a(f, OFFER_PLAIN, &TLS_OPT);
	/* To a phone that requires SRTP but is not on TLS: no way. */
	assert_int_equal(
	    anchor_offer_out(f->a, &UDP_REQ, f->out, sizeof(f->out), &f->outlen,
	        f->why, sizeof(f->why)),
	    EPROTO);
	/* To a TLS phone: SRTP with our keys for two suites. */
	assert_int_equal(
	    anchor_offer_out(f->a, &TLS_REQ_B, f->out, sizeof(f->out),
	        &f->outlen, f->why, sizeof(f->why)),
	    0);
	assert_true(has(f, "RTP/SAVP"));
	assert_true(has(f, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"));
	assert_true(has(f, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
	/* An answer without a matching crypto is refused. */
	{
		char ans[2048];
		int n = snprintf(ans, sizeof(ans), ANSWER_B,
		    "7 AES_CM_128_HMAC_SHA1_80",
		    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk");

		/* One m= line less than the offer's single one? No: the plain
		 * offer has one m=, this answer two. */
		assert_int_equal(anchor_answer(f->a, &TLS_REQ_B, &TLS_OPT, ans,
		                     (size_t)n, f->out, sizeof(f->out),
		                     &f->outlen, f->why, sizeof(f->why)),
		    EPROTO);
		n = snprintf(ans, sizeof(ans),
		    "v=0\r\no=b 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 "
		    "10.0.0.9\r\nt=0 0\r\nm=audio 50000 RTP/SAVP 0\r\n"
		    "a=crypto:7 AES_CM_128_HMAC_SHA1_80 "
		    "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n");
		assert_int_equal(anchor_answer(f->a, &TLS_REQ_B, &TLS_OPT, ans,
		                     (size_t)n, f->out, sizeof(f->out),
		                     &f->outlen, f->why, sizeof(f->why)),
		    EPROTO);
		/* Tag 2 (the 32-bit suite): accepted; A gets plain RTP. */
		n = snprintf(ans, sizeof(ans),
		    "v=0\r\no=b 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 "
		    "10.0.0.9\r\nt=0 0\r\nm=audio 50000 RTP/SAVP 0\r\n"
		    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
		    "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\n");
		assert_int_equal(anchor_answer(f->a, &TLS_REQ_B, &TLS_OPT, ans,
		                     (size_t)n, f->out, sizeof(f->out),
		                     &f->outlen, f->why, sizeof(f->why)),
		    0);
		assert_true(has(f, "RTP/AVP"));
		assert_false(has(f, "crypto"));
	}
	/* DTLS-SRTP and malformed SDP. */
	{
		static const char dtls[] =
		    "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 "
		    "10.0.0.5\r\nt=0 0\r\nm=audio 4000 UDP/TLS/RTP/SAVP 0\r\n"
		    "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\n";

		assert_int_equal(anchor_offer(f->a, 0, &TLS_REQ, dtls,
		                     strlen(dtls), f->why, sizeof(f->why)),
		    EPROTO);
		assert_non_null(strstr(f->why, "DTLS"));
		assert_int_equal(anchor_offer(f->a, 0, &TLS_REQ, "v=1\r\n", 5,
		                     f->why, sizeof(f->why)),
		    EBADMSG);
	}
	/* No audio at all. */
	{
		static const char video[] =
		    "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 "
		    "10.0.0.5\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n";

		assert_int_equal(anchor_offer(f->a, 0, &TLS_OPT, video,
		                     strlen(video), f->why, sizeof(f->why)),
		    EPROTO);
	}
	/* A loopback address from a remote peer: refused; from a local one
	 * (a phone on this host, the ng channel): fine. */
	{
		static const char lo[] =
		    "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 "
		    "127.0.0.1\r\nt=0 0\r\nm=audio 2223 RTP/AVP 0\r\n";

		assert_int_equal(anchor_offer(f->a, 0, &TLS_OPT, lo, strlen(lo),
		                     f->why, sizeof(f->why)),
		    EPROTO);
		assert_non_null(strstr(f->why, "loopback"));
		assert_int_equal(anchor_offer(f->a, 0, &LOCAL_OPT, lo,
		                     strlen(lo), f->why, sizeof(f->why)),
		    0);
	}
	/* A host name in c= is refused (no DNS on the media path). */
	{
		static const char host[] =
		    "v=0\r\no=a 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 "
		    "pbx.example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

		assert_int_equal(anchor_offer(f->a, 0, &TLS_OPT, host,
		                     strlen(host), f->why, sizeof(f->why)),
		    EBADMSG);
	}
}

static void
test_old_style_hold(void **state)
{
	struct fx *f = *state;
	static const char hold[] = "v=0\r\no=a 1 2 IN IP4 10.0.0.5\r\ns=-\r\n"
	                           "c=IN IP4 0.0.0.0\r\nt=0 0\r\n"
	                           "m=audio 49170 RTP/AVP 0\r\n";

	offer_a(f, hold, &TLS_OPT);
	assert_int_equal(
	    anchor_offer_out(f->a, &TLS_OPT, f->out, sizeof(f->out), &f->outlen,
	        f->why, sizeof(f->why)),
	    0);
	assert_true(has(f, "a=sendonly\r\n"));
	assert_false(has(f, "0.0.0.0"));
}

static void
test_no_pending_offer(void **state)
{
	struct fx *f = *state;

	assert_false(anchor_pending(f->a, NULL));
	assert_int_equal(
	    anchor_offer_out(f->a, &TLS_OPT, f->out, sizeof(f->out), &f->outlen,
	        f->why, sizeof(f->why)),
	    EINVAL);
	assert_int_equal(anchor_answer(f->a, &TLS_OPT, &TLS_OPT, OFFER_PLAIN,
	                     strlen(OFFER_PLAIN), f->out, sizeof(f->out),
	                     &f->outlen, f->why, sizeof(f->why)),
	    EINVAL);
	assert_false(anchor_pending(NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_srtp_offer_rewritten, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_policy_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_old_style_hold, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_pending_offer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
