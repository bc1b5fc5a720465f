/* daemon.c: the node's main thread: config, listeners bound before
 * privileges drop, the credential table and the change-log follower, the
 * SIP workers, signals. */
#include "core/daemon.h"
#include "call/b2bua.h"
#include "call/credtab.h"
#include "call/nctab.h"
#include "call/regtab.h"
#include "call/sipd.h"
#include "call/trunktab.h"
#include "core/config.h"
#include "core/storew.h"
#include "core/super.h"
#include "cred/keys.h"
#include "guard/guard.h"
#include "lib/log.h"
#include "lib/util.h"
#include "media/ngd.h"
#include "media/relay.h"
#include "store/store.h"
#include "transport/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum {
	DAEMON_POLL_MS = 200, /* change-log poll: changes seen < 1 s */
	DAEMON_CHANGE_BATCH = 1000,
	DAEMON_BAN_PURGE_US = 60 * 1000000, /* ended bans deleted this often */
	DAEMON_GUARD_CAPACITY = 65536,      /* sources the guard follows */
};

struct daemon {
	const char *conf_path;
	struct config *cfg;
	struct cred_keys *keys;
	struct store *st;
	struct credtab *creds;
	struct trunktab *trunks; /* carrier trunks and inbound numbers */
	struct regtab *reg;
	struct nctab *nc;
	struct storew *sw;
	struct sipd *sipd;
	struct b2bua *b2b;
	struct guard *guard;
	struct transport *tp;
	struct media_relay *relay;
	struct ngd *ng;
	struct super *sup; /* the root supervisor ([guard] nft = on) */
	int64_t seq;       /* last change applied */
	int64_t last_expire_us;
	int64_t last_ban_purge_us;
};

/* The guard banned a source (any worker): the kernel drops it too when
 * [guard] nft is on. */
static void
guard_on_ban(void *arg, const struct sockaddr_storage *src, int64_t until_us)
{
	struct daemon *d = arg;
	int64_t left = until_us - util_now_us();

	if (d->sup != NULL && left > 0)
		super_ban(d->sup, src, (uint32_t)((left + 999999) / 1000000));
}

/* The relay's timeout callback, from a media thread. */
static void
media_timeout_cb(void *arg, uint64_t cookie)
{
	struct daemon *d = arg;

	if (ngd_owns_cookie(cookie))
		ngd_timeout(d->ng, cookie);
	else if (d->b2b != NULL)
		b2bua_media_timeout(d->b2b, cookie);
}

/* The media relay, and the ng listener when [media] ng is set. */
static int
media_start(struct daemon *d)
{
	struct media_relay_config mc;
	char err[256];
	int rc;

	memset(&mc, 0, sizeof(mc));
	mc.port_lo = d->cfg->media_port_lo;
	mc.port_hi = d->cfg->media_port_hi;
	mc.threads = d->cfg->media_threads;
	mc.timeout_s = (unsigned)(d->cfg->media_timeout_us / 1000000);
	mc.on_timeout = media_timeout_cb;
	mc.arg = d;
	if ((rc = media_relay_new(&mc, &d->relay)) != 0) {
		log_err("cannot start the media relay: %s", strerror(rc));
		return rc;
	}
	log_info("media relay on ports %u-%u with %u thread(s); calls "
	         "without media end after %us",
	    d->cfg->media_port_lo, d->cfg->media_port_hi, d->cfg->media_threads,
	    mc.timeout_s);
	if (d->cfg->media_ng.n > 0) {
		if ((rc = ngd_start(
		         d->cfg, d->relay, &d->ng, err, sizeof(err))) != 0) {
			log_err("%s", err);
			return rc;
		}
	}
	return 0;
}

/* Drops root for good (STYLE.md): the daemon never needs it. */
static int
priv_drop(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL) {
		log_err("[daemon] user %s does not exist (make run creates it; "
		        "or scripts/ensure-user.sh %s)",
		    user, user);
		return EINVAL;
	}
	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		log_err(
		    "cannot drop privileges to %s: %s", user, strerror(errno));
		return EPERM;
	}
	if (setuid(0) != -1) {
		log_err("cannot drop privileges: root could be regained");
		return EPERM;
	}
#if defined(__SANITIZE_ADDRESS__) || defined(SW_SANITIZE)
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* LeakSanitizer needs it */
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_err("no_new_privs: %s", strerror(errno));
		return EPERM;
	}
	return 0;
}

