/* sipd.c: see sipd.h. */
#include "call/sipd.h"
#include "lib/log.h"
#include "lib/util.h"
#include "sip/build.h"
#include "sip/digest.h"
#include "sip/msg.h"
#include "txn/scache.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What one worker needs per message, allocated once. */
struct sipd_worker {
	struct sip_msg m;
	/* The request is a call from a carrier to one of our numbers, from
	 * that number's trunk (set before the guard screens strangers). */
	bool inbound;
	struct number_info num;
	struct trunk_info trunk;
	struct reg_contact contacts[SIP_CONTACT_MAX];
	char out[SIPD_OUT_MAX];
	char hdrs[SIPD_OUT_MAX];
};

struct sipd {
	char node[STORE_NAME_MAX];
	unsigned nworkers;
	struct credtab *creds;
	struct regtab *reg;
	struct nctab *nc;
	struct scache *sc; /* UDP non-INVITE answers, for retransmissions */
	struct storew *sw;
	struct b2bua *b2b;
	struct guard *guard;
	struct trunktab *trunks;
	unsigned char nonce_key[SIPD_NONCE_KEY_LEN];
	/* Unknown users are checked against these: same work, no match. */
	char dummy_md5[SIP_DIGEST_MD5_HEX + 1];
	char dummy_sha256[SIP_DIGEST_SHA256_HEX + 1];
	/* Keys the hashes of unknown target users the guard counts. */
	unsigned char sweep_key[crypto_shorthash_KEYBYTES];
	struct sipd_worker *w;
	struct sipd_stats stats;
};

static const char allow_hdr[] =
    "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE\r\n";

int
sipd_new(const struct sipd_params *p, struct sipd **out)
{
	struct sipd *d = calloc(1, sizeof(*d));
	unsigned char r[32];

	if (d == NULL)
		return ENOMEM;
	snprintf(d->node, sizeof(d->node), "%s", p->node);
	d->nworkers = p->nworkers ? p->nworkers : 1;
	d->creds = p->creds;
	d->reg = p->reg;
	d->nc = p->nc;
	d->sw = p->sw;
	d->b2b = p->b2b;
	d->guard = p->guard;
	d->trunks = p->trunks;
	memcpy(d->nonce_key, p->nonce_key, sizeof(d->nonce_key));
	randombytes_buf(r, sizeof(r));
	util_hex(r, 16, d->dummy_md5);
	util_hex(r, 32, d->dummy_sha256);
	randombytes_buf(d->sweep_key, sizeof(d->sweep_key));
	if ((d->w = calloc(d->nworkers, sizeof(*d->w))) == NULL)
		goto fail;
	if (scache_new(&d->sc) != 0)
		goto fail;
	*out = d;
	return 0;
fail:
	sipd_free(d);
	return ENOMEM;
}

void
sipd_free(struct sipd *d)
{

	if (d == NULL)
		return;
	scache_free(d->sc);
	free(d->w);
	sodium_memzero(d, sizeof(*d));
	free(d);
}

struct sipd_stats *
sipd_stats(struct sipd *d)
{
	return &d->stats;
}

/* A random To-tag. */
static void
make_tag(char tag[17])
{
	unsigned char r[8];

	randombytes_buf(r, sizeof(r));
	util_hex(r, sizeof(r), tag);
}

/* Builds the response code to m into out. */
static int
respond(struct sipd_worker *sw, const struct tp_flow *f, unsigned code,
    const char *reason, const char *extra, char *out, size_t outsize,
    size_t *outlen)
{
	const struct sip_msg *m = &sw->m;
	char ip[INET6_ADDRSTRLEN], tag[17];
	unsigned rport = 0;

	tp_peer_ip(f, ip, sizeof(ip));
	if (m->nvia > 0 && m->via[0].rport)
		rport = tp_peer_port(f);
	make_tag(tag);
	return sip_build_response(out, outsize, m, code, reason, tag, ip, rport,
	    extra, NULL, 0, outlen);
}

/* Lower-cases a host view into buf; returns its length, 0 if too long. */
static size_t
host_lower(struct sv h, char *buf, size_t size)
{
	size_t i;

	if (h.len == 0 || h.len >= size)
		return 0;
	for (i = 0; i < h.len; i++)
		buf[i] = (char)tolower((unsigned char)h.p[i]);
	buf[h.len] = '\0';
	return h.len;
}

/* Appends the challenges for realm to hdrs (one per algorithm). */
static int
challenges(struct sipd *d, const struct cred_domain *dom, const char *realm,
    bool stale, const char *hname, char *hdrs, size_t size)
{
	unsigned char r8[8];
	char nonce[SIP_NONCE_SIZE], ch[SIP_CHALLENGE_MAX];
	struct sv rv = {realm, strlen(realm)};
	size_t used = strlen(hdrs), i;
	int rc;

	randombytes_buf(r8, sizeof(r8));
	if ((rc = sip_nonce_make(d->nonce_key, sizeof(d->nonce_key), rv,
	         util_now_us() / 1000000, r8, nonce, sizeof(nonce))) != 0)
		return rc;
	for (i = 0; i < dom->nalgs; i++) {
		struct sv nv = {nonce, strlen(nonce)};
		int n;

		rc = sip_digest_challenge(ch, sizeof(ch), rv, nv,
		    (enum sip_digest_alg)dom->algs[i], stale, NULL);
		if (rc != 0)
			return rc;
		n = snprintf(hdrs + used, size - used, "%s: %s\r\n", hname, ch);
		if (n < 0 || (size_t)n >= size - used)
			return EMSGSIZE;
		used += (size_t)n;
	}
	return 0;
}

enum auth_result {
	AUTH_OK,
	AUTH_CHALLENGE, /* no (usable) credentials: 401 */
	AUTH_STALE,     /* 401 with stale=true */
	AUTH_FAIL,      /* 403: wrong, unknown, disabled: one answer */
	AUTH_BAD,       /* 400 */
	AUTH_REALM,     /* credentials for another realm only: a failure,
	                   challenged like AUTH_CHALLENGE */
	AUTH_REFUSED,   /* the right password, but the extension is locked or
	                   pinned to TLS: answered as AUTH_FAIL */
};

/* Authenticates m for user@domain. Every path that checks a password
 * does exactly one table lookup and one digest computation, so an
 * unknown user, a disabled one and a wrong password cost the same. */
