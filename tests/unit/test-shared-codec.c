/* Unit tests for shared/codec.c: strict parsing, getters and builders. */
#include <event2/buffer.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "errcode.h"
#include "unit.h"

/* codec_parse on a NUL-terminated string; the object is dropped. */
static int
parse(const char *s)
{
	struct json_object *o = NULL;
	int r = codec_parse(s, strlen(s), CODEC_MAX_DEPTH, &o);

	CHECK((r == 0) == (o != NULL));
	json_object_put(o);
	return r;
}

/* What is and is not a frame. */
static void
test_codec_parse(void)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "[1,2]",
	    "\"str\"",
	    "42",
	    "1.5",
	    "true",
	    "null",
	    "{",
	    "{\"a\":}",
	    "{\"a\":1,}",
	    "{\"a\":01}",
	    "{a:1}",
	    "{\"a\":1}x",
	    "{\"a\":1}{}",
	    "{\"a\":1} ]",
	    "{\"a\":\"unterminated}",
	    "  ",
	};

	CHECK_EQ_INT(parse("{}"), 0);
	CHECK_EQ_INT(parse("{\"type\":\"ping\",\"req\":1}"), 0);
	CHECK_EQ_INT(parse("  {\"a\":[1,{\"b\":null}]}  \r\n\t"), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(parse(bad[i]), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":\"\xC0\x80\"}"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":\"\xED\xA0\x80\"}"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":\"\xFF\"}"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"\xE2\x82\":1}"), -ERR_BAD_REQUEST);
	/* NUL bytes in the raw text, inside or after the object */
	struct json_object *o = NULL;
	CHECK_EQ_INT(codec_parse("{\"a\":1}\0", 8, 16, &o), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_parse("{\"a\":\"\0\"}", 9, 16, &o),
	             -ERR_BAD_REQUEST);
	CHECK(o == NULL);
	/* NaN, Infinity and overflowing numbers are not JSON (found by
	 * fuzz-codec: json-c takes them even in strict mode) */
	CHECK_EQ_INT(parse("{\"req\":NaN}"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":Infinity}"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":[1,{\"b\":-Infinity}]}"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":-NaN}"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":1e400}"), 0); /* JSON, if unusable */
	CHECK_EQ_INT(parse("{\"a\":1.5e10}"), 0);
	/* only len bytes count */
	CHECK_EQ_INT(codec_parse("{\"a\":1}garbage", 7, 16, &o), 0);
	json_object_put(o);
}

/* Nesting beyond the limit, and very wide objects, do no harm. */
static void
test_codec_bombs(void)
{
	struct json_object *o = NULL;
	size_t n = 10000;
	char *s = malloc(2 * n + 16);
	int r;

	memset(s, '[', n);
	memset(s + n, ']', n);
	CHECK_EQ_INT(codec_parse(s, 2 * n, CODEC_MAX_DEPTH, &o),
	             -ERR_BAD_REQUEST);
	s[0] = '{';
	memcpy(s + 1, "\"a\":", 4);
	memset(s + 5, '[', n - 5);
	memset(s + n, ']', n - 1);
	s[2 * n - 1] = '}';
	CHECK_EQ_INT(codec_parse(s, 2 * n, CODEC_MAX_DEPTH, &o),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse("{\"a\":{\"b\":{\"c\":[[1]]}}}"), 0);
	free(s);

	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, "{", 1);
	for (int i = 0; i < 100000; i++)
		evbuffer_add_printf(b, "%s\"k%d\":%d", i ? "," : "", i, i);
	evbuffer_add(b, "}", 1);
	size_t len = evbuffer_get_length(b);
	r = codec_parse((const char *)evbuffer_pullup(b, -1), len,
	                CODEC_MAX_DEPTH, &o);
	CHECK(r == 0 || r == -ERR_BAD_REQUEST);
	json_object_put(o);
	evbuffer_free(b);
}

/* codec_get_id on {"id":text}; -100 if the frame itself is refused. */
static int
get_id(const char *text, int64_t *v)
{
	struct json_object *o;
	char buf[128];
	int r;

	snprintf(buf, sizeof(buf), "{\"id\":%s}", text);
	if (codec_parse(buf, strlen(buf), CODEC_MAX_DEPTH, &o) < 0)
		return -100;
	r = codec_get_id(o, "id", v);
	json_object_put(o);
	return r;
}

