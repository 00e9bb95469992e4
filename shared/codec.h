#ifndef NATTER_SHARED_CODEC_H
#define NATTER_SHARED_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct evbuffer;
struct json_object;
struct jsonfast_field;

/*
 * The JSON codec on json-c: decoding a frame into an object with strict
 * checks, typed field getters that enforce PROTOCOL.md's rules, and
 * builders for replies and events.
 */

#define CODEC_MAX_DEPTH 16 /* nesting limit for request frames */

/*
 * Parses one frame. The bytes must be valid UTF-8 and hold exactly one JSON
 * object (nothing but whitespace after it), nested at most max_depth, with
 * no "\u" escape of a lone surrogate (json-c would quietly turn one into
 * U+FFFD, so such frames are refused here, before any getter sees them).
 * Returns 0 and the new object in *out (caller puts it), or -ERR_BAD_REQUEST.
 */
int codec_parse(const char *line, size_t len, int max_depth,
                struct json_object **out);

/*
 * A parser to keep: codec_reader_parse is codec_parse without setting up
 * json-c's tokener for every frame. One reader per thread. Frames in the
 * shape of real requests skip the tokener (jsonfast.h) for the same
 * objects, about half the instructions.
 */
struct codec_reader *codec_reader_new(int max_depth);
void codec_reader_free(struct codec_reader *r);
int codec_reader_parse(struct codec_reader *r, const char *line, size_t len,
                       struct json_object **out);
/*
 * Matches frame line to the slots f[0..n) without building objects
 * (jsonfast_fields at the reader's depth), for a hot request's handler:
 * 0 when it matched and is valid UTF-8 (its strings are then valid UTF-8
 * once unescaped), else 1: parse it with codec_reader_parse.
 */
int codec_reader_fields(const struct codec_reader *r, const char *line,
                        size_t len, struct jsonfast_field *f, size_t n);

/*
 * Field getters. Each returns 0 on success, -ERR_NOT_FOUND-style codes are
 * not used: a missing field gives 1 (so optional fields are easy), a field of
 * the wrong type or value gives -ERR_BAD_REQUEST.
 *  - codec_get_string: a JSON string; *s borrowed from obj, *len its bytes;
 *    decoded bytes must be valid UTF-8 (a lone \ud800 escape is already
 *    refused by codec_parse).
 *  - codec_get_id: a JSON integer 1 <= v < 2^53 (not a double, bool,
 *    string or null).
 *  - codec_get_uint: a JSON integer 0 <= v <= max.
 *  - codec_get_bool: a JSON boolean.
 *  - codec_get_object: a JSON object; *o borrowed.
 */
int codec_get_string(struct json_object *obj, const char *key, const char **s,
                     size_t *len);
int codec_get_id(struct json_object *obj, const char *key, int64_t *v);
int codec_get_uint(struct json_object *obj, const char *key, uint64_t max,
                   uint64_t *v);
int codec_get_bool(struct json_object *obj, const char *key, bool *v);
int codec_get_object(struct json_object *obj, const char *key,
                     struct json_object **o);

/*
 * Builders return new objects the caller owns (json_object_put).
 * codec_reply_ok: {"type":type,"req":req,"ok":true}.
 * codec_reply_error: {"type":type,"req":req,"ok":false,"error":{...}};
 *   message NULL means errcode_message(code). "req" is omitted if has_req is
 *   false (a frame whose req could not be read).
 * codec_event: {"type":type}.
 * codec_error_event: {"type":"error","error":{"code":..,"message":..}}.
 */
struct json_object *codec_reply_ok(const char *type, uint32_t req);
struct json_object *codec_reply_error(const char *type, bool has_req,
                                      uint32_t req, int code,
                                      const char *message);
struct json_object *codec_event(const char *type);
struct json_object *codec_error_event(int code, const char *message);

/* Small setters on an object, for brevity at call sites. */
void codec_set_string(struct json_object *obj, const char *key, const char *s);
void codec_set_int(struct json_object *obj, const char *key, int64_t v);
void codec_set_bool(struct json_object *obj, const char *key, bool v);

/*
 * Serializes obj as one frame: compact JSON (no "\/" escaping of slashes)
 * followed by "\n". codec_frame returns a string the caller frees and its
 * length in *len (may be NULL); codec_write appends to an evbuffer and
 * returns the bytes written.
 */
char *codec_frame(struct json_object *obj, size_t *len);
size_t codec_write(struct evbuffer *out, struct json_object *obj);
/* The frame's text without its "\n", borrowed from obj, and its length. */
const char *codec_text(struct json_object *obj, size_t *len);

/*
 * JSON text written by hand, for the hot paths (a message event is built
 * for every send) where a json-c object would cost an allocation per
 * field only to be serialized at once. Start from {0}; the caller writes
 * the punctuation, codec_out_str quotes and escapes a (UTF-8) string.
 * codec_out_take hands the text over (the caller frees it).
 */
struct codec_out {
	char *buf;
	size_t len, cap;
};

/* Makes room for n more bytes and a NUL: codec_out_bytes's slow path. */
void codec_out_grow(struct codec_out *o, size_t n);

/*
 * Appends n bytes as they are. Inline, as is codec_out_raw: the writers
 * append many short literals, whose lengths and copies then fold into a
 * few moves.
 */
static inline void
codec_out_bytes(struct codec_out *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap)
		codec_out_grow(o, n);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Appends text as it is: the punctuation, keys and numbers' text. */
static inline void
codec_out_raw(struct codec_out *o, const char *text)
{
	codec_out_bytes(o, text, strlen(text));
}

void codec_out_str(struct codec_out *o, const char *s, size_t len);
void codec_out_int(struct codec_out *o, int64_t v);
char *codec_out_take(struct codec_out *o, size_t *len);

#endif
