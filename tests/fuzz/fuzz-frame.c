/*
 * libFuzzer target for shared/frame.c. The first bytes of the input choose
 * the frame cap and the sizes of the chunks the rest arrives in; frames are
 * pulled after every chunk, as session_resume does, and compared with a
 * one-shot model of PROTOCOL.md "Framing" computed on the whole input.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "errcode.h"
#include "frame.h"

#define FUZZ_FRAME_HEADER 6 /* 2 bytes of cap, 4 of chunk sizes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the input should give: the frames in order, then maybe an error. */
struct fuzz_frame_model {
	const uint8_t *data;
	size_t size, max;
	size_t pos; /* start of the next frame to expect */
};

/* Stops the run: the reader broke the contract in frame.h. */
static void
fuzz_frame_fail(const char *what)
{
	fprintf(stderr, "fuzz-frame: %s\n", what);
	abort();
}

/*
 * The next frame the model expects at m->pos, advancing past it: 1 and the
 * frame in *line and *len, 0 when no complete frame is left, -1 where the
 * reader must report a frame that is too large.
 */
static int
fuzz_frame_model_next(struct fuzz_frame_model *m, const uint8_t **line,
                      size_t *len)
{
	const uint8_t *nl;
	size_t n, rest;

	for (;;) {
		rest = m->size - m->pos;
		nl = memchr(m->data + m->pos, '\n', rest);
		if (nl == NULL) {
			/* A partial frame is too large once it cannot fit. */
			if (rest > m->max + 1 || (rest == m->max + 1 &&
			                          m->data[m->size - 1] != '\r'))
				return -1;
			return 0;
		}
		n = (size_t)(nl - (m->data + m->pos));
		*line = m->data + m->pos;
		m->pos += n + 1;
		if (n > 0 && (*line)[n - 1] == '\r')
			n--;
		if (n > m->max)
			return -1;
		if (n > 0) {
			*len = n;
			return 1;
		}
	}
}

/* Checks one frame the reader returned against the model's next one. */
static void
fuzz_frame_check(struct fuzz_frame_model *m, const char *line, size_t len)
{
	const uint8_t *want = NULL;
	size_t wlen = 0;

	if (len == 0 || len > m->max)
		fuzz_frame_fail("frame length out of range");
	if (line[len] != '\0')
		fuzz_frame_fail("frame not NUL-terminated");
	if (memchr(line, '\n', len) != NULL)
		fuzz_frame_fail("newline inside a frame");
	if (fuzz_frame_model_next(m, &want, &wlen) != 1)
		fuzz_frame_fail("reader returned a frame the model does not");
	if (wlen != len || memcmp(want, line, len) != 0)
		fuzz_frame_fail("frame differs from the model's");
}

/*
 * Pulls frames until the reader wants more input: 0, or 1 once it reported
 * a frame that is too large (the session closes then).
 */
static int
fuzz_frame_drain(struct frame_reader *fr, struct evbuffer *in,
                 struct fuzz_frame_model *m)
{
	const char *line;
	size_t len;
	int r;

	while ((r = frame_reader_next(fr, in, &line, &len)) == 1)
		fuzz_frame_check(m, line, len);
	if (r == -ERR_FRAME_TOO_LARGE)
		return 1;
	if (r != 0)
		fuzz_frame_fail("unexpected return value");
	return 0;
}

/*
 * After the last chunk: the model must have nothing left but, if the
 * reader stopped, the frame that is too large.
 */
static void
fuzz_frame_check_end(struct fuzz_frame_model *m, int stopped)
{
	const uint8_t *line;
	size_t len;
	int r = fuzz_frame_model_next(m, &line, &len);

	if (stopped && r != -1)
		fuzz_frame_fail("reader said too large, the model does not");
	if (!stopped && r != 0)
		fuzz_frame_fail("reader missed a frame or an oversized one");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_frame_model m;
	struct frame_reader *fr;
	struct evbuffer *in;
	size_t off, chunk, k = 0;
	int stopped = 0;

	if (size < FUZZ_FRAME_HEADER)
		return -1;
	memset(&m, 0, sizeof m);
	m.max = 1 + (((size_t)data[0] << 8 | data[1]) % 512);
	m.data = data + FUZZ_FRAME_HEADER;
	m.size = size - FUZZ_FRAME_HEADER;
	fr = frame_reader_new(m.max);
	in = evbuffer_new();
	for (off = 0; off < m.size && !stopped; off += chunk) {
		chunk = 1 + data[2 + k++ % 4] % 64;
		if (chunk > m.size - off)
			chunk = m.size - off;
		evbuffer_add(in, m.data + off, chunk);
		stopped = fuzz_frame_drain(fr, in, &m);
	}
	if (!stopped)
		stopped = fuzz_frame_drain(fr, in, &m);
	fuzz_frame_check_end(&m, stopped);
	if (!stopped && frame_reader_max(fr) != m.max)
		fuzz_frame_fail("cap changed");
	evbuffer_free(in);
	frame_reader_free(fr);
	return 0;
}
