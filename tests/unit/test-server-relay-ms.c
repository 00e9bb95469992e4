/*
 * The relay's batches of deliveries (relay-ms.h): a batch written with
 * relay_ms_put_head and relay_ms_put_item reads back byte for byte; a
 * malformed one is refused whole, or loses only its bad deliveries.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "relay-ms.h"
#include "unit.h"
#include "xmalloc.h"

/* Frames with what a frame's text holds: quotes, backslashes, UTF-8. */
static const char *test_frames[] = {
    "{\"ev\":\"msg\",\"body\":\"hi \\\"there\\\" C:\\\\tmp\",\"seq\":7}\n",
    "{\"ev\":\"msg\",\"body\":\"\xe4\xbd\xa0\xe5\xa5\xbd "
    "\xf0\x9f\x98\x80\"}\n",
    "{\"ev\":\"on\",\"user\":3}\n",
};

/* The users of each frame: the last has several, one of 18 digits. */
static const int64_t test_uids[] = {1, 2, 3, 123456789012345678, 5};
static const size_t test_uid0[] = {0, 1, 2}, test_nuid[] = {1, 1, 3};

/* A node's name in UTF-8: "nœud-東京". */
#define TEST_NODE_UTF8 "n\xc5\x93ud-\xe6\x9d\xb1\xe4\xba\xac"

/* Appends v as a little-endian u32, for batches made by hand. */
static void
test_put32(struct codec_out *o, uint32_t v)
{
	char b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (char)(v >> (8 * i));
	codec_out_bytes(o, b, 4);
}

/* Appends v as a little-endian u64. */
static void
test_put64(struct codec_out *o, uint64_t v)
{
	char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (char)(v >> (8 * i));
	codec_out_bytes(o, b, 8);
}

/* Appends a delivery as relay.c writes one. */
static void
test_item(struct codec_out *o, const int64_t *uids, size_t nuid,
          const char *frame, size_t len)
{
	size_t size = relay_ms_item_size(nuid, len);
	char *p = xmalloc(size);

	relay_ms_put_item(p, uids, nuid, frame, len);
	codec_out_bytes(o, p, size);
	free(p);
}

/* Appends the three deliveries of test_frames. */
static void
test_items(struct codec_out *o)
{
	size_t i;

	for (i = 0; i < 3; i++)
		test_item(o, test_uids + test_uid0[i], test_nuid[i],
		          test_frames[i], strlen(test_frames[i]));
}

/* A batch of the three deliveries from node (NUL-terminated) at epoch. */
static char *
test_batch(const char *node, int64_t epoch, size_t *len)
{
	struct codec_out o = {0};
	size_t head;

	relay_ms_put_head(&o, node, strlen(node), epoch);
	head = o.len;
	test_items(&o);
	relay_ms_set_count(o.buf, head, 3);
	return codec_out_take(&o, len);
}

/* Item i of ms is delivery j of test_frames, byte for byte. */
static void
test_check_item(const struct relay_ms *ms, size_t i, size_t j)
{
	const struct relay_ms_item *it = &ms->items[i];
	size_t len = strlen(test_frames[j]);

	CHECK_EQ_INT(it->nuid, test_nuid[j]);
	CHECK(memcmp(ms->uids + it->uid0, test_uids + test_uid0[j],
	             test_nuid[j] * sizeof(int64_t)) == 0);
	CHECK_EQ_INT(it->len, len);
	CHECK(memcmp(it->frame, test_frames[j], len) == 0);
}

/* ms holds test_batch(node, epoch), its arrays counted from zero. */
static void
test_check_batch(const struct relay_ms *ms, const char *node, int64_t epoch)
{
	size_t i;

	CHECK_EQ_INT(ms->node_len, strlen(node));
	CHECK(memcmp(ms->node, node, strlen(node)) == 0);
	CHECK(ms->epoch == epoch);
	CHECK_EQ_INT(ms->nitems, 3);
	CHECK_EQ_INT(ms->nuids, 5);
	CHECK_EQ_INT(ms->bad, 0);
	for (i = 0; i < 3; i++) {
		CHECK_EQ_INT(ms->items[i].uid0, test_uid0[i]);
		test_check_item(ms, i, i);
	}
}

