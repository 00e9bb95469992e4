/*
 * libFuzzer target for shared/codec.c and shared/validate.c: the input is
 * one frame as handler_dispatch gets it. Accepted objects go through every
 * getter on the protocol's field names, the validators on the strings
 * found, and a round trip through codec_frame; the reply builders are fed
 * the request's own (hostile) strings, as handler_reject does.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec.h"
#include "errcode.h"
#include "utf8.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_codec_keys[] = {
    "type",  "req",    "name",  "password", "to",     "user",  "group",
    "body",  "cmid",   "conv",  "seq",      "before", "limit", "desc",
    "proto", "client", "error", "ok",       "msg"};
#define FUZZ_CODEC_NKEYS (sizeof fuzz_codec_keys / sizeof fuzz_codec_keys[0])

/* Stops the run: the codec broke the contract in codec.h. */
static void
fuzz_codec_fail(const char *what)
{
	fprintf(stderr, "fuzz-codec: %s\n", what);
	abort();
}

/*
 * Whether obj holds a NaN or an infinity: json-c reads NaN and Infinity
 * even in strict mode, but they are not JSON (RFC 8259), so an accepted
 * frame must not hold one. 1e400 is JSON and, as json-c keeps its text,
 * round-trips: only the words are refused.
 */
static bool
fuzz_codec_has_nonfinite(struct json_object *obj, int depth)
{
	size_t i, n;

	if (depth > CODEC_MAX_DEPTH + 1)
		return false;
	if (json_object_is_type(obj, json_type_double))
		return isnan(json_object_get_double(obj)) ||
		       (isinf(json_object_get_double(obj)) &&
		        strchr(json_object_to_json_string(obj), 'I') != NULL);
	if (json_object_is_type(obj, json_type_array)) {
		n = json_object_array_length(obj);
		for (i = 0; i < n; i++)
			if (fuzz_codec_has_nonfinite(
			        json_object_array_get_idx(obj, i), depth + 1))
				return true;
	}
	if (json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, val)
		{
			(void)key;
			if (fuzz_codec_has_nonfinite(val, depth + 1))
				return true;
		}
	}
	return false;
}

/* A getter's result must be 0, 1 (absent) or -ERR_BAD_REQUEST. */
static void
fuzz_codec_check_rc(int r)
{
	if (r != 0 && r != 1 && r != -ERR_BAD_REQUEST)
		fuzz_codec_fail("getter returned an unexpected code");
}

/* Runs the validators over a string the getters handed out. */
static void
fuzz_codec_validate(const char *s, size_t len)
{
	int r;

	if (!utf8_valid(s, len))
		fuzz_codec_fail("codec_get_string gave invalid UTF-8");
	if (utf8_count(s, len) < 0)
		fuzz_codec_fail("utf8_count refused what utf8_valid took");
	r = validate_name(s, len);
	if (r != 0 && r != -ERR_INVALID_NAME)
		fuzz_codec_fail("validate_name: unexpected code");
	if (r == 0 && (len == 0 || utf8_count(s, len) > VALIDATE_NAME_MAX_CP))
		fuzz_codec_fail("validate_name took a bad length");
	r = validate_password(s, len);
	if (r == 0 &&
	    (len < VALIDATE_PASSWORD_MIN || len > VALIDATE_PASSWORD_MAX ||
	     memchr(s, '\0', len) != NULL))
		fuzz_codec_fail("validate_password took a bad password");
	r = validate_body(s, len, VALIDATE_BODY_MAX);
	if (r == 0 && (len == 0 || len > VALIDATE_BODY_MAX ||
	               memchr(s, '\0', len) != NULL))
		fuzz_codec_fail("validate_body took a bad body");
	(void)validate_body(s, len, 16);
}

