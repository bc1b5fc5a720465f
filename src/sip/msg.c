/* msg.c: see msg.h. Also the character table and name tables of sip.h. */
#include "sip/msg.h"

#include <errno.h>
#include <string.h>

/* clang-format off */
const uint16_t sip_ctype[256] = {
	[0x00] = SIP_C_CTL, /* 0x00 */
	[0x01] = SIP_C_CTL, /* 0x01 */
	[0x02] = SIP_C_CTL, /* 0x02 */
	[0x03] = SIP_C_CTL, /* 0x03 */
	[0x04] = SIP_C_CTL, /* 0x04 */
	[0x05] = SIP_C_CTL, /* 0x05 */
	[0x06] = SIP_C_CTL, /* 0x06 */
	[0x07] = SIP_C_CTL, /* 0x07 */
	[0x08] = SIP_C_CTL, /* 0x08 */
	[0x09] = SIP_C_LWS, /* 0x09 */
	[0x0a] = SIP_C_CTL|SIP_C_LWS, /* 0x0a */
	[0x0b] = SIP_C_CTL, /* 0x0b */
	[0x0c] = SIP_C_CTL, /* 0x0c */
	[0x0d] = SIP_C_CTL|SIP_C_LWS, /* 0x0d */
	[0x0e] = SIP_C_CTL, /* 0x0e */
	[0x0f] = SIP_C_CTL, /* 0x0f */
	[0x10] = SIP_C_CTL, /* 0x10 */
	[0x11] = SIP_C_CTL, /* 0x11 */
	[0x12] = SIP_C_CTL, /* 0x12 */
	[0x13] = SIP_C_CTL, /* 0x13 */
	[0x14] = SIP_C_CTL, /* 0x14 */
	[0x15] = SIP_C_CTL, /* 0x15 */
	[0x16] = SIP_C_CTL, /* 0x16 */
	[0x17] = SIP_C_CTL, /* 0x17 */
	[0x18] = SIP_C_CTL, /* 0x18 */
	[0x19] = SIP_C_CTL, /* 0x19 */
	[0x1a] = SIP_C_CTL, /* 0x1a */
	[0x1b] = SIP_C_CTL, /* 0x1b */
	[0x1c] = SIP_C_CTL, /* 0x1c */
	[0x1d] = SIP_C_CTL, /* 0x1d */
	[0x1e] = SIP_C_CTL, /* 0x1e */
	[0x1f] = SIP_C_CTL, /* 0x1f */
	[0x20] = SIP_C_LWS, /* ' ' */
	[0x21] = SIP_C_MARK|SIP_C_TOKEN|SIP_C_WORD, /* '!' */
	[0x22] = SIP_C_WORD, /* '"' */
	[0x24] = SIP_C_USER|SIP_C_PASS|SIP_C_PARAM|SIP_C_HNV|SIP_C_RESERVED, /* '$' */
	[0x25] = SIP_C_TOKEN|SIP_C_WORD, /* '%' */
	[0x26] = SIP_C_USER|SIP_C_PASS|SIP_C_PARAM|SIP_C_RESERVED, /* '&' */
	[0x27] = SIP_C_MARK|SIP_C_TOKEN|SIP_C_WORD, /* "'" */
	[0x28] = SIP_C_MARK|SIP_C_WORD, /* '(' */
	[0x29] = SIP_C_MARK|SIP_C_WORD, /* ')' */
	[0x2a] = SIP_C_MARK|SIP_C_TOKEN|SIP_C_WORD, /* '*' */
	[0x2b] = SIP_C_TOKEN|SIP_C_WORD|SIP_C_USER|SIP_C_PASS|SIP_C_PARAM|SIP_C_HNV|SIP_C_RESERVED, /* '+' */
	[0x2c] = SIP_C_USER|SIP_C_PASS|SIP_C_RESERVED, /* ',' */
	[0x2d] = SIP_C_MARK|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* '-' */
	[0x2e] = SIP_C_MARK|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* '.' */
	[0x2f] = SIP_C_WORD|SIP_C_USER|SIP_C_PARAM|SIP_C_HNV|SIP_C_RESERVED, /* '/' */
	[0x30] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '0' */
	[0x31] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '1' */
	[0x32] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '2' */
	[0x33] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '3' */
	[0x34] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '4' */
	[0x35] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '5' */
	[0x36] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '6' */
	[0x37] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '7' */
	[0x38] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '8' */
	[0x39] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX|SIP_C_DIGIT, /* '9' */
	[0x3a] = SIP_C_WORD|SIP_C_PARAM|SIP_C_HNV|SIP_C_RESERVED, /* ':' */
	[0x3b] = SIP_C_USER|SIP_C_RESERVED, /* ';' */
	[0x3c] = SIP_C_WORD, /* '<' */
	[0x3d] = SIP_C_USER|SIP_C_PASS|SIP_C_RESERVED, /* '=' */
	[0x3e] = SIP_C_WORD, /* '>' */
	[0x3f] = SIP_C_WORD|SIP_C_USER|SIP_C_HNV|SIP_C_RESERVED, /* '?' */
	[0x40] = SIP_C_RESERVED, /* '@' */
	[0x41] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'A' */
	[0x42] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'B' */
	[0x43] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'C' */
	[0x44] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'D' */
	[0x45] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'E' */
	[0x46] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'F' */
	[0x47] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'G' */
	[0x48] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'H' */
	[0x49] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'I' */
	[0x4a] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'J' */
	[0x4b] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'K' */
	[0x4c] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'L' */
	[0x4d] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'M' */
	[0x4e] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'N' */
	[0x4f] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'O' */
	[0x50] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'P' */
	[0x51] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'Q' */
	[0x52] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'R' */
	[0x53] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'S' */
	[0x54] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'T' */
	[0x55] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'U' */
	[0x56] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'V' */
	[0x57] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'W' */
	[0x58] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'X' */
	[0x59] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'Y' */
	[0x5a] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'Z' */
	[0x5b] = SIP_C_WORD|SIP_C_PARAM|SIP_C_HNV, /* '[' */
	[0x5c] = SIP_C_WORD, /* '\\' */
	[0x5d] = SIP_C_WORD|SIP_C_PARAM|SIP_C_HNV, /* ']' */
	[0x5f] = SIP_C_MARK|SIP_C_TOKEN|SIP_C_WORD, /* '_' */
	[0x60] = SIP_C_TOKEN|SIP_C_WORD, /* '`' */
	[0x61] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'a' */
	[0x62] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'b' */
	[0x63] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'c' */
	[0x64] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'd' */
	[0x65] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'e' */
	[0x66] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST|SIP_C_HEX, /* 'f' */
	[0x67] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'g' */
	[0x68] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'h' */
	[0x69] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'i' */
	[0x6a] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'j' */
	[0x6b] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'k' */
	[0x6c] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'l' */
	[0x6d] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'm' */
	[0x6e] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'n' */
	[0x6f] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'o' */
	[0x70] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'p' */
	[0x71] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'q' */
	[0x72] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'r' */
	[0x73] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 's' */
	[0x74] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 't' */
	[0x75] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'u' */
	[0x76] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'v' */
	[0x77] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'w' */
	[0x78] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'x' */
	[0x79] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'y' */
	[0x7a] = SIP_C_ALNUM|SIP_C_TOKEN|SIP_C_WORD|SIP_C_HOST, /* 'z' */
	[0x7b] = SIP_C_WORD, /* '{' */
	[0x7d] = SIP_C_WORD, /* '}' */
	[0x7e] = SIP_C_MARK|SIP_C_TOKEN|SIP_C_WORD, /* '~' */
	[0x7f] = SIP_C_CTL, /* 0x7f */
};
/* clang-format on */

