/* config_test.c: the INI config loader (src/core/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "lib/log.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR  "/etc/sw"
#define NAME "sw.conf"

static char errbuf[1024];

/* Loads text with dir DIR and name NAME; returns the error code. */
static int
load(const char *text, struct config **c)
{
	errbuf[0] = '\0';
	return config_load_string(
	    text, strlen(text), DIR, NAME, c, errbuf, sizeof(errbuf));
}

static struct config *
load_ok(const char *text)
{
	struct config *c = NULL;
	int r = load(text, &c);

	if (r != 0)
		fail_msg("unexpected error %d: %s", r, errbuf);
	assert_non_null(c);
	return c;
}

/* Expects text to fail with EINVAL and exactly the message want, leaving
 * the out-parameter alone. */
static void
load_bad(const char *text, const char *want)
{
	struct config *c = (struct config *)&errbuf; /* a sentinel */
	int r = load(text, &c);

	if (r != EINVAL || strcmp(errbuf, want) != 0)
		fail_msg("for %s\n got %d \"%s\"\nwant EINVAL \"%s\"", text, r,
		    errbuf, want);
	assert_ptr_equal(c, (struct config *)&errbuf);
}

static const char *
fmt_listen(const struct config_listen *l, size_t i)
{
	static char buf[CONFIG_ADDR_STRLEN];

	assert_true(i < l->n);
	return config_listen_fmt(&l->addr[i], buf, sizeof(buf));
}

static void
check_defaults(const struct config *c, const char *dir)
{
	char host[256], path[PATH_MAX];

	assert_string_equal(c->dir, dir);
	assert_string_equal(c->user, "sipwarden");
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(c->node, host);
	snprintf(path, sizeof(path), "%s/secret.key", dir);
	assert_string_equal(c->secret_key, path);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_int_equal(c->sip_tls.n, 1);
	assert_string_equal(fmt_listen(&c->sip_tls, 0), "0.0.0.0:5061");
	assert_int_equal(c->sip_tls.len[0], sizeof(struct sockaddr_in));
	assert_int_equal(c->sip_tcp.n, 0);
	assert_int_equal(c->sip_udp.n, 0);
	assert_null(c->sip_advertise);
	assert_int_equal(c->sip_workers, 0);
	snprintf(path, sizeof(path), "%s/tls/cert.pem", dir);
	assert_string_equal(c->sip_cert, path);
	snprintf(path, sizeof(path), "%s/tls/key.pem", dir);
	assert_string_equal(c->sip_key, path);
	assert_int_equal(c->media_port_lo, 10000);
	assert_int_equal(c->media_port_hi, 20000);
	assert_int_equal(c->media_ng.n, 0);
	assert_null(c->media_advertise);
	snprintf(path, sizeof(path), "sqlite:%s/sipwarden.db", dir);
	assert_string_equal(c->store_url, path);
	assert_int_equal(c->portal_listen.n, 1);
	assert_string_equal(fmt_listen(&c->portal_listen, 0), "127.0.0.1:8443");
	assert_int_equal(c->guard_max_auth_failures, 5);
	assert_int_equal(c->guard_window_us, INT64_C(60000000));
	assert_int_equal(c->guard_ban_us, INT64_C(3600000000));
	assert_true(c->guard_stealth);
	assert_int_equal(c->guard_allow_n, 0);
	/* the keys added later */
	assert_int_equal(c->media_threads, 1);
	assert_int_equal(c->media_timeout_us, INT64_C(60000000));
	assert_int_equal(c->media_allow_n, 0);
	assert_int_equal(c->portal_allow_n, 0);
	assert_true(c->guard_enabled);
	assert_int_equal(c->guard_lock_us, INT64_C(900000000));
	assert_int_equal(c->guard_decoys_n, 8);
	assert_string_equal(c->guard_decoys[0], "100");
	assert_string_equal(c->guard_decoys[2], "admin");
	assert_string_equal(c->guard_decoys[7], "200");
	assert_int_equal(c->guard_rate, 200);
	assert_int_equal(c->guard_rate_burst, 400);
	assert_false(c->guard_nft);
	assert_int_equal(c->guard_calls_ext, 10);
	assert_int_equal(c->guard_calls_tenant, 200);
	assert_int_equal(c->guard_phones_n, 0);
	assert_int_equal(c->guard_deny_n, 0);
}

static void
test_defaults_empty(void **state)
{
	struct config *c;

	(void)state;
	c = load_ok("");
	check_defaults(c, DIR);
	assert_string_equal(c->path, DIR "/" NAME);
	config_free(c);

	c = load_ok("; only comments\n# and blanks\n\n   \n[sip]\n[guard]\n");
	check_defaults(c, DIR);
	config_free(c);
	config_free(NULL);
}

static void
test_all_keys_valid(void **state)
{
	static const char text[] =
	    "[daemon]\n"
	    "user = _sw-1\n"
	    "node = pbx-1.example.org\n"
	    "secret_key = /var/lib/sw/secret.key\n"
	    "log_level = debug\n"
	    "[sip]\n"
	    "tls = 0.0.0.0:5061, [::]:5061\n"
	    "tcp = 192.0.2.1:5060\n"
	    "udp = [2001:db8::1]:5060 , 192.0.2.1:5060\n"
	    "advertise = sip.example.org\n"
	    "workers = 64\n"
	    "cert = certs/c.pem\n"
	    "key = /k.pem\n"
	    "[media]\n"
	    "ports = 30000-30001\n"
	    "ng = 127.0.0.1:2223,[::1]:2223\n"
	    "advertise = 203.0.113.7\n"
	    "[store]\n"
	    "url = postgresql://sw@db.example.org/sw\n"
	    "[portal]\n"
	    "listen =\n"
	    "[guard]\n"
	    "max_auth_failures = 1000\n"
	    "window = 7d\n"
	    "ban = 365d\n"
	    "stealth = false\n"
	    "allow = 10.0.0.0/8, 192.0.2.7, 2001:db8::/32, ::1\n";
	struct config *c = load_ok(text);
	char buf[CONFIG_ADDR_STRLEN];

	(void)state;
	assert_string_equal(c->user, "_sw-1");
	assert_string_equal(c->node, "pbx-1.example.org");
	assert_string_equal(c->secret_key, "/var/lib/sw/secret.key");
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_int_equal(c->sip_tls.n, 2);
	assert_string_equal(fmt_listen(&c->sip_tls, 0), "0.0.0.0:5061");
	assert_string_equal(fmt_listen(&c->sip_tls, 1), "[::]:5061");
	assert_int_equal(c->sip_tls.len[1], sizeof(struct sockaddr_in6));
	assert_int_equal(c->sip_tls.addr[1].ss_family, AF_INET6);
	assert_int_equal(c->sip_tcp.n, 1);
	assert_string_equal(fmt_listen(&c->sip_tcp, 0), "192.0.2.1:5060");
	assert_int_equal(c->sip_udp.n, 2);
	assert_string_equal(fmt_listen(&c->sip_udp, 0), "[2001:db8::1]:5060");
	assert_string_equal(fmt_listen(&c->sip_udp, 1), "192.0.2.1:5060");
	assert_string_equal(c->sip_advertise, "sip.example.org");
	assert_int_equal(c->sip_workers, 64);
	assert_string_equal(c->sip_cert, DIR "/certs/c.pem");
	assert_string_equal(c->sip_key, "/k.pem");
	assert_int_equal(c->media_port_lo, 30000);
	assert_int_equal(c->media_port_hi, 30001);
	assert_int_equal(c->media_ng.n, 2);
	assert_string_equal(fmt_listen(&c->media_ng, 1), "[::1]:2223");
	assert_string_equal(c->media_advertise, "203.0.113.7");
	assert_string_equal(c->store_url, "postgresql://sw@db.example.org/sw");
	assert_int_equal(c->portal_listen.n, 0);
	assert_int_equal(c->guard_max_auth_failures, 1000);
	assert_int_equal(c->guard_window_us, INT64_C(7) * 86400 * 1000000);
	assert_int_equal(c->guard_ban_us, INT64_C(365) * 86400 * 1000000);
	assert_false(c->guard_stealth);
	assert_int_equal(c->guard_allow_n, 4);
	assert_string_equal(
	    config_cidr_fmt(&c->guard_allow[0], buf, sizeof(buf)),
	    "10.0.0.0/8");
	assert_string_equal(
	    config_cidr_fmt(&c->guard_allow[1], buf, sizeof(buf)),
	    "192.0.2.7/32");
	assert_string_equal(
	    config_cidr_fmt(&c->guard_allow[2], buf, sizeof(buf)),
	    "2001:db8::/32");
	assert_string_equal(
	    config_cidr_fmt(&c->guard_allow[3], buf, sizeof(buf)), "::1/128");
	config_free(c);
}

