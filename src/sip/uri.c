/* uri.c: see uri.h. One pass over the URI text, no allocation. */
#include "sip/uri.h"

#include <errno.h>
#include <string.h>

/* Character sets of RFC 3261 25.1 (escapes are handled apart). */
#define URI_USER  (SIP_C_ALNUM | SIP_C_MARK | SIP_C_USER)
#define URI_PASS  (SIP_C_ALNUM | SIP_C_MARK | SIP_C_PASS)
#define URI_PARAM (SIP_C_ALNUM | SIP_C_MARK | SIP_C_PARAM)
#define URI_HNV   (SIP_C_ALNUM | SIP_C_MARK | SIP_C_HNV)
#define URI_URIC  (SIP_C_ALNUM | SIP_C_MARK | SIP_C_RESERVED)

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

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Skips a run of characters of class cls or %XX escapes from p. Returns the
 * end of the run, or NULL on a '%' that is not a valid escape. */
static const char *
uri_run(const char *p, const char *end, unsigned cls)
{
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			if (end - p < 3 || hexval((unsigned char)p[1]) < 0 ||
			    hexval((unsigned char)p[2]) < 0)
				return NULL;
			p += 3;
			continue;
		}
		if (!sip_is(c, cls))
			break;
		p++;
	}
	return p;
}

/* True when [p, p+len) is a dotted quad of decimal octets <= 255. */
static bool
ipv4_check(const char *p, size_t len)
{
	size_t i = 0, part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, n = 0;

		if (part > 0) {
			if (i >= len || p[i] != '.')
				return false;
			i++;
		}
		while (i < len && p[i] >= '0' && p[i] <= '9' && n < 4) {
			v = v * 10 + (unsigned)(p[i] - '0');
			i++;
			n++;
		}
		if (n == 0 || n > 3 || v > 255)
			return false;
	}
	return i == len;
}

bool
sip_ipv6_check(const char *p, size_t len)
{
	size_t i = 0, groups = 0;
	bool dbl = false;

	if (len < 2)
		return false;
	if (p[0] == ':') {
		if (p[1] != ':')
			return false;
		dbl = true;
		i = 2;
	}
	while (i < len) {
		size_t s = i, n = 0;

		while (i < len && hexval((unsigned char)p[i]) >= 0 && n < 5) {
			i++;
			n++;
		}
		if (i < len && p[i] == '.') {
			/* An IPv4 tail stands for the last two groups. */
			if (!ipv4_check(p + s, len - s))
				return false;
			groups += 2;
			i = len;
			break;
		}
		if (n == 0 || n > 4)
			return false;
		groups++;
		if (i == len)
			break;
		if (p[i] != ':')
			return false;
		i++;
		if (i < len && p[i] == ':') {
			if (dbl)
				return false;
			dbl = true;
			i++;
		} else if (i == len) {
			return false; /* a single trailing colon */
		}
	}
	return dbl ? groups <= 7 : groups == 8;
}

/* True when [p, p+len) is a hostname of RFC 3261 25.1: labels of alphanum
 * and inner '-', the last starting with a letter, an optional final dot. */
static bool
hostname_check(const char *p, size_t len)
{
	size_t i = 0, start;

	if (len > 0 && p[len - 1] == '.')
		len--;
	if (len == 0)
		return false;
	for (;;) {
		start = i;
		while (i < len && p[i] != '.') {
			if (!sip_is((unsigned char)p[i], SIP_C_ALNUM) &&
			    p[i] != '-')
				return false;
			i++;
		}
		if (i == start || p[start] == '-' || p[i - 1] == '-')
			return false;
		if (i == len)
			break;
		i++; /* the dot */
	}
	/* toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum */
	return (p[start] | 0x20) >= 'a' && (p[start] | 0x20) <= 'z';
}

int
sip_host_check(struct sv host, enum sip_host_type *type)
{
	if (host.len >= 2 && host.p[0] == '[') {
		if (host.p[host.len - 1] != ']' ||
		    !sip_ipv6_check(host.p + 1, host.len - 2))
			return EBADMSG;
		*type = SIP_HOST_IPV6;
		return 0;
	}
	if (host.len > 0 && host.p[0] >= '0' && host.p[0] <= '9' &&
	    ipv4_check(host.p, host.len)) {
		*type = SIP_HOST_IPV4;
		return 0;
	}
	if (!hostname_check(host.p, host.len))
		return EBADMSG;
	*type = SIP_HOST_NAME;
	return 0;
}

