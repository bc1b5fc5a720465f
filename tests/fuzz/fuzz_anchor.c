/* fuzz_anchor.c: libFuzzer target for the media anchor
 * (src/media/anchor.c) on a real relay: one offer/answer exchange per
 * input, on an anchor that lives for the whole run (so exchanges follow
 * one another as re-offers do).
 *
 * Input: byte 0 chooses the two legs, then the offer SDP, a NUL byte and
 * the answer SDP (without a NUL byte: the first half and the second half).
 * Byte 0: bits 0-1 the offerer's srtp policy (enum anchor_srtp), bit 2 its
 * sdes_ok, bit 3 loopback_ok (both legs), bits 4-5 the answerer's srtp
 * policy, bit 6 its sdes_ok, bit 7 the IPv6 anchor (and relay address)
 * instead of the IPv4 one.
 *
 * Side 0 offers over its leg; the offer is written twice for side 1
 * (forked legs: the same keys both times); side 1 answers; the offer is
 * done. Every result code must be one the header documents; every SDP the
 * anchor writes must parse again, name only the relay's address (o= and
 * c=), relay one stream at most (on the relay's port), carry no ICE, DTLS
 * or k= line, and hold no crypto key of the input: no parsed key equal to
 * an input key, no "inline:" value equal to one of the input's a=crypto
 * lines. Aborts when an invariant breaks. */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "media/anchor.h"
#include "media/relay.h"
#include "sdp/sdp.h"

enum {
	FZ_PORT_LO = 45000, /* the relay's ports: FZ_PORTS from here, or */
	FZ_PORTS = 20,      /* the next range up when they are taken */
	FZ_RANGES = 100,
	FZ_OUT_MAX = 16384,
	FZ_INLINE_MAX = 64, /* inline: values of the input remembered */
};

static const char *const fz_addr[2] = {"192.0.2.7", "2001:db8::7"};

static struct media_relay *relay;
static struct anchor *anchors[2]; /* IPv4, IPv6 */
static struct sdp_session in_s, out_s;
static char out1[FZ_OUT_MAX], out2[FZ_OUT_MAX], out3[FZ_OUT_MAX];
static char buf[SDP_MAX * 2 + 2];

/* The input's keys, parsed (decoded) and as written in a=crypto lines,
 * kept as hashes: libFuzzer watches comparisons, and comparing the
 * server's keys themselves would teach it those keys, which it would then
 * put in inputs (the anchor keeps a side's key across exchanges). */
static uint64_t in_keys[2 * SDP_MEDIA_MAX * SDP_CRYPTO_MAX];
static size_t n_in_keys;
static struct sv in_inline[FZ_INLINE_MAX];
static uint64_t in_inline_h[FZ_INLINE_MAX];
static size_t n_in_inline;

static _Noreturn void
fz_fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_anchor.c:%d: invariant broken: %s\n", line, what);
	abort();
}

#define check(ok) ((ok) ? (void)0 : fz_fail(__LINE__, #ok))

/* The relay and the two anchors, on the first range of FZ_PORTS ports from
 * FZ_PORT_LO up that has room (another program may hold some). */
static void
fz_init(void)
{
	struct media_relay_config cfg;
	unsigned k;

	for (k = 0; k < FZ_RANGES; k++) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.port_lo = (uint16_t)(FZ_PORT_LO + k * FZ_PORTS);
		cfg.port_hi = (uint16_t)(cfg.port_lo + FZ_PORTS - 1);
		cfg.threads = 1;
		check(media_relay_new(&cfg, &relay) == 0);
		if (anchor_new(relay, 1, AF_INET, AF_INET, &anchors[0]) == 0 &&
		    anchor_new(relay, 2, AF_INET6, AF_INET6, &anchors[1]) == 0)
			return;
		anchor_free(anchors[0]);
		anchors[0] = NULL;
		media_relay_free(relay);
		relay = NULL;
	}
	fz_fail(__LINE__, "no free relay ports from FZ_PORT_LO up");
}

/* FNV-1a, 64 bits. */
static uint64_t
fz_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h ^ len;
}

static bool
sv_has(struct sv hay, struct sv needle)
{
	size_t i;

	if (needle.len == 0 || needle.len > hay.len)
		return false;
	for (i = 0; i + needle.len <= hay.len; i++)
		if (memcmp(hay.p + i, needle.p, needle.len) == 0)
			return true;
	return false;
}

static bool
is_key_end(char c)
{
	return c == '|' || c == ';' || c == ' ' || c == '\t' || c == '\r' ||
	       c == '\n' || c == '\0';
}

/* Calls fn for every "inline:" value in [p, p+len). */
static void
inline_each(
    const char *p, size_t len, void (*fn)(struct sv v, void *arg), void *arg)
{
	static const char tag[] = "inline:";
	const size_t tl = sizeof(tag) - 1;
	size_t i, j;

	for (i = 0; i + tl <= len; i++) {
		if (strncasecmp(p + i, tag, tl) != 0)
			continue;
		for (j = i + tl; j < len && !is_key_end(p[j]); j++)
			;
		if (j > i + tl)
			fn((struct sv){p + i + tl, j - i - tl}, arg);
		i = j - 1;
	}
}

