/* cli.c: see cli.h. */
#include "cli/cli.h"
#include "lib/log.h"
#include "lib/util.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int
cli_fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("sipwarden: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

struct cli_opt *
cli_opt_get(struct cli_opt *opts, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

int
cli_args(const char *cmd, int argc, char **argv, struct cli_opt *opts,
    size_t nopts, const char **pos, size_t minpos, size_t maxpos, size_t *npos)
{
	size_t n = 0;
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
			struct cli_opt *o = cli_opt_get(opts, nopts, a);

			if (o == NULL)
				return cli_fail(EXIT_USAGE,
				    "%s: unknown option %s (see sipwarden %s "
				    "--help)",
				    cmd, a, cmd);
			if (o->set)
				return cli_fail(EXIT_USAGE,
				    "%s: option %s given twice", cmd, a);
			o->set = true;
			if (o->has_arg) {
				if (i + 1 >= argc)
					return cli_fail(EXIT_USAGE,
					    "%s: option %s needs a value", cmd,
					    a);
				o->val = argv[++i];
			}
			continue;
		}
		if (n == maxpos)
			return cli_fail(EXIT_USAGE,
			    "%s: unexpected argument \"%s\" (see sipwarden %s "
			    "--help)",
			    cmd, a, cmd);
		pos[n++] = a;
	}
	if (n < minpos)
		return cli_fail(EXIT_USAGE,
		    "%s: missing arguments (see sipwarden %s --help)", cmd,
		    cmd);
	*npos = n;
	return EXIT_OK;
}

int
cli_priv_switch_to_owner(const char *dir)
{
	struct passwd *pw;
	struct stat sb;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &sb) == -1)
		return errno;
	if (sb.st_uid == 0)
		return 0;
	if ((pw = getpwuid(sb.st_uid)) == NULL)
		return ENOENT;
	if (setgroups(0, NULL) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return errno;
	if (setuid(0) != -1)
		return EPERM; /* could regain root */
#if defined(__SANITIZE_ADDRESS__) || defined(SW_SANITIZE)
	/* LeakSanitizer's exit check traces the process, which a changed
	 * uid makes undumpable; only sanitizer builds turn it back on. */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	return 0;
}

static void
cli_who(struct cli *c)
{
	const char *sudo = getenv("SUDO_USER"), *ssh = getenv("SSH_CONNECTION");
	struct passwd *pw = getpwuid(getuid());

	snprintf(c->actor, sizeof(c->actor), "cli:%s",
	    sudo && *sudo ? sudo
	    : pw          ? pw->pw_name
	                  : "?");
	if (ssh != NULL && *ssh != '\0') {
		size_t n = strcspn(ssh, " ");

		snprintf(c->source, sizeof(c->source), "ssh:%.*s", (int)n, ssh);
	} else {
		snprintf(c->source, sizeof(c->source), "local");
	}
}

int
cli_open(struct cli *c, bool need_keys)
{
	char err[512];
	int rc;

	cli_who(c);
	if (access(c->conf_path, F_OK) != 0)
		return cli_fail(EXIT_USAGE,
		    "cannot read config %s: %s (create one with sipwarden init "
		    "DIR)",
		    c->conf_path, strerror(errno));
	if ((rc = config_load_file(c->conf_path, &c->cfg, err, sizeof(err))))
		return cli_fail(EXIT_USAGE, "%s", err);
	if ((rc = cli_priv_switch_to_owner(c->cfg->dir)) != 0)
		return cli_fail(EXIT_FAILED,
		    "cannot switch to the owner of %s: %s", c->cfg->dir,
		    strerror(rc));
	if (need_keys && (rc = cred_keys_load(c->cfg->secret_key, &c->keys, err,
	                      sizeof(err))) != 0)
		return cli_fail(EXIT_FAILED, "%s", err);
	if ((rc = store_open(c->cfg->store_url, &c->st, err, sizeof(err))))
		return cli_fail(EXIT_FAILED, "%s", err);
	return EXIT_OK;
}

void
cli_close(struct cli *c)
{
	store_close(c->st);
	cred_keys_free(c->keys);
	config_free(c->cfg);
	c->st = NULL;
	c->keys = NULL;
	c->cfg = NULL;
}

int
cli_audit(struct cli *c, int64_t tenant_id, const char *action,
    const char *target, const char *detail)
{
	struct store_audit a;

	memset(&a, 0, sizeof(a));
	a.tenant_id = tenant_id;
	snprintf(a.actor, sizeof(a.actor), "%s", c->actor);
	snprintf(a.source, sizeof(a.source), "%s", c->source);
	snprintf(a.action, sizeof(a.action), "%s", action);
	snprintf(a.target, sizeof(a.target), "%s", target);
	snprintf(a.detail, sizeof(a.detail), "%s", detail);
	return store_audit_add(c->st, &a);
}

void
cli_json_print(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s != NULL) {
		puts(s);
		free(s);
	}
	json_decref(v);
}

json_t *
cli_json_time(int64_t us)
{
	char buf[32];

	if (us == 0)
		return json_null();
	return json_string(util_rfc3339(us, buf, sizeof(buf)));
}

int
cli_read_secret_line(char *buf, size_t size, size_t max, size_t *lenp)
{
	size_t n = 0;
	bool any = false;
	char ch;

	/* read(2) a byte at a time: no stdio buffer keeps a copy. */
	for (;;) {
		ssize_t r = read(STDIN_FILENO, &ch, 1);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		any = true;
		if (ch == '\n')
			break;
		if (n < max && n + 1 < size)
			buf[n] = ch;
		n++;
	}
	if (n > 0 && n <= max && buf[n - 1] == '\r')
		n--;
	if (!any)
		return ENODATA;
	if (n > max || n + 1 > size) {
		sodium_memzero(buf, size);
		return EMSGSIZE;
	}
	buf[n] = '\0';
	*lenp = n;
	return 0;
}

int
cli_dispatch(const char *conf, const char *cmd, const char *help,
    const struct cli_sub *subs, size_t n, int argc, char **argv)
{
	struct cli c = {.conf_path = conf};
	char names[256] = "";
	size_t i, k = 0;
	int rc;

	if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0) {
		fputs(help, argc < 1 ? stderr : stdout);
		return argc < 1 ? EXIT_USAGE : EXIT_OK;
	}
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	for (i = 0; i < n; i++)
		if (strcmp(argv[0], subs[i].name) == 0)
			break;
	if (i == n) {
		for (i = 0; i < n && k < sizeof(names); i++)
			k += (size_t)snprintf(names + k, sizeof(names) - k,
			    "%s%s", i > 0 ? ", " : "", subs[i].name);
		return cli_fail(EXIT_USAGE, "%s: unknown command \"%s\" (%s)",
		    cmd, argv[0], names);
	}
	rc = subs[i].run(&c, argc - 1, argv + 1);
	cli_close(&c);
	return rc;
}

int
cli_tenant_find(
    struct cli *c, const char *cmd, const char *name, struct store_tenant *t)
{
	int rc = store_tenant_get(c->st, name, t);

	if (rc == ENOENT)
		return cli_fail(EXIT_FAILED, "%s: no tenant \"%s\"", cmd, name);
	if (rc != 0)
		return cli_fail(
		    EXIT_FAILED, "%s: store: %s", cmd, store_errmsg(c->st));
	return EXIT_OK;
}
