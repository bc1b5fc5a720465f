/* b2bua.c: see b2bua.h. The transaction rules of RFC 3261 17 that a
 * B2BUA needs live here with the call: the INVITE server transaction
 * toward the caller (100, final response retransmitted until ACK over
 * UDP), an INVITE client transaction per callee contact (Timer A/B, ACK
 * for non-2xx, CANCEL), BYE client transactions (Timer E/F). */
#include "call/b2bua.h"
#include "lib/log.h"
#include "lib/util.h"
#include "media/anchor.h"
#include "sip/build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum {
	T1_MS = 500,
	T2_MS = 4000,
	TIMER_64T1 = 64 * T1_MS,
	RING_MS = 120000, /* no answer: give up */
	BW_BUCKETS = 4096,
	B_MSG_MAX = 16384,
	B_ID_MAX = 128,
	B_URI_MAX = 512,
	B_SDP_MAX = 8192,
	B_ENDED_RING = 4096, /* dialogs remembered after their end */
	CL_BUCKETS = 1024,
	B_CALLS_EXT = 10,     /* [guard] calls_per_extension default */
	B_CALLS_TENANT = 200, /* [guard] calls_per_tenant default */
};

#define container_of(p, type, member)                                          \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

enum leg_state {
	L_CALLING,    /* INVITE sent, nothing back */
	L_PROCEEDING, /* a provisional response */
	L_FAILED,     /* a final non-2xx (or timeout) */
	L_CONFIRMED,  /* 2xx: the dialog of the call */
	L_ENDED,      /* BYE sent or received */
};

struct call;

struct leg {
	struct call *call;
	int idx; /* 0: A, the caller; 1..: B legs */
	char call_id[B_ID_MAX];
	char ltag[24];
	char rtag[B_ID_MAX];
	char luri[B_URI_MAX]; /* our URI in this dialog */
	char ruri[B_URI_MAX]; /* the peer's */
	char display[B_ID_MAX];
	char maddr[INET6_ADDRSTRLEN]; /* our media address for this side */
	char target[B_URI_MAX];   /* the peer's Contact: where requests go */
	char inv_ruri[B_URI_MAX]; /* B legs: our INVITE's Request-URI, for
	                             its CANCEL and non-2xx ACK */
	struct tp_flow flow;
	uint32_t lcseq;
	int max_fwd; /* of the requests we send */
	enum leg_state st;
	unsigned final;
	/* The client transaction in progress on this leg. */
	char branch[40];
	char *req;
	size_t reqlen;
	enum sip_method req_method;
	struct tp_timer tretx, tto;
	uint64_t interval;
	bool relay;        /* the transaction relays the other side's */
	uint32_t txn_cseq; /* its CSeq */
	char *ack;         /* the ACK (with an answer) of the last 2xx, for that
	                      2xx's retransmissions */
	size_t acklen;
	struct leg *hnext;
	bool hashed;
};

struct call {
	struct b2bua *b;
	int owner;
	int64_t tenant_id;
	char caller[STORE_EXT_MAX], callee[STORE_EXT_MAX];
	char uuid[37];
	struct leg a;
	struct leg *bl[REG_CONTACTS_MAX];
	int nb, winner;
	char *ainv; /* the caller's INVITE */
	size_t ainvlen;
	char *aresp; /* our last response to it */
	size_t aresplen;
	unsigned afinal;
	bool a_acked, cancelled, ended, cdr_done;
	struct tp_timer ag, ah, ring;
	uint64_t ag_int;
	int64_t start_us, answer_us, end_us;
	char disp[32];
	char a_source[64], a_ua[STORE_TEXT_MAX], a_transport[8];
	int byes;            /* BYE transactions still running */
	int64_t caller_ext;  /* counted in cl_ext when nonzero */
	int64_t trunk_id;    /* a carrier's call: its trunk */
	bool tenant_counted; /* counted in cl_tenant */
	/* Media: anchored on the relay (NULL: no relay, SDP passed on). */
	struct anchor *an;         /* released when the call ends */
	bool anchored;             /* its media is (or was) on the relay */
	struct media_stats mst[2]; /* the sides' counters at release */
	uint64_t cookie;           /* names the call to media timeouts */
	bool a_srtp_opt;           /* the caller may use plain RTP */
	bool b_srtp_opt;           /* the callee may */
	char *a_sdp;               /* the last answer we sent the caller */
	size_t a_sdplen;
	char warn[ANCHOR_WHY_MAX]; /* why media was refused, for Warning */
	/* Late offer (an INVITE without SDP, RFC 3261 13.2.1): the offer is
	 * in the 2xx and the answer in the ACK. The 2xx's ACK on leg lo.leg
	 * waits for the ACK of leg lo.from (CSeq lo.cseq), which brings the
	 * answer. */
	bool late;       /* the caller's INVITE had no SDP */
	uint32_t a_cseq; /* the caller's INVITE's CSeq */
	struct {
		bool on;
		int leg, from;
		uint32_t cseq;
	} lo;
	struct tp_timer lot; /* no ACK with the answer: the call ends */
	/* An in-dialog request (re-INVITE, UPDATE, INFO...) being relayed
	 * from leg rel_from to the other leg: one at a time per call. */
	struct {
		bool on;
		int from;
		struct tp_flow flow;
		char *req; /* the request as received */
		size_t reqlen;
		uint32_t cseq;
		char *resp; /* our final answer, for its retransmissions */
		size_t resplen;
		bool late; /* a re-INVITE without SDP: the 2xx has the offer */
	} rel;
};

struct bworker {
	struct leg *hash[BW_BUCKETS];
	/* Dialogs that ended lately (a hash of their Call-ID and when): a
	 * BYE retransmitted after the call is gone gets 200 again. */
	uint64_t ended[B_ENDED_RING];
	int64_t ended_us[B_ENDED_RING];
	unsigned ended_pos;
	struct sip_msg m2; /* a stored request, parsed again */
	char out[B_MSG_MAX];
	char sdp[B_SDP_MAX]; /* an SDP we write */
};

/* Calls up at once per extension (as the caller) or per tenant: shared
 * by the workers (a tenant's calls are spread over them by Call-ID). */
struct centry {
	struct centry *next;
	int64_t id;
	unsigned n;
};

struct climit {
	pthread_mutex_t mu;
	struct centry *bucket[CL_BUCKETS];
};

struct b2bua {
	unsigned nw;
	struct climit cl_ext, cl_tenant;
	atomic_uint max_ext, max_tenant;
	char node[STORE_NAME_MAX];
	struct media_relay *relay;
	char media_adv[INET6_ADDRSTRLEN];
	struct transport *tp;
	atomic_uint_fast64_t serial;
	struct regtab *reg;
	struct storew *sw;
	struct bworker *w;
	struct b2bua_stats stats;
};

unsigned
b2bua_owner(const struct b2bua *b, struct sv call_id)
{
	return util_fnv1a(call_id.p, call_id.len) % b->nw;
}

/* Takes one of max places for id; false when all are taken. */
static bool
climit_take(struct climit *l, int64_t id, unsigned max)
{
	struct centry **pp, *e;
	bool ok = false;

	pthread_mutex_lock(&l->mu);
	for (pp = &l->bucket[(uint64_t)id % CL_BUCKETS]; *pp != NULL;
	     pp = &(*pp)->next)
		if ((*pp)->id == id)
			break;
	if ((e = *pp) == NULL && (e = calloc(1, sizeof(*e))) != NULL) {
		e->id = id;
		*pp = e;
	}
	if (e != NULL && e->n < max) {
		e->n++;
		ok = true;
	}
	if (e != NULL && e->n == 0) {
		*pp = e->next;
		free(e);
	}
	pthread_mutex_unlock(&l->mu);
	return ok;
}

static void
climit_put(struct climit *l, int64_t id)
{
	struct centry **pp, *e;

	pthread_mutex_lock(&l->mu);
	for (pp = &l->bucket[(uint64_t)id % CL_BUCKETS]; (e = *pp) != NULL;
	     pp = &e->next)
		if (e->id == id) {
			if (--e->n == 0) {
				*pp = e->next;
				free(e);
			}
			break;
		}
	pthread_mutex_unlock(&l->mu);
}

static void
climit_clear(struct climit *l)
{
	size_t i;

	for (i = 0; i < CL_BUCKETS; i++)
		while (l->bucket[i] != NULL) {
			struct centry *e = l->bucket[i];

			l->bucket[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&l->mu);
}

void
b2bua_set_limits(struct b2bua *b, unsigned per_ext, unsigned per_tenant)
{
	atomic_store(&b->max_ext, per_ext ? per_ext : 1);
	atomic_store(&b->max_tenant, per_tenant ? per_tenant : 1);
}

int
b2bua_new(unsigned nworkers, const char *node, struct regtab *reg,
    struct storew *sw, struct media_relay *relay, const char *media_adv,
    struct b2bua **out)
{
	struct b2bua *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return ENOMEM;
	b->nw = nworkers ? nworkers : 1;
	snprintf(b->node, sizeof(b->node), "%s", node);
	b->reg = reg;
	b->sw = sw;
	pthread_mutex_init(&b->cl_ext.mu, NULL);
	pthread_mutex_init(&b->cl_tenant.mu, NULL);
	b2bua_set_limits(b, B_CALLS_EXT, B_CALLS_TENANT);
	b->relay = relay;
	if (media_adv != NULL)
		snprintf(b->media_adv, sizeof(b->media_adv), "%s", media_adv);
	if ((b->w = calloc(b->nw, sizeof(*b->w))) == NULL) {
		free(b);
		return ENOMEM;
	}
	*out = b;
	return 0;
}

struct b2bua_stats *
b2bua_stats(struct b2bua *b)
{
	return &b->stats;
}

static struct bworker *
bw_of(struct b2bua *b, struct tp_worker *w)
{
	return &b->w[(unsigned)tp_worker_index(w) % b->nw];
}

static void
leg_hash_add(struct bworker *bw, struct leg *l)
{
	uint32_t h = util_fnv1a(l->call_id, strlen(l->call_id)) % BW_BUCKETS;

	l->hnext = bw->hash[h];
	bw->hash[h] = l;
	l->hashed = true;
}

static void
leg_hash_del(struct bworker *bw, struct leg *l)
{
	struct leg **pp;

	if (!l->hashed)
		return;
	for (pp = &bw->hash[util_fnv1a(l->call_id, strlen(l->call_id)) %
	                    BW_BUCKETS];
	     *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == l) {
			*pp = l->hnext;
			break;
		}
	l->hashed = false;
}

static struct leg *
leg_find(struct bworker *bw, struct sv call_id)
{
	struct leg *l;

	for (l = bw->hash[util_fnv1a(call_id.p, call_id.len) % BW_BUCKETS];
	     l != NULL; l = l->hnext)
		if (strlen(l->call_id) == call_id.len &&
		    memcmp(l->call_id, call_id.p, call_id.len) == 0)
			return l;
	return NULL;
}

static struct leg *
other_leg(struct leg *l)
{
	struct call *c = l->call;

	if (l->idx != 0)
		return &c->a;
	return c->winner > 0 ? c->bl[c->winner - 1] : NULL;
}

static struct leg *
leg_by_idx(struct call *c, int idx)
{
	return idx == 0 ? &c->a : idx <= c->nb ? c->bl[idx - 1] : NULL;
}

static void
sv_copy(struct sv v, char *buf, size_t size)
{
	size_t n = v.len < size - 1 ? v.len : size - 1;

	if (n > 0)
		memcpy(buf, v.p, n);
	buf[n] = '\0';
}

/* The inside of a quoted display name as we write it again: quoted-pairs
 * kept, except escaped control bytes, which go (with their backslash), as
 * do control bytes in clear; a trailing lone backslash goes too. */
static void
display_copy(struct sv v, char *buf, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < v.len && n + 2 < size; i++) {
		unsigned char ch = (unsigned char)v.p[i];

		if (ch == '\\') {
			unsigned char nx;

			if (i + 1 >= v.len)
				break;
			nx = (unsigned char)v.p[++i];
			if (nx < 0x20 || nx == 0x7f)
				continue;
			buf[n++] = '\\';
			buf[n++] = (char)nx;
		} else if (ch >= 0x20 && ch != 0x7f && ch != '"') {
			buf[n++] = (char)ch;
		}
	}
	buf[n] = '\0';
}

