/* super.h: the daemon's root supervisor (DESIGN.md, "Users and files").
 * Started as root with [guard] nft = on, the daemon forks it before it
 * binds anything or drops privileges; the supervisor stays root, parses
 * nothing a peer sent (it reads fixed-size binary requests from its own
 * daemon over a socket pair, each field checked) and mirrors bans into the
 * kernel's nftables set (guard/nft.h). When the daemon goes (its end of
 * the socket closes), the supervisor deletes the table and exits. */
#ifndef SW_SUPER_H
#define SW_SUPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct super;

/* Forks the supervisor and waits until it has made the nftables table.
 * Returns 0, or an errno code with err filled (EPERM: not root or no
 * CAP_NET_ADMIN). */
int super_start(struct super **out, char *err, size_t errsize);
/* Asks for the source of ss to be dropped by the kernel for seconds, or
 * no longer (seconds 0). Any thread; never blocks: a request that does not
 * fit the socket's queue is dropped and logged. Accepts s NULL (off). */
void super_ban(
    struct super *s, const struct sockaddr_storage *ss, uint32_t seconds);
/* Closes the socket and waits for the supervisor (it removes the table).
 * Accepts NULL. */
void super_stop(struct super *s);

#endif
