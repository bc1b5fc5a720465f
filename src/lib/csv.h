/* csv.h: an RFC 4180 CSV pull parser over an in-memory buffer, for files an
 * operator hands us (`sipwarden ext import TENANT FILE.csv`).
 *
 * The input is bytes plus a length; no NUL terminator is assumed and a NUL
 * byte is an error. Records end with CRLF or LF; the last one may lack a line
 * ending. Quoted fields may hold commas, CR, LF and doubled quotes ("" -> ").
 * Lines that are completely empty are skipped (and counted). A UTF-8 BOM at
 * the very start is skipped. Nothing is allocated: each record's fields are
 * copied, unescaped, into the record's own buffer. Bytes are not checked for
 * UTF-8; the caller validates each field (util_utf8_printable). */
#ifndef SW_CSV_H
#define SW_CSV_H

#include <stddef.h>

enum {
	CSV_FIELDS_MAX = 16,   /* fields per record */
	CSV_RECORD_MAX = 8192, /* bytes of field data per record, unescaped */
	CSV_ERR_MAX = 128,     /* bytes of csv_reader.err, NUL included */
};

/* A view into csv_record.buf; valid until the record is reused. Not
 * NUL-terminated. */
struct csv_field {
	const char *p;
	size_t len;
};

/* One record. It is large (over 8 KiB): keep it off small stacks. Its
 * contents are unspecified after a failed csv_record_next. */
struct csv_record {
	size_t line;    /* 1-based physical line where the record starts */
	size_t nfields; /* 1..CSV_FIELDS_MAX after a successful call */
	struct csv_field f[CSV_FIELDS_MAX];
	char buf[CSV_RECORD_MAX];
};

/* The reader borrows the input buffer, which must outlive it. */
struct csv_reader {
	const char *p, *end; /* what is left to parse */
	size_t line;         /* 1-based physical line of p (counts LF bytes) */
	int status;          /* 0, or the sticky result once it is non-zero */
	char err[CSV_ERR_MAX]; /* the reason of an EBADMSG or EMSGSIZE, or "" */
	size_t err_line;       /* the physical line of that error, or 0 */
};

/* Starts reading buf (len bytes; buf may be NULL when len is 0). */
void csv_reader_init(struct csv_reader *r, const char *buf, size_t len);

/* Parses the next record into rec. Returns 0 with a record; ENODATA at the
 * end of the input; EBADMSG on malformed input or EMSGSIZE over a limit
 * (more than CSV_FIELDS_MAX fields or CSV_RECORD_MAX bytes), both with a
 * reason in r->err and in r->err_line the physical line of the offending
 * byte (for an unterminated quoted field, the line of its opening quote; for
 * a record too long, the line where the record starts). Any non-zero result
 * is sticky: later calls return it again. */
int csv_record_next(struct csv_reader *r, struct csv_record *rec);

#endif
