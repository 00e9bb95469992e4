#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include <json-c/json.h>

#include "codec.h"
#include "config.h"
#include "conn.h"
#include "errcode.h"
#include "frame.h"
#include "guard.h"
#include "handler.h"
#include "log.h"
#include "presence.h"
#include "relay.h"
#include "server.h"
#include "worker.h"
#include "xmalloc.h"

#define SESSION_FLUSH_SECONDS 5
#define SESSION_WRITES_MAX 64 /* pipelined sends of one connection */

static void session_read_cb(struct conn *c, void *arg);
static void session_end_cb(struct conn *c, int why, void *arg);
static void session_flushed_cb(struct conn *c, void *arg);
static void session_login_timeout_cb(evutil_socket_t fd, short what, void *arg);

static const struct conn_cbs session_conn_cbs = {
    session_read_cb, session_end_cb, session_flushed_cb};

/* The frame cap before login: max-frame-login, never above max-frame. */
static size_t
session_login_frame(const struct config *cfg)
{
	long max = cfg->max_frame_login < cfg->max_frame ? cfg->max_frame_login
	                                                 : cfg->max_frame;
	return (size_t)max;
}

/* Seconds of silence before a client is cut: idle-timeout or 2 beats. */
static long
session_idle_seconds(const struct config *cfg)
{
	return cfg->idle_timeout > 0 ? cfg->idle_timeout : 2 * cfg->heartbeat;
}

