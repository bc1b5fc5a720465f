/* store_tables.h: the store's functions for the tables that later parts
 * of sipwarden fill (bindings, trunks, numbers, devices, admins, calls and
 * call legs, bans, alerts). Included by store.h; same conventions, and:
 *
 * - Text fields are fixed buffers. A buffer without a NUL is cut at its
 *   size - 1 bytes, never read past. An empty string is written as NULL
 *   where the column is nullable, and NULL reads back as "".
 * - Nullable integers (ids, times) read back as 0, and 0 is written as
 *   NULL. Times are microseconds since the epoch (UTC); money is an
 *   integer count of micro-units of the tenant's currency.
 * - add sets id (and the times it fills); update writes the columns its
 *   comment names, by id, and ENOENT means no such row; remove is by id.
 * - EINVAL: a bad argument, a CHECK constraint refused (role, direction,
 *   kind, severity), or a referenced row (tenant, extension, call, trunk)
 *   missing or of another tenant: a row never points into another tenant.
 * - A list calls cb for each row in the order its comment names; a
 *   non-zero cb return stops the walk and is returned. A tenant filter
 *   takes a tenant id, 0 for the provider's own rows (tenant NULL, where
 *   the table allows it) or STORE_TENANT_ALL for every row. */
#ifndef SW_STORE_TABLES_H
#define SW_STORE_TABLES_H

#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	STORE_URI_MAX = 512,        /* a Contact URI */
	STORE_TRANSPORT_MAX = 8,    /* "udp", "tcp", "tls", "ws", "wss" */
	STORE_E164_MAX = 17,        /* '+', up to 15 digits, NUL */
	STORE_MAC_MAX = 18,         /* 12 hex digits, or 6 pairs with ':' */
	STORE_UUID_MAX = 37,        /* 36 characters of an RFC 4122 UUID */
	STORE_ADDRESSES_MAX = 1024, /* a trunk's list of CIDRs */
	STORE_WORD_MAX = 16,        /* role, direction, leg kind, severity */
	STORE_PWHASH_MAX = 128,     /* an encoded argon2id hash + NUL */
	STORE_DETAIL_MAX = 1024,    /* an alert's detail */
};

/* The tenant filter of a list: every row, whatever its tenant. */
#define STORE_TENANT_ALL ((int64_t)-1)

/* A secret sealed (secretbox) under the key key_id of secret.key, stored
 * as a key_id column and a box column. box_len 0 (and key_id "") when
 * there is none; box_len > 0 needs a key_id. */
struct store_sealed {
	char key_id[STORE_NAME_MAX];
	unsigned char box[STORE_BOX_MAX];
	size_t box_len;
};

/* ---- bindings (registrations; the node that holds one publishes it) ---- */
struct store_binding {
	int64_t id;
	int64_t tenant_id; /* 0 on add: taken from the extension */
	int64_t extension_id;
	char node[STORE_NAME_MAX];
	char contact[STORE_URI_MAX];
	char instance[STORE_TEXT_MAX]; /* +sip.instance, "" = none */
	int64_t reg_id;                /* RFC 5626 reg-id, 0 = none */
	char source[STORE_TEXT_MAX];   /* where the REGISTER came from */
	char transport[STORE_TRANSPORT_MAX];
	char user_agent[STORE_TEXT_MAX]; /* "" = none */
	char call_id[STORE_TEXT_MAX];
	int64_t cseq;
	int64_t expires_us;
	int64_t created_us, updated_us; /* set by add and upsert */
};
int store_binding_add(struct store *st, struct store_binding *b);
/* Adds the binding, or refreshes the one of the same extension and
 * contact (every column but created_us); sets b->id and b->created_us. */
int store_binding_upsert(struct store *st, struct store_binding *b);
int store_binding_get(struct store *st, int64_t extension_id,
    const char *contact, struct store_binding *b);
int store_binding_get_by_id(
    struct store *st, int64_t id, struct store_binding *b);
/* Writes node, instance, reg_id, source, transport, user_agent, call_id,
 * cseq and expires_us. */