static void
inline_remember(struct sv v, void *arg)
{
	(void)arg;
	if (n_in_inline < FZ_INLINE_MAX)
		in_inline[n_in_inline++] = v;
}

static bool
line_is_crypto(const char *line, size_t ll)
{
	return ll >= 9 && strncasecmp(line, "a=crypto:", 9) == 0;
}

/* Calls fn for each line of [p, p+len) with whether it is an a=crypto
 * line. */
static void
lines_each(const char *p, size_t len, bool crypto,
    void (*fn)(const char *line, size_t ll))
{
	const char *end = p + len, *line = p;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t ll =
		    nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);

		if (line_is_crypto(line, ll) == crypto)
			fn(line, ll);
		line += ll + 1;
	}
}

static void
crypto_line_remember(const char *line, size_t ll)
{
	inline_each(line, ll, inline_remember, NULL);
}

/* Forgets the remembered values that appear in a line that is not
 * a=crypto: such a line may be forwarded as written (it is no key). */
static void
other_line_forget(const char *line, size_t ll)
{
	size_t i;

	for (i = 0; i < n_in_inline;) {
		if (sv_has((struct sv){line, ll}, in_inline[i]))
			in_inline[i] = in_inline[--n_in_inline];
		else
			i++;
	}
}

/* The keys of an input SDP, decoded: only its m= lines' recognised
 * crypto. */
static void
keys_remember(const char *p, size_t len)
{
	size_t i, k;

	if (sdp_session_parse(p, len, &in_s) != 0)
		return;
	for (i = 0; i < in_s.nmedia; i++)
		for (k = 0; k < in_s.media[i].ncrypto; k++) {
			const struct sdp_crypto *c = &in_s.media[i].crypto[k];

			check(n_in_keys < ARRAY_LEN(in_keys));
			in_keys[n_in_keys++] = fz_hash(c->key, c->keylen);
		}
}

/* Remembers the input's keys: decoded, and the inline: values of the
 * a=crypto lines of both SDPs, except those found in other lines of
 * either. */
static void
inputs_remember(const char *offer, size_t olen, const char *ans, size_t alen)
{
	size_t i;

	n_in_keys = 0;
	n_in_inline = 0;
	lines_each(offer, olen, true, crypto_line_remember);
	lines_each(ans, alen, true, crypto_line_remember);
	lines_each(offer, olen, false, other_line_forget);
	lines_each(ans, alen, false, other_line_forget);
	for (i = 0; i < n_in_inline; i++)
		in_inline_h[i] = fz_hash(in_inline[i].p, in_inline[i].len);
	keys_remember(offer, olen);
	keys_remember(ans, alen);
}

static void
inline_not_input(struct sv v, void *arg)
{
	uint64_t h = fz_hash(v.p, v.len);
	size_t i;

	(void)arg;
	for (i = 0; i < n_in_inline; i++)
		check(h != in_inline_h[i]);
}

static bool
name_is(struct sv v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && strncasecmp(v.p, s, n) == 0;
}

static void
attrs_check(const struct sdp_attr *a, size_t n)
{
	static const char *const banned[] = {"candidate", "ice-ufrag",
	    "ice-pwd", "ice-options", "ice-lite", "fingerprint", "setup",
	    "crypto", "remote-candidates"};
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < ARRAY_LEN(banned); k++)
			check(!name_is(a[i].name, banned[k]));
}

static void
lines_check(const struct sdp_line *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check(l[i].type != 'k');
}

/* Checks an SDP the anchor wrote for the side behind leg, whose relay
 * port is port. Returns the number of its crypto attributes. */
static size_t
out_check(
    const char *out, size_t len, const struct anchor_leg *leg, uint16_t port)
{
	struct sv addr = {leg->addr, strlen(leg->addr)};
	size_t i, k, q, live = 0, ncr = 0;

	check(len > 0 && len <= FZ_OUT_MAX);
	check(sdp_session_parse(out, len, &out_s) == 0);
	check(out_s.origin_addr.len == addr.len &&
	      memcmp(out_s.origin_addr.p, addr.p, addr.len) == 0);
	check(out_s.conn.present && out_s.conn.addr.len == addr.len &&
	      memcmp(out_s.conn.addr.p, addr.p, addr.len) == 0);
	attrs_check(out_s.attr, out_s.nattr);
	lines_check(out_s.line, out_s.nline);
	for (i = 0; i < out_s.nmedia; i++) {
		const struct sdp_media *m = &out_s.media[i];

		check(!m->conn.present);
		check(!m->rtcp.present);
		attrs_check(m->attr, m->nattr);
		lines_check(m->line, m->nline);
		if (m->port != 0) {
			live++;
			check(m->port == port);
		} else {
			check(m->ncrypto == 0);
		}
		for (k = 0; k < m->ncrypto; k++) {
			uint64_t h =
			    fz_hash(m->crypto[k].key, m->crypto[k].keylen);

			ncr++;
			for (q = 0; q < n_in_keys; q++)
				check(h != in_keys[q]);
		}
	}
	check(live <= 1);
	inline_each(out, len, inline_not_input, NULL);
	return ncr;
}

