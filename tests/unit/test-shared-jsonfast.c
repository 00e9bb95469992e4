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

/*
 * jsonfast_fields, with the slots of a chat send frame as server/chat.c
 * asks for them. What it takes is held to json-c member by member, by a
 * checker that walks json-c's object rather than the slots, so that a
 * member no slot found is caught too.
 */
/* Send frames in every shape the fast path is meant for: all taken. */
static const struct jsonfast_case fields_taken[] = {
    T("{\"type\":\"send\",\"req\":12,\"to\":{\"user\":7},\"body\":\"hello\","
      "\"cmid\":\"a1b2\"}",
      0),
    T("{\"body\":\"hi\",\"to\":{\"group\":3},\"type\":\"send\",\"cmid\":"
      "\"c\",\"req\":1}",
      0),
    T("{\"cmid\":\"x\",\"body\":\"y\",\"req\":2,\"to\":{\"group\":3,"
      "\"user\":4},\"type\":\"send\"}",
      0),
    T(" \t\r\n{ \"type\" : \"send\" ,\n\"req\"\t:\r1 , \"to\" : { \"user\" "
      ": 7 } , \"body\" : \"x\" } \n\t\r",
      0),
    T("{\"to\":{\n\t\"group\"\r:\n9\t}\n}", 0),
    T("{\"body\":\"line\\nnext \\\"q\\\" back\\\\slash \\/ \\b\\f\\r\\t\"}", 0),
    T("{\"body\":\"\\\\\"}", 0),
    T("{\"body\":\"end\\\\\\\\\"}", 0),
    T("{\"body\":\"\\\\\\\"\",\"cmid\":\"\\/\"}", 0),
    T("{\"type\":\"se\\/nd\",\"body\":\"\\n\"}", 0),
    T("{\"to\":{}}", 0),
    T("{\"to\":{ }}", 0),
    T("{\"type\":\"send\",\"to\":{},\"body\":\"x\"}", 0),
    T("{}", 0),
    T("{ }", 0),
    T("{\"type\":\"send\"}", 0),
    T("{\"body\":\"\"}", 0),
    T("{\"type\":\"\",\"cmid\":\"\"}", 0),
    T("{\"req\":0}", 0),
    T("{\"req\":-0}", 0),
    T("{\"req\":-1}", 0),
    T("{\"req\":999999999999999999}", 0),
    T("{\"req\":-999999999999999999}", 0),
    T("{\"req\":123456789012345678}", 0),
    T("{\"to\":{\"user\":-5,\"group\":0}}", 0),
    T("{\"to\":{\"user\":999999999999999999}}", 0),
    T("{\"body\":\"caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC\"}", 0),
    T("{\"cmid\":\"\xE6\x97\xA5\xE6\x9C\xAC\",\"body\":\"\\n\xC3\xA9\"}", 0),
    T("{\"body\":\"x\x7Fy\"}", 0), /* DEL is no control */
    T("{\"body\":\"}{,:[]\\\"\",\"cmid\":\"{\"}", 0),
    T("{\"body\":\"\\\"to\\\":{}\"}", 0),
};

