/*
 * The relay's batches read in place (relay-ms.h): a batch in the exact
 * shape a node writes is read as json-c reads it, and anything else,
 * however close, is declined so that json-c reads it instead.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "relay-ms.h"
#include "relay-ms-ref.h"
#include "unit.h"

/* Frames with what a frame's text holds: quotes, backslashes, UTF-8. */
static const char *test_frames[] = {
    "{\"ev\":\"msg\",\"body\":\"hi \\\"there\\\"\",\"seq\":7}",
    "{\"ev\":\"msg\",\"body\":\"\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\"}",
    "plain",
};

/* A batch as relay.c writes one: node "n1", epoch 42, three deliveries. */
static char *
test_batch(size_t *len)
{
	struct codec_out o = {0};
	size_t i;

	codec_out_raw(&o, "{\"n\":\"n1\",\"e\":42,\"k\":\"ms\",\"m\":[");
	for (i = 0; i < 3; i++) {
		codec_out_raw(&o, i ? ",{\"u\":[" : "{\"u\":[");
		codec_out_int(&o, (int64_t)i + 1);
		if (i == 2)
			codec_out_raw(&o, ",123456789012345678");
		codec_out_raw(&o, "],\"f\":");
		codec_out_str(&o, test_frames[i], strlen(test_frames[i]));
		codec_out_raw(&o, "}");
	}
	codec_out_raw(&o, "]}");
	return codec_out_take(&o, len);
}

/* What relay_ms_read found is what json-c finds in the same text. */
static void
test_as_json_c(const char *s, const struct relay_ms *ms)
{
	struct json_object *o = json_tokener_parse(s);

	CHECK(o != NULL && relay_ms_ref_batch(o, ms));
	json_object_put(o);
}

/* Declined: another shape, valid JSON or not. */
static void
test_declined(struct relay_ms *ms)
{
	static const char *no[] = {
	    "{\"n\": "
	    "\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":\"x\"}]}",
	    "{\"e\":1,\"n\":\"n1\",\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":\"x\"}]"
	    "}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"m\",\"m\":[{\"u\":[1],\"f\":\"x\"}]"
	    "}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[],\"f\":\"x\"}]"
	    "}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[-1],\"f\":\"x\"}"
	    "]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[0],\"f\":\"x\"}]"
	    "}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[01],\"f\":\"x\"}"
	    "]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":["
	    "1234567890123456789],"
	    "\"f\":\"x\"}]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1.5],\"f\":"
	    "\"x\"}]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":"
	    "\"\\u0041\"}]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":\"x\"}]"
	    "} ",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":\"x\"}]"
	    "}}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":1}]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[]}",
	    "{\"n\":\"n\\\"1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":"
	    "\"x\"}]}",
	    "{\"n\":\"n1\",\"e\":-1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":\"x\"}"
	    "]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":"
	    "\"\xff\"}]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{\"u\":[1],\"f\":"
	    "\"a\nb\"}]}",
	    "{\"n\":\"n1\",\"e\":1,\"k\":\"on\",\"u\":1,\"name\":\"x\"}",
	    "",
	};
	size_t i;

	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (relay_ms_read(no[i], strlen(no[i]), ms) != 1) {
			fprintf(stderr, "not declined: %s\n", no[i]);
			CHECK(!"declined");
		}
}

int
main(void)
{
	struct relay_ms ms = {0};
	size_t len, cut;
	char *s = test_batch(&len);

	CHECK_EQ_INT(relay_ms_read(s, len, &ms), 0);
	CHECK_EQ_INT(ms.nitems, 3);
	CHECK_EQ_INT(ms.nuids, 4);
	CHECK(ms.items[0].escaped && !ms.items[2].escaped);
	test_as_json_c(s, &ms);
	/* Again with the same arrays: counts start over. */
	CHECK_EQ_INT(relay_ms_read(s, len, &ms), 0);
	CHECK_EQ_INT(ms.nitems, 3);
	test_as_json_c(s, &ms);
	/* A batch cut anywhere, as by a peer gone mid-write: declined. */
	for (cut = 0; cut < len; cut++)
		if (relay_ms_read(s, cut, &ms) != 1)
			CHECK(!"a cut batch was read");
	test_declined(&ms);
	relay_ms_clear(&ms);
	relay_ms_clear(&ms);
	free(s);
	return UNIT_END();
}
