/* relaybench.c: the media relay's (src/media/relay.c) throughput and CPU
 * per relayed packet on loopback. A sender thread sends 172-byte RTP
 * packets (G.711, 20 ms) to side A of `calls` calls in turn, in sendmmsg
 * batches, as fast as it can (or at -r packets per second); a sink thread
 * drains side B. With -s both sides are SRTP (AES_CM_128_HMAC_SHA1_80,
 * different keys): the relay unprotects and protects every packet; the
 * sender protects with its own contexts (its CPU is not the relay's).
 * Not part of make; build it by hand:
 *
 *   gcc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/tools/relaybench.c \
 *       src/media/relay.c src/media/portpool.c src/media/srtp.c \
 *       src/lib/util.c src/lib/log.c -o /tmp/relaybench -lcrypto -lpthread
 *   /tmp/relaybench [-s] [-c calls] [-t threads] [-d seconds] [-r pps]
 *
 * Prints packets sent, relayed (and per second), dropped by the relay,
 * received by the sink, and the relay threads' CPU time per relayed
 * packet: process CPU minus the sender's and the sink's own thread CPU
 * (user + system; the kernel's loopback delivery to the sink runs in the
 * relay thread's sendmmsg and is counted there). */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "media/relay.h"

enum {
	BATCH = 32,
	PAYLOAD = 160,
	RTP_LEN = 12 + PAYLOAD,
	CALLS_MAX = 4000,
	PORT_LO = 30000,
};

static const enum srtp_suite bench_suite = SRTP_SUITE_AES_CM_128_HMAC_SHA1_80;

struct bench {
	bool srtp;
	unsigned calls, threads, seconds;
	uint64_t pps; /* 0: as fast as possible */
	struct media_relay *r;
	struct media_call **c;
	struct srtp_ctx **tx; /* the sender's, per call (-s) */
	int a_fd, b_fd;
	struct sockaddr_in a_addr, b_addr;
	atomic_bool stop;
	uint64_t sent, received;
	int64_t sender_cpu, sink_cpu; /* ns */
};

