/* config.c: see config.h.
 *
 * libinih does the INI syntax; this file feeds it one line at a time through
 * its own reader (ini_parse_stream), which counts lines, refuses NUL bytes
 * and over-long lines (inih would cut them and read the rest as a new line)
 * and checks section headers (inih calls no handler for them and ignores
 * text after the ']'). Every key is described once in cfg_keys[]: its
 * default, its comment for config_default_text() and how to parse it; the
 * defaults go through the same parsers as the file. */
#include "core/config.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	CFG_QUOTE_MAX = 64,   /* value bytes quoted in a message */
	CFG_QUOTE_SIZE = 300, /* room for CFG_QUOTE_MAX escaped bytes */
	CFG_WHY_SIZE = 512,
	CFG_HOST_MAX = 253,
	CFG_LABEL_MAX = 63,
	CFG_DURATION_DIGITS_MAX = 1000000000, /* before the unit */
	CFG_PORT_MIN = 1025
};

enum cfg_type {
	CFG_USER,
	CFG_NODE,
	CFG_PATH,
	CFG_OPTPATH, /* a path, or empty for none (NULL) */
	CFG_LOG_LEVEL,
	CFG_LISTEN,
	CFG_HOST,
	CFG_IP,
	CFG_UINT,
	CFG_PORTS,
	CFG_URL,
	CFG_DURATION,
	CFG_BOOL,
	CFG_CIDRS,
	CFG_NAMES /* [guard] decoys: a list of user names */
};

enum {
	CFG_LOOPBACK = 1, /* CFG_LISTEN: loopback addresses only */
	CFG_NOT_ALL = 2   /* CFG_CIDRS: no /0 (every address) entry */
};

/* One key: where it lives, its default and comment, how to parse it. */
struct cfg_key {
	const char *section;
	const char *name;
	const char *def;
	const char *comment;
	enum cfg_type type;
	size_t off;        /* of the field in struct config */
	uint64_t min, max; /* CFG_UINT: the value; CFG_DURATION: seconds;
	                      CFG_CIDRS: min is the offset of the count */
	unsigned flags;
};

#define CFG_OFF(field) offsetof(struct config, field)

/* The order is the order of config_default_text(); keys of one section
 * stay together. */
static const struct cfg_key cfg_keys[] = {
    {"daemon", "user", "sipwarden",
        "the system user to run as when started as root", CFG_USER,
        CFG_OFF(user), 0, 0, 0},
    {"daemon", "node", "",
        "this node's name for bindings; empty = the host name", CFG_NODE,
        CFG_OFF(node), 0, 0, 0},
    {"daemon", "secret_key", "secret.key",
        "server secret file (made by sipwarden init, mode 0600)", CFG_PATH,
        CFG_OFF(secret_key), 0, 0, 0},
    {"daemon", "log_level", "info", "error, warn, info or debug", CFG_LOG_LEVEL,
        CFG_OFF(log_level), 0, 0, 0},
    {"sip", "tls", "0.0.0.0:5061",
        "SIP over TLS listeners (e.g. 0.0.0.0:5061, [::]:5061); empty = closed",
        CFG_LISTEN, CFG_OFF(sip_tls), 0, 0, 0},
    {"sip", "tcp", "", "plain SIP over TCP listeners; empty = closed",
        CFG_LISTEN, CFG_OFF(sip_tcp), 0, 0, 0},
    {"sip", "udp", "", "plain SIP over UDP listeners; empty = closed",
        CFG_LISTEN, CFG_OFF(sip_udp), 0, 0, 0},
    {"sip", "advertise", "",
        "public host name or IP for Via/Contact behind 1:1 NAT; empty = the "
        "listener's",
        CFG_HOST, CFG_OFF(sip_advertise), 0, 0, 0},
    {"sip", "workers", "0", "signalling threads, 0..64; 0 = one per core",
        CFG_UINT, CFG_OFF(sip_workers), 0, CONFIG_WORKERS_MAX, 0},
    {"sip", "cert", "tls/cert.pem", "TLS certificate chain (PEM)", CFG_PATH,
        CFG_OFF(sip_cert), 0, 0, 0},
    {"sip", "key", "tls/key.pem", "TLS private key (PEM)", CFG_PATH,
        CFG_OFF(sip_key), 0, 0, 0},
    {"sip", "certs", "tls/domains",
        "folder of per-domain certificates DOMAIN/cert.pem + DOMAIN/key.pem, "
        "chosen by SNI",
        CFG_PATH, CFG_OFF(sip_certs), 0, 0, 0},
    {"sip", "client_ca", "",
        "CA file (PEM) to verify phones' client certificates; empty = none "
        "asked",
        CFG_OPTPATH, CFG_OFF(sip_client_ca), 0, 0, 0},
    {"sip", "client_cert_required", "off",
        "on: a TLS client without a valid certificate is refused (needs "
        "client_ca)",
        CFG_BOOL, CFG_OFF(sip_client_required), 0, 0, 0},
    {"media", "ports", "10000-20000",
        "RTP port range LO-HI: LO even, 1024 < LO < HI <= 65535", CFG_PORTS,
        CFG_OFF(media_port_lo), 0, 0, 0},
    {"media", "ng", "",
        "rtpengine-compatible ng control listeners, loopback only; empty = off",
        CFG_LISTEN, CFG_OFF(media_ng), 0, 0, CFG_LOOPBACK},
    {"media", "threads", "1",
        "media relay threads, 1..64 (each takes whole calls)", CFG_UINT,
        CFG_OFF(media_threads), 1, 64, 0},
    {"media", "timeout", "60s",
        "a call whose media stops this long is ended with BYE, 5s..1d",
        CFG_DURATION, CFG_OFF(media_timeout_us), 5, 86400, 0},
    {"media", "advertise", "",
        "public IP for SDP c= behind 1:1 NAT; empty = the listener's", CFG_IP,
        CFG_OFF(media_advertise), 0, 0, 0},
    {"media", "allow", "",
        "CIDRs the host firewall lets reach the RTP ports; empty = everyone",
        CFG_CIDRS, CFG_OFF(media_allow), CFG_OFF(media_allow_n), 0, 0},
    {"store", "url", "sqlite:sipwarden.db",
        "sqlite:PATH or postgresql://user@host/db", CFG_URL, CFG_OFF(store_url),
        0, 0, 0},
    {"portal", "listen", "127.0.0.1:8443", "web portal listeners; empty = off",
        CFG_LISTEN, CFG_OFF(portal_listen), 0, 0, 0},
    {"portal", "allow", "",
        "CIDRs the host firewall lets reach the portal; empty = this host only",
        CFG_CIDRS, CFG_OFF(portal_allow), CFG_OFF(portal_allow_n), 0, 0},
    {"guard", "enabled", "on",
        "off: no bans, locks, drops or limits (measurements only; audit "
        "flags it)",
        CFG_BOOL, CFG_OFF(guard_enabled), 0, 0, 0},
    {"guard", "max_auth_failures", "5",
        "failed authentications per source address per window, 1..1000",
        CFG_UINT, CFG_OFF(guard_max_auth_failures), 1, 1000, 0},
    {"guard", "window", "60s",
        "counting window, 1s..7d (a number and s, m, h or d)", CFG_DURATION,
        CFG_OFF(guard_window_us), 1, 7 * 86400, 0},
    {"guard", "ban", "1h", "ban length, 1m..365d", CFG_DURATION,
        CFG_OFF(guard_ban_us), 60, 365 * 86400, 0},
    {"guard", "lock", "15m",
        "lock of an extension under attack (failures from many sources or "
        "from unbannable ones), 1m..1d",
        CFG_DURATION, CFG_OFF(guard_lock_us), 60, 86400, 0},
    {"guard", "stealth", "on",
        "on: stay silent to strangers; off: answer them as RFC 3261 says",
        CFG_BOOL, CFG_OFF(guard_stealth), 0, 0, 0},
    {"guard", "decoys", "100,1000,admin,test,1234,0000,101,200",
        "decoy user names (no real extension): their first REGISTER or "
        "INVITE bans the source",
        CFG_NAMES, CFG_OFF(guard_decoys), 0, 0, 0},
    {"guard", "rate", "200",
        "messages per second per source before parsing, 0..1000000; 0 = no "
        "limit",
        CFG_UINT, CFG_OFF(guard_rate), 0, 1000000, 0},
    {"guard", "rate_burst", "400",
        "messages a source may send at once above the rate, 1..1000000",
        CFG_UINT, CFG_OFF(guard_rate_burst), 1, 1000000, 0},
    {"guard", "nft", "off",
        "on: bans also go into an nftables set the kernel drops (the daemon "
        "must start as root; a root supervisor keeps that one right)",
        CFG_BOOL, CFG_OFF(guard_nft), 0, 0, 0},
    {"guard", "conn_rate", "50",
        "new TCP/TLS connections per second per source, 0..100000; 0 = no "
        "limit",
        CFG_UINT, CFG_OFF(guard_conn_rate), 0, 100000, 0},
    {"guard", "conn_burst", "400",
        "new connections a source may open at once above conn_rate, "
        "1..100000",
        CFG_UINT, CFG_OFF(guard_conn_burst), 1, 100000, 0},
    {"guard", "calls_per_extension", "10",
        "calls an extension may have up at once as the caller, 1..1000",
        CFG_UINT, CFG_OFF(guard_calls_ext), 1, 1000, 0},
    {"guard", "calls_per_tenant", "200",
        "calls a tenant may have up at once, 1..100000", CFG_UINT,
        CFG_OFF(guard_calls_tenant), 1, 100000, 0},
    {"guard", "allow", "",
        "CIDRs never banned nor rate-limited, comma-separated, at most 64",
        CFG_CIDRS, CFG_OFF(guard_allow), CFG_OFF(guard_allow_n), 0, 0},
    {"guard", "phones", "",
        "CIDRs the host firewall lets reach the SIP ports; empty = everyone",
        CFG_CIDRS, CFG_OFF(guard_phones), CFG_OFF(guard_phones_n), 0, 0},
    {"guard", "deny", "", "CIDRs the host firewall drops before anything else",
        CFG_CIDRS, CFG_OFF(guard_deny), CFG_OFF(guard_deny_n), 0, CFG_NOT_ALL},
};

