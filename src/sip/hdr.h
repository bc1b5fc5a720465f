/* hdr.h: header field values of RFC 3261 20: Via, name-addr (From, To,
 * Contact, Route, Record-Route, ...), CSeq, numbers, Call-ID, parameter
 * lists, quoted strings, comma-separated lists.
 *
 * A value is a view of the raw header value: it may hold folds (CRLF
 * followed by SP or HT), which these parsers treat as LWS. Every result
 * views the input; nothing is copied or allocated. */
#ifndef SW_SIP_HDR_H
#define SW_SIP_HDR_H

#include "sip/sip.h"
#include "sip/uri.h"

/* One name-addr or addr-spec with its header parameters. */
struct sip_nameaddr {
	struct sv value;   /* the whole element as written, trimmed */
	struct sv display; /* quoted: the text between the quotes (quoted
	                      pairs kept); token form: the tokens; or empty */
	struct sv params;  /* ";a=b;c" from the first ';' (raw, may hold LWS) */
	struct sv tag;     /* the tag parameter, empty when absent */
	struct sip_uri uri;
	uint8_t nparams;
	bool display_quoted;
	bool bracketed; /* written as <uri> */
	bool has_tag;
};

/* One via-parm. */
struct sip_via {
	struct sv value; /* the whole via-parm as written, trimmed */
	struct sv proto_name, proto_version, transport_name;
	struct sv host;   /* sent-by host; IPv6 with [ ] */
	struct sv params; /* from the first ';' (raw, may hold LWS) */
	struct sv branch, received, maddr;
	enum sip_transport transport;
	enum sip_host_type host_type;
	uint16_t port; /* 0 when absent */
	uint16_t rport_value;
	uint8_t ttl;
	uint8_t nparams;
	bool has_port;
	bool has_branch;
	bool branch_rfc3261; /* branch is "z9hG4bK" and at least one more
	                        character (RFC 3261 8.1.1.7); otherwise the
	                        transaction is matched the RFC 2543 way */
	bool rport;          /* rport present, with or without a value */
	bool has_rport_value;
	bool has_received;
	bool has_maddr;
	bool has_ttl;
};

/* One Contact value (not '*'). */
struct sip_contact {
	struct sip_nameaddr na;
	struct sv instance; /* +sip.instance without the quotes, or empty */
	uint32_t expires;   /* saturates at SIP_DELTA_MAX */
	uint32_t reg_id;
	uint16_t q; /* q-value times 1000 */
	bool has_expires;
	bool has_q;
	bool has_reg_id;
};

/* Parses the comma-separated via-parms of a Via value into v[*n],
 * v[*n + 1], ... and advances *n. Returns 0, EBADMSG, or EMSGSIZE when
 * more than max values or SIP_PARAMS_MAX parameters. */
int sip_via_parse(struct sv value, struct sip_via *v, size_t max, size_t *n);

/* Parses a value holding exactly one name-addr or addr-spec (From, To,
 * Refer-To, ...). Returns 0, EBADMSG or EMSGSIZE; *na is written on
 * success only. */
int sip_nameaddr_parse(struct sv value, struct sip_nameaddr *na);

/* Takes the next element of a comma-separated list of name-addr/addr-spec
 * (Route, Record-Route, Path, Contact) from *rest and advances *rest past
 * it and its comma. Returns 0, ENOENT when *rest holds no more elements,
 * EBADMSG or EMSGSIZE. */
int sip_nameaddr_next(struct sv *rest, struct sip_nameaddr *na);

/* Parses the Contact values of a header value into c[*n], ... (advancing
 * *n) or sets *star for "*" (which must be the value's only element).
 * Returns 0, EBADMSG, or EMSGSIZE past max values. */
int sip_contact_parse(
    struct sv value, struct sip_contact *c, size_t max, size_t *n, bool *star);

/* CSeq: a number up to SIP_CSEQ_MAX, LWS, a method token. */
int sip_cseq_parse(struct sv value, uint32_t *num, struct sv *method);

/* A decimal number, LWS around it allowed, no larger than max. Returns 0
 * or EBADMSG (not digits, or larger than max). */
int sip_uint_parse(struct sv value, uint64_t max, uint64_t *out);

/* delta-seconds, LWS around it allowed; larger values saturate at
 * SIP_DELTA_MAX. Returns 0 or EBADMSG. */
int sip_delta_parse(struct sv value, uint32_t *out);

/* Checks a Call-ID (word ["@" word]) and sets *id to it without LWS. */
int sip_callid_parse(struct sv value, struct sv *id);

/* Finds the parameter name (case-insensitive) in params (as stored in the
 * structs above). Returns 0 and sets *val (the text between the quotes of
 * a quoted value; empty without a value) or ENOENT. */
int sip_param_find(struct sv params, const char *name, struct sv *val);

/* Takes the next parameter of params (as stored in the structs above) and
 * advances *params past it. Sets *name, *val (as sip_param_find()) and
 * *text (the parameter as written, from its name to the end of its value).
 * Returns 0, ENOENT at the end, or EBADMSG. */
int sip_param_next(
    struct sv *params, struct sv *name, struct sv *val, struct sv *text);

/* Takes the next token of a comma-separated token list (Require,
 * Supported, Allow, ...) from *rest. Returns 0, ENOENT at the end, or
 * EBADMSG. */
int sip_token_next(struct sv *rest, struct sv *token);

/* Decodes the quoted-pairs of the inside of a quoted string (as in
 * struct sip_nameaddr.display) into out. Returns 0 and sets *outlen, or
 * EMSGSIZE when out is too small. */
int sip_quoted_unescape(struct sv in, char *out, size_t size, size_t *outlen);

/* Trims LWS (SP, HT, CR, LF) from both ends of v. */
struct sv sip_sv_trim(struct sv v);

#endif
