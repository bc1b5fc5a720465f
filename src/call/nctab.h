/* nctab.h: digest nonce-count replay protection (RFC 7616 3.4.5) with
 * bounded state: for each nonce in use, the highest nc seen and a 64-wide
 * window of the ones below it. State lives as long as its nonce, or until
 * a newer nonce needs the room: a nonce whose state is gone is answered
 * as stale, so the client takes a fresh one; a replay is never accepted. */
#ifndef SW_NCTAB_H
#define SW_NCTAB_H

#include <stddef.h>
#include <stdint.h>

enum { NCTAB_ENTRIES = 1 << 16, NCTAB_NONCE_MAX = 64 };

enum nc_verdict {
	NC_OK,      /* first use of this nc with this nonce */
	NC_REPLAY,  /* this nc was used (or is too old to tell) */
	NC_UNKNOWN, /* no state for the nonce and nc > 1: answer stale */
};

struct nctab;

int nctab_new(struct nctab **out);
void nctab_free(struct nctab *t); /* accepts NULL */
/* Checks and records nc for nonce (len bytes), whose state may be dropped
 * after expires_us. Thread-safe. */
enum nc_verdict nctab_check(struct nctab *t, const char *nonce, size_t len,
    uint32_t nc, int64_t expires_us, int64_t now_us);

#endif
