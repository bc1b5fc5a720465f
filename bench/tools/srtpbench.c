/* srtpbench.c: time per protect and unprotect of a 172-byte RTP packet
 * (160-byte payload) for each suite, ours (src/media/srtp.c) and
 * libsrtp2's, in batches of BATCH packets with increasing sequence
 * numbers. Not part of make; build it by hand:
 *
 *   gcc -std=c17 -D_GNU_SOURCE -O2 -Isrc bench/tools/srtpbench.c \
 *       src/media/srtp.c src/lib/util.c src/lib/log.c \
 *       -o /tmp/srtpbench -lcrypto -lsrtp2
 *   /tmp/srtpbench [rounds]
 *
 * Prints one line per suite and implementation: microseconds per protect
 * and per unprotect, the mean over all rounds and the best round (each
 * round BATCH packets). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <srtp2/srtp.h>

#include "lib/util.h"
#include "media/srtp.h"

enum {
	BATCH = 1024,
	PAYLOAD = 160,
	RTP_LEN = 12 + PAYLOAD,
	SLOT = RTP_LEN + SRTP_RTP_OVERHEAD_MAX,
	ROUNDS_DEFAULT = 300,
};

static const char *const suite_names[] = {
    "AES_CM_128_HMAC_SHA1_80",
    "AES_CM_128_HMAC_SHA1_32",
    "AES_256_CM_HMAC_SHA1_80",
    "AEAD_AES_128_GCM",
};

static unsigned char pkts[BATCH][SLOT];
static size_t lens[BATCH];

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
fill(uint16_t seq0)
{
	size_t i;

	for (i = 0; i < BATCH; i++) {
		uint16_t seq = (uint16_t)(seq0 + i);

		memset(pkts[i], 0x5a, SLOT);
		pkts[i][0] = 0x80;
		pkts[i][1] = 0;
		pkts[i][2] = (unsigned char)(seq >> 8);
		pkts[i][3] = (unsigned char)seq;
		memset(pkts[i] + 4, 0, 4);
		pkts[i][8] = 0x12;
		pkts[i][9] = 0x34;
		pkts[i][10] = 0x56;
		pkts[i][11] = 0x78;
		lens[i] = RTP_LEN;
	}
}

static void
die(const char *what)
{
	fprintf(stderr, "srtpbench: %s failed\n", what);
	exit(1);
}

static srtp_t
lib_session(enum srtp_suite suite, const unsigned char *key, bool inbound)
{
	srtp_policy_t p;
	srtp_t s;

	memset(&p, 0, sizeof(p));
	switch (suite) {
	case SRTP_SUITE_AES_CM_128_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
		break;
	case SRTP_SUITE_AES_CM_128_HMAC_SHA1_32:
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
		break;
	case SRTP_SUITE_AES_256_CM_HMAC_SHA1_80:
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p.rtp);
		break;
	case SRTP_SUITE_AEAD_AES_128_GCM:
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		break;
	}
	p.rtcp = p.rtp;
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = (unsigned char *)key;
	p.window_size = SRTP_REPLAY_WINDOW;
	if (srtp_create(&s, &p) != srtp_err_status_ok)
		die("srtp_create");
	return s;
}

/* ns per packet for protect and unprotect, ours (lib false) or
 * libsrtp2's: t[0], t[1] the mean, t[2], t[3] the best round. */
static void
bench(enum srtp_suite suite, bool lib, unsigned rounds, double t[4])
{
	unsigned char key[SRTP_MASTER_MAX];
	struct srtp_ctx *tx = NULL, *rx = NULL;
	srtp_t ltx = NULL, lrx = NULL;
	uint16_t seq = 1;
	double t0, t1, t2;
	unsigned r;
	size_t i, n;
	int len;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 31 + 7);
	if (lib) {
		ltx = lib_session(suite, key, false);
		lrx = lib_session(suite, key, true);
	} else if (srtp_ctx_new(suite, key, srtp_suite_keylen(suite), &tx) !=
	               0 ||
	           srtp_ctx_new(suite, key, srtp_suite_keylen(suite), &rx) !=
	               0) {
		die("srtp_ctx_new");
	}
	t[0] = t[1] = 0;
	t[2] = t[3] = 1e30;
	for (r = 0; r < rounds; r++, seq = (uint16_t)(seq + BATCH)) {
		fill(seq);
		t0 = now_ns();
		for (i = 0; i < BATCH; i++) {
			if (lib) {
				len = (int)lens[i];
				if (srtp_protect(ltx, pkts[i], &len) != 0)
					die("srtp_protect");
				lens[i] = (size_t)len;
			} else {
				if (srtp_rtp_protect(
				        tx, pkts[i], lens[i], SLOT, &n) != 0)
					die("srtp_rtp_protect");
				lens[i] = n;
			}
		}
		t1 = now_ns();
		for (i = 0; i < BATCH; i++) {
			if (lib) {
				len = (int)lens[i];
				if (srtp_unprotect(lrx, pkts[i], &len) != 0)
					die("srtp_unprotect");
			} else if (srtp_rtp_unprotect(
			               rx, pkts[i], lens[i], &n) != 0) {
				die("srtp_rtp_unprotect");
			}
		}
		t2 = now_ns();
		t[0] += (t1 - t0) / BATCH / rounds;
		t[1] += (t2 - t1) / BATCH / rounds;
		if ((t1 - t0) / BATCH < t[2])
			t[2] = (t1 - t0) / BATCH;
		if ((t2 - t1) / BATCH < t[3])
			t[3] = (t2 - t1) / BATCH;
	}
	if (lib) {
		srtp_dealloc(ltx);
		srtp_dealloc(lrx);
	}
	srtp_ctx_free(tx);
	srtp_ctx_free(rx);
}

int
main(int argc, char **argv)
{
	unsigned rounds = ROUNDS_DEFAULT;
	double t[4];
	uint64_t v;
	size_t s;

	if (argc > 1) {
		if (util_u64_parse(argv[1], strlen(argv[1]), 100000, &v) != 0 ||
		    v == 0) {
			fprintf(stderr, "usage: srtpbench [rounds]\n");
			return 2;
		}
		rounds = (unsigned)v;
	}
	if (srtp_init() != srtp_err_status_ok)
		die("srtp_init");
	printf("%-24s %-8s %10s %10s %10s %10s\n", "suite (172-byte RTP)",
	    "impl", "prot mean", "unp mean", "prot best", "unp best");
	for (s = 0; s < 2 * ARRAY_LEN(suite_names); s++) {
		bench((enum srtp_suite)(s / 2), s % 2 == 1, rounds, t);
		printf("%-24s %-8s %10.3f %10.3f %10.3f %10.3f\n",
		    suite_names[s / 2], s % 2 == 1 ? "libsrtp2" : "ours",
		    t[0] / 1000, t[1] / 1000, t[2] / 1000, t[3] / 1000);
	}
	return 0;
}
