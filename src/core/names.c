/* names.c: see names.h. */
#include "core/names.h"
#include "lib/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

const char *
names_tenant_check(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "empty";
	if (len > NAMES_TENANT_MAX)
		return "longer than 63 characters";
	for (i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return "only a-z, 0-9 and '-' are allowed";
	if (s[0] == '-' || s[len - 1] == '-')
		return "must not start or end with '-'";
	return NULL;
}

const char *
names_domain_check(const char *s, size_t len)
{
	size_t i, label = 0, labels = 1;

	if (len == 0)
		return "empty";
	if (len > NAMES_DOMAIN_MAX)
		return "longer than 253 characters";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return "not a valid DNS name (empty label or "
				       "label ending in '-')";
			labels++;
			label = 0;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			return "must be lower case";
		if (!is_lower_alnum(c) && c != '-')
			return "not a valid DNS name (only a-z, 0-9, '-' and "
			       "'.')";
		if (c == '-' && label == 0)
			return "not a valid DNS name (label starting with "
			       "'-')";
		if (++label > 63)
			return "not a valid DNS name (label over 63 "
			       "characters)";
	}
	if (label == 0 || s[len - 1] == '-')
		return "not a valid DNS name (empty label or label ending in "
		       "'-')";
	if (labels < 2)
		return "must be a fully qualified name like pbx.example.com";
	return NULL;
}

const char *
names_ext_check(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return "empty";
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return "not numeric (digits only)";
	if (len < NAMES_EXT_MIN || len > NAMES_EXT_MAX)
		return "must have 2 to 15 digits";
	return NULL;
}

const char *
names_display_check(const char *s, size_t len)
{
	size_t i;

	if (len > NAMES_DISPLAY_MAX)
		return "longer than 128 bytes";
	if (!util_utf8_printable(s, len))
		return "not valid UTF-8 text (or has control characters)";
	for (i = 0; i < len; i++)
		if (s[i] == '"' || s[i] == '\\' || s[i] == '<' || s[i] == '>')
			return "must not contain \" \\ < or >";
	return NULL;
}

const char *
names_timezone_check(const char *s, size_t len)
{
	char path[128];
	struct stat sb;
	size_t i;

	if (len == 0 || len > 63)
		return "not a time zone name like Europe/Paris";
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '/' || c == '_' ||
		        c == '-' || c == '+'))
			return "not a time zone name like Europe/Paris";
	}
	if (s[0] == '/' || s[len - 1] == '/')
		return "not a time zone name like Europe/Paris";
	for (i = 0; i + 1 < len; i++)
		if (s[i] == '/' && s[i + 1] == '/')
			return "not a time zone name like Europe/Paris";
	if (len == 3 && s[0] == 'U' && s[1] == 'T' && s[2] == 'C')
		return NULL;
	if (stat("/usr/share/zoneinfo", &sb) == 0) {
		snprintf(path, sizeof(path), "/usr/share/zoneinfo/%.*s",
		    (int)len, s);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			return "unknown time zone (see /usr/share/zoneinfo)";
	}
	return NULL;
}

const char *
names_currency_check(const char *s, size_t len)
{
	size_t i;

	if (len != 3)
		return "not an ISO 4217 code like EUR or USD";
	for (i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return "not an ISO 4217 code like EUR or USD";
	return NULL;
}
