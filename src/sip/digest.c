/* digest.c: HTTP digest authentication for SIP; see digest.h. */
#include "sip/digest.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

enum {
	DIGEST_MAX_BIN = 32, /* bytes of a SHA-256 digest */
	DIGEST_MAX_HEX = 2 * DIGEST_MAX_BIN,
	NONCE_TIME_LEN = 8,
	NONCE_RAND_LEN = 8,
	NONCE_MAC_LEN = 16,
	NONCE_BIN_LEN = NONCE_TIME_LEN + NONCE_RAND_LEN + NONCE_MAC_LEN,
	NC_LEN = 8,
};

static const char nonce_label[] = "sw-nonce-v1";

enum {
	NONCE_LABEL_LEN = sizeof(nonce_label) - 1,
	NONCE_MAC_IN_MAX = NONCE_LABEL_LEN + SIP_NONCE_REALM_MAX +
	                   NONCE_TIME_LEN + NONCE_RAND_LEN,
};

/* The parameters sip_digest_parse() knows, in the order of fields[]. */
enum field {
	F_USERNAME,
	F_REALM,
	F_NONCE,
	F_URI,
	F_RESPONSE,
	F_CNONCE,
	F_OPAQUE,
	F_ALGORITHM,
	F_QOP,
	F_NC,
	F_USERHASH,
	F_COUNT,
	F_TOKEN_LIKE = F_ALGORITHM, /* this and later: no escapes allowed */
};

static const struct sv fields[F_COUNT] = {
    [F_USERNAME] = {"username", 8},
    [F_REALM] = {"realm", 5},
    [F_NONCE] = {"nonce", 5},
    [F_URI] = {"uri", 3},
    [F_RESPONSE] = {"response", 8},
    [F_CNONCE] = {"cnonce", 6},
    [F_OPAQUE] = {"opaque", 6},
    [F_ALGORITHM] = {"algorithm", 9},
    [F_QOP] = {"qop", 3},
    [F_NC] = {"nc", 2},
    [F_USERHASH] = {"userhash", 8},
};

static const struct sv alg_names[] = {
    [SIP_DIGEST_MD5] = {"MD5", 3},
    [SIP_DIGEST_MD5_SESS] = {"MD5-sess", 8},
    [SIP_DIGEST_SHA256] = {"SHA-256", 7},
    [SIP_DIGEST_SHA256_SESS] = {"SHA-256-sess", 12},
};

struct cur {
	const char *p, *end;
};

/* RFC 3261 token characters. */
static bool
is_token(unsigned char ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return true;
	return ch != '\0' && strchr("-.!%*_+`'~", ch) != NULL;
}

