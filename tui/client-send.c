/* The outbox on the wire: sending, retrying, reporting sends. */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "backoff.h"
#include "client-internal.h"
#include "codec.h"
#include "errcode.h"
#include "outbox.h"
#include "xmalloc.h"

#define CLIENT_SEND_RETRY_BASE_MS 1000
#define CLIENT_SEND_RETRY_MAX_MS 30000

static void client_send_reply(void *ud, struct json_object *reply);

/* Ends an item: out of the outbox, its owner told, freed. */
static void
client_send_done(struct client *c, struct outbox_item *it,
                 struct json_object *reply)
{
	outbox_remove(c->outbox, it);
	client_forget_ud(c, it);
	if (it->cb != NULL)
		it->cb(it->ud, reply);
	outbox_item_free(it);
}

/* The retry timer: go on sending. */
static void
client_send_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	c->send_paused = false;
	client_send_flush(c);
}

/* rate_limited or unavailable: hold the outbox for a while. */
static void
client_send_backoff(struct client *c)
{
	unsigned ms =
	    backoff_delay_ms(c->send_attempt++, CLIENT_SEND_RETRY_BASE_MS,
	                     CLIENT_SEND_RETRY_MAX_MS);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (c->send_paused)
		return;
	if (c->send_ev == NULL)
		c->send_ev = event_new(c->base, -1, 0, client_send_retry_cb, c);
	c->send_paused = true;
	evtimer_add(c->send_ev, &tv);
}

/* The reply to one send: done, failed, or to be retried. */
static void
client_send_reply(void *ud, struct json_object *reply)
{
	struct outbox_item *it = ud;
	struct client *c = it->ctx;
	struct json_object *m, *err;
	const char *conv, *code = NULL;
	size_t len;
	int64_t seq;
	bool ok = false;

	it->state = OUTBOX_QUEUED;
	if (reply == NULL)
		return; /* resent after the next login */
	codec_get_bool(reply, "ok", &ok);
	if (ok) {
		c->send_attempt = 0;
		if (codec_get_object(reply, "msg", &m) == 0 &&
		    codec_get_string(m, "conv", &conv, &len) == 0 &&
		    codec_get_id(m, "seq", &seq) == 0)
			client_sync_sent(c, conv, seq);
		client_send_done(c, it, reply);
		return;
	}
	if (codec_get_object(reply, "error", &err) == 0)
		codec_get_string(err, "code", &code, &len);
	if (outbox_retryable(code)) {
		client_send_backoff(c);
		return;
	}
	client_send_done(c, it, reply);
}

/* The send request of an item. */
static struct json_object *
client_send_req(const struct outbox_item *it)
{
	struct json_object *o = json_object_new_object();
	struct json_object *to = json_object_new_object();

	codec_set_string(o, "type", "send");
	if (it->to_group != 0)
		codec_set_int(to, "group", it->to_group);
	else
		codec_set_int(to, "user", it->to_user);
	json_object_object_add(o, "to", to);
	codec_set_string(o, "body", it->body);
	codec_set_string(o, "cmid", it->cmid);
	return o;
}

/* Sends what is queued, in order, unless backing off or logged out. */
void
client_send_flush(struct client *c)
{
	struct outbox_item *it;

	if (!c->authed || c->send_paused)
		return;
	for (it = outbox_first(c->outbox); it != NULL; it = it->next) {
		if (it->state != OUTBOX_QUEUED)
			continue;
		if (client_request(c, client_send_req(it), client_send_reply,
		                   it) < 0)
			return;
		it->state = OUTBOX_INFLIGHT;
	}
}

/* Fails everything queued or in flight with a made-up error reply. */
void
client_send_fail_all(struct client *c, int code, const char *why)
{
	struct outbox_item *it;

	while ((it = outbox_first(c->outbox)) != NULL) {
		struct json_object *r =
		    codec_reply_error("send", false, 0, code, why);

		client_send_done(c, it, r);
		json_object_put(r);
	}
	if (c->send_ev != NULL)
		event_del(c->send_ev);
	c->send_paused = false;
}

/* Queues a message; it goes out now if we are logged in. */
int
client_send(struct client *c, int64_t to_user, int64_t to_group,
            const char *body, client_reply_cb cb, void *ud)
{
	return client_send_cmid(c, to_user, to_group, body, cb, ud, NULL);
}

/* The same, telling the caller the cmid chosen. */
int
client_send_cmid(struct client *c, int64_t to_user, int64_t to_group,
                 const char *body, client_reply_cb cb, void *ud, char *cmid)
{
	struct outbox_item *it;

	if (!c->authed && c->name == NULL)
		return -ERR_NOT_AUTHENTICATED;
	if ((to_user == 0) == (to_group == 0))
		return -ERR_BAD_REQUEST;
	it = outbox_add(c->outbox, to_user, to_group, body);
	it->cb = cb;
	it->ud = ud;
	it->ctx = c;
	if (cmid != NULL)
		memcpy(cmid, it->cmid, sizeof(it->cmid));
	client_send_flush(c);
	return 0;
}