static void
test_values_other_forms(void **state)
{
	struct config *c;

	(void)state;
	c = load_ok("[daemon]\nlog_level = error\n[sip]\nadvertise = "
	            "[2001:db8::5]\n[media]\nadvertise = 2001:db8::6\n"
	            "[store]\nurl = postgres://u@h/db?sslmode=require\n"
	            "[guard]\nstealth = no\nwindow = 90s\nban = 48h\n");
	assert_int_equal(c->log_level, LOG_LVL_ERR);
	assert_string_equal(c->sip_advertise, "2001:db8::5");
	assert_string_equal(c->media_advertise, "2001:db8::6");
	assert_string_equal(c->store_url, "postgres://u@h/db?sslmode=require");
	assert_false(c->guard_stealth);
	assert_int_equal(c->guard_window_us, INT64_C(90000000));
	assert_int_equal(c->guard_ban_us, INT64_C(48) * 3600 * 1000000);
	config_free(c);

	c = load_ok("[daemon]\nlog_level = warn\n[sip]\nadvertise = "
	            "198.51.100.4\n[guard]\nstealth = yes\nwindow = 1s\n"
	            "ban = 1m\n");
	assert_int_equal(c->log_level, LOG_LVL_WARN);
	assert_string_equal(c->sip_advertise, "198.51.100.4");
	assert_true(c->guard_stealth);
	assert_int_equal(c->guard_window_us, INT64_C(1000000));
	assert_int_equal(c->guard_ban_us, INT64_C(60000000));
	config_free(c);

	c = load_ok("[guard]\nstealth = true\nwindow = 168h\nban = 525600m\n"
	            "[sip]\nadvertise =\n[media]\nports = 1026-65535\n");
	assert_true(c->guard_stealth);
	assert_int_equal(c->guard_window_us, INT64_C(604800000000));
	assert_int_equal(c->guard_ban_us, INT64_C(31536000000000));
	assert_null(c->sip_advertise);
	assert_int_equal(c->media_port_lo, 1026);
	assert_int_equal(c->media_port_hi, 65535);
	config_free(c);
}

struct bad {
	const char *text;
	const char *want;
};

static void
run_bad(const struct bad *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		load_bad(b[i].text, b[i].want);
}

static void
test_bad_daemon(void **state)
{
	static const struct bad b[] = {
	    {"[daemon]\nuser = Root\n",
	        "sw.conf:2: [daemon] user: \"Root\" is not a user name (a-z, "
	        "0-9, _ and -, not starting with a digit or -, at most 32)"},
	    {"[daemon]\nuser =\n",
	        "sw.conf:2: [daemon] user: \"\" is not a user name (a-z, "
	        "0-9, _ and -, not starting with a digit or -, at most 32)"},
	    {"[daemon]\nuser = a23456789012345678901234567890123\n",
	        "sw.conf:2: [daemon] user: "
	        "\"a23456789012345678901234567890123\" is not a user name "
	        "(a-z, 0-9, _ and -, not starting with a digit or -, at most "
	        "32)"},
	    {"[daemon]\nuser = 1x\n",
	        "sw.conf:2: [daemon] user: \"1x\" is not a user name (a-z, "
	        "0-9, _ and -, not starting with a digit or -, at most 32)"},
	    {"[daemon]\nnode = pbx_1\n",
	        "sw.conf:2: [daemon] node: \"pbx_1\" is not a node name "
	        "(letters, digits, . and -, at most 63)"},
	    {"[daemon]\nnode = "
	     "a123456789012345678901234567890123456789012345678901234567890123"
	     "\n",
	        "sw.conf:2: [daemon] node: "
	        "\"a12345678901234567890123456789012345678901234567890123456789"
	        "0"
	        "123\" is not a node name (letters, digits, . and -, at most "
	        "63)"},
	    {"[daemon]\nsecret_key =\n",
	        "sw.conf:2: [daemon] secret_key: the path is empty"},
	    {"[daemon]\nlog_level = verbose\n",
	        "sw.conf:2: [daemon] log_level: \"verbose\" is not error, "
	        "warn, info or debug"},
	    {"[daemon]\nlog_level = INFO\n",
	        "sw.conf:2: [daemon] log_level: \"INFO\" is not error, warn, "
	        "info or debug"},
	};

	(void)state;
	run_bad(b, ARRAY_LEN(b));
}

static void
test_bad_sip(void **state)
{
	static const struct bad b[] = {
	    {"[sip]\ntls = 0.0.0.0\n",
	        "sw.conf:2: [sip] tls: \"0.0.0.0\" has no port (use ADDR:PORT "
	        "or [ADDR]:PORT)"},
	    {"[sip]\ntls = 0.0.0.0:0\n",
	        "sw.conf:2: [sip] tls: \"0.0.0.0:0\": the port must be "
	        "1..65535"},
	    {"[sip]\ntls = 0.0.0.0:65536\n",
	        "sw.conf:2: [sip] tls: \"0.0.0.0:65536\": the port must be "
	        "1..65535"},
	    {"[sip]\ntls = 0.0.0.0:\n",
	        "sw.conf:2: [sip] tls: \"0.0.0.0:\": the port must be "
	        "1..65535"},
	    {"[sip]\ntls = ::1:5061\n",
	        "sw.conf:2: [sip] tls: \"::1:5061\": an IPv6 address needs "
	        "brackets ([ADDR]:PORT)"},
	    {"[sip]\ntls = [::1]\n",
	        "sw.conf:2: [sip] tls: \"[::1]\" is not [IPV6]:PORT (missing "
	        "\"]:\" or port)"},
	    {"[sip]\ntls = [1.2.3.4]:5061\n",
	        "sw.conf:2: [sip] tls: \"[1.2.3.4]:5061\" is not an IP address "
	        "and port"},
	    {"[sip]\ntcp = localhost:5060\n",
	        "sw.conf:2: [sip] tcp: \"localhost:5060\" is not an IP address "
	        "and port"},
	    {"[sip]\ntcp = 1.2.3.256:5060\n",
	        "sw.conf:2: [sip] tcp: \"1.2.3.256:5060\" is not an IP address "
	        "and port"},
	    {"[sip]\nudp = [fe80::1%eth0]:5060\n",
	        "sw.conf:2: [sip] udp: \"[fe80::1%eth0]:5060\" is not an IP "
	        "address and port"},
	    {"[sip]\nudp = 1.2.3.4:5060,\n",
	        "sw.conf:2: [sip] udp: empty entry in the list"},
	    {"[sip]\nudp = 1.2.3.4:5060, 1.2.3.4:5060\n",
	        "sw.conf:2: [sip] udp: \"1.2.3.4:5060\" is listed twice"},
	    {"[sip]\nudp = [::1]:5060, [0::1]:5060\n",
	        "sw.conf:2: [sip] udp: \"[0::1]:5060\" is listed twice"},
	    {"[sip]\nadvertise = -bad.example.org\n",
	        "sw.conf:2: [sip] advertise: \"-bad.example.org\" is not a "
	        "host name or IP address"},
	    {"[sip]\nadvertise = 1.2.3.999\n",
	        "sw.conf:2: [sip] advertise: \"1.2.3.999\" is not a host name "
	        "or IP address"},
	    {"[sip]\nadvertise = 203.0.113.5:5061\n",
	        "sw.conf:2: [sip] advertise: \"203.0.113.5:5061\" is not a "
	        "host name or IP address"},
	    {"[sip]\nadvertise = a..b\n",
	        "sw.conf:2: [sip] advertise: \"a..b\" is not a host name or IP "
	        "address"},
	    {"[sip]\nworkers = 65\n",
	        "sw.conf:2: [sip] workers: \"65\" is out of range (0..64)"},
	    {"[sip]\nworkers = -1\n",
	        "sw.conf:2: [sip] workers: \"-1\" is not a number"},
	    {"[sip]\nworkers = 99999999999999999999\n",
	        "sw.conf:2: [sip] workers: \"99999999999999999999\" is out of "
	        "range (0..64)"},
	    {"[sip]\ncert =\n", "sw.conf:2: [sip] cert: the path is empty"},
	    {"[sip]\nkey =\n", "sw.conf:2: [sip] key: the path is empty"},
	};

	(void)state;
	run_bad(b, ARRAY_LEN(b));
}

