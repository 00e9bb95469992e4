#ifndef NATTER_TUI_WIDTH_H
#define NATTER_TUI_WIDTH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Display width of UTF-8 text in terminal columns: the one place the UI
 * asks, so the input line, wrapping, bars and panels agree. Text is cut
 * into clusters (a base character with what attaches to it: combining
 * marks, variation selectors, emoji modifiers, zero-width-joined emoji,
 * regional indicator pairs); a cluster is 0, 1 or 2 columns wide, and the
 * cursor and deletions move by cluster. Needs a UTF-8 LC_CTYPE (see
 * width_init). Invalid bytes are one-byte clusters one column wide (drawn
 * as U+FFFD); control characters are one column (drawn as '?').
 */

/*
 * Sets the locale from the environment and makes LC_CTYPE UTF-8 if it is
 * not (C.UTF-8 fallback). Returns 0, or -1 if no UTF-8 locale exists.
 */
int width_init(void);

/* Columns of one code point on its own: 0 (combining), 1 or 2. */
int width_cp(uint32_t cp);

/*
 * The cluster starting at s (len > 0 bytes): returns its length in bytes
 * and stores its width in *cols.
 */
size_t width_cluster(const char *s, size_t len, int *cols);

/* The start of the cluster ending at pos (pos > 0) in s. */
size_t width_prev(const char *s, size_t pos);

/* Columns of s[0..len). */
int width_str(const char *s, size_t len);

/*
 * The longest prefix of s[0..len) that fits in cols columns, in bytes;
 * *used (may be NULL) gets its width. Never splits a cluster.
 */
size_t width_fit(const char *s, size_t len, int cols, int *used);

#endif
