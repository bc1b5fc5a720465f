/* guard.h: the in-memory tables that stop brute force, scanners and
 * floods.
 *
 * A source is an IPv4 address or the /64 prefix of an IPv6 address (an
 * IPv4-mapped IPv6 address counts as its IPv4 address). For each tracked
 * source the guard keeps its failures (failed logins and other offences)
 * in the current window, its ban, its repeat offences and whether it
 * authenticated recently. A second table keeps, for each extension with
 * failed logins, their count and sources in the window and its lock; a
 * third one each source's token bucket (rate limit).
 *
 * Thread-safe: each table is split in shards, each with its own mutex; any
 * thread may call any function. Memory is bounded: every entry is
 * allocated by guard_new (params.capacity sources and token buckets, a
 * quarter as many extensions); when a shard is full the least recently
 * touched entry that is not banned (locked) is reused. guard_is_banned
 * allocates nothing and costs one hash lookup; guard_admit two.
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
	GUARD_REASON_MAX = 63,           /* bytes of a ban reason kept */
	GUARD_CAPACITY_MAX = 1 << 24,    /* sources tracked at most */
	GUARD_SHARDS = 16,               /* mutex shards (capacity >= 256) */
	GUARD_FAILURES_MAX = 1000000000, /* params.max_failures at most */
	GUARD_SEEN_MAX = 4,      /* recent targets (or sources) told apart */
	GUARD_LOCK_SOURCES = 3,  /* distinct sources that lock an extension */
	GUARD_RATE_MAX = 1000000 /* params.rate and rate_burst at most */
};

/* 24 hours: how long an offence is remembered after its ban ends when
 * params.offence_keep_us is 0. */
#define GUARD_OFFENCE_KEEP_US ((int64_t)24 * 3600 * 1000000)

/* How long a replaced settings block is kept before it is freed (a reader
 * holds one for a single call). */
#define GUARD_RETIRE_US ((int64_t)60 * 1000000)

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
	const struct config_cidr *deny;  /* always dropped; copied */
	size_t deny_n;                   /* <= CONFIG_CIDR_MAX */
	size_t capacity; /* sources tracked at most, 1..GUARD_CAPACITY_MAX */
	/* The rest is zero when unused (guard_params_config fills it from
	 * the [guard] section). */
	bool disabled; /* [guard] enabled = off: nothing counted nor dropped */
	bool stealth;  /* strangers' bad requests get no answer */
	int64_t lock_us;       /* extension lock; 0: never locked */
	unsigned lock_sources; /* 0: GUARD_LOCK_SOURCES */
	unsigned rate;         /* messages per second per source; 0: no limit */
	unsigned rate_burst;   /* bucket size; 0: rate */
	const char (*decoys)[CONFIG_DECOY_LEN + 1]; /* copied */
	size_t decoys_n;                            /* <= CONFIG_DECOYS_MAX */
	/* Called, with no lock held, each time an offence bans a source
	 * (guard_failure, guard_strike): the ban's end. For the kernel's
	 * drop set ([guard] nft); guard_ban's callers see to their own. */
	void (*on_ban)(
	    void *arg, const struct sockaddr_storage *src, int64_t until_us);
	void *on_ban_arg;
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

/* Replaces the settings of a running guard (a reload): every field of p
 * but capacity (the tables are sized once: it must not change) and the
 * on_ban callback (kept). Bans, failures, trust and locks stay. Safe
 * while other threads use g: each call of theirs sees the old settings
 * or the new ones, whole. Returns 0, or EINVAL (bad params, capacity
 * changed) or ENOMEM; g is unchanged then. */
int guard_reconfigure(
    struct guard *g, const struct guard_params *p, int64_t now_us);

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

/* ---- offences other than failed authentications ---- */