enum { CFG_NKEYS = ARRAY_LEN(cfg_keys) };

/* One load in progress: the text, the reader's cursor, the first error. */
struct cfg_load {
	struct config *c;
	const char *name; /* for messages */
	const char *text;
	size_t len, pos;
	unsigned lineno;          /* of the line the reader returned last */
	unsigned line[CFG_NKEYS]; /* where each key was set; 0: default */
	int error;                /* first error, 0 while none */
	char *err;
	size_t errsize;
};

static char cfg_inline_prefixes[] = ";";
static char cfg_start_prefixes[] = ";#";

/* Quotes len bytes of s for a message: "...", bytes outside printable
 * ASCII as \xNN, cut after CFG_QUOTE_MAX bytes. */
static void
cfg_quote(const char *s, size_t len, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	if (size < 8) {
		if (size > 0)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (i = 0; i < len && i < CFG_QUOTE_MAX && o + 8 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	if (i < len) {
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

static bool
cfg_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' ||
	       ch == '\f' || ch == '\r';
}

static bool
cfg_is_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* Joins dir (absolute) and path unless path is absolute. Returns a malloc'd
 * string or NULL when out of memory. */
static char *
cfg_path_abs(const char *dir, const char *path)
{
	size_t dlen = strlen(dir);
	char *s;

	if (path[0] == '/' || dlen == 0)
		return strdup(path);
	if (dir[dlen - 1] == '/') {
		if (asprintf(&s, "%s%s", dir, path) == -1)
			return NULL;
		return s;
	}
	return util_path_join(dir, path);
}

/* Duration in seconds as "7d", "1h", "1m" or "90s". */
static void
cfg_duration_fmt(uint64_t secs, char *buf, size_t size)
{
	if (secs != 0 && secs % 86400 == 0)
		snprintf(buf, size, "%" PRIu64 "d", secs / 86400);
	else if (secs != 0 && secs % 3600 == 0)
		snprintf(buf, size, "%" PRIu64 "h", secs / 3600);
	else if (secs != 0 && secs % 60 == 0)
		snprintf(buf, size, "%" PRIu64 "m", secs / 60);
	else
		snprintf(buf, size, "%" PRIu64 "s", secs);
}

static bool
cfg_user_valid(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > CONFIG_USER_MAX)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (i = 1; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		        ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool
cfg_node_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CONFIG_NODE_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!cfg_is_alnum(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-'
 * (not first nor last), the last label not all digits. */
static bool
cfg_hostname_valid(const char *s, size_t len)
{
	size_t i, start = 0;
	bool digits = true;

	if (len == 0 || len > CFG_HOST_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t n = i - start;

			if (n == 0 || n > CFG_LABEL_MAX || s[start] == '-' ||
			    s[i - 1] == '-')
				return false;
			if (i == len && digits)
				return false;
			start = i + 1;
			digits = true;
			continue;
		}
		if (!cfg_is_alnum(s[i]) && s[i] != '-')
			return false;
		if (s[i] < '0' || s[i] > '9')
			digits = false;
	}
	return true;
}

/* Parses an IP literal of len bytes into the family's address bytes
 * (addr: 16 bytes). Returns AF_INET, AF_INET6 or 0 when it is none. */
static int
cfg_ip_parse(const char *s, size_t len, unsigned char *addr)
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(buf, ':', len) != NULL)
		return inet_pton(AF_INET6, buf, addr) == 1 ? AF_INET6 : 0;
	return inet_pton(AF_INET, buf, addr) == 1 ? AF_INET : 0;
}

/* Parses one "a.b.c.d:port" or "[v6]:port" of len bytes. Returns 0 or
 * EINVAL with why filled. */
static int
cfg_listen_item_parse(const char *s, size_t len, unsigned flags,
    struct sockaddr_storage *ss, socklen_t *slp, char *why, size_t whysize)
{
	unsigned char addr[16];
	char q[CFG_QUOTE_SIZE];
	const char *host, *port, *end = s + len;
	size_t hostlen;
	uint64_t pnum;
	int family;
	bool bracket = false;

	cfg_quote(s, len, q, sizeof(q));
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', len);

		if (rb == NULL || rb + 1 == end || rb[1] != ':') {
			snprintf(why, whysize,
			    "%s is not [IPV6]:PORT (missing \"]:\" or port)",
			    q);
			return EINVAL;
		}
		bracket = true;
		host = s + 1;
		hostlen = (size_t)(rb - host);
		port = rb + 2;
	} else {
		const char *colon = memrchr(s, ':', len);

		if (colon == NULL) {
			snprintf(why, whysize,
			    "%s has no port (use ADDR:PORT or [ADDR]:PORT)", q);
			return EINVAL;
		}
		if (memchr(s, ':', len) != colon) {
			if (cfg_ip_parse(s, len, addr) == AF_INET6 ||
			    cfg_ip_parse(s, (size_t)(colon - s), addr) ==
			        AF_INET6)
				snprintf(why, whysize,
				    "%s: an IPv6 address needs brackets "
				    "([ADDR]:PORT)",
				    q);
			else
				snprintf(why, whysize,
				    "%s is not an IP address and port", q);
			return EINVAL;
		}
		host = s;
		hostlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (util_u64_parse(port, (size_t)(end - port), 65535, &pnum) != 0 ||
	    pnum == 0) {
		snprintf(why, whysize, "%s: the port must be 1..65535", q);
		return EINVAL;
	}
	family = cfg_ip_parse(host, hostlen, addr);
	if (family == 0 || (family == AF_INET6) != bracket) {
		snprintf(why, whysize, "%s is not an IP address and port", q);
		return EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if ((flags & CFG_LOOPBACK) && addr[0] != 127)
			goto loopback;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)pnum);
		memcpy(&sin->sin_addr, addr, 4);
		*slp = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pnum);
		memcpy(&sin6->sin6_addr, addr, 16);
		if ((flags & CFG_LOOPBACK) &&
		    !IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			goto loopback;
		*slp = sizeof(*sin6);
	}
	return 0;
loopback:
	snprintf(why, whysize,
	    "%s is not a loopback address (use 127.0.0.1 or [::1])", q);
	return EINVAL;
}

