/* csv_test.c: unit tests of the RFC 4180 reader (src/lib/csv.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "lib/csv.h"

enum { RENDER_MAX = 4096 };

/* Appends to out (size RENDER_MAX) with snprintf; truncation fails the test
 * through the comparison. */
static void render_put(char *out, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
render_put(char *out, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= RENDER_MAX - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *used, RENDER_MAX - *used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= RENDER_MAX - *used)
		*used = RENDER_MAX - 1;
	else
		*used += (size_t)n;
}

/* Parses all of in and writes each record as "LINE<f1><f2>... ", then the
 * final result: "." for ENODATA, "EBADMSG@LINE:reason" or
 * "EMSGSIZE@LINE:reason". Checks the invariants of every record on the way,
 * and that an error is sticky. */
static void
render(const char *in, size_t len, char *out)
{
	struct csv_reader r;
	struct csv_record rec;
	size_t used = 0, i, prev_line = 0;
	int err;

	out[0] = '\0';
	csv_reader_init(&r, in, len);
	while ((err = csv_record_next(&r, &rec)) == 0) {
		assert_true(rec.nfields >= 1 && rec.nfields <= CSV_FIELDS_MAX);
		assert_true(rec.line > prev_line);
		prev_line = rec.line;
		render_put(out, &used, "%zu", rec.line);
		for (i = 0; i < rec.nfields; i++) {
			assert_true(rec.f[i].p >= rec.buf);
			assert_true(
			    rec.f[i].len <=
			    (size_t)(rec.buf + CSV_RECORD_MAX - rec.f[i].p));
			render_put(out, &used, "<%.*s>", (int)rec.f[i].len,
			    rec.f[i].p);
		}
		render_put(out, &used, " ");
	}
	if (err == ENODATA) {
		assert_string_equal(r.err, "");
		render_put(out, &used, ".");
	} else {
		assert_true(err == EBADMSG || err == EMSGSIZE);
		assert_true(r.err[0] != '\0');
		render_put(out, &used, "%s@%zu:%s",
		    err == EBADMSG ? "EBADMSG" : "EMSGSIZE", r.err_line, r.err);
	}
	assert_int_equal(csv_record_next(&r, &rec), err); /* sticky */
}

/* in must be a string literal: its length is taken with sizeof, so it may
 * hold NUL bytes. */
#define CHECK(in, expect)                                                      \
	do {                                                                   \
		char out_[RENDER_MAX];                                         \
		render((in), sizeof(in) - 1, out_);                            \
		assert_string_equal(out_, (expect));                           \
	} while (0)

static void
test_simple(void **state)
{
	(void)state;
	CHECK("a,b,c\nd,e,f\n", "1<a><b><c> 2<d><e><f> .");
	CHECK("one\n", "1<one> .");
	CHECK("x y , z\n", "1<x y >< z> .");
	CHECK("", ".");
	CHECK("extension,name,password\r\n1001,\"Doe, Jane\",\r\n"
	      "1002,Bob,Xk3#pL9qR2\r\n",
	    "1<extension><name><password> 2<1001><Doe, Jane><> "
	    "3<1002><Bob><Xk3#pL9qR2> .");
}

static void
test_null_buffer(void **state)
{
	struct csv_reader r;
	struct csv_record rec;

	(void)state;
	csv_reader_init(&r, NULL, 0);
	assert_int_equal(csv_record_next(&r, &rec), ENODATA);
	assert_int_equal(csv_record_next(&r, &rec), ENODATA);
}

static void
test_quoted(void **state)
{
	(void)state;
	CHECK("\"Doe, Jane\",b\n", "1<Doe, Jane><b> .");
	CHECK("\"say \"\"hi\"\"\"\n", "1<say \"hi\"> .");
	CHECK("\"\"\"\"\n", "1<\"> .");
	CHECK("\"\"\n", "1<> .");
	CHECK("\"\",\"\"\n", "1<><> .");
	CHECK("a,\"\"\n", "1<a><> .");
	/* A quoted field spans lines; later records keep their line. */
	CHECK("\"line1\nline2\nline3\",x\nnext\n",
	    "1<line1\nline2\nline3><x> 4<next> .");
	CHECK("\"a\r\nb\"\r\nz\r\n", "1<a\r\nb> 3<z> .");
	/* A lone CR inside quotes is data and no line. */
	CHECK("\"a\rb\"\nz\n", "1<a\rb> 2<z> .");
	/* Blank lines inside quotes are data, not skipped. */
	CHECK("\"\n\n\"\nz\n", "1<\n\n> 4<z> .");
	CHECK("a,\"b\nc\",\"d\"\"\ne\"\nf", "1<a><b\nc><d\"\ne> 4<f> .");
}