/* Ids: JSON integers in 1 .. 2^53 - 1 only. */
static void
test_codec_id(void)
{
	static const char *const bad[] = {
	    "-1",
	    "0",
	    "-0",
	    "9007199254740992",
	    "9223372036854775807",
	    "9223372036854775808",
	    "18446744073709551616",
	    "-9223372036854775809",
	    "1e309",
	    "1e3",
	    "1.0",
	    "1.5",
	    "\"12\"",
	    "null",
	    "true",
	    "false",
	    "[]",
	    "[1]",
	    "{}",
	};
	int64_t v = 0;
	struct json_object *o;

	CHECK_EQ_INT(get_id("1", &v), 0);
	CHECK_EQ_INT(v, 1);
	CHECK_EQ_INT(get_id("9007199254740991", &v), 0);
	CHECK_EQ_INT(v, 9007199254740991LL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = get_id(bad[i], &v);
		if (r != -ERR_BAD_REQUEST)
			fprintf(stderr, "id %s gave %d\n", bad[i], r);
		CHECK_EQ_INT(r, -ERR_BAD_REQUEST);
	}
	CHECK_EQ_INT(codec_parse("{}", 2, 16, &o), 0);
	CHECK_EQ_INT(codec_get_id(o, "id", &v), 1); /* missing */
	json_object_put(o);
}

/* The other getters: missing is 1, wrong type is bad_request. */
static void
test_codec_getters(void)
{
	static const char text[] = "{\"s\":\"h\\u00e9\\n\\ud83d\\ude00\","
	                           "\"n\":\"a\\u0000b\",\"u\":7,\"neg\":-1,"
	                           "\"b\":true,\"o\":{\"x\":1},\"z\":null}";
	struct json_object *o, *sub;
	const char *s;
	size_t len;
	uint64_t u;
	bool b;

	CHECK_EQ_INT(codec_parse(text, strlen(text), 16, &o), 0);
	CHECK_EQ_INT(codec_get_string(o, "s", &s, &len), 0);
	CHECK_EQ_INT(len, strlen("hé\n😀"));
	CHECK(strcmp(s, "hé\n😀") == 0);
	CHECK_EQ_INT(codec_get_string(o, "n", &s, &len), 0);
	CHECK_EQ_INT(len, 3);
	CHECK(memcmp(s, "a\0b", 3) == 0);
	CHECK_EQ_INT(codec_get_string(o, "u", &s, &len), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_string(o, "z", &s, &len), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_string(o, "missing", &s, &len), 1);
	CHECK_EQ_INT(codec_get_uint(o, "u", 10, &u), 0);
	CHECK_EQ_INT(u, 7);
	CHECK_EQ_INT(codec_get_uint(o, "u", 6, &u), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_uint(o, "neg", 10, &u), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_uint(o, "s", 10, &u), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_bool(o, "b", &b), 0);
	CHECK(b);
	CHECK_EQ_INT(codec_get_bool(o, "u", &b), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_object(o, "o", &sub), 0);
	CHECK_EQ_INT(json_object_object_length(sub), 1);
	CHECK_EQ_INT(codec_get_object(o, "s", &sub), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_object(o, "z", &sub), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_get_object(o, "nope", &sub), 1);
	json_object_put(o);

	/* a string holding bytes that are not UTF-8 is refused */
	o = json_object_new_object();
	json_object_object_add(o, "s", json_object_new_string_len("a\xFF", 2));
	CHECK_EQ_INT(codec_get_string(o, "s", &s, &len), -ERR_BAD_REQUEST);
	json_object_put(o);
}

/* Lone surrogate escapes never reach a getter; pairs decode. */
static void
test_codec_surrogates(void)
{
	static const char *const bad[] = {
	    "{\"s\":\"\\ud800\"}",          "{\"s\":\"\\uD800\"}",
	    "{\"s\":\"\\udc00\"}",          "{\"s\":\"\\ud800x\"}",
	    "{\"s\":\"\\ud800\\u0041\"}",   "{\"s\":\"\\ude00\\ud83d\"}",
	    "{\"s\":\"\\ud800\\\\udc00\"}", "{\"\\udfff\":1}",
	};
	struct json_object *o;
	const char *s;
	size_t len;
	int r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = NULL;
		r = codec_parse(bad[i], strlen(bad[i]), 16, &o);
		/* either the frame or the getter refuses it */
		if (r == 0) {
			r = codec_get_string(o, "s", &s, &len);
			json_object_put(o);
		}
		CHECK_EQ_INT(r, -ERR_BAD_REQUEST);
	}
	CHECK_EQ_INT(parse("{\"s\":\"\\\\ud800\"}"), 0); /* escaped "\" */
	CHECK_EQ_INT(parse("{\"s\":\"\\uD83D\\uDE00\"}"), 0);
	CHECK_EQ_INT(parse("{\"s\":\"\\ufffd\\ud7ff\\ue000\"}"), 0);
}

