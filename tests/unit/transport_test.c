/* transport_test.c: the transport's UDP listener with several workers
 * (real sockets on loopback). */
#include "core/config.h"
#include "transport/transport.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

enum { NWORKERS = 2, NDGRAMS = 2000 };

static atomic_uint per_worker[NWORKERS];

static void
count_cb(void *arg, struct tp_worker *w, const struct tp_flow *f, char *buf,
    size_t len)
{
	(void)arg;
	(void)f;
	(void)buf;
	(void)len;
	atomic_fetch_add(&per_worker[tp_worker_index(w)], 1);
}

/* A free UDP port on 127.0.0.1. */
static unsigned
free_udp_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Datagrams from one source (one address and port) reach every worker,
 * not only the one its hash would pick: a carrier or an SBC sending all
 * its traffic from one socket is not held to one core. */
static void
test_one_source_spread_over_workers(void **state)
{
	char text[256], err[256];
	struct config *cfg = NULL;
	struct transport *t = NULL;
	struct sockaddr_in to = {.sin_family = AF_INET};
	unsigned port = free_udp_port(), got = 0, i;
	int fd, tries;

	(void)state;
	snprintf(text, sizeof(text),
	    "[sip]\nudp = 127.0.0.1:%u\ntcp =\ntls =\n", port);
	if (config_load_string(text, strlen(text), "/tmp", "t.conf", &cfg, err,
	        sizeof(err)) != 0)
		fail_msg("config: %s", err);
	if (transport_new(cfg, NWORKERS, &t, err, sizeof(err)) != 0)
		fail_msg("transport_new: %s", err);
	assert_int_equal(transport_start(t, count_cb, NULL), 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	to.sin_port = htons((uint16_t)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NDGRAMS; i++) {
		assert_int_equal(sendto(fd, "OPTIONS x", 9, 0,
		                     (struct sockaddr *)&to, sizeof(to)),
		    9);
		if (i % 100 == 99) {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL); /* no socket buffer overflow */
		}
	}
	for (tries = 0; tries < 300; tries++) {
		struct timespec ts = {0, 10000000};

		got = atomic_load(&per_worker[0]) + atomic_load(&per_worker[1]);
		if (got >= NDGRAMS)
			break;
		nanosleep(&ts, NULL);
	}
	close(fd);
	transport_free(t);
	config_free(cfg);
	assert_int_equal(got, NDGRAMS);
	/* Random choice: each worker gets about half; far from 0. */
	assert_true(atomic_load(&per_worker[0]) > NDGRAMS / 4);
	assert_true(atomic_load(&per_worker[1]) > NDGRAMS / 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_source_spread_over_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