static void
test_line_endings(void **state)
{
	(void)state;
	CHECK("a\r\nb\r\n", "1<a> 2<b> .");
	CHECK("a\nb\r\nc\n", "1<a> 2<b> 3<c> .");
	CHECK("a,b\r\n", "1<a><b> .");
	CHECK("\"a\"\r\n\"b\"\n", "1<a> 2<b> .");
	/* The last record may lack a line ending. */
	CHECK("a,b", "1<a><b> .");
	CHECK("a\nb", "1<a> 2<b> .");
	CHECK("a,\"b\"", "1<a><b> .");
	CHECK("\"\"", "1<> .");
	/* Trailing line endings make no extra record. */
	CHECK("a\n\n\n", "1<a> .");
	CHECK("a\r\n\r\n", "1<a> .");
}

static void
test_empty_fields(void **state)
{
	(void)state;
	CHECK("a,,b\n", "1<a><><b> .");
	CHECK("a,\n", "1<a><> .");
	CHECK("a,", "1<a><> .");
	CHECK(",\n", "1<><> .");
	CHECK(",,\r\n", "1<><><> .");
	CHECK("\"a\",\n", "1<a><> .");
}

static void
test_blank_lines(void **state)
{
	(void)state;
	CHECK("\n\r\na\n\n\nb\r\n\r\nc", "3<a> 6<b> 8<c> .");
	CHECK("\n\n\n", ".");
	CHECK("\r\n", ".");
	/* A line of spaces is a record, not a blank line. */
	CHECK("a\n \nb\n", "1<a> 2< > 3<b> .");
}

static void
test_bom(void **state)
{
	(void)state;
	CHECK("\xEF\xBB\xBF"
	      "extension,name\n1001,x\n",
	    "1<extension><name> 2<1001><x> .");
	CHECK("\xEF\xBB\xBF", ".");
	CHECK("\xEF\xBB\xBF\n\na", "3<a> .");
	CHECK("\xEF\xBB\xBF\"q\"", "1<q> .");
	/* Only at the very start, and only whole. */
	CHECK("a\n\xEF\xBB\xBF"
	      "b\n",
	    "1<a> 2<\xEF\xBB\xBF"
	    "b> .");
	CHECK("\xEF\xBB"
	      "x\n",
	    "1<\xEF\xBB"
	    "x> .");
	CHECK("\n\xEF\xBB\xBF"
	      "a",
	    "2<\xEF\xBB\xBF"
	    "a> .");
}

static void
test_errors(void **state)
{
	(void)state;
	CHECK("a\n\"abc\ndef\n", "1<a> EBADMSG@2:unterminated quoted field");
	CHECK("\"", "EBADMSG@1:unterminated quoted field");
	CHECK("a,\"b\"\"", "EBADMSG@1:unterminated quoted field");
	CHECK("a\n\"x\"y\n", "1<a> EBADMSG@2:text after closing quote");
	CHECK("\"x\" ,y\n", "EBADMSG@1:text after closing quote");
	CHECK("\"x\"\"\"y\n", "EBADMSG@1:text after closing quote");
	CHECK("a\nab\"c\n", "1<a> EBADMSG@2:quote in unquoted field");
	CHECK("a, \"b\"\n", "EBADMSG@1:quote in unquoted field");
	CHECK("a\"\n", "EBADMSG@1:quote in unquoted field");
	CHECK("a\nb\rc\n", "1<a> EBADMSG@2:CR not followed by LF");
	CHECK("a\r", "EBADMSG@1:CR not followed by LF");
	CHECK("a\n\rb\n", "1<a> EBADMSG@2:CR not followed by LF");
	CHECK("a\n\r", "1<a> EBADMSG@2:CR not followed by LF");
	CHECK("\"a\"\rb\n", "EBADMSG@1:CR not followed by LF");
	CHECK("a\r\r\n", "EBADMSG@1:CR not followed by LF");
	/* After a record spanning lines, errors carry the right line. */
	CHECK("\"a\nb\nc\",x\nd\"e\n",
	    "1<a\nb\nc><x> EBADMSG@4:quote in unquoted field");
	CHECK("x\n\n\"a\nb\nc", "1<x> EBADMSG@3:unterminated quoted field");
	CHECK("x\n\"a\nb\"c", "1<x> EBADMSG@3:text after closing quote");
}

