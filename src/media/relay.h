/* relay.h: the media relay. Every call's media goes through the server:
 * each side of a call (side 0 = A, the caller; side 1 = B) gets an RTP
 * port and the port above it for RTCP (unused with rtcp-mux) from the
 * [media] ports range, bound on the wildcard address of that side's
 * family. Packets from a side are checked (SRTP authenticated and
 * decrypted with the key that side announced, or plain RTP) and sent to
 * the other side (encrypted with the key the server gave that side, or
 * plain), from the other side's port.
 *
 * A side's peer address is learned, then locked: with SRTP, from the
 * first packet that authenticates; with plain RTP, from the first packet
 * whose source IP is the one signalling announced. Packets from anywhere
 * else, and packets that fail authentication or replay checks, are
 * dropped and counted (the RTP-bleed class of attack). Until a side's
 * address is learned, packets to it go to the address signalling
 * announced.
 *
 * Media threads ([media] threads) each run an epoll loop; a call's sockets
 * belong to one thread. recvmmsg/sendmmsg batches; nothing is allocated
 * per packet; crypto in place. Control calls (media_call_*) come from SIP
 * workers or the ng listener and are thread-safe. */
#ifndef SW_RELAY_H
#define SW_RELAY_H

#include "media/srtp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	MEDIA_THREADS_MAX = 64,
	MEDIA_BATCH = 32, /* datagrams per recvmmsg/sendmmsg */
	MEDIA_PKT_MAX = 1500 + SRTP_RTCP_OVERHEAD_MAX,
};

struct media_relay;
struct media_call;

/* Called from a media thread when a call's media stopped: no packet from
 * either side for timeout_s seconds, while neither side is on hold. Called
 * at most once per call. It must not call media_call_free itself (post the
 * work elsewhere); after media_call_free returns it is no longer called
 * for that call. */
typedef void (*media_timeout_fn)(void *arg, uint64_t cookie);

struct media_relay_config {
	uint16_t port_lo, port_hi; /* inclusive; pairs start on even ports */
	unsigned threads;          /* 0: one */
	unsigned timeout_s;        /* 0: never */
	media_timeout_fn on_timeout;
	void *arg;
};

/* What signalling said about one side of a call. */
struct media_side {
	struct sockaddr_storage rtp;  /* the address the peer announced for
	                                 RTP (c= and m= port); port 0 or
	                                 family AF_UNSPEC: none */
	struct sockaddr_storage rtcp; /* for RTCP (a=rtcp, or RTP port + 1);
	                                 ignored with rtcp_mux */
	bool rtcp_mux;
	bool send; /* the relay may send to this side (it receives) */
	bool recv; /* the peer sends (packets from it are relayed) */
	bool srtp; /* SRTP on this side; else plain RTP */
	enum srtp_suite suite;
	unsigned char rx_key[SRTP_MASTER_MAX]; /* the peer's key: checks what
	                                          it sends */
	unsigned char tx_key[SRTP_MASTER_MAX]; /* the server's key for this
	                                          side: protects what it gets */
	size_t keylen;                         /* srtp_suite_keylen(suite) */
	uint32_t clock_rate; /* of the first format, for jitter; 0: 8000 */
};

struct media_stats {
	uint64_t pkts_in, bytes_in;   /* accepted from this side */
	uint64_t pkts_out, bytes_out; /* sent to this side */
	uint64_t spoofed;   /* from another source than the learned one */
	uint64_t auth_fail; /* SRTP authentication failed (or malformed) */
	uint64_t replayed;  /* SRTP replay window */
	uint64_t lost;      /* RTP sequence gaps seen from this side */
	uint32_t jitter_us; /* RFC 3550 interarrival jitter of this side */
	bool learned;       /* the side's address is learned and locked */
	struct sockaddr_storage peer; /* the learned address */
};

/* Global counters of a relay (all calls, all threads). */
struct media_relay_stats {
	uint64_t calls_active;
	uint64_t ports_free;
	uint64_t pkts_relayed, pkts_dropped;
};

/* Starts the media threads. Returns 0, EINVAL (bad range: fewer than 4
 * ports, odd bounds are narrowed), ENOMEM, or the errno of a failing
 * thread or epoll call. */
int media_relay_new(
    const struct media_relay_config *cfg, struct media_relay **out);
/* Stops the threads, frees every call left (no callbacks), closes every
 * socket. Accepts NULL. */
void media_relay_free(struct media_relay *r);
void media_relay_stats(struct media_relay *r, struct media_relay_stats *st);

/* A new call with ports for both sides: family_a and family_b are AF_INET
 * or AF_INET6 (the family each side's peer uses). cookie identifies the
 * call to on_timeout. Ports already held by another program are skipped.
 * Returns 0, EINVAL, EADDRINUSE (no free port pair left), ENOMEM. The
 * call relays nothing until both sides are set. */
int media_call_new(struct media_relay *r, uint64_t cookie, int family_a,
    int family_b, struct media_call **out);
/* The RTP port of side (0 or 1): where that side's peer sends (RTCP:
 * port + 1 without rtcp-mux). */
uint16_t media_call_port(const struct media_call *c, int side);
/* The address family a side's ports were bound for. */
int media_call_family(const struct media_call *c, int side);
/* Sets (or, on re-INVITE/hold/resume, updates) a side. A changed address
 * or rx key forgets the learned address (learned again, as above); the
 * SRTP contexts are rebuilt only when a key changes. Returns 0, EINVAL
 * (bad side, key length, family), ENOMEM. */
int media_call_set(struct media_call *c, int side, const struct media_side *s);
/* The counters of side (0 or 1) so far. */
void media_call_stats(
    const struct media_call *c, int side, struct media_stats *st);
/* Closes the call's sockets, returns its ports to the pool and frees it,
 * wiping keys. After it returns, no media thread uses c and on_timeout is
 * not called for it. Accepts NULL. */
void media_call_free(struct media_call *c);

#endif
