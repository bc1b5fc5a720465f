/* guard.h: the in-memory tables that stop brute force.
 *
 * A source is an IPv4 address or the /64 prefix of an IPv6 address (an
 * IPv4-mapped IPv6 address counts as its IPv4 address). For each tracked
 * source the guard keeps its authentication failures in the current window,
 * its ban, its repeat offences and whether it authenticated recently.
 *
 * Thread-safe: the table is split in shards, each with its own mutex; any
 * thread may call any function. Memory is bounded: every entry is
 * allocated by guard_new (at most params.capacity of them); when a shard is
 * full the least recently touched entry that is not banned is reused.
 * guard_is_banned allocates nothing and costs one hash lookup.
 *
 * Times are microseconds on one monotonic or wall clock chosen by the
 * caller (util_now_us()), passed in as now_us so tests control time. */
#ifndef SW_GUARD_H
#define SW_GUARD_H

#include "core/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	GUARD_REASON_MAX = 63,          /* bytes of a ban reason kept */
	GUARD_CAPACITY_MAX = 1 << 24,   /* sources tracked at most */
	GUARD_SHARDS = 16,              /* mutex shards (capacity >= 256) */
	GUARD_FAILURES_MAX = 1000000000 /* params.max_failures at most */
};

/* 24 hours: how long an offence is remembered after its ban ends when
 * params.offence_keep_us is 0. */
#define GUARD_OFFENCE_KEEP_US ((int64_t)24 * 3600 * 1000000)

struct guard;

struct guard_params {
	unsigned max_failures; /* failures per window that cause a ban, >= 1 */
	int64_t window_us;     /* > 0 */
	int64_t ban_us;        /* first ban, > 0 */
	int64_t ban_max_us;    /* cap of the doubling, >= ban_us */
	int64_t trust_us;      /* trust after a success; 0: never trusted */
	int64_t offence_keep_us;         /* 0: GUARD_OFFENCE_KEEP_US */
	const struct config_cidr *allow; /* never banned; copied */
	size_t allow_n;                  /* <= CONFIG_CIDR_MAX */
	size_t capacity; /* sources tracked at most, 1..GUARD_CAPACITY_MAX */
};

/* One active ban, as guard_list reports it. */
struct guard_ban_info {
	struct sockaddr_storage addr; /* AF_INET, or AF_INET6 with the /64 */
	unsigned prefix;              /* 32 or 64 */
	int64_t until_us;
	unsigned offences; /* bans so far, this one included */
	bool manual;       /* set by guard_ban */
	char reason[GUARD_REASON_MAX + 1];
};

/* Called by guard_list for each active ban, with a shard lock held: it must
 * not call back into the guard. Returns 0 to go on, nonzero to stop. */
typedef int guard_list_cb(const struct guard_ban_info *ban, void *arg);

/* Allocates a guard with all of its entries. Returns 0 and sets *out (the
 * caller frees it with guard_free), EINVAL for bad params or ENOMEM. */
int guard_new(const struct guard_params *p, struct guard **out);

/* Frees g; accepts NULL. No other thread may be using it. */
void guard_free(struct guard *g);

/* True when src is banned at now_us (an expired ban is no ban). */
bool guard_is_banned(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us);

/* Records one authentication failure from src. Returns 1 when it caused a
 * ban and sets *banned_until (may be NULL), 0 otherwise: allow-listed
 * sources are never tracked, trusted ones are counted but not banned, a
 * banned source stays as it is, and an unknown family is ignored. */
int guard_failure(struct guard *g, const struct sockaddr_storage *src,
    int64_t now_us, int64_t *banned_until);

/* Records a successful authentication: clears the failure count of src and
 * trusts it for params.trust_us. Allow-listed sources are not tracked. */
void guard_success(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us);

/* True when src authenticated successfully within params.trust_us. */
bool guard_is_trusted(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us);

/* Returns the failures of src counted in its current window. */
unsigned guard_failures(
    struct guard *g, const struct sockaddr_storage *src, int64_t now_us);

/* Bans src until until_us (now_us is the current time), with reason (may
 * be NULL; truncated to GUARD_REASON_MAX bytes). Replaces any ban. Returns
 * 0, EINVAL (until_us <= now_us), EAFNOSUPPORT, EPERM (src is in the allow
 * list) or ENOSPC (its shard is full of banned sources). */
int guard_ban(struct guard *g, const struct sockaddr_storage *src,
    int64_t now_us, int64_t until_us, const char *reason);

/* Lifts the ban of src and forgets its failures and offences. Returns 0,
 * ENOENT (not banned) or EAFNOSUPPORT. */
int guard_unban(struct guard *g, const struct sockaddr_storage *src);

/* Calls cb for each ban active at now_us, shard by shard, in no particular
 * order. Returns the first nonzero value of cb, or 0. */
int guard_list(struct guard *g, int64_t now_us, guard_list_cb *cb, void *arg);

/* Returns the number of sources tracked now (banned or not), never more
 * than the capacity. */
size_t guard_count(struct guard *g);

#endif
