/* srtpcheck: checks captured SRTP packets against a key with libsrtp2 (an
 * implementation independent of ours), for the media tests.
 *
 *   srtpcheck SUITE KEY_BASE64 < lines
 *   srtpcheck --protect SUITE KEY_BASE64 < lines
 *
 * SUITE is an RFC 4568 name; each input line is "rtp HEX" or "rtcp HEX"
 * (one captured datagram, in capture order). For each line it prints
 * "ok HEX" (the decrypted packet) or "fail CODE". With --protect, the
 * lines are plain RTP or RTCP packets (one sender's, in sending order: one
 * session protects them all) and "ok HEX" is the packet protected with the
 * key, as a phone would send it. Exit 0, or 2 on bad arguments. */
#include <srtp2/srtp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	LINE_MAX_BYTES = 8192,
	PKT_MAX = 2048,
	/* room protect needs after the packet (libsrtp writes up to
	 * SRTP_MAX_TRAILER_LEN, and 4 more for SRTCP's index) */
	PKT_ROOM = SRTP_MAX_TRAILER_LEN + 4,
};

static int
b64_val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

static size_t
b64_decode(const char *in, unsigned char *out, size_t max)
{
	unsigned acc = 0, bits = 0;
	size_t n = 0;

	for (; *in != '\0' && *in != '='; in++) {
		int v = b64_val((unsigned char)*in);

		if (v < 0)
			return 0;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == max)
				return 0;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

static int
hex_val(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static size_t
hex_decode(const char *in, unsigned char *out, size_t max)
{
	size_t n = 0;

	while (in[0] != '\0' && in[0] != '\n') {
		int hi = hex_val((unsigned char)in[0]);
		int lo = hex_val((unsigned char)in[1]);

		if (n == max || hi < 0 || lo < 0)
			return 0;
		out[n++] = (unsigned char)(hi << 4 | lo);
		in += 2;
	}
	return n;
}

static int
policy_set(const char *suite, srtp_policy_t *pol)
{
	if (strcmp(suite, "AES_CM_128_HMAC_SHA1_80") == 0) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
	} else if (strcmp(suite, "AES_CM_128_HMAC_SHA1_32") == 0) {
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol->rtp);
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
	} else if (strcmp(suite, "AES_256_CM_HMAC_SHA1_80") == 0) {
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol->rtp);
		srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&pol->rtcp);
	} else if (strcmp(suite, "AEAD_AES_128_GCM") == 0) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
	} else {
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	srtp_policy_t pol;
	srtp_t session = NULL;
	unsigned char key[64], pkt[PKT_MAX + PKT_ROOM];
	char line[LINE_MAX_BYTES];
	size_t keylen;
	int protect = 0;

	if (argc == 4 && strcmp(argv[1], "--protect") == 0) {
		protect = 1;
		argc--;
		argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: srtpcheck [--protect] SUITE KEY_BASE64 "
		                "< lines\n");
		return 2;
	}
	memset(&pol, 0, sizeof(pol));
	if (policy_set(argv[1], &pol) != 0) {
		fprintf(stderr, "srtpcheck: unknown suite %s\n", argv[1]);
		return 2;
	}
	keylen = b64_decode(argv[2], key, sizeof(key));
	if (keylen == 0) {
		fprintf(stderr, "srtpcheck: KEY_BASE64 is not base64\n");
		return 2;
	}
	if (srtp_init() != srtp_err_status_ok)
		return 2;
	pol.ssrc.type = protect ? ssrc_any_outbound : ssrc_any_inbound;
	pol.key = key;
	pol.window_size = 1024;
	pol.next = NULL;
	if (srtp_create(&session, &pol) != srtp_err_status_ok) {
		fprintf(stderr, "srtpcheck: srtp_create failed\n");
		return 2;
	}
	while (fgets(line, sizeof(line), stdin) != NULL) {
		int rtcp = strncmp(line, "rtcp ", 5) == 0;
		const char *hex = line + (rtcp ? 5 : 4);
		size_t n = hex_decode(hex, pkt, PKT_MAX);
		int len = (int)n, i;
		srtp_err_status_t st;

		if (n == 0) {
			printf("fail bad-line\n");
			continue;
		}
		if (protect)
			st = rtcp ? srtp_protect_rtcp(session, pkt, &len)
			          : srtp_protect(session, pkt, &len);
		else
			st = rtcp ? srtp_unprotect_rtcp(session, pkt, &len)
			          : srtp_unprotect(session, pkt, &len);
		if (st != srtp_err_status_ok) {
			printf("fail %d\n", (int)st);
			continue;
		}
		printf("ok ");
		for (i = 0; i < len; i++)
			printf("%02x", pkt[i]);
		printf("\n");
	}
	srtp_dealloc(session);
	srtp_shutdown();
	return 0;
}
