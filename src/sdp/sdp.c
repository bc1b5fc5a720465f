/* sdp.c: SDP parser and builder (RFC 4566, RFC 3264, RFC 4568 SDES).
 * No I/O, no logging, no globals, no allocation. */
#include "sdp/sdp.h"

#include <errno.h>
#include <string.h>

struct cur {
	const char *p, *end;
};

static const char *const suite_names[] = {
    [SDP_SUITE_AES_CM_128_HMAC_SHA1_80] = "AES_CM_128_HMAC_SHA1_80",
    [SDP_SUITE_AES_CM_128_HMAC_SHA1_32] = "AES_CM_128_HMAC_SHA1_32",
    [SDP_SUITE_AES_256_CM_HMAC_SHA1_80] = "AES_256_CM_HMAC_SHA1_80",
    [SDP_SUITE_AEAD_AES_128_GCM] = "AEAD_AES_128_GCM",
};

static const size_t suite_keylens[] = {
    [SDP_SUITE_AES_CM_128_HMAC_SHA1_80] = 30,
    [SDP_SUITE_AES_CM_128_HMAC_SHA1_32] = 30,
    [SDP_SUITE_AES_256_CM_HMAC_SHA1_80] = 46,
    [SDP_SUITE_AEAD_AES_128_GCM] = 28,
};

static const char *const proto_names[] = {
    [SDP_PROTO_OTHER] = NULL,
    [SDP_PROTO_RTP_AVP] = "RTP/AVP",
    [SDP_PROTO_RTP_SAVP] = "RTP/SAVP",
    [SDP_PROTO_RTP_AVPF] = "RTP/AVPF",
    [SDP_PROTO_RTP_SAVPF] = "RTP/SAVPF",
    [SDP_PROTO_UDP_TLS_RTP_SAVP] = "UDP/TLS/RTP/SAVP",
    [SDP_PROTO_UDP_TLS_RTP_SAVPF] = "UDP/TLS/RTP/SAVPF",
};

static const char *const dir_names[] = {
    [SDP_DIR_NONE] = NULL,
    [SDP_DIR_SENDRECV] = "sendrecv",
    [SDP_DIR_SENDONLY] = "sendonly",
    [SDP_DIR_RECVONLY] = "recvonly",
    [SDP_DIR_INACTIVE] = "inactive",
};

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
sdp_suite_keylen(enum sdp_suite suite)
{
	if ((unsigned)suite >= ARRAY_LEN(suite_keylens))
		return 0;
	return suite_keylens[suite];
}

const char *
sdp_suite_name(enum sdp_suite suite)
{
	if ((unsigned)suite >= ARRAY_LEN(suite_names))
		return NULL;
	return suite_names[suite];
}

enum sdp_dir
sdp_media_dir(const struct sdp_session *s, const struct sdp_media *m)
{
	if (m->dir != SDP_DIR_NONE)
		return m->dir;
	if (s->dir != SDP_DIR_NONE)
		return s->dir;
	return SDP_DIR_SENDRECV;
}

const struct sdp_conn *
sdp_media_conn(const struct sdp_session *s, const struct sdp_media *m)
{
	return m->conn.present ? &m->conn : &s->conn;
}

static bool
sv_eq(struct sv v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && memcmp(v.p, s, n) == 0;
}

/* Skips spaces, then takes the next run of non-space bytes into *out.
 * Returns 0, or EBADMSG when there is none. */
static int
cur_field(struct cur *c, struct sv *out)
{
	const char *start;

	while (c->p < c->end && *c->p == ' ')
		c->p++;
	start = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	out->p = start;
	out->len = (size_t)(c->p - start);
	return out->len == 0 ? EBADMSG : 0;
}

/* Skips spaces; true when nothing is left. */
static bool
cur_done(struct cur *c)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return c->p == c->end;
}