/* Outside what the slots allow, valid JSON or not: declined. */
static const struct jsonfast_case fields_declined[] = {
    /* keys no slot has */
    T("{\"type\":\"send\",\"x\":1}", 1),
    T("{\"conv\":\"d:1:2\"}", 1),
    T("{\"to\":{\"chan\":1}}", 1),
    T("{\"Type\":\"send\"}", 1),
    T("{\"typ\":\"send\"}", 1),
    T("{\"types\":\"send\"}", 1),
    T("{\"to \":{}}", 1),
    T("{\"\":1}", 1),
    T("{\"user\":1}", 1),
    T("{\"to.user\":1}", 1),
    T("{\"to.group\":1,\"to\":{}}", 1),
    T("{\"to\":{\"to.user\":1}}", 1),
    T("{\"to\":{\"to\":{}}}", 1),
    T("{\"to\":{\"type\":\"send\"}}", 1),
    T("{\"to\":{\"\":1}}", 1),
    /* a slot twice */
    T("{\"req\":1,\"req\":2}", 1),
    T("{\"req\":1,\"req\":1}", 1),
    T("{\"type\":\"a\",\"body\":\"b\",\"type\":\"a\"}", 1),
    T("{\"to\":{\"user\":1,\"user\":2}}", 1),
    T("{\"to\":{\"user\":1},\"to\":{}}", 1),
    T("{\"to\":{},\"to\":{\"user\":1}}", 1),
    T("{\"to\":{},\"to\":{}}", 1),
    T("{\"to\":{\"user\":1},\"to\":{\"group\":2}}", 1),
    T("{\"to\":{\"user\":1},\"to\":{\"user\":1}}", 1),
    /* keys with escapes, even of a slot's name */
    T("{\"t\\u0079pe\":\"send\"}", 1),
    T("{\"b\\/ody\":\"x\"}", 1),
    T("{\"to\":{\"us\\u0065r\":1}}", 1),
    T("{\"type\\n\":\"send\"}", 1),
    /* values of another kind */
    T("{\"type\":1}", 1),
    T("{\"type\":{}}", 1),
    T("{\"req\":\"1\"}", 1),
    T("{\"req\":{}}", 1),
    T("{\"body\":{}}", 1),
    T("{\"body\":[]}", 1),
    T("{\"to\":5}", 1),
    T("{\"to\":\"x\"}", 1),
    T("{\"to\":[]}", 1),
    T("{\"to\":{\"user\":\"1\"}}", 1),
    T("{\"to\":{\"user\":[1]}}", 1),
    T("{\"type\":null}", 1),
    T("{\"req\":null}", 1),
    T("{\"to\":null}", 1),
    T("{\"to\":{\"user\":null}}", 1),
    T("{\"body\":true}", 1),
    T("{\"req\":false}", 1),
    T("{\"to\":true}", 1),
    T("{\"to\":{\"group\":true}}", 1),
    /* nested past one level */
    T("{\"to\":{\"user\":{}}}", 1),
    T("{\"to\":{\"user\":{\"id\":1}}}", 1),
    T("{\"to\":{\"group\":{\"a\":{}}}}", 1),
    /* strings outside the subset */
    T("{\"body\":\"\\u0041\"}", 1),
    T("{\"body\":\"caf\\u00e9\"}", 1),
    T("{\"cmid\":\"\\ud83d\\ude00\"}", 1),
    T("{\"body\":\"\\x\"}", 1),
    T("{\"body\":\"\\'\"}", 1),
    T("{\"body\":\"a\tb\"}", 1), /* raw control bytes */
    T("{\"body\":\"a\nb\"}", 1),
    T("{\"body\":\"\x01\"}", 1),
    T("{\"cmid\":\"\x1F\"}", 1),
    T("{\"body\":\"a\0b\"}", 1),
    T("{\"ty\x01pe\":\"send\"}", 1),
    T("{\"body\":'x'}", 1),
    T("{\"body\":\"x\\\"}", 1),
    /* integers outside the subset */
    T("{\"req\":1000000000000000000}", 1), /* 19 digits */
    T("{\"req\":-1000000000000000000}", 1),
    T("{\"req\":9223372036854775807}", 1),
    T("{\"to\":{\"user\":1234567890123456789}}", 1),
    T("{\"req\":01}", 1),
    T("{\"req\":00}", 1),
    T("{\"req\":-01}", 1),
    T("{\"to\":{\"group\":007}}", 1),
    T("{\"req\":1.5}", 1),
    T("{\"req\":1.0}", 1),
    T("{\"req\":-0.0}", 1),
    T("{\"req\":1e3}", 1),
    T("{\"req\":1E3}", 1),
    T("{\"to\":{\"user\":1.}}", 1),
    T("{\"req\":-}", 1),
    T("{\"req\":--1}", 1),
    T("{\"req\":+1}", 1),
    T("{\"req\":.5}", 1),
    T("{\"req\":NaN}", 1),
    /* not JSON, or not one object */
    T("", 1),
    T(" ", 1),
    T("[]", 1),
    T("\"send\"", 1),
    T("null", 1),
    T("{", 1),
    T("}", 1),
    T("{,}", 1),
    T("{\"req\"}", 1),
    T("{\"req\" 1}", 1),
    T("{\"req\":}", 1),
    T("{\"req\"::1}", 1),
    T("{req:1}", 1),
    T("{\"req\":1 \"body\":\"x\"}", 1),
    T("{\"req\":1,}", 1),
    T("{\"to\":{\"user\":1,}}", 1),
    T("{\"to\":{,}}", 1),
    T("{\"to\":{\"user\":1}", 1),
    T("{\"to\":{\"user\":1}}}", 1),
    T("{\"req\":1}x", 1),
    T("{\"req\":1}{}", 1),
    T("{\"req\":1},", 1),
    T("{\"req\":1}\v", 1),
    T("{\"req\":1}\0", 1),
    T("\0{\"req\":1}", 1),
    T("\v{\"req\":1}", 1),
    T("{\"req\":\f1}", 1),
    T("{\"req\":1}//", 1),
};

