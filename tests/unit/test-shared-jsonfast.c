/*
 * Unit tests for shared/jsonfast.c: which texts the fast path takes, and
 * that what it builds from them is what json-c builds, member by member.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "errcode.h"
#include "jsonfast-ref.h"
#include "jsonfast.h"
#include "unit.h"

struct jsonfast_case {
	const char *text;
	size_t len;
	int verdict; /* what jsonfast_parse must return */
};

/* A literal with its NUL bytes, if any, but not the terminating one. */
#define T(lit, v)                                                              \
	{                                                                      \
		lit, sizeof(lit) - 1, v                                        \
	}

/* Frames of the protocol, and the subset's corners: all taken. */
static const struct jsonfast_case jsonfast_taken[] = {
    T("{\"type\":\"send\",\"req\":12,\"to\":{\"user\":7},\"body\":\"hello\","
      "\"cmid\":\"a1b2\"}",
      0),
    T("{\"type\":\"ack\",\"req\":13,\"conv\":\"d:1:2\",\"seq\":40}", 0),
    T("{\"type\":\"login\",\"req\":1,\"name\":\"alice\",\"password\":"
      "\"correct horse\"}",
      0),
    T("{\"type\":\"history\",\"req\":3,\"conv\":\"g:5\",\"before\":100,"
      "\"limit\":50,\"desc\":true}",
      0),
    T("{\"type\":\"send\",\"req\":2,\"to\":{\"group\":3},\"body\":"
      "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}",
      0),
    T("{}", 0),
    T("{ }", 0),
    T(" \t\r\n{ \"a\" : 1 , \"b\" :\t\"x\" }\r\n \t", 0),
    T("{\"a\":\"\"}", 0),
    T("{\"\":\"\"}", 0),
    T("{\"a\":{}}", 0),
    T("{\"a\":{\"b\":{}}}", 0),
    T("{\"a\":{\"b\":{\"c\":1}}}", 0),
    T("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", 0),
    T("{\"k\\n\\\"ey\":1}", 0),
    T("{\"a\":\"end\\\\\"}", 0),
    T("{\"a\":0}", 0),
    T("{\"a\":-0}", 0),
    T("{\"a\":-1}", 0),
    T("{\"a\":999999999999999999}", 0),
    T("{\"a\":-999999999999999999}", 0),
    T("{\"a\":123456789012345678}", 0),
    T("{\"a\":true,\"b\":false,\"c\":null}", 0),
    T("{\"a\":1,\"a\":2}", 0),            /* last one wins */
    T("{\"a\":1,\"b\":2,\"a\":null}", 0), /* in the first's place */
    T("{\"a\":\"x\x7Fy\"}", 0),           /* DEL is no control */
    T("{\"a\":\"}\",\"b\":\"{,:[\"}", 0),
};

