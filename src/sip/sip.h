/* sip.h: what every part of the SIP parser shares: the limits (all of them,
 * in one place), the method, transport and header enums, and the errors.
 *
 * src/sip/ does no I/O, no logging, keeps no globals and allocates nothing:
 * the caller provides every result structure, and every struct sv in a
 * result points into the caller's buffer (it owns nothing and must not
 * outlive that buffer).
 *
 * Errors (positive errno codes, 0 on success):
 *   EBADMSG          malformed input (answer 400 to a request, drop a response)
 *   EMSGSIZE         a limit below was passed (answer 513 or drop)
 *   ENODATA          a stream frame is not complete yet (read more)
 *   EPROTONOSUPPORT  a SIP version other than 2.0 (answer 505)
 *   EINVAL           a bad argument from our own code (builder)
 */
#ifndef SW_SIP_SIP_H
#define SW_SIP_SIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

enum {
	SIP_MSG_MAX = 65535,         /* bytes in one message, body included */
	SIP_HDRS_MAX = 128,          /* header lines in one message */
	SIP_HDR_LINE_MAX = 4096,     /* bytes of one header, folds included */
	SIP_VIA_MAX = 64,            /* Via values, all Via headers together */
	SIP_CONTACT_MAX = 16,        /* Contact values, all headers together */
	SIP_URI_MAX = 1024,          /* bytes of one URI */
	SIP_PARAMS_MAX = 32,         /* parameters of one element */
	SIP_PREAUTH_BODY_MAX = 4096, /* body bytes accepted before auth */
	SIP_CSEQ_MAX = 2147483647,   /* 2^31 - 1, RFC 3261 8.1.1.5 */
	SIP_MAX_FORWARDS_MAX = 255   /* RFC 3261 20.22 */
};

#define SIP_DELTA_MAX UINT32_MAX /* delta-seconds saturate here */

/* Request methods. SIP_METHOD_UNKNOWN is any other token: the name is in
 * the message (struct sip_msg.method_name). */
enum sip_method {
	SIP_METHOD_UNKNOWN = 0,
	SIP_METHOD_INVITE,
	SIP_METHOD_ACK,
	SIP_METHOD_BYE,
	SIP_METHOD_CANCEL,
	SIP_METHOD_OPTIONS,
	SIP_METHOD_REGISTER,
	SIP_METHOD_PRACK,
	SIP_METHOD_SUBSCRIBE,
	SIP_METHOD_NOTIFY,
	SIP_METHOD_PUBLISH,
	SIP_METHOD_INFO,
	SIP_METHOD_REFER,
	SIP_METHOD_MESSAGE,
	SIP_METHOD_UPDATE
};

/* Via transports. SIP_TRANSPORT_OTHER is any other token (RFC 3261 allows
 * extensions); the name is in struct sip_via.transport_name. */
enum sip_transport {
	SIP_TRANSPORT_OTHER = 0,
	SIP_TRANSPORT_UDP,
	SIP_TRANSPORT_TCP,
	SIP_TRANSPORT_TLS,
	SIP_TRANSPORT_SCTP,
	SIP_TRANSPORT_WS,
	SIP_TRANSPORT_WSS
};

/* Header ids. Compact forms map to the same id. SIP_HDR_OTHER is any
 * header we do not name. */
enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
	SIP_HDR_ACCEPT,
	SIP_HDR_ACCEPT_CONTACT,
	SIP_HDR_ACCEPT_ENCODING,
	SIP_HDR_ACCEPT_LANGUAGE,
	SIP_HDR_ALERT_INFO,
	SIP_HDR_ALLOW,
	SIP_HDR_ALLOW_EVENTS,
	SIP_HDR_AUTHENTICATION_INFO,
	SIP_HDR_AUTHORIZATION,
	SIP_HDR_CALL_ID,
	SIP_HDR_CALL_INFO,
	SIP_HDR_CONTACT,
	SIP_HDR_CONTENT_DISPOSITION,
	SIP_HDR_CONTENT_ENCODING,
	SIP_HDR_CONTENT_LANGUAGE,
	SIP_HDR_CONTENT_LENGTH,
	SIP_HDR_CONTENT_TYPE,
	SIP_HDR_CSEQ,
	SIP_HDR_DATE,
	SIP_HDR_ERROR_INFO,
	SIP_HDR_EVENT,
	SIP_HDR_EXPIRES,
	SIP_HDR_FROM,
	SIP_HDR_IDENTITY,
	SIP_HDR_IDENTITY_INFO,
	SIP_HDR_IN_REPLY_TO,
	SIP_HDR_MAX_FORWARDS,
	SIP_HDR_MIME_VERSION,
	SIP_HDR_MIN_EXPIRES,
	SIP_HDR_MIN_SE,
	SIP_HDR_ORGANIZATION,
	SIP_HDR_P_ASSERTED_IDENTITY,
	SIP_HDR_P_PREFERRED_IDENTITY,
	SIP_HDR_PATH,
	SIP_HDR_PRIORITY,
	SIP_HDR_PRIVACY,
	SIP_HDR_PROXY_AUTHENTICATE,
	SIP_HDR_PROXY_AUTHORIZATION,
	SIP_HDR_PROXY_REQUIRE,
	SIP_HDR_RACK,
	SIP_HDR_REASON,
	SIP_HDR_RECORD_ROUTE,
	SIP_HDR_REFER_TO,
	SIP_HDR_REFERRED_BY,
	SIP_HDR_REJECT_CONTACT,
	SIP_HDR_REPLACES,
	SIP_HDR_REPLY_TO,
	SIP_HDR_REQUEST_DISPOSITION,
	SIP_HDR_REQUIRE,
	SIP_HDR_RETRY_AFTER,
	SIP_HDR_ROUTE,
	SIP_HDR_RSEQ,
	SIP_HDR_SERVER,
	SIP_HDR_SESSION_EXPIRES,
	SIP_HDR_SUBJECT,
	SIP_HDR_SUBSCRIPTION_STATE,
	SIP_HDR_SUPPORTED,
	SIP_HDR_TIMESTAMP,
	SIP_HDR_TO,
	SIP_HDR_UNSUPPORTED,
	SIP_HDR_USER_AGENT,
	SIP_HDR_VIA,
	SIP_HDR_WARNING,
	SIP_HDR_WWW_AUTHENTICATE,
	SIP_HDR__COUNT
};

/* Character classes of RFC 3261 25.1, one bit each, for sip_ctype[]. */
enum {
	SIP_C_ALNUM = 1 << 0,    /* ALPHA / DIGIT */
	SIP_C_MARK = 1 << 1,     /* - _ . ! ~ * ' ( ) */
	SIP_C_TOKEN = 1 << 2,    /* token characters */
	SIP_C_WORD = 1 << 3,     /* word characters (Call-ID) */
	SIP_C_USER = 1 << 4,     /* user-unreserved */
	SIP_C_PASS = 1 << 5,     /* password extras: & = + $ , */
	SIP_C_PARAM = 1 << 6,    /* param-unreserved */
	SIP_C_HNV = 1 << 7,      /* hnv-unreserved */
	SIP_C_RESERVED = 1 << 8, /* reserved */
	SIP_C_HOST = 1 << 9,     /* hostname characters: alphanum - . */
	SIP_C_CTL = 1 << 10,     /* control characters but HT, and DEL */
	SIP_C_LWS = 1 << 11,     /* SP HT CR LF */
	SIP_C_HEX = 1 << 12,     /* HEXDIG */
	SIP_C_DIGIT = 1 << 13    /* DIGIT */
};

/* The class bits of each byte (constant data, defined in msg.c). */
extern const uint16_t sip_ctype[256];

static inline bool
sip_is(unsigned char c, unsigned cls)
{
	return (sip_ctype[c] & cls) != 0;
}

/* Compares a[0..alen) with the NUL-terminated b, ignoring ASCII case. */
bool sip_sv_eq_nocase(const char *a, size_t alen, const char *b);

/* The same against a string literal, with the length compared first. */
#define SIP_SV_IS(p, len, lit)                                                 \
	((len) == sizeof(lit) - 1 && sip_sv_eq_nocase((p), (len), (lit)))

/* Maps a method name (case-sensitive, as RFC 3261 7.1 says) to its enum;
 * SIP_METHOD_UNKNOWN for any other name. */
enum sip_method sip_method_from_name(const char *p, size_t len);

/* The canonical name of a known method; NULL for SIP_METHOD_UNKNOWN. */
const char *sip_method_name(enum sip_method m);

/* Maps a header name (case-insensitive, compact forms included) to its id;
 * SIP_HDR_OTHER for any other name. */
enum sip_hdr_id sip_hdr_id_from_name(const char *p, size_t len);

/* The canonical (long) name of a header id; NULL for SIP_HDR_OTHER. */
const char *sip_hdr_name(enum sip_hdr_id id);

/* The default reason phrase of a status code ("" when we know none). */
const char *sip_reason_phrase(unsigned code);

#endif