static void
rand_hex(char *out, size_t bytes)
{
	unsigned char r[32];

	randombytes_buf(r, bytes);
	util_hex(r, bytes, out);
}

/* Our address on a flow, for Via and Contact: "127.0.0.1:5060". */
static void
local_hostport(const struct tp_flow *f, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (f->local.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&f->local;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		const struct sockaddr_in *s = (const void *)&f->local;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(s->sin_port));
	}
}

static const char *
proto_upper(enum tp_proto p)
{
	return p == TP_UDP ? "UDP" : p == TP_TCP ? "TCP" : "TLS";
}

/* ---- media ---- */

static bool
sv_is_sdp(struct sv type)
{
	size_t n = type.len;

	while (n > 0 && (type.p[n - 1] == ' ' || type.p[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++)
		if (type.p[i] == ';') {
			n = i;
			while (n > 0 && type.p[n - 1] == ' ')
				n--;
			break;
		}
	return n == 15 && strncasecmp(type.p, "application/sdp", n) == 0;
}

/* The IP address the peer behind flow f sends media to: [media]
 * advertise, else the local address of its SIP flow, else (a wildcard
 * listener) the address the kernel would use to reach it. */
static void
media_addr(
    const struct b2bua *b, const struct tp_flow *f, char *out, size_t size)
{
	struct sockaddr_storage ss = f->local;
	socklen_t sl = sizeof(ss);
	bool wild;

	if (b->media_adv[0] != '\0') {
		snprintf(out, size, "%s", b->media_adv);
		return;
	}
	wild = ss.ss_family == AF_INET6
	           ? IN6_IS_ADDR_UNSPECIFIED(
	                 &((const struct sockaddr_in6 *)&ss)->sin6_addr)
	           : ((const struct sockaddr_in *)&ss)->sin_addr.s_addr == 0;
	if (wild) {
		int fd =
		    socket(f->peer.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (fd >= 0) {
			if (connect(fd, (const struct sockaddr *)&f->peer,
			        f->peerlen) == 0)
				getsockname(fd, (struct sockaddr *)&ss, &sl);
			close(fd);
		}
	}
	if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out,
			    (socklen_t)size);
		else
			inet_ntop(
			    AF_INET6, &s6->sin6_addr, out, (socklen_t)size);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr,
		    out, (socklen_t)size);
	}
}

/* A Warning header saying why media was refused (no product name: the
 * agent is our address on the flow). */
static void
warn_hdr(const struct tp_flow *f, const char *why, char *buf, size_t size)
{
	char hp[80];

	local_hostport(f, hp, sizeof(hp));
	snprintf(buf, size, "Warning: 399 %s \"%s\"\r\n", hp, why);
}

/* A bounded text writer. */
struct wr {
	char *p;
	size_t len, size;
	bool over;
};

static void wr_fmt(struct wr *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
wr_fmt(struct wr *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->len, w->size - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->size - w->len)
		w->over = true;
	else
		w->len += (size_t)n;
}

static void
wr_mem(struct wr *w, const void *p, size_t n)
{
	if (w->over || n > w->size - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, p, n);
	w->len += n;
}

/* A message body with its type: relayed as received, or one we wrote
 * (the SDP the relay anchors). */
struct body {
	struct sv type;
	const char *p;
	size_t len;
};

/* m's body; NULL when it has none. */
static const struct body *
body_of(const struct sip_msg *m, struct body *bd)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_CONTENT_TYPE);

	if (m->body.len == 0)
		return NULL;
	bd->type = h != NULL ? h->value : (struct sv){"", 0};
	bd->p = m->body.p;
	bd->len = m->body.len;
	return bd;
}

/* The Content-Type line of a body, for relaying. */
static void
wr_body_hdrs(struct wr *w, const struct body *bd)
{
	if (bd != NULL && bd->len > 0 && bd->type.len > 0)
		wr_fmt(
		    w, "Content-Type: %.*s\r\n", (int)bd->type.len, bd->type.p);
}

/* Writes a request in leg l's dialog into out; returns its length, 0 on
 * overflow. ruri: the Request-URI; to_tag: with the peer's tag. */
static size_t
leg_request(struct leg *l, const char *method, const char *ruri, uint32_t cseq,
    const char *branch, bool to_tag, bool contact, const char *extra,
    const struct body *bd, char *out, size_t size)
{
	struct wr w = {out, 0, size, false};
	char hp[80];
	size_t blen = bd ? bd->len : 0;

	local_hostport(&l->flow, hp, sizeof(hp));
	wr_fmt(&w, "%s %s SIP/2.0\r\n", method, ruri);
	wr_fmt(&w, "Via: SIP/2.0/%s %s;branch=" B2BUA_BRANCH "%s;rport\r\n",
	    proto_upper(l->flow.proto), hp, branch);
	wr_fmt(&w, "Max-Forwards: %d\r\n", l->max_fwd);
	if (l->display[0] != '\0')
		wr_fmt(&w, "From: \"%s\" <%s>;tag=%s\r\n", l->display, l->luri,
		    l->ltag);
	else
		wr_fmt(&w, "From: <%s>;tag=%s\r\n", l->luri, l->ltag);
	if (to_tag && l->rtag[0] != '\0')
		wr_fmt(&w, "To: <%s>;tag=%s\r\n", l->ruri, l->rtag);
	else
		wr_fmt(&w, "To: <%s>\r\n", l->ruri);
	wr_fmt(&w, "Call-ID: %s\r\n", l->call_id);
	wr_fmt(&w, "CSeq: %u %s\r\n", cseq, method);
	if (contact)
		wr_fmt(&w, "Contact: <sip:%s;transport=%s>\r\n", hp,
		    tp_proto_name(l->flow.proto));
	if (extra != NULL)
		wr_fmt(&w, "%s", extra);
	wr_body_hdrs(&w, bd);
	wr_fmt(&w, "Content-Length: %zu\r\n\r\n", blen);
	if (blen > 0)
		wr_mem(&w, bd->p, blen);
	return w.over ? 0 : w.len;
}

static void call_end(struct call *c, struct tp_worker *w, const char *disp);
static void media_release(struct call *c);
static void limits_release(struct call *c);
struct body;
static void relay_answer(
    struct call *c, struct tp_worker *w, unsigned code, const struct body *bd);
static void call_maybe_free(struct call *c, struct tp_worker *w);

/* ---- sending on a leg, with retransmission over UDP ---- */

static void
leg_retx_cb(struct tp_worker *w, struct tp_timer *tm)
{
	struct leg *l = container_of(tm, struct leg, tretx);

	if (l->req == NULL)
		return;
	tp_send(w, &l->flow, l->req, l->reqlen);
	l->interval *= 2;
	if (l->req_method != SIP_METHOD_INVITE && l->interval > T2_MS)
		l->interval = T2_MS;
	tp_timer_set(w, &l->tretx, l->interval, leg_retx_cb);
}

static void leg_timeout_cb(struct tp_worker *w, struct tp_timer *tm);

/* Sends a request that starts a client transaction on l (INVITE or
 * BYE); the bytes are kept for retransmission. */
static void
leg_send_txn(struct tp_worker *w, struct leg *l, enum sip_method method,
    const char *buf, size_t len)
{
	free(l->req);
	l->req = malloc(len);
	l->reqlen = 0;
	if (l->req != NULL) {
		memcpy(l->req, buf, len);
		l->reqlen = len;
	}
	l->req_method = method;
	l->interval = T1_MS;
	if (method == SIP_METHOD_INVITE) {
		free(l->ack); /* a new INVITE: a new 2xx, a new ACK */
		l->ack = NULL;
		l->acklen = 0;
	}
	if (tp_send(w, &l->flow, buf, len) != 0 && l->flow.proto != TP_UDP) {
		/* The connection is gone: fail at once (480 on INVITE). */
		tp_timer_set(w, &l->tto, 0, leg_timeout_cb);
		return;
	}
	if (l->flow.proto == TP_UDP)
		tp_timer_set(w, &l->tretx, T1_MS, leg_retx_cb);
	tp_timer_set(w, &l->tto, TIMER_64T1, leg_timeout_cb);
}

static void
leg_txn_done(struct tp_worker *w, struct leg *l)
{
	tp_timer_cancel(w, &l->tretx);
	tp_timer_cancel(w, &l->tto);
	free(l->req);
	l->req = NULL;
	l->reqlen = 0;
}

