/* relay.c: the media relay (see relay.h).
 *
 * Threads. Each media thread owns an epoll set, an eventfd (to wake it)
 * and the calls assigned to it (round-robin). A call's four sockets carry
 * a pointer to their struct media_sock inside the call. Only the owning
 * thread ever frees a call, between two epoll batches: media_call_free
 * queues the call on its thread, wakes it and waits on the thread's
 * condition variable until the thread has closed the sockets and freed
 * the call. So an event returned by epoll_wait never points at freed
 * memory (the sockets are removed from the epoll set before the next
 * epoll_wait), and on_timeout, also called by the owning thread between
 * batches, cannot be called once media_call_free has returned.
 *
 * Locks. t->lk (per thread) guards the thread's call list, its free queue
 * and its stop flag. c->mu (per call) guards the two sides' state; the
 * media thread holds it while it reads, checks and sends one batch of one
 * socket, and media_call_set and media_call_stats take it. c->set_mu lets
 * one media_call_set at a time decide what changed and build SRTP contexts
 * without holding c->mu (the media thread never writes a side's
 * parameters or contexts, only its learned addresses and counters). Order:
 * t->lk before c->mu; c->set_mu before c->mu. on_timeout is called with
 * no lock held.
 *
 * Packets. One recvmmsg batch per ready socket and wakeup (level-
 * triggered, so a busy socket cannot starve the others); each packet is
 * checked and transformed in place in the thread's buffers, and the
 * batch leaves through at most two sendmmsg calls (the other side's RTP
 * and RTCP sockets). Nothing is allocated per packet. */
#include "media/relay.h"

#include "lib/log.h"
#include "media/portpool.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S INT64_C(1000000000)

enum {
	MEDIA_EVENTS_MAX = 64,    /* epoll events per wait */
	MEDIA_TICK_MS = 1000,     /* timeout checks, and the longest wait */
	MEDIA_SEQ_MOD = 65536,    /* RFC 3550 A.1 RTP_SEQ_MOD */
	MEDIA_SEQ_DROPOUT = 3000, /* RFC 3550 A.1 MAX_DROPOUT */
	MEDIA_SEQ_MISORDER = 100, /* RFC 3550 A.1 MAX_MISORDER */
	MEDIA_RTP_HDR = 12,       /* fixed RTP header bytes */
	MEDIA_RTCP_HDR = 8,       /* smallest RTCP packet (an empty RR) */
	MEDIA_RTCP_MUX_LO = 192,  /* RFC 5761 4: second byte of RTCP with */
	MEDIA_RTCP_MUX_HI = 223,  /*   rtcp-mux (PT 64-95 with the M bit) */
	MEDIA_CLOCK_DEFAULT = 8000,
	MEDIA_CTRL_MAX = 64, /* control bytes per datagram (a timestamp) */
};

enum { MEDIA_RTP, MEDIA_RTCP }; /* socket index in a side */

struct media_call;

/* One socket of a call; the epoll data of its fd points here. */
struct media_sock {
	struct media_call *call;
	int fd;
	uint8_t side; /* 0 or 1 */
	uint8_t kind; /* MEDIA_RTP or MEDIA_RTCP */
};

/* Reception statistics of one side's RTP (RFC 3550 A.1, A.3, A.8),
 * whatever its SSRC. */
struct media_rtpstat {
	bool init;
	bool transit_ok;
	uint16_t max_seq;
	uint32_t base_seq;
	uint32_t bad_seq;
	uint64_t cycles;
	uint64_t received;
	uint64_t lost_prev; /* lost before the last sequence restart */
	uint32_t transit;   /* of the previous packet, timestamp units */
	uint64_t jitter16;  /* jitter in timestamp units, times 16 */
	int64_t base_ns;    /* arrival time origin */
};

/* One side of a call. */
struct media_leg {
	struct media_side cfg; /* as set; holds keys: wiped on free */
	bool set;
	int family;
	uint16_t port;
	int fds[2]; /* for the port pool */
	struct media_sock sock[2];
	struct srtp_ctx *rx, *tx;
	bool learned[2]; /* RTP, RTCP (RTCP shares RTP's with rtcp-mux) */
	struct sockaddr_storage peer[2];
	struct media_rtpstat rs;
	struct media_stats st; /* counters; jitter, learned, peer unused */
};

struct media_thread;

