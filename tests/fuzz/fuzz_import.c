/* fuzz_import.c: the bulk extension importer's checks (CSV, header, each
 * row's format, duplicates, password policy) on arbitrary bytes. */
#include "core/import.h"

#include <errno.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_row *rows = NULL;
	char err[512];
	size_t n = 0, i;
	int rc;

	if (sodium_init() < 0)
		abort();
	err[0] = '\0';
	rc = import_parse((const char *)data, size, "acme-corp",
	    "acme.example.com", &rows, &n, err, sizeof(err));
	if (rc == 0) {
		if (rows == NULL || n == 0 || n > IMPORT_ROWS_MAX)
			abort();
		for (i = 0; i < n; i++) {
			size_t len = strlen(rows[i].number);

			if (len < 2 || len > 15 ||
			    rows[i].pwlen != strlen(rows[i].password))
				abort();
			if (i > 0 && rows[i].line <= rows[i - 1].line)
				abort();
		}
		import_rows_free(rows, n);
	} else if (err[0] == '\0' && rc != ENOMEM) {
		abort(); /* every refusal says why */
	}
	return 0;
}
