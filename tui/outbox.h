#ifndef NATTER_TUI_OUTBOX_H
#define NATTER_TUI_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Messages the user sent that the server has not acknowledged yet, in
 * order. Each has a cmid (client message id) chosen once, so that a resend
 * after a reconnect is recognised by the server and stored only once.
 * Pure bookkeeping: the client decides when to send.
 */

#define OUTBOX_CMID_LEN 32 /* hex characters: ms time, 10 random bytes */

struct json_object;
struct outbox;

/* Called with the send's reply (ok or error); see client_send. */
typedef void (*outbox_cb)(void *ud, struct json_object *reply);

enum outbox_state {
	OUTBOX_QUEUED,   /* waiting to be sent (again) */
	OUTBOX_INFLIGHT, /* sent on the current connection, no reply yet */
};

struct outbox_item {
	char cmid[OUTBOX_CMID_LEN + 1];
	int64_t to_user; /* exactly one of to_user and to_group is set */
	int64_t to_group;
	char *body;
	enum outbox_state state;
	outbox_cb cb;
	void *ud;
	void *ctx; /* for the owner (the client) */
	struct outbox_item *next;
};

struct outbox *outbox_new(void);
/* Frees the outbox and its items without calling their callbacks. */
void outbox_free(struct outbox *o);

/*
 * Writes a fresh cmid (OUTBOX_CMID_LEN hex digits + NUL) to out: the time
 * in ms, then random, so that later ones sort after earlier ones.
 */
void outbox_cmid(char *out);

/*
 * Appends a message (body copied) in state OUTBOX_QUEUED with a new cmid.
 * Returns the item, owned by the outbox until outbox_remove.
 */
struct outbox_item *outbox_add(struct outbox *o, int64_t to_user,
                               int64_t to_group, const char *body);

/* Unlinks it from the outbox; the caller then owns it (outbox_item_free). */
void outbox_remove(struct outbox *o, struct outbox_item *it);
void outbox_item_free(struct outbox_item *it);

/* The oldest item, or NULL; iterate with it->next. */
struct outbox_item *outbox_first(struct outbox *o);
size_t outbox_count(const struct outbox *o);
/* Puts every in-flight item back to queued (the connection dropped). */
void outbox_requeue(struct outbox *o);
/* True if the code of a failed send means "try again later". */
bool outbox_retryable(const char *code);

#endif
