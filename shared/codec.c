#include <event2/buffer.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec.h"
#include "errcode.h"
#include "jsonfast.h"
#include "log.h"
#include "utf8.h"
#include "validate.h"
#include "xmalloc.h"

/* Value of one hex digit, -1 if c is not one. */
static int
codec_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of the "\uXXXX" escape at s[i], or -1 if there is none. */
static long
codec_escape_at(const char *s, size_t len, size_t i)
{
	long v = 0;
	int d;

	if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u')
		return -1;
	for (size_t k = i + 2; k < i + 6; k++) {
		if ((d = codec_hex(s[k])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * json-c turns a "\u" escape of a lone surrogate into U+FFFD, which would
 * hide that the text is not Unicode; so such frames are refused here, on
 * the raw text. A backslash outside a string is a JSON syntax error, so
 * the scan need not track where strings are.
 */
static bool
codec_surrogates_ok(const char *s, size_t len)
{
	long hi, lo;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\')
			continue;
		if ((hi = codec_escape_at(s, len, i)) < 0) {
			i++; /* a two-character escape such as \\ or \" */
			continue;
		}
		i += 5;
		if (hi >= 0xDC00 && hi <= 0xDFFF)
			return false;
		if (hi < 0xD800 || hi > 0xDBFF)
			continue;
		lo = codec_escape_at(s, len, i + 1);
		if (lo < 0xDC00 || lo > 0xDFFF)
			return false;
		i += 6;
	}
	return true;
}

/* True if s[from..len) is only JSON white space. */
static bool
codec_only_ws(const char *s, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	}
	return true;
}

/* Parses one frame into an object; see codec.h. */
/*
 * Whether v is free of NaN and Infinity, which json-c takes even in strict
 * mode but which are not JSON. An overflowing number such as 1e400 is
 * JSON (it parses to infinity, and json-c keeps its text): it passes, and
 * the getters refuse it like any other double. The depth of the recursion
 * is bounded by the tokener's depth limit.
 */
static bool
codec_finite(struct json_object *v)
{
	size_t i, n;

	switch (json_object_get_type(v)) {
	case json_type_double: {
		const char *t = json_object_get_string(v);
		if (*t == '-')
			t++;
		return isfinite(json_object_get_double(v)) ||
		       (*t != 'N' && *t != 'I');
	}
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (!codec_finite(json_object_array_get_idx(v, i)))
				return false;
		}
		return true;
	case json_type_object: {
		json_object_object_foreach(v, key, val)
		{
			(void)key;
			if (!codec_finite(val))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

struct codec_reader {
	struct json_tokener *tok;
	int max_depth; /* the tokener's, for jsonfast_parse */
};

/* A reader for frames nested at most max_depth. */
struct codec_reader *
codec_reader_new(int max_depth)
{
	struct codec_reader *r = xcalloc(1, sizeof(*r));

	r->max_depth = max_depth > 0 ? max_depth : 1;
	r->tok = json_tokener_new_ex(r->max_depth);
	if (r->tok == NULL)
		fatal("%s: json_tokener_new_ex failed", __func__); /* OOM */
	/* Strict: no trailing commas or leading zeros; we check the tail. */
	json_tokener_set_flags(r->tok, JSON_TOKENER_STRICT |
	                                   JSON_TOKENER_ALLOW_TRAILING_CHARS);
	return r;
}

void
codec_reader_free(struct codec_reader *r)
{
	if (r == NULL)
		return;
	json_tokener_free(r->tok);
	free(r);
}

int
codec_reader_parse(struct codec_reader *r, const char *line, size_t len,
                   struct json_object **out)
{
	struct json_object *obj;
	bool ok;

	*out = NULL;
	if (line == NULL || len == 0 || len >= INT_MAX ||
	    !utf8_valid(line, len) || !codec_surrogates_ok(line, len))
		return -ERR_BAD_REQUEST;
	/*
	 * The fast path takes only a top-level object with nothing but JSON
	 * white space after it, holding no doubles (so nothing for
	 * codec_finite to refuse), and builds what json-c would; the checks
	 * below hold by construction. Anything else goes to json-c.
	 */
	if (jsonfast_parse(line, len, r->max_depth, out) == 0)
		return 0;
	json_tokener_reset(r->tok);
	obj = json_tokener_parse_ex(r->tok, line, (int)len);
	ok = obj != NULL &&
	     json_tokener_get_error(r->tok) == json_tokener_success &&
	     json_object_is_type(obj, json_type_object) &&
	     codec_only_ws(line, json_tokener_get_parse_end(r->tok), len) &&
	     codec_finite(obj);
	if (!ok) {
		json_object_put(obj);
		return -ERR_BAD_REQUEST;
	}
	*out = obj;
	return 0;
}

int
codec_reader_fields(const struct codec_reader *r, const char *line, size_t len,
                    struct jsonfast_field *f, size_t n)
{
	if (line == NULL || len == 0 || len >= INT_MAX ||
	    jsonfast_fields(line, len, r->max_depth, f, n) != 0)
		return 1;
	/* After the match: most frames that are not f's shape stop sooner. */
	return utf8_valid(line, len) ? 0 : 1;
}

int
codec_parse(const char *line, size_t len, int max_depth,
            struct json_object **out)
{
	struct codec_reader *r;
	int ret;

	*out = NULL;
	if (max_depth < 1)
		return -ERR_BAD_REQUEST;
	r = codec_reader_new(max_depth);
	ret = codec_reader_parse(r, line, len, out);
	codec_reader_free(r);
	return ret;
}

/*
 * Looks key up in obj: 1 if it is absent, -ERR_BAD_REQUEST if it is not of
 * type t (a JSON null included), 0 with the value in *v otherwise.
 */
static int
codec_lookup(struct json_object *obj, const char *key, enum json_type t,
             struct json_object **v)
{
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return -ERR_BAD_REQUEST;
	if (!json_object_object_get_ex(obj, key, v))
		return 1;
	if (*v == NULL || !json_object_is_type(*v, t))
		return -ERR_BAD_REQUEST;
	return 0;
}

/* A string field, borrowed, that must hold valid UTF-8. */
int
codec_get_string(struct json_object *obj, const char *key, const char **s,
                 size_t *len)
{
	struct json_object *v;
	const char *str;
	int n, r;

	if ((r = codec_lookup(obj, key, json_type_string, &v)) != 0)
		return r;
	str = json_object_get_string(v);
	n = json_object_get_string_len(v);
	if (str == NULL || n < 0 || !utf8_valid(str, (size_t)n))
		return -ERR_BAD_REQUEST;
	*s = str;
	*len = (size_t)n;
	return 0;
}

/*
 * An id field. json-c saturates integers too large for int64 at INT64_MAX
 * (or keeps them as uint64, which reads back as INT64_MAX here), so the
 * 2^53 bound also catches those.
 */
int
codec_get_id(struct json_object *obj, const char *key, int64_t *v)
{
	struct json_object *o;
	int64_t i;
	int r;

	if ((r = codec_lookup(obj, key, json_type_int, &o)) != 0)
		return r;
	i = json_object_get_int64(o);
	if (validate_id(i) < 0)
		return -ERR_BAD_REQUEST;
	*v = i;
	return 0;
}

/*
 * An unsigned field no greater than max. UINT64_MAX is where json-c
 * saturates bigger numbers, so it is refused as well.
 */
int
codec_get_uint(struct json_object *obj, const char *key, uint64_t max,
               uint64_t *v)
{
	struct json_object *o;
	uint64_t u;
	int r;

	if ((r = codec_lookup(obj, key, json_type_int, &o)) != 0)
		return r;
	if (json_object_get_int64(o) < 0)
		return -ERR_BAD_REQUEST;
	u = json_object_get_uint64(o);
	if (u > max || u == UINT64_MAX)
		return -ERR_BAD_REQUEST;
	*v = u;
	return 0;
}

/* A boolean field. */
int
codec_get_bool(struct json_object *obj, const char *key, bool *v)
{
	struct json_object *o;
	int r;

	if ((r = codec_lookup(obj, key, json_type_boolean, &o)) != 0)
		return r;
	*v = json_object_get_boolean(o);
	return 0;
}

/* An object field, borrowed. */
int
codec_get_object(struct json_object *obj, const char *key,
                 struct json_object **o)
{
	return codec_lookup(obj, key, json_type_object, o);
}

/* Sets key to a copy of s. */
void
codec_set_string(struct json_object *obj, const char *key, const char *s)
{
	json_object_object_add(obj, key, json_object_new_string(s));
}

/* Sets key to the integer v. */
void
codec_set_int(struct json_object *obj, const char *key, int64_t v)
{
	json_object_object_add(obj, key, json_object_new_int64(v));
}

/* Sets key to the boolean v. */
void
codec_set_bool(struct json_object *obj, const char *key, bool v)
{
	json_object_object_add(obj, key, json_object_new_boolean(v));
}

/* {"type":type}: the start of every reply and event. */
struct json_object *
codec_event(const char *type)
{
	struct json_object *obj = json_object_new_object();

	codec_set_string(obj, "type", type);
	return obj;
}

/* {"code":slug,"message":...}; a NULL message means the default one. */
static struct json_object *
codec_error_body(int code, const char *message)
{
	struct json_object *err = json_object_new_object();

	codec_set_string(err, "code", errcode_slug(code));
	codec_set_string(err, "message",
	                 message != NULL ? message : errcode_message(code));
	return err;
}

/* A successful reply to request req of this type. */
struct json_object *
codec_reply_ok(const char *type, uint32_t req)
{
	struct json_object *obj = codec_event(type);

	codec_set_int(obj, "req", req);
	codec_set_bool(obj, "ok", true);
	return obj;
}

/* A failed reply; code may be given as ERR_x or -ERR_x. */
struct json_object *
codec_reply_error(const char *type, bool has_req, uint32_t req, int code,
                  const char *message)
{
	struct json_object *obj = codec_event(type);

	if (has_req)
		codec_set_int(obj, "req", req);
	codec_set_bool(obj, "ok", false);
	json_object_object_add(obj, "error", codec_error_body(code, message));
	return obj;
}

/* An "error" event, for faults not tied to a request. */
struct json_object *
codec_error_event(int code, const char *message)
{
	struct json_object *obj = codec_event("error");

	json_object_object_add(obj, "error", codec_error_body(code, message));
	return obj;
}

/* Compact JSON text of obj, borrowed from obj, and its length. */
const char *
codec_text(struct json_object *obj, size_t *len)
{
	const char *text = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);

	if (text == NULL)
		fatal("%s: json-c could not serialize (out of memory)",
		      __func__);
	return text;
}

/* obj as one frame with its "\n", in a string the caller frees. */
char *
codec_frame(struct json_object *obj, size_t *len)
{
	size_t n;
	const char *text = codec_text(obj, &n);
	char *frame = xmalloc(n + 2);

	memcpy(frame, text, n);
	frame[n] = '\n';
	frame[n + 1] = '\0';
	if (len != NULL)
		*len = n + 1;
	return frame;
}

/* Appends obj as one frame to out; returns the bytes appended. */
size_t
codec_write(struct evbuffer *out, struct json_object *obj)
{
	size_t n;
	const char *text = codec_text(obj, &n);

	evbuffer_add(out, text, n);
	evbuffer_add(out, "\n", 1);
	return n + 1;
}

void
codec_out_grow(struct codec_out *o, size_t n)
{
	if (o->cap == 0)
		o->cap = 256;
	while (o->len + n + 1 > o->cap)
		o->cap *= 2;
	o->buf = xrealloc(o->buf, o->cap);
}

/* The escape of byte c, which may not appear raw in a JSON string. */
static void
codec_out_escape(struct codec_out *o, unsigned char c)
{
	/* Pairs of (byte, letter) for the short escapes. */
	static const char pairs[] = "\"\"\\\\\bb\ff\nn\rr\tt";
	const char *p = memchr(pairs, c, sizeof(pairs) - 1);
	char esc[8];

	if (p != NULL) {
		esc[0] = '\\';
		esc[1] = p[1];
		codec_out_bytes(o, esc, 2);
	} else {
		snprintf(esc, sizeof(esc), "\\u%04x", c);
		codec_out_bytes(o, esc, 6);
	}
}

/*
 * A JSON string: quotes, backslashes and control characters escaped (as
 * json-c does), everything else, UTF-8 included, copied in runs. Every
 * message event carries its body through here: runs without anything to
 * escape are skipped eight bytes at a time.
 */
void
codec_out_str(struct codec_out *o, const char *s, size_t len)
{
	size_t i = 0, from = 0;
	unsigned char c;
	uint64_t m;

	codec_out_bytes(o, "\"", 1);
	while (i < len) {
		if (len - i >= 8) { /* to the next byte to escape */
			if ((m = jsonfast_word_special(s + i)) == 0) {
				i += 8;
				continue;
			}
			i += jsonfast_word_first(m);
		}
		c = (unsigned char)s[i++];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		codec_out_bytes(o, s + from, i - 1 - from);
		codec_out_escape(o, c);
		from = i;
	}
	codec_out_bytes(o, s + from, len - from);
	codec_out_bytes(o, "\"", 1);
}

/* Decimal digits by hand: snprintf showed in the profile of every send. */
void
codec_out_int(struct codec_out *o, int64_t v)
{
	char num[24], *p = num + sizeof(num);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	codec_out_bytes(o, p, (size_t)(num + sizeof(num) - p));
}

char *
codec_out_take(struct codec_out *o, size_t *len)
{
	char *text;

	if (o->buf == NULL)
		codec_out_bytes(o, "", 0);
	text = o->buf;
	if (len != NULL)
		*len = o->len;
	o->buf = NULL;
	o->len = o->cap = 0;
	return text;
}