/* Splits v at commas into trimmed items; calls back for each. Returns 0,
 * EINVAL with why filled for an empty item, or the callback's error. */
static int
cfg_list_each(const char *v, char *why, size_t whysize,
    int (*item_cb)(
        void *arg, const char *s, size_t len, char *why, size_t whysize),
    void *arg)
{
	const char *p = v;
	int err;

	if (*v == '\0')
		return 0;
	for (;;) {
		const char *comma = strchr(p, ','), *e;

		e = comma ? comma : p + strlen(p);
		while (p < e && cfg_is_space(*p))
			p++;
		while (e > p && cfg_is_space(e[-1]))
			e--;
		if (p == e) {
			snprintf(why, whysize, "empty entry in the list");
			return EINVAL;
		}
		if ((err = item_cb(arg, p, (size_t)(e - p), why, whysize)) != 0)
			return err;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

struct cfg_listen_arg {
	struct config_listen *l;
	unsigned flags;
};

static int
cfg_listen_item_cb(
    void *arg, const char *s, size_t len, char *why, size_t whysize)
{
	struct cfg_listen_arg *a = arg;
	struct config_listen *l = a->l;
	char q[CFG_QUOTE_SIZE];
	size_t i;
	int err;

	if (l->n == CONFIG_LISTEN_MAX) {
		snprintf(
		    why, whysize, "more than %d addresses", CONFIG_LISTEN_MAX);
		return EINVAL;
	}
	if ((err = cfg_listen_item_parse(s, len, a->flags, &l->addr[l->n],
	         &l->len[l->n], why, whysize)) != 0)
		return err;
	for (i = 0; i < l->n; i++) {
		if (l->len[i] == l->len[l->n] &&
		    memcmp(&l->addr[i], &l->addr[l->n], l->len[i]) == 0) {
			cfg_quote(s, len, q, sizeof(q));
			snprintf(why, whysize, "%s is listed twice", q);
			return EINVAL;
		}
	}
	l->n++;
	return 0;
}

/* Clears the bits of cidr->addr past its prefix. */
static void
cfg_cidr_mask(struct config_cidr *cidr)
{
	unsigned i;

	for (i = 0; i < sizeof(cidr->addr); i++) {
		unsigned bit = i * 8;

		if (bit >= cidr->prefix)
			cidr->addr[i] = 0;
		else if (cidr->prefix - bit < 8)
			cidr->addr[i] &=
			    (unsigned char)(0xff00u >> (cidr->prefix - bit));
	}
}

/* A CIDR list being parsed: at most max entries into a, *n so far. */
struct cfg_cidr_arg {
	struct config_cidr *a;
	size_t *n, max;
};

static int
cfg_cidr_item_cb(
    void *arg, const char *s, size_t len, char *why, size_t whysize)
{
	struct cfg_cidr_arg *c = arg;
	struct config_cidr cidr, masked;
	char q[CFG_QUOTE_SIZE];
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len, i;
	unsigned maxbits;
	uint64_t prefix;

	cfg_quote(s, len, q, sizeof(q));
	if (*c->n == c->max) {
		snprintf(why, whysize, "more than %zu entries", c->max);
		return EINVAL;
	}
	memset(&cidr, 0, sizeof(cidr));
	if ((cidr.family = cfg_ip_parse(s, alen, cidr.addr)) == 0) {
		snprintf(why, whysize,
		    "%s is not a CIDR (use 192.0.2.0/24 or 2001:db8::/32)", q);
		return EINVAL;
	}
	maxbits = cidr.family == AF_INET ? 32 : 128;
	prefix = maxbits;
	if (slash != NULL &&
	    (util_u64_parse(slash + 1, len - alen - 1, 1000, &prefix) != 0 ||
	        prefix > maxbits)) {
		snprintf(why, whysize, "%s: the prefix length must be 0..%u", q,
		    maxbits);
		return EINVAL;
	}
	cidr.prefix = (unsigned)prefix;
	masked = cidr;
	cfg_cidr_mask(&masked);
	if (memcmp(masked.addr, cidr.addr, sizeof(cidr.addr)) != 0) {
		char fix[CONFIG_ADDR_STRLEN];

		config_cidr_fmt(&masked, fix, sizeof(fix));
		snprintf(why, whysize,
		    "%s has host bits set (did you mean %s?)", q, fix);
		return EINVAL;
	}
	for (i = 0; i < *c->n; i++) {
		if (memcmp(&c->a[i], &cidr, sizeof(cidr)) == 0) {
			snprintf(why, whysize, "%s is listed twice", q);
			return EINVAL;
		}
	}
	c->a[(*c->n)++] = cidr;
	return 0;
}

/* A list of user names being parsed ([guard] decoys). */
struct cfg_names_arg {
	char names[CONFIG_DECOYS_MAX][CONFIG_DECOY_LEN + 1];
	size_t n;
};

/* One user name: 1..CONFIG_DECOY_LEN letters, digits or . _ - +, not
 * listed twice (compared without case). */
static int
cfg_name_item_cb(
    void *arg, const char *s, size_t len, char *why, size_t whysize)
{
	struct cfg_names_arg *a = arg;
	char q[CFG_QUOTE_SIZE];
	size_t i;

	cfg_quote(s, len, q, sizeof(q));
	if (a->n == CONFIG_DECOYS_MAX) {
		snprintf(why, whysize, "more than %d names", CONFIG_DECOYS_MAX);
		return EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		        ch == '-' || ch == '+'))
			break;
	}
	if (len > CONFIG_DECOY_LEN || i < len) {
		snprintf(why, whysize,
		    "%s is not a user name (1..%d letters, digits, . _ - +)", q,
		    CONFIG_DECOY_LEN);
		return EINVAL;
	}
	for (i = 0; i < a->n; i++) {
		if (strlen(a->names[i]) == len &&
		    strncasecmp(a->names[i], s, len) == 0) {
			snprintf(why, whysize, "%s is listed twice", q);
			return EINVAL;
		}
	}
	memcpy(a->names[a->n], s, len);
	a->names[a->n][len] = '\0';
	a->n++;
	return 0;
}

