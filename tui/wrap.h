#ifndef NATTER_TUI_WRAP_H
#define NATTER_TUI_WRAP_H

#include <stddef.h>

/*
 * Cutting text into screen rows by display width (width.h): at a blank
 * when the word fits, else between clusters; a newline always ends a row.
 */

/*
 * The next row of s[0..len) in cols columns: returns the bytes it shows
 * (without the newline or the blank it broke at) and stores in *next how
 * many bytes to skip to the following row. A row holds at least one
 * cluster, so the loop always advances.
 */
size_t wrap_next(const char *s, size_t len, int cols, size_t *next);

/* Rows s takes in cols columns (at least 1). */
int wrap_count(const char *s, size_t len, int cols);

/*
 * A copy of peer text safe to draw: invalid UTF-8 becomes U+FFFD, tabs
 * and carriage returns blanks, other control characters '?'; newlines
 * are kept. The caller frees it.
 */
char *wrap_sanitize(const char *s, size_t len);

#endif