/* Parses host [":" port] at *pp. Returns 0 and advances *pp. */
static int
uri_hostport(const char **pp, const char *end, struct sip_uri *u)
{
	const char *p = *pp, *h = p;
	int err;

	if (p < end && *p == '[') {
		const char *q = memchr(p, ']', (size_t)(end - p));

		if (q == NULL)
			return EBADMSG;
		p = q + 1;
	} else {
		while (p < end && sip_is((unsigned char)*p, SIP_C_HOST))
			p++;
	}
	u->host = sv_make(h, p);
	if ((err = sip_host_check(u->host, &u->host_type)) != 0)
		return err;
	if (p < end && *p == ':') {
		unsigned v = 0, n = 0;

		p++;
		while (p < end && *p >= '0' && *p <= '9' && n < 6) {
			v = v * 10 + (unsigned)(*p - '0');
			p++;
			n++;
		}
		if (n == 0 || n > 5 || v > 65535)
			return EBADMSG;
		u->port = (uint16_t)v;
		u->has_port = true;
	}
	*pp = p;
	return 0;
}

/* Parses ";name[=value]" uri-parameters from *pp, recording the known ones.
 * tel: parameters use the same character set here. */
static int
uri_params(const char **pp, const char *end, struct sip_uri *u)
{
	const char *p = *pp, *start = p;

	while (p < end && *p == ';') {
		const char *n = p + 1, *ne, *v = NULL, *ve = NULL;
		size_t nl;

		if ((ne = uri_run(n, end, URI_PARAM)) == NULL || ne == n)
			return EBADMSG;
		p = ne;
		if (p < end && *p == '=') {
			v = p + 1;
			if ((ve = uri_run(v, end, URI_PARAM)) == NULL ||
			    ve == v)
				return EBADMSG;
			p = ve;
		}
		if (++u->nparams > SIP_PARAMS_MAX)
			return EMSGSIZE;
		nl = (size_t)(ne - n);
		if (SIP_SV_IS(n, nl, "lr")) {
			u->lr = true;
		} else if (v == NULL) {
			/* Flag parameters we do not know are kept as text. */
		} else if (SIP_SV_IS(n, nl, "transport")) {
			u->transport = sv_make(v, ve);
		} else if (SIP_SV_IS(n, nl, "user")) {
			u->user_param = sv_make(v, ve);
		} else if (SIP_SV_IS(n, nl, "method")) {
			u->method = sv_make(v, ve);
		} else if (SIP_SV_IS(n, nl, "maddr")) {
			enum sip_host_type t;

			u->maddr = sv_make(v, ve);
			if (sip_host_check(u->maddr, &t) != 0)
				return EBADMSG;
		} else if (SIP_SV_IS(n, nl, "ttl")) {
			uint64_t ttl;

			if (util_u64_parse(v, (size_t)(ve - v), 255, &ttl) != 0)
				return EBADMSG;
			u->ttl = (uint8_t)ttl;
			u->has_ttl = true;
		}
	}
	u->params = sv_make(start, p);
	*pp = p;
	return 0;
}

/* Parses "?" hname "=" hvalue *( "&" hname "=" hvalue ) from *pp. */
static int
uri_headers(const char **pp, const char *end, struct sip_uri *u)
{
	const char *p = *pp, *start;
	size_t n;

	if (p >= end || *p != '?')
		return 0;
	start = ++p;
	for (n = 1;; n++) {
		const char *q = uri_run(p, end, URI_HNV);

		if (n > SIP_PARAMS_MAX)
			return EMSGSIZE;
		if (q == NULL || q == p || q >= end || *q != '=')
			return EBADMSG;
		if ((p = uri_run(q + 1, end, URI_HNV)) == NULL)
			return EBADMSG;
		if (p >= end || *p != '&')
			break;
		p++;
	}
	u->headers = sv_make(start, p);
	*pp = p;
	return 0;
}