/* Outside the subset, valid JSON or not: left to json-c. */
static const struct jsonfast_case jsonfast_declined[] = {
    /* valid, but not the fast path's */
    T("{\"a\":1.5}", 1),
    T("{\"a\":1e5}", 1),
    T("{\"a\":1E5}", 1),
    T("{\"a\":-0.0}", 1),
    T("{\"a\":1000000000000000000}", 1), /* 19 digits */
    T("{\"a\":9223372036854775807}", 1),
    T("{\"a\":9999999999999999999}", 1),
    T("{\"a\":-9999999999999999999}", 1),
    T("{\"a\":-9223372036854775808}", 1),
    T("{\"a\":18446744073709551616}", 1),
    T("{\"a\":[1,2]}", 1),
    T("{\"a\":[]}", 1),
    T("{\"a\":\"\\u00e9\"}", 1),
    T("{\"\\u0061\":1}", 1),
    T("{\"a\":{\"b\":{\"c\":{}}}}", 1), /* nested past the subset */
    T("{\"a\":1}\v", 1),
    T("{\"a\":\f1}", 1),
    /* not JSON, or not a frame */
    T("", 1),
    T(" ", 1),
    T("[]", 1),
    T("\"a\"", 1),
    T("1", 1),
    T("null", 1),
    T("{", 1),
    T("}", 1),
    T("{\"a\"}", 1),
    T("{\"a\" 1}", 1),
    T("{\"a\":}", 1),
    T("{\"a\":1,}", 1),
    T("{,}", 1),
    T("{\"a\":1 \"b\":2}", 1),
    T("{\"a\":1}x", 1),
    T("{\"a\":1}{}", 1),
    T("{\"a\":1}}", 1),
    T("{a:1}", 1),
    T("{'a':1}", 1),
    T("{\"a\":'x'}", 1),
    T("{\"a\":\"unterminated}", 1),
    T("{\"a\":\"x\\", 1), /* lone backslash at the end */
    T("{\"a\":\"x\\\"}", 1),
    T("{\"a\":\"\\x\"}", 1),
    T("{\"a\":\"\\u12\"}", 1),
    T("{\"a\":\"tab\tinside\"}", 1), /* raw control byte */
    T("{\"a\":\"nl\ninside\"}", 1),
    T("{\"a\x01\":1}", 1),
    T("{\"a\":\"\0\"}", 1),
    T("{\"a\":1}\0", 1),
    T("\0{\"a\":1}", 1),
    T("{\"a\":1,\0\"b\":2}", 1),
    T("{\"a\":01}", 1),
    T("{\"a\":00}", 1),
    T("{\"a\":-01}", 1),
    T("{\"a\":-}", 1),
    T("{\"a\":--1}", 1),
    T("{\"a\":+1}", 1),
    T("{\"a\":1-}", 1),
    T("{\"a\":.5}", 1),
    T("{\"a\":1.}", 1),
    T("{\"a\":tru}", 1),
    T("{\"a\":True}", 1),
    T("{\"a\":nul}", 1),
    T("{\"a\":nulll}", 1),
    T("{\"a\":falsey}", 1),
    T("{\"a\":NaN}", 1),
    T("{\"a\":Infinity}", 1),
    T("{\"a\":-Infinity}", 1),
    T("{\"a\":{\"b\":1}", 1),
    T("{\"a\":{\"b\":1}}}", 1),
    T("{\"a\":\"b\":1}", 1),
    T("{\"a\":1,\"a\"}", 1),
    T("{/*c*/\"a\":1}", 1),
    T("{\"a\":1}//", 1),
};

/* Frames to cut short at every length. */
static const char *const jsonfast_whole[] = {
    ("{\"type\":\"send\",\"req\":12,\"to\":{\"user\":7},\"body\":\"hello\","
     "\"cmid\":\"a1b2\"}"),
    "{\"type\":\"ack\",\"req\":13,\"conv\":\"d:1:2\",\"seq\":40}",
    "{\"a\":true,\"b\":false,\"c\":null,\"d\":-123,\"e\":\"\\n\\\\\"}",
};

/* One text in an allocation of its own size, so ASan sees over-reads. */
static void
check_case(const char *text, size_t len, int max_depth, int verdict)
{
	char *copy = malloc(len ? len : 1);
	struct json_object *fast = NULL, *slow;
	int r;

	memcpy(copy, text, len);
	r = jsonfast_parse(copy, len, max_depth, &fast);
	CHECK_EQ_INT(r, verdict);
	CHECK((r == 0) == (fast != NULL));
	if (r == 0) {
		slow = jsonfast_ref_parse(copy, len, max_depth);
		CHECK(slow != NULL);
		CHECK(slow != NULL &&
		      strcmp(json_object_to_json_string_ext(
		                 fast, JSON_C_TO_STRING_PLAIN),
		             json_object_to_json_string_ext(
		                 slow, JSON_C_TO_STRING_PLAIN)) == 0);
		CHECK(jsonfast_ref_same_shape(fast, slow));
		CHECK(json_object_equal(fast, slow));
		json_object_put(slow);
	}
	if (r != verdict)
		fprintf(stderr, "  text: %.*s\n", (int)len, text);
	json_object_put(fast);
	free(copy);
}

