/* anchor.c: see anchor.h. */
#include "media/anchor.h"
#include "lib/util.h"
#include "sdp/sdp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(
    (int)SRTP_SUITE_AES_CM_128_HMAC_SHA1_80 ==
            (int)SDP_SUITE_AES_CM_128_HMAC_SHA1_80 &&
        (int)SRTP_SUITE_AES_CM_128_HMAC_SHA1_32 ==
            (int)SDP_SUITE_AES_CM_128_HMAC_SHA1_32 &&
        (int)SRTP_SUITE_AES_256_CM_HMAC_SHA1_80 ==
            (int)SDP_SUITE_AES_256_CM_HMAC_SHA1_80 &&
        (int)SRTP_SUITE_AEAD_AES_128_GCM == (int)SDP_SUITE_AEAD_AES_128_GCM,
    "srtp and sdp suites share their numbering");

/* What we know of one side between exchanges. */
struct aside {
	bool srtp; /* this side's media is SRTP */
	enum sdp_suite suite;
	unsigned char tx[SDP_KEY_MAX]; /* our key toward this side */
	uint64_t sess_id, sess_ver;    /* o= of the SDP we send it */
	bool sess_set;
};

struct okey {
	unsigned tag;
	enum sdp_suite suite;
	unsigned char key[SDP_KEY_MAX];
};

struct anchor {
	struct media_call *mc;
	struct aside side[2];
	/* The pending offer. */
	bool pending;
	int from;
	char *offer;
	size_t offerlen;
	size_t ai;        /* index of the relayed audio m= */
	bool off_srtp;    /* the offerer's media is SRTP */
	unsigned off_tag; /* its chosen crypto */
	enum sdp_suite off_suite;
	unsigned char off_key[SDP_KEY_MAX];
	bool off_mux;
	struct media_side off_side; /* what the answer commits */
	struct okey okeys[ANCHOR_OKEYS_MAX];
	size_t nokeys;
	bool okeys_set;
};

