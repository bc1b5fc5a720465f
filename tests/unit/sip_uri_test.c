/* sip_uri_test.c: SIP, SIPS, tel and other URIs (src/sip/uri.c): RFC 3261
 * 19.1 examples, RFC 5118 IPv6 references, escapes, parameters, headers,
 * comparison (RFC 3261 19.1.4), limits. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sip/uri.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct sip_uri uri;

static int
parse(const char *s)
{
	return sip_uri_parse(s, strlen(s), &uri);
}

static void
parse_ok(const char *s)
{
	int r = parse(s);

	if (r != 0)
		fail_msg("%s: %d (%s)", s, r, strerror(r));
}

static bool
sv_is(struct sv v, const char *s)
{
	return v.len == strlen(s) && (v.len == 0 || memcmp(v.p, s, v.len) == 0);
}

#define assert_sv(v, s)                                                        \
	do {                                                                   \
		if (!sv_is((v), (s)))                                          \
			fail_msg("got \"%.*s\", want \"%s\"", (int)(v).len,    \
			    (v).p, (s));                                       \
	} while (0)

static void
test_rfc3261_examples(void **state)
{
	struct sv v;

	(void)state;
	parse_ok("sip:alice@atlanta.com");
	assert_int_equal(uri.scheme, SIP_URI_SIP);
	assert_sv(uri.user, "alice");
	assert_sv(uri.host, "atlanta.com");
	assert_int_equal(uri.host_type, SIP_HOST_NAME);
	assert_false(uri.has_port);
	assert_false(uri.has_password);

	parse_ok("sip:alice:secretword@atlanta.com;transport=tcp");
	assert_sv(uri.password, "secretword");
	assert_sv(uri.transport, "tcp");
	assert_sv(uri.params, ";transport=tcp");

	parse_ok("sips:alice@atlanta.com?subject=project%20x&priority=urgent");
	assert_int_equal(uri.scheme, SIP_URI_SIPS);
	assert_sv(uri.headers, "subject=project%20x&priority=urgent");
	assert_int_equal(sip_uri_header(&uri, "SUBJECT", &v), 0);
	assert_sv(v, "project%20x");
	assert_int_equal(sip_uri_header(&uri, "priority", &v), 0);
	assert_sv(v, "urgent");
	assert_int_equal(sip_uri_header(&uri, "nope", &v), ENOENT);

	parse_ok("sip:+1-212-555-1212:1234@gateway.com;user=phone");
	assert_sv(uri.user, "+1-212-555-1212");
	assert_sv(uri.password, "1234");
	assert_sv(uri.user_param, "phone");

	parse_ok("sips:1212@gateway.com");
	parse_ok("sip:alice@192.0.2.4");
	assert_int_equal(uri.host_type, SIP_HOST_IPV4);

	parse_ok("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com");
	assert_false(uri.has_user);
	assert_sv(uri.method, "REGISTER");

	parse_ok("sip:alice;day=tuesday@atlanta.com");
	assert_sv(uri.user, "alice;day=tuesday");
	assert_int_equal(uri.params.len, 0);

	/* Scheme names are case-insensitive. */
	parse_ok("SIP:ALICE@AtLanTa.CoM;Transport=udp");
	assert_int_equal(uri.scheme, SIP_URI_SIP);
	assert_sv(uri.scheme_name, "SIP");
	assert_sv(uri.transport, "udp");
}

