/* fuzz_sip_msg.c: libFuzzer target for the SIP message parser, the stream
 * framer and the response builder (src/sip/msg.c, hdr.c, uri.c, build.c).
 * Aborts when an invariant breaks: a result outside the documented set, a
 * view outside the input, a frame that disagrees with the parser, or a
 * built response that does not parse back to the same essentials. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sip/build.h"
#include "sip/msg.h"

static struct sip_msg m, r;
static char out[65536];
static const char *lo, *hi;

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* A view lies inside [lo, hi); an empty one may point anywhere in it (or
 * be NULL). */
static void
in(struct sv v)
{
	if (v.len == 0 && (v.p == NULL || (v.p >= lo && v.p <= hi)))
		return;
	check(v.p != NULL && v.p >= lo && v.p <= hi &&
	      v.len <= (size_t)(hi - v.p));
}

static void
check_uri(const struct sip_uri *u)
{
	in(u->text);
	in(u->scheme_name);
	in(u->opaque);
	in(u->user);
	in(u->password);
	in(u->host);
	in(u->params);
	in(u->headers);
	in(u->transport);
	in(u->user_param);
	in(u->method);
	in(u->maddr);
	check(u->text.len <= SIP_URI_MAX);
	check(u->nparams <= SIP_PARAMS_MAX);
}

static void
check_na(const struct sip_nameaddr *na)
{
	in(na->value);
	in(na->display);
	in(na->params);
	in(na->tag);
	check(na->nparams <= SIP_PARAMS_MAX);
	check_uri(&na->uri);
}

static void
check_msg(const struct sip_msg *x, const char *base, size_t size)
{
	size_t i;

	lo = base;
	hi = base + size;
	check(x->buf >= lo && x->buf < hi && x->len <= (size_t)(hi - x->buf));
	check(x->nhdr <= SIP_HDRS_MAX && x->nvia <= SIP_VIA_MAX &&
	      x->ncontact <= SIP_CONTACT_MAX);
	if (x->is_request) {
		in(x->method_name);
		check_uri(&x->ruri);
		check(x->nvia > 0);
	} else {
		check(x->status >= 100 && x->status <= 699);
		in(x->reason);
	}
	for (i = 0; i < x->nhdr; i++) {
		in(x->hdr[i].name);
		in(x->hdr[i].value);
		check(x->hdr[i].id < SIP_HDR__COUNT);
		check(x->hdr[i].next == SIP_HDR_NONE ||
		      (x->hdr[i].next > i && x->hdr[i].next < x->nhdr &&
		          x->hdr[x->hdr[i].next].id == x->hdr[i].id));
	}
	for (i = 0; i < x->nvia; i++) {
		const struct sip_via *v = &x->via[i];

		in(v->value);
		in(v->proto_name);
		in(v->proto_version);
		in(v->transport_name);
		in(v->host);
		in(v->params);
		in(v->branch);
		in(v->received);
		in(v->maddr);
		check(v->nparams <= SIP_PARAMS_MAX);
	}
	check_na(&x->from);
	check_na(&x->to);
	in(x->call_id);
	check(x->call_id.len > 0);
	in(x->cseq_method_name);
	check(x->cseq <= SIP_CSEQ_MAX);
	check(x->max_forwards >= -1 && x->max_forwards <= 255);
	for (i = 0; i < x->ncontact; i++) {
		check_na(&x->contact[i].na);
		in(x->contact[i].instance);
		check(!x->contact[i].has_q || x->contact[i].q <= 1000);
	}
	check(!(x->contact_star && x->ncontact > 0));
	in(x->body);
	check(x->body.p + x->body.len == x->buf + x->len);
	check(!x->has_content_length || x->body.len == x->content_length);
}

static int
sv_eq(struct sv a, struct sv b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Builds a response to m and parses it back. */
static void
roundtrip(void)
{
	size_t n;
	int err;

	err = sip_build_response(out, sizeof(out), &m, 200, NULL, "fz1",
	    "192.0.2.1", 5060, "X-Fuzz: yes\r\n", "ok", 2, &n);
	check(err == 0 || err == EMSGSIZE);
	if (err != 0)
		return;
	check(n <= SIP_MSG_MAX);
	err = sip_msg_parse(out, n, &r);
	check(err == 0);
	check_msg(&r, out, n);
	check(!r.is_request && r.status == 200);
	check(r.nvia == m.nvia);
	check(sv_eq(r.call_id, m.call_id));
	check(
	    r.cseq == m.cseq && sv_eq(r.cseq_method_name, m.cseq_method_name));
	check(r.to.has_tag);
	check(m.to.has_tag
	          ? sv_eq(r.to.tag, m.to.tag)
	          : r.to.tag.len == 3 && !memcmp(r.to.tag.p, "fz1", 3));
	check(r.from.has_tag == m.from.has_tag);
	check(!m.from.has_tag || sv_eq(r.from.tag, m.from.tag));
	check(sv_eq(r.via[0].branch, m.via[0].branch));
	check(r.body.len == 2 && memcmp(r.body.p, "ok", 2) == 0);
	check(sip_msg_hdr_find(&r, "Server") == NULL);
	/* Too small by one byte: EMSGSIZE, never an overflow. */
	check(sip_build_response(out, n - 1, &m, 200, NULL, "fz1", "192.0.2.1",
	          5060, "X-Fuzz: yes\r\n", "ok", 2, &n) == EMSGSIZE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in_buf = (const char *)data;
	size_t skipped, flen, off = 0;
	int err, ferr;

	err = sip_msg_parse(in_buf, size, &m);
	check(err == 0 || err == EBADMSG || err == EMSGSIZE || err == ENODATA ||
	      err == EPROTONOSUPPORT);
	if (err == 0 || err == EPROTONOSUPPORT)
		check_msg(&m, in_buf, size);
	if (err == 0 && m.is_request)
		roundtrip();

	/* The framer: keep-alives first, then a message that parses to the
	 * same length, or an error. */
	for (;;) {
		ferr =
		    sip_stream_frame(in_buf + off, size - off, &skipped, &flen);
		check(ferr == 0 || ferr == ENODATA || ferr == EBADMSG ||
		      ferr == EMSGSIZE);
		if (ferr != 0 || flen > 0 || skipped == 0)
			break;
		check(skipped % 2 == 0 && skipped <= size - off);
		off += skipped;
	}
	if (ferr == 0 && flen > 0) {
		check(
		    skipped == 0 && flen <= size - off && flen <= SIP_MSG_MAX);
		err = sip_msg_parse(in_buf + off, flen, &m);
		if (err == 0) {
			check_msg(&m, in_buf + off, flen);
			check(m.has_content_length && m.len == flen);
		}
	}
	/* A datagram that parsed with a Content-Length frames the same. */
	if (sip_msg_parse(in_buf, size, &m) == 0 && m.has_content_length &&
	    m.buf == in_buf)
		check(ferr == 0 && off == 0 && flen == m.len);
	return 0;
}
