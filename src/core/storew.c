/* storew.c: see storew.h. */
#include "core/storew.h"
#include "lib/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum job_kind {
	JOB_BINDING_PUT,
	JOB_BINDING_DEL,
	JOB_EXT_SEEN,
	JOB_CALL,
	JOB_BAN
};

struct call_job {
	struct store_call c;
	size_t n;
	struct store_call_leg l[STOREW_LEGS_MAX];
};

struct job {
	enum job_kind kind;
	union {
		struct store_binding b;
		struct store_ext e;
		struct store_ban ban;
		struct call_job *call;
	} u;
	struct job *next;
};

struct storew {
	struct store *st;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond, done;
	struct job *head, *tail;
	size_t queued;
	uint64_t enq_seq, done_seq; /* for flush */
	bool stop;
	bool waiting; /* the writer sleeps on cond: a job must wake it */
	struct storew_stats stats;
};

static int
enqueue(struct storew *w, struct job *j)
{
	pthread_mutex_lock(&w->lock);
	if (w->queued >= STOREW_QUEUE_MAX || w->stop) {
		w->stats.dropped++;
		pthread_mutex_unlock(&w->lock);
		if (j->kind == JOB_CALL)
			free(j->u.call);
		free(j);
		return ENOBUFS;
	}
	j->next = NULL;
	if (w->tail != NULL)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	w->enq_seq++;
	/* A busy writer takes the job with its next batch: no wake-up (a
	 * futex call per REGISTER otherwise). */
	if (w->waiting)
		pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int
storew_binding_put(struct storew *w, const struct store_binding *b)
{
	struct job *j = malloc(sizeof(*j));

	if (j == NULL)
		return ENOMEM;
	j->kind = JOB_BINDING_PUT;
	j->u.b = *b;
	return enqueue(w, j);
}

int
storew_binding_del(struct storew *w, int64_t extension_id, const char *contact)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return ENOMEM;
	j->kind = JOB_BINDING_DEL;
	j->u.b.extension_id = extension_id;
	memcpy(j->u.b.contact, contact,
	    strnlen(contact, sizeof(j->u.b.contact) - 1));
	return enqueue(w, j);
}

int
storew_ext_seen(struct storew *w, const struct store_ext *e)
{
	struct job *j = malloc(sizeof(*j));

	if (j == NULL)
		return ENOMEM;
	j->kind = JOB_EXT_SEEN;
	j->u.e = *e;
	return enqueue(w, j);
}

int
storew_ban_put(struct storew *w, const struct store_ban *b)
{
	struct job *j = malloc(sizeof(*j));

	if (j == NULL)
		return ENOMEM;
	j->kind = JOB_BAN;
	j->u.ban = *b;
	return enqueue(w, j);
}

int
storew_call_put(struct storew *w, const struct store_call *c,
    const struct store_call_leg *legs, size_t nlegs)
{
	struct job *j = calloc(1, sizeof(*j));
	struct call_job *cj = calloc(1, sizeof(*cj));

	if (j == NULL || cj == NULL) {
		free(j);
		free(cj);
		return ENOMEM;
	}
	if (nlegs > STOREW_LEGS_MAX)
		nlegs = STOREW_LEGS_MAX;
	cj->c = *c;
	cj->n = nlegs;
	memcpy(cj->l, legs, nlegs * sizeof(*legs));
	j->kind = JOB_CALL;
	j->u.call = cj;
	return enqueue(w, j);
}

static int
call_apply(struct store *st, struct call_job *cj)
{
	size_t i;
	int rc;

	if ((rc = store_call_add(st, &cj->c)) != 0)
		return rc;
	for (i = 0; i < cj->n && rc == 0; i++) {
		cj->l[i].call_id = cj->c.id;
		cj->l[i].tenant_id = cj->c.tenant_id;
		rc = store_call_leg_add(st, &cj->l[i]);
	}
	return rc;
}

static int
job_apply(struct store *st, struct job *j)
{
	struct store_binding old;
	int rc;

	switch (j->kind) {
	case JOB_BAN:
		/* With a change row: every other node bans it too. */
		if ((rc = store_ban_upsert(st, &j->u.ban)) != 0)
			return rc;
		return store_change_add(st, 0, "ban", j->u.ban.id, "update");
	case JOB_CALL:
		rc = call_apply(st, j->u.call);
		free(j->u.call);
		return rc;
	case JOB_BINDING_PUT:
		return store_binding_upsert(st, &j->u.b);
	case JOB_BINDING_DEL:
		rc = store_binding_get(
		    st, j->u.b.extension_id, j->u.b.contact, &old);
		if (rc == ENOENT)
			return 0;
		return rc ? rc : store_binding_remove(st, old.id);
	case JOB_EXT_SEEN:
		return store_ext_seen(st, &j->u.e);
	}
	return EINVAL;
}

static void *
writer_main(void *arg)
{
	struct storew *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job *batch, *j, *next;
		uint64_t seq;
		size_t n = 0;

		while (w->head == NULL && !w->stop) {
			w->waiting = true;
			pthread_cond_wait(&w->cond, &w->lock);
			w->waiting = false;
		}
		if (w->head == NULL && w->stop)
			break;
		batch = w->head;
		w->head = w->tail = NULL;
		w->queued = 0;
		seq = w->enq_seq;
		pthread_mutex_unlock(&w->lock);

		/* One transaction per batch; a failed row is logged and
		 * skipped (a removed extension's late binding, say). */
		if (store_tx_begin(w->st) != 0)
			log_warn("store writer: %s", store_errmsg(w->st));
		for (j = batch; j != NULL; j = next) {
			next = j->next;
			if (job_apply(w->st, j) != 0) {
				log_debug(
				    "store writer: %s", store_errmsg(w->st));
				w->stats.failed++;
			} else {
				w->stats.written++;
			}
			n++;
			free(j);
		}
		if (store_tx_commit(w->st) != 0)
			log_warn(
			    "store writer: commit: %s", store_errmsg(w->st));
		pthread_mutex_lock(&w->lock);
		w->stats.batches++;
		w->done_seq = seq;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int
storew_start(const char *url, struct storew **out, char *err, size_t errsize)
{
	struct storew *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL)
		return ENOMEM;
	if ((rc = store_open(url, &w->st, err, errsize)) != 0) {
		free(w);
		return rc;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->done, NULL);
	if ((rc = pthread_create(&w->th, NULL, writer_main, w)) != 0) {
		store_close(w->st);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void
storew_flush(struct storew *w)
{
	uint64_t want;

	pthread_mutex_lock(&w->lock);
	want = w->enq_seq;
	while (w->done_seq < want)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void
storew_stop(struct storew *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->th, NULL);
	store_close(w->st);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->done);
	free(w);
}

void
storew_stats(struct storew *w, struct storew_stats *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
}
