/* relay_test.c: unit tests of the media relay (media/relay.h) with real
 * sockets on 127.0.0.1, 127.0.0.2 and [::1] and real media threads:
 * "phones" are UDP sockets of the test. */
#include "media/relay.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

enum {
	WAIT_MS = 2000,  /* the longest wait for a packet or a counter */
	QUIET_MS = 100,  /* how long "nothing arrives" is watched */
	PORTS_MAX = 640, /* ports all tests use, from ports_start */
};

/* Each test takes its own ports from the process's range (per pid, so
 * parallel runs differ; a failed test leaves its ports to itself). */
static uint16_t ports_start, ports_next;
static uint16_t port_base; /* of the current test's range */

/* Takes n (even) ports for the current test: [port_base, +n). */
static void
range_take(unsigned n)
{
	assert_true(
	    (unsigned)ports_next + n <= (unsigned)ports_start + PORTS_MAX);
	port_base = ports_next;
	ports_next = (uint16_t)(ports_next + n);
}

struct phone {
	int fd;
	struct sockaddr_storage addr; /* where it is bound */
};

static struct sockaddr_storage
sa(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	}
	return ss;
}

static socklen_t
sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                 : sizeof(struct sockaddr_in);
}

static uint16_t
sa_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static bool
sa_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family || sa_port(a) != sa_port(b))
		return false;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		           &((const struct sockaddr_in6 *)b)->sin6_addr,
		           16) == 0;
	return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
	       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
}