bool
sip_sv_eq_nocase(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x == y) {
			if (y == '\0')
				return false;
		} else if ((x ^ y) != 0x20 ||
		           (unsigned char)((x | 0x20) - 'a') > 'z' - 'a') {
			return false;
		}
	}
	return b[alen] == '\0';
}

static const char *const method_names[] = {
    [SIP_METHOD_INVITE] = "INVITE",
    [SIP_METHOD_ACK] = "ACK",
    [SIP_METHOD_BYE] = "BYE",
    [SIP_METHOD_CANCEL] = "CANCEL",
    [SIP_METHOD_OPTIONS] = "OPTIONS",
    [SIP_METHOD_REGISTER] = "REGISTER",
    [SIP_METHOD_PRACK] = "PRACK",
    [SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
    [SIP_METHOD_NOTIFY] = "NOTIFY",
    [SIP_METHOD_PUBLISH] = "PUBLISH",
    [SIP_METHOD_INFO] = "INFO",
    [SIP_METHOD_REFER] = "REFER",
    [SIP_METHOD_MESSAGE] = "MESSAGE",
    [SIP_METHOD_UPDATE] = "UPDATE",
};

enum sip_method
sip_method_from_name(const char *p, size_t len)
{
	size_t i;

	for (i = 1; i < ARRAY_LEN(method_names); i++)
		if (strlen(method_names[i]) == len &&
		    memcmp(method_names[i], p, len) == 0)
			return (enum sip_method)i;
	return SIP_METHOD_UNKNOWN;
}

const char *
sip_method_name(enum sip_method m)
{
	if ((size_t)m >= ARRAY_LEN(method_names))
		return NULL;
	return method_names[m];
}

#define HN(id, name) [id] = {name, sizeof(name) - 1}

static const struct {
	const char *name;
	size_t len;
} hdr_names[SIP_HDR__COUNT] = {
    HN(SIP_HDR_ACCEPT, "Accept"),
    HN(SIP_HDR_ACCEPT_CONTACT, "Accept-Contact"),
    HN(SIP_HDR_ACCEPT_ENCODING, "Accept-Encoding"),
    HN(SIP_HDR_ACCEPT_LANGUAGE, "Accept-Language"),
    HN(SIP_HDR_ALERT_INFO, "Alert-Info"),
    HN(SIP_HDR_ALLOW, "Allow"),
    HN(SIP_HDR_ALLOW_EVENTS, "Allow-Events"),
    HN(SIP_HDR_AUTHENTICATION_INFO, "Authentication-Info"),
    HN(SIP_HDR_AUTHORIZATION, "Authorization"),
    HN(SIP_HDR_CALL_ID, "Call-ID"),
    HN(SIP_HDR_CALL_INFO, "Call-Info"),
    HN(SIP_HDR_CONTACT, "Contact"),
    HN(SIP_HDR_CONTENT_DISPOSITION, "Content-Disposition"),
    HN(SIP_HDR_CONTENT_ENCODING, "Content-Encoding"),
    HN(SIP_HDR_CONTENT_LANGUAGE, "Content-Language"),
    HN(SIP_HDR_CONTENT_LENGTH, "Content-Length"),
    HN(SIP_HDR_CONTENT_TYPE, "Content-Type"),
    HN(SIP_HDR_CSEQ, "CSeq"),
    HN(SIP_HDR_DATE, "Date"),
    HN(SIP_HDR_ERROR_INFO, "Error-Info"),
    HN(SIP_HDR_EVENT, "Event"),
    HN(SIP_HDR_EXPIRES, "Expires"),
    HN(SIP_HDR_FROM, "From"),
    HN(SIP_HDR_IDENTITY, "Identity"),
    HN(SIP_HDR_IDENTITY_INFO, "Identity-Info"),
    HN(SIP_HDR_IN_REPLY_TO, "In-Reply-To"),
    HN(SIP_HDR_MAX_FORWARDS, "Max-Forwards"),
    HN(SIP_HDR_MIME_VERSION, "MIME-Version"),
    HN(SIP_HDR_MIN_EXPIRES, "Min-Expires"),
    HN(SIP_HDR_MIN_SE, "Min-SE"),
    HN(SIP_HDR_ORGANIZATION, "Organization"),
    HN(SIP_HDR_P_ASSERTED_IDENTITY, "P-Asserted-Identity"),
    HN(SIP_HDR_P_PREFERRED_IDENTITY, "P-Preferred-Identity"),
    HN(SIP_HDR_PATH, "Path"),
    HN(SIP_HDR_PRIORITY, "Priority"),
    HN(SIP_HDR_PRIVACY, "Privacy"),
    HN(SIP_HDR_PROXY_AUTHENTICATE, "Proxy-Authenticate"),
    HN(SIP_HDR_PROXY_AUTHORIZATION, "Proxy-Authorization"),
    HN(SIP_HDR_PROXY_REQUIRE, "Proxy-Require"),
    HN(SIP_HDR_RACK, "RAck"),
    HN(SIP_HDR_REASON, "Reason"),
    HN(SIP_HDR_RECORD_ROUTE, "Record-Route"),
    HN(SIP_HDR_REFER_TO, "Refer-To"),
    HN(SIP_HDR_REFERRED_BY, "Referred-By"),
    HN(SIP_HDR_REJECT_CONTACT, "Reject-Contact"),
    HN(SIP_HDR_REPLACES, "Replaces"),
    HN(SIP_HDR_REPLY_TO, "Reply-To"),
    HN(SIP_HDR_REQUEST_DISPOSITION, "Request-Disposition"),
    HN(SIP_HDR_REQUIRE, "Require"),
    HN(SIP_HDR_RETRY_AFTER, "Retry-After"),
    HN(SIP_HDR_ROUTE, "Route"),
    HN(SIP_HDR_RSEQ, "RSeq"),
    HN(SIP_HDR_SERVER, "Server"),
    HN(SIP_HDR_SESSION_EXPIRES, "Session-Expires"),
    HN(SIP_HDR_SUBJECT, "Subject"),
    HN(SIP_HDR_SUBSCRIPTION_STATE, "Subscription-State"),
    HN(SIP_HDR_SUPPORTED, "Supported"),
    HN(SIP_HDR_TIMESTAMP, "Timestamp"),
    HN(SIP_HDR_TO, "To"),
    HN(SIP_HDR_UNSUPPORTED, "Unsupported"),
    HN(SIP_HDR_USER_AGENT, "User-Agent"),
    HN(SIP_HDR_VIA, "Via"),
    HN(SIP_HDR_WARNING, "Warning"),
    HN(SIP_HDR_WWW_AUTHENTICATE, "WWW-Authenticate"),
};

/* Compact forms (RFC 3261 7.3.3 and the RFCs that define the others). */
static enum sip_hdr_id
hdr_compact(unsigned char c)
{
	switch (c | 0x20) {
	case 'a':
		return SIP_HDR_ACCEPT_CONTACT;
	case 'b':
		return SIP_HDR_REFERRED_BY;
	case 'c':
		return SIP_HDR_CONTENT_TYPE;
	case 'd':
		return SIP_HDR_REQUEST_DISPOSITION;
	case 'e':
		return SIP_HDR_CONTENT_ENCODING;
	case 'f':
		return SIP_HDR_FROM;
	case 'i':
		return SIP_HDR_CALL_ID;
	case 'j':
		return SIP_HDR_REJECT_CONTACT;
	case 'k':
		return SIP_HDR_SUPPORTED;
	case 'l':
		return SIP_HDR_CONTENT_LENGTH;
	case 'm':
		return SIP_HDR_CONTACT;
	case 'n':
		return SIP_HDR_IDENTITY_INFO;
	case 'o':
		return SIP_HDR_EVENT;
	case 'r':
		return SIP_HDR_REFER_TO;
	case 's':
		return SIP_HDR_SUBJECT;
	case 't':
		return SIP_HDR_TO;
	case 'u':
		return SIP_HDR_ALLOW_EVENTS;
	case 'v':
		return SIP_HDR_VIA;
	case 'x':
		return SIP_HDR_SESSION_EXPIRES;
	case 'y':
		return SIP_HDR_IDENTITY;
	default:
		return SIP_HDR_OTHER;
	}
}

enum sip_hdr_id
sip_hdr_id_from_name(const char *p, size_t len)
{
	unsigned lo, hi, i;

	if (len == 0)
		return SIP_HDR_OTHER;
	if (len == 1)
		return hdr_compact((unsigned char)p[0]);
	/* The enum is in alphabetical order: look at one letter's range. */
	switch (p[0] | 0x20) {
	case 'a':
		lo = SIP_HDR_ACCEPT;
		hi = SIP_HDR_AUTHORIZATION;
		break;
	case 'c':
		lo = SIP_HDR_CALL_ID;
		hi = SIP_HDR_CSEQ;
		break;
	case 'd':
		lo = SIP_HDR_DATE;
		hi = SIP_HDR_DATE;
		break;
	case 'e':
		lo = SIP_HDR_ERROR_INFO;
		hi = SIP_HDR_EXPIRES;
		break;
	case 'f':
		lo = SIP_HDR_FROM;
		hi = SIP_HDR_FROM;
		break;
	case 'i':
		lo = SIP_HDR_IDENTITY;
		hi = SIP_HDR_IN_REPLY_TO;
		break;
	case 'm':
		lo = SIP_HDR_MAX_FORWARDS;
		hi = SIP_HDR_MIN_SE;
		break;
	case 'o':
		lo = SIP_HDR_ORGANIZATION;
		hi = SIP_HDR_ORGANIZATION;
		break;
	case 'p':
		lo = SIP_HDR_P_ASSERTED_IDENTITY;
		hi = SIP_HDR_PROXY_REQUIRE;
		break;
	case 'r':
		lo = SIP_HDR_RACK;
		hi = SIP_HDR_RSEQ;
		break;
	case 's':
		lo = SIP_HDR_SERVER;
		hi = SIP_HDR_SUPPORTED;
		break;
	case 't':
		lo = SIP_HDR_TIMESTAMP;
		hi = SIP_HDR_TO;
		break;
	case 'u':
		lo = SIP_HDR_UNSUPPORTED;
		hi = SIP_HDR_USER_AGENT;
		break;
	case 'v':
		lo = SIP_HDR_VIA;
		hi = SIP_HDR_VIA;
		break;
	case 'w':
		lo = SIP_HDR_WARNING;
		hi = SIP_HDR_WWW_AUTHENTICATE;
		break;
	default:
		return SIP_HDR_OTHER;
	}
	for (i = lo; i <= hi; i++)
		if (hdr_names[i].len == len &&
		    sip_sv_eq_nocase(p, len, hdr_names[i].name))
			return (enum sip_hdr_id)i;
	return SIP_HDR_OTHER;
}

const char *
sip_hdr_name(enum sip_hdr_id id)
{
	if ((size_t)id >= ARRAY_LEN(hdr_names))
		return NULL;
	return hdr_names[id].name;
}

const char *
sip_reason_phrase(unsigned code)
{
	static const struct {
		unsigned short code;
		const char *text;
	} tab[] = {
	    {100, "Trying"},
	    {180, "Ringing"},
	    {181, "Call Is Being Forwarded"},
	    {182, "Queued"},
	    {183, "Session Progress"},
	    {199, "Early Dialog Terminated"},
	    {200, "OK"},
	    {202, "Accepted"},
	    {204, "No Notification"},
	    {300, "Multiple Choices"},
	    {301, "Moved Permanently"},
	    {302, "Moved Temporarily"},
	    {305, "Use Proxy"},
	    {380, "Alternative Service"},
	    {400, "Bad Request"},
	    {401, "Unauthorized"},
	    {402, "Payment Required"},
	    {403, "Forbidden"},
	    {404, "Not Found"},
	    {405, "Method Not Allowed"},
	    {406, "Not Acceptable"},
	    {407, "Proxy Authentication Required"},
	    {408, "Request Timeout"},
	    {410, "Gone"},
	    {412, "Conditional Request Failed"},
	    {413, "Request Entity Too Large"},
	    {414, "Request-URI Too Long"},
	    {415, "Unsupported Media Type"},
	    {416, "Unsupported URI Scheme"},
	    {417, "Unknown Resource-Priority"},
	    {420, "Bad Extension"},
	    {421, "Extension Required"},
	    {422, "Session Interval Too Small"},
	    {423, "Interval Too Brief"},
	    {428, "Use Identity Header"},
	    {429, "Provide Referrer Identity"},
	    {433, "Anonymity Disallowed"},
	    {436, "Bad Identity-Info"},
	    {437, "Unsupported Certificate"},
	    {438, "Invalid Identity Header"},
	    {439, "First Hop Lacks Outbound Support"},
	    {440, "Max-Breadth Exceeded"},
	    {469, "Bad Info Package"},
	    {470, "Consent Needed"},
	    {480, "Temporarily Unavailable"},
	    {481, "Call/Transaction Does Not Exist"},
	    {482, "Loop Detected"},
	    {483, "Too Many Hops"},
	    {484, "Address Incomplete"},
	    {485, "Ambiguous"},
	    {486, "Busy Here"},
	    {487, "Request Terminated"},
	    {488, "Not Acceptable Here"},
	    {489, "Bad Event"},
	    {491, "Request Pending"},
	    {493, "Undecipherable"},
	    {494, "Security Agreement Required"},
	    {500, "Server Internal Error"},
	    {501, "Not Implemented"},
	    {502, "Bad Gateway"},
	    {503, "Service Unavailable"},
	    {504, "Server Time-out"},
	    {505, "Version Not Supported"},
	    {513, "Message Too Large"},
	    {580, "Precondition Failure"},
	    {600, "Busy Everywhere"},
	    {603, "Decline"},
	    {604, "Does Not Exist Anywhere"},
	    {606, "Not Acceptable"},
	    {607, "Unwanted"},
	    {608, "Rejected"},
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(tab); i++)
		if (tab[i].code == code)
			return tab[i].text;
	return "";
}

static struct sv
sv_make(const char *p, const char *end)
{
	struct sv v = {p, (size_t)(end - p)};

	return v;
}

/* Skips the bytes from p that are not control characters (sip_ctype's
 * SIP_C_CTL), eight at a time while none is below 0x20 or DEL. */
static const char *
skip_text(const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;

	while (end - p >= 8) {
		uint64_t x, y;

		memcpy(&x, p, sizeof(x));
		y = x ^ (ones * 0x7f);
		if ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & high)
			break;
		p += 8;
	}
	while (p < end && !sip_is((unsigned char)*p, SIP_C_CTL))
		p++;
	return p;
}