static int
num_parse(struct sv v, uint64_t max, uint64_t *out)
{
	return util_u64_parse(v.p, v.len, max, out) == 0 ? 0 : EBADMSG;
}

static int
unsigned_parse(struct sv v, unsigned max, unsigned *out)
{
	uint64_t n;

	if (util_u64_parse(v.p, v.len, max, &n) != 0)
		return EBADMSG;
	*out = (unsigned)n;
	return 0;
}

static bool
is_token(unsigned char ch)
{
	return ch != 0 &&
	       ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	           (ch >= '0' && ch <= '9') ||
	           strchr("!#$%&'*+-.^_`{|}~", ch) != NULL);
}

/* "IN IP4 <addr>" or "IN IP6 <addr>", then the end. */
static int
conn_parse(struct cur *c, enum sdp_addrtype *type, struct sv *addr)
{
	struct sv net, at;

	if (cur_field(c, &net) != 0 || cur_field(c, &at) != 0 ||
	    cur_field(c, addr) != 0 || !cur_done(c) || !sv_eq(net, "IN"))
		return EBADMSG;
	if (sv_eq(at, "IP4"))
		*type = SDP_ADDR_IP4;
	else if (sv_eq(at, "IP6"))
		*type = SDP_ADDR_IP6;
	else
		return EBADMSG;
	return 0;
}

static int
origin_parse(struct sdp_session *s, struct sv v)
{
	struct cur c = {v.p, v.p + v.len};
	struct sv id, ver;

	if (cur_field(&c, &s->origin_user) != 0 || cur_field(&c, &id) != 0 ||
	    cur_field(&c, &ver) != 0 ||
	    num_parse(id, UINT64_MAX, &s->sess_id) != 0 ||
	    num_parse(ver, UINT64_MAX, &s->sess_version) != 0)
		return EBADMSG;
	return conn_parse(&c, &s->origin_type, &s->origin_addr);
}

static int
time_parse(struct sdp_session *s, struct sv v)
{
	struct cur c = {v.p, v.p + v.len};
	struct sv a, b;

	if (cur_field(&c, &a) != 0 || cur_field(&c, &b) != 0 || !cur_done(&c) ||
	    num_parse(a, UINT64_MAX, &s->t_start) != 0 ||
	    num_parse(b, UINT64_MAX, &s->t_stop) != 0)
		return EBADMSG;
	return 0;
}

static bool
proto_is_rtp(enum sdp_proto p)
{
	return p != SDP_PROTO_OTHER;
}

static int
media_parse(struct sdp_media *m, struct sv v)
{
	struct cur c = {v.p, v.p + v.len};
	struct sv port, fmt;
	const char *slash;
	size_t i;

	if (cur_field(&c, &m->type) != 0 || cur_field(&c, &port) != 0 ||
	    cur_field(&c, &m->proto_name) != 0)
		return EBADMSG;
	for (i = 0; i < m->type.len; i++)
		if (!is_token((unsigned char)m->type.p[i]))
			return EBADMSG;
	slash = memchr(port.p, '/', port.len);
	if (slash != NULL) {
		struct sv n = {
		    slash + 1, (size_t)(port.p + port.len - slash - 1)};

		port.len = (size_t)(slash - port.p);
		if (unsigned_parse(n, SDP_PORT_MAX, &m->nports) != 0 ||
		    m->nports == 0)
			return EBADMSG;
	}
	if (unsigned_parse(port, SDP_PORT_MAX, &m->port) != 0)
		return EBADMSG;
	m->proto = SDP_PROTO_OTHER;
	for (i = 1; i < ARRAY_LEN(proto_names); i++)
		if (sv_eq(m->proto_name, proto_names[i]))
			m->proto = (enum sdp_proto)i;
	m->secure =
	    memmem(m->proto_name.p, m->proto_name.len, "SAVP", 4) != NULL;
	while (!cur_done(&c)) {
		unsigned pt;

		(void)cur_field(&c, &fmt);
		if (m->nfmt == SDP_FMT_MAX)
			return EMSGSIZE;
		if (proto_is_rtp(m->proto) && unsigned_parse(fmt, 127, &pt))
			return EBADMSG;
		m->fmt[m->nfmt++] = fmt;
	}
	return m->nfmt == 0 ? EBADMSG : 0;
}

