/* daemon.h: `sipwarden serve`: the long-running node. */
#ifndef SW_DAEMON_H
#define SW_DAEMON_H

/* Runs the daemon with the config at conf_path until SIGTERM or SIGINT.
 * Returns an exit code (0 after a clean stop). */
int daemon_run(const char *conf_path);

#endif
