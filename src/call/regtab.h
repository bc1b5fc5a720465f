/* regtab.h: the registrar's bindings in memory: for each extension, up
 * to REG_CONTACTS_MAX contacts with their expiry and the flow the
 * REGISTER came on (so requests reach phones behind NAT over the
 * connection they opened). Shared by the worker threads: sharded, one
 * mutex per shard; readers get copies. */
#ifndef SW_REGTAB_H
#define SW_REGTAB_H

#include "transport/transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	REG_CONTACTS_MAX = 10,
	REG_URI_MAX = 512,
	REG_TEXT_MAX = 256,
};

struct reg_contact {
	char uri[REG_URI_MAX];
	char instance[REG_TEXT_MAX]; /* +sip.instance, "" = none */
	uint32_t reg_id;             /* 0 = none */
	unsigned q;                  /* q-value x 1000; 1000 = default */
	int64_t expires_us;
	char call_id[REG_TEXT_MAX];
	uint32_t cseq;
	char user_agent[REG_TEXT_MAX];
	struct tp_flow flow;
	bool has_flow; /* false after a restart until the phone registers */
	struct sockaddr_storage src; /* the REGISTER's source address and
	                                port (family 0 after a restart) */
	int64_t stored_us; /* the expiry last written to the store (set by
	                      regtab_update_all; callers leave it 0) */
};

struct regtab;

int regtab_new(struct regtab **out);
void regtab_free(struct regtab *t); /* accepts NULL */

/* Adds or refreshes c for ext_id (same URI, or same instance and reg-id),
 * or removes it when c->expires_us is 0. Returns 0, EALREADY when the
 * Call-ID matches and the CSeq is not higher (out of order: the REGISTER
 * fails), ENOSPC past REG_CONTACTS_MAX. */
int regtab_update(struct regtab *t, int64_t ext_id, const struct reg_contact *c,
    int64_t now_us);
/* Applies the n contacts of one REGISTER all or none (RFC 3261 10.3
 * step 7): EALREADY when one is out of order, ENOSPC when the result
 * would pass REG_CONTACTS_MAX; nothing changed then. On success, when
 * write is not NULL, write[i] tells whether contact i must be written to
 * the store: false for a refresh that changes nothing but the expiry
 * while the expiry last written still covers 3/4 of the new interval
 * (a binding restored from the store then outlives every phone that
 * refreshes before 3/4 of its interval; phones that refresh every
 * minute with a long Expires cost no write per REGISTER). */
int regtab_update_all(struct regtab *t, int64_t ext_id,
    const struct reg_contact *cs, size_t n, int64_t now_us, bool *write);
/* Removes every contact of ext_id (Contact: *, Expires: 0) unless one has
 * the same Call-ID with a CSeq not lower than cseq (EALREADY). */
int regtab_remove_all(
    struct regtab *t, int64_t ext_id, const char *call_id, uint32_t cseq);
/* Copies the unexpired contacts of ext_id into out (at most max),
 * highest q first; returns how many. */
size_t regtab_get(struct regtab *t, int64_t ext_id, int64_t now_us,
    struct reg_contact *out, size_t max);
/* Drops contacts expired at now_us; calls cb for each (may be NULL). */
void regtab_expire(struct regtab *t, int64_t now_us,
    void (*cb)(void *arg, int64_t ext_id, const struct reg_contact *c),
    void *arg);
/* Forgets the flows that belong to a closed connection. */
void regtab_flow_gone(struct regtab *t, int worker, uint64_t conn_id);
/* Number of unexpired contacts in all. */
size_t regtab_count(struct regtab *t);

#endif