int store_binding_update(struct store *st, const struct store_binding *b);
int store_binding_remove(struct store *st, int64_t id);
/* Removes the bindings with expires_us <= now_us; their count in
 * *removed (may be NULL). */
int store_binding_expire(struct store *st, int64_t now_us, int64_t *removed);
typedef int (*store_binding_cb)(void *arg, const struct store_binding *b);
/* The bindings of an extension, or of a node, by id; expired ones too
 * until store_binding_expire removes them. */
int store_binding_list(
    struct store *st, int64_t extension_id, store_binding_cb cb, void *arg);
int store_binding_list_node(
    struct store *st, const char *node, store_binding_cb cb, void *arg);

/* ---- trunks (every mutation goes to the change log, kind "trunk") ---- */
struct store_trunk {
	int64_t id;
	int64_t tenant_id; /* 0 = shared by the provider */
	char name[STORE_NAME_MAX];
	char host[STORE_DOMAIN_MAX];
	int port;                            /* 0 on add/update: 5061 */
	char transport[STORE_TRANSPORT_MAX]; /* "" on add/update: "tls" */
	char addresses[STORE_ADDRESSES_MAX]; /* CIDRs traffic may come from */
	char auth_user[STORE_TEXT_MAX];      /* "" = no authentication */
	struct store_sealed auth;            /* the sealed password */
	bool enabled;
	char settings[STORE_SETTINGS_MAX]; /* JSON object; "" = "{}" */
	int64_t created_us, updated_us;
};
int store_trunk_add(struct store *st, struct store_trunk *t);
int store_trunk_get(struct store *st, const char *name, struct store_trunk *t);
int store_trunk_get_by_id(struct store *st, int64_t id, struct store_trunk *t);
/* Writes host, port, transport, addresses, auth_user, auth, enabled and
 * settings. */
int store_trunk_update(struct store *st, const struct store_trunk *t);
int store_trunk_remove(struct store *st, int64_t id);
typedef int (*store_trunk_cb)(void *arg, const struct store_trunk *t);
/* By name. */
int store_trunk_list(
    struct store *st, int64_t tenant_id, store_trunk_cb cb, void *arg);

/* ---- numbers (DIDs; every mutation goes to the change log, kind
 * "number") ---- */
struct store_number {
	int64_t id, tenant_id;
	int64_t trunk_id; /* 0 = none; else the tenant's or a shared trunk */
	char e164[STORE_E164_MAX];
	char destination[STORE_TEXT_MAX]; /* where inbound calls go */
	int64_t created_us, updated_us;
};
int store_number_add(struct store *st, struct store_number *n);
int store_number_get(
    struct store *st, const char *e164, struct store_number *n);
int store_number_get_by_id(
    struct store *st, int64_t id, struct store_number *n);
/* Writes trunk_id and destination. */
int store_number_update(struct store *st, const struct store_number *n);
int store_number_remove(struct store *st, int64_t id);
typedef int (*store_number_cb)(void *arg, const struct store_number *n);
/* By e164. */
int store_number_list(
    struct store *st, int64_t tenant_id, store_number_cb cb, void *arg);

/* ---- devices (provisioned phones) ---- */
struct store_device {
	int64_t id, tenant_id;
	int64_t extension_id; /* 0 = none; else one of the tenant's */
	char mac[STORE_MAC_MAX];
	char vendor[STORE_NAME_MAX];
	char model[STORE_NAME_MAX];
	char firmware_seen[STORE_NAME_MAX]; /* "" = not seen yet */
	struct store_sealed admin_password;
	int64_t last_provisioned_us; /* 0 = never */
	int64_t created_us, updated_us;
};
int store_device_add(struct store *st, struct store_device *d);
int store_device_get(struct store *st, const char *mac, struct store_device *d);
int store_device_get_by_id(
    struct store *st, int64_t id, struct store_device *d);
/* Writes extension_id, vendor, model and admin_password. */
int store_device_update(struct store *st, const struct store_device *d);
/* Records a provisioning: firmware_seen and last_provisioned_us. */
int store_device_seen(struct store *st, const struct store_device *d);
int store_device_remove(struct store *st, int64_t id);
typedef int (*store_device_cb)(void *arg, const struct store_device *d);
/* By mac. */
int store_device_list(
    struct store *st, int64_t tenant_id, store_device_cb cb, void *arg);