struct apply {
	struct daemon *d;
	int64_t first, last;
	size_t n;
	bool trunks; /* a trunk or number changed */
};

/* Reads a stored ban's source ("192.0.2.7", "2001:db8::5" or
 * "2001:db8:1:2::/64": the guard takes the /64 of an IPv6 address) into
 * ss. Returns 0 or EINVAL. */
static int
ban_source_parse(const char *source, struct sockaddr_storage *ss)
{
	char addr[INET6_ADDRSTRLEN + 1];
	size_t n = strcspn(source, "/");

	memset(ss, 0, sizeof(*ss));
	snprintf(addr, sizeof(addr), "%.*s", (int)n, source);
	if (inet_pton(AF_INET, addr,
	        &((struct sockaddr_in *)(void *)ss)->sin_addr) == 1)
		ss->ss_family = AF_INET;
	else if (inet_pton(AF_INET6, addr,
	             &((struct sockaddr_in6 *)(void *)ss)->sin6_addr) == 1)
		ss->ss_family = AF_INET6;
	else
		return EINVAL;
	return 0;
}

/* A ban changed in the store (`sipwarden ban add|remove`): bans its
 * source in memory while the row is in force, lifts it otherwise.
 * Returns 0, or the store's error (the change is retried). */
static int
ban_apply(struct daemon *d, int64_t id)
{
	struct sockaddr_storage ss;
	struct store_ban b;
	char src[INET6_ADDRSTRLEN + 1];
	int64_t now = util_now_us();
	int rc;

	if ((rc = store_ban_get_by_id(d->st, id, &b)) == ENOENT)
		return 0; /* deleted since */
	if (rc != 0)
		return rc;
	if (d->guard == NULL || ban_source_parse(b.source, &ss) != 0)
		return 0;
	/* This node's own guard banned it: it is in force here already. */
	if (!b.manual && strcmp(b.node, d->cfg->node) == 0 &&
	    b.expires_us > now)
		return 0;
	snprintf(
	    src, sizeof(src), "%.*s", (int)strcspn(b.source, "/"), b.source);
	if (b.expires_us > now) {
		rc = guard_ban(d->guard, &ss, now, b.expires_us, b.reason);
		if (rc == 0)
			super_ban(d->sup, &ss,
			    (uint32_t)((b.expires_us - now + 999999) /
			               1000000));
		if (rc == 0)
			log_warn("security: ban src=%s seconds=%lld reason=%s",
			    src, (long long)((b.expires_us - now) / 1000000),
			    b.manual ? "manual" : "node");
		else
			log_warn("guard: ban of %s not applied: %s", src,
			    rc == EPERM ? "it is in [guard] allow"
			                : strerror(rc));
	} else if (guard_unban(d->guard, &ss) == 0) {
		super_ban(d->sup, &ss, 0);
		log_info("security: unban src=%s reason=manual", src);
	}
	return 0;
}

static int
apply_cb(void *arg, const struct store_change *c)
{
	struct apply *a = arg;
	int rc = 0;

	if (strcmp(c->kind, "extension") == 0)
		rc = credtab_load_ext(a->d->creds, a->d->st, c->object_id);
	else if (strcmp(c->kind, "tenant") == 0)
		rc = credtab_load_tenant(a->d->creds, a->d->st, c->object_id);
	else if (strcmp(c->kind, "ban") == 0)
		rc = ban_apply(a->d, c->object_id);
	else if (strcmp(c->kind, "trunk") == 0) {
		rc = trunktab_load_trunk(a->d->trunks, a->d->st, c->object_id);
		a->trunks = true;
	} else if (strcmp(c->kind, "number") == 0) {
		rc = trunktab_load_number(a->d->trunks, a->d->st, c->object_id);
		a->trunks = true;
	}
	if (rc != 0)
		return rc;
	if (a->n++ == 0)
		a->first = c->seq;
	a->last = c->seq;
	a->d->seq = c->seq;
	return 0;
}

