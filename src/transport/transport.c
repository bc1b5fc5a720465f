/* transport.c: listeners, worker event loops, UDP batches, TCP and TLS
 * connections with framing, limits and timeouts. See transport.h. */
#include "transport/transport.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sip/msg.h"
#include "transport/tlsrec.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <strings.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum ep_kind { EP_UDP, EP_LISTEN, EP_CONN, EP_WAKE };

enum { TP_SNI_MAX = 10000 };

struct sni_cert {
	char domain[256];
	SSL_CTX *ctx;
};

struct ep_item {
	enum ep_kind kind;
	int fd;
};

struct udp_sock {
	struct ep_item ep;
	struct sockaddr_storage local;
	socklen_t locallen;
};

struct listen_sock {
	struct ep_item ep;
	struct tp_listener l;
};

struct conn {
	struct ep_item ep; /* first: epoll data points here */
	uint64_t id;
	enum tp_proto proto;
	SSL *ssl;
	bool handshaking, want_write, closing;
	struct sockaddr_storage peer, local;
	socklen_t peerlen, locallen;
	char *rbuf;
	size_t rlen, rcap; /* rcap grows from TP_RXBUF_MIN to TP_RXBUF */
	char *wbuf;        /* bytes to send (sealed records once rec is set) */
	size_t wlen, wcap;
	/* TLS after the handshake: our record layer, the SSL object freed
	 * (about 20 KiB less per idle phone); raw holds a partial record. */
	struct tlsrec *rec;
	unsigned char *raw;
	size_t rawlen;
	time_t last_msg, partial_since, opened;
	struct conn *next; /* hash chain */
};

enum { CONN_BUCKETS = 4096, SRC_BUCKETS = 4096, TIMERS_INIT = 1024 };

struct tp_job {
	tp_job_fn fn;
	void *arg;
	struct tp_job *next;
};

/* A send handed from another worker to a connection's owner. */
struct send_job {
	struct tp_flow f;
	size_t len;
	char buf[];
};

static void send_job_run(struct tp_worker *w, void *arg);

struct tp_worker {
	struct transport *t;
	int idx;
	int epfd;
	struct ep_item wake;
	pthread_t th;
	bool started;
	struct udp_sock *udp; /* one per UDP listener */
	size_t nudp;
	struct conn *conns[CONN_BUCKETS];
	size_t nconns;
	uint64_t next_id;
	char (*rx)[TP_RXBUF];
	unsigned char *tlsin; /* TLSREC_CIPHER_MAX: records read, then opened */
	time_t last_sweep;
	/* Jobs posted by other threads. */
	pthread_mutex_t jlock;
	struct tp_job *jhead, *jtail;
	/* Timers: a binary min-heap, 1-based. */
	struct tp_timer **heap;
	size_t nheap, heapcap;
};

struct src_count {
	unsigned char addr[16];
	int family;
	unsigned n; /* connections open */
	/* New connections: a token bucket ([guard] conn_rate per second,
	 * conn_burst at once), kept while it refills. */
	double tokens;
	int64_t refill_us, report_us;
	uint64_t refused;
	struct src_count *next;
};

struct transport {
	struct listen_sock ls[TP_LISTEN_MAX];
	size_t nls;
	struct tp_worker *w;
	unsigned nw;
	tp_msg_cb cb;
	void *cb_arg;
	atomic_bool stop;
	pthread_mutex_t lock; /* ctx, srcs */
	SSL_CTX *ctx;
	struct src_count *srcs[SRC_BUCKETS];
	atomic_uint nconns;
	tp_close_cb close_cb;
	void *close_arg;
	struct sni_cert *sni; /* per-domain certificates, by SNI */
	size_t nsni;
	/* [guard] allow: exempt from the per-source connection cap. */
	struct config_cidr allow[CONFIG_CIDR_MAX];
	size_t nallow;
	unsigned conn_rate, conn_burst; /* 0: no rate */
	size_t nsrcs;                   /* entries in srcs */
	struct {
		atomic_uint_fast64_t udp_rx, stream_rx, tx, conns_total,
		    conns_refused, tls_handshake_fail, frames_bad, idle_closed,
		    tls_own, tls_openssl;
	} st;
};

const char *
tp_proto_name(enum tp_proto p)
{
	return p == TP_UDP ? "udp" : p == TP_TCP ? "tcp" : "tls";
}

void
tp_peer_ip(const struct tp_flow *f, char *buf, size_t size)
{
	if (f->peer.ss_family == AF_INET)
		inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)&f->peer)
		         ->sin_addr,
		    buf, (socklen_t)size);
	else if (f->peer.ss_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)&f->peer)
		         ->sin6_addr,
		    buf, (socklen_t)size);
	else
		snprintf(buf, size, "?");
}

unsigned
tp_peer_port(const struct tp_flow *f)
{
	if (f->peer.ss_family == AF_INET)
		return ntohs(
		    ((const struct sockaddr_in *)(const void *)&f->peer)
		        ->sin_port);
	if (f->peer.ss_family == AF_INET6)
		return ntohs(
		    ((const struct sockaddr_in6 *)(const void *)&f->peer)
		        ->sin6_port);
	return 0;
}

char *
tp_addr_fmt(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(s->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(s->sin6_port));
	} else {
		snprintf(buf, size, "?");
	}
	return buf;
}

int
tp_worker_index(const struct tp_worker *w)
{
	return w->idx;
}