/* sip: and sips: after the colon. In an addr-spec, stops after hostport. */
static int
uri_sip(const char *p, const char *end, bool addrspec, struct sip_uri *u,
    const char **stop)
{
	const char *lim = end, *at, *q;
	int err;

	if (addrspec) {
		for (q = p; q < end && *q != ',' &&
		            !sip_is((unsigned char)*q, SIP_C_LWS);
		     q++)
			;
		lim = q;
	}
	/* No unescaped '@' may follow the userinfo, so the first one ends it;
	 * the user part itself may hold ';', '?' and '/' (RFC 3261 25.1). */
	if ((at = memchr(p, '@', (size_t)(lim - p))) != NULL) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *ue = colon != NULL ? colon : at;

		if ((q = uri_run(p, ue, URI_USER)) == NULL || q != ue || q == p)
			return EBADMSG;
		u->user = sv_make(p, ue);
		u->has_user = true;
		if (colon != NULL) {
			q = uri_run(colon + 1, at, URI_PASS);
			if (q == NULL || q != at)
				return EBADMSG;
			u->password = sv_make(colon + 1, at);
			u->has_password = true;
		}
		p = at + 1;
	}
	if ((err = uri_hostport(&p, lim, u)) != 0)
		return err;
	if (!addrspec) {
		if ((err = uri_params(&p, end, u)) != 0 ||
		    (err = uri_headers(&p, end, u)) != 0)
			return err;
		if (p != end)
			return EBADMSG;
	}
	*stop = p;
	return 0;
}

/* tel: telephone-subscriber (RFC 3966), loosely: a number of digits, hex
 * digits, '*', '#' and visual separators, '+' first for a global number,
 * then parameters. */
static int
uri_tel(const char *p, const char *end, bool addrspec, struct sip_uri *u,
    const char **stop)
{
	const char *s = p;
	int err;

	if (p < end && *p == '+')
		p++;
	while (p < end &&
	       (hexval((unsigned char)*p) >= 0 || *p == '*' || *p == '#' ||
	           *p == '-' || *p == '.' || *p == '(' || *p == ')'))
		p++;
	if (p == s || (p - s == 1 && *s == '+'))
		return EBADMSG;
	u->user = sv_make(s, p);
	u->has_user = true;
	if (!addrspec) {
		if ((err = uri_params(&p, end, u)) != 0)
			return err;
		if (p != end)
			return EBADMSG;
	}
	*stop = p;
	return 0;
}

static int
uri_other(const char *p, const char *end, bool addrspec, const char **stop)
{
	const char *s = p;

	for (;;) {
		const char *q = uri_run(p, end, URI_URIC);

		if (q == NULL)
			return EBADMSG;
		p = q;
		if (p < end && (*p == '[' || *p == ']')) {
			p++;
			continue;
		}
		break;
	}
	if (addrspec) {
		/* ';' and ',' belong to the header field here. */
		const char *q;

		for (q = s; q < p && *q != ';' && *q != ','; q++)
			;
		p = q;
	} else if (p != end) {
		return EBADMSG;
	}
	if (p == s)
		return EBADMSG;
	*stop = p;
	return 0;
}