/* Applies every change after d->seq. */
static void
daemon_follow(struct daemon *d)
{
	struct apply a = {d, 0, 0, 0, false};
	size_t before;
	int rc;

	do {
		before = a.n;
		rc = store_change_since(
		    d->st, d->seq, DAEMON_CHANGE_BATCH, apply_cb, &a);
	} while (rc == 0 && a.n - before == DAEMON_CHANGE_BATCH);
	if (rc != 0)
		log_warn("change log: %s (retrying)", store_errmsg(d->st));
	if (a.n > 0)
		log_info("changes: applied %zu (seq %lld..%lld); %zu "
		         "extensions in memory",
		    a.n, (long long)a.first, (long long)a.last,
		    credtab_count(d->creds));
	if (a.trunks)
		log_info("trunks: %zu trunks, %zu numbers in memory",
		    trunktab_trunk_count(d->trunks),
		    trunktab_number_count(d->trunks));
}

/* The guard's settings from the config ([guard]). */
static void
daemon_guard_params(const struct config *cfg, struct guard_params *gp)
{
	memset(gp, 0, sizeof(*gp));
	gp->ban_max_us = (int64_t)30 * 86400 * 1000000;
	gp->trust_us = (int64_t)3600 * 1000000;
	gp->capacity = DAEMON_GUARD_CAPACITY;
	guard_params_config(gp, cfg);
	if (gp->ban_max_us < gp->ban_us)
		gp->ban_max_us = gp->ban_us;
}

static void
daemon_reload(struct daemon *d)
{
	struct config *cfg = NULL;
	struct cred_keys *keys = NULL;
	char err[512];

	if (config_load_file(d->conf_path, &cfg, err, sizeof(err)) != 0) {
		log_err("reload: %s; keeping the running config", err);
		return;
	}
	if (cred_keys_load(cfg->secret_key, &keys, err, sizeof(err)) != 0) {
		log_err("reload: %s; keeping the running config", err);
		config_free(cfg);
		return;
	}
	if (strcmp(cfg->store_url, d->cfg->store_url) != 0)
		log_warn("reload: [store] url changed; it takes effect at the "
		         "next start");
	if (d->tp != NULL && cfg->sip_tls.n > 0 &&
	    transport_tls_load(d->tp, cfg, err, sizeof(err)) != 0) {
		log_err("reload: %s; keeping the running certificate", err);
	}
	config_free(d->cfg);
	cred_keys_free(d->keys);
	d->cfg = cfg;
	if (d->b2b != NULL)
		b2bua_set_limits(
		    d->b2b, cfg->guard_calls_ext, cfg->guard_calls_tenant);
	if (d->guard != NULL) {
		struct guard_params gp;

		/* Bans, failures, trust and locks stay; the [guard] settings
		 * change (but for the connection limits of the transport,
		 * [guard] conn_rate, conn_burst and the allow list's exemption
		 * from them: at the next start). */
		daemon_guard_params(cfg, &gp);
		if (guard_reconfigure(d->guard, &gp, util_now_us()) != 0)
			log_err("reload: the [guard] settings could not be "
			        "applied; the old ones stay");
	}
	d->keys = keys;
	log_set_level(cfg->log_level);
	log_info("reload: config and keys reloaded");
}

/* The digest nonce key every node shares: made once, sealed in the
 * store under secret.key. */
static int
nonce_key_load(struct daemon *d, unsigned char key[SIPD_NONCE_KEY_LEN])
{
	unsigned char fresh[SIPD_NONCE_KEY_LEN], box[STORE_BOX_MAX];
	char key_id[STORE_NAME_MAX] = "";
	size_t box_len = 0, n = 0;
	int rc;

	randombytes_buf(fresh, sizeof(fresh));
	rc = cred_seal(
	    d->keys, fresh, sizeof(fresh), box, sizeof(box), &box_len, key_id);
	sodium_memzero(fresh, sizeof(fresh));
	if (rc != 0)
		return rc;
	if ((rc = store_cluster_secret_ensure(
	         d->st, "digest-nonce", key_id, box, &box_len)) != 0)
		return rc;
	rc = cred_unseal(
	    d->keys, key_id, box, box_len, key, SIPD_NONCE_KEY_LEN, &n);
	if (rc == 0 && n != SIPD_NONCE_KEY_LEN)
		rc = EBADMSG;
	return rc;
}

struct bans_arg {
	struct guard *g;
	struct super *sup;
	int64_t now;
	size_t n;
};

static int
ban_restore_cb(void *arg, const struct store_ban *b)
{
	struct bans_arg *a = arg;
	struct sockaddr_storage ss;

	if (ban_source_parse(b->source, &ss) != 0)
		return 0;
	if (guard_ban(a->g, &ss, a->now, b->expires_us, b->reason) == 0) {
		a->n++;
		super_ban(a->sup, &ss,
		    (uint32_t)((b->expires_us - a->now + 999999) / 1000000));
	}
	return 0;
}

