/* hdr.c: see hdr.h. Values come from sip_msg_parse(), which has already
 * refused control characters (but HT) and bare CR or LF, so CR and LF seen
 * here are parts of folds and count as LWS. The parsers still check every
 * byte they accept, so they are safe on any input. */
#include "sip/hdr.h"

#include <errno.h>
#include <string.h>

#define MAGIC_COOKIE     "z9hG4bK"
#define MAGIC_COOKIE_LEN 7

static struct sv
sv_make(const char *p, const char *end)
{
	struct sv v = {p, (size_t)(end - p)};

	return v;
}

/* The end of v; v.p itself when empty (which may be NULL). */
static const char *
sv_end(struct sv v)
{
	return v.len == 0 ? v.p : v.p + v.len;
}

static const char *
skip_lws(const char *p, const char *end)
{
	while (p < end && sip_is((unsigned char)*p, SIP_C_LWS))
		p++;
	return p;
}

static const char *
skip_token(const char *p, const char *end)
{
	while (p < end && sip_is((unsigned char)*p, SIP_C_TOKEN))
		p++;
	return p;
}

struct sv
sip_sv_trim(struct sv v)
{
	const char *p = v.p, *end = sv_end(v);

	p = skip_lws(p, end);
	while (end > p && sip_is((unsigned char)end[-1], SIP_C_LWS))
		end--;
	return sv_make(p, end);
}

/* Parses a quoted-string at *pp (which points at the opening quote) and
 * sets *inner to the text between the quotes. qdtext is LWS, %x21,
 * %x23-5B, %x5D-7E or UTF8-NONASCII (any byte >= 0x80 is tolerated);
 * quoted-pair is "\" and %x00-09 / %x0B-0C / %x0E-7F. */
static int
quoted_string(const char **pp, const char *end, struct sv *inner)
{
	const char *p = *pp + 1, *s = p;

	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*inner = sv_make(s, p);
			*pp = p + 1;
			return 0;
		}
		if (c == '\\') {
			if (end - p < 2)
				return EBADMSG;
			c = (unsigned char)p[1];
			if (c > 0x7f || c == '\r' || c == '\n')
				return EBADMSG;
			p += 2;
			continue;
		}
		if (sip_is(c, SIP_C_CTL) && c != '\r' && c != '\n')
			return EBADMSG;
		p++;
	}
	return EBADMSG; /* unterminated */
}

int
sip_quoted_unescape(struct sv in, char *out, size_t size, size_t *outlen)
{
	size_t i = 0, n = 0;

	while (i < in.len) {
		if (in.p[i] == '\\' && i + 1 < in.len)
			i++;
		if (n >= size)
			return EMSGSIZE;
		out[n++] = in.p[i++];
	}
	*outlen = n;
	return 0;
}

/* Parses one generic-param after the ';' at *pp: token [ EQUAL gen-value ],
 * gen-value being a token, a host (IPv6 references included) or a quoted
 * string. Sets *name and *val (inside of quotes for a quoted string; empty
 * without '='). Advances *pp past the parameter (not past trailing LWS). */
static int
param_next(const char **pp, const char *end, struct sv *name, struct sv *val,
    bool *quoted)
{
	const char *p = skip_lws(*pp + 1, end), *n = p, *q;

	p = skip_token(p, end);
	if (p == n)
		return EBADMSG;
	*name = sv_make(n, p);
	*quoted = false;
	q = skip_lws(p, end);
	if (q < end && *q == '=') {
		p = skip_lws(q + 1, end);
		if (p < end && *p == '"') {
			int err = quoted_string(&p, end, val);

			if (err != 0)
				return err;
			*quoted = true;
		} else {
			const char *v = p;

			while (p < end &&
			       (sip_is((unsigned char)*p, SIP_C_TOKEN) ||
			           *p == ':' || *p == '[' || *p == ']'))
				p++;
			if (p == v)
				return EBADMSG;
			*val = sv_make(v, p);
		}
	} else {
		*val = sv_make(p, p);
	}
	*pp = p;
	return 0;
}