/* Batches read back as written, again and again into the same ms. */
static void
test_round_trip(struct relay_ms *ms)
{
	struct codec_out o = {0};
	int64_t uid = 9;
	size_t len;
	char *s;

	s = test_batch("n1", 42, &len);
	CHECK_EQ_INT(relay_ms_read(s, len, ms), 0);
	test_check_batch(ms, "n1", 42);
	free(s);
	s = test_batch(TEST_NODE_UTF8, INT64_MAX, &len);
	CHECK_EQ_INT(relay_ms_read(s, len, ms), 0);
	test_check_batch(ms, TEST_NODE_UTF8, INT64_MAX);
	free(s);
	/* A smaller one after: the counts start over. */
	relay_ms_put_head(&o, "m", 1, 0);
	relay_ms_set_count(o.buf, o.len, 1);
	test_item(&o, &uid, 1, "x\n", 2);
	s = codec_out_take(&o, &len);
	CHECK_EQ_INT(relay_ms_read(s, len, ms), 0);
	CHECK_EQ_INT(ms->node_len, 1);
	CHECK_EQ_INT(ms->nitems, 1);
	CHECK_EQ_INT(ms->nuids, 1);
	CHECK(ms->items[0].uid0 == 0 && ms->uids[0] == 9);
	free(s);
}

/* Refused: relay_ms_read returns 1 for the len bytes at s. */
static void
test_refused(struct relay_ms *ms, const char *what, const char *s, size_t len)
{
	int r = relay_ms_read(s, len, ms);

	if (r != 1)
		fprintf(stderr, "not refused: %s\n", what);
	CHECK_EQ_INT(r, 1);
}

/* A head from node "n1" at epoch 1 that counts n items the caller adds. */
static void
test_head(struct codec_out *o, size_t n)
{
	relay_ms_put_head(o, "n1", 2, 1);
	relay_ms_set_count(o->buf, o->len, n);
}

/* Texts that are not batches at all. */
static void
test_refused_magic(struct relay_ms *ms)
{
	static const char json[] = "{\"n\":\"n1\",\"e\":1,\"k\":\"ms\",\"m\":[{"
	                           "\"u\":[1],\"f\":\"x\"}]}";
	struct codec_out o = {0};
	size_t len;
	char *s;

	test_refused(ms, "JSON", json, sizeof(json) - 1);
	test_refused(ms, "empty", "", 0);
	test_refused(ms, "3 bytes", RELAY_MS_MAGIC, 3);
	test_refused(ms, "magic only", RELAY_MS_MAGIC, RELAY_MS_MAGIC_LEN);
	/* Another magic, as a later format would have. */
	s = test_batch("n1", 1, &len);
	s[3] = '2';
	test_refused(ms, "magic nb2", s, len);
	free(s);
	test_head(&o, 0);
	s = codec_out_take(&o, &len);
	test_refused(ms, "head only", s, len);
	free(s);
	test_head(&o, 1);
	s = codec_out_take(&o, &len);
	test_refused(ms, "head counting 1, no item", s, len);
	free(s);
}

/*
 * A batch cut anywhere, as by a peer gone mid-write. Every cut must be
 * refused: one at a delivery's end would otherwise pass for a batch of
 * the deliveries before it.
 */
static void
test_refused_cut(struct relay_ms *ms)
{
	size_t len, cut;
	char *s = test_batch("n1", 42, &len);

	for (cut = 0; cut < len; cut++)
		if (relay_ms_read(s, cut, ms) != 1) {
			fprintf(stderr, "cut at %zu of %zu bytes was read\n",
			        cut, len);
			CHECK(!"a cut batch was read");
		}
	free(s);
}

/* Deliveries whose counts or lengths do not fit the batch. */
static void
test_refused_item(struct relay_ms *ms)
{
	static const struct {
		const char *what;
		uint32_t nuid, len; /* a frame "x\n" after one uid */
	} bad[] = {
	    {"no users", 0, 2},
	    {"users past the end", 0xffffffff, 2},
	    {"two users, one there", 2, 2},
	    {"frame past the end", 1, 3},
	    {"frame length 2^32-1", 1, 0xffffffff},
	    {"frame short of the end", 1, 1},
	};
	struct codec_out o = {0};
	size_t i, len;
	char *s;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_head(&o, 1);
		test_put32(&o, bad[i].nuid);
		if (bad[i].nuid != 0)
			test_put64(&o, 7);
		test_put32(&o, bad[i].len);
		codec_out_bytes(&o, "x\n", 2);
		s = codec_out_take(&o, &len);
		test_refused(ms, bad[i].what, s, len);
		free(s);
	}
}

/* A valid batch and then bytes that are no delivery. */
static void
test_refused_trailing(struct relay_ms *ms)
{
	static const struct {
		const char *what, *bytes;
		size_t len;
	} tail[] = {
	    {"1 byte after", "\n", 1},
	    {"3 bytes after", "\x01\x00\x00", 3},
	    {"a count, no uid", "\x01\x00\x00\x00", 4},
	    {"a uid, no length",
	     "\x01\x00\x00\x00"
	     "\x07\x00\x00\x00\x00\x00\x00\x00",
	     12},
	    {"an item past the count",
	     "\x01\x00\x00\x00"
	     "\x07\x00\x00\x00\x00\x00\x00\x00"
	     "\x02\x00\x00\x00x\n",
	     18},
	};
	struct codec_out o = {0};
	size_t i, len;
	char *s;

	for (i = 0; i < sizeof(tail) / sizeof(tail[0]); i++) {
		test_head(&o, 3);
		test_items(&o);
		codec_out_bytes(&o, tail[i].bytes, tail[i].len);
		s = codec_out_take(&o, &len);
		test_refused(ms, tail[i].what, s, len);
		free(s);
	}
}