/* Puts back the bans in force (the store keeps them across restarts and
 * shares them between nodes). */
static void
bans_restore(struct daemon *d)
{
	struct bans_arg a = {d->guard, d->sup, util_now_us(), 0};

	if (store_ban_list_active(d->st, a.now, ban_restore_cb, &a) != 0)
		log_warn(
		    "guard: cannot read the bans: %s", store_errmsg(d->st));
	else
		log_info("guard: %zu bans restored", a.n);
}

/* Deletes the bans that ended more than a day ago (until then a repeat
 * offence still counts, as in the guard's memory). */
static void
bans_purge(struct daemon *d, int64_t now)
{
	int64_t removed = 0;

	if (store_ban_expire(d->st, now - GUARD_OFFENCE_KEEP_US, &removed) != 0)
		log_warn(
		    "guard: cannot purge ended bans: %s", store_errmsg(d->st));
	else if (removed > 0)
		log_info("guard: %lld ended bans purged from the store",
		    (long long)removed);
}

/* " tls:0.0.0.0:5061 udp:..." for the start-up log. */
static void
listeners_fmt(const struct config *cfg, char *buf, size_t size)
{
	const struct {
		const char *name;
		const struct config_listen *l;
	} ls[] = {{"tls", &cfg->sip_tls}, {"tcp", &cfg->sip_tcp},
	    {"udp", &cfg->sip_udp}};
	size_t i, j, used = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_LEN(ls); i++)
		for (j = 0; j < ls[i].l->n; j++) {
			char a[CONFIG_ADDR_STRLEN];
			int n = snprintf(buf + used, size - used, " %s:%s",
			    ls[i].name,
			    config_listen_fmt(&ls[i].l->addr[j], a, sizeof(a)));

			if (n < 0 || (size_t)n >= size - used)
				return;
			used += (size_t)n;
		}
}

static unsigned
workers_count(const struct config *cfg)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (cfg->sip_workers > 0)
		return cfg->sip_workers;
	return n < 1 ? 1 : n > TP_WORKERS_MAX ? TP_WORKERS_MAX : (unsigned)n;
}