static void
test_params(void **state)
{
	struct sv v;

	(void)state;
	parse_ok("sip:bob@example.com:5061;transport=tls;user=ip;method=INVITE;"
	         "ttl=15;maddr=239.255.255.1;lr;Foo=Bar;flag");
	assert_int_equal(uri.port, 5061);
	assert_true(uri.has_port);
	assert_sv(uri.transport, "tls");
	assert_sv(uri.user_param, "ip");
	assert_sv(uri.method, "INVITE");
	assert_true(uri.has_ttl);
	assert_int_equal(uri.ttl, 15);
	assert_sv(uri.maddr, "239.255.255.1");
	assert_true(uri.lr);
	assert_int_equal(uri.nparams, 8);
	assert_int_equal(sip_uri_param(&uri, "foo", &v), 0);
	assert_sv(v, "Bar");
	assert_int_equal(sip_uri_param(&uri, "FLAG", &v), 0);
	assert_int_equal(v.len, 0);
	assert_int_equal(sip_uri_param(&uri, "LR", &v), 0);
	assert_int_equal(v.len, 0);
	assert_int_equal(sip_uri_param(&uri, "fla", &v), ENOENT);
	assert_int_equal(sip_uri_param(&uri, "transport", &v), 0);
	assert_sv(v, "tls");
	/* lr=on, as some old proxies write it. */
	parse_ok("sip:p.example.com;lr=on");
	assert_true(uri.lr);

	static const char *const bad[] = {"sip:a@b;", "sip:a@b;;x",
	    "sip:a@b;=x", "sip:a@b;x=", "sip:a@b;ttl=256", "sip:a@b;ttl=x",
	    "sip:a@b;maddr=-bad", "sip:a@b;x=a b", "sip:a@b;x=<y>", "sip:a@b?",
	    "sip:a@b?x", "sip:a@b?=y", "sip:a@b?x=1&", "sip:a@b?x=1&&y=2",
	    "sip:a@b;x=1?y=2;z"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != EBADMSG)
			fail_msg("accepted %s", bad[i]);
	/* Empty header values are fine. */
	parse_ok("sip:a@b?x=&y=1");
	assert_int_equal(sip_uri_header(&uri, "x", &v), 0);
	assert_int_equal(v.len, 0);
}