/* A session for fd on w: buffers, watermark, idle timeout, registered. */
struct session *
session_new(struct worker *w, evutil_socket_t fd, const char *host, int port,
            unsigned flags)
{
	const struct config *cfg = w->srv->cfg;
	struct timeval login = {cfg->login_timeout, 0};
	struct session *s = xcalloc(1, sizeof *s);

	s->refs = 1; /* the connection's */
	s->w = w;
	s->id = (++w->next_id << 8) | (uint64_t)w->idx;
	snprintf(s->addr, sizeof s->addr, "%s", host);
	s->port = (unsigned short)port;
	s->proxied = (flags & SESSION_PROXY) != 0;
	s->counted = !s->proxied; /* the listener counted host */
	s->fr = frame_reader_new(session_login_frame(cfg));
	s->conn =
	    conn_new(w->base, fd, (flags & SESSION_TLS) ? w->srv->tls : NULL,
	             w->spare_bufs, &session_conn_cbs, s);
	conn_set_priority(s->conn, WORKER_PRIO_NEW);
	conn_set_read_max(s->conn, frame_watermark(session_login_frame(cfg)));
	conn_set_idle(s->conn, (int)session_idle_seconds(cfg));
	if (cfg->login_timeout > 0) {
		s->login_timer =
		    evtimer_new(w->base, session_login_timeout_cb, s);
		evtimer_add(s->login_timer, &login);
	}
	conn_set_reading(s->conn, !w->stopping);
	TAILQ_INSERT_TAIL(&w->sessions, s, entry);
	w->nsessions++;
	w->nsockets++;
	log_debug("session %llu: connected from %s:%u",
	          (unsigned long long)s->id, s->addr, s->port);
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
	free(s->held);
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
	if (s->conn == NULL)
		return;
	conn_free(s->conn);
	s->conn = NULL;
	if (s->login_timer != NULL)
		event_free(s->login_timer);
	s->login_timer = NULL;
	if (s->counted)
		guard_conn_close(s->w->srv->guard, s->addr);
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
session_flushed_cb(struct conn *c, void *arg)
{
	(void)c;
	session_drop_socket(arg);
}

/* Closes once queued output is written, within a few seconds. */
void
session_close_flush(struct session *s, const char *reason)
{
	session_detach(s, reason);
	if (s->conn != NULL && conn_flush(s->conn, SESSION_FLUSH_SECONDS))
		session_drop_socket(s);
}

/* Monotonic milliseconds. */
static int64_t
session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Whether the client lets output pile up: past output-cap at once, or past
 * output-soft-cap for longer than output-soft-seconds. Such a client is cut
 * (its messages stay stored and come back through sync).
 */
static bool
session_over_cap(struct session *s)
{
	const struct config *cfg = s->w->srv->cfg;
	size_t queued = conn_output_len(s->conn);
	int64_t now;

	if (queued <= (size_t)cfg->output_soft_cap) {
		s->soft_since_ms = 0;
		return false;
	}
	now = session_now_ms();
	if (s->soft_since_ms == 0)
		s->soft_since_ms = now;
	if (queued <= (size_t)cfg->output_cap &&
	    now - s->soft_since_ms <= cfg->output_soft_seconds * 1000)
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
	if (s->closed || s->conn == NULL)
		return;
	conn_write(s->conn, frame, len);
	session_over_cap(s);
}

/*
 * Queues a reply. The cap is checked before, not after: one sync page may
 * be larger than the cap, but a client may not pile up replies unread.
 */
void
session_send(struct session *s, struct json_object *obj)
{
	size_t len;
	const char *text;

	if (s->closed || s->conn == NULL || session_over_cap(s))
		return;
	text = codec_text(obj, &len);
	conn_write(s->conn, text, len);
	conn_write(s->conn, "\n", 1);
}

/* A reply already written out as a frame; as session_send. */
void
session_send_text(struct session *s, const char *frame, size_t len)
{
	if (s->closed || s->conn == NULL || session_over_cap(s))
		return;
	conn_write(s->conn, frame, len);
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

/*
 * The PROXY protocol v1 header a proxy (nginx's proxy_protocol) sends
 * before the client's bytes: "PROXY TCP4|TCP6 SRC DST SPORT DPORT". From
 * then on the client's real address counts for limits and logs.
 */
static void
session_proxy_header(struct session *s, const char *line)
{
	char proto[8], src[48], dst[48];
	unsigned sport, dport;

	s->proxied = false;
	if (strncmp(line, "PROXY UNKNOWN", 13) == 0) {
		/* The proxy's own health check: its address counts. */
	} else if (sscanf(line, "PROXY %7s %47s %47s %u %u", proto, src, dst,
	                  &sport, &dport) != 5 ||
	           (strcmp(proto, "TCP4") != 0 && strcmp(proto, "TCP6") != 0) ||
	           sport > 65535) {
		session_close(s, "bad PROXY header");
		return;
	} else {
		log_debug("session %llu: proxied for %s:%u",
		          (unsigned long long)s->id, src, sport);
		snprintf(s->addr, sizeof s->addr, "%s", src);
		s->port = (unsigned short)sport;
	}
	if (!guard_conn_open(s->w->srv->guard, s->addr)) {
		guard_refused_log(&s->w->refusals, s->addr);
		session_close(s, "too many clients");
		return;
	}
	s->counted = true;
}

/*
 * Handles complete frames while no request waits on the general DB pool.
 * Sends are pipelined: up to SESSION_WRITES_MAX of them at once, since the
 * writer is FIFO and their replies come back in order anyway.
 */
void
session_resume(struct session *s)
{
	struct evbuffer *in;
	const char *line;
	size_t len;
	int r = 0;

	while (!s->busy && s->writes < SESSION_WRITES_MAX && !s->closed &&
	       s->conn != NULL && !s->w->stopping) {
		in = conn_input(s->conn);
		r = in != NULL ? frame_reader_next(s->fr, in, &line, &len) : 0;
		if (r <= 0)
			break;
		if (s->proxied)
			session_proxy_header(s, line);
		else
			handler_dispatch(s, line, len);
	}
	if (s->conn == NULL || s->closed)
		return;
	if (r < 0) {
		session_fail(s, -r);
		return;
	}
	in = conn_input(s->conn);
	if (in == NULL || evbuffer_get_length(in) == 0)
		frame_reader_trim(s->fr); /* memory of idle clients */
	conn_input_done(s->conn);
}

/* Input from the client. */
static void
session_read_cb(struct conn *c, void *arg)
{
	struct session *s = arg;

	(void)c;
	session_ref(s);
	session_resume(s);
	session_unref(s);
}

/* EOF, error or idle timeout: the connection ends. */
static void
session_end_cb(struct conn *c, int why, void *arg)
{
	struct session *s = arg;

	(void)c;
	if (why == CONN_TIMEOUT) {
		if (s->closed)
			session_drop_socket(s); /* flush timed out */
		else
			session_close(s, "idle timeout");
	} else {
		session_close(s, why == CONN_EOF ? "eof" : "error");
	}
}

/*
 * A connection nobody is logged in on (again, after a logout): the small
 * frame cap and the login deadline apply.
 */
static void
session_restrict(struct session *s)
{
	const struct config *cfg = s->w->srv->cfg;
	struct timeval login = {cfg->login_timeout, 0};
	size_t max = session_login_frame(cfg);

	frame_reader_set_max(s->fr, max);
	if (s->conn != NULL) {
		conn_set_read_max(s->conn, frame_watermark(max));
		conn_set_priority(s->conn, WORKER_PRIO_NEW);
	}
	if (cfg->login_timeout <= 0 || s->conn == NULL)
		return;
	if (s->login_timer == NULL)
		s->login_timer =
		    evtimer_new(s->w->base, session_login_timeout_cb, s);
	evtimer_add(s->login_timer, &login);
}

/* Nobody logged in on this connection in time. */
static void
session_login_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	struct timeval again = {1, 0};

	(void)fd;
	(void)what;
	if (s->uid != 0)
		return;
	if (s->busy) /* a login is being checked: give it a moment */
		evtimer_add(s->login_timer, &again);
	else
		session_close(s, "login timeout");
}

/*
 * Binds to a user; returns the user's session count after. Logged-in
 * clients may send larger frames, and have no login deadline any more.
 */
bool
session_login(struct session *s, int64_t uid, const char *name)
{
	struct server *srv = s->w->srv;
	bool first;
	size_t max = (size_t)s->w->srv->cfg->max_frame;

	if (s->login_timer != NULL) /* made again after a logout */
		event_free(s->login_timer);
	s->login_timer = NULL;
	frame_reader_set_max(s->fr, max);
	if (s->conn != NULL)
		conn_set_read_max(s->conn, frame_watermark(max));
	s->uid = uid;
	s->name = xstrdup(name);
	worker_user_add(s->w, s);
	if (s->conn != NULL)
		conn_set_priority(s->conn, WORKER_PRIO_LIVE);
	log_info("session %llu: %s (%lld) logged in from %s:%u",
	         (unsigned long long)s->id, name, (long long)uid, s->addr,
	         s->port);
	if (presence_add(srv->presence, uid, name, &first) == 1 &&
	    srv->relay != NULL)
		relay_announce(srv->relay, uid, name, 1);
	return first;
}

/* Unbinds; the last session of a user takes it offline for friends. */
void
session_logout(struct session *s)
{
	struct server *srv = s->w->srv;
	bool gone;

	if (s->uid == 0)
		return;
	worker_user_remove(s->w, s);
	if (presence_remove(srv->presence, s->uid, &gone) == 0 &&
	    srv->relay != NULL)
		relay_announce(srv->relay, s->uid, s->name, 0);
	if (gone && !s->w->stopping)
		server_notify_offline(srv, s->w->q, s->uid, s->name);
	s->uid = 0;
	free(s->name);
	s->name = NULL;
	if (!s->closed)
		session_restrict(s);
}
