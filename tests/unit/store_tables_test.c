/* store_tables_test.c: unit tests of the store's tables for later parts
 * (src/store/tables.c): bindings, trunks, numbers, devices, admins, calls
 * and call legs, bans, alerts, on a fresh SQLite store per test. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "lib/util.h"

/* Copies a string into a fixed buffer. */
#define SET(f, s) snprintf((f), sizeof(f), "%s", (s))

enum { IDS_MAX = 32, SEC = 1000000 };

struct fixture {
	char dir[64];
	struct store *st;
	int64_t now;
	int64_t t1, t2; /* tenants "acme" and "beta" */
	int64_t e1, e2; /* extension 100 of acme, 200 of beta */
};

static void
secret_fill(struct store_secret *sec, unsigned char seed)
{
	memset(sec, 0, sizeof(*sec));
	SET(sec->key_id, "k1");
	sec->box_len = 40;
	memset(sec->box, seed, sec->box_len);
	memset(sec->khash, seed + 1, sizeof(sec->khash));
	memset(sec->ha1_md5, 'a', 32);
	memset(sec->ha1_sha256, 'b', 64);
}

static int64_t
tenant_make(struct store *st, const char *name, const char *domain)
{
	struct store_tenant t;

	memset(&t, 0, sizeof(t));
	SET(t.name, name);
	SET(t.domain, domain);
	SET(t.timezone, "UTC");
	SET(t.currency, "EUR");
	assert_int_equal(store_tenant_add(st, &t), 0);
	return t.id;
}

static int64_t
ext_make(
    struct store *st, int64_t tenant_id, const char *number, unsigned char seed)
{
	struct store_ext e;
	struct store_secret sec;

	memset(&e, 0, sizeof(e));
	e.tenant_id = tenant_id;
	SET(e.number, number);
	SET(e.display_name, "Someone");
	e.enabled = true;
	secret_fill(&sec, seed);
	assert_int_equal(store_ext_add(st, &e, &sec), 0);
	return e.id;
}

static int
fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char url[128], err[256];

	assert_non_null(f);
	SET(f->dir, "/tmp/store_tables_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", f->dir);
	err[0] = '\0';
	if (store_open(url, &f->st, err, sizeof(err)) != 0)
		fail_msg("store_open: %s", err);
	f->now = util_now_us();
	f->t1 = tenant_make(f->st, "acme", "acme.example");
	f->t2 = tenant_make(f->st, "beta", "beta.example");
	f->e1 = ext_make(f->st, f->t1, "100", 1);
	f->e2 = ext_make(f->st, f->t2, "200", 2);
	*state = f;
	return 0;
}

/* Closes the store and removes its files, then the folder. */
static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;
	struct dirent *de;
	DIR *d;

	store_close(f->st);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Ids collected by a list walk; the walk stops with stop_rc after
 * stop_after rows when stop_after > 0. */
struct ids {
	int64_t id[IDS_MAX];
	size_t n;
	size_t stop_after;
	int stop_rc;
};

static int
ids_push(struct ids *ids, int64_t id)
{
	assert_true(ids->n < IDS_MAX);
	ids->id[ids->n++] = id;
	if (ids->stop_after > 0 && ids->n >= ids->stop_after)
		return ids->stop_rc;
	return 0;
}

#define IDS_CB(name, type)                                                     \
	static int name(void *arg, const struct type *r)                       \
	{                                                                      \
		return ids_push(arg, r->id);                                   \
	}

IDS_CB(binding_ids_cb, store_binding)
IDS_CB(trunk_ids_cb, store_trunk)
IDS_CB(number_ids_cb, store_number)
IDS_CB(device_ids_cb, store_device)
IDS_CB(admin_ids_cb, store_admin)
IDS_CB(call_ids_cb, store_call)
IDS_CB(leg_ids_cb, store_call_leg)
IDS_CB(ban_ids_cb, store_ban)
IDS_CB(alert_ids_cb, store_alert)

static void
ids_expect(const struct ids *ids, size_t n, ...)
{
	va_list ap;
	size_t i;

	assert_int_equal(ids->n, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_int_equal(ids->id[i], va_arg(ap, int64_t));
	va_end(ap);
}

static void
sealed_fill(
    struct store_sealed *s, const char *key_id, unsigned char seed, size_t len)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	SET(s->key_id, key_id);
	for (i = 0; i < len; i++)
		s->box[i] = (unsigned char)(seed + i);
	s->box_len = len;
}

static void
sealed_eq(const struct store_sealed *a, const struct store_sealed *b)
{
	assert_string_equal(a->key_id, b->key_id);
	assert_int_equal(a->box_len, b->box_len);
	assert_memory_equal(a->box, b->box, a->box_len);
}

/* The change log's newest entry. */
struct last_change {
	struct store_change c;
	size_t n;
};

static int
last_change_cb(void *arg, const struct store_change *c)
{
	struct last_change *l = arg;

	l->c = *c;
	l->n++;
	return 0;
}