static time_t
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* A bound, non-blocking socket for one listener address. */
static int
sock_bind(enum tp_proto proto, const struct sockaddr_storage *a, socklen_t alen,
    bool reuseport, int *fdp)
{
	int one = 1, fd, err;

	fd = socket(a->ss_family,
	    (proto == TP_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK |
	        SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1)
		goto fail;
	if (a->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto fail;
	if (proto == TP_UDP) {
		int sz = 4 << 20;

		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (const struct sockaddr *)a, alen) == -1)
		goto fail;
	if (proto != TP_UDP && listen(fd, 1024) == -1)
		goto fail;
	*fdp = fd;
	return 0;
fail:
	err = errno;
	close(fd);
	return err;
}

static int
tls_ctx_new(const char *cert, const char *key, const struct config *cfg,
    SSL_CTX **out, char *err, size_t errsize)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	unsigned long e;

	if (ctx == NULL)
		goto fail;
	/* TLS 1.2 and 1.3 only; forward-secret AEAD suites only. */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx,
	        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") ||
	    !SSL_CTX_set_ciphersuites(ctx,
	        "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	        "TLS_CHACHA20_POLY1305_SHA256") ||
	    !SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384"))
		goto fail;
	SSL_CTX_set_options(
	    ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	             SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	/* After the handshake our record layer takes over (keys kept from
	 * the keylog callback; no tickets sent after it). */
	tlsrec_ctx_setup(ctx);
	/* Idle connections give their record buffers back: 10,000 phones
	 * would otherwise hold about 40 KiB each. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	                          SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		e = ERR_get_error();
		snprintf(err, errsize, "[sip] cert %s: %s", cert,
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e)
		                               : "cannot load");
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		e = ERR_get_error();
		snprintf(err, errsize, "[sip] key %s: %s", key,
		    ERR_reason_error_string(e) ? ERR_reason_error_string(e)
		                               : "cannot load");
		goto out;
	}
	/* Client certificates: asked when a CA is configured, required when
	 * [sip] client_cert_required is on. */
	if (cfg->sip_client_ca != NULL) {
		STACK_OF(X509_NAME) *names =
		    SSL_load_client_CA_file(cfg->sip_client_ca);

		if (names == NULL || SSL_CTX_load_verify_locations(
		                         ctx, cfg->sip_client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			snprintf(err, errsize,
			    "[sip] client_ca %s: cannot load",
			    cfg->sip_client_ca);
			goto out;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx,
		    SSL_VERIFY_PEER | (cfg->sip_client_required
		                              ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT
		                              : 0),
		    NULL);
	}
	ERR_clear_error();
	*out = ctx;
	return 0;
fail:
	e = ERR_get_error();
	snprintf(err, errsize, "TLS setup: %s",
	    ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "failed");
out:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return EIO;
}

/* Picks the certificate of the domain the client names (SNI). */
static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct transport *t = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	size_t i;

	(void)alert;
	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nsni; i++)
		if (strcasecmp(t->sni[i].domain, name) == 0) {
			SSL_set_SSL_CTX(ssl, t->sni[i].ctx);
			break;
		}
	pthread_mutex_unlock(&t->lock);
	return SSL_TLSEXT_ERR_OK;
}

/* Loads DIR/DOMAIN/cert.pem + key.pem for each folder of dir. A folder
 * whose files do not load is an error: the operator put it there. */
static int
sni_load(const struct config *cfg, struct sni_cert **out, size_t *nout,
    char *err, size_t errsize)
{
	struct sni_cert *v = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *dir;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if ((dir = opendir(cfg->sip_certs)) == NULL)
		return errno == ENOENT ? 0 : errno;
	while ((de = readdir(dir)) != NULL && rc == 0) {
		char cert[PATH_MAX], key[PATH_MAX];
		struct sni_cert *nv;

		if (de->d_name[0] == '.' || strlen(de->d_name) > 253)
			continue;
		snprintf(cert, sizeof(cert), "%s/%s/cert.pem", cfg->sip_certs,
		    de->d_name);
		snprintf(key, sizeof(key), "%s/%s/key.pem", cfg->sip_certs,
		    de->d_name);
		if (access(cert, F_OK) != 0)
			continue;
		if (n == TP_SNI_MAX) {
			snprintf(err, errsize,
			    "[sip] certs %s: more than %d "
			    "domains",
			    cfg->sip_certs, TP_SNI_MAX);
			rc = EMSGSIZE;
			break;
		}
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			rc = ENOMEM;
			break;
		}
		v = nv;
		snprintf(v[n].domain, sizeof(v[n].domain), "%s", de->d_name);
		if ((rc = tls_ctx_new(
		         cert, key, cfg, &v[n].ctx, err, errsize)) == 0)
			n++;
	}
	closedir(dir);
	if (rc != 0) {
		while (n > 0)
			SSL_CTX_free(v[--n].ctx);
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

int
transport_tls_load(
    struct transport *t, const struct config *cfg, char *err, size_t errsize)
{
	SSL_CTX *ctx, *old;
	struct sni_cert *sni, *oldsni;
	size_t nsni, oldn, i;
	int rc;

	if ((rc = tls_ctx_new(
	         cfg->sip_cert, cfg->sip_key, cfg, &ctx, err, errsize)) != 0)
		return rc;
	if ((rc = sni_load(cfg, &sni, &nsni, err, errsize)) != 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, t);
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = ctx;
	oldsni = t->sni;
	oldn = t->nsni;
	t->sni = sni;
	t->nsni = nsni;
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old); /* connections hold their own reference */
	for (i = 0; i < oldn; i++)
		SSL_CTX_free(oldsni[i].ctx);
	free(oldsni);
	return 0;
}

/* The kernel picks the worker socket of a UDP listener's SO_REUSEPORT
 * group at random for each datagram (a classic BPF program on the group)
 * instead of by the source's hash: one busy source (a carrier, an SBC, a
 * load generator) is spread over every worker, not held to one. Messages
 * of one call are handed to the worker that owns its Call-ID anyway. */
static int
udp_spread(int fd, unsigned nworkers)
{
	struct sock_filter code[] = {
	    {BPF_LD | BPF_W | BPF_ABS, 0, 0,
	        (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)},
	    {BPF_ALU | BPF_MOD | BPF_K, 0, 0, nworkers},
	    {BPF_RET | BPF_A, 0, 0, 0},
	};
	struct sock_fprog prog = {
	    .len = (unsigned short)(sizeof(code) / sizeof(code[0])),
	    .filter = code};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog,
	        sizeof(prog)) == -1)
		return errno;
	return 0;
}