static void
test_bad_media_store_portal(void **state)
{
	static const struct bad b[] = {
	    {"[media]\nports = 10000\n",
	        "sw.conf:2: [media] ports: \"10000\" is not a port range (use "
	        "10000-20000)"},
	    {"[media]\nports = 10000-\n",
	        "sw.conf:2: [media] ports: \"10000-\" is not a port range (use "
	        "10000-20000)"},
	    {"[media]\nports = 10000 - 20000\n",
	        "sw.conf:2: [media] ports: \"10000 - 20000\" is not a port "
	        "range (use 10000-20000)"},
	    {"[media]\nports = 1024-2000\n",
	        "sw.conf:2: [media] ports: \"1024-2000\": ports must satisfy "
	        "1024 < LO < HI <= 65535"},
	    {"[media]\nports = 20000-20000\n",
	        "sw.conf:2: [media] ports: \"20000-20000\": ports must satisfy "
	        "1024 < LO < HI <= 65535"},
	    {"[media]\nports = 20000-10000\n",
	        "sw.conf:2: [media] ports: \"20000-10000\": ports must satisfy "
	        "1024 < LO < HI <= 65535"},
	    {"[media]\nports = 10000-65536\n",
	        "sw.conf:2: [media] ports: \"10000-65536\": ports must satisfy "
	        "1024 < LO < HI <= 65535"},
	    {"[media]\nports = 10001-20000\n",
	        "sw.conf:2: [media] ports: \"10001-20000\": LO must be even "
	        "(RTP takes even ports)"},
	    {"[media]\nng = 10.0.0.1:2223\n",
	        "sw.conf:2: [media] ng: \"10.0.0.1:2223\" is not a loopback "
	        "address (use 127.0.0.1 or [::1])"},
	    {"[media]\nng = 0.0.0.0:2223\n",
	        "sw.conf:2: [media] ng: \"0.0.0.0:2223\" is not a loopback "
	        "address (use 127.0.0.1 or [::1])"},
	    {"[media]\nng = 127.0.0.1:2223, [::]:2223\n",
	        "sw.conf:2: [media] ng: \"[::]:2223\" is not a loopback "
	        "address (use 127.0.0.1 or [::1])"},
	    {"[media]\nng = [::ffff:127.0.0.1]:2223\n",
	        "sw.conf:2: [media] ng: \"[::ffff:127.0.0.1]:2223\" is not a "
	        "loopback address (use 127.0.0.1 or [::1])"},
	    {"[media]\nadvertise = media.example.org\n",
	        "sw.conf:2: [media] advertise: \"media.example.org\" is not an "
	        "IP address"},
	    {"[media]\nadvertise = [1.2.3.4]\n",
	        "sw.conf:2: [media] advertise: \"[1.2.3.4]\" is not an IP "
	        "address"},
	    {"[store]\nurl = mysql://u:hunter2@h/db\n",
	        "sw.conf:2: [store] url: must be sqlite:PATH or "
	        "postgresql://..."},
	    {"[store]\nurl =\n",
	        "sw.conf:2: [store] url: must be sqlite:PATH or "
	        "postgresql://..."},
	    {"[store]\nurl = sqlite:\n",
	        "sw.conf:2: [store] url: sqlite: needs a path (e.g. "
	        "sqlite:sipwarden.db)"},
	    {"[store]\nurl = postgresql://u:hunter2@h/db x\n",
	        "sw.conf:2: [store] url: a postgresql url has no spaces"},
	    {"[portal]\nlisten = 127.0.0.1:8443 127.0.0.1:8444\n",
	        "sw.conf:2: [portal] listen: \"127.0.0.1:8443 127.0.0.1:8444\" "
	        "is not an IP address and port"},
	    {"[portal]\nlisten = 127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,"
	     "127.0.0.1:4,127.0.0.1:5,127.0.0.1:6,127.0.0.1:7,127.0.0.1:8,"
	     "127.0.0.1:9\n",
	        "sw.conf:2: [portal] listen: more than 8 addresses"},
	};

	(void)state;
	run_bad(b, ARRAY_LEN(b));
}

