/* ngd.c: see ngd.h. One thread: it owns every ng call (an anchor on the
 * relay, found by Call-ID), answers each datagram at once, and keeps its
 * recent replies so a retransmitted request (same cookie) gets the same
 * reply instead of a second call. */
#include "media/ngd.h"
#include "lib/log.h"
#include "lib/util.h"
#include "media/anchor.h"
#include "media/ng.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
	NGD_BUCKETS = 4096,
	NGD_CALLS_MAX = 100000, /* calls held at most */
	NGD_CACHE = 512,        /* recent replies kept */
	NGD_ID_MAX = 256,       /* bytes of a Call-ID or tag */
	NGD_TIMEOUTS_MAX = 4096,
	NGD_POLL_MS = 500,
};

/* The top byte of the relay cookie of an ng call (SIP calls use their
 * worker index there, which is below CONFIG_WORKERS_MAX). */
#define NGD_COOKIE_TAG ((uint64_t)0xff << 56)

struct ngcall {
	struct ngcall *next;
	uint64_t cookie;
	char call_id[NGD_ID_MAX];
	char from_tag[NGD_ID_MAX];
	char to_tag[NGD_ID_MAX];
	struct anchor *an;
	struct anchor_leg leg[2]; /* side 0: from-tag; 1: to-tag */
	int64_t created_us;
};

struct cached {
	char cookie[NG_COOKIE_MAX];
	size_t cookielen;
	char *reply;
	size_t len;
};

struct ngd {
	struct media_relay *relay;
	char advertise[INET6_ADDRSTRLEN];
	int fd[CONFIG_LISTEN_MAX];
	size_t nfd;
	int evfd;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	struct ngcall *bucket[NGD_BUCKETS];
	size_t ncalls;
	uint64_t serial;
	struct cached cache[NGD_CACHE];
	size_t cache_next;
	pthread_mutex_t to_mu; /* the timed-out cookies, from media threads */
	uint64_t to_q[NGD_TIMEOUTS_MAX];
	size_t to_n;
	struct ng_request req; /* large: one, owned by the thread */
	char in[NG_DATAGRAM_MAX + 1];
	char out[NG_DATAGRAM_MAX];
	char sdp[SDP_MAX];
};

static bool
sv_eq_str(struct sv v, const char *s)
{
	return v.p != NULL && strlen(s) == v.len && memcmp(s, v.p, v.len) == 0;
}

static struct ngcall *
call_find(struct ngd *n, struct sv call_id)
{
	struct ngcall *c;

	for (c = n->bucket[util_fnv1a(call_id.p, call_id.len) % NGD_BUCKETS];
	     c != NULL; c = c->next)
		if (sv_eq_str(call_id, c->call_id))
			return c;
	return NULL;
}