static int
uri_parse(
    const char *p, size_t len, bool addrspec, struct sip_uri *out, size_t *used)
{
	const char *end = p + len, *c = p, *stop = NULL;
	struct sip_uri u;
	int err;

	memset(&u, 0, sizeof(u));
	if (!addrspec && len > SIP_URI_MAX)
		return EMSGSIZE;
	if (c >= end || !sip_is((unsigned char)*c, SIP_C_ALNUM) ||
	    sip_is((unsigned char)*c, SIP_C_DIGIT))
		return EBADMSG;
	while (c < end && (sip_is((unsigned char)*c, SIP_C_ALNUM) ||
	                      *c == '+' || *c == '-' || *c == '.'))
		c++;
	if (c >= end || *c != ':')
		return EBADMSG;
	u.scheme_name = sv_make(p, c);
	c++;
	if (SIP_SV_IS(u.scheme_name.p, u.scheme_name.len, "sip"))
		u.scheme = SIP_URI_SIP;
	else if (SIP_SV_IS(u.scheme_name.p, u.scheme_name.len, "sips"))
		u.scheme = SIP_URI_SIPS;
	else if (SIP_SV_IS(u.scheme_name.p, u.scheme_name.len, "tel"))
		u.scheme = SIP_URI_TEL;
	switch (u.scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		err = uri_sip(c, end, addrspec, &u, &stop);
		break;
	case SIP_URI_TEL:
		err = uri_tel(c, end, addrspec, &u, &stop);
		break;
	default:
		err = uri_other(c, end, addrspec, &stop);
		break;
	}
	if (err != 0)
		return err;
	if ((size_t)(stop - p) > SIP_URI_MAX)
		return EMSGSIZE;
	u.opaque = sv_make(c, stop);
	u.text = sv_make(p, stop);
	*out = u;
	if (used != NULL)
		*used = (size_t)(stop - p);
	return 0;
}

int
sip_uri_parse(const char *p, size_t len, struct sip_uri *u)
{
	return uri_parse(p, len, false, u, NULL);
}

int
sip_uri_parse_addrspec(
    const char *p, size_t len, struct sip_uri *u, size_t *used)
{
	return uri_parse(p, len, true, u, used);
}

/* Iterates the parameters of a ";a=b;c" text: sets *name and *val (empty
 * when there is no '=') of the next one and advances *pp. Returns false at
 * the end. The text was checked by the parser. */
static bool
param_next(
    const char **pp, const char *end, struct sv *name, struct sv *val, char sep)
{
	const char *p = *pp, *n, *e;

	if (p >= end)
		return false;
	if (*p == sep)
		p++;
	n = p;
	while (p < end && *p != '=' && *p != sep)
		p++;
	*name = sv_make(n, p);
	if (p < end && *p == '=') {
		e = ++p;
		while (p < end && *p != sep)
			p++;
		*val = sv_make(e, p);
	} else {
		*val = sv_make(p, p);
	}
	*pp = p;
	return true;
}

static int
list_find(struct sv list, char sep, const char *name, struct sv *val)
{
	const char *p = list.p, *end = sv_end(list);
	struct sv n, v;

	while (param_next(&p, end, &n, &v, sep)) {
		if (sip_sv_eq_nocase(n.p, n.len, name)) {
			*val = v;
			return 0;
		}
	}
	return ENOENT;
}

int
sip_uri_param(const struct sip_uri *u, const char *name, struct sv *val)
{
	return list_find(u->params, ';', name, val);
}

int
sip_uri_header(const struct sip_uri *u, const char *name, struct sv *val)
{
	return list_find(u->headers, '&', name, val);
}

int
sip_uri_unescape(struct sv in, char *out, size_t size, size_t *outlen)
{
	size_t i = 0, n = 0;

	while (i < in.len) {
		unsigned char c = (unsigned char)in.p[i];

		if (c == '%') {
			int hi, lo;

			if (in.len - i < 3 ||
			    (hi = hexval((unsigned char)in.p[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)in.p[i + 2])) < 0)
				return EBADMSG;
			c = (unsigned char)(hi << 4 | lo);
			i += 3;
		} else {
			i++;
		}
		if (n >= size)
			return EMSGSIZE;
		out[n++] = (char)c;
	}
	*outlen = n;
	return 0;
}

/* The next character of a URI component for comparison: an escape of a
 * character that is not reserved compares equal to the character; an
 * escaped reserved character stays distinct (RFC 3261 19.1.4). Returns
 * -1 at the end. */
