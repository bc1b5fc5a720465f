/* nft.h: kernel enforcement of bans ([guard] nft = on). The bans go into
 * two nftables sets (IPv4 addresses, IPv6 /64 networks) of a table of our
 * own, `inet sipwarden_bans`, whose chain drops every packet from them at the
 * earliest hook (prerouting, raw priority): a banned flood never reaches
 * the daemon. Elements carry the ban's time left as their nftables
 * timeout, so the kernel forgets them when the ban ends.
 *
 * Needs CAP_NET_ADMIN: the daemon's root supervisor (core/super.h) owns
 * it; the workers, which parse what peers send, never do. */
#ifndef SW_NFT_H
#define SW_NFT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	NFT_BAN_MAX_S = 365 * 86400, /* the longest ban ([guard] ban) */
};

struct nftban;

/* Creates (or re-creates: a table left by a crashed run is replaced) the
 * table, its two sets and its drop chain. Returns 0, or an errno code with
 * err filled with nftables' message (EPERM without CAP_NET_ADMIN). */
int nftban_open(struct nftban **out, char *err, size_t errsize);
/* Adds the source of ss (an IPv4 address, or the /64 of an IPv6 one;
 * IPv4-mapped counts as IPv4) for seconds (1..NFT_BAN_MAX_S). An element
 * already there gets the new timeout. Returns 0, EINVAL, or EIO with the
 * message logged. */
int nftban_add(
    struct nftban *n, const struct sockaddr_storage *ss, uint32_t seconds);
/* Removes the source of ss; absent is no error. */
int nftban_del(struct nftban *n, const struct sockaddr_storage *ss);
/* Deletes the table (the kernel drops nothing of ours any more) and frees
 * n; accepts NULL. */
void nftban_close(struct nftban *n);

#endif