/* A UDP socket bound on ip, port 0 (or port). */
static void
phone_open_port(struct phone *ph, const char *ip, uint16_t port)
{
	socklen_t len;

	ph->addr = sa(ip, port);
	ph->fd = socket(ph->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(ph->fd >= 0);
	assert_int_equal(
	    bind(ph->fd, (struct sockaddr *)&ph->addr, sa_len(&ph->addr)), 0);
	len = sizeof(ph->addr);
	assert_int_equal(
	    getsockname(ph->fd, (struct sockaddr *)&ph->addr, &len), 0);
}

static void
phone_open(struct phone *ph, const char *ip)
{
	phone_open_port(ph, ip, 0);
}

static void
phone_close(struct phone *ph)
{
	if (ph->fd >= 0)
		close(ph->fd);
	ph->fd = -1;
}

/* Sends len bytes to ip:port. */
static void
phone_send(const struct phone *ph, const char *ip, uint16_t port, const void *p,
    size_t len)
{
	struct sockaddr_storage to = sa(ip, port);

	assert_int_equal(
	    sendto(ph->fd, p, len, 0, (struct sockaddr *)&to, sa_len(&to)),
	    (ssize_t)len);
}

/* Waits up to ms for a datagram; returns its length, or -1 when none
 * came. from (may be NULL) gets its source. */
static ssize_t
phone_recv(const struct phone *ph, void *buf, size_t size, int ms,
    struct sockaddr_storage *from)
{
	struct pollfd pfd = {.fd = ph->fd, .events = POLLIN};
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return -1;
	n = recvfrom(
	    ph->fd, buf, size, MSG_DONTWAIT, (struct sockaddr *)&ss, &len);
	if (from != NULL)
		*from = ss;
	return n;
}

/* Asserts that nothing arrives at ph for QUIET_MS. */
static void
phone_quiet(const struct phone *ph)
{
	unsigned char buf[2048];

	assert_int_equal(phone_recv(ph, buf, sizeof(buf), QUIET_MS, NULL), -1);
}

/* An RTP packet with payload pl into p; returns its length. */
static size_t
rtp_make(unsigned char *p, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
    const char *pl)
{
	size_t n = strlen(pl);

	p[0] = 0x80;
	p[1] = pt;
	p[2] = (unsigned char)(seq >> 8);
	p[3] = (unsigned char)seq;
	p[4] = (unsigned char)(ts >> 24);
	p[5] = (unsigned char)(ts >> 16);
	p[6] = (unsigned char)(ts >> 8);
	p[7] = (unsigned char)ts;
	p[8] = (unsigned char)(ssrc >> 24);
	p[9] = (unsigned char)(ssrc >> 16);
	p[10] = (unsigned char)(ssrc >> 8);
	p[11] = (unsigned char)ssrc;
	memcpy(p + 12, pl, n);
	return 12 + n;
}

/* An RTCP receiver report without blocks, plus an SDES-ish tail of pl. */
static size_t
rtcp_make(unsigned char *p, uint32_t ssrc, const char *pl)
{
	size_t n = strlen(pl);

	p[0] = 0x80;
	p[1] = 201; /* RR */
	p[2] = 0;
	p[3] = 1;
	p[4] = (unsigned char)(ssrc >> 24);
	p[5] = (unsigned char)(ssrc >> 16);
	p[6] = (unsigned char)(ssrc >> 8);
	p[7] = (unsigned char)ssrc;
	memcpy(p + 8, pl, n);
	return 8 + n;
}

/* A plain side: RTP announced at rtp's address, RTCP at rtcp's (or none
 * with mux). */
static struct media_side
side_plain(const struct phone *rtp, const struct phone *rtcp, bool mux)
{
	struct media_side s;

	memset(&s, 0, sizeof(s));
	s.rtp = rtp->addr;
	if (rtcp != NULL)
		s.rtcp = rtcp->addr;
	s.rtcp_mux = mux;
	s.send = true;
	s.recv = true;
	s.clock_rate = 8000;
	return s;
}

static void
key_fill(unsigned char *k, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		k[i] = (unsigned char)(seed * 31 + i * 7 + 1);
}

/* An SRTP side; keys from seeds. */
static struct media_side
side_srtp(const struct phone *rtp, const struct phone *rtcp, bool mux,
    enum srtp_suite suite, unsigned char rx_seed, unsigned char tx_seed)
{
	struct media_side s = side_plain(rtp, rtcp, mux);

	s.srtp = true;
	s.suite = suite;
	s.keylen = srtp_suite_keylen(suite);
	key_fill(s.rx_key, s.keylen, rx_seed);
	key_fill(s.tx_key, s.keylen, tx_seed);
	return s;
}

static struct srtp_ctx *
ctx_make(enum srtp_suite suite, unsigned char seed)
{
	unsigned char k[SRTP_MASTER_MAX];
	struct srtp_ctx *c = NULL;

	key_fill(k, srtp_suite_keylen(suite), seed);
	assert_int_equal(
	    srtp_ctx_new(suite, k, srtp_suite_keylen(suite), &c), 0);
	return c;
}

/* Open file descriptors of this process. */
static unsigned
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static struct media_relay *
relay_make(unsigned threads, unsigned nports, unsigned timeout_s,
    media_timeout_fn fn, void *arg)
{
	struct media_relay_config cfg;
	struct media_relay *r = NULL;

	range_take(nports);
	memset(&cfg, 0, sizeof(cfg));
	cfg.port_lo = port_base;
	cfg.port_hi = (uint16_t)(port_base + nports - 1);
	cfg.threads = threads;
	cfg.timeout_s = timeout_s;
	cfg.on_timeout = fn;
	cfg.arg = arg;
	assert_int_equal(media_relay_new(&cfg, &r), 0);
	assert_non_null(r);
	return r;
}

static struct media_call *
call_make(struct media_relay *r, uint64_t cookie, int fa, int fb)
{
	struct media_call *c = NULL;

	assert_int_equal(media_call_new(r, cookie, fa, fb, &c), 0);
	assert_non_null(c);
	return c;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Waits until the counter at offset off of side's stats reaches want;
 * returns the stats. */
static struct media_stats
stats_wait(struct media_call *c, int side, size_t off, uint64_t want)
{
	struct media_stats st;
	uint64_t v;
	int i;

	for (i = 0; i < WAIT_MS; i++) {
		media_call_stats(c, side, &st);
		memcpy(&v, (const unsigned char *)&st + off, sizeof(v));
		if (v >= want)
			return st;
		sleep_ms(1);
	}
	fail_msg("counter at %zu of side %d stayed %llu < %llu", off, side,
	    (unsigned long long)v, (unsigned long long)want);
	return st;
}

#define STATS_WAIT(c, side, field, want)                                       \
	stats_wait((c), (side), offsetof(struct media_stats, field), (want))

/* Sends p from `from` to the relay port and expects exactly p at `to`,
 * from the relay's port rport. */
static void
relay_expect(const struct phone *from, const char *rip, uint16_t port,
    const struct phone *to, uint16_t rport, const unsigned char *p, size_t len)
{
	unsigned char buf[2048];
	struct sockaddr_storage src;
	ssize_t n;

	phone_send(from, rip, port, p, len);
	n = phone_recv(to, buf, sizeof(buf), WAIT_MS, &src);
	assert_int_equal(n, (ssize_t)len);
	assert_memory_equal(buf, p, len);
	assert_int_equal(sa_port(&src), rport);
}

/* ---- plain RTP ---- */

static void
test_plain_both_ways(void **state)
{
	struct media_relay *r = relay_make(2, 16, 0, NULL, NULL);
	struct media_relay_stats rs;
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b;
	struct media_side sa_, sb;
	struct media_stats st;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n;
	int i;

	(void)state;
	assert_int_not_equal(pa, 0);
	assert_int_not_equal(pb, 0);
	assert_int_not_equal(pa, pb);
	assert_int_equal(pa % 2, 0);
	assert_int_equal(media_call_port(c, 2), 0);
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	sa_ = side_plain(&a, NULL, true);
	sb = side_plain(&b, NULL, true);
	/* One side set: nothing relayed yet. */
	assert_int_equal(media_call_set(c, 0, &sa_), 0);
	n = rtp_make(p, 0, 1, 160, 0x1111, "early");
	phone_send(&a, "127.0.0.1", pa, p, n);
	phone_quiet(&b);
	assert_int_equal(media_call_set(c, 1, &sb), 0);
	for (i = 0; i < 5; i++) {
		n = rtp_make(p, 0, (uint16_t)(10 + i), 160u * (unsigned)i,
		    0x1111, "hello from A, intact");
		relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
		n = rtp_make(p, 8, (uint16_t)(500 + i), 160u * (unsigned)i,
		    0x2222, "and B answers");
		relay_expect(&b, "127.0.0.1", pb, &a, pa, p, n);
	}
	media_call_stats(c, 0, &st);
	assert_int_equal(st.pkts_in, 5);
	assert_int_equal(st.pkts_out, 5);
	assert_true(st.learned);
	assert_true(sa_eq(&st.peer, &a.addr));
	assert_int_equal(st.spoofed + st.auth_fail + st.replayed, 0);
	assert_int_equal(st.lost, 0);
	media_call_stats(c, 1, &st);
	assert_int_equal(st.pkts_in, 5);
	assert_int_equal(st.bytes_in, 5 * (12 + strlen("and B answers")));
	assert_int_equal(st.pkts_out, 5);
	media_relay_stats(r, &rs);
	assert_int_equal(rs.calls_active, 1);
	assert_int_equal(rs.pkts_relayed, 10);
	assert_true(rs.pkts_dropped >= 1); /* the early one */
	assert_int_equal(rs.ports_free, 16 - 4);
	media_call_free(c);
	media_relay_stats(r, &rs);
	assert_int_equal(rs.calls_active, 0);
	assert_int_equal(rs.ports_free, 16);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

static void
test_spoof_after_learning(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b, evil, a2;
	struct media_side s;
	struct media_stats st;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	phone_open(&evil, "127.0.0.2");
	phone_open(&a2, "127.0.0.1"); /* same IP as A, another port */
	s = side_plain(&a, NULL, true);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	n = rtp_make(p, 0, 1, 0, 0xa, "learn me");
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
	/* From another IP, then from A's IP on another port: both spoofed. */
	n = rtp_make(p, 0, 2, 160, 0xa, "RTP bleed");
	phone_send(&evil, "127.0.0.1", pa, p, n);
	st = STATS_WAIT(c, 0, spoofed, 1);
	phone_quiet(&b);
	phone_send(&a2, "127.0.0.1", pa, p, n);
	st = STATS_WAIT(c, 0, spoofed, 2);
	phone_quiet(&b);
	assert_true(sa_eq(&st.peer, &a.addr));
	assert_int_equal(st.pkts_in, 1);
	/* Nor may the spoofer talk to A through B's port. */
	phone_send(&evil, "127.0.0.1", pb, p, n);
	STATS_WAIT(c, 1, spoofed, 1);
	phone_quiet(&a);
	/* The call still works both ways. */
	n = rtp_make(p, 0, 3, 320, 0xa, "still here");
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
	n = rtp_make(p, 0, 9, 320, 0xb, "me too");
	relay_expect(&b, "127.0.0.1", pb, &a, pa, p, n);
	media_call_free(c);
	phone_close(&a);
	phone_close(&a2);
	phone_close(&b);
	phone_close(&evil);
	media_relay_free(r);
}

static void
test_plain_learning_needs_announced_ip(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b, evil, a_other;
	struct media_side s;
	struct media_stats st;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&a_other, "127.0.0.1"); /* NAT: another port, same IP */
	phone_open(&b, "127.0.0.1");
	phone_open(&evil, "127.0.0.2");
	s = side_plain(&a, NULL, true);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	n = rtp_make(p, 0, 1, 0, 0xa, "first!");
	phone_send(&evil, "127.0.0.1", pa, p, n);
	st = STATS_WAIT(c, 0, spoofed, 1);
	assert_false(st.learned);
	phone_quiet(&b);
	/* The announced IP from any port teaches the address. */
	n = rtp_make(p, 0, 2, 160, 0xa, "really A");
	relay_expect(&a_other, "127.0.0.1", pa, &b, pb, p, n);
	media_call_stats(c, 0, &st);
	assert_true(st.learned);
	assert_true(sa_eq(&st.peer, &a_other.addr));
	/* B's packets go to the learned address, not the announced one. */
	n = rtp_make(p, 0, 7, 160, 0xb, "to where A sends from");
	relay_expect(&b, "127.0.0.1", pb, &a_other, pa, p, n);
	phone_quiet(&a);
	/* Before B is learned, A's packets went to B's announced address:
	 * checked above. A new announced address forgets the learned one. */
	s = side_plain(&a, NULL, true);
	assert_int_equal(media_call_set(c, 0, &s), 0); /* unchanged: kept */
	media_call_stats(c, 0, &st);
	assert_true(st.learned);
	s.rtp = sa("127.0.0.1", 9); /* moved */
	assert_int_equal(media_call_set(c, 0, &s), 0);
	media_call_stats(c, 0, &st);
	assert_false(st.learned);
	media_call_free(c);
	phone_close(&a);
	phone_close(&a_other);
	phone_close(&b);
	phone_close(&evil);
	media_relay_free(r);
}

static void
test_hold(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b;
	struct media_side sa_, sb;
	struct media_stats st;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	sa_ = side_plain(&a, NULL, true);
	sb = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 0, &sa_), 0);
	assert_int_equal(media_call_set(c, 1, &sb), 0);
	n = rtp_make(p, 0, 1, 0, 0xa, "before hold");
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
	/* B put on hold (sendonly from A's view: the relay sends nothing to
	 * B); A keeps sending. */
	sb.send = false;
	assert_int_equal(media_call_set(c, 1, &sb), 0);
	n = rtp_make(p, 0, 2, 160, 0xa, "music on hold?");
	phone_send(&a, "127.0.0.1", pa, p, n);
	st = STATS_WAIT(c, 0, pkts_in, 2);
	phone_quiet(&b);
	media_call_stats(c, 1, &st);
	assert_int_equal(st.pkts_out, 1);
	/* B still reaches A. */
	n = rtp_make(p, 0, 5, 0, 0xb, "B talks");
	relay_expect(&b, "127.0.0.1", pb, &a, pa, p, n);
	/* Resume. */
	sb.send = true;
	assert_int_equal(media_call_set(c, 1, &sb), 0);
	n = rtp_make(p, 0, 3, 320, 0xa, "after hold");
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

/* c=0.0.0.0 (an old-style hold) or a multicast address: nothing is sent
 * there (Linux would deliver 0.0.0.0 to this host). */
static void
test_announced_unspecified(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b;
	struct media_side s;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	s = side_plain(&a, NULL, true);
	s.rtp = sa("0.0.0.0", sa_port(&a.addr));
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	n = rtp_make(p, 0, 1, 0, 0xb, "to nowhere");
	phone_send(&b, "127.0.0.1", pb, p, n);
	STATS_WAIT(c, 1, pkts_in, 1);
	phone_quiet(&a);
	s = side_plain(&a, NULL, true);
	s.rtp = sa("224.0.0.1", sa_port(&a.addr));
	assert_int_equal(media_call_set(c, 0, &s), 0);
	phone_send(&b, "127.0.0.1", pb, p, n);
	STATS_WAIT(c, 1, pkts_in, 2);
	phone_quiet(&a);
	/* And A's address is not learned from 127.0.0.1 either. */
	phone_send(&a, "127.0.0.1", pa, p, n);
	STATS_WAIT(c, 0, spoofed, 1);
	phone_quiet(&b);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

static void
test_rtcp_separate(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, ac, b, bc, evil;
	struct media_side s;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&ac, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	phone_open(&bc, "127.0.0.1");
	phone_open(&evil, "127.0.0.2");
	s = side_plain(&a, &ac, false);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, &bc, false);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	n = rtcp_make(p, 0xa, "rtcp from A");
	relay_expect(&ac, "127.0.0.1", pa + 1, &bc, pb + 1, p, n);
	n = rtcp_make(p, 0xb, "rtcp from B");
	relay_expect(&bc, "127.0.0.1", pb + 1, &ac, pa + 1, p, n);
	n = rtp_make(p, 0, 1, 0, 0xa, "rtp from A");
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
	phone_quiet(&bc);
	/* RTCP learned its own address: A's RTP socket may not send RTCP. */
	n = rtcp_make(p, 0xa, "wrong socket");
	phone_send(&a, "127.0.0.1", pa + 1, p, n);
	STATS_WAIT(c, 0, spoofed, 1);
	phone_quiet(&bc);
	phone_send(&evil, "127.0.0.1", pa + 1, p, n);
	STATS_WAIT(c, 0, spoofed, 2);
	phone_quiet(&bc);
	media_call_free(c);
	phone_close(&a);
	phone_close(&ac);
	phone_close(&b);
	phone_close(&bc);
	phone_close(&evil);
	media_relay_free(r);
}

static void
test_rtcp_mux_to_separate(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_relay_stats rs;
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b, bc;
	struct media_side s;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	uint64_t dropped;
	size_t n;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	phone_open(&bc, "127.0.0.1");
	s = side_plain(&a, NULL, true);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, &bc, false);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	/* A's RTCP on its RTP port goes to B's RTCP port, from ours. */
	n = rtcp_make(p, 0xa, "muxed rtcp");
	relay_expect(&a, "127.0.0.1", pa, &bc, pb + 1, p, n);
	p[1] = 200; /* SR */
	relay_expect(&a, "127.0.0.1", pa, &bc, pb + 1, p, n);
	/* RTP with the marker bit (second byte 0x80) stays RTP. */
	n = rtp_make(p, 0x80, 1, 0, 0xa, "marker set");
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
	phone_quiet(&bc);
	/* B's RTCP reaches A's only port. */
	n = rtcp_make(p, 0xb, "separate rtcp");
	relay_expect(&bc, "127.0.0.1", pb + 1, &a, pa, p, n);
	n = rtp_make(p, 0, 1, 0, 0xb, "separate rtp");
	relay_expect(&b, "127.0.0.1", pb, &a, pa, p, n);
	/* A's unused RTCP port (rtcp-mux) relays nothing. */
	media_relay_stats(r, &rs);
	dropped = rs.pkts_dropped;
	n = rtcp_make(p, 0xa, "to the unused port");
	phone_send(&a, "127.0.0.1", pa + 1, p, n);
	phone_quiet(&bc);
	phone_quiet(&b);
	media_relay_stats(r, &rs);
	assert_int_equal(rs.pkts_dropped, dropped + 1);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	phone_close(&bc);
	media_relay_free(r);
}