/* Sets *sp to a copy of v (NULL when v is empty). Returns 0 or ENOMEM. */
static int
cfg_str_set(char **sp, const char *v, size_t len)
{
	char *s = NULL;

	if (len > 0 && (s = strndup(v, len)) == NULL)
		return ENOMEM;
	free(*sp);
	*sp = s;
	return 0;
}

/* Parses value v of key k into c. Returns 0, EINVAL with why filled, or
 * ENOMEM. */
static int
cfg_value_parse(struct config *c, const struct cfg_key *k, const char *v,
    char *why, size_t whysize)
{
	void *field = (char *)c + k->off;
	size_t len = strlen(v);
	char q[CFG_QUOTE_SIZE], lo[24], hi[24];
	unsigned char addr[16];
	uint64_t n = 0, m = 0;
	int err = 0;

	cfg_quote(v, len, q, sizeof(q));
	switch (k->type) {
	case CFG_USER:
		if (!cfg_user_valid(v)) {
			snprintf(why, whysize,
			    "%s is not a user name (a-z, 0-9, _ and -, not "
			    "starting with a digit or -, at most %d)",
			    q, CONFIG_USER_MAX);
			return EINVAL;
		}
		memcpy(c->user, v, len + 1);
		return 0;
	case CFG_NODE:
		if (len > 0 && !cfg_node_valid(v, len)) {
			snprintf(why, whysize,
			    "%s is not a node name (letters, digits, . and "
			    "-, at most %d)",
			    q, CONFIG_NODE_MAX);
			return EINVAL;
		}
		memcpy(c->node, v, len + 1);
		return 0;
	case CFG_OPTPATH:
		if (len == 0) {
			free(*(char **)field);
			*(char **)field = NULL;
			return 0;
		}
		__attribute__((fallthrough));
	case CFG_PATH: {
		char **sp = field, *s;

		if (len == 0) {
			snprintf(why, whysize, "the path is empty");
			return EINVAL;
		}
		if ((s = cfg_path_abs(c->dir, v)) == NULL)
			return ENOMEM;
		if (strlen(s) >= PATH_MAX) {
			free(s);
			snprintf(why, whysize, "the path is too long");
			return EINVAL;
		}
		free(*sp);
		*sp = s;
		return 0;
	}
	case CFG_LOG_LEVEL: {
		static const char *names[] = {"error", "warn", "info", "debug"};
		static const enum log_level lvls[] = {
		    LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG};
		size_t i;

		for (i = 0; i < ARRAY_LEN(names); i++) {
			if (strcmp(v, names[i]) == 0) {
				c->log_level = (int)lvls[i];
				return 0;
			}
		}
		snprintf(
		    why, whysize, "%s is not error, warn, info or debug", q);
		return EINVAL;
	}
	case CFG_LISTEN: {
		struct config_listen tmp;
		struct cfg_listen_arg a = {&tmp, k->flags};

		memset(&tmp, 0, sizeof(tmp));
		if ((err = cfg_list_each(
		         v, why, whysize, cfg_listen_item_cb, &a)) != 0)
			return err;
		memcpy(field, &tmp, sizeof(tmp));
		return 0;
	}
	case CFG_HOST:
	case CFG_IP: {
		const char *h = v;
		size_t hlen = len;
		int family;

		if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
			h = v + 1;
			hlen = len - 2;
		}
		family = cfg_ip_parse(h, hlen, addr);
		if (len == 0 || (h != v && family == AF_INET6) /* [v6] */ ||
		    (h == v && family != 0) ||
		    (h == v && k->type == CFG_HOST &&
		        cfg_hostname_valid(v, len)))
			return cfg_str_set(field, h, hlen);
		if (k->type == CFG_HOST)
			snprintf(why, whysize,
			    "%s is not a host name or IP address", q);
		else
			snprintf(why, whysize, "%s is not an IP address", q);
		return EINVAL;
	}
	case CFG_UINT:
		err = util_u64_parse(v, len, UINT32_MAX, &n);
		if (err == EINVAL) {
			snprintf(why, whysize, "%s is not a number", q);
			return EINVAL;
		}
		if (err != 0 || n < k->min || n > k->max) {
			snprintf(why, whysize,
			    "%s is out of range (%" PRIu64 "..%" PRIu64 ")", q,
			    k->min, k->max);
			return EINVAL;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	case CFG_PORTS: {
		const char *dash = strchr(v, '-');

		if (dash == NULL ||
		    util_u64_parse(v, (size_t)(dash - v), UINT32_MAX, &n) !=
		        0 ||
		    util_u64_parse(
		        dash + 1, strlen(dash + 1), UINT32_MAX, &m) != 0) {
			snprintf(why, whysize,
			    "%s is not a port range (use 10000-20000)", q);
			return EINVAL;
		}
		if (n < CFG_PORT_MIN || m > 65535 || n >= m) {
			snprintf(why, whysize,
			    "%s: ports must satisfy 1024 < LO < HI <= 65535",
			    q);
			return EINVAL;
		}
		if (n % 2 != 0) {
			snprintf(why, whysize,
			    "%s: LO must be even (RTP takes even ports)", q);
			return EINVAL;
		}
		c->media_port_lo = (uint16_t)n;
		c->media_port_hi = (uint16_t)m;
		return 0;
	}
	case CFG_URL: {
		char **sp = field, *s, *path;

		if (strncmp(v, "sqlite:", 7) == 0) {
			if (v[7] == '\0') {
				snprintf(why, whysize,
				    "sqlite: needs a path "
				    "(e.g. sqlite:sipwarden.db)");
				return EINVAL;
			}
			if ((path = cfg_path_abs(c->dir, v + 7)) == NULL)
				return ENOMEM;
			err = asprintf(&s, "sqlite:%s", path);
			free(path);
			if (err == -1)
				return ENOMEM;
		} else if (strncmp(v, "postgresql://", 13) == 0 ||
		           strncmp(v, "postgres://", 11) == 0) {
			/* No echo: the url may hold a password. */
			if (strpbrk(v, " \t") != NULL) {
				snprintf(why, whysize,
				    "a postgresql url has no spaces");
				return EINVAL;
			}
			if ((s = strdup(v)) == NULL)
				return ENOMEM;
		} else {
			snprintf(why, whysize,
			    "must be sqlite:PATH or postgresql://...");
			return EINVAL;
		}
		if (*sp != NULL)
			explicit_bzero(*sp, strlen(*sp));
		free(*sp);
		*sp = s;
		return 0;
	}
	case CFG_DURATION: {
		static const struct {
			char unit;
			uint64_t secs;
		} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
		size_t i;

		for (i = 0; len >= 2 && i < ARRAY_LEN(units); i++)
			if (v[len - 1] == units[i].unit)
				break;
		if (len < 2 || i == ARRAY_LEN(units) ||
		    (err = util_u64_parse(
		         v, len - 1, CFG_DURATION_DIGITS_MAX, &n)) == EINVAL) {
			snprintf(why, whysize,
			    "%s is not a duration (use 30s, 5m, 1h, 7d)", q);
			return EINVAL;
		}
		if (err == 0)
			n *= units[i].secs; /* 1e9 * 86400 at most */
		if (err != 0 || n < k->min || n > k->max) {
			cfg_duration_fmt(k->min, lo, sizeof(lo));
			cfg_duration_fmt(k->max, hi, sizeof(hi));
			snprintf(why, whysize, "%s is out of range (%s..%s)", q,
			    lo, hi);
			return EINVAL;
		}
		*(int64_t *)field = (int64_t)n * 1000000;
		return 0;
	}
	case CFG_BOOL:
		if (strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 ||
		    strcmp(v, "true") == 0) {
			*(bool *)field = true;
			return 0;
		}
		if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 ||
		    strcmp(v, "false") == 0) {
			*(bool *)field = false;
			return 0;
		}
		snprintf(why, whysize,
		    "%s is not on, off, yes, no, true or false", q);
		return EINVAL;
	case CFG_NAMES: {
		struct cfg_names_arg a = {{{0}}, 0};

		if ((err = cfg_list_each(
		         v, why, whysize, cfg_name_item_cb, &a)) != 0)
			return err;
		memcpy(c->guard_decoys, a.names, sizeof(a.names));
		c->guard_decoys_n = a.n;
		return 0;
	}
	case CFG_CIDRS: {
		struct config_cidr tmp[CONFIG_CIDR_MAX];
		char f[CONFIG_ADDR_STRLEN];
		size_t cnt = 0, i;

		memset(tmp, 0, sizeof(tmp));
		if ((err = config_cidrs_parse(
		         v, tmp, CONFIG_CIDR_MAX, &cnt, why, whysize)) != 0)
			return err;
		for (i = 0; i < cnt && (k->flags & CFG_NOT_ALL); i++) {
			if (tmp[i].prefix == 0) {
				snprintf(why, whysize,
				    "%s would match every address",
				    config_cidr_fmt(&tmp[i], f, sizeof(f)));
				return EINVAL;
			}
		}
		memcpy(field, tmp, sizeof(tmp));
		*(size_t *)(void *)((char *)c + k->min) = cnt;
		return 0;
	}
	}
	snprintf(why, whysize, "internal error: unknown key type");
	return EINVAL;
}

