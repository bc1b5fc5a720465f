/* bencode_test.c: unit tests of the bencode parser and builder
 * (src/media/bencode.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/bencode.h"

static struct bencode_node nodes[BENCODE_NODES_MAX];

/* Parses the NUL-terminated s (without its NUL) and returns the result;
 * sets *why. */
static int
parse(const char *s, size_t *n, const char **why)
{
	return bencode_parse(s, strlen(s), nodes, BENCODE_NODES_MAX, n, why);
}

static void
assert_sv(struct sv v, const char *s)
{
	assert_int_equal(v.len, strlen(s));
	assert_memory_equal(v.p, s, v.len);
}

static void
test_scalars(void **state)
{
	const char *why;
	size_t n;

	(void)state;
	assert_int_equal(parse("4:spam", &n, &why), 0);
	assert_null(why);
	assert_int_equal(n, 1);
	assert_int_equal(nodes[0].type, BENCODE_STR);
	assert_sv(nodes[0].s, "spam");
	assert_sv(nodes[0].raw, "4:spam");
	assert_int_equal(nodes[0].skip, 1);

	assert_int_equal(parse("0:", &n, &why), 0);
	assert_int_equal(nodes[0].type, BENCODE_STR);
	assert_int_equal(nodes[0].s.len, 0);
	assert_non_null(nodes[0].s.p);

	assert_int_equal(parse("i42e", &n, &why), 0);
	assert_int_equal(nodes[0].type, BENCODE_INT);
	assert_int_equal(nodes[0].i, 42);
	assert_sv(nodes[0].raw, "i42e");
	assert_int_equal(parse("i0e", &n, &why), 0);
	assert_int_equal(nodes[0].i, 0);
	assert_int_equal(parse("i-42e", &n, &why), 0);
	assert_int_equal(nodes[0].i, -42);
	assert_int_equal(parse("i9223372036854775807e", &n, &why), 0);
	assert_true(nodes[0].i == INT64_MAX);
	assert_int_equal(parse("i-9223372036854775808e", &n, &why), 0);
	assert_true(nodes[0].i == INT64_MIN);

	/* binary bytes in a string, NUL included */
	assert_int_equal(bencode_parse("3:a\0b", 5, nodes, 4, &n, &why), 0);
	assert_int_equal(nodes[0].s.len, 3);
	assert_memory_equal(nodes[0].s.p, "a\0b", 3);
}

static void
test_containers(void **state)
{
	const char *in = "d4:listl1:ai7ee3:str5:value1:xdee";
	const struct bencode_node *v, *k;
	struct bencode_iter it;
	const char *why;
	size_t n;

	(void)state;
	assert_int_equal(parse(in, &n, &why), 0);
	/* dict, list, key, "a", 7, key, "value", key, {} */
	assert_int_equal(n, 9);
	assert_int_equal(nodes[0].type, BENCODE_DICT);
	assert_int_equal(nodes[0].len, 3);
	assert_int_equal(nodes[0].skip, 9);
	assert_sv(nodes[0].raw, in);

	v = bencode_dict_get(&nodes[0], "list");
	assert_non_null(v);
	assert_int_equal(v->type, BENCODE_LIST);
	assert_int_equal(v->len, 2);
	assert_int_equal(v->skip, 3);
	assert_sv(v->raw, "l1:ai7ee");
	bencode_iter_init(&it, v);
	k = bencode_list_next(&it);
	assert_non_null(k);
	assert_sv(k->s, "a");
	k = bencode_list_next(&it);
	assert_non_null(k);
	assert_int_equal(k->i, 7);
	assert_null(bencode_list_next(&it));
	assert_null(bencode_list_next(&it));

	v = bencode_dict_get(&nodes[0], "str");
	assert_non_null(v);
	assert_sv(v->s, "value");
	v = bencode_dict_get(&nodes[0], "x");
	assert_non_null(v);
	assert_int_equal(v->type, BENCODE_DICT);
	assert_int_equal(v->len, 0);
	assert_sv(v->raw, "de");
	assert_null(bencode_dict_get(&nodes[0], "missing"));
	assert_null(bencode_dict_get(&nodes[0], "lis"));
	assert_null(bencode_dict_getn(&nodes[0], "listx", 5));
	assert_non_null(bencode_dict_getn(&nodes[0], "listx", 4));
	/* not a dictionary */
	assert_null(bencode_dict_get(&nodes[1], "a"));
	assert_null(bencode_dict_get(NULL, "a"));

	/* iteration in input order */
	bencode_iter_init(&it, &nodes[0]);
	assert_true(bencode_dict_next(&it, &k, &v));
	assert_sv(k->s, "list");
	assert_int_equal(v->type, BENCODE_LIST);
	assert_true(bencode_dict_next(&it, &k, &v));
	assert_sv(k->s, "str");
	assert_true(bencode_dict_next(&it, &k, &v));
	assert_sv(k->s, "x");
	assert_false(bencode_dict_next(&it, &k, &v));

	/* a scalar yields nothing */
	bencode_iter_init(&it, &nodes[1]);
	assert_null(bencode_list_next(&it));
	assert_false(bencode_dict_next(&it, &k, &v));

	/* empty key */
	assert_int_equal(parse("d0:i1ee", &n, &why), 0);
	v = bencode_dict_getn(&nodes[0], NULL, 0);
	assert_non_null(v);
	assert_int_equal(v->i, 1);
}