/* ---- responses to the caller (leg A's INVITE) ---- */

static void
a_retx_cb(struct tp_worker *w, struct tp_timer *tm)
{
	struct call *c = container_of(tm, struct call, ag);

	if (c->aresp == NULL || c->a_acked)
		return;
	tp_send(w, &c->a.flow, c->aresp, c->aresplen);
	c->ag_int = c->ag_int * 2 > T2_MS ? T2_MS : c->ag_int * 2;
	tp_timer_set(w, &c->ag, c->ag_int, a_retx_cb);
}

static void leg_bye(struct tp_worker *w, struct leg *l);
static void lo_release(struct tp_worker *w, struct call *c);

static void
a_noack_cb(struct tp_worker *w, struct tp_timer *tm)
{
	struct call *c = container_of(tm, struct call, ah);

	tp_timer_cancel(w, &c->ag);
	if (c->afinal >= 200 && c->afinal < 300 && !c->a_acked) {
		/* 2xx never acknowledged: end both dialogs. */
		log_info("call %s: no ACK from the caller; ending it", c->uuid);
		leg_bye(w, &c->a);
		if (c->winner > 0)
			leg_bye(w, c->bl[c->winner - 1]);
		call_end(c, w, "no-ack");
		call_maybe_free(c, w);
		return;
	}
	if (c->afinal >= 300)
		call_maybe_free(c, w); /* no ACK came: Timer H */
}

/* Sends the response code to the caller's INVITE. A final one is kept
 * and retransmitted over UDP until the ACK. */
static void
a_respond(struct call *c, struct tp_worker *w, unsigned code,
    const char *reason, const char *extra, const struct body *bd)
{
	struct bworker *bw = bw_of(c->b, w);
	struct sip_msg *m = &bw->m2;
	char ip[INET6_ADDRSTRLEN], hdrs[1024] = "", hp[80];
	struct wr x = {hdrs, 0, sizeof(hdrs), false};
	size_t outlen;
	unsigned rport = 0;

	if (c->afinal >= 200)
		return;
	if (sip_msg_parse(c->ainv, c->ainvlen, m) != 0)
		return;
	tp_peer_ip(&c->a.flow, ip, sizeof(ip));
	if (m->nvia > 0 && m->via[0].rport)
		rport = tp_peer_port(&c->a.flow);
	if (code > 100 && code < 300) {
		local_hostport(&c->a.flow, hp, sizeof(hp));
		wr_fmt(&x, "Contact: <sip:%s;transport=%s>\r\n", hp,
		    tp_proto_name(c->a.flow.proto));
	}
	if (extra != NULL)
		wr_fmt(&x, "%s", extra);
	if (code == 488 && c->warn[0] != '\0') {
		char wh[ANCHOR_WHY_MAX + 100];

		warn_hdr(&c->a.flow, c->warn, wh, sizeof(wh));
		wr_fmt(&x, "%s", wh);
	}
	wr_body_hdrs(&x, bd);
	if (sip_build_response(bw->out, sizeof(bw->out), m, code, reason,
	        code > 100 ? c->a.ltag : NULL, ip, rport, hdrs[0] ? hdrs : NULL,
	        bd ? bd->p : NULL, bd ? bd->len : 0, &outlen) != 0)
		return;
	tp_send(w, &c->a.flow, bw->out, outlen);
	if (code < 200)
		return;
	c->afinal = code;
	free(c->aresp);
	if ((c->aresp = malloc(outlen)) != NULL) {
		memcpy(c->aresp, bw->out, outlen);
		c->aresplen = outlen;
	}
	tp_timer_cancel(w, &c->ring);
	if (c->a.flow.proto == TP_UDP) {
		c->ag_int = T1_MS;
		tp_timer_set(w, &c->ag, T1_MS, a_retx_cb);
	}
	tp_timer_set(w, &c->ah, TIMER_64T1, a_noack_cb);
}

/* Answers a request m (not the caller's INVITE) on flow f. */
static void
respond_to(struct b2bua *b, struct tp_worker *w, const struct tp_flow *f,
    const struct sip_msg *m, unsigned code, const char *to_tag)
{
	struct bworker *bw = bw_of(b, w);
	char ip[INET6_ADDRSTRLEN];
	size_t outlen;
	unsigned rport = 0;

	tp_peer_ip(f, ip, sizeof(ip));
	if (m->nvia > 0 && m->via[0].rport)
		rport = tp_peer_port(f);
	if (sip_build_response(bw->out, sizeof(bw->out), m, code, NULL, to_tag,
	        ip, rport, NULL, NULL, 0, &outlen) == 0)
		tp_send(w, f, bw->out, outlen);
}

/* ---- the call record ---- */

/* The media counters of side (0: caller, 1: callee) into its leg's
 * record; packets the relay dropped go to the log. */
static void
cdr_media(const struct call *c, int side, struct store_call_leg *l)
{
	const struct media_stats *mst = &c->mst[side];
	struct media_stats st = *mst;

	if (!c->anchored)
		return;
	l->packets = (int64_t)st.pkts_in;
	l->bytes = (int64_t)st.bytes_in;
	l->lost = (int64_t)st.lost;
	l->jitter_us = st.jitter_us;
	if (st.spoofed + st.auth_fail + st.replayed > 0)
		log_info("call %s: media side %c dropped spoofed=%llu "
		         "auth-failed=%llu replayed=%llu",
		    c->uuid, side == 0 ? 'A' : 'B',
		    (unsigned long long)st.spoofed,
		    (unsigned long long)st.auth_fail,
		    (unsigned long long)st.replayed);
}

static void
cdr_write(struct call *c)
{
	struct store_call sc;
	struct store_call_leg legs[STOREW_LEGS_MAX];
	size_t n = 0;
	int i;

	if (c->cdr_done || c->b->sw == NULL)
		return;
	c->cdr_done = true;
	memset(&sc, 0, sizeof(sc));
	sc.tenant_id = c->tenant_id;
	snprintf(sc.uuid, sizeof(sc.uuid), "%s", c->uuid);
	snprintf(sc.node, sizeof(sc.node), "%s", c->b->node);
	snprintf(sc.caller, sizeof(sc.caller), "%s", c->caller);
	snprintf(sc.callee, sizeof(sc.callee), "%s", c->callee);
	snprintf(sc.direction, sizeof(sc.direction), "%s",
	    c->trunk_id != 0 ? "inbound" : "internal");
	sc.start_us = c->start_us;
	sc.answer_us = c->answer_us;
	sc.end_us = c->end_us ? c->end_us : util_now_us();
	snprintf(sc.disposition, sizeof(sc.disposition), "%s", c->disp);
	sc.duration_ms = c->answer_us ? (sc.end_us - c->answer_us) / 1000 : 0;
	snprintf(sc.source, sizeof(sc.source), "%s", c->a_source);
	snprintf(sc.user_agent, sizeof(sc.user_agent), "%s", c->a_ua);
	snprintf(sc.transport, sizeof(sc.transport), "%s", c->a_transport);
	memset(legs, 0, sizeof(legs));
	legs[n].leg = 0;
	snprintf(legs[n].kind, sizeof(legs[n].kind), "%s",
	    c->trunk_id != 0 ? "trunk" : "caller");
	legs[n].trunk_id = c->trunk_id;
	snprintf(legs[n].peer, sizeof(legs[n].peer), "%s", c->a_source);
	snprintf(
	    legs[n].transport, sizeof(legs[n].transport), "%s", c->a_transport);
	legs[n].start_us = c->start_us;
	legs[n].answer_us = c->answer_us;
	legs[n].end_us = sc.end_us;
	snprintf(
	    legs[n].disposition, sizeof(legs[n].disposition), "%s", c->disp);
	cdr_media(c, 0, &legs[n]);
	n++;
	for (i = 0; i < c->nb && n < STOREW_LEGS_MAX; i++, n++) {
		struct leg *l = c->bl[i];

		legs[n].leg = i + 1;
		snprintf(legs[n].kind, sizeof(legs[n].kind), "%s",
		    c->nb > 1 ? "fork" : "callee");
		tp_addr_fmt(&l->flow.peer, legs[n].peer, sizeof(legs[n].peer));
		snprintf(legs[n].transport, sizeof(legs[n].transport), "%s",
		    tp_proto_name(l->flow.proto));
		legs[n].start_us = c->start_us;
		legs[n].answer_us = c->winner == i + 1 ? c->answer_us : 0;
		legs[n].end_us = sc.end_us;
		if (c->winner == i + 1) {
			snprintf(legs[n].disposition,
			    sizeof(legs[n].disposition), "%s", c->disp);
			cdr_media(c, 1, &legs[n]);
		} else
			snprintf(legs[n].disposition,
			    sizeof(legs[n].disposition), "%u", l->final);
	}
	storew_call_put(c->b->sw, &sc, legs, n);
}

/* A Call-ID in the ring of ended dialogs; 0 marks an empty slot. */
static uint64_t
id_hash(const char *p, size_t n)
{
	return (uint64_t)util_fnv1a(p, n) + 1;
}

static void
leg_free(struct bworker *bw, struct tp_worker *w, struct leg *l)
{
	leg_txn_done(w, l);
	free(l->ack);
	l->ack = NULL;
	leg_hash_del(bw, l);
	bw->ended[bw->ended_pos] = id_hash(l->call_id, strlen(l->call_id));
	bw->ended_us[bw->ended_pos] = util_now_us();
	bw->ended_pos = (bw->ended_pos + 1) % B_ENDED_RING;
}

bool
b2bua_ended_lately(struct b2bua *b, struct tp_worker *w, struct sv call_id)
{
	struct bworker *bw = bw_of(b, w);
	uint64_t h = id_hash(call_id.p, call_id.len);
	int64_t since = util_now_us() - (int64_t)TIMER_64T1 * 1000;
	size_t i;

	for (i = 0; i < B_ENDED_RING; i++)
		if (bw->ended[i] == h && bw->ended_us[i] >= since)
			return true;
	return false;
}

