/* uri.h: SIP, SIPS and tel URIs (RFC 3261 19.1, RFC 3966), IPv6 references
 * (RFC 5118), and other schemes kept opaque. Zero-copy: every view points
 * into the parsed text. */
#ifndef SW_SIP_URI_H
#define SW_SIP_URI_H

#include "sip/sip.h"

enum sip_uri_scheme {
	SIP_URI_OTHER = 0, /* any other absoluteURI: see opaque */
	SIP_URI_SIP,
	SIP_URI_SIPS,
	SIP_URI_TEL
};

enum sip_host_type {
	SIP_HOST_NONE = 0,
	SIP_HOST_NAME, /* a hostname */
	SIP_HOST_IPV4, /* dotted quad */
	SIP_HOST_IPV6  /* an IPv6 reference: the view includes the [ ] */
};

/* A parsed URI. For sip/sips: user, password, host, port, params, headers.
 * For tel: user holds the telephone-subscriber number, params its
 * parameters; host is empty. For other schemes only scheme_name and opaque
 * are set. Escapes (%XX) are left as written; see sip_uri_unescape(). */
struct sip_uri {
	enum sip_uri_scheme scheme;
	struct sv text;        /* the whole URI */
	struct sv scheme_name; /* as written, without ':' */
	struct sv opaque;      /* everything after "scheme:" */
	struct sv user;        /* userinfo user part, may be empty */
	struct sv password;    /* after the first ':' of userinfo */
	struct sv host;        /* IPv6 with brackets */
	struct sv params;      /* ";a=b;c" from the first ';', or empty */
	struct sv headers;     /* "a=b&c=d" after '?', or empty */
	/* Known uri-parameters (empty views when absent). */
	struct sv transport, user_param, method, maddr;
	enum sip_host_type host_type;
	uint16_t port; /* 0 when no port was written */
	uint8_t ttl;
	uint8_t nparams;
	bool has_user; /* an '@' was present */
	bool has_password;
	bool has_port;
	bool has_ttl;
	bool lr;
};

/* Parses all of [p, p+len) as a URI. Returns 0, EBADMSG when malformed,
 * EMSGSIZE past SIP_URI_MAX bytes, SIP_PARAMS_MAX parameters or
 * SIP_PARAMS_MAX headers. *u is written on success only. */
int sip_uri_parse(const char *p, size_t len, struct sip_uri *u);

/* Parses a URI written as an addr-spec in a header field (not between < >),
 * where RFC 3261 20 says ';' starts header parameters: the URI stops
 * before the first ';', '?', ',' or LWS after its host (and port); for
 * tel: and other schemes, before the first ';', ',' or LWS. Sets *used
 * to the bytes taken. Errors as sip_uri_parse(). */
int sip_uri_parse_addrspec(
    const char *p, size_t len, struct sip_uri *u, size_t *used);

/* Finds the uri-parameter name (case-insensitive) of u. Returns 0 and sets
 * *val (an empty view for a parameter without value, e.g. "lr"), or ENOENT.
 * *val is written on success only. */
int sip_uri_param(const struct sip_uri *u, const char *name, struct sv *val);

/* Finds the URI header name (case-insensitive) in u->headers; as above. */
int sip_uri_header(const struct sip_uri *u, const char *name, struct sv *val);

/* Decodes the %XX escapes of in into out (size bytes; no NUL is added).
 * Returns 0 and sets *outlen, EBADMSG on a '%' not followed by two hex
 * digits, EMSGSIZE when out is too small. Decoded bytes may be NUL. */
int sip_uri_unescape(struct sv in, char *out, size_t size, size_t *outlen);

/* Compares two URIs as RFC 3261 19.1.4 says: same scheme; user and
 * password byte for byte after decoding escapes of unreserved characters;
 * host case-insensitively; port present in both or neither and equal;
 * transport, user, ttl, method and maddr present in both or neither and
 * equal; other parameters equal when in both; headers all present in both
 * and equal. tel: compares numbers without visual separators and
 * parameters as above; other schemes compare their text case-sensitively
 * but for the scheme. No DNS. */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Checks that host is a hostname, an IPv4 address or an IPv6 reference
 * ("[...]", RFC 5118). Returns 0 and sets *type, or EBADMSG. */
int sip_host_check(struct sv host, enum sip_host_type *type);

/* Checks a bare IPv6 address (no brackets). Returns true when valid. */
bool sip_ipv6_check(const char *p, size_t len);

#endif
