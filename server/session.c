#include "session.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <json-c/json.h>

#include "codec.h"
#include "config.h"
#include "errcode.h"
#include "frame.h"
#include "handler.h"
#include "log.h"
#include "presence.h"
#include "server.h"
#include "worker.h"
#include "xmalloc.h"

#define SESSION_FLUSH_SECONDS 5

static void session_read_cb(struct bufferevent *bev, void *arg);
static void session_event_cb(struct bufferevent *bev, short what, void *arg);

/* A session for fd on w: buffers, watermark, idle timeout, registered. */
struct session *
session_new(struct worker *w, evutil_socket_t fd, const char *peer)
{
	const struct config *cfg = w->srv->cfg;
	struct timeval idle = {cfg->heartbeat * 2, 0};
	struct session *s = xcalloc(1, sizeof *s);

	s->refs = 1; /* the connection's */
	s->w = w;
	s->id = (++w->next_id << 8) | (uint64_t)w->idx;
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	s->fr = frame_reader_new((size_t)cfg->max_frame);
	s->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->bev, session_read_cb, NULL, session_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0,
	                         frame_watermark((size_t)cfg->max_frame));
	bufferevent_set_timeouts(s->bev, &idle, NULL);
	bufferevent_enable(s->bev, w->stopping ? EV_WRITE : EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&w->sessions, s, entry);
	w->nsessions++;
	w->nsockets++;
	log_debug("session %llu: connected from %s", (unsigned long long)s->id,
	          s->peer);
	return s;
}

void
session_ref(struct session *s)
{
	s->refs++;
}

/* Frees the session on a later loop turn, outside any of its callbacks. */
static void
session_free_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	frame_reader_free(s->fr);
	free(s->name);
	free(s);
}

/* Drops a reference; the last one schedules the free. */
void
session_unref(struct session *s)
{
	if (--s->refs > 0)
		return;
	event_base_once(s->w->base, -1, EV_TIMEOUT, session_free_cb, s, NULL);
}

/* Leaves the worker's lists and the user's presence: no more traffic. */
static void
session_detach(struct session *s, const char *reason)
{
	struct worker *w = s->w;

	if (s->closed)
		return;
	s->closed = true;
	log_debug("session %llu: closed: %s", (unsigned long long)s->id,
	          reason);
	session_logout(s);
	TAILQ_REMOVE(&w->sessions, s, entry);
	w->nsessions--;
}

/* Frees the socket and gives back the connection's reference. */
static void
session_drop_socket(struct session *s)
{
	if (s->bev == NULL)
		return;
	bufferevent_free(s->bev);
	s->bev = NULL;
	if (--s->w->nsockets == 0 && s->w->finishing)
		event_base_loopexit(s->w->base, NULL);
	session_unref(s);
}

/* Closes at once; queued output is dropped (it is all in storage). */
void
session_close(struct session *s, const char *reason)
{
	session_detach(s, reason);
	session_drop_socket(s);
}

/* Output drained (or timed out): the socket can go. */
static void
session_flushed_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_drop_socket(arg);
}

/* Closes once queued output is written, within a few seconds. */
void
session_close_flush(struct session *s, const char *reason)
{
	struct timeval t = {SESSION_FLUSH_SECONDS, 0};

	session_detach(s, reason);
	if (s->bev == NULL)
		return;
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		session_drop_socket(s);
		return;
	}
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setcb(s->bev, NULL, session_flushed_cb, session_event_cb,
	                  s);
	bufferevent_set_timeouts(s->bev, NULL, &t);
}

/*
 * Whether the client lets more than output-cap bytes pile up; such a
 * client is cut (its messages stay stored and come back through sync).
 */
static bool
session_over_cap(struct session *s)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(s->bev));

	if (queued <= (size_t)s->w->srv->cfg->output_cap)
		return false;
	log_info("session %llu: slow consumer, %zu bytes queued",
	         (unsigned long long)s->id, queued);
	session_close(s, "output cap reached");
	return true;
}

/* Queues a pushed frame; pushes count against the cap. */
void
session_send_raw(struct session *s, const char *frame, size_t len)
{
	if (s->closed || s->bev == NULL)
		return;
	bufferevent_write(s->bev, frame, len);
	session_over_cap(s);
}

/*
 * Queues a reply. The cap is checked before, not after: one sync page may
 * be larger than the cap, but a client may not pile up replies unread.
 */
void
session_send(struct session *s, struct json_object *obj)
{
	if (s->closed || s->bev == NULL || session_over_cap(s))
		return;
	codec_write(bufferevent_get_output(s->bev), obj);
}

/* Tells the client why it is being cut off, then closes after the flush. */
static void
session_fail(struct session *s, int code)
{
	struct json_object *ev = codec_error_event(code, NULL);

	session_send(s, ev);
	json_object_put(ev);
	session_close_flush(s, errcode_slug(code));
}

/* Handles complete frames while no request is waiting on the DB pool. */
void
session_resume(struct session *s)
{
	struct evbuffer *in;
	const char *line;
	size_t len;
	int r;

	while (!s->busy && !s->closed && s->bev != NULL && !s->w->stopping) {
		in = bufferevent_get_input(s->bev);
		r = frame_reader_next(s->fr, in, &line, &len);
		if (r == 0)
			return;
		if (r < 0) {
			session_fail(s, -r);
			return;
		}
		handler_dispatch(s, line, len);
	}
}

/* Input from the client. */
static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	session_ref(s);
	session_resume(s);
	session_unref(s);
}

/* EOF, error or idle timeout: the connection ends. */
static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_TIMEOUT) {
		if (s->closed)
			session_drop_socket(s); /* flush timed out */
		else
			session_close(s, "idle timeout");
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		session_close(s, what & BEV_EVENT_EOF ? "eof" : "error");
	}
}

/* Binds to a user; returns the user's session count after. */
unsigned
session_login(struct session *s, int64_t uid, const char *name)
{
	s->uid = uid;
	s->name = xstrdup(name);
	worker_user_add(s->w, s);
	log_info("session %llu: %s (%lld) logged in from %s",
	         (unsigned long long)s->id, name, (long long)uid, s->peer);
	return presence_add(s->w->srv->presence, uid);
}

/* Unbinds; the last session of a user takes it offline for friends. */
void
session_logout(struct session *s)
{
	struct server *srv = s->w->srv;

	if (s->uid == 0)
		return;
	worker_user_remove(s->w, s);
	if (presence_remove(srv->presence, s->uid) == 0 && !s->w->stopping)
		server_notify_offline(srv, s->w->q, s->uid, s->name);
	s->uid = 0;
	free(s->name);
	s->name = NULL;
}