/* Records the first error: "NAME:LINE: " (no LINE when line is 0) and the
 * formatted text. */
static void cfg_fail(struct cfg_load *ld, int code, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
cfg_fail(struct cfg_load *ld, int code, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ld->error != 0)
		return;
	ld->error = code;
	if (ld->errsize == 0)
		return;
	if (line > 0)
		n = snprintf(ld->err, ld->errsize, "%s:%u: ", ld->name, line);
	else
		n = snprintf(ld->err, ld->errsize, "%s: ", ld->name);
	if (n < 0 || (size_t)n >= ld->errsize)
		return;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->errsize - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool
cfg_section_known(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++)
		if (strlen(cfg_keys[i].section) == len &&
		    memcmp(cfg_keys[i].section, s, len) == 0)
			return true;
	return false;
}

/* Checks what inih would accept silently: a section header must name a
 * known section and hold nothing but a comment after its ']'; a key line
 * must use '=' (inih also takes "name: value"). Returns false after
 * recording an error. */
static bool
cfg_line_check(struct cfg_load *ld, const char *p, size_t len)
{
	const char *end = p + len, *s;
	char q[CFG_QUOTE_SIZE];

	if (ld->lineno == 1 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end && cfg_is_space(*p))
		p++;
	if (p == end || *p == ';' || *p == '#')
		return true;
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));

		if (rb == NULL) {
			cfg_fail(ld, EINVAL, ld->lineno,
			    "section header without ']'");
			return false;
		}
		if (!cfg_section_known(p + 1, (size_t)(rb - p - 1))) {
			cfg_quote(p + 1, (size_t)(rb - p - 1), q, sizeof(q));
			q[strlen(q) - 1] = '\0'; /* no quotes: [name] */
			cfg_fail(ld, EINVAL, ld->lineno, "unknown section [%s]",
			    q + 1);
			return false;
		}
		for (s = rb + 1; s < end && cfg_is_space(*s); s++)
			;
		if (s < end && *s != ';' && *s != '#') {
			cfg_fail(ld, EINVAL, ld->lineno,
			    "text after the section header");
			return false;
		}
		return true;
	}
	/* The first '=', ':' or inline comment, as inih looks for it. */
	for (s = p; s < end; s++) {
		if (*s == '=')
			return true;
		if (*s == ':' || (*s == ';' && s > p && cfg_is_space(s[-1])))
			break;
	}
	if (s < end && *s == ':') {
		const char *n = p;

		while (n < s && ((*n >= 'a' && *n <= 'z') || *n == '_'))
			n++;
		while (n < s && cfg_is_space(*n))
			n++;
		if (n == s && s > p)
			cfg_fail(ld, EINVAL, ld->lineno,
			    "not a key = value line (use '=', not ':')");
		else
			cfg_fail(
			    ld, EINVAL, ld->lineno, "not a key = value line");
		return false;
	}
	return true; /* no '=': inih reports the line */
}

