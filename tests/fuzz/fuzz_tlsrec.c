/* fuzz_tlsrec.c: libFuzzer target for the TLS record layer
 * (src/transport/tlsrec.c). Every input runs against fresh states built
 * from fixed secrets (fuzz_secret): the server's, as tlsrec_take would
 * build it, and the client's mirror (rx and tx swapped). The first byte
 * selects the version and suite (bits 0-2, modulo 6: TLS 1.3 AES-128-GCM,
 * AES-256-GCM, ChaCha20, then TLS 1.2 the same) and the mode (bits 3-4):
 *   0  byte 1 is a split point, byte 2 the out size; the rest is a stream
 *      of records from the client, delivered in two parts to tlsrec_open
 *      as a transport would (what is not consumed is kept)
 *   1  the rest is chunks {len (2), bytes}: the client seals each, the
 *      server opens it (with an out size the chunk chooses), and the
 *      bytes must come back identical; then the other way
 *   2  the rest is records {type, pad, len (2), bytes} that this file
 *      seals itself (its own AEAD code, any inner type and padding; TLS
 *      1.2: any outer type) for the server, which must give the result a
 *      model of RFC 8446 5.4 / 7.2 and RFC 5246 predicts: the application
 *      data, EPIPE for an alert, KeyUpdates followed (this side updates
 *      its key after sending one), EPROTO for the rest.
 * Aborts when an invariant breaks. tests/fuzz/corpus/tlsrec holds
 * records sealed with the fixed secrets. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/ssl.h>

#include "transport/tlsrec.h"

enum {
	NCOMBOS = 6,
	MODE_STREAM = 0,
	MODE_ROUNDTRIP = 1,
	MODE_CRAFT = 2,
	IN_MAX = 1 << 17,
	BUF_MAX = 1 << 18,
	OUT_STEP = 700, /* out sizes below TLSREC_PLAIN_MAX, in steps */
};

struct combo {
	int version;
	enum tlsrec_suite suite;
	size_t len; /* secret, or key || IV */
};

static const struct combo combos[NCOMBOS] = {
    {TLS1_3_VERSION, TLSREC_AES_128_GCM, 32},
    {TLS1_3_VERSION, TLSREC_AES_256_GCM, 48},
    {TLS1_3_VERSION, TLSREC_CHACHA20_POLY1305, 32},
    {TLS1_2_VERSION, TLSREC_AES_128_GCM, 16 + 4},
    {TLS1_2_VERSION, TLSREC_AES_256_GCM, 32 + 4},
    {TLS1_2_VERSION, TLSREC_CHACHA20_POLY1305, 32 + 12},
};

static unsigned char stream[BUF_MAX], out[BUF_MAX], wire[BUF_MAX];
static unsigned char expect[BUF_MAX];

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* The fixed secrets: the client's (c) and the server's. */
static void
fuzz_secret(unsigned char c[48], unsigned char s[48])
{
	size_t i;

	for (i = 0; i < 48; i++) {
		c[i] = (unsigned char)(7 * i + 1);
		s[i] = (unsigned char)(13 * i + 5);
	}
}

static void
fuzz_states(const struct combo *cb, struct tlsrec **srv, struct tlsrec **cli)
{
	unsigned char c[48], s[48];
	uint64_t seq = cb->version == TLS1_2_VERSION ? 1 : 0;

	fuzz_secret(c, s);
	check(tlsrec_new_raw(
	          cb->version, cb->suite, c, s, cb->len, seq, seq, srv) == 0);
	check(tlsrec_new_raw(
	          cb->version, cb->suite, s, c, cb->len, seq, seq, cli) == 0);
}

/* Opens stream[0, len) on r until nothing more is consumed, with out
 * room of at most room bytes per call; the data goes to out[*olen...].
 * Returns the last result; *consumed is the bytes used. */
static int
fuzz_open_all(
    struct tlsrec *r, size_t len, size_t room, size_t *consumed, size_t *olen)
{
	size_t off = 0, used, n, sz;
	int err = 0;

	for (;;) {
		sz = sizeof(out) - *olen < room ? sizeof(out) - *olen : room;
		used = n = SIZE_MAX;
		err = tlsrec_open(
		    r, stream + off, len - off, &used, out + *olen, sz, &n);
		if (err != 0 && err != EPIPE) {
			check(used == SIZE_MAX && n == SIZE_MAX);
			break;
		}
		check(used <= len - off && n <= sz);
		off += used;
		*olen += n;
		if (err == EPIPE || used == 0)
			break;
	}
	*consumed = off;
	return err;
}

