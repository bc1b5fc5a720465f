/* regtab.c: see regtab.h. */
#include "call/regtab.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { REG_SHARDS = 64, REG_BUCKETS = 1024 };

struct reg_ext {
	int64_t ext_id;
	size_t n;
	struct reg_contact *c; /* n used of cap: most phones hold one */
	size_t cap;
	struct reg_ext *next;
};

struct reg_shard {
	pthread_mutex_t lock;
	struct reg_ext *b[REG_BUCKETS];
	size_t count; /* contacts */
};

struct regtab {
	struct reg_shard s[REG_SHARDS];
};

static uint64_t
mix(int64_t id)
{
	uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return x ^ (x >> 29);
}

static struct reg_shard *
shard_of(struct regtab *t, int64_t ext_id)
{
	return &t->s[mix(ext_id) % REG_SHARDS];
}

static struct reg_ext **
slot_of(struct reg_shard *s, int64_t ext_id)
{
	struct reg_ext **pp = &s->b[(mix(ext_id) >> 8) % REG_BUCKETS];

	while (*pp != NULL && (*pp)->ext_id != ext_id)
		pp = &(*pp)->next;
	return pp;
}

int
regtab_new(struct regtab **out)
{
	struct regtab *t = calloc(1, sizeof(*t));
	size_t i;

	if (t == NULL)
		return ENOMEM;
	for (i = 0; i < REG_SHARDS; i++)
		pthread_mutex_init(&t->s[i].lock, NULL);
	*out = t;
	return 0;
}

void
regtab_free(struct regtab *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < REG_SHARDS; i++) {
		for (j = 0; j < REG_BUCKETS; j++)
			while (t->s[i].b[j] != NULL) {
				struct reg_ext *e = t->s[i].b[j];

				t->s[i].b[j] = e->next;
				free(e->c);
				free(e);
			}
		pthread_mutex_destroy(&t->s[i].lock);
	}
	free(t);
}

static bool
same_binding(const struct reg_contact *a, const struct reg_contact *b)
{
	if (a->instance[0] != '\0' && b->instance[0] != '\0')
		return strcmp(a->instance, b->instance) == 0 &&
		       a->reg_id == b->reg_id;
	return strcmp(a->uri, b->uri) == 0;
}

/* Whether two socket addresses are the same address and port. */
static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
		                         *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a,
		                          *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
	return false;
}

/* Whether b refreshes a with nothing changed but the expiry (and the
 * CSeq): same source, flow, connection, Call-ID, agent, q. */
static bool
same_refresh(const struct reg_contact *a, const struct reg_contact *b)
{
	return a->has_flow && b->has_flow && same_addr(&a->src, &b->src) &&
	       a->flow.proto == b->flow.proto &&
	       a->flow.conn_id == b->flow.conn_id &&
	       a->flow.peerlen == b->flow.peerlen &&
	       memcmp(&a->flow.peer, &b->flow.peer, a->flow.peerlen) == 0 &&
	       a->q == b->q && strcmp(a->call_id, b->call_id) == 0 &&
	       strcmp(a->user_agent, b->user_agent) == 0 &&
	       strcmp(a->uri, b->uri) == 0;
}

static void
ext_drop(struct reg_ext **pp)
{
	struct reg_ext *e = *pp;

	*pp = e->next;
	free(e->c);
	free(e);
}

/* Removes contact i of e (keeps order). */
static void
contact_drop(struct reg_shard *s, struct reg_ext *e, size_t i)
{
	memmove(&e->c[i], &e->c[i + 1], (e->n - i - 1) * sizeof(e->c[0]));
	e->n--;
	s->count--;
}

/* regtab_update with the shard's lock held. */
static int
update_locked(struct reg_shard *s, int64_t ext_id, const struct reg_contact *c,
    int64_t now_us, bool *write)
{
	struct reg_ext **pp, *e;
	size_t i;
	int rc = 0;

	pp = slot_of(s, ext_id);
	e = *pp;
	if (e == NULL) {
		if (c->expires_us == 0)
			goto out;
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			rc = ENOMEM;
			goto out;
		}
		e->ext_id = ext_id;
		*pp = e;
	}
	/* Expired contacts make room first. */
	for (i = 0; i < e->n;)
		if (e->c[i].expires_us <= now_us)
			contact_drop(s, e, i);
		else
			i++;
	for (i = 0; i < e->n; i++)
		if (same_binding(&e->c[i], c))
			break;
	if (i < e->n) {
		if (strcmp(e->c[i].call_id, c->call_id) == 0 &&
		    c->cseq <= e->c[i].cseq) {
			rc = EALREADY;
			goto out;
		}
		if (c->expires_us == 0) {
			contact_drop(s, e, i);
		} else {
			int64_t stored = e->c[i].stored_us;
			bool keep =
			    same_refresh(&e->c[i], c) &&
			    stored - now_us >= (c->expires_us - now_us) / 4 * 3;

			e->c[i] = *c;
			e->c[i].stored_us = keep ? stored : c->expires_us;
			if (write != NULL)
				*write = !keep;
		}
	} else if (c->expires_us != 0) {
		if (e->n == REG_CONTACTS_MAX) {
			rc = ENOSPC;
			goto out;
		}
		if (e->n == e->cap) {
			size_t nc = e->cap ? e->cap * 2 : 1;
			struct reg_contact *na;

			if (nc > REG_CONTACTS_MAX)
				nc = REG_CONTACTS_MAX;
			if ((na = realloc(e->c, nc * sizeof(*na))) == NULL) {
				rc = ENOMEM;
				goto out;
			}
			e->c = na;
			e->cap = nc;
		}
		e->c[e->n] = *c;
		e->c[e->n++].stored_us = c->expires_us;
		s->count++;
	}
	if (e->n == 0)
		ext_drop(slot_of(s, ext_id));
