/* portpool.h: the media relay's UDP port pairs (relay.c's internals).
 *
 * A pool over [lo, hi] hands out pairs: an even port P for RTP and P + 1
 * for RTCP, each bound on the wildcard address of a family (0.0.0.0, or
 * [::] with IPV6_V6ONLY), non-blocking, close-on-exec, with socket
 * buffers of PORTPOOL_SOCKBUF and kernel receive timestamps
 * (SO_TIMESTAMPNS). Free pairs wait in a FIFO, so a port freed now is
 * handed out again as late as possible (stray packets of the old call
 * die out first). A pair that another program holds (EADDRINUSE) goes
 * back to the end of the FIFO and is tried again later. Thread-safe. */
#ifndef SW_PORTPOOL_H
#define SW_PORTPOOL_H

#include <stdint.h>

enum {
	PORTPOOL_SOCKBUF = 256 * 1024, /* SO_RCVBUF and SO_SNDBUF bytes
	                                  (the kernel caps at rmem_max) */
};

struct portpool;

/* A pool of the pairs in [lo, hi]: an odd lo and an even hi are narrowed
 * to whole pairs. Returns 0, EINVAL (lo 0, or fewer than 4 ports after
 * narrowing), ENOMEM. */
int portpool_new(uint16_t lo, uint16_t hi, struct portpool **out);
/* Frees the pool (pairs still out are the caller's). Accepts NULL. */
void portpool_free(struct portpool *p);

/* Takes a free pair and binds it for family (AF_INET or AF_INET6): sets
 * *portp to its RTP port, fds[0] to the RTP socket and fds[1] to the RTCP
 * socket (the caller owns them until portpool_pair_put). Pairs held by
 * another program are skipped. Returns 0, EINVAL, EADDRINUSE (no free pair
 * could be bound), or the errno of socket(2) (EMFILE, ENOBUFS...). */
int portpool_pair_get(
    struct portpool *p, int family, uint16_t *portp, int fds[2]);
/* Closes fds (-1 entries are skipped) and returns the pair of RTP port
 * port to the pool. */
void portpool_pair_put(struct portpool *p, uint16_t port, int fds[2]);

/* Ports (two per pair) in the pool now, pairs held by others included. */
uint64_t portpool_ports_free(struct portpool *p);

#endif