static bool
ipv6_ok(void)
{
	struct sockaddr_in6 sin6;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

static void
test_ipv6_to_ipv4(void **state)
{
	struct media_relay *r;
	struct media_call *c;
	struct phone a, b;
	struct media_side s;
	struct media_stats st;
	unsigned char p[256];
	uint16_t pa, pb;
	size_t n;

	(void)state;
	if (!ipv6_ok())
		skip();
	r = relay_make(2, 8, 0, NULL, NULL);
	c = call_make(r, 1, AF_INET6, AF_INET);
	pa = media_call_port(c, 0);
	pb = media_call_port(c, 1);
	phone_open(&a, "::1");
	phone_open(&b, "127.0.0.1");
	s = side_plain(&a, NULL, true);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	/* A side's addresses must be of its family. */
	assert_int_equal(media_call_set(c, 0, &s), EINVAL);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	n = rtp_make(p, 0, 1, 0, 0xa, "from v6");
	relay_expect(&a, "::1", pa, &b, pb, p, n);
	n = rtp_make(p, 0, 1, 0, 0xb, "from v4");
	relay_expect(&b, "127.0.0.1", pb, &a, pa, p, n);
	media_call_stats(c, 0, &st);
	assert_true(st.learned);
	assert_int_equal(st.peer.ss_family, AF_INET6);
	assert_true(sa_eq(&st.peer, &a.addr));
	/* The v6 side's port is not reachable over v4 (V6ONLY). */
	phone_send(&b, "127.0.0.1", pa, p, n);
	phone_quiet(&a);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

/* ---- port pool ---- */

static void
test_pool_exhaust(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_relay_stats rs;
	struct media_call *c[3] = {NULL, NULL, NULL};
	int round, i;

	(void)state;
	for (round = 0; round < 3; round++) {
		c[0] = call_make(r, 1, AF_INET, AF_INET);
		c[1] = call_make(r, 2, AF_INET6, AF_INET);
		assert_int_equal(
		    media_call_new(r, 3, AF_INET, AF_INET, &c[2]), EADDRINUSE);
		assert_null(c[2]);
		media_relay_stats(r, &rs);
		assert_int_equal(rs.ports_free, 0);
		assert_int_equal(rs.calls_active, 2);
		for (i = 0; i < 2; i++)
			media_call_free(c[i]);
		media_relay_stats(r, &rs);
		assert_int_equal(rs.ports_free, 8);
		assert_int_equal(rs.calls_active, 0);
	}
	media_relay_free(r);
}

static void
test_pool_skips_busy_port(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_relay_stats rs;
	struct media_call *c1, *c2 = NULL;
	struct phone squat;
	int side;

	(void)state;
	/* Another program holds the RTCP port of the first pair. */
	phone_open_port(&squat, "127.0.0.1", (uint16_t)(port_base + 1));
	c1 = call_make(r, 1, AF_INET, AF_INET);
	for (side = 0; side < 2; side++)
		assert_int_not_equal(media_call_port(c1, side), port_base);
	/* One pair left that binds: not enough, and the one taken for side
	 * A goes back. */
	assert_int_equal(
	    media_call_new(r, 2, AF_INET, AF_INET, &c2), EADDRINUSE);
	media_relay_stats(r, &rs);
	assert_int_equal(rs.ports_free, 4);
	/* The program lets go: the pair is tried again. */
	phone_close(&squat);
	c2 = call_make(r, 2, AF_INET, AF_INET);
	assert_true(media_call_port(c2, 0) == port_base ||
	            media_call_port(c2, 1) == port_base);
	media_call_free(c1);
	media_call_free(c2);
	media_relay_stats(r, &rs);
	assert_int_equal(rs.ports_free, 8);
	media_relay_free(r);
}

static void
test_relay_new_bad(void **state)
{
	struct media_relay_config cfg;
	struct media_relay *r = NULL;
	struct media_relay_stats rs;
	struct media_call *c = NULL;
	struct media_side s;

	(void)state;
	range_take(8);
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(media_relay_new(NULL, &r), EINVAL);
	cfg.port_lo = port_base;
	cfg.port_hi = (uint16_t)(port_base + 2); /* 3 ports */
	assert_int_equal(media_relay_new(&cfg, &r), EINVAL);
	cfg.port_lo = (uint16_t)(port_base + 1); /* odd: narrowed */
	cfg.port_hi = (uint16_t)(port_base + 5); /* to +2..+5: 4 ports */
	assert_int_equal(media_relay_new(&cfg, &r), 0);
	media_relay_stats(r, &rs);
	assert_int_equal(rs.ports_free, 4);
	assert_int_equal(media_call_new(r, 1, AF_UNIX, AF_INET, &c), EINVAL);
	assert_int_equal(media_call_new(r, 1, AF_INET, AF_INET, &c), 0);
	assert_int_equal(media_call_port(c, 0) % 2, 0);
	assert_true(media_call_port(c, 0) >= port_base + 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(media_call_set(c, 2, &s), EINVAL);
	assert_int_equal(media_call_set(c, -1, &s), EINVAL);
	assert_int_equal(media_call_set(NULL, 0, &s), EINVAL);
	assert_int_equal(media_call_set(c, 0, NULL), EINVAL);
	s.srtp = true;
	s.suite = SRTP_SUITE_AES_CM_128_HMAC_SHA1_80;
	s.keylen = 16; /* not 30 */
	assert_int_equal(media_call_set(c, 0, &s), EINVAL);
	s.srtp = false;
	s.rtp = sa("::1", 4000); /* side A is IPv4 */
	assert_int_equal(media_call_set(c, 0, &s), EINVAL);
	media_call_free(c);
	media_call_free(NULL);
	media_relay_free(r);
	media_relay_free(NULL);
	cfg.port_lo = 0;
	cfg.port_hi = 100;
	assert_int_equal(media_relay_new(&cfg, &r), EINVAL);
	cfg.port_lo = port_base;
	cfg.port_hi = (uint16_t)(port_base + 7);
	cfg.threads = MEDIA_THREADS_MAX + 1;
	assert_int_equal(media_relay_new(&cfg, &r), EINVAL);
}

/* 1000 calls made, used and freed, 50 at a time. */
static void
test_thousand_calls(void **state)
{
	enum { AT_ONCE = 50, ROUNDS = 20 };
	unsigned fds = fd_count();
	struct media_relay *r = relay_make(4, 4 * AT_ONCE, 0, NULL, NULL);
	struct media_relay_stats rs0, rs;
	struct media_call *c[AT_ONCE];
	struct phone a, b;
	struct media_side sa_, sb;
	unsigned char p[256];
	size_t n;
	int round, i, got;

	(void)state;
	media_relay_stats(r, &rs0);
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	sa_ = side_plain(&a, NULL, true);
	sb = side_plain(&b, NULL, true);
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < AT_ONCE; i++) {
			c[i] = call_make(r, (uint64_t)i, AF_INET, AF_INET);
			assert_int_equal(media_call_set(c[i], 0, &sa_), 0);
			assert_int_equal(media_call_set(c[i], 1, &sb), 0);
		}
		for (i = 0; i < AT_ONCE; i++) {
			n = rtp_make(
			    p, 0, (uint16_t)round, 0, (uint32_t)i, "brief");
			phone_send(
			    &a, "127.0.0.1", media_call_port(c[i], 0), p, n);
		}
		for (got = 0; got < AT_ONCE; got++)
			assert_int_equal(
			    phone_recv(&b, p, sizeof(p), WAIT_MS, NULL),
			    (ssize_t)n);
		for (i = 0; i < AT_ONCE; i++)
			media_call_free(c[i]);
	}
	media_relay_stats(r, &rs);
	assert_int_equal(rs.ports_free, rs0.ports_free);
	assert_int_equal(rs.calls_active, 0);
	assert_int_equal(rs.pkts_relayed, AT_ONCE * ROUNDS);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
	assert_int_equal(fd_count(), fds);
}

/* ---- timeout ---- */

struct timeouts {
	pthread_mutex_t mu;
	unsigned hits[8]; /* per cookie */
};

static void
timeout_cb(void *arg, uint64_t cookie)
{
	struct timeouts *to = arg;

	pthread_mutex_lock(&to->mu);
	if (cookie < 8)
		to->hits[cookie]++;
	pthread_mutex_unlock(&to->mu);
}

static unsigned
timeout_hits(struct timeouts *to, unsigned cookie)
{
	unsigned n;

	pthread_mutex_lock(&to->mu);
	n = to->hits[cookie];
	pthread_mutex_unlock(&to->mu);
	return n;
}

static void
test_timeout(void **state)
{
	struct timeouts to = {.mu = PTHREAD_MUTEX_INITIALIZER};
	struct media_relay *r = relay_make(2, 32, 1, timeout_cb, &to);
	struct media_call *c[6];
	struct phone a, b;
	struct media_side sa_, sb, hold;
	unsigned char p[256];
	size_t n;
	int i;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	sa_ = side_plain(&a, NULL, true);
	sb = side_plain(&b, NULL, true);
	hold = sb;
	hold.recv = false;
	for (i = 1; i <= 5; i++)
		c[i] = call_make(r, (uint64_t)i, AF_INET, AF_INET);
	/* 1: silent; 2: silent, freed; 3: on hold; 4: one side set; 5:
	 * talking. */
	for (i = 1; i <= 5; i++)
		assert_int_equal(media_call_set(c[i], 0, &sa_), 0);
	assert_int_equal(media_call_set(c[1], 1, &sb), 0);
	assert_int_equal(media_call_set(c[2], 1, &sb), 0);
	assert_int_equal(media_call_set(c[3], 1, &hold), 0);
	assert_int_equal(media_call_set(c[5], 1, &sb), 0);
	media_call_free(c[2]);
	for (i = 0; i < 25; i++) { /* 2.5 s */
		n = rtp_make(p, 0, (uint16_t)i, 0, 5, "alive");
		phone_send(&a, "127.0.0.1", media_call_port(c[5], 0), p, n);
		sleep_ms(100);
	}
	assert_int_equal(timeout_hits(&to, 1), 1);
	assert_int_equal(timeout_hits(&to, 2), 0);
	assert_int_equal(timeout_hits(&to, 3), 0);
	assert_int_equal(timeout_hits(&to, 4), 0);
	assert_int_equal(timeout_hits(&to, 5), 0);
	/* Once only. */
	sleep_ms(1200);
	assert_int_equal(timeout_hits(&to, 1), 1);
	for (i = 1; i <= 5; i++)
		if (i != 2)
			media_call_free(c[i]);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

/* ---- malformed packets ---- */

static void
test_malformed_plain(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b;
	struct media_side s;
	struct media_stats st;
	static unsigned char p[2000];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	static const size_t bad[] = {0, 1, 2, 7}; /* as RTCP */
	size_t i, n;
	uint64_t fails = 0;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	s = side_plain(&a, NULL, true);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	for (i = 0; i < sizeof(p); i++)
		p[i] = (unsigned char)(i * 151 + 7);
	/* Too short for RTCP (rtcp-mux: the second byte says RTCP). */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p[0] = 0x80;
		p[1] = 200;
		phone_send(&a, "127.0.0.1", pa, p, bad[i]);
		STATS_WAIT(c, 0, auth_fail, ++fails);
	}
	/* Too short for RTP. */
	p[1] = 0;
	phone_send(&a, "127.0.0.1", pa, p, 11);
	STATS_WAIT(c, 0, auth_fail, ++fails);
	/* Not version 2. */
	p[0] = 0x40;
	phone_send(&a, "127.0.0.1", pa, p, 200);
	STATS_WAIT(c, 0, auth_fail, ++fails);
	/* Larger than any packet relayed. */
	p[0] = 0x80;
	phone_send(&a, "127.0.0.1", pa, p, MEDIA_PKT_MAX + 1);
	STATS_WAIT(c, 0, auth_fail, ++fails);
	phone_quiet(&b);
	/* Odd but version 2: plain RTP is relayed as it is. */
	p[0] = 0x80 | 0x3f; /* padding, extension, 15 CSRCs */
	p[1] = 0;
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, 12);
	p[0] = 0x80;
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, 1500);
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, MEDIA_PKT_MAX);
	n = rtp_make(p, 0, 1, 0, 1, "fine");
	relay_expect(&a, "127.0.0.1", pa, &b, pb, p, n);
	media_call_stats(c, 0, &st);
	assert_int_equal(st.auth_fail, fails);
	assert_int_equal(st.pkts_in, 4);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