int
sip_param_find(struct sv params, const char *name, struct sv *val)
{
	const char *p = params.p, *end = sv_end(params);
	struct sv n, v;
	bool quoted;

	for (;;) {
		p = skip_lws(p, end);
		if (p >= end || *p != ';' ||
		    param_next(&p, end, &n, &v, &quoted) != 0)
			return ENOENT;
		if (sip_sv_eq_nocase(n.p, n.len, name)) {
			*val = v;
			return 0;
		}
	}
}

int
sip_param_next(
    struct sv *params, struct sv *name, struct sv *val, struct sv *text)
{
	const char *p = params->p, *end = sv_end(*params), *s;
	struct sv n, v;
	bool quoted;

	p = skip_lws(p, end);
	if (p >= end)
		return ENOENT;
	if (*p != ';' || param_next(&p, end, &n, &v, &quoted) != 0)
		return EBADMSG;
	s = n.p;
	*name = n;
	*val = v;
	*text = sv_make(s, p);
	*params = sv_make(p, end);
	return 0;
}

/* After a list element: skips LWS; at the end returns 0 with *more false;
 * at a comma skips it and returns 0 with *more true; else EBADMSG. */
static int
list_sep(const char **pp, const char *end, bool *more)
{
	const char *p = skip_lws(*pp, end);

	if (p >= end) {
		*more = false;
		*pp = p;
		return 0;
	}
	if (*p != ',')
		return EBADMSG;
	p = skip_lws(p + 1, end);
	if (p >= end)
		return EBADMSG; /* an empty element */
	*more = true;
	*pp = p;
	return 0;
}

static enum sip_transport
transport_from_name(struct sv t)
{
	static const struct {
		const char *name;
		enum sip_transport t;
	} tab[] = {
	    {"UDP", SIP_TRANSPORT_UDP},
	    {"TCP", SIP_TRANSPORT_TCP},
	    {"TLS", SIP_TRANSPORT_TLS},
	    {"SCTP", SIP_TRANSPORT_SCTP},
	    {"WS", SIP_TRANSPORT_WS},
	    {"WSS", SIP_TRANSPORT_WSS},
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(tab); i++)
		if (sip_sv_eq_nocase(t.p, t.len, tab[i].name))
			return tab[i].t;
	return SIP_TRANSPORT_OTHER;
}

/* A received parameter holds an IPv4 or IPv6 address; RFC 5118 4.5 lets
 * the IPv6 one come with or without brackets. */
static bool
received_check(struct sv v)
{
	enum sip_host_type t;

	if (sip_ipv6_check(v.p, v.len))
		return true;
	return sip_host_check(v, &t) == 0 && t != SIP_HOST_NAME;
}

/* Parses SWS "/" SWS at *pp. */
static int
slash(const char **pp, const char *end)
{
	const char *p = skip_lws(*pp, end);

	if (p >= end || *p != '/')
		return EBADMSG;
	*pp = skip_lws(p + 1, end);
	return 0;
}

/* Parses a port (1*DIGIT up to 65535). */
static int
port_parse(const char **pp, const char *end, uint16_t *port)
{
	const char *p = *pp, *s = p;
	uint64_t v;

	while (p < end && *p >= '0' && *p <= '9' && p - s < 6)
		p++;
	if (util_u64_parse(s, (size_t)(p - s), 65535, &v) != 0)
		return EBADMSG;
	*port = (uint16_t)v;
	*pp = p;
	return 0;
}