static int64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
udp_open(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd, buf = 4 << 20;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)sin, &len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *
sender_main(void *arg)
{
	struct bench *b = arg;
	static unsigned char buf[BATCH][RTP_LEN + SRTP_RTP_OVERHEAD_MAX];
	struct sockaddr_in to[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	uint32_t seq = 0;
	unsigned call = 0, i;
	int64_t start = now_ns(CLOCK_MONOTONIC), due;
	size_t len;
	int n;

	while (!atomic_load(&b->stop)) {
		if (b->pps != 0) {
			due = start + (int64_t)(b->sent * 1000000000 / b->pps);
			while (now_ns(CLOCK_MONOTONIC) < due &&
			       !atomic_load(&b->stop))
				;
		}
		for (i = 0; i < BATCH; i++, call = (call + 1) % b->calls) {
			unsigned char *p = buf[i];
			uint32_t s = seq + call; /* per call: seq / calls */

			memset(p, 0xd5, RTP_LEN);
			p[0] = 0x80;
			p[1] = 0;
			p[2] = (unsigned char)(s >> 8);
			p[3] = (unsigned char)s;
			memcpy(p + 4, &s, 4);
			p[8] = (unsigned char)(call >> 8);
			p[9] = (unsigned char)call;
			len = RTP_LEN;
			if (b->srtp && srtp_rtp_protect(b->tx[call], p, len,
			                   sizeof(buf[i]), &len) != 0)
				len = RTP_LEN;
			to[i] = b->a_addr;
			to[i].sin_port = htons(media_call_port(b->c[call], 0));
			iov[i].iov_base = p;
			iov[i].iov_len = len;
			memset(&m[i], 0, sizeof(m[i]));
			m[i].msg_hdr.msg_name = &to[i];
			m[i].msg_hdr.msg_namelen = sizeof(to[i]);
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			if (call == b->calls - 1)
				seq++;
		}
		n = sendmmsg(b->a_fd, m, BATCH, 0);
		if (n > 0)
			b->sent += (uint64_t)n;
	}
	b->sender_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

static void *
sink_main(void *arg)
{
	struct bench *b = arg;
	static unsigned char buf[BATCH][2048];
	struct iovec iov[BATCH];
	struct mmsghdr m[BATCH];
	struct timespec wait = {0, 100 * 1000000};
	unsigned i;
	int n;

	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		memset(&m[i], 0, sizeof(m[i]));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load(&b->stop)) {
		n = recvmmsg(b->b_fd, m, BATCH, MSG_WAITFORONE, &wait);
		if (n > 0)
			b->received += (uint64_t)n;
	}
	b->sink_cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

static int
bench_setup(struct bench *b)
{
	struct media_relay_config cfg;
	struct media_side s;
	unsigned i;
	int side, err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.port_lo = PORT_LO;
	cfg.port_hi = (uint16_t)(PORT_LO + 4 * b->calls + 3);
	cfg.threads = b->threads;
	if ((err = media_relay_new(&cfg, &b->r)) != 0)
		return err;
	b->c = calloc(b->calls, sizeof(*b->c));
	b->tx = calloc(b->calls, sizeof(*b->tx));
	if (b->c == NULL || b->tx == NULL)
		return ENOMEM;
	for (i = 0; i < b->calls; i++) {
		if ((err = media_call_new(
		         b->r, i, AF_INET, AF_INET, &b->c[i])) != 0)
			return err;
		for (side = 0; side < 2; side++) {
			memset(&s, 0, sizeof(s));
			memcpy(&s.rtp, side == 0 ? &b->a_addr : &b->b_addr,
			    sizeof(b->a_addr));
			s.rtcp_mux = true;
			s.send = s.recv = true;
			if (b->srtp) {
				s.srtp = true;
				s.suite = bench_suite;
				s.keylen = srtp_suite_keylen(bench_suite);
				memset(s.rx_key, 0x10 + side, s.keylen);
				memset(s.tx_key, 0x20 + side, s.keylen);
			}
			if ((err = media_call_set(b->c[i], side, &s)) != 0)
				return err;
		}
		/* The sender protects with side A's rx key (0x10 bytes). */
		memset(s.rx_key, 0x10, sizeof(s.rx_key));
		if (b->srtp && (err = srtp_ctx_new(bench_suite, s.rx_key,
		                    s.keylen, &b->tx[i])) != 0)
			return err;
	}
	return 0;
}

static int
opt_u64(const char *s, uint64_t max, uint64_t *out)
{
	return util_u64_parse(s, strlen(s), max, out);
}

int
main(int argc, char **argv)
{
	struct bench b;
	struct media_relay_stats st;
	struct rusage ru;
	pthread_t snd, snk;
	uint64_t v;
	int64_t t0, t1, cpu0, cpu1, relay_cpu;
	unsigned i;
	int ch, err;

	memset(&b, 0, sizeof(b));
	b.calls = 100;
	b.threads = 1;
	b.seconds = 5;
	while ((ch = getopt(argc, argv, "sc:t:d:r:")) != -1) {
		switch (ch) {
		case 's':
			b.srtp = true;
			break;
		case 'c':
			if (opt_u64(optarg, CALLS_MAX, &v) != 0 || v == 0)
				goto usage;
			b.calls = (unsigned)v;
			break;
		case 't':
			if (opt_u64(optarg, MEDIA_THREADS_MAX, &v) != 0)
				goto usage;
			b.threads = (unsigned)v;
			break;
		case 'd':
			if (opt_u64(optarg, 3600, &v) != 0 || v == 0)
				goto usage;
			b.seconds = (unsigned)v;
			break;
		case 'r':
			if (opt_u64(optarg, 100000000, &b.pps) != 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if ((b.a_fd = udp_open(&b.a_addr)) == -1 ||
	    (b.b_fd = udp_open(&b.b_addr)) == -1) {
		perror("socket");
		return 1;
	}
	if ((err = bench_setup(&b)) != 0) {
		fprintf(stderr, "setup: %s\n", strerror(err));
		return 1;
	}
	getrusage(RUSAGE_SELF, &ru);
	cpu0 = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	t0 = now_ns(CLOCK_MONOTONIC);
	pthread_create(&snk, NULL, sink_main, &b);
	pthread_create(&snd, NULL, sender_main, &b);
	sleep(b.seconds);
	atomic_store(&b.stop, true);
	pthread_join(snd, NULL);
	pthread_join(snk, NULL);
	t1 = now_ns(CLOCK_MONOTONIC);
	getrusage(RUSAGE_SELF, &ru);
	cpu1 = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	media_relay_stats(b.r, &st);
	relay_cpu = cpu1 - cpu0 - b.sender_cpu - b.sink_cpu;
	printf("%s calls=%u threads=%u seconds=%.1f\n",
	    b.srtp ? "srtp->srtp" : "plain->plain", b.calls, b.threads,
	    (double)(t1 - t0) / 1e9);
	printf("sent=%llu relayed=%llu (%.0f/s) dropped=%llu received=%llu\n",
	    (unsigned long long)b.sent, (unsigned long long)st.pkts_relayed,
	    (double)st.pkts_relayed / ((double)(t1 - t0) / 1e9),
	    (unsigned long long)st.pkts_dropped,
	    (unsigned long long)b.received);
	if (st.pkts_relayed > 0)
		printf("relay cpu=%.2f s, %.0f ns per relayed packet\n",
		    (double)relay_cpu / 1e9,
		    (double)relay_cpu / (double)st.pkts_relayed);
	for (i = 0; i < b.calls; i++) {
		media_call_free(b.c[i]);
		srtp_ctx_free(b.tx[i]);
	}
	media_relay_free(b.r);
	free(b.c);
	free(b.tx);
	close(b.a_fd);
	close(b.b_fd);
	return 0;
usage:
	fprintf(stderr,
	    "usage: relaybench [-s] [-c calls] [-t threads] [-d seconds] "
	    "[-r pps]\n");
	return 2;
}