/* ---- admins (portal users) ---- */
struct store_admin {
	int64_t id;
	int64_t tenant_id; /* 0 = the provider's operators */
	char username[STORE_TEXT_MAX];
	char role[STORE_WORD_MAX]; /* "superadmin", "tenant_admin", "auditor" */
	char password_hash[STORE_PWHASH_MAX]; /* encoded argon2id */
	struct store_sealed totp;             /* the sealed TOTP seed */
	bool totp_confirmed;
	bool enabled;
	int64_t created_us, updated_us;
	int64_t last_login_us; /* 0 = never */
};
/* A superadmin has no tenant and a tenant_admin has one (EINVAL
 * otherwise, on add and on update); an auditor may have either. */
int store_admin_add(struct store *st, struct store_admin *a);
int store_admin_get(
    struct store *st, const char *username, struct store_admin *a);
int store_admin_get_by_id(struct store *st, int64_t id, struct store_admin *a);
/* Writes role, password_hash, totp, totp_confirmed and enabled. */
int store_admin_update(struct store *st, const struct store_admin *a);
/* Records a successful login at at_us. */
int store_admin_login(struct store *st, int64_t id, int64_t at_us);
int store_admin_remove(struct store *st, int64_t id);
typedef int (*store_admin_cb)(void *arg, const struct store_admin *a);
/* By username. */
int store_admin_list(
    struct store *st, int64_t tenant_id, store_admin_cb cb, void *arg);

/* ---- calls (records, no audio) and their legs ---- */
struct store_call {
	int64_t id, tenant_id;
	char uuid[STORE_UUID_MAX];
	char node[STORE_NAME_MAX];
	char caller[STORE_TEXT_MAX];
	char callee[STORE_TEXT_MAX];
	char direction[STORE_WORD_MAX]; /* "internal", "inbound", "outbound" */
	int64_t start_us;
	int64_t answer_us, end_us;        /* 0 = not (yet) */
	char disposition[STORE_NAME_MAX]; /* "" = none yet */
	int64_t duration_ms;
	char source[STORE_TEXT_MAX];         /* "" = none */
	char user_agent[STORE_TEXT_MAX];     /* "" = none */
	char transport[STORE_TRANSPORT_MAX]; /* "" = none */
	int64_t cost_micro;
};
int store_call_add(struct store *st, struct store_call *c);
int store_call_get(struct store *st, const char *uuid, struct store_call *c);
int store_call_get_by_id(struct store *st, int64_t id, struct store_call *c);
/* Writes answer_us, end_us, disposition, duration_ms and cost_micro. */
int store_call_update(struct store *st, const struct store_call *c);
int store_call_remove(struct store *st, int64_t id); /* and its legs */
/* Removes the calls (and legs) that started before before_us; their
 * count in *removed (may be NULL). For retention. */
int store_call_purge(struct store *st, int64_t before_us, int64_t *removed);
typedef int (*store_call_cb)(void *arg, const struct store_call *c);
/* The calls with from_us <= start_us < to_us, by start_us then id, at
 * most max of them (0 = no limit). */
int store_call_list(struct store *st, int64_t tenant_id, int64_t from_us,
    int64_t to_us, size_t max, store_call_cb cb, void *arg);

struct store_call_leg {
	int64_t id, call_id;
	int64_t tenant_id;         /* on add: taken from the call */
	int leg;                   /* unique within the call */
	char kind[STORE_WORD_MAX]; /* caller, callee, fork, transfer, trunk */
	char peer[STORE_TEXT_MAX];
	int64_t trunk_id; /* 0 = none; else the tenant's or a shared trunk */
	char transport[STORE_TRANSPORT_MAX]; /* "" = none */
	int64_t start_us;
	int64_t answer_us, end_us;        /* 0 = not (yet) */
	char disposition[STORE_NAME_MAX]; /* "" = none yet */
	int64_t cost_micro;
	int64_t packets, bytes, lost, jitter_us;
};
/* Adds a leg to its call (EINVAL when the call does not exist). */
int store_call_leg_add(struct store *st, struct store_call_leg *l);
int store_call_leg_get(
    struct store *st, int64_t call_id, int leg, struct store_call_leg *l);