static void why_set(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
why_set(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

int
anchor_new(struct media_relay *r, uint64_t cookie, int family_a, int family_b,
    struct anchor **out)
{
	struct anchor *a = calloc(1, sizeof(*a));
	int rc;

	if (a == NULL)
		return ENOMEM;
	if ((rc = media_call_new(r, cookie, family_a, family_b, &a->mc)) != 0) {
		free(a);
		return rc;
	}
	randombytes_buf(&a->side[0].sess_id, sizeof(a->side[0].sess_id));
	randombytes_buf(&a->side[1].sess_id, sizeof(a->side[1].sess_id));
	a->side[0].sess_id = (a->side[0].sess_id >> 2) | 1;
	a->side[1].sess_id = (a->side[1].sess_id >> 2) | 1;
	*out = a;
	return 0;
}

void
anchor_offer_done(struct anchor *a)
{
	if (a == NULL)
		return;
	a->pending = false;
	if (a->offer != NULL) {
		sodium_memzero(a->offer, a->offerlen);
		free(a->offer);
	}
	a->offer = NULL;
	a->offerlen = 0;
	a->okeys_set = false;
	a->nokeys = 0;
	sodium_memzero(a->okeys, sizeof(a->okeys));
	sodium_memzero(a->off_key, sizeof(a->off_key));
	sodium_memzero(&a->off_side, sizeof(a->off_side));
}

void
anchor_free(struct anchor *a)
{
	if (a == NULL)
		return;
	anchor_offer_done(a);
	media_call_free(a->mc);
	sodium_memzero(a, sizeof(*a));
	free(a);
}

struct media_call *
anchor_media(struct anchor *a)
{
	return a->mc;
}

bool
anchor_pending(const struct anchor *a, int *from)
{
	if (a == NULL)
		return false;
	if (from != NULL)
		*from = a->from;
	return a->pending;
}

static bool
sv_is(struct sv v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && strncasecmp(v.p, s, n) == 0;
}

/* Attributes that never cross the relay: ICE (the relay is the only
 * candidate), DTLS-SRTP (we do SDES), and what we write ourselves. */
static bool
attr_dropped(struct sv name)
{
	static const char *const drop[] = {"candidate", "ice-ufrag", "ice-pwd",
	    "ice-options", "ice-lite", "ice-mismatch", "remote-candidates",
	    "end-of-candidates", "fingerprint", "setup", "connection", "rtcp",
	    "crypto", "group", "rtcp-rsize", "tls-id", "ssrc-group",
	    "maxptime-unused", "key-mgmt"};
	size_t i;

	for (i = 0; i < ARRAY_LEN(drop); i++)
		if (sv_is(name, drop[i]))
			return true;
	return false;
}

static void
attrs_filter(struct sdp_attr *attr, size_t *n)
{
	size_t i, k = 0;

	for (i = 0; i < *n; i++)
		if (!attr_dropped(attr[i].name))
			attr[k++] = attr[i];
	*n = k;
}

/* Keeps only the session lines that say nothing about the sender: b=
 * (bandwidth) and the time lines; never k= (a key in clear). */
static void
lines_filter(struct sdp_line *l, size_t *n, const char *keep)
{
	size_t i, k = 0;

	for (i = 0; i < *n; i++)
		if (strchr(keep, l[i].type) != NULL)
			l[k++] = l[i];
	*n = k;
}

/* The IP address of conn into *ss (port 0). 0.0.0.0 and :: are "no
 * address" (old-style hold): *none is set. */
static int
conn_addr(const struct sdp_conn *c, struct sockaddr_storage *ss, bool *none)
{
	char buf[INET6_ADDRSTRLEN];

	memset(ss, 0, sizeof(*ss));
	*none = false;
	if (c == NULL || !c->present || c->addr.len == 0 ||
	    c->addr.len >= sizeof(buf))
		return EBADMSG;
	memcpy(buf, c->addr.p, c->addr.len);
	buf[c->addr.len] = '\0';
	if (c->type == SDP_ADDR_IP4) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, buf, &s->sin_addr) != 1)
			return EBADMSG;
		s->sin_family = AF_INET;
		*none = s->sin_addr.s_addr == 0;
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, buf, &s->sin6_addr) != 1)
			return EBADMSG;
		s->sin6_family = AF_INET6;
		*none = IN6_IS_ADDR_UNSPECIFIED(&s->sin6_addr);
	}
	return 0;
}

static void
ss_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static uint32_t
clock_of(const struct sdp_media *m)
{
	size_t i;

	if (m->nfmt == 0)
		return 8000;
	for (i = 0; i < m->nrtpmap; i++) {
		char pt[8];

		snprintf(pt, sizeof(pt), "%u", m->rtpmap[i].pt);
		if (sv_is(m->fmt[0], pt))
			return m->rtpmap[i].clock ? m->rtpmap[i].clock : 8000;
	}
	return 8000; /* PCMU, PCMA, G722 (8000 by RFC 3551), G729 */
}

static bool
suite_ok(enum sdp_suite s)
{
	return sdp_suite_keylen(s) > 0;
}

static bool
proto_feedback(enum sdp_proto p)
{
	return p == SDP_PROTO_RTP_AVPF || p == SDP_PROTO_RTP_SAVPF;
}

/* The side parameters a description gives for its audio stream m:
 * address, ports, direction, mux. Keys are filled by the caller. */
