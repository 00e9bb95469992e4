#ifndef NATTER_SERVER_TRIM_H
#define NATTER_SERVER_TRIM_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Memory back to the system after a burst of connections. Logging in
 * leaves freed buffers in the workers' malloc arenas, which glibc keeps
 * for later: after 1,000 logins about a fifth of what the connections
 * grew the process by is free memory (doc/performance.md). Once accepts
 * have paused for a tick, the main thread returns it (malloc_trim).
 *
 * The main thread owns a struct trim: it counts accepts, and its timer
 * asks trim_due every TRIM_TICK_MS.
 *
 * Accepts, not closes: after 10,000 clients left, the 6.5 MiB they had
 * used lay free in ~8,700 chunks of 0.7 KiB on average between blocks
 * that stay (malloc_info), few holding a whole page, and malloc_trim gave
 * back almost nothing.
 */

#define TRIM_TICK_MS 500
/* Connections accepted since the last trim before another is worth it. */
#define TRIM_AFTER 256

struct trim {
	uint64_t accepts; /* connections accepted, ever */
	uint64_t seen;    /* accepts at the last tick */
	uint64_t trimmed; /* accepts at the last trim */
};

/* One more connection accepted. */
void trim_accepted(struct trim *t);

/*
 * At a tick: whether to trim now, that is, TRIM_AFTER connections came
 * since the last trim and none since the last tick. If so, counts the
 * trim as done.
 */
bool trim_due(struct trim *t);

/*
 * Returns the process's free heap memory to the system (glibc's
 * malloc_trim; nothing elsewhere) and logs the resident size before and
 * after at debug level. Takes each malloc arena's lock in turn.
 */
void trim_release(void);

#endif
