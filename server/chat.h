#ifndef NATTER_SERVER_CHAT_H
#define NATTER_SERVER_CHAT_H

#include <stddef.h>

#include "store.h"

struct hjob;
struct json_object;

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
/* The same as a frame ("\n" included), *len bytes; the caller frees it. */
char *chat_msg_frame(const struct store_msg *m, size_t *len);

#endif