/* Frees a call now: its record, its legs, its timers. */
static void
call_free(struct call *c, struct tp_worker *w)
{
	struct bworker *bw = bw_of(c->b, w);
	int i;

	media_release(c);
	cdr_write(c);
	free(c->a_sdp);
	tp_timer_cancel(w, &c->ag);
	tp_timer_cancel(w, &c->ah);
	tp_timer_cancel(w, &c->ring);
	tp_timer_cancel(w, &c->lot);
	leg_free(bw, w, &c->a);
	for (i = 0; i < c->nb; i++) {
		leg_free(bw, w, c->bl[i]);
		free(c->bl[i]);
	}
	atomic_fetch_sub(&c->b->stats.active, 1);
	limits_release(c);
	free(c->rel.req);
	free(c->rel.resp);
	free(c->ainv);
	free(c->aresp);
	free(c);
}

static void
call_maybe_free(struct call *c, struct tp_worker *w)
{
	int i;

	if (!c->ended || c->byes > 0)
		return;
	/* A final failure stays (retransmitted over UDP) until its ACK or
	 * Timer H: a retransmitted INVITE must get it again. */
	if (c->afinal >= 300 && !c->a_acked && c->ah.heap_idx != 0)
		return;
	for (i = 0; i < c->nb; i++)
		if (c->bl[i]->req != NULL)
			return;
	call_free(c, w);
}

/* The relay lets the call's ports go, keeping its counters for the
 * record. */
static void
media_release(struct call *c)
{
	if (c->an == NULL)
		return;
	media_call_stats(anchor_media(c->an), 0, &c->mst[0]);
	media_call_stats(anchor_media(c->an), 1, &c->mst[1]);
	anchor_free(c->an);
	c->an = NULL;
}

/* The call no longer counts toward its extension's and tenant's calls at
 * once. */
static void
limits_release(struct call *c)
{
	if (c->caller_ext != 0)
		climit_put(&c->b->cl_ext, c->caller_ext);
	if (c->tenant_counted)
		climit_put(&c->b->cl_tenant, c->tenant_id);
	c->caller_ext = 0;
	c->tenant_counted = false;
}

/* The call is over: record its end. Inner functions never free a call:
 * every entry point (a message, a timer, a closed connection) ends with
 * one call_maybe_free(), after which it does not touch the call. */
static void
call_end(struct call *c, struct tp_worker *w, const char *disp)
{
	if (c->end_us == 0) {
		c->end_us = util_now_us();
		snprintf(c->disp, sizeof(c->disp), "%s", disp);
	}
	c->ended = true;
	c->lo.on = false; /* no answer is awaited any more */
	tp_timer_cancel(w, &c->lot);
	media_release(c); /* BYE transactions may run on; ports go now */
	limits_release(c);
	/* Freed by the caller's call_maybe_free, the last step. */
}

/* Sends BYE on a confirmed leg (a client transaction the call waits
 * for). */
static void
leg_bye(struct tp_worker *w, struct leg *l)
{
	struct bworker *bw = bw_of(l->call->b, w);
	size_t n;

	if (l->st != L_CONFIRMED)
		return;
	if (l->call->lo.on && l->call->lo.leg == l->idx)
		lo_release(w, l->call); /* its 2xx is acknowledged first */
	l->st = L_ENDED;
	rand_hex(l->branch, 8);
	n = leg_request(l, "BYE", l->target, ++l->lcseq, l->branch, true, false,
	    NULL, NULL, bw->out, sizeof(bw->out));
	if (n == 0)
		return;
	l->call->byes++;
	leg_send_txn(w, l, SIP_METHOD_BYE, bw->out, n);
}

/* ---- media on the relay ---- */

static void
leg_anchor(const struct call *c, struct leg *l, struct anchor_leg *al)
{
	bool opt = l->idx == 0 ? c->a_srtp_opt : c->b_srtp_opt;

	memset(al, 0, sizeof(*al));
	al->sdes_ok = l->flow.proto == TP_TLS;
	al->loopback_ok = anchor_addr_loopback(&l->flow.peer);
	al->srtp = opt ? ANCHOR_SRTP_OPTIONAL : ANCHOR_SRTP_REQUIRED;
	/* Once per leg: its flow does not change (a wildcard listener costs
	 * a socket and a connect to find it). */
	if (l->maddr[0] == '\0')
		media_addr(c->b, &l->flow, l->maddr, sizeof(l->maddr));
	memcpy(al->addr, l->maddr, sizeof(al->addr));
}

enum media_res { MEDIA_NONE, MEDIA_OK, MEDIA_REFUSED };

/* The answer in response m from leg l (a B leg, or the leg a re-offer
 * went to) to the pending offer of leg off: anchored, written into the
 * worker's sdp buffer as *bd. MEDIA_NONE: no SDP to relay (none came and
 * none is cached); MEDIA_REFUSED: c->warn says why. */
static enum media_res
media_answer(struct call *c, struct tp_worker *w, struct leg *l,
    struct leg *off, const struct sip_msg *m, struct body *bd)
{
	struct bworker *bw = bw_of(c->b, w);
	struct anchor_leg al, ol;
	struct body in;
	size_t n;

	if (body_of(m, &in) == NULL || !sv_is_sdp(in.type)) {
		/* A 2xx after an SDP in a 183 repeats that answer. */
		if (off->idx == 0 && m->status >= 200 && c->a_sdp != NULL &&
		    !anchor_pending(c->an, NULL)) {
			*bd = (struct body){
			    {"application/sdp", 15}, c->a_sdp, c->a_sdplen};
			return MEDIA_OK;
		}
		return MEDIA_NONE;
	}
	if (!anchor_pending(c->an, NULL)) {
		/* An answer again (a 200 after its 183): the one we sent. */
		if (off->idx == 0 && c->a_sdp != NULL) {
			*bd = (struct body){
			    {"application/sdp", 15}, c->a_sdp, c->a_sdplen};
			return MEDIA_OK;
		}
		return MEDIA_NONE;
	}
	leg_anchor(c, l, &al);
	leg_anchor(c, off, &ol);
	if (anchor_answer(c->an, &al, &ol, in.p, in.len, bw->sdp,
	        sizeof(bw->sdp), &n, c->warn, sizeof(c->warn)) != 0) {
		log_info("call %s: media answer from leg %d refused: %s",
		    c->uuid, l->idx, c->warn);
		return MEDIA_REFUSED;
	}
	if (off->idx == 0) {
		char *p = malloc(n);

		if (p != NULL) {
			memcpy(p, bw->sdp, n);
			free(c->a_sdp);
			c->a_sdp = p;
			c->a_sdplen = n;
		}
	}
	*bd = (struct body){{"application/sdp", 15}, bw->sdp, n};
	return MEDIA_OK;
}

/* The offer in *in from leg `from` (a re-offer, or the offer of a 2xx
 * after an INVITE without SDP), anchored, as leg `to` gets it: *out, in
 * the worker's sdp buffer. Returns 0, or nonzero with c->warn saying why
 * (the offer is abandoned; the media stays as it was). */
static int
media_reoffer(struct call *c, struct tp_worker *w, struct leg *from,
    struct leg *to, const struct body *in, struct body *out)
{
	struct bworker *bw = bw_of(c->b, w);
	struct anchor_leg fl, tl;
	size_t n;

	leg_anchor(c, from, &fl);
	leg_anchor(c, to, &tl);
	if (anchor_offer(c->an, from->idx == 0 ? 0 : 1, &fl, in->p, in->len,
	        c->warn, sizeof(c->warn)) != 0 ||
	    anchor_offer_out(c->an, &tl, bw->sdp, sizeof(bw->sdp), &n, c->warn,
	        sizeof(c->warn)) != 0) {
		anchor_offer_done(c->an);
		return EPROTO;
	}
	*out = (struct body){{"application/sdp", 15}, bw->sdp, n};
	return 0;
}

/* ---- B legs: INVITE client transactions ---- */

static void
leg_cancel(struct tp_worker *w, struct leg *l)
{
	struct bworker *bw = bw_of(l->call->b, w);
	char cancel[2048];
	size_t n;

	if (l->st != L_CALLING && l->st != L_PROCEEDING)
		return;
	n = leg_request(l, "CANCEL", l->inv_ruri, l->lcseq, l->branch, false,
	    false, NULL, NULL, cancel, sizeof(cancel));
	(void)bw;
	if (n > 0)
		tp_send(w, &l->flow, cancel, n);
}

/* The best final answer for the caller when every fork failed. */
static unsigned
best_failure(const struct call *c)
{
	unsigned best = 0;
	int i, rank = -1;

	for (i = 0; i < c->nb; i++) {
		unsigned s = c->bl[i]->final;
		int r = s == 486 || s == 600 || s == 603   ? 5
		        : s == 487                         ? 0
		        : s >= 400 && s != 408 && s != 480 ? 4
		        : s == 480                         ? 3
		        : s == 408                         ? 2
		                                           : 1;

		if (r > rank) {
			rank = r;
			best = s;
		}
	}
	return best ? best : 480;
}

static void
forks_check_done(struct call *c, struct tp_worker *w)
{
	int i;

	if (c->winner > 0 || c->afinal >= 200)
		return;
	for (i = 0; i < c->nb; i++)
		if (c->bl[i]->st == L_CALLING || c->bl[i]->st == L_PROCEEDING)
			return;
	if (c->cancelled) {
		a_respond(c, w, 487, NULL, NULL, NULL);
		atomic_fetch_add(&c->b->stats.cancelled, 1);
		call_end(c, w, "cancelled");
	} else {
		unsigned s = best_failure(c);
		char disp[16];

		a_respond(c, w, s, NULL, NULL, NULL);
		atomic_fetch_add(&c->b->stats.failed, 1);
		snprintf(disp, sizeof(disp), "%u", s);
		call_end(c, w,
		    s == 486 || s == 600   ? "busy"
		    : s == 408 || s == 480 ? "no-answer"
		                           : disp);
	}
}

static void
leg_timeout_cb(struct tp_worker *w, struct tp_timer *tm)
{
	struct leg *l = container_of(tm, struct leg, tto);
	struct call *c = l->call;

	tp_timer_cancel(w, &l->tretx);
	free(l->req);
	l->req = NULL;
	if (l->req_method == SIP_METHOD_BYE) {
		c->byes--;
		call_maybe_free(c, w);
		return;
	}
	if (l->relay) {
		l->relay = false;
		relay_answer(c, w, 408, NULL);
		return;
	}
	/* INVITE: Timer B, or the connection is gone. */
	if (l->st == L_CALLING || l->st == L_PROCEEDING) {
		l->st = L_FAILED;
		l->final = l->flow.proto == TP_UDP ? 408 : 480;
	}
	forks_check_done(c, w);
	call_maybe_free(c, w);
}