/* Keys in any order are accepted (rtpengine's clients send them unsorted);
 * a key twice is not. */
static void
test_key_order(void **state)
{
	const char *why;
	size_t n;

	(void)state;
	assert_int_equal(parse("d1:b1:x1:a1:ye", &n, &why), 0);
	assert_sv(bencode_dict_get(&nodes[0], "a")->s, "y");
	assert_sv(bencode_dict_get(&nodes[0], "b")->s, "x");

	assert_int_equal(parse("d1:a1:b1:a1:ce", &n, &why), EBADMSG);
	assert_string_equal(why, "duplicate dictionary key");
	assert_int_equal(
	    parse("d1:ali1ei2ee1:b0:1:ad1:ai1eee", &n, &why), EBADMSG);
	assert_string_equal(why, "duplicate dictionary key");
	/* the same key in different dictionaries is fine */
	assert_int_equal(parse("d1:ad1:ai1ee1:bd1:ai2eee", &n, &why), 0);
	/* a value equal to a key is not a key */
	assert_int_equal(parse("d1:a1:b1:b1:ae", &n, &why), 0);
}

struct reject {
	const char *in;
	int err;
	const char *why;
};

static void
test_rejects(void **state)
{
	static const struct reject r[] = {
	    {"", EBADMSG, "empty input"},
	    {"x", EBADMSG, "not a bencoded value"},
	    {"-1:a", EBADMSG, "not a bencoded value"},
	    {" i1e", EBADMSG, "not a bencoded value"},
	    {"i03e", EBADMSG, "leading zero in integer"},
	    {"i00e", EBADMSG, "leading zero in integer"},
	    {"i-03e", EBADMSG, "leading zero in integer"},
	    {"i-0e", EBADMSG, "negative zero"},
	    {"ie", EBADMSG, "empty integer"},
	    {"i-e", EBADMSG, "empty integer"},
	    {"i+1e", EBADMSG, "malformed integer"},
	    {"i1.5e", EBADMSG, "malformed integer"},
	    {"i 1e", EBADMSG, "malformed integer"},
	    {"i12", EBADMSG, "malformed integer"},
	    {"i", EBADMSG, "malformed integer"},
	    {"i9223372036854775808e", EBADMSG, "integer out of range"},
	    {"i-9223372036854775809e", EBADMSG, "integer out of range"},
	    {"i99999999999999999999999e", EBADMSG, "integer out of range"},
	    {"03:abc", EBADMSG, "leading zero in string length"},
	    {"00:", EBADMSG, "leading zero in string length"},
	    {"5:abc", EBADMSG, "string longer than the input"},
	    {"1:", EBADMSG, "string longer than the input"},
	    {"99999999999999999999:a", EBADMSG, "string longer than the input"},
	    {"3abc", EBADMSG, "malformed string length"},
	    {"3", EBADMSG, "malformed string length"},
	    {"di1e3:fooe", EBADMSG, "dictionary key is not a string"},
	    {"dl1:ae1:be", EBADMSG, "dictionary key is not a string"},
	    {"dde1:ae", EBADMSG, "dictionary key is not a string"},
	    {"d3:fooe", EBADMSG, "dictionary key without a value"},
	    {"d1:a1:b1:ce", EBADMSG, "dictionary key without a value"},
	    {"l4:spam", EBADMSG, "unterminated list or dictionary"},
	    {"d1:a1:b", EBADMSG, "unterminated list or dictionary"},
	    {"l", EBADMSG, "unterminated list or dictionary"},
	    {"e", EBADMSG, "not a bencoded value"},
	    {"4:spamX", EBADMSG, "bytes after the value"},
	    {"i1ei2e", EBADMSG, "bytes after the value"},
	    {"dee", EBADMSG, "bytes after the value"},
	    {"de\n", EBADMSG, "bytes after the value"},
	    {"lxe", EBADMSG, "not a bencoded value"},
	};
	const char *why;
	size_t i, n;

	(void)state;
	for (i = 0; i < ARRAY_LEN(r); i++) {
		int err = parse(r[i].in, &n, &why);

		if (err != r[i].err || why == NULL ||
		    strcmp(why, r[i].why) != 0)
			fail_msg("\"%s\": got %d (%s), want %d (%s)", r[i].in,
			    err, why ? why : "-", r[i].err, r[i].why);
	}
	/* an input cut anywhere fails; only the whole parses */
	{
		const char *in = "d3:keyl1:ai-7ee1:yd1:xi0eee";

		for (i = 0; i < strlen(in); i++)
			assert_int_equal(
			    bencode_parse(in, i, nodes, 64, &n, &why), EBADMSG);
		assert_int_equal(bencode_parse(in, i, nodes, 64, &n, &why), 0);
	}
	assert_int_equal(bencode_parse(NULL, 1, nodes, 4, &n, &why), EINVAL);
	assert_int_equal(bencode_parse("i1e", 3, NULL, 4, &n, &why), EINVAL);
	assert_int_equal(bencode_parse("i1e", 3, nodes, 4, NULL, &why), EINVAL);
	assert_int_equal(bencode_parse(NULL, 0, nodes, 4, &n, NULL), EBADMSG);
}

