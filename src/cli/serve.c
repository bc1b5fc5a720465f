/* serve.c: `sipwarden serve`. */
#include "cli/cli.h"
#include "core/daemon.h"

#include <stdio.h>
#include <string.h>

int
cmd_serve(const char *conf, int argc, char **argv)
{
	if (argc > 0 &&
	    (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		puts("usage: sipwarden -c CONF serve\n\nRuns the daemon in "
		     "the foreground, logging to stderr. SIGTERM or SIGINT:\n"
		     "clean stop. SIGHUP: reload the config and keys.");
		return EXIT_OK;
	}
	if (argc > 0)
		return cli_fail(
		    EXIT_USAGE, "serve: unexpected argument \"%s\"", argv[0]);
	return daemon_run(conf);
}