/* ---- RTP statistics ---- */

static void
test_lost_and_jitter(void **state)
{
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct phone a, b;
	struct media_side s;
	struct media_stats st;
	unsigned char p[256];
	uint16_t pa = media_call_port(c, 0);
	uint16_t seq;
	uint32_t ts = 0;
	size_t n = 0;
	unsigned sent = 0;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	s = side_plain(&a, NULL, true);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	/* 65530..65545 (wrapping) without 65533 and 3: two lost. Timestamps
	 * one second apart, sent at once: large jitter. */
	for (seq = 65530; seq != 10; seq++) {
		if (seq == 65533 || seq == 3)
			continue;
		ts += 8000;
		n = rtp_make(p, 0, seq, ts, 0xa, "x");
		phone_send(&a, "127.0.0.1", pa, p, n);
		sent++;
	}
	st = STATS_WAIT(c, 0, pkts_in, sent);
	assert_int_equal(st.lost, 2);
	assert_true(st.jitter_us > 100000);
	/* A duplicate of the last one is not a negative loss. */
	phone_send(&a, "127.0.0.1", pa, p, n);
	st = STATS_WAIT(c, 0, pkts_in, sent + 1);
	assert_int_equal(st.lost, 2);
	/* A late one is. */
	n = rtp_make(p, 0, 3, ts, 0xa, "x");
	phone_send(&a, "127.0.0.1", pa, p, n);
	st = STATS_WAIT(c, 0, pkts_in, sent + 2);
	assert_int_equal(st.lost, 1);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

/* ---- threads: control calls while media flows ---- */

struct flood {
	atomic_bool stop;
	int fd;
	struct sockaddr_storage to[2];
	atomic_uint port[2];
};

static void *
flood_main(void *arg)
{
	struct flood *f = arg;
	unsigned char p[200];
	uint16_t seq = 0;
	int k;

	memset(p, 0, sizeof(p));
	while (!atomic_load(&f->stop)) {
		for (k = 0; k < 2; k++) {
			struct sockaddr_in *sin =
			    (struct sockaddr_in *)&f->to[k];

			sin->sin_port =
			    htons((uint16_t)atomic_load(&f->port[k]));
			p[0] = 0x80;
			p[2] = (unsigned char)(seq >> 8);
			p[3] = (unsigned char)seq;
			seq++;
			(void)sendto(f->fd, p, sizeof(p), MSG_DONTWAIT,
			    (struct sockaddr *)&f->to[k], sizeof(*sin));
		}
	}
	return NULL;
}

static void
test_free_while_flowing(void **state)
{
	unsigned fds = fd_count();
	struct media_relay *r = relay_make(2, 64, 0, NULL, NULL);
	struct media_relay_stats rs;
	struct flood f;
	struct phone a, b;
	struct media_side sa_, sb;
	struct media_stats st;
	struct media_call *c, *keep;
	pthread_t tid;
	int i;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	memset(&f, 0, sizeof(f));
	f.fd = a.fd;
	f.to[0] = sa("127.0.0.1", 0);
	f.to[1] = sa("127.0.0.1", 0);
	sa_ = side_plain(&a, NULL, true);
	sb = side_plain(&b, NULL, true);
	keep = call_make(r, 99, AF_INET, AF_INET);
	assert_int_equal(media_call_set(keep, 0, &sa_), 0);
	assert_int_equal(media_call_set(keep, 1, &sb), 0);
	atomic_store(&f.port[1], media_call_port(keep, 0));
	c = call_make(r, 1, AF_INET, AF_INET);
	atomic_store(&f.port[0], media_call_port(c, 0));
	assert_int_equal(pthread_create(&tid, NULL, flood_main, &f), 0);
	for (i = 0; i < 300; i++) {
		assert_int_equal(media_call_set(c, 0, &sa_), 0);
		assert_int_equal(media_call_set(c, 1, &sb), 0);
		sleep_ms(i % 3);
		/* Hold and resume the other call under load, read stats. */
		sb.send = i % 2 == 0;
		assert_int_equal(media_call_set(keep, 1, &sb), 0);
		sb.send = true;
		media_call_stats(keep, 0, &st);
		media_call_free(c);
		c = call_make(r, 1, AF_INET, AF_INET);
		atomic_store(&f.port[0], media_call_port(c, 0));
	}
	atomic_store(&f.stop, true);
	pthread_join(tid, NULL);
	media_call_stats(keep, 0, &st);
	assert_true(st.pkts_in > 0);
	media_call_free(c);
	media_call_free(keep);
	media_relay_stats(r, &rs);
	assert_int_equal(rs.ports_free, 64);
	/* Calls left at relay_free are freed by it. */
	c = call_make(r, 1, AF_INET, AF_INET);
	(void)c;
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
	assert_int_equal(fd_count(), fds);
}

/* ---- SRTP ---- */

static void
test_srtp_to_plain(void **state)
{
	const enum srtp_suite su = SRTP_SUITE_AES_CM_128_HMAC_SHA1_80;
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct srtp_ctx *a_tx = ctx_make(su, 11); /* A's key: rx_key */
	struct srtp_ctx *a_rx = ctx_make(su, 12); /* the relay's: tx_key */
	struct phone a, b;
	struct media_side s;
	struct media_stats st;
	unsigned char p[2048], q[2048], orig[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n, m, out;
	ssize_t got;
	int i;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	s = side_srtp(&a, NULL, true, su, 11, 12);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	for (i = 0; i < 3; i++) {
		/* A (SRTP) to B (plain). */
		n = rtp_make(orig, 0, (uint16_t)(100 + i), 160u * (unsigned)i,
		    0xa, "secret words");
		memcpy(p, orig, n);
		assert_int_equal(
		    srtp_rtp_protect(a_tx, p, n, sizeof(p), &m), 0);
		assert_memory_not_equal(p + 12, orig + 12, n - 12);
		phone_send(&a, "127.0.0.1", pa, p, m);
		got = phone_recv(&b, q, sizeof(q), WAIT_MS, NULL);
		assert_int_equal(got, (ssize_t)n);
		assert_memory_equal(q, orig, n);
		/* B (plain) to A (SRTP with the key the server gave A). */
		n = rtp_make(orig, 0, (uint16_t)(7 + i), 160u * (unsigned)i,
		    0xb, "plain reply");
		phone_send(&b, "127.0.0.1", pb, orig, n);
		got = phone_recv(&a, q, sizeof(q), WAIT_MS, NULL);
		assert_true(got > (ssize_t)n);
		assert_int_equal(
		    srtp_rtp_unprotect(a_rx, q, (size_t)got, &out), 0);
		assert_int_equal(out, n);
		assert_memory_equal(q, orig, n);
	}
	/* SRTCP muxed from A, plain RTCP to B; and back. */
	n = rtcp_make(orig, 0xa, "srtcp");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtcp_protect(a_tx, p, n, sizeof(p), &m), 0);
	phone_send(&a, "127.0.0.1", pa, p, m);
	got = phone_recv(&b, q, sizeof(q), WAIT_MS, NULL);
	assert_int_equal(got, (ssize_t)n);
	assert_memory_equal(q, orig, n);
	n = rtcp_make(orig, 0xb, "rtcp to srtcp");
	phone_send(&b, "127.0.0.1", pb, orig, n);
	got = phone_recv(&a, q, sizeof(q), WAIT_MS, NULL);
	assert_true(got > (ssize_t)n);
	assert_int_equal(srtp_rtcp_unprotect(a_rx, q, (size_t)got, &out), 0);
	assert_int_equal(out, n);
	assert_memory_equal(q, orig, n);
	media_call_stats(c, 0, &st);
	assert_int_equal(st.auth_fail + st.replayed + st.spoofed, 0);
	assert_int_equal(st.pkts_in, 4);
	srtp_ctx_free(a_tx);
	srtp_ctx_free(a_rx);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	media_relay_free(r);
}

static void
test_srtp_auth_fail_and_replay(void **state)
{
	const enum srtp_suite su = SRTP_SUITE_AES_CM_128_HMAC_SHA1_80;
	struct media_relay *r = relay_make(1, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct srtp_ctx *a_tx = ctx_make(su, 21), *wrong = ctx_make(su, 99);
	struct phone a, b, other, evil;
	struct media_side s;
	struct media_stats st;
	unsigned char p[2048], q[2048], orig[256], saved[2048];
	uint16_t pa = media_call_port(c, 0);
	size_t n, m, saved_len, i;
	ssize_t got;

	(void)state;
	phone_open(&a, "127.0.0.1");
	phone_open(&other, "127.0.0.2"); /* A's real source: NAT */
	phone_open(&evil, "127.0.0.3");
	phone_open(&b, "127.0.0.1");
	s = side_srtp(&a, NULL, true, su, 21, 22);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_plain(&b, NULL, true);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	/* Before learning: a wrong key teaches nothing. */
	n = rtp_make(orig, 0, 1, 0, 0xa, "forged");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtp_protect(wrong, p, n, sizeof(p), &m), 0);
	phone_send(&evil, "127.0.0.1", pa, p, m);
	st = STATS_WAIT(c, 0, auth_fail, 1);
	assert_false(st.learned);
	phone_quiet(&b);
	/* Junk of many lengths, from the announced address too. */
	for (i = 0; i <= 40; i++) {
		memset(q, (int)(0x80 + i), sizeof(q));
		phone_send(&a, "127.0.0.1", pa, q, i);
	}
	phone_send(&a, "127.0.0.1", pa, q, 1500);
	phone_send(&a, "127.0.0.1", pa, q, MEDIA_PKT_MAX + 100);
	st = STATS_WAIT(c, 0, auth_fail, 1 + 41 + 2);
	assert_false(st.learned);
	/* The first packet that authenticates teaches its source, wherever
	 * it comes from. */
	n = rtp_make(orig, 0, 2, 160, 0xa, "genuine");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtp_protect(a_tx, p, n, sizeof(p), &m), 0);
	memcpy(saved, p, m);
	saved_len = m;
	phone_send(&other, "127.0.0.1", pa, p, m);
	got = phone_recv(&b, q, sizeof(q), WAIT_MS, NULL);
	assert_int_equal(got, (ssize_t)n);
	assert_memory_equal(q, orig, n);
	media_call_stats(c, 0, &st);
	assert_true(st.learned);
	assert_true(sa_eq(&st.peer, &other.addr));
	/* Replayed. */
	phone_send(&other, "127.0.0.1", pa, saved, saved_len);
	st = STATS_WAIT(c, 0, replayed, 1);
	phone_quiet(&b);
	/* A flipped tag from the right source. */
	n = rtp_make(orig, 0, 3, 320, 0xa, "tampered");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtp_protect(a_tx, p, n, sizeof(p), &m), 0);
	p[m - 1] ^= 0x01;
	phone_send(&other, "127.0.0.1", pa, p, m);
	st = STATS_WAIT(c, 0, auth_fail, 1 + 41 + 2 + 1);
	phone_quiet(&b);
	/* A genuine packet from the announced address is now spoofed. */
	n = rtp_make(orig, 0, 4, 480, 0xa, "right key, wrong place");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtp_protect(a_tx, p, n, sizeof(p), &m), 0);
	phone_send(&a, "127.0.0.1", pa, p, m);
	st = STATS_WAIT(c, 0, spoofed, 1);
	phone_quiet(&b);
	/* The call goes on (the tampered seq 3 was not recorded). */
	n = rtp_make(orig, 0, 3, 320, 0xa, "retry");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtp_protect(a_tx, p, n, sizeof(p), &m), 0);
	phone_send(&other, "127.0.0.1", pa, p, m);
	got = phone_recv(&b, q, sizeof(q), WAIT_MS, NULL);
	assert_int_equal(got, (ssize_t)n);
	assert_memory_equal(q, orig, n);
	/* The same key set again (a 200 after a 183) keeps the learned
	 * address and the replay state; a new rx key forgets the address. */
	s = side_srtp(&a, NULL, true, su, 21, 22);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	media_call_stats(c, 0, &st);
	assert_true(st.learned);
	phone_send(&other, "127.0.0.1", pa, saved, saved_len);
	st = STATS_WAIT(c, 0, replayed, 2);
	s = side_srtp(&a, NULL, true, su, 23, 22);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	media_call_stats(c, 0, &st);
	assert_false(st.learned);
	srtp_ctx_free(a_tx);
	srtp_ctx_free(wrong);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	phone_close(&other);
	phone_close(&evil);
	media_relay_free(r);
}