/* skip_text, but a control byte other than CR and LF escaped as a
 * quoted-pair (an odd number of backslashes since start before it) is
 * text too. Returns the first control byte in clear, or end. */
static const char *
skip_escaped(const char *start, const char *p, const char *end)
{
	for (;;) {
		const char *q;
		size_t bs = 0;

		p = skip_text(p, end);
		if (p >= end || *p == '\r' || *p == '\n')
			return p;
		for (q = p; q > start && q[-1] == '\\'; q--)
			bs++;
		if (bs % 2 == 0)
			return p;
		p++;
	}
}

/* Finds the CRLF that ends the line at p. Refuses NUL and control
 * characters but HT unless escaped as a quoted-pair (an odd number of
 * backslashes before it: RFC 3261 allows %x00-09, %x0B-0C, %x0E-7F there,
 * RFC 4475's intmeth uses it), and a CR or LF that is not part of a
 * CRLF. Returns the CR or NULL (*err set). */
static const char *
line_end(const char *p, const char *end, int *err)
{
	p = skip_escaped(p, p, end);
	if (p >= end || *p != '\r' || end - p < 2 || p[1] != '\n') {
		*err = EBADMSG;
		return NULL;
	}
	return p;
}

/* SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT: 0 for 2.0,
 * EPROTONOSUPPORT for another version, EBADMSG when not a version. */