/* The tables, at the codec's depth. */
static void
test_jsonfast_tables(void)
{
	size_t i;

	for (i = 0; i < sizeof(jsonfast_taken) / sizeof(jsonfast_taken[0]); i++)
		check_case(jsonfast_taken[i].text, jsonfast_taken[i].len,
		           CODEC_MAX_DEPTH, jsonfast_taken[i].verdict);
	for (i = 0;
	     i < sizeof(jsonfast_declined) / sizeof(jsonfast_declined[0]); i++)
		check_case(jsonfast_declined[i].text, jsonfast_declined[i].len,
		           CODEC_MAX_DEPTH, jsonfast_declined[i].verdict);
}

/* Every proper prefix of a frame is declined; the whole frame is not. */
static void
test_jsonfast_truncated(void)
{
	size_t i, n, len;

	for (i = 0; i < sizeof(jsonfast_whole) / sizeof(jsonfast_whole[0]);
	     i++) {
		len = strlen(jsonfast_whole[i]);
		for (n = 0; n < len; n++)
			check_case(jsonfast_whole[i], n, CODEC_MAX_DEPTH, 1);
		check_case(jsonfast_whole[i], len, CODEC_MAX_DEPTH, 0);
	}
}

/*
 * Depth as json-c counts it: max_depth 1 allows only "{}", 2 a flat
 * object, 3 one nested object with members.
 */
static void
test_jsonfast_depth(void)
{
	check_case("{}", 2, 1, 0);
	check_case("{\"a\":1}", 7, 1, 1);
	check_case("{\"a\":1}", 7, 2, 0);
	check_case("{\"a\":{}}", 8, 2, 0);
	check_case("{\"a\":{\"b\":1}}", 13, 2, 1);
	check_case("{\"a\":{\"b\":1}}", 13, 3, 0);
	check_case("{\"a\":{\"b\":{}}}", 14, 3, 0);
	check_case("{\"a\":{\"b\":{\"c\":1}}}", 19, 3, 1);
	check_case("{\"a\":{\"b\":{\"c\":1}}}", 19, 4, 0);
	check_case("{}", 2, 0, 1); /* no such tokener */
}

/* Keys of up to 63 bytes are taken, longer ones left to json-c. */
static void
test_jsonfast_long_key(void)
{
	char text[128];
	size_t n;

	for (n = 60; n <= 66; n++) {
		text[0] = '{';
		text[1] = '"';
		memset(text + 2, 'k', n);
		memcpy(text + 2 + n, "\":1}", 4);
		check_case(text, n + 6, CODEC_MAX_DEPTH, n < 64 ? 0 : 1);
	}
}

/* What the codec accepts and refuses is the same with the fast path. */
static void
test_jsonfast_codec(void)
{
	struct json_object *o = NULL;
	size_t i;

	for (i = 0; i < sizeof(jsonfast_taken) / sizeof(jsonfast_taken[0]);
	     i++) {
		CHECK_EQ_INT(codec_parse(jsonfast_taken[i].text,
		                         jsonfast_taken[i].len, CODEC_MAX_DEPTH,
		                         &o),
		             0);
		json_object_put(o);
	}
	CHECK_EQ_INT(codec_parse("{\"a\":1}x", 8, CODEC_MAX_DEPTH, &o),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(
	    codec_parse("{\"a\":\"\\ud800\"}", 14, CODEC_MAX_DEPTH, &o),
	    -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_parse("{\"a\":\"\xFF\"}", 8, CODEC_MAX_DEPTH, &o),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_parse("{\"a\":{\"b\":1}}", 13, 2, &o),
	             -ERR_BAD_REQUEST);
	CHECK(o == NULL);
}

int
main(void)
{
	test_jsonfast_tables();
	test_jsonfast_truncated();
	test_jsonfast_depth();
	test_jsonfast_long_key();
	test_jsonfast_codec();
	return UNIT_END();
}
