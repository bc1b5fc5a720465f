/* config.h: the sipwarden configuration file (INI, parsed with libinih).
 *
 * One file, six sections ([daemon] [sip] [media] [store] [portal] [guard]),
 * every key optional with a safe default; an unknown section or key, a
 * duplicate key or a bad value refuses the whole file with one message
 * naming FILE:LINE, the [section] key and the reason. Relative paths are
 * resolved against the folder of the file. config_default_text() writes
 * every key with its default and a comment.
 *
 * Loading changes libinih's process-wide settings (multi-line values off,
 * stop on the first error, line length): call it from one thread at a time
 * (startup and SIGHUP reload run in the main thread). */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	CONFIG_LISTEN_MAX = 8,     /* addresses per listener key */
	CONFIG_CIDR_MAX = 64,      /* entries of a CIDR list ([guard] allow) */
	CONFIG_LINE_MAX = 4096,    /* bytes per line, newline excluded */
	CONFIG_FILE_MAX = 1 << 20, /* bytes per file */
	CONFIG_USER_MAX = 32,      /* [daemon] user */
	CONFIG_NODE_MAX = 63,      /* [daemon] node */
	CONFIG_WORKERS_MAX = 64,   /* [sip] workers */
	CONFIG_ADDR_STRLEN = 56,   /* "[v6addr]:port" or "v6addr/128" + NUL */
	CONFIG_DECOYS_MAX = 32,    /* entries of [guard] decoys */
	CONFIG_DECOY_LEN = 32      /* bytes of one decoy name */
};

/* A listener list: n addresses (AF_INET or AF_INET6, port set), no two
 * equal. n == 0 means closed/off. */
struct config_listen {
	size_t n;
	struct sockaddr_storage addr[CONFIG_LISTEN_MAX];
	socklen_t len[CONFIG_LISTEN_MAX];
};

/* An address block: family AF_INET (4 bytes of addr used) or AF_INET6
 * (16 bytes); prefix 0..32 or 0..128; no host bits set. */
struct config_cidr {
	int family;
	unsigned char addr[16];
	unsigned prefix;
};

/* The loaded configuration; owns every string in it (config_free). */
struct config {
	char *path; /* absolute path of the file (or dir/name) */
	char *dir;  /* absolute folder of the config file */
	char user[CONFIG_USER_MAX + 1];
	/* never empty: the host name by default */
	char node[CONFIG_NODE_MAX + 1];
	char *secret_key; /* absolute */
	int log_level;    /* enum log_level from lib/log.h */
	struct config_listen sip_tls, sip_tcp, sip_udp;
	char *sip_advertise;  /* host name or IP (IPv6 without brackets); NULL:
	                         the listener's address */
	unsigned sip_workers; /* 0 = one per core */
	char *sip_cert, *sip_key; /* absolute */
	char *sip_certs;          /* folder of DOMAIN/cert.pem + key.pem */
	char *sip_client_ca;      /* NULL: no client certificates asked */
	bool sip_client_required;
	uint16_t media_port_lo, media_port_hi;
	struct config_listen media_ng; /* loopback addresses only */
	unsigned media_threads;
	int64_t media_timeout_us;
	char *media_advertise; /* IP literal (IPv6 without brackets); NULL:
	                          the listener's address */
	char *store_url; /* "sqlite:/abs/path" or the postgres url unchanged
	                    (may hold a password: never log it) */
	struct config_listen portal_listen;
	/* CIDR lists: n entries, none listed twice. */
	size_t media_allow_n; /* RTP sources; 0 = everyone */
	struct config_cidr media_allow[CONFIG_CIDR_MAX];
	size_t portal_allow_n; /* portal clients; 0 = this host only */
	struct config_cidr portal_allow[CONFIG_CIDR_MAX];
	size_t guard_phones_n; /* phone networks; 0 = everyone */
	struct config_cidr guard_phones[CONFIG_CIDR_MAX];
	size_t guard_deny_n; /* dropped by the host firewall */
	struct config_cidr guard_deny[CONFIG_CIDR_MAX];
	unsigned guard_max_auth_failures;
	int64_t guard_window_us, guard_ban_us;
	bool guard_stealth;
	bool guard_enabled;    /* off: the guard counts and drops nothing */
	int64_t guard_lock_us; /* extension lock length */
	unsigned guard_rate, guard_rate_burst; /* per source; rate 0: none */
	unsigned guard_conn_rate, guard_conn_burst; /* new conns per source */
	bool guard_nft;              /* bans mirrored into nftables */
	unsigned guard_calls_ext;    /* concurrent calls per caller */
	unsigned guard_calls_tenant; /* concurrent calls per tenant */
	size_t guard_decoys_n;
	char guard_decoys[CONFIG_DECOYS_MAX][CONFIG_DECOY_LEN + 1];
	size_t guard_allow_n;
	struct config_cidr guard_allow[CONFIG_CIDR_MAX];
};

/* Loads the file at path. Returns 0 and sets *out (the caller frees it with
 * config_free), EINVAL for bad content, EFBIG past CONFIG_FILE_MAX, ENOMEM,
 * or the errno of the failing read; err (errsize bytes, may be 0) then holds
 * one line such as "sipwarden.conf:7: [guard] window: ..." or "cannot read
 * /x/y.conf: Permission denied". On error *out is untouched. */
int config_load_file(
    const char *path, struct config **out, char *err, size_t errsize);

/* Loads len bytes of text (no NUL needed; a NUL byte is an error). name is
 * used in messages in place of the path; dir, absolute, is the folder that
 * relative paths resolve against. Returns as config_load_file. */
int config_load_string(const char *text, size_t len, const char *dir,
    const char *name, struct config **out, char *err, size_t errsize);

/* Frees c and everything it owns; accepts NULL. */
void config_free(struct config *c);

/* Returns the default configuration file text (every key with its default
 * and a one-line comment), with user as [daemon] user (NULL: the default
 * "sipwarden"), as a malloc'd string the caller frees. Returns NULL when
 * user is not a valid user name or when out of memory. */
char *config_default_text(const char *user);

/* Formats a listener address as "0.0.0.0:5061" or "[::1]:5061" into buf
 * (CONFIG_ADDR_STRLEN bytes are always enough). Returns buf; "?" for an
 * unknown family. */
char *config_listen_fmt(
    const struct sockaddr_storage *ss, char *buf, size_t size);

/* Formats a CIDR as "10.0.0.0/8" or "2001:db8::/32" into buf
 * (CONFIG_ADDR_STRLEN bytes are always enough). Returns buf. */
char *config_cidr_fmt(const struct config_cidr *cidr, char *buf, size_t size);

/* Parses a comma-separated list of CIDRs ("192.0.2.0/24, 2001:db8::/32";
 * an address without a prefix is a /32 or /128; spaces around entries are
 * ignored; "" is the empty list) into out, at most max entries (max <=
 * CONFIG_CIDR_MAX). Returns 0 and sets *n, or EINVAL with why (whysize
 * bytes) naming the bad entry: not a CIDR, host bits set, listed twice,
 * more than max; out and *n are written only on success. */
int config_cidrs_parse(const char *s, struct config_cidr *out, size_t max,
    size_t *n, char *why, size_t whysize);

/* True when the address sa (AF_INET or AF_INET6; an IPv4-mapped IPv6
 * address counts as its IPv4 address) lies inside cidr. */
bool config_cidr_match(
    const struct config_cidr *cidr, const struct sockaddr *sa);

#endif