static enum auth_result
auth_check(struct sipd *d, struct sipd_worker *sw, enum sip_hdr_id hid,
    struct sv user, const char *domain, const struct cred_domain *dom,
    const char *ip, struct cred_entry *e)
{
	const struct sip_msg *m = &sw->m;
	const struct sip_hdr *h;
	struct sip_digest_cred c;
	char ubuf[SIP_DIGEST_BUF_SIZE];
	struct sv realm = {domain, strlen(domain)}, method, body = {"", 0};
	enum sip_nonce_result nr;
	int64_t issued, now_s = util_now_us() / 1000000;
	bool ok = false, alg_ok = false, found, other_realm = false;
	char other_user[65] = "";
	const char *ha1;
	size_t i;
	int rc;

	memset(e, 0, sizeof(*e)); /* ext_id 0: no such extension */
	/* The credentials for our realm, if any. */
	for (h = sip_msg_hdr(m, hid); h != NULL; h = sip_msg_hdr_next(m, h)) {
		rc = sip_digest_parse(
		    h->value.p, h->value.len, ubuf, sizeof(ubuf), &c);
		if (rc == EPROTONOSUPPORT || rc == ENOTSUP)
			continue;
		if (rc != 0)
			return AUTH_BAD;
		if (c.realm.len == realm.len &&
		    memcmp(c.realm.p, realm.p, realm.len) == 0)
			break;
		if (!other_realm)
			log_safe_copy(other_user, sizeof(other_user),
			    c.username.p, c.username.len);
		other_realm = true;
	}
	if (h == NULL && other_realm) {
		/* Wrong credentials: a failure, answered with a challenge
		 * (our realm's) as if there were none. */
		log_info("security: auth-failure src=%s user=%s@%s "
		         "reason=wrong-realm",
		    ip, other_user, domain);
		return AUTH_REALM;
	}
	if (h == NULL)
		return AUTH_CHALLENGE;
	for (i = 0; i < dom->nalgs; i++)
		if (dom->algs[i] == c.alg)
			alg_ok = true;
	if (!alg_ok || c.qop != SIP_DIGEST_QOP_AUTH)
		return AUTH_CHALLENGE; /* we offer qop=auth only */
	nr = sip_nonce_check(d->nonce_key, sizeof(d->nonce_key), realm, c.nonce,
	    now_s, SIPD_NONCE_MAX_AGE, &issued);
	if (nr == SIP_NONCE_BAD)
		return AUTH_CHALLENGE;
	if (nr == SIP_NONCE_STALE) {
		atomic_fetch_add(&d->stats.stale, 1);
		return AUTH_STALE;
	}
	/* The digest-uri is neither parsed nor compared with the
	 * Request-URI: SIPp puts the server's address there, or with
	 * -auth_uri "sip:X" writes "sip:sip:X"; the response hashes it as
	 * sent, and the nonce and its count bind the request. */
	/* One lookup, one digest, whatever the outcome. */
	atomic_fetch_add(&d->stats.auth_lookups, 1);
	found = (credtab_lookup(d->creds, c.username.p, c.username.len, domain,
	             strlen(domain), e, NULL) &
	            2) != 0;
	method = m->method_name;
	atomic_fetch_add(&d->stats.auth_digests, 1);
	if (found) {
		ha1 = (c.alg == SIP_DIGEST_SHA256 ||
		          c.alg == SIP_DIGEST_SHA256_SESS)
		          ? e->ha1_sha256
		          : e->ha1_md5;
		rc = sip_digest_verify(&c, ha1, method, body, &ok);
	} else {
		ha1 = (c.alg == SIP_DIGEST_SHA256 ||
		          c.alg == SIP_DIGEST_SHA256_SESS)
		          ? d->dummy_sha256
		          : d->dummy_md5;
		rc = sip_digest_verify_unknown(&c, ha1, method, body, &ok);
	}
	if (rc != 0)
		return AUTH_BAD;
	/* The authenticated user must be the one registered (To). */
	if (c.username.len != user.len ||
	    memcmp(c.username.p, user.p, user.len) != 0)
		ok = false;
	if (!found) {
		atomic_fetch_add(&d->stats.unknown_user, 1);
		char uname[65];

		log_safe_copy(
		    uname, sizeof(uname), c.username.p, c.username.len);
		log_info("security: auth-failure src=%s user=%s@%s "
		         "reason=unknown-user",
		    ip, uname, domain);
		return AUTH_FAIL;
	}
	if (!ok) {
		log_info("security: auth-failure src=%s user=%s@%s "
		         "reason=wrong-password",
		    ip, e->number, domain);
		return AUTH_FAIL;
	}
	if (!e->enabled) {
		atomic_fetch_add(&d->stats.disabled, 1);
		log_info("security: auth-failure src=%s user=%s@%s "
		         "reason=disabled",
		    ip, e->number, domain);
		return AUTH_FAIL;
	}
	/* Replay: this (nonce, nc) was used before. */
	switch (nctab_check(d->nc, c.nonce.p, c.nonce.len, c.nc,
	    (issued + SIPD_NONCE_MAX_AGE) * 1000000, now_s * 1000000)) {
	case NC_OK:
		return AUTH_OK;
	case NC_UNKNOWN:
		atomic_fetch_add(&d->stats.stale, 1);
		return AUTH_STALE;
	case NC_REPLAY:
		atomic_fetch_add(&d->stats.replays, 1);
		log_info("security: replay src=%s user=%s@%s", ip, e->number,
		    domain);
		return AUTH_CHALLENGE;
	}
	return AUTH_FAIL;
}

/* A ban the guard just set: the security log line and the store (shared
 * by the nodes, restored at start). */
static void
ban_note(struct sipd *d, const char *ip, enum guard_why why, int64_t until,
    int64_t now)
{
	atomic_fetch_add(&d->stats.bans, 1);
	log_warn("security: ban src=%s seconds=%lld reason=%s", ip,
	    (long long)((until - now) / 1000000), guard_why_name(why));
	if (d->sw != NULL) {
		struct store_ban b;

		memset(&b, 0, sizeof(b));
		snprintf(b.source, sizeof(b.source), "%s", ip);
		snprintf(b.reason, sizeof(b.reason), "%s", guard_why_text(why));
		snprintf(b.node, sizeof(b.node), "%s", d->node);
		b.expires_us = until;
		storew_ban_put(d->sw, &b);
	}
}

/* Counts one offence of the source of f (see guard_strike); logs and
 * stores the ban it may cause. Returns true when it banned the source. */
static bool
strike(struct sipd *d, const struct tp_flow *f, const char *ip,
    enum guard_why why, uint64_t target)
{
	int64_t now = util_now_us(), until = 0;

	if (d->guard == NULL ||
	    guard_strike(d->guard, &f->peer, now, why, target, &until) != 1)
		return false;
	ban_note(d, ip, why, until, now);
	return true;
}

/* Tells the guard how an authentication went: failures ban the source
 * after [guard] max_auth_failures in the window (refusals of a right
 * password too: they must look the same); a success trusts it. Wrong
 * credentials for an extension (e->ext_id set) count toward its lock. */
static void
guard_note(struct sipd *d, const struct tp_flow *f, enum auth_result ar,
    const char *ip, const struct cred_entry *e, const char *domain)
{
	int64_t now = util_now_us();
	struct guard_lock lk;

	if (d->guard == NULL)
		return;
	if (ar == AUTH_OK) {
		guard_success(d->guard, &f->peer, now);
		return;
	}
	if (ar != AUTH_FAIL && ar != AUTH_REALM && ar != AUTH_REFUSED)
		return;
	strike(d, f, ip, GUARD_WHY_AUTH, 0);
	if (ar != AUTH_FAIL || e->ext_id == 0 ||
	    guard_ext_failure(d->guard, e->ext_id, &f->peer, now, &lk) != 1)
		return;
	atomic_fetch_add(&d->stats.locks, 1);
	log_warn("security: lock src=%s user=%s@%s seconds=%lld failures=%u "
	         "sources=%u reason=%s",
	    ip, e->number, domain, (long long)((lk.until_us - now) / 1000000),
	    lk.failures, lk.sources,
	    lk.unbannable ? "unbannable-sources" : "many-sources");
}

/* True when a and b are the same address and port. */
static bool
same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a,
		                         *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a,
		                          *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr,
		           sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

/* True when f is the flow of one of ext_id's bindings: the TCP/TLS
 * connection it registered on, or for UDP the address and port its
 * REGISTER came from (or that its contact names). */