/*
 * One text, in an allocation of its own size, through jsonfast_fields
 * with fresh send slots: the verdict is checked unless it is -1, and what
 * is taken is held to the contract.
 */
static void
check_fields(const char *text, size_t len, int max_depth, int verdict)
{
	struct jsonfast_field f[JSONFAST_REF_COUNT];
	char *copy = malloc(len ? len : 1);
	const char *why = NULL;
	int r;

	memcpy(copy, text, len);
	memcpy(f, jsonfast_ref_send, sizeof(f));
	r = jsonfast_fields(copy, len, max_depth, f, JSONFAST_REF_COUNT);
	if (verdict >= 0)
		CHECK_EQ_INT(r, verdict);
	if (r == 0) {
		why = jsonfast_ref_fields_why(copy, len, max_depth, f,
		                              JSONFAST_REF_COUNT);
		CHECK(why == NULL);
	}
	if ((verdict >= 0 && r != verdict) || why != NULL)
		fprintf(stderr, "  %s, max_depth %d, text: %.*s\n",
		        why != NULL ? why : "verdict", max_depth, (int)len,
		        text);
	free(copy);
}

/* The tables, at the codec's depth and at the least that nests. */
static void
test_jsonfast_fields_tables(void)
{
	size_t i;

	for (i = 0; i < sizeof(fields_taken) / sizeof(fields_taken[0]); i++) {
		check_fields(fields_taken[i].text, fields_taken[i].len,
		             CODEC_MAX_DEPTH, fields_taken[i].verdict);
		check_fields(fields_taken[i].text, fields_taken[i].len, 3,
		             fields_taken[i].verdict);
	}
	for (i = 0; i < sizeof(fields_declined) / sizeof(fields_declined[0]);
	     i++)
		check_fields(fields_declined[i].text, fields_declined[i].len,
		             CODEC_MAX_DEPTH, fields_declined[i].verdict);
}

/*
 * Every prefix of a taken text up to its last "}" is declined; past it
 * only white space is cut, which may be taken, if rightly.
 */
static void
test_jsonfast_fields_truncated(void)
{
	const struct jsonfast_case *c;
	size_t i, n, close;

	for (i = 0; i < sizeof(fields_taken) / sizeof(fields_taken[0]); i++) {
		c = &fields_taken[i];
		for (close = c->len; c->text[close - 1] != '}'; close--)
			;
		for (n = 0; n < c->len; n++)
			check_fields(c->text, n, CODEC_MAX_DEPTH,
			             n < close ? 1 : -1);
	}
}

/*
 * Depth as json-c counts it: 1 allows only "{}", 2 a flat object, 3 one
 * nested object with members. jsonfast_fields wants 2 at least, and 3
 * for any nested object, even one json-c takes at 2.
 */
