/* fuzz_srtp.c: libFuzzer target for the SRTP/SRTCP transforms
 * (src/media/srtp.c). The first byte selects the suite (bits 0-1) and the
 * mode (bits 2-3):
 *   0  the rest is an SRTP packet for a receiver with a fixed key
 *   1  the same as SRTCP
 *   2  the rest is records {flags, len, bytes}: each is protected as RTP or
 *      RTCP by a fresh sender and checked by a fresh receiver, which must
 *      give back the same bytes (or EALREADY for a repeated index; with
 *      more SSRCs than SRTP_SSRC_MAX the two may also disagree: EACCES)
 *   3  the rest is protected as RTP and as RTCP by a fixed-key sender and
 *      the output fed to the fixed-key receivers
 * The receivers and senders of modes 0, 1 and 3 keep their state between
 * inputs. Aborts when an invariant breaks. tests/fuzz/corpus/srtp holds
 * packets protected with the fixed key (fuzz_srtp_key). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/srtp.h"

enum {
	NSUITES = 4,
	PKT_MAX = 4096,
	RECORD_FLAG_RTCP = 0x80,
	RECORD_LEN_HI = 0x07, /* 11-bit record length */
	SSRC_SEEN_MAX = 64,
};

static struct srtp_ctx *rx[NSUITES], *tx[NSUITES];
static unsigned char buf[PKT_MAX + SRTP_RTCP_OVERHEAD_MAX];
static unsigned char plain[PKT_MAX];

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* The fixed master key: byte i is 7 * i + 1. */
static void
fuzz_srtp_key(unsigned char key[SRTP_MASTER_MAX])
{
	size_t i;

	for (i = 0; i < SRTP_MASTER_MAX; i++)
		key[i] = (unsigned char)(7 * i + 1);
}

static void
setup(void)
{
	unsigned char key[SRTP_MASTER_MAX];
	size_t s;

	if (rx[0] != NULL)
		return;
	fuzz_srtp_key(key);
	for (s = 0; s < NSUITES; s++) {
		check(srtp_ctx_new((enum srtp_suite)s, key,
		          srtp_suite_keylen((enum srtp_suite)s), &rx[s]) == 0);
		check(srtp_ctx_new((enum srtp_suite)s, key,
		          srtp_suite_keylen((enum srtp_suite)s), &tx[s]) == 0);
	}
}

/* Unprotects a copy of p[0, len) with c; the result must lie inside. */
static void
unprotect(struct srtp_ctx *c, bool rtcp, const uint8_t *p, size_t len)
{
	size_t n = SIZE_MAX;
	int err;

	if (len > PKT_MAX)
		return;
	memcpy(buf, p, len);
	err = rtcp ? srtp_rtcp_unprotect(c, buf, len, &n)
	           : srtp_rtp_unprotect(c, buf, len, &n);
	check(err == 0 || err == EBADMSG || err == EACCES || err == EALREADY);
	check(err != 0 || n < len);
	check(err == 0 || n == SIZE_MAX);
}

/* Notes ssrc in seen (up to SSRC_SEEN_MAX); returns the distinct count. */
static size_t
ssrc_note(uint32_t *seen, size_t *nseen, uint32_t ssrc)
{
	size_t i;

	for (i = 0; i < *nseen; i++)
		if (seen[i] == ssrc)
			return *nseen;
	if (*nseen < SSRC_SEEN_MAX)
		seen[(*nseen)++] = ssrc;
	return *nseen;
}

/* Mode 2: a fresh sender and receiver; every record that protects must
 * come back unchanged. */
static void
roundtrip(enum srtp_suite suite, const uint8_t *p, size_t len)
{
	unsigned char key[SRTP_MASTER_MAX];
	struct srtp_ctx *s = NULL, *r = NULL;
	uint32_t seen[SSRC_SEEN_MAX];
	size_t nseen = 0, rl, n, m;
	bool rtcp;
	int err;

	fuzz_srtp_key(key);
	check(srtp_ctx_new(suite, key, srtp_suite_keylen(suite), &s) == 0);
	check(srtp_ctx_new(suite, key, srtp_suite_keylen(suite), &r) == 0);
	while (len >= 2) {
		rtcp = (p[0] & RECORD_FLAG_RTCP) != 0;
		rl = (size_t)(p[0] & RECORD_LEN_HI) << 8 | p[1];
		p += 2;
		len -= 2;
		if (rl > len)
			rl = len;
		memcpy(plain, p, rl);
		memcpy(buf, p, rl);
		p += rl;
		len -= rl;

		err = rtcp ? srtp_rtcp_protect(s, buf, rl, sizeof(buf), &n)
		           : srtp_rtp_protect(s, buf, rl, sizeof(buf), &n);
		if (err == EBADMSG)
			continue;
		check(err == 0);
		check(n > rl && n <= rl + (rtcp ? SRTP_RTCP_OVERHEAD_MAX
		                                : SRTP_RTP_OVERHEAD_MAX));
		ssrc_note(seen, &nseen,
		    (uint32_t)buf[rtcp ? 4 : 8] << 24 |
		        (uint32_t)buf[rtcp ? 5 : 9] << 16 |
		        (uint32_t)buf[rtcp ? 6 : 10] << 8 | buf[rtcp ? 7 : 11]);
		err = rtcp ? srtp_rtcp_unprotect(r, buf, n, &m)
		           : srtp_rtp_unprotect(r, buf, n, &m);
		if (err == 0) {
			check(m == rl && memcmp(buf, plain, rl) == 0);
			continue;
		}
		check(err == EALREADY ||
		      (err == EACCES && nseen > SRTP_SSRC_MAX));
		check(!rtcp || nseen > SRTP_SSRC_MAX);
	}
	srtp_ctx_free(s);
	srtp_ctx_free(r);
}

/* Mode 3: arbitrary input through the long-lived sender, then its output
 * to the long-lived receivers. */
static void
protect_any(enum srtp_suite suite, const uint8_t *p, size_t len)
{
	size_t n;
	int err;

	if (len > PKT_MAX)
		return;
	memcpy(buf, p, len);
	err = srtp_rtp_protect(tx[suite], buf, len, sizeof(buf), &n);
	check(err == 0 || err == EBADMSG);
	if (err == 0)
		unprotect(rx[suite], false, buf, n);
	memcpy(buf, p, len);
	err = srtp_rtcp_protect(tx[suite], buf, len, len + 3, &n);
	check(err == EMSGSIZE || err == EBADMSG);
	err = srtp_rtcp_protect(tx[suite], buf, len, sizeof(buf), &n);
	check(err == 0 || err == EBADMSG);
	if (err == 0)
		unprotect(rx[suite], true, buf, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum srtp_suite suite;

	if (size < 1)
		return 0;
	setup();
	suite = (enum srtp_suite)(data[0] & 3);
	switch ((data[0] >> 2) & 3) {
	case 0:
		unprotect(rx[suite], false, data + 1, size - 1);
		break;
	case 1:
		unprotect(rx[suite], true, data + 1, size - 1);
		break;
	case 2:
		roundtrip(suite, data + 1, size - 1);
		break;
	default:
		protect_any(suite, data + 1, size - 1);
		break;
	}
	return 0;
}
