/* nft.c: see nft.h. Commands are written from binary addresses
 * (inet_ntop), never from peer text. */
#include "guard/nft.h"
#include "lib/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NFT_CMD_MAX = 512 };

struct nftban {
	struct nft_ctx *ctx;
};

static const char NFT_TABLE[] =
    "table inet sipwarden_bans {\n"
    "  set banned4 { type ipv4_addr; flags timeout; }\n"
    "  set banned6 { type ipv6_addr; flags interval, timeout; }\n"
    "  chain drop_banned {\n"
    "    type filter hook prerouting priority raw; policy accept;\n"
    "    ip saddr @banned4 counter drop\n"
    "    ip6 saddr @banned6 counter drop\n"
    "  }\n"
    "}\n";

/* Runs one command; on failure copies nftables' message into err. */
static int
nft_run(struct nftban *n, const char *cmd, char *err, size_t errsize)
{
	const char *msg;
	int rc = nft_run_cmd_from_buffer(n->ctx, cmd);

	msg = nft_ctx_get_error_buffer(n->ctx);
	if (rc != 0 && err != NULL && errsize > 0) {
		size_t k;

		snprintf(err, errsize, "%s", msg != NULL ? msg : "failed");
		k = strcspn(err, "\n");
		err[k] = '\0';
	}
	/* Reading the buffer empties it for the next command. */
	return rc == 0 ? 0 : EIO;
}

int
nftban_open(struct nftban **out, char *err, size_t errsize)
{
	struct nftban *n = calloc(1, sizeof(*n));
	int rc;

	if (n == NULL)
		return ENOMEM;
	if ((n->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL) {
		free(n);
		snprintf(err, errsize, "nftables: cannot make a context");
		return ENOMEM;
	}
	nft_ctx_buffer_error(n->ctx);
	nft_ctx_buffer_output(n->ctx);
	/* A table left behind by a run that crashed goes first. */
	(void)nft_run(n, "delete table inet sipwarden_bans", NULL, 0);
	if ((rc = nft_run(n, NFT_TABLE, err, errsize)) != 0) {
		if (strstr(err, "ermission") != NULL ||
		    strstr(err, "not permitted") != NULL)
			rc = EPERM;
		nftban_close(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* The element for ss: "a.b.c.d" into set banned4, or "p:q:r:s::/64" into
 * banned6. */
static int
nft_elem(
    const struct sockaddr_storage *ss, char *buf, size_t size, const char **set)
{
	if (ss->ss_family == AF_INET) {
		*set = "banned4";
		return inet_ntop(AF_INET,
		           &((const struct sockaddr_in *)ss)->sin_addr, buf,
		           (socklen_t)size) != NULL
		           ? 0
		           : EINVAL;
	}
	if (ss->ss_family == AF_INET6) {
		struct in6_addr a =
		    ((const struct sockaddr_in6 *)ss)->sin6_addr;
		char txt[INET6_ADDRSTRLEN];

		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			*set = "banned4";
			return inet_ntop(AF_INET, &a.s6_addr[12], buf,
			           (socklen_t)size) != NULL
			           ? 0
			           : EINVAL;
		}
		memset(&a.s6_addr[8], 0, 8);
		*set = "banned6";
		if (inet_ntop(AF_INET6, &a, txt, sizeof(txt)) == NULL)
			return EINVAL;
		return snprintf(buf, size, "%s/64", txt) < (int)size ? 0
		                                                     : EINVAL;
	}
	return EINVAL;
}

int
nftban_add(
    struct nftban *n, const struct sockaddr_storage *ss, uint32_t seconds)
{
	char elem[INET6_ADDRSTRLEN + 8], cmd[NFT_CMD_MAX], err[256];
	const char *set;
	int rc;

	if (n == NULL || seconds == 0 || seconds > NFT_BAN_MAX_S ||
	    nft_elem(ss, elem, sizeof(elem), &set) != 0)
		return EINVAL;
	/* Delete first: "add" keeps an element's old timeout. */
	snprintf(cmd, sizeof(cmd),
	    "delete element inet sipwarden_bans %s { %s }", set, elem);
	(void)nft_run(n, cmd, NULL, 0);
	snprintf(cmd, sizeof(cmd),
	    "add element inet sipwarden_bans %s { %s timeout %us }", set, elem,
	    seconds);
	if ((rc = nft_run(n, cmd, err, sizeof(err))) != 0)
		log_warn("guard: nftables: cannot add %s: %s", elem, err);
	return rc;
}

int
nftban_del(struct nftban *n, const struct sockaddr_storage *ss)
{
	char elem[INET6_ADDRSTRLEN + 8], cmd[NFT_CMD_MAX];
	const char *set;

	if (n == NULL || nft_elem(ss, elem, sizeof(elem), &set) != 0)
		return EINVAL;
	snprintf(cmd, sizeof(cmd),
	    "delete element inet sipwarden_bans %s { %s }", set, elem);
	(void)nft_run(n, cmd, NULL, 0); /* absent: nothing to do */
	return 0;
}

void
nftban_close(struct nftban *n)
{
	if (n == NULL)
		return;
	(void)nft_run(n, "delete table inet sipwarden_bans", NULL, 0);
	nft_ctx_free(n->ctx);
	free(n);
}