static int
listeners_add(struct transport *t, const struct config_listen *cl,
    enum tp_proto proto, char *err, size_t errsize)
{
	size_t i;

	for (i = 0; i < cl->n; i++) {
		struct listen_sock *ls = &t->ls[t->nls];

		ls->l.proto = proto;
		ls->l.addr = cl->addr[i];
		ls->l.addrlen = cl->len[i];
		ls->l.fd = -1;
		ls->ep.kind = EP_LISTEN;
		ls->ep.fd = -1;
		if (proto != TP_UDP) {
			char a[64];
			int rc = sock_bind(
			    proto, &cl->addr[i], cl->len[i], false, &ls->l.fd);

			if (rc != 0) {
				snprintf(err, errsize, "[sip] %s %s: %s",
				    tp_proto_name(proto),
				    tp_addr_fmt(&cl->addr[i], a, sizeof(a)),
				    strerror(rc));
				return rc;
			}
			ls->ep.fd = ls->l.fd;
		}
		t->nls++;
	}
	return 0;
}

int
transport_new(const struct config *cfg, unsigned nworkers,
    struct transport **out, char *err, size_t errsize)
{
	struct transport *t;
	size_t i, j;
	int rc;

	if (nworkers == 0 || nworkers > TP_WORKERS_MAX)
		return EINVAL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->nw = nworkers;
	memcpy(t->allow, cfg->guard_allow, sizeof(t->allow));
	t->nallow = cfg->guard_allow_n;
	if (cfg->guard_enabled) {
		t->conn_rate = cfg->guard_conn_rate;
		t->conn_burst = cfg->guard_conn_burst;
	}
	for (i = 0; i < TP_LISTEN_MAX; i++)
		t->ls[i].l.fd = -1;
	if ((rc = listeners_add(t, &cfg->sip_udp, TP_UDP, err, errsize)) ||
	    (rc = listeners_add(t, &cfg->sip_tcp, TP_TCP, err, errsize)) ||
	    (rc = listeners_add(t, &cfg->sip_tls, TP_TLS, err, errsize)))
		goto fail;
	if (cfg->sip_tls.n > 0 &&
	    (rc = transport_tls_load(t, cfg, err, errsize)) != 0)
		goto fail;
	if ((t->w = calloc(nworkers, sizeof(*t->w))) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	for (i = 0; i < nworkers; i++) {
		struct tp_worker *w = &t->w[i];

		w->t = t;
		w->idx = (int)i;
		w->epfd = -1;
		w->wake.fd = -1;
		w->next_id = ((uint64_t)i << 56) | 1;
		pthread_mutex_init(&w->jlock, NULL);
		if ((w->udp = calloc(cfg->sip_udp.n + 1, sizeof(*w->udp))) ==
		    NULL) {
			rc = ENOMEM;
			goto fail;
		}
		for (j = 0; j < t->nls; j++) {
			struct udp_sock *u;
			char a[64];

			if (t->ls[j].l.proto != TP_UDP)
				continue;
			u = &w->udp[w->nudp];
			u->ep.kind = EP_UDP;
			rc = sock_bind(TP_UDP, &t->ls[j].l.addr,
			    t->ls[j].l.addrlen, true, &u->ep.fd);
			if (rc != 0) {
				snprintf(err, errsize, "[sip] udp %s: %s",
				    tp_addr_fmt(&t->ls[j].l.addr, a, sizeof(a)),
				    strerror(rc));
				goto fail;
			}
			u->local = t->ls[j].l.addr;
			u->locallen = t->ls[j].l.addrlen;
			w->nudp++;
		}
	}
	for (j = 0; nworkers > 1 && j < t->w[0].nudp; j++)
		if ((rc = udp_spread(t->w[0].udp[j].ep.fd, nworkers)) != 0) {
			snprintf(err, errsize,
			    "[sip] udp: cannot spread datagrams over the "
			    "workers: %s",
			    strerror(rc));
			goto fail;
		}
	*out = t;
	return 0;
fail:
	transport_free(t);
	return rc;
}

/* ---- per-source connection counts ---- */

static size_t
src_key(const struct sockaddr_storage *ss, unsigned char addr[16], int *fam)
{
	size_t h = 5381, i, n;

	memset(addr, 0, 16);
	*fam = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		memcpy(addr,
		    &((const struct sockaddr_in *)(const void *)ss)->sin_addr,
		    4);
		n = 4;
	} else {
		memcpy(addr,
		    &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr,
		    16);
		n = 16;
	}
	for (i = 0; i < n; i++)
		h = h * 33 + addr[i];
	return h % SRC_BUCKETS;
}

/* Frees the entries of chain h that hold no connection and whose bucket
 * is full again. Called with t->lock held. */
static void
src_sweep(struct transport *t, size_t h, int64_t now)
{
	struct src_count **pp = &t->srcs[h], *c;

	while ((c = *pp) != NULL) {
		if (c->n == 0 && (t->conn_rate == 0 ||
		                     c->tokens + (double)(now - c->refill_us) *
		                                     t->conn_rate / 1e6 >=
		                         t->conn_burst)) {
			*pp = c->next;
			free(c);
			t->nsrcs--;
		} else {
			pp = &c->next;
		}
	}
}

/* Counts a new connection from ss; false when over a limit: connections
 * open per source and in total, new connections per second per source
 * ([guard] conn_rate, conn_burst; [guard] allow is exempt). */
