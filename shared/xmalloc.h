#ifndef NATTER_SHARED_XMALLOC_H
#define NATTER_SHARED_XMALLOC_H

#include <stddef.h>

/*
 * Allocation wrappers that abort the process on out-of-memory, so callers
 * never check their results. xasprintf returns a string the caller frees.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* n bytes and a NUL, byte for byte: unlike xstrndup, a NUL does not stop it. */
char *xmemdup0(const void *p, size_t n);
/*
 * Makes room for element n of an array of *cap elements of size bytes:
 * returns v, or v reallocated to twice *cap (first 8), *cap updated.
 */
void *xgrow(void *v, size_t n, size_t *cap, size_t size);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
