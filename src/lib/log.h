/* log.h: one line per event on stderr, with a UTC timestamp and a level.
 * Never logs a secret: callers pass no password, key or HA1. */
#ifndef SW_LOG_H
#define SW_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(enum log_level lvl);
void log_set_prog(const char *prog);
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Logs and exits with status 1; only at startup (STYLE.md). */
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Copies peer text into buf (size bytes, NUL-terminated) for a key=value
 * log field: bytes other than letters, digits and . _ - + become '?', so
 * the value cannot hold a space, a quote or "src=" (a forged field that a
 * log watcher such as fail2ban could read). */
void log_safe_copy(char *buf, size_t size, const char *p, size_t len);

#endif
