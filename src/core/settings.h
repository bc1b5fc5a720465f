/* settings.h: the per-tenant and per-extension settings kept as a JSON
 * object in the store (tenants.settings, extensions.settings): the keys
 * that exist, their checks and defaults. */
#ifndef SW_SETTINGS_H
#define SW_SETTINGS_H

#include <stddef.h>

enum settings_scope { SETTINGS_TENANT, SETTINGS_EXT };

struct settings_def {
	enum settings_scope scope;
	const char *key;
	const char *dflt; /* NULL: no default (the extension inherits) */
	const char *help;
	const char *(*check)(const char *value); /* NULL or a reason */
};

/* Returns the definition of key in scope, or NULL. */
const struct settings_def *settings_find(
    enum settings_scope scope, const char *key);
/* All definitions, NULL-key terminated. */
extern const struct settings_def settings_defs[];

/* Sets key to value in the JSON object text json (size bytes of buffer),
 * or removes it when value is NULL. Returns 0, EINVAL for a bad object,
 * EMSGSIZE when the result does not fit. */
int settings_put(char *json, size_t size, const char *key, const char *value);
/* Writes the value of key in json into buf, or def's default when it is
 * absent (buf "" when there is none). Returns buf. */
const char *settings_get(
    const char *json, const struct settings_def *def, char *buf, size_t size);

#endif