static void
ring_timeout_cb(struct tp_worker *w, struct tp_timer *tm)
{
	struct call *c = container_of(tm, struct call, ring);
	int i;

	if (c->winner > 0 || c->afinal >= 200)
		return;
	for (i = 0; i < c->nb; i++) {
		leg_cancel(w, c->bl[i]);
		if (c->bl[i]->st == L_CALLING || c->bl[i]->st == L_PROCEEDING) {
			c->bl[i]->st = L_FAILED;
			c->bl[i]->final = 408;
		}
	}
	forks_check_done(c, w);
	call_maybe_free(c, w);
}

/* ACK for a final non-2xx: same branch and Request-URI as the INVITE. */
static void
leg_ack_failure(struct tp_worker *w, struct leg *l)
{
	char ack[2048];
	size_t n = leg_request(l, "ACK", l->inv_ruri, l->lcseq, l->branch, true,
	    false, NULL, NULL, ack, sizeof(ack));

	if (n > 0)
		tp_send(w, &l->flow, ack, n);
}

/* Sends the ACK of leg l's 2xx: a new branch, to the remote target,
 * with body bd (an answer: kept, for the 2xx's retransmissions). */
static void
leg_ack_send(struct tp_worker *w, struct leg *l, const struct body *bd)
{
	struct bworker *bw = bw_of(l->call->b, w);
	char br[17];
	size_t n;

	rand_hex(br, 8);
	n = leg_request(l, "ACK", l->target, l->lcseq, br, true, false, NULL,
	    bd, bw->out, sizeof(bw->out));
	if (n == 0)
		return;
	tp_send(w, &l->flow, bw->out, n);
	if (bd != NULL && (l->ack = malloc(n)) != NULL) {
		memcpy(l->ack, bw->out, n);
		l->acklen = n;
	}
}

/* ACK for a 2xx (or its retransmission). Held back while the answer it
 * must carry is awaited (late offer); the ACK that carried an answer is
 * sent again as it was. */
static void
leg_ack_2xx(struct tp_worker *w, struct leg *l)
{
	struct call *c = l->call;

	if (c->lo.on && c->lo.leg == l->idx)
		return;
	if (l->ack != NULL) {
		tp_send(w, &l->flow, l->ack, l->acklen);
		return;
	}
	leg_ack_send(w, l, NULL);
}

/* ---- late offer: the offer in a 2xx, the answer in the ACK ---- */

static void
lo_timeout_cb(struct tp_worker *w, struct tp_timer *tm)
{
	struct call *c = container_of(tm, struct call, lot);
	struct leg *o = leg_by_idx(c, c->lo.leg);
	struct leg *from = leg_by_idx(c, c->lo.from);

	if (!c->lo.on)
		return;
	log_info("call %s: no ACK with the answer from leg %d; ending it",
	    c->uuid, c->lo.from);
	if (o != NULL)
		leg_bye(w, o); /* acknowledges its 2xx first */
	if (from != NULL)
		leg_bye(w, from);
	tp_timer_cancel(w, &c->ag);
	tp_timer_cancel(w, &c->ah);
	call_end(c, w, "no-ack");
	call_maybe_free(c, w);
}

/* Leg `leg` answered 2xx with an offer that went on to leg `from`: its
 * ACK waits for from's ACK (CSeq cseq), which carries the answer. */
static void
lo_hold(struct call *c, struct tp_worker *w, int leg, int from, uint32_t cseq)
{
	c->lo.on = true;
	c->lo.leg = leg;
	c->lo.from = from;
	c->lo.cseq = cseq;
	tp_timer_set(w, &c->lot, TIMER_64T1, lo_timeout_cb);
}

/* No answer will come (the call ends): the held 2xx gets its ACK, with
 * no answer. */
static void
lo_release(struct tp_worker *w, struct call *c)
{
	struct leg *o = leg_by_idx(c, c->lo.leg);

	c->lo.on = false;
	tp_timer_cancel(w, &c->lot);
	if (o != NULL && o->st == L_CONFIRMED)
		leg_ack_2xx(w, o);
}

/* The ACK m from leg l that carries the answer to the offer of the held
 * 2xx: anchored and sent on in that 2xx's ACK. No answer, or one the
 * policy refuses: the call ends (RFC 3261 13.2.2.4: a UAC that cannot
 * answer acknowledges and sends BYE). */
static void
lo_ack(
    struct call *c, struct tp_worker *w, struct leg *l, const struct sip_msg *m)
{
	struct leg *o = leg_by_idx(c, c->lo.leg);
	struct body bd0;
	const struct body *bd = body_of(m, &bd0);
	const char *why = NULL;

	c->lo.on = false;
	tp_timer_cancel(w, &c->lot);
	if (o == NULL || o->st != L_CONFIRMED)
		return;
	if (bd == NULL || !sv_is_sdp(bd->type)) {
		why = "the ACK carried no SDP answer";
	} else if (c->anchored) {
		if (c->an == NULL) {
			leg_ack_send(w, o, NULL); /* media gone: ending */
			return;
		}
		if (media_answer(c, w, l, o, m, &bd0) == MEDIA_OK)
			bd = &bd0;
		else
			why = c->warn;
		anchor_offer_done(c->an);
	}
	if (why == NULL) {
		leg_ack_send(w, o, bd);
		return;
	}
	log_info("call %s: answer in the ACK from leg %d refused: %s; ending "
	         "the call",
	    c->uuid, l->idx, why);
	leg_ack_send(w, o, NULL);
	leg_bye(w, o);
	leg_bye(w, l);
	tp_timer_cancel(w, &c->ag);
	tp_timer_cancel(w, &c->ah);
	call_end(c, w, "488");
}

/* Records the peer's tag and Contact of a response that makes a dialog. */
static void
leg_dialog_from(struct leg *l, const struct sip_msg *m)
{
	if (m->to.has_tag)
		sv_copy(m->to.tag, l->rtag, sizeof(l->rtag));
	if (m->ncontact > 0)
		sv_copy(
		    m->contact[0].na.uri.text, l->target, sizeof(l->target));
}

static void b_answered(struct call *c, struct tp_worker *w, struct leg *l,
    unsigned status, const struct body *bd);

/* Fork l answered 2xx a late offer: its SDP is the offer, anchored and
 * sent to the caller in our 2xx; l's ACK waits for the caller's, which
 * brings the answer. No SDP, or an offer the policy refuses: the fork
 * is acknowledged and hung up, and fails with 488. */
static void
b_late_answered(
    struct call *c, struct tp_worker *w, struct leg *l, const struct sip_msg *m)
{
	struct body bd0;
	const struct body *bd = body_of(m, &bd0);

	if (bd == NULL || !sv_is_sdp(bd->type)) {
		snprintf(c->warn, sizeof(c->warn),
		    "the callee answered an INVITE without SDP without an "
		    "offer");
		goto refuse;
	}
	if (c->an != NULL) {
		if (media_reoffer(c, w, l, &c->a, bd, &bd0) != 0)
			goto refuse;
		bd = &bd0;
	}
	lo_hold(c, w, l->idx, 0, c->a_cseq);
	b_answered(c, w, l, m->status, bd);
	return;
refuse:
	log_info("call %s: offer in the answer of fork %d refused: %s", c->uuid,
	    l->idx, c->warn);
	leg_ack_2xx(w, l);
	leg_bye(w, l);
	l->final = 488;
	forks_check_done(c, w);
}

static void
b_invite_response(struct tp_worker *w, struct leg *l, const struct sip_msg *m)
{
	struct call *c = l->call;

	if (m->status < 200) {
		if (l->st == L_CALLING)
			l->st = L_PROCEEDING;
		tp_timer_cancel(w, &l->tretx);
		if (m->status == 100)
			return;
		leg_dialog_from(l, m);
		if (c->winner == 0 && c->afinal == 0 && !c->cancelled) {
			struct body bd0;
			const struct body *bd = body_of(m, &bd0);

			if (c->anchored)
				bd = media_answer(c, w, l, &c->a, m, &bd0) ==
				             MEDIA_OK
				         ? &bd0
				         : NULL;
			a_respond(c, w, m->status, NULL, NULL, bd);
		}
		if (c->cancelled)
			leg_cancel(w, l);
		return;
	}
	if (m->status >= 300) {
		/* Absorb retransmissions: ACK again. */
		if (l->st == L_FAILED) {
			leg_ack_failure(w, l);
			return;
		}
		if (l->st != L_CALLING && l->st != L_PROCEEDING)
			return;
		if (m->to.has_tag)
			sv_copy(m->to.tag, l->rtag, sizeof(l->rtag));
		leg_ack_failure(w, l);
		leg_txn_done(w, l);
		l->st = L_FAILED;
		l->final = m->status;
		forks_check_done(c, w);
		return;
	}
	/* 2xx */
	if (l->st == L_CONFIRMED || l->st == L_ENDED) {
		leg_ack_2xx(w, l); /* a retransmission: our ACK was lost */
		return;
	}
	leg_dialog_from(l, m);
	leg_txn_done(w, l);
	l->st = L_CONFIRMED;
	l->final = m->status;
	if (c->winner != 0 || c->cancelled || c->afinal >= 300) {
		leg_ack_2xx(w, l);
		leg_bye(w, l); /* a second answer, or too late */
		return;
	}
	if (c->late) {
		b_late_answered(c, w, l, m);
		return;
	}
	leg_ack_2xx(w, l);
	{
		struct body bd0;
		const struct body *bd = body_of(m, &bd0);

		if (c->anchored) {
			enum media_res mr =
			    media_answer(c, w, l, &c->a, m, &bd0);

			if (mr != MEDIA_OK) {
				/* An answer we cannot anchor: this fork
				 * fails (and the caller gets 488 when it
				 * was the last). */
				if (mr == MEDIA_NONE)
					snprintf(c->warn, sizeof(c->warn),
					    "the callee answered without SDP");
				leg_bye(w, l);
				l->final = 488;
				forks_check_done(c, w);
				return;
			}
			anchor_offer_done(c->an);
			bd = &bd0;
		}
		b_answered(c, w, l, m->status, bd);
	}
}

