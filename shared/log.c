#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Written once at start-up, before threads exist; read-only afterwards. */
static enum log_level log_threshold = LOG_INFO;

static const char *const log_names[] = {
    [LOG_DEBUG] = "debug",
    [LOG_INFO] = "info",
    [LOG_WARN] = "warn",
    [LOG_ERROR] = "error",
};

/* Sets the lowest level that is written. */
void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

/* Parses a level name as used in configuration and on command lines. */
int
log_level_parse(const char *s, enum log_level *out)
{
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		if (s != NULL && strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* "2026-11-27T14:30:00.123Z": UTC, so lines from every host compare. */
static void
log_stamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000));
}

/*
 * Formats the whole line first and writes it with one write(2), so lines
 * from several threads never interleave. Over-long messages are cut.
 */
static void __attribute__((format(printf, 2, 0)))
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048], stamp[96];
	int n, m;

	if (level < log_threshold)
		return;
	log_stamp(stamp, sizeof(stamp));
	n = snprintf(line, sizeof(line), "%s %s ", stamp, log_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2; /* truncated: keep room for the newline */
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to report it */
}

/* Logs at debug level. */
void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* Logs at info level. */
void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap);
	va_end(ap);
}

/* Logs at warn level. */
void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARN, fmt, ap);
	va_end(ap);
}

/* Logs at error level. */
void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, fmt, ap);
	va_end(ap);
}

/* Logs at error level and exits 1: start-up failures and broken invariants. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * A clock set back logs at once instead of holding lines until it is past
 * the last one again.
 */
bool
log_limit_take(struct log_limit *l, time_t now, unsigned *held)
{
	if (l->logged && now - l->last < LOG_LIMIT_SECONDS && now >= l->last) {
		l->held++;
		return false;
	}
	*held = l->held;
	l->held = 0;
	l->last = now;
	l->logged = true;
	return true;
}