static void
test_nul(void **state)
{
	(void)state;
	CHECK("a\nb\0c\n", "1<a> EBADMSG@2:NUL byte");
	CHECK("\0", "EBADMSG@1:NUL byte");
	CHECK("a,\0", "EBADMSG@1:NUL byte");
	CHECK("\"a\nb\0\"\n", "EBADMSG@2:NUL byte");
	CHECK("\"a\"\0", "EBADMSG@1:NUL byte");
	CHECK("\n\n\0\n", "EBADMSG@3:NUL byte");
}

static void
test_sticky(void **state)
{
	static const char in[] = "a\nb\"\nc\n";
	struct csv_reader r;
	struct csv_record rec;

	(void)state;
	csv_reader_init(&r, in, sizeof(in) - 1);
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(csv_record_next(&r, &rec), EBADMSG);
	assert_int_equal(r.err_line, 2);
	assert_int_equal(csv_record_next(&r, &rec), EBADMSG);
	assert_int_equal(r.err_line, 2);
	assert_string_equal(r.err, "quote in unquoted field");
}

/* Parses in (NUL-terminated) expecting one result and, on error, a line. */
static void
check_one(const char *in, int want, size_t want_line, const char *reason)
{
	struct csv_reader r;
	struct csv_record rec;

	csv_reader_init(&r, in, strlen(in));
	assert_int_equal(csv_record_next(&r, &rec), want);
	if (want == 0) {
		assert_int_equal(csv_record_next(&r, &rec), ENODATA);
		return;
	}
	assert_int_equal(r.err_line, want_line);
	assert_string_equal(r.err, reason);
}

static void
test_limit_fields(void **state)
{
	struct csv_reader r;
	struct csv_record rec;
	size_t i;

	(void)state;
	check_one("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p\n", 0, 0, NULL);
	csv_reader_init(&r, "x\na,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", 36);
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(csv_record_next(&r, &rec), EMSGSIZE);
	assert_int_equal(r.err_line, 2);
	assert_string_equal(r.err, "more than 16 fields");

	check_one(",,,,,,,,,,,,,,,\n", 0, 0, NULL);
	csv_reader_init(&r, ",,,,,,,,,,,,,,,\n", 16);
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(rec.nfields, CSV_FIELDS_MAX);
	for (i = 0; i < rec.nfields; i++)
		assert_int_equal(rec.f[i].len, 0);
	/* A trailing comma after 16 fields makes a 17th. */
	check_one(",,,,,,,,,,,,,,,,\n", EMSGSIZE, 1, "more than 16 fields");
	/* The 17th field starts on line 3, inside a record from line 1. */
	check_one("\"\n\",,,,,,,,,,,,,,,\"\n\",x\n", EMSGSIZE, 3,
	    "more than 16 fields");
}

/* Builds "prefix" + n copies of c + "suffix" in a malloc'd buffer. */
static char *
build(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);
	char *s = malloc(plen + n + slen + 1);

	assert_non_null(s);
	memcpy(s, prefix, plen);
	memset(s + plen, c, n);
	memcpy(s + plen + n, suffix, slen + 1);
	return s;
}

static void
test_limit_record(void **state)
{
	struct csv_reader r;
	struct csv_record rec;
	char *s;

	(void)state;
	/* Exactly CSV_RECORD_MAX bytes, in one field, then a next record. */
	s = build("a\n", 'x', CSV_RECORD_MAX, "\nb\n");
	csv_reader_init(&r, s, strlen(s));
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(rec.nfields, 1);
	assert_int_equal(rec.f[0].len, CSV_RECORD_MAX);
	assert_ptr_equal(rec.f[0].p, rec.buf);
	assert_int_equal(rec.f[0].p[CSV_RECORD_MAX - 1], 'x');
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(rec.line, 3);
	assert_int_equal(csv_record_next(&r, &rec), ENODATA);
	free(s);

	/* One byte more. */
	s = build("a\n", 'x', CSV_RECORD_MAX + 1, "\nb\n");
	check_one(s + 2, EMSGSIZE, 1, "record longer than 8192 bytes");
	csv_reader_init(&r, s, strlen(s));
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(csv_record_next(&r, &rec), EMSGSIZE);
	assert_int_equal(r.err_line, 2);
	free(s);

	/* The limit counts all fields; separators are not data. */
	s = build("ab,", 'x', CSV_RECORD_MAX - 2, "");
	check_one(s, 0, 0, NULL);
	free(s);
	s = build("ab,", 'x', CSV_RECORD_MAX - 1, "");
	check_one(s, EMSGSIZE, 1, "record longer than 8192 bytes");
	free(s);

	/* Quoted: unescaped bytes count, "" being one byte. */
	s = build("\"", '"', 2 * CSV_RECORD_MAX, "\"\n");
	csv_reader_init(&r, s, strlen(s));
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(rec.f[0].len, CSV_RECORD_MAX);
	assert_int_equal(rec.f[0].p[0], '"');
	free(s);
	s = build("\"", '"', 2 * CSV_RECORD_MAX + 2, "\"\n");
	check_one(s, EMSGSIZE, 1, "record longer than 8192 bytes");
	free(s);

	/* A long record spanning lines is reported at its first line. */
	s = build("a\n\"\n", 'x', CSV_RECORD_MAX, "\"\n");
	csv_reader_init(&r, s, strlen(s));
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(csv_record_next(&r, &rec), EMSGSIZE);
	assert_int_equal(r.err_line, 2);
	free(s);

	/* An unterminated huge quoted field stops at the limit. */
	s = build("\"", 'x', 4 * CSV_RECORD_MAX, "");
	check_one(s, EMSGSIZE, 1, "record longer than 8192 bytes");
	free(s);
}