static bool
flow_is_binding(
    struct sipd *d, int64_t ext_id, const struct tp_flow *f, int64_t now)
{
	struct reg_contact cs[REG_CONTACTS_MAX];
	size_t n = regtab_get(d->reg, ext_id, now, cs, REG_CONTACTS_MAX), i;

	for (i = 0; i < n; i++) {
		const struct reg_contact *c = &cs[i];

		if (f->proto == TP_UDP) {
			if (same_peer(&c->src, &f->peer) ||
			    (c->has_flow && c->flow.proto == TP_UDP &&
			        same_peer(&c->flow.peer, &f->peer)))
				return true;
		} else if (c->has_flow && c->flow.proto == f->proto &&
		           c->flow.worker == f->worker &&
		           c->flow.conn_id == f->conn_id) {
			return true;
		}
	}
	return false;
}

/* What a right password must still pass: the tenant's networks, the
 * extension's transport pin
 * (registered over TLS once: refused on UDP and TCP) and its lock (only
 * the flows of its bindings go on). Returns AUTH_OK or AUTH_REFUSED,
 * which is answered as a wrong password; the reason is in the log only. */
static enum auth_result
ext_gate(struct sipd *d, const struct tp_flow *f, const struct cred_entry *e,
    const struct cred_domain *dom, const char *ip, const char *domain)
{
	int64_t now = util_now_us();

	/* The tenant's networks (its allow setting), when it has some. */
	if (!cred_domain_allows(dom, (const struct sockaddr *)&f->peer)) {
		atomic_fetch_add(&d->stats.allowlist, 1);
		log_warn("security: allowlist src=%s user=%s@%s scope=tenant",
		    ip, e->number, domain);
		return AUTH_REFUSED;
	}

	if (e->tls_pinned && f->proto != TP_TLS) {
		atomic_fetch_add(&d->stats.pinned, 1);
		log_warn("security: pinned src=%s user=%s@%s transport=%s", ip,
		    e->number, domain, tp_proto_name(f->proto));
		return AUTH_REFUSED;
	}
	if (d->guard != NULL && guard_ext_is_locked(d->guard, e->ext_id, now) &&
	    !flow_is_binding(d, e->ext_id, f, now)) {
		atomic_fetch_add(&d->stats.locked, 1);
		log_info("security: auth-failure src=%s user=%s@%s "
		         "reason=locked",
		    ip, e->number, domain);
		return AUTH_REFUSED;
	}
	return AUTH_OK;
}

static void
flow_transport(const struct tp_flow *f, char *buf, size_t size)
{
	snprintf(buf, size, "%s", tp_proto_name(f->proto));
}

/* Writes the 200 OK Contact lines for ext into hdrs. */
static int
contacts_hdrs(struct sipd *d, int64_t ext_id, char *hdrs, size_t size)
{
	struct reg_contact cs[REG_CONTACTS_MAX];
	int64_t now = util_now_us();
	size_t n = regtab_get(d->reg, ext_id, now, cs, REG_CONTACTS_MAX), i,
	       used = 0;

	hdrs[0] = '\0';
	for (i = 0; i < n; i++) {
		int k = snprintf(hdrs + used, size - used,
		    "Contact: <%s>;expires=%lld\r\n", cs[i].uri,
		    (long long)((cs[i].expires_us - now + 999999) / 1000000));

		if (k < 0 || (size_t)k >= size - used)
			return EMSGSIZE;
		used += (size_t)k;
	}
	return 0;
}

static void
binding_write(struct sipd *d, const struct cred_entry *e,
    const struct reg_contact *c, const char *ip, const struct tp_flow *f)
{
	struct store_binding b;
	char src[64];

	if (d->sw == NULL)
		return;
	if (c->expires_us == 0) {
		storew_binding_del(d->sw, e->ext_id, c->uri);
		return;
	}
	memset(&b, 0, sizeof(b));
	b.tenant_id = e->tenant_id;
	b.extension_id = e->ext_id;
	snprintf(b.node, sizeof(b.node), "%s", d->node);
	snprintf(b.contact, sizeof(b.contact), "%s", c->uri);
	snprintf(b.instance, sizeof(b.instance), "%s", c->instance);
	b.reg_id = c->reg_id;
	snprintf(b.source, sizeof(b.source), "%s",
	    tp_addr_fmt(&f->peer, src, sizeof(src)));
	flow_transport(f, b.transport, sizeof(b.transport));
	snprintf(b.user_agent, sizeof(b.user_agent), "%s", c->user_agent);
	snprintf(b.call_id, sizeof(b.call_id), "%s", c->call_id);
	b.cseq = c->cseq;
	b.expires_us = c->expires_us;
	(void)ip;
	storew_binding_put(d->sw, &b);
}

static void
ext_seen(struct sipd *d, const struct cred_entry *e, const struct tp_flow *f,
    const char *ua)
{
	struct store_ext x;

	if (d->sw == NULL)
		return;
	memset(&x, 0, sizeof(x));
	x.id = e->ext_id;
	x.last_registered_us = util_now_us();
	tp_addr_fmt(&f->peer, x.last_source, sizeof(x.last_source));
	snprintf(x.last_user_agent, sizeof(x.last_user_agent), "%s", ua);
	storew_ext_seen(d->sw, &x);
}

/* Copies a view into a fixed buffer, cut to fit. */
static void
sv_copy(struct sv v, char *buf, size_t size)
{
	size_t n = v.len < size - 1 ? v.len : size - 1;

	if (n > 0)
		memcpy(buf, v.p, n);
	buf[n] = '\0';
}

/* Where requests to a UDP contact go: its own address when it names the
 * source address (no NAT in between, maybe another port, as SIPp
 * registers); the source the REGISTER came from otherwise (NAT: the
 * mapping the phone keeps open). TCP/TLS: always the connection. */
static void
contact_flow(
    const struct tp_flow *f, const struct sip_uri *u, struct tp_flow *out)
{
	char host[INET6_ADDRSTRLEN + 2], src[INET6_ADDRSTRLEN];
	struct sv h = u->host;
	struct sv ob;

	*out = *f;
	if (f->proto != TP_UDP || !u->has_port ||
	    sip_uri_param(u, "ob", &ob) == 0)
		return;
	if (u->host_type == SIP_HOST_IPV6 && h.len > 2) {
		h.p++;
		h.len -= 2;
	} else if (u->host_type != SIP_HOST_IPV4) {
		return;
	}
	if (h.len >= sizeof(host))
		return;
	memcpy(host, h.p, h.len);
	host[h.len] = '\0';
	tp_peer_ip(f, src, sizeof(src));
	if (strcmp(host, src) != 0)
		return;
	if (f->peer.ss_family == AF_INET)
		((struct sockaddr_in *)(void *)&out->peer)->sin_port =
		    htons(u->port);
	else
		((struct sockaddr_in6 *)(void *)&out->peer)->sin6_port =
		    htons(u->port);
}