static void
test_bad_guard(void **state)
{
	static const struct bad b[] = {
	    {"[guard]\nmax_auth_failures = 0\n",
	        "sw.conf:2: [guard] max_auth_failures: \"0\" is out of range "
	        "(1..1000)"},
	    {"[guard]\nmax_auth_failures = 1001\n",
	        "sw.conf:2: [guard] max_auth_failures: \"1001\" is out of "
	        "range (1..1000)"},
	    {"[guard]\nmax_auth_failures = 5x\n",
	        "sw.conf:2: [guard] max_auth_failures: \"5x\" is not a "
	        "number"},
	    {"[guard]\nwindow = 90x\n", "sw.conf:2: [guard] window: \"90x\" is "
	                                "not a duration (use 30s, "
	                                "5m, 1h, 7d)"},
	    {"[guard]\nwindow = 60\n",
	        "sw.conf:2: [guard] window: \"60\" is not a duration (use 30s, "
	        "5m, 1h, 7d)"},
	    {"[guard]\nwindow = s\n",
	        "sw.conf:2: [guard] window: \"s\" is not a duration (use 30s, "
	        "5m, 1h, 7d)"},
	    {"[guard]\nwindow = 5 m\n",
	        "sw.conf:2: [guard] window: \"5 m\" is not a duration (use "
	        "30s, 5m, 1h, 7d)"},
	    {"[guard]\nwindow = 1M\n",
	        "sw.conf:2: [guard] window: \"1M\" is not a duration (use 30s, "
	        "5m, 1h, 7d)"},
	    {"[guard]\nwindow = 0s\n",
	        "sw.conf:2: [guard] window: \"0s\" is out of range (1s..7d)"},
	    {"[guard]\nwindow = 8d\n",
	        "sw.conf:2: [guard] window: \"8d\" is out of range (1s..7d)"},
	    {"[guard]\nwindow = 604801s\n",
	        "sw.conf:2: [guard] window: \"604801s\" is out of range "
	        "(1s..7d)"},
	    {"[guard]\nwindow = 99999999999999999999d\n",
	        "sw.conf:2: [guard] window: \"99999999999999999999d\" is out "
	        "of range (1s..7d)"},
	    {"[guard]\nban = 59s\n",
	        "sw.conf:2: [guard] ban: \"59s\" is out of range (1m..365d)"},
	    {"[guard]\nban = 366d\n",
	        "sw.conf:2: [guard] ban: \"366d\" is out of range (1m..365d)"},
	    {"[guard]\nban =\n",
	        "sw.conf:2: [guard] ban: \"\" is not a duration (use 30s, 5m, "
	        "1h, 7d)"},
	    {"[guard]\nstealth = maybe\n", "sw.conf:2: [guard] stealth: "
	                                   "\"maybe\" is not on, off, yes, no, "
	                                   "true or false"},
	    {"[guard]\nstealth = off # really\n",
	        "sw.conf:2: [guard] stealth: \"off # really\" is not on, off, "
	        "yes, no, true or false"},
	    {"[guard]\nallow = 10.0.0.1/8\n",
	        "sw.conf:2: [guard] allow: \"10.0.0.1/8\" has host bits set "
	        "(did you mean 10.0.0.0/8?)"},
	    {"[guard]\nallow = 2001:db8::1/32\n",
	        "sw.conf:2: [guard] allow: \"2001:db8::1/32\" has host bits "
	        "set "
	        "(did you mean 2001:db8::/32?)"},
	    {"[guard]\nallow = 10.0.0.0/33\n",
	        "sw.conf:2: [guard] allow: \"10.0.0.0/33\": the prefix length "
	        "must be 0..32"},
	    {"[guard]\nallow = ::/129\n",
	        "sw.conf:2: [guard] allow: \"::/129\": the prefix length must "
	        "be 0..128"},
	    {"[guard]\nallow = 10.0.0.0/\n",
	        "sw.conf:2: [guard] allow: \"10.0.0.0/\": the prefix length "
	        "must be 0..32"},
	    {"[guard]\nallow = 10.0.0.0/-1\n",
	        "sw.conf:2: [guard] allow: \"10.0.0.0/-1\": the prefix length "
	        "must be 0..32"},
	    {"[guard]\nallow = example.org/24\n",
	        "sw.conf:2: [guard] allow: \"example.org/24\" is not a CIDR "
	        "(use 192.0.2.0/24 or 2001:db8::/32)"},
	    {"[guard]\nallow = 10.0.0.0/8,,192.0.2.1\n",
	        "sw.conf:2: [guard] allow: empty entry in the list"},
	    {"[guard]\nallow = 10.0.0.0/8, 10.0.0.0/8\n",
	        "sw.conf:2: [guard] allow: \"10.0.0.0/8\" is listed twice"},
	};

	(void)state;
	run_bad(b, ARRAY_LEN(b));
}

/* The keys added to [media], [portal] and [guard] later: each at both of
 * its bounds. */
static void
test_new_keys_bounds(void **state)
{
	struct config *c;

	(void)state;
	c = load_ok("[media]\nthreads = 1\ntimeout = 5s\n"
	            "[guard]\nenabled = off\nlock = 1m\nrate = 0\n"
	            "rate_burst = 1\nnft = on\ncalls_per_extension = 1\n"
	            "calls_per_tenant = 1\ndecoys =\n");
	assert_int_equal(c->media_threads, 1);
	assert_int_equal(c->media_timeout_us, INT64_C(5000000));
	assert_false(c->guard_enabled);
	assert_int_equal(c->guard_lock_us, INT64_C(60000000));
	assert_int_equal(c->guard_rate, 0);
	assert_int_equal(c->guard_rate_burst, 1);
	assert_true(c->guard_nft);
	assert_int_equal(c->guard_calls_ext, 1);
	assert_int_equal(c->guard_calls_tenant, 1);
	assert_int_equal(c->guard_decoys_n, 0);
	config_free(c);

	c = load_ok("[media]\nthreads = 64\ntimeout = 1d\n"
	            "[guard]\nenabled = yes\nlock = 1d\nrate = 1000000\n"
	            "rate_burst = 1000000\nnft = off\n"
	            "calls_per_extension = 1000\ncalls_per_tenant = 100000\n"
	            "decoys = 9, x.y_z-+, ADMIN\n");
	assert_int_equal(c->media_threads, 64);
	assert_int_equal(c->media_timeout_us, INT64_C(86400000000));
	assert_true(c->guard_enabled);
	assert_int_equal(c->guard_lock_us, INT64_C(86400000000));
	assert_int_equal(c->guard_rate, 1000000);
	assert_int_equal(c->guard_rate_burst, 1000000);
	assert_false(c->guard_nft);
	assert_int_equal(c->guard_calls_ext, 1000);
	assert_int_equal(c->guard_calls_tenant, 100000);
	assert_int_equal(c->guard_decoys_n, 3);
	assert_string_equal(c->guard_decoys[0], "9");
	assert_string_equal(c->guard_decoys[1], "x.y_z-+");
	assert_string_equal(c->guard_decoys[2], "ADMIN"); /* case kept */
	config_free(c);

	/* the same bounds in other units */
	c = load_ok("[media]\ntimeout = 86400s\n[guard]\nlock = 1440m\n"
	            "enabled = true\nnft = yes\n");
	assert_int_equal(c->media_timeout_us, INT64_C(86400000000));
	assert_int_equal(c->guard_lock_us, INT64_C(86400000000));
	assert_true(c->guard_enabled);
	assert_true(c->guard_nft);
	config_free(c);
	c = load_ok("[media]\ntimeout = 24h\n[guard]\nlock = 60s\n"
	            "enabled = false\nnft = no\n");
	assert_int_equal(c->media_timeout_us, INT64_C(86400000000));
	assert_int_equal(c->guard_lock_us, INT64_C(60000000));
	assert_false(c->guard_enabled);
	assert_false(c->guard_nft);
	config_free(c);
}

/* [guard] decoys: CONFIG_DECOYS_MAX names of CONFIG_DECOY_LEN bytes, no
 * more. */
static void
test_decoys_limits(void **state)
{
	char text[CONFIG_LINE_MAX], want[256];
	struct config *c;
	size_t i, k;

	(void)state;
	i = (size_t)snprintf(text, sizeof(text), "[guard]\ndecoys = ");
	for (k = 0; k < CONFIG_DECOYS_MAX; k++)
		i +=
		    (size_t)snprintf(text + i, sizeof(text) - i, "%s%02zu%.30s",
		        k ? "," : "", k, "abcdefghijklmnopqrstuvwxyzABCD");
	assert_true(i + 64 < sizeof(text));
	c = load_ok(text);
	assert_int_equal(c->guard_decoys_n, CONFIG_DECOYS_MAX);
	assert_int_equal(strlen(c->guard_decoys[31]), CONFIG_DECOY_LEN);
	assert_string_equal(
	    c->guard_decoys[31], "31abcdefghijklmnopqrstuvwxyzABCD");
	config_free(c);
	snprintf(text + i, sizeof(text) - i, ",x\n");
	load_bad(text, "sw.conf:2: [guard] decoys: more than 32 names");

	/* one name of CONFIG_DECOY_LEN + 1 bytes */
	snprintf(text, sizeof(text), "[guard]\ndecoys = a, %033d\n", 0);
	snprintf(want, sizeof(want),
	    "sw.conf:2: [guard] decoys: \"%033d\" is not a user name (1..32 "
	    "letters, digits, . _ - +)",
	    0);
	load_bad(text, want);
}

/* The CIDR lists other than [guard] allow: [media] allow, [portal] allow,
 * [guard] phones and [guard] deny. */