/* Both sides SRTP, suites sua and sub, different keys each way; A with
 * rtcp-mux, B with its own RTCP port. */
static void
srtp_both_sides(enum srtp_suite sua, enum srtp_suite sub)
{
	struct media_relay *r = relay_make(2, 8, 0, NULL, NULL);
	struct media_call *c = call_make(r, 1, AF_INET, AF_INET);
	struct srtp_ctx *a_tx = ctx_make(sua, 31), *a_rx = ctx_make(sua, 32);
	struct srtp_ctx *b_tx = ctx_make(sub, 41), *b_rx = ctx_make(sub, 42);
	struct phone a, b, bc;
	struct media_side s;
	unsigned char p[2048], q[2048], orig[256];
	uint16_t pa = media_call_port(c, 0), pb = media_call_port(c, 1);
	size_t n, m, out;
	ssize_t got;
	int i;

	phone_open(&a, "127.0.0.1");
	phone_open(&b, "127.0.0.1");
	phone_open(&bc, "127.0.0.1");
	s = side_srtp(&a, NULL, true, sua, 31, 32);
	assert_int_equal(media_call_set(c, 0, &s), 0);
	s = side_srtp(&b, &bc, false, sub, 41, 42);
	assert_int_equal(media_call_set(c, 1, &s), 0);
	for (i = 0; i < 3; i++) {
		n = rtp_make(orig, 0, (uint16_t)(1 + i), 160u * (unsigned)i,
		    0xa, "A to B, rekeyed");
		memcpy(p, orig, n);
		assert_int_equal(
		    srtp_rtp_protect(a_tx, p, n, sizeof(p), &m), 0);
		phone_send(&a, "127.0.0.1", pa, p, m);
		got = phone_recv(&b, q, sizeof(q), WAIT_MS, NULL);
		assert_true(got > (ssize_t)n);
		assert_int_equal(
		    srtp_rtp_unprotect(b_rx, q, (size_t)got, &out), 0);
		assert_int_equal(out, n);
		assert_memory_equal(q, orig, n);

		n = rtp_make(orig, 0, (uint16_t)(50 + i), 160u * (unsigned)i,
		    0xb, "B to A");
		memcpy(p, orig, n);
		assert_int_equal(
		    srtp_rtp_protect(b_tx, p, n, sizeof(p), &m), 0);
		phone_send(&b, "127.0.0.1", pb, p, m);
		got = phone_recv(&a, q, sizeof(q), WAIT_MS, NULL);
		assert_true(got > (ssize_t)n);
		assert_int_equal(
		    srtp_rtp_unprotect(a_rx, q, (size_t)got, &out), 0);
		assert_int_equal(out, n);
		assert_memory_equal(q, orig, n);
	}
	/* SRTCP: muxed on A, on its own port on B. */
	n = rtcp_make(orig, 0xa, "A's report");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtcp_protect(a_tx, p, n, sizeof(p), &m), 0);
	phone_send(&a, "127.0.0.1", pa, p, m);
	got = phone_recv(&bc, q, sizeof(q), WAIT_MS, NULL);
	assert_true(got > (ssize_t)n);
	assert_int_equal(srtp_rtcp_unprotect(b_rx, q, (size_t)got, &out), 0);
	assert_memory_equal(q, orig, n);
	n = rtcp_make(orig, 0xb, "B's report");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtcp_protect(b_tx, p, n, sizeof(p), &m), 0);
	phone_send(&bc, "127.0.0.1", pb + 1, p, m);
	got = phone_recv(&a, q, sizeof(q), WAIT_MS, NULL);
	assert_true(got > (ssize_t)n);
	assert_int_equal(srtp_rtcp_unprotect(a_rx, q, (size_t)got, &out), 0);
	assert_memory_equal(q, orig, n);
	/* A packet protected with A's key sent to B's port fails there. */
	n = rtp_make(orig, 0, 9, 0, 0xa, "wrong port");
	memcpy(p, orig, n);
	assert_int_equal(srtp_rtp_protect(a_tx, p, n, sizeof(p), &m), 0);
	phone_send(&b, "127.0.0.1", pb, p, m);
	STATS_WAIT(c, 1, auth_fail, 1);
	phone_quiet(&a);
	/* Malformed SRTCP of every length up to 64 on both RTCP paths (the
	 * muxed one: second byte 200), and a long one. */
	for (n = 0; n <= 64; n++) {
		memset(q, 0xc8, sizeof(q));
		phone_send(&a, "127.0.0.1", pa, q, n);
		phone_send(&bc, "127.0.0.1", pb + 1, q, n);
	}
	phone_send(&a, "127.0.0.1", pa, q, 1500);
	phone_send(&bc, "127.0.0.1", pb + 1, q, 1500);
	STATS_WAIT(c, 0, auth_fail, 66);
	STATS_WAIT(c, 1, auth_fail, 1 + 66);
	phone_quiet(&a);
	phone_quiet(&bc);
	phone_quiet(&b);
	srtp_ctx_free(a_tx);
	srtp_ctx_free(a_rx);
	srtp_ctx_free(b_tx);
	srtp_ctx_free(b_rx);
	media_call_free(c);
	phone_close(&a);
	phone_close(&b);
	phone_close(&bc);
	media_relay_free(r);
}

