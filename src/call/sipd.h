/* sipd.h: SIP request handling of a node: parsing, server transactions,
 * the registrar with digest authentication, keep-alives. Called by the
 * transport workers; shares the credential and binding tables. */
#ifndef SW_SIPD_H
#define SW_SIPD_H

#include "call/b2bua.h"
#include "call/credtab.h"
#include "call/nctab.h"
#include "call/regtab.h"
#include "call/trunktab.h"
#include "core/storew.h"
#include "guard/guard.h"
#include "transport/transport.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SIPD_EXPIRES_MIN = 60,   /* below: 423 Interval Too Brief */
	SIPD_EXPIRES_MAX = 3600, /* above: lowered to this */
	SIPD_EXPIRES_DEFAULT = 3600,
	SIPD_NONCE_MAX_AGE = 300, /* seconds; then stale=true */
	SIPD_NONCE_KEY_LEN = 32,
	SIPD_OUT_MAX = 8192, /* our responses are small */
};

struct sipd_stats {
	atomic_uint_fast64_t requests, responses_in, bad, reg_ok, reg_fail,
	    challenges, stale, replays, unknown_user, disabled, options;
	/* The work each authentication does, for the no-enumeration test:
	 * every path does one lookup and one digest computation. */
	atomic_uint_fast64_t auth_lookups, auth_digests;
	atomic_uint_fast64_t bans, dropped_banned;
	/* The guard: messages over a source's rate; strangers' requests
	 * dropped or refused (scanner user agents, unknown domains, decoys,
	 * sweeps); right passwords refused (locked or pinned extension);
	 * extensions locked; logins from outside their tenant's networks. */
	atomic_uint_fast64_t dropped_rate, scanners, decoys, sweeps, quiet,
	    locked, pinned, locks, allowlist;
};

struct sipd_params {
	const char *node;
	unsigned nworkers;
	struct credtab *creds;
	struct regtab *reg;
	struct nctab *nc;
	struct storew *sw;   /* NULL: bindings are not written (tests) */
	struct b2bua *b2b;   /* NULL: INVITE gets 501 (tests) */
	struct guard *guard; /* NULL: no bans (tests) */
	/* Carrier trunks and inbound numbers (NULL: none; tests): an INVITE
	 * from a number's trunk goes to its extension unchallenged. */
	struct trunktab *trunks;
	unsigned char nonce_key[SIPD_NONCE_KEY_LEN];
};

struct sipd;

int sipd_new(const struct sipd_params *p, struct sipd **out);
void sipd_free(struct sipd *d); /* accepts NULL */
struct sipd_stats *sipd_stats(struct sipd *d);

/* Handles one message that arrived on f; writes the answer (if any) into
 * out and its length into *outlen (0: nothing to send). buf may be
 * modified. Returns 0, or an errno code for a message that was dropped. */
int sipd_process(struct sipd *d, int widx, const struct tp_flow *f, char *buf,
    size_t len, char *out, size_t outsize, size_t *outlen);

/* The transport callback (tp_msg_cb): the messages of a call go to the
 * worker that owns its Call-ID; then sipd_process, and send. */
void sipd_on_msg(void *arg, struct tp_worker *w, const struct tp_flow *f,
    char *buf, size_t len);

/* The transport's close callback: forgets the connection's flows. */
void sipd_conn_closed(
    void *arg, struct tp_worker *w, int worker, uint64_t conn_id);

/* Ends every call on every worker (see b2bua_shutdown) and waits, at
 * most timeout_ms, until they have: before the transport stops. */
void sipd_shutdown(struct sipd *d, struct transport *t, unsigned timeout_ms);

/* Puts back the bindings this node held (from the store) after a restart:
 * their TCP/TLS flows are gone until the phones register again. */
int sipd_restore(struct sipd *d, struct store *st);

#endif