static void
test_limits(void **state)
{
	char in[2 * BENCODE_DEPTH_MAX + 8];
	const char *why;
	size_t i, n;

	(void)state;
	/* BENCODE_DEPTH_MAX nested lists parse; one more does not */
	for (i = 0; i < BENCODE_DEPTH_MAX; i++) {
		in[i] = 'l';
		in[BENCODE_DEPTH_MAX + i] = 'e';
	}
	assert_int_equal(bencode_parse(in, 2 * BENCODE_DEPTH_MAX, nodes,
	                     BENCODE_NODES_MAX, &n, &why),
	    0);
	assert_int_equal(n, BENCODE_DEPTH_MAX);
	assert_int_equal(nodes[0].skip, BENCODE_DEPTH_MAX);
	for (i = 0; i <= BENCODE_DEPTH_MAX; i++) {
		in[i] = 'l';
		in[BENCODE_DEPTH_MAX + 1 + i] = 'e';
	}
	assert_int_equal(bencode_parse(in, 2 * BENCODE_DEPTH_MAX + 2, nodes,
	                     BENCODE_NODES_MAX, &n, &why),
	    EMSGSIZE);
	assert_string_equal(why, "nested too deep");

	/* nodes: "li1ei2ei3ee" needs 4 */
	assert_int_equal(
	    bencode_parse("li1ei2ei3ee", 11, nodes, 4, &n, &why), 0);
	assert_int_equal(n, 4);
	assert_int_equal(
	    bencode_parse("li1ei2ei3ee", 11, nodes, 3, &n, &why), EMSGSIZE);
	assert_string_equal(why, "too many values");
	assert_int_equal(bencode_parse("i1e", 3, nodes, 0, &n, &why), EMSGSIZE);

	/* a list of BENCODE_NODES_MAX - 1 items fills the array exactly */
	{
		static char big[2 + 3 * BENCODE_NODES_MAX];
		size_t len = 0;

		big[len++] = 'l';
		for (i = 0; i < BENCODE_NODES_MAX - 1; i++) {
			memcpy(big + len, "i0e", 3);
			len += 3;
		}
		big[len++] = 'e';
		assert_int_equal(
		    bencode_parse(big, len, nodes, BENCODE_NODES_MAX, &n, &why),
		    0);
		assert_int_equal(n, BENCODE_NODES_MAX);
		assert_int_equal(nodes[0].len, BENCODE_NODES_MAX - 1);
		memmove(big + 4, big + 1, len - 1);
		memcpy(big + 1, "i0e", 3);
		assert_int_equal(bencode_parse(big, len + 3, nodes,
		                     BENCODE_NODES_MAX, &n, &why),
		    EMSGSIZE);
	}
}

