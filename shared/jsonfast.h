#ifndef NATTER_SHARED_JSONFAST_H
#define NATTER_SHARED_JSONFAST_H

#include <stddef.h>

struct json_object;

/*
 * A fast path for decoding request frames into json-c objects without
 * json-c's tokener, whose per-character state machine and per-call locale
 * switching were a fifth of natterd's instructions under load. It knows a
 * small subset of JSON, the shape of every real frame: one object whose
 * members are strings (with the short escapes, not "\u"), integers of at
 * most 18 digits, true, false, null and objects nested a little, with JSON
 * white space around the tokens. For anything else it declines and the
 * caller parses with json-c as before, so it never refuses a frame itself.
 */

/*
 * Parses the len bytes at s. Returns 0 and a new object in *out (the
 * caller puts it) when the text is entirely within the subset: the object
 * is then the one json-c would build from it (same types, keys in the same
 * order, same values), with depth counted as json_tokener_new_ex(max_depth)
 * counts it. Returns 1 and *out NULL for any other text, malformed or not:
 * "not mine, ask json-c". Bytes >= 0x80 are copied as they are; the caller
 * checks UTF-8, as json-c does not check it either.
 */
int jsonfast_parse(const char *s, size_t len, int max_depth,
                   struct json_object **out);

#endif
