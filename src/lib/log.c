/* log.c: see log.h. */
#include "lib/log.h"
#include "lib/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static enum log_level log_level = LOG_LVL_INFO;
static const char *log_prog = "sipwarden";

void
log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

void
log_set_prog(const char *prog)
{
	log_prog = prog;
}

static void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	char ts[32], line[2048], *p;

	if (lvl > log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* Peers put text into log lines (user names, agents): no control
	 * byte may forge a line or hide the rest of one. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	util_rfc3339(util_now_us(), ts, sizeof(ts));
	fprintf(stderr, "%s %s[%s]: %s\n", ts, log_prog, names[lvl], line);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_safe_copy(char *buf, size_t size, const char *p, size_t len)
{
	size_t i, n;

	if (size == 0)
		return;
	n = len < size - 1 ? len : size - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		buf[i] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		                 (ch >= '0' && ch <= '9') || ch == '.' ||
		                 ch == '_' || ch == '-' || ch == '+'
		             ? (char)ch
		             : '?';
	}
	buf[n] = '\0';
}
