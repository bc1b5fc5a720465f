/* build.c: see build.h. Writes through a bounded cursor that turns any
 * overflow into EMSGSIZE at the end. */
#include "sip/build.h"

#include <errno.h>
#include <string.h>

struct wbuf {
	char *p;
	size_t len, size;
	size_t line;  /* offset where the current line starts */
	bool over;    /* out of room */
	bool toolong; /* a header line passed SIP_HDR_LINE_MAX */
};

static void
w_mem(struct wbuf *w, const void *s, size_t n)
{
	if (w->over || n > w->size - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
w_str(struct wbuf *w, const char *s)
{
	w_mem(w, s, strlen(s));
}

static void
w_uint(struct wbuf *w, unsigned long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	w_mem(w, tmp + i, sizeof(tmp) - i);
}

/* Copies a header value; a run of LWS holding a fold becomes one SP. */
static void
w_value(struct wbuf *w, struct sv v)
{
	size_t i = 0, s;

	if (v.len == 0)
		return;
	while (i < v.len) {
		bool fold = false;

		s = i;
		while (i < v.len && !sip_is((unsigned char)v.p[i], SIP_C_LWS))
			i++;
		w_mem(w, v.p + s, i - s);
		s = i;
		while (i < v.len && sip_is((unsigned char)v.p[i], SIP_C_LWS)) {
			fold |= v.p[i] == '\r' || v.p[i] == '\n';
			i++;
		}
		if (fold)
			w_mem(w, " ", 1);
		else
			w_mem(w, v.p + s, i - s);
	}
}

static void
w_line_start(struct wbuf *w, const char *name)
{
	w->line = w->len;
	w_str(w, name);
	w_mem(w, ": ", 2);
}

static void
w_line_end(struct wbuf *w)
{
	if (!w->over && w->len - w->line > SIP_HDR_LINE_MAX)
		w->toolong = true;
	w_mem(w, "\r\n", 2);
}

static int
w_finish(struct wbuf *w, size_t *outlen)
{
	if (w->over || w->toolong || w->len > SIP_MSG_MAX)
		return EMSGSIZE;
	*outlen = w->len;
	return 0;
}

/* True when s holds only token characters (and at least one). */
static bool
is_token(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!sip_is((unsigned char)s[i], SIP_C_TOKEN))
			return false;
	return i > 0;
}

/* True when s[0..n) has no control character but HT. */
static bool
is_text(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sip_is((unsigned char)s[i], SIP_C_CTL))
			return false;
	return true;
}

/* Checks one header line s[0..n) ("Name: value", no CRLF). */
static bool
header_line_ok(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && sip_is((unsigned char)s[i], SIP_C_TOKEN))
		i++;
	if (i == 0 || sip_hdr_id_from_name(s, i) == SIP_HDR_CONTENT_LENGTH)
		return false;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && s[i] == ':' && n <= SIP_HDR_LINE_MAX && is_text(s, n);
}

/* Checks that s is a run of whole "Name: value\r\n" lines. */
static bool
extra_ok(const char *s)
{
	while (*s != '\0') {
		const char *e = strstr(s, "\r\n");

		if (e == NULL || !header_line_ok(s, (size_t)(e - s)))
			return false;
		s = e + 2;
	}
	return true;
}

/* True when the source address differs from the sent-by host of v. */
static bool
host_differs(const struct sip_via *v, const char *received)
{
	struct sv h = v->host;

	if (v->host_type == SIP_HOST_IPV6) {
		h.p++;
		h.len -= 2;
	}
	return !sip_sv_eq_nocase(h.p, h.len, received);
}

/* Writes the top Via with received and rport set as build.h says. */
static int
w_top_via(struct wbuf *w, const struct sip_via *v, const char *received,
    unsigned rport)
{
	bool add_received =
	    received != NULL && (v->rport || host_differs(v, received));
	bool set_rport = v->rport && rport != 0;
	struct sv rest = v->params, name, val, text;
	size_t n = 0;
	int err;

	w_line_start(w, "Via");
	if (v->params.len == 0) {
		w_value(w, v->value);
	} else {
		struct sv head = {
		    v->value.p, (size_t)(v->params.p - v->value.p)};

		w_value(w, sip_sv_trim(head));
	}
	while ((err = sip_param_next(&rest, &name, &val, &text)) == 0) {
		if ((add_received && SIP_SV_IS(name.p, name.len, "received")) ||
		    (set_rport && SIP_SV_IS(name.p, name.len, "rport")))
			continue;
		w_mem(w, ";", 1);
		w_value(w, text);
		n++;
	}
	if (err != ENOENT)
		return EINVAL;
	/* The response must parse back: keep to the parameter limit. */
	if (n + add_received + set_rport > SIP_PARAMS_MAX)
		return EMSGSIZE;
	if (add_received) {
		w_str(w, ";received=");
		w_str(w, received);
	}
	if (set_rport) {
		w_str(w, ";rport=");
		w_uint(w, rport);
	}
	w_line_end(w);
	return 0;
}

