/* main.c: the sipwarden command line: global options and dispatch. */
#include "cli/cli.h"
#include "lib/log.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SW_VERSION
#define SW_VERSION "0.1.0"
#endif

static const char usage_text[] =
    "usage: sipwarden [-c CONF] COMMAND [ARGS]\n"
    "\n"
    "  init DIR [--domain HOST] [--user USER] [--force] [--json]\n"
    "                          create a deployment: config, database, key, "
    "TLS cert\n"
    "  serve                   run the daemon in the foreground\n"
    "  tenant add|list|set|show  businesses served (sipwarden tenant --help)\n"
    "  ext add|import|list|show|set|enable|disable|rotate|remove\n"
    "                          extensions and SIP passwords (sipwarden ext "
    "--help)\n"
    "  audit [--json]          check the security posture\n"
    "  ban list|add|remove     sources banned by the guard (sipwarden ban "
    "--help)\n"
    "  trunk add|list|show|set|remove\n"
    "                          carrier trunks (sipwarden trunk --help)\n"
    "  number add|list|remove  inbound numbers (sipwarden number --help)\n"
    "  firewall render [--format nftables|iptables]\n"
    "                          print a host firewall ruleset for this "
    "config\n"
    "\n"
    "  -c CONF                 config file (default: $SIPWARDEN_CONF, else\n"
    "                          /etc/sipwarden/sipwarden.conf)\n"
    "  --help, -h              this text; COMMAND --help for a command\n"
    "  --version               print the version\n"
    "\n"
    "Exit codes: 0 success, 1 a check failed or a named object is missing "
    "or\nalready exists, 2 usage or malformed input.\n";

int
main(int argc, char **argv)
{
	const char *conf = getenv("SIPWARDEN_CONF"), *cmd;
	int i = 1;

	/* Everything we create (database, keys, logs) is ours alone. */
	umask(077);
	if (sodium_init() < 0) {
		fputs("sipwarden: libsodium failed to start\n", stderr);
		return 1;
	}
	if (conf == NULL || *conf == '\0')
		conf = "/etc/sipwarden/sipwarden.conf";
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0) {
			if (i + 1 >= argc)
				return cli_fail(
				    EXIT_USAGE, "-c needs a config file path");
			conf = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--help") == 0 ||
		           strcmp(argv[i], "-h") == 0) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("sipwarden " SW_VERSION);
			return EXIT_OK;
		} else {
			return cli_fail(EXIT_USAGE,
			    "unknown option %s (see sipwarden --help)",
			    argv[i]);
		}
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[i++];
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - i, argv + i);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(conf, argc - i, argv + i);
	if (strcmp(cmd, "tenant") == 0)
		return cmd_tenant(conf, argc - i, argv + i);
	if (strcmp(cmd, "ext") == 0)
		return cmd_ext(conf, argc - i, argv + i);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(conf, argc - i, argv + i);
	if (strcmp(cmd, "ban") == 0)
		return cmd_ban(conf, argc - i, argv + i);
	if (strcmp(cmd, "firewall") == 0)
		return cmd_firewall(conf, argc - i, argv + i);
	if (strcmp(cmd, "trunk") == 0)
		return cmd_trunk(conf, argc - i, argv + i);
	if (strcmp(cmd, "number") == 0)
		return cmd_number(conf, argc - i, argv + i);
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	return cli_fail(
	    EXIT_USAGE, "unknown command \"%s\" (see sipwarden --help)", cmd);
}