/* Names that relay.c could not take as a node's: empty, NUL, not UTF-8. */
static void
test_refused_node(struct relay_ms *ms)
{
	static const struct {
		const char *what, *node;
		size_t len;
	} bad[] = {
	    {"empty node", "", 0},
	    {"a NUL in the node", "n1\0x", 4},
	    {"a node not UTF-8", "n\xff", 2},
	};
	struct codec_out o = {0};
	size_t i, len, head;
	char *s;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		relay_ms_put_head(&o, bad[i].node, bad[i].len, 1);
		head = o.len;
		test_items(&o);
		relay_ms_set_count(o.buf, head, 3);
		s = codec_out_take(&o, &len);
		test_refused(ms, bad[i].what, s, len);
		free(s);
	}
}

/* A head whose lengths or epoch are out of range. */
static void
test_refused_head(struct relay_ms *ms)
{
	static const uint64_t epochs[] = {(uint64_t)INT64_MAX + 1, UINT64_MAX};
	struct codec_out o = {0};
	size_t i, len;
	char *s;

	for (i = 0; i < 2; i++) {
		codec_out_bytes(&o, RELAY_MS_MAGIC, RELAY_MS_MAGIC_LEN);
		test_put32(&o, 2);
		codec_out_bytes(&o, "n1", 2);
		test_put64(&o, epochs[i]);
		test_put32(&o, 3);
		test_items(&o);
		s = codec_out_take(&o, &len);
		test_refused(ms, "epoch above INT64_MAX", s, len);
		free(s);
	}
	codec_out_bytes(&o, RELAY_MS_MAGIC, RELAY_MS_MAGIC_LEN);
	test_put32(&o, 0xffffffff);
	codec_out_bytes(&o, "n1", 2);
	s = codec_out_take(&o, &len);
	test_refused(ms, "node past the end", s, len);
	free(s);
	test_refused_node(ms);
}

/* Deliveries left out and counted; the others kept, in order. */
static void
test_bad_items(struct relay_ms *ms)
{
	static const int64_t zero[] = {0}, neg[] = {INT64_MIN},
	                     mixed[] = {4, -1, 6}, one[] = {1};
	static const char *frames[] = {"x", "a\nb\n", "\xff\n", ""};
	struct codec_out o = {0};
	size_t i, len;
	char *s;

	test_head(&o, 13);
	test_item(&o, zero, 1, "x\n", 2);
	test_items(&o); /* kept: 0, 1, 2 */
	test_item(&o, neg, 1, "x\n", 2);
	test_item(&o, mixed, 3, "x\n", 2);
	for (i = 0; i < 4; i++)
		test_item(&o, one, 1, frames[i], strlen(frames[i]));
	test_items(&o); /* kept: 3, 4, 5 */
	s = codec_out_take(&o, &len);
	CHECK_EQ_INT(relay_ms_read(s, len, ms), 0);
	CHECK_EQ_INT(ms->bad, 7);
	CHECK_EQ_INT(ms->nitems, 6);
	CHECK_EQ_INT(ms->nuids, 10);
	for (i = 0; i < ms->nitems && i < 6; i++)
		test_check_item(ms, i, i % 3);
	free(s);
	/* The next batch starts its count over. */
	s = test_batch("n1", 42, &len);
	CHECK_EQ_INT(relay_ms_read(s, len, ms), 0);
	test_check_batch(ms, "n1", 42);
	free(s);
}

/* Only the magic makes a batch: the rest is relay_ms_read's to check. */
static void
test_is_batch(void)
{
	CHECK(relay_ms_is_batch(RELAY_MS_MAGIC, RELAY_MS_MAGIC_LEN));
	CHECK(relay_ms_is_batch(RELAY_MS_MAGIC "junk", 8));
	CHECK(!relay_ms_is_batch("", 0));
	CHECK(!relay_ms_is_batch(RELAY_MS_MAGIC, 3));
	CHECK(!relay_ms_is_batch("\0nb2", 4));
	CHECK(!relay_ms_is_batch("\0NB1", 4));
	CHECK(!relay_ms_is_batch("{\"n\":\"n1\"}", 10));
}

int
main(void)
{
	struct relay_ms ms = {0};

	test_round_trip(&ms);
	test_refused_magic(&ms);
	test_refused_cut(&ms);
	test_refused_item(&ms);
	test_refused_trailing(&ms);
	test_refused_head(&ms);
	test_bad_items(&ms);
	test_is_batch();
	relay_ms_clear(&ms);
	relay_ms_clear(&ms);
	return UNIT_END();
}
