#ifndef NATTER_SHARED_LOG_H
#define NATTER_SHARED_LOG_H

/*
 * Logging to stderr, one line per call, with a level prefix. The level is
 * set once at start-up, before any thread starts, and only read after.
 * fatal() logs and exits 1: for start-up failures and broken invariants
 * only, never for peer input.
 */
#include <stdbool.h>
#include <time.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn" or "error"; returns -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * A line that a peer can make us repeat (a refused connection), limited:
 * the first is logged, then at most one a LOG_LIMIT_SECONDS, and each
 * logged one can say how many were left out since the one before. Owned
 * by one thread (no lock); zero-initialised.
 */
#define LOG_LIMIT_SECONDS 1
struct log_limit {
	time_t last;   /* when one was last logged */
	bool logged;   /* one has been */
	unsigned held; /* left out since */
};

/* Whether to log the line now; if so, *held gets the count left out. */
bool log_limit_take(struct log_limit *l, time_t now, unsigned *held);

#endif
