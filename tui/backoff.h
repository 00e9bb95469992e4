#ifndef NATTER_TUI_BACKOFF_H
#define NATTER_TUI_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Retry delays: base doubling per attempt up to max, with jitter so that
 * many clients dropped together by one server do not come back in step.
 */

/*
 * The delay in milliseconds before retry number attempt (0 for the first):
 * d = min(base_ms << attempt, max_ms), then a random value in [d/2, d].
 */
unsigned backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned max_ms);

/*
 * Fills buf with n random bytes from getrandom(); falls back to a weaker
 * clock-seeded generator if the kernel call fails (never blocks).
 */
void backoff_random(void *buf, size_t n);

#endif