static void
test_views(void **state)
{
	static const char in[] = "\"a\"\"b\",,c\n";
	struct csv_reader r;
	struct csv_record rec;

	(void)state;
	csv_reader_init(&r, in, sizeof(in) - 1);
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(rec.nfields, 3);
	/* Fields are copied into the record, one after another. */
	assert_ptr_equal(rec.f[0].p, rec.buf);
	assert_int_equal(rec.f[0].len, 3);
	assert_memory_equal(rec.f[0].p, "a\"b", 3);
	assert_ptr_equal(rec.f[1].p, rec.buf + 3);
	assert_int_equal(rec.f[1].len, 0);
	assert_ptr_equal(rec.f[2].p, rec.buf + 3);
	assert_memory_equal(rec.f[2].p, "c", 1);
	/* Without a NUL terminator: the buffer ends inside a quoted field. */
	csv_reader_init(&r, "\"abc\"", 4);
	assert_int_equal(csv_record_next(&r, &rec), EBADMSG);
	assert_string_equal(r.err, "unterminated quoted field");
	csv_reader_init(&r, "ab,cd", 4);
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(rec.nfields, 2);
	assert_int_equal(rec.f[1].len, 1);
}

enum { BULK_RECORDS = 10000, BULK_LINE_MAX = 96 };

static void
test_bulk(void **state)
{
	struct csv_reader r;
	struct csv_record rec;
	struct timespec t0, t1;
	char *buf;
	size_t len = 0, n = 0, i;
	int err, k;
	double secs;

	(void)state;
	buf = malloc((size_t)BULK_RECORDS * BULK_LINE_MAX + 64);
	assert_non_null(buf);
	memcpy(buf, "extension,name,password\r\n", 25);
	len = 25;
	for (i = 0; i < BULK_RECORDS; i++) {
		/* Every third row has a quoted name and an empty password. */
		if (i % 3 == 0)
			k = snprintf(buf + len, BULK_LINE_MAX,
			    "%zu,\"Doe, Jane \"\"%zu\"\"\",\r\n", 10000 + i, i);
		else
			k = snprintf(buf + len, BULK_LINE_MAX,
			    "%zu,User %zu,Xk3#pL9qR2vT%zu\r\n", 10000 + i, i,
			    i);
		assert_true(k > 0 && k < BULK_LINE_MAX);
		len += (size_t)k;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	csv_reader_init(&r, buf, len);
	assert_int_equal(csv_record_next(&r, &rec), 0);
	assert_int_equal(rec.nfields, 3);
	while ((err = csv_record_next(&r, &rec)) == 0) {
		if (rec.nfields != 3 || rec.line != n + 2)
			break;
		if (n % 3 == 0 && rec.f[2].len != 0)
			break;
		n++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(err, ENODATA);
	assert_int_equal(n, BULK_RECORDS);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* Milliseconds in practice, even under ASan; a second is a bug. */
	assert_true(secs < 1.0);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_null_buffer),
	    cmocka_unit_test(test_quoted),
	    cmocka_unit_test(test_line_endings),
	    cmocka_unit_test(test_empty_fields),
	    cmocka_unit_test(test_blank_lines),
	    cmocka_unit_test(test_bom),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_sticky),
	    cmocka_unit_test(test_limit_fields),
	    cmocka_unit_test(test_limit_record),
	    cmocka_unit_test(test_views),
	    cmocka_unit_test(test_bulk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