static void
change_expect(struct store *st, int64_t after, int64_t tenant_id,
    const char *kind, int64_t object_id, const char *op)
{
	struct last_change l = {.n = 0};

	assert_int_equal(
	    store_change_since(st, after, 100, last_change_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.c.tenant_id, tenant_id);
	assert_string_equal(l.c.kind, kind);
	assert_int_equal(l.c.object_id, object_id);
	assert_string_equal(l.c.op, op);
}

/* ---- bindings ---- */

static void
binding_fill(struct store_binding *b, int64_t extension_id, const char *contact,
    int64_t expires_us)
{
	memset(b, 0, sizeof(*b));
	b->extension_id = extension_id;
	SET(b->node, "node-a");
	SET(b->contact, contact);
	SET(b->instance, "<urn:uuid:00000000-0000-1000-8000-000a95a0e128>");
	b->reg_id = 1;
	SET(b->source, "tls:192.0.2.10:50123");
	SET(b->transport, "tls");
	SET(b->user_agent, "Yealink SIP-T54W");
	SET(b->call_id, "a84b4c76e66710@pc33.example");
	b->cseq = 314159;
	b->expires_us = expires_us;
}

static void
binding_eq(const struct store_binding *a, const struct store_binding *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_int_equal(a->extension_id, b->extension_id);
	assert_string_equal(a->node, b->node);
	assert_string_equal(a->contact, b->contact);
	assert_string_equal(a->instance, b->instance);
	assert_int_equal(a->reg_id, b->reg_id);
	assert_string_equal(a->source, b->source);
	assert_string_equal(a->transport, b->transport);
	assert_string_equal(a->user_agent, b->user_agent);
	assert_string_equal(a->call_id, b->call_id);
	assert_int_equal(a->cseq, b->cseq);
	assert_int_equal(a->expires_us, b->expires_us);
	assert_int_equal(a->created_us, b->created_us);
}

static void
test_binding_crud(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_binding b, got, b2;
	struct ids ids = {.n = 0};

	binding_fill(&b, f->e1, "sip:100@192.0.2.10:50123;transport=tls",
	    f->now + 3600 * (int64_t)SEC);
	assert_int_equal(store_binding_add(st, &b), 0);
	assert_true(b.id > 0);
	assert_int_equal(b.tenant_id, f->t1); /* taken from the extension */
	assert_true(b.created_us > 0);

	assert_int_equal(store_binding_get_by_id(st, b.id, &got), 0);
	binding_eq(&b, &got);
	assert_int_equal(got.updated_us, b.updated_us);
	assert_int_equal(store_binding_get(st, f->e1, b.contact, &got), 0);
	binding_eq(&b, &got);

	/* the same extension and contact again */
	binding_fill(&b2, f->e1, b.contact, f->now);
	assert_int_equal(store_binding_add(st, &b2), EEXIST);
	assert_int_equal(b2.id, 0); /* untouched on failure */

	/* update; empty nullable columns come back empty */
	SET(b.node, "node-b");
	b.instance[0] = '\0';
	b.reg_id = 0;
	b.user_agent[0] = '\0';
	SET(b.source, "tls:192.0.2.11:50200");
	b.cseq++;
	b.expires_us += 60 * (int64_t)SEC;
	assert_int_equal(store_binding_update(st, &b), 0);
	assert_int_equal(store_binding_get_by_id(st, b.id, &got), 0);
	binding_eq(&b, &got);
	assert_true(got.updated_us >= b.updated_us);

	/* a second contact; lists by extension and by node */
	binding_fill(&b2, f->e1, "sip:100@198.51.100.7:5061;transport=tls",
	    f->now + 60 * (int64_t)SEC);
	assert_int_equal(store_binding_add(st, &b2), 0);
	assert_int_equal(
	    store_binding_list(st, f->e1, binding_ids_cb, &ids), 0);
	ids_expect(&ids, 2, b.id, b2.id);
	ids.n = 0;
	assert_int_equal(
	    store_binding_list_node(st, "node-a", binding_ids_cb, &ids), 0);
	ids_expect(&ids, 1, b2.id);
	ids.n = 0;
	assert_int_equal(
	    store_binding_list(st, f->e2, binding_ids_cb, &ids), 0);
	ids_expect(&ids, 0);

	/* a walk stopped by its callback returns the callback's code */
	ids.n = 0;
	ids.stop_after = 1;
	ids.stop_rc = 42;
	assert_int_equal(
	    store_binding_list(st, f->e1, binding_ids_cb, &ids), 42);
	ids_expect(&ids, 1, b.id);

	/* remove */
	assert_int_equal(store_binding_remove(st, b2.id), 0);
	assert_int_equal(store_binding_get_by_id(st, b2.id, &got), ENOENT);
	assert_int_equal(store_binding_remove(st, b2.id), ENOENT);
}

static void
test_binding_missing_and_refs(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_binding b, got;

	assert_int_equal(store_binding_get_by_id(st, 999, &got), ENOENT);
	assert_int_equal(store_binding_get(st, f->e1, "sip:x@y", &got), ENOENT);
	binding_fill(&b, f->e1, "sip:100@192.0.2.1", f->now);
	b.id = 999;
	assert_int_equal(store_binding_update(st, &b), ENOENT);
	assert_int_equal(store_binding_remove(st, 999), ENOENT);

	/* no such extension; an extension of another tenant */
	binding_fill(&b, 999, "sip:100@192.0.2.1", f->now);
	assert_int_equal(store_binding_add(st, &b), EINVAL);
	assert_int_equal(store_binding_upsert(st, &b), EINVAL);
	binding_fill(&b, f->e2, "sip:200@192.0.2.1", f->now);
	b.tenant_id = f->t1;
	assert_int_equal(store_binding_add(st, &b), EINVAL);
	assert_int_equal(store_binding_upsert(st, &b), EINVAL);
	b.tenant_id = f->t2; /* the right one is fine */
	assert_int_equal(store_binding_add(st, &b), 0);
}

static void
test_binding_upsert(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_binding b, again, got;
	struct ids ids = {.n = 0};

	binding_fill(&b, f->e1, "sip:100@192.0.2.10:5061", f->now + SEC);
	assert_int_equal(store_binding_upsert(st, &b), 0);
	assert_true(b.id > 0);
	assert_int_equal(b.tenant_id, f->t1);

	/* a refresh: same id and created_us, new values */
	binding_fill(&again, f->e1, b.contact, f->now + 7200 * (int64_t)SEC);
	SET(again.node, "node-z");
	again.cseq = b.cseq + 1;
	again.user_agent[0] = '\0';
	again.created_us = 1; /* ignored */
	assert_int_equal(store_binding_upsert(st, &again), 0);
	assert_int_equal(again.id, b.id);
	assert_int_equal(again.created_us, b.created_us);
	assert_int_equal(store_binding_get_by_id(st, b.id, &got), 0);
	binding_eq(&again, &got);
	assert_string_equal(got.node, "node-z");
	assert_string_equal(got.user_agent, "");
	assert_int_equal(got.expires_us, f->now + 7200 * (int64_t)SEC);

	/* another contact is another binding */
	binding_fill(&again, f->e1, "sip:100@192.0.2.99:5061", f->now + SEC);
	assert_int_equal(store_binding_upsert(st, &again), 0);
	assert_true(again.id != b.id);
	assert_int_equal(
	    store_binding_list(st, f->e1, binding_ids_cb, &ids), 0);
	ids_expect(&ids, 2, b.id, again.id);
}

static void
test_binding_expire_and_cascade(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_binding b1, b2, b3, got;
	struct ids ids = {.n = 0};
	int64_t removed = -1;

	binding_fill(&b1, f->e1, "sip:100@192.0.2.1", f->now - SEC);
	binding_fill(&b2, f->e1, "sip:100@192.0.2.2", f->now);
	binding_fill(&b3, f->e1, "sip:100@192.0.2.3", f->now + SEC);
	assert_int_equal(store_binding_add(st, &b1), 0);
	assert_int_equal(store_binding_add(st, &b2), 0);
	assert_int_equal(store_binding_add(st, &b3), 0);

	/* expires_us <= now is expired */
	assert_int_equal(store_binding_expire(st, f->now, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(
	    store_binding_list(st, f->e1, binding_ids_cb, &ids), 0);
	ids_expect(&ids, 1, b3.id);
	assert_int_equal(store_binding_expire(st, f->now, NULL), 0);
	assert_int_equal(store_binding_expire(st, f->now, &removed), 0);
	assert_int_equal(removed, 0);

	/* removing the extension removes its bindings */
	assert_int_equal(store_ext_remove(st, f->e1), 0);
	assert_int_equal(store_binding_get_by_id(st, b3.id, &got), ENOENT);
}

/* ---- trunks ---- */

static void
trunk_fill(struct store_trunk *t, int64_t tenant_id, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->tenant_id = tenant_id;
	SET(t->name, name);
	SET(t->host, "sip.carrier.example");
	t->port = 5061;
	SET(t->transport, "tls");
	SET(t->addresses, "192.0.2.0/24, 2001:db8::/32");
	SET(t->auth_user, "acct-123");
	sealed_fill(&t->auth, "k1", 7, 56);
	t->enabled = true;
	SET(t->settings, "{\"codecs\":\"opus,g722\"}");
}

static void
trunk_eq(const struct store_trunk *a, const struct store_trunk *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->host, b->host);
	assert_int_equal(a->port, b->port);
	assert_string_equal(a->transport, b->transport);
	assert_string_equal(a->addresses, b->addresses);
	assert_string_equal(a->auth_user, b->auth_user);
	sealed_eq(&a->auth, &b->auth);
	assert_int_equal(a->enabled, b->enabled);
	assert_string_equal(a->settings, b->settings);
	assert_int_equal(a->created_us, b->created_us);
}

static void
test_trunk_crud(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_trunk t, shared, got;
	struct ids ids = {.n = 0};
	int64_t seq, after;

	assert_int_equal(store_change_last(st, &seq), 0);
	trunk_fill(&t, f->t1, "acme-out");
	assert_int_equal(store_trunk_add(st, &t), 0);
	assert_true(t.id > 0);
	change_expect(st, seq, f->t1, "trunk", t.id, "add");
	assert_int_equal(store_trunk_get_by_id(st, t.id, &got), 0);
	trunk_eq(&t, &got);
	assert_int_equal(store_trunk_get(st, "acme-out", &got), 0);
	trunk_eq(&t, &got);

	/* a shared trunk with the defaults and no authentication */
	memset(&shared, 0, sizeof(shared));
	SET(shared.name, "provider-a");
	SET(shared.host, "192.0.2.50");
	assert_int_equal(store_change_last(st, &seq), 0);
	assert_int_equal(store_trunk_add(st, &shared), 0);
	change_expect(st, seq, 0, "trunk", shared.id, "add");
	assert_int_equal(store_trunk_get(st, "provider-a", &got), 0);
	assert_int_equal(got.tenant_id, 0);
	assert_int_equal(got.port, 5061);
	assert_string_equal(got.transport, "tls");
	assert_string_equal(got.settings, "{}");
	assert_string_equal(got.auth_user, "");
	assert_int_equal(got.auth.box_len, 0);
	assert_string_equal(got.auth.key_id, "");
	assert_false(got.enabled);

	/* names are unique across tenants */
	trunk_fill(&got, f->t2, "acme-out");
	assert_int_equal(store_trunk_add(st, &got), EEXIST);

	/* update: drop the authentication, change the rest */
	assert_int_equal(store_change_last(st, &seq), 0);
	SET(t.host, "sip2.carrier.example");
	t.port = 5080;
	SET(t.transport, "tcp");
	SET(t.addresses, "203.0.113.0/24");
	t.auth_user[0] = '\0';
	memset(&t.auth, 0, sizeof(t.auth));
	t.enabled = false;
	SET(t.settings, "{\"cps\":5}");
	assert_int_equal(store_trunk_update(st, &t), 0);
	change_expect(st, seq, f->t1, "trunk", t.id, "update");
	assert_int_equal(store_trunk_get_by_id(st, t.id, &got), 0);
	trunk_eq(&t, &got);

	/* and put a new sealed password back */
	sealed_fill(&t.auth, "k2", 99, STORE_BOX_MAX);
	SET(t.auth_user, "acct-456");
	assert_int_equal(store_trunk_update(st, &t), 0);
	assert_int_equal(store_trunk_get_by_id(st, t.id, &got), 0);
	trunk_eq(&t, &got);

	/* lists: every trunk, the shared ones, a tenant's */
	assert_int_equal(
	    store_trunk_list(st, STORE_TENANT_ALL, trunk_ids_cb, &ids), 0);
	ids_expect(&ids, 2, t.id, shared.id); /* by name */
	ids.n = 0;
	assert_int_equal(store_trunk_list(st, 0, trunk_ids_cb, &ids), 0);
	ids_expect(&ids, 1, shared.id);
	ids.n = 0;
	assert_int_equal(store_trunk_list(st, f->t1, trunk_ids_cb, &ids), 0);
	ids_expect(&ids, 1, t.id);
	ids.n = 0;
	assert_int_equal(store_trunk_list(st, f->t2, trunk_ids_cb, &ids), 0);
	ids_expect(&ids, 0);
	assert_int_equal(store_trunk_list(st, -5, trunk_ids_cb, &ids), EINVAL);

	/* remove */
	assert_int_equal(store_change_last(st, &seq), 0);
	assert_int_equal(store_trunk_remove(st, t.id), 0);
	change_expect(st, seq, f->t1, "trunk", t.id, "remove");
	assert_int_equal(store_trunk_get_by_id(st, t.id, &got), ENOENT);
	assert_int_equal(store_trunk_get(st, "acme-out", &got), ENOENT);
	/* a failed change logs nothing */
	assert_int_equal(store_change_last(st, &seq), 0);
	assert_int_equal(store_trunk_remove(st, t.id), ENOENT);
	assert_int_equal(store_trunk_update(st, &t), ENOENT);
	assert_int_equal(store_change_last(st, &after), 0);
	assert_int_equal(after, seq);
}

static void
test_trunk_bad(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_trunk t, got;
	int64_t seq, after;

	assert_int_equal(store_change_last(st, &seq), 0);
	trunk_fill(&t, f->t1, "bad");
	t.port = 70000;
	assert_int_equal(store_trunk_add(st, &t), EINVAL);
	t.port = -1;
	assert_int_equal(store_trunk_add(st, &t), EINVAL);
	trunk_fill(&t, f->t1, "bad");
	t.auth.key_id[0] = '\0'; /* a box without its key */
	assert_int_equal(store_trunk_add(st, &t), EINVAL);
	trunk_fill(&t, f->t1, "bad");
	t.auth.box_len = STORE_BOX_MAX + 1;
	assert_int_equal(store_trunk_add(st, &t), EINVAL);
	trunk_fill(&t, 999, "bad"); /* no such tenant */
	assert_int_equal(store_trunk_add(st, &t), EINVAL);
	assert_int_equal(store_trunk_get(st, "bad", &got), ENOENT);
	/* nothing reached the change log */
	assert_int_equal(store_change_last(st, &after), 0);
	assert_int_equal(after, seq);

	/* inside an outer transaction that rolls back, nothing stays */
	assert_int_equal(store_tx_begin(st), 0);
	trunk_fill(&t, f->t1, "ghost");
	assert_int_equal(store_trunk_add(st, &t), 0);
	store_tx_rollback(st);
	assert_int_equal(store_trunk_get(st, "ghost", &got), ENOENT);
	assert_int_equal(store_change_last(st, &after), 0);
	assert_int_equal(after, seq);
}

/* ---- numbers ---- */

static void
number_eq(const struct store_number *a, const struct store_number *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_int_equal(a->trunk_id, b->trunk_id);
	assert_string_equal(a->e164, b->e164);
	assert_string_equal(a->destination, b->destination);
	assert_int_equal(a->created_us, b->created_us);
}

static void
test_number_crud(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_trunk own, shared, other;
	struct store_number n, n2, got;
	struct ids ids = {.n = 0};

	trunk_fill(&own, f->t1, "acme-trunk");
	trunk_fill(&shared, 0, "shared-trunk");
	trunk_fill(&other, f->t2, "beta-trunk");
	assert_int_equal(store_trunk_add(st, &own), 0);
	assert_int_equal(store_trunk_add(st, &shared), 0);
	assert_int_equal(store_trunk_add(st, &other), 0);

	memset(&n, 0, sizeof(n));
	n.tenant_id = f->t1;
	n.trunk_id = own.id;
	SET(n.e164, "+4930123456789");
	SET(n.destination, "ext:100");
	assert_int_equal(store_number_add(st, &n), 0);
	assert_true(n.id > 0);
	assert_int_equal(store_number_get_by_id(st, n.id, &got), 0);
	number_eq(&n, &got);
	assert_int_equal(store_number_get(st, "+4930123456789", &got), 0);
	number_eq(&n, &got);

	/* unique e164, even in another tenant */
	n2 = n;
	n2.id = 0;
	n2.tenant_id = f->t2;
	n2.trunk_id = 0;
	assert_int_equal(store_number_add(st, &n2), EEXIST);
	/* another tenant's trunk, a missing trunk, a missing tenant */
	SET(n2.e164, "+4930999");
	n2.tenant_id = f->t1;
	n2.trunk_id = other.id;
	assert_int_equal(store_number_add(st, &n2), EINVAL);
	n2.trunk_id = 9999;
	assert_int_equal(store_number_add(st, &n2), EINVAL);
	n2.trunk_id = 0;
	n2.tenant_id = 9999;
	assert_int_equal(store_number_add(st, &n2), EINVAL);
	/* a shared trunk is fine; no trunk is fine */
	n2.tenant_id = f->t1;
	n2.trunk_id = shared.id;
	SET(n2.destination, "ivr:main");
	assert_int_equal(store_number_add(st, &n2), 0);

	/* update */
	n.trunk_id = 0;
	SET(n.destination, "ext:101");
	assert_int_equal(store_number_update(st, &n), 0);
	assert_int_equal(store_number_get_by_id(st, n.id, &got), 0);
	number_eq(&n, &got);
	n.trunk_id = other.id;
	assert_int_equal(store_number_update(st, &n), EINVAL);
	n.trunk_id = own.id;
	assert_int_equal(store_number_update(st, &n), 0);
	got = n;
	got.id = 9999;
	assert_int_equal(store_number_update(st, &got), ENOENT);

	/* list, by e164 */
	assert_int_equal(store_number_list(st, f->t1, number_ids_cb, &ids), 0);
	ids_expect(&ids, 2, n.id, n2.id);
	ids.n = 0;
	assert_int_equal(store_number_list(st, f->t2, number_ids_cb, &ids), 0);
	ids_expect(&ids, 0);
	assert_int_equal(
	    store_number_list(st, STORE_TENANT_ALL, number_ids_cb, &ids), 0);
	ids_expect(&ids, 2, n.id, n2.id);

	/* removing a trunk leaves its numbers without one */
	assert_int_equal(store_trunk_remove(st, own.id), 0);
	assert_int_equal(store_number_get_by_id(st, n.id, &got), 0);
	assert_int_equal(got.trunk_id, 0);

	/* remove */
	assert_int_equal(store_number_remove(st, n.id), 0);
	assert_int_equal(store_number_get(st, "+4930123456789", &got), ENOENT);
	assert_int_equal(store_number_remove(st, n.id), ENOENT);
	assert_int_equal(store_number_get_by_id(st, n.id, &got), ENOENT);
}

/* Every mutation of a number goes to the change log (kind "number");
 * a failed one, or one rolled back with its caller's transaction, to
 * nothing. */
static void
test_number_changes(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_number n, dup;
	int64_t seq, after;

	memset(&n, 0, sizeof(n));
	n.tenant_id = f->t1;
	SET(n.e164, "+4930555000");
	SET(n.destination, "ext:100");
	assert_int_equal(store_change_last(st, &seq), 0);
	assert_int_equal(store_number_add(st, &n), 0);
	change_expect(st, seq, f->t1, "number", n.id, "add");

	assert_int_equal(store_change_last(st, &seq), 0);
	SET(n.destination, "ext:101");
	assert_int_equal(store_number_update(st, &n), 0);
	change_expect(st, seq, f->t1, "number", n.id, "update");

	assert_int_equal(store_change_last(st, &seq), 0);
	dup = n;
	dup.id = 0;
	dup.tenant_id = f->t2;
	assert_int_equal(store_number_add(st, &dup), EEXIST);
	dup.id = 9999;
	assert_int_equal(store_number_update(st, &dup), ENOENT);
	assert_int_equal(store_number_remove(st, 9999), ENOENT);
	assert_int_equal(store_change_last(st, &after), 0);
	assert_int_equal(after, seq);

	assert_int_equal(store_tx_begin(st), 0);
	assert_int_equal(store_number_remove(st, n.id), 0);
	store_tx_rollback(st);
	assert_int_equal(store_number_get_by_id(st, n.id, &dup), 0);
	assert_int_equal(store_change_last(st, &after), 0);
	assert_int_equal(after, seq);

	assert_int_equal(store_number_remove(st, n.id), 0);
	change_expect(st, seq, f->t1, "number", n.id, "remove");
}

/* ---- devices ---- */

static void
device_eq(const struct store_device *a, const struct store_device *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_int_equal(a->extension_id, b->extension_id);
	assert_string_equal(a->mac, b->mac);
	assert_string_equal(a->vendor, b->vendor);
	assert_string_equal(a->model, b->model);
	assert_string_equal(a->firmware_seen, b->firmware_seen);
	sealed_eq(&a->admin_password, &b->admin_password);
	assert_int_equal(a->last_provisioned_us, b->last_provisioned_us);
	assert_int_equal(a->created_us, b->created_us);
}

static void
test_device_crud(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_device d, d2, got;
	struct ids ids = {.n = 0};

	memset(&d, 0, sizeof(d));
	d.tenant_id = f->t1;
	d.extension_id = f->e1;
	SET(d.mac, "805ec0123456");
	SET(d.vendor, "yealink");
	SET(d.model, "T54W");
	sealed_fill(&d.admin_password, "k1", 3, 48);
	assert_int_equal(store_device_add(st, &d), 0);
	assert_true(d.id > 0);
	assert_int_equal(store_device_get_by_id(st, d.id, &got), 0);
	device_eq(&d, &got);
	assert_string_equal(got.firmware_seen, "");
	assert_int_equal(got.last_provisioned_us, 0);
	assert_int_equal(store_device_get(st, "805ec0123456", &got), 0);
	device_eq(&d, &got);

	/* unique mac; an extension of another tenant; none at all */
	d2 = d;
	d2.id = 0;
	assert_int_equal(store_device_add(st, &d2), EEXIST);
	SET(d2.mac, "805ec0abcdef");
	d2.extension_id = f->e2;
	assert_int_equal(store_device_add(st, &d2), EINVAL);
	d2.extension_id = 9999;
	assert_int_equal(store_device_add(st, &d2), EINVAL);
	d2.extension_id = 0;
	memset(&d2.admin_password, 0, sizeof(d2.admin_password));
	SET(d2.vendor, "poly");
	SET(d2.model, "VVX 450");
	assert_int_equal(store_device_add(st, &d2), 0);
	assert_int_equal(store_device_get_by_id(st, d2.id, &got), 0);
	device_eq(&d2, &got);

	/* update, then a provisioning */
	d.extension_id = 0;
	SET(d.model, "T57W");
	sealed_fill(&d.admin_password, "k2", 11, 60);
	assert_int_equal(store_device_update(st, &d), 0);
	assert_int_equal(store_device_get_by_id(st, d.id, &got), 0);
	device_eq(&d, &got);
	SET(d.firmware_seen, "96.86.0.70");
	d.last_provisioned_us = f->now;
	assert_int_equal(store_device_seen(st, &d), 0);
	assert_int_equal(store_device_get_by_id(st, d.id, &got), 0);
	device_eq(&d, &got);
	d.extension_id = f->e2;
	assert_int_equal(store_device_update(st, &d), EINVAL);
	d.extension_id = f->e1;
	assert_int_equal(store_device_update(st, &d), 0);
	got = d;
	got.id = 9999;
	assert_int_equal(store_device_update(st, &got), ENOENT);
	assert_int_equal(store_device_seen(st, &got), ENOENT);

	/* list, by mac */
	assert_int_equal(store_device_list(st, f->t1, device_ids_cb, &ids), 0);
	ids_expect(&ids, 2, d.id, d2.id);
	ids.n = 0;
	assert_int_equal(store_device_list(st, f->t2, device_ids_cb, &ids), 0);
	ids_expect(&ids, 0);

	/* removing the extension leaves the device without one */
	assert_int_equal(store_ext_remove(st, f->e1), 0);
	assert_int_equal(store_device_get_by_id(st, d.id, &got), 0);
	assert_int_equal(got.extension_id, 0);

	/* remove */
	assert_int_equal(store_device_remove(st, d.id), 0);
	assert_int_equal(store_device_get(st, "805ec0123456", &got), ENOENT);
	assert_int_equal(store_device_remove(st, d.id), ENOENT);
}

/* ---- admins ---- */

static void
admin_fill(struct store_admin *a, int64_t tenant_id, const char *username,
    const char *role)
{
	memset(a, 0, sizeof(*a));
	a->tenant_id = tenant_id;
	SET(a->username, username);
	SET(a->role, role);
	SET(a->password_hash,
	    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dW"
	    "RWJTmaaJObG");
	a->enabled = true;
}

static void
admin_eq(const struct store_admin *a, const struct store_admin *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_string_equal(a->username, b->username);
	assert_string_equal(a->role, b->role);
	assert_string_equal(a->password_hash, b->password_hash);
	sealed_eq(&a->totp, &b->totp);
	assert_int_equal(a->totp_confirmed, b->totp_confirmed);
	assert_int_equal(a->enabled, b->enabled);
	assert_int_equal(a->created_us, b->created_us);
	assert_int_equal(a->last_login_us, b->last_login_us);
}

static void
test_admin_crud(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_admin root, ta, au, got;
	struct ids ids = {.n = 0};

	admin_fill(&root, 0, "ops@provider.example", "superadmin");
	assert_int_equal(store_admin_add(st, &root), 0);
	admin_fill(&ta, f->t1, "boss@acme.example", "tenant_admin");
	sealed_fill(&ta.totp, "k1", 5, 60);
	assert_int_equal(store_admin_add(st, &ta), 0);
	admin_fill(&au, f->t1, "audit@acme.example", "auditor");
	assert_int_equal(store_admin_add(st, &au), 0);

	assert_int_equal(store_admin_get_by_id(st, ta.id, &got), 0);
	admin_eq(&ta, &got);
	assert_int_equal(store_admin_get(st, "ops@provider.example", &got), 0);
	admin_eq(&root, &got);
	assert_int_equal(got.tenant_id, 0);
	assert_int_equal(got.totp.box_len, 0);

	/* unique username; the schema's role check; role and tenant agree */
	admin_fill(&got, f->t2, "boss@acme.example", "tenant_admin");
	assert_int_equal(store_admin_add(st, &got), EEXIST);
	admin_fill(&got, f->t1, "x@acme.example", "root");
	assert_int_equal(store_admin_add(st, &got), EINVAL);
	admin_fill(&got, f->t1, "x@acme.example", "superadmin");
	assert_int_equal(store_admin_add(st, &got), EINVAL);
	admin_fill(&got, 0, "x@acme.example", "tenant_admin");
	assert_int_equal(store_admin_add(st, &got), EINVAL);
	admin_fill(&got, f->t1, "x@acme.example", "auditor");
	memset(got.role, 'a', sizeof(got.role)); /* unterminated */
	assert_int_equal(store_admin_add(st, &got), EINVAL);
	assert_int_equal(store_admin_get(st, "x@acme.example", &got), ENOENT);

	/* update, login */
	ta.totp_confirmed = true;
	ta.enabled = false;
	SET(ta.password_hash, "$argon2id$v=19$m=65536,t=2,p=1$bmV3$bmV3aGFzaA");
	sealed_fill(&ta.totp, "k2", 9, 61);
	assert_int_equal(store_admin_update(st, &ta), 0);
	assert_int_equal(store_admin_get_by_id(st, ta.id, &got), 0);
	admin_eq(&ta, &got);
	assert_int_equal(store_admin_login(st, ta.id, f->now), 0);
	ta.last_login_us = f->now;
	assert_int_equal(store_admin_get_by_id(st, ta.id, &got), 0);
	admin_eq(&ta, &got);
	/* a tenant's admin cannot become a superadmin; no 'root' */
	got = ta;
	SET(got.role, "superadmin");
	assert_int_equal(store_admin_update(st, &got), EINVAL);
	SET(got.role, "root");
	assert_int_equal(store_admin_update(st, &got), EINVAL);
	assert_int_equal(store_admin_get_by_id(st, ta.id, &got), 0);
	assert_string_equal(got.role, "tenant_admin");
	got.id = 9999;
	assert_int_equal(store_admin_update(st, &got), ENOENT);
	assert_int_equal(store_admin_login(st, 9999, f->now), ENOENT);

	/* lists, by username */
	assert_int_equal(
	    store_admin_list(st, STORE_TENANT_ALL, admin_ids_cb, &ids), 0);
	ids_expect(&ids, 3, au.id, ta.id, root.id);
	ids.n = 0;
	assert_int_equal(store_admin_list(st, 0, admin_ids_cb, &ids), 0);
	ids_expect(&ids, 1, root.id);
	ids.n = 0;
	assert_int_equal(store_admin_list(st, f->t1, admin_ids_cb, &ids), 0);
	ids_expect(&ids, 2, au.id, ta.id);

	/* remove */
	assert_int_equal(store_admin_remove(st, au.id), 0);
	assert_int_equal(store_admin_get_by_id(st, au.id, &got), ENOENT);
	assert_int_equal(store_admin_remove(st, au.id), ENOENT);
}

/* ---- calls and legs ---- */

static void
call_fill(
    struct store_call *c, int64_t tenant_id, const char *uuid, int64_t start_us)
{
	memset(c, 0, sizeof(*c));
	c->tenant_id = tenant_id;
	SET(c->uuid, uuid);
	SET(c->node, "node-a");
	SET(c->caller, "+4930111");
	SET(c->callee, "100");
	SET(c->direction, "inbound");
	c->start_us = start_us;
	SET(c->source, "192.0.2.50:5061");
	SET(c->transport, "tls");
}

static void
call_eq(const struct store_call *a, const struct store_call *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_string_equal(a->uuid, b->uuid);
	assert_string_equal(a->node, b->node);
	assert_string_equal(a->caller, b->caller);
	assert_string_equal(a->callee, b->callee);
	assert_string_equal(a->direction, b->direction);
	assert_int_equal(a->start_us, b->start_us);
	assert_int_equal(a->answer_us, b->answer_us);
	assert_int_equal(a->end_us, b->end_us);
	assert_string_equal(a->disposition, b->disposition);
	assert_int_equal(a->duration_ms, b->duration_ms);
	assert_string_equal(a->source, b->source);
	assert_string_equal(a->user_agent, b->user_agent);
	assert_string_equal(a->transport, b->transport);
	assert_int_equal(a->cost_micro, b->cost_micro);
}

static void
leg_fill(struct store_call_leg *l, int64_t call_id, int leg, const char *kind,
    int64_t start_us)
{
	memset(l, 0, sizeof(*l));
	l->call_id = call_id;
	l->leg = leg;
	SET(l->kind, kind);
	SET(l->peer, "sip:100@acme.example");
	SET(l->transport, "tls");
	l->start_us = start_us;
}

static void
leg_eq(const struct store_call_leg *a, const struct store_call_leg *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->call_id, b->call_id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_int_equal(a->leg, b->leg);
	assert_string_equal(a->kind, b->kind);
	assert_string_equal(a->peer, b->peer);
	assert_int_equal(a->trunk_id, b->trunk_id);
	assert_string_equal(a->transport, b->transport);
	assert_int_equal(a->start_us, b->start_us);
	assert_int_equal(a->answer_us, b->answer_us);
	assert_int_equal(a->end_us, b->end_us);
	assert_string_equal(a->disposition, b->disposition);
	assert_int_equal(a->cost_micro, b->cost_micro);
	assert_int_equal(a->packets, b->packets);
	assert_int_equal(a->bytes, b->bytes);
	assert_int_equal(a->lost, b->lost);
	assert_int_equal(a->jitter_us, b->jitter_us);
}

static void
test_call_crud(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_call c, got;
	struct ids ids = {.n = 0};
	int64_t t0 = f->now;

	call_fill(&c, f->t1, "8c2f6f0e-2a6b-4f5e-9a57-6b0d1f2d3e4f", t0);
	assert_int_equal(store_call_add(st, &c), 0);
	assert_true(c.id > 0);
	assert_int_equal(store_call_get_by_id(st, c.id, &got), 0);
	call_eq(&c, &got);
	assert_int_equal(got.answer_us, 0);
	assert_string_equal(got.disposition, "");
	assert_int_equal(store_call_get(st, c.uuid, &got), 0);
	call_eq(&c, &got);

	/* unique uuid; the direction check; a missing tenant */
	got = c;
	assert_int_equal(store_call_add(st, &got), EEXIST);
	call_fill(&got, f->t1, "11111111-2a6b-4f5e-9a57-6b0d1f2d3e4f", t0);
	SET(got.direction, "sideways");
	assert_int_equal(store_call_add(st, &got), EINVAL);
	call_fill(&got, 9999, "11111111-2a6b-4f5e-9a57-6b0d1f2d3e4f", t0);
	assert_int_equal(store_call_add(st, &got), EINVAL);
	assert_int_equal(store_call_get(st, got.uuid, &got), ENOENT);

	/* update: answered, ended, rated; money stays exact */
	c.answer_us = t0 + 2 * (int64_t)SEC;
	c.end_us = t0 + 62 * (int64_t)SEC;
	SET(c.disposition, "answered");
	c.duration_ms = 60000;
	c.cost_micro = INT64_C(9007199254740993); /* not a double */
	assert_int_equal(store_call_update(st, &c), 0);
	assert_int_equal(store_call_get_by_id(st, c.id, &got), 0);
	call_eq(&c, &got);
	got.id = 9999;
	assert_int_equal(store_call_update(st, &got), ENOENT);

	/* list: a time window, a tenant, a limit */
	call_fill(&got, f->t1, "22222222-2a6b-4f5e-9a57-6b0d1f2d3e4f",
	    t0 + 10 * (int64_t)SEC);
	assert_int_equal(store_call_add(st, &got), 0);
	{
		struct store_call other;

		call_fill(&other, f->t2, "33333333-2a6b-4f5e-9a57-6b0d1f2d3e4f",
		    t0 + 5 * (int64_t)SEC);
		SET(other.direction, "outbound");
		assert_int_equal(store_call_add(st, &other), 0);
		assert_int_equal(
		    store_call_list(st, f->t1, t0, t0 + 60 * (int64_t)SEC, 0,
		        call_ids_cb, &ids),
		    0);
		ids_expect(&ids, 2, c.id, got.id);
		ids.n = 0;
		assert_int_equal(
		    store_call_list(st, f->t1, t0 + 1, t0 + 60 * (int64_t)SEC,
		        0, call_ids_cb, &ids),
		    0);
		ids_expect(&ids, 1, got.id);
		ids.n = 0;
		assert_int_equal(
		    store_call_list(st, STORE_TENANT_ALL, t0,
		        t0 + 60 * (int64_t)SEC, 0, call_ids_cb, &ids),
		    0);
		ids_expect(&ids, 3, c.id, other.id, got.id);
		ids.n = 0;
		assert_int_equal(
		    store_call_list(st, STORE_TENANT_ALL, t0,
		        t0 + 60 * (int64_t)SEC, 2, call_ids_cb, &ids),
		    0);
		ids_expect(&ids, 2, c.id, other.id);
		ids.n = 0;
		assert_int_equal(
		    store_call_list(st, f->t2, 0, t0 + 5 * (int64_t)SEC, 0,
		        call_ids_cb, &ids),
		    0);
		ids_expect(&ids, 0); /* to_us is exclusive */
	}

	/* remove */
	assert_int_equal(store_call_remove(st, c.id), 0);
	assert_int_equal(store_call_get_by_id(st, c.id, &got), ENOENT);
	assert_int_equal(store_call_remove(st, c.id), ENOENT);
}

static void
test_call_legs(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_call c, c2;
	struct store_call_leg l0, l1, got;
	struct store_trunk own, other;
	struct ids ids = {.n = 0};
	int64_t t0 = f->now, removed = -1;

	trunk_fill(&own, f->t1, "acme-trunk");
	trunk_fill(&other, f->t2, "beta-trunk");
	assert_int_equal(store_trunk_add(st, &own), 0);
	assert_int_equal(store_trunk_add(st, &other), 0);
	call_fill(&c, f->t1, "8c2f6f0e-2a6b-4f5e-9a57-6b0d1f2d3e4f", t0);
	assert_int_equal(store_call_add(st, &c), 0);

	leg_fill(&l0, c.id, 0, "caller", t0);
	assert_int_equal(store_call_leg_add(st, &l0), 0);
	assert_true(l0.id > 0);
	assert_int_equal(l0.tenant_id, f->t1); /* taken from the call */
	leg_fill(&l1, c.id, 1, "trunk", t0 + 1000);
	l1.trunk_id = own.id;
	SET(l1.peer, "sip:+4930111@sip.carrier.example");
	assert_int_equal(store_call_leg_add(st, &l1), 0);
	assert_int_equal(store_call_leg_get_by_id(st, l1.id, &got), 0);
	leg_eq(&l1, &got);
	assert_int_equal(store_call_leg_get(st, c.id, 0, &got), 0);
	leg_eq(&l0, &got);

	/* unique (call, leg); kind check; missing call; tenant and trunk of
	 * another tenant */
	leg_fill(&got, c.id, 1, "fork", t0);
	assert_int_equal(store_call_leg_add(st, &got), EEXIST);
	leg_fill(&got, c.id, 2, "bogus", t0);
	assert_int_equal(store_call_leg_add(st, &got), EINVAL);
	leg_fill(&got, 9999, 0, "caller", t0);
	assert_int_equal(store_call_leg_add(st, &got), EINVAL);
	leg_fill(&got, c.id, 2, "fork", t0);
	got.tenant_id = f->t2;
	assert_int_equal(store_call_leg_add(st, &got), EINVAL);
	leg_fill(&got, c.id, 2, "trunk", t0);
	got.trunk_id = other.id;
	assert_int_equal(store_call_leg_add(st, &got), EINVAL);
	assert_int_equal(store_call_leg_get(st, c.id, 2, &got), ENOENT);

	/* update with media counters */
	l1.answer_us = t0 + 2 * (int64_t)SEC;
	l1.end_us = t0 + 62 * (int64_t)SEC;
	SET(l1.disposition, "answered");
	l1.cost_micro = 12345;
	l1.packets = 3000;
	l1.bytes = 516000;
	l1.lost = 3;
	l1.jitter_us = 1200;
	assert_int_equal(store_call_leg_update(st, &l1), 0);
	assert_int_equal(store_call_leg_get_by_id(st, l1.id, &got), 0);
	leg_eq(&l1, &got);
	got = l1;
	got.trunk_id = other.id;
	assert_int_equal(store_call_leg_update(st, &got), EINVAL);
	got.id = 9999;
	got.trunk_id = 0;
	assert_int_equal(store_call_leg_update(st, &got), ENOENT);

	/* list by leg */
	assert_int_equal(store_call_leg_list(st, c.id, leg_ids_cb, &ids), 0);
	ids_expect(&ids, 2, l0.id, l1.id);

	/* the legs go with their call */
	assert_int_equal(store_call_remove(st, c.id), 0);
	assert_int_equal(store_call_leg_get_by_id(st, l0.id, &got), ENOENT);
	assert_int_equal(store_call_leg_get_by_id(st, l1.id, &got), ENOENT);

	/* retention: calls that started before a time, with their legs */
	call_fill(&c, f->t1, "44444444-2a6b-4f5e-9a57-6b0d1f2d3e4f", t0 - SEC);
	call_fill(&c2, f->t1, "55555555-2a6b-4f5e-9a57-6b0d1f2d3e4f", t0);
	assert_int_equal(store_call_add(st, &c), 0);
	assert_int_equal(store_call_add(st, &c2), 0);
	leg_fill(&l0, c.id, 0, "caller", t0 - SEC);
	assert_int_equal(store_call_leg_add(st, &l0), 0);
	assert_int_equal(store_call_purge(st, t0, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_call_get_by_id(st, c.id, &c), ENOENT);
	assert_int_equal(store_call_leg_get_by_id(st, l0.id, &got), ENOENT);
	assert_int_equal(store_call_get_by_id(st, c2.id, &c), 0);
}

/* ---- bans ---- */

static void
ban_eq(const struct store_ban *a, const struct store_ban *b)
{
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->source, b->source);
	assert_string_equal(a->reason, b->reason);
	assert_int_equal(a->offences, b->offences);
	assert_string_equal(a->node, b->node);
	assert_int_equal(a->created_us, b->created_us);
	assert_int_equal(a->expires_us, b->expires_us);
}

static void
ban_fill(struct store_ban *b, const char *source, int64_t expires_us)
{
	memset(b, 0, sizeof(*b));
	SET(b->source, source);
	SET(b->reason, "auth failures");
	SET(b->node, "node-a");
	b->expires_us = expires_us;
}

static void
test_ban_crud(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_ban b, b2, got;
	struct ids ids = {.n = 0};
	int64_t hour = 3600 * (int64_t)SEC, removed = -1;

	ban_fill(&b, "192.0.2.66", f->now + hour);
	assert_int_equal(store_ban_add(st, &b), 0);
	assert_true(b.id > 0);
	assert_int_equal(b.offences, 1);
	assert_true(b.created_us > 0);
	assert_int_equal(store_ban_get_by_id(st, b.id, &got), 0);
	ban_eq(&b, &got);
	assert_int_equal(store_ban_get(st, "192.0.2.66", &got), 0);
	ban_eq(&b, &got);

	ban_fill(&got, "192.0.2.66", f->now);
	assert_int_equal(store_ban_add(st, &got), EEXIST);
	assert_int_equal(store_ban_get(st, "192.0.2.67", &got), ENOENT);

	/* update */
	SET(b.reason, "scanner");
	b.offences = 4;
	SET(b.node, "node-b");
	b.expires_us = f->now + 2 * hour;
	assert_int_equal(store_ban_update(st, &b), 0);
	assert_int_equal(store_ban_get_by_id(st, b.id, &got), 0);
	ban_eq(&b, &got);
	got.id = 9999;
	assert_int_equal(store_ban_update(st, &got), ENOENT);

	/* a prefix, already expired at now */
	ban_fill(&b2, "2001:db8:66::/48", f->now - 1);
	b2.created_us = f->now - hour;
	b2.offences = 2;
	assert_int_equal(store_ban_add(st, &b2), 0);
	assert_int_equal(store_ban_get_by_id(st, b2.id, &got), 0);
	ban_eq(&b2, &got);

	/* in force at now: expires_us > now */
	assert_int_equal(
	    store_ban_list_active(st, f->now, ban_ids_cb, &ids), 0);
	ids_expect(&ids, 1, b.id);
	ids.n = 0;
	assert_int_equal(
	    store_ban_list_active(st, f->now - hour, ban_ids_cb, &ids), 0);
	ids_expect(&ids, 2, b.id, b2.id);
	ids.n = 0;
	assert_int_equal(
	    store_ban_list_active(st, f->now + 2 * hour, ban_ids_cb, &ids), 0);
	ids_expect(&ids, 0);

	/* expire: at or before the time */
	assert_int_equal(store_ban_expire(st, f->now - 2, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(store_ban_expire(st, f->now - 1, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_ban_get_by_id(st, b2.id, &got), ENOENT);

	/* remove */
	assert_int_equal(store_ban_remove(st, b.id), 0);
	assert_int_equal(store_ban_get(st, "192.0.2.66", &got), ENOENT);
	assert_int_equal(store_ban_remove(st, b.id), ENOENT);
}

static void
test_ban_upsert(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_ban b, got, other;
	int64_t hour = 3600 * (int64_t)SEC, first_id, first_created;

	/* first offence */
	ban_fill(&b, "198.51.100.9", f->now + hour);
	b.offences = 77; /* not read */
	b.created_us = f->now - 10;
	assert_int_equal(store_ban_upsert(st, &b), 0);
	assert_int_equal(b.offences, 1);
	assert_int_equal(b.created_us, f->now - 10);
	first_id = b.id;
	first_created = b.created_us;

	/* repeat offences: count up, new expiry and reason, first time kept */
	ban_fill(&b, "198.51.100.9", f->now + 2 * hour);
	SET(b.reason, "again");
	SET(b.node, "node-b");
	assert_int_equal(store_ban_upsert(st, &b), 0);
	assert_int_equal(b.id, first_id);
	assert_int_equal(b.offences, 2);
	assert_int_equal(b.created_us, first_created);
	ban_fill(&b, "198.51.100.9", f->now + 4 * hour);
	assert_int_equal(store_ban_upsert(st, &b), 0);
	assert_int_equal(b.offences, 3);
	assert_int_equal(store_ban_get(st, "198.51.100.9", &got), 0);
	assert_int_equal(got.offences, 3);
	assert_int_equal(got.expires_us, f->now + 4 * hour);
	assert_int_equal(got.created_us, first_created);
	assert_string_equal(got.reason, "auth failures");
	ban_eq(&b, &got);

	/* another source starts at one */
	ban_fill(&other, "198.51.100.10", f->now + hour);
	assert_int_equal(store_ban_upsert(st, &other), 0);
	assert_int_equal(other.offences, 1);
	assert_true(other.id != first_id);
}

/* ---- alerts ---- */

static void
alert_fill(struct store_alert *a, int64_t tenant_id, int64_t created_us)
{
	memset(a, 0, sizeof(*a));
	a->tenant_id = tenant_id;
	SET(a->kind, "spend_cap");
	SET(a->severity, "warning");
	SET(a->subject, "Spend at 80% of the daily cap");
	SET(a->detail, "tenant spent 80.00 EUR of 100.00 EUR today");
	a->created_us = created_us;
}

static void
alert_eq(const struct store_alert *a, const struct store_alert *b)
{
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->tenant_id, b->tenant_id);
	assert_string_equal(a->kind, b->kind);
	assert_string_equal(a->severity, b->severity);
	assert_string_equal(a->subject, b->subject);
	assert_string_equal(a->detail, b->detail);
	assert_int_equal(a->created_us, b->created_us);
	assert_int_equal(a->sent_us, b->sent_us);
	assert_int_equal(a->acked_us, b->acked_us);
}

static void
test_alerts(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_alert a1, a2, a3, prov, beta, got;
	struct ids ids = {.n = 0};

	alert_fill(&a1, f->t1, 1000);
	alert_fill(&a2, f->t1, 3000);
	alert_fill(&a3, f->t1, 2000);
	alert_fill(&prov, 0, 2500);
	SET(prov.severity, "critical");
	alert_fill(&beta, f->t2, 0); /* now */
	assert_int_equal(store_alert_add(st, &a1), 0);
	assert_int_equal(store_alert_add(st, &a2), 0);
	assert_int_equal(store_alert_add(st, &a3), 0);
	assert_int_equal(store_alert_add(st, &prov), 0);
	assert_int_equal(store_alert_add(st, &beta), 0);
	assert_true(beta.created_us >= f->now);
	assert_int_equal(store_alert_get_by_id(st, a2.id, &got), 0);
	alert_eq(&a2, &got);
	assert_int_equal(store_alert_get_by_id(st, 9999, &got), ENOENT);

	/* the severity check */
	alert_fill(&got, f->t1, 1);
	SET(got.severity, "apocalyptic");
	assert_int_equal(store_alert_add(st, &got), EINVAL);

	/* newest first, with a max */
	assert_int_equal(store_alert_list(st, f->t1, 0, alert_ids_cb, &ids), 0);
	ids_expect(&ids, 3, a2.id, a3.id, a1.id);
	ids.n = 0;
	assert_int_equal(store_alert_list(st, f->t1, 2, alert_ids_cb, &ids), 0);
	ids_expect(&ids, 2, a2.id, a3.id);
	ids.n = 0;
	assert_int_equal(store_alert_list(st, 0, 10, alert_ids_cb, &ids), 0);
	ids_expect(&ids, 1, prov.id);
	ids.n = 0;
	assert_int_equal(
	    store_alert_list(st, STORE_TENANT_ALL, 0, alert_ids_cb, &ids), 0);
	ids_expect(&ids, 5, beta.id, a2.id, prov.id, a3.id, a1.id);
	assert_int_equal(
	    store_alert_list(st, -2, 0, alert_ids_cb, &ids), EINVAL);

	/* sent and acknowledged, once each */
	assert_int_equal(store_alert_mark_sent(st, a1.id, 5000), 0);
	assert_int_equal(store_alert_mark_sent(st, a1.id, 6000), EALREADY);
	assert_int_equal(store_alert_mark_sent(st, 9999, 6000), ENOENT);
	assert_int_equal(store_alert_mark_acked(st, a1.id, 7000), 0);
	assert_int_equal(store_alert_mark_acked(st, a1.id, 8000), EALREADY);
	assert_int_equal(store_alert_mark_acked(st, 9999, 8000), ENOENT);
	a1.sent_us = 5000;
	a1.acked_us = 7000;
	assert_int_equal(store_alert_get_by_id(st, a1.id, &got), 0);
	alert_eq(&a1, &got);

	/* not yet sent, oldest first */
	ids.n = 0;
	assert_int_equal(store_alert_list_unsent(st, 0, alert_ids_cb, &ids), 0);
	ids_expect(&ids, 4, a3.id, prov.id, a2.id, beta.id);
	ids.n = 0;
	assert_int_equal(store_alert_list_unsent(st, 1, alert_ids_cb, &ids), 0);
	ids_expect(&ids, 1, a3.id);

	/* remove */
	assert_int_equal(store_alert_remove(st, a1.id), 0);
	assert_int_equal(store_alert_get_by_id(st, a1.id, &got), ENOENT);
	assert_int_equal(store_alert_remove(st, a1.id), ENOENT);
}

/* A text field without a NUL is cut at its size - 1 bytes, never read
 * past; a longer stored value is cut the same way on reading. */
static void
test_unterminated_text(void **state)
{
	struct fixture *f = *state;
	struct store *st = f->st;
	struct store_ban b, got;
	char want[STORE_TEXT_MAX];

	ban_fill(&b, "x", f->now + SEC);
	memset(b.source, 'a', sizeof(b.source));
	memset(b.reason, 'r', sizeof(b.reason));
	assert_int_equal(store_ban_add(st, &b), 0);
	assert_int_equal(store_ban_get_by_id(st, b.id, &got), 0);
	memset(want, 'a', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	assert_string_equal(got.source, want);
	assert_int_equal(strlen(got.reason), STORE_TEXT_MAX - 1);
	assert_int_equal(store_ban_get(st, want, &got), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_binding_crud, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_binding_missing_and_refs, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_binding_upsert, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(test_binding_expire_and_cascade,
	        fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_trunk_crud, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_trunk_bad, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_number_crud, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_number_changes, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_device_crud, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_admin_crud, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_crud, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_call_legs, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ban_crud, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ban_upsert, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_alerts, fixture_setup, fixture_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_unterminated_text, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