/* Serializes and frees obj, and checks the frame's text. */
static void
expect_frame(struct json_object *obj, const char *want)
{
	size_t len;
	char *f = codec_frame(obj, &len);

	CHECK_EQ_INT(len, strlen(want));
	if (strcmp(f, want) != 0)
		fprintf(stderr, "got  %swant %s", f, want);
	CHECK(strcmp(f, want) == 0);
	free(f);
	json_object_put(obj);
}

/* Builders make the envelope of PROTOCOL.md. */
static void
test_codec_builders(void)
{
	struct json_object *o;

	expect_frame(codec_reply_ok("ping", 7),
	             "{\"type\":\"ping\",\"req\":7,\"ok\":true}\n");
	expect_frame(codec_reply_ok("ping", 4294967295u),
	             "{\"type\":\"ping\",\"req\":4294967295,\"ok\":true}\n");
	expect_frame(
	    codec_reply_error("login", true, 3, -ERR_BAD_CREDENTIALS, NULL),
	    "{\"type\":\"login\",\"req\":3,\"ok\":false,\"error\":{\"code\":"
	    "\"bad_credentials\",\"message\":\"Wrong name or password\"}}\n");
	expect_frame(
	    codec_reply_error("send", false, 0, ERR_BODY_TOO_LONG, "too long"),
	    "{\"type\":\"send\",\"ok\":false,\"error\":{\"code\":"
	    "\"body_too_long\",\"message\":\"too long\"}}\n");
	expect_frame(
	    codec_error_event(-ERR_FRAME_TOO_LARGE, "bye"),
	    "{\"type\":\"error\",\"error\":{\"code\":\"frame_too_large\","
	    "\"message\":\"bye\"}}\n");
	o = codec_event("msg");
	codec_set_string(o, "body", "a/b\nc\"d\\ é");
	codec_set_int(o, "seq", 9007199254740991LL);
	codec_set_bool(o, "online", false);
	expect_frame(o, "{\"type\":\"msg\",\"body\":\"a/b\\nc\\\"d\\\\ é\","
	                "\"seq\":9007199254740991,\"online\":false}\n");
}

/* A frame has one "\n", at its end, and parses back to the same body. */
static void
test_codec_roundtrip(void)
{
	struct json_object *o = codec_event("msg"), *back;
	struct evbuffer *b = evbuffer_new();
	const char *s;
	size_t len, n;
	char *f;

	codec_set_string(o, "body", "line one\nline two\r\n\ttab 你好");
	f = codec_frame(o, &len);
	CHECK(len > 0 && f[len - 1] == '\n');
	CHECK(memchr(f, '\n', len - 1) == NULL);
	CHECK(memchr(f, '\r', len) == NULL);
	CHECK_EQ_INT(codec_parse(f, len, 16, &back), 0);
	CHECK_EQ_INT(codec_get_string(back, "body", &s, &n), 0);
	CHECK(strcmp(s, "line one\nline two\r\n\ttab 你好") == 0);
	json_object_put(back);
	CHECK_EQ_INT(codec_write(b, o), len);
	CHECK_EQ_INT(evbuffer_get_length(b), len);
	CHECK(memcmp(evbuffer_pullup(b, -1), f, len) == 0);
	free(f);
	evbuffer_free(b);
	json_object_put(o);
}

/* Slugs match PROTOCOL.md and map back. */
static void
test_codec_errcodes(void)
{
	CHECK(strcmp(errcode_slug(ERR_NOT_FOUND), "not_found") == 0);
	CHECK(strcmp(errcode_slug(-ERR_UNAVAILABLE), "unavailable") == 0);
	CHECK(strcmp(errcode_slug(9999), "internal") == 0);
	for (int i = 1; i < ERR__COUNT; i++) {
		CHECK_EQ_INT(errcode_from_slug(errcode_slug(i)), i);
		CHECK(errcode_message(i)[0] != '\0');
	}
	CHECK_EQ_INT(errcode_from_slug("nope"), -1);
}

