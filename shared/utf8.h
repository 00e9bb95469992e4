#ifndef NATTER_SHARED_UTF8_H
#define NATTER_SHARED_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Strict UTF-8 (RFC 3629): rejects overlong forms, surrogates (U+D800..
 * U+DFFF), code points above U+10FFFF, truncated and stray continuation
 * bytes. NUL bytes are valid UTF-8; callers that forbid them check apart.
 */
bool utf8_valid(const char *s, size_t len);

/*
 * Decodes one code point at s (at most len bytes). Returns the number of
 * bytes consumed (1..4) and stores the code point in *cp, or -1 if the
 * sequence is invalid.
 */
int utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Code points in a valid string; -1 if it is not valid. */
long utf8_count(const char *s, size_t len);

#endif