static int
via_params(const char **pp, const char *end, struct sip_via *v)
{
	const char *p = *pp, *start = NULL, *q;
	struct sv n, val;
	bool quoted;
	int err;

	for (;;) {
		q = skip_lws(p, end);
		if (q >= end || *q != ';')
			break;
		if (start == NULL)
			start = q;
		p = q;
		if ((err = param_next(&p, end, &n, &val, &quoted)) != 0)
			return err;
		if (++v->nparams > SIP_PARAMS_MAX)
			return EMSGSIZE;
		if (SIP_SV_IS(n.p, n.len, "branch")) {
			if (val.len == 0 || quoted || v->has_branch)
				return EBADMSG;
			v->branch = val;
			v->has_branch = true;
			v->branch_rfc3261 =
			    val.len > MAGIC_COOKIE_LEN &&
			    memcmp(val.p, MAGIC_COOKIE, MAGIC_COOKIE_LEN) == 0;
		} else if (SIP_SV_IS(n.p, n.len, "rport")) {
			if (v->rport)
				return EBADMSG;
			v->rport = true;
			if (val.len > 0) {
				const char *r = val.p;

				if (quoted ||
				    port_parse(&r, sv_end(val),
				        &v->rport_value) != 0 ||
				    r != sv_end(val))
					return EBADMSG;
				v->has_rport_value = true;
			}
		} else if (SIP_SV_IS(n.p, n.len, "received")) {
			if (quoted || v->has_received || !received_check(val))
				return EBADMSG;
			v->received = val;
			v->has_received = true;
		} else if (SIP_SV_IS(n.p, n.len, "maddr")) {
			enum sip_host_type t;

			if (quoted || v->has_maddr ||
			    sip_host_check(val, &t) != 0)
				return EBADMSG;
			v->maddr = val;
			v->has_maddr = true;
		} else if (SIP_SV_IS(n.p, n.len, "ttl")) {
			uint64_t ttl;

			if (quoted || v->has_ttl ||
			    util_u64_parse(val.p, val.len, 255, &ttl) != 0)
				return EBADMSG;
			v->ttl = (uint8_t)ttl;
			v->has_ttl = true;
		}
	}
	if (start != NULL)
		v->params = sv_make(start, p);
	*pp = p;
	return 0;
}

/* Parses one via-parm at *pp. */
static int
via_one(const char **pp, const char *end, struct sip_via *v)
{
	const char *p = *pp, *s = p, *h;
	int err;

	memset(v, 0, sizeof(*v));
	v->proto_name.p = p;
	p = skip_token(p, end);
	v->proto_name.len = (size_t)(p - v->proto_name.p);
	if (v->proto_name.len == 0 || (err = slash(&p, end)) != 0)
		return EBADMSG;
	v->proto_version.p = p;
	p = skip_token(p, end);
	v->proto_version.len = (size_t)(p - v->proto_version.p);
	if (v->proto_version.len == 0 || (err = slash(&p, end)) != 0)
		return EBADMSG;
	v->transport_name.p = p;
	p = skip_token(p, end);
	v->transport_name.len = (size_t)(p - v->transport_name.p);
	if (v->transport_name.len == 0)
		return EBADMSG;
	v->transport = transport_from_name(v->transport_name);
	/* LWS sent-by */
	if (p >= end || !sip_is((unsigned char)*p, SIP_C_LWS))
		return EBADMSG;
	p = skip_lws(p, end);
	h = p;
	if (p < end && *p == '[') {
		const char *q = memchr(p, ']', (size_t)(end - p));

		if (q == NULL)
			return EBADMSG;
		p = q + 1;
	} else {
		while (p < end && sip_is((unsigned char)*p, SIP_C_HOST))
			p++;
	}
	v->host = sv_make(h, p);
	if (sip_host_check(v->host, &v->host_type) != 0)
		return EBADMSG;
	h = skip_lws(p, end);
	if (h < end && *h == ':') {
		p = skip_lws(h + 1, end);
		if (port_parse(&p, end, &v->port) != 0)
			return EBADMSG;
		v->has_port = true;
	}
	if ((err = via_params(&p, end, v)) != 0)
		return err;
	v->value = sv_make(s, p);
	*pp = p;
	return 0;
}

int
sip_via_parse(struct sv value, struct sip_via *v, size_t max, size_t *n)
{
	const char *p = value.p, *end = sv_end(value);
	bool more = true;
	int err;

	p = skip_lws(p, end);
	if (p >= end)
		return EBADMSG;
	while (more) {
		if (*n >= max)
			return EMSGSIZE;
		if ((err = via_one(&p, end, &v[*n])) != 0)
			return err;
		(*n)++;
		if ((err = list_sep(&p, end, &more)) != 0)
			return err;
	}
	return 0;
}

/* Parses the header parameters of a name-addr at *pp. */
static int
na_params(const char **pp, const char *end, struct sip_nameaddr *na)
{
	const char *p = *pp, *start = NULL, *q;
	struct sv n, val;
	bool quoted;
	int err;

	for (;;) {
		q = skip_lws(p, end);
		if (q >= end || *q != ';')
			break;
		if (start == NULL)
			start = q;
		p = q;
		if ((err = param_next(&p, end, &n, &val, &quoted)) != 0)
			return err;
		if (++na->nparams > SIP_PARAMS_MAX)
			return EMSGSIZE;
		if (SIP_SV_IS(n.p, n.len, "tag")) {
			if (quoted || val.len == 0 || na->has_tag)
				return EBADMSG;
			na->tag = val;
			na->has_tag = true;
		}
	}
	if (start != NULL)
		na->params = sv_make(start, p);
	*pp = p;
	return 0;
}

