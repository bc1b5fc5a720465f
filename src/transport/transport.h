/* transport.h: SIP over UDP, TCP and TLS. Listeners are bound once at
 * start (before privileges are dropped); each worker thread runs one epoll
 * loop with its own SO_REUSEPORT UDP sockets and the TCP/TLS connections
 * it accepted. A message arrives through the worker's handler with the
 * flow it came on; answers go back on that flow (the connection a phone
 * opened, or its UDP source). */
#ifndef SW_TRANSPORT_H
#define SW_TRANSPORT_H

#include "core/config.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum tp_proto { TP_UDP, TP_TCP, TP_TLS };

enum {
	TP_LISTEN_MAX = 3 * CONFIG_LISTEN_MAX,
	TP_WORKERS_MAX = CONFIG_WORKERS_MAX,
	TP_UDP_BATCH = 32,       /* datagrams per recvmmsg */
	TP_RXBUF = 65536,        /* a datagram, or a stream's buffer */
	TP_RXBUF_MIN = 4096,     /* a stream's buffer to start with */
	TP_CONN_MAX = 65536,     /* connections per node */
	TP_CONN_PER_SOURCE = 64, /* connections per source address */
	TP_SRCS_MAX = 1 << 20,   /* sources followed (connections, rates) */
	TP_IDLE_S = 300,         /* idle TCP/TLS connection closes */
	TP_HANDSHAKE_S = 10,     /* TLS handshake and first message */
	TP_HEADER_S = 30,        /* a started message must complete */
	TP_WQUEUE_MAX = 1 << 20, /* bytes queued to a slow reader */
};

/* Where a message came from, and how to answer it. */
struct tp_flow {
	enum tp_proto proto;
	int worker;       /* the worker that owns conn_id */
	uint64_t conn_id; /* TCP/TLS: the connection; UDP: 0 */
	int fd;           /* UDP: the socket it arrived on */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct sockaddr_storage local;
	socklen_t locallen;
};

struct tp_listener {
	enum tp_proto proto;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int fd; /* TCP/TLS: the listening socket, shared by workers */
};

struct tp_worker;
struct transport;

/* Called for each complete SIP message (datagram or framed stream
 * message). buf is valid for the call only. */
typedef void (*tp_msg_cb)(void *arg, struct tp_worker *w,
    const struct tp_flow *f, char *buf, size_t len);

/* Binds every listener of cfg, with the UDP sockets of nworkers workers
 * (SO_REUSEPORT). Must run before privileges drop. Returns 0 or an errno
 * code with err filled ("[sip] tls 0.0.0.0:5061: ..."). */
int transport_new(const struct config *cfg, unsigned nworkers,
    struct transport **out, char *err, size_t errsize);
/* Loads (or reloads, on SIGHUP) the TLS settings of cfg: the default
 * certificate and key, one per tenant domain from [sip] certs (chosen by
 * SNI), client-certificate verification; existing connections keep
 * theirs. Returns 0 or an errno code with err filled. */
int transport_tls_load(
    struct transport *t, const struct config *cfg, char *err, size_t errsize);
/* Starts the worker threads, calling cb for each message. */
int transport_start(struct transport *t, tp_msg_cb cb, void *arg);
/* Stops and joins the workers, closes everything. Accepts NULL. */
void transport_free(struct transport *t);

/* Sends a whole message on a flow. From the worker that owns a TCP/TLS
 * connection it is written (or queued) at once; from another worker the
 * bytes are copied and handed to the owner. Returns 0, ENOTCONN when the
 * connection is gone (known at once only on its owner), or an errno
 * code. */
int tp_send(
    struct tp_worker *w, const struct tp_flow *f, const void *buf, size_t len);

/* Runs fn(w, arg) in the thread of worker idx, soon, in order with the
 * other jobs posted to it. fn owns arg. Returns 0, or ENOMEM (fn is then
 * not called and arg is the caller's). */
typedef void (*tp_job_fn)(struct tp_worker *w, void *arg);
int tp_post(struct transport *t, int idx, tp_job_fn fn, void *arg);
struct transport *tp_worker_transport(struct tp_worker *w);
unsigned tp_worker_count(const struct transport *t);

/* A worker's timers: fn runs in the worker's thread after delay_ms (ms
 * resolution). A timer belongs to one worker; set and cancel it from
 * that worker only. Setting a pending timer moves it. */
struct tp_timer;
typedef void (*tp_timer_fn)(struct tp_worker *w, struct tp_timer *tm);
struct tp_timer {
	uint64_t when_ms;
	size_t heap_idx; /* 0 = not pending */
	tp_timer_fn fn;
};
void tp_timer_set(struct tp_worker *w, struct tp_timer *tm, uint64_t delay_ms,
    tp_timer_fn fn);
void tp_timer_cancel(struct tp_worker *w, struct tp_timer *tm);
/* Monotonic milliseconds, as timers count them. */
uint64_t tp_now_ms(void);

/* Called in the owner's thread when a TCP/TLS connection closes. */
typedef void (*tp_close_cb)(
    void *arg, struct tp_worker *w, int worker, uint64_t conn_id);
void transport_on_close(struct transport *t, tp_close_cb cb, void *arg);
/* The worker's index (0..n-1). */
int tp_worker_index(const struct tp_worker *w);

/* The peer's address without port (for received= and logs), and its
 * port. */
void tp_peer_ip(const struct tp_flow *f, char *buf, size_t size);
unsigned tp_peer_port(const struct tp_flow *f);

/* "udp", "tcp", "tls" */
const char *tp_proto_name(enum tp_proto p);
/* "192.0.2.1:5060" or "[2001:db8::1]:5061" */
char *tp_addr_fmt(const struct sockaddr_storage *ss, char *buf, size_t size);

/* Counters for tests and metrics (whole node). */
struct tp_stats {
	uint64_t udp_rx, stream_rx, tx, conns_open, conns_total, conns_refused,
	    tls_handshake_fail, frames_bad, idle_closed;
	/* TLS connections past their handshake: records handled by us
	 * (tlsrec), or left to OpenSSL (a case tlsrec does not take). */
	uint64_t tls_own, tls_openssl;
};
void transport_stats(struct transport *t, struct tp_stats *out);

#endif