static bool
src_acquire(struct transport *t, const struct sockaddr_storage *ss)
{
	unsigned char a[16];
	int fam;
	size_t h = src_key(ss, a, &fam);
	struct src_count *c;
	bool ok = false;
	int64_t now = util_now_us();

	if (atomic_load(&t->nconns) >= TP_CONN_MAX)
		return false;
	for (size_t i = 0; i < t->nallow; i++)
		if (config_cidr_match(
		        &t->allow[i], (const struct sockaddr *)ss)) {
			atomic_fetch_add(&t->nconns, 1);
			return true;
		}
	pthread_mutex_lock(&t->lock);
	src_sweep(t, h, now);
	for (c = t->srcs[h]; c != NULL; c = c->next)
		if (c->family == fam && memcmp(c->addr, a, 16) == 0)
			break;
	if (c == NULL && t->nsrcs < TP_SRCS_MAX &&
	    (c = calloc(1, sizeof(*c))) != NULL) {
		memcpy(c->addr, a, 16);
		c->family = fam;
		c->tokens = t->conn_burst;
		c->refill_us = now;
		c->next = t->srcs[h];
		t->srcs[h] = c;
		t->nsrcs++;
	}
	if (c != NULL && t->conn_rate > 0) {
		c->tokens += (double)(now - c->refill_us) * t->conn_rate / 1e6;
		if (c->tokens > t->conn_burst)
			c->tokens = t->conn_burst;
		c->refill_us = now;
	}
	if (c != NULL && c->n < TP_CONN_PER_SOURCE &&
	    (t->conn_rate == 0 || c->tokens >= 1.0)) {
		c->n++;
		if (t->conn_rate > 0)
			c->tokens -= 1.0;
		ok = true;
	} else if (c != NULL && t->conn_rate > 0 && c->tokens < 1.0) {
		c->refused++;
		if (now - c->report_us >= 1000000) {
			char ip[INET6_ADDRSTRLEN];

			c->report_us = now;
			inet_ntop(fam, a, ip, sizeof(ip));
			log_warn("security: rate-limit src=%s kind=connections "
			         "dropped=%llu",
			    ip, (unsigned long long)c->refused);
			c->refused = 0;
		}
	}
	pthread_mutex_unlock(&t->lock);
	if (ok)
		atomic_fetch_add(&t->nconns, 1);
	return ok;
}

static void
src_release(struct transport *t, const struct sockaddr_storage *ss)
{
	unsigned char a[16];
	int fam;
	size_t h = src_key(ss, a, &fam);
	struct src_count **pp, *c;

	for (size_t i = 0; i < t->nallow; i++)
		if (config_cidr_match(
		        &t->allow[i], (const struct sockaddr *)ss)) {
			atomic_fetch_sub(&t->nconns, 1);
			return;
		}

	pthread_mutex_lock(&t->lock);
	for (pp = &t->srcs[h]; (c = *pp) != NULL; pp = &c->next)
		if (c->family == fam && memcmp(c->addr, a, 16) == 0) {
			/* Kept while its bucket refills (src_sweep). */
			if (--c->n == 0 && t->conn_rate == 0) {
				*pp = c->next;
				free(c);
				t->nsrcs--;
			}
			break;
		}
	pthread_mutex_unlock(&t->lock);
	atomic_fetch_sub(&t->nconns, 1);
}

/* ---- connections ---- */

