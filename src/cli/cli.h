/* cli.h: what the sipwarden commands share: option parsing, the opened
 * deployment (config, store, keys), output helpers and exit codes. */
#ifndef SW_CLI_H
#define SW_CLI_H

#include "core/config.h"
#include "cred/keys.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit codes of every command (INTERFACE.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1, /* a check failed; a named object missing or taken */
	EXIT_USAGE = 2,  /* usage or malformed input */
};

struct cli_opt {
	const char *name; /* "--json" */
	bool has_arg;
	bool set;
	const char *val;
};

struct cli {
	const char *conf_path;
	struct config *cfg;
	struct store *st;
	struct cred_keys *keys;
	char actor[128];  /* who, for the audit log */
	char source[128]; /* from where */
};

/* Splits argv into options (from opts) and up to maxpos positional
 * arguments. Prints "sipwarden CMD: ..." and returns EXIT_USAGE on an
 * unknown option, a missing value or a wrong count of positionals
 * (between minpos and maxpos). */
int cli_args(const char *cmd, int argc, char **argv, struct cli_opt *opts,
    size_t nopts, const char **pos, size_t minpos, size_t maxpos, size_t *npos);
struct cli_opt *cli_opt_get(struct cli_opt *opts, size_t n, const char *name);

/* Prints "sipwarden: " and the message on stderr; returns code. */
int cli_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Loads the config, switches to the deployment folder's owner when run as
 * root, loads the key file when need_keys, opens and migrates the store.
 * Returns EXIT_OK or an exit code (message printed). */
int cli_open(struct cli *c, bool need_keys);

/* The tenant named name into *t: EXIT_OK, or EXIT_FAILED with the message
 * printed ("CMD: no tenant ..." or the store's error). */
int cli_tenant_find(
    struct cli *c, const char *cmd, const char *name, struct store_tenant *t);
void cli_close(struct cli *c);

/* One subcommand of a command: its name and what runs it (with the
 * arguments after the name). */
struct cli_sub {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
};

/* The front of a command with subcommands (`ext add ...`): help (no
 * argument: on stderr, exit 2; `--help`/`-h`, or `SUB --help`: on stdout,
 * exit 0), then the subcommand of subs (n of them) by name, or exit 2
 * naming the known ones. Closes the cli after it ran. */
int cli_dispatch(const char *conf, const char *cmd, const char *help,
    const struct cli_sub *subs, size_t n, int argc, char **argv);

/* Switches from root to the owner of dir (a no-op unless euid is 0 and
 * dir is owned by another user). Returns 0 or an errno code. */
int cli_priv_switch_to_owner(const char *dir);

/* Appends to the audit log (inside the caller's transaction). */
int cli_audit(struct cli *c, int64_t tenant_id, const char *action,
    const char *target, const char *detail);

/* Prints a JSON value on stdout (compact, one line) and frees it. */
void cli_json_print(json_t *v);
/* RFC 3339 string, or JSON null for 0. */
json_t *cli_json_time(int64_t us);

/* Reads one line of at most max bytes from stdin into buf (size > max),
 * without the line ending. Returns 0, EMSGSIZE for a longer line, or
 * ENODATA for no input. */
int cli_read_secret_line(char *buf, size_t size, size_t max, size_t *lenp);

/* The commands. */
int cmd_init(int argc, char **argv);
int cmd_serve(const char *conf, int argc, char **argv);
int cmd_tenant(const char *conf, int argc, char **argv);
int cmd_ext(const char *conf, int argc, char **argv);
int cmd_audit(const char *conf, int argc, char **argv);
int cmd_ban(const char *conf, int argc, char **argv);
int cmd_firewall(const char *conf, int argc, char **argv);
int cmd_trunk(const char *conf, int argc, char **argv);
int cmd_number(const char *conf, int argc, char **argv);

#endif