/* Fork l answered: it is the call's other side now. */
static void
b_answered(struct call *c, struct tp_worker *w, struct leg *l, unsigned status,
    const struct body *bd)
{
	int i;

	c->winner = l->idx;
	c->a.st = L_CONFIRMED; /* the caller's dialog, once we answer */
	c->answer_us = util_now_us();
	atomic_fetch_add(&c->b->stats.answered, 1);
	for (i = 0; i < c->nb; i++)
		if (c->bl[i] != l)
			leg_cancel(w, c->bl[i]);
	a_respond(c, w, status, NULL, NULL, bd);
}

/* ---- new calls ---- */

static struct leg *
leg_new_b(struct call *c, struct bworker *bw, const struct reg_contact *rc,
    const struct sip_msg *m, const char *domain)
{
	struct leg *l = calloc(1, sizeof(*l));
	char id[B_ID_MAX];
	unsigned tries;

	if (l == NULL)
		return NULL;
	l->call = c;
	/* A Call-ID that the same worker owns. */
	for (tries = 0; tries < 1000; tries++) {
		rand_hex(id, 12);
		if (util_fnv1a(id, strlen(id)) % c->b->nw == (unsigned)c->owner)
			break;
	}
	snprintf(l->call_id, sizeof(l->call_id), "%s", id);
	rand_hex(l->ltag, 8);
	snprintf(l->luri, sizeof(l->luri), "sip:%s@%s", c->caller, domain);
	snprintf(l->ruri, sizeof(l->ruri), "sip:%s@%s", c->callee, domain);
	{
		struct sv u = {rc->uri, strnlen(rc->uri, sizeof(rc->uri))};

		sv_copy(u, l->target, sizeof(l->target));
	}
	if (m->from.display.len > 0 && m->from.display_quoted)
		display_copy(m->from.display, l->display, sizeof(l->display));
	l->flow = rc->flow;
	l->lcseq = 1;
	l->max_fwd = 70;
	leg_hash_add(bw, l);
	return l;
}

/* The caller's offer, anchored: refused (488 with the reason in a
 * Warning) unless it meets the caller's SRTP policy. Returns 0 when the
 * call goes on; else the call has ended. */
static int
call_media_offer(struct call *c, struct tp_worker *w, const struct sip_msg *m,
    const struct reg_contact *rcs, size_t n)
{
	struct body bd0;
	const struct body *bd = body_of(m, &bd0);
	struct anchor_leg al;
	int fam_b = AF_INET, rc;
	size_t i;

	for (i = 0; i < n; i++)
		if (rcs[i].has_flow) {
			fam_b = rcs[i].flow.peer.ss_family;
			break;
		}
	if (bd != NULL && !sv_is_sdp(bd->type)) {
		snprintf(c->warn, sizeof(c->warn),
		    "an INVITE's body must be SDP (application/sdp)");
		rc = EPROTO;
		goto refuse;
	}
	c->cookie = ((uint64_t)c->owner << 56) |
	            (atomic_fetch_add(&c->b->serial, 1) & ((1ull << 56) - 1));
	rc = anchor_new(
	    c->b->relay, c->cookie, c->a.flow.peer.ss_family, fam_b, &c->an);
	c->anchored = rc == 0;
	if (rc != 0) {
		log_warn("call %s: no media ports: %s", c->uuid, strerror(rc));
		a_respond(c, w, 503, NULL, NULL, NULL);
		atomic_fetch_add(&c->b->stats.failed, 1);
		call_end(c, w, "no-media-ports");
		return rc;
	}
	if (c->late)
		return 0; /* the offer comes in the callee's 2xx */
	leg_anchor(c, &c->a, &al);
	rc = anchor_offer(
	    c->an, 0, &al, bd->p, bd->len, c->warn, sizeof(c->warn));
	if (rc == 0)
		return 0;
refuse:
	log_info("call %s: offer from %s refused: %s", c->uuid, c->a_source,
	    c->warn);
	a_respond(c, w, rc == ENOMEM ? 500 : 488, NULL, NULL, NULL);
	atomic_fetch_add(&c->b->stats.failed, 1);
	call_end(c, w, rc == ENOMEM ? "500" : "488");
	return rc;
}

/* The caller's extension and tenant may have only so many calls up at
 * once ([guard] calls_per_extension, calls_per_tenant): past that, 486
 * with a Warning, and a security event (a stolen password is used for
 * many calls at once; a tenant's share of the node is bounded). */
static int
call_limits(struct call *c, struct tp_worker *w, const struct b2bua_caller *cr)
{
	const char *scope = NULL;
	char ip[INET6_ADDRSTRLEN], wh[ANCHOR_WHY_MAX + 100];
	unsigned max = 0;

	if (cr->ext_id != 0 && !climit_take(&c->b->cl_ext, cr->ext_id,
	                           atomic_load(&c->b->max_ext))) {
		scope = "extension";
		max = atomic_load(&c->b->max_ext);
	} else {
		c->caller_ext = cr->ext_id; /* 0 (a carrier): not counted */
		if (!climit_take(&c->b->cl_tenant, c->tenant_id,
		        atomic_load(&c->b->max_tenant))) {
			scope = "tenant";
			max = atomic_load(&c->b->max_tenant);
		} else {
			c->tenant_counted = true;
		}
	}
	if (scope == NULL)
		return 0;
	tp_peer_ip(&c->a.flow, ip, sizeof(ip));
	log_warn("security: call-limit src=%s user=%s@%s scope=%s limit=%u", ip,
	    cr->number, cr->domain, scope, max);
	warn_hdr(&c->a.flow,
	    strcmp(scope, "extension") == 0
	        ? "too many calls at once for this extension"
	        : "too many calls at once for this tenant",
	    wh, sizeof(wh));
	a_respond(c, w, 486, NULL, wh, NULL);
	atomic_fetch_add(&c->b->stats.failed, 1);
	call_end(c, w, "call-limit");
	return EBUSY;
}

bool
b2bua_looped(const struct tp_flow *f, const struct sip_msg *m)
{
	char hp[80];
	size_t i, plen = strlen(B2BUA_BRANCH);

	local_hostport(f, hp, sizeof(hp));
	for (i = 0; i < m->nvia; i++) {
		const struct sip_via *v = &m->via[i];
		char vhp[80];

		if (v->branch.len <= plen ||
		    memcmp(v->branch.p, B2BUA_BRANCH, plen) != 0)
			continue;
		snprintf(vhp, sizeof(vhp), "%.*s:%u", (int)v->host.len,
		    v->host.p, v->has_port ? v->port : 5060);
		if (strcmp(vhp, hp) == 0)
			return true;
	}
	return false;
}

bool
b2bua_retransmission(
    struct b2bua *b, struct tp_worker *w, const struct sip_msg *m)
{
	struct leg *l = leg_find(bw_of(b, w), m->call_id);

	if (l == NULL)
		return false;
	if (l->idx == 0 && l->call->aresp != NULL)
		tp_send(w, &l->call->a.flow, l->call->aresp, l->call->aresplen);
	return true;
}