/* inih's fgets-style reader over ld->text: one line per call, counted. */
static char *
cfg_reader_cb(char *str, int num, void *stream)
{
	struct cfg_load *ld = stream;
	const char *p, *nl;
	size_t len, max;

	if (ld->error != 0 || ld->pos >= ld->len || num < 3)
		return NULL;
	p = ld->text + ld->pos;
	nl = memchr(p, '\n', ld->len - ld->pos);
	len = nl ? (size_t)(nl - p) : ld->len - ld->pos;
	ld->lineno++;
	max = (size_t)num - 2; /* room for '\n' and NUL */
	if (max > CONFIG_LINE_MAX + 1)
		max = CONFIG_LINE_MAX + 1;
	/* CONFIG_LINE_MAX bytes, and a '\r' of CRLF on top */
	if (len > max ||
	    (len == CONFIG_LINE_MAX + 1 && p[CONFIG_LINE_MAX] != '\r')) {
		cfg_fail(ld, EINVAL, ld->lineno, "line longer than %d bytes",
		    CONFIG_LINE_MAX);
		return NULL;
	}
	if (memchr(p, '\0', len) != NULL) {
		cfg_fail(ld, EINVAL, ld->lineno, "NUL byte in the line");
		return NULL;
	}
	if (!cfg_line_check(ld, p, len))
		return NULL;
	memcpy(str, p, len);
	if (nl != NULL)
		str[len++] = '\n';
	str[len] = '\0';
	ld->pos += len; /* the line and its '\n' */
	return str;
}

/* True when v is UTF-8 without control characters but tabs. */
static bool
cfg_value_printable(const char *v)
{
	const char *tab;

	while ((tab = strchr(v, '\t')) != NULL) {
		if (!util_utf8_printable(v, (size_t)(tab - v)))
			return false;
		v = tab + 1;
	}
	return util_utf8_printable(v, strlen(v));
}

static const struct cfg_key *
cfg_key_find(const char *section, const char *name)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++)
		if (strcmp(cfg_keys[i].section, section) == 0 &&
		    strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

/* inih's handler: one "name = value" of section. Returns 1 to go on, 0
 * after recording an error. */
static int
cfg_handler_cb(
    void *user, const char *section, const char *name, const char *value)
{
	struct cfg_load *ld = user;
	const struct cfg_key *k;
	char why[CFG_WHY_SIZE], q[CFG_QUOTE_SIZE];
	size_t i;
	int err;

	if (ld->error != 0)
		return 0;
	cfg_quote(name, strlen(name), q, sizeof(q));
	if (section[0] == '\0') {
		cfg_fail(ld, EINVAL, ld->lineno,
		    "key %s outside any section (put it under [daemon], "
		    "[sip], ...)",
		    q);
		return 0;
	}
	if ((k = cfg_key_find(section, name)) == NULL) {
		cfg_fail(
		    ld, EINVAL, ld->lineno, "[%s] unknown key %s", section, q);
		return 0;
	}
	i = (size_t)(k - cfg_keys);
	if (ld->line[i] != 0) {
		cfg_fail(ld, EINVAL, ld->lineno,
		    "[%s] %s: duplicate key (also on line %u)", k->section,
		    k->name, ld->line[i]);
		return 0;
	}
	ld->line[i] = ld->lineno;
	if (!cfg_value_printable(value)) {
		cfg_fail(ld, EINVAL, ld->lineno,
		    "[%s] %s: the value holds control characters or is not "
		    "UTF-8",
		    k->section, k->name);
		return 0;
	}
	err = cfg_value_parse(ld->c, k, value, why, sizeof(why));
	if (err == ENOMEM) {
		cfg_fail(ld, ENOMEM, ld->lineno, "out of memory");
		return 0;
	}
	if (err != 0) {
		cfg_fail(ld, err, ld->lineno, "[%s] %s: %s", k->section,
		    k->name, why);
		return 0;
	}
	return 1;
}

static size_t
cfg_key_index(const char *section, const char *name)
{
	return (size_t)(cfg_key_find(section, name) - cfg_keys);
}

static uint16_t
cfg_ss_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* True when binding both a and b (one protocol) would conflict: same
 * family and port, and the same address or a wildcard on either side. */
static bool
cfg_ss_overlap(
    const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family || cfg_ss_port(a) != cfg_ss_port(b))
		return false;
	if (a->ss_family == AF_INET) {
		in_addr_t x = ((const struct sockaddr_in *)a)->sin_addr.s_addr;
		in_addr_t y = ((const struct sockaddr_in *)b)->sin_addr.s_addr;

		return x == y || x == htonl(INADDR_ANY) ||
		       y == htonl(INADDR_ANY);
	}
	const struct in6_addr *x = &((const struct sockaddr_in6 *)a)->sin6_addr;
	const struct in6_addr *y = &((const struct sockaddr_in6 *)b)->sin6_addr;

	return IN6_ARE_ADDR_EQUAL(x, y) || IN6_IS_ADDR_UNSPECIFIED(x) ||
	       IN6_IS_ADDR_UNSPECIFIED(y);
}

