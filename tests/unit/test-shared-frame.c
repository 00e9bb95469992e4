/* Unit tests for shared/frame.c: newline framing over an evbuffer. */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "errcode.h"
#include "frame.h"
#include "unit.h"

/* Appends a NUL-terminated string to b. */
static void
add(struct evbuffer *b, const char *s)
{
	evbuffer_add(b, s, strlen(s));
}

/* Reads the next frame and checks it equals want (NULL: none yet). */
static void
expect(struct frame_reader *fr, struct evbuffer *b, const char *want)
{
	const char *line = NULL;
	size_t len = 0;
	int r = frame_reader_next(fr, b, &line, &len);

	if (want == NULL) {
		CHECK_EQ_INT(r, 0);
		return;
	}
	CHECK_EQ_INT(r, 1);
	if (r != 1)
		return;
	CHECK_EQ_INT(len, strlen(want));
	CHECK(strcmp(line, want) == 0);
	CHECK_EQ_INT(line[len], '\0');
}

/* One frame, then several in one buffer, then \r\n and empty lines. */
static void
test_frame_basic(void)
{
	struct frame_reader *fr = frame_reader_new(65536);
	struct evbuffer *b = evbuffer_new();

	CHECK_EQ_INT(frame_reader_max(fr), 65536);
	expect(fr, b, NULL);
	add(b, "{\"type\":\"ping\"}\n");
	expect(fr, b, "{\"type\":\"ping\"}");
	expect(fr, b, NULL);
	add(b, "one\ntwo\nthree\npart");
	expect(fr, b, "one");
	expect(fr, b, "two");
	expect(fr, b, "three");
	expect(fr, b, NULL);
	add(b, "ial\r\n");
	expect(fr, b, "partial");
	add(b, "\n\r\n\n\r\nafter\n\n");
	expect(fr, b, "after");
	expect(fr, b, NULL);
	CHECK_EQ_INT(evbuffer_get_length(b), 0);
	add(b, "a\rb\n"); /* a \r not before \n is data */
	expect(fr, b, "a\rb");
	frame_reader_trim(fr); /* the scratch goes, reading goes on */
	frame_reader_trim(fr);
	add(b, "x");
	expect(fr, b, NULL);
	frame_reader_trim(fr);
	add(b, "yz\n");
	expect(fr, b, "xyz");
	evbuffer_free(b);
	frame_reader_free(fr);
	frame_reader_free(NULL);
}

/* One frame arriving a byte at a time, twice over (state is reset). */
static void
test_frame_byte_by_byte(void)
{
	static const char text[] = "{\"type\":\"send\",\"body\":\"hello\"}\r\n";
	struct frame_reader *fr = frame_reader_new(64);
	struct evbuffer *b = evbuffer_new();
	const char *line;
	size_t len;
	int got = 0;

	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(text) - 1; i++) {
			evbuffer_add(b, text + i, 1);
			int r = frame_reader_next(fr, b, &line, &len);
			CHECK(r == 0 || (r == 1 && i == sizeof(text) - 2));
			if (r == 1) {
				got++;
				CHECK_EQ_INT(len, sizeof(text) - 3);
				CHECK(memcmp(line, text, len) == 0);
			}
		}
	}
	CHECK_EQ_INT(got, 2);
	evbuffer_free(b);
	frame_reader_free(fr);
}

/* A buffer of n copies of c, NUL-terminated, that the caller frees. */
static char *
filled(size_t n, char c)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* The cap: exactly max passes, max + 1 fails, with or without "\r". */
static void
test_frame_cap(void)
{
	struct frame_reader *fr = frame_reader_new(100);
	struct evbuffer *b = evbuffer_new();
	char *s = filled(101, 'x');
	const char *line;
	size_t len;

	evbuffer_add(b, s, 100);
	expect(fr, b, NULL);
	add(b, "\r"); /* max + 1 buffered, but it may be a "\r\n" */
	expect(fr, b, NULL);
	add(b, "\n");
	CHECK_EQ_INT(frame_reader_next(fr, b, &line, &len), 1);
	CHECK_EQ_INT(len, 100);
	evbuffer_add(b, s, 100);
	add(b, "\n");
	CHECK_EQ_INT(frame_reader_next(fr, b, &line, &len), 1);
	CHECK_EQ_INT(len, 100);
	evbuffer_add(b, s, 101);
	add(b, "\n");
	CHECK_EQ_INT(frame_reader_next(fr, b, &line, &len),
	             -ERR_FRAME_TOO_LARGE);
	evbuffer_drain(b, evbuffer_get_length(b));
	/* max + 1 bytes and no newline: caught before the end arrives */
	evbuffer_add(b, s, 50);
	expect(fr, b, NULL);
	evbuffer_add(b, s, 51);
	CHECK_EQ_INT(frame_reader_next(fr, b, &line, &len),
	             -ERR_FRAME_TOO_LARGE);
	evbuffer_drain(b, evbuffer_get_length(b));
	/* a raised cap applies to what comes next */
	frame_reader_set_max(fr, 200);
	evbuffer_add(b, s, 101);
	add(b, "\n");
	CHECK_EQ_INT(frame_reader_next(fr, b, &line, &len), 1);
	CHECK_EQ_INT(len, 101);
	CHECK(frame_watermark(100) > 102);
	free(s);
	evbuffer_free(b);
	frame_reader_free(fr);
}

/* A 70 KB frame against a 64 KiB cap, whole and in 1 KB reads. */
static void
test_frame_big(void)
{
	struct frame_reader *fr = frame_reader_new(65536);
	struct evbuffer *b = evbuffer_new();
	char *s = filled(70000, 'y');
	const char *line;
	size_t len;
	int r = 0;

	evbuffer_add(b, s, 70000);
	add(b, "\n");
	CHECK_EQ_INT(frame_reader_next(fr, b, &line, &len),
	             -ERR_FRAME_TOO_LARGE);
	evbuffer_drain(b, evbuffer_get_length(b));
	for (size_t off = 0; off < 70000 && r == 0; off += 1000) {
		evbuffer_add(b, s + off, 1000);
		r = frame_reader_next(fr, b, &line, &len);
	}
	CHECK_EQ_INT(r, -ERR_FRAME_TOO_LARGE);
	CHECK(evbuffer_get_length(b) <= 65536 + 1000);
	free(s);
	evbuffer_free(b);
	frame_reader_free(fr);
}

/* Many frames buffered at once all come out, in order. */
static void
test_frame_many(void)
{
	struct frame_reader *fr = frame_reader_new(65536);
	struct evbuffer *b = evbuffer_new();
	const char *line;
	size_t len;
	int n = 0, ok = 1;
	char want[32];

	for (int i = 0; i < 100000; i++)
		evbuffer_add_printf(b, "{\"req\":%d}\n", i);
	while (frame_reader_next(fr, b, &line, &len) == 1) {
		snprintf(want, sizeof(want), "{\"req\":%d}", n++);
		ok &= strcmp(line, want) == 0;
	}
	CHECK_EQ_INT(n, 100000);
	CHECK(ok);
	evbuffer_free(b);
	frame_reader_free(fr);
}

int
main(void)
{
	test_frame_basic();
	test_frame_byte_by_byte();
	test_frame_cap();
	test_frame_big();
	test_frame_many();
	return UNIT_END();
}