static void
test_key_cmp(void **state)
{
	(void)state;
	assert_true(bencode_key_cmp("a", 1, "b", 1) < 0);
	assert_true(bencode_key_cmp("b", 1, "a", 1) > 0);
	assert_true(bencode_key_cmp("ab", 2, "ab", 2) == 0);
	assert_true(bencode_key_cmp("a", 1, "ab", 2) < 0); /* prefix first */
	assert_true(bencode_key_cmp("ab", 2, "a", 1) > 0);
	assert_true(bencode_key_cmp("", 0, "a", 1) < 0);
	assert_true(bencode_key_cmp("z", 1, "\x80", 1) < 0); /* unsigned */
	assert_true(bencode_key_cmp("B", 1, "a", 1) < 0);    /* bytes */
	assert_true(bencode_key_cmp("last signal", 11, "result", 6) < 0);
	assert_true(bencode_key_cmp("error-reason", 12, "result", 6) < 0);
}

/* The builder output equals want, and parses back. */
static void
assert_built(struct bencode_buf *b, const char *want)
{
	const char *why;
	size_t len = 0, n;

	assert_int_equal(bencode_buf_finish(b, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(b->p, want, len);
	assert_int_equal(
	    bencode_parse(b->p, len, nodes, BENCODE_NODES_MAX, &n, &why), 0);
}

static void
test_build(void **state)
{
	char buf[512];
	struct bencode_buf b;

	(void)state;
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_str(&b, "spam", 4);
	assert_built(&b, "4:spam");

	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_str(&b, NULL, 0);
	assert_built(&b, "0:");

	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_int(&b, 0);
	assert_built(&b, "i0e");
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_int(&b, -42);
	assert_built(&b, "i-42e");
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_int(&b, INT64_MIN);
	assert_built(&b, "i-9223372036854775808e");
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_int(&b, INT64_MAX);
	assert_built(&b, "i9223372036854775807e");

	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_list(&b);
	bencode_put_end(&b);
	assert_built(&b, "le");

	/* the shape of an rtpengine query reply, keys in order */
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	bencode_put_kv_int(&b, "created", 1700000000);
	bencode_put_kv_int(&b, "last signal", 1700000042);
	bencode_put_kv_cstr(&b, "result", "ok");
	bencode_put_key(&b, "tags");
	bencode_put_dict(&b);
	bencode_put_key(&b, "ft1");
	bencode_put_dict(&b);
	bencode_put_kv_int(&b, "created", 1700000000);
	bencode_put_key(&b, "medias");
	bencode_put_list(&b);
	bencode_put_cstr(&b, "audio");
	bencode_put_end(&b);
	bencode_put_kv_cstr(&b, "tag", "ft1");
	bencode_put_end(&b);
	bencode_put_end(&b);
	bencode_put_key(&b, "totals");
	bencode_put_dict(&b);
	bencode_put_key(&b, "RTCP");
	bencode_put_dict(&b);
	bencode_put_kv_int(&b, "bytes", 0);
	bencode_put_kv_int(&b, "errors", 0);
	bencode_put_kv_int(&b, "packets", 0);
	bencode_put_end(&b);
	bencode_put_key(&b, "RTP");
	bencode_put_dict(&b);
	bencode_put_kv_int(&b, "bytes", 17200);
	bencode_put_kv_int(&b, "errors", 1);
	bencode_put_kv_int(&b, "packets", 100);
	bencode_put_end(&b);
	bencode_put_end(&b);
	assert_int_equal(bencode_put_end(&b), 0);
	assert_built(&b,
	    "d7:createdi1700000000e11:last signali1700000042e6:result2:ok"
	    "4:tagsd3:ft1d7:createdi1700000000e6:mediasl5:audioe3:tag3:ft1ee"
	    "6:totalsd4:RTCPd5:bytesi0e6:errorsi0e7:packetsi0ee"
	    "3:RTPd5:bytesi17200e6:errorsi1e7:packetsi100eeee");
	/* and it parses with the same views */
	assert_int_equal(
	    bencode_dict_get(
	        bencode_dict_get(bencode_dict_get(&nodes[0], "totals"), "RTP"),
	        "bytes")
	        ->i,
	    17200);

	/* binary-safe keys and values */
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	bencode_put_keyn(&b, "a\0", 2);
	bencode_put_str(&b, "\0\xff", 2);
	bencode_put_keyn(&b, "a\x01", 2);
	bencode_put_str(&b, "", 0);
	bencode_put_end(&b);
	assert_int_equal(bencode_buf_finish(&b, &(size_t){0}), 0);
	assert_int_equal(b.len, 16);
	assert_memory_equal(buf,
	    "d2:a\0"
	    "2:\0\xff"
	    "2:a\x01"
	    "0:e",
	    16);
}

static void
test_build_misuse(void **state)
{
	char buf[64];
	struct bencode_buf b;
	size_t len;

	(void)state;
	/* keys out of order, and the same key twice */
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	bencode_put_kv_int(&b, "result", 1);
	assert_int_equal(bencode_put_key(&b, "created"), EINVAL);
	assert_int_equal(bencode_buf_finish(&b, &len), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	bencode_put_kv_int(&b, "a", 1);
	assert_int_equal(bencode_put_kv_int(&b, "a", 2), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	bencode_put_kv_int(&b, "ab", 1);
	assert_int_equal(bencode_put_kv_int(&b, "a", 2), EINVAL);
	/* ... and sticky: a good call after it fails too */
	assert_int_equal(bencode_put_kv_int(&b, "b", 2), EINVAL);
	assert_int_equal(bencode_put_end(&b), EINVAL);

	/* a key outside a dictionary; a value where a key is due */
	bencode_buf_init(&b, buf, sizeof(buf));
	assert_int_equal(bencode_put_key(&b, "a"), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_list(&b);
	assert_int_equal(bencode_put_key(&b, "a"), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	assert_int_equal(bencode_put_int(&b, 1), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	assert_int_equal(bencode_put_dict(&b), EINVAL);
	/* two keys in a row; a dictionary closed after a key */
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	bencode_put_key(&b, "a");
	assert_int_equal(bencode_put_key(&b, "b"), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	bencode_put_key(&b, "a");
	assert_int_equal(bencode_put_end(&b), EINVAL);

	/* a second top-level value; an end with nothing open */
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_int(&b, 1);
	assert_int_equal(bencode_put_int(&b, 2), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	assert_int_equal(bencode_put_end(&b), EINVAL);

	/* nothing written; left open */
	bencode_buf_init(&b, buf, sizeof(buf));
	assert_int_equal(bencode_buf_finish(&b, &len), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_list(&b);
	assert_int_equal(bencode_buf_finish(&b, &len), EINVAL);

	/* nesting */
	{
		int i;

		bencode_buf_init(&b, buf, sizeof(buf));
		for (i = 0; i < BENCODE_DEPTH_MAX; i++)
			assert_int_equal(bencode_put_list(&b), 0);
		assert_int_equal(bencode_put_list(&b), EINVAL);
	}

	/* NULL */
	bencode_buf_init(&b, buf, sizeof(buf));
	assert_int_equal(bencode_put_str(&b, NULL, 1), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	assert_int_equal(bencode_put_cstr(&b, NULL), EINVAL);
	bencode_buf_init(&b, buf, sizeof(buf));
	bencode_put_dict(&b);
	assert_int_equal(bencode_put_key(&b, NULL), EINVAL);
}

/* Every buffer size short of the output fails with EMSGSIZE, and writes
 * nothing past it. */
static void
test_build_small(void **state)
{
	static const char want[] = "d12:error-reason5:oops!6:result5:errore";
	size_t size, len;

	(void)state;
	for (size = 0; size <= sizeof(want) - 1; size++) {
		char buf[sizeof(want) + 8];
		struct bencode_buf b;
		int err;

		memset(buf, '#', sizeof(buf));
		bencode_buf_init(&b, buf, size);
		bencode_put_dict(&b);
		bencode_put_kv_cstr(&b, "error-reason", "oops!");
		bencode_put_kv_cstr(&b, "result", "error");
		bencode_put_end(&b);
		err = bencode_buf_finish(&b, &len);
		if (size < sizeof(want) - 1) {
			assert_int_equal(err, EMSGSIZE);
		} else {
			assert_int_equal(err, 0);
			assert_int_equal(len, size);
			assert_memory_equal(buf, want, len);
		}
		assert_int_equal(buf[size], '#');
	}
	{
		struct bencode_buf b;

		bencode_buf_init(&b, NULL, 100);
		assert_int_equal(bencode_put_int(&b, 1), EMSGSIZE);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_containers),
	    cmocka_unit_test(test_key_order),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_key_cmp),
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_build_misuse),
	    cmocka_unit_test(test_build_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
