/* credtab.c: see credtab.h. Two chained hash tables over one set of
 * nodes: by "number@domain" and by extension id. */
#include "call/credtab.h"
#include "core/settings.h"
#include "lib/log.h"
#include "sip/digest.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct cred_node {
	struct cred_entry e;
	struct cred_node *next_key, *next_id;
};

struct dom_node {
	struct cred_domain d;
	struct dom_node *next;
};

enum { DOM_BUCKETS = 1024 };

struct credtab {
	pthread_rwlock_t lock;
	struct cred_node **by_key, **by_id;
	size_t nbuckets, count;
	struct dom_node *dom[DOM_BUCKETS];
	size_t ndom;
	unsigned char seed[16]; /* keyed hash: no crafted collisions */
};

enum { CREDTAB_MIN_BUCKETS = 1024 };

static size_t
key_hash(const struct credtab *t, const char *n, size_t nlen, const char *d,
    size_t dlen)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t v = 0;
	size_t i;

	/* SipHash-2-4 of each part, combined. */
	crypto_shorthash(out, (const unsigned char *)n, nlen, t->seed);
	for (i = 0; i < 8; i++)
		v |= (uint64_t)out[i] << (8 * i);
	crypto_shorthash(out, (const unsigned char *)d, dlen, t->seed);
	for (i = 0; i < 8; i++)
		v ^= (uint64_t)out[i] << (8 * i);
	v *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(v >> 20) % t->nbuckets;
}

static size_t
id_hash(const struct credtab *t, int64_t id)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 20) %
	       t->nbuckets;
}

int
credtab_new(struct credtab **out)
{
	struct credtab *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return ENOMEM;
	pthread_rwlock_init(&t->lock, NULL);
	t->nbuckets = CREDTAB_MIN_BUCKETS;
	t->by_key = calloc(t->nbuckets, sizeof(*t->by_key));
	t->by_id = calloc(t->nbuckets, sizeof(*t->by_id));
	if (t->by_key == NULL || t->by_id == NULL) {
		credtab_free(t);
		return ENOMEM;
	}
	randombytes_buf(t->seed, sizeof(t->seed));
	*out = t;
	return 0;
}

void
credtab_free(struct credtab *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; t->by_id != NULL && i < t->nbuckets; i++) {
		struct cred_node *n = t->by_id[i], *next;

		for (; n != NULL; n = next) {
			next = n->next_id;
			sodium_memzero(n, sizeof(*n));
			free(n);
		}
	}
	for (i = 0; i < DOM_BUCKETS; i++)
		while (t->dom[i] != NULL) {
			struct dom_node *d = t->dom[i];

			t->dom[i] = d->next;
			free(d);
		}
	free(t->by_key);
	free(t->by_id);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

size_t
credtab_count(const struct credtab *t)
{
	return t->count;
}

/* Doubles the bucket arrays when the load passes 1. */
static int
credtab_grow(struct credtab *t)
{
	size_t nb = t->nbuckets * 2, i;
	struct cred_node **bk = calloc(nb, sizeof(*bk)),
	                 **bi = calloc(nb, sizeof(*bi)), *n, *next;
	size_t old = t->nbuckets;
	struct cred_node **oldid = t->by_id;

	if (bk == NULL || bi == NULL) {
		free(bk);
		free(bi);
		return ENOMEM;
	}
	free(t->by_key);
	t->by_key = bk;
	t->by_id = bi;
	t->nbuckets = nb;
	for (i = 0; i < old; i++)
		for (n = oldid[i]; n != NULL; n = next) {
			size_t hk =
			    key_hash(t, n->e.number, strlen(n->e.number),
			        n->e.domain, strlen(n->e.domain));
			size_t hi = id_hash(t, n->e.ext_id);

			next = n->next_id;
			n->next_key = bk[hk];
			bk[hk] = n;
			n->next_id = bi[hi];
			bi[hi] = n;
		}
	free(oldid);
	return 0;
}

static int credtab_remove_locked(struct credtab *t, int64_t ext_id);

