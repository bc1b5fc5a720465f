/* migrations.h: the numbered schema migrations, embedded from
 * src/store/migrations/NNNN_name.sql by scripts/embed-sql.sh. */
#ifndef SW_MIGRATIONS_H
#define SW_MIGRATIONS_H

#include <stddef.h>

struct store_migration {
	int version;              /* NNNN, strictly increasing from 1 */
	const char *name;         /* file name without .sql */
	const char *const *lines; /* portable SQL, line by line, NULL-ended */
};

extern const struct store_migration store_migrations[];
extern const size_t store_migrations_count;

#endif