/* Whether the audio crypto of two offers (for the same offer) match. */
static void
same_keys(const char *a, size_t alen, const char *b, size_t blen)
{
	static struct sdp_session sa;
	size_t i, k;

	check(sdp_session_parse(a, alen, &sa) == 0);
	check(sdp_session_parse(b, blen, &out_s) == 0);
	check(sa.nmedia == out_s.nmedia);
	for (i = 0; i < sa.nmedia; i++) {
		check(sa.media[i].ncrypto == out_s.media[i].ncrypto);
		for (k = 0; k < sa.media[i].ncrypto; k++) {
			const struct sdp_crypto *x = &sa.media[i].crypto[k];
			const struct sdp_crypto *y = &out_s.media[i].crypto[k];

			check(x->tag == y->tag && x->suite == y->suite &&
			      x->keylen == y->keylen &&
			      fz_hash(x->key, x->keylen) ==
			          fz_hash(y->key, y->keylen));
		}
	}
}

static void
leg_set(struct anchor_leg *l, unsigned srtp, bool sdes, bool loop, bool v6)
{
	memset(l, 0, sizeof(*l));
	l->srtp = (enum anchor_srtp)srtp;
	l->sdes_ok = sdes;
	l->loopback_ok = loop;
	memcpy(l->addr, fz_addr[v6], strlen(fz_addr[v6]) + 1);
}

static void
why_check(const char *why, size_t size)
{
	check(memchr(why, '\0', size) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anchor_leg leg[2];
	struct anchor *an;
	struct media_call *mc;
	const char *offer, *answer, *nul;
	size_t olen, alen, n1 = 0, n2 = 0, n3 = 0, c1;
	char why[ANCHOR_WHY_MAX];
	unsigned flags;
	bool v6;
	int rc;

	if (relay == NULL)
		fz_init();
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	flags = data[0];
	v6 = (flags & 0x80) != 0;
	an = anchors[v6];
	mc = anchor_media(an);
	leg_set(&leg[0], flags & 3, (flags & 4) != 0, (flags & 8) != 0, v6);
	leg_set(&leg[1], (flags >> 4) & 3, (flags & 0x40) != 0,
	    (flags & 8) != 0, v6);
	/* A copy: the anchor must not need the input after a call. */
	memcpy(buf, data + 1, size - 1);
	nul = memchr(buf, '\0', size - 1);
	offer = buf;
	if (nul != NULL) {
		olen = (size_t)(nul - buf);
		answer = nul + 1;
		alen = size - 1 - olen - 1;
	} else {
		olen = (size - 1) / 2;
		answer = buf + olen;
		alen = size - 1 - olen;
	}
	inputs_remember(offer, olen, answer, alen);

	why[0] = '\0';
	rc = anchor_offer(an, 0, &leg[0], offer, olen, why, sizeof(why));
	why_check(why, sizeof(why));
	check(rc == 0 || rc == EPROTO || rc == EBADMSG || rc == ENOMEM);
	if (rc != 0) {
		check(why[0] != '\0' || rc == ENOMEM);
		check(!anchor_pending(an, NULL));
		goto out;
	}
	check(anchor_pending(an, NULL));

	why[0] = '\0';
	rc = anchor_offer_out(
	    an, &leg[1], out1, sizeof(out1), &n1, why, sizeof(why));
	why_check(why, sizeof(why));
	check(rc == 0 || rc == EPROTO || rc == EMSGSIZE);
	if (rc == EPROTO)
		check(why[0] != '\0');
	if (rc != 0)
		goto out;
	c1 = out_check(out1, n1, &leg[1], media_call_port(mc, 1));
	/* Forked: the same offer again, the same keys. */
	check(anchor_offer_out(
	          an, &leg[1], out2, sizeof(out2), &n2, why, sizeof(why)) == 0);
	check(out_check(out2, n2, &leg[1], media_call_port(mc, 1)) == c1);
	same_keys(out1, n1, out2, n2);

	why[0] = '\0';
	rc = anchor_answer(an, &leg[1], &leg[0], answer, alen, out3,
	    sizeof(out3), &n3, why, sizeof(why));
	why_check(why, sizeof(why));
	/* EINVAL: the relay refused the side (a family other than the
	 * anchor's, as media_call_set says). */
	check(rc == 0 || rc == EPROTO || rc == EBADMSG || rc == EMSGSIZE ||
	      rc == EINVAL || rc == ENOMEM);
	if (rc == EPROTO || rc == EBADMSG)
		check(why[0] != '\0');
	if (rc == 0) {
		check(
		    out_check(out3, n3, &leg[0], media_call_port(mc, 0)) <= 1);
		check(anchor_pending(an, NULL));
	}
out:
	anchor_offer_done(an);
	check(!anchor_pending(an, NULL));
	return 0;
}