struct media_call {
	struct media_relay *r;
	struct media_thread *t;
	uint64_t cookie;
	pthread_mutex_t mu;
	pthread_mutex_t set_mu;
	struct media_leg leg[2];
	bool active;          /* both sides set, none on hold */
	int64_t active_since; /* CLOCK_MONOTONIC ns */
	int64_t last_rx;      /* of the last accepted packet; 0: none */
	bool timed_out;       /* on_timeout called (or due) */
	/* Under t->lk: */
	struct media_call *prev, *next; /* the thread's calls */
	struct media_call *free_next;   /* the thread's free queue */
	bool freeing;
	/* The owning thread's only: */
	struct media_call *due; /* on_timeout to call */
};

/* Receive control buffer of one datagram, aligned for cmsghdr. */
struct media_ctrl {
	_Alignas(struct cmsghdr) unsigned char buf[MEDIA_CTRL_MAX];
};

struct media_thread {
	struct media_relay *r;
	pthread_t tid;
	bool started;
	int epfd, evfd;
	pthread_mutex_t lk;
	pthread_cond_t cv;
	struct media_call *calls;     /* under lk */
	struct media_call *free_head; /* under lk */
	uint64_t free_epoch;          /* under lk: free queues emptied */
	bool stop;                    /* under lk */
	int64_t next_tick;
	/* Batch buffers (this thread's only). */
	unsigned char buf[MEDIA_BATCH][MEDIA_PKT_MAX];
	struct sockaddr_storage addr[MEDIA_BATCH]; /* source, then target */
	struct media_ctrl ctrl[MEDIA_BATCH];
	struct iovec iov[MEDIA_BATCH];
	struct mmsghdr in[MEDIA_BATCH];
	struct iovec oiov[2][MEDIA_BATCH];
	struct mmsghdr out[2][MEDIA_BATCH];
};

struct media_relay {
	struct media_relay_config cfg;
	int64_t timeout_ns; /* 0: never */
	struct portpool *pool;
	unsigned nthreads;
	struct media_thread *t[MEDIA_THREADS_MAX];
	atomic_uint next; /* round-robin */
	atomic_uint_fast64_t calls_active, relayed, dropped;
};

/* The media thread running this code, or NULL. */
static _Thread_local struct media_thread *media_self;

static int64_t
media_now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- addresses ---- */

static uint16_t
media_addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

/* True when ss names a place to send to: a family, a port, and a unicast
 * address (never 0.0.0.0 or [::], which Linux delivers to this host, nor
 * a broadcast, multicast or v4-mapped address). */
static bool
media_addr_usable(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		uint32_t a = ntohl(sin->sin_addr.s_addr);

		return sin->sin_port != 0 && a != INADDR_ANY &&
		       a != INADDR_BROADCAST && !IN_MULTICAST(a);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)ss;

		return sin6->sin6_port != 0 &&
		       !IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) &&
		       !IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr) &&
		       !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr);
	}
	return false;
}

static socklen_t
media_addr_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                 : sizeof(struct sockaddr_in);
}

/* True when a and b have the same family and IP address (and IPv6 scope). */
static bool
media_ip_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
		const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

		return memcmp(&x->sin6_addr, &y->sin6_addr,
		           sizeof(x->sin6_addr)) == 0 &&
		       x->sin6_scope_id == y->sin6_scope_id;
	}
	return false;
}

/* True when a and b are the same family, IP address and port. */
static bool
media_addr_eq(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	return media_ip_eq(a, b) && media_addr_port(a) == media_addr_port(b);
}

/* The same place to send to, or both none. */
static bool
media_addr_same(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (!media_addr_usable(a) || !media_addr_usable(b))
		return media_addr_usable(a) == media_addr_usable(b);
	return media_addr_eq(a, b);
}