/* Why a source is struck: the reason its ban carries. */
enum guard_why {
	GUARD_WHY_AUTH,    /* a failed authentication (guard_failure) */
	GUARD_WHY_SCANNER, /* a scanner's User-Agent */
	GUARD_WHY_DOMAIN,  /* a request for a domain that is no tenant's */
	GUARD_WHY_SWEEP,   /* a new unknown target user (OPTIONS/INVITE) */
	GUARD_WHY_DECOY,   /* a decoy extension: a ban at once */
};

/* "auth-failures", "scanner", "unknown-domain", "sweep", "decoy": the
 * reason= of the security log. */
const char *guard_why_name(enum guard_why why);
/* The reason kept with a ban ("failed authentications", ...). */
const char *guard_why_text(enum guard_why why);

/* Records one offence of src, as guard_failure does (the same count and
 * window, the same ban; the ban's reason says why). GUARD_WHY_SWEEP counts
 * only a target (a hash of user@domain) that is none of the last
 * GUARD_SEEN_MAX ones of src; GUARD_WHY_DECOY bans at once unless src is
 * trusted (then it is one failure). Returns 1 when it banned src (and
 * sets *banned_until, may be NULL), else 0. */
int guard_strike(struct guard *g, const struct sockaddr_storage *src,
    int64_t now_us, enum guard_why why, uint64_t target, int64_t *banned_until);

/* ---- policy the SIP side asks about ---- */

/* False when [guard] enabled = off. */
bool guard_enabled(const struct guard *g);
/* [guard] stealth. */
bool guard_stealth(const struct guard *g);
/* True when src is in the allow list. */
bool guard_is_allowed(
    const struct guard *g, const struct sockaddr_storage *src);
/* True when the user name (len bytes) is one of the decoys (any case). */
bool guard_is_decoy(const struct guard *g, const char *user, size_t len);

/* ---- extensions under attack ---- */

/* What guard_ext_failure reports when it locks an extension. */
struct guard_lock {
	int64_t until_us;
	unsigned failures; /* in the window, this one included */
	unsigned sources;  /* distinct sources among them */
	bool unbannable;   /* locked by failures from allowed/trusted sources */
};

/* Records a failed authentication for the extension ext_id from src. The
 * extension is locked for params.lock_us when, within the window, it has
 * max_failures failures from at least lock_sources distinct sources, or
 * max_failures failures from sources that cannot be banned (allow-listed
 * or trusted). Returns 1 when this failure locked it (and fills *lock,
 * may be NULL), 0 otherwise (a locked extension stays as it is). */
int guard_ext_failure(struct guard *g, int64_t ext_id,
    const struct sockaddr_storage *src, int64_t now_us,
    struct guard_lock *lock);

/* True when ext_id is locked at now_us. */
bool guard_ext_is_locked(struct guard *g, int64_t ext_id, int64_t now_us);

/* Lifts the lock of ext_id and forgets its failures. Returns 0 or
 * ENOENT (not locked). */
int guard_ext_unlock(struct guard *g, int64_t ext_id);

/* ---- before parsing ---- */

enum guard_verdict {
	GUARD_PASS,
	GUARD_BANNED,       /* drop: the source is banned, or in [guard] deny */
	GUARD_RATE_LIMITED, /* drop: over its token bucket */
};

/* One message from src at now_us: its ban (one lookup), then its token
 * bucket (params.rate per second, params.rate_burst at once; allow-listed
 * sources have none). On GUARD_RATE_LIMITED, *report (may be NULL) is the
 * number of messages of src dropped since the last report when one is
 * due (at most one per second per source), else 0. With params.disabled
 * every message passes. */
enum guard_verdict guard_admit(struct guard *g,
    const struct sockaddr_storage *src, int64_t now_us, uint64_t *report);

/* Fills the fields of p that the [guard] section sets (max_failures,
 * window, ban, allow, deny, enabled, stealth, lock, rate, rate_burst,
 * decoys; deny wins over allow);
 * leaves ban_max_us, trust_us, offence_keep_us and capacity as they are.
 * p keeps pointers into c: c must outlive guard_new. */
void guard_params_config(struct guard_params *p, const struct config *c);

#endif
