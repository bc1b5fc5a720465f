/* audit.c: `sipwarden audit`: the security posture of this deployment,
 * with what to fix. Exit 0: no critical finding; 1: a critical finding;
 * 2: could not run. */
#include "cli/cli.h"
#include "core/settings.h"
#include "core/tlscert.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum sev { SEV_OK, SEV_WARNING, SEV_CRITICAL };

enum { AUDIT_PW_MAX_AGE_DAYS = 365, AUDIT_CERT_WARN_DAYS = 30 };

struct audit {
	json_t *findings;
	bool json;
	int critical, warning, ok;
};

static void audit_add(struct audit *a, enum sev s, const char *id,
    const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
audit_add(struct audit *a, enum sev s, const char *id, const char *fix,
    const char *fmt, ...)
{
	static const char *names[] = {"ok", "warning", "critical"};
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s == SEV_CRITICAL)
		a->critical++;
	else if (s == SEV_WARNING)
		a->warning++;
	else
		a->ok++;
	if (a->json) {
		json_array_append_new(a->findings,
		    json_pack("{s:s, s:s, s:s, s:s?}", "id", id, "severity",
		        names[s], "message", msg, "fix", s ? fix : NULL));
		return;
	}
	printf("%-8s %-22s %s\n",
	    s == SEV_CRITICAL  ? "CRITICAL"
	    : s == SEV_WARNING ? "WARNING"
	                       : "ok",
	    id, msg);
	if (s != SEV_OK && fix != NULL)
		printf("%-8s %-22s fix: %s\n", "", "", fix);
}

/* A file that only its owner may read (and write). */
static void
audit_private_file(
    struct audit *a, const char *id, const char *path, bool writable_only)
{
	struct stat sb;
	char fix[600];

	if (stat(path, &sb) == -1) {
		audit_add(a, SEV_CRITICAL, id, "run sipwarden init", "%s: %s",
		    path, strerror(errno));
		return;
	}
	snprintf(fix, sizeof(fix), "chmod %s %s", writable_only ? "640" : "600",
	    path);
	if ((sb.st_mode & (writable_only ? (S_IWGRP | S_IWOTH | S_IROTH)
	                                 : (S_IRWXG | S_IRWXO))) != 0)
		audit_add(a, SEV_CRITICAL, id, fix,
		    "%s has mode %04o: others may read or change it", path,
		    (unsigned)(sb.st_mode & 07777));
	else
		audit_add(a, SEV_OK, id, NULL, "%s: mode %04o", path,
		    (unsigned)(sb.st_mode & 07777));
}

static bool
addr_is_private(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;
		uint32_t v = ntohl(s->sin_addr.s_addr);

		return (v >> 24) == 127 || (v >> 24) == 10 ||
		       (v >> 20) == (172 << 4 | 1) ||
		       (v >> 16) == (192 << 8 | 168);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		return IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) ||
		       (s->sin6_addr.s6_addr[0] & 0xfe) == 0xfc;
	}
	return false;
}

