/* portpool.c: the relay's port pairs (see portpool.h).
 *
 * Pair i is the ports lo + 2i and lo + 2i + 1. The free pairs are a ring
 * of indices (a FIFO): get pops from its head, put and a busy pair push
 * to its tail, both O(1). Sockets are made and bound outside the lock. */
#include "media/portpool.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct portpool {
	pthread_mutex_t lock;
	uint32_t lo;       /* even: the first pair's RTP port */
	uint32_t npairs;   /* >= 2 */
	uint32_t *ring;    /* npairs slots of free pair indices */
	uint32_t head;     /* the oldest free pair */
	uint32_t count;    /* free pairs in the ring */
	unsigned char *in; /* per pair: 1 while in the ring */
};

int
portpool_new(uint16_t lo, uint16_t hi, struct portpool **out)
{
	struct portpool *p = NULL;
	uint32_t first = lo, last = hi, i;
	int err = 0;

	if (first % 2 != 0)
		first++;
	if (last % 2 == 0)
		last--; /* the last pair's RTCP port is odd (hi 0: none) */
	if (lo == 0 || last < first || last - first + 1 < 4)
		return EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ENOMEM;
	p->lo = first;
	p->npairs = (last - first + 1) / 2;
	p->ring = calloc(p->npairs, sizeof(*p->ring));
	p->in = calloc(p->npairs, sizeof(*p->in));
	if (p->ring == NULL || p->in == NULL) {
		err = ENOMEM;
		goto out;
	}
	if ((err = pthread_mutex_init(&p->lock, NULL)) != 0)
		goto out;
	for (i = 0; i < p->npairs; i++) {
		p->ring[i] = i;
		p->in[i] = 1;
	}
	p->count = p->npairs;
	*out = p;
	p = NULL;
out:
	if (p != NULL) {
		free(p->ring);
		free(p->in);
		free(p);
	}
	return err;
}

void
portpool_free(struct portpool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->ring);
	free(p->in);
	free(p);
}

/* Pops the oldest free pair into *idx. Returns false when none. Called
 * with the lock held. */
static bool
portpool_pop(struct portpool *p, uint32_t *idx)
{
	if (p->count == 0)
		return false;
	*idx = p->ring[p->head];
	p->in[*idx] = 0;
	p->head = (p->head + 1) % p->npairs;
	p->count--;
	return true;
}

/* Pushes pair idx at the tail. Called with the lock held. */
static void
portpool_push(struct portpool *p, uint32_t idx)
{
	if (p->in[idx])
		return; /* already free: a double put changes nothing */
	p->ring[(p->head + p->count) % p->npairs] = idx;
	p->in[idx] = 1;
	p->count++;
}

/* A UDP socket of family bound on the wildcard address at port, in *fdp.
 * Returns 0 or an errno code (EADDRINUSE: another socket holds it). */
static int
portpool_sock_bind(int family, uint16_t port, int *fdp)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1, buf = PORTPOOL_SOCKBUF, err = 0;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(port);
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		sslen = sizeof(*sin6);
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno;
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
	                              &one, sizeof(one)) == -1) {
		err = errno;
		goto out;
	}
	/* Best effort: a smaller buffer still works. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) == -1) {
		err = errno;
		goto out;
	}
	*fdp = fd;
	fd = -1;
out:
	if (fd != -1)
		close(fd);
	return err;
}

int
portpool_pair_get(struct portpool *p, int family, uint16_t *portp, int fds[2])
{
	uint32_t idx, tries;
	uint16_t port;
	int rtp = -1, rtcp = -1, err = EADDRINUSE;

	if (p == NULL || (family != AF_INET && family != AF_INET6))
		return EINVAL;
	pthread_mutex_lock(&p->lock);
	tries = p->count; /* each pair free now is tried once at most */
	pthread_mutex_unlock(&p->lock);
	while (tries-- > 0) {
		pthread_mutex_lock(&p->lock);
		if (!portpool_pop(p, &idx)) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		pthread_mutex_unlock(&p->lock);
		port = (uint16_t)(p->lo + 2 * idx);
		err = portpool_sock_bind(family, port, &rtp);
		if (err == 0) {
			err = portpool_sock_bind(family, port + 1, &rtcp);
			if (err != 0) {
				close(rtp);
				rtp = -1;
			}
		}
		if (err == 0) {
			*portp = port;
			fds[0] = rtp;
			fds[1] = rtcp;
			return 0;
		}
		pthread_mutex_lock(&p->lock);
		portpool_push(p, idx); /* tried again later */
		pthread_mutex_unlock(&p->lock);
		if (err != EADDRINUSE && err != EACCES)
			return err;
		err = EADDRINUSE;
	}
	return err;
}

void
portpool_pair_put(struct portpool *p, uint16_t port, int fds[2])
{
	uint32_t idx;

	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	fds[0] = fds[1] = -1;
	if (p == NULL || port < p->lo || (port - p->lo) % 2 != 0)
		return;
	idx = (uint32_t)(port - p->lo) / 2;
	if (idx >= p->npairs)
		return;
	pthread_mutex_lock(&p->lock);
	portpool_push(p, idx);
	pthread_mutex_unlock(&p->lock);
}

uint64_t
portpool_ports_free(struct portpool *p)
{
	uint64_t n;

	pthread_mutex_lock(&p->lock);
	n = (uint64_t)p->count * 2;
	pthread_mutex_unlock(&p->lock);
	return n;
}