static int
credtab_put_locked(struct credtab *t, const struct cred_entry *e)
{
	struct cred_node *n;
	size_t hk, hi;

	credtab_remove_locked(t, e->ext_id);
	if (t->count >= t->nbuckets && credtab_grow(t) != 0 &&
	    t->count >= 4 * t->nbuckets)
		return ENOMEM;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return ENOMEM;
	n->e = *e;
	hk = key_hash(
	    t, e->number, strlen(e->number), e->domain, strlen(e->domain));
	hi = id_hash(t, e->ext_id);
	n->next_key = t->by_key[hk];
	t->by_key[hk] = n;
	n->next_id = t->by_id[hi];
	t->by_id[hi] = n;
	t->count++;
	return 0;
}

int
credtab_put(struct credtab *t, const struct cred_entry *e)
{
	int rc;

	pthread_rwlock_wrlock(&t->lock);
	rc = credtab_put_locked(t, e);
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

int
credtab_remove(struct credtab *t, int64_t ext_id)
{
	int rc;

	pthread_rwlock_wrlock(&t->lock);
	rc = credtab_remove_locked(t, ext_id);
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

static int
credtab_remove_locked(struct credtab *t, int64_t ext_id)
{
	struct cred_node **pp, *n = NULL;
	size_t hk;

	for (pp = &t->by_id[id_hash(t, ext_id)]; *pp != NULL;
	     pp = &(*pp)->next_id)
		if ((*pp)->e.ext_id == ext_id) {
			n = *pp;
			*pp = n->next_id;
			break;
		}
	if (n == NULL)
		return ENOENT;
	hk = key_hash(t, n->e.number, strlen(n->e.number), n->e.domain,
	    strlen(n->e.domain));
	for (pp = &t->by_key[hk]; *pp != NULL; pp = &(*pp)->next_key)
		if (*pp == n) {
			*pp = n->next_key;
			break;
		}
	sodium_memzero(n, sizeof(*n));
	free(n);
	t->count--;
	return 0;
}

const struct cred_entry *
credtab_find(const struct credtab *t, const char *number, size_t nlen,
    const char *domain, size_t dlen)
{
	const struct cred_node *n;

	for (n = t->by_key[key_hash(t, number, nlen, domain, dlen)]; n != NULL;
	     n = n->next_key)
		if (strlen(n->e.number) == nlen &&
		    memcmp(n->e.number, number, nlen) == 0 &&
		    strlen(n->e.domain) == dlen &&
		    memcmp(n->e.domain, domain, dlen) == 0)
			return &n->e;
	return NULL;
}

const struct cred_entry *
credtab_find_id(const struct credtab *t, int64_t ext_id)
{
	const struct cred_node *n;

	for (n = t->by_id[id_hash(t, ext_id)]; n != NULL; n = n->next_id)
		if (n->e.ext_id == ext_id)
			return &n->e;
	return NULL;
}

static size_t
dom_hash(const struct credtab *t, const char *d, size_t dlen)
{
	return key_hash(t, "", 0, d, dlen) % DOM_BUCKETS;
}

int
credtab_domain_put(struct credtab *t, const struct cred_domain *d)
{
	struct dom_node *n = calloc(1, sizeof(*n)), **pp;
	size_t i;

	if (n == NULL)
		return ENOMEM;
	n->d = *d;
	pthread_rwlock_wrlock(&t->lock);
	/* One domain per tenant: drop the tenant's old one. */
	for (i = 0; i < DOM_BUCKETS; i++)
		for (pp = &t->dom[i]; *pp != NULL;)
			if ((*pp)->d.tenant_id == d->tenant_id) {
				struct dom_node *old = *pp;

				*pp = old->next;
				free(old);
				t->ndom--;
			} else {
				pp = &(*pp)->next;
			}
	i = dom_hash(t, d->domain, strlen(d->domain));
	n->next = t->dom[i];
	t->dom[i] = n;
	t->ndom++;
	pthread_rwlock_unlock(&t->lock);
	return 0;
}

int
credtab_domain_of(struct credtab *t, int64_t tenant_id, struct cred_domain *out)
{
	const struct dom_node *dn;
	size_t i;
	int rc = ENOENT;

	pthread_rwlock_rdlock(&t->lock);
	for (i = 0; i < DOM_BUCKETS && rc != 0; i++)
		for (dn = t->dom[i]; dn != NULL; dn = dn->next)
			if (dn->d.tenant_id == tenant_id) {
				*out = dn->d;
				rc = 0;
				break;
			}
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

size_t
credtab_domain_count(struct credtab *t)
{
	size_t n;

	pthread_rwlock_rdlock(&t->lock);
	n = t->ndom;
	pthread_rwlock_unlock(&t->lock);
	return n;
}

int
credtab_pin(struct credtab *t, int64_t ext_id)
{
	struct cred_node *n;
	int rc = ENOENT;

	pthread_rwlock_wrlock(&t->lock);
	for (n = t->by_id[id_hash(t, ext_id)]; n != NULL; n = n->next_id)
		if (n->e.ext_id == ext_id) {
			n->e.tls_pinned = true;
			rc = 0;
			break;
		}
	pthread_rwlock_unlock(&t->lock);
	return rc;
}

int
credtab_lookup(struct credtab *t, const char *number, size_t nlen,
    const char *domain, size_t dlen, struct cred_entry *e,
    struct cred_domain *d)
{
	const struct cred_entry *found;
	const struct dom_node *dn;
	int bits = 0;

	pthread_rwlock_rdlock(&t->lock);
	for (dn = t->dom[dom_hash(t, domain, dlen)]; dn != NULL; dn = dn->next)
		if (strlen(dn->d.domain) == dlen &&
		    memcmp(dn->d.domain, domain, dlen) == 0) {
			bits |= 1;
			if (d != NULL)
				*d = dn->d;
			break;
		}
	found = credtab_find(t, number, nlen, domain, dlen);
	if (found != NULL) {
		bits |= 2;
		if (e != NULL)
			*e = *found;
	}
	pthread_rwlock_unlock(&t->lock);
	return bits;
}

/* The tenant's domain entry from its row: digest algorithms from its
 * settings ("md5", "sha256,md5"...). */
static void
domain_from_tenant(const struct store_tenant *tn, struct cred_domain *d)
{
	char buf[64];
	const char *p;

	memset(d, 0, sizeof(*d));
	d->tenant_id = tn->id;
	memcpy(d->domain, tn->domain, sizeof(d->domain));
	settings_get(tn->settings, settings_find(SETTINGS_TENANT, "digest"),
	    buf, sizeof(buf));
	for (p = buf; *p != '\0' && d->nalgs < CRED_ALGS_MAX;) {
		size_t n = strcspn(p, ",");

		if (n == 6 && strncmp(p, "sha256", 6) == 0)
			d->algs[d->nalgs++] = SIP_DIGEST_SHA256;
		else if (n == 3 && strncmp(p, "md5", 3) == 0)
			d->algs[d->nalgs++] = SIP_DIGEST_MD5;
		p += n;
		if (*p == ',')
			p++;
	}
	if (d->nalgs == 0) {
		d->algs[0] = SIP_DIGEST_MD5;
		d->nalgs = 1;
	}
	{
		char allow[STORE_SETTINGS_MAX], why[128];

		settings_get(tn->settings,
		    settings_find(SETTINGS_TENANT, "allow"), allow,
		    sizeof(allow));
		/* Checked when it was set; a bad one here allows nothing. */
		if (config_cidrs_parse(allow, d->allow, CONFIG_CIDR_MAX,
		        &d->allow_n, why, sizeof(why)) != 0) {
			log_warn("tenant %s: allow: %s: no phone may log in",
			    tn->name, why);
			d->allow_n = 1;
			memset(&d->allow[0], 0, sizeof(d->allow[0]));
			d->allow[0].family = AF_UNSPEC;
		}
	}
}

bool
cred_domain_allows(const struct cred_domain *d, const struct sockaddr *sa)
{
	size_t i;

	if (d->allow_n == 0)
		return true;
	for (i = 0; i < d->allow_n; i++)
		if (d->allow[i].family != AF_UNSPEC &&
		    config_cidr_match(&d->allow[i], sa))
			return true;
	return false;
}

int
credtab_load_ext(struct credtab *t, struct store *st, int64_t ext_id)
{
	struct store_tenant tn;
	struct store_secret sec;
	struct store_ext x;
	struct cred_entry e;
	int rc;

	rc = store_ext_get_by_id(st, ext_id, &x);
	if (rc == ENOENT) {
		credtab_remove(t, ext_id);
		return 0;
	}
	if (rc != 0 || (rc = store_tenant_get_by_id(st, x.tenant_id, &tn)) ||
	    (rc = store_secret_get(st, ext_id, &sec)))
		return rc;
	memset(&e, 0, sizeof(e));
	e.ext_id = x.id;
	e.tenant_id = x.tenant_id;
	e.enabled = x.enabled;
	{
		char v[32];

		settings_get(x.settings, settings_find(SETTINGS_EXT, "srtp"), v,
		    sizeof(v));
		if (v[0] == '\0' || strcmp(v, "inherit") == 0)
			settings_get(tn.settings,
			    settings_find(SETTINGS_TENANT, "srtp"), v,
			    sizeof(v));
		e.srtp_optional = strcmp(v, "optional") == 0;
	}
	{
		/* The transport pin: set by the bindings trigger of
		 * migration 0004, reset with `ext set ... pin=reset`; not
		 * one of settings_defs (it has no default to inherit). */
		static const struct settings_def pin = {
		    SETTINGS_EXT, "pin", "", NULL, NULL};
		char v[16];

		settings_get(x.settings, &pin, v, sizeof(v));
		e.tls_pinned = strcmp(v, "tls") == 0;
	}
	memcpy(e.number, x.number, sizeof(e.number));
	memcpy(e.domain, tn.domain, sizeof(e.domain));
	memcpy(e.ha1_md5, sec.ha1_md5, sizeof(e.ha1_md5));
	memcpy(e.ha1_sha256, sec.ha1_sha256, sizeof(e.ha1_sha256));
	sodium_memzero(&sec, sizeof(sec));
	rc = credtab_put(t, &e);
	sodium_memzero(&e, sizeof(e));
	return rc;
}

struct load_arg {
	struct credtab *t;
	const struct store_tenant *tn;
	struct store *st;
};

static int
load_ext_cb(void *arg, const struct store_ext *x)
{
	struct load_arg *a = arg;

	return credtab_load_ext(a->t, a->st, x->id);
}

int
credtab_load_tenant(struct credtab *t, struct store *st, int64_t tenant_id)
{
	struct load_arg a = {t, NULL, st};
	struct store_tenant tn;
	struct cred_domain d;
	size_t i;
	int rc;

	/* Drop what the tenant had, then load what it has. */
	pthread_rwlock_wrlock(&t->lock);
	for (i = 0; i < t->nbuckets; i++) {
		struct cred_node *n = t->by_id[i], *next;

		for (; n != NULL; n = next) {
			next = n->next_id;
			if (n->e.tenant_id == tenant_id)
				credtab_remove_locked(t, n->e.ext_id);
		}
	}
	pthread_rwlock_unlock(&t->lock);
	if ((rc = store_tenant_get_by_id(st, tenant_id, &tn)) != 0)
		return rc == ENOENT ? 0 : rc;
	domain_from_tenant(&tn, &d);
	if ((rc = credtab_domain_put(t, &d)) != 0)
		return rc;
	return store_ext_list(st, tenant_id, load_ext_cb, &a);
}

static int
load_tenant_cb(void *arg, const struct store_tenant *tn)
{
	struct load_arg *a = arg;
	struct cred_domain d;
	int rc;

	domain_from_tenant(tn, &d);
	if ((rc = credtab_domain_put(a->t, &d)) != 0)
		return rc;
	return store_ext_list(a->st, tn->id, load_ext_cb, a);
}

int
credtab_load_all(struct credtab *t, struct store *st)
{
	struct load_arg a = {t, NULL, st};

	return store_tenant_list(st, load_tenant_cb, &a);
}
