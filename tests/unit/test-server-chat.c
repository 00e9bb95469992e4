/*
 * The hand-written msg frame says what the json-c event says, and the
 * send fast path (chat_send_decode) takes only what the general path
 * (json-c, then chat_send_parse) takes, with the same values.
 */

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chat.h"
#include "codec.h"
#include "config.h"
#include "handler.h"
#include "server.h"
#include "unit.h"

#define CHAT_TEST_MAX_BODY 64
#define CHAT_TEST_MUTANTS 200000

/* m's frame parses to the same object as chat_msg_json(m). */
static void
chat_check_same(const struct store_msg *m)
{
	struct json_object *want = chat_msg_json(m), *got = NULL;
	struct codec_out o = {0};
	size_t len = 0;
	char *frame;

	chat_msg_frame(m, &o);
	frame = codec_out_take(&o, &len);

	CHECK(len > 0 && frame[len - 1] == '\n' && strlen(frame) == len);
	CHECK(memchr(frame, '\n', len - 1) == NULL); /* one frame */
	CHECK(codec_parse(frame, len - 1, CODEC_MAX_DEPTH, &got) == 0);
	CHECK(got != NULL && json_object_equal(want, got));
	json_object_put(want);
	json_object_put(got);
	free(frame);
}

static void
test_chat_frame(void)
{
	struct store_msg m = {
	    .conv = "d:1:2",
	    .seq = 42,
	    .from_id = 1,
	    .from_name = "al\"ice\\",
	    .to_user = 2,
	    .body =
	        "line\nnext\t\x01 \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x8e\x89 "
	        "</script>",
	    .ts = 1700000000123LL,
	};

	chat_check_same(&m);
	m.cmid = "c-1";
	chat_check_same(&m);
	snprintf(m.conv, sizeof(m.conv), "g:9");
	m.to_user = 0;
	m.to_group = 9;
	m.body = "";
	chat_check_same(&m);
}

/* What the general path makes of a frame: handler_dispatch's checks. */
struct chat_ref {
	struct json_object *in;
	struct hjob j;
	struct server srv;
	struct config cfg;
};

/* 0: the general path takes line as a send, with r->j filled; else -1. */
static int
chat_ref_parse(struct chat_ref *r, const char *line, size_t len)
{
	const char *type;
	size_t tlen;
	uint64_t req = 0;
	int rr;

	memset(r, 0, sizeof(*r));
	r->cfg.max_body = CHAT_TEST_MAX_BODY;
	r->srv.cfg = &r->cfg;
	r->j.srv = &r->srv;
	if (codec_parse(line, len, CODEC_MAX_DEPTH + 1, &r->in) != 0)
		return -1;
	r->j.in = r->in;
	if ((rr = codec_get_uint(r->in, "req", UINT32_MAX, &req)) < 0 ||
	    codec_get_string(r->in, "type", &type, &tlen) != 0 ||
	    strcmp(type, "send") != 0 ||
	    !json_object_object_get_ex(r->in, "to", NULL) ||
	    !json_object_object_get_ex(r->in, "body", NULL))
		return -1;
	r->j.has_req = rr == 0;
	r->j.req = (uint32_t)req;
	return chat_send_parse(&r->j) == 0 ? 0 : -1;
}

static void
chat_ref_clear(struct chat_ref *r)
{
	json_object_put(r->in);
	free(r->j.errmsg);
}

/* The decoder's buffer, kept across calls (chat_check_decode). */
static char *chat_decode_buf;
static size_t chat_decode_cap;

/*
 * Decodes line both ways; whatever the fast path takes, the general path
 * takes alike. Returns whether the fast path took it.
 */
static bool
chat_check_decode(const char *line, size_t len)
{
	struct codec_reader *rd = codec_reader_new(CODEC_MAX_DEPTH + 1);
	struct chat_send_frame f = {.buf = chat_decode_buf,
	                            .cap = chat_decode_cap};
	struct chat_ref ref;
	bool fast = chat_send_decode(rd, line, len, CHAT_TEST_MAX_BODY, &f);
	int slow = chat_ref_parse(&ref, line, len);

	CHECK(f.cap >= chat_decode_cap && (f.cap == 0) == (f.buf == NULL));
	chat_decode_buf = f.buf; /* reused by every call, as a worker does */
	chat_decode_cap = f.cap;
	if (fast) {
		CHECK(slow == 0);
		if (slow == 0) {
			CHECK(f.has_req == ref.j.has_req);
			CHECK(!f.has_req || f.req == ref.j.req);
			CHECK_EQ_INT(f.to, ref.j.id);
			CHECK(f.group == (ref.j.num != 0));
			CHECK(f.body_len == ref.j.len &&
			      memcmp(f.buf, ref.j.str, f.body_len) == 0);
			CHECK((f.cmid == NULL) == (ref.j.str2 == NULL));
			CHECK(f.cmid == NULL ||
			      strcmp(f.cmid, ref.j.str2) == 0);
		}
		if (slow != 0)
			fprintf(stderr, "taken by the fast path only: %.*s\n",
			        (int)len, line);
	}
	chat_ref_clear(&ref);
	codec_reader_free(rd);
	return fast;
}

