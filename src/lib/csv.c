/* csv.c: see csv.h. */
#include "lib/csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The parse position within one call of csv_record_next; copied back into
 * the reader only when a whole record has been parsed. */
struct csv_cur {
	const char *p, *end;
	size_t line; /* physical line of p */
	size_t used; /* bytes of rec->buf written so far */
};

static int csv_fail(struct csv_reader *r, int code, size_t line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records a failure in r (sticky) and returns code. */
static int
csv_fail(struct csv_reader *r, int code, size_t line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->err_line = line;
	r->status = code;
	return code;
}

void
csv_reader_init(struct csv_reader *r, const char *buf, size_t len)
{
	static const char bom[] = "\xEF\xBB\xBF";

	if (buf == NULL) { /* no arithmetic on a null pointer */
		buf = "";
		len = 0;
	}
	r->p = buf;
	r->end = buf + len;
	if (len >= sizeof(bom) - 1 && memcmp(buf, bom, sizeof(bom) - 1) == 0)
		r->p += sizeof(bom) - 1;
	r->line = 1;
	r->status = 0;
	r->err[0] = '\0';
	r->err_line = 0;
}

/* Bytes that end a run of plain bytes in an unquoted field. */
static bool
csv_byte_special(char c)
{
	return c == ',' || c == '\n' || c == '\r' || c == '"' || c == '\0';
}

/* Appends n bytes at s to the record's buffer. Returns 0, or EMSGSIZE when
 * the record's field data would pass CSV_RECORD_MAX bytes. */
static int
csv_buf_put(struct csv_reader *r, struct csv_cur *c, struct csv_record *rec,
    const char *s, size_t n)
{
	if (n > CSV_RECORD_MAX - c->used)
		return csv_fail(r, EMSGSIZE, rec->line,
		    "record longer than %d bytes", CSV_RECORD_MAX);
	if (n > 0)
		memcpy(rec->buf + c->used, s, n);
	c->used += n;
	return 0;
}

/* Checks what follows a field: the end of the input, a comma, LF or CRLF.
 * Returns 0 without moving c, or EBADMSG with after_what describing the
 * offending byte's context. */
static int
csv_field_end_check(
    struct csv_reader *r, const struct csv_cur *c, const char *after_what)
{
	if (c->p == c->end)
		return 0;
	switch (*c->p) {
	case ',':
	case '\n':
		return 0;
	case '\r':
		if (c->end - c->p >= 2 && c->p[1] == '\n')
			return 0;
		return csv_fail(r, EBADMSG, c->line, "CR not followed by LF");
	case '\0':
		return csv_fail(r, EBADMSG, c->line, "NUL byte");
	default:
		return csv_fail(r, EBADMSG, c->line, "%s", after_what);
	}
}

/* Parses an unquoted field at c->p into the record's buffer. Returns 0 with
 * c->p at the end of the input, a comma, LF or CRLF; else EBADMSG or
 * EMSGSIZE. */
static int
csv_field_unquoted(
    struct csv_reader *r, struct csv_cur *c, struct csv_record *rec)
{
	const char *s = c->p;
	int err;

	while (c->p < c->end && !csv_byte_special(*c->p))
		c->p++;
	if ((err = csv_buf_put(r, c, rec, s, (size_t)(c->p - s))) != 0)
		return err;
	/* Only '"' can be left among the special bytes. */
	return csv_field_end_check(r, c, "quote in unquoted field");
}

/* Parses a quoted field at c->p (on its opening quote) into the record's
 * buffer, turning "" into ". Returns 0 with c->p past the closing quote, at
 * the end of the input, a comma, LF or CRLF; else EBADMSG or EMSGSIZE. */
static int
csv_field_quoted(
    struct csv_reader *r, struct csv_cur *c, struct csv_record *rec)
{
	size_t open_line = c->line;
	int err;

	c->p++; /* the opening quote */
	for (;;) {
		const char *s = c->p;

		while (c->p < c->end && *c->p != '"' && *c->p != '\0') {
			if (*c->p == '\n')
				c->line++;
			c->p++;
		}
		if ((err = csv_buf_put(r, c, rec, s, (size_t)(c->p - s))) != 0)
			return err;
		if (c->p == c->end)
			return csv_fail(
			    r, EBADMSG, open_line, "unterminated quoted field");
		if (*c->p == '\0')
			return csv_fail(r, EBADMSG, c->line, "NUL byte");
		c->p++; /* a quote: the closing one, or the first of "" */
		if (c->p == c->end || *c->p != '"')
			break;
		if ((err = csv_buf_put(r, c, rec, c->p, 1)) != 0)
			return err;
		c->p++;
	}
	return csv_field_end_check(r, c, "text after closing quote");
}

/* Skips blank lines (LF or CRLF alone), counting them. */
static void
csv_blank_skip(struct csv_cur *c)
{
	for (;;) {
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
		} else if (c->end - c->p >= 2 && c->p[0] == '\r' &&
		           c->p[1] == '\n') {
			c->p += 2;
		} else {
			break;
		}
		c->line++;
	}
}

int
csv_record_next(struct csv_reader *r, struct csv_record *rec)
{
	struct csv_cur c = {r->p, r->end, r->line, 0};
	size_t nfields = 0;
	int err;

	if (r->status != 0)
		return r->status;
	csv_blank_skip(&c);
	if (c.p == c.end) {
		r->p = c.p;
		r->line = c.line;
		r->status = ENODATA;
		return ENODATA;
	}
	rec->line = c.line;
	for (;;) { /* one field per turn */
		size_t start = c.used;

		if (nfields == CSV_FIELDS_MAX)
			return csv_fail(r, EMSGSIZE, c.line,
			    "more than %d fields", CSV_FIELDS_MAX);
		if (c.p < c.end && *c.p == '"')
			err = csv_field_quoted(r, &c, rec);
		else
			err = csv_field_unquoted(r, &c, rec);
		if (err != 0)
			return err;
		rec->f[nfields].p = rec->buf + start;
		rec->f[nfields].len = c.used - start;
		nfields++;
		/* The field parsers left c.p at the end, ',', LF or CRLF. */
		if (c.p == c.end)
			break;
		if (*c.p == ',') {
			c.p++;
			continue;
		}
		c.p += *c.p == '\n' ? 1 : 2;
		c.line++;
		break;
	}
	rec->nfields = nfields;
	r->p = c.p;
	r->line = c.line;
	return 0;
}