static void
audit_config(struct audit *a, const struct config *cfg)
{
	char buf[CONFIG_ADDR_STRLEN];
	size_t i;

	if (cfg->sip_tls.n == 0)
		audit_add(a, SEV_CRITICAL, "sip.tls",
		    "set [sip] tls = 0.0.0.0:5061",
		    "no TLS listener: phones cannot register over TLS");
	else
		audit_add(a, SEV_OK, "sip.tls", NULL, "TLS listener on %s",
		    config_listen_fmt(&cfg->sip_tls.addr[0], buf, sizeof(buf)));
	if (cfg->sip_udp.n > 0 || cfg->sip_tcp.n > 0)
		audit_add(a, SEV_WARNING, "sip.plain",
		    "empty [sip] udp and tcp unless a peer truly needs them",
		    "plain SIP is open (udp: %zu, tcp: %zu listeners): "
		    "signalling and SRTP keys there travel in clear",
		    cfg->sip_udp.n, cfg->sip_tcp.n);
	else
		audit_add(a, SEV_OK, "sip.plain", NULL,
		    "plain SIP (UDP/TCP 5060) closed");
	for (i = 0; i < cfg->portal_listen.n; i++)
		if (!addr_is_private(&cfg->portal_listen.addr[i]))
			break;
	if (i < cfg->portal_listen.n)
		audit_add(a, SEV_CRITICAL, "portal.listen",
		    "listen on loopback or a private address, behind a VPN",
		    "the admin portal listens on %s, reachable beyond "
		    "loopback and private networks",
		    config_listen_fmt(
		        &cfg->portal_listen.addr[i], buf, sizeof(buf)));
	else
		audit_add(a, SEV_OK, "portal.listen", NULL,
		    "admin portal only on loopback or private addresses");
	if (!cfg->guard_stealth)
		audit_add(a, SEV_WARNING, "guard.stealth",
		    "set [guard] stealth = on once debugging is done",
		    "stealth is off: scanners get answers");
	else
		audit_add(
		    a, SEV_OK, "guard.stealth", NULL, "scanners get no answer");
	for (i = 0; i < cfg->guard_allow_n; i++)
		if (cfg->guard_allow[i].prefix == 0)
			audit_add(a, SEV_CRITICAL, "guard.allow",
			    "list only the monitoring and test networks in "
			    "[guard] allow",
			    "[guard] allow holds %s: every address is exempt "
			    "from bans and rate limits",
			    config_cidr_fmt(
			        &cfg->guard_allow[i], buf, sizeof(buf)));
	if (cfg->guard_max_auth_failures > 10)
		audit_add(a, SEV_WARNING, "guard.max_auth_failures",
		    "keep it at 10 or less (default 5)",
		    "%u failures are allowed before a ban",
		    cfg->guard_max_auth_failures);
	if (!cfg->guard_enabled)
		audit_add(a, SEV_CRITICAL, "guard.enabled",
		    "set [guard] enabled = on (off is for measurements)",
		    "the guard is off: no bans, locks, drops or rate limits");
	else
		audit_add(a, SEV_OK, "guard.enabled", NULL,
		    "the guard bans, locks and rate-limits");
	if (cfg->guard_nft)
		audit_add(a, SEV_OK, "guard.nft", NULL,
		    "bans are dropped by the kernel (nftables)");
	else
		audit_add(a, SEV_WARNING, "guard.nft",
		    "set [guard] nft = on (the daemon started as root)",
		    "bans are enforced by the daemon only: a banned flood "
		    "still costs it a lookup per packet");
	audit_add(a, SEV_OK, "media.relay", NULL,
	    "media relayed on ports %u-%u; SRTP required unless a tenant or "
	    "extension allows plain RTP (see tenant.srtp, ext.srtp)",
	    cfg->media_port_lo, cfg->media_port_hi);
	if ((unsigned)cfg->media_port_hi - cfg->media_port_lo + 1 < 400)
		audit_add(a, SEV_WARNING, "media.ports",
		    "widen [media] ports (each call takes 4 ports)",
		    "[media] ports %u-%u hold fewer than 100 calls",
		    cfg->media_port_lo, cfg->media_port_hi);
}

static void
audit_cert(struct audit *a, const struct config *cfg)
{
	int64_t not_after;
	bool self;
	char err[256];
	int64_t days;

	if (tlscert_info(cfg->sip_cert, &not_after, &self, err, sizeof(err))) {
		audit_add(a, SEV_CRITICAL, "tls.cert",
		    "point [sip] cert at a PEM certificate", "%s", err);
		return;
	}
	days = (not_after - util_now_us() / 1000000) / 86400;
	if (days < 0)
		audit_add(a, SEV_CRITICAL, "tls.cert", "renew the certificate",
		    "%s expired %lld days ago", cfg->sip_cert,
		    (long long)-days);
	else if (days < AUDIT_CERT_WARN_DAYS)
		audit_add(a, SEV_WARNING, "tls.cert", "renew the certificate",
		    "%s expires in %lld days", cfg->sip_cert, (long long)days);
	else
		audit_add(a, SEV_OK, "tls.cert", NULL, "%s valid for %lld days",
		    cfg->sip_cert, (long long)days);
	if (self)
		audit_add(a, SEV_WARNING, "tls.cert.self_signed",
		    "install a certificate from a CA the phones trust (e.g. "
		    "ACME)",
		    "%s is self-signed: phones must pin it or skip "
		    "verification",
		    cfg->sip_cert);
	audit_private_file(a, "tls.key", cfg->sip_key, false);
}

struct ext_scan {
	struct audit *a;
	const struct store_tenant *t;
	int64_t now;
	size_t old, optional;
};