bool
anchor_addr_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)
		                  ->sin_addr.s_addr) >>
		           24) == 127;
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)ss)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static int
side_from(const struct sdp_session *s, const struct sdp_media *m,
    const struct anchor_leg *leg, struct media_side *ms, char *why,
    size_t whysize)
{
	const struct sdp_conn *c = sdp_media_conn(s, m);
	enum sdp_dir d = sdp_media_dir(s, m);
	bool none;

	memset(ms, 0, sizeof(*ms));
	if (c == NULL || !c->present) {
		why_set(why, whysize, "SDP: the audio stream has no c= line");
		return EBADMSG;
	}
	if (conn_addr(c, &ms->rtp, &none) != 0) {
		why_set(why, whysize,
		    "SDP: c= must hold an IPv4 or IPv6 address (no host name, "
		    "no multicast)");
		return EBADMSG;
	}
	ms->send =
	    d == SDP_DIR_SENDRECV || d == SDP_DIR_RECVONLY || d == SDP_DIR_NONE;
	ms->recv =
	    d == SDP_DIR_SENDRECV || d == SDP_DIR_SENDONLY || d == SDP_DIR_NONE;
	if (none) { /* c=0.0.0.0: do not send to me (RFC 2543 hold) */
		ms->rtp.ss_family = AF_UNSPEC;
		ms->send = false;
	} else {
		ss_port(&ms->rtp, m->port);
	}
	ms->rtcp_mux = m->rtcp_mux;
	ms->rtcp = ms->rtp;
	if (!none) {
		if (m->rtcp.present && m->rtcp.has_addr) {
			const struct sdp_conn rc = {
			    true, m->rtcp.type, m->rtcp.addr};

			if (conn_addr(&rc, &ms->rtcp, &none) != 0 || none) {
				why_set(
				    why, whysize, "SDP: bad a=rtcp address");
				return EBADMSG;
			}
		}
		ss_port(
		    &ms->rtcp, m->rtcp.present ? m->rtcp.port : m->port + 1);
	}
	if (!leg->loopback_ok && (anchor_addr_loopback(&ms->rtp) ||
	                             anchor_addr_loopback(&ms->rtcp))) {
		why_set(why, whysize,
		    "SDP: a loopback address from a peer that is not on this "
		    "host");
		return EPROTO;
	}
	ms->clock_rate = clock_of(m);
	return 0;
}

/* The first audio stream with a port; SIZE_MAX when none. */
static size_t
audio_index(const struct sdp_session *s)
{
	size_t i;

	for (i = 0; i < s->nmedia; i++)
		if (sv_is(s->media[i].type, "audio") && s->media[i].port != 0)
			return i;
	return SIZE_MAX;
}