static void
call_delete(struct ngd *n, struct ngcall *c)
{
	struct ngcall **pp;

	for (pp = &n->bucket[util_fnv1a(c->call_id, strlen(c->call_id)) %
	                     NGD_BUCKETS];
	     *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	anchor_free(c->an);
	free(c);
	n->ncalls--;
}

static void
sv_put(struct sv v, char *buf, size_t size)
{
	size_t k = v.p == NULL ? 0 : v.len < size - 1 ? v.len : size - 1;

	if (k > 0)
		memcpy(buf, v.p, k);
	buf[k] = '\0';
}

/* The family of the first c= of an SDP (AF_INET when unclear: the anchor
 * refuses what it cannot use). */
static int
sdp_family(struct sv sdp)
{
	const char *p = sdp.p, *end = sdp.p + sdp.len;

	for (; p + 9 <= end; p++)
		if ((p == sdp.p || p[-1] == '\n') &&
		    memcmp(p, "c=IN IP6", 8) == 0)
			return AF_INET6;
		else if ((p == sdp.p || p[-1] == '\n') &&
		         memcmp(p, "c=IN IP4", 8) == 0)
			return AF_INET;
	return AF_INET;
}

/* What the side reached by an offer gets: the transport-protocol the
 * request asks for, else the offerer's. */
static enum anchor_srtp
want_srtp(const struct ng_request *r)
{
	if (r->transport_protocol.p == NULL)
		return ANCHOR_SRTP_MIRROR;
	if (sv_eq_str(r->transport_protocol, "RTP/SAVP") ||
	    sv_eq_str(r->transport_protocol, "RTP/SAVPF"))
		return ANCHOR_SRTP_REQUIRED;
	return ANCHOR_SRTP_NEVER;
}

static int
reply_error(struct ngd *n, const char *reason, size_t *outlen)
{
	return ng_reply_error(
	    n->out, sizeof(n->out), n->req.cookie, reason, outlen);
}

static int
do_offer(struct ngd *n, size_t *outlen)
{
	struct ng_request *r = &n->req;
	struct ngcall *c = call_find(n, r->call_id);
	char why[ANCHOR_WHY_MAX] = "";
	size_t len;
	int side = 0, rc;
	bool created = c == NULL;

	if (c == NULL) {
		int fam = sdp_family(r->sdp);

		if (n->ncalls >= NGD_CALLS_MAX)
			return reply_error(n, "Too many calls", outlen);
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return reply_error(n, "Out of memory", outlen);
		c->cookie = NGD_COOKIE_TAG | (++n->serial & ((1ull << 56) - 1));
		if ((rc = anchor_new(n->relay, c->cookie, fam, fam, &c->an)) !=
		    0) {
			free(c);
			return reply_error(n,
			    rc == EADDRINUSE ? "No free ports"
			                     : "Out of memory",
			    outlen);
		}
		sv_put(r->call_id, c->call_id, sizeof(c->call_id));
		sv_put(r->from_tag, c->from_tag, sizeof(c->from_tag));
		c->created_us = util_now_us();
		{
			uint32_t h = util_fnv1a(c->call_id, strlen(c->call_id));

			c->next = n->bucket[h % NGD_BUCKETS];
			n->bucket[h % NGD_BUCKETS] = c;
		}
		n->ncalls++;
	} else if (!sv_eq_str(r->from_tag, c->from_tag)) {
		side = 1; /* a re-offer from the called side */
	}
	/* The local control channel: keys may cross it; the offerer's
	 * profile is taken as it comes. */
	c->leg[side].sdes_ok = true;
	c->leg[side].loopback_ok = true;
	c->leg[1 - side].loopback_ok = true;
	c->leg[side].srtp = ANCHOR_SRTP_OPTIONAL;
	c->leg[1 - side].sdes_ok = true;
	c->leg[1 - side].srtp = want_srtp(r);
	snprintf(c->leg[0].addr, sizeof(c->leg[0].addr), "%s", n->advertise);
	snprintf(c->leg[1].addr, sizeof(c->leg[1].addr), "%s", n->advertise);
	if ((rc = anchor_offer(c->an, side, &c->leg[side], r->sdp.p, r->sdp.len,
	         why, sizeof(why))) != 0 ||
	    (rc = anchor_offer_out(c->an, &c->leg[1 - side], n->sdp,
	         sizeof(n->sdp), &len, why, sizeof(why))) != 0) {
		anchor_offer_done(c->an);
		if (created)
			call_delete(n, c); /* a refused first offer: no call */
		return reply_error(n, why[0] ? why : "Bad SDP", outlen);
	}
	return ng_reply_ok_sdp(n->out, sizeof(n->out), r->cookie,
	    (struct sv){n->sdp, len}, outlen);
}

static int
do_answer(struct ngd *n, size_t *outlen)
{
	struct ng_request *r = &n->req;
	struct ngcall *c = call_find(n, r->call_id);
	char why[ANCHOR_WHY_MAX] = "";
	size_t len;
	int from = 0;

	if (c == NULL)
		return reply_error(n, "Unknown call-id", outlen);
	if (!anchor_pending(c->an, &from))
		return reply_error(n, "No offer pending", outlen);
	sv_put(r->to_tag, c->to_tag, sizeof(c->to_tag));
	if (anchor_answer(c->an, &c->leg[1 - from], &c->leg[from], r->sdp.p,
	        r->sdp.len, n->sdp, sizeof(n->sdp), &len, why,
	        sizeof(why)) != 0)
		return reply_error(n, why[0] ? why : "Bad SDP", outlen);
	/* The offer stays pending: Kamailio answers a 183 and then its 200
	 * with the same SDP; the next offer replaces it. */
	return ng_reply_ok_sdp(n->out, sizeof(n->out), r->cookie,
	    (struct sv){n->sdp, len}, outlen);
}

static int
do_delete(struct ngd *n, size_t *outlen)
{
	struct ngcall *c = call_find(n, n->req.call_id);

	if (c == NULL)
		return reply_error(n, "Unknown call-id", outlen);
	call_delete(n, c);
	return ng_reply_ok(n->out, sizeof(n->out), n->req.cookie, outlen);
}

static int
do_query(struct ngd *n, size_t *outlen)
{
	struct ngcall *c = call_find(n, n->req.call_id);
	struct media_stats st[2];
	struct ng_reply rp;
	struct bencode_buf *b = &rp.b;
	int rc;

	if (c == NULL)
		return reply_error(n, "Unknown call-id", outlen);
	media_call_stats(anchor_media(c->an), 0, &st[0]);
	media_call_stats(anchor_media(c->an), 1, &st[1]);
	if ((rc = ng_reply_start(&rp, n->out, sizeof(n->out), n->req.cookie)) ||
	    (rc = bencode_put_kv_int(b, "created", c->created_us / 1000000)) ||
	    (rc = bencode_put_kv_cstr(b, "result", "ok")) ||
	    (rc = bencode_put_key(b, "totals")) || (rc = bencode_put_dict(b)) ||
	    (rc = bencode_put_key(b, "RTP")) || (rc = bencode_put_dict(b)) ||
	    (rc = bencode_put_kv_int(
	         b, "bytes", (int64_t)(st[0].bytes_in + st[1].bytes_in))) ||
	    (rc = bencode_put_kv_int(b, "errors",
	         (int64_t)(st[0].spoofed + st[0].auth_fail + st[0].replayed +
	                   st[1].spoofed + st[1].auth_fail +
	                   st[1].replayed))) ||
	    (rc = bencode_put_kv_int(
	         b, "packets", (int64_t)(st[0].pkts_in + st[1].pkts_in))) ||
	    (rc = bencode_put_end(b)) || (rc = bencode_put_end(b)))
		return rc;
	return ng_reply_finish(&rp, outlen);
}

/* The cached reply to a retransmitted request, or NULL. */
static const struct cached *
cache_find(const struct ngd *n, struct sv cookie)
{
	for (size_t i = 0; i < NGD_CACHE; i++) {
		const struct cached *e = &n->cache[i];

		if (e->reply != NULL && e->cookielen == cookie.len &&
		    memcmp(e->cookie, cookie.p, cookie.len) == 0)
			return e;
	}
	return NULL;
}

static void
cache_put(struct ngd *n, struct sv cookie, const char *reply, size_t len)
{
	struct cached *e = &n->cache[n->cache_next];
	char *p = malloc(len);

	if (p == NULL || cookie.len > sizeof(e->cookie)) {
		free(p);
		return;
	}
	free(e->reply);
	memcpy(p, reply, len);
	memcpy(e->cookie, cookie.p, cookie.len);
	e->cookielen = cookie.len;
	e->reply = p;
	e->len = len;
	n->cache_next = (n->cache_next + 1) % NGD_CACHE;
}

/* A Call-ID or tag this listener can keep whole (absent is fine). */
static bool
id_ok(struct sv v)
{
	return v.p == NULL ||
	       (v.len < NGD_ID_MAX && memchr(v.p, '\0', v.len) == NULL);
}

static void
handle(struct ngd *n, int fd)
{
	struct sockaddr_storage src;
	socklen_t sl = sizeof(src);
	ssize_t got;
	size_t outlen = 0;
	const struct cached *hit;
	int rc = 0;

	got =
	    recvfrom(fd, n->in, sizeof(n->in), 0, (struct sockaddr *)&src, &sl);
	if (got <= 0 || !anchor_addr_loopback(&src))
		return; /* a control channel for this host only */
	if ((size_t)got > NG_DATAGRAM_MAX)
		return;
	if (ng_request_parse(n->in, (size_t)got, &n->req) != 0) {
		if (n->req.cookie.len > 0 &&
		    ng_reply_error(n->out, sizeof(n->out), n->req.cookie,
		        n->req.reason ? n->req.reason : "Malformed request",
		        &outlen) == 0)
			sendto(
			    fd, n->out, outlen, 0, (struct sockaddr *)&src, sl);
		return;
	}
	if ((hit = cache_find(n, n->req.cookie)) != NULL) {
		sendto(
		    fd, hit->reply, hit->len, 0, (struct sockaddr *)&src, sl);
		return;
	}
	if (!id_ok(n->req.call_id) || !id_ok(n->req.from_tag) ||
	    !id_ok(n->req.to_tag)) {
		/* Kept as sent or not at all: a cut one could never be found
		 * again (its call would hold its ports for ever). */
		if (reply_error(n, "Call-ID or tag too long or with a NUL",
		        &outlen) == 0)
			sendto(
			    fd, n->out, outlen, 0, (struct sockaddr *)&src, sl);
		return;
	}
	switch (n->req.cmd) {
	case NG_CMD_PING:
		rc = ng_reply_pong(
		    n->out, sizeof(n->out), n->req.cookie, &outlen);
		break;
	case NG_CMD_OFFER:
		rc = do_offer(n, &outlen);
		break;
	case NG_CMD_ANSWER:
		rc = do_answer(n, &outlen);
		break;
	case NG_CMD_DELETE:
		rc = do_delete(n, &outlen);
		break;
	case NG_CMD_QUERY:
		rc = do_query(n, &outlen);
		break;
	default:
		rc = reply_error(n, "Unsupported command", &outlen);
		break;
	}
	if (rc != 0)
		return;
	cache_put(n, n->req.cookie, n->out, outlen);
	sendto(fd, n->out, outlen, 0, (struct sockaddr *)&src, sl);
}

/* Calls whose media stopped (posted by media threads) are deleted. */
static void
timeouts_run(struct ngd *n)
{
	uint64_t q[NGD_TIMEOUTS_MAX], v;
	size_t k, i;

	if (read(n->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&n->to_mu);
	k = n->to_n;
	memcpy(q, n->to_q, k * sizeof(q[0]));
	n->to_n = 0;
	pthread_mutex_unlock(&n->to_mu);
	for (i = 0; i < k; i++)
		for (size_t b = 0; b < NGD_BUCKETS; b++) {
			struct ngcall *c;

			for (c = n->bucket[b]; c != NULL; c = c->next)
				if (c->cookie == q[i])
					break;
			if (c != NULL) {
				log_info(
				    "ng call %s: no media for the timeout; "
				    "deleted",
				    c->call_id);
				call_delete(n, c);
				break;
			}
		}
}

static void *
ngd_main(void *arg)
{
	struct ngd *n = arg;
	struct pollfd pf[CONFIG_LISTEN_MAX + 1];
	size_t i;

	for (i = 0; i < n->nfd; i++)
		pf[i] = (struct pollfd){.fd = n->fd[i], .events = POLLIN};
	pf[n->nfd] = (struct pollfd){.fd = n->evfd, .events = POLLIN};
	while (!atomic_load(&n->stop)) {
		int k = poll(pf, n->nfd + 1, NGD_POLL_MS);

		if (k <= 0)
			continue;
		for (i = 0; i < n->nfd; i++)
			if (pf[i].revents & POLLIN)
				handle(n, pf[i].fd);
		if (pf[n->nfd].revents & POLLIN)
			timeouts_run(n);
	}
	return NULL;
}

bool
ngd_owns_cookie(uint64_t cookie)
{
	return (cookie & NGD_COOKIE_TAG) == NGD_COOKIE_TAG;
}

void
ngd_timeout(struct ngd *n, uint64_t cookie)
{
	uint64_t one = 1;

	if (n == NULL)
		return;
	pthread_mutex_lock(&n->to_mu);
	if (n->to_n < NGD_TIMEOUTS_MAX)
		n->to_q[n->to_n++] = cookie;
	pthread_mutex_unlock(&n->to_mu);
	if (write(n->evfd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is awake anyway */
	}
}

int
ngd_start(const struct config *cfg, struct media_relay *relay, struct ngd **out,
    char *err, size_t errsize)
{
	struct ngd *n = calloc(1, sizeof(*n));
	size_t i;
	int rc;

	if (n == NULL)
		return ENOMEM;
	n->relay = relay;
	n->evfd = -1;
	pthread_mutex_init(&n->to_mu, NULL);
	for (i = 0; i < CONFIG_LISTEN_MAX; i++)
		n->fd[i] = -1;
	for (i = 0; i < cfg->media_ng.n; i++) {
		const struct sockaddr_storage *a = &cfg->media_ng.addr[i];
		int fd = socket(
		    a->ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0 || bind(fd, (const struct sockaddr *)a,
		                  cfg->media_ng.len[i]) != 0) {
			rc = errno;
			if (fd >= 0)
				close(fd);
			snprintf(err, errsize, "[media] ng: cannot bind: %s",
			    strerror(rc));
			ngd_free(n);
			return rc;
		}
		n->fd[n->nfd++] = fd;
	}
	if (cfg->media_advertise != NULL) {
		snprintf(n->advertise, sizeof(n->advertise), "%s",
		    cfg->media_advertise);
	} else if (cfg->media_ng.n > 0) {
		const struct sockaddr_storage *a = &cfg->media_ng.addr[0];

		if (a->ss_family == AF_INET6)
			inet_ntop(AF_INET6,
			    &((const struct sockaddr_in6 *)a)->sin6_addr,
			    n->advertise, sizeof(n->advertise));
		else
			inet_ntop(AF_INET,
			    &((const struct sockaddr_in *)a)->sin_addr,
			    n->advertise, sizeof(n->advertise));
	}
	n->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	rc =
	    n->evfd < 0 ? errno : pthread_create(&n->thread, NULL, ngd_main, n);
	if (rc != 0) {
		snprintf(
		    err, errsize, "[media] ng: cannot start: %s", strerror(rc));
		ngd_free(n);
		return rc;
	}
	n->started = true;
	log_info("ng control listener on %zu loopback address(es); media "
	         "address in SDP %s",
	    n->nfd, n->advertise);
	*out = n;
	return 0;
}

void
ngd_free(struct ngd *n)
{
	size_t i;

	if (n == NULL)
		return;
	if (n->started) {
		atomic_store(&n->stop, true);
		ngd_timeout(n, 0); /* wakes the thread */
		pthread_join(n->thread, NULL);
	}
	for (i = 0; i < NGD_BUCKETS; i++)
		while (n->bucket[i] != NULL)
			call_delete(n, n->bucket[i]);
	for (i = 0; i < NGD_CACHE; i++)
		free(n->cache[i].reply);
	for (i = 0; i < n->nfd; i++)
		close(n->fd[i]);
	if (n->evfd >= 0)
		close(n->evfd);
	pthread_mutex_destroy(&n->to_mu);
	free(n);
}
