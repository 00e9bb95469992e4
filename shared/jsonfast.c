/*
 * The frame fast path (see jsonfast.h): a recursive descent parser over
 * the subset of JSON that real frames use, building the objects with the
 * same json-c calls as json-c's tokener does, so that the result cannot
 * be told apart from the tokener's. Every function returns false for text
 * outside the subset, valid JSON or not, and the whole parse then gives
 * way to json-c: the subset may be narrower than needed, never wider.
 */
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonfast.h"
#include "xmalloc.h"

/* Objects nest at most this deep (the top one is 1); deeper falls back. */
#define JSONFAST_MAX_LEVEL 3
/* Keys of this many bytes or more fall back; protocol keys are short. */
#define JSONFAST_KEY_MAX 64
/* 18 decimal digits always fit an int64, so no overflow check is needed. */
#define JSONFAST_INT_DIGITS 18
/* Escaped strings up to this size are decoded on the stack. */
#define JSONFAST_STACK_BUF 512

struct jsonfast {
	const char *p;   /* the next byte */
	const char *end; /* one past the last byte */
	int max_depth;   /* as json_tokener_new_ex's depth */
};

/* Skips JSON white space; json-c's other isspace() bytes fall back. */
static void
jsonfast_ws(struct jsonfast *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	                         *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Consumes the byte c if it comes next. */
static bool
jsonfast_eat(struct jsonfast *j, char c)
{
	if (j->p == j->end || *j->p != c)
		return false;
	j->p++;
	return true;
}

/* The byte the escape "\c" stands for, or -1 if c is not a short one. */
static int
jsonfast_escape(char c)
{
	switch (c) {
	case '"':
	case '\\':
	case '/':
		return c;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return -1; /* "\u" included: json-c has its surrogate rules */
	}
}

/*
 * Scans a string whose opening quote is consumed, up to and past its
 * closing quote: its raw bytes are start[0..n), escaped says if they hold
 * an escape. Control bytes fall back: json-c takes them raw even in
 * strict mode, except NUL, which ends its input.
 */
static bool
jsonfast_scan_string(struct jsonfast *j, const char **start, size_t *n,
                     bool *escaped)
{
	const char *p = j->p;
	unsigned char c;
	uint64_t m;

	*escaped = false;
	while (p < j->end) {
		if (j->end - p >= 8) { /* to the next special byte */
			if ((m = jsonfast_word_special(p)) == 0) {
				p += 8;
				continue;
			}
			p += jsonfast_word_first(m);
		}
		c = (unsigned char)*p;
		if (c == '"') {
			*start = j->p;
			*n = (size_t)(p - j->p);
			j->p = p + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (p + 1 == j->end || jsonfast_escape(p[1]) < 0)
				return false;
			*escaped = true;
			p++;
		}
		p++;
	}
	return false;
}

size_t
jsonfast_unescape(const char *s, size_t n, char *dst)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\')
			dst[k++] = (char)jsonfast_escape(s[++i]);
		else
			dst[k++] = s[i];
	}
	return k;
}

/* A key, decoded into key[] and NUL-terminated for json-c. */
static bool
jsonfast_key(struct jsonfast *j, char key[JSONFAST_KEY_MAX])
{
	const char *s;
	size_t n;
	bool escaped;

	if (!jsonfast_eat(j, '"') || !jsonfast_scan_string(j, &s, &n, &escaped))
		return false;
	if (n >= JSONFAST_KEY_MAX) /* the decoded key is no longer */
		return false;
	if (escaped)
		n = jsonfast_unescape(s, n, key);
	else
		memcpy(key, s, n);
	key[n] = '\0';
	return true;
}

/* A string value, made as the tokener makes it. */
static bool
jsonfast_string(struct jsonfast *j, struct json_object **v)
{
	char stack[JSONFAST_STACK_BUF], *buf;
	const char *s;
	size_t n;
	bool escaped;

	j->p++; /* the opening quote */
	if (!jsonfast_scan_string(j, &s, &n, &escaped))
		return false;
	if (!escaped) {
		*v = json_object_new_string_len(s, (int)n);
		return *v != NULL;
	}
	buf = n <= sizeof(stack) ? stack : xmalloc(n);
	n = jsonfast_unescape(s, n, buf);
	*v = json_object_new_string_len(buf, (int)n);
	if (buf != stack)
		free(buf);
	return *v != NULL;
}

/*
 * An integer: -?(0|[1-9][0-9]{0,17}). Leading zeros, fractions, exponents
 * and longer numbers end the scan early, so the caller sees a byte it does
 * not expect and falls back.
 */