/* Parses one name-addr or addr-spec with its parameters at *pp (which
 * points at a non-LWS character). */
static int
na_one(const char **pp, const char *end, struct sip_nameaddr *na)
{
	const char *p = *pp, *s = p, *q;
	int err;

	memset(na, 0, sizeof(*na));
	if (p >= end)
		return EBADMSG;
	if (*p == '"') {
		if ((err = quoted_string(&p, end, &na->display)) != 0)
			return err;
		na->display_quoted = true;
		p = skip_lws(p, end);
		if (p >= end || *p != '<')
			return EBADMSG;
	} else if (*p != '<') {
		/* Tokens then '<' make a display name (RFC 4475 3.1.1.6 lets
		 * the LWS before '<' be missing); anything else is an
		 * addr-spec. */
		q = p;
		while (q < end && (sip_is((unsigned char)*q, SIP_C_TOKEN) ||
		                      sip_is((unsigned char)*q, SIP_C_LWS)))
			q++;
		if (q < end && *q == '<') {
			na->display = sip_sv_trim(sv_make(p, q));
			p = q;
		}
	}
	if (p < end && *p == '<') {
		const char *gt = memchr(p, '>', (size_t)(end - p));

		if (gt == NULL)
			return EBADMSG;
		if ((err = sip_uri_parse(
		         p + 1, (size_t)(gt - p - 1), &na->uri)) != 0)
			return err;
		na->bracketed = true;
		p = gt + 1;
	} else {
		size_t used;

		if ((err = sip_uri_parse_addrspec(
		         p, (size_t)(end - p), &na->uri, &used)) != 0)
			return err;
		p += used;
	}
	if ((err = na_params(&p, end, na)) != 0)
		return err;
	na->value = sv_make(s, p);
	*pp = p;
	return 0;
}

int
sip_nameaddr_parse(struct sv value, struct sip_nameaddr *na)
{
	const char *p = value.p, *end = sv_end(value);
	struct sip_nameaddr tmp;
	int err;

	p = skip_lws(p, end);
	if ((err = na_one(&p, end, &tmp)) != 0)
		return err;
	if (skip_lws(p, end) != end)
		return EBADMSG;
	*na = tmp;
	return 0;
}