/* Refuses listeners of one protocol that would fight for a port, and UDP
 * listeners inside the RTP port range. Returns false after recording. */
static bool
cfg_listen_check(struct cfg_load *ld)
{
	static const char *const groups[][3][2] = {
	    {{"sip", "tls"}, {"sip", "tcp"}, {"portal", "listen"}},
	    {{"sip", "udp"}, {"media", "ng"}, {NULL, NULL}},
	};
	char fa[CONFIG_ADDR_STRLEN], fb[CONFIG_ADDR_STRLEN];
	size_t g, i, j, x, y, ports = cfg_key_index("media", "ports");

	for (g = 0; g < ARRAY_LEN(groups); g++) {
		for (i = 0; i < 3 && groups[g][i][0] != NULL; i++) {
			size_t ki =
			    cfg_key_index(groups[g][i][0], groups[g][i][1]);
			const struct config_listen *li =
			    (const void *)((char *)ld->c + cfg_keys[ki].off);

			for (j = i; j < 3 && groups[g][j][0] != NULL; j++) {
				size_t kj = cfg_key_index(
				    groups[g][j][0], groups[g][j][1]);
				const struct config_listen *lj =
				    (const void *)((char *)ld->c +
				                   cfg_keys[kj].off);
				/* report at the later of the two keys */
				size_t kr =
				    ld->line[kj] >= ld->line[ki] ? kj : ki;

				for (x = 0; x < li->n; x++) {
					for (y = i == j ? x + 1 : 0; y < lj->n;
					     y++) {
						if (!cfg_ss_overlap(
						        &li->addr[x],
						        &lj->addr[y]))
							continue;
						config_listen_fmt(&li->addr[x],
						    fa, sizeof(fa));
						config_listen_fmt(&lj->addr[y],
						    fb, sizeof(fb));
						cfg_fail(ld, EINVAL,
						    ld->line[kr],
						    "[%s] %s: %s of [%s] %s "
						    "and %s of [%s] %s would "
						    "share a port",
						    cfg_keys[kr].section,
						    cfg_keys[kr].name, fa,
						    cfg_keys[ki].section,
						    cfg_keys[ki].name, fb,
						    cfg_keys[kj].section,
						    cfg_keys[kj].name);
						return false;
					}
				}
			}
			if (g != 1)
				continue;
			for (x = 0; x < li->n; x++) {
				uint16_t port = cfg_ss_port(&li->addr[x]);
				size_t kr = ld->line[ki] >= ld->line[ports]
				                ? ki
				                : ports;

				if (port < ld->c->media_port_lo ||
				    port > ld->c->media_port_hi)
					continue;
				cfg_fail(ld, EINVAL, ld->line[kr],
				    "[%s] %s: port %u is inside [media] ports "
				    "%u-%u",
				    cfg_keys[ki].section, cfg_keys[ki].name,
				    port, ld->c->media_port_lo,
				    ld->c->media_port_hi);
				return false;
			}
		}
	}
	return true;
}

/* Fills an empty node with the host name. Returns false after recording. */
static bool
cfg_node_default(struct cfg_load *ld)
{
	char host[256], q[CFG_QUOTE_SIZE];
	size_t len;

	if (ld->c->node[0] != '\0')
		return true;
	if (gethostname(host, sizeof(host)) == -1) {
		int e = errno;

		cfg_fail(ld, e, 0,
		    "[daemon] node: cannot get the host name: %s", strerror(e));
		return false;
	}
	host[sizeof(host) - 1] = '\0';
	len = strlen(host);
	if (!cfg_node_valid(host, len)) {
		cfg_quote(host, len, q, sizeof(q));
		cfg_fail(ld, EINVAL, 0,
		    "[daemon] node: the host name %s is not a node name "
		    "(letters, digits, . and -, at most %d): set node",
		    q, CONFIG_NODE_MAX);
		return false;
	}
	memcpy(ld->c->node, host, len + 1);
	return true;
}

/* Parses text into a new config whose dir and path are given. Returns as
 * config_load_string. */
