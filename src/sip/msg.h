/* msg.h: SIP message parsing (RFC 3261 7) and stream framing (18.3).
 *
 * sip_msg_parse() reads one message from a buffer the caller owns into a
 * struct sip_msg the caller provides. It makes one pass over the header
 * section, indexes every header, and parses eagerly what every message
 * needs: the start line and Request-URI, Via, From, To, Call-ID, CSeq,
 * Max-Forwards, Content-Length, Contact and Expires. Everything else is
 * left as views for lazy parsing with hdr.h. Every view points into the
 * buffer: the buffer must outlive the struct. */
#ifndef SW_SIP_MSG_H
#define SW_SIP_MSG_H

#include "sip/hdr.h"
#include "sip/sip.h"
#include "sip/uri.h"

enum { SIP_HDR_NONE = 0xff }; /* no (next) header of this id */

/* One header line. */
struct sip_hdr {
	struct sv name;  /* as written */
	struct sv value; /* trimmed; may hold folds (CRLF then SP or HT) */
	uint8_t id;      /* enum sip_hdr_id */
	uint8_t next;    /* index of the next header of the same id, or
	                    SIP_HDR_NONE */
};

struct sip_msg {
	const char *buf; /* the start line (leading CRLFs skipped) */
	size_t len;      /* bytes from buf to the end of the body */
	bool is_request;

	/* Request line (requests only). */
	enum sip_method method;
	struct sv method_name;
	struct sip_uri ruri;

	/* Status line (responses only). */
	unsigned status; /* 100..699 */
	struct sv reason;

	/* Every header, in order; first[id] indexes the first of an id. */
	size_t nhdr;
	struct sip_hdr hdr[SIP_HDRS_MAX];
	uint8_t first[SIP_HDR__COUNT];

	/* Via values of all Via headers, in order; via[0] is the top one. */
	size_t nvia;
	struct sip_via via[SIP_VIA_MAX];

	struct sip_nameaddr from, to;
	struct sv call_id;
	uint32_t cseq;
	enum sip_method cseq_method;
	struct sv cseq_method_name;
	int max_forwards; /* -1 when absent */
	bool has_content_length;
	size_t content_length;
	bool has_expires;
	uint32_t expires; /* saturates at SIP_DELTA_MAX */

	/* Contact values of all Contact headers, or contact_star for "*". */
	bool contact_star;
	size_t ncontact;
	struct sip_contact contact[SIP_CONTACT_MAX];

	struct sv body;
};

/* Parses the message at buf (len bytes: a datagram, or one frame from
 * sip_stream_frame()). Leading CRLFs are skipped.
 *
 * The body is exactly Content-Length bytes; bytes after it are ignored
 * (RFC 3261 18.3). Without Content-Length (datagrams only: a stream frame
 * always has one) the body is the rest of the buffer.
 *
 * Returns 0; EBADMSG when malformed, when To, From, Call-ID, CSeq or (in a
 * request) Via is missing, when a single-valued header (To, From, Call-ID,
 * CSeq, Max-Forwards, Expires) repeats, when Content-Length values differ
 * or pass the end of the buffer, when the CSeq method of a request differs
 * from its method, when the Request-URI (sip/sips) has headers, when the
 * header section holds a NUL or a control character but HT outside folds;
 * EMSGSIZE past a limit of sip.h; ENODATA when the buffer holds nothing
 * but CRLFs; EPROTONOSUPPORT for a SIP version other than 2.0, with *m
 * filled as on success so that the caller can answer 505.
 *
 * On any other error *m is left partly written and must not be used. */
int sip_msg_parse(const char *buf, size_t len, struct sip_msg *m);

/* Frames a stream (TCP, TLS) buffer. On 0, either *msglen is 0 and
 * *skipped counts the CRLF bytes (keep-alives, RFC 5626 3.5.1) that lead
 * the buffer, which the caller consumes (answering one CRLF to a
 * double-CRLF ping), or *skipped is 0 and the first *msglen bytes are one
 * whole message: its header section and Content-Length bytes of body.
 * Returns ENODATA when more bytes are needed, EMSGSIZE when the message
 * would pass SIP_MSG_MAX, EBADMSG for garbage (a NUL or a bare CR or LF in
 * the header section, no header terminator within SIP_MSG_MAX bytes, a
 * missing, bad or conflicting Content-Length). Out-parameters are written
 * on success only. The buffer is scanned from its start on each call. */
int sip_stream_frame(
    const char *buf, size_t len, size_t *skipped, size_t *msglen);

/* The first header of id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id);

/* The header after h with the same id, or NULL. */
const struct sip_hdr *sip_msg_hdr_next(
    const struct sip_msg *m, const struct sip_hdr *h);

/* The first header named name (case-insensitive; for headers without an
 * id, e.g. extension headers), or NULL. */
const struct sip_hdr *sip_msg_hdr_find(
    const struct sip_msg *m, const char *name);

#endif
