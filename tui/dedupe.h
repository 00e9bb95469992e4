#ifndef NATTER_TUI_DEDUPE_H
#define NATTER_TUI_DEDUPE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Which messages the client has already delivered to the UI, so that a
 * message arriving twice (a push and a sync) is shown once. Per
 * conversation it keeps a floor, the highest seq below which every message
 * has been seen (unknown until learnt), and the small set of seqs seen
 * above it. The floor is what is safe to ack: nothing below it is missing.
 */
struct dedupe;

struct dedupe *dedupe_new(void);
void dedupe_free(struct dedupe *d);
/* Forgets everything (a different user logged in). */
void dedupe_clear(struct dedupe *d);

/*
 * Records conv/seq as seen. Returns true if it was not seen before (the
 * caller delivers it), false for a copy. In a conversation whose floor is
 * unknown, seq 1 sets it (seqs start at 1).
 */
bool dedupe_add(struct dedupe *d, const char *conv, int64_t seq);

/*
 * Raises conv's floor to at least floor: the server says every message up
 * to it was delivered (sync returns everything above the user's cursor).
 */
void dedupe_set_floor(struct dedupe *d, const char *conv, int64_t floor);

/* conv's floor, or -1 if unknown. */
int64_t dedupe_floor(const struct dedupe *d, const char *conv);

/* Seqs held above conv's floor (for tests and the size cap). */
unsigned dedupe_pending(const struct dedupe *d, const char *conv);

#endif
