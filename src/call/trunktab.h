/* trunktab.h: the daemon's in-memory table of carrier trunks and inbound
 * numbers (DIDs), for routing calls from carriers without a store query
 * on the hot path. Loaded from the store at start and kept current by the
 * change log (kinds "trunk" and "number"), like credtab.
 *
 * What it holds:
 * - every *enabled* trunk with at least one usable network: its id,
 *   tenant, name, host, port, transport and source networks (a disabled
 *   trunk, or one whose stored addresses are all refused by
 *   trunktab_cidr_check, is absent: nothing matches it);
 * - every number whose destination is an extension ("ext:NUMBER"): its
 *   E.164 form, tenant, extension and trunk (0: none named).
 *
 * How a router is meant to use it: the Request-URI's user is looked up
 * with trunktab_number(); a number with a trunk_id accepts a call only
 * from a source inside that trunk (trunktab_trunk_match()); a number
 * without one, from a source inside any trunk of its tenant or a shared
 * trunk (trunktab_match_tenant()). trunktab_match_source() answers "is
 * this source a carrier at all" (several tenants may list the same
 * carrier networks, so the number, not the source, names the tenant).
 *
 * Thread-safe: a read-write lock; lookups copy into the caller's struct,
 * loads build outside the lock and swap under it. Lookups never touch
 * the store. */
#ifndef SW_TRUNKTAB_H
#define SW_TRUNKTAB_H

#include "core/config.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	TRUNKTAB_CIDRS_MAX = CONFIG_CIDR_MAX, /* source networks per trunk */
	TRUNKTAB_V4_PREFIX_MIN = 16,   /* no IPv4 network wider than a /16 */
	TRUNKTAB_V6_PREFIX_MIN = 32,   /* no IPv6 network wider than a /32 */
	TRUNKTAB_E164_DIGITS_MIN = 7,  /* digits after the '+' */
	TRUNKTAB_E164_DIGITS_MAX = 15, /* ITU-T E.164 */
};

struct trunktab;

struct trunk_info {
	int64_t id;
	int64_t tenant_id; /* 0: shared by the provider */
	char name[STORE_NAME_MAX];
	char host[STORE_DOMAIN_MAX]; /* for calls to the carrier (later) */
	uint16_t port;
	char transport[STORE_TRANSPORT_MAX]; /* "tls", "tcp" or "udp" */
	unsigned prefix; /* length of the network that matched the source */
};

struct number_info {
	int64_t id;
	int64_t tenant_id;
	int64_t trunk_id;          /* 0: no trunk named */
	char e164[STORE_E164_MAX]; /* canonical: "+4930123456" */
	char ext[STORE_EXT_MAX];   /* the extension calls go to */
};

int trunktab_new(struct trunktab **out);
void trunktab_free(struct trunktab *t); /* accepts NULL */
size_t trunktab_trunk_count(const struct trunktab *t);
size_t trunktab_number_count(const struct trunktab *t);

/* The policy for a trunk's source network, shared with `sipwarden trunk`:
 * NULL when acceptable, else the reason. Refused: anything wider than an
 * IPv4 /16 or an IPv6 /32 (0.0.0.0/0 and ::/0 included: a trunk open to
 * the world is an open door for toll fraud), and IPv6 networks that hold
 * IPv4-mapped addresses (::ffff:0:0/96 or part of it: write IPv4). */
const char *trunktab_cidr_check(const struct config_cidr *c);

/* Normalises a called number to E.164 ("+" and 7-15 digits, the first
 * 1-9) into out: "+4930123" as it is; "004930123" (international prefix
 * 00) and "4930123" (digits only) as "+4930123". Nothing else is
 * accepted: no separators, no national "0" prefix, no "tel:". Returns 0,
 * or EINVAL (out untouched). */
int trunktab_e164_normalize(
    const char *s, size_t len, char out[STORE_E164_MAX]);

/* Replaces the whole table with the store's trunks and numbers. Returns 0
 * or the store's error (the table is then unchanged). */
int trunktab_load_all(struct trunktab *t, struct store *st);
/* Loads trunk id from the store; removes it from the table when the store
 * no longer has it, it is disabled, or none of its networks is usable.
 * When the row is gone, numbers that named it are left without a trunk,
 * as the store's ON DELETE SET NULL does. Returns 0 or the store's
 * error. */
int trunktab_load_trunk(struct trunktab *t, struct store *st, int64_t id);
/* Loads number id; removes it when the store no longer has it or its
 * destination is not an extension. Returns 0 or the store's error. */
int trunktab_load_number(struct trunktab *t, struct store *st, int64_t id);

/* The trunk with a network holding src (AF_INET or AF_INET6; an
 * IPv4-mapped IPv6 address counts as its IPv4 address and matches only
 * IPv4 networks): the longest prefix wins, then the lowest trunk id.
 * Returns 0 with *out filled, ENOENT when no trunk holds src, EINVAL for
 * another address family. */
int trunktab_match_source(const struct trunktab *t,
    const struct sockaddr_storage *src, struct trunk_info *out);
/* The same among the trunks of tenant_id and the shared ones (EINVAL
 * also for a negative tenant_id). */
int trunktab_match_tenant(const struct trunktab *t, int64_t tenant_id,
    const struct sockaddr_storage *src, struct trunk_info *out);
/* Trunk trunk_id, when it is in the table and holds src (out may be
 * NULL). ENOENT otherwise; EINVAL for another address family. */
int trunktab_trunk_match(const struct trunktab *t, int64_t trunk_id,
    const struct sockaddr_storage *src, struct trunk_info *out);

/* The number e164_or_digits (len bytes, no NUL needed; normalised as
 * trunktab_e164_normalize does). Returns 0 with *out filled, ENOENT when
 * no number is known, EINVAL when the text is not a number. */
int trunktab_number(const struct trunktab *t, const char *e164_or_digits,
    size_t len, struct number_info *out);

#endif