static int
version_check(const char *p, size_t len)
{
	size_t i = 4, a, b;

	if (len < 7 || (p[0] | 0x20) != 's' || (p[1] | 0x20) != 'i' ||
	    (p[2] | 0x20) != 'p' || p[3] != '/')
		return EBADMSG;
	for (a = i; i < len && p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i == a || i >= len || p[i] != '.')
		return EBADMSG;
	for (b = ++i; i < len && p[i] >= '0' && p[i] <= '9'; i++)
		;
	if (i == b || i != len)
		return EBADMSG;
	if (len == 7 && p[4] == '2' && p[6] == '0')
		return 0;
	return EPROTONOSUPPORT;
}

/* Method SP Request-URI SP SIP-Version. Returns 0, EBADMSG or
 * EPROTONOSUPPORT (after parsing the rest). */
static int
request_line(const char *p, const char *eol, struct sip_msg *m)
{
	const char *sp1, *sp2, *q;
	int verr, err;

	for (q = p; q < eol && sip_is((unsigned char)*q, SIP_C_TOKEN); q++)
		;
	if (q == p || q >= eol || *q != ' ')
		return EBADMSG;
	sp1 = q;
	m->method_name = sv_make(p, sp1);
	m->method = sip_method_from_name(p, (size_t)(sp1 - p));
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return EBADMSG;
	verr = version_check(sp2 + 1, (size_t)(eol - sp2 - 1));
	if (verr == EBADMSG)
		return EBADMSG;
	if ((err = sip_uri_parse(sp1 + 1, (size_t)(sp2 - sp1 - 1), &m->ruri)) !=
	    0)
		return err;
	/* Headers are not allowed in a Request-URI (RFC 3261 19.1.1). */
	if ((m->ruri.scheme == SIP_URI_SIP || m->ruri.scheme == SIP_URI_SIPS) &&
	    m->ruri.headers.len > 0)
		return EBADMSG;
	m->is_request = true;
	return verr;
}