/* Every typed getter on key of obj, and what they give, checked. */
static void
fuzz_codec_getters(struct json_object *obj, const char *key, int depth)
{
	struct json_object *sub = NULL;
	const char *s;
	size_t len;
	int64_t id;
	uint64_t u;
	bool b;
	int r;

	if ((r = codec_get_string(obj, key, &s, &len)) == 0)
		fuzz_codec_validate(s, len);
	fuzz_codec_check_rc(r);
	if ((r = codec_get_id(obj, key, &id)) == 0 && validate_id(id) != 0)
		fuzz_codec_fail("codec_get_id gave a bad id");
	fuzz_codec_check_rc(r);
	if ((r = codec_get_uint(obj, key, UINT32_MAX, &u)) == 0 &&
	    u > UINT32_MAX)
		fuzz_codec_fail("codec_get_uint over its max");
	fuzz_codec_check_rc(r);
	fuzz_codec_check_rc(codec_get_uint(obj, key, UINT64_MAX, &u));
	fuzz_codec_check_rc(codec_get_bool(obj, key, &b));
	r = codec_get_object(obj, key, &sub);
	fuzz_codec_check_rc(r);
	if (r == 0 && depth < 3) {
		for (size_t i = 0; i < FUZZ_CODEC_NKEYS; i++)
			fuzz_codec_getters(sub, fuzz_codec_keys[i], depth + 1);
	}
}

/*
 * obj as a frame: one line ending in its only "\n", which parses back to
 * an equal object.
 */
static void
fuzz_codec_round_trip(struct json_object *obj, int max_depth)
{
	struct json_object *back = NULL;
	size_t len;
	char *frame = codec_frame(obj, &len);

	if (len == 0 || frame[len - 1] != '\n' || frame[len] != '\0' ||
	    memchr(frame, '\n', len - 1) != NULL)
		fuzz_codec_fail("codec_frame is not one line");
	if (codec_parse(frame, len - 1, max_depth, &back) != 0) {
		fprintf(stderr, "frame: %s", frame);
		fuzz_codec_fail("codec_frame output does not parse back");
	}
	if (!json_object_equal(obj, back)) {
		fprintf(stderr, "frame: %s", frame);
		fuzz_codec_fail("round trip changed the object");
	}
	json_object_put(back);
	free(frame);
}

/* The builders, fed the request's type and body as the server might. */
static void
fuzz_codec_builders(struct json_object *obj)
{
	struct json_object *r;
	const char *type = "error", *msg = NULL;
	size_t len;
	uint64_t req = 0;
	bool has_req;

	(void)codec_get_string(obj, "type", &type, &len);
	(void)codec_get_string(obj, "body", &msg, &len);
	has_req = codec_get_uint(obj, "req", UINT32_MAX, &req) == 0;
	r = codec_reply_error(type, has_req, (uint32_t)req, ERR_BAD_REQUEST,
	                      msg);
	fuzz_codec_round_trip(r, 4);
	json_object_put(r);
	r = codec_reply_ok(type, (uint32_t)req);
	json_object_object_add(r, "echo", json_object_get(obj));
	fuzz_codec_round_trip(r, CODEC_MAX_DEPTH + 1);
	json_object_put(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *obj = NULL;
	const char *line = (const char *)data;

	if (codec_parse(line, size, CODEC_MAX_DEPTH, &obj) != 0) {
		if (obj != NULL)
			fuzz_codec_fail("refused frame left an object");
		return 0;
	}
	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		fuzz_codec_fail("accepted frame is not an object");
	if (!utf8_valid(line, size))
		fuzz_codec_fail("accepted a frame that is not UTF-8");
	if (fuzz_codec_has_nonfinite(obj, 0))
		fuzz_codec_fail("accepted NaN or Infinity, which are not JSON");
	for (size_t i = 0; i < FUZZ_CODEC_NKEYS; i++)
		fuzz_codec_getters(obj, fuzz_codec_keys[i], 0);
	fuzz_codec_round_trip(obj, CODEC_MAX_DEPTH);
	fuzz_codec_builders(obj);
	json_object_put(obj);
	return 0;
}