int
anchor_offer(struct anchor *a, int from, const struct anchor_leg *leg,
    const char *sdp, size_t len, char *why, size_t whysize)
{
	struct sdp_session *s = NULL;
	struct sdp_media *m;
	size_t i, ai;
	bool any_crypto = false;
	int rc, chosen = -1;

	if (a == NULL || leg == NULL || (from != 0 && from != 1))
		return EINVAL;
	if ((s = malloc(sizeof(*s))) == NULL)
		return ENOMEM;
	if (sdp_session_parse(sdp, len, s) != 0) {
		why_set(why, whysize, "SDP: malformed session description");
		rc = EBADMSG;
		goto out;
	}
	if ((ai = audio_index(s)) == SIZE_MAX) {
		why_set(why, whysize, "SDP: no audio stream offered");
		rc = EPROTO;
		goto out;
	}
	m = &s->media[ai];
	for (i = 0; i < s->nmedia; i++)
		if (s->media[i].ncrypto > 0)
			any_crypto = true;
	if (any_crypto && !leg->sdes_ok) {
		why_set(why, whysize,
		    "SRTP keys (a=crypto) are refused on unencrypted SIP: "
		    "register and call over TLS");
		rc = EPROTO;
		goto out;
	}
	if (m->proto == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	    m->proto == SDP_PROTO_UDP_TLS_RTP_SAVPF) {
		why_set(why, whysize,
		    "DTLS-SRTP is not supported: offer RTP/SAVP with a=crypto "
		    "(SDES)");
		rc = EPROTO;
		goto out;
	}
	if (m->proto != SDP_PROTO_RTP_AVP && m->proto != SDP_PROTO_RTP_SAVP &&
	    m->proto != SDP_PROTO_RTP_AVPF && m->proto != SDP_PROTO_RTP_SAVPF) {
		why_set(why, whysize, "SDP: the audio stream is not RTP");
		rc = EPROTO;
		goto out;
	}
	if (m->secure)
		for (i = 0; i < m->ncrypto; i++)
			if (suite_ok(m->crypto[i].suite) &&
			    m->crypto[i].mki.len == 0) {
				chosen = (int)i;
				break;
			}
	if (m->secure && chosen < 0) {
		why_set(why, whysize,
		    "SRTP offered without a supported crypto suite "
		    "(AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, "
		    "AES_256_CM_HMAC_SHA1_80, AEAD_AES_128_GCM; no MKI)");
		rc = EPROTO;
		goto out;
	}
	if (chosen < 0 && leg->srtp == ANCHOR_SRTP_REQUIRED) {
		why_set(why, whysize,
		    "SRTP required: offer RTP/SAVP with an a=crypto attribute");
		rc = EPROTO;
		goto out;
	}
	anchor_offer_done(a); /* the offer before is over */
	if ((rc = side_from(s, m, leg, &a->off_side, why, whysize)) != 0)
		goto out;
	if (a->off_side.rtp.ss_family != AF_UNSPEC &&
	    a->off_side.rtp.ss_family != media_call_family(a->mc, from)) {
		why_set(why, whysize,
		    "SDP: the offer's address family is not the one of its "
		    "SIP connection");
		rc = EPROTO;
		goto out;
	}
	if ((a->offer = malloc(len)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	memcpy(a->offer, sdp, len);
	a->offerlen = len;
	a->pending = true;
	a->from = from;
	a->ai = ai;
	a->off_mux = m->rtcp_mux;
	a->off_srtp = chosen >= 0;
	if (a->off_srtp) {
		const struct sdp_crypto *cr = &m->crypto[chosen];
		struct aside *sd = &a->side[from];

		a->off_tag = cr->tag;
		a->off_suite = cr->suite;
		memcpy(a->off_key, cr->key, cr->keylen);
		/* Our key toward the offerer: kept while its suite stays. */
		if (!sd->srtp || sd->suite != cr->suite) {
			randombytes_buf(sd->tx, sdp_suite_keylen(cr->suite));
			sd->suite = cr->suite;
		}
		a->off_side.srtp = true;
		a->off_side.suite = (enum srtp_suite)cr->suite;
		a->off_side.keylen = cr->keylen;
		memcpy(a->off_side.rx_key, cr->key, cr->keylen);
		memcpy(a->off_side.tx_key, sd->tx, cr->keylen);
	}
	rc = 0;
out:
	if (s != NULL) {
		sodium_memzero(s, sizeof(*s));
		free(s);
	}
	return rc;
}

/* Whether the side reached over leg `to` gets SRTP for this offer. */
static int
to_srtp(const struct anchor *a, const struct anchor_leg *to, bool *srtp,
    char *why, size_t whysize)
{
	switch (to->srtp) {
	case ANCHOR_SRTP_NEVER:
		*srtp = false;
		return 0;
	case ANCHOR_SRTP_MIRROR:
		*srtp = a->off_srtp;
		break;
	case ANCHOR_SRTP_OPTIONAL:
		*srtp = to->sdes_ok;
		return 0;
	case ANCHOR_SRTP_REQUIRED:
		*srtp = true;
		break;
	}
	if (*srtp && !to->sdes_ok) {
		why_set(why, whysize,
		    "the callee requires SRTP but is not reachable over TLS, "
		    "so no key can be sent to it");
		return EPROTO;
	}
	return 0;
}

/* Sets the offer's keys toward the answering side: one per suite the
 * offerer listed that we support (the offerer's order), or the two
 * common suites when the offerer sent plain RTP. */
static void
okeys_make(struct anchor *a, const struct sdp_media *m)
{
	struct aside *sd = &a->side[1 - a->from];
	enum sdp_suite list[ANCHOR_OKEYS_MAX];
	size_t n = 0, i, k;

	if (a->okeys_set)
		return;
	if (a->off_srtp) {
		/* The offerer's chosen suite first, then its others. */
		list[n++] = a->off_suite;
		for (i = 0; i < m->ncrypto && n < ANCHOR_OKEYS_MAX; i++) {
			bool dup = false;

			if (!suite_ok(m->crypto[i].suite))
				continue;
			for (k = 0; k < n; k++)
				dup = dup || list[k] == m->crypto[i].suite;
			if (!dup)
				list[n++] = m->crypto[i].suite;
		}
	} else {
		list[n++] = SDP_SUITE_AES_CM_128_HMAC_SHA1_80;
		list[n++] = SDP_SUITE_AES_CM_128_HMAC_SHA1_32;
	}
	for (i = 0; i < n; i++) {
		struct okey *o = &a->okeys[i];

		o->tag = (unsigned)i + 1;
		o->suite = list[i];
		if (sd->srtp && sd->suite == list[i])
			memcpy(o->key, sd->tx, sizeof(o->key));
		else
			randombytes_buf(o->key, sdp_suite_keylen(list[i]));
	}
	a->nokeys = n;
	a->okeys_set = true;
}

/* Declines stream m in a description we send: port 0, nothing else. */
static void
media_decline(struct sdp_media *m)
{
	m->port = 0;
	m->nports = 0;
	m->conn.present = false;
	m->ncrypto = 0;
	m->rtcp.present = false;
	m->rtcp_mux = false;
	m->nattr = 0;
	m->nline = 0;
	if (m->proto == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	    m->proto == SDP_PROTO_UDP_TLS_RTP_SAVPF)
		m->proto = SDP_PROTO_RTP_AVP;
}

/* Rewrites the session part for the side behind leg: our origin, our
 * address, no lines or attributes that describe the other side. */
static void
session_rewrite(struct anchor *a, int side, struct sdp_session *s,
    const struct anchor_leg *leg)
{
	struct aside *sd = &a->side[side];
	bool v6 = strchr(leg->addr, ':') != NULL;

	s->origin_user = (struct sv){"-", 1};
	s->sess_id = sd->sess_id;
	s->sess_version = sd->sess_set ? sd->sess_ver + 1 : 1;
	sd->sess_ver = s->sess_version;
	sd->sess_set = true;
	s->origin_type = v6 ? SDP_ADDR_IP6 : SDP_ADDR_IP4;
	s->origin_addr = (struct sv){leg->addr, strlen(leg->addr)};
	s->conn.present = true;
	s->conn.type = s->origin_type;
	s->conn.addr = s->origin_addr;
	lines_filter(s->line, &s->nline, "btrz");
	attrs_filter(s->attr, &s->nattr);
}

/* Rewrites the relayed audio stream for the side behind leg. */
static void
audio_rewrite(
    struct anchor *a, int side, struct sdp_media *m, bool srtp, bool feedback)
{
	m->port = media_call_port(a->mc, side);
	m->nports = 0;
	m->conn.present = false;
	m->rtcp.present = false;
	m->ncrypto = 0;
	m->proto = srtp ? (feedback ? SDP_PROTO_RTP_SAVPF : SDP_PROTO_RTP_SAVP)
	                : (feedback ? SDP_PROTO_RTP_AVPF : SDP_PROTO_RTP_AVP);
	m->secure = srtp;
	lines_filter(m->line, &m->nline, "ib");
	attrs_filter(m->attr, &m->nattr);
}

/* Old-style hold (c=0.0.0.0) said as a direction, now that c= holds our
 * address. */
static enum sdp_dir
dir_with_hold(const struct sdp_session *s, const struct sdp_media *m)
{
	const struct sdp_conn *c = sdp_media_conn(s, m);
	enum sdp_dir d = sdp_media_dir(s, m);
	struct sockaddr_storage ss;
	bool none = false;

	if (c != NULL && conn_addr(c, &ss, &none) == 0 && none) {
		if (d == SDP_DIR_SENDRECV || d == SDP_DIR_NONE)
			return SDP_DIR_SENDONLY;
		if (d == SDP_DIR_RECVONLY)
			return SDP_DIR_INACTIVE;
	}
	return m->dir != SDP_DIR_NONE   ? m->dir
	       : s->dir != SDP_DIR_NONE ? s->dir
	                                : SDP_DIR_NONE;
}

int
anchor_offer_out(struct anchor *a, const struct anchor_leg *to, char *out,
    size_t size, size_t *outlen, char *why, size_t whysize)
{
	struct sdp_session *s = NULL;
	struct sdp_media *m;
	bool srtp;
	size_t i;
	int rc, side;

	if (a == NULL || to == NULL || !a->pending)
		return EINVAL;
	side = 1 - a->from;
	if ((rc = to_srtp(a, to, &srtp, why, whysize)) != 0)
		return rc;
	if ((s = malloc(sizeof(*s))) == NULL)
		return ENOMEM;
	if (sdp_session_parse(a->offer, a->offerlen, s) != 0) {
		rc = EINVAL;
		goto out;
	}
	m = &s->media[a->ai];
	okeys_make(a, m);
	for (i = 0; i < s->nmedia; i++) {
		struct sdp_media *x = &s->media[i];
		enum sdp_dir d;

		if (i != a->ai) {
			media_decline(x);
			continue;
		}
		d = dir_with_hold(s, x);
		audio_rewrite(a, side, x, srtp, proto_feedback(x->proto));
		x->dir = d;
		x->rtcp_mux = a->off_mux;
		if (srtp) {
			size_t k;

			for (k = 0; k < a->nokeys; k++) {
				struct sdp_crypto *cr = &x->crypto[k];

				memset(cr, 0, sizeof(*cr));
				cr->tag = a->okeys[k].tag;
				cr->suite = a->okeys[k].suite;
				cr->keylen = sdp_suite_keylen(cr->suite);
				memcpy(cr->key, a->okeys[k].key, cr->keylen);
			}
			x->ncrypto = a->nokeys;
		}
	}
	if (s->dir != SDP_DIR_NONE && m->dir == SDP_DIR_NONE)
		m->dir = s->dir;
	s->dir = SDP_DIR_NONE;
	session_rewrite(a, side, s, to);
	rc = sdp_build(out, size, s, outlen);
out:
	sodium_memzero(s, sizeof(*s));
	free(s);
	return rc;
}

int
anchor_answer(struct anchor *a, const struct anchor_leg *ans,
    const struct anchor_leg *off, const char *sdp, size_t len, char *out,
    size_t size, size_t *outlen, char *why, size_t whysize)
{
	struct sdp_session *s = NULL, *o = NULL;
	struct sdp_media *m;
	struct media_side as;
	bool srtp, declined;
	size_t i;
	int rc, side;

	if (a == NULL || ans == NULL || off == NULL || !a->pending)
		return EINVAL;
	side = 1 - a->from;
	if ((rc = to_srtp(a, ans, &srtp, why, whysize)) != 0)
		return rc;
	s = malloc(sizeof(*s));
	o = malloc(sizeof(*o));
	if (s == NULL || o == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if (sdp_session_parse(a->offer, a->offerlen, o) != 0) {
		rc = EINVAL;
		goto out;
	}
	if (sdp_session_parse(sdp, len, s) != 0) {
		why_set(why, whysize, "SDP: malformed answer");
		rc = EBADMSG;
		goto out;
	}
	if (s->nmedia != o->nmedia) {
		why_set(why, whysize,
		    "SDP: the answer has %zu m= lines, the offer %zu",
		    s->nmedia, o->nmedia);
		rc = EPROTO;
		goto out;
	}
	m = &s->media[a->ai];
	declined = m->port == 0;
	/* As for offers: the relayed stream is RTP (its formats are payload
	 * types, as the offerer's profile needs them), and not DTLS-SRTP
	 * unless declined. */
	if (m->proto == SDP_PROTO_OTHER ||
	    (!declined && (m->proto == SDP_PROTO_UDP_TLS_RTP_SAVP ||
	                      m->proto == SDP_PROTO_UDP_TLS_RTP_SAVPF))) {
		why_set(why, whysize,
		    "SDP: the answered audio stream is not RTP/AVP or RTP/SAVP "
		    "(no DTLS-SRTP)");
		rc = EPROTO;
		goto out;
	}
	memset(&as, 0, sizeof(as));
	if (!declined) {
		if ((rc = side_from(s, m, ans, &as, why, whysize)) != 0)
			goto out;
		if (srtp) {
			const struct okey *k = NULL;
			size_t j;

			for (j = 0; j < m->ncrypto && k == NULL; j++) {
				size_t q;

				for (q = 0; q < a->nokeys; q++)
					if (a->okeys[q].tag ==
					        m->crypto[j].tag &&
					    a->okeys[q].suite ==
					        m->crypto[j].suite &&
					    m->crypto[j].mki.len == 0) {
						k = &a->okeys[q];
						as.keylen = m->crypto[j].keylen;
						memcpy(as.rx_key,
						    m->crypto[j].key,
						    as.keylen);
						break;
					}
			}
			if (!m->secure || k == NULL) {
				why_set(why, whysize,
				    "SRTP required: the answer has no "
				    "a=crypto that matches the offer");
				rc = EPROTO;
				goto out;
			}
			as.srtp = true;
			as.suite = (enum srtp_suite)k->suite;
			memcpy(as.tx_key, k->key, as.keylen);
			a->side[side].srtp = true;
			a->side[side].suite = k->suite;
			memcpy(a->side[side].tx, k->key, as.keylen);
		} else if (m->secure) {
			why_set(why, whysize,
			    "SDP: an SRTP answer to a plain RTP offer");
			rc = EPROTO;
			goto out;
		} else {
			a->side[side].srtp = false;
		}
	}
	if (!declined && as.rtp.ss_family != AF_UNSPEC &&
	    as.rtp.ss_family != media_call_family(a->mc, side)) {
		why_set(why, whysize,
		    "SDP: the answer's address family is not the one of its "
		    "SIP connection");
		rc = EPROTO;
		goto out;
	}
	/* Both sides now: the offerer as it offered, the answerer. */
	if ((rc = media_call_set(a->mc, a->from, &a->off_side)) != 0 ||
	    (rc = media_call_set(a->mc, side, &as)) != 0)
		goto out;
	a->side[a->from].srtp = a->off_srtp;
	/* The answer the offerer gets: the answerer's formats on our
	 * address, with the offerer's profile and our key for it. */
	for (i = 0; i < s->nmedia; i++) {
		struct sdp_media *x = &s->media[i];
		enum sdp_dir d;

		if (i != a->ai) {
			media_decline(x);
			continue;
		}
		if (declined) {
			media_decline(x);
			x->proto = o->media[i].proto;
			continue;
		}
		d = dir_with_hold(s, x);
		audio_rewrite(a, a->from, x, a->off_srtp,
		    proto_feedback(o->media[i].proto));
		x->dir = d;
		x->rtcp_mux = a->off_mux;
		if (a->off_srtp) {
			struct sdp_crypto *cr = &x->crypto[0];

			memset(cr, 0, sizeof(*cr));
			cr->tag = a->off_tag;
			cr->suite = a->off_suite;
			cr->keylen = sdp_suite_keylen(cr->suite);
			memcpy(cr->key, a->side[a->from].tx, cr->keylen);
			x->ncrypto = 1;
		}
	}
	if (s->dir != SDP_DIR_NONE && !declined &&
	    s->media[a->ai].dir == SDP_DIR_NONE)
		s->media[a->ai].dir = s->dir;
	s->dir = SDP_DIR_NONE;
	session_rewrite(a, a->from, s, off);
	rc = sdp_build(out, size, s, outlen);
out:
	if (s != NULL) {
		sodium_memzero(s, sizeof(*s));
		free(s);
	}
	if (o != NULL) {
		sodium_memzero(o, sizeof(*o));
		free(o);
	}
	sodium_memzero(&as, sizeof(as));
	return rc;
}
