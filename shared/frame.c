#include <event2/buffer.h>
#include <stdlib.h>

#include "errcode.h"
#include "frame.h"
#include "xmalloc.h"

/*
 * Room above the cap in frame_watermark: a "\r\n" and some of the next
 * frame fit, so a reader that stopped at a partial frame can always read on
 * far enough to see its end or to see that it is too long.
 */
#define FRAME_WATERMARK_SLACK 4096
#define FRAME_SCRATCH_MIN 256 /* the scratch buffer's first size */

/*
 * scanned counts the bytes at the front of the buffer last seen that are
 * known to hold no "\n": when a frame arrives over many reads, each call
 * only searches the new bytes, not the whole partial frame again.
 */
struct frame_reader {
	size_t max;
	char *buf; /* scratch line, reused; cap bytes */
	size_t cap;
	struct evbuffer *last; /* the buffer scanned refers to */
	size_t scanned;
};

/* A reader with its cap; the scratch buffer grows on demand. */
struct frame_reader *
frame_reader_new(size_t max_frame)
{
	struct frame_reader *fr = xcalloc(1, sizeof(*fr));

	fr->max = max_frame;
	return fr; /* the scratch buffer comes with the first frame */
}

/* Frees the reader and its scratch buffer; NULL is a no-op. */
void
frame_reader_free(struct frame_reader *fr)
{
	if (fr == NULL)
		return;
	free(fr->buf);
	free(fr);
}

/* Changes the cap for the frames still to come. */
void
frame_reader_set_max(struct frame_reader *fr, size_t max_frame)
{
	fr->max = max_frame;
}

/* Idle: the scratch buffer is not worth keeping. */
void
frame_reader_trim(struct frame_reader *fr)
{
	free(fr->buf);
	fr->buf = NULL;
	fr->cap = 0;
	fr->last = NULL; /* the next buffer may be new at the same address */
	fr->scanned = 0;
}

/* The current cap. */
size_t
frame_reader_max(const struct frame_reader *fr)
{
	return fr->max;
}

/* High watermark for a reader with this cap: a frame plus some slack. */
size_t
frame_watermark(size_t max_frame)
{
	return max_frame + FRAME_WATERMARK_SLACK;
}

/* The byte at offset off of in (which must hold it). */
static unsigned char
frame_byte_at(struct evbuffer *in, size_t off)
{
	struct evbuffer_ptr p;
	unsigned char c = 0;

	evbuffer_ptr_set(in, &p, off, EVBUFFER_PTR_SET);
	evbuffer_copyout_from(in, &p, &c, 1);
	return c;
}

/*
 * Finds the first "\n" in in and stores its offset in *eol: returns 1, or 0
 * if there is none yet. Only bytes past what earlier calls saw are searched.
 * A buffer with no "\n" that is already longer than a whole frame could be
 * gives -ERR_FRAME_TOO_LARGE at once (one byte more is allowed when it is
 * the "\r" of a "\r\n" still on its way).
 */
static int
frame_find_eol(struct frame_reader *fr, struct evbuffer *in, size_t *eol)
{
	size_t buffered = evbuffer_get_length(in);
	struct evbuffer_ptr p;
	size_t eol_len;

	if (fr->last != in || fr->scanned > buffered)
		fr->scanned = 0;
	fr->last = in;
	if (evbuffer_ptr_set(in, &p, fr->scanned, EVBUFFER_PTR_SET) == 0) {
		p = evbuffer_search_eol(in, &p, &eol_len, EVBUFFER_EOL_LF);
		if (p.pos >= 0) {
			*eol = (size_t)p.pos;
			return 1;
		}
	}
	fr->scanned = buffered;
	if (buffered > fr->max + 1 || (buffered == fr->max + 1 &&
	                               frame_byte_at(in, buffered - 1) != '\r'))
		return -ERR_FRAME_TOO_LARGE;
	return 0;
}

/* Moves the first n bytes of in and their "\n" into the scratch buffer. */
static void
frame_take_line(struct frame_reader *fr, struct evbuffer *in, size_t n)
{
	if (n + 1 > fr->cap) {
		if (fr->cap == 0)
			fr->cap = FRAME_SCRATCH_MIN;
		while (fr->cap < n + 1)
			fr->cap *= 2;
		fr->buf = xrealloc(fr->buf, fr->cap);
	}
	evbuffer_remove(in, fr->buf, n);
	evbuffer_drain(in, 1);
	if (n > 0 && fr->buf[n - 1] == '\r')
		n--;
	fr->buf[n] = '\0';
	fr->scanned = 0;
}

/* Next complete, non-empty frame of in; see frame.h. */
int
frame_reader_next(struct frame_reader *fr, struct evbuffer *in,
                  const char **line, size_t *len)
{
	size_t eol, n;
	int r;

	for (;;) {
		if ((r = frame_find_eol(fr, in, &eol)) <= 0)
			return r;
		n = eol;
		if (n > 0 && frame_byte_at(in, n - 1) == '\r')
			n--;
		if (n > fr->max)
			return -ERR_FRAME_TOO_LARGE;
		frame_take_line(fr, in, eol);
		if (n > 0)
			break;
	}
	*line = fr->buf;
	*len = n;
	return 1;
}
