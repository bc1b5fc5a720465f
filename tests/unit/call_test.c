/* call_test.c: the registrar's in-memory tables: bindings (regtab),
 * nonce-count replay state (nctab) and credentials (credtab). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "call/credtab.h"
#include "call/nctab.h"
#include "call/regtab.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static struct reg_contact
contact(const char *uri, const char *callid, uint32_t cseq, int64_t exp)
{
	struct reg_contact c;

	memset(&c, 0, sizeof(c));
	snprintf(c.uri, sizeof(c.uri), "%s", uri);
	snprintf(c.call_id, sizeof(c.call_id), "%s", callid);
	c.cseq = cseq;
	c.expires_us = exp;
	c.q = 1000;
	return c;
}

/* Which REGISTERs are written to the store: new bindings, changes and
 * removals always; a refresh that changes only the expiry when the
 * expiry last written no longer covers 3/4 of the new interval. */
static void
test_regtab_store_writes(void **state)
{
	const int64_t s = 1000000, now = 1000 * s, iv = 3600 * s;
	struct regtab *t;
	struct reg_contact c;
	bool w[1];

	(void)state;
	assert_int_equal(regtab_new(&t), 0);
	c = contact("sip:1001@10.0.0.5:5060", "cid", 1, now + iv);
	c.has_flow = true;
	c.flow.proto = TP_UDP;
	c.flow.peerlen = sizeof(struct sockaddr_in);
	((struct sockaddr_in *)&c.flow.peer)->sin_family = AF_INET;
	((struct sockaddr_in *)&c.flow.peer)->sin_port = htons(5060);
	c.src = c.flow.peer;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now, w), 0);
	assert_true(w[0]); /* new */
	c.cseq = 2;
	c.expires_us = now + 60 * s + iv;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 60 * s, w), 0);
	assert_false(w[0]); /* a minute later, same everything */
	c.cseq = 3;
	c.expires_us = now + 800 * s + iv;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 800 * s, w), 0);
	assert_false(w[0]); /* stored covers 2,800 s of 3,600: enough */
	c.cseq = 4;
	c.expires_us = now + 1000 * s + iv;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 1000 * s, w), 0);
	assert_true(w[0]); /* 2,600 s of 3,600: written */
	c.cseq = 5;
	c.expires_us = now + 1001 * s + iv;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 1001 * s, w), 0);
	assert_false(w[0]); /* measured from the new write */
	/* Another source port (NAT rebinding): written at once. */
	((struct sockaddr_in *)&c.src)->sin_port = htons(5062);
	c.cseq = 6;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 1002 * s, w), 0);
	assert_true(w[0]);
	c.cseq = 7;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 1002 * s, w), 0);
	assert_false(w[0]); /* and from there on, a refresh again */
	/* Another Call-ID (the phone restarted): written. */
	snprintf(c.call_id, sizeof(c.call_id), "cid2");
	c.cseq = 1;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 1003 * s, w), 0);
	assert_true(w[0]);
	/* A longer Expires than the stored one covers: written. */
	c.cseq = 2;
	c.expires_us = now + 1004 * s + 3 * iv;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 1004 * s, w), 0);
	assert_true(w[0]);
	/* Removal: written. */
	c.cseq = 3;
	c.expires_us = 0;
	assert_int_equal(regtab_update_all(t, 1, &c, 1, now + 1005 * s, w), 0);
	assert_true(w[0]);
	regtab_free(t);
}