/* Compares n key bytes in constant time. */
static bool
media_key_eq(const unsigned char *a, const unsigned char *b, size_t n)
{
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

/* ---- RTP statistics ---- */

static uint32_t
media_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
media_rtp_lost_now(const struct media_rtpstat *rs)
{
	uint64_t expected;

	if (!rs->init)
		return 0;
	expected = rs->cycles + rs->max_seq - rs->base_seq + 1;
	return expected > rs->received ? expected - rs->received : 0;
}

static void
media_rtp_restart(struct media_rtpstat *rs, uint16_t seq)
{
	rs->lost_prev += media_rtp_lost_now(rs);
	rs->init = true;
	rs->base_seq = seq;
	rs->max_seq = seq;
	rs->bad_seq = MEDIA_SEQ_MOD + 1; /* matches no sequence number */
	rs->cycles = 0;
	rs->received = 0;
	rs->transit_ok = false;
}

/* ns of elapsed time in units of a rate Hz clock (mod 2^32). */
static uint32_t
media_ts_units(int64_t ns, uint32_t rate)
{
	int64_t s = ns / NS_PER_S, frac = ns % NS_PER_S;

	return (uint32_t)((uint64_t)s * rate +
	                  (uint64_t)(frac * (int64_t)rate / NS_PER_S));
}

/* Updates x's reception statistics with the RTP header at p (at least
 * MEDIA_RTP_HDR bytes) that arrived at arrival (ns, any clock). */
static void
media_rtp_track(struct media_leg *x, const unsigned char *p, int64_t arrival)
{
	struct media_rtpstat *rs = &x->rs;
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]), udelta;
	uint32_t transit, rate = x->cfg.clock_rate;
	int64_t d;

	if (!rs->init) {
		media_rtp_restart(rs, seq);
		rs->base_ns = arrival;
	} else {
		udelta = (uint16_t)(seq - rs->max_seq);
		if (udelta == 0)
			return; /* a duplicate of the last one */
		if (udelta < MEDIA_SEQ_DROPOUT) {
			if (seq < rs->max_seq)
				rs->cycles += MEDIA_SEQ_MOD;
			rs->max_seq = seq;
		} else if (udelta <= MEDIA_SEQ_MOD - MEDIA_SEQ_MISORDER) {
			/* A jump: a new stream if the next one follows. */
			if (seq != rs->bad_seq) {
				rs->bad_seq = (uint32_t)(seq + 1) & 0xffff;
				return;
			}
			media_rtp_restart(rs, seq);
		} /* else a late packet (or an older duplicate) */
	}
	rs->received++;
	transit =
	    media_ts_units(arrival - rs->base_ns, rate) - media_be32(p + 4);
	if (rs->transit_ok) {
		d = (int32_t)(transit - rs->transit);
		if (d < 0)
			d = -d;
		/* J += (|D| - J) / 16, with J kept times 16 (A.8). */
		rs->jitter16 =
		    rs->jitter16 + (uint64_t)d - ((rs->jitter16 + 8) >> 4);
	}
	rs->transit = transit;
	rs->transit_ok = true;
}

/* ---- packets ---- */

/* The kernel's receive time of m (SO_TIMESTAMPNS, CLOCK_REALTIME ns), or
 * fallback. */
static int64_t
media_pkt_arrival(struct msghdr *m, int64_t fallback)
{
	struct cmsghdr *cm;
	struct timespec ts;

	for (cm = CMSG_FIRSTHDR(m); cm != NULL; cm = CMSG_NXTHDR(m, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(ts))) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
		}
	return fallback;
}

/* True when slot (MEDIA_RTP or MEDIA_RTCP) of plain side x may learn src
 * before its address is known: src has the IP signalling announced. */
static bool
media_plain_source_ok(
    const struct media_leg *x, int slot, const struct sockaddr_storage *src)
{
	if (slot == MEDIA_RTCP && media_addr_usable(&x->cfg.rtcp))
		return media_ip_eq(src, &x->cfg.rtcp);
	return media_addr_usable(&x->cfg.rtp) && media_ip_eq(src, &x->cfg.rtp);
}

/* Checks packet i of the batch, which arrived on s, and makes it ready to
 * go: returns the index of the other side's socket to send it from
 * (MEDIA_RTP or MEDIA_RTCP), with *lenp its length and t->addr[i] its
 * target, or -1 to drop it. Called with the call's mu held. */
