/* tlsload.c: a TLS load tool for SIP servers, for the benchmarks only.
 *
 *   tlsload hs   -p PORT [-a ADDR] [-c CONC] [-t SECS]
 *       full TLS handshakes (no resumption) as fast as the server takes
 *       them, CONC at a time, for SECS seconds; prints handshakes/s.
 *   tlsload hold -p PORT [-a ADDR] -U users.csv [-n N] [-r RATE] [-t SECS]
 *       N phones, each on its own TLS connection: handshake, REGISTER,
 *       401, REGISTER with an MD5 digest (qop=auth), 200; then idle until
 *       SECS pass or SIGTERM. Prints when all are registered, so the
 *       server's memory can be sampled with N idle registered phones.
 *
 * One thread, epoll, non-blocking OpenSSL. users.csv is the SIPp
 * injection file of the shared kit (SEQUENTIAL; user;domain;password). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum st { S_CONNECT, S_HANDSHAKE, S_REG1, S_REG2, S_IDLE, S_DONE };

struct user {
	char name[64], domain[128], pw[128];
};

struct conn {
	int fd;
	SSL *ssl;
	enum st st;
	int idx;
	char in[8192];
	size_t inlen;
	char cid[64];
};

static volatile sig_atomic_t stop;
static struct sockaddr_in dst;
static SSL_CTX *ctx;
static int ep;
static struct user *users;
static size_t nusers;
static long handshakes, registered, failures;
static char local_ip[64] = "127.0.0.1";

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
on_sig(int s)
{
	(void)s;
	stop = 1;
}

static void
md5hex(const char *s, char out[33])
{
	unsigned char md[16];
	unsigned int n;
	int i;

	EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
conn_open(struct conn *c)
{
	struct epoll_event ev;
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		return -1;
	}
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	c->st = S_HANDSHAKE;
	c->inlen = 0;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	return 0;
}

static void
conn_close(struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

static void
send_register(struct conn *c, const char *auth)
{
	const struct user *u = &users[c->idx % nusers];
	char msg[2048];
	int n;

	n = snprintf(msg, sizeof(msg),
	    "REGISTER sip:%s SIP/2.0\r\n"
	    "Via: SIP/2.0/TLS %s:5099;branch=z9hG4bK%d-%d;rport\r\n"
	    "Max-Forwards: 70\r\n"
	    "From: <sip:%s@%s>;tag=t%d\r\n"
	    "To: <sip:%s@%s>\r\n"
	    "Call-ID: %s\r\n"
	    "CSeq: %d REGISTER\r\n"
	    "Contact: <sip:%s@%s:5099;transport=tls>\r\n"
	    "Expires: 3600\r\n"
	    "%s"
	    "Content-Length: 0\r\n\r\n",
	    u->domain, local_ip, c->idx, auth ? 2 : 1, u->name, u->domain,
	    c->idx, u->name, u->domain, c->cid, auth ? 2 : 1, u->name, local_ip,
	    auth ? auth : "");
	SSL_write(c->ssl, msg, n);
}

static void
handle_response(struct conn *c)
{
	const struct user *u = &users[c->idx % nusers];
	char *end = strstr(c->in, "\r\n\r\n"), *nonce, *q, auth[1024];
	char a1[512], a2[512], r[1024], ha1[33], ha2[33], resp[33], nb[256];
	size_t mlen;

	if (end == NULL)
		return;
	mlen = (size_t)(end + 4 - c->in);
	if (c->st == S_REG1 && strncmp(c->in, "SIP/2.0 401", 11) == 0 &&
	    (nonce = strstr(c->in, "nonce=\"")) != NULL) {
		nonce += 7;
		q = strchr(nonce, '"');
		snprintf(nb, sizeof(nb), "%.*s", (int)(q - nonce), nonce);
		snprintf(a1, sizeof(a1), "%s:%s:%s", u->name, u->domain, u->pw);
		md5hex(a1, ha1);
		snprintf(a2, sizeof(a2), "REGISTER:sip:%s", u->domain);
		md5hex(a2, ha2);
		snprintf(r, sizeof(r), "%s:%s:00000001:0a4f113b:auth:%s", ha1,
		    nb, ha2);
		md5hex(r, resp);
		snprintf(auth, sizeof(auth),
		    "Authorization: Digest username=\"%s\", realm=\"%s\", "
		    "nonce=\"%s\", uri=\"sip:%s\", response=\"%s\", "
		    "algorithm=MD5, qop=auth, nc=00000001, "
		    "cnonce=\"0a4f113b\"\r\n",
		    u->name, u->domain, nb, u->domain, resp);
		c->st = S_REG2;
		send_register(c, auth);
	} else if (c->st == S_REG2 && strncmp(c->in, "SIP/2.0 200", 11) == 0) {
		c->st = S_IDLE;
		registered++;
	} else if (strncmp(c->in, "SIP/2.0 1", 9) != 0) {
		failures++;
		c->st = S_DONE;
	}
	memmove(c->in, c->in + mlen, c->inlen - mlen);
	c->inlen -= mlen;
	c->in[c->inlen] = '\0';
}

static int
load_users(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *a = strtok(line, ";\n"), *b = strtok(NULL, ";\n"),
		     *c = strtok(NULL, ";\n");

		if (a == NULL || b == NULL || c == NULL)
			continue;
		if (nusers == cap) {
			cap = cap ? cap * 2 : 1024;
			users = realloc(users, cap * sizeof(*users));
		}
		snprintf(users[nusers].name, sizeof(users[0].name), "%s", a);
		snprintf(
		    users[nusers].domain, sizeof(users[0].domain), "%s", b);
		snprintf(users[nusers].pw, sizeof(users[0].pw), "%s", c);
		nusers++;
	}
	fclose(f);
	return nusers > 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "", *addr = "127.0.0.1",
	           *ufile = NULL;
	int port = 15061, conc = 50, secs = 10, n = 100, rate = 500, opt, i;
	struct epoll_event evs[256];
	struct conn *cs;
	struct rlimit rl;
	double t0, last_open = 0;
	int opened = 0;
	bool hold;

	optind = 2;
	while ((opt = getopt(argc, argv, "a:p:c:t:n:U:r:")) != -1) {
		switch (opt) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'c':
			conc = atoi(optarg);
			break;
		case 't':
			secs = atoi(optarg);
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'U':
			ufile = optarg;
			break;
		case 'r':
			rate = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	hold = strcmp(mode, "hold") == 0;
	if (!hold && strcmp(mode, "hs") != 0) {
		fprintf(stderr, "usage: tlsload hs|hold -p PORT ...\n");
		return 2;
	}
	if (hold && (ufile == NULL || load_users(ufile) != 0)) {
		fprintf(stderr, "tlsload hold needs -U users.csv\n");
		return 2;
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGPIPE, SIG_IGN);
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, addr, &dst.sin_addr);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	ep = epoll_create1(0);
	if (!hold)
		n = conc;
	cs = calloc((size_t)n, sizeof(*cs));
	t0 = now();
	if (!hold)
		for (i = 0; i < n; i++) {
			cs[i].idx = i;
			conn_open(&cs[i]);
		}
	while (!stop && now() - t0 < secs) {
		int k = epoll_wait(ep, evs, 256, 10), j;

		/* hold: open at the given rate */
		if (hold && opened < n) {
			double t = now();
			int want = (int)((t - t0) * rate) + 1;

			for (; opened < n && opened < want; opened++) {
				cs[opened].idx = opened;
				snprintf(cs[opened].cid, sizeof(cs[0].cid),
				    "tl-%d-%ld", opened, (long)getpid());
				if (conn_open(&cs[opened]) != 0)
					failures++;
			}
			last_open = t;
		}
		for (j = 0; j < k; j++) {
			struct conn *c = evs[j].data.ptr;

			if (c->st == S_HANDSHAKE) {
				int r = SSL_do_handshake(c->ssl);

				if (r == 1) {
					handshakes++;
					if (!hold) {
						conn_close(c);
						conn_open(c);
						continue;
					}
					struct epoll_event ev = {
					    .events = EPOLLIN, .data.ptr = c};
					epoll_ctl(
					    ep, EPOLL_CTL_MOD, c->fd, &ev);
					c->st = S_REG1;
					send_register(c, NULL);
				} else {
					int e = SSL_get_error(c->ssl, r);

					if (e != SSL_ERROR_WANT_READ &&
					    e != SSL_ERROR_WANT_WRITE) {
						failures++;
						ERR_clear_error();
						conn_close(c);
						if (!hold)
							conn_open(c);
						else
							c->st = S_DONE;
					}
				}
				continue;
			}
			for (;;) {
				int r = SSL_read(c->ssl, c->in + c->inlen,
				    (int)(sizeof(c->in) - 1 - c->inlen));

				if (r <= 0) {
					int e = SSL_get_error(c->ssl, r);

					if (e != SSL_ERROR_WANT_READ) {
						failures++;
						conn_close(c);
						c->st = S_DONE;
					}
					break;
				}
				c->inlen += (size_t)r;
				c->in[c->inlen] = '\0';
				handle_response(c);
			}
		}
		if (hold && opened == n && registered + failures >= n &&
		    last_open > 0) {
			printf(
			    "registered %ld of %d (failures %ld) after %.1fs\n",
			    registered, n, failures, now() - t0);
			fflush(stdout);
			last_open = 0;
		}
	}
	if (!hold)
		printf("handshakes %ld in %.1fs: %.0f/s (failures %ld)\n",
		    handshakes, now() - t0, handshakes / (now() - t0),
		    failures);
	else
		printf("end: registered %ld, failures %ld\n", registered,
		    failures);
	return 0;
}