static void
test_cidr_lists(void **state)
{
	struct config *c;
	char buf[CONFIG_ADDR_STRLEN];

	(void)state;
	/* one key name in three sections: three keys */
	c = load_ok("[media]\nallow = 203.0.113.0/24, 2001:db8:1::/48\n"
	            "[portal]\nallow = 198.51.100.7, ::1\n"
	            "[guard]\nallow = 10.0.0.0/8\n"
	            "phones = 192.0.2.0/24,10.0.0.0/8 , fd00::/8\n"
	            "deny = 198.51.100.0/24, 2001:db8:bad::/48, 192.0.2.66, "
	            "128.0.0.0/1, 8000::/1\n");
	assert_int_equal(c->media_allow_n, 2);
	assert_string_equal(
	    config_cidr_fmt(&c->media_allow[0], buf, sizeof(buf)),
	    "203.0.113.0/24");
	assert_string_equal(
	    config_cidr_fmt(&c->media_allow[1], buf, sizeof(buf)),
	    "2001:db8:1::/48");
	assert_int_equal(c->portal_allow_n, 2);
	assert_string_equal(
	    config_cidr_fmt(&c->portal_allow[0], buf, sizeof(buf)),
	    "198.51.100.7/32");
	assert_string_equal(
	    config_cidr_fmt(&c->portal_allow[1], buf, sizeof(buf)), "::1/128");
	assert_int_equal(c->guard_allow_n, 1);
	assert_int_equal(c->guard_phones_n, 3);
	assert_string_equal(
	    config_cidr_fmt(&c->guard_phones[1], buf, sizeof(buf)),
	    "10.0.0.0/8");
	assert_string_equal(
	    config_cidr_fmt(&c->guard_phones[2], buf, sizeof(buf)), "fd00::/8");
	assert_int_equal(c->guard_deny_n, 5);
	assert_string_equal(
	    config_cidr_fmt(&c->guard_deny[1], buf, sizeof(buf)),
	    "2001:db8:bad::/48");
	assert_string_equal(
	    config_cidr_fmt(&c->guard_deny[2], buf, sizeof(buf)),
	    "192.0.2.66/32");
	assert_string_equal(
	    config_cidr_fmt(&c->guard_deny[4], buf, sizeof(buf)), "8000::/1");
	config_free(c);

	/* only deny refuses /0: the others take every address */
	c = load_ok("[media]\nallow = 0.0.0.0/0\n[portal]\nallow = ::/0\n"
	            "[guard]\nphones = 0.0.0.0/0, ::/0\n");
	assert_int_equal(c->media_allow_n, 1);
	assert_int_equal(c->media_allow[0].prefix, 0);
	assert_int_equal(c->portal_allow_n, 1);
	assert_int_equal(c->guard_phones_n, 2);
	config_free(c);

	/* empty lists */
	c = load_ok("[media]\nallow =\n[portal]\nallow = ; none\n[guard]\n"
	            "phones =\ndeny =\n");
	assert_int_equal(c->media_allow_n, 0);
	assert_int_equal(c->portal_allow_n, 0);
	assert_int_equal(c->guard_phones_n, 0);
	assert_int_equal(c->guard_deny_n, 0);
	config_free(c);
}

static void
test_bad_new_keys(void **state)
{
	static const struct bad b[] = {
	    /* [media] threads: 1..64 */
	    {"[media]\nthreads = 0\n",
	        "sw.conf:2: [media] threads: \"0\" is out of range (1..64)"},
	    {"[media]\nthreads = 65\n",
	        "sw.conf:2: [media] threads: \"65\" is out of range (1..64)"},
	    {"[media]\nthreads = four\n",
	        "sw.conf:2: [media] threads: \"four\" is not a number"},
	    /* [media] timeout: 5s..1d */
	    {"[media]\nports = 10000-20000\n\ntimeout = 4s\n",
	        "sw.conf:4: [media] timeout: \"4s\" is out of range (5s..1d)"},
	    {"[media]\ntimeout = 2d\n",
	        "sw.conf:2: [media] timeout: \"2d\" is out of range (5s..1d)"},
	    {"[media]\ntimeout = 86401s\n",
	        "sw.conf:2: [media] timeout: \"86401s\" is out of range "
	        "(5s..1d)"},
	    {"[media]\ntimeout = 60\n",
	        "sw.conf:2: [media] timeout: \"60\" is not a duration (use "
	        "30s, 5m, 1h, 7d)"},
	    /* the CIDR lists */
	    {"[media]\nallow = 10.0.0.1/8\n",
	        "sw.conf:2: [media] allow: \"10.0.0.1/8\" has host bits set "
	        "(did you mean 10.0.0.0/8?)"},
	    {"[portal]\nallow = portal.example.org\n",
	        "sw.conf:2: [portal] allow: \"portal.example.org\" is not a "
	        "CIDR (use 192.0.2.0/24 or 2001:db8::/32)"},
	    {"[portal]\nallow = ::1/129\n",
	        "sw.conf:2: [portal] allow: \"::1/129\": the prefix length "
	        "must be 0..128"},
	    {"[guard]\nphones = 192.0.2.0/24, 192.0.2.0/24\n",
	        "sw.conf:2: [guard] phones: \"192.0.2.0/24\" is listed twice"},
	    {"[guard]\nphones = 192.0.2.0/24,\n",
	        "sw.conf:2: [guard] phones: empty entry in the list"},
	    {"[guard]\ndeny = 0.0.0.0/0\n",
	        "sw.conf:2: [guard] deny: 0.0.0.0/0 would match every "
	        "address"},
	    {"[guard]\ndeny = 192.0.2.1, ::/0\n",
	        "sw.conf:2: [guard] deny: ::/0 would match every address"},
	    {"[guard]\ndeny = 1.2.3.4/0\n",
	        "sw.conf:2: [guard] deny: \"1.2.3.4/0\" has host bits set "
	        "(did you mean 0.0.0.0/0?)"},
	    {"[guard]\ndeny = 10.0.0.0/33\n",
	        "sw.conf:2: [guard] deny: \"10.0.0.0/33\": the prefix length "
	        "must be 0..32"},
	    /* [guard] enabled, nft: on/off */
	    {"[guard]\nenabled = maybe\n",
	        "sw.conf:2: [guard] enabled: \"maybe\" is not on, off, yes, "
	        "no, true or false"},
	    {"[guard]\nnft = 1\n", "sw.conf:2: [guard] nft: \"1\" is not on, "
	                           "off, yes, no, true or false"},
	    {"[guard]\nnft = ON\n", "sw.conf:2: [guard] nft: \"ON\" is not "
	                            "on, off, yes, no, true or false"},
	    /* [guard] lock: 1m..1d */
	    {"[guard]\nlock = 59s\n",
	        "sw.conf:2: [guard] lock: \"59s\" is out of range (1m..1d)"},
	    {"[guard]\nlock = 25h\n",
	        "sw.conf:2: [guard] lock: \"25h\" is out of range (1m..1d)"},
	    {"[guard]\nlock = 15\n", "sw.conf:2: [guard] lock: \"15\" is not "
	                             "a duration (use 30s, 5m, 1h, 7d)"},
	    /* [guard] decoys */
	    {"[guard]\ndecoys = 100, a b\n",
	        "sw.conf:2: [guard] decoys: \"a b\" is not a user name (1..32 "
	        "letters, digits, . _ - +)"},
	    {"[guard]\ndecoys = sip:100\n",
	        "sw.conf:2: [guard] decoys: \"sip:100\" is not a user name "
	        "(1..32 letters, digits, . _ - +)"},
	    {"[guard]\ndecoys = admin,ADMIN\n",
	        "sw.conf:2: [guard] decoys: \"ADMIN\" is listed twice"},
	    {"[guard]\ndecoys = x,,y\n",
	        "sw.conf:2: [guard] decoys: empty entry in the list"},
	    /* [guard] rate: 0..1000000; rate_burst: 1..1000000 */
	    {"[guard]\nrate = 1000001\n",
	        "sw.conf:2: [guard] rate: \"1000001\" is out of range "
	        "(0..1000000)"},
	    {"[guard]\nrate = -1\n",
	        "sw.conf:2: [guard] rate: \"-1\" is not a number"},
	    {"[guard]\nrate_burst = 0\n",
	        "sw.conf:2: [guard] rate_burst: \"0\" is out of range "
	        "(1..1000000)"},
	    {"[guard]\nrate_burst = 1000001\n",
	        "sw.conf:2: [guard] rate_burst: \"1000001\" is out of range "
	        "(1..1000000)"},
	    /* [guard] calls_per_extension: 1..1000 */
	    {"[guard]\ncalls_per_extension = 0\n",
	        "sw.conf:2: [guard] calls_per_extension: \"0\" is out of range "
	        "(1..1000)"},
	    {"[guard]\ncalls_per_extension = 1001\n",
	        "sw.conf:2: [guard] calls_per_extension: \"1001\" is out of "
	        "range (1..1000)"},
	    /* [guard] calls_per_tenant: 1..100000 */
	    {"[guard]\ncalls_per_tenant = 0\n",
	        "sw.conf:2: [guard] calls_per_tenant: \"0\" is out of range "
	        "(1..100000)"},
	    {"[guard]\ncalls_per_tenant = 100001\n",
	        "sw.conf:2: [guard] calls_per_tenant: \"100001\" is out of "
	        "range (1..100000)"},
	    {"[guard]\ncalls_per_tenant = 1e3\n",
	        "sw.conf:2: [guard] calls_per_tenant: \"1e3\" is not a "
	        "number"},
	    /* each key in its own section only */
	    {"[guard]\nthreads = 4\n",
	        "sw.conf:2: [guard] unknown key \"threads\""},
	    {"[media]\nphones = 10.0.0.0/8\n",
	        "sw.conf:2: [media] unknown key \"phones\""},
	    {"[portal]\ndeny = 10.0.0.0/8\n",
	        "sw.conf:2: [portal] unknown key \"deny\""},
	    {"[guard]\nnft = on\nnft = off\n",
	        "sw.conf:3: [guard] nft: duplicate key (also on line 2)"},
	};

	(void)state;
	run_bad(b, ARRAY_LEN(b));
}

