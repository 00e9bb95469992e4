/*
 * Differential libFuzzer target for shared/jsonfast.c: whatever text the
 * fast path takes, json-c (set up as codec_reader_new sets it up) must
 * take too, with nothing but white space after the object, and build an
 * equal object: same serialization, same keys in the same order, same
 * types. The input is one frame, UTF-8 checked first as the codec does;
 * it is tried at the codec's depth and at a small one (1 to 3) that the
 * input's length picks, where json-c's depth limit bites.
 *
 * jsonfast_fields is tried there too, with the slots of a send frame:
 * whatever it takes, json-c must build an object with exactly the members
 * found, of the slots' types and with equal values.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec.h"
#include "../unit/jsonfast-ref.h"
#include "jsonfast.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run: jsonfast took a text that json-c reads otherwise. */
static void
fuzz_jsonfast_fail(const char *what, const char *s, size_t len, int depth)
{
	fprintf(stderr, "fuzz-jsonfast: %s (max_depth %d)\ntext: %.*s\n", what,
	        depth, (int)len, s);
	abort();
}

/* One parse at max_depth, checked against json-c's. */
static void
fuzz_jsonfast_check(const char *s, size_t len, int max_depth)
{
	struct json_object *fast = NULL, *slow;
	const char *ft, *st;
	int r = jsonfast_parse(s, len, max_depth, &fast);

	if (r == 1 && fast == NULL)
		return; /* json-c's to decide, as before */
	if (r != 0 || fast == NULL)
		fuzz_jsonfast_fail("bad verdict or object", s, len, max_depth);
	if ((slow = jsonfast_ref_parse(s, len, max_depth)) == NULL)
		fuzz_jsonfast_fail("took what json-c refuses", s, len,
		                   max_depth);
	ft = json_object_to_json_string_ext(fast, JSON_C_TO_STRING_PLAIN);
	st = json_object_to_json_string_ext(slow, JSON_C_TO_STRING_PLAIN);
	if (strcmp(ft, st) != 0 || !jsonfast_ref_same_shape(fast, slow) ||
	    !json_object_equal(fast, slow)) {
		fprintf(stderr, "jsonfast: %s\njson-c:   %s\n", ft, st);
		fuzz_jsonfast_fail("built another object", s, len, max_depth);
	}
	json_object_put(slow);
	json_object_put(fast);
}

/* One jsonfast_fields run at max_depth, held to its contract. */
static void
fuzz_jsonfast_fields_check(const char *s, size_t len, int max_depth)
{
	struct jsonfast_field f[JSONFAST_REF_COUNT];
	const char *why;

	memcpy(f, jsonfast_ref_send, sizeof(f));
	if (jsonfast_fields(s, len, max_depth, f, JSONFAST_REF_COUNT) != 0)
		return; /* nothing promised */
	why = jsonfast_ref_fields_why(s, len, max_depth, f, JSONFAST_REF_COUNT);
	if (why != NULL)
		fuzz_jsonfast_fail(why, s, len, max_depth);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	struct json_object *obj;
	struct jsonfast_field f[JSONFAST_REF_COUNT];

	if (size == 0 || size >= INT32_MAX)
		return 0;
	if (!utf8_valid(s, size)) {
		/* The codec stops such frames first; still, no harm. */
		if (jsonfast_parse(s, size, CODEC_MAX_DEPTH, &obj) == 0)
			json_object_put(obj);
		memcpy(f, jsonfast_ref_send, sizeof(f));
		(void)jsonfast_fields(s, size, CODEC_MAX_DEPTH, f,
		                      JSONFAST_REF_COUNT);
		return 0;
	}
	fuzz_jsonfast_check(s, size, CODEC_MAX_DEPTH);
	fuzz_jsonfast_check(s, size, 1 + (int)(size % 3));
	fuzz_jsonfast_fields_check(s, size, CODEC_MAX_DEPTH);
	fuzz_jsonfast_fields_check(s, size, 1 + (int)(size % 3));
	return 0;
}