int store_call_leg_get_by_id(
    struct store *st, int64_t id, struct store_call_leg *l);
/* Writes trunk_id, transport, answer_us, end_us, disposition, cost_micro,
 * packets, bytes, lost and jitter_us. */
int store_call_leg_update(struct store *st, const struct store_call_leg *l);
typedef int (*store_call_leg_cb)(void *arg, const struct store_call_leg *l);
/* The legs of a call, by leg. */
int store_call_leg_list(
    struct store *st, int64_t call_id, store_call_leg_cb cb, void *arg);

/* ---- bans (shared by all nodes) ---- */
struct store_ban {
	int64_t id;
	char source[STORE_TEXT_MAX]; /* an address or a prefix */
	char reason[STORE_TEXT_MAX];
	int64_t offences; /* 0 on add: 1 */
	char node[STORE_NAME_MAX];
	int64_t created_us; /* 0 on add: now */
	int64_t expires_us;
	bool manual; /* set by an operator (sipwarden ban add), not the guard */
};
int store_ban_add(struct store *st, struct store_ban *b);
/* Bans b->source until b->expires_us: a new ban with one offence, or a
 * repeat offence of a known source (offences + 1; reason, node,
 * expires_us and manual replaced; created_us kept). Sets b->id,
 * b->offences and b->created_us to the stored ones; b->offences is not
 * read. */
int store_ban_upsert(struct store *st, struct store_ban *b);
int store_ban_get(struct store *st, const char *source, struct store_ban *b);
int store_ban_get_by_id(struct store *st, int64_t id, struct store_ban *b);
/* Writes reason, offences, node, expires_us and manual. */
int store_ban_update(struct store *st, const struct store_ban *b);
int store_ban_remove(struct store *st, int64_t id);
/* Removes the bans with expires_us <= before_us (pass a time before now
 * to remember repeat offenders a while); their count in *removed (may be
 * NULL). */
int store_ban_expire(struct store *st, int64_t before_us, int64_t *removed);
typedef int (*store_ban_cb)(void *arg, const struct store_ban *b);
/* The bans in force at now_us (expires_us > now_us), by id. */
int store_ban_list_active(
    struct store *st, int64_t now_us, store_ban_cb cb, void *arg);

/* ---- alerts (shared by all nodes) ---- */
struct store_alert {
	int64_t id;
	int64_t tenant_id; /* 0 = the provider's */
	char kind[STORE_NAME_MAX];
	char severity[STORE_WORD_MAX]; /* "info", "warning", "critical" */
	char subject[STORE_TEXT_MAX];
	char detail[STORE_DETAIL_MAX];
	int64_t created_us;        /* 0 on add: now */
	int64_t sent_us, acked_us; /* 0 = not yet */
};
int store_alert_add(struct store *st, struct store_alert *a);
int store_alert_get_by_id(struct store *st, int64_t id, struct store_alert *a);
/* Marks the alert sent (or acknowledged) at at_us, once: EALREADY when it
 * already was (another node sent it), ENOENT when there is no such
 * alert. */
int store_alert_mark_sent(struct store *st, int64_t id, int64_t at_us);
int store_alert_mark_acked(struct store *st, int64_t id, int64_t at_us);
int store_alert_remove(struct store *st, int64_t id);
typedef int (*store_alert_cb)(void *arg, const struct store_alert *a);
/* Newest first (created_us, then id), at most max (0 = no limit). */
int store_alert_list(struct store *st, int64_t tenant_id, size_t max,
    store_alert_cb cb, void *arg);
/* The alerts not yet sent, of every tenant, oldest first, at most max (0
 * = no limit). */
int store_alert_list_unsent(
    struct store *st, size_t max, store_alert_cb cb, void *arg);

#endif