static int
ext_scan_cb(void *arg, const struct store_ext *e)
{
	struct ext_scan *s = arg;
	char srtp[32];

	if ((s->now - e->password_rotated_us) / 86400000000LL >
	    AUDIT_PW_MAX_AGE_DAYS)
		s->old++;
	settings_get(e->settings, settings_find(SETTINGS_EXT, "srtp"), srtp,
	    sizeof(srtp));
	if (strcmp(srtp, "optional") == 0)
		s->optional++;
	return 0;
}

static int
tenant_scan_cb(void *arg, const struct store_tenant *t)
{
	struct ext_scan s = {arg, t, util_now_us(), 0, 0};
	char srtp[32];

	settings_get(t->settings, settings_find(SETTINGS_TENANT, "srtp"), srtp,
	    sizeof(srtp));
	if (strcmp(srtp, "required") != 0)
		audit_add(s.a, SEV_WARNING, "tenant.srtp",
		    "sipwarden tenant set TENANT srtp=required",
		    "tenant %s allows plain RTP (srtp=%s): calls can be "
		    "listened to",
		    t->name, srtp);
	return 0;
}

struct tenant_exts {
	struct audit *a;
	struct store *st;
};

static int
tenant_exts_cb(void *arg, const struct store_tenant *t)
{
	struct tenant_exts *te = arg;
	struct ext_scan s = {te->a, t, util_now_us(), 0, 0};
	int rc;

	if ((rc = store_ext_list(te->st, t->id, ext_scan_cb, &s)) != 0)
		return rc;
	if (s.old > 0)
		audit_add(te->a, SEV_WARNING, "ext.password_age",
		    "sipwarden ext rotate TENANT EXT",
		    "tenant %s: %zu extensions have passwords older than %d "
		    "days",
		    t->name, s.old, AUDIT_PW_MAX_AGE_DAYS);
	if (s.optional > 0)
		audit_add(te->a, SEV_WARNING, "ext.srtp",
		    "sipwarden ext set TENANT EXT srtp=inherit",
		    "tenant %s: %zu extensions allow plain RTP", t->name,
		    s.optional);
	return 0;
}

int
cmd_audit(const char *conf, int argc, char **argv)
{
	struct cli_opt o[] = {
	    {"--json", false, false, NULL}, {"--help", false, false, NULL}};
	struct cli c = {.conf_path = conf};
	struct audit a = {0};
	struct tenant_exts te;
	const char *pos[1];
	size_t npos;
	int rc;

	if ((rc = cli_args("audit", argc, argv, o, 2, pos, 0, 0, &npos)))
		return rc;
	if (o[1].set) {
		puts("usage: sipwarden -c CONF audit [--json]\n\nChecks the "
		     "security posture and says what to fix. Exit 0: no\n"
		     "critical finding; 1: a critical finding; 2: could not "
		     "run.");
		return EXIT_OK;
	}
	a.json = o[0].set;
	if (a.json)
		a.findings = json_array();
	if ((rc = cli_open(&c, false)) != EXIT_OK) {
		json_decref(a.findings);
		cli_close(&c);
		return EXIT_USAGE;
	}
	audit_private_file(&a, "secret_key", c.cfg->secret_key, false);
	audit_private_file(&a, "config", c.conf_path, true);
	if (strncmp(c.cfg->store_url, "sqlite:", 7) == 0)
		audit_private_file(&a, "database", c.cfg->store_url + 7, false);
	audit_config(&a, c.cfg);
	audit_cert(&a, c.cfg);
	te.a = &a;
	te.st = c.st;
	if (store_tenant_list(c.st, tenant_scan_cb, &a) != 0 ||
	    store_tenant_list(c.st, tenant_exts_cb, &te) != 0) {
		json_decref(a.findings);
		rc = cli_fail(
		    EXIT_USAGE, "audit: store: %s", store_errmsg(c.st));
		cli_close(&c);
		return rc;
	}
	if (a.json)
		cli_json_print(json_pack("{s:o, s:i, s:i, s:i}", "findings",
		    a.findings, "critical", a.critical, "warning", a.warning,
		    "ok", a.ok));
	else
		printf("\n%d critical, %d warnings, %d ok\n", a.critical,
		    a.warning, a.ok);
	cli_close(&c);
	return a.critical > 0 ? EXIT_FAILED : EXIT_OK;
}