static struct conn *
conn_find(struct tp_worker *w, uint64_t id)
{
	struct conn *c;

	for (c = w->conns[id % CONN_BUCKETS]; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void
conn_close(struct tp_worker *w, struct conn *c)
{
	struct conn **pp;

	for (pp = &w->conns[c->id % CONN_BUCKETS]; *pp != NULL;
	     pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	w->nconns--;
	if (w->t->close_cb != NULL)
		w->t->close_cb(w->t->close_arg, w, w->idx, c->id);
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->ep.fd, NULL);
	if (c->ssl != NULL) {
		if (!c->handshaking)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->rec != NULL) {
		unsigned char cn[TLSREC_CLOSE_LEN];
		size_t n;

		/* close_notify, best effort (what SSL_shutdown did). */
		if (c->wlen == 0 &&
		    tlsrec_seal_close(c->rec, cn, sizeof(cn), &n) == 0)
			(void)!send(
			    c->ep.fd, cn, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		tlsrec_free(c->rec);
	}
	free(c->raw);
	close(c->ep.fd);
	src_release(w->t, &c->peer);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

static void
conn_update_events(struct tp_worker *w, struct conn *c)
{
	struct epoll_event ev = {
	    .events = EPOLLIN | EPOLLRDHUP, .data.ptr = &c->ep};

	if (c->want_write)
		ev.events |= EPOLLOUT;
	epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->ep.fd, &ev);
}

/* Writes queued bytes; returns 0, EAGAIN (still queued) or an error. */
static int
conn_flush(struct tp_worker *w, struct conn *c)
{
	size_t off = 0;
	int rc = 0;

	while (off < c->wlen) {
		ssize_t n;

		if (c->ssl != NULL) {
			int r = SSL_write(
			    c->ssl, c->wbuf + off, (int)(c->wlen - off));

			if (r <= 0) {
				int e = SSL_get_error(c->ssl, r);

				rc = (e == SSL_ERROR_WANT_WRITE ||
				         e == SSL_ERROR_WANT_READ)
				         ? EAGAIN
				         : EPIPE;
				ERR_clear_error();
				break;
			}
			n = r;
		} else {
			n = send(c->ep.fd, c->wbuf + off, c->wlen - off,
			    MSG_NOSIGNAL);
			if (n == -1) {
				rc = (errno == EAGAIN || errno == EINTR)
				         ? EAGAIN
				         : errno;
				break;
			}
		}
		off += (size_t)n;
	}
	if (c->wbuf != NULL)
		memmove(c->wbuf, c->wbuf + off, c->wlen - off);
	c->wlen -= off;
	if (c->wlen == 0) {
		/* Idle connections hold no buffers. */
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
	if (rc == 0 || rc == EAGAIN) {
		bool ww = c->wlen > 0;

		if (ww != c->want_write) {
			c->want_write = ww;
			conn_update_events(w, c);
		}
	}
	return rc == EAGAIN ? 0 : rc;
}

static int
conn_queue(struct conn *c, const void *buf, size_t len)
{
	size_t need = c->rec != NULL ? tlsrec_sealed_max(c->rec, len) : len;

	if (c->wlen + need > TP_WQUEUE_MAX)
		return ENOBUFS;
	if (c->wlen + need > c->wcap) {
		size_t nc = (c->wlen + need) * 2;
		char *nb = realloc(c->wbuf, nc);

		if (nb == NULL)
			return ENOMEM;
		c->wbuf = nb;
		c->wcap = nc;
	}
	if (c->rec != NULL) {
		size_t n = 0;
		int rc = tlsrec_seal(c->rec, buf, len,
		    (unsigned char *)c->wbuf + c->wlen, c->wcap - c->wlen, &n);

		if (rc != 0)
			return rc;
		c->wlen += n;
		return 0;
	}
	if (len > 0)
		memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	return 0;
}

static void
send_job_run(struct tp_worker *w, void *arg)
{
	struct send_job *j = arg;

	tp_send(w, &j->f, j->buf, j->len);
	free(j);
}

int
tp_send(
    struct tp_worker *w, const struct tp_flow *f, const void *buf, size_t len)
{
	struct conn *c;
	int rc;

	if (f->proto == TP_UDP) {
		if (sendto(f->fd, buf, len, 0,
		        (const struct sockaddr *)&f->peer, f->peerlen) == -1)
			return errno;
		atomic_fetch_add(&w->t->st.tx, 1);
		return 0;
	}
	if (f->worker != w->idx) {
		struct send_job *j = malloc(sizeof(*j) + len);

		if (j == NULL)
			return ENOMEM;
		j->f = *f;
		j->len = len;
		memcpy(j->buf, buf, len);
		if ((rc = tp_post(w->t, f->worker, send_job_run, j)) != 0)
			free(j);
		return rc;
	}
	if ((c = conn_find(w, f->conn_id)) == NULL || c->closing)
		return ENOTCONN;
	if ((rc = conn_queue(c, buf, len)) != 0)
		return rc;
	if (c->handshaking)
		return 0;
	if ((rc = conn_flush(w, c)) != 0) {
		c->closing = true;
		return rc;
	}
	atomic_fetch_add(&w->t->st.tx, 1);
	return 0;
}

static void
conn_accept(struct tp_worker *w, struct listen_sock *ls)
{
	struct transport *t = w->t;

	for (;;) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		struct epoll_event ev;
		struct conn *c;
		int fd, one = 1;

		fd = accept4(ls->l.fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return; /* EAGAIN, or another worker took it */
		if (!src_acquire(t, &peer)) {
			atomic_fetch_add(&t->st.conns_refused, 1);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			src_release(t, &peer);
			close(fd);
			continue;
		}
		c->ep.kind = EP_CONN;
		c->ep.fd = fd;
		c->id = w->next_id++;
		c->proto = ls->l.proto;
		c->peer = peer;
		c->peerlen = plen;
		c->locallen = sizeof(c->local);
		getsockname(fd, (struct sockaddr *)&c->local, &c->locallen);
		c->opened = c->last_msg = now_s();
		if (c->proto == TP_TLS) {
			pthread_mutex_lock(&t->lock);
			c->ssl = t->ctx ? SSL_new(t->ctx) : NULL;
			pthread_mutex_unlock(&t->lock);
			if (c->ssl == NULL || !SSL_set_fd(c->ssl, fd)) {
				SSL_free(c->ssl);
				free(c->rbuf);
				free(c);
				src_release(t, &peer);
				close(fd);
				continue;
			}
			SSL_set_accept_state(c->ssl);
			c->handshaking = true;
		}
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.ptr = &c->ep;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
			SSL_free(c->ssl);
			free(c->rbuf);
			free(c);
			src_release(t, &peer);
			close(fd);
			continue;
		}
		c->next = w->conns[c->id % CONN_BUCKETS];
		w->conns[c->id % CONN_BUCKETS] = c;
		w->nconns++;
		atomic_fetch_add(&t->st.conns_total, 1);
	}
}

/* Hands every complete message in c->rbuf to the handler. Returns false
 * when the connection must close (garbage). */
static bool
conn_frames(struct tp_worker *w, struct conn *c)
{
	struct tp_flow f;
	size_t off = 0;

	f.proto = c->proto;
	f.worker = w->idx;
	f.conn_id = c->id;
	f.fd = -1;
	f.peer = c->peer;
	f.peerlen = c->peerlen;
	f.local = c->local;
	f.locallen = c->locallen;
	while (off < c->rlen && !c->closing) {
		size_t mlen = 0, crlf = 0;
		int rc = sip_stream_frame(
		    c->rbuf + off, c->rlen - off, &crlf, &mlen);

		if (crlf > 0) {
			/* RFC 5626 4.4.1: a double CRLF ping gets a CRLF. */
			if (crlf >= 4)
				tp_send(w, &f, "\r\n", 2);
			off += crlf;
			continue;
		}
		if (rc == ENODATA)
			break;
		if (rc != 0) {
			atomic_fetch_add(&w->t->st.frames_bad, 1);
			return false;
		}
		atomic_fetch_add(&w->t->st.stream_rx, 1);
		c->last_msg = now_s();
		w->t->cb(w->t->cb_arg, w, &f, c->rbuf + off, mlen);
		off += mlen;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	if (c->rlen == 0) {
		free(c->rbuf); /* idle connections hold no buffers */
		c->rbuf = NULL;
		c->rcap = 0;
	}
	c->partial_since =
	    c->rlen > 0 ? (c->partial_since ? c->partial_since : now_s()) : 0;
	return true;
}

/* The handshake is done: our record layer takes the keys and the SSL
 * object goes. Where it cannot (tlsrec_take says why), OpenSSL goes on.
 * What was queued during the handshake is sealed now. */
static void
conn_tls_handoff(struct transport *t, struct conn *c)
{
	char *q = c->wbuf;
	size_t qlen = c->wlen;

	int rc = tlsrec_take(c->ssl, &c->rec);

	if (rc != 0) {
		ERR_clear_error();
		atomic_fetch_add(&t->st.tls_openssl, 1);
		log_debug("tls: connection %llu stays with OpenSSL: %s",
		    (unsigned long long)c->id, strerror(rc));
		return;
	}
	atomic_fetch_add(&t->st.tls_own, 1);
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->wbuf = NULL;
	c->wlen = c->wcap = 0;
	if (qlen > 0 && conn_queue(c, q, qlen) != 0)
		c->closing = true;
	free(q);
}

/* Room for n more plaintext bytes in c->rbuf (a whole record's), up to a
 * whole message and one record past it. */
static int
conn_rbuf_room(struct conn *c, size_t n)
{
	size_t want = c->rlen + n;
	char *nb;

	if (c->rcap >= want)
		return 0;
	if (want > TP_RXBUF + TLSREC_PLAIN_MAX)
		return EMSGSIZE;
	if ((nb = realloc(c->rbuf, want)) == NULL)
		return ENOMEM;
	c->rbuf = nb;
	c->rcap = want;
	return 0;
}

/* Reads a connection whose records are ours: what recv gives (after the
 * partial record kept from the last read), into the worker's buffer,
 * opened into c->rbuf and framed; only a partial record left at the end
 * is kept with the connection. Returns 0 (call again), EAGAIN (nothing
 * more to read now), or an error: close (EPIPE: the peer closed or
 * alerted). */
static int
conn_read_rec(struct tp_worker *w, struct conn *c)
{
	unsigned char *in = w->tlsin;
	size_t inlen = c->rawlen, off = 0, used, out;
	ssize_t n;
	int rc = 0;

	if (inlen > 0)
		memcpy(in, c->raw, inlen);
	n = recv(c->ep.fd, in + inlen, TLSREC_CIPHER_MAX - inlen, 0);
	if (n == 0)
		return EPIPE;
	if (n == -1)
		return (errno == EAGAIN || errno == EINTR) ? EAGAIN : errno;
	inlen += (size_t)n;
	do {
		used = out = 0;
		if (c->rlen >= TP_RXBUF) {
			/* A message larger than the buffer. */
			atomic_fetch_add(&w->t->st.frames_bad, 1);
			return EMSGSIZE;
		}
		if ((rc = conn_rbuf_room(c, TLSREC_PLAIN_MAX)) != 0)
			return rc;
		rc = tlsrec_open(c->rec, in + off, inlen - off, &used,
		    (unsigned char *)c->rbuf + c->rlen, c->rcap - c->rlen,
		    &out);
		if (rc != 0 && rc != EPIPE)
			return rc;
		off += used;
		c->rlen += out;
		if (c->rlen > 0 && (!conn_frames(w, c) || c->closing))
			return EPROTO;
		if (rc == EPIPE)
			return EPIPE;
	} while (used > 0 && off < inlen);
	if (off == inlen) {
		free(c->raw); /* idle connections hold no buffers */
		c->raw = NULL;
		c->rawlen = 0;
	} else {
		unsigned char *nr = realloc(c->raw, inlen - off);

		if (nr == NULL)
			return ENOMEM;
		memcpy(nr, in + off, inlen - off);
		c->raw = nr;
		c->rawlen = inlen - off;
		if (!c->partial_since)
			c->partial_since = now_s(); /* a record begun */
	}
	if (c->rlen == 0) {
		free(c->rbuf);
		c->rbuf = NULL;
		c->rcap = 0;
		if (c->rawlen == 0)
			c->partial_since = 0;
	}
	if (tlsrec_reply_due(c->rec)) {
		/* The peer's KeyUpdate asked for ours. */
		if ((rc = conn_queue(c, "", 0)) != 0 ||
		    (rc = conn_flush(w, c)) != 0)
			return rc;
	}
	return 0;
}

static void
conn_event(struct tp_worker *w, struct conn *c, uint32_t events)
{
	if (c->handshaking) {
		int r = SSL_do_handshake(c->ssl);

		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);

			ERR_clear_error();
			if (e == SSL_ERROR_WANT_READ ||
			    e == SSL_ERROR_WANT_WRITE)
				return;
			atomic_fetch_add(&w->t->st.tls_handshake_fail, 1);
			conn_close(w, c);
			return;
		}
		c->handshaking = false;
		conn_tls_handoff(w->t, c);
		if (c->wlen > 0 && conn_flush(w, c) != 0) {
			conn_close(w, c);
			return;
		}
	}
	if ((events & EPOLLOUT) && conn_flush(w, c) != 0) {
		conn_close(w, c);
		return;
	}
	if (c->rec != NULL &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		int rc;

		while ((rc = conn_read_rec(w, c)) == 0 && !c->closing)
			;
		if (rc != EAGAIN || c->closing)
			conn_close(w, c);
		return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			ssize_t n;

			if (c->rbuf == NULL) {
				if ((c->rbuf = malloc(TP_RXBUF_MIN)) == NULL) {
					conn_close(w, c);
					return;
				}
				c->rcap = TP_RXBUF_MIN;
			}
			if (c->rlen == c->rcap && c->rcap < TP_RXBUF) {
				/* Idle phones keep a small buffer; a long
				 * message grows it, up to a whole message. */
				size_t nc = c->rcap * 4 > TP_RXBUF
				                ? TP_RXBUF
				                : c->rcap * 4;
				char *nb = realloc(c->rbuf, nc);

				if (nb == NULL) {
					conn_close(w, c);
					return;
				}
				c->rbuf = nb;
				c->rcap = nc;
			}
			if (c->rlen == TP_RXBUF) {
				/* A message larger than the buffer. */
				atomic_fetch_add(&w->t->st.frames_bad, 1);
				conn_close(w, c);
				return;
			}
			if (c->ssl != NULL) {
				int r = SSL_read(c->ssl, c->rbuf + c->rlen,
				    (int)(c->rcap - c->rlen));

				if (r <= 0) {
					int e = SSL_get_error(c->ssl, r);

					ERR_clear_error();
					if (e == SSL_ERROR_WANT_READ ||
					    e == SSL_ERROR_WANT_WRITE)
						break;
					conn_close(w, c);
					return;
				}
				n = r;
			} else {
				n = recv(c->ep.fd, c->rbuf + c->rlen,
				    c->rcap - c->rlen, 0);
				if (n == 0) {
					conn_close(w, c);
					return;
				}
				if (n == -1) {
					if (errno == EAGAIN || errno == EINTR)
						break;
					conn_close(w, c);
					return;
				}
			}
			c->rlen += (size_t)n;
			if (!conn_frames(w, c) || c->closing) {
				conn_close(w, c);
				return;
			}
		}
	}
}

/* Closes connections past their deadlines: handshake, a message begun
 * and not finished (slowloris), idle. */
static void
conn_sweep(struct tp_worker *w)
{
	time_t now = now_s();
	size_t i;

	if (now == w->last_sweep)
		return;
	w->last_sweep = now;
	for (i = 0; i < CONN_BUCKETS; i++) {
		struct conn *c = w->conns[i], *next;

		for (; c != NULL; c = next) {
			next = c->next;
			if ((c->handshaking &&
			        now - c->opened > TP_HANDSHAKE_S) ||
			    (c->partial_since &&
			        now - c->partial_since > TP_HEADER_S) ||
			    now - c->last_msg > TP_IDLE_S || c->closing) {
				atomic_fetch_add(&w->t->st.idle_closed, 1);
				conn_close(w, c);
			}
		}
	}
}

static void
udp_read(struct tp_worker *w, struct udp_sock *u)
{
	struct mmsghdr msgs[TP_UDP_BATCH];
	struct iovec iov[TP_UDP_BATCH];
	struct sockaddr_storage peers[TP_UDP_BATCH];
	int n, i;

	for (;;) {
		for (i = 0; i < TP_UDP_BATCH; i++) {
			iov[i].iov_base = w->rx[i];
			iov[i].iov_len = TP_RXBUF - 1;
			memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &peers[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
		}
		n = recvmmsg(u->ep.fd, msgs, TP_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (i = 0; i < n; i++) {
			struct tp_flow f;
			size_t len = msgs[i].msg_len;

			atomic_fetch_add(&w->t->st.udp_rx, 1);
			if (len <= 4) /* keep-alive CRLFs and empty datagrams */
				continue;
			f.proto = TP_UDP;
			f.worker = w->idx;
			f.conn_id = 0;
			f.fd = u->ep.fd;
			f.peer = peers[i];
			f.peerlen = msgs[i].msg_hdr.msg_namelen;
			f.local = u->local;
			f.locallen = u->locallen;
			w->t->cb(w->t->cb_arg, w, &f, w->rx[i], len);
		}
		if (n < TP_UDP_BATCH)
			return;
	}
}

struct transport *
tp_worker_transport(struct tp_worker *w)
{
	return w->t;
}

unsigned
tp_worker_count(const struct transport *t)
{
	return t->nw;
}

void
transport_on_close(struct transport *t, tp_close_cb cb, void *arg)
{
	t->close_cb = cb;
	t->close_arg = arg;
}

int
tp_post(struct transport *t, int idx, tp_job_fn fn, void *arg)
{
	struct tp_worker *w = &t->w[(unsigned)idx % t->nw];
	struct tp_job *j = malloc(sizeof(*j));
	uint64_t one = 1;

	if (j == NULL)
		return ENOMEM;
	j->fn = fn;
	j->arg = arg;
	j->next = NULL;
	pthread_mutex_lock(&w->jlock);
	if (w->jtail != NULL)
		w->jtail->next = j;
	else
		w->jhead = j;
	w->jtail = j;
	pthread_mutex_unlock(&w->jlock);
	if (write(w->wake.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("wake: %s", strerror(errno));
	return 0;
}

static void
jobs_run(struct tp_worker *w)
{
	struct tp_job *j, *next;
	uint64_t v;

	if (read(w->wake.fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("wake: %s", strerror(errno));
	pthread_mutex_lock(&w->jlock);
	j = w->jhead;
	w->jhead = w->jtail = NULL;
	pthread_mutex_unlock(&w->jlock);
	for (; j != NULL; j = next) {
		next = j->next;
		j->fn(w, j->arg);
		free(j);
	}
}

uint64_t
tp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
heap_swap(struct tp_worker *w, size_t a, size_t b)
{
	struct tp_timer *t = w->heap[a];

	w->heap[a] = w->heap[b];
	w->heap[b] = t;
	w->heap[a]->heap_idx = a;
	w->heap[b]->heap_idx = b;
}

static void
heap_up(struct tp_worker *w, size_t i)
{
	while (i > 1 && w->heap[i / 2]->when_ms > w->heap[i]->when_ms) {
		heap_swap(w, i, i / 2);
		i /= 2;
	}
}

static void
heap_down(struct tp_worker *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i, r = l + 1, m = i;

		if (l <= w->nheap && w->heap[l]->when_ms < w->heap[m]->when_ms)
			m = l;
		if (r <= w->nheap && w->heap[r]->when_ms < w->heap[m]->when_ms)
			m = r;
		if (m == i)
			return;
		heap_swap(w, i, m);
		i = m;
	}
}

void
tp_timer_cancel(struct tp_worker *w, struct tp_timer *tm)
{
	size_t i = tm->heap_idx;

	if (i == 0)
		return;
	tm->heap_idx = 0;
	if (i != w->nheap) {
		w->heap[i] = w->heap[w->nheap];
		w->heap[i]->heap_idx = i;
		w->nheap--;
		heap_up(w, i);
		heap_down(w, i);
	} else {
		w->nheap--;
	}
}

void
tp_timer_set(
    struct tp_worker *w, struct tp_timer *tm, uint64_t delay_ms, tp_timer_fn fn)
{
	tp_timer_cancel(w, tm);
	{
		/* The heap is 1-based: element nheap + 1 must fit. */
		struct tp_timer **nh = util_grow(w->heap, &w->heapcap,
		    w->nheap + 1, sizeof(*nh), TIMERS_INIT);

		if (nh == NULL) {
			log_err("timers: out of memory");
			return;
		}
		w->heap = nh;
	}
	tm->when_ms = tp_now_ms() + delay_ms;
	tm->fn = fn;
	w->heap[++w->nheap] = tm;
	tm->heap_idx = w->nheap;
	heap_up(w, w->nheap);
}

/* Runs the due timers; returns the ms until the next one (or 500). */
static int
timers_run(struct tp_worker *w)
{
	uint64_t now = tp_now_ms();

	while (w->nheap > 0 && w->heap[1]->when_ms <= now) {
		struct tp_timer *tm = w->heap[1];

		tp_timer_cancel(w, tm);
		tm->fn(w, tm);
		now = tp_now_ms();
	}
	if (w->nheap == 0)
		return 500;
	return w->heap[1]->when_ms - now > 500
	           ? 500
	           : (int)(w->heap[1]->when_ms - now);
}

static void *
worker_main(void *arg)
{
	struct tp_worker *w = arg;
	struct epoll_event evs[64];

	while (!atomic_load(&w->t->stop)) {
		int n = epoll_wait(w->epfd, evs, 64, timers_run(w)), i;

		for (i = 0; i < n; i++) {
			struct ep_item *it = evs[i].data.ptr;

			switch (it->kind) {
			case EP_UDP:
				udp_read(w, (struct udp_sock *)it);
				break;
			case EP_LISTEN:
				conn_accept(w, (struct listen_sock *)it);
				break;
			case EP_CONN:
				conn_event(w, (struct conn *)it, evs[i].events);
				break;
			case EP_WAKE:
				jobs_run(w);
				break;
			}
		}
		conn_sweep(w);
	}
	return NULL;
}

int
transport_start(struct transport *t, tp_msg_cb cb, void *arg)
{
	unsigned i;
	size_t j;

	t->cb = cb;
	t->cb_arg = arg;
	for (i = 0; i < t->nw; i++) {
		struct tp_worker *w = &t->w[i];
		struct epoll_event ev;

		if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
		    (w->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
			return errno;
		if ((w->rx = malloc(TP_UDP_BATCH * sizeof(*w->rx))) == NULL ||
		    (w->tlsin = malloc(TLSREC_CIPHER_MAX)) == NULL)
			return ENOMEM;
		w->wake.kind = EP_WAKE;
		ev.events = EPOLLIN;
		ev.data.ptr = &w->wake;
		epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake.fd, &ev);
		for (j = 0; j < w->nudp; j++) {
			ev.events = EPOLLIN;
			ev.data.ptr = &w->udp[j].ep;
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->udp[j].ep.fd,
			        &ev) == -1)
				return errno;
		}
		for (j = 0; j < t->nls; j++) {
			if (t->ls[j].l.proto == TP_UDP)
				continue;
			ev.events = EPOLLIN | EPOLLEXCLUSIVE;
			ev.data.ptr = &t->ls[j].ep;
			if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, t->ls[j].l.fd,
			        &ev) == -1)
				return errno;
		}
	}
	for (i = 0; i < t->nw; i++) {
		if (pthread_create(&t->w[i].th, NULL, worker_main, &t->w[i]))
			return EAGAIN;
		t->w[i].started = true;
	}
	return 0;
}

void
transport_free(struct transport *t)
{
	unsigned i;
	size_t j;

	if (t == NULL)
		return;
	atomic_store(&t->stop, true);
	t->close_cb = NULL; /* nothing to tell at shutdown */
	for (i = 0; t->w != NULL && i < t->nw; i++) {
		uint64_t one = 1;

		if (t->w[i].wake.fd != -1 &&
		    write(t->w[i].wake.fd, &one, sizeof(one)) < 0)
			log_debug("wake: %s", strerror(errno));
	}
	for (i = 0; t->w != NULL && i < t->nw; i++) {
		struct tp_worker *w = &t->w[i];

		if (w->started)
			pthread_join(w->th, NULL);
		for (j = 0; j < CONN_BUCKETS; j++)
			while (w->conns[j] != NULL)
				conn_close(w, w->conns[j]);
		for (j = 0; j < w->nudp; j++)
			close(w->udp[j].ep.fd);
		while (w->jhead != NULL) {
			struct tp_job *job = w->jhead;

			w->jhead = job->next;
			free(job->arg); /* jobs left at stop: plain buffers */
			free(job);
		}
		pthread_mutex_destroy(&w->jlock);
		free(w->heap);
		free(w->udp);
		free(w->rx);
		free(w->tlsin);
		if (w->epfd != -1)
			close(w->epfd);
		if (w->wake.fd != -1)
			close(w->wake.fd);
	}
	for (j = 0; j < t->nls; j++)
		if (t->ls[j].l.fd != -1)
			close(t->ls[j].l.fd);
	for (j = 0; j < SRC_BUCKETS; j++)
		while (t->srcs[j] != NULL) {
			struct src_count *c = t->srcs[j];

			t->srcs[j] = c->next;
			free(c);
		}
	SSL_CTX_free(t->ctx);
	for (j = 0; j < t->nsni; j++)
		SSL_CTX_free(t->sni[j].ctx);
	free(t->sni);
	free(t->w);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

void
transport_stats(struct transport *t, struct tp_stats *o)
{
	o->udp_rx = atomic_load(&t->st.udp_rx);
	o->stream_rx = atomic_load(&t->st.stream_rx);
	o->tx = atomic_load(&t->st.tx);
	o->conns_open = atomic_load(&t->nconns);
	o->conns_total = atomic_load(&t->st.conns_total);
	o->conns_refused = atomic_load(&t->st.conns_refused);
	o->tls_handshake_fail = atomic_load(&t->st.tls_handshake_fail);
	o->frames_bad = atomic_load(&t->st.frames_bad);
	o->idle_closed = atomic_load(&t->st.idle_closed);
	o->tls_own = atomic_load(&t->st.tls_own);
	o->tls_openssl = atomic_load(&t->st.tls_openssl);
}