static int
media_pkt_check(struct media_thread *t, struct media_call *c,
    const struct media_sock *s, unsigned i, int64_t now, int64_t wall,
    size_t *lenp)
{
	struct media_leg *x = &c->leg[s->side], *y = &c->leg[!s->side];
	unsigned char *p = t->buf[i];
	struct sockaddr_storage *src = &t->addr[i];
	const struct sockaddr_storage *dst;
	size_t len = t->in[i].msg_len, plain;
	bool rtcp;
	int slot, k, err;

	if (!x->set || !y->set)
		return -1;
	if (s->kind == MEDIA_RTCP) {
		if (x->cfg.rtcp_mux)
			return -1; /* unused port with rtcp-mux */
		rtcp = true;
	} else {
		rtcp = x->cfg.rtcp_mux && len >= 2 &&
		       p[1] >= MEDIA_RTCP_MUX_LO && p[1] <= MEDIA_RTCP_MUX_HI;
	}
	slot = rtcp && !x->cfg.rtcp_mux ? MEDIA_RTCP : MEDIA_RTP;
	if (x->learned[slot]) {
		if (!media_addr_eq(src, &x->peer[slot])) {
			x->st.spoofed++;
			return -1;
		}
	} else if (!x->cfg.srtp && !media_plain_source_ok(x, slot, src)) {
		x->st.spoofed++;
		return -1;
	}
	if ((t->in[i].msg_hdr.msg_flags & MSG_TRUNC) != 0) {
		x->st.auth_fail++; /* larger than any packet we relay */
		return -1;
	}
	if (x->cfg.srtp) {
		if (x->rx == NULL)
			return -1;
		err = rtcp ? srtp_rtcp_unprotect(x->rx, p, len, &plain)
		           : srtp_rtp_unprotect(x->rx, p, len, &plain);
		if (err == EALREADY) {
			x->st.replayed++;
			return -1;
		}
		if (err != 0) {
			x->st.auth_fail++;
			return -1;
		}
	} else {
		plain = len;
		if (len < (rtcp ? MEDIA_RTCP_HDR : MEDIA_RTP_HDR) ||
		    p[0] >> 6 != 2) {
			x->st.auth_fail++;
			return -1;
		}
	}
	if (!x->learned[slot]) {
		x->peer[slot] = *src;
		x->learned[slot] = true;
	}
	x->st.pkts_in++;
	x->st.bytes_in += len;
	c->last_rx = now;
	if (!rtcp && plain >= MEDIA_RTP_HDR)
		media_rtp_track(
		    x, p, media_pkt_arrival(&t->in[i].msg_hdr, wall));

	if (!y->cfg.send)
		return -1;
	k = rtcp && !y->cfg.rtcp_mux ? MEDIA_RTCP : MEDIA_RTP;
	if (y->learned[k])
		dst = &y->peer[k];
	else
		dst = k == MEDIA_RTCP ? &y->cfg.rtcp : &y->cfg.rtp;
	if (!media_addr_usable(dst) || dst->ss_family != y->family)
		return -1;
	if (y->cfg.srtp) {
		if (y->tx == NULL)
			return -1;
		err = rtcp ? srtp_rtcp_protect(
		                 y->tx, p, plain, MEDIA_PKT_MAX, &plain)
		           : srtp_rtp_protect(
		                 y->tx, p, plain, MEDIA_PKT_MAX, &plain);
		if (err != 0)
			return -1;
	}
	*src = *dst; /* the source is no longer needed */
	*lenp = plain;
	return k;
}

/* Sends the n packets queued in t->out[k] from y's socket k; counts them.
 * Returns the number sent. */
static unsigned
media_batch_send(struct media_thread *t, struct media_leg *y, int k, unsigned n)
{
	unsigned done = 0, sent = 0, j;
	int r;

	while (done < n) {
		r = sendmmsg(
		    y->sock[k].fd, &t->out[k][done], n - done, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == ENOBUFS)
				break; /* full: drop the rest */
			done++;        /* this one cannot go: skip it */
			continue;
		}
		for (j = done; j < done + (unsigned)r; j++) {
			y->st.pkts_out++;
			y->st.bytes_out +=
			    t->out[k][j].msg_hdr.msg_iov->iov_len;
		}
		done += (unsigned)r;
		sent += (unsigned)r;
	}
	return sent;
}

/* Reads one batch from s, checks it and sends what passes to the other
 * side. now is CLOCK_MONOTONIC ns. */
