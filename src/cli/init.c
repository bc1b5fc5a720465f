/* init.c: `sipwarden init DIR`: a new deployment folder. */
#include "cli/cli.h"
#include "core/tlscert.h"
#include "lib/util.h"

#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char init_help[] =
    "usage: sipwarden init DIR [--domain HOST] [--user USER] [--force] "
    "[--json]\n"
    "\n"
    "Creates DIR/sipwarden.conf, DIR/sipwarden.db (SQLite), DIR/secret.key\n"
    "(mode 0600) and DIR/tls/cert.pem + key.pem (self-signed, EC P-256, for\n"
    "HOST, one year). HOST defaults to this machine's host name. Run as root,\n"
    "the folder is given to USER (default sipwarden, the [daemon] user),\n"
    "which must exist. Refuses to overwrite any of these files without\n"
    "--force; --force replaces them all, the database and key included.\n";

enum { INIT_FILES = 7 };

/* The SHA-256 fingerprint of a PEM certificate, "AB:CD:..." */
static void
cert_fingerprint(const char *path, char *out, size_t size)
{
	unsigned char md[32];
	unsigned int n = 0, i;
	X509 *x = NULL;
	FILE *f;

	out[0] = '\0';
	if ((f = fopen(path, "re")) == NULL)
		return;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x != NULL && X509_digest(x, EVP_sha256(), md, &n) && n == 32 &&
	    size >= 3 * 32)
		for (i = 0; i < n; i++)
			snprintf(out + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X",
			    md[i]);
	X509_free(x);
}

