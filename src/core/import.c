/* import.c: see import.h. */
#include "core/import.h"
#include "core/names.h"
#include "lib/csv.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_number(const void *a, const void *b)
{
	const struct import_row *const *x = a, *const *y = b;

	return strcmp((*x)->number, (*y)->number);
}

static int
cmp_password(const void *a, const void *b)
{
	const struct import_row *const *x = a, *const *y = b;
	size_t n = (*x)->pwlen < (*y)->pwlen ? (*x)->pwlen : (*y)->pwlen;
	int c = memcmp((*x)->password, (*y)->password, n);

	if (c != 0)
		return c;
	return (*x)->pwlen < (*y)->pwlen ? -1 : (*x)->pwlen > (*y)->pwlen;
}

static bool
field_is(const struct csv_field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

/* Checks one record into row; returns 0 or EBADMSG with err filled. */
static int
row_check(const struct csv_record *rec, const char *tenant, const char *domain,
    struct import_row *row, char *err, size_t errsize)
{
	const struct csv_field *num = &rec->f[0], *name = &rec->f[1],
	                       *pw = &rec->f[2];
	const char *why;

	if (rec->nfields != 3) {
		snprintf(err, errsize,
		    "line %zu: has %zu fields, want 3 "
		    "(extension,name,password)",
		    rec->line, rec->nfields);
		return EBADMSG;
	}
	if ((why = names_ext_check(num->p, num->len)) != NULL) {
		snprintf(err, errsize, "line %zu: extension \"%.*s\": %s",
		    rec->line, (int)(num->len > 32 ? 32 : num->len), num->p,
		    why);
		return EBADMSG;
	}
	memcpy(row->number, num->p, num->len);
	row->number[num->len] = '\0';
	if ((why = names_display_check(name->p, name->len)) != NULL) {
		snprintf(err, errsize, "line %zu: name of extension %s: %s",
		    rec->line, row->number, why);
		return EBADMSG;
	}
	memcpy(row->name, name->p, name->len);
	row->name[name->len] = '\0';
	row->line = rec->line;
	if (pw->len > 0) {
		struct cred_pw_context ctx = {row->number, tenant, domain};
		char reason[CRED_PW_REASON_MAX];

		if (cred_password_check(pw->p, pw->len, &ctx) != CRED_PW_OK) {
			cred_password_reason(
			    pw->p, pw->len, &ctx, reason, sizeof(reason));
			snprintf(err, errsize,
			    "line %zu: password of extension %s is not "
			    "acceptable: %s",
			    rec->line, row->number, reason);
			return EBADMSG;
		}
		memcpy(row->password, pw->p, pw->len);
		row->password[pw->len] = '\0';
		row->pwlen = pw->len;
	}
	return 0;
}

int
import_parse(const char *buf, size_t len, const char *tenant,
    const char *domain, struct import_row **rowsp, size_t *np, char *err,
    size_t errsize)
{
	struct csv_reader r;
	struct csv_record *rec = NULL;
	struct import_row *rows = NULL, **idx = NULL;
	size_t n = 0, cap = 0, i, npw;
	int rc;

	if ((rec = malloc(sizeof(*rec))) == NULL)
		return ENOMEM;
	csv_reader_init(&r, buf, len);
	rc = csv_record_next(&r, rec);
	if (rc == ENODATA) {
		snprintf(err, errsize,
		    "line 1: empty file (want the header "
		    "extension,name,password)");
		rc = EBADMSG;
		goto out;
	}
	if (rc != 0)
		goto csverr;
	if (rec->nfields != 3 || !field_is(&rec->f[0], "extension") ||
	    !field_is(&rec->f[1], "name") ||
	    !field_is(&rec->f[2], "password")) {
		snprintf(err, errsize,
		    "line %zu: the header must be extension,name,password",
		    rec->line);
		rc = EBADMSG;
		goto out;
	}
	while ((rc = csv_record_next(&r, rec)) == 0) {
		if (n == IMPORT_ROWS_MAX) {
			snprintf(err, errsize,
			    "line %zu: more than %d rows; split the file",
			    rec->line, IMPORT_ROWS_MAX);
			rc = EMSGSIZE;
			goto out;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct import_row *nr =
			    sodium_malloc(ncap * sizeof(*nr));

			if (nr == NULL) {
				rc = ENOMEM;
				goto out;
			}
			if (rows != NULL) {
				memcpy(nr, rows, n * sizeof(*nr));
				sodium_free(rows);
			}
			rows = nr;
			cap = ncap;
		}
		memset(&rows[n], 0, sizeof(rows[n]));
		if ((rc = row_check(
		         rec, tenant, domain, &rows[n], err, errsize)) != 0)
			goto out;
		n++;
	}
	if (rc != ENODATA)
		goto csverr;
	if (n == 0) {
		snprintf(err, errsize,
		    "line 2: no extension rows after the "
		    "header");
		rc = EBADMSG;
		goto out;
	}
	/* Duplicates within the file: numbers, then chosen passwords. */
	if ((idx = malloc(n * sizeof(*idx))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		idx[i] = &rows[i];
	qsort(idx, n, sizeof(*idx), cmp_number);
	for (i = 1; i < n; i++)
		if (strcmp(idx[i - 1]->number, idx[i]->number) == 0) {
			const struct import_row *a = idx[i - 1], *b = idx[i];

			snprintf(err, errsize,
			    "line %zu: extension \"%s\": also on line %zu",
			    a->line > b->line ? a->line : b->line, a->number,
			    a->line > b->line ? b->line : a->line);
			rc = EBADMSG;
			goto out;
		}
	for (i = 0, npw = 0; i < n; i++)
		if (rows[i].pwlen > 0)
			idx[npw++] = &rows[i];
	qsort(idx, npw, sizeof(*idx), cmp_password);
	for (i = 1; i < npw; i++)
		if (cmp_password(&idx[i - 1], &idx[i]) == 0) {
			const struct import_row *a = idx[i - 1], *b = idx[i];

			snprintf(err, errsize,
			    "line %zu: password of extension %s is not "
			    "acceptable: another row of the file has the "
			    "same password",
			    a->line > b->line ? a->line : b->line,
			    a->line > b->line ? a->number : b->number);
			rc = EBADMSG;
			goto out;
		}
	*rowsp = rows;
	*np = n;
	rows = NULL;
	n = 0;
	rc = 0;
	goto out;
csverr:
	snprintf(err, errsize, "line %zu: %s", r.err_line, r.err);
	rc = EBADMSG;
out:
	free(idx);
	free(rec);
	import_rows_free(rows, n);
	return rc;
}

void
import_rows_free(struct import_row *rows, size_t n)
{
	(void)n;
	if (rows != NULL)
		sodium_free(rows); /* wipes */
}
