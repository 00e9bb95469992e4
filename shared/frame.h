#ifndef NATTER_SHARED_FRAME_H
#define NATTER_SHARED_FRAME_H

#include <stddef.h>

struct evbuffer;

/*
 * Incremental reader of newline-terminated frames from a libevent evbuffer
 * (PROTOCOL.md "Framing"). The reader owns a scratch buffer reused from
 * frame to frame, so reading costs no allocation per frame; an idle
 * connection can give it back with frame_reader_trim.
 */
struct frame_reader;

/* A reader with a cap of max_frame bytes per frame (excluding "\n"). */
struct frame_reader *frame_reader_new(size_t max_frame);
void frame_reader_free(struct frame_reader *fr);
void frame_reader_set_max(struct frame_reader *fr, size_t max_frame);
size_t frame_reader_max(const struct frame_reader *fr);
/* Frees the scratch buffer (made again for the next frame). */
void frame_reader_trim(struct frame_reader *fr);

/*
 * Takes the next complete frame out of in. Returns 1 and points *line at a
 * NUL-terminated copy of it (without the "\n" and a "\r" before it; borrowed
 * until the next call), with its length in *len; 0 if no complete frame is
 * buffered yet; -ERR_FRAME_TOO_LARGE if the frame is, or already would be,
 * longer than the cap (checked without waiting for its end, so a peer that
 * never sends "\n" is caught once max_frame bytes are buffered). Empty lines
 * are skipped.
 */
int frame_reader_next(struct frame_reader *fr, struct evbuffer *in,
                      const char **line, size_t *len);

/*
 * The read high-watermark to give bufferevent_setwatermark for a reader
 * with this cap: enough to hold one whole frame plus some, so reading
 * stops before memory grows without bound.
 */
size_t frame_watermark(size_t max_frame);

#endif