static int
cmp_next(const char **pp, const char *end, bool fold)
{
	const char *p = *pp;
	int c;

	if (p >= end)
		return -1;
	c = (unsigned char)*p;
	if (c == '%' && end - p >= 3 && hexval((unsigned char)p[1]) >= 0 &&
	    hexval((unsigned char)p[2]) >= 0) {
		c = hexval((unsigned char)p[1]) << 4 |
		    hexval((unsigned char)p[2]);
		*pp = p + 3;
		if (sip_is((unsigned char)c, SIP_C_RESERVED))
			return c | 0x100;
	} else {
		*pp = p + 1;
	}
	if (fold && c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	return c;
}

static bool
comp_eq(struct sv a, struct sv b, bool fold)
{
	const char *pa = a.p, *pb = b.p;
	const char *ea = sv_end(a), *eb = sv_end(b);
	int ca, cb;

	do {
		ca = cmp_next(&pa, ea, fold);
		cb = cmp_next(&pb, eb, fold);
		if (ca != cb)
			return false;
	} while (ca != -1);
	return true;
}

static bool
param_in(struct sv list, char sep, struct sv name, struct sv *val)
{
	const char *p = list.p, *end = sv_end(list);
	struct sv n, v;

	while (param_next(&p, end, &n, &v, sep)) {
		if (comp_eq(n, name, true)) {
			*val = v;
			return true;
		}
	}
	return false;
}

static size_t
list_count(struct sv list, char sep)
{
	const char *p = list.p, *end = sv_end(list);
	struct sv n, v;
	size_t k = 0;

	while (param_next(&p, end, &n, &v, sep))
		k++;
	return k;
}

/* Parameters of a compared with those of b: a "must" parameter present in
 * either must be present in both; any parameter present in both must have
 * equal values; with all_must, every parameter is a "must" one. */
static bool
params_eq(struct sv pa, struct sv pb, bool all_must)
{
	static const char *const must[] = {
	    "transport", "user", "ttl", "method", "maddr"};
	const char *p = pa.p, *end = sv_end(pa);
	struct sv n, v, w;
	size_t i;

	while (param_next(&p, end, &n, &v, ';')) {
		/* A repeated name counts once: its first value. */
		if (!param_in(pa, ';', n, &w) || w.p != v.p)
			continue;
		if (param_in(pb, ';', n, &w)) {
			if (!comp_eq(v, w, true))
				return false;
		} else if (all_must) {
			return false;
		}
	}
	if (all_must)
		return list_count(pa, ';') == list_count(pb, ';');
	for (i = 0; i < ARRAY_LEN(must); i++) {
		struct sv name = {must[i], strlen(must[i])};

		if (param_in(pa, ';', name, &v) != param_in(pb, ';', name, &w))
			return false;
	}
	return true;
}

static bool
headers_eq(struct sv ha, struct sv hb)
{
	const char *p = ha.p, *end = sv_end(ha);
	struct sv n, v, w;

	if (list_count(ha, '&') != list_count(hb, '&'))
		return false;
	while (param_next(&p, end, &n, &v, '&')) {
		if (!param_in(ha, '&', n, &w) || w.p != v.p)
			continue; /* a repeated name counts once */
		if (!param_in(hb, '&', n, &w) || !comp_eq(v, w, false))
			return false;
	}
	return true;
}

/* Compares tel numbers without their visual separators. */
static bool
tel_number_eq(struct sv a, struct sv b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a.len && strchr("-.()", a.p[i]) != NULL)
			i++;
		while (j < b.len && strchr("-.()", b.p[j]) != NULL)
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if ((a.p[i] | 0x20) != (b.p[j] | 0x20))
			return false;
		i++;
		j++;
	}
}

bool
sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	switch (a->scheme) {
	case SIP_URI_SIP:
	case SIP_URI_SIPS:
		return a->has_user == b->has_user &&
		       comp_eq(a->user, b->user, false) &&
		       a->has_password == b->has_password &&
		       comp_eq(a->password, b->password, false) &&
		       comp_eq(a->host, b->host, true) &&
		       a->has_port == b->has_port && a->port == b->port &&
		       params_eq(a->params, b->params, false) &&
		       params_eq(b->params, a->params, false) &&
		       headers_eq(a->headers, b->headers);
	case SIP_URI_TEL:
		return tel_number_eq(a->user, b->user) &&
		       params_eq(a->params, b->params, true);
	default:
		return comp_eq(a->scheme_name, b->scheme_name, true) &&
		       a->opaque.len == b->opaque.len &&
		       memcmp(a->opaque.p, b->opaque.p, a->opaque.len) == 0;
	}
}