/* REGISTER (RFC 3261 10.3). */
static int
do_register(struct sipd *d, struct sipd_worker *sw, const struct tp_flow *f,
    char *out, size_t outsize, size_t *outlen)
{
	const struct sip_msg *m = &sw->m;
	char domain[STORE_DOMAIN_MAX], todom[STORE_DOMAIN_MAX],
	    ip[INET6_ADDRSTRLEN], ua[REG_TEXT_MAX] = "";
	struct cred_domain dom;
	struct cred_entry e;
	const struct sip_hdr *uah;
	enum auth_result ar;
	int64_t now = util_now_us();
	bool write[SIP_CONTACT_MAX], wrote = false;
	size_t i;
	int rc;

	tp_peer_ip(f, ip, sizeof(ip));
	sw->hdrs[0] = '\0';
	if ((m->ruri.scheme != SIP_URI_SIP && m->ruri.scheme != SIP_URI_SIPS) ||
	    (m->to.uri.scheme != SIP_URI_SIP &&
	        m->to.uri.scheme != SIP_URI_SIPS) ||
	    !host_lower(m->ruri.host, domain, sizeof(domain)) ||
	    !host_lower(m->to.uri.host, todom, sizeof(todom)) ||
	    m->to.uri.user.len == 0)
		return respond(sw, f, 400, NULL, NULL, out, outsize, outlen);
	if (strcmp(domain, todom) != 0)
		return respond(sw, f, 403, NULL, NULL, out, outsize, outlen);
	/* A domain that is no tenant's: a stranger's request was dropped
	 * (or refused with 404) by screen(); from an allow-listed or
	 * trusted source it is challenged like any other, with the default
	 * algorithms. */
	memset(&dom, 0, sizeof(dom));
	if (!(credtab_lookup(
	          d->creds, "", 0, domain, strlen(domain), NULL, &dom) &
	        1)) {
		dom.algs[0] = SIP_DIGEST_MD5; /* the tenants' default */
		dom.nalgs = 1;
	}
	ar = auth_check(
	    d, sw, SIP_HDR_AUTHORIZATION, m->to.uri.user, domain, &dom, ip, &e);
	if (ar == AUTH_OK)
		ar = ext_gate(d, f, &e, &dom, ip, domain);
	guard_note(d, f, ar, ip, &e, domain);
	switch (ar) {
	case AUTH_CHALLENGE:
	case AUTH_STALE:
	case AUTH_REALM:
		atomic_fetch_add(&d->stats.challenges, 1);
		if ((rc = challenges(d, &dom, domain, ar == AUTH_STALE,
		         "WWW-Authenticate", sw->hdrs, sizeof(sw->hdrs))) != 0)
			return rc;
		return respond(
		    sw, f, 401, NULL, sw->hdrs, out, outsize, outlen);
	case AUTH_FAIL:
	case AUTH_REFUSED:
		atomic_fetch_add(&d->stats.reg_fail, 1);
		return respond(sw, f, 403, NULL, NULL, out, outsize, outlen);
	case AUTH_BAD:
		return respond(sw, f, 400, NULL, NULL, out, outsize, outlen);
	case AUTH_OK:
		break;
	}
	if ((uah = sip_msg_hdr(m, SIP_HDR_USER_AGENT)) != NULL) {
		sv_copy(uah->value, ua, sizeof(ua));
		util_utf8_sanitize(ua);
	}
	if (m->contact_star) {
		/* Contact: * requires Expires: 0 (RFC 3261 10.3 step 6). */
		if (!m->has_expires || m->expires != 0 || m->ncontact > 0)
			return respond(
			    sw, f, 400, NULL, NULL, out, outsize, outlen);
		{
			struct reg_contact cs[REG_CONTACTS_MAX];
			size_t n = regtab_get(
			    d->reg, e.ext_id, 0, cs, REG_CONTACTS_MAX);
			char cid[REG_TEXT_MAX];

			sv_copy(m->call_id, cid, sizeof(cid));
			if (regtab_remove_all(d->reg, e.ext_id, cid, m->cseq) !=
			    0)
				return respond(sw, f, 500, "Out of order", NULL,
				    out, outsize, outlen);
			for (i = 0; i < n; i++) {
				cs[i].expires_us = 0;
				binding_write(d, &e, &cs[i], ip, f);
			}
		}
	}
	/* Every Contact must be acceptable before any is applied. */
	for (i = 0; i < m->ncontact; i++) {
		const struct sip_contact *c = &m->contact[i];
		uint32_t exp = c->has_expires   ? c->expires
		               : m->has_expires ? m->expires
		                                : SIPD_EXPIRES_DEFAULT;

		if (exp != 0 && exp < SIPD_EXPIRES_MIN) {
			snprintf(sw->hdrs, sizeof(sw->hdrs),
			    "Min-Expires: %d\r\n", SIPD_EXPIRES_MIN);
			return respond(
			    sw, f, 423, NULL, sw->hdrs, out, outsize, outlen);
		}
		if (c->na.uri.text.len >= REG_URI_MAX)
			return respond(
			    sw, f, 400, NULL, NULL, out, outsize, outlen);
	}
	/* All or none (RFC 3261 10.3 step 7). */
	{
		struct reg_contact *cs = sw->contacts;

		for (i = 0; i < m->ncontact; i++) {
			const struct sip_contact *c = &m->contact[i];
			uint32_t exp = c->has_expires   ? c->expires
			               : m->has_expires ? m->expires
			                                : SIPD_EXPIRES_DEFAULT;

			memset(&cs[i], 0, sizeof(cs[i]));
			sv_copy(c->na.uri.text, cs[i].uri, sizeof(cs[i].uri));
			sv_copy(c->instance, cs[i].instance,
			    sizeof(cs[i].instance));
			cs[i].reg_id = c->has_reg_id ? c->reg_id : 0;
			cs[i].q = c->has_q ? c->q : 1000;
			if (exp > SIPD_EXPIRES_MAX)
				exp = SIPD_EXPIRES_MAX;
			cs[i].expires_us =
			    exp == 0 ? 0 : now + (int64_t)exp * 1000000;
			sv_copy(
			    m->call_id, cs[i].call_id, sizeof(cs[i].call_id));
			cs[i].cseq = m->cseq;
			memcpy(cs[i].user_agent, ua, sizeof(cs[i].user_agent));
			contact_flow(f, &c->na.uri, &cs[i].flow);
			cs[i].has_flow = true;
			cs[i].src = f->peer;
		}
		rc = regtab_update_all(
		    d->reg, e.ext_id, cs, m->ncontact, now, write);
		if (rc == EALREADY)
			return respond(sw, f, 500, "Out of order", NULL, out,
			    outsize, outlen);
		if (rc == ENOSPC)
			return respond(sw, f, 403, "Too many registrations",
			    NULL, out, outsize, outlen);
		if (rc != 0)
			return respond(
			    sw, f, 500, NULL, NULL, out, outsize, outlen);
		for (i = 0; i < m->ncontact; i++) {
			if (write[i]) {
				binding_write(d, &e, &cs[i], ip, f);
				wrote = true;
			}
			if (cs[i].expires_us != 0 && f->proto == TP_TLS &&
			    !e.tls_pinned) {
				/* The store pins it too (the binding's
				 * trigger, migration 0004). */
				credtab_pin(d->creds, e.ext_id);
				e.tls_pinned = true;
				log_info("registrar: %s@%s registered over "
				         "TLS: pinned to TLS (ext set ... "
				         "pin=reset lifts it)",
				    e.number, domain);
			}
		}
	}
	if (wrote)
		ext_seen(d, &e, f, ua); /* with the bindings it shows */
	atomic_fetch_add(&d->stats.reg_ok, 1);
	if ((rc = contacts_hdrs(d, e.ext_id, sw->hdrs, sizeof(sw->hdrs))) != 0)
		return rc;
	return respond(sw, f, 200, NULL, sw->hdrs, out, outsize, outlen);
}