int
daemon_run(const char *conf_path)
{
	struct daemon d = {.conf_path = conf_path};
	char err[512];
	sigset_t mask;
	int sfd = -1, rc = 1;
	bool running = true;

	if (config_load_file(conf_path, &d.cfg, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return 2;
	}
	log_set_level(d.cfg->log_level);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1) {
		log_err("signalfd: %s", strerror(errno));
		goto out;
	}
	/* One descriptor per phone on TCP/TLS: take the hard limit. */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	/* Listeners first: below 1024 or not, bind before dropping root. */
	/* The root supervisor first: it must inherit no listener. */
	if (d.cfg->guard_nft) {
		if (geteuid() != 0) {
			log_err(
			    "[guard] nft = on: the daemon must be started as "
			    "root (its supervisor keeps root to update the "
			    "nftables set)");
			goto out;
		}
		if (super_start(&d.sup, err, sizeof(err)) != 0) {
			log_err("%s", err);
			goto out;
		}
		log_info("guard: bans are mirrored into nftables (table inet "
		         "sipwarden_bans)");
	}
	if (transport_new(
	        d.cfg, workers_count(d.cfg), &d.tp, err, sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	if (geteuid() == 0 && priv_drop(d.cfg->user) != 0)
		goto out;
	if (cred_keys_load(d.cfg->secret_key, &d.keys, err, sizeof(err))) {
		log_err("%s", err);
		goto out;
	}
	if (store_open(d.cfg->store_url, &d.st, err, sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	if (credtab_new(&d.creds) != 0 ||
	    store_change_last(d.st, &d.seq) != 0 ||
	    credtab_load_all(d.creds, d.st) != 0) {
		log_err("cannot load credentials: %s", store_errmsg(d.st));
		goto out;
	}
	if (trunktab_new(&d.trunks) != 0 ||
	    trunktab_load_all(d.trunks, d.st) != 0) {
		log_err(
		    "cannot load trunks and numbers: %s", store_errmsg(d.st));
		goto out;
	}
	log_info("trunks: %zu trunks, %zu numbers in memory",
	    trunktab_trunk_count(d.trunks), trunktab_number_count(d.trunks));
	{
		struct sipd_params sp;
		char lst[256] = "";

		memset(&sp, 0, sizeof(sp));
		if (regtab_new(&d.reg) != 0 || nctab_new(&d.nc) != 0) {
			log_err("out of memory");
			goto out;
		}
		if (storew_start(d.cfg->store_url, &d.sw, err, sizeof(err))) {
			log_err("%s", err);
			goto out;
		}
		if (nonce_key_load(&d, sp.nonce_key) != 0) {
			log_err("cannot load the digest nonce key: %s",
			    store_errmsg(d.st));
			goto out;
		}
		sp.node = d.cfg->node;
		sp.nworkers = workers_count(d.cfg);
		sp.creds = d.creds;
		sp.reg = d.reg;
		sp.nc = d.nc;
		sp.sw = d.sw;
		sp.trunks = d.trunks;
		if ((rc = media_start(&d)) != 0)
			goto out;
		if (b2bua_new(sp.nworkers, d.cfg->node, d.reg, d.sw, d.relay,
		        d.cfg->media_advertise, &d.b2b)) {
			log_err("out of memory");
			goto out;
		}
		b2bua_set_transport(d.b2b, d.tp);
		b2bua_set_limits(
		    d.b2b, d.cfg->guard_calls_ext, d.cfg->guard_calls_tenant);
		sp.b2b = d.b2b;
		{
			struct guard_params gp;

			daemon_guard_params(d.cfg, &gp);
			gp.on_ban = guard_on_ban;
			gp.on_ban_arg = &d;
			if (guard_new(&gp, &d.guard) != 0) {
				log_err("cannot start the guard");
				goto out;
			}
			sp.guard = d.guard;
			bans_restore(&d);
		}
		rc = sipd_new(&sp, &d.sipd);
		sodium_memzero(&sp, sizeof(sp));
		if (rc != 0 || sipd_restore(d.sipd, d.st) != 0) {
			log_err("cannot start the registrar");
			rc = 1;
			goto out;
		}
		transport_on_close(d.tp, sipd_conn_closed, d.sipd);
		if (transport_start(d.tp, sipd_on_msg, d.sipd) != 0) {
			log_err("cannot start the SIP workers");
			goto out;
		}
		listeners_fmt(d.cfg, lst, sizeof(lst));
		log_info("SIP listening on%s with %u workers",
		    lst[0] ? lst : " nothing (every listener is closed)",
		    workers_count(d.cfg));
	}
	log_info("node %s started as uid %d: %zu extensions loaded (HA1 "
	         "only); following the change log from seq %lld",
	    d.cfg->node, (int)getuid(), credtab_count(d.creds),
	    (long long)d.seq);
	while (running) {
		struct pollfd pfd = {.fd = sfd, .events = POLLIN};
		int n = poll(&pfd, 1, DAEMON_POLL_MS);

		if (n == -1 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			goto out;
		}
		if (n > 0 && (pfd.revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					daemon_reload(&d);
				else
					running = false;
			}
		}
		if (running) {
			int64_t now = util_now_us();

			daemon_follow(&d);
			if (now - d.last_expire_us > 1000000) {
				d.last_expire_us = now;
				regtab_expire(d.reg, now, NULL, NULL);
			}
			if (now - d.last_ban_purge_us > DAEMON_BAN_PURGE_US) {
				d.last_ban_purge_us = now;
				bans_purge(&d, now);
			}
		}
	}
	log_info("stopping on signal: clean exit");
	rc = 0;
out:
	if (sfd != -1)
		close(sfd);
	sipd_shutdown(d.sipd, d.tp, 2000); /* calls: BYE and records */
	transport_free(d.tp);              /* joins the workers first */
	storew_stop(d.sw);                 /* writes what they queued */
	sipd_free(d.sipd);
	b2bua_free(d.b2b);
	ngd_free(d.ng);
	super_stop(d.sup);         /* the table goes with it */
	media_relay_free(d.relay); /* after the calls that used it */
	guard_free(d.guard);
	regtab_free(d.reg);
	nctab_free(d.nc);
	credtab_free(d.creds);
	trunktab_free(d.trunks); /* after sipd, which reads it */
	store_close(d.st);
	cred_keys_free(d.keys);
	config_free(d.cfg);
	return rc;
}