static int
cfg_load(const char *text, size_t len, const char *dir, const char *path,
    const char *name, struct config **out, char *err, size_t errsize)
{
	struct cfg_load ld;
	char why[CFG_WHY_SIZE];
	size_t i;
	int r;

	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.text = text;
	ld.len = len;
	ld.err = err;
	ld.errsize = err ? errsize : 0;
	if (ld.errsize > 0)
		err[0] = '\0';
	if (len > CONFIG_FILE_MAX) {
		cfg_fail(
		    &ld, EFBIG, 0, "larger than %d bytes", CONFIG_FILE_MAX);
		goto out;
	}
	if ((ld.c = calloc(1, sizeof(*ld.c))) == NULL ||
	    (ld.c->dir = strdup(dir)) == NULL ||
	    (ld.c->path = strdup(path)) == NULL) {
		cfg_fail(&ld, ENOMEM, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < CFG_NKEYS; i++) {
		int e = cfg_value_parse(
		    ld.c, &cfg_keys[i], cfg_keys[i].def, why, sizeof(why));

		if (e != 0) {
			cfg_fail(&ld, e, 0, "default [%s] %s: %s",
			    cfg_keys[i].section, cfg_keys[i].name,
			    e == ENOMEM ? "out of memory" : why);
			goto out;
		}
	}

	ini_allow_multiline = false; /* an indented line is no continuation */
	ini_allow_bom = true;
	ini_allow_inline_comments = true; /* " ; comment" after a value */
	ini_inline_comment_prefixes = cfg_inline_prefixes;
	ini_start_comment_prefixes = cfg_start_prefixes;
	ini_use_stack = true; /* a line buffer of ini_max_line bytes */
	ini_max_line = CONFIG_LINE_MAX + 3; /* '\r', '\n' and NUL */
	ini_allow_realloc = false;
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
	r = ini_parse_stream(cfg_reader_cb, &ld, cfg_handler_cb, &ld);
	if (ld.error != 0)
		goto out;
	if (r > 0) {
		cfg_fail(&ld, EINVAL, (unsigned)r, "not a key = value line");
		goto out;
	}
	if (r < 0) {
		cfg_fail(&ld, ENOMEM, 0, "out of memory");
		goto out;
	}
	if (!cfg_node_default(&ld) || !cfg_listen_check(&ld))
		goto out;
	*out = ld.c;
	ld.c = NULL;
out:
	config_free(ld.c);
	return ld.error;
}

int
config_load_string(const char *text, size_t len, const char *dir,
    const char *name, struct config **out, char *err, size_t errsize)
{
	char *path;
	int r;

	if (name == NULL)
		name = "config";
	if (dir == NULL || dir[0] != '/') {
		if (err != NULL && errsize > 0)
			snprintf(err, errsize,
			    "%s: the config folder must be absolute", name);
		return EINVAL;
	}
	if ((path = cfg_path_abs(dir, name)) == NULL) {
		if (err != NULL && errsize > 0)
			snprintf(err, errsize, "%s: out of memory", name);
		return ENOMEM;
	}
	r = cfg_load(text, len, dir, path, name, out, err, errsize);
	free(path);
	return r;
}

int
config_load_file(
    const char *path, struct config **out, char *err, size_t errsize)
{
	const char *slash = strrchr(path, '/'), *base;
	char *text = NULL, *dirpart = NULL, *dir = NULL, *abspath = NULL;
	size_t len;
	struct stat st;
	int r;

	if (err != NULL && errsize > 0)
		err[0] = '\0';
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		r = EISDIR;
	else
		r = util_file_read(path, CONFIG_FILE_MAX, &text, &len);
	if (r != 0) {
		if (err != NULL && errsize > 0 && r == EFBIG)
			snprintf(err, errsize,
			    "cannot read %s: larger than %d bytes", path,
			    CONFIG_FILE_MAX);
		else if (err != NULL && errsize > 0)
			snprintf(err, errsize, "cannot read %s: %s", path,
			    strerror(r));
		goto out;
	}
	base = slash ? slash + 1 : path;
	if (slash == NULL)
		dirpart = strdup(".");
	else if (slash == path)
		dirpart = strdup("/");
	else
		dirpart = strndup(path, (size_t)(slash - path));
	if (dirpart == NULL) {
		r = ENOMEM;
		goto nomem;
	}
	if ((dir = realpath(dirpart, NULL)) == NULL) {
		r = errno;
		if (err != NULL && errsize > 0)
			snprintf(err, errsize,
			    "cannot resolve the folder of %s: %s", path,
			    strerror(r));
		goto out;
	}
	if ((abspath = cfg_path_abs(dir, base)) == NULL) {
		r = ENOMEM;
		goto nomem;
	}
	r = cfg_load(text, len, dir, abspath, path, out, err, errsize);
	goto out;
nomem:
	if (err != NULL && errsize > 0)
		snprintf(err, errsize, "%s: out of memory", path);
out:
	free(text);
	free(dirpart);
	free(dir);
	free(abspath);
	return r;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->dir);
	free(c->secret_key);
	free(c->sip_advertise);
	free(c->sip_cert);
	free(c->sip_key);
	free(c->sip_certs);
	free(c->sip_client_ca);
	free(c->media_advertise);
	if (c->store_url != NULL)
		explicit_bzero(c->store_url, strlen(c->store_url));
	free(c->store_url);
	free(c);
}

char *
config_default_text(const char *user)
{
	const char *section = "";
	char *text = NULL;
	size_t size = 0, i;
	FILE *f;

	if (user == NULL)
		user = cfg_keys[0].def;
	if (!cfg_user_valid(user))
		return NULL;
	if ((f = open_memstream(&text, &size)) == NULL)
		return NULL;
	fputs("; sipwarden configuration. Relative paths are relative to this "
	      "file's folder.\n",
	    f);
	for (i = 0; i < CFG_NKEYS; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *v = k->type == CFG_USER ? user : k->def;

		if (strcmp(section, k->section) != 0) {
			fprintf(f, "\n[%s]\n", k->section);
			section = k->section;
		}
		fprintf(f, "; %s\n%s =%s%s\n", k->comment, k->name,
		    v[0] ? " " : "", v);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

char *
config_listen_fmt(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, size, "?");
	}
	return buf;
}

char *
config_cidr_fmt(const struct config_cidr *cidr, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if ((cidr->family != AF_INET && cidr->family != AF_INET6) ||
	    inet_ntop(cidr->family, cidr->addr, a, sizeof(a)) == NULL)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%s/%u", a, cidr->prefix);
	return buf;
}

int
config_cidrs_parse(const char *s, struct config_cidr *out, size_t max,
    size_t *n, char *why, size_t whysize)
{
	struct config_cidr tmp[CONFIG_CIDR_MAX];
	size_t got = 0;
	struct cfg_cidr_arg a = {tmp, &got, max};
	int err;

	if (max > CONFIG_CIDR_MAX) {
		snprintf(why, whysize, "internal error: list size %zu", max);
		return EINVAL;
	}
	if ((err = cfg_list_each(s, why, whysize, cfg_cidr_item_cb, &a)) != 0)
		return err;
	if (got > 0)
		memcpy(out, tmp, got * sizeof(*tmp));
	*n = got;
	return 0;
}

bool
config_cidr_match(const struct config_cidr *cidr, const struct sockaddr *sa)
{
	static const unsigned char v4mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const unsigned char *a;
	unsigned full, rest;

	if (sa->sa_family == AF_INET && cidr->family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)
		        ->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (cidr->family == AF_INET) {
			if (memcmp(a, v4mapped, sizeof(v4mapped)) != 0)
				return false;
			a += sizeof(v4mapped);
		} else if (cidr->family != AF_INET6) {
			return false;
		}
	} else {
		return false;
	}
	full = cidr->prefix / 8;
	rest = cidr->prefix % 8;
	if (memcmp(a, cidr->addr, full) != 0)
		return false;
	return rest == 0 || ((a[full] ^ cidr->addr[full]) &
	                        (unsigned char)(0xff00u >> rest)) == 0;
}