int
cmd_init(int argc, char **argv)
{
	struct cli_opt o[] = {{"--domain", true, false, NULL},
	    {"--user", true, false, NULL}, {"--force", false, false, NULL},
	    {"--json", false, false, NULL}, {"--help", false, false, NULL}};
	const char *pos[1], *host, *user;
	char dir[PATH_MAX], hostbuf[256], err[512], fp[100];
	char *files[INIT_FILES] = {NULL}, *conf_text = NULL, *tlsdir = NULL;
	struct config *cfg = NULL;
	struct store *st = NULL;
	struct passwd *pw = NULL;
	size_t npos, i;
	bool force, json, made_dir = false, made_tls = false;
	int rc, code = EXIT_FAILED, version = 0;

	if ((rc = cli_args("init", argc, argv, o, 5, pos, 0, 1, &npos)))
		return rc;
	if (o[4].set) {
		fputs(init_help, stdout);
		return EXIT_OK;
	}
	if (npos != 1)
		return cli_fail(EXIT_USAGE, "init: missing DIR (see sipwarden "
		                            "init --help)");
	force = o[2].set;
	json = o[3].set;
	user = o[1].set ? o[1].val : "sipwarden";
	if (o[0].set) {
		host = o[0].val;
	} else {
		if (gethostname(hostbuf, sizeof(hostbuf)) != 0)
			snprintf(hostbuf, sizeof(hostbuf), "localhost");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		host = hostbuf;
	}
	if (geteuid() == 0 && (pw = getpwnam(user)) == NULL)
		return cli_fail(EXIT_USAGE,
		    "init: user \"%s\" does not exist; create it (make run "
		    "does: scripts/ensure-user.sh %s) or pass --user",
		    user, user);

	/* The folder, then the absolute paths of what goes into it. */
	if (mkdir(pos[0], 0750) == 0)
		made_dir = true;
	else if (errno != EEXIST)
		return cli_fail(EXIT_FAILED, "init: cannot create %s: %s",
		    pos[0], strerror(errno));
	if (realpath(pos[0], dir) == NULL)
		return cli_fail(
		    EXIT_FAILED, "init: %s: %s", pos[0], strerror(errno));
	{
		static const char *names[INIT_FILES] = {"sipwarden.conf",
		    "sipwarden.db", "secret.key", "tls/cert.pem", "tls/key.pem",
		    "sipwarden.db-wal", "sipwarden.db-shm"};

		for (i = 0; i < INIT_FILES; i++)
			if ((files[i] = util_path_join(dir, names[i])) == NULL)
				goto out;
	}
	for (i = 0; i < 5 && !force; i++)
		if (access(files[i], F_OK) == 0) {
			code = cli_fail(EXIT_FAILED,
			    "init: %s already exists (use --force to replace "
			    "the whole deployment)",
			    files[i]);
			goto out;
		}
	if (force)
		for (i = 0; i < INIT_FILES; i++)
			if (unlink(files[i]) == -1 && errno != ENOENT) {
				code = cli_fail(EXIT_FAILED, "init: %s: %s",
				    files[i], strerror(errno));
				goto out;
			}
	if ((tlsdir = util_path_join(dir, "tls")) == NULL)
		goto out;
	if (mkdir(tlsdir, 0750) == 0)
		made_tls = true;
	else if (errno != EEXIST) {
		code = cli_fail(
		    EXIT_FAILED, "init: %s: %s", tlsdir, strerror(errno));
		goto out;
	}

	/* Certificate first: it validates the host name. */
	rc = tlscert_selfsigned_create(
	    host, 365, files[3], files[4], false, err, sizeof(err));
	if (rc != 0) {
		code = cli_fail(rc == EINVAL ? EXIT_USAGE : EXIT_FAILED,
		    "init: --domain %s: %s", host, err);
		goto undo;
	}
	if ((conf_text = config_default_text(user)) == NULL)
		goto undo;
	if ((rc = util_file_write(
	         files[0], conf_text, strlen(conf_text), 0640, true)) != 0) {
		code = cli_fail(
		    EXIT_FAILED, "init: %s: %s", files[0], strerror(rc));
		goto undo;
	}
	if ((rc = config_load_file(files[0], &cfg, err, sizeof(err))) != 0) {
		code = cli_fail(EXIT_FAILED, "init: %s", err);
		goto undo;
	}
	if ((rc = cred_keys_create(files[2], false, err, sizeof(err))) != 0) {
		code = cli_fail(EXIT_FAILED, "init: %s", err);
		goto undo;
	}
	if ((rc = store_open(cfg->store_url, &st, err, sizeof(err))) != 0 ||
	    (rc = store_schema_version(st, &version)) != 0) {
		code = cli_fail(EXIT_FAILED, "init: %s", err);
		goto undo;
	}
	store_close(st);
	st = NULL;
	if (pw != NULL) {
		if (chown(dir, pw->pw_uid, pw->pw_gid) == -1 ||
		    chown(tlsdir, pw->pw_uid, pw->pw_gid) == -1) {
			code = cli_fail(EXIT_FAILED, "init: chown %s: %s", dir,
			    strerror(errno));
			goto undo;
		}
		for (i = 0; i < INIT_FILES; i++)
			if (chown(files[i], pw->pw_uid, pw->pw_gid) == -1 &&
			    errno != ENOENT) {
				code =
				    cli_fail(EXIT_FAILED, "init: chown %s: %s",
				        files[i], strerror(errno));
				goto undo;
			}
	}
	cert_fingerprint(files[3], fp, sizeof(fp));
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
		                      "s:i, s:s}",
		    "dir", dir, "domain", host, "config", files[0], "database",
		    files[1], "secret_key", files[2], "certificate", files[3],
		    "certificate_sha256", fp, "schema_version", version, "user",
		    user);

		cli_json_print(j);
	} else {
		printf("initialised %s\n"
		       "  config       %s\n"
		       "  database     %s (SQLite, schema version %d)\n"
		       "  secret key   %s (mode 0600; back it up: without it "
		       "the stored SIP passwords cannot be opened)\n"
		       "  certificate  %s (self-signed for %s, EC P-256, one "
		       "year)\n"
		       "               SHA-256 %s\n"
		       "  owner        %s\n"
		       "next: sipwarden -c %s tenant add NAME --domain "
		       "DOMAIN\n",
		    dir, files[0], files[1], version, files[2], files[3], host,
		    fp, pw ? user : "(this user)", files[0]);
	}
	code = EXIT_OK;
	goto out;
undo:
	/* Nothing half-written: remove what this run created. */
	store_close(st);
	st = NULL;
	for (i = 0; i < INIT_FILES; i++)
		if (files[i] != NULL)
			unlink(files[i]);
	if (made_tls)
		rmdir(tlsdir);
	if (made_dir)
		rmdir(dir);
out:
	config_free(cfg);
	free(conf_text);
	free(tlsdir);
	for (i = 0; i < INIT_FILES; i++)
		free(files[i]);
	return code;
}