static void
test_jsonfast_fields_depth(void)
{
	static const struct {
		const char *text;
		int max_depth, verdict;
	} c[] = {
	    {"{}", 0, 1},
	    {"{}", 1, 1},
	    {"{}", 2, 0},
	    {"{\"type\":\"send\"}", 1, 1},
	    {"{\"type\":\"send\"}", 2, 0},
	    {"{\"to\":{}}", 1, 1},
	    {"{\"to\":{}}", 2, 1},
	    {"{\"to\":{}}", 3, 0},
	    {"{\"to\":{\"user\":1}}", 1, 1},
	    {"{\"to\":{\"user\":1}}", 2, 1},
	    {"{\"to\":{\"user\":1}}", 3, 0},
	    {"{\"req\":1,\"to\":{\"group\":2},\"body\":\"b\"}", 2, 1},
	    {"{\"req\":1,\"to\":{\"group\":2},\"body\":\"b\"}", 3, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		check_fields(c[i].text, strlen(c[i].text), c[i].max_depth,
		             c[i].verdict);
}

/* The values found in a send frame, and the slots reset by the next call. */
static void
test_jsonfast_fields_values(void)
{
	static const char frame[] =
	    "{\"type\":\"send\",\"req\":-0,\"to\":{\"user\":7},\"body\":"
	    "\"a\\nb\",\"cmid\":\"c1\"}";
	struct jsonfast_field f[JSONFAST_REF_COUNT];
	char buf[sizeof(frame)];
	size_t i;

	memcpy(f, jsonfast_ref_send, sizeof(f));
	CHECK_EQ_INT(jsonfast_fields(frame, sizeof(frame) - 1, CODEC_MAX_DEPTH,
	                             f, JSONFAST_REF_COUNT),
	             0);
	CHECK(f[JSONFAST_REF_TYPE].set && !f[JSONFAST_REF_TYPE].escaped &&
	      f[JSONFAST_REF_TYPE].len == 4 &&
	      memcmp(f[JSONFAST_REF_TYPE].str, "send", 4) == 0);
	CHECK(f[JSONFAST_REF_REQ].set && f[JSONFAST_REF_REQ].num == 0);
	CHECK(f[JSONFAST_REF_TO].set && f[JSONFAST_REF_USER].set &&
	      f[JSONFAST_REF_USER].num == 7 && !f[JSONFAST_REF_GROUP].set);
	CHECK(f[JSONFAST_REF_BODY].set && f[JSONFAST_REF_BODY].escaped &&
	      jsonfast_unescape(f[JSONFAST_REF_BODY].str,
	                        f[JSONFAST_REF_BODY].len, buf) == 3 &&
	      memcmp(buf, "a\nb", 3) == 0);
	CHECK(f[JSONFAST_REF_CMID].set && f[JSONFAST_REF_CMID].len == 2);
	CHECK_EQ_INT(
	    jsonfast_fields("{}", 2, CODEC_MAX_DEPTH, f, JSONFAST_REF_COUNT),
	    0);
	for (i = 0; i < JSONFAST_REF_COUNT; i++)
		CHECK(!f[i].set);
}

/*
 * Strings are scanned eight bytes at a time: a quote, an escape or a
 * control byte at every offset of bodies up to 40 bytes long, and in a
 * key, is found where it is (both parsers, against json-c).
 */
static void
test_jsonfast_every_offset(void)
{
	static const char *const special[] = {"\\n",  "\\\"", "\\\\",
	                                      "\x01", "\x1f", "\""};
	char text[128], body[64];
	size_t len, at, k;
	int n;

	for (len = 0; len <= 40; len++) {
		for (at = 0; at <= len; at++) {
			for (k = 0; k < sizeof(special) / sizeof(special[0]);
			     k++) {
				memset(body, 'a', len);
				body[len] = '\0';
				n = snprintf(
				    text, sizeof(text),
				    "{\"body\":\"%.*s%s%s\",\"cmid\":\"c\"}",
				    (int)at, body, special[k], body + at);
				/* The escapes are taken, the rest not. */
				check_fields(text, (size_t)n, CODEC_MAX_DEPTH,
				             k < 3 ? 0 : 1);
				check_case(text, (size_t)n, CODEC_MAX_DEPTH,
				           k < 3 ? 0 : 1);
			}
		}
	}
}

int
main(void)
{
	test_jsonfast_tables();
	test_jsonfast_truncated();
	test_jsonfast_depth();
	test_jsonfast_long_key();
	test_jsonfast_codec();
	test_jsonfast_fields_tables();
	test_jsonfast_fields_truncated();
	test_jsonfast_fields_depth();
	test_jsonfast_fields_values();
	test_jsonfast_every_offset();
	return UNIT_END();
}