static void
test_srtp_both_sides(void **state)
{
	(void)state;
	srtp_both_sides(
	    SRTP_SUITE_AES_CM_128_HMAC_SHA1_80, SRTP_SUITE_AEAD_AES_128_GCM);
	srtp_both_sides(SRTP_SUITE_AES_256_CM_HMAC_SHA1_80,
	    SRTP_SUITE_AES_CM_128_HMAC_SHA1_32);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_both_ways),
	    cmocka_unit_test(test_spoof_after_learning),
	    cmocka_unit_test(test_plain_learning_needs_announced_ip),
	    cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_announced_unspecified),
	    cmocka_unit_test(test_rtcp_separate),
	    cmocka_unit_test(test_rtcp_mux_to_separate),
	    cmocka_unit_test(test_ipv6_to_ipv4),
	    cmocka_unit_test(test_pool_exhaust),
	    cmocka_unit_test(test_pool_skips_busy_port),
	    cmocka_unit_test(test_relay_new_bad),
	    cmocka_unit_test(test_thousand_calls),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_malformed_plain),
	    cmocka_unit_test(test_lost_and_jitter),
	    cmocka_unit_test(test_free_while_flowing),
	    cmocka_unit_test(test_srtp_to_plain),
	    cmocka_unit_test(test_srtp_auth_fail_and_replay),
	    cmocka_unit_test(test_srtp_both_sides),
	};

	/* Below the ephemeral range (32768-). */
	ports_start = (uint16_t)(20000 + (getpid() % 18) * PORTS_MAX);
	ports_next = ports_start;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
