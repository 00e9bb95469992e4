#ifndef NATTER_SERVER_CHAT_H
#define NATTER_SERVER_CHAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct codec_out;

struct codec_reader;
struct hjob;
struct json_object;

/*
 * A send request read without json-c: the common case of the hottest
 * request, every field well-formed and within its limits.
 */
struct chat_send_frame {
	bool has_req;
	uint32_t req;
	int64_t to; /* the user or group */
	bool group; /* to is a group */
	char *buf;  /* the body, then the cmid, each NUL-terminated */
	size_t cap; /* buf's size */
	size_t body_len;
	const char *cmid; /* in buf, or NULL */
};

/*
 * Reads frame line as a send with reader r. true: f holds a request that
 * chat_send_parse would take just as it is; false: anything else, to go
 * the general way, which gives any error. f->buf and f->cap are the
 * caller's buffer (NULL and 0 for none) on entry and stay the caller's,
 * grown if the request needed more room.
 */
bool chat_send_decode(const struct codec_reader *r, const char *line,
                      size_t len, size_t max_body, struct chat_send_frame *f);
/* Gives job j (of handler send) f's request and buffer, parsed. */
void chat_send_take(struct hjob *j, struct chat_send_frame *f);

/* Handlers of send, sync, ack and history (handler.h). */
int chat_send_parse(struct hjob *j);
int chat_send_run(struct store *st, struct hjob *j);
void chat_send_committed(struct hjob *j, int err);
void chat_send_run_many(struct store *st, struct hjob **j, size_t n);
int chat_sync_parse(struct hjob *j);
int chat_sync_run(struct store *st, struct hjob *j);
int chat_ack_parse(struct hjob *j);
int chat_ack_run(struct store *st, struct hjob *j);
int chat_history_parse(struct hjob *j);
int chat_history_run(struct store *st, struct hjob *j);

/* A stored message as a "msg" event object (caller owns). */
struct json_object *chat_msg_json(const struct store_msg *m);
/* The same as a frame ("\n" included), appended to o. */
void chat_msg_frame(const struct store_msg *m, struct codec_out *o);

#endif