static bool
is_wsp(unsigned char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Bytes that may appear, unescaped or escaped, inside a quoted value:
 * HTAB, printable ASCII and any byte >= 0x80 (UTF8-NONASCII). */
static bool
is_qchar(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static unsigned char
ascii_lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (unsigned char)(ch - 'A' + 'a') : ch;
}

/* ASCII case-insensitive equality, whatever the locale. */
static bool
sv_eq_nocase(struct sv a, struct sv b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (ascii_lower((unsigned char)a.p[i]) !=
		    ascii_lower((unsigned char)b.p[i]))
			return false;
	return true;
}

/* Skips SWS: white space and folded lines (CRLF or LF, then at least one
 * SP or HTAB). A line end not followed by white space is left in place. */
static void
cur_sws(struct cur *c)
{
	for (;;) {
		const char *q = c->p;

		while (q < c->end && is_wsp((unsigned char)*q))
			q++;
		if (q < c->end && *q == '\r')
			q++;
		if (q < c->end && *q == '\n' && q + 1 < c->end &&
		    is_wsp((unsigned char)q[1])) {
			c->p = q + 1;
			continue;
		}
		/* No fold: keep only the white space before any CR. */
		while (c->p < c->end && is_wsp((unsigned char)*c->p))
			c->p++;
		return;
	}
}

/* Reads a token into *out. Returns 0, EBADMSG when empty, EMSGSIZE when
 * longer than SIP_DIGEST_VALUE_MAX. */
static int
cur_token(struct cur *c, struct sv *out)
{
	const char *start = c->p;

	while (c->p < c->end && is_token((unsigned char)*c->p))
		c->p++;
	out->p = start;
	out->len = (size_t)(c->p - start);
	if (out->len == 0)
		return EBADMSG;
	return out->len > SIP_DIGEST_VALUE_MAX ? EMSGSIZE : 0;
}

/* Reads a quoted-string at c->p (a '"') and sets *raw to what lies between
 * the quotes, escapes included, and *escaped when there was any. Returns 0,
 * EBADMSG (unterminated, a control character, a line end) or EMSGSIZE (more
 * than SIP_DIGEST_VALUE_MAX bytes between the quotes). */
static int
cur_quoted(struct cur *c, struct sv *raw, bool *escaped)
{
	const char *start;

	*escaped = false;
	start = ++c->p;
	while (c->p < c->end && *c->p != '"') {
		if (*c->p == '\\') {
			if (c->end - c->p < 2)
				return EBADMSG;
			c->p++;
			*escaped = true;
		}
		if (!is_qchar((unsigned char)*c->p))
			return EBADMSG;
		c->p++;
	}
	if (c->p == c->end)
		return EBADMSG;
	raw->p = start;
	raw->len = (size_t)(c->p - start);
	c->p++; /* the closing quote */
	return raw->len > SIP_DIGEST_VALUE_MAX ? EMSGSIZE : 0;
}

/* Copies raw without its backslash escapes to buf + *used, and points *out
 * at the copy. Returns 0 or EMSGSIZE when buf is full. */
static int
unescape(struct sv raw, char *buf, size_t size, size_t *used, struct sv *out)
{
	size_t i, n = 0;
	char *dst;

	if (buf == NULL || size - *used < raw.len)
		return EMSGSIZE;
	dst = buf + *used;
	for (i = 0; i < raw.len; i++) {
		if (raw.p[i] == '\\')
			i++; /* cur_quoted() checked that a byte follows */
		dst[n++] = raw.p[i];
	}
	*used += n;
	out->p = dst;
	out->len = n;
	return 0;
}

static int
field_find(struct sv name)
{
	int i;

	for (i = 0; i < F_COUNT; i++)
		if (sv_eq_nocase(name, fields[i]))
			return i;
	return -1;
}

/* Parses exactly 8 hex digits. Returns 0 or EBADMSG. */
static int
nc_parse(struct sv v, uint32_t *out)
{
	unsigned char b[NC_LEN / 2];

	if (v.len != NC_LEN || util_unhex(v.p, v.len, b, sizeof(b)) != 0)
		return EBADMSG;
	*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
	return 0;
}

static size_t
alg_hexlen(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_SHA256 || alg == SIP_DIGEST_SHA256_SESS
	           ? SIP_DIGEST_SHA256_HEX
	           : SIP_DIGEST_MD5_HEX;
}

static bool
alg_sess(enum sip_digest_alg alg)
{
	return alg == SIP_DIGEST_MD5_SESS || alg == SIP_DIGEST_SHA256_SESS;
}

static bool
alg_valid(enum sip_digest_alg alg)
{
	return (unsigned)alg < ARRAY_LEN(alg_names);
}

/* Checks the collected values v[] (present when v[i].p != NULL) and fills
 * *c. Returns 0, ENOTSUP or EBADMSG, as sip_digest_parse(). */
static int
cred_fill(const struct sv *v, struct sip_digest_cred *c)
{
	static const struct sv qop_auth = {"auth", 4},
	                       qop_int = {"auth-int", 8};
	static const struct sv yes = {"true", 4}, no = {"false", 5};
	static const enum field required[] = {
	    F_USERNAME, F_REALM, F_NONCE, F_URI, F_RESPONSE};
	unsigned char resp[DIGEST_MAX_BIN];
	size_t i, hexlen;

	memset(c, 0, sizeof(*c));
	if (v[F_ALGORITHM].p != NULL) {
		for (i = 0; i < ARRAY_LEN(alg_names); i++)
			if (sv_eq_nocase(v[F_ALGORITHM], alg_names[i]))
				break;
		if (i == ARRAY_LEN(alg_names))
			return v[F_ALGORITHM].len == 0 ? EBADMSG : ENOTSUP;
		c->alg = (enum sip_digest_alg)i;
	}
	for (i = 0; i < ARRAY_LEN(required); i++)
		if (v[required[i]].len == 0)
			return EBADMSG;
	if (v[F_QOP].p != NULL) {
		if (sv_eq_nocase(v[F_QOP], qop_auth))
			c->qop = SIP_DIGEST_QOP_AUTH;
		else if (sv_eq_nocase(v[F_QOP], qop_int))
			c->qop = SIP_DIGEST_QOP_AUTH_INT;
		else
			return EBADMSG;
		if (v[F_CNONCE].len == 0 || v[F_NC].p == NULL)
			return EBADMSG;
	}
	if (alg_sess(c->alg) && v[F_CNONCE].len == 0)
		return EBADMSG;
	if (v[F_NC].p != NULL && nc_parse(v[F_NC], &c->nc) != 0)
		return EBADMSG;
	if (v[F_USERHASH].p != NULL) {
		if (sv_eq_nocase(v[F_USERHASH], yes))
			c->userhash = true;
		else if (!sv_eq_nocase(v[F_USERHASH], no))
			return EBADMSG;
	}
	hexlen = alg_hexlen(c->alg);
	if (v[F_RESPONSE].len != hexlen ||
	    util_unhex(v[F_RESPONSE].p, hexlen, resp, hexlen / 2) != 0)
		return EBADMSG;
	c->username = v[F_USERNAME];
	c->realm = v[F_REALM];
	c->nonce = v[F_NONCE];
	c->uri = v[F_URI];
	c->response = v[F_RESPONSE];
	c->cnonce = v[F_CNONCE];
	c->opaque = v[F_OPAQUE];
	c->qop_text = v[F_QOP];
	c->nc_text = v[F_NC];
	return 0;
}

/* Parses name=value auth-params from c to its end into v[] (see
 * sip_digest_parse for the rules). Returns 0, EBADMSG or EMSGSIZE. */
static int
params_parse(struct cur *c, char *buf, size_t size, struct sv *v)
{
	size_t nparams = 0, used = 0;
	unsigned seen = 0;

	for (;;) {
		struct sv name, val;
		bool escaped = false;
		int f, err;

		if ((err = cur_token(c, &name)) != 0)
			return err;
		if (++nparams > SIP_DIGEST_PARAMS_MAX)
			return EMSGSIZE;
		cur_sws(c);
		if (c->p == c->end || *c->p != '=')
			return EBADMSG;
		c->p++;
		cur_sws(c);
		if (c->p < c->end && *c->p == '"')
			err = cur_quoted(c, &val, &escaped);
		else
			err = cur_token(c, &val);
		if (err != 0)
			return err;
		if ((f = field_find(name)) >= 0) {
			if (seen & 1u << f)
				return EBADMSG; /* duplicated */
			seen |= 1u << f;
			if (!escaped)
				v[f] = val;
			else if (f >= F_TOKEN_LIKE)
				return EBADMSG;
			else if ((err = unescape(
			              val, buf, size, &used, &v[f])) != 0)
				return err;
		}
		cur_sws(c);
		if (c->p == c->end)
			return 0;
		if (*c->p != ',')
			return EBADMSG;
		c->p++;
		cur_sws(c);
	}
}

int
sip_digest_parse(const char *p, size_t len, char *buf, size_t size,
    struct sip_digest_cred *c)
{
	static const struct sv digest = {"Digest", 6};
	struct sip_digest_cred out;
	struct sv v[F_COUNT], scheme;
	struct cur cur;
	int err;

	if (p == NULL || c == NULL)
		return EINVAL;
	cur.p = p;
	cur.end = p + len;
	if (buf == NULL)
		size = 0;
	memset(v, 0, sizeof(v));
	cur_sws(&cur);
	if ((err = cur_token(&cur, &scheme)) != 0)
		return err == EMSGSIZE ? EBADMSG : err;
	if (cur.p < cur.end && !is_wsp((unsigned char)*cur.p) &&
	    *cur.p != '\r' && *cur.p != '\n')
		return EBADMSG; /* "Digest=", "Digest," ... */
	if (!sv_eq_nocase(scheme, digest))
		return EPROTONOSUPPORT;
	cur_sws(&cur); /* a line end without LWS stays, and fails below */
	if ((err = params_parse(&cur, buf, size, v)) != 0)
		return err;
	if ((err = cred_fill(v, &out)) != 0)
		return err;
	*c = out;
	return 0;
}

/* Hashes the n parts joined by ':' with md into out (EVP_MD_size bytes).
 * Returns 1 on success, 0 when OpenSSL fails. */
static int
md_join(EVP_MD_CTX *ctx, const EVP_MD *md, const struct sv *parts, size_t n,
    unsigned char *out)
{
	unsigned int dlen = 0;
	int ok;
	size_t i;

	ok = EVP_DigestInit_ex(ctx, md, NULL);
	for (i = 0; i < n; i++) {
		if (i > 0)
			ok &= EVP_DigestUpdate(ctx, ":", 1);
		ok &= EVP_DigestUpdate(ctx, parts[i].p, parts[i].len);
	}
	ok &= EVP_DigestFinal_ex(ctx, out, &dlen);
	return ok && (int)dlen == EVP_MD_get_size(md);
}

/* Computes the expected response of c from ha1_hex and compares it with
 * c->response in constant time, setting *match. No branch depends on the
 * value of ha1_hex or of c->response: only on lengths, the algorithm and
 * the qop, which are public. Returns 0, EINVAL, ENOMEM or EIO. */
static int
digest_compute(const struct sip_digest_cred *c, const char *ha1_hex,
    struct sv method, struct sv body, bool *match)
{
	unsigned char want[DIGEST_MAX_BIN], got[EVP_MAX_MD_SIZE];
	char ha1s[DIGEST_MAX_HEX + 1], hbody[DIGEST_MAX_HEX + 1];
	char ha2[DIGEST_MAX_HEX + 1];
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	struct sv parts[6], ha1;
	size_t hexlen, dlen;
	int ok = 1, err = 0;

	if (c == NULL || ha1_hex == NULL || method.p == NULL ||
	    method.len == 0 || match == NULL || !alg_valid(c->alg) ||
	    (body.p == NULL && body.len != 0))
		return EINVAL;
	hexlen = alg_hexlen(c->alg);
	dlen = hexlen / 2;
	md = hexlen == SIP_DIGEST_SHA256_HEX ? EVP_sha256() : EVP_md5();
	if (strnlen(ha1_hex, hexlen + 1) != hexlen ||
	    c->response.len != hexlen ||
	    util_unhex(c->response.p, hexlen, want, dlen) != 0)
		return EINVAL;
	if ((c->qop != SIP_DIGEST_QOP_NONE &&
	        (c->cnonce.len == 0 || c->nc_text.len != NC_LEN ||
	            c->qop_text.len == 0)) ||
	    (alg_sess(c->alg) && c->cnonce.len == 0) ||
	    (unsigned)c->qop > SIP_DIGEST_QOP_AUTH_INT)
		return EINVAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return ENOMEM;

	ha1.p = ha1_hex;
	ha1.len = hexlen;
	if (alg_sess(c->alg)) {
		/* HA1' = H(HA1:nonce:cnonce) */
		parts[0] = ha1;
		parts[1] = c->nonce;
		parts[2] = c->cnonce;
		ok &= md_join(ctx, md, parts, 3, got);
		util_hex(got, dlen, ha1s);
		ha1.p = ha1s;
	}
	/* HA2 = H(method:uri), or H(method:uri:H(body)) with auth-int */
	parts[0] = method;
	parts[1] = c->uri;
	if (c->qop == SIP_DIGEST_QOP_AUTH_INT) {
		parts[2] = body;
		ok &= md_join(ctx, md, &parts[2], 1, got);
		util_hex(got, dlen, hbody);
		parts[2].p = hbody;
		parts[2].len = hexlen;
		ok &= md_join(ctx, md, parts, 3, got);
	} else {
		ok &= md_join(ctx, md, parts, 2, got);
	}
	util_hex(got, dlen, ha2);
	/* H(HA1:nonce:nc:cnonce:qop:HA2), or H(HA1:nonce:HA2) without qop */
	parts[0] = ha1;
	parts[1] = c->nonce;
	if (c->qop != SIP_DIGEST_QOP_NONE) {
		parts[2] = c->nc_text;
		parts[3] = c->cnonce;
		parts[4] = c->qop_text;
		parts[5].p = ha2;
		parts[5].len = hexlen;
		ok &= md_join(ctx, md, parts, 6, got);
	} else {
		parts[2].p = ha2;
		parts[2].len = hexlen;
		ok &= md_join(ctx, md, parts, 3, got);
	}
	if (!ok) {
		err = EIO;
		goto out;
	}
	*match = CRYPTO_memcmp(got, want, dlen) == 0;
out:
	EVP_MD_CTX_free(ctx);
	explicit_bzero(ha1s, sizeof(ha1s));
	explicit_bzero(got, sizeof(got));
	explicit_bzero(ha2, sizeof(ha2));
	return err;
}

int
sip_digest_verify(const struct sip_digest_cred *c, const char *ha1_hex,
    struct sv method, struct sv body, bool *ok)
{
	bool match = false;
	int err;

	if ((err = digest_compute(c, ha1_hex, method, body, &match)) != 0)
		return err;
	*ok = match;
	return 0;
}

int
sip_digest_verify_unknown(const struct sip_digest_cred *c,
    const char *dummy_ha1_hex, struct sv method, struct sv body, bool *ok)
{
	bool match = false;
	int err;

	if ((err = digest_compute(c, dummy_ha1_hex, method, body, &match)) != 0)
		return err;
	*ok = false; /* whatever the dummy matched */
	return 0;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url of the NONCE_BIN_LEN bytes of in, without padding, into out
 * (SIP_NONCE_LEN characters, no NUL). */
static void
nonce_encode(const unsigned char *in, char *out)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	for (i = 0; i < NONCE_BIN_LEN; i++) {
		acc = (acc << 8 | in[i]) & 0xffffff;
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[n++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[n++] = b64url[(acc << (6 - bits)) & 63];
}

static int
b64url_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

/* Decodes exactly SIP_NONCE_LEN characters of canonical base64url (the
 * unused low bits of the last character are zero, so one nonce has one
 * spelling) into out (NONCE_BIN_LEN bytes). Returns 0 or EBADMSG. */
static int
nonce_decode(struct sv in, unsigned char *out)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;

	if (in.p == NULL || in.len != SIP_NONCE_LEN)
		return EBADMSG;
	for (i = 0; i < in.len; i++) {
		int d = b64url_val((unsigned char)in.p[i]);

		if (d < 0)
			return EBADMSG;
		acc = (acc << 6 | (uint32_t)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) { /* 43 characters make exactly 32 bytes */
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (n != NONCE_BIN_LEN || (acc & ((1u << bits) - 1)) != 0)
		return EBADMSG;
	return 0;
}

/* The full HMAC-SHA256 over label || realm || time || rand into mac.
 * Returns 0, EINVAL or EIO. */
static int
nonce_mac(const unsigned char *secret, size_t secret_len, struct sv realm,
    const unsigned char *time_rand, unsigned char mac[DIGEST_MAX_BIN])
{
	unsigned char in[NONCE_MAC_IN_MAX];
	unsigned int maclen = 0;
	size_t n = 0;

	if (secret == NULL || secret_len == 0 || secret_len > INT_MAX ||
	    (realm.p == NULL && realm.len != 0) ||
	    realm.len > SIP_NONCE_REALM_MAX)
		return EINVAL;
	memcpy(in, nonce_label, NONCE_LABEL_LEN);
	n += NONCE_LABEL_LEN;
	if (realm.len > 0)
		memcpy(in + n, realm.p, realm.len);
	n += realm.len;
	memcpy(in + n, time_rand, NONCE_TIME_LEN + NONCE_RAND_LEN);
	n += NONCE_TIME_LEN + NONCE_RAND_LEN;
	if (HMAC(EVP_sha256(), secret, (int)secret_len, in, n, mac, &maclen) ==
	        NULL ||
	    maclen != DIGEST_MAX_BIN)
		return EIO;
	return 0;
}

int
sip_nonce_make(const unsigned char *secret, size_t secret_len, struct sv realm,
    int64_t now_s, const unsigned char rand8[8], char *out, size_t size)
{
	unsigned char bin[NONCE_BIN_LEN], mac[DIGEST_MAX_BIN];
	uint64_t t;
	int i, err;

	if (out == NULL || rand8 == NULL || now_s < 0)
		return EINVAL;
	if (size < SIP_NONCE_SIZE)
		return EMSGSIZE;
	t = (uint64_t)now_s;
	for (i = 0; i < NONCE_TIME_LEN; i++)
		bin[i] = (unsigned char)(t >> (8 * (NONCE_TIME_LEN - 1 - i)));
	memcpy(bin + NONCE_TIME_LEN, rand8, NONCE_RAND_LEN);
	if ((err = nonce_mac(secret, secret_len, realm, bin, mac)) != 0)
		goto out;
	memcpy(bin + NONCE_TIME_LEN + NONCE_RAND_LEN, mac, NONCE_MAC_LEN);
	nonce_encode(bin, out);
	out[SIP_NONCE_LEN] = '\0';
out:
	explicit_bzero(mac, sizeof(mac));
	return err;
}

enum sip_nonce_result
sip_nonce_check(const unsigned char *secret, size_t secret_len, struct sv realm,
    struct sv nonce, int64_t now_s, int64_t max_age_s, int64_t *issued_s)
{
	unsigned char bin[NONCE_BIN_LEN], mac[DIGEST_MAX_BIN];
	enum sip_nonce_result res = SIP_NONCE_BAD;
	uint64_t t = 0;
	int64_t issued;
	int i;

	if (nonce_decode(nonce, bin) != 0 ||
	    nonce_mac(secret, secret_len, realm, bin, mac) != 0)
		goto out;
	if (CRYPTO_memcmp(
	        mac, bin + NONCE_TIME_LEN + NONCE_RAND_LEN, NONCE_MAC_LEN) != 0)
		goto out;
	for (i = 0; i < NONCE_TIME_LEN; i++)
		t = t << 8 | bin[i];
	if (t > INT64_MAX)
		goto out;
	issued = (int64_t)t;
	/* issued >= 0, so neither subtraction below overflows */
	if (issued - SIP_NONCE_FUTURE_MAX > now_s)
		goto out;
	res = now_s - issued > max_age_s ? SIP_NONCE_STALE : SIP_NONCE_OK;
	if (issued_s != NULL)
		*issued_s = issued;
out:
	explicit_bzero(mac, sizeof(mac));
	return res;
}

/* An output buffer that records overflow instead of writing past size. */
struct wbuf {
	char *p;
	size_t size, len;
	bool over;
};

static void
wbuf_put(struct wbuf *w, const char *s, size_t n)
{
	if (w->over || w->size - w->len <= n) { /* keep room for the NUL */
		w->over = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void
wbuf_str(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

/* Writes v as a quoted-string, escaping '"' and '\'. Returns 0, or EINVAL
 * when v holds a byte a quoted-string cannot carry. */
static int
wbuf_quoted(struct wbuf *w, struct sv v)
{
	size_t i;

	if (v.p == NULL && v.len != 0)
		return EINVAL;
	wbuf_put(w, "\"", 1);
	for (i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];

		if (!is_qchar(ch))
			return EINVAL;
		if (ch == '"' || ch == '\\')
			wbuf_put(w, "\\", 1);
		wbuf_put(w, &v.p[i], 1);
	}
	wbuf_put(w, "\"", 1);
	return 0;
}

int
sip_digest_challenge(char *buf, size_t size, struct sv realm, struct sv nonce,
    enum sip_digest_alg alg, bool stale, const struct sv *opaque)
{
	struct wbuf w = {buf, size, 0, false};
	int err;

	if (buf == NULL || size == 0 || !alg_valid(alg) || realm.len == 0 ||
	    nonce.len == 0)
		return EINVAL;
	wbuf_str(&w, "Digest realm=");
	if ((err = wbuf_quoted(&w, realm)) != 0)
		goto out;
	wbuf_str(&w, ", nonce=");
	if ((err = wbuf_quoted(&w, nonce)) != 0)
		goto out;
	if (opaque != NULL) {
		wbuf_str(&w, ", opaque=");
		if ((err = wbuf_quoted(&w, *opaque)) != 0)
			goto out;
	}
	wbuf_str(&w, ", algorithm=");
	wbuf_put(&w, alg_names[alg].p, alg_names[alg].len);
	wbuf_str(&w, ", qop=\"auth\"");
	if (stale)
		wbuf_str(&w, ", stale=true");
	if (w.over)
		err = EMSGSIZE;
out:
	buf[err == 0 ? w.len : 0] = '\0';
	return err;
}
