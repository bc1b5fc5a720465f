/* b2bua.h: calls between extensions as a back-to-back user agent: two
 * (or, while forking, more) dialogs per call, one toward the caller (leg
 * A) and one per contact of the callee (legs B). Each call lives in the
 * worker chosen by a hash of its Call-ID; its B legs get Call-IDs that
 * hash to the same worker, so one thread sees every message of a call.
 * Media is anchored on the relay (media/anchor.h): each side sees the
 * server's address and its own SRTP key. */
#ifndef SW_B2BUA_H
#define SW_B2BUA_H

#include "call/regtab.h"
#include "core/storew.h"
#include "media/relay.h"
#include "sip/msg.h"
#include "transport/transport.h"

#include <stdatomic.h>

struct b2bua;

/* Who is calling whom, once the caller has authenticated. */
struct b2bua_caller {
	int64_t tenant_id, ext_id;
	char number[STORE_EXT_MAX];
	char domain[STORE_DOMAIN_MAX];
	bool srtp_optional; /* the caller may offer plain RTP */
	int64_t trunk_id;   /* a carrier's call to one of our numbers: the
	                       trunk (ext_id is 0, number the caller's) */
};

struct b2bua_stats {
	atomic_uint_fast64_t calls, answered, failed, cancelled, active;
};

/* relay: where calls' media is anchored (NULL: SDP passes unchanged,
 * for tests of signalling alone); media_adv: the IP written in SDP c=
 * (NULL or "": the local address of each SIP leg). */
int b2bua_new(unsigned nworkers, const char *node, struct regtab *reg,
    struct storew *sw, struct media_relay *relay, const char *media_adv,
    struct b2bua **out);
/* Calls up at once per extension (as the caller) and per tenant; past
 * them a new call gets 486 ([guard] calls_per_extension, ..._tenant). */
void b2bua_set_limits(struct b2bua *b, unsigned per_ext, unsigned per_tenant);
/* The transport, for media timeouts (posted to the call's worker). */
void b2bua_set_transport(struct b2bua *b, struct transport *tp);
/* The relay's on_timeout callback (arg: the b2bua). */
void b2bua_media_timeout(void *arg, uint64_t cookie);
void b2bua_free(struct b2bua *b); /* after the workers stopped */
/* Ends every call of worker w (BYE, CANCEL, 503), writing their records:
 * run in each worker (posted) before the node stops. */
void b2bua_shutdown(struct b2bua *b, struct tp_worker *w);
struct b2bua_stats *b2bua_stats(struct b2bua *b);

/* The worker that owns a Call-ID. */
unsigned b2bua_owner(const struct b2bua *b, struct sv call_id);

/* A new INVITE (no To tag) from an authenticated caller to callee (an
 * extension of the same tenant: ext_id, or 0 when there is none). m is
 * the parsed request in buf (len bytes), which b2bua copies. */
void b2bua_invite(struct b2bua *b, struct tp_worker *w, const struct tp_flow *f,
    const struct sip_msg *m, const char *buf, size_t len,
    const struct b2bua_caller *caller, int64_t callee_ext,
    const char *callee_number, bool callee_srtp_optional);
/* The branch prefix of the requests we send (RFC 3261's magic cookie and
 * ours), to know our own requests when they come back. */
#define B2BUA_BRANCH "z9hG4bKsW"

/* Whether m carries a Via of ours for the address it arrived on: a
 * request we sent came back (a loop, RFC 3261 16.3: 482). */
bool b2bua_looped(const struct tp_flow *f, const struct sip_msg *m);
/* When a call already has this INVITE's Call-ID (a retransmission): the
 * last response is sent again and true returned. */
bool b2bua_retransmission(
    struct b2bua *b, struct tp_worker *w, const struct sip_msg *m);
/* Any other message of a call: responses, ACK, CANCEL, BYE, re-INVITE,
 * UPDATE, INFO... Returns ENOENT when no call knows its Call-ID (the
 * caller answers 481 to a request). */
int b2bua_message(struct b2bua *b, struct tp_worker *w, const struct tp_flow *f,
    const struct sip_msg *m, const char *buf, size_t len);
/* Whether a dialog with this Call-ID ended in worker w within the last
 * 32 s (64*T1): a BYE retransmitted after its call is gone is answered
 * 200 again, not 481. */
bool b2bua_ended_lately(
    struct b2bua *b, struct tp_worker *w, struct sv call_id);
/* A TCP/TLS connection closed: calls that used it end (BYE the other
 * side). Runs in each worker (posted). */
void b2bua_conn_closed(
    struct b2bua *b, struct tp_worker *w, int worker, uint64_t conn_id);

#endif