/* SIP-Version SP Status-Code SP Reason-Phrase */
static int
status_line(const char *p, const char *eol, struct sip_msg *m)
{
	const char *sp = memchr(p, ' ', (size_t)(eol - p));
	int verr;

	if (sp == NULL)
		return EBADMSG;
	verr = version_check(p, (size_t)(sp - p));
	if (verr == EBADMSG)
		return EBADMSG;
	if (eol - sp < 5 || sp[1] < '1' || sp[1] > '6' || sp[2] < '0' ||
	    sp[2] > '9' || sp[3] < '0' || sp[3] > '9' || sp[4] != ' ')
		return EBADMSG;
	m->status = (unsigned)(sp[1] - '0') * 100 +
	            (unsigned)(sp[2] - '0') * 10 + (unsigned)(sp[3] - '0');
	m->reason = sv_make(sp + 5, eol);
	m->is_request = false;
	return verr;
}

/* Reads one header line at *pp: name, optional WSP, ':', the value up to
 * the CRLF that is not followed by SP or HT. */
static int
header_line(const char **pp, const char *end, struct sip_hdr *h)
{
	const char *p = *pp, *s = p, *v;

	while (p < end && sip_is((unsigned char)*p, SIP_C_TOKEN))
		p++;
	if (p == s)
		return EBADMSG;
	h->name = sv_make(s, p);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != ':')
		return EBADMSG;
	v = ++p;
	for (;;) {
		p = skip_escaped(s, p, end);
		if (p >= end || *p != '\r' || end - p < 2 || p[1] != '\n')
			return EBADMSG;
		if ((size_t)(p - s) > SIP_HDR_LINE_MAX)
			return EMSGSIZE;
		if (end - p >= 3 && (p[2] == ' ' || p[2] == '\t')) {
			p += 3;
			continue;
		}
		break;
	}
	h->value = sip_sv_trim(sv_make(v, p));
	*pp = p + 2;
	return 0;
}