void
b2bua_invite(struct b2bua *b, struct tp_worker *w, const struct tp_flow *f,
    const struct sip_msg *m, const char *buf, size_t len,
    const struct b2bua_caller *caller, int64_t callee_ext,
    const char *callee_number, bool callee_srtp_optional)
{
	struct bworker *bw = bw_of(b, w);
	struct reg_contact rcs[REG_CONTACTS_MAX];
	struct call *c;
	const struct sip_hdr *h;
	unsigned char u[16];
	size_t n = 0, i;
	char ua[STORE_TEXT_MAX] = "";

	/* A retransmitted INVITE (the call exists): the last response. */
	{
		struct leg *l = leg_find(bw, m->call_id);

		if (l != NULL) {
			struct call *oc = l->call;

			if (oc->aresp != NULL)
				tp_send(
				    w, &oc->a.flow, oc->aresp, oc->aresplen);
			return;
		}
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->b = b;
	c->owner = tp_worker_index(w);
	c->tenant_id = caller->tenant_id;
	c->trunk_id = caller->trunk_id;
	snprintf(c->caller, sizeof(c->caller), "%s", caller->number);
	snprintf(c->callee, sizeof(c->callee), "%s", callee_number);
	randombytes_buf(u, sizeof(u));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(c->uuid, sizeof(c->uuid),
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
	    "%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
	    u[11], u[12], u[13], u[14], u[15]);
	c->start_us = util_now_us();
	tp_addr_fmt(&f->peer, c->a_source, sizeof(c->a_source));
	snprintf(c->a_transport, sizeof(c->a_transport), "%s",
	    tp_proto_name(f->proto));
	if ((h = sip_msg_hdr(m, SIP_HDR_USER_AGENT)) != NULL) {
		sv_copy(h->value, ua, sizeof(ua));
		util_utf8_sanitize(ua);
	}
	memcpy(c->a_ua, ua, sizeof(c->a_ua));
	if ((c->ainv = malloc(len)) == NULL) {
		free(c);
		return;
	}
	memcpy(c->ainv, buf, len);
	c->ainvlen = len;
	/* Leg A: we are the UAS; our URI is the To of the INVITE. */
	c->a.call = c;
	c->a.idx = 0;
	sv_copy(m->call_id, c->a.call_id, sizeof(c->a.call_id));
	rand_hex(c->a.ltag, 8);
	sv_copy(m->to.uri.text, c->a.luri, sizeof(c->a.luri));
	sv_copy(m->from.uri.text, c->a.ruri, sizeof(c->a.ruri));
	sv_copy(m->from.tag, c->a.rtag, sizeof(c->a.rtag));
	if (m->ncontact > 0)
		sv_copy(m->contact[0].na.uri.text, c->a.target,
		    sizeof(c->a.target));
	c->a.flow = *f;
	c->a.lcseq = 0;
	c->a.max_fwd = 70;
	c->a.st = L_PROCEEDING;
	leg_hash_add(bw, &c->a);
	atomic_fetch_add(&b->stats.calls, 1);
	atomic_fetch_add(&b->stats.active, 1);
	a_respond(c, w, 100, NULL, NULL, NULL);
	if (m->max_forwards == 0) {
		a_respond(c, w, 483, NULL, NULL, NULL);
		call_end(c, w, "483");
		call_maybe_free(c, w);
		return;
	}
	if (call_limits(c, w, caller) != 0) {
		call_maybe_free(c, w);
		return;
	}
	if (callee_ext == 0) {
		a_respond(c, w, 404, NULL, NULL, NULL);
		atomic_fetch_add(&b->stats.failed, 1);
		call_end(c, w, "404");
		call_maybe_free(c, w);
		return;
	}
	n = regtab_get(
	    b->reg, callee_ext, util_now_us(), rcs, REG_CONTACTS_MAX);
	c->a_srtp_opt = caller->srtp_optional;
	c->b_srtp_opt = callee_srtp_optional;
	c->late = m->body.len == 0;
	c->a_cseq = m->cseq;
	if (b->relay != NULL && call_media_offer(c, w, m, rcs, n) != 0) {
		call_maybe_free(c, w);
		return;
	}
	for (i = 0; i < n; i++) {
		struct leg *l;
		struct body bd0;
		const struct body *bd = body_of(m, &bd0);
		size_t k;

		/* A TCP/TLS binding without its connection cannot be
		 * reached (phones accept no connections): skip it. */
		if (!rcs[i].has_flow)
			continue;
		if ((l = leg_new_b(c, bw, &rcs[i], m, caller->domain)) == NULL)
			continue;
		l->idx = c->nb + 1;
		c->bl[c->nb++] = l;
		rand_hex(l->branch, 8);
		l->max_fwd = m->max_forwards > 0 ? m->max_forwards - 1 : 69;
		memcpy(l->inv_ruri, l->target, sizeof(l->inv_ruri));
		if (c->an != NULL && !c->late) {
			struct anchor_leg al;
			size_t sl;

			leg_anchor(c, l, &al);
			if (anchor_offer_out(c->an, &al, bw->sdp,
			        sizeof(bw->sdp), &sl, c->warn,
			        sizeof(c->warn)) != 0) {
				log_info("call %s: fork %d refused: %s",
				    c->uuid, l->idx, c->warn);
				l->st = L_FAILED;
				l->final = 488;
				continue;
			}
			bd0 =
			    (struct body){{"application/sdp", 15}, bw->sdp, sl};
			bd = &bd0;
		}
		k = leg_request(l, "INVITE", l->target, l->lcseq, l->branch,
		    false, true, NULL, bd, bw->out, sizeof(bw->out));
		if (k == 0) {
			l->st = L_FAILED;
			l->final = 500;
			continue;
		}
		l->st = L_CALLING;
		leg_send_txn(w, l, SIP_METHOD_INVITE, bw->out, k);
	}
	if (c->nb == 0) {
		a_respond(c, w, 480, NULL, NULL, NULL);
		atomic_fetch_add(&b->stats.failed, 1);
		call_end(c, w, "not-registered");
		call_maybe_free(c, w);
		return;
	}
	tp_timer_set(w, &c->ring, RING_MS, ring_timeout_cb);
	forks_check_done(c, w); /* every fork may have failed at once */
	call_maybe_free(c, w);
}

/* ---- messages of existing calls ---- */

/* Answers the relayed request with code (and body bd when not NULL),
 * then forgets it; keeps the answer for retransmissions. */
static void
relay_answer(
    struct call *c, struct tp_worker *w, unsigned code, const struct body *bd)
{
	struct bworker *bw = bw_of(c->b, w);
	struct sip_msg *rq = &bw->m2;
	struct leg *x = leg_by_idx(c, c->rel.from);
	char ip[INET6_ADDRSTRLEN], hdrs[512] = "", hp[80];
	struct wr hw = {hdrs, 0, sizeof(hdrs), false};
	size_t outlen;
	unsigned rport = 0;

	if (!c->rel.on || x == NULL ||
	    sip_msg_parse(c->rel.req, c->rel.reqlen, rq) != 0)
		goto out;
	tp_peer_ip(&c->rel.flow, ip, sizeof(ip));
	if (rq->nvia > 0 && rq->via[0].rport)
		rport = tp_peer_port(&c->rel.flow);
	if (code >= 200 && code < 300 &&
	    (rq->method == SIP_METHOD_INVITE ||
	        rq->method == SIP_METHOD_UPDATE)) {
		local_hostport(&c->rel.flow, hp, sizeof(hp));
		wr_fmt(&hw, "Contact: <sip:%s;transport=%s>\r\n", hp,
		    tp_proto_name(c->rel.flow.proto));
	}
	if (code == 488 && c->warn[0] != '\0') {
		char wh[ANCHOR_WHY_MAX + 100];

		warn_hdr(&c->rel.flow, c->warn, wh, sizeof(wh));
		wr_fmt(&hw, "%s", wh);
	}
	wr_body_hdrs(&hw, bd);
	if (sip_build_response(bw->out, sizeof(bw->out), rq, code, NULL,
	        x->ltag, ip, rport, hdrs[0] ? hdrs : NULL, bd ? bd->p : NULL,
	        bd ? bd->len : 0, &outlen) != 0)
		goto out;
	tp_send(w, &c->rel.flow, bw->out, outlen);
	free(c->rel.resp);
	if ((c->rel.resp = malloc(outlen)) != NULL) {
		memcpy(c->rel.resp, bw->out, outlen);
		c->rel.resplen = outlen;
	}
out:
	c->rel.on = false;
	free(c->rel.req);
	c->rel.req = NULL;
}

/* The SDP of a request relayed from leg l to leg o (a re-INVITE or
 * UPDATE: hold, resume, new keys), anchored; *bd becomes the SDP o gets.
 * Returns 0, or nonzero when the request was answered here (488: the
 * offer is refused, or a re-INVITE without one). */
static int
relay_media_offer(struct call *c, struct tp_worker *w, struct leg *l,
    struct leg *o, const struct sip_msg *m, struct body *bd0,
    const struct body **bd)
{
	bool media =
	    m->method == SIP_METHOD_INVITE || m->method == SIP_METHOD_UPDATE;

	anchor_offer_done(c->an); /* an offer left over is abandoned */
	if (*bd == NULL)
		return 0; /* UPDATE: a refresh; re-INVITE: the 2xx offers */
	if (!sv_is_sdp((*bd)->type)) {
		if (!media)
			return 0; /* INFO and the like: not media */
		snprintf(c->warn, sizeof(c->warn),
		    "an INVITE's or UPDATE's body must be SDP "
		    "(application/sdp)");
		relay_answer(c, w, 488, NULL);
		return EPROTO;
	}
	if (!media) {
		snprintf(c->warn, sizeof(c->warn),
		    "SDP is only accepted in INVITE and UPDATE");
		relay_answer(c, w, 488, NULL);
		return EPROTO;
	}
	if (media_reoffer(c, w, l, o, *bd, bd0) != 0) {
		log_info("call %s: re-offer from leg %d refused: %s", c->uuid,
		    l->idx, c->warn);
		relay_answer(c, w, 488, NULL);
		return EPROTO;
	}
	*bd = bd0;
	return 0;
}

/* A request inside the call's dialog from leg l: sent on as a request
 * of the other leg's dialog, its final answer sent back. */
static void
relay_request(struct b2bua *b, struct tp_worker *w, const struct tp_flow *f,
    struct leg *l, const struct sip_msg *m, const char *buf, size_t len)
{
	struct call *c = l->call;
	struct bworker *bw = bw_of(b, w);
	struct leg *o = other_leg(l);
	char method[32];
	struct body bd0;
	const struct body *bd;
	size_t n;

	/* A retransmission of the request we answered: answer again. */
	if (!c->rel.on && c->rel.resp != NULL && c->rel.from == l->idx &&
	    c->rel.cseq == m->cseq) {
		tp_send(w, f, c->rel.resp, c->rel.resplen);
		return;
	}
	if (c->rel.on && c->rel.from == l->idx && c->rel.cseq == m->cseq)
		return; /* still waiting for the other side */
	if (o == NULL || o->st != L_CONFIRMED || l->st != L_CONFIRMED) {
		respond_to(b, w, f, m, l->st == L_ENDED ? 481 : 491, NULL);
		return;
	}
	if (c->rel.on || o->req != NULL || c->lo.on) {
		respond_to(b, w, f, m, 491, NULL); /* Request Pending */
		return;
	}
	if ((c->rel.req = malloc(len)) == NULL) {
		respond_to(b, w, f, m, 500, NULL);
		return;
	}
	memcpy(c->rel.req, buf, len);
	c->rel.reqlen = len;
	c->rel.on = true;
	c->rel.from = l->idx;
	c->rel.flow = *f;
	c->rel.cseq = m->cseq;
	free(c->rel.resp);
	c->rel.resp = NULL;
	bd = body_of(m, &bd0);
	c->rel.late = m->method == SIP_METHOD_INVITE && bd == NULL;
	if (c->anchored && relay_media_offer(c, w, l, o, m, &bd0, &bd) != 0)
		return;
	sv_copy(m->method_name, method, sizeof(method));
	rand_hex(o->branch, 8);
	n = leg_request(o, method, o->target, ++o->lcseq, o->branch, true,
	    m->method == SIP_METHOD_INVITE || m->method == SIP_METHOD_UPDATE,
	    NULL, bd, bw->out, sizeof(bw->out));
	if (n == 0) {
		relay_answer(c, w, 500, NULL);
		return;
	}
	o->relay = true;
	o->txn_cseq = o->lcseq;
	leg_send_txn(w, o, m->method, bw->out, n);
}

/* Leg o answered 2xx a re-INVITE without SDP that leg from sent: the
 * 2xx's offer goes to from in our 2xx, and o's ACK waits for from's ACK
 * with the answer. No offer, or one the policy refuses: o's 2xx is
 * acknowledged, from gets 488, and the call ends (o has a session we
 * cannot answer). */
static void
rel_late_answered(struct call *c, struct tp_worker *w, struct leg *o,
    struct leg *from, const struct sip_msg *m)
{
	struct body bd0;
	const struct body *bd = body_of(m, &bd0);

	if (from == NULL) {
		leg_ack_2xx(w, o);
		return;
	}
	if (bd == NULL || !sv_is_sdp(bd->type)) {
		snprintf(c->warn, sizeof(c->warn),
		    "the answer to a re-INVITE without SDP carried no offer");
		goto refuse;
	}
	if (c->anchored) {
		if (c->an == NULL) {
			snprintf(c->warn, sizeof(c->warn),
			    "the call's media "
			    "is gone");
			goto refuse;
		}
		if (media_reoffer(c, w, o, from, bd, &bd0) != 0)
			goto refuse;
		bd = &bd0;
	}
	lo_hold(c, w, o->idx, from->idx, c->rel.cseq);
	relay_answer(c, w, m->status, bd);
	return;
refuse:
	log_info("call %s: offer in the answer of leg %d to a re-INVITE "
	         "refused: %s; ending the call",
	    c->uuid, o->idx, c->warn);
	leg_ack_2xx(w, o);
	relay_answer(c, w, 488, NULL);
	leg_bye(w, o);
	leg_bye(w, from);
	call_end(c, w, "488");
}

/* A response from leg o to a request we relayed onto it. */
static void
relay_response(struct tp_worker *w, struct leg *o, const struct sip_msg *m)
{
	struct call *c = o->call;

	if (m->status < 200) {
		tp_timer_cancel(w, &o->tretx);
		return;
	}
	if (m->cseq_method == SIP_METHOD_INVITE) {
		if (m->status >= 300)
			leg_ack_failure(w, o);
		else if (!c->rel.late)
			leg_ack_2xx(w, o); /* late: with the answer, later */
		if (m->status < 300 && m->ncontact > 0)
			sv_copy(m->contact[0].na.uri.text, o->target,
			    sizeof(o->target));
	}
	leg_txn_done(w, o);
	o->relay = false;
	{
		struct body bd0;
		const struct body *bd = body_of(m, &bd0);
		struct leg *from = leg_by_idx(c, c->rel.from);
		bool media = m->cseq_method == SIP_METHOD_INVITE ||
		             m->cseq_method == SIP_METHOD_UPDATE;

		if (c->rel.late && m->status < 300) {
			rel_late_answered(c, w, o, from, m);
			return;
		}
		if (c->anchored && bd != NULL &&
		    (media || sv_is_sdp(bd->type))) {
			bd = NULL;
			if (m->status >= 200 && m->status < 300 &&
			    from != NULL && anchor_pending(c->an, NULL)) {
				if (media_answer(c, w, o, from, m, &bd0) !=
				    MEDIA_OK) {
					anchor_offer_done(c->an);
					relay_answer(c, w, 488, NULL);
					return;
				}
				bd = &bd0;
			}
		}
		if (c->anchored)
			anchor_offer_done(c->an);
		relay_answer(c, w, m->status, bd);
	}
}

static int message_handle(struct b2bua *b, struct tp_worker *w,
    const struct tp_flow *f, const struct sip_msg *m, const char *buf,
    size_t len, struct leg *l);

int
b2bua_message(struct b2bua *b, struct tp_worker *w, const struct tp_flow *f,
    const struct sip_msg *m, const char *buf, size_t len)
{
	struct leg *l = leg_find(bw_of(b, w), m->call_id);
	struct call *c;
	int rc;

	if (l == NULL)
		return ENOENT;
	c = l->call;
	rc = message_handle(b, w, f, m, buf, len, l);
	call_maybe_free(c, w);
	return rc;
}

static int
message_handle(struct b2bua *b, struct tp_worker *w, const struct tp_flow *f,
    const struct sip_msg *m, const char *buf, size_t len, struct leg *l)
{
	struct call *c = l->call;
	struct leg *o;
	if (!m->is_request) {
		if (l->relay && l->req != NULL && m->cseq == l->txn_cseq) {
			relay_response(w, l, m);
			return 0;
		}
		if (l->idx == 0 && l->st == L_CONFIRMED &&
		    m->cseq_method == SIP_METHOD_INVITE && m->status >= 200 &&
		    m->status < 300) {
			leg_ack_2xx(w, l); /* a 2xx again: our ACK was lost */
			return 0;
		}
		if (l->idx == 0 || l->req == NULL) {
			/* A response on leg A: to our BYE. Or a late one. */
			if (l->req_method == SIP_METHOD_BYE && l->req != NULL &&
			    m->status >= 200) {
				leg_txn_done(w, l);
				c->byes--;
			} else if (l->idx != 0 &&
			           m->cseq_method == SIP_METHOD_INVITE) {
				b_invite_response(w, l, m);
			}
			return 0;
		}
		if (l->req_method == SIP_METHOD_BYE) {
			if (m->status >= 200) {
				leg_txn_done(w, l);
				c->byes--;
			}
			return 0;
		}
		if (m->cseq_method == SIP_METHOD_INVITE)
			b_invite_response(w, l, m);
		return 0;
	}
	switch (m->method) {
	case SIP_METHOD_ACK:
		if (l->idx == 0 && c->afinal >= 200) {
			c->a_acked = true;
			tp_timer_cancel(w, &c->ag);
			if (c->afinal >= 300) {
				tp_timer_cancel(w, &c->ah);
				c->ended = true;
			} else {
				tp_timer_cancel(w, &c->ah);
			}
		}
		if (c->lo.on && c->lo.from == l->idx && m->cseq == c->lo.cseq)
			lo_ack(c, w, l, m);
		return 0;
	case SIP_METHOD_CANCEL:
		respond_to(b, w, f, m, 200, l->idx == 0 ? c->a.ltag : NULL);
		if (l->idx == 0 && c->afinal < 200 && !c->cancelled) {
			int i;

			c->cancelled = true;
			for (i = 0; i < c->nb; i++)
				leg_cancel(w, c->bl[i]);
			/* The caller hears 487 now (RFC 3261 9.2), not when
			 * the last fork has answered its CANCEL. */
			a_respond(c, w, 487, NULL, NULL, NULL);
			atomic_fetch_add(&c->b->stats.cancelled, 1);
			call_end(c, w, "cancelled");
		}
		return 0;
	case SIP_METHOD_BYE:
		respond_to(b, w, f, m, 200, NULL);
		if (l->st == L_ENDED)
			return 0;
		if (l->idx == 0 && c->afinal == 0) {
			/* BYE before the answer: treat as CANCEL. */
			int i;

			c->cancelled = true;
			for (i = 0; i < c->nb; i++)
				leg_cancel(w, c->bl[i]);
		}
		l->st = L_ENDED;
		if ((o = other_leg(l)) != NULL)
			leg_bye(w, o);
		tp_timer_cancel(w, &c->ag);
		tp_timer_cancel(w, &c->ah);
		call_end(c, w, c->answer_us ? "answered" : "cancelled");
		return 0;
	default:
		/* re-INVITE (hold, resume), UPDATE, INFO...: relayed. */
		relay_request(b, w, f, l, m, buf, len);
		return 0;
	}
}

struct closed_scan {
	int worker;
	uint64_t conn_id;
};

void
b2bua_conn_closed(
    struct b2bua *b, struct tp_worker *w, int worker, uint64_t conn_id)
{
	struct bworker *bw = bw_of(b, w);
	size_t i;

	for (i = 0; i < BW_BUCKETS; i++) {
		struct leg *l = bw->hash[i], *next;

		for (; l != NULL; l = next) {
			struct call *c = l->call;
			struct leg *o;

			next = l->hnext;
			if (l->flow.proto == TP_UDP ||
			    l->flow.worker != worker ||
			    l->flow.conn_id != conn_id || c->ended)
				continue;
			/* Its side is gone: end the other side. */
			log_info("call %s: leg %d's connection closed", c->uuid,
			    l->idx);
			if (l->st == L_CONFIRMED)
				l->st = L_ENDED;
			if (c->afinal < 200 && l->idx == 0) {
				int k;

				c->cancelled = true;
				for (k = 0; k < c->nb; k++)
					leg_cancel(w, c->bl[k]);
			}
			if ((o = other_leg(l)) != NULL)
				leg_bye(w, o);
			/* Restart the hash walk: the call may be freed. */
			next = NULL;
			call_end(c, w, "connection-lost");
			call_maybe_free(c, w);
			i = (size_t)-1; /* the loop's ++ makes it 0 */
			break;
		}
	}
}

void
b2bua_shutdown(struct b2bua *b, struct tp_worker *w)
{
	struct bworker *bw = bw_of(b, w);
	size_t i;

	for (i = 0; i < BW_BUCKETS; i++) {
		struct leg *l = bw->hash[i];
		struct call *c;
		int k;

		if (l == NULL)
			continue;
		c = l->call;
		/* The node stops: hang up answered calls, refuse ringing
		 * ones, and record every call before it goes. */
		if (c->afinal == 0) {
			for (k = 0; k < c->nb; k++)
				leg_cancel(w, c->bl[k]);
			a_respond(c, w, 503, NULL, NULL, NULL);
		} else if (c->winner > 0) {
			leg_bye(w, &c->a);
			leg_bye(w, c->bl[c->winner - 1]);
		}
		call_end(c, w, c->answer_us ? "answered" : "shutdown");
		call_free(c, w);
		i = (size_t)-1; /* the loop's ++ makes it 0: start again */
	}
}

void
b2bua_set_transport(struct b2bua *b, struct transport *tp)
{
	b->tp = tp;
}

struct media_to {
	struct b2bua *b;
	uint64_t cookie;
};

/* In the call's worker: its media stopped; hang up both sides. */
static void
media_timeout_job(struct tp_worker *w, void *arg)
{
	struct media_to *mt = arg;
	struct bworker *bw = bw_of(mt->b, w);
	uint64_t cookie = mt->cookie;
	size_t i;

	free(mt);
	for (i = 0; i < BW_BUCKETS; i++) {
		struct leg *l;

		for (l = bw->hash[i]; l != NULL; l = l->hnext) {
			struct call *c = l->call;

			if (c->cookie != cookie || !c->anchored)
				continue;
			if (!c->ended) {
				log_info("call %s: no media for the timeout; "
				         "ending it",
				    c->uuid);
				leg_bye(w, &c->a);
				if (c->winner > 0)
					leg_bye(w, c->bl[c->winner - 1]);
				call_end(c, w, "media-timeout");
			}
			call_maybe_free(c, w);
			return;
		}
	}
}

void
b2bua_media_timeout(void *arg, uint64_t cookie)
{
	struct b2bua *b = arg;
	struct media_to *mt;

	if (b->tp == NULL || (mt = malloc(sizeof(*mt))) == NULL)
		return;
	mt->b = b;
	mt->cookie = cookie;
	if (tp_post(b->tp, (int)(cookie >> 56), media_timeout_job, mt) != 0)
		free(mt);
}

void
b2bua_free(struct b2bua *b)
{
	if (b == NULL)
		return;
	/* Calls still open at stop are dropped with the process. */
	climit_clear(&b->cl_ext);
	climit_clear(&b->cl_tenant);
	free(b->w);
	free(b);
}