static void
test_hosts(void **state)
{
	static const char *const good[] = {"sip:h", "sip:h.", "sip:a-b.c-d.com",
	    "sip:x.y.z1", "sip:1.2.3.4", "sip:255.255.255.255", "sip:0.0.0.0:0",
	    "sip:h:65535", "sip:a1.b2.c", "sip:EXAMPLE.COM"};
	static const char *const bad[] = {"sip:", "sip:@h", "sip:a@", "sip:-h",
	    "sip:h-", "sip:a..b", "sip:.h", "sip:h_1", "sip:256.1.1.1",
	    "sip:1.2.3", "sip:1.2.3.4.5", "sip:1.2.3.4a", "sip:h.1",
	    "sip:h:65536", "sip:h:", "sip:h:1x", "sip:h:123456", "sip:a@h@i",
	    "sip:a b@h", "sip:h/x", "sip:a:b:c@h"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		parse_ok(good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != EBADMSG)
			fail_msg("accepted %s", bad[i]);
}

/* RFC 5118 section 4 and other IPv6 references. */
static void
test_ipv6(void **state)
{
	static const char *const good[] = {"sip:[2001:db8::10]",
	    "sip:[2001:db8::10]:5070", "sip:[2001:db8::10:5070]",
	    "sip:user@[2001:db8::192.0.2.1]", "sip:user@[::ffff:192.0.2.10]",
	    "sip:[::1]", "sip:[::]", "sip:[1:2:3:4:5:6:7:8]",
	    "sip:[1:2:3:4:5:6:192.0.2.1]", "sip:[fe80::1:2]",
	    "sip:[2001:DB8::A]", "sip:[1::]"};
	static const char *const bad[] = {"sip:2001:db8::10",
	    "sip:user@[2001:db8:::192.0.2.1]", "sip:[2001:db8::10", "sip:[]",
	    "sip:[:1]", "sip:[1:2:3:4:5:6:7:8:9]", "sip:[1:2:3:4:5:6:7]",
	    "sip:[1::2::3]", "sip:[12345::1]", "sip:[1:2:3:4:5:6:7:192.0.2.1]",
	    "sip:[::ffff:192.0.2.256]", "sip:[g::1]", "sip:[1:]",
	    "sip:[2001:db8::1]x", "sip:[2001:db8::1]:"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		parse_ok(good[i]);
		assert_int_equal(uri.host_type, SIP_HOST_IPV6);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != EBADMSG)
			fail_msg("accepted %s", bad[i]);
	/* 4.3 and 4.4: the port is outside the brackets only. */
	parse_ok("sip:[2001:db8::10:5070]");
	assert_sv(uri.host, "[2001:db8::10:5070]");
	assert_false(uri.has_port);
	parse_ok("sip:[2001:db8::10]:5070");
	assert_sv(uri.host, "[2001:db8::10]");
	assert_int_equal(uri.port, 5070);
	assert_true(sip_ipv6_check("2001:db8::9:255", 15));
	assert_false(sip_ipv6_check("2001:db8::9:255]", 16));
}

static void
test_escapes(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	parse_ok("sip:sips%3Auser%40example.com@example.net");
	assert_sv(uri.user, "sips%3Auser%40example.com");
	assert_sv(uri.host, "example.net");
	assert_int_equal(sip_uri_unescape(uri.user, out, sizeof(out), &n), 0);
	assert_int_equal(n, 21);
	assert_memory_equal(out, "sips:user@example.com", 21);

	parse_ok("sip:null-%00-null@example.com");
	assert_int_equal(sip_uri_unescape(uri.user, out, sizeof(out), &n), 0);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "null-\0-null", 11);
	/* Too small a buffer. */
	assert_int_equal(sip_uri_unescape(uri.user, out, 10, &n), EMSGSIZE);

	parse_ok(
	    "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
	assert_false(uri.lr); /* %6C%72 is not "lr" as written */
	{
		struct sv v;

		assert_int_equal(sip_uri_param(&uri, "n%61me", &v), 0);
		assert_sv(v, "v%61lue%25%34%31");
		assert_int_equal(sip_uri_unescape(v, out, sizeof(out), &n), 0);
		assert_int_equal(n, 8);
		assert_memory_equal(out, "value%41", 8); /* not recursive */
	}
	static const char *const bad[] = {"sip:a%@b", "sip:a%4@b", "sip:a%G0@b",
	    "sip:a@b;x=%", "sip:a@b?x=%zz", "sip:a:%x@b"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != EBADMSG)
			fail_msg("accepted %s", bad[i]);
	{
		struct sv v = {"a%4", 3};

		assert_int_equal(
		    sip_uri_unescape(v, out, sizeof(out), &n), EBADMSG);
	}
}

static void
test_unusual_user(void **state)
{
	(void)state;
	/* RFC 4475 3.1.1.2. */
	parse_ok("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has="
	         "1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
	assert_sv(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
	assert_sv(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
	assert_sv(uri.host, "example.com");
	/* RFC 4475 3.1.1.9. */
	parse_ok("sip:user;par=u%40example.net@example.com");
	assert_sv(uri.user, "user;par=u%40example.net");
}

static void
test_tel_and_other(void **state)
{
	struct sv v;

	(void)state;
	parse_ok("tel:+1-201-555-0123");
	assert_int_equal(uri.scheme, SIP_URI_TEL);
	assert_sv(uri.user, "+1-201-555-0123");
	assert_int_equal(uri.host.len, 0);
	parse_ok("tel:7042;phone-context=example.com");
	assert_sv(uri.user, "7042");
	assert_int_equal(sip_uri_param(&uri, "phone-context", &v), 0);
	assert_sv(v, "example.com");
	parse_ok("tel:*21#;ext=1");
	assert_int_equal(parse("tel:+"), EBADMSG);
	assert_int_equal(parse("tel:"), EBADMSG);
	assert_int_equal(parse("tel:12 34"), EBADMSG);
	assert_int_equal(parse("tel:1+2"), EBADMSG);

	parse_ok("nobodyKnowsThisScheme:totallyopaquecontent");
	assert_int_equal(uri.scheme, SIP_URI_OTHER);
	assert_sv(uri.scheme_name, "nobodyKnowsThisScheme");
	assert_sv(uri.opaque, "totallyopaquecontent");
	parse_ok("soap.beep://192.0.2.103:3002");
	assert_sv(uri.scheme_name, "soap.beep");
	parse_ok("http://[2001:db8::1]/x?y=1");
	parse_ok("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
	static const char *const bad[] = {"", ":x", "1abc:x", "x",
	    "x:", "ht tp://a", "http://a b", "http://a<b>", "mailto:a\"b"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != EBADMSG)
			fail_msg("accepted %s", bad[i]);
}

static void
test_addrspec(void **state)
{
	const char *s;
	size_t used;

	(void)state;
	s = "sip:caller@example.net;tag=93942939o2";
	assert_int_equal(sip_uri_parse_addrspec(s, strlen(s), &uri, &used), 0);
	assert_int_equal(used, strlen("sip:caller@example.net"));
	assert_int_equal(uri.params.len, 0);
	s = "sip:+19725552222@gw1.example.net;unknownparam";
	assert_int_equal(sip_uri_parse_addrspec(s, strlen(s), &uri, &used), 0);
	assert_sv(uri.host, "gw1.example.net");
	s = "sip:user;par=x@example.com:5060 ;tag=1";
	assert_int_equal(sip_uri_parse_addrspec(s, strlen(s), &uri, &used), 0);
	assert_sv(uri.user, "user;par=x");
	assert_int_equal(uri.port, 5060);
	assert_int_equal(used, strlen("sip:user;par=x@example.com:5060"));
	s = "sip:a@b, sip:c@d";
	assert_int_equal(sip_uri_parse_addrspec(s, strlen(s), &uri, &used), 0);
	assert_int_equal(used, 7);
	s = "tel:+1234;phone-context=x";
	assert_int_equal(sip_uri_parse_addrspec(s, strlen(s), &uri, &used), 0);
	assert_int_equal(used, 9);
	s = "isbn:2983792873";
	assert_int_equal(sip_uri_parse_addrspec(s, strlen(s), &uri, &used), 0);
	assert_int_equal(used, strlen(s));
}

static bool
eq(const char *a, const char *b)
{
	struct sip_uri ua, ub;

	assert_int_equal(sip_uri_parse(a, strlen(a), &ua), 0);
	assert_int_equal(sip_uri_parse(b, strlen(b), &ub), 0);
	assert_true(sip_uri_equal(&ua, &ua));
	assert_true(sip_uri_equal(&ub, &ub));
	assert_int_equal(sip_uri_equal(&ua, &ub), sip_uri_equal(&ub, &ua));
	return sip_uri_equal(&ua, &ub);
}

/* RFC 3261 19.1.4. */
static void
test_equal(void **state)
{
	(void)state;
	assert_true(eq("sip:%61lice@atlanta.com;transport=TCP",
	    "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(
	    eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(
	    eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:carol@chicago.com;newparam=5",
	    "sip:carol@chicago.com;security=on"));
	assert_true(eq(
	    "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%"
	    "40biloxi.com",
	    "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi."
	    "com"));
	assert_true(
	    eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
	        "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));

	assert_false(eq("SIP:ALICE@AtLanTa.CoM;Transport=udp",
	    "sip:alice@AtLanTa.CoM;Transport=UDP"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	assert_false(
	    eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	assert_false(
	    eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	assert_false(eq("sip:carol@chicago.com",
	    "sip:carol@chicago.com?Subject=next%20meeting"));
	assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	assert_false(eq("sip:carol@chicago.com;security=on",
	    "sip:carol@chicago.com;security=off"));
	/* sip and sips differ; an escaped reserved character differs from
	 * the character; user and password compare case-sensitively. */
	assert_false(eq("sip:a@b", "sips:a@b"));
	assert_false(eq("sip:a%3Bb@h", "sip:a;b@h"));
	assert_true(eq("sip:a%62c@h", "sip:abc@h"));
	assert_false(eq("sip:a:x@h", "sip:a:X@h"));
	assert_false(eq("sip:a:x@h", "sip:a@h"));
	assert_false(eq("sip:h", "sip:a@h"));
	assert_false(eq("sip:a@b;maddr=x", "sip:a@b"));
	assert_false(eq("sip:a@b;ttl=1", "sip:a@b;ttl=2"));
	assert_true(eq("sip:a@[2001:DB8::1]", "sip:a@[2001:db8::1]"));
	assert_false(eq("sip:a@b?x=1", "sip:a@b?x=1&y=2"));
	assert_false(eq("sip:a@b?x=A", "sip:a@b?x=a"));
	/* tel: visual separators do not count; parameters all must match. */
	assert_true(eq("tel:+1-201-555-0123", "tel:+12015550123"));
	assert_false(eq("tel:+1-201-555-0123", "tel:+12015550124"));
	assert_false(eq("tel:1234;phone-context=a", "tel:1234"));
	assert_true(eq("tel:1234;Phone-Context=A", "tel:1234;phone-context=a"));
	/* Other schemes: the text. */
	assert_true(eq("HTTP://x/y", "http://x/y"));
	assert_false(eq("http://x/y", "http://x/Y"));
	assert_false(eq("sip:a@b", "tel:+1"));
}

static void
test_limits(void **state)
{
	char buf[SIP_URI_MAX + 64];
	size_t i, n;

	(void)state;
	/* Exactly SIP_URI_MAX bytes pass, one more not. */
	memcpy(buf, "sip:", 4);
	n = 4;
	while (n < SIP_URI_MAX - 2)
		buf[n++] = 'u';
	memcpy(buf + n, "@h", 2);
	n += 2;
	assert_int_equal(sip_uri_parse(buf, n, &uri), 0);
	memmove(buf + 5, buf + 4, n - 4);
	n++;
	assert_int_equal(sip_uri_parse(buf, n, &uri), EMSGSIZE);
	/* SIP_PARAMS_MAX parameters pass, one more not. */
	memcpy(buf, "sip:h", 5);
	n = 5;
	for (i = 0; i < SIP_PARAMS_MAX; i++) {
		memcpy(buf + n, ";p", 2);
		n += 2;
	}
	assert_int_equal(sip_uri_parse(buf, n, &uri), 0);
	assert_int_equal(uri.nparams, SIP_PARAMS_MAX);
	memcpy(buf + n, ";p", 2);
	n += 2;
	assert_int_equal(sip_uri_parse(buf, n, &uri), EMSGSIZE);
	/* SIP_PARAMS_MAX URI headers pass, one more not. */
	memcpy(buf, "sip:h?", 6);
	n = 6;
	for (i = 0; i < SIP_PARAMS_MAX; i++) {
		memcpy(buf + n, "h=1&", 4);
		n += 4;
	}
	assert_int_equal(sip_uri_parse(buf, n - 1, &uri), 0);
	memcpy(buf + n, "h=1", 3);
	assert_int_equal(sip_uri_parse(buf, n + 3, &uri), EMSGSIZE);
	/* Out-parameters stay alone on errors. */
	memset(&uri, 0x5a, sizeof(uri));
	assert_int_equal(parse("sip:"), EBADMSG);
	assert_int_equal(uri.port, 0x5a5a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc3261_examples),
	    cmocka_unit_test(test_params),
	    cmocka_unit_test(test_hosts),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_unusual_user),
	    cmocka_unit_test(test_tel_and_other),
	    cmocka_unit_test(test_addrspec),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