/* Parses the value of a header we read eagerly. */
static int
header_eager(struct sip_msg *m, const struct sip_hdr *h, bool dup)
{
	uint64_t x;
	int err;

	switch (h->id) {
	case SIP_HDR_VIA:
		return sip_via_parse(h->value, m->via, SIP_VIA_MAX, &m->nvia);
	case SIP_HDR_FROM:
		return dup ? EBADMSG : sip_nameaddr_parse(h->value, &m->from);
	case SIP_HDR_TO:
		return dup ? EBADMSG : sip_nameaddr_parse(h->value, &m->to);
	case SIP_HDR_CALL_ID:
		return dup ? EBADMSG : sip_callid_parse(h->value, &m->call_id);
	case SIP_HDR_CSEQ:
		if (dup)
			return EBADMSG;
		if ((err = sip_cseq_parse(
		         h->value, &m->cseq, &m->cseq_method_name)) != 0)
			return err;
		m->cseq_method = sip_method_from_name(
		    m->cseq_method_name.p, m->cseq_method_name.len);
		return 0;
	case SIP_HDR_MAX_FORWARDS:
		if (dup || sip_uint_parse(h->value, SIP_MAX_FORWARDS_MAX, &x))
			return EBADMSG;
		m->max_forwards = (int)x;
		return 0;
	case SIP_HDR_CONTENT_LENGTH:
		if (sip_uint_parse(h->value, SIZE_MAX, &x) != 0 ||
		    (dup && x != m->content_length))
			return EBADMSG;
		m->content_length = (size_t)x;
		m->has_content_length = true;
		return 0;
	case SIP_HDR_EXPIRES:
		if (dup || sip_delta_parse(h->value, &m->expires) != 0)
			return EBADMSG;
		m->has_expires = true;
		return 0;
	case SIP_HDR_CONTACT:
		if (m->contact_star)
			return EBADMSG;
		if ((err = sip_contact_parse(h->value, m->contact,
		         SIP_CONTACT_MAX, &m->ncontact, &m->contact_star)) != 0)
			return err;
		/* '*' must be the only Contact value (RFC 3261 10.2.2). */
		if (m->contact_star && m->ncontact > 0)
			return EBADMSG;
		return 0;
	default:
		return 0;
	}
}

