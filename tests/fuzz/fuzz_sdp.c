/* fuzz_sdp.c: libFuzzer target for the SDP parser and builder
 * (src/sdp/sdp.c): parses the input, checks that every view lies inside
 * it, builds the session into a 16 KiB buffer, parses that again (it must
 * parse) and builds it again (the same bytes). Aborts when an invariant
 * breaks. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"

static const char *lo, *hi;
static struct sdp_session s1, s2;
static char out1[16384], out2[16384];

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
in(struct sv v)
{
	if (v.len == 0 && (v.p == NULL || (v.p >= lo && v.p <= hi)))
		return;
	check(v.p != NULL && v.p >= lo && v.p <= hi &&
	      v.len <= (size_t)(hi - v.p));
}

static void
check_attrs(const struct sdp_attr *a, size_t n)
{
	size_t i;

	check(n <= SDP_ATTR_MAX);
	for (i = 0; i < n; i++) {
		check(a[i].name.len > 0);
		in(a[i].name);
		in(a[i].value);
	}
}

static void
check_lines(const struct sdp_line *l, size_t n)
{
	size_t i;

	check(n <= SDP_LINE_MAX);
	for (i = 0; i < n; i++) {
		check(l[i].type >= 'a' && l[i].type <= 'z');
		in(l[i].value);
	}
}

static void
check_media(const struct sdp_session *s, const struct sdp_media *m)
{
	size_t i;

	in(m->type);
	in(m->proto_name);
	check(m->port <= SDP_PORT_MAX && m->nfmt > 0 && m->nfmt <= SDP_FMT_MAX);
	for (i = 0; i < m->nfmt; i++)
		in(m->fmt[i]);
	in(m->conn.addr);
	check(sdp_media_conn(s, m)->present);
	check(sdp_media_dir(s, m) != SDP_DIR_NONE);
	check_lines(m->line, m->nline);
	in(m->rtcp.addr);
	check(m->nrtpmap <= SDP_FMT_MAX && m->nfmtp <= SDP_FMT_MAX);
	for (i = 0; i < m->nrtpmap; i++) {
		check(m->rtpmap[i].pt <= 127 && m->rtpmap[i].clock > 0);
		in(m->rtpmap[i].encoding);
	}
	for (i = 0; i < m->nfmtp; i++)
		in(m->fmtp[i].params);
	check(m->ncrypto <= SDP_CRYPTO_MAX);
	for (i = 0; i < m->ncrypto; i++) {
		const struct sdp_crypto *c = &m->crypto[i];

		check(c->keylen == sdp_suite_keylen(c->suite) && c->keylen > 0);
		in(c->lifetime);
		in(c->mki);
		in(c->params);
	}
	check_attrs(m->attr, m->nattr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t i, n1, n2;
	int err;

	err = sdp_session_parse(text, size, &s1);
	check(err == 0 || err == EBADMSG || err == EMSGSIZE);
	if (err != 0)
		return 0;
	check(size <= SDP_MAX);
	lo = text;
	hi = text + size;
	in(s1.origin_user);
	in(s1.origin_addr);
	in(s1.name);
	in(s1.conn.addr);
	check_lines(s1.line, s1.nline);
	check_attrs(s1.attr, s1.nattr);
	check(s1.nmedia <= SDP_MEDIA_MAX);
	for (i = 0; i < s1.nmedia; i++)
		check_media(&s1, &s1.media[i]);

	check(sdp_build(out1, sizeof(out1), &s1, &n1) == 0);
	check(n1 > 0);
	/* Too small a buffer fails cleanly. */
	check(sdp_build(out2, n1 - 1, &s1, &n2) == EMSGSIZE);
	err = sdp_session_parse(out1, n1, &s2);
	if (n1 > SDP_MAX) {
		check(err == EMSGSIZE);
		return 0;
	}
	check(err == 0);
	check(s2.nmedia == s1.nmedia && s2.sess_id == s1.sess_id &&
	      s2.sess_version == s1.sess_version);
	check(sdp_build(out2, sizeof(out2), &s2, &n2) == 0);
	check(n1 == n2 && memcmp(out1, out2, n1) == 0);
	return 0;
}