static bool
received_ok(const char *s)
{
	struct sv v = {s, strlen(s)};
	enum sip_host_type t;

	if (sip_ipv6_check(v.p, v.len))
		return true;
	return sip_host_check(v, &t) == 0 && t == SIP_HOST_IPV4;
}

int
sip_build_response(char *buf, size_t size, const struct sip_msg *req,
    unsigned code, const char *reason, const char *to_tag, const char *received,
    unsigned rport, const char *extra_headers, const void *body,
    size_t body_len, size_t *outlen)
{
	struct wbuf w = {buf, 0, size, 0, false, false};
	size_t i;
	int err;

	if (req == NULL || !req->is_request || req->nvia == 0 || code < 100 ||
	    code > 699 || rport > 65535 || (body == NULL && body_len > 0))
		return EINVAL;
	if (reason == NULL)
		reason = sip_reason_phrase(code);
	if (!is_text(reason, strlen(reason)) ||
	    (to_tag != NULL && !is_token(to_tag)) ||
	    (received != NULL && !received_ok(received)) ||
	    (extra_headers != NULL && !extra_ok(extra_headers)))
		return EINVAL;

	w_str(&w, "SIP/2.0 ");
	w_uint(&w, code);
	w_mem(&w, " ", 1);
	w_str(&w, reason);
	w_mem(&w, "\r\n", 2);
	if ((err = w_top_via(&w, &req->via[0], received, rport)) != 0)
		return err;
	for (i = 1; i < req->nvia; i++) {
		w_line_start(&w, "Via");
		w_value(&w, req->via[i].value);
		w_line_end(&w);
	}
	w_line_start(&w, "From");
	w_value(&w, req->from.value);
	w_line_end(&w);
	w_line_start(&w, "To");
	w_value(&w, req->to.value);
	if (!req->to.has_tag && code > 100 && to_tag != NULL) {
		if (req->to.nparams >= SIP_PARAMS_MAX)
			return EMSGSIZE;
		w_str(&w, ";tag=");
		w_str(&w, to_tag);
	}
	w_line_end(&w);
	w_line_start(&w, "Call-ID");
	w_value(&w, req->call_id);
	w_line_end(&w);
	w_line_start(&w, "CSeq");
	w_uint(&w, req->cseq);
	w_mem(&w, " ", 1);
	w_mem(&w, req->cseq_method_name.p, req->cseq_method_name.len);
	w_line_end(&w);
	if (extra_headers != NULL)
		w_str(&w, extra_headers);
	w_line_start(&w, "Content-Length");
	w_uint(&w, body_len);
	w_line_end(&w);
	w_mem(&w, "\r\n", 2);
	if (body_len > 0)
		w_mem(&w, body, body_len);
	return w_finish(&w, outlen);
}

int
sip_build_request(char *buf, size_t size, const char *method, const char *ruri,
    const char *const *headers, size_t nheaders, const void *body,
    size_t body_len, size_t *outlen)
{
	struct wbuf w = {buf, 0, size, 0, false, false};
	struct sip_uri u;
	size_t i;

	if (method == NULL || ruri == NULL || !is_token(method) ||
	    sip_uri_parse(ruri, strlen(ruri), &u) != 0 ||
	    (headers == NULL && nheaders > 0) || (body == NULL && body_len > 0))
		return EINVAL;
	for (i = 0; i < nheaders; i++)
		if (headers[i] == NULL ||
		    !header_line_ok(headers[i], strlen(headers[i])))
			return EINVAL;

	w_str(&w, method);
	w_mem(&w, " ", 1);
	w_str(&w, ruri);
	w_str(&w, " SIP/2.0\r\n");
	for (i = 0; i < nheaders; i++) {
		w_str(&w, headers[i]);
		w_mem(&w, "\r\n", 2);
	}
	w_line_start(&w, "Content-Length");
	w_uint(&w, body_len);
	w_line_end(&w);
	w_mem(&w, "\r\n", 2);
	if (body_len > 0)
		w_mem(&w, body, body_len);
	return w_finish(&w, outlen);
}