static void
test_bad_structure(void **state)
{
	static const struct bad b[] = {
	    {"[daemon]\nuser = sw\n[sipp]\ntls = 1.2.3.4:5\n",
	        "sw.conf:3: unknown section [sipp]"},
	    {"[SIP]\n", "sw.conf:1: unknown section [SIP]"},
	    {"[ sip ]\n", "sw.conf:1: unknown section [ sip ]"},
	    {"[]\n", "sw.conf:1: unknown section []"},
	    {"[sip\n", "sw.conf:1: section header without ']'"},
	    {"[sip] tls = 1.2.3.4:5\n",
	        "sw.conf:1: text after the section header"},
	    {"[sip]]\n", "sw.conf:1: text after the section header"},
	    {"\n\n[sip]\n\ntsl = 0.0.0.0:5061\n",
	        "sw.conf:5: [sip] unknown key \"tsl\""},
	    {"[sip]\nTLS = 0.0.0.0:5061\n",
	        "sw.conf:2: [sip] unknown key \"TLS\""},
	    {"[sip]\n= 0.0.0.0:5061\n", "sw.conf:2: [sip] unknown key \"\""},
	    {"[guard]\ntls = 0.0.0.0:5061\n",
	        "sw.conf:2: [guard] unknown key \"tls\""},
	    {"user = sw\n",
	        "sw.conf:1: key \"user\" outside any section (put it under "
	        "[daemon], [sip], ...)"},
	    {"[sip]\ntls = 0.0.0.0:5061\ntcp =\n; x\ntls = 0.0.0.0:5062\n",
	        "sw.conf:5: [sip] tls: duplicate key (also on line 2)"},
	    {"[sip]\ntls =\n[guard]\n[sip]\ntls =\n",
	        "sw.conf:5: [sip] tls: duplicate key (also on line 2)"},
	    {"[sip]\ntls\n", "sw.conf:2: not a key = value line"},
	    {"[sip]\ntls ; = 0.0.0.0:5061\n",
	        "sw.conf:2: not a key = value line"},
	    {"[sip]\ntls: 0.0.0.0:5061\n",
	        "sw.conf:2: not a key = value line (use '=', not ':')"},
	    /* inih's multi-line continuation is off: no silent append */
	    {"[guard]\nallow = 10.0.0.0/8\n  192.0.2.0/24\n",
	        "sw.conf:3: not a key = value line"},
	    {"[sip]\ntls = 0.0.0.0:5061\n  , [::]:5061\n",
	        "sw.conf:3: not a key = value line"},
	    {"[sip]\ntls = 0.0.0.0:5061;x\n",
	        "sw.conf:2: [sip] tls: \"0.0.0.0:5061;x\": the port must be "
	        "1..65535"},
	    {"[daemon]\nnode = a\x01z\n",
	        "sw.conf:2: [daemon] node: the value holds control characters "
	        "or is not UTF-8"},
	    {"[daemon]\nnode = \xff\xfe\n",
	        "sw.conf:2: [daemon] node: the value holds control characters "
	        "or is not UTF-8"},
	    {"[sip]\ntsl\x1b[31m = 1\n",
	        "sw.conf:2: [sip] unknown key \"tsl\\x1b[31m\""},
	    {"[sip]\ntcp = 0.0.0.0:5061\n",
	        "sw.conf:2: [sip] tcp: 0.0.0.0:5061 of [sip] tls and "
	        "0.0.0.0:5061 of [sip] tcp would share a port"},
	    {"[sip]\ntls = 127.0.0.1:5061, 0.0.0.0:5061\n",
	        "sw.conf:2: [sip] tls: 127.0.0.1:5061 of [sip] tls and "
	        "0.0.0.0:5061 of [sip] tls would share a port"},
	    {"[portal]\nlisten = [::]:8443\n[sip]\ntls = [::1]:8443\n",
	        "sw.conf:4: [sip] tls: [::1]:8443 of [sip] tls and [::]:8443 "
	        "of "
	        "[portal] listen would share a port"},
	    {"[sip]\nudp = 127.0.0.1:2223\n[media]\nng = 127.0.0.1:2223\n",
	        "sw.conf:4: [media] ng: 127.0.0.1:2223 of [sip] udp and "
	        "127.0.0.1:2223 of [media] ng would share a port"},
	    {"[sip]\nudp = 0.0.0.0:15000\n",
	        "sw.conf:2: [sip] udp: port 15000 is inside [media] ports "
	        "10000-20000"},
	    {"[media]\nng = 127.0.0.1:12000\n",
	        "sw.conf:2: [media] ng: port 12000 is inside [media] ports "
	        "10000-20000"},
	    {"[sip]\nudp = 0.0.0.0:5060\n[media]\nports = 4000-6000\n",
	        "sw.conf:4: [sip] udp: port 5060 is inside [media] ports "
	        "4000-6000"},
	};

	(void)state;
	run_bad(b, ARRAY_LEN(b));
}

