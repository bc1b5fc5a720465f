/* tlsrec_test.c: the record layer against real OpenSSL clients. Each test
 * runs a handshake over a socketpair between an OpenSSL client and an
 * OpenSSL server set up with tlsrec_ctx_setup; the server's state is then
 * taken (tlsrec_take) and its SSL freed, and the test talks to the client
 * through tlsrec_open / tlsrec_seal. Any wrong key, IV or sequence number
 * shows as a bad tag on one side. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "lib/util.h"
#include "transport/tlsrec.h"

enum {
	BUF_MAX = 1 << 18,
	HANDSHAKE_STEPS = 200,
	MSG_SIZES = 6,
};

static EVP_PKEY *ec_key, *rsa_key;
static X509 *ec_crt, *rsa_crt;
static size_t allocs; /* OpenSSL allocations, counted from main */

struct suite_case {
	int version;
	const char *name; /* TLS 1.3 ciphersuite or TLS 1.2 cipher list */
	enum tlsrec_suite suite;
};

static const struct suite_case cases[] = {
    {TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", TLSREC_AES_128_GCM},
    {TLS1_3_VERSION, "TLS_AES_256_GCM_SHA384", TLSREC_AES_256_GCM},
    {TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256", TLSREC_CHACHA20_POLY1305},
    {TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", TLSREC_AES_128_GCM},
    {TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256", TLSREC_AES_128_GCM},
    {TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", TLSREC_AES_256_GCM},
    {TLS1_2_VERSION, "ECDHE-RSA-AES256-GCM-SHA384", TLSREC_AES_256_GCM},
    {TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", TLSREC_CHACHA20_POLY1305},
    {TLS1_2_VERSION, "ECDHE-RSA-CHACHA20-POLY1305", TLSREC_CHACHA20_POLY1305},
};

/* One connection: the OpenSSL client, and the server side as a socket
 * with the taken state (or the SSL object when the take failed). */
struct pair {
	SSL *c, *s;
	int cfd, sfd;
	struct tlsrec *r;
	int take_err;
	unsigned char in[BUF_MAX]; /* ciphertext read on the server side */
	size_t inlen;
};

static unsigned char msg[BUF_MAX], got[BUF_MAX], wire[BUF_MAX];

static void *
count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	allocs++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	allocs++;
	return realloc(p, n);
}

static void
count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

static X509 *
cert_make(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	        (const unsigned char *)"sipwarden.test", -1, -1, 0),
	    1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static int
group_setup(void **state)
{
	(void)state;
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (ec_key == NULL || rsa_key == NULL)
		return -1;
	ec_crt = cert_make(ec_key);
	rsa_crt = cert_make(rsa_key);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	X509_free(ec_crt);
	X509_free(rsa_crt);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(rsa_key);
	return 0;
}

/* A server context as the transport builds it (both certificates), set
 * up for tlsrec when setup is true. */
static SSL_CTX *
srv_ctx_new(bool setup)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION), 1);
	assert_int_equal(
	    SSL_CTX_set_cipher_list(ctx,
	        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"),
	    1);
	assert_int_equal(SSL_CTX_set_ciphersuites(ctx,
	                     "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	                     "TLS_CHACHA20_POLY1305_SHA256"),
	    1);
	SSL_CTX_set_options(ctx,
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	assert_int_equal(SSL_CTX_use_certificate(ctx, ec_crt), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, ec_key), 1);
	assert_int_equal(SSL_CTX_use_certificate(ctx, rsa_crt), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, rsa_key), 1);
	if (setup)
		tlsrec_ctx_setup(ctx);
	return ctx;
}

/* A client context limited to one suite of c. */
static SSL_CTX *
cli_ctx_new(const struct suite_case *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	assert_non_null(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, c->version), 1);
	if (c->version == TLS1_3_VERSION)
		assert_int_equal(SSL_CTX_set_ciphersuites(ctx, c->name), 1);
	else
		assert_int_equal(SSL_CTX_set_cipher_list(ctx, c->name), 1);
	return ctx;
}

static void
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* One handshake step of ssl; true when done. */
static bool
hs_step(SSL *ssl)
{
	int r = SSL_do_handshake(ssl), e;

	if (r == 1)
		return true;
	e = SSL_get_error(ssl, r);
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		ERR_print_errors_fp(stderr);
		fail_msg("handshake failed: %d", e);
	}
	return false;
}

/* Connects p: a handshake between a client of cctx and a server of sctx;
 * the moment the server finishes, its state is taken (p->take_err) and,
 * on success, its SSL freed. With read_ahead, the server reads what the
 * socket holds. With early, the client writes "early" as soon as it is
 * done, before the server reads its last flight. */
static void
pair_open(
    struct pair *p, SSL_CTX *sctx, SSL_CTX *cctx, bool read_ahead, bool early)
{
	int fds[2], i;
	bool cdone = false, sdone = false;

	memset(p, 0, sizeof(*p));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	p->cfd = fds[0];
	p->sfd = fds[1];
	nonblock(p->cfd);
	nonblock(p->sfd);
	p->c = SSL_new(cctx);
	p->s = SSL_new(sctx);
	assert_non_null(p->c);
	assert_non_null(p->s);
	assert_int_equal(SSL_set_fd(p->c, p->cfd), 1);
	assert_int_equal(SSL_set_fd(p->s, p->sfd), 1);
	assert_int_equal(SSL_set_tlsext_host_name(p->c, "sipwarden.test"), 1);
	SSL_set_connect_state(p->c);
	SSL_set_accept_state(p->s);
	SSL_set_read_ahead(p->s, read_ahead);
	for (i = 0; i < HANDSHAKE_STEPS && !(cdone && sdone); i++) {
		if (!cdone && hs_step(p->c)) {
			cdone = true;
			if (early)
				assert_int_equal(
				    SSL_write(p->c, "early", 5), 5);
		}
		if (!sdone && hs_step(p->s)) {
			sdone = true;
			p->take_err = tlsrec_take(p->s, &p->r);
			if (p->take_err == 0) {
				SSL_free(p->s);
				p->s = NULL;
			}
		}
	}
	assert_true(cdone && sdone);
}

static void
pair_close(struct pair *p)
{
	SSL_free(p->c);
	SSL_free(p->s);
	tlsrec_free(p->r);
	close(p->cfd);
	close(p->sfd);
}

/* Appends what the server socket holds to p->in. */
static void
srv_pull(struct pair *p)
{
	ssize_t n;

	while (p->inlen < sizeof(p->in) && (n = read(p->sfd, p->in + p->inlen,
	                                        sizeof(p->in) - p->inlen)) > 0)
		p->inlen += (size_t)n;
}

static void
srv_consume(struct pair *p, size_t used)
{
	memmove(p->in, p->in + used, p->inlen - used);
	p->inlen -= used;
}

/* Opens what the server received until want bytes of application data
 * are in got[0, *glen) or nothing more comes; returns the last error. */
static int
srv_recv(struct pair *p, size_t want, size_t *glen)
{
	size_t used, n;
	int err = 0;

	*glen = 0;
	srv_pull(p);
	while (*glen < want || p->inlen > 0) {
		err = tlsrec_open(p->r, p->in, p->inlen, &used, got + *glen,
		    sizeof(got) - *glen, &n);
		if (err != 0 && err != EPIPE)
			return err;
		srv_consume(p, used);
		*glen += n;
		if (err == EPIPE || used == 0)
			break;
	}
	return err;
}

static void
write_all(int fd, const unsigned char *b, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, b, len);
		assert_true(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

/* Seals b[0, len) on the server and sends it. */
static void
srv_send(struct pair *p, const unsigned char *b, size_t len)
{
	size_t need = tlsrec_sealed_max(p->r, len), n;

	assert_true(need <= sizeof(wire));
	assert_int_equal(tlsrec_seal(p->r, b, len, wire, need, &n), 0);
	assert_int_equal(n, need);
	write_all(p->sfd, wire, n);
}

static void
cli_write(struct pair *p, const unsigned char *b, size_t len)
{
	size_t n;

	assert_int_equal(SSL_write_ex(p->c, b, len, &n), 1);
	assert_int_equal(n, len);
}

/* Reads exactly len bytes on the client into got. */
static void
cli_read(struct pair *p, size_t len)
{
	size_t off = 0, n;

	while (off < len) {
		if (SSL_read_ex(p->c, got + off, len - off, &n) != 1) {
			ERR_print_errors_fp(stderr);
			fail_msg("client read: %d", SSL_get_error(p->c, 0));
		}
		off += n;
	}
}

/* The client has nothing more to read. */
static void
cli_read_none(struct pair *p)
{
	unsigned char b[1];
	size_t n;

	assert_int_equal(SSL_read_ex(p->c, b, sizeof(b), &n), 0);
	assert_int_equal(SSL_get_error(p->c, 0), SSL_ERROR_WANT_READ);
}

static void
fill(unsigned char *b, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 31 + seed * 7 + (i >> 8));
}

/* Client to server: len bytes, opened whole. */
static void
check_up(struct pair *p, size_t len, unsigned seed)
{
	size_t glen;

	fill(msg, len, seed);
	cli_write(p, msg, len);
	assert_int_equal(srv_recv(p, len, &glen), 0);
	assert_int_equal(glen, len);
	assert_memory_equal(got, msg, len);
	assert_int_equal(p->inlen, 0);
}

/* Server to client. */
static void
check_down(struct pair *p, size_t len, unsigned seed)
{
	fill(msg, len, seed);
	srv_send(p, msg, len);
	cli_read(p, len);
	assert_memory_equal(got, msg, len);
}

static void
pair_case(struct pair *p, const struct suite_case *c, SSL_CTX *sctx)
{
	SSL_CTX *cctx = cli_ctx_new(c);

	pair_open(p, sctx, cctx, false, false);
	SSL_CTX_free(cctx);
	assert_int_equal(p->take_err, 0);
	assert_int_equal(SSL_version(p->c), c->version);
	assert_string_equal(
	    SSL_CIPHER_get_name(SSL_get_current_cipher(p->c)), c->name);
}

/* Every suite both ways, messages of several sizes, several times. */
static void
test_suites(void **state)
{
	static const size_t sizes[MSG_SIZES] = {
	    1, 1000, 16383, 16384, 16385, 40000};
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	size_t i, j, n;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		pair_case(p, &cases[i], sctx);
		for (j = 0; j < 2 * MSG_SIZES; j++) {
			check_up(p, sizes[j % MSG_SIZES], (unsigned)j);
			check_down(p, sizes[j % MSG_SIZES], (unsigned)j);
		}
		/* Nothing to seal: nothing written. */
		assert_int_equal(tlsrec_sealed_max(p->r, 0), 0);
		assert_int_equal(tlsrec_seal(p->r, msg, 0, wire, 0, &n), 0);
		assert_int_equal(n, 0);
		/* Exact sizes: 2 records of 16384 + 1. */
		n = cases[i].version == TLS1_3_VERSION           ? 22
		    : cases[i].suite == TLSREC_CHACHA20_POLY1305 ? 21
		                                                 : 29;
		assert_int_equal(tlsrec_sealed_max(p->r, 16385), 16385 + 2 * n);
		check_down(p, 5, 99);
		cli_read_none(p);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* Records fed byte by byte: a partial record is never consumed; and
 * several records opened in one call. */
static void
test_partial(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	unsigned char all[3 * 2000];
	size_t i, k, start, used, n, glen, total;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		pair_case(p, &cases[i], sctx);
		fill(all, sizeof(all), 3);
		for (k = 0; k < 3; k++)
			cli_write(p, all + k * 2000, 2000);
		srv_pull(p);
		total = p->inlen;
		memcpy(wire, p->in, total);
		glen = 0;
		start = 0;
		for (k = start + 1; k <= total; k++) {
			assert_int_equal(
			    tlsrec_open(p->r, wire + start, k - start, &used,
			        got + glen, sizeof(got) - glen, &n),
			    0);
			assert_true(used == 0 || used == k - start);
			assert_true(used != 0 || n == 0);
			start += used;
			glen += n;
		}
		assert_int_equal(start, total);
		assert_int_equal(glen, sizeof(all));
		assert_memory_equal(got, all, sizeof(all));

		/* Three records and half a fourth in one call. */
		for (k = 0; k < 4; k++)
			cli_write(p, all + k * 1000, 1000);
		p->inlen = 0;
		srv_pull(p);
		total = p->inlen;
		assert_int_equal(tlsrec_open(p->r, p->in, total - 500, &used,
		                     got, sizeof(got), &n),
		    0);
		assert_int_equal(used, 3 * total / 4);
		assert_int_equal(n, 3000);
		assert_memory_equal(got, all, 3000);
		assert_int_equal(tlsrec_open(p->r, p->in + used, total - used,
		                     &used, got, sizeof(got), &n),
		    0);
		assert_int_equal(n, 1000);
		assert_memory_equal(got, all + 3000, 1000);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* TLS 1.3 KeyUpdate from the client, requested and not. */
static void
test_key_update(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	size_t i, k, n;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		if (cases[i].version != TLS1_3_VERSION)
			continue;
		pair_case(p, &cases[i], sctx);
		check_up(p, 100, 1);
		check_down(p, 100, 2);
		for (k = 0; k < 3; k++) {
			/* Requested: the server answers before its data. */
			assert_int_equal(
			    SSL_key_update(p->c, SSL_KEY_UPDATE_REQUESTED), 1);
			assert_false(tlsrec_reply_due(p->r));
			check_up(p, 300, 3);
			assert_true(tlsrec_reply_due(p->r));
			assert_int_equal(tlsrec_sealed_max(p->r, 10),
			    TLSREC_KEYUPDATE_LEN + 10 + 22);
			/* Too small: nothing changes. */
			assert_int_equal(tlsrec_seal(p->r, msg, 10, wire,
			                     TLSREC_KEYUPDATE_LEN + 31, &n),
			    EMSGSIZE);
			assert_true(tlsrec_reply_due(p->r));
			check_down(p, 10, 4);
			assert_false(tlsrec_reply_due(p->r));
			check_up(p, 20000, 5);
			check_down(p, 20000, 6);

			/* The reply alone, with no data. */
			assert_int_equal(
			    SSL_key_update(p->c, SSL_KEY_UPDATE_REQUESTED), 1);
			check_up(p, 1, 7);
			assert_true(tlsrec_reply_due(p->r));
			assert_int_equal(
			    tlsrec_seal(p->r, msg, 0, wire, sizeof(wire), &n),
			    0);
			assert_int_equal(n, TLSREC_KEYUPDATE_LEN);
			write_all(p->sfd, wire, n);
			assert_false(tlsrec_reply_due(p->r));
			cli_read_none(p);
			check_down(p, 1000, 8);

			/* Not requested: no reply. */
			assert_int_equal(
			    SSL_key_update(p->c, SSL_KEY_UPDATE_NOT_REQUESTED),
			    1);
			check_up(p, 500, 9);
			assert_false(tlsrec_reply_due(p->r));
			check_down(p, 500, 10);
			check_up(p, 500, 11);
		}
		/* Two requests before the reply: one reply. */
		assert_int_equal(
		    SSL_key_update(p->c, SSL_KEY_UPDATE_REQUESTED), 1);
		check_up(p, 10, 12);
		assert_int_equal(
		    SSL_key_update(p->c, SSL_KEY_UPDATE_REQUESTED), 1);
		check_up(p, 10, 13);
		assert_true(tlsrec_reply_due(p->r));
		check_down(p, 10, 14);
		check_up(p, 10, 15);
		check_down(p, 10, 16);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* close_notify, with data before it in the same input. */
static void
test_close_notify(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	size_t i, glen, used, n;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		pair_case(p, &cases[i], sctx);
		fill(msg, 700, 1);
		cli_write(p, msg, 700);
		assert_int_equal(SSL_shutdown(p->c), 0);
		assert_int_equal(srv_recv(p, 700, &glen), EPIPE);
		assert_int_equal(glen, 700);
		assert_memory_equal(got, msg, 700);
		assert_int_equal(p->inlen, 0);
		pair_close(p);

		pair_case(p, &cases[i], sctx);
		assert_int_equal(SSL_shutdown(p->c), 0);
		srv_pull(p);
		used = n = 99;
		assert_int_equal(tlsrec_open(p->r, p->in, p->inlen, &used, got,
		                     sizeof(got), &n),
		    EPIPE);
		assert_int_equal(used, p->inlen);
		assert_int_equal(n, 0);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* A record the client sent, in p->in; returns its length. */
static size_t
one_record(struct pair *p, size_t len)
{
	fill(msg, len, 5);
	cli_write(p, msg, len);
	p->inlen = 0;
	srv_pull(p);
	assert_int_equal(p->inlen, 5 + ((size_t)p->in[3] << 8 | p->in[4]));
	return p->inlen;
}

/* Tampering: every bit of a record flipped in turn, a replay, lengths. */
static void
test_tamper(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	unsigned char rec[64];
	size_t i, k, len, used, n, lim;
	int bit, err;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		pair_case(p, &cases[i], sctx);
		len = one_record(p, 10);
		assert_true(len <= sizeof(rec));
		memcpy(rec, p->in, len);
		/* Any change anywhere is refused, but for a longer length,
		 * which waits for more bytes; the state does not move. */
		for (k = 0; k < len; k++)
			for (bit = 0; bit < 8; bit++) {
				memcpy(wire, rec, len);
				wire[k] ^= (unsigned char)(1u << bit);
				err = tlsrec_open(p->r, wire, len, &used, got,
				    sizeof(got), &n);
				if ((k == 3 || k == 4) &&
				    ((size_t)wire[3] << 8 | wire[4]) > len - 5)
					assert_true(err == EPROTO ||
					            (err == 0 && used == 0));
				else
					assert_int_equal(err, EPROTO);
			}
		assert_int_equal(
		    tlsrec_open(p->r, rec, len, &used, got, sizeof(got), &n),
		    0);
		assert_int_equal(used, len);
		assert_int_equal(n, 10);
		/* Replayed. */
		assert_int_equal(
		    tlsrec_open(p->r, rec, len, &used, got, sizeof(got), &n),
		    EPROTO);
		pair_close(p);

		/* A length past the limit is refused from the header. */
		pair_case(p, &cases[i], sctx);
		lim = cases[i].version == TLS1_3_VERSION ? 16384 + 1 + 16
		      : cases[i].suite == TLSREC_CHACHA20_POLY1305
		          ? 16384 + 16
		          : 16384 + 8 + 16;
		wire[0] = 23;
		wire[1] = wire[2] = 3;
		wire[3] = (unsigned char)(lim >> 8);
		wire[4] = (unsigned char)lim;
		assert_int_equal(
		    tlsrec_open(p->r, wire, 5, &used, got, sizeof(got), &n), 0);
		assert_int_equal(used, 0);
		wire[4] = (unsigned char)(lim + 1);
		assert_int_equal(
		    tlsrec_open(p->r, wire, 5, &used, got, sizeof(got), &n),
		    EPROTO);
		memcpy(wire, "\x17\x03\x03\x00\x0f", 5); /* below the tag */
		assert_int_equal(
		    tlsrec_open(p->r, wire, 5, &used, got, sizeof(got), &n),
		    EPROTO);
		memcpy(wire, "\x17\x03\x01\x00\x20", 5); /* version */
		assert_int_equal(
		    tlsrec_open(p->r, wire, 5, &used, got, sizeof(got), &n),
		    EPROTO);
		memcpy(wire, "\x14\x03\x03\x00\x01\x01", 6); /* CCS */
		assert_int_equal(
		    tlsrec_open(p->r, wire, 6, &used, got, sizeof(got), &n),
		    EPROTO);
		memcpy(wire, "\x18\x03\x03\x00\x20", 5); /* heartbeat */
		assert_int_equal(
		    tlsrec_open(p->r, wire, 5, &used, got, sizeof(got), &n),
		    EPROTO);
		/* A truncated record: the same bytes, a shorter length. */
		len = one_record(p, 100);
		p->in[4] = (unsigned char)(p->in[4] - 1);
		assert_int_equal(tlsrec_open(p->r, p->in, len - 1, &used, got,
		                     sizeof(got), &n),
		    EPROTO);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* TLS 1.2: a client that renegotiates is refused. */
static void
test_renegotiate(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	size_t i, glen;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		if (cases[i].version != TLS1_2_VERSION)
			continue;
		pair_case(p, &cases[i], sctx);
		check_up(p, 10, 1);
		assert_int_equal(SSL_renegotiate(p->c), 1);
		assert_int_equal(SSL_do_handshake(p->c), -1);
		srv_pull(p);
		assert_true(p->inlen > 0);
		assert_int_equal(p->in[0], 22);
		assert_int_equal(srv_recv(p, 0, &glen), EPROTO);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* ENOTSUP: data already read by OpenSSL, secrets missing, tickets on, a
 * client or an unfinished handshake. */
static void
test_enotsup(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true), *bare = srv_ctx_new(false);
	SSL_CTX *cctx;
	struct pair *p = malloc(sizeof(*p));
	struct tlsrec *r = NULL;
	unsigned char b[16];
	size_t i, n;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		cctx = cli_ctx_new(&cases[i]);
		/* Client data read ahead with the client's last flight
		 * (TLS 1.3: the client is done first). The SSL object
		 * still works. */
		if (cases[i].version == TLS1_3_VERSION) {
			pair_open(p, sctx, cctx, true, true);
			assert_int_equal(p->take_err, ENOTSUP);
			assert_null(p->r);
			assert_int_equal(
			    SSL_read_ex(p->s, b, sizeof(b), &n), 1);
			assert_int_equal(n, 5);
			assert_memory_equal(b, "early", 5);
			pair_close(p);
		}
		/* No keylog callback, tickets on: refused for both versions
		 * (tickets); without tickets, TLS 1.3 lacks the secrets and
		 * TLS 1.2 works. */
		pair_open(p, bare, cctx, false, false);
		assert_int_equal(p->take_err, ENOTSUP);
		pair_close(p);
		SSL_CTX_set_num_tickets(bare, 0);
		pair_open(p, bare, cctx, false, false);
		assert_int_equal(p->take_err,
		    cases[i].version == TLS1_3_VERSION ? ENOTSUP : 0);
		if (p->take_err == 0) {
			check_up(p, 10, 1);
			check_down(p, 10, 2);
		}
		/* A client SSL is refused. */
		assert_int_equal(tlsrec_take(p->c, &r), ENOTSUP);
		pair_close(p);
		SSL_CTX_set_num_tickets(bare, 2);
		SSL_CTX_free(cctx);
	}
	/* Before the handshake. */
	p->s = SSL_new(sctx);
	assert_non_null(p->s);
	SSL_set_accept_state(p->s);
	assert_int_equal(tlsrec_take(p->s, &r), ENOTSUP);
	assert_null(r);
	SSL_free(p->s);
	free(p);
	SSL_CTX_free(bare);
	SSL_CTX_free(sctx);
}

/* Out buffers too small: open waits, seal refuses and changes nothing. */
static void
test_small_out(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	size_t i, used, n, len, need;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		pair_case(p, &cases[i], sctx);
		len = one_record(p, 1000);
		assert_int_equal(
		    tlsrec_open(p->r, p->in, len, &used, got, 999, &n), 0);
		assert_int_equal(used, 0);
		assert_int_equal(n, 0);
		assert_int_equal(
		    tlsrec_open(p->r, p->in, len, &used, NULL, 0, &n), 0);
		assert_int_equal(used, 0);
		assert_int_equal(
		    tlsrec_open(p->r, p->in, len, &used, got, 1000, &n), 0);
		assert_int_equal(used, len);
		assert_int_equal(n, 1000);
		assert_memory_equal(got, msg, 1000);
		/* Two records, room for one. */
		fill(msg, 1000, 2);
		cli_write(p, msg, 1000);
		cli_write(p, msg, 1000);
		p->inlen = 0;
		srv_pull(p);
		assert_int_equal(
		    tlsrec_open(p->r, p->in, p->inlen, &used, got, 1999, &n),
		    0);
		assert_int_equal(used, p->inlen / 2);
		assert_int_equal(n, 1000);
		srv_consume(p, used);
		assert_int_equal(
		    tlsrec_open(p->r, p->in, p->inlen, &used, got, 1000, &n),
		    0);
		assert_int_equal(used, p->inlen);
		assert_int_equal(n, 1000);
		/* A full record needs exactly TLSREC_PLAIN_MAX. */
		len = one_record(p, TLSREC_PLAIN_MAX);
		assert_int_equal(
		    len, tlsrec_sealed_max(p->r, TLSREC_PLAIN_MAX));
		assert_int_equal(tlsrec_open(p->r, p->in, len, &used, got,
		                     TLSREC_PLAIN_MAX, &n),
		    0);
		assert_int_equal(n, TLSREC_PLAIN_MAX);
		/* Seal. */
		need = tlsrec_sealed_max(p->r, 3000);
		assert_int_equal(
		    tlsrec_seal(p->r, msg, 3000, wire, need - 1, &n), EMSGSIZE);
		check_down(p, 3000, 3);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* A client padding its TLS 1.3 records, and asking for 512-byte
 * fragments (RFC 6066). */
static void
test_padding_fragment(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true), *cctx;
	struct pair *p = malloc(sizeof(*p));
	size_t i, n, used;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		cctx = cli_ctx_new(&cases[i]);
		assert_int_equal(SSL_CTX_set_tlsext_max_fragment_length(
		                     cctx, TLSEXT_max_fragment_length_512),
		    1);
		if (cases[i].version == TLS1_3_VERSION)
			assert_int_equal(
			    SSL_CTX_set_block_padding(cctx, 256), 1);
		pair_open(p, sctx, cctx, false, false);
		SSL_CTX_free(cctx);
		assert_int_equal(p->take_err, 0);
		check_up(p, 1, 1);
		check_up(p, 300, 2);
		check_up(p, 5000, 3);
		/* 2000 bytes: 4 records of at most 512. */
		assert_int_equal(tlsrec_sealed_max(p->r, 2000),
		    2000 + 4 * (cases[i].version == TLS1_3_VERSION ? 22
		                   : cases[i].suite == TLSREC_CHACHA20_POLY1305
		                       ? 21
		                       : 29));
		check_down(p, 2000, 4);
		check_down(p, 512, 5);
		check_up(p, 513, 6);
		/* A padded record's plaintext counts the padding: a
		 * 1-byte record padded to 256 needs room for 255. */
		if (cases[i].version == TLS1_3_VERSION) {
			one_record(p, 1);
			assert_int_equal(tlsrec_open(p->r, p->in, p->inlen,
			                     &used, got, 254, &n),
			    0);
			assert_int_equal(used, 0);
			assert_int_equal(tlsrec_open(p->r, p->in, p->inlen,
			                     &used, got, 255, &n),
			    0);
			assert_int_equal(used, p->inlen);
			assert_int_equal(n, 1);
		}
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

static SSL_CTX *sni_target;

static int
sni_cb(SSL *ssl, int *al, void *arg)
{
	(void)al;
	(void)arg;
	SSL_set_SSL_CTX(ssl, sni_target);
	return SSL_TLSEXT_ERR_OK;
}

/* The server switches to another context during the handshake (SNI). */
static void
test_sni(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true), *cctx;
	struct pair *p = malloc(sizeof(*p));

	(void)state;
	assert_non_null(p);
	sni_target = srv_ctx_new(true);
	SSL_CTX_set_tlsext_servername_callback(sctx, sni_cb);
	cctx = cli_ctx_new(&cases[0]);
	pair_open(p, sctx, cctx, false, false);
	assert_int_equal(p->take_err, 0);
	check_up(p, 100, 1);
	check_down(p, 100, 2);
	pair_close(p);
	free(p);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sni_target);
	SSL_CTX_free(sctx);
}

/* Sealing and opening allocate nothing once a thread's contexts exist. */
static void
test_no_alloc(void **state)
{
	SSL_CTX *sctx = srv_ctx_new(true);
	struct pair *p = malloc(sizeof(*p));
	size_t i, k, n, used, before;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		pair_case(p, &cases[i], sctx);
		check_down(p, 10, 1);
		one_record(p, 100);
		memcpy(wire, p->in, p->inlen);
		before = allocs;
		for (k = 0; k < 10; k++) {
			assert_int_equal(
			    tlsrec_seal(p->r, msg, 3000, got, sizeof(got), &n),
			    0);
			assert_int_equal(tlsrec_open(p->r, wire, p->inlen,
			                     &used, got, sizeof(got), &n),
			    k == 0 ? 0 : EPROTO);
		}
		assert_int_equal(allocs, before);
		pair_close(p);
	}
	free(p);
	SSL_CTX_free(sctx);
}

/* States without a handshake: round trips, argument checks and
 * sequence number exhaustion. */
static void
test_raw(void **state)
{
	unsigned char a[48], b[48];
	struct tlsrec *s = NULL, *c = NULL;
	size_t i, len, n, used;

	(void)state;
	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		len = cases[i].version == TLS1_3_VERSION
		          ? (cases[i].suite == TLSREC_AES_256_GCM ? 48 : 32)
		          : (cases[i].suite == TLSREC_AES_128_GCM      ? 20
		                : cases[i].suite == TLSREC_AES_256_GCM ? 36
		                                                       : 44);
		assert_int_equal(tlsrec_new_raw(cases[i].version,
		                     cases[i].suite, a, b, len + 1, 0, 0, &s),
		    EINVAL);
		assert_int_equal(tlsrec_new_raw(cases[i].version,
		                     cases[i].suite, a, b, len, 7, 9, &s),
		    0);
		assert_int_equal(tlsrec_new_raw(cases[i].version,
		                     cases[i].suite, b, a, len, 9, 7, &c),
		    0);
		fill(msg, 50000, 3);
		assert_int_equal(
		    tlsrec_seal(c, msg, 50000, wire, sizeof(wire), &n), 0);
		assert_int_equal(
		    tlsrec_open(s, wire, n, &used, got, sizeof(got), &len), 0);
		assert_int_equal(used, n);
		assert_int_equal(len, 50000);
		assert_memory_equal(got, msg, 50000);
		assert_int_equal(
		    tlsrec_seal(s, msg, 100, wire, sizeof(wire), &n), 0);
		assert_int_equal(
		    tlsrec_open(c, wire, n, &used, got, sizeof(got), &len), 0);
		assert_int_equal(len, 100);
		tlsrec_free(s);
		tlsrec_free(c);
		assert_int_equal(tlsrec_new_raw(cases[i].version,
		                     cases[i].suite, a, b, 0, 0, 0, &s),
		    EINVAL);
	}
	/* The last sequence numbers are never used. */
	len = 32;
	assert_int_equal(tlsrec_new_raw(TLS1_3_VERSION, TLSREC_AES_128_GCM, a,
	                     b, len, UINT64_MAX, UINT64_MAX - 3, &s),
	    0);
	assert_int_equal(tlsrec_new_raw(TLS1_3_VERSION, TLSREC_AES_128_GCM, b,
	                     a, len, UINT64_MAX - 3, UINT64_MAX, &c),
	    0);
	assert_int_equal(tlsrec_seal(s, msg, 10, wire, sizeof(wire), &n), 0);
	assert_int_equal(
	    tlsrec_seal(s, msg, 10, wire, sizeof(wire), &n), EOVERFLOW);
	assert_int_equal(
	    tlsrec_seal(c, msg, 10, wire, sizeof(wire), &n), EOVERFLOW);
	tlsrec_free(c);
	assert_int_equal(tlsrec_new_raw(TLS1_3_VERSION, TLSREC_AES_128_GCM, b,
	                     a, len, 0, UINT64_MAX - 1, &c),
	    0);
	assert_int_equal(
	    tlsrec_seal(c, msg, 10, wire, sizeof(wire), &n), EOVERFLOW);
	tlsrec_free(c);
	/* A record the peer sealed with sequence number 2^64 - 1. */
	assert_int_equal(
	    tlsrec_open(s, wire, 0, &used, got, sizeof(got), &n), 0);
	assert_int_equal(used, 0);
	memcpy(wire, "\x17\x03\x03\x00\x11", 5);
	memset(wire + 5, 0, 17);
	assert_int_equal(
	    tlsrec_open(s, wire, 22, &used, got, sizeof(got), &n), EPROTO);
	tlsrec_free(s);
	assert_int_equal(tlsrec_new_raw(TLS1_1_VERSION, TLSREC_AES_128_GCM, a,
	                     b, 20, 0, 0, &s),
	    EINVAL);
	assert_int_equal(tlsrec_new_raw(TLS1_3_VERSION, (enum tlsrec_suite)3, a,
	                     b, 32, 0, 0, &s),
	    EINVAL);
	tlsrec_free(NULL);
}

/* A round trip of every suite on a thread of its own, whose cipher
 * contexts are freed when it ends (LeakSanitizer checks). */
static void *
thread_main(void *arg)
{
	unsigned char a[48], b[48], m[100], c[200], o[100];
	struct tlsrec *s, *r;
	size_t i, n, used, olen, len;
	int *ok = arg, good = 1;

	memset(a, 1, sizeof(a));
	memset(b, 2, sizeof(b));
	memset(m, 3, sizeof(m));
	for (i = 0; i < 3; i++) {
		len = cases[i].suite == TLSREC_AES_256_GCM ? 48 : 32;
		if (tlsrec_new_raw(TLS1_3_VERSION, cases[i].suite, a, b, len, 0,
		        0, &s) != 0)
			return NULL;
		if (tlsrec_new_raw(TLS1_3_VERSION, cases[i].suite, b, a, len, 0,
		        0, &r) != 0) {
			tlsrec_free(s);
			return NULL;
		}
		if (tlsrec_seal(s, m, sizeof(m), c, sizeof(c), &n) != 0 ||
		    tlsrec_open(r, c, n, &used, o, sizeof(o), &olen) != 0 ||
		    olen != sizeof(m) || memcmp(o, m, olen) != 0)
			good = 0;
		tlsrec_free(s);
		tlsrec_free(r);
	}
	*ok = good; /* stays 0 on an early return */
	return NULL;
}

static void
test_thread(void **state)
{
	pthread_t t;
	int ok = 0;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, thread_main, &ok), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(ok, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_suites),
	    cmocka_unit_test(test_partial),
	    cmocka_unit_test(test_key_update),
	    cmocka_unit_test(test_close_notify),
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_renegotiate),
	    cmocka_unit_test(test_enotsup),
	    cmocka_unit_test(test_small_out),
	    cmocka_unit_test(test_padding_fragment),
	    cmocka_unit_test(test_sni),
	    cmocka_unit_test(test_no_alloc),
	    cmocka_unit_test(test_raw),
	    cmocka_unit_test(test_thread),
	};

	/* Before OpenSSL allocates anything. */
	if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
