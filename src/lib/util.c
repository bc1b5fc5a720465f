/* util.c: see util.h. */
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
util_u64_parse(const char *p, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return EINVAL;
		d = (unsigned)(p[i] - '0');
		if (d > max || v > (max - d) / 10)
			return ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int64_t
util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
util_rfc3339(int64_t us, char *buf, size_t size)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (size > 0)
			buf[0] = '\0';
	}
	return buf;
}

void
util_hex(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_unhex(const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	size_t i;

	if (inlen != 2 * outlen)
		return EINVAL;
	for (i = 0; i < outlen; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
util_file_write(
    const char *path, const void *data, size_t len, mode_t mode, bool excl)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd, err = 0;

	if (excl && access(path, F_OK) == 0)
		return EEXIST;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	        (long)getpid()) >= sizeof(tmp))
		return ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1)
		return errno;
	if (fchmod(fd, mode) == -1) {
		err = errno;
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		err = errno;
		goto out;
	}
out:
	if (close(fd) == -1 && err == 0)
		err = errno;
	if (err == 0 && excl && link(tmp, path) == -1)
		err = errno; /* link refuses an existing path: no race */
	else if (err == 0 && !excl && rename(tmp, path) == -1)
		err = errno;
	unlink(tmp);
	return err;
}

int
util_file_read(const char *path, size_t max, char **out, size_t *lenp)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int err = 0;

	if ((f = fopen(path, "rbe")) == NULL)
		return errno;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				err = ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > max) {
			err = EFBIG;
			goto out;
		}
		if (n == 0) {
			if (ferror(f))
				err = EIO;
			break;
		}
	}
out:
	fclose(f);
	if (err != 0) {
		free(buf);
		return err;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		return ENOMEM;
	buf[len] = '\0';
	*out = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

char *
util_path_join(const char *dir, const char *path)
{
	char *s;

	if (path[0] == '/' || dir == NULL || dir[0] == '\0')
		return strdup(path);
	if (asprintf(&s, "%s/%s", dir, path) == -1)
		return NULL;
	return s;
}

bool
util_utf8_printable(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p, need;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= need)
			return false;
		for (unsigned i = 1; i <= need; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp < 0xa0))
			return false;
		p += need + 1;
	}
	return true;
}

void
util_utf8_sanitize(char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80                 ? 1
		           : c >= 0xc2 && c <= 0xdf ? 2
		           : c >= 0xe0 && c <= 0xef ? 3
		           : c >= 0xf0 && c <= 0xf4 ? 4
		                                    : 0;

		if (n == 0 || i + n > len || !util_utf8_printable(s + i, n)) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
}

uint32_t
util_fnv1a(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

void *
util_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t nc = *cap ? *cap * 2 : first;
	void *nv;

	if (n < *cap)
		return v;
	if (nc <= n || elem == 0 || nc > SIZE_MAX / elem)
		return NULL;
	if ((nv = realloc(v, nc * elem)) == NULL)
		return NULL;
	*cap = nc;
	return nv;
}