static int
b64_val(unsigned char ch)
{
	const char *p;

	if (ch == 0 || (p = strchr(b64_chars, ch)) == NULL)
		return -1;
	return (int)(p - b64_chars);
}

/* Decodes base64 (padding optional) into out (max bytes). Returns 0 or
 * EBADMSG. */
static int
b64_decode(struct sv in, unsigned char *out, size_t max, size_t *outlen)
{
	size_t n = in.len, pad = 0, i, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	while (n > 0 && in.p[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (n % 4 == 1 || (pad > 0 && (n + pad) % 4 != 0))
		return EBADMSG;
	for (i = 0; i < n; i++) {
		int d = b64_val((unsigned char)in.p[i]);

		if (d < 0)
			return EBADMSG;
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == max)
				return EBADMSG;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*outlen = o;
	return 0;
}

/* Lifetime: digits or "2^" digits. MKI: digits ":" digits. */
static bool
lifetime_ok(struct sv v)
{
	uint64_t n;

	if (v.len > 2 && v.p[0] == '2' && v.p[1] == '^')
		return util_u64_parse(v.p + 2, v.len - 2, 64, &n) == 0;
	return util_u64_parse(v.p, v.len, UINT64_MAX, &n) == 0;
}

static bool
mki_ok(struct sv v)
{
	const char *colon = memchr(v.p, ':', v.len);
	uint64_t n;

	if (colon == NULL)
		return false;
	return util_u64_parse(v.p, (size_t)(colon - v.p), UINT64_MAX, &n) ==
	           0 &&
	       util_u64_parse(colon + 1, (size_t)(v.p + v.len - colon - 1), 128,
	           &n) == 0 &&
	       n > 0;
}

/* a=crypto value. Returns 0 with *known false for an unknown suite (the
 * caller keeps it as an unknown attribute), EBADMSG when malformed. */
static int
crypto_parse(struct sdp_crypto *cr, struct sv v, bool *known)
{
	struct cur c = {v.p, v.p + v.len};
	struct sv tag, suite, kp, key, part[2];
	size_t i, nparts = 0;
	const char *bar;

	*known = false;
	memset(cr, 0, sizeof(*cr));
	if (cur_field(&c, &tag) != 0 || cur_field(&c, &suite) != 0 ||
	    cur_field(&c, &kp) != 0 || unsigned_parse(tag, 999999999, &cr->tag))
		return EBADMSG;
	for (i = 0; i < ARRAY_LEN(suite_names); i++)
		if (sv_eq(suite, suite_names[i]))
			break;
	if (i == ARRAY_LEN(suite_names))
		return 0;
	*known = true;
	cr->suite = (enum sdp_suite)i;
	if (kp.len < 7 || memcmp(kp.p, "inline:", 7) != 0)
		return EBADMSG;
	key.p = kp.p + 7;
	bar = memchr(key.p, '|', (size_t)(kp.p + kp.len - key.p));
	key.len = (size_t)((bar != NULL ? bar : kp.p + kp.len) - key.p);
	while (bar != NULL) {
		const char *start = bar + 1;

		if (nparts == 2)
			return EBADMSG;
		bar = memchr(start, '|', (size_t)(kp.p + kp.len - start));
		part[nparts].p = start;
		part[nparts].len =
		    (size_t)((bar != NULL ? bar : kp.p + kp.len) - start);
		nparts++;
	}
	cr->lifetime.p = cr->mki.p = kp.p + kp.len;
	for (i = 0; i < nparts; i++) {
		if (mki_ok(part[i]) && cr->mki.len == 0)
			cr->mki = part[i];
		else if (i == 0 && lifetime_ok(part[i]))
			cr->lifetime = part[i];
		else
			return EBADMSG;
	}
	if (b64_decode(key, cr->key, sizeof(cr->key), &cr->keylen) != 0 ||
	    cr->keylen != suite_keylens[cr->suite])
		return EBADMSG;
	(void)cur_done(&c);
	cr->params.p = c.p;
	cr->params.len = (size_t)(c.end - c.p);
	return 0;
}

static int
rtpmap_parse(struct sdp_rtpmap *r, struct sv v)
{
	struct cur c = {v.p, v.p + v.len};
	struct sv pt, enc, clock, ch = {NULL, 0};
	const char *s1, *s2;
	uint64_t n;

	if (cur_field(&c, &pt) != 0 || cur_field(&c, &enc) != 0 ||
	    !cur_done(&c) || unsigned_parse(pt, 127, &r->pt) != 0)
		return EBADMSG;
	s1 = memchr(enc.p, '/', enc.len);
	if (s1 == NULL)
		return EBADMSG;
	clock.p = s1 + 1;
	clock.len = (size_t)(enc.p + enc.len - clock.p);
	enc.len = (size_t)(s1 - enc.p);
	s2 = memchr(clock.p, '/', clock.len);
	if (s2 != NULL) {
		ch.p = s2 + 1;
		ch.len = (size_t)(clock.p + clock.len - ch.p);
		clock.len = (size_t)(s2 - clock.p);
		if (unsigned_parse(ch, 255, &r->channels) != 0 ||
		    r->channels == 0)
			return EBADMSG;
	} else {
		r->channels = 0;
	}
	if (enc.len == 0 || num_parse(clock, UINT32_MAX, &n) != 0 || n == 0)
		return EBADMSG;
	r->encoding = enc;
	r->clock = (uint32_t)n;
	return 0;
}

static int
fmtp_parse(struct sdp_fmtp *f, struct sv v)
{
	struct cur c = {v.p, v.p + v.len};
	struct sv pt;

	if (cur_field(&c, &pt) != 0 || unsigned_parse(pt, 127, &f->pt) != 0)
		return EBADMSG;
	(void)cur_done(&c);
	f->params.p = c.p;
	f->params.len = (size_t)(c.end - c.p);
	return 0;
}

static int
rtcp_parse(struct sdp_rtcp *r, struct sv v)
{
	struct cur c = {v.p, v.p + v.len};
	struct sv port;

	if (cur_field(&c, &port) != 0 ||
	    unsigned_parse(port, SDP_PORT_MAX, &r->port) != 0)
		return EBADMSG;
	r->present = true;
	if (cur_done(&c))
		return 0;
	r->has_addr = true;
	return conn_parse(&c, &r->type, &r->addr);
}

static enum sdp_dir
dir_lookup(struct sv name)
{
	size_t i;

	for (i = 1; i < ARRAY_LEN(dir_names); i++)
		if (sv_eq(name, dir_names[i]))
			return (enum sdp_dir)i;
	return SDP_DIR_NONE;
}

/* Splits "name[:value]" into *a. Returns 0 or EBADMSG. */
static int
attr_split(struct sv v, struct sdp_attr *a)
{
	const char *colon = memchr(v.p, ':', v.len);
	size_t i;

	a->name.p = v.p;
	a->name.len = colon != NULL ? (size_t)(colon - v.p) : v.len;
	a->has_value = colon != NULL;
	a->value.p = colon != NULL ? colon + 1 : v.p + v.len;
	a->value.len = (size_t)(v.p + v.len - a->value.p);
	if (a->name.len == 0)
		return EBADMSG;
	for (i = 0; i < a->name.len; i++)
		if (!is_token((unsigned char)a->name.p[i]))
			return EBADMSG;
	return 0;
}

static int
attr_keep(struct sdp_attr *arr, size_t *n, const struct sdp_attr *a)
{
	if (*n == SDP_ATTR_MAX)
		return EMSGSIZE;
	arr[(*n)++] = *a;
	return 0;
}

static int
session_attr(struct sdp_session *s, struct sv v)
{
	struct sdp_attr a;
	enum sdp_dir d;
	int err;

	if ((err = attr_split(v, &a)) != 0)
		return err;
	if (!a.has_value && (d = dir_lookup(a.name)) != SDP_DIR_NONE) {
		if (s->dir != SDP_DIR_NONE)
			return EBADMSG;
		s->dir = d;
		return 0;
	}
	return attr_keep(s->attr, &s->nattr, &a);
}

static int
media_attr(struct sdp_media *m, struct sv v)
{
	struct sdp_attr a;
	enum sdp_dir d;
	bool known;
	int err;

	if ((err = attr_split(v, &a)) != 0)
		return err;
	if (!a.has_value) {
		if ((d = dir_lookup(a.name)) != SDP_DIR_NONE) {
			if (m->dir != SDP_DIR_NONE)
				return EBADMSG;
			m->dir = d;
			return 0;
		}
		if (sv_eq(a.name, "rtcp-mux")) {
			m->rtcp_mux = true;
			return 0;
		}
	} else if (sv_eq(a.name, "rtpmap") && proto_is_rtp(m->proto)) {
		if (m->nrtpmap == SDP_FMT_MAX)
			return EMSGSIZE;
		return rtpmap_parse(&m->rtpmap[m->nrtpmap++], a.value);
	} else if (sv_eq(a.name, "fmtp") && proto_is_rtp(m->proto)) {
		if (m->nfmtp == SDP_FMT_MAX)
			return EMSGSIZE;
		return fmtp_parse(&m->fmtp[m->nfmtp++], a.value);
	} else if (sv_eq(a.name, "rtcp")) {
		if (m->rtcp.present)
			return EBADMSG;
		return rtcp_parse(&m->rtcp, a.value);
	} else if (sv_eq(a.name, "ptime")) {
		if (m->ptime != 0 ||
		    unsigned_parse(a.value, 10000, &m->ptime) || m->ptime == 0)
			return EBADMSG;
		return 0;
	} else if (sv_eq(a.name, "crypto")) {
		struct sdp_crypto cr;

		err = crypto_parse(&cr, a.value, &known);
		if (err == 0 && known) {
			if (m->ncrypto == SDP_CRYPTO_MAX)
				err = EMSGSIZE;
			else
				m->crypto[m->ncrypto++] = cr;
		}
		explicit_bzero(&cr, sizeof(cr)); /* holds a key */
		if (err != 0 || known)
			return err;
	}
	return attr_keep(m->attr, &m->nattr, &a);
}

static int
line_keep(struct sdp_line *arr, size_t *n, char type, struct sv v)
{
	if (*n == SDP_LINE_MAX)
		return EMSGSIZE;
	arr[*n].type = type;
	arr[*n].value = v;
	(*n)++;
	return 0;
}

/* One line "x=value" of the session part (before the first m=). */
static int
session_line(
    struct sdp_session *s, size_t idx, char type, struct sv v, bool *have_t)
{
	static const char first[] = "vos";

	if (idx < 3 || type == 'v' || type == 'o' || type == 's') {
		if (idx >= 3 || type != first[idx])
			return EBADMSG;
		if (type == 'v')
			return sv_eq(v, "0") ? 0 : EBADMSG;
		if (type == 'o')
			return origin_parse(s, v);
		s->name = v;
		return 0;
	}
	switch (type) {
	case 'c':
		if (s->conn.present)
			return EBADMSG;
		s->conn.present = true;
		{
			struct cur c = {v.p, v.p + v.len};

			return conn_parse(&c, &s->conn.type, &s->conn.addr);
		}
	case 't':
		if (*have_t)
			return line_keep(s->line, &s->nline, type, v);
		*have_t = true;
		return time_parse(s, v);
	case 'a':
		return session_attr(s, v);
	default:
		return line_keep(s->line, &s->nline, type, v);
	}
}

static int
media_line(struct sdp_media *m, char type, struct sv v)
{
	struct cur c = {v.p, v.p + v.len};

	switch (type) {
	case 'c':
		if (m->conn.present)
			return EBADMSG;
		m->conn.present = true;
		return conn_parse(&c, &m->conn.type, &m->conn.addr);
	case 'a':
		return media_attr(m, v);
	case 'v':
	case 'o':
	case 's':
	case 'u':
	case 'e':
	case 'p':
	case 't':
	case 'r':
	case 'z':
		return EBADMSG;
	default:
		return line_keep(m->line, &m->nline, type, v);
	}
}

/* Parses every line into *s; counts a= lines per section against
 * SDP_ATTR_MAX. Returns 0, EBADMSG or EMSGSIZE. */
static int
section_parse(struct sdp_session *s, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	struct sdp_media *m = NULL;
	size_t idx = 0, nattr = 0, i;
	bool have_t = false;
	int err;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol != NULL ? eol + 1 : end;
		struct sv v;
		char type;

		if (eol == NULL)
			eol = end;
		if (eol > p && eol[-1] == '\r' && eol < end)
			eol--;
		if (eol - p < 2 || p[0] < 'a' || p[0] > 'z' || p[1] != '=')
			return EBADMSG;
		type = p[0];
		v.p = p + 2;
		v.len = (size_t)(eol - v.p);
		if (memchr(v.p, '\r', v.len) != NULL ||
		    memchr(v.p, '\0', v.len) != NULL)
			return EBADMSG;
		if (type == 'a' && ++nattr > SDP_ATTR_MAX)
			return EMSGSIZE;
		if (type == 'm') {
			if (idx < 3 || !have_t)
				return EBADMSG;
			if (s->nmedia == SDP_MEDIA_MAX)
				return EMSGSIZE;
			m = &s->media[s->nmedia++];
			nattr = 0;
			err = media_parse(m, v);
		} else if (m != NULL) {
			err = media_line(m, type, v);
		} else {
			err = session_line(s, idx, type, v, &have_t);
		}
		if (err != 0)
			return err;
		idx++;
		p = next;
	}
	if (idx < 3 || !have_t)
		return EBADMSG;
	for (i = 0; i < s->nmedia; i++)
		if (!s->media[i].conn.present && !s->conn.present)
			return EBADMSG;
	return 0;
}

int
sdp_session_parse(const char *buf, size_t len, struct sdp_session *s)
{
	int err;

	if (buf == NULL || s == NULL)
		return EINVAL;
	memset(s, 0, sizeof(*s));
	if (len > SDP_MAX)
		return EMSGSIZE;
	if ((err = section_parse(s, buf, len)) != 0)
		memset(s, 0, sizeof(*s));
	return err;
}

/* The builder: appends to buf, remembers the first error. */
struct out {
	char *p;
	size_t size, len;
	int err;
};

static void
out_mem(struct out *o, const char *p, size_t n)
{
	if (o->err != 0)
		return;
	if (n > o->size - o->len) {
		o->err = EMSGSIZE;
		return;
	}
	if (n > 0)
		memcpy(o->p + o->len, p, n);
	o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void
out_sv(struct out *o, struct sv v)
{
	if (v.len > 0 && (v.p == NULL || memchr(v.p, '\r', v.len) != NULL ||
	                     memchr(v.p, '\n', v.len) != NULL ||
	                     memchr(v.p, '\0', v.len) != NULL)) {
		if (o->err == 0)
			o->err = EINVAL;
		return;
	}
	out_mem(o, v.p, v.len);
}

static void
out_u64(struct out *o, uint64_t n)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	out_mem(o, tmp + i, sizeof(tmp) - i);
}

static void
out_addr(struct out *o, enum sdp_addrtype type, struct sv addr)
{
	if (type != SDP_ADDR_IP4 && type != SDP_ADDR_IP6 && o->err == 0)
		o->err = EINVAL;
	out_str(o, type == SDP_ADDR_IP6 ? "IN IP6 " : "IN IP4 ");
	out_sv(o, addr);
}

static void
out_conn(struct out *o, const struct sdp_conn *c)
{
	if (!c->present)
		return;
	out_str(o, "c=");
	out_addr(o, c->type, c->addr);
	out_str(o, "\r\n");
}

/* Writes the lines whose type is (with match) or is not (without) in set. */
static void
out_lines(struct out *o, const struct sdp_line *l, size_t n, const char *set,
    bool match)
{
	size_t i, k;

	for (k = 0; match ? set[k] != '\0' : k == 0; k++)
		for (i = 0; i < n; i++) {
			bool in =
			    l[i].type != '\0' && strchr(set, l[i].type) != NULL;

			if (match ? l[i].type != set[k] : in)
				continue;
			if ((l[i].type < 'a' || l[i].type > 'z') && o->err == 0)
				o->err = EINVAL;
			out_mem(o, &l[i].type, 1);
			out_str(o, "=");
			out_sv(o, l[i].value);
			out_str(o, "\r\n");
		}
}

static void
out_dir(struct out *o, enum sdp_dir d)
{
	if (d == SDP_DIR_NONE)
		return;
	if ((unsigned)d >= ARRAY_LEN(dir_names)) {
		if (o->err == 0)
			o->err = EINVAL;
		return;
	}
	out_str(o, "a=");
	out_str(o, dir_names[d]);
	out_str(o, "\r\n");
}

static void
out_attrs(struct out *o, const struct sdp_attr *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out_str(o, "a=");
		out_sv(o, a[i].name);
		if (a[i].has_value) {
			out_str(o, ":");
			out_sv(o, a[i].value);
		}
		out_str(o, "\r\n");
	}
}