int
sip_msg_parse(const char *buf, size_t len, struct sip_msg *m)
{
	const char *p = buf, *end = buf + len, *eol;
	uint8_t last[SIP_HDR__COUNT];
	int err = 0, verr;

	if (len > SIP_MSG_MAX)
		return EMSGSIZE;
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;
	if (p == end)
		return ENODATA;
	m->buf = p;
	m->nhdr = m->nvia = m->ncontact = 0;
	m->method = SIP_METHOD_UNKNOWN;
	m->method_name.p = NULL;
	m->method_name.len = 0;
	m->status = 0;
	m->reason = m->method_name;
	m->max_forwards = -1;
	m->has_content_length = m->has_expires = m->contact_star = false;
	m->content_length = 0;
	m->expires = 0;
	memset(m->first, SIP_HDR_NONE, sizeof(m->first));
	memset(last, SIP_HDR_NONE, sizeof(last));

	if ((eol = line_end(p, end, &err)) == NULL)
		return err;
	if (end - p >= 4 && (p[0] | 0x20) == 's' && (p[1] | 0x20) == 'i' &&
	    (p[2] | 0x20) == 'p' && p[3] == '/')
		verr = status_line(p, eol, m);
	else
		verr = request_line(p, eol, m);
	if (verr != 0 && verr != EPROTONOSUPPORT)
		return verr;
	p = eol + 2;

	for (;;) {
		struct sip_hdr *h;
		uint8_t i;
		bool dup;

		if (end - p < 2)
			return EBADMSG; /* no empty line */
		if (p[0] == '\r' && p[1] == '\n') {
			p += 2;
			break;
		}
		if (m->nhdr == SIP_HDRS_MAX)
			return EMSGSIZE;
		i = (uint8_t)m->nhdr;
		h = &m->hdr[i];
		if ((err = header_line(&p, end, h)) != 0)
			return err;
		h->id = (uint8_t)sip_hdr_id_from_name(h->name.p, h->name.len);
		h->next = SIP_HDR_NONE;
		dup = m->first[h->id] != SIP_HDR_NONE;
		if (dup)
			m->hdr[last[h->id]].next = i;
		else
			m->first[h->id] = i;
		last[h->id] = i;
		m->nhdr++;
		if ((err = header_eager(m, h, dup)) != 0)
			return err;
	}

	if (m->has_content_length) {
		if (m->content_length > (size_t)(end - p))
			return EBADMSG;
		m->body = sv_make(p, p + m->content_length);
	} else {
		m->body = sv_make(p, end);
	}
	m->len = (size_t)(m->body.p + m->body.len - m->buf);

	if (m->first[SIP_HDR_FROM] == SIP_HDR_NONE ||
	    m->first[SIP_HDR_TO] == SIP_HDR_NONE ||
	    m->first[SIP_HDR_CALL_ID] == SIP_HDR_NONE ||
	    m->first[SIP_HDR_CSEQ] == SIP_HDR_NONE)
		return EBADMSG;
	if (m->is_request) {
		if (m->nvia == 0)
			return EBADMSG;
		if (m->cseq_method_name.len != m->method_name.len ||
		    memcmp(m->cseq_method_name.p, m->method_name.p,
		        m->method_name.len) != 0)
			return EBADMSG;
	}
	/* The top Via must speak our version (not checked when the start
	 * line already asks for a 505). */
	if (verr == 0 && m->nvia > 0 &&
	    (!sip_sv_eq_nocase(
	         m->via[0].proto_name.p, m->via[0].proto_name.len, "SIP") ||
	        !sip_sv_eq_nocase(m->via[0].proto_version.p,
	            m->via[0].proto_version.len, "2.0")))
		return EBADMSG;
	return verr;
}

