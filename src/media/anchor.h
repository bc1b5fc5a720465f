/* anchor.h: a call's media anchored on the relay, as SDP sees it. Each
 * offer/answer exchange (RFC 3264) between the two sides of a call passes
 * through here: the SDP a side sent is checked against that leg's policy,
 * and the SDP the other side gets names the relay's address and port and,
 * for an SRTP side, a key the server generated for that side alone
 * (SDES, RFC 4568). Both sides of the relay are set when the answer
 * arrives (a refused re-offer leaves the media as it was).
 *
 * Only the first audio stream with a port is relayed; every other m=
 * line is declined (port 0). ICE and DTLS attributes are removed (the
 * relay is the only candidate; keys travel as SDES over TLS), and so are
 * k= lines and the phone's addresses in o=, c= and a=rtcp: no address of
 * one side reaches the other. Not thread-safe: one thread at a time per
 * anchor (the call's owner). */
#ifndef SW_ANCHOR_H
#define SW_ANCHOR_H

#include "media/relay.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum anchor_srtp {
	ANCHOR_SRTP_REQUIRED, /* a phone: its offers must be SRTP */
	ANCHOR_SRTP_OPTIONAL, /* a phone that may use plain RTP */
	ANCHOR_SRTP_NEVER,    /* plain RTP only (a carrier trunk) */
	ANCHOR_SRTP_MIRROR,   /* offers to it use the offerer's profile (ng) */
};

/* One side's signalling leg. */
struct anchor_leg {
	bool sdes_ok; /* keys may travel on this leg (TLS, or loopback ng) */
	bool loopback_ok; /* its SDP may name a loopback address (the peer
	                     is on this host): else refused, so a remote peer
	                     cannot aim the relay at local services */
	enum anchor_srtp srtp;
	char addr[INET6_ADDRSTRLEN]; /* the relay's IP as this side sees it */
};

enum {
	ANCHOR_WHY_MAX = 160, /* bytes of a refusal reason */
	ANCHOR_OKEYS_MAX = 4, /* crypto attributes offered to a side */
};

struct anchor;

/* A new anchor with relay ports for both sides (families AF_INET or
 * AF_INET6 of each side's peer). Returns 0, or media_call_new's errors. */
int anchor_new(struct media_relay *r, uint64_t cookie, int family_a,
    int family_b, struct anchor **out);
/* Frees the anchor and its relay call; accepts NULL. */
void anchor_free(struct anchor *a);
struct media_call *anchor_media(struct anchor *a);

/* An offer in [sdp, sdp+len) from side `from` (0 or 1) over leg. Checks
 * the leg's policy and keeps the offer until its answer. Returns 0, or
 * EPROTO (refused by policy: why says so, for 488 and its Warning),
 * EBADMSG (malformed or unsupported SDP: why says so), ENOMEM. */
int anchor_offer(struct anchor *a, int from, const struct anchor_leg *leg,
    const char *sdp, size_t len, char *why, size_t whysize);

/* The pending offer as the other side gets it over leg `to`, written to
 * out (size bytes) with *outlen. The same keys are offered each time it is
 * called for one offer (forked legs). Returns 0, EPROTO (the leg cannot
 * take the media the policy requires: why), EMSGSIZE, EINVAL (no pending
 * offer). */
int anchor_offer_out(struct anchor *a, const struct anchor_leg *to, char *out,
    size_t size, size_t *outlen, char *why, size_t whysize);

/* The answer in [sdp, sdp+len) to the pending offer, from the other side
 * over leg `ans`; sets both sides of the relay and writes the answer the
 * offerer gets over leg `off`. May be called again for the same offer (a
 * 183 and then the 200). Returns 0, EPROTO (the answer breaks the offer
 * or the policy: why), EBADMSG, EMSGSIZE, EINVAL (no pending offer). */
int anchor_answer(struct anchor *a, const struct anchor_leg *ans,
    const struct anchor_leg *off, const char *sdp, size_t len, char *out,
    size_t size, size_t *outlen, char *why, size_t whysize);

/* The offer is over (answered for the last time, or refused). */
void anchor_offer_done(struct anchor *a);

/* Whether ss is a loopback address (127/8, ::1, or 127/8 mapped). */
bool anchor_addr_loopback(const struct sockaddr_storage *ss);

/* Whether an offer is pending, and from which side. */
bool anchor_pending(const struct anchor *a, int *from);

#endif