/* Mode 0: arbitrary bytes as a stream, in two deliveries. */
static void
fuzz_stream(const struct combo *cb, const uint8_t *p, size_t len)
{
	struct tlsrec *srv, *cli;
	size_t split, room, used, olen = 0, have;
	int err;

	if (len < 2 || len > IN_MAX)
		return;
	split = len > 2 ? (size_t)p[0] * (len - 2) / 255 : 0;
	room = p[1] == 0xff ? BUF_MAX : (size_t)p[1] * OUT_STEP / 4 + 1;
	p += 2;
	len -= 2;
	fuzz_states(cb, &srv, &cli);
	memcpy(stream, p, split);
	err = fuzz_open_all(srv, split, room, &used, &olen);
	if (err == 0) {
		have = split - used;
		memmove(stream, stream + used, have);
		memcpy(stream + have, p + split, len - split);
		err =
		    fuzz_open_all(srv, have + len - split, room, &used, &olen);
	}
	check(err == 0 || err == EPIPE || err == EPROTO);
	check(olen <= len);
	/* Whatever happened, a reply can still be sealed. */
	if (err == 0) {
		size_t need = tlsrec_sealed_max(srv, 3), n;

		check(tlsrec_seal(srv, p, len < 3 ? len : 3, wire, need, &n) ==
		      0);
	}
	tlsrec_free(srv);
	tlsrec_free(cli);
}

/* Seals p[0, len) with from, opens it with to (room out bytes at a time),
 * and checks the bytes come back. */
static void
fuzz_pass(struct tlsrec *from, struct tlsrec *to, const uint8_t *p, size_t len,
    size_t room)
{
	size_t need = tlsrec_sealed_max(from, len), n, used, olen = 0;

	check(need <= sizeof(stream));
	if (need > 0)
		check(tlsrec_seal(from, p, len, stream, need - 1, &n) ==
		      EMSGSIZE);
	check(tlsrec_seal(from, p, len, stream, need, &n) == 0);
	check(n == need);
	/* A partial stream opens its whole records only. */
	if (n > 0) {
		check(tlsrec_open(to, stream, n - 1, &used, out, sizeof(out),
		          &olen) == 0);
		check(used < n && olen <= len);
		check(memcmp(out, p, olen) == 0);
		memmove(stream, stream + used, n - used);
		n -= used;
	}
	check(fuzz_open_all(to, n, room, &used, &olen) == 0);
	check(used == n && olen == len);
	check(len == 0 || memcmp(out, p, len) == 0);
}

/* Mode 1: round trips both ways. */
static void
fuzz_roundtrip(const struct combo *cb, const uint8_t *p, size_t len)
{
	struct tlsrec *srv, *cli;
	size_t cl, room;

	fuzz_states(cb, &srv, &cli);
	while (len >= 2) {
		cl = (size_t)p[0] << 8 | p[1];
		room = p[0] & 0x80 ? TLSREC_PLAIN_MAX : BUF_MAX;
		cl &= 0x7fff;
		p += 2;
		len -= 2;
		cl = cl * 2 > len ? len / 2 : cl;
		fuzz_pass(cli, srv, p, cl, room);
		fuzz_pass(srv, cli, p + cl, cl, room);
		p += 2 * cl;
		len -= 2 * cl;
	}
	tlsrec_free(srv);
	tlsrec_free(cli);
}

/* Mode 2's own sealer: the client's write direction. */
struct fz_dir {
	unsigned char secret[48], key[32], iv[12];
	uint64_t seq;
};

static const char *
fz_md(const struct combo *cb)
{
	return cb->suite == TLSREC_AES_256_GCM ? "SHA384" : "SHA256";
}

static const char *
fz_cipher(const struct combo *cb)
{
	return cb->suite == TLSREC_AES_128_GCM   ? "AES-128-GCM"
	       : cb->suite == TLSREC_AES_256_GCM ? "AES-256-GCM"
	                                         : "ChaCha20-Poly1305";
}

static size_t
fz_keylen(const struct combo *cb)
{
	return cb->suite == TLSREC_AES_128_GCM ? 16 : 32;
}