static void
test_regtab_basic(void **state)
{
	struct regtab *t;
	struct reg_contact c, out[REG_CONTACTS_MAX];
	int64_t now = 1000000;

	(void)state;
	assert_int_equal(regtab_new(&t), 0);
	c = contact("sip:1001@10.0.0.1:5060", "cid1", 1, now + 60000000);
	assert_int_equal(regtab_update(t, 7, &c, now), 0);
	assert_int_equal(regtab_get(t, 7, now, out, REG_CONTACTS_MAX), 1);
	assert_string_equal(out[0].uri, "sip:1001@10.0.0.1:5060");
	/* Same Call-ID, same CSeq: out of order. */
	assert_int_equal(regtab_update(t, 7, &c, now), EALREADY);
	c.cseq = 2;
	assert_int_equal(regtab_update(t, 7, &c, now), 0);
	/* A second contact, lower q, comes second. */
	c = contact("sip:1001@10.0.0.2:5060", "cid2", 1, now + 60000000);
	c.q = 500;
	assert_int_equal(regtab_update(t, 7, &c, now), 0);
	c = contact("sip:1001@10.0.0.3:5060", "cid3", 1, now + 60000000);
	assert_int_equal(regtab_update(t, 7, &c, now), 0);
	assert_int_equal(regtab_get(t, 7, now, out, REG_CONTACTS_MAX), 3);
	assert_int_equal(out[2].q, 500);
	assert_int_equal(regtab_count(t), 3);
	/* Un-register one. */
	c = contact("sip:1001@10.0.0.2:5060", "cid2", 2, 0);
	assert_int_equal(regtab_update(t, 7, &c, now), 0);
	assert_int_equal(regtab_get(t, 7, now, out, REG_CONTACTS_MAX), 2);
	/* Expiry: nothing left after the time passes. */
	assert_int_equal(regtab_get(t, 7, now + 61000000, out, 10), 0);
	regtab_expire(t, now + 61000000, NULL, NULL);
	assert_int_equal(regtab_count(t), 0);
	/* Remove all, refused for an older CSeq of the same Call-ID. */
	c = contact("sip:1001@10.0.0.1:5060", "cid9", 5, now + 60000000);
	assert_int_equal(regtab_update(t, 8, &c, now), 0);
	assert_int_equal(regtab_remove_all(t, 8, "cid9", 4), EALREADY);
	assert_int_equal(regtab_remove_all(t, 8, "cid9", 6), 0);
	assert_int_equal(regtab_get(t, 8, now, out, 10), 0);
	regtab_free(t);
}

static void
test_regtab_limits_and_flows(void **state)
{
	struct regtab *t;
	struct reg_contact c, out[REG_CONTACTS_MAX];
	int64_t now = 1000000;
	char uri[64];
	int i;

	(void)state;
	assert_int_equal(regtab_new(&t), 0);
	for (i = 0; i < REG_CONTACTS_MAX; i++) {
		snprintf(uri, sizeof(uri), "sip:1@10.0.0.%d", i);
		c = contact(uri, "x", 1, now + 1000000);
		c.has_flow = true;
		c.flow.proto = TP_TLS;
		c.flow.worker = 1;
		c.flow.conn_id = (uint64_t)i;
		assert_int_equal(regtab_update(t, 1, &c, now), 0);
	}
	c = contact("sip:1@10.0.0.99", "x", 1, now + 1000000);
	assert_int_equal(regtab_update(t, 1, &c, now), ENOSPC);
	/* Expired ones make room. */
	c.expires_us = now + 3000000;
	assert_int_equal(regtab_update(t, 1, &c, now + 2000000), 0);
	assert_int_equal(regtab_get(t, 1, now + 2000000, out, 10), 1);
	/* A closed connection leaves the binding without a flow. */
	c = contact("sip:1@10.0.0.5", "y", 1, now + 9000000);
	c.has_flow = true;
	c.flow.proto = TP_TLS;
	c.flow.worker = 0;
	c.flow.conn_id = 42;
	assert_int_equal(regtab_update(t, 2, &c, now), 0);
	regtab_flow_gone(t, 0, 41);
	assert_int_equal(regtab_get(t, 2, now, out, 10), 1);
	assert_true(out[0].has_flow);
	regtab_flow_gone(t, 0, 42);
	assert_int_equal(regtab_get(t, 2, now, out, 10), 1);
	assert_false(out[0].has_flow);
	/* Same instance and reg-id: one binding even if the URI moves. */
	c = contact("sip:1@10.0.0.6", "z", 1, now + 9000000);
	snprintf(c.instance, sizeof(c.instance), "<urn:uuid:1>");
	c.reg_id = 1;
	assert_int_equal(regtab_update(t, 3, &c, now), 0);
	c = contact("sip:1@10.0.0.7", "z", 2, now + 9000000);
	snprintf(c.instance, sizeof(c.instance), "<urn:uuid:1>");
	c.reg_id = 1;
	assert_int_equal(regtab_update(t, 3, &c, now), 0);
	assert_int_equal(regtab_get(t, 3, now, out, 10), 1);
	assert_string_equal(out[0].uri, "sip:1@10.0.0.7");
	regtab_free(t);
}