/* Whether m is an INVITE from a carrier: its Request-URI's user is one of
 * our numbers and f's source lies in that number's trunk (or, for a
 * number that names none, in a trunk of its tenant). Fills sw->num and
 * sw->trunk. Anything else, whatever it claims, is challenged as usual
 * (a carrier has no credentials: a forged one gets 407 and then 403). */
static bool
trunk_inbound(struct sipd *d, struct sipd_worker *sw, const struct tp_flow *f)
{
	const struct sip_msg *m = &sw->m;

	if (d->trunks == NULL || m->method != SIP_METHOD_INVITE ||
	    m->to.has_tag || m->ruri.user.len == 0 ||
	    trunktab_number(
	        d->trunks, m->ruri.user.p, m->ruri.user.len, &sw->num) != 0)
		return false;
	if (sw->num.trunk_id != 0)
		return trunktab_trunk_match(d->trunks, sw->num.trunk_id,
		           &f->peer, &sw->trunk) == 0;
	return trunktab_match_tenant(
	           d->trunks, sw->num.tenant_id, &f->peer, &sw->trunk) == 0;
}

/* A call from a carrier (trunk_inbound): not challenged; it goes to the
 * extension the number points to. The caller is the From user as the
 * carrier sent it (reduced to safe bytes), its leg plain RTP or SRTP. */
static int
do_inbound(struct sipd *d, struct tp_worker *w, struct sipd_worker *sw,
    const struct tp_flow *f, char *buf, size_t len)
{
	const struct sip_msg *m = &sw->m;
	struct b2bua_caller caller;
	struct cred_domain dom;
	struct cred_entry ce;
	int64_t callee_ext = 0;
	char ip[INET6_ADDRSTRLEN];

	memset(&caller, 0, sizeof(caller));
	memset(&ce, 0, sizeof(ce));
	if (credtab_domain_of(d->creds, sw->num.tenant_id, &dom) != 0)
		return 0; /* the tenant is going: let the carrier retry */
	if ((credtab_lookup(d->creds, sw->num.ext, strlen(sw->num.ext),
	         dom.domain, strlen(dom.domain), &ce, NULL) &
	        2) &&
	    ce.enabled && ce.tenant_id == sw->num.tenant_id)
		callee_ext = ce.ext_id;
	caller.tenant_id = sw->num.tenant_id;
	caller.trunk_id = sw->trunk.id;
	if (m->from.uri.user.len > 0)
		log_safe_copy(caller.number, sizeof(caller.number),
		    m->from.uri.user.p, m->from.uri.user.len);
	else
		snprintf(caller.number, sizeof(caller.number), "anonymous");
	memcpy(caller.domain, dom.domain, sizeof(caller.domain));
	caller.srtp_optional = true; /* carriers: RTP, bridged to SRTP */
	tp_peer_ip(f, ip, sizeof(ip));
	log_info("call from trunk %s (%s) to %s: extension %s", sw->trunk.name,
	    ip, sw->num.e164, sw->num.ext);
	b2bua_invite(d->b2b, w, f, m, buf, len, &caller, callee_ext,
	    sw->num.ext, callee_ext != 0 && ce.srtp_optional);
	return 0;
}

/* INVITE: a new call (authenticated: 407) or a re-INVITE. */
static int
do_invite(struct sipd *d, struct tp_worker *w, struct sipd_worker *sw,
    const struct tp_flow *f, char *buf, size_t len, char *out, size_t outsize,
    size_t *outlen)
{
	const struct sip_msg *m = &sw->m;
	char domain[STORE_DOMAIN_MAX], ip[INET6_ADDRSTRLEN],
	    callee[STORE_EXT_MAX];
	struct cred_domain dom;
	struct cred_entry e, ce;
	struct b2bua_caller caller;
	enum auth_result ar;
	int64_t callee_ext = 0;
	int rc;

	if (m->to.has_tag) {
		if (b2bua_message(d->b2b, w, f, m, buf, len) == ENOENT)
			return respond(
			    sw, f, 481, NULL, NULL, out, outsize, outlen);
		return 0;
	}
	if (b2bua_retransmission(d->b2b, w, m))
		return 0;
	if (b2bua_looped(f, m))
		return respond(sw, f, 482, NULL, NULL, out, outsize, outlen);
	if (sw->inbound)
		return do_inbound(d, w, sw, f, buf, len);
	tp_peer_ip(f, ip, sizeof(ip));
	sw->hdrs[0] = '\0';
	if ((m->from.uri.scheme != SIP_URI_SIP &&
	        m->from.uri.scheme != SIP_URI_SIPS) ||
	    !host_lower(m->from.uri.host, domain, sizeof(domain)) ||
	    m->from.uri.user.len == 0)
		return respond(sw, f, 403, NULL, NULL, out, outsize, outlen);
	memset(&dom, 0, sizeof(dom));
	if (!(credtab_lookup(
	          d->creds, "", 0, domain, strlen(domain), NULL, &dom) &
	        1)) {
		dom.algs[0] = SIP_DIGEST_MD5;
		dom.nalgs = 1;
	}
	/* Every INVITE that starts a call is challenged, whatever its
	 * From, To or Request-URI: the caller is who authenticates. */
	ar = auth_check(d, sw, SIP_HDR_PROXY_AUTHORIZATION, m->from.uri.user,
	    domain, &dom, ip, &e);
	if (ar == AUTH_OK)
		ar = ext_gate(d, f, &e, &dom, ip, domain);
	guard_note(d, f, ar, ip, &e, domain);
	switch (ar) {
	case AUTH_CHALLENGE:
	case AUTH_STALE:
	case AUTH_REALM:
		atomic_fetch_add(&d->stats.challenges, 1);
		if ((rc = challenges(d, &dom, domain, ar == AUTH_STALE,
		         "Proxy-Authenticate", sw->hdrs, sizeof(sw->hdrs))) !=
		    0)
			return rc;
		return respond(
		    sw, f, 407, NULL, sw->hdrs, out, outsize, outlen);
	case AUTH_FAIL:
	case AUTH_REFUSED:
		return respond(sw, f, 403, NULL, NULL, out, outsize, outlen);
	case AUTH_BAD:
		return respond(sw, f, 400, NULL, NULL, out, outsize, outlen);
	case AUTH_OK:
		break;
	}
	/* The callee: an extension of the caller's tenant. */
	callee[0] = '\0';
	if ((m->ruri.scheme == SIP_URI_SIP || m->ruri.scheme == SIP_URI_SIPS) &&
	    m->ruri.user.len > 0 && m->ruri.user.len < sizeof(callee)) {
		memcpy(callee, m->ruri.user.p, m->ruri.user.len);
		callee[m->ruri.user.len] = '\0';
		if ((credtab_lookup(d->creds, callee, strlen(callee), domain,
		         strlen(domain), &ce, NULL) &
		        2) &&
		    ce.enabled && ce.tenant_id == e.tenant_id)
			callee_ext = ce.ext_id;
	}
	memset(&caller, 0, sizeof(caller));
	caller.tenant_id = e.tenant_id;
	caller.ext_id = e.ext_id;
	memcpy(caller.number, e.number, sizeof(caller.number));
	memcpy(caller.domain, domain, sizeof(caller.domain));
	caller.srtp_optional = e.srtp_optional;
	b2bua_invite(d->b2b, w, f, m, buf, len, &caller, callee_ext, callee,
	    callee_ext != 0 && ce.srtp_optional);
	return 0;
}