static size_t
fz_hashlen(const struct combo *cb)
{
	return cb->suite == TLSREC_AES_256_GCM ? 48 : 32;
}

/* HKDF-Expand-Label(secret, label, "", len), RFC 8446 7.1. */
static void
fz_label(const struct combo *cb, const unsigned char *secret, const char *label,
    unsigned char *o, size_t len)
{
	unsigned char info[64];
	size_t n = 0, ll = strlen(label);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM pa[5];

	check(k != NULL);
	info[n++] = 0;
	info[n++] = (unsigned char)len;
	info[n++] = (unsigned char)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, ll);
	n += 6 + ll;
	info[n++] = 0;
	pa[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_DIGEST, (char *)fz_md(cb), 0);
	pa[1] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	pa[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_KEY, (void *)secret, fz_hashlen(cb));
	pa[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	pa[4] = OSSL_PARAM_construct_end();
	check(EVP_KDF_derive(k, o, len, pa) == 1);
	EVP_KDF_CTX_free(k);
	EVP_KDF_free(kdf);
}

static void
fz_dir_init(const struct combo *cb, struct fz_dir *d)
{
	unsigned char c[48], s[48];

	fuzz_secret(c, s);
	memset(d, 0, sizeof(*d));
	if (cb->version == TLS1_3_VERSION) {
		memcpy(d->secret, c, sizeof(c));
		fz_label(cb, d->secret, "key", d->key, fz_keylen(cb));
		fz_label(cb, d->secret, "iv", d->iv, 12);
	} else {
		memcpy(d->key, c, fz_keylen(cb));
		memcpy(d->iv, c + fz_keylen(cb), cb->len - fz_keylen(cb));
		d->seq = 1;
	}
}

static void
fz_dir_update(const struct combo *cb, struct fz_dir *d)
{
	unsigned char next[48];

	fz_label(cb, d->secret, "traffic upd", next, fz_hashlen(cb));
	memcpy(d->secret, next, sizeof(next));
	fz_label(cb, d->secret, "key", d->key, fz_keylen(cb));
	fz_label(cb, d->secret, "iv", d->iv, 12);
	d->seq = 0;
}

/* Seals one record at o: TLS 1.3 inner plaintext c[0, cl) || type ||
 * pad zeros; TLS 1.2 outer type with c[0, cl). Returns its length. */
static size_t
fz_seal(const struct combo *cb, struct fz_dir *d, unsigned char type,
    const unsigned char *c, size_t cl, size_t pad, unsigned char *o)
{
	EVP_CIPHER *ci = EVP_CIPHER_fetch(NULL, fz_cipher(cb), NULL);
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	unsigned char nonce[12], aad[13], *b = o + 5;
	size_t i, blen, pl;
	int n;

	check(ci != NULL && x != NULL);
	memcpy(nonce, d->iv, 12);
	if (cb->version == TLS1_2_VERSION &&
	    cb->suite != TLSREC_CHACHA20_POLY1305) {
		for (i = 0; i < 8; i++)
			nonce[4 + i] = (unsigned char)(d->seq >> (56 - 8 * i));
		memcpy(b, nonce + 4, 8);
		b += 8;
	} else {
		for (i = 0; i < 8; i++)
			nonce[4 + i] ^= (unsigned char)(d->seq >> (56 - 8 * i));
	}
	if (cb->version == TLS1_3_VERSION) {
		memcpy(b, c, cl);
		b[cl] = type;
		memset(b + cl + 1, 0, pad);
		pl = cl + 1 + pad;
		blen = pl + 16;
		o[0] = 23;
	} else {
		memcpy(b, c, cl);
		pl = cl;
		blen = (size_t)(b - o - 5) + pl + 16;
		o[0] = type;
		for (i = 0; i < 8; i++)
			aad[i] = (unsigned char)(d->seq >> (56 - 8 * i));
		aad[8] = type;
		aad[9] = aad[10] = 3;
		aad[11] = (unsigned char)(cl >> 8);
		aad[12] = (unsigned char)cl;
	}
	o[1] = o[2] = 3;
	o[3] = (unsigned char)(blen >> 8);
	o[4] = (unsigned char)blen;
	check(EVP_EncryptInit_ex(x, ci, NULL, d->key, nonce) == 1);
	if (cb->version == TLS1_3_VERSION)
		check(EVP_EncryptUpdate(x, NULL, &n, o, 5) == 1);
	else
		check(EVP_EncryptUpdate(x, NULL, &n, aad, 13) == 1);
	check(pl == 0 || EVP_EncryptUpdate(x, b, &n, b, (int)pl) == 1);
	check(EVP_EncryptFinal_ex(x, b + pl, &n) == 1);
	check(EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_GET_TAG, 16, b + pl) == 1);
	EVP_CIPHER_CTX_free(x);
	EVP_CIPHER_free(ci);
	d->seq++;
	return 5 + blen;
}

