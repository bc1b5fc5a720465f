/* names.h: the formats of the names operators type: tenant slugs, SIP
 * domains, extension numbers, display names, time zones, currencies. Each
 * check returns NULL when the value is acceptable, or a short reason. */
#ifndef SW_NAMES_H
#define SW_NAMES_H

#include <stddef.h>

enum {
	NAMES_TENANT_MAX = 63,
	NAMES_DOMAIN_MAX = 253,
	NAMES_EXT_MIN = 2,
	NAMES_EXT_MAX = 15,
	NAMES_DISPLAY_MAX = 128,
};

/* [a-z0-9-], 1..63, no leading or trailing '-' */
const char *names_tenant_check(const char *s, size_t len);
/* a DNS name of 2+ labels, [a-z0-9-], lower case */
const char *names_domain_check(const char *s, size_t len);
/* 2..15 digits */
const char *names_ext_check(const char *s, size_t len);
/* UTF-8, no control characters, at most 128 bytes, no '"' or '\\' or '<'
 * '>' (it goes into SIP From headers as a quoted display name) */
const char *names_display_check(const char *s, size_t len);
/* an IANA zone like Europe/Paris or UTC, present under /usr/share/zoneinfo
 * when that folder exists */
const char *names_timezone_check(const char *s, size_t len);
/* ISO 4217: three upper-case letters */
const char *names_currency_check(const char *s, size_t len);

#endif
