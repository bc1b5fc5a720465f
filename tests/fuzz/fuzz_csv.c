/* fuzz_csv.c: libFuzzer target for the RFC 4180 reader (src/lib/csv.c).
 * Reads every record and aborts when an invariant breaks: results, field
 * views inside the record's buffer, limits, line numbers, sticky errors, and
 * that each record, written back with every field quoted, parses to the same
 * fields. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/csv.h"

/* Fields quoted ("" for each quote), commas, CRLF. */
enum { ENC_MAX = 2 * CSV_RECORD_MAX + 3 * CSV_FIELDS_MAX + 2 };

static struct csv_record rec, rec2;
static char enc[ENC_MAX];

static void
check(int ok)
{
	if (!ok)
		abort();
}

/* Checks the field views of a record returned with 0. */
static void
record_check(const struct csv_record *x)
{
	const char *next = x->buf;
	size_t i;

	check(x->nfields >= 1 && x->nfields <= CSV_FIELDS_MAX);
	for (i = 0; i < x->nfields; i++) {
		check(x->f[i].p == next); /* in order, inside buf */
		check(x->f[i].len <=
		      (size_t)(x->buf + CSV_RECORD_MAX - x->f[i].p));
		check(memchr(x->f[i].p, '\0', x->f[i].len) == NULL);
		next = x->f[i].p + x->f[i].len;
	}
}

/* Writes rec back as CSV with every field quoted, parses that, and checks
 * that the same fields come back. */
static void
record_roundtrip(void)
{
	struct csv_reader r;
	size_t n = 0, i, j;

	for (i = 0; i < rec.nfields; i++) {
		if (i > 0)
			enc[n++] = ',';
		enc[n++] = '"';
		for (j = 0; j < rec.f[i].len; j++) {
			if (rec.f[i].p[j] == '"')
				enc[n++] = '"';
			enc[n++] = rec.f[i].p[j];
		}
		enc[n++] = '"';
	}
	enc[n++] = '\r';
	enc[n++] = '\n';
	check(n <= ENC_MAX);
	csv_reader_init(&r, enc, n);
	check(csv_record_next(&r, &rec2) == 0);
	record_check(&rec2);
	check(rec2.line == 1 && rec2.nfields == rec.nfields);
	for (i = 0; i < rec.nfields; i++)
		check(rec2.f[i].len == rec.f[i].len &&
		      memcmp(rec2.f[i].p, rec.f[i].p, rec.f[i].len) == 0);
	check(csv_record_next(&r, &rec2) == ENODATA);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader r;
	const char *in = (const char *)data;
	size_t prev_line = 0, nlines = 1, i;
	int err;

	for (i = 0; i < size; i++)
		nlines += in[i] == '\n';
	csv_reader_init(&r, in, size);
	while ((err = csv_record_next(&r, &rec)) == 0) {
		record_check(&rec);
		check(rec.line > prev_line && rec.line <= nlines);
		check(r.line > rec.line || r.p == r.end);
		check(r.line <= nlines);
		prev_line = rec.line;
		record_roundtrip();
	}
	switch (err) {
	case ENODATA:
		/* Every byte was read, so none was a NUL. */
		check(r.err[0] == '\0' && r.err_line == 0);
		check(memchr(in, '\0', size) == NULL);
		break;
	case EBADMSG:
	case EMSGSIZE:
		check(memchr(r.err, '\0', sizeof(r.err)) != NULL);
		check(r.err[0] != '\0');
		check(r.err_line > prev_line && r.err_line <= nlines);
		break;
	default:
		abort();
	}
	check(csv_record_next(&r, &rec) == err); /* sticky */
	return 0;
}
