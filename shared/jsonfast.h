#ifndef NATTER_SHARED_JSONFAST_H
#define NATTER_SHARED_JSONFAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/*
 * Decodes s[0..n), a string's raw text with escapes as jsonfast_fields
 * returns it, into dst, which has room for n bytes. Returns the length.
 */
size_t jsonfast_unescape(const char *s, size_t n, char *dst);

enum jsonfast_kind {
	JSONFAST_STRING,
	JSONFAST_INT,   /* as jsonfast_parse takes them: at most 18 digits */
	JSONFAST_OBJECT /* an object of the slots "key.member" */
};

/* One member the caller expects, and what jsonfast_fields found there. */
struct jsonfast_field {
	const char *key; /* "body"; "to.user" for member user of object to */
	enum jsonfast_kind kind;
	bool set;        /* out: the member is there */
	int64_t num;     /* out: an integer's value */
	const char *str; /* out: a string's raw text in s, between the quotes */
	size_t len;
	bool escaped; /* out: str holds escapes; jsonfast_unescape it */
};

/*
 * A faster path still, for hot requests of a known shape: matches the
 * members of the object in s to the n slots without building anything.
 * Returns 0 when s is one object (JSON white space around it) whose every
 * member is a slot's key, at most once, with a value of the slot's kind
 * within jsonfast_parse's subset; an object slot's members are slots
 * too, nested one level at most. json-c would then build an object with
 * exactly the members found, of those types and values (depth counted
 * as in jsonfast_parse). Returns 1 for any other text: ask
 * jsonfast_parse or json-c. Keys with escapes are such text.
 */
int jsonfast_fields(const char *s, size_t len, int max_depth,
                    struct jsonfast_field *f, size_t n);

/*
 * A cursor, for callers that scan text of a shape they know exactly (the
 * cluster relay's batches, which natterd writes itself) with this
 * module's scanners. Each call consumes what it matched and returns true,
 * or returns false (the cursor then points anywhere): the caller gives up
 * on the fast path.
 */
struct jsonfast_cursor {
	const char *p;   /* the next byte */
	const char *end; /* one past the last byte */
};

/* These bytes, exactly. */
bool jsonfast_next_lit(struct jsonfast_cursor *c, const char *lit);
/* An integer as jsonfast_parse takes them: at most 18 digits. */
bool jsonfast_next_int(struct jsonfast_cursor *c, int64_t *v);
/*
 * A string, quotes included: its raw text (*s, *n) as jsonfast_fields
 * gives it, escapes and all (*escaped: jsonfast_unescape it).
 */
bool jsonfast_next_string(struct jsonfast_cursor *c, const char **s, size_t *n,
                          bool *escaped);

/*
 * A mask of the bytes among the 8 at s that are special in a JSON string:
 * below 0x20, '"' or '\\'. The usual word-at-a-time tests: 0 exactly
 * when there is none; bits above the first special byte's may be wrong.
 * Scanning and writing strings skip clean words with it.
 */
static inline uint64_t
jsonfast_word_special(const char *s)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	uint64_t w, q, b;

	memcpy(&w, s, sizeof(w));
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	        ((b - ones) & ~b)) &
	       highs;
}

/*
 * The offset in its word of the first flagged byte of a nonzero mask:
 * the first special byte, or on a big-endian machine (where the tests'
 * borrows run towards the earlier bytes) possibly a byte before it, never
 * one past it. Callers look at that byte and go on from there.
 */
static inline size_t
jsonfast_word_first(uint64_t mask)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (size_t)__builtin_ctzll(mask) / 8;
#else
	return (size_t)__builtin_clzll(mask) / 8;
#endif
}

#endif
