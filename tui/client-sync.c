/* Getting every message once: sync rounds, pushes, dedupe and acks. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client-internal.h"
#include "codec.h"
#include "dedupe.h"
#include "errcode.h"
#include "xmalloc.h"

/* Highest seq of one conversation within a sync batch. */
struct client_sync_conv {
	const char *conv; /* borrowed from the batch */
	int64_t max;
};

/* Sends {"type":"ack","conv":conv,"seq":seq}; the reply needs no care. */
static void
client_sync_ack(struct client *c, const char *conv, int64_t seq)
{
	struct json_object *o = json_object_new_object();

	codec_set_string(o, "type", "ack");
	codec_set_string(o, "conv", conv);
	codec_set_int(o, "seq", seq);
	client_request(c, o, NULL, NULL);
}

/* conv and seq of a msg object; false if either is missing or bad. */
static bool
client_sync_key(struct json_object *m, const char **conv, int64_t *seq)
{
	size_t len;

	return codec_get_string(m, "conv", conv, &len) == 0 &&
	       codec_get_id(m, "seq", seq) == 0;
}

/* Calls every waiter of the finished round with n. */
static void
client_sync_finish(struct client *c, int n)
{
	struct client_sync_waiter *w = c->sync_waiters, *next;

	c->sync_waiters = NULL;
	c->sync_count = 0;
	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(w->ud, n);
		free(w);
	}
}

/*
 * One batch of sync results, oldest first. The first message of a
 * conversation is the server's cursor + 1, so everything below it counts
 * as seen; after delivering, the highest seq of each conversation is acked
 * (duplicates included, or the cursor would never move past them).
 */
static void
client_sync_batch(struct client *c, struct json_object *msgs)
{
	size_t n = json_object_array_length(msgs), nconv = 0;
	struct client_sync_conv *convs = xcalloc(n + 1, sizeof(*convs));

	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(msgs, i);
		const char *conv;
		int64_t seq;
		size_t k;

		if (!client_sync_key(m, &conv, &seq))
			continue;
		for (k = 0; k < nconv && strcmp(convs[k].conv, conv) != 0; k++)
			;
		if (k == nconv) {
			dedupe_set_floor(c->dedupe, conv, seq - 1);
			convs[nconv++].conv = conv;
		}
		if (seq > convs[k].max)
			convs[k].max = seq;
		if (dedupe_add(c->dedupe, conv, seq)) {
			c->sync_count++;
			client_emit_event(c, "msg", m);
		}
	}
	for (size_t k = 0; k < nconv; k++)
		client_sync_ack(c, convs[k].conv, convs[k].max);
	free(convs);
}

/* Sends one sync request. */
static void client_sync_send(struct client *c);

/* A sync reply: deliver, then go on while the server has more. */
static void
client_sync_reply(void *ud, struct json_object *reply)
{
	struct client *c = ud;
	struct json_object *msgs;
	bool ok = false, more = false;

	c->sync_inflight = false;
	if (reply == NULL)
		return; /* client_sync_abort tells the waiters */
	codec_get_bool(reply, "ok", &ok);
	if (ok && json_object_object_get_ex(reply, "msgs", &msgs) &&
	    json_object_is_type(msgs, json_type_array)) {
		client_sync_batch(c, msgs);
		codec_get_bool(reply, "more", &more);
	}
	if (more || c->sync_again) {
		c->sync_again = false;
		client_sync_send(c);
		return;
	}
	client_sync_finish(c, ok ? c->sync_count : -ERR_UNAVAILABLE);
}

/* One request of the round. */
static void
client_sync_send(struct client *c)
{
	struct json_object *o = json_object_new_object();

	codec_set_string(o, "type", "sync");
	codec_set_int(o, "limit", CLIENT_SYNC_LIMIT);
	if (client_request(c, o, client_sync_reply, c) == 0)
		c->sync_inflight = true;
}

/* A round now, or one more after the running one. */
void
client_sync_start(struct client *c)
{
	if (!c->authed)
		return;
	if (c->sync_inflight) {
		c->sync_again = true;
		return;
	}
	client_sync_send(c);
}

/* The connection dropped mid-round. */
void
client_sync_abort(struct client *c)
{
	c->sync_again = false;
	c->sync_inflight = false;
	client_sync_finish(c, -ERR_UNAVAILABLE);
}

/* The user's /sync. */
int
client_sync(struct client *c, void (*cb)(void *ud, int n), void *ud)
{
	struct client_sync_waiter *w;

	if (!c->authed)
		return -ERR_UNAVAILABLE;
	w = xcalloc(1, sizeof(*w));
	w->cb = cb;
	w->ud = ud;
	w->next = c->sync_waiters;
	c->sync_waiters = w;
	client_sync_start(c);
	return 0;
}

/*
 * Acks conv up to its floor if that covers seq; otherwise there is a gap
 * (or we do not know where the cursor is) and a sync fills it.
 */
static void
client_sync_settle(struct client *c, const char *conv, int64_t seq)
{
	int64_t floor = dedupe_floor(c->dedupe, conv);

	if (floor >= seq)
		client_sync_ack(c, conv, floor);
	else
		client_sync_start(c);
}

/* A pushed message. */
void
client_sync_push(struct client *c, struct json_object *ev)
{
	const char *conv;
	int64_t seq;

	if (!client_sync_key(ev, &conv, &seq))
		return;
	if (dedupe_add(c->dedupe, conv, seq))
		client_emit_event(c, "msg", ev);
	if (c->authed)
		client_sync_settle(c, conv, seq);
}

/* Our own message is in the conversation too. */
void
client_sync_sent(struct client *c, const char *conv, int64_t seq)
{
	dedupe_add(c->dedupe, conv, seq);
	client_sync_settle(c, conv, seq);
}