static void
media_sock_read(struct media_thread *t, struct media_sock *s, int64_t now)
{
	struct media_call *c = s->call;
	struct media_leg *y = &c->leg[!s->side];
	unsigned nout[2] = {0, 0}, sent = 0, i, j;
	int64_t wall;
	size_t len;
	int n, k;

	for (i = 0; i < MEDIA_BATCH; i++) {
		struct msghdr *m = &t->in[i].msg_hdr;

		t->iov[i].iov_base = t->buf[i];
		t->iov[i].iov_len = MEDIA_PKT_MAX;
		m->msg_name = &t->addr[i];
		m->msg_namelen = sizeof(t->addr[i]);
		m->msg_iov = &t->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = t->ctrl[i].buf;
		m->msg_controllen = sizeof(t->ctrl[i].buf);
		m->msg_flags = 0;
		t->in[i].msg_len = 0;
	}
	pthread_mutex_lock(&c->mu);
	n = recvmmsg(s->fd, t->in, MEDIA_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		goto out;
	wall = media_now(CLOCK_REALTIME);
	for (i = 0; i < (unsigned)n; i++) {
		if ((k = media_pkt_check(t, c, s, i, now, wall, &len)) < 0)
			continue;
		j = nout[k]++;
		t->oiov[k][j].iov_base = t->buf[i];
		t->oiov[k][j].iov_len = len;
		memset(&t->out[k][j], 0, sizeof(t->out[k][j]));
		t->out[k][j].msg_hdr.msg_name = &t->addr[i];
		t->out[k][j].msg_hdr.msg_namelen = media_addr_len(&t->addr[i]);
		t->out[k][j].msg_hdr.msg_iov = &t->oiov[k][j];
		t->out[k][j].msg_hdr.msg_iovlen = 1;
	}
	for (k = 0; k < 2; k++)
		if (nout[k] > 0)
			sent += media_batch_send(t, y, k, nout[k]);
	atomic_fetch_add_explicit(&c->r->relayed, sent, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &c->r->dropped, (unsigned)n - sent, memory_order_relaxed);
out:
	pthread_mutex_unlock(&c->mu);
}

/* ---- calls ---- */

/* Takes c off its thread's list. Called with t->lk held. */
static void
media_call_unlink(struct media_call *c)
{
	struct media_thread *t = c->t;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		t->calls = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Closes c's sockets, returns its ports, wipes and frees it. Called by
 * its thread (or after the thread stopped, or before c was listed), c off
 * the list. */
static void
media_call_destroy(struct media_call *c)
{
	struct media_thread *t = c->t;
	int side, k;

	for (side = 0; side < 2; side++) {
		struct media_leg *x = &c->leg[side];

		for (k = 0; k < 2; k++)
			if (x->fds[k] != -1)
				(void)epoll_ctl(
				    t->epfd, EPOLL_CTL_DEL, x->fds[k], NULL);
		if (x->fds[0] != -1 || x->fds[1] != -1)
			portpool_pair_put(c->r->pool, x->port, x->fds);
		srtp_ctx_free(x->rx);
		srtp_ctx_free(x->tx);
	}
	atomic_fetch_sub_explicit(&c->r->calls_active, 1, memory_order_relaxed);
	pthread_mutex_destroy(&c->mu);
	pthread_mutex_destroy(&c->set_mu);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

int
media_call_new(struct media_relay *r, uint64_t cookie, int family_a,
    int family_b, struct media_call **out)
{
	struct media_call *c = NULL;
	struct media_thread *t;
	struct epoll_event ev;
	int fam[2] = {family_a, family_b};
	int side, k, err = 0;

	if (r == NULL || out == NULL)
		return EINVAL;
	for (side = 0; side < 2; side++)
		if (fam[side] != AF_INET && fam[side] != AF_INET6)
			return EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	c->r = r;
	c->cookie = cookie;
	for (side = 0; side < 2; side++) {
		c->leg[side].family = fam[side];
		c->leg[side].fds[0] = c->leg[side].fds[1] = -1;
	}
	if ((err = pthread_mutex_init(&c->mu, NULL)) != 0) {
		free(c);
		return err;
	}
	if ((err = pthread_mutex_init(&c->set_mu, NULL)) != 0) {
		pthread_mutex_destroy(&c->mu);
		free(c);
		return err;
	}
	for (side = 0; side < 2; side++) {
		struct media_leg *x = &c->leg[side];

		err = portpool_pair_get(r->pool, x->family, &x->port, x->fds);
		if (err != 0)
			break;
		for (k = 0; k < 2; k++) {
			x->sock[k].call = c;
			x->sock[k].fd = x->fds[k];
			x->sock[k].side = (uint8_t)side;
			x->sock[k].kind = (uint8_t)k;
		}
	}
	t = r->t[atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed) %
	         r->nthreads];
	c->t = t;
	atomic_fetch_add_explicit(&r->calls_active, 1, memory_order_relaxed);
	if (err != 0) {
		media_call_destroy(c); /* not on any list or epoll set yet */
		return err;
	}
	/* On the list first (this also publishes c to the thread). */
	pthread_mutex_lock(&t->lk);
	c->next = t->calls;
	if (t->calls != NULL)
		t->calls->prev = c;
	t->calls = c;
	pthread_mutex_unlock(&t->lk);
	for (side = 0; side < 2 && err == 0; side++)
		for (k = 0; k < 2 && err == 0; k++) {
			memset(&ev, 0, sizeof(ev));
			ev.events = EPOLLIN;
			ev.data.ptr = &c->leg[side].sock[k];
			if (epoll_ctl(t->epfd, EPOLL_CTL_ADD,
			        c->leg[side].fds[k], &ev) == -1)
				err = errno;
		}
	if (err != 0) {
		log_err("media: epoll_ctl: %s", strerror(err));
		media_call_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int
media_call_family(const struct media_call *c, int side)
{
	if (c == NULL || (side != 0 && side != 1))
		return AF_UNSPEC;
	return c->leg[side].family;
}

uint16_t
media_call_port(const struct media_call *c, int side)
{
	if (c == NULL || (side != 0 && side != 1))
		return 0;
	return c->leg[side].port;
}

/* True when s is acceptable for a side of family. */
static bool
media_side_valid(int family, const struct media_side *s)
{
	size_t kl;

	if ((s->rtp.ss_family != AF_UNSPEC && s->rtp.ss_family != family) ||
	    (s->rtcp.ss_family != AF_UNSPEC && s->rtcp.ss_family != family))
		return false;
	if (s->srtp) {
		kl = srtp_suite_keylen(s->suite);
		if (kl == 0 || kl > SRTP_MASTER_MAX || s->keylen != kl)
			return false;
	}
	return true;
}

/* True when the side's context for key must be (re)built. */
static bool
media_ctx_stale(const struct media_leg *x, const struct srtp_ctx *ctx,
    const unsigned char *old, const struct media_side *s,
    const unsigned char *key)
{
	return ctx == NULL || !x->cfg.srtp || x->cfg.suite != s->suite ||
	       x->cfg.keylen != s->keylen || !media_key_eq(old, key, s->keylen);
}

int
media_call_set(struct media_call *c, int side, const struct media_side *s)
{
	struct media_leg *x;
	struct srtp_ctx *nrx = NULL, *ntx = NULL, *orx = NULL, *otx = NULL;
	bool new_rx = false, new_tx = false, forget, forget_rtcp, active;
	int err = 0;

	if (c == NULL || s == NULL || (side != 0 && side != 1))
		return EINVAL;
	x = &c->leg[side];
	if (!media_side_valid(x->family, s))
		return EINVAL;
	pthread_mutex_lock(&c->set_mu);
	/* Only this function (under set_mu) writes cfg, rx and tx. */
	if (s->srtp) {
		new_rx = media_ctx_stale(x, x->rx, x->cfg.rx_key, s, s->rx_key);
		new_tx = media_ctx_stale(x, x->tx, x->cfg.tx_key, s, s->tx_key);
		if (new_rx && (err = srtp_ctx_new(
		                   s->suite, s->rx_key, s->keylen, &nrx)) != 0)
			goto out;
		if (new_tx && (err = srtp_ctx_new(
		                   s->suite, s->tx_key, s->keylen, &ntx)) != 0)
			goto out;
	}
	pthread_mutex_lock(&c->mu);
	forget = !x->set || x->cfg.srtp != s->srtp || new_rx ||
	         !media_addr_same(&x->cfg.rtp, &s->rtp);
	forget_rtcp = forget || x->cfg.rtcp_mux != s->rtcp_mux ||
	              !media_addr_same(&x->cfg.rtcp, &s->rtcp);
	if (forget)
		x->learned[MEDIA_RTP] = false;
	if (forget_rtcp)
		x->learned[MEDIA_RTCP] = false;
	if (!s->srtp || new_rx) {
		orx = x->rx;
		x->rx = nrx;
		nrx = NULL;
	}
	if (!s->srtp || new_tx) {
		otx = x->tx;
		x->tx = ntx;
		ntx = NULL;
	}
	if ((s->clock_rate != 0 ? s->clock_rate : MEDIA_CLOCK_DEFAULT) !=
	    x->cfg.clock_rate)
		x->rs.transit_ok = false; /* jitter restarts at the new rate */
	x->cfg = *s;
	if (!x->cfg.srtp) {
		explicit_bzero(x->cfg.rx_key, sizeof(x->cfg.rx_key));
		explicit_bzero(x->cfg.tx_key, sizeof(x->cfg.tx_key));
	}
	if (x->cfg.clock_rate == 0)
		x->cfg.clock_rate = MEDIA_CLOCK_DEFAULT;
	x->set = true;
	active = c->leg[0].set && c->leg[1].set && c->leg[0].cfg.send &&
	         c->leg[0].cfg.recv && c->leg[1].cfg.send && c->leg[1].cfg.recv;
	if (active && !c->active)
		c->active_since = media_now(CLOCK_MONOTONIC);
	c->active = active;
	pthread_mutex_unlock(&c->mu);
out:
	pthread_mutex_unlock(&c->set_mu);
	srtp_ctx_free(nrx);
	srtp_ctx_free(ntx);
	srtp_ctx_free(orx);
	srtp_ctx_free(otx);
	return err;
}

void
media_call_stats(const struct media_call *cc, int side, struct media_stats *st)
{
	struct media_call *c = (struct media_call *)cc; /* to lock mu */
	const struct media_leg *x;
	uint64_t us;

	memset(st, 0, sizeof(*st));
	if (c == NULL || (side != 0 && side != 1))
		return;
	x = &c->leg[side];
	pthread_mutex_lock(&c->mu);
	*st = x->st;
	st->lost = x->rs.lost_prev + media_rtp_lost_now(&x->rs);
	us = (x->rs.jitter16 >> 4) * 1000000 /
	     (x->cfg.clock_rate != 0 ? x->cfg.clock_rate : MEDIA_CLOCK_DEFAULT);
	st->jitter_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	st->learned = x->learned[MEDIA_RTP];
	if (st->learned)
		st->peer = x->peer[MEDIA_RTP];
	pthread_mutex_unlock(&c->mu);
}

static void
media_thread_wake(struct media_thread *t)
{
	uint64_t one = 1;

	/* Fails only when the counter is full: it is awake already. */
	(void)!write(t->evfd, &one, sizeof(one));
}

void
media_call_free(struct media_call *c)
{
	struct media_thread *t;
	uint64_t epoch;

	if (c == NULL)
		return;
	t = c->t;
	pthread_mutex_lock(&t->lk);
	if (c->freeing) { /* freed twice: the first one does it */
		pthread_mutex_unlock(&t->lk);
		return;
	}
	c->freeing = true;
	c->free_next = t->free_head;
	t->free_head = c;
	epoch = t->free_epoch;
	media_thread_wake(t);
	/* On its own thread (an on_timeout that frees, against the rules):
	 * the thread frees it after this batch; waiting would deadlock. */
	if (media_self != t)
		while (t->free_epoch == epoch)
			pthread_cond_wait(&t->cv, &t->lk);
	pthread_mutex_unlock(&t->lk);
}

/* ---- threads ---- */

/* Between batches: frees the queued calls, finds the calls whose media
 * stopped (once a tick) and calls on_timeout for them. Returns true when
 * the thread must stop. */
static bool
media_thread_chores(struct media_thread *t, int64_t now)
{
	struct media_relay *r = t->r;
	struct media_call *c, *next, *due = NULL;
	int64_t since;
	bool stop;

	pthread_mutex_lock(&t->lk);
	if (t->free_head != NULL) {
		for (c = t->free_head; c != NULL; c = next) {
			next = c->free_next;
			media_call_unlink(c);
			media_call_destroy(c);
		}
		t->free_head = NULL;
		t->free_epoch++;
		pthread_cond_broadcast(&t->cv);
	}
	stop = t->stop;
	if (!stop && r->timeout_ns > 0 && now >= t->next_tick) {
		t->next_tick = now + (int64_t)MEDIA_TICK_MS * 1000000;
		for (c = t->calls; c != NULL; c = c->next) {
			if (c->freeing || c->timed_out)
				continue;
			pthread_mutex_lock(&c->mu);
			since = c->last_rx > c->active_since ? c->last_rx
			                                     : c->active_since;
			if (c->active && now - since >= r->timeout_ns) {
				c->timed_out = true;
				c->due = due;
				due = c;
			}
			pthread_mutex_unlock(&c->mu);
		}
	}
	pthread_mutex_unlock(&t->lk);
	/* Only this thread frees calls, so those on the chain live on. */
	for (c = due; c != NULL; c = next) {
		next = c->due;
		c->due = NULL;
		if (r->cfg.on_timeout != NULL)
			r->cfg.on_timeout(r->cfg.arg, c->cookie);
	}
	return stop;
}

static void *
media_thread_main(void *arg)
{
	struct media_thread *t = arg;
	struct epoll_event ev[MEDIA_EVENTS_MAX];
	struct timespec pause = {0, 10 * 1000000};
	uint64_t cnt;
	int64_t now;
	int n, i;

	media_self = t;
	t->next_tick =
	    media_now(CLOCK_MONOTONIC) + (int64_t)MEDIA_TICK_MS * 1000000;
	for (;;) {
		n = epoll_wait(t->epfd, ev, MEDIA_EVENTS_MAX, MEDIA_TICK_MS);
		if (n < 0) {
			if (errno != EINTR) {
				log_err(
				    "media: epoll_wait: %s", strerror(errno));
				nanosleep(&pause, NULL);
			}
			n = 0;
		}
		now = media_now(CLOCK_MONOTONIC);
		for (i = 0; i < n; i++) {
			if (ev[i].data.ptr == NULL) {
				(void)!read(t->evfd, &cnt, sizeof(cnt));
				continue;
			}
			media_sock_read(t, ev[i].data.ptr, now);
		}
		if (media_thread_chores(t, now))
			break;
	}
	return NULL;
}

static void
media_thread_free(struct media_thread *t)
{
	struct media_call *c;

	if (t == NULL)
		return;
	while ((c = t->calls) != NULL) {
		media_call_unlink(c);
		media_call_destroy(c);
	}
	if (t->epfd != -1)
		close(t->epfd);
	if (t->evfd != -1)
		close(t->evfd);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->lk);
	free(t);
}

/* A thread's state (not started) in *out. Returns 0 or an errno code. */
static int
media_thread_new(struct media_relay *r, struct media_thread **out)
{
	struct media_thread *t;
	struct epoll_event ev;
	int err = 0;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ENOMEM;
	t->r = r;
	t->epfd = t->evfd = -1;
	if ((err = pthread_mutex_init(&t->lk, NULL)) != 0) {
		free(t);
		return err;
	}
	if ((err = pthread_cond_init(&t->cv, NULL)) != 0) {
		pthread_mutex_destroy(&t->lk);
		free(t);
		return err;
	}
	if ((t->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    (t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		err = errno;
		goto out;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &ev) == -1) {
		err = errno;
		goto out;
	}
	*out = t;
	t = NULL;
out:
	media_thread_free(t);
	return err;
}

int
media_relay_new(const struct media_relay_config *cfg, struct media_relay **out)
{
	struct media_relay *r = NULL;
	sigset_t all, old;
	unsigned i;
	int err = 0;

	if (cfg == NULL || out == NULL || cfg->threads > MEDIA_THREADS_MAX)
		return EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ENOMEM;
	r->cfg = *cfg;
	r->nthreads = cfg->threads != 0 ? cfg->threads : 1;
	r->timeout_ns = (int64_t)cfg->timeout_s * NS_PER_S;
	atomic_init(&r->next, 0);
	atomic_init(&r->calls_active, 0);
	atomic_init(&r->relayed, 0);
	atomic_init(&r->dropped, 0);
	if ((err = portpool_new(cfg->port_lo, cfg->port_hi, &r->pool)) != 0)
		goto out;
	for (i = 0; i < r->nthreads; i++)
		if ((err = media_thread_new(r, &r->t[i])) != 0)
			goto out;
	/* Signals go to the daemon's signalfd, never to a media thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < r->nthreads && err == 0; i++) {
		err = pthread_create(
		    &r->t[i]->tid, NULL, media_thread_main, r->t[i]);
		if (err == 0) {
			char name[16];

			r->t[i]->started = true;
			snprintf(name, sizeof(name), "media%u", i);
			(void)pthread_setname_np(r->t[i]->tid, name);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		log_err("media: pthread_create: %s", strerror(err));
		goto out;
	}
	*out = r;
	r = NULL;
out:
	media_relay_free(r);
	return err;
}

void
media_relay_free(struct media_relay *r)
{
	unsigned i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nthreads; i++) {
		struct media_thread *t = r->t[i];

		if (t == NULL || !t->started)
			continue;
		pthread_mutex_lock(&t->lk);
		t->stop = true;
		pthread_mutex_unlock(&t->lk);
		media_thread_wake(t);
	}
	for (i = 0; i < r->nthreads; i++)
		if (r->t[i] != NULL && r->t[i]->started)
			pthread_join(r->t[i]->tid, NULL);
	for (i = 0; i < r->nthreads; i++)
		media_thread_free(r->t[i]);
	portpool_free(r->pool);
	free(r);
}

void
media_relay_stats(struct media_relay *r, struct media_relay_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (r == NULL)
		return;
	st->calls_active =
	    atomic_load_explicit(&r->calls_active, memory_order_relaxed);
	st->ports_free = portpool_ports_free(r->pool);
	st->pkts_relayed =
	    atomic_load_explicit(&r->relayed, memory_order_relaxed);
	st->pkts_dropped =
	    atomic_load_explicit(&r->dropped, memory_order_relaxed);
}