/* User agents of scanners and attack tools (sipvicious, sippts, sipcli,
 * iWar, ...), as blocklists of SIP operators list them: matched without
 * case at the start of the User-Agent value, "sipvicious" anywhere. No
 * phone or softphone is among them. */
static const char *const scanner_uas[] = {"friendly-scanner",
    "friendly-request", "sipvicious", "sipcli", "sip-cli", "sip-scan",
    "sipscan", "iwar", "pplsip", "smap", "sipsak", "vaxsipuseragent",
    "vaxipuseragent", "sundayddr", "sundayaddr", "siparmyknife", "sivus",
    "nmap nse", "sipptk", "sippts", "fgfdhgfxjfhyjhkj", "a_b_c"};

static bool
scanner_ua(struct sv ua)
{
	size_t i, n;

	while (ua.len > 0 && (*ua.p == ' ' || *ua.p == '\t')) {
		ua.p++;
		ua.len--;
	}
	for (i = 0; i < ARRAY_LEN(scanner_uas); i++) {
		n = strlen(scanner_uas[i]);
		if (ua.len >= n && sip_sv_eq_nocase(ua.p, n, scanner_uas[i]))
			return true;
	}
	for (i = 0; i + 10 <= ua.len; i++)
		if (sip_sv_eq_nocase(ua.p + i, 10, "sipvicious"))
			return true;
	return false;
}

/* A keyed hash of user@domain: a target the guard counts once. */
static uint64_t
target_hash(const struct sipd *d, struct sv user, const char *domain)
{
	unsigned char h[crypto_shorthash_BYTES], buf[512];
	size_t dl = strlen(domain), n = user.len < 255 ? user.len : 255;
	uint64_t v = 0;
	size_t i;

	memcpy(buf, user.p, n);
	buf[n] = '@';
	if (dl > sizeof(buf) - n - 1)
		dl = sizeof(buf) - n - 1;
	memcpy(buf + n + 1, domain, dl);
	crypto_shorthash(h, buf, n + 1 + dl, d->sweep_key);
	for (i = 0; i < 8; i++)
		v |= (uint64_t)h[i] << (8 * i);
	return v;
}

/* Silence with [guard] stealth = on, else the answer RFC 3261 gives
 * (code). Returns 0 (the request is dealt with). */
static int
quiet(struct sipd *d, struct sipd_worker *sw, const struct tp_flow *f,
    unsigned code, char *out, size_t outsize, size_t *outlen)
{
	if (guard_stealth(d->guard)) {
		atomic_fetch_add(&d->stats.quiet, 1);
		*outlen = 0;
		return 0;
	}
	return respond(sw, f, code, NULL, NULL, out, outsize, outlen);
}

/* The guard's look at an out-of-dialog request from a source that is not
 * allow-listed, before any authentication: a scanner's User-Agent; a
 * REGISTER, INVITE (From) or OPTIONS to a user for a domain that is no
 * tenant's; a decoy user (REGISTER To, INVITE From or Request-URI) that
 * is no real extension; the unknown target users of OPTIONS and INVITE
 * (a sweep: each new one counts). Each counts toward a ban (a decoy bans
 * at once). Sources that authenticated recently (trusted) are only
 * checked for scanners and decoys: a misconfigured phone in an office
 * is not a stranger. Returns true when the request is dealt with (dropped
 * or answered in out); false when it goes on as usual. */
static bool
screen(struct sipd *d, struct sipd_worker *sw, const struct tp_flow *f,
    char *out, size_t outsize, size_t *outlen)
{
	const struct sip_msg *m = &sw->m;
	const struct sip_hdr *uah;
	char ip[INET6_ADDRSTRLEN], domain[STORE_DOMAIN_MAX], safe[65],
	    dsafe[65], meth[17];
	struct sv user = {"", 0}, target = {"", 0};
	const struct sip_uri *du = NULL;
	bool trusted, tenant;
	int bits;

	if (d->guard == NULL || !guard_enabled(d->guard) ||
	    guard_is_allowed(d->guard, &f->peer))
		return false;
	tp_peer_ip(f, ip, sizeof(ip));
	log_safe_copy(meth, sizeof(meth), m->method_name.p, m->method_name.len);
	if ((uah = sip_msg_hdr(m, SIP_HDR_USER_AGENT)) != NULL &&
	    scanner_ua(uah->value)) {
		atomic_fetch_add(&d->stats.scanners, 1);
		log_safe_copy(safe, sizeof(safe), uah->value.p, uah->value.len);
		log_warn("security: scanner src=%s reason=user-agent ua=%s "
		         "method=%s",
		    ip, safe, meth);
		strike(d, f, ip, GUARD_WHY_SCANNER, 0);
		quiet(d, sw, f, 403, out, outsize, outlen);
		return true;
	}
	/* Whose domain: REGISTER's Request-URI, INVITE's caller (From),
	 * OPTIONS's Request-URI when it names a user at a host name. */
	if (m->method == SIP_METHOD_REGISTER) {
		du = &m->ruri;
		user = m->to.uri.user;
	} else if (m->method == SIP_METHOD_INVITE) {
		du = &m->from.uri;
		user = m->from.uri.user;
		target = m->ruri.user;
	} else if (m->method == SIP_METHOD_OPTIONS && m->ruri.user.len > 0) {
		du = &m->ruri;
		target = m->ruri.user;
	}
	if (du == NULL ||
	    (du->scheme != SIP_URI_SIP && du->scheme != SIP_URI_SIPS) ||
	    !host_lower(du->host, domain, sizeof(domain)))
		return false; /* no domain, or the request is refused later */
	trusted = guard_is_trusted(d->guard, &f->peer, util_now_us());
	tenant = (credtab_lookup(
	              d->creds, "", 0, domain, strlen(domain), NULL, NULL) &
	             1) != 0;
	log_safe_copy(dsafe, sizeof(dsafe), domain, strlen(domain));
	if (!tenant && !trusted &&
	    !(m->method == SIP_METHOD_OPTIONS &&
	        du->host_type != SIP_HOST_NAME)) {
		atomic_fetch_add(&d->stats.scanners, 1);
		log_warn("security: scanner src=%s reason=unknown-domain "
		         "domain=%s method=%s",
		    ip, dsafe, meth);
		strike(d, f, ip, GUARD_WHY_DOMAIN, 0);
		quiet(d, sw, f, 404, out, outsize, outlen);
		return true;
	}
	/* Decoys (REGISTER and INVITE): names that are no extension of the
	 * tenant. An OPTIONS for one counts as a sweep below. */
	for (int i = 0; i < 2 && m->method != SIP_METHOD_OPTIONS; i++) {
		struct sv u = i == 0 ? user : target;

		if (u.len == 0 || !guard_is_decoy(d->guard, u.p, u.len))
			continue;
		bits = credtab_lookup(
		    d->creds, u.p, u.len, domain, strlen(domain), NULL, NULL);
		if (bits & 2)
			continue; /* a real extension with that number */
		atomic_fetch_add(&d->stats.decoys, 1);
		log_safe_copy(safe, sizeof(safe), u.p, u.len);
		log_warn("security: decoy src=%s user=%s@%s method=%s%s", ip,
		    safe, dsafe, meth, trusted ? " trusted=yes" : "");
		strike(d, f, ip, GUARD_WHY_DECOY, 0);
		if (trusted)
			return false; /* one failure; answered as usual */
		/* Banned now: dropped, or with stealth off answered as for
		 * any unknown user (the next request is dropped). */
		if (guard_stealth(d->guard)) {
			atomic_fetch_add(&d->stats.quiet, 1);
			*outlen = 0;
			return true;
		}
		return false;
	}
	/* Sweeps: OPTIONS and INVITE for users that do not exist. */
	if (target.len == 0 || trusted ||
	    (tenant && (credtab_lookup(d->creds, target.p, target.len, domain,
	                    strlen(domain), NULL, NULL) &
	                   2)))
		return false;
	atomic_fetch_add(&d->stats.sweeps, 1);
	log_safe_copy(safe, sizeof(safe), target.p, target.len);
	log_info("security: scanner src=%s reason=sweep user=%s@%s method=%s",
	    ip, safe, dsafe, meth);
	if (!strike(
	        d, f, ip, GUARD_WHY_SWEEP, target_hash(d, target, domain)) ||
	    !guard_stealth(d->guard))
		return false; /* answered as for any user */
	atomic_fetch_add(&d->stats.quiet, 1);
	*outlen = 0;
	return true;
}