int
sip_nameaddr_next(struct sv *rest, struct sip_nameaddr *na)
{
	const char *p = rest->p, *end = sv_end(*rest);
	struct sip_nameaddr tmp;
	bool more;
	int err;

	p = skip_lws(p, end);
	if (p >= end)
		return ENOENT;
	if ((err = na_one(&p, end, &tmp)) != 0 ||
	    (err = list_sep(&p, end, &more)) != 0)
		return err;
	*na = tmp;
	*rest = sv_make(p, end);
	return 0;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static int
qvalue_parse(struct sv v, uint16_t *q)
{
	unsigned r, scale = 100;
	size_t i;

	if (v.len == 0 || (v.p[0] != '0' && v.p[0] != '1'))
		return EBADMSG;
	r = (unsigned)(v.p[0] - '0') * 1000;
	if (v.len > 1) {
		if (v.p[1] != '.' || v.len > 5)
			return EBADMSG;
		for (i = 2; i < v.len; i++) {
			if (v.p[i] < '0' || v.p[i] > '9')
				return EBADMSG;
			r += (unsigned)(v.p[i] - '0') * scale;
			scale /= 10;
		}
	}
	if (r > 1000)
		return EBADMSG;
	*q = (uint16_t)r;
	return 0;
}

static int
delta_digits(struct sv v, uint32_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (v.len == 0)
		return EBADMSG;
	for (i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return EBADMSG;
		if (x <= SIP_DELTA_MAX)
			x = x * 10 + (uint64_t)(v.p[i] - '0');
	}
	*out = x > SIP_DELTA_MAX ? SIP_DELTA_MAX : (uint32_t)x;
	return 0;
}

int
sip_delta_parse(struct sv value, uint32_t *out)
{
	return delta_digits(sip_sv_trim(value), out);
}

/* Reads the Contact parameters we use from the raw parameter text. */
static int
contact_params(struct sip_contact *c)
{
	const char *p = c->na.params.p, *end = sv_end(c->na.params);
	struct sv n, v;
	bool quoted;

	for (;;) {
		p = skip_lws(p, end);
		if (p >= end)
			return 0;
		if (*p != ';' || param_next(&p, end, &n, &v, &quoted) != 0)
			return EBADMSG;
		if (SIP_SV_IS(n.p, n.len, "expires")) {
			if (quoted || c->has_expires ||
			    delta_digits(v, &c->expires) != 0)
				return EBADMSG;
			c->has_expires = true;
		} else if (SIP_SV_IS(n.p, n.len, "q")) {
			if (quoted || c->has_q || qvalue_parse(v, &c->q) != 0)
				return EBADMSG;
			c->has_q = true;
		} else if (SIP_SV_IS(n.p, n.len, "+sip.instance")) {
			if (!quoted || c->instance.len > 0)
				return EBADMSG;
			c->instance = v;
		} else if (SIP_SV_IS(n.p, n.len, "reg-id")) {
			uint64_t id;

			if (quoted || c->has_reg_id ||
			    util_u64_parse(v.p, v.len, SIP_CSEQ_MAX, &id) != 0)
				return EBADMSG;
			c->reg_id = (uint32_t)id;
			c->has_reg_id = true;
		}
	}
}

int
sip_contact_parse(
    struct sv value, struct sip_contact *c, size_t max, size_t *n, bool *star)
{
	struct sv v = sip_sv_trim(value);
	const char *p = v.p, *end = sv_end(v);
	bool more = true;
	int err;

	if (v.len == 1 && v.p[0] == '*') {
		*star = true;
		return 0;
	}
	if (v.len == 0)
		return EBADMSG;
	while (more) {
		if (*n >= max)
			return EMSGSIZE;
		memset(&c[*n], 0, sizeof(c[*n]));
		if ((err = na_one(&p, end, &c[*n].na)) != 0 ||
		    (err = contact_params(&c[*n])) != 0)
			return err;
		(*n)++;
		if ((err = list_sep(&p, end, &more)) != 0)
			return err;
	}
	return 0;
}

int
sip_cseq_parse(struct sv value, uint32_t *num, struct sv *method)
{
	struct sv v = sip_sv_trim(value);
	const char *p = v.p, *end = sv_end(v), *m;
	uint64_t x;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (util_u64_parse(v.p, (size_t)(p - v.p), SIP_CSEQ_MAX, &x) != 0)
		return EBADMSG;
	if (p >= end || !sip_is((unsigned char)*p, SIP_C_LWS))
		return EBADMSG;
	m = skip_lws(p, end);
	p = skip_token(m, end);
	if (p == m || p != end)
		return EBADMSG;
	*num = (uint32_t)x;
	*method = sv_make(m, p);
	return 0;
}

int
sip_uint_parse(struct sv value, uint64_t max, uint64_t *out)
{
	struct sv v = sip_sv_trim(value);

	return util_u64_parse(v.p, v.len, max, out) == 0 ? 0 : EBADMSG;
}

int
sip_callid_parse(struct sv value, struct sv *id)
{
	struct sv v = sip_sv_trim(value);
	size_t i, at = 0;

	if (v.len == 0)
		return EBADMSG;
	for (i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];

		if (c == '@') {
			if (at != 0 || i == 0 || i + 1 == v.len)
				return EBADMSG;
			at = i;
		} else if (!sip_is(c, SIP_C_WORD)) {
			return EBADMSG;
		}
	}
	*id = v;
	return 0;
}

int
sip_token_next(struct sv *rest, struct sv *token)
{
	const char *p = rest->p, *end = sv_end(*rest), *t;
	struct sv tok;
	bool more;
	int err;

	p = skip_lws(p, end);
	if (p >= end)
		return ENOENT;
	t = p;
	p = skip_token(p, end);
	tok = sv_make(t, p);
	if (p == t)
		return EBADMSG;
	if ((err = list_sep(&p, end, &more)) != 0)
		return err;
	*token = tok;
	*rest = sv_make(p, end);
	return 0;
}