static void
test_listeners_ok(void **state)
{
	struct config *c;

	(void)state;
	/* tcp and udp may share a port; [::] and 0.0.0.0 are two sockets */
	c = load_ok("[sip]\n"
	            "tls = 0.0.0.0:5061 ,[::]:5061\n"
	            "tcp = 0.0.0.0:5060, 192.0.2.1:5062\n"
	            "udp = 0.0.0.0:5060,\t[2001:db8::1]:5060\n"
	            "[media]\nng = 127.1.2.3:2223, [::1]:2223\n"
	            "[portal]\nlisten = 127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,"
	            "127.0.0.1:4,127.0.0.1:5,127.0.0.1:6,127.0.0.1:7,"
	            "127.0.0.1:8\n");
	assert_int_equal(c->sip_tls.n, 2);
	assert_string_equal(fmt_listen(&c->sip_tls, 1), "[::]:5061");
	assert_int_equal(c->sip_tcp.n, 2);
	assert_int_equal(c->sip_udp.n, 2);
	assert_string_equal(fmt_listen(&c->sip_udp, 1), "[2001:db8::1]:5060");
	assert_int_equal(c->media_ng.n, 2);
	assert_string_equal(fmt_listen(&c->media_ng, 0), "127.1.2.3:2223");
	assert_int_equal(c->portal_listen.n, 8);
	assert_string_equal(fmt_listen(&c->portal_listen, 7), "127.0.0.1:8");
	config_free(c);

	c = load_ok("[sip]\ntls =\n[portal]\nlisten = ; off\n");
	assert_int_equal(c->sip_tls.n, 0);
	assert_int_equal(c->portal_listen.n, 0);
	config_free(c);
}

static void
test_paths(void **state)
{
	struct config *c = NULL;
	int r;

	(void)state;
	r = config_load_string("[sip]\ncert = a/b.pem\n", 21, "/srv/x/",
	    "s.conf", &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, 0);
	assert_string_equal(c->path, "/srv/x/s.conf");
	assert_string_equal(c->sip_cert, "/srv/x/a/b.pem");
	assert_string_equal(c->store_url, "sqlite:/srv/x/sipwarden.db");
	config_free(c);

	c = load_ok("[daemon]\nsecret_key = ../keys/s.key\n[store]\n"
	            "url = sqlite:/var/lib/sw/db.sqlite\n[sip]\nkey = k.pem\n");
	assert_string_equal(c->secret_key, DIR "/../keys/s.key");
	assert_string_equal(c->store_url, "sqlite:/var/lib/sw/db.sqlite");
	assert_string_equal(c->sip_key, DIR "/k.pem");
	config_free(c);

	c = load_ok("[store]\nurl = sqlite:data/sw.db\n");
	assert_string_equal(c->store_url, "sqlite:" DIR "/data/sw.db");
	config_free(c);

	/* dir must be absolute */
	c = NULL;
	r = config_load_string(
	    "", 0, "etc", "x.conf", &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, EINVAL);
	assert_null(c);
	assert_string_equal(
	    errbuf, "x.conf: the config folder must be absolute");
}

static void
test_syntax_edges(void **state)
{
	struct config *c;
	char *big;
	size_t i;

	(void)state;
	/* BOM, CRLF, tabs, inline comments, '#' comments, indented keys */
	c = load_ok("\xef\xbb\xbf[sip]\r\n"
	            "\ttls = 127.0.0.1:5061   ; a comment\r\n"
	            "# a comment\r\n"
	            "   workers=3\r\n"
	            "[guard] ; the guard\r\n"
	            "ban=2h");
	assert_int_equal(c->sip_tls.n, 1);
	assert_string_equal(fmt_listen(&c->sip_tls, 0), "127.0.0.1:5061");
	assert_int_equal(c->sip_workers, 3);
	assert_int_equal(c->guard_ban_us, INT64_C(7200000000));
	config_free(c);

	/* a BOM is only skipped at the start of the file */
	load_bad("[sip]\n\xef\xbb\xbf[guard]\n",
	    "sw.conf:2: not a key = value line");

	/* NUL bytes are refused, not read as the end of the text */
	{
		static const char nul[] = "[sip]\nworkers = 1\0garbage\n";
		struct config *x = NULL;
		int r = config_load_string(nul, sizeof(nul) - 1, DIR, NAME, &x,
		    errbuf, sizeof(errbuf));

		assert_int_equal(r, EINVAL);
		assert_null(x);
		assert_string_equal(errbuf, "sw.conf:2: NUL byte in the line");
	}

	/* lines of CONFIG_LINE_MAX bytes pass, longer ones are refused */
	big = malloc(3 * CONFIG_LINE_MAX);
	assert_non_null(big);
	memcpy(big, "[sip]\n;", 7);
	memset(big + 7, 'x', CONFIG_LINE_MAX - 1);
	memcpy(big + 6 + CONFIG_LINE_MAX, "\n[guard]\n", 10);
	c = load_ok(big);
	config_free(c);
	/* and a CRLF line of CONFIG_LINE_MAX bytes too */
	memcpy(big + 6 + CONFIG_LINE_MAX, "\r\n[guard]\n", 11);
	c = load_ok(big);
	config_free(c);
	memset(big + 7, 'x', CONFIG_LINE_MAX);
	memcpy(big + 7 + CONFIG_LINE_MAX, "\n[guard]\n", 10);
	load_bad(big, "sw.conf:2: line longer than 4096 bytes");
	/* inih alone would cut this value and read "ban = 1d" as a key */
	memcpy(big, "[guard]\nallow = ", 16);
	memset(big + 16, ' ', CONFIG_LINE_MAX);
	memcpy(big + 16 + CONFIG_LINE_MAX, "\nban = 1d\n", 11);
	load_bad(big, "sw.conf:2: line longer than 4096 bytes");
	free(big);

	/* a real long line: 64 IPv6 CIDRs */
	big = malloc(CONFIG_LINE_MAX);
	assert_non_null(big);
	i = (size_t)snprintf(big, CONFIG_LINE_MAX, "[guard]\nallow = ");
	for (unsigned k = 0; k < CONFIG_CIDR_MAX; k++)
		i += (size_t)snprintf(big + i, CONFIG_LINE_MAX - i,
		    "%sffff:ffff:ffff:ffff:ffff:ffff:ffff:%x/128",
		    k ? ", " : "", k);
	assert_true(i < CONFIG_LINE_MAX);
	c = load_ok(big);
	assert_int_equal(c->guard_allow_n, CONFIG_CIDR_MAX);
	config_free(c);
	snprintf(big + i, CONFIG_LINE_MAX - i, ", ::1");
	load_bad(big, "sw.conf:2: [guard] allow: more than 64 entries");
	free(big);

	/* too big a text */
	{
		struct config *x = NULL;
		int r = config_load_string("", (size_t)CONFIG_FILE_MAX + 1, DIR,
		    NAME, &x, errbuf, sizeof(errbuf));

		assert_int_equal(r, EFBIG);
		assert_null(x);
	}
}

static void
test_err_buffer(void **state)
{
	struct config *c = NULL;
	char small[12];

	(void)state;
	assert_int_equal(
	    config_load_string("[x]\n", 4, DIR, NAME, &c, NULL, 0), EINVAL);
	assert_int_equal(
	    config_load_string("[x]\n", 4, DIR, NAME, &c, small, sizeof(small)),
	    EINVAL);
	assert_string_equal(small, "sw.conf:1: ");
	assert_null(c);
	/* messages never echo a postgres url (it may hold a password) */
	load_bad("[store]\nurl = postgresq://u:hunter2@h/db\n",
	    "sw.conf:2: [store] url: must be sqlite:PATH or postgresql://...");
	assert_null(strstr(errbuf, "hunter2"));
	/* long values are cut in messages */
	load_bad(
	    "[daemon]\nlog_level = "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaa\n",
	    "sw.conf:2: [daemon] log_level: "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "...\" is not error, warn, info or debug");
}

