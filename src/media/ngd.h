/* ngd.h: the ng control listener: the subset of rtpengine's ng protocol
 * (bencode over UDP: ping, offer, answer, delete, query) that Kamailio's
 * and OpenSIPS's rtpengine modules use, driving the same relay as the
 * SIP side. Off unless [media] ng is set; loopback addresses only (the
 * config refuses others, and a datagram from a non-loopback source is
 * dropped): it is a local control channel, so SDES keys may cross it. */
#ifndef SW_NGD_H
#define SW_NGD_H

#include "core/config.h"
#include "media/relay.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ngd;

/* Binds [media] ng and starts the listener thread. Returns 0 or an errno
 * code with err filled. */
int ngd_start(const struct config *cfg, struct media_relay *relay,
    struct ngd **out, char *err, size_t errsize);
/* Whether a relay cookie names an ng call (else a SIP call). */
bool ngd_owns_cookie(uint64_t cookie);
/* The relay's timeout for an ng call (any thread): the call is deleted
 * by the listener's thread. */
void ngd_timeout(struct ngd *n, uint64_t cookie);
/* Stops the thread and frees every call it holds; accepts NULL. */
void ngd_free(struct ngd *n);

#endif