static bool
jsonfast_int_scan(struct jsonfast *j, int64_t *v)
{
	bool neg = jsonfast_eat(j, '-');
	uint64_t u = 0;
	int digits = 0;

	if (j->p == j->end || *j->p < '0' || *j->p > '9')
		return false;
	if (*j->p == '0') {
		j->p++;
	} else {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9' &&
		       digits++ < JSONFAST_INT_DIGITS)
			u = u * 10 + (uint64_t)(*j->p++ - '0');
	}
	*v = neg ? -(int64_t)u : (int64_t)u;
	return true;
}

/* An integer value, as a json-c object. */
static bool
jsonfast_int(struct jsonfast *j, struct json_object **v)
{
	int64_t i;

	if (!jsonfast_int_scan(j, &i))
		return false;
	*v = json_object_new_int64(i);
	return *v != NULL;
}

/* Consumes the word w (true, false, null) if it comes next. */
static bool
jsonfast_word(struct jsonfast *j, const char *w, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool jsonfast_object(struct jsonfast *j, int level,
                            struct json_object **out);

/*
 * A member's value at nesting level (1 in the top object). json-c refuses
 * any value at level max_depth or deeper, so those fall back. A JSON null
 * is a NULL value, as json-c stores it.
 */
static bool
jsonfast_value(struct jsonfast *j, int level, struct json_object **v)
{
	*v = NULL;
	if (level >= j->max_depth || j->p == j->end)
		return false;
	switch (*j->p) {
	case '"':
		return jsonfast_string(j, v);
	case '{':
		j->p++;
		return level < JSONFAST_MAX_LEVEL &&
		       jsonfast_object(j, level + 1, v);
	case 't':
		return jsonfast_word(j, "true", 4) &&
		       (*v = json_object_new_boolean(1)) != NULL;
	case 'f':
		return jsonfast_word(j, "false", 5) &&
		       (*v = json_object_new_boolean(0)) != NULL;
	case 'n':
		return jsonfast_word(j, "null", 4);
	default:
		return jsonfast_int(j, v);
	}
}

/*
 * One "key":value member added to obj. json_object_object_add is what the
 * tokener calls too, so a duplicate key behaves the same: the last value
 * wins, in the first one's place.
 */
static bool
jsonfast_member(struct jsonfast *j, int level, struct json_object *obj)
{
	char key[JSONFAST_KEY_MAX];
	struct json_object *v;

	if (!jsonfast_key(j, key))
		return false;
	jsonfast_ws(j);
	if (!jsonfast_eat(j, ':'))
		return false;
	jsonfast_ws(j);
	if (!jsonfast_value(j, level, &v))
		return false; /* v is NULL or put by the callee */
	if (json_object_object_add(obj, key, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

/*
 * An object whose "{" is consumed, with members at nesting level; the
 * strict tokener's rules: no trailing comma, keys in double quotes.
 */
static bool
jsonfast_object(struct jsonfast *j, int level, struct json_object **out)
{
	struct json_object *obj = json_object_new_object();

	if (obj == NULL)
		return false;
	jsonfast_ws(j);
	if (jsonfast_eat(j, '}'))
		goto done;
	for (;;) {
		if (!jsonfast_member(j, level, obj))
			goto fail;
		jsonfast_ws(j);
		if (jsonfast_eat(j, '}'))
			break;
		if (!jsonfast_eat(j, ','))
			goto fail;
		jsonfast_ws(j);
	}
done:
	*out = obj;
	return true;
fail:
	json_object_put(obj);
	return false;
}

int
jsonfast_parse(const char *s, size_t len, int max_depth,
               struct json_object **out)
{
	struct jsonfast j;
	struct json_object *obj;

	*out = NULL;
	if (s == NULL || len > INT_MAX || max_depth < 1)
		return 1;
	j.p = s;
	j.end = s + len;
	j.max_depth = max_depth;
	jsonfast_ws(&j);
	if (!jsonfast_eat(&j, '{') || !jsonfast_object(&j, 1, &obj))
		return 1;
	jsonfast_ws(&j);
	if (j.p != j.end) {
		json_object_put(obj);
		return 1;
	}
	*out = obj;
	return 0;
}

/*
 * jsonfast_fields: the members of one object matched to the caller's
 * slots, no json-c objects made. Keys with escapes fall back: json-c
 * compares decoded keys, and protocol keys never need one.
 */

/*
 * Whether name starts with s[0..n), which holds no NUL. A loop: names
 * are a few bytes long, shorter than a call to strncmp.
 */
static bool
jsonfast_starts_with(const char *name, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (name[i] != s[i])
			return false;
	return true;
}

/* The slot named prefix.key (prefix NULL: key), not yet filled; or NULL. */
static struct jsonfast_field *
jsonfast_slot(struct jsonfast_field *f, size_t n, const char *prefix,
              size_t plen, const char *key, size_t klen)
{
	size_t i, off;

	for (i = 0; i < n; i++) {
		off = 0;
		if (prefix != NULL) {
			if (!jsonfast_starts_with(f[i].key, prefix, plen) ||
			    f[i].key[plen] != '.')
				continue;
			off = plen + 1;
		}
		if (!jsonfast_starts_with(f[i].key + off, key, klen) ||
		    f[i].key[off + klen] != '\0')
			continue;
		/* A top-level "to.user" is no member of "to". */
		if (f[i].set || (prefix == NULL && memchr(key, '.', klen)))
			return NULL;
		return &f[i];
	}
	return NULL;
}

/* A key with no escapes: its raw bytes. */
static bool
jsonfast_plain_key(struct jsonfast *j, const char **key, size_t *klen)
{
	bool escaped;

	if (!jsonfast_eat(j, '"') ||
	    !jsonfast_scan_string(j, key, klen, &escaped) || escaped)
		return false;
	jsonfast_ws(j);
	if (!jsonfast_eat(j, ':'))
		return false;
	jsonfast_ws(j);
	return true;
}

/* A string or integer value into slot, as its kind says. */
static bool
jsonfast_slot_value(struct jsonfast *j, struct jsonfast_field *slot)
{
	if (slot->kind == JSONFAST_STRING) {
		if (!jsonfast_eat(j, '"') ||
		    !jsonfast_scan_string(j, &slot->str, &slot->len,
		                          &slot->escaped))
			return false;
	} else if (!jsonfast_int_scan(j, &slot->num)) {
		return false;
	}
	slot->set = true;
	return true;
}

static bool jsonfast_fields_object(struct jsonfast *j, struct jsonfast_field *f,
                                   size_t n, const char *prefix, size_t plen);

/* One member: a slot's value or, at the top, an object of prefixed ones. */
static bool
jsonfast_fields_member(struct jsonfast *j, struct jsonfast_field *f, size_t n,
                       const char *prefix, size_t plen)
{
	struct jsonfast_field *slot;
	const char *key;
	size_t klen;

	if (!jsonfast_plain_key(j, &key, &klen))
		return false;
	if ((slot = jsonfast_slot(f, n, prefix, plen, key, klen)) == NULL)
		return false;
	if (slot->kind != JSONFAST_OBJECT)
		return jsonfast_slot_value(j, slot);
	/* Only at the top, and once: its members' slots fill only once. */
	slot->set = true;
	return prefix == NULL && j->max_depth > 2 && jsonfast_eat(j, '{') &&
	       jsonfast_fields_object(j, f, n, key, klen);
}

/* An object whose "{" is consumed; prefix names it below the top. */
static bool
jsonfast_fields_object(struct jsonfast *j, struct jsonfast_field *f, size_t n,
                       const char *prefix, size_t plen)
{
	jsonfast_ws(j);
	if (jsonfast_eat(j, '}'))
		return true;
	for (;;) {
		if (!jsonfast_fields_member(j, f, n, prefix, plen))
			return false;
		jsonfast_ws(j);
		if (jsonfast_eat(j, '}'))
			return true;
		if (!jsonfast_eat(j, ','))
			return false;
		jsonfast_ws(j);
	}
}

int
jsonfast_fields(const char *s, size_t len, int max_depth,
                struct jsonfast_field *f, size_t n)
{
	struct jsonfast j;
	size_t i;

	for (i = 0; i < n; i++)
		f[i].set = false;
	if (s == NULL || len > INT_MAX || max_depth < 2)
		return 1;
	j.p = s;
	j.end = s + len;
	j.max_depth = max_depth;
	jsonfast_ws(&j);
	if (!jsonfast_eat(&j, '{') ||
	    !jsonfast_fields_object(&j, f, n, NULL, 0))
		return 1;
	jsonfast_ws(&j);
	return j.p == j.end ? 0 : 1;
}

bool
jsonfast_next_lit(struct jsonfast_cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
		return false;
	c->p += n;
	return true;
}

bool
jsonfast_next_int(struct jsonfast_cursor *c, int64_t *v)
{
	struct jsonfast j = {c->p, c->end, 0};

	if (!jsonfast_int_scan(&j, v))
		return false;
	c->p = j.p;
	return true;
}

bool
jsonfast_next_string(struct jsonfast_cursor *c, const char **s, size_t *n,
                     bool *escaped)
{
	struct jsonfast j = {c->p, c->end, 0};

	if (!jsonfast_eat(&j, '"') || !jsonfast_scan_string(&j, s, n, escaped))
		return false;
	c->p = j.p;
	return true;
}