out:
	return rc;
}

int
regtab_update(struct regtab *t, int64_t ext_id, const struct reg_contact *c,
    int64_t now_us)
{
	struct reg_shard *s = shard_of(t, ext_id);
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = update_locked(s, ext_id, c, now_us, NULL);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
regtab_update_all(struct regtab *t, int64_t ext_id,
    const struct reg_contact *cs, size_t n, int64_t now_us, bool *write)
{
	struct reg_shard *s = shard_of(t, ext_id);
	struct reg_ext *e;
	size_t i, j, count;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	e = *slot_of(s, ext_id);
	/* Check every contact against the unexpired bindings first. */
	count = 0;
	for (j = 0; e != NULL && j < e->n; j++)
		if (e->c[j].expires_us > now_us)
			count++;
	for (i = 0; i < n && rc == 0; i++) {
		bool found = false;

		for (j = 0; e != NULL && j < e->n && !found; j++) {
			if (e->c[j].expires_us <= now_us ||
			    !same_binding(&e->c[j], &cs[i]))
				continue;
			found = true;
			if (strcmp(e->c[j].call_id, cs[i].call_id) == 0 &&
			    cs[i].cseq <= e->c[j].cseq)
				rc = EALREADY;
		}
		if (found && cs[i].expires_us == 0)
			count--;
		else if (!found && cs[i].expires_us != 0)
			count++;
	}
	if (rc == 0 && count > REG_CONTACTS_MAX)
		rc = ENOSPC;
	/* Then apply them all, under the same lock. */
	for (i = 0; i < n && rc == 0; i++) {
		if (write != NULL)
			write[i] = true;
		rc = update_locked(s, ext_id, &cs[i], now_us,
		    write != NULL ? &write[i] : NULL);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int
regtab_remove_all(
    struct regtab *t, int64_t ext_id, const char *call_id, uint32_t cseq)
{
	struct reg_shard *s = shard_of(t, ext_id);
	struct reg_ext **pp;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	pp = slot_of(s, ext_id);
	if (*pp != NULL) {
		for (i = 0; i < (*pp)->n; i++)
			if (strcmp((*pp)->c[i].call_id, call_id) == 0 &&
			    cseq <= (*pp)->c[i].cseq)
				rc = EALREADY;
		if (rc == 0) {
			s->count -= (*pp)->n;
			ext_drop(pp);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

size_t
regtab_get(struct regtab *t, int64_t ext_id, int64_t now_us,
    struct reg_contact *out, size_t max)
{
	struct reg_shard *s = shard_of(t, ext_id);
	struct reg_ext *e;
	size_t i, n = 0;

	pthread_mutex_lock(&s->lock);
	e = *slot_of(s, ext_id);
	for (i = 0; e != NULL && i < e->n && n < max; i++)
		if (e->c[i].expires_us > now_us)
			out[n++] = e->c[i];
	pthread_mutex_unlock(&s->lock);
	/* Highest q first (insertion sort: n <= 10). */
	for (i = 1; i < n; i++) {
		struct reg_contact tmp = out[i];
		size_t j = i;

		for (; j > 0 && out[j - 1].q < tmp.q; j--)
			out[j] = out[j - 1];
		out[j] = tmp;
	}
	return n;
}

void
regtab_expire(struct regtab *t, int64_t now_us,
    void (*cb)(void *arg, int64_t ext_id, const struct reg_contact *c),
    void *arg)
{
	size_t si, b, i;

	for (si = 0; si < REG_SHARDS; si++) {
		struct reg_shard *s = &t->s[si];

		pthread_mutex_lock(&s->lock);
		for (b = 0; b < REG_BUCKETS; b++) {
			struct reg_ext **pp = &s->b[b];

			while (*pp != NULL) {
				struct reg_ext *e = *pp;

				for (i = 0; i < e->n;)
					if (e->c[i].expires_us <= now_us) {
						if (cb != NULL)
							cb(arg, e->ext_id,
							    &e->c[i]);
						contact_drop(s, e, i);
					} else {
						i++;
					}
				if (e->n == 0)
					ext_drop(pp);
				else
					pp = &e->next;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
}

void
regtab_flow_gone(struct regtab *t, int worker, uint64_t conn_id)
{
	size_t si, b, i;

	for (si = 0; si < REG_SHARDS; si++) {
		struct reg_shard *s = &t->s[si];

		pthread_mutex_lock(&s->lock);
		for (b = 0; b < REG_BUCKETS; b++) {
			struct reg_ext *e;

			for (e = s->b[b]; e != NULL; e = e->next)
				for (i = 0; i < e->n; i++)
					if (e->c[i].has_flow &&
					    e->c[i].flow.proto != TP_UDP &&
					    e->c[i].flow.worker == worker &&
					    e->c[i].flow.conn_id == conn_id)
						e->c[i].has_flow = false;
		}
		pthread_mutex_unlock(&s->lock);
	}
}

size_t
regtab_count(struct regtab *t)
{
	size_t si, n = 0;

	for (si = 0; si < REG_SHARDS; si++) {
		pthread_mutex_lock(&t->s[si].lock);
		n += t->s[si].count;
		pthread_mutex_unlock(&t->s[si].lock);
	}
	return n;
}
