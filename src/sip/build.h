/* build.h: writes SIP responses and requests into a caller's buffer.
 * Bounds-checked; nothing is allocated. Nothing written names the product
 * (no Server or User-Agent header is ever added). */
#ifndef SW_SIP_BUILD_H
#define SW_SIP_BUILD_H

#include "sip/msg.h"

/* Writes the response code to the request req into buf (size bytes) and
 * sets *outlen to its length (no NUL is added):
 *
 *   SIP/2.0 code reason            (reason NULL: the default phrase)
 *   Via: ...                       every Via value of req, in order, one
 *                                  per line; on the top one: received=
 *                                  when received (the source address as
 *                                  text, IPv4 or IPv6 without brackets)
 *                                  is not NULL and differs from the
 *                                  sent-by host or rport was asked for,
 *                                  replacing any received there; rport=N
 *                                  when the top Via has rport and rport
 *                                  is not 0 (RFC 3261 18.2.1, RFC 3581)
 *   From: ...                      as received
 *   To: ...;tag=to_tag             to_tag is added when req's To has none,
 *                                  code > 100 and to_tag is not NULL
 *   Call-ID: ...
 *   CSeq: n METHOD
 *   extra_headers                  complete "Name: value\r\n" lines, or
 *                                  NULL
 *   Content-Length: body_len
 *
 *   body
 *
 * Folds in copied values become single spaces. Returns 0; EINVAL for a
 * code outside 100..699, a request that is not one, a reason, tag or
 * received with characters they cannot hold, extra_headers that are not
 * whole header lines (or hold Content-Length); EMSGSIZE when the result
 * does not fit in size bytes, or a line would pass SIP_HDR_LINE_MAX or
 * an element SIP_PARAMS_MAX parameters (the response must parse back).
 * *outlen is written on success only; buf is scratch on error. */
int sip_build_response(char *buf, size_t size, const struct sip_msg *req,
    unsigned code, const char *reason, const char *to_tag, const char *received,
    unsigned rport, const char *extra_headers, const void *body,
    size_t body_len, size_t *outlen);

/* Writes a request into buf: "method ruri SIP/2.0", then each of the
 * nheaders lines of headers ("Name: value", without CRLF), then
 * Content-Length and the body. The method must be a token, ruri a valid
 * URI, each header line a token name, ':' and a value without control
 * characters (but HT), and none may be Content-Length. Returns 0, EINVAL
 * or EMSGSIZE as sip_build_response(). */
int sip_build_request(char *buf, size_t size, const char *method,
    const char *ruri, const char *const *headers, size_t nheaders,
    const void *body, size_t body_len, size_t *outlen);

#endif
