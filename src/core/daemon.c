/* daemon.c: the node's main thread: config, privileges, the credential
 * table and the change-log follower, signals. SIP transports, the
 * registrar and calls arrive with the signalling work (README, "Status"). */
#include "core/daemon.h"
#include "call/credtab.h"
#include "core/config.h"
#include "cred/keys.h"
#include "lib/log.h"
#include "store/store.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum {
	DAEMON_POLL_MS = 200, /* change-log poll: changes seen < 1 s */
	DAEMON_CHANGE_BATCH = 1000,
};

struct daemon {
	const char *conf_path;
	struct config *cfg;
	struct cred_keys *keys;
	struct store *st;
	struct credtab *creds;
	int64_t seq; /* last change applied */
};

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
};

static int
apply_cb(void *arg, const struct store_change *c)
{
	struct apply *a = arg;
	int rc = 0;

	if (strcmp(c->kind, "extension") == 0)
		rc = credtab_load_ext(a->d->creds, a->d->st, c->object_id);
	else if (strcmp(c->kind, "tenant") == 0)
		rc = credtab_load_tenant(a->d->creds, a->d->st, c->object_id);
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
	struct apply a = {d, 0, 0, 0};
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
	config_free(d->cfg);
	cred_keys_free(d->keys);
	d->cfg = cfg;
	d->keys = keys;
	log_set_level(cfg->log_level);
	log_info("reload: config and keys reloaded");
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
	log_info("node %s started as uid %d: %zu extensions loaded (HA1 "
	         "only); following the change log from seq %lld",
	    d.cfg->node, (int)getuid(), credtab_count(d.creds),
	    (long long)d.seq);
	log_warn("SIP signalling is not in this build yet: no SIP listener "
	         "is opened; see README, Status");
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
		if (running)
			daemon_follow(&d);
	}
	log_info("stopping on signal: clean exit");
	rc = 0;
out:
	if (sfd != -1)
		close(sfd);
	credtab_free(d.creds);
	store_close(d.st);
	cred_keys_free(d.keys);
	config_free(d.cfg);
	return rc;
}
