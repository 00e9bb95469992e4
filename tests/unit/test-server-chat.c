/* The hand-written msg frame says what the json-c event says. */

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "chat.h"
#include "codec.h"
#include "unit.h"

/* m's frame parses to the same object as chat_msg_json(m). */
static void
chat_check_same(const struct store_msg *m)
{
	struct json_object *want = chat_msg_json(m), *got = NULL;
	size_t len = 0;
	char *frame = chat_msg_frame(m, &len);

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

int
main(void)
{
	test_chat_frame();
	return UNIT_END();
}
