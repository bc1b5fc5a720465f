/* util.h: small helpers that know nothing of SIP: string views, checked
 * number conversion, time, hex, files. */
#ifndef SW_UTIL_H
#define SW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct sv {
	const char *p;
	size_t len;
}; /* a view; owns nothing */

/* Parses all of [p, p+len) as a decimal unsigned number no larger than max.
 * Returns 0 and sets *out, EINVAL on a non-digit or empty input, ERANGE past
 * max. No sign, no spaces, no leading '+'. */
int util_u64_parse(const char *p, size_t len, uint64_t max, uint64_t *out);

/* Current UTC time in microseconds since the epoch. */
int64_t util_now_us(void);

/* Writes an RFC 3339 UTC time ("2026-11-26T06:22:18Z") for us into buf,
 * which must hold at least 21 bytes. Returns buf. */
char *util_rfc3339(int64_t us, char *buf, size_t size);

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void util_hex(const unsigned char *in, size_t len, char *out);

/* Decodes exactly 2*outlen hex characters. Returns 0 or EINVAL. */
int util_unhex(const char *in, size_t inlen, unsigned char *out, size_t outlen);

/* Writes data to path through a temporary file in the same folder, fsynced
 * and renamed, created with mode. With excl, fails with EEXIST when path
 * exists. Returns 0 or an errno code. */
int util_file_write(
    const char *path, const void *data, size_t len, mode_t mode, bool excl);

/* Reads a whole file of at most max bytes into a NUL-terminated malloc'd
 * buffer (caller frees). Returns 0 or an errno code (EFBIG past max). */
int util_file_read(const char *path, size_t max, char **out, size_t *lenp);

/* Joins dir and a relative path into a malloc'd string; an absolute path is
 * copied as it is. Returns NULL when out of memory. */
char *util_path_join(const char *dir, const char *path);

/* Replaces, in the NUL-terminated s, every byte that is not part of valid
 * UTF-8 or is a control character with '?'. For text peers send us (a
 * User-Agent) before it is stored or printed. */
void util_utf8_sanitize(char *s);

/* True when s (len bytes) is valid UTF-8 without control characters. */
bool util_utf8_printable(const char *s, size_t len);

/* Room for element n of a growable array v of *cap elements of elem
 * bytes: v itself while n < *cap; else v reallocated to twice *cap (first
 * when *cap is 0), *cap updated. NULL when out of memory (or the size
 * overflows): v is then untouched and still the caller's. */
void *util_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first);

/* FNV-1a of p[0, n): a hash for tables keyed by peer text (Call-IDs);
 * not for secrets. */
uint32_t util_fnv1a(const char *p, size_t n);

#endif