static void
test_cidr_match(void **state)
{
	struct config *c =
	    load_ok("[guard]\nallow = 10.0.0.0/8, 192.0.2.7, "
	            "2001:db8::/33, 0.0.0.0/0, 198.51.100.128/25\n");
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	const struct sockaddr *sa4 = (const struct sockaddr *)&sin;
	const struct sockaddr *sa6 = (const struct sockaddr *)&sin6;

	(void)state;
	assert_int_equal(c->guard_allow_n, 5);
	inet_pton(AF_INET, "10.255.1.2", &sin.sin_addr);
	assert_true(config_cidr_match(&c->guard_allow[0], sa4));
	assert_false(config_cidr_match(&c->guard_allow[1], sa4));
	assert_false(config_cidr_match(&c->guard_allow[2], sa4));
	assert_true(config_cidr_match(&c->guard_allow[3], sa4));
	inet_pton(AF_INET, "11.0.0.1", &sin.sin_addr);
	assert_false(config_cidr_match(&c->guard_allow[0], sa4));
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	assert_true(config_cidr_match(&c->guard_allow[1], sa4));
	inet_pton(AF_INET, "192.0.2.8", &sin.sin_addr);
	assert_false(config_cidr_match(&c->guard_allow[1], sa4));
	inet_pton(AF_INET, "198.51.100.200", &sin.sin_addr);
	assert_true(config_cidr_match(&c->guard_allow[4], sa4));
	inet_pton(AF_INET, "198.51.100.127", &sin.sin_addr);
	assert_false(config_cidr_match(&c->guard_allow[4], sa4));

	inet_pton(AF_INET6, "2001:db8:7fff::1", &sin6.sin6_addr);
	assert_true(config_cidr_match(&c->guard_allow[2], sa6));
	assert_false(config_cidr_match(&c->guard_allow[0], sa6));
	assert_false(config_cidr_match(&c->guard_allow[3], sa6));
	inet_pton(AF_INET6, "2001:db8:8000::1", &sin6.sin6_addr);
	assert_false(config_cidr_match(&c->guard_allow[2], sa6));
	/* IPv4-mapped addresses from a dual-stack socket */
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &sin6.sin6_addr);
	assert_true(config_cidr_match(&c->guard_allow[0], sa6));
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &sin6.sin6_addr);
	assert_true(config_cidr_match(&c->guard_allow[1], sa6));
	assert_false(config_cidr_match(&c->guard_allow[2], sa6));
	config_free(c);
}

static void
test_default_text_roundtrip(void **state)
{
	static const char *keys[] = {"user", "node", "secret_key", "log_level",
	    "tls", "tcp", "udp", "advertise", "workers", "cert", "key", "ports",
	    "ng", "url", "listen", "max_auth_failures", "window", "ban",
	    "stealth", "allow", "threads", "timeout", "enabled", "lock",
	    "decoys", "rate", "rate_burst", "nft", "calls_per_extension",
	    "calls_per_tenant", "phones", "deny"};
	struct config *c;
	char *text;
	size_t i;

	(void)state;
	text = config_default_text("sipwarden");
	assert_non_null(text);
	for (i = 0; i < ARRAY_LEN(keys); i++) {
		char pat[64];

		snprintf(pat, sizeof(pat), "\n%s =", keys[i]);
		assert_non_null(strstr(text, pat));
	}
	assert_non_null(strstr(text, "\n; "));
	/* allow in [media], [portal] and [guard] */
	{
		const char *p = text;
		int n = 0;

		while ((p = strstr(p, "\nallow =")) != NULL) {
			n++;
			p++;
		}
		assert_int_equal(n, 3);
	}
	c = load_ok(text);
	check_defaults(c, DIR);
	config_free(c);
	free(text);

	text = config_default_text(NULL);
	assert_non_null(text);
	c = load_ok(text);
	check_defaults(c, DIR);
	config_free(c);
	free(text);

	text = config_default_text("voip");
	assert_non_null(text);
	c = load_ok(text);
	assert_string_equal(c->user, "voip");
	config_free(c);
	free(text);

	assert_null(config_default_text("Bad User"));
	assert_null(config_default_text(""));
}

static void
test_load_file(void **state)
{
	char tmpl[] = "/tmp/config_test.XXXXXX", path[PATH_MAX], real[PATH_MAX];
	char cwd[PATH_MAX], want[PATH_MAX + 128];
	struct config *c = NULL;
	const char *text = "[sip]\ncert = c.pem\n[guard]\nwindow = 2m\n";
	int r;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, real));
	snprintf(path, sizeof(path), "%s/sw.conf", tmpl);
	assert_int_equal(
	    util_file_write(path, text, strlen(text), 0600, false), 0);

	r = config_load_file(path, &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, 0);
	snprintf(want, sizeof(want), "%s/sw.conf", real);
	assert_string_equal(c->path, want);
	assert_string_equal(c->dir, real);
	snprintf(want, sizeof(want), "%s/c.pem", real);
	assert_string_equal(c->sip_cert, want);
	assert_int_equal(c->guard_window_us, INT64_C(120000000));
	config_free(c);

	/* a relative path resolves against the working folder */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpl), 0);
	c = NULL;
	r = config_load_file("sw.conf", &c, errbuf, sizeof(errbuf));
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(r, 0);
	assert_string_equal(c->dir, real);
	snprintf(want, sizeof(want), "%s/sw.conf", real);
	assert_string_equal(c->path, want);
	config_free(c);

	/* bad content names the path as given */
	text = "[guard]\n\nwindow = 90x\n";
	assert_int_equal(
	    util_file_write(path, text, strlen(text), 0600, false), 0);
	c = NULL;
	r = config_load_file(path, &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, EINVAL);
	assert_null(c);
	snprintf(want, sizeof(want),
	    "%s:3: [guard] window: \"90x\" is not a duration (use 30s, 5m, "
	    "1h, 7d)",
	    path);
	assert_string_equal(errbuf, want);

	/* missing file */
	snprintf(path, sizeof(path), "%s/missing.conf", tmpl);
	r = config_load_file(path, &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, ENOENT);
	assert_null(c);
	snprintf(want, sizeof(want),
	    "cannot read %s: No such file or directory", path);
	assert_string_equal(errbuf, want);

	/* a folder */
	r = config_load_file(tmpl, &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, EISDIR);
	assert_null(c);
	snprintf(want, sizeof(want), "cannot read %s: Is a directory", tmpl);
	assert_string_equal(errbuf, want);

	/* unreadable (root reads anything: checked only as another user) */
	snprintf(path, sizeof(path), "%s/sw.conf", tmpl);
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		r = config_load_file(path, &c, errbuf, sizeof(errbuf));
		assert_int_equal(r, EACCES);
		assert_null(c);
		snprintf(want, sizeof(want),
		    "cannot read %s: Permission denied", path);
		assert_string_equal(errbuf, want);
	}
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(tmpl), 0);
}

static void
test_fmt(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct config_cidr cidr = {.family = AF_INET6, .prefix = 128};
	char buf[CONFIG_ADDR_STRLEN];

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(65535);
	memset(&sin6->sin6_addr, 0xff, 16);
	assert_string_equal(config_listen_fmt(&ss, buf, sizeof(buf)),
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	memset(cidr.addr, 0xff, 16);
	assert_string_equal(config_cidr_fmt(&cidr, buf, sizeof(buf)),
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	ss.ss_family = AF_UNIX;
	assert_string_equal(config_listen_fmt(&ss, buf, sizeof(buf)), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_empty),
	    cmocka_unit_test(test_all_keys_valid),
	    cmocka_unit_test(test_values_other_forms),
	    cmocka_unit_test(test_bad_daemon),
	    cmocka_unit_test(test_bad_sip),
	    cmocka_unit_test(test_bad_media_store_portal),
	    cmocka_unit_test(test_bad_guard),
	    cmocka_unit_test(test_new_keys_bounds),
	    cmocka_unit_test(test_decoys_limits),
	    cmocka_unit_test(test_cidr_lists),
	    cmocka_unit_test(test_bad_new_keys),
	    cmocka_unit_test(test_bad_structure),
	    cmocka_unit_test(test_listeners_ok),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_syntax_edges),
	    cmocka_unit_test(test_err_buffer),
	    cmocka_unit_test(test_cidr_match),
	    cmocka_unit_test(test_default_text_roundtrip),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_fmt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