/* A request we cannot parse: when its Via, From, To, Call-ID and CSeq
 * lines can be found, answer 400 with them copied; else drop it. */
static int
bad_request(
    const char *buf, size_t len, char *out, size_t outsize, size_t *outlen)
{
	static const char *want[] = {
	    "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"};
	bool seen[5] = {false};
	const char *p = buf, *end = buf + len;
	size_t used;
	int n;

	if (len >= 4 && memcmp(buf, "SIP/", 4) == 0)
		return EBADMSG; /* a response: never answered */
	n = snprintf(out, outsize, "SIP/2.0 400 Bad Request\r\n");
	if (n < 0)
		return EBADMSG;
	used = (size_t)n;
	/* Skip the request line. */
	while (p < end && *p != '\n')
		p++;
	while (p < end) {
		const char *line = ++p, *colon, *eol;
		size_t nlen, k;

		while (p < end && *p != '\n')
			p++;
		eol = p;
		if (eol > line && eol[-1] == '\r')
			eol--;
		if (eol == line)
			break; /* end of headers */
		if ((colon = memchr(line, ':', (size_t)(eol - line))) == NULL)
			continue;
		nlen = (size_t)(colon - line);
		while (nlen > 0 &&
		       (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
			nlen--;
		for (k = 0; k < ARRAY_LEN(want); k++)
			if (sip_sv_eq_nocase(line, nlen, want[k]))
				break;
		if (k == ARRAY_LEN(want))
			continue;
		for (const char *q = line; q < eol; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return EBADMSG;
		seen[k / 2] = true;
		if (used + (size_t)(eol - line) + 24 >= outsize)
			return EBADMSG;
		memcpy(out + used, line, (size_t)(eol - line));
		used += (size_t)(eol - line);
		/* RFC 3261 8.2.6.2: a To tag of our own when it has none. */
		if (k / 2 == 2 &&
		    memmem(line, (size_t)(eol - line), "tag=", 4) == NULL) {
			char tag[17];

			make_tag(tag);
			memcpy(out + used, ";tag=", 5);
			memcpy(out + used + 5, tag, 16);
			used += 21;
		}
		memcpy(out + used, "\r\n", 2);
		used += 2;
	}
	for (n = 0; n < 5; n++)
		if (!seen[n])
			return EBADMSG;
	if (used + 21 >= outsize)
		return EBADMSG;
	memcpy(out + used, "Content-Length: 0\r\n\r\n", 21);
	*outlen = used + 21;
	return 0;
}

/* Handles one message; w is NULL in unit tests (no calls then). */
static int
sipd_handle(struct sipd *d, struct tp_worker *w, int widx,
    const struct tp_flow *f, char *buf, size_t len, char *out, size_t outsize,
    size_t *outlen, bool parsed)
{
	struct sipd_worker *sw = &d->w[widx % (int)d->nworkers];
	struct sip_msg *m = &sw->m;
	char key[SCACHE_KEY_MAX];
	size_t klen = 0;
	bool calls = w != NULL && d->b2b != NULL;
	int rc;

	*outlen = 0;
	/* sipd_on_msg may have parsed it already (to route it): not twice. */
	rc = parsed ? 0 : sip_msg_parse(buf, len, m);
	if (rc == ENODATA)
		return 0; /* only CRLFs: a keep-alive */
	if (rc == EPROTONOSUPPORT && m->is_request)
		return respond(sw, f, 505, NULL, NULL, out, outsize, outlen);
	if (rc != 0) {
		atomic_fetch_add(&d->stats.bad, 1);
		if (bad_request(buf, len, out, outsize, outlen) != 0)
			*outlen = 0;
		return rc;
	}
	if (!m->is_request) {
		atomic_fetch_add(&d->stats.responses_in, 1);
		if (calls)
			b2bua_message(d->b2b, w, f, m, buf, len);
		return 0;
	}
	atomic_fetch_add(&d->stats.requests, 1);
	/* Before anyone has authenticated, a request carries a small body
	 * at most (an SDP offer): no large bodies from strangers. */
	if (m->body.len > SIP_PREAUTH_BODY_MAX && !m->to.has_tag &&
	    m->method != SIP_METHOD_ACK)
		return respond(sw, f, 413, NULL, NULL, out, outsize, outlen);
	if (m->method == SIP_METHOD_ACK) {
		if (calls)
			b2bua_message(d->b2b, w, f, m, buf, len);
		return 0;
	}
	/* A carrier's call to one of our numbers, from its trunk, is no
	 * stranger's; other requests outside a dialog: the guard looks
	 * first. */
	sw->inbound = trunk_inbound(d, sw, f);
	if (!m->to.has_tag && m->method != SIP_METHOD_CANCEL && !sw->inbound &&
	    screen(d, sw, f, out, outsize, outlen))
		return 0;
	if (m->method == SIP_METHOD_INVITE) {
		if (!calls)
			return respond(
			    sw, f, 501, NULL, allow_hdr, out, outsize, outlen);
		return do_invite(d, w, sw, f, buf, len, out, outsize, outlen);
	}
	if (calls && (m->method == SIP_METHOD_CANCEL ||
	                 (m->to.has_tag && m->method != SIP_METHOD_REGISTER &&
	                     m->method != SIP_METHOD_OPTIONS))) {
		if (b2bua_message(d->b2b, w, f, m, buf, len) != ENOENT)
			return 0;
		if (m->method == SIP_METHOD_BYE &&
		    b2bua_ended_lately(d->b2b, w, m->call_id))
			return respond(
			    sw, f, 200, NULL, NULL, out, outsize, outlen);
		return respond(sw, f, 481, NULL, NULL, out, outsize, outlen);
	}
	/* A retransmission over UDP gets the answer it got before. */
	if (f->proto == TP_UDP && m->nvia > 0) {
		klen = scache_key(key, sizeof(key), m->via[0].branch,
		    m->via[0].host, m->via[0].port, m->cseq_method_name);
		if (klen > 0 && scache_get(d->sc, key, klen, util_now_us(), out,
		                    outsize, outlen))
			return 0;
	}
	if (m->method == SIP_METHOD_REGISTER)
		rc = do_register(d, sw, f, out, outsize, outlen);
	else if (m->method == SIP_METHOD_OPTIONS) {
		atomic_fetch_add(&d->stats.options, 1);
		rc = respond(sw, f, 200, NULL, allow_hdr, out, outsize, outlen);
	} else if (m->method == SIP_METHOD_CANCEL ||
	           m->method == SIP_METHOD_BYE)
		rc = respond(sw, f, 481, NULL, NULL, out, outsize, outlen);
	else
		rc = respond(sw, f, 501, NULL, allow_hdr, out, outsize, outlen);
	if (rc == 0 && klen > 0 && *outlen > 0)
		scache_put(d->sc, key, klen, out, *outlen, util_now_us());
	return rc;
}

int
sipd_process(struct sipd *d, int widx, const struct tp_flow *f, char *buf,
    size_t len, char *out, size_t outsize, size_t *outlen)
{
	return sipd_handle(
	    d, NULL, widx, f, buf, len, out, outsize, outlen, false);
}

/* A message handed to the worker that owns its Call-ID. */
struct sipd_job {
	struct sipd *d;
	struct tp_flow f;
	size_t len;
	char buf[];
};

static void
sipd_job_run(struct tp_worker *w, void *arg)
{
	struct sipd_job *j = arg;
	struct sipd *d = j->d;
	int widx = tp_worker_index(w);
	struct sipd_worker *sw = &d->w[widx % (int)d->nworkers];
	size_t outlen = 0;

	sipd_handle(d, w, widx, &j->f, j->buf, j->len, sw->out, sizeof(sw->out),
	    &outlen, false);
	if (outlen > 0)
		tp_send(w, &j->f, sw->out, outlen);
	free(j);
}

void
sipd_on_msg(void *arg, struct tp_worker *w, const struct tp_flow *f, char *buf,
    size_t len)
{
	struct sipd *d = arg;
	int widx = tp_worker_index(w);
	struct sipd_worker *sw = &d->w[widx % (int)d->nworkers];
	size_t outlen = 0;
	bool parsed = false;

	/* A banned source costs one lookup, before any parsing; then the
	 * source's token bucket ([guard] rate, rate_burst). */
	if (d->guard != NULL) {
		uint64_t report = 0;
		char ip[INET6_ADDRSTRLEN];

		switch (
		    guard_admit(d->guard, &f->peer, util_now_us(), &report)) {
		case GUARD_PASS:
			break;
		case GUARD_BANNED:
			atomic_fetch_add(&d->stats.dropped_banned, 1);
			return;
		case GUARD_RATE_LIMITED:
			atomic_fetch_add(&d->stats.dropped_rate, 1);
			if (report > 0) {
				tp_peer_ip(f, ip, sizeof(ip));
				log_warn("security: rate-limit src=%s "
				         "dropped=%llu",
				    ip, (unsigned long long)report);
			}
			return;
		}
	}
	/* The messages of a call are handled by one worker. */
	if (d->b2b != NULL && d->nworkers > 1 &&
	    (parsed = sip_msg_parse(buf, len, &sw->m) == 0) &&
	    (!sw->m.is_request || (sw->m.method != SIP_METHOD_REGISTER &&
	                              sw->m.method != SIP_METHOD_OPTIONS))) {
		unsigned owner = b2bua_owner(d->b2b, sw->m.call_id);

		if (owner != (unsigned)widx) {
			struct sipd_job *j = malloc(sizeof(*j) + len);

			if (j == NULL)
				return;
			j->d = d;
			j->f = *f;
			j->len = len;
			memcpy(j->buf, buf, len);
			if (tp_post(tp_worker_transport(w), (int)owner,
			        sipd_job_run, j) != 0)
				free(j);
			return;
		}
	}
	sipd_handle(
	    d, w, widx, f, buf, len, sw->out, sizeof(sw->out), &outlen, parsed);
	if (outlen > 0)
		tp_send(w, f, sw->out, outlen);
}

struct closed_job {
	struct sipd *d;
	int worker;
	uint64_t conn_id;
};

static void
closed_job_run(struct tp_worker *w, void *arg)
{
	struct closed_job *j = arg;

	if (j->d->b2b != NULL)
		b2bua_conn_closed(j->d->b2b, w, j->worker, j->conn_id);
	free(j);
}

void
sipd_conn_closed(void *arg, struct tp_worker *w, int worker, uint64_t conn_id)
{
	struct sipd *d = arg;
	unsigned i;

	regtab_flow_gone(d->reg, worker, conn_id);
	for (i = 0; d->b2b != NULL && i < d->nworkers; i++) {
		struct closed_job *j = malloc(sizeof(*j));

		if (j == NULL)
			continue;
		j->d = d;
		j->worker = worker;
		j->conn_id = conn_id;
		if (tp_post(
		        tp_worker_transport(w), (int)i, closed_job_run, j) != 0)
			free(j);
	}
}

struct shutdown_job {
	struct sipd *d;
	atomic_int *left;
};

static void
shutdown_job_run(struct tp_worker *w, void *arg)
{
	struct shutdown_job *j = arg;

	b2bua_shutdown(j->d->b2b, w);
	atomic_fetch_sub(j->left, 1);
	free(j);
}

void
sipd_shutdown(struct sipd *d, struct transport *t, unsigned timeout_ms)
{
	static atomic_int left;
	unsigned i, waited = 0;

	if (d == NULL || d->b2b == NULL || t == NULL)
		return;
	atomic_store(&left, 0);
	for (i = 0; i < tp_worker_count(t); i++) {
		struct shutdown_job *j = malloc(sizeof(*j));

		if (j == NULL)
			continue;
		j->d = d;
		j->left = &left;
		atomic_fetch_add(&left, 1);
		if (tp_post(t, (int)i, shutdown_job_run, j) != 0) {
			atomic_fetch_sub(&left, 1);
			free(j);
		}
	}
	while (atomic_load(&left) > 0 && waited < timeout_ms) {
		usleep(10000);
		waited += 10;
	}
	/* Let the BYEs and CANCELs leave before the sockets close. */
	usleep(200000);
}

struct restore_arg {
	struct sipd *d;
	size_t n;
};

static int
restore_cb(void *arg, const struct store_binding *b)
{
	struct restore_arg *a = arg;
	struct reg_contact c;

	memset(&c, 0, sizeof(c));
	snprintf(c.uri, sizeof(c.uri), "%s", b->contact);
	snprintf(c.instance, sizeof(c.instance), "%s", b->instance);
	c.reg_id = (uint32_t)b->reg_id;
	c.q = 1000;
	c.expires_us = b->expires_us;
	snprintf(c.call_id, sizeof(c.call_id), "%s", b->call_id);
	c.cseq = (uint32_t)b->cseq;
	snprintf(c.user_agent, sizeof(c.user_agent), "%s", b->user_agent);
	c.has_flow = false; /* the connection died with the old process */
	if (regtab_update(a->d->reg, b->extension_id, &c, util_now_us()) == 0)
		a->n++;
	return 0;
}

int
sipd_restore(struct sipd *d, struct store *st)
{
	struct restore_arg a = {d, 0};
	int64_t removed = 0;
	int rc;

	if ((rc = store_binding_expire(st, util_now_us(), &removed)) != 0)
		return rc;
	rc = store_binding_list_node(st, d->node, restore_cb, &a);
	if (rc == 0)
		log_info("registrar: %zu bindings restored (%lld expired "
		         "dropped); TCP/TLS ones wait for their phones",
		    a.n, (long long)removed);
	return rc;
}