/* Mode 2: crafted records against a model of what must happen. */
static void
fuzz_craft(const struct combo *cb, const uint8_t *p, size_t len)
{
	struct tlsrec *srv, *cli;
	struct fz_dir d;
	size_t slen = 0, elen = 0, cl, take, pad, olen = 0, used, n, i;
	int want = 0, err;
	bool reply = false, ku;
	unsigned char type;

	fuzz_states(cb, &srv, &cli);
	fz_dir_init(cb, &d);
	while (len >= 4 && want == 0) {
		type = p[0];
		pad = cb->version == TLS1_3_VERSION ? p[1] : 0;
		take = ((size_t)p[2] << 8 | p[3]) % (TLSREC_PLAIN_MAX + 1);
		p += 4;
		len -= 4;
		if (take > len)
			take = len;
		if (pad > TLSREC_PLAIN_MAX - take)
			pad = TLSREC_PLAIN_MAX - take; /* inner <= 2^14 + 1 */
		if (slen + take + pad + 64 > sizeof(stream))
			break;
		slen += fz_seal(cb, &d, type, p, take, pad, stream + slen);
		/* The model. */
		cl = take;
		if (cb->version == TLS1_3_VERSION && type == 0) {
			/* The type is the last non-zero content byte. */
			while (cl > 0 && p[cl - 1] == 0)
				cl--;
			if (cl == 0) {
				want = EPROTO;
				break;
			}
			type = p[--cl];
		}
		ku = cb->version == TLS1_3_VERSION && type == 22 && cl == 5 &&
		     p[0] == 24 && p[1] == 0 && p[2] == 0 && p[3] == 1 &&
		     p[4] <= 1;
		if (type == 23) {
			memcpy(expect + elen, p, cl);
			elen += cl;
		} else if (type == 21)
			want = cl == 2 ? EPIPE : EPROTO;
		else if (ku) {
			reply = reply || p[4] == 1;
			fz_dir_update(cb, &d);
		} else
			want = EPROTO;
		p += take;
		len -= take;
	}
	/* TLS 1.2 handshake and ChangeCipherSpec records are refused from
	 * the header, the records before them still opened. */
	err = fuzz_open_all(srv, slen, BUF_MAX, &used, &olen);
	check(err == want);
	if (err == 0 || err == EPIPE) {
		check(olen == elen && memcmp(out, expect, elen) == 0);
		check(used == slen);
	}
	if (err == 0) {
		check(tlsrec_reply_due(srv) == reply);
		/* The reply, if due, and data reach a client whose read
		 * key followed (the mirror state did not see the
		 * KeyUpdates: only check the sizes). */
		n = tlsrec_sealed_max(srv, 10);
		check(n ==
		      10 + (cb->version == TLS1_3_VERSION ? 22 : 0) +
		          (reply ? TLSREC_KEYUPDATE_LEN : 0) +
		          (cb->version == TLS1_2_VERSION
		                  ? (cb->suite == TLSREC_CHACHA20_POLY1305 ? 21
		                                                           : 29)
		                  : 0));
		check(tlsrec_seal(srv, expect, 10, wire, n, &i) == 0 && i == n);
		check(!tlsrec_reply_due(srv));
	}
	tlsrec_free(srv);
	tlsrec_free(cli);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct combo *cb;

	if (size < 1 || size > IN_MAX)
		return 0;
	cb = &combos[(data[0] & 7) % NCOMBOS];
	switch ((data[0] >> 3) & 3) {
	case MODE_STREAM:
		fuzz_stream(cb, data + 1, size - 1);
		break;
	case MODE_ROUNDTRIP:
		fuzz_roundtrip(cb, data + 1, size - 1);
		break;
	default:
		fuzz_craft(cb, data + 1, size - 1);
		break;
	}
	return 0;
}