static void
out_b64(struct out *o, const unsigned char *p, size_t n)
{
	char q[4];
	size_t i;

	for (i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64_chars[(v >> 18) & 63];
		q[1] = b64_chars[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64_chars[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64_chars[v & 63] : '=';
		out_mem(o, q, 4);
	}
}

static void
out_crypto(struct out *o, const struct sdp_crypto *c)
{
	const char *name = sdp_suite_name(c->suite);

	if (name == NULL || c->keylen != sdp_suite_keylen(c->suite)) {
		if (o->err == 0)
			o->err = EINVAL;
		return;
	}
	out_str(o, "a=crypto:");
	out_u64(o, c->tag);
	out_str(o, " ");
	out_str(o, name);
	out_str(o, " inline:");
	out_b64(o, c->key, c->keylen);
	if (c->lifetime.len > 0) {
		out_str(o, "|");
		out_sv(o, c->lifetime);
	}
	if (c->mki.len > 0) {
		out_str(o, "|");
		out_sv(o, c->mki);
	}
	if (c->params.len > 0) {
		out_str(o, " ");
		out_sv(o, c->params);
	}
	out_str(o, "\r\n");
}

static void
out_media(struct out *o, const struct sdp_media *m)
{
	size_t i;

	out_str(o, "m=");
	out_sv(o, m->type);
	out_str(o, " ");
	out_u64(o, m->port);
	if (m->nports > 0) {
		out_str(o, "/");
		out_u64(o, m->nports);
	}
	out_str(o, " ");
	if ((unsigned)m->proto >= ARRAY_LEN(proto_names)) {
		if (o->err == 0)
			o->err = EINVAL;
	} else if (m->proto == SDP_PROTO_OTHER) {
		out_sv(o, m->proto_name);
	} else {
		out_str(o, proto_names[m->proto]);
	}
	for (i = 0; i < m->nfmt && i < SDP_FMT_MAX; i++) {
		out_str(o, " ");
		out_sv(o, m->fmt[i]);
	}
	out_str(o, "\r\n");
	out_lines(o, m->line, m->nline, "i", true);
	out_conn(o, &m->conn);
	out_lines(o, m->line, m->nline, "i", false);
	for (i = 0; i < m->nrtpmap; i++) {
		const struct sdp_rtpmap *r = &m->rtpmap[i];

		out_str(o, "a=rtpmap:");
		out_u64(o, r->pt);
		out_str(o, " ");
		out_sv(o, r->encoding);
		out_str(o, "/");
		out_u64(o, r->clock);
		if (r->channels > 0) {
			out_str(o, "/");
			out_u64(o, r->channels);
		}
		out_str(o, "\r\n");
	}
	for (i = 0; i < m->nfmtp; i++) {
		out_str(o, "a=fmtp:");
		out_u64(o, m->fmtp[i].pt);
		if (m->fmtp[i].params.len > 0) {
			out_str(o, " ");
			out_sv(o, m->fmtp[i].params);
		}
		out_str(o, "\r\n");
	}
	if (m->ptime > 0) {
		out_str(o, "a=ptime:");
		out_u64(o, m->ptime);
		out_str(o, "\r\n");
	}
	out_dir(o, m->dir);
	if (m->rtcp_mux)
		out_str(o, "a=rtcp-mux\r\n");
	if (m->rtcp.present) {
		out_str(o, "a=rtcp:");
		out_u64(o, m->rtcp.port);
		if (m->rtcp.has_addr) {
			out_str(o, " ");
			out_addr(o, m->rtcp.type, m->rtcp.addr);
		}
		out_str(o, "\r\n");
	}
	for (i = 0; i < m->ncrypto; i++)
		out_crypto(o, &m->crypto[i]);
	out_attrs(o, m->attr, m->nattr);
}

int
sdp_build(char *buf, size_t size, const struct sdp_session *s, size_t *outlen)
{
	struct out o = {buf, size, 0, 0};
	size_t i;

	if (buf == NULL || s == NULL || outlen == NULL ||
	    s->nmedia > SDP_MEDIA_MAX || s->nline > SDP_LINE_MAX ||
	    s->nattr > SDP_ATTR_MAX)
		return EINVAL;
	for (i = 0; i < s->nmedia; i++) {
		const struct sdp_media *m = &s->media[i];

		if (m->nfmt > SDP_FMT_MAX || m->nline > SDP_LINE_MAX ||
		    m->nrtpmap > SDP_FMT_MAX || m->nfmtp > SDP_FMT_MAX ||
		    m->ncrypto > SDP_CRYPTO_MAX || m->nattr > SDP_ATTR_MAX)
			return EINVAL;
	}
	out_str(&o, "v=0\r\no=");
	out_sv(&o, s->origin_user);
	out_str(&o, " ");
	out_u64(&o, s->sess_id);
	out_str(&o, " ");
	out_u64(&o, s->sess_version);
	out_str(&o, " ");
	out_addr(&o, s->origin_type, s->origin_addr);
	out_str(&o, "\r\ns=");
	out_sv(&o, s->name);
	out_str(&o, "\r\n");
	out_lines(&o, s->line, s->nline, "iuep", true);
	out_conn(&o, &s->conn);
	out_lines(&o, s->line, s->nline, "b", true);
	out_str(&o, "t=");
	out_u64(&o, s->t_start);
	out_str(&o, " ");
	out_u64(&o, s->t_stop);
	out_str(&o, "\r\n");
	out_lines(&o, s->line, s->nline, "iuepb", false);
	out_dir(&o, s->dir);
	out_attrs(&o, s->attr, s->nattr);
	for (i = 0; i < s->nmedia; i++)
		out_media(&o, &s->media[i]);
	if (o.err == 0)
		*outlen = o.len;
	return o.err;
}
