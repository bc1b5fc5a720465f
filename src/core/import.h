/* import.h: the checks of a bulk extension import (`ext import TENANT
 * FILE.csv`) that need no store: CSV (RFC 4180) with the header
 * `extension,name,password`, each row's format, duplicates within the file
 * and the password policy for the passwords the file chooses. */
#ifndef SW_IMPORT_H
#define SW_IMPORT_H

#include "cred/keys.h"
#include "cred/policy.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>

enum {
	IMPORT_ROWS_MAX = 100000,
	IMPORT_FILE_MAX = 32 << 20,
};

struct import_row {
	size_t line; /* physical line of the record in the file */
	char number[STORE_EXT_MAX];
	char name[STORE_TEXT_MAX];
	char password[CRED_PASSWORD_MAX]; /* "" when it is to be generated */
	size_t pwlen;
};

/* Parses and checks the whole file. On success *rows (n of them, freed
 * with import_rows_free, which wipes the passwords) holds every row. On
 * failure returns EBADMSG (or ENOMEM, EMSGSIZE) and err holds one line
 * "line N: FIELD \"value\": reason" (never a password); nothing is
 * returned. tenant and domain are the policy's context. */
int import_parse(const char *buf, size_t len, const char *tenant,
    const char *domain, struct import_row **rows, size_t *n, char *err,
    size_t errsize);
void import_rows_free(struct import_row *rows, size_t n);

#endif