/* Frames the fast path must take: every real client's sends. */
static const char *const chat_fast_taken[] = {
    "{\"type\":\"send\",\"req\":7,\"to\":{\"user\":2},\"body\":\"hi\"}",
    "{\"type\":\"send\",\"to\":{\"group\":9},\"body\":\"x\",\"cmid\":\"c1\"}",
    " { \"body\" : \"a\\nb\\\"c\\\\d\\/\" , \"to\" : { \"user\" : 3 } ,"
    " \"type\" : \"send\" , \"req\" : 4294967295 }\r\n",
    "{\"type\":\"send\",\"req\":0,\"to\":{\"user\":9007199254740991},"
    "\"body\":\"\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x8e\x89\"}",
    "{\"type\":\"send\",\"req\":-0,\"to\":{\"user\":1},\"body\":\"b\","
    "\"cmid\":\"\\t\"}",
};

/* Frames it must leave to the general path (which may take them). */
static const char *const chat_fast_declined[] = {
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"\\u0041\"}",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"\"}",
    "{\"type\":\"send\",\"to\":{\"user\":2,\"group\":3},\"body\":\"a\"}",
    "{\"type\":\"send\",\"to\":{},\"body\":\"a\"}",
    "{\"type\":\"send\",\"to\":{\"user\":0},\"body\":\"a\"}",
    "{\"type\":\"send\",\"to\":{\"user\":9007199254740992},\"body\":\"a\"}",
    "{\"type\":\"send\",\"req\":4294967296,\"to\":{\"user\":2},\"body\":\"a\"}",
    "{\"type\":\"send\",\"req\":-1,\"to\":{\"user\":2},\"body\":\"a\"}",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"a\",\"cmid\":\"\"}",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"a\",\"cmid\":null}",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"a\",\"x\":1}",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"a\",\"body\":\"b\"}",
    "{\"type\":\"send\",\"to\":{\"user\":1},\"to\":{},\"body\":\"a\"}",
    "{\"type\":\"send\",\"to.user\":2,\"body\":\"a\"}",
    "{\"type\":\"sen\\u0064\",\"to\":{\"user\":2},\"body\":\"a\"}",
    "{\"type\":\"ping\",\"to\":{\"user\":2},\"body\":\"a\"}",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"a\xff\"}",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":\"a\"} x",
    "{\"type\":\"send\",\"to\":{\"user\":2},\"body\":"
    "\"0123456789012345678901234567890123456789012345678901234567890123"
    "4\"}",
};

static void
test_chat_decode_tables(void)
{
	size_t i;

	for (i = 0; i < sizeof chat_fast_taken / sizeof chat_fast_taken[0]; i++)
		CHECK(chat_check_decode(chat_fast_taken[i],
		                        strlen(chat_fast_taken[i])));
	for (i = 0;
	     i < sizeof chat_fast_declined / sizeof chat_fast_declined[0]; i++)
		CHECK(!chat_check_decode(chat_fast_declined[i],
		                         strlen(chat_fast_declined[i])));
}

/* Bytes that make or break a send frame, for the mutants. */
static const char chat_mutant_bytes[] = "{}[]\":,\\ 0123-9euglnt.\x01\xc3";

/*
 * Random edits of the taken frames (a byte replaced, dropped or added),
 * each decoded both ways: a deterministic small fuzzer of the rule.
 */
static void
test_chat_decode_mutants(void)
{
	char buf[256];
	unsigned int seed = 1;
	size_t i, len, at,
	    nt = sizeof chat_fast_taken / sizeof chat_fast_taken[0];
	int fails = unit_failed;

	for (i = 0; i < CHAT_TEST_MUTANTS && unit_failed == fails; i++) {
		const char *src = chat_fast_taken[i % nt];

		len = strlen(src);
		memcpy(buf, src, len);
		seed = seed * 1103515245u + 12345u;
		at = (seed >> 8) % len;
		seed = seed * 1103515245u + 12345u;
		switch ((seed >> 8) % 3) {
		case 0:
			buf[at] =
			    chat_mutant_bytes[(seed >> 12) %
			                      (sizeof chat_mutant_bytes - 1)];
			break;
		case 1:
			memmove(buf + at, buf + at + 1, len - at - 1);
			len--;
			break;
		default:
			memmove(buf + at + 1, buf + at, len - at);
			buf[at] =
			    chat_mutant_bytes[(seed >> 12) %
			                      (sizeof chat_mutant_bytes - 1)];
			len++;
		}
		(void)chat_check_decode(buf, len);
	}
}

int
main(void)
{
	test_chat_frame();
	test_chat_decode_tables();
	test_chat_decode_mutants();
	free(chat_decode_buf);
	return UNIT_END();
}