const struct sip_hdr *
sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id)
{
	if ((size_t)id >= SIP_HDR__COUNT || m->first[id] == SIP_HDR_NONE)
		return NULL;
	return &m->hdr[m->first[id]];
}

const struct sip_hdr *
sip_msg_hdr_next(const struct sip_msg *m, const struct sip_hdr *h)
{
	if (h->next == SIP_HDR_NONE)
		return NULL;
	return &m->hdr[h->next];
}

const struct sip_hdr *
sip_msg_hdr_find(const struct sip_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nhdr; i++)
		if (sip_sv_eq_nocase(
		        m->hdr[i].name.p, m->hdr[i].name.len, name))
			return &m->hdr[i];
	return NULL;
}

/* True when the header line at p (up to eol) is a Content-Length one;
 * sets *v to the start of its value. */
static bool
frame_is_clen(const char *p, const char *eol, const char **v)
{
	const char *q = p;

	while (q < eol && sip_is((unsigned char)*q, SIP_C_TOKEN))
		q++;
	if (!SIP_SV_IS(p, (size_t)(q - p), "content-length") &&
	    !SIP_SV_IS(p, (size_t)(q - p), "l"))
		return false;
	while (q < eol && (*q == ' ' || *q == '\t'))
		q++;
	if (q >= eol || *q != ':')
		return false;
	*v = q + 1;
	return true;
}

int
sip_stream_frame(const char *buf, size_t len, size_t *skipped, size_t *msglen)
{
	const char *p = buf, *end, *hend = NULL, *line, *v = NULL;
	size_t lim = len < SIP_MSG_MAX ? len : SIP_MSG_MAX, crlf = 0;
	bool has_cl = false;
	uint64_t cl = 0, x;

	while (len - crlf >= 2 && buf[crlf] == '\r' && buf[crlf + 1] == '\n')
		crlf += 2;
	if (crlf > 0) {
		*skipped = crlf;
		*msglen = 0;
		return 0;
	}
	/* The header section: lines ending in CRLF up to an empty one. */
	end = buf + lim;
	while (p < end) {
		const char *q = p;

		for (;;) {
			const char *b;
			size_t bs = 0;

			while (
			    q < end && *q != '\r' && *q != '\n' && *q != '\0')
				q++;
			if (q >= end || *q != '\0')
				break;
			for (b = q; b > p && b[-1] == '\\'; b--)
				bs++;
			if (bs % 2 == 0)
				break;
			q++; /* an escaped NUL (a quoted-pair) */
		}
		if (q >= end)
			break;
		if (*q != '\r')
			return EBADMSG; /* NUL or bare LF */
		if (end - q < 2)
			break;
		if (q[1] != '\n')
			return EBADMSG; /* bare CR */
		if (q == p && p != buf) {
			hend = q + 2;
			break;
		}
		p = q + 2;
	}
	if (hend == NULL)
		return len >= SIP_MSG_MAX ? EBADMSG : ENODATA;
	/* Content-Length, possibly folded, possibly repeated. */
	for (line = (const char *)memchr(buf, '\n', (size_t)(hend - buf)) + 1;
	     line < hend - 2;) {
		const char *eol = memchr(line, '\r', (size_t)(hend - line));

		while (eol + 2 < hend && (eol[2] == ' ' || eol[2] == '\t'))
			eol = memchr(eol + 2, '\r', (size_t)(hend - eol - 2));
		if (frame_is_clen(line, eol, &v)) {
			struct sv val = {v, (size_t)(eol - v)};

			if (sip_uint_parse(val, UINT32_MAX, &x) != 0 ||
			    (has_cl && x != cl))
				return EBADMSG;
			cl = x;
			has_cl = true;
		}
		line = eol + 2;
	}
	if (!has_cl)
		return EBADMSG;
	if ((uint64_t)(hend - buf) + cl > SIP_MSG_MAX)
		return EMSGSIZE;
	if ((uint64_t)(hend - buf) + cl > len)
		return ENODATA;
	*skipped = 0;
	*msglen = (size_t)(hend - buf) + (size_t)cl;
	return 0;
}