static void
test_nctab(void **state)
{
	struct nctab *t;
	int64_t now = 5, exp = 1000;
	char nonce[32];
	uint32_t i;

	(void)state;
	assert_int_equal(nctab_new(&t), 0);
	/* Unknown nonce with nc > 1: stale, not accepted. */
	assert_int_equal(nctab_check(t, "abc", 3, 2, exp, now), NC_UNKNOWN);
	assert_int_equal(nctab_check(t, "abc", 3, 1, exp, now), NC_OK);
	assert_int_equal(nctab_check(t, "abc", 3, 1, exp, now), NC_REPLAY);
	assert_int_equal(nctab_check(t, "abc", 3, 3, exp, now), NC_OK);
	assert_int_equal(nctab_check(t, "abc", 3, 2, exp, now), NC_OK);
	assert_int_equal(nctab_check(t, "abc", 3, 2, exp, now), NC_REPLAY);
	assert_int_equal(nctab_check(t, "abc", 3, 200, exp, now), NC_OK);
	/* Far below the window: cannot tell, so refused. */
	assert_int_equal(nctab_check(t, "abc", 3, 4, exp, now), NC_REPLAY);
	assert_int_equal(nctab_check(t, "abc", 3, 0, exp, now), NC_REPLAY);
	/* Another nonce is independent. */
	assert_int_equal(nctab_check(t, "abd", 3, 1, exp, now), NC_OK);
	/* Expired state is gone: nc 1 starts again (the nonce check
	 * itself refuses expired nonces before this). */
	assert_int_equal(nctab_check(t, "abd", 3, 2, exp, exp + 1), NC_UNKNOWN);
	/* Bounded: many nonces overwrite the oldest; never a false OK. */
	for (i = 0; i < 2 * NCTAB_ENTRIES; i++) {
		snprintf(nonce, sizeof(nonce), "n%u", i);
		assert_int_equal(
		    nctab_check(t, nonce, strlen(nonce), 1, exp, now), NC_OK);
	}
	assert_int_equal(nctab_check(t, "n0", 2, 1, exp, now), NC_OK);
	assert_int_equal(nctab_check(t, "n0", 2, 1, exp, now), NC_REPLAY);
	nctab_free(t);
}

static void
test_credtab(void **state)
{
	struct credtab *t;
	struct cred_entry e;
	const struct cred_entry *f;
	int i;

	(void)state;
	assert_int_equal(credtab_new(&t), 0);
	for (i = 0; i < 5000; i++) {
		memset(&e, 0, sizeof(e));
		e.ext_id = i + 1;
		e.tenant_id = 1 + i % 3;
		snprintf(e.number, sizeof(e.number), "%d", 1000 + i);
		snprintf(e.domain, sizeof(e.domain), "t%d.example.com",
		    (int)e.tenant_id);
		e.enabled = true;
		assert_int_equal(credtab_put(t, &e), 0);
	}
	assert_int_equal(credtab_count(t), 5000);
	f = credtab_find(t, "1003", 4, "t1.example.com", 14);
	assert_non_null(f);
	assert_int_equal(f->ext_id, 4);
	assert_null(credtab_find(t, "1003", 4, "t2.example.com", 14));
	assert_null(credtab_find(t, "100", 3, "t1.example.com", 14));
	/* Replace by id, with a new domain. */
	memset(&e, 0, sizeof(e));
	e.ext_id = 4;
	e.tenant_id = 1;
	snprintf(e.number, sizeof(e.number), "1003");
	snprintf(e.domain, sizeof(e.domain), "new.example.com");
	assert_int_equal(credtab_put(t, &e), 0);
	assert_null(credtab_find(t, "1003", 4, "t1.example.com", 14));
	assert_non_null(credtab_find(t, "1003", 4, "new.example.com", 15));
	assert_int_equal(credtab_count(t), 5000);
	assert_int_equal(credtab_remove(t, 4), 0);
	assert_int_equal(credtab_remove(t, 4), ENOENT);
	assert_null(credtab_find_id(t, 4));
	assert_non_null(credtab_find_id(t, 5));
	credtab_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regtab_basic),
	    cmocka_unit_test(test_regtab_store_writes),
	    cmocka_unit_test(test_regtab_limits_and_flows),
	    cmocka_unit_test(test_nctab),
	    cmocka_unit_test(test_credtab),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