/* A reader kept across frames gives what codec_parse gives, every time. */
static void
test_codec_reader(void)
{
	struct codec_reader *r = codec_reader_new(CODEC_MAX_DEPTH);
	struct json_object *o = NULL;
	const char *deep = "{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}";
	int64_t v;

	CHECK_EQ_INT(codec_reader_parse(r, "{\"x\":", 5, &o), -ERR_BAD_REQUEST);
	CHECK(o == NULL);
	CHECK_EQ_INT(codec_reader_parse(r, "{\"x\":7}", 7, &o), 0);
	CHECK(codec_get_id(o, "x", &v) == 0 && v == 7);
	json_object_put(o);
	CHECK_EQ_INT(codec_reader_parse(r, deep, strlen(deep), &o),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_reader_parse(r, "[1]", 3, &o), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_reader_parse(r, "{} x", 4, &o), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(codec_reader_parse(r, "{\"y\":2} ", 8, &o), 0);
	CHECK(codec_get_id(o, "y", &v) == 0 && v == 2);
	json_object_put(o);
	codec_reader_free(r);
	codec_reader_free(NULL);
}

/*
 * codec_out_str skips runs eight bytes at a time: each byte that needs an
 * escape, at every offset of a longer string, is escaped as json-c does.
 */
static void
test_codec_out_str_runs(void)
{
	static const char special[] = "\"\\\n\x01\x1f";
	char in[40];
	struct codec_out out = {0};
	struct json_object *js;
	size_t at, k;
	char *text;

	for (k = 0; k < sizeof(special) - 1; k++) {
		for (at = 0; at < 30; at++) {
			memset(in, 'a', sizeof(in));
			in[at] = special[k];
			in[at + 5] = (char)0xc3; /* U+00E9, copied as it is */
			in[at + 6] = (char)0xa9;
			codec_out_str(&out, in, sizeof(in));
			text = codec_out_take(&out, NULL);
			js = json_object_new_string_len(in, (int)sizeof(in));
			CHECK(strcmp(text,
			             json_object_to_json_string_ext(
			                 js, JSON_C_TO_STRING_NOSLASHESCAPE)) ==
			      0);
			json_object_put(js);
			free(text);
		}
	}
}

/* Hand-written JSON parses back to the same strings and numbers. */
static void
test_codec_out(void)
{
	static const char odd[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f"
	                          "\xe4\xb8\xad\xf0\x9f\x98\x80 end";
	struct codec_out out = {0};
	struct json_object *o;
	const char *got;
	size_t len, glen;
	char *text;

	codec_out_raw(&out, "{\"s\":");
	codec_out_str(&out, odd, sizeof(odd) - 1);
	codec_out_raw(&out, ",\"z\":");
	codec_out_str(&out, "a\0b", 3);
	codec_out_raw(&out, ",\"n\":");
	codec_out_int(&out, -9007199254740991LL);
	codec_out_raw(&out, ",\"m\":[");
	codec_out_int(&out, 0);
	codec_out_raw(&out, ",");
	codec_out_int(&out, INT64_MIN);
	codec_out_raw(&out, ",");
	codec_out_int(&out, INT64_MAX);
	codec_out_raw(&out, "]");
	codec_out_raw(&out, ",\"e\":");
	codec_out_str(&out, "", 0);
	codec_out_raw(&out, "}");
	text = codec_out_take(&out, &len);
	CHECK(out.buf == NULL && out.len == 0);
	CHECK_EQ_INT((int)strlen(text), (int)len);
	CHECK(strstr(text, "\\u0001") != NULL && strstr(text, "\\n") != NULL);
	CHECK(codec_parse(text, len, CODEC_MAX_DEPTH, &o) == 0);
	CHECK(codec_get_string(o, "s", &got, &glen) == 0);
	CHECK(glen == sizeof(odd) - 1 && memcmp(got, odd, glen) == 0);
	CHECK(codec_get_string(o, "z", &got, &glen) == 0);
	CHECK(glen == 3 && memcmp(got, "a\0b", 3) == 0);
	CHECK(json_object_get_int64(json_object_object_get(o, "n")) ==
	      -9007199254740991LL);
	CHECK(codec_get_string(o, "e", &got, &glen) == 0 && glen == 0);
	CHECK(strstr(text, "[0,-9223372036854775808,9223372036854775807]") !=
	      NULL);
	json_object_put(o);
	free(text);
	text = codec_out_take(&out, &len); /* nothing written: "" */
	CHECK(len == 0 && text[0] == '\0');
	free(text);
}

int
main(void)
{
	test_codec_reader();
	test_codec_out_str_runs();
	test_codec_out();
	test_codec_parse();
	test_codec_bombs();
	test_codec_id();
	test_codec_getters();
	test_codec_surrogates();
	test_codec_builders();
	test_codec_roundtrip();
	test_codec_errcodes();
	return UNIT_END();
}
