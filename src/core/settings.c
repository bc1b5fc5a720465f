/* settings.c: see settings.h. */
#include "core/settings.h"
#include "core/config.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
check_srtp(const char *v)
{
	if (strcmp(v, "required") == 0 || strcmp(v, "optional") == 0)
		return NULL;
	return "must be required or optional";
}

static const char *
check_srtp_ext(const char *v)
{
	if (strcmp(v, "inherit") == 0)
		return NULL;
	return check_srtp(v) ? "must be required, optional or inherit" : NULL;
}

/* A non-empty comma-separated list of sha256 and md5, each at most once. */
static const char *
check_digest(const char *v)
{
	bool seen_sha = false, seen_md5 = false;
	const char *p = v;

	if (*p == '\0')
		return "must list at least one of sha256, md5";
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == 6 && strncmp(p, "sha256", 6) == 0 && !seen_sha)
			seen_sha = true;
		else if (n == 3 && strncmp(p, "md5", 3) == 0 && !seen_md5)
			seen_md5 = true;
		else
			return "must be a list of sha256 and md5 (each once, "
			       "comma-separated, strongest first), e.g. "
			       "sha256,md5";
		p += n;
		if (*p == ',' && *++p == '\0')
			return "ends with a comma";
	}
	return NULL;
}

/* The networks a tenant's phones may come from: CIDRs, comma-separated,
 * at most CONFIG_CIDR_MAX; empty: anywhere. The reason is in a static
 * buffer (the CLI checks one value at a time). */
static const char *
check_allow(const char *v)
{
	static char why[256];
	struct config_cidr cidrs[CONFIG_CIDR_MAX];
	size_t n;

	if (config_cidrs_parse(
	        v, cidrs, CONFIG_CIDR_MAX, &n, why, sizeof(why)) != 0)
		return why;
	return NULL;
}

const struct settings_def settings_defs[] = {
    {SETTINGS_TENANT, "srtp", "required",
        "SRTP for phones: required (a plain-RTP offer gets 488) or optional",
        check_srtp},
    /* md5 alone: SIPp 3.6 answers only the first challenge and only
     * MD5; baresip 1.0 gives up when any challenge is SHA-256 (README,
     * "Digest algorithms and peers"). */
    {SETTINGS_TENANT, "digest", "md5",
        "digest algorithms offered in challenges, in order (RFC 8760)",
        check_digest},
    {SETTINGS_TENANT, "allow", "",
        "networks the tenant's phones come from (CIDRs, comma-separated); "
        "empty = anywhere",
        check_allow},
    {SETTINGS_EXT, "srtp", NULL,
        "per-extension SRTP: required, optional, or inherit (the tenant's)",
        check_srtp_ext},
    {SETTINGS_TENANT, NULL, NULL, NULL, NULL},
};

const struct settings_def *
settings_find(enum settings_scope scope, const char *key)
{
	const struct settings_def *d;

	for (d = settings_defs; d->key != NULL; d++)
		if (d->scope == scope && strcmp(d->key, key) == 0)
			return d;
	return NULL;
}

int
settings_put(char *json, size_t size, const char *key, const char *value)
{
	json_t *o =
	    json_loads(json[0] ? json : "{}", JSON_REJECT_DUPLICATES, NULL);
	char *s = NULL;
	int rc = 0;

	if (o == NULL || !json_is_object(o)) {
		rc = EINVAL;
		goto out;
	}
	if (value == NULL)
		json_object_del(o, key);
	else if (json_object_set_new(o, key, json_string(value)) != 0) {
		rc = ENOMEM;
		goto out;
	}
	if ((s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if (strlen(s) + 1 > size) {
		rc = EMSGSIZE;
		goto out;
	}
	memcpy(json, s, strlen(s) + 1);
out:
	free(s);
	json_decref(o);
	return rc;
}

const char *
settings_get(
    const char *json, const struct settings_def *def, char *buf, size_t size)
{
	json_t *o = json_loads(json && json[0] ? json : "{}", 0, NULL);
	const char *v = NULL;

	if (o != NULL)
		v = json_string_value(json_object_get(o, def->key));
	snprintf(buf, size, "%s", v ? v : def->dflt ? def->dflt : "");
	json_decref(o);
	return buf;
}
