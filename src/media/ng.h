/* ng.h: the wire codec of rtpengine's "ng" control protocol, as Kamailio's
 * and OpenSIPS's rtpengine modules speak it over UDP. Pure functions: no
 * I/O, no logging, no globals, no allocation.
 *
 * A datagram is "<cookie> <bencoded dictionary>"; the reply repeats the
 * cookie: "<cookie> <bencoded dictionary>", with "result" set to "ok",
 * "pong" (to a ping) or "error" (with "error-reason"). The cookie is 1 to
 * NG_COOKIE_MAX bytes of [A-Za-z0-9_.-]: Kamailio sends "<id>_<pid>_<seq>"
 * or "<pid>_<seq>", OpenSIPS "<pid>_<rand>_<seq>", rtpengine's own test
 * client a decimal number such as "0.5489157". A JSON document instead of a
 * bencoded one is refused.
 *
 * Keys read from a request (others are kept and reachable by name through
 * ng_request_get): "command"; strings "call-id", "from-tag", "to-tag",
 * "via-branch", "sdp", "transport-protocol", "ICE"; lists of strings
 * "flags", "direction", "replace", "rtcp-mux", and "received-from" (exactly
 * [family, address]). Each also under the spelling rtpengine documents or
 * accepts: "call id", "from tag", "to tag", "via branch", "transport
 * protocol", "ice", "rtcp mux", "received from". A known key with a value
 * of the wrong type, or given under two spellings, is malformed. */
#ifndef SW_NG_H
#define SW_NG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"
#include "media/bencode.h"
#include "sdp/sdp.h"

enum {
	NG_DATAGRAM_MAX = 65535,          /* bytes of a request or reply */
	NG_COOKIE_MAX = 64,               /* bytes of a cookie */
	NG_SDP_MAX = SDP_MAX,             /* bytes of "sdp" */
	NG_NODES_MAX = BENCODE_NODES_MAX, /* bencode nodes of a request */
	NG_DEPTH_MAX = BENCODE_DEPTH_MAX, /* nesting of a request */
	NG_FLAGS_MAX = 32,                /* items of "flags" */
	NG_DIRECTION_MAX = 2,             /* items of "direction" */
	NG_REPLACE_MAX = 16,              /* items of "replace" */
	NG_RTCP_MUX_MAX = 8,              /* items of "rtcp-mux" */
};

enum ng_command {
	NG_CMD_NONE, /* not parsed */
	NG_CMD_PING,
	NG_CMD_OFFER,
	NG_CMD_ANSWER,
	NG_CMD_DELETE,
	NG_CMD_QUERY
};

/* A parsed request. Views point into the datagram, which must outlive
 * them; a view whose p is NULL was absent (an empty string that was sent
 * has p set and len 0). It is large (about 30 KiB, the node array): keep it
 * off small stacks. It holds no pointer into itself and may be copied. */
struct ng_request {
	struct sv cookie;
	const char *reason; /* after a failure: why, for ng_reply_error */
	enum ng_command cmd;
	struct sv command; /* as sent */
	struct sv call_id, from_tag, to_tag, via_branch;
	struct sv sdp;
	struct sv transport_protocol; /* "RTP/AVP", "RTP/SAVP", ... as sent */
	struct sv ice;                /* "remove", "force", ... as sent */
	struct sv flags[NG_FLAGS_MAX];
	size_t nflags;
	struct sv direction[NG_DIRECTION_MAX];
	size_t ndirection;
	struct sv replace[NG_REPLACE_MAX]; /* "origin", "session-connection" */
	size_t nreplace;
	struct sv rtcp_mux[NG_RTCP_MUX_MAX];
	size_t nrtcp_mux;
	bool has_received_from;
	struct sv received_family; /* "IP4" or "IP6" as sent (not checked) */
	struct sv received_addr;   /* the SIP source address as sent */
	size_t nnodes;
	struct bencode_node nodes[NG_NODES_MAX]; /* nodes[0]: the dictionary */
};

/* Parses the datagram [buf, buf+len) into *req. Returns 0, or on failure:
 * EBADMSG when malformed; EMSGSIZE past a limit above (the datagram, the
 * sdp, a list, the nodes or the nesting); ENOTSUP for a command other than
 * ping, offer, answer, delete and query; EINVAL on NULL. A request must
 * carry "call-id" (all but ping), "from-tag" and "sdp" (offer and answer)
 * and "to-tag" (answer), each non-empty, else EBADMSG.
 *
 * On failure, *req holds only two things: cookie, the datagram's cookie
 * when it had a valid one (reply to it with ng_reply_error) or empty (send
 * nothing: the peer could not match a reply), and reason, a short static
 * text for the error reply ("No call-id in message"); ng_request_dict
 * returns NULL; the rest is unspecified. */
int ng_request_parse(const char *buf, size_t len, struct ng_request *req);

/* The request's dictionary, for keys this codec does not read. */
const struct bencode_node *ng_request_dict(const struct ng_request *req);
/* The value of key (NUL-terminated) in the request, or NULL. */
const struct bencode_node *ng_request_get(
    const struct ng_request *req, const char *key);

/* The name of a command ("offer"), or NULL. */
const char *ng_command_name(enum ng_command cmd);

/* Reply builders. Each writes "<cookie> <dictionary>" into buf (size
 * bytes, not NUL-terminated) and sets *outlen. cookie must be a valid
 * cookie (the one of the request). They return 0, EMSGSIZE when buf is too
 * small or the reply would pass NG_DATAGRAM_MAX, EINVAL on a bad cookie or
 * NULL. */

/* {"result": "pong"} */
int ng_reply_pong(char *buf, size_t size, struct sv cookie, size_t *outlen);
/* {"result": "ok"} */
int ng_reply_ok(char *buf, size_t size, struct sv cookie, size_t *outlen);
/* {"result": "ok", "sdp": sdp}: the answer to an offer or answer. */
int ng_reply_ok_sdp(
    char *buf, size_t size, struct sv cookie, struct sv sdp, size_t *outlen);
/* {"error-reason": reason, "result": "error"}; reason is NUL-terminated. */
int ng_reply_error(char *buf, size_t size, struct sv cookie, const char *reason,
    size_t *outlen);

/* Any other reply: ng_reply_start writes the cookie and opens the
 * dictionary; the caller adds keys in ascending order with the bencode_put_*
 * functions on r->b ("result" among them, in its place: "created" < "last
 * signal" < "result" < "sdp" < "tags" < "totals"); ng_reply_finish closes
 * the dictionary and sets *outlen to the size of the whole datagram. Errors
 * as above, and those of the builder (EINVAL for keys out of order). */
struct ng_reply {
	struct bencode_buf b;
	size_t prefix; /* bytes of "<cookie> " before b's buffer */
};

int ng_reply_start(
    struct ng_reply *r, char *buf, size_t size, struct sv cookie);
int ng_reply_finish(struct ng_reply *r, size_t *outlen);

#endif
