/* The client core: connection, requests by "req", events, login. */
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "backoff.h"
#include "client-internal.h"
#include "codec.h"
#include "dedupe.h"
#include "errcode.h"
#include "frame.h"
#include "log.h"
#include "outbox.h"
#include "roster.h"
#include "xmalloc.h"

#define CLIENT_RETRY_BASE_MS 1000
#define CLIENT_RETRY_MAX_MS 60000

static void client_connect_start(struct client *c);
static void client_connected(struct client *c);
static void client_drop(struct client *c, const char *why);
static void client_retry_cb(evutil_socket_t fd, short what, void *arg);
static void client_login_start(struct client *c, const char *name,
                               const char *password, client_reply_cb cb,
                               void *ud);

/* Frees a string after wiping it: passwords must not linger in freed heap. */
static void
client_free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Tells the UI about a state change. */
static void
client_set_state(struct client *c, enum client_state st, const char *why)
{
	c->state = st;
	if (c->cbs.on_state != NULL)
		c->cbs.on_state(c->cbs.ud, st, why);
}

/* Hands an event to the UI. */
void
client_emit_event(struct client *c, const char *type, struct json_object *ev)
{
	if (c->cbs.on_event != NULL)
		c->cbs.on_event(c->cbs.ud, type, ev);
}

/* A timer firing fn(c) on the client's loop (not yet armed). */
static struct event *
client_timer(struct client *c, void (*fn)(evutil_socket_t, short, void *),
             bool persist)
{
	return event_new(c->base, -1, persist ? EV_PERSIST : 0, fn, c);
}

/* A client with nothing connected yet. */
struct client *
client_new(struct event_base *base, const char *host, const char *port,
           const struct client_callbacks *cbs)
{
	struct client *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->host = xstrdup(host);
	c->port = xstrdup(port);
	if (cbs != NULL)
		c->cbs = *cbs;
	c->reconnect = true;
	c->heartbeat = CLIENT_HEARTBEAT_DEFAULT;
	c->next_req = 1;
	c->fr = frame_reader_new(CLIENT_MAX_FRAME);
	c->roster = roster_new();
	c->dedupe = dedupe_new();
	c->outbox = outbox_new();
	return c;
}

/* Frees a pending entry and its kept request. */
static void
client_pending_free(struct client_pending *p)
{
	json_object_put(p->req_obj);
	free(p);
}

/* Frees the pending list without calling anyone. */
static void
client_pending_free_all(struct client *c)
{
	struct client_pending *p, *next;

	for (p = c->pending; p != NULL; p = next) {
		next = p->next;
		client_pending_free(p);
	}
	c->pending = c->pending_tail = NULL;
}

/* Frees everything; callbacks are not called (see client.h). */
void
client_free(struct client *c)
{
	struct client_sync_waiter *w, *next;

	if (c == NULL)
		return;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	client_pending_free_all(c);
	for (w = c->sync_waiters; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	if (c->retry_ev != NULL)
		event_free(c->retry_ev);
	if (c->ping_ev != NULL)
		event_free(c->ping_ev);
	if (c->send_ev != NULL)
		event_free(c->send_ev);
	json_object_put(c->login_reply);
	client_free_secret(c->password);
	client_free_secret(c->login_password);
	free(c->name);
	free(c->login_name);
	free(c->self_name);
	free(c->host);
	free(c->port);
	client_tls_free(c);
	frame_reader_free(c->fr);
	roster_free(c->roster);
	dedupe_free(c->dedupe);
	outbox_free(c->outbox);
	free(c);
}

/* On or off; takes effect at the next drop. */
void
client_set_reconnect(struct client *c, bool on)
{
	c->reconnect = on;
}

/* Current state. */
enum client_state
client_state(const struct client *c)
{
	return c->state;
}

/* For messages and logs. */
const char *
client_state_name(enum client_state st)
{
	switch (st) {
	case CLIENT_DISCONNECTED:
		return "disconnected";
	case CLIENT_CONNECTING:
		return "connecting";
	case CLIENT_CONNECTED:
		return "connected";
	case CLIENT_LOGGING_IN:
		return "logging_in";
	case CLIENT_LOGGED_IN:
		return "logged_in";
	}
	return "?";
}

/* Accessors. */
const struct roster *
client_roster(const struct client *c)
{
	return c->roster;
}

/* The logged-in user's id, 0 if none. */
int64_t
client_self_id(const struct client *c)
{
	return c->authed || c->name != NULL ? c->self_id : 0;
}

/* The logged-in user's name, NULL if none. */
const char *
client_self_name(const struct client *c)
{
	return c->authed || c->name != NULL ? c->self_name : NULL;
}

/* Unacknowledged sends. */
unsigned
client_outbox_count(const struct client *c)
{
	return (unsigned)outbox_count(c->outbox);
}

/* Anything still in flight or queued. */
bool
client_busy(const struct client *c)
{
	return c->pending != NULL || outbox_count(c->outbox) > 0 ||
	       c->sync_inflight || c->login_running;
}

/* Assigns "req", writes the frame and remembers who wants the reply. */
int
client_request(struct client *c, struct json_object *req, client_reply_cb cb,
               void *ud)
{
	struct client_pending *p;

	if (c->bev == NULL || !c->tcp_up) {
		json_object_put(req);
		return -ERR_UNAVAILABLE;
	}
	p = xcalloc(1, sizeof(*p));
	p->req = c->next_req++;
	p->req_obj = req;
	p->cb = cb;
	p->ud = ud;
	json_object_object_add(req, "req", json_object_new_int64(p->req));
	codec_write(bufferevent_get_output(c->bev), req);
	if (c->pending_tail != NULL)
		c->pending_tail->next = p;
	else
		c->pending = p;
	c->pending_tail = p;
	return 0;
}

/* Takes the pending entry for req out of the list, or NULL. */
static struct client_pending *
client_pending_take(struct client *c, uint32_t req)
{
	struct client_pending **pp, *prev = NULL;

	for (pp = &c->pending; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		struct client_pending *p = *pp;

		if (p->req != req)
			continue;
		*pp = p->next;
		if (c->pending_tail == p)
			c->pending_tail = prev;
		return p;
	}
	return NULL;
}

/* Requests made with this ud will complete silently. */
void
client_forget_ud(struct client *c, void *ud)
{
	for (struct client_pending *p = c->pending; p != NULL; p = p->next)
		if (p->ud == ud)
			p->cb = NULL;
}

/* The id in a request's integer field, 0 if absent. */
static int64_t
client_req_id(struct json_object *req, const char *key)
{
	int64_t id = 0;

	codec_get_id(req, key, &id);
	return id;
}

/* A sub-object of o or NULL. */
static struct json_object *
client_obj(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (codec_get_object(o, key, &v) != 0)
		return NULL;
	return v;
}

/* Keeps the roster in step with successful replies, whoever asked. */
static void
client_roster_apply(struct client *c, struct json_object *req,
                    struct json_object *reply)
{
	const char *type;
	size_t len;
	bool ok = false;
	struct json_object *arr;

	if (codec_get_bool(reply, "ok", &ok) != 0 || !ok ||
	    codec_get_string(req, "type", &type, &len) != 0)
		return;
	if (strcmp(type, "friends") == 0 &&
	    json_object_object_get_ex(reply, "friends", &arr))
		roster_friends_json(c->roster, arr);
	else if (strcmp(type, "friend_add") == 0)
		roster_friend_json(c->roster, client_obj(reply, "friend"));
	else if (strcmp(type, "friend_remove") == 0)
		roster_friend_remove(c->roster, client_req_id(req, "user"));
	else if (strcmp(type, "groups") == 0 &&
	         json_object_object_get_ex(reply, "groups", &arr))
		roster_groups_json(c->roster, arr);
	else if (strcmp(type, "group_create") == 0)
		roster_group_json(c->roster, client_obj(reply, "group"),
		                  "creator");
	else if (strcmp(type, "group_join") == 0)
		roster_group_json(c->roster, client_obj(reply, "group"), NULL);
	else if (strcmp(type, "group_leave") == 0)
		roster_group_remove(c->roster, client_req_id(req, "group"));
}

/* A reply: find its request, update the roster, call back. */
static void
client_reply(struct client *c, uint32_t req, struct json_object *reply)
{
	struct client_pending *p = client_pending_take(c, req);

	if (p == NULL) {
		log_warn("client: reply to unknown req %u", req);
		return;
	}
	client_roster_apply(c, p->req_obj, reply);
	if (p->cb != NULL)
		p->cb(p->ud, reply);
	client_pending_free(p);
}

/* presence: a friend's online flag (adds the friend if unknown). */
static void
client_event_presence(struct client *c, struct json_object *ev)
{
	struct json_object *u = client_obj(ev, "user");
	const char *name;
	size_t len;
	int64_t id;
	bool online = false;

	if (u == NULL || codec_get_id(u, "id", &id) != 0 ||
	    codec_get_string(u, "name", &name, &len) != 0)
		return;
	codec_get_bool(ev, "online", &online);
	roster_friend_set(c->roster, id, name, online);
}

/* group_joined/group_left: our own membership changes the roster. */
static void
client_event_group(struct client *c, bool joined, struct json_object *ev)
{
	struct json_object *g = client_obj(ev, "group");
	struct json_object *u = client_obj(ev, "user");
	const struct roster_group *rg;
	int64_t gid, uid;

	if (g == NULL || codec_get_id(g, "id", &gid) != 0)
		return;
	rg = roster_group_by_id(c->roster, gid);
	if (!json_object_object_get_ex(g, "name", NULL) && rg != NULL)
		codec_set_string(g, "name", rg->name);
	if (u == NULL || codec_get_id(u, "id", &uid) != 0 || uid != c->self_id)
		return;
	if (joined)
		roster_group_json(c->roster, g, NULL);
	else
		roster_group_remove(c->roster, gid);
}

/* An unsolicited frame. */
static void
client_event(struct client *c, const char *type, struct json_object *ev)
{
	if (strcmp(type, "ping") == 0)
		return;
	if (strcmp(type, "msg") == 0) {
		client_sync_push(c, ev);
		return;
	}
	if (strcmp(type, "resync") == 0) { /* pushes were lost: fetch them */
		client_sync_start(c);
		return;
	}
	if (strcmp(type, "presence") == 0)
		client_event_presence(c, ev);
	else if (strcmp(type, "friend_added") == 0)
		roster_friend_json(c->roster, client_obj(ev, "friend"));
	else if (strcmp(type, "group_joined") == 0)
		client_event_group(c, true, ev);
	else if (strcmp(type, "group_left") == 0)
		client_event_group(c, false, ev);
	client_emit_event(c, type, ev);
}

/* One frame from the server: a reply (has "req" and "ok") or an event. */
static void
client_dispatch(struct client *c, const char *line, size_t len)
{
	struct json_object *o;
	const char *type;
	size_t tlen;
	uint64_t req;

	if (codec_parse(line, len, CODEC_MAX_DEPTH, &o) < 0) {
		log_warn("client: bad frame from server skipped");
		return;
	}
	if (codec_get_string(o, "type", &type, &tlen) != 0)
		type = "";
	if (json_object_object_get_ex(o, "ok", NULL) &&
	    codec_get_uint(o, "req", UINT32_MAX, &req) == 0)
		client_reply(c, (uint32_t)req, o);
	else
		client_event(c, type, o);
	json_object_put(o);
}

/* Every complete frame; stop at a partial one or if the connection went. */
static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	const char *line;
	size_t len;
	int r;

	while ((r = frame_reader_next(c->fr, bufferevent_get_input(bev), &line,
	                              &len)) == 1) {
		client_dispatch(c, line, len);
		if (c->bev != bev)
			return;
	}
	if (r < 0)
		client_drop(c, "frame too large from server");
}

/* Arms the reconnect timer with backoff. */
static void
client_schedule_retry(struct client *c)
{
	unsigned ms = backoff_delay_ms(c->retry_attempt++, CLIENT_RETRY_BASE_MS,
	                               CLIENT_RETRY_MAX_MS);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (c->retry_ev == NULL)
		c->retry_ev = client_timer(c, client_retry_cb, false);
	log_info("client: reconnecting in %u ms", ms);
	evtimer_add(c->retry_ev, &tv);
}

/* Answers the pending requests with NULL: the connection is gone. */
static void
client_fail_pending(struct client *c)
{
	struct client_pending *p = c->pending, *next;

	c->pending = c->pending_tail = NULL;
	for (; p != NULL; p = next) {
		next = p->next;
		if (p->cb != NULL)
			p->cb(p->ud, NULL);
		client_pending_free(p);
	}
}

/* Ends a running login; its caller (if any) gets NULL. */
static void
client_login_abort(struct client *c)
{
	client_reply_cb cb = c->login_cb;
	void *ud = c->login_ud;

	if (!c->login_running)
		return;
	c->login_running = false;
	c->login_cb = NULL;
	json_object_put(c->login_reply);
	c->login_reply = NULL;
	if (cb != NULL)
		cb(ud, NULL);
}

/*
 * The connection is gone: free it, answer what waited on it, tell the UI,
 * and try again later (or the next address at once, if connecting failed).
 */
static void
client_drop(struct client *c, const char *why)
{
	bool was_connecting = !c->tcp_up;

	if (c->bev == NULL)
		return;
	bufferevent_free(c->bev);
	c->bev = NULL;
	c->tcp_up = false;
	c->authed = false;
	if (c->ping_ev != NULL)
		event_del(c->ping_ev);
	outbox_requeue(c->outbox);
	client_set_state(c, CLIENT_DISCONNECTED, why);
	client_login_abort(c);
	client_sync_abort(c);
	client_fail_pending(c);
	if (c->bev != NULL || !c->reconnect)
		return;
	if (was_connecting && c->addr_i + 1 < c->naddrs) {
		c->addr_i++;
		client_connect_start(c);
		return;
	}
	c->addr_i = 0;
	client_schedule_retry(c);
}

/* Connection-level events: connected, closed, failed, timed out. */
static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;
	char why[320];

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		client_connected(c);
		return;
	}
	if ((what & BEV_EVENT_ERROR) && client_tls_error(c, why, sizeof(why)))
		client_drop(c, why);
	else if (what & BEV_EVENT_TIMEOUT)
		client_drop(c, "server timed out");
	else if (what & BEV_EVENT_EOF)
		client_drop(c, "server closed the connection");
	else
		client_drop(
		    c, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Our heartbeat: a ping every heartbeat/2 keeps idle-closing proxies away. */
static void
client_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	struct json_object *o = json_object_new_object();

	(void)fd;
	(void)what;
	codec_set_string(o, "type", "ping");
	client_request(c, o, NULL, NULL);
}

/* Starts pinging and arms the read timeout for this heartbeat. */
static void
client_heartbeat_start(struct client *c)
{
	unsigned half = c->heartbeat / 2 ? c->heartbeat / 2 : 1;
	struct timeval ping = {half, 0};
	struct timeval idle = {2 * c->heartbeat + 5, 0};

	if (c->ping_ev == NULL)
		c->ping_ev = client_timer(c, client_ping_cb, true);
	event_add(c->ping_ev, &ping);
	bufferevent_set_timeouts(c->bev, &idle, NULL);
}

/* hello's reply: heartbeat, then log in again if we were logged in. */
static void
client_hello_reply(void *ud, struct json_object *reply)
{
	struct client *c = ud;
	uint64_t hb;

	if (reply == NULL)
		return;
	if (codec_get_uint(reply, "heartbeat", 3600, &hb) == 0 && hb > 0)
		c->heartbeat = (unsigned)hb;
	client_heartbeat_start(c);
	client_set_state(c, CLIENT_CONNECTED, NULL);
	if (c->name != NULL && !c->login_running)
		client_login_start(c, c->name, c->password, NULL, NULL);
}

/* TCP (and TLS, if on) is up: no Nagle (small frames), cap reads, say hello. */
static void
client_connected(struct client *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	int one = 1;
	struct json_object *hello = json_object_new_object();

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_setwatermark(c->bev, EV_READ, 0,
	                         frame_watermark(CLIENT_MAX_FRAME));
	c->tcp_up = true;
	c->addr_i = 0;
	codec_set_string(hello, "type", "hello");
	codec_set_int(hello, "proto", 1);
	codec_set_string(hello, "client", "natter/" NATTER_VERSION);
	client_request(c, hello, client_hello_reply, c);
	client_heartbeat_start(c);
}

/* Opens a socket (TLS or not) to the current address. */
static void
client_connect_start(struct client *c)
{
	struct sockaddr *sa = (struct sockaddr *)&c->addrs[c->addr_i];

	if (c->tls_ctx != NULL)
		c->bev = client_tls_bufferevent(c);
	else
		c->bev =
		    bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, client_read_cb, NULL, client_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	client_set_state(c, CLIENT_CONNECTING, NULL);
	if (bufferevent_socket_connect(c->bev, sa,
	                               (int)c->addrlens[c->addr_i]) < 0)
		client_drop(c, "cannot connect");
}

/* The reconnect timer. */
static void
client_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	if (c->bev == NULL)
		client_connect_start(c);
}

/* Time left on the reconnect timer. */
long
client_reconnect_in_ms(const struct client *c)
{
	struct timeval when, now;
	long ms;

	if (c->bev != NULL || c->retry_ev == NULL ||
	    !event_pending(c->retry_ev, EV_TIMEOUT, &when))
		return -1;
	evutil_gettimeofday(&now, NULL);
	ms = (long)(when.tv_sec - now.tv_sec) * 1000 +
	     (long)(when.tv_usec - now.tv_usec) / 1000;
	return ms < 0 ? 0 : ms;
}

/* The user's /reconnect: no waiting for the back-off. */
void
client_reconnect_now(struct client *c)
{
	bool was = c->reconnect;

	if (c->naddrs == 0)
		return;
	if (c->bev != NULL) {
		c->reconnect = false; /* drop without scheduling a retry */
		client_drop(c, "reconnecting at the user's request");
		c->reconnect = was;
	}
	if (c->retry_ev != NULL)
		event_del(c->retry_ev);
	c->retry_attempt = 0;
	if (c->bev == NULL)
		client_connect_start(c);
}

/* Resolves host:port into up to CLIENT_MAX_ADDRS addresses. */
static int
client_resolve(struct client *c)
{
	struct addrinfo hints, *res, *ai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(c->host, c->port, &hints, &res) != 0)
		return -ERR_NOT_FOUND;
	c->naddrs = 0;
	for (ai = res; ai != NULL && c->naddrs < CLIENT_MAX_ADDRS;
	     ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(c->addrs[0]))
			continue;
		memcpy(&c->addrs[c->naddrs], ai->ai_addr, ai->ai_addrlen);
		c->addrlens[c->naddrs++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return c->naddrs > 0 ? 0 : -ERR_NOT_FOUND;
}

/* Resolves once, then connects. */
int
client_connect(struct client *c)
{
	int r;

	if (c->naddrs == 0 && (r = client_resolve(c)) < 0)
		return r;
	if (c->bev == NULL)
		client_connect_start(c);
	return 0;
}

/* The end of a login: roster loaded and first sync done. */
static void
client_login_step(struct client *c)
{
	client_reply_cb cb;
	struct json_object *reply;
	void *ud;

	if (!c->login_running || --c->login_wait > 0)
		return;
	c->login_running = false;
	cb = c->login_cb;
	ud = c->login_ud;
	reply = c->login_reply;
	c->login_cb = NULL;
	c->login_reply = NULL;
	c->retry_attempt = 0;
	client_set_state(c, CLIENT_LOGGED_IN, NULL);
	if (cb != NULL)
		cb(ud, reply);
	json_object_put(reply);
}

/* friends/groups replies during login (the roster applies itself). */
static void
client_login_roster_reply(void *ud, struct json_object *reply)
{
	(void)reply;
	client_login_step(ud);
}

/* The first sync round after login is over. */
static void
client_login_synced(void *ud, int n)
{
	(void)n;
	client_login_step(ud);
}

/* A request {"type":type} with no fields. */
static struct json_object *
client_simple_req(const char *type)
{
	struct json_object *o = json_object_new_object();

	codec_set_string(o, "type", type);
	return o;
}

/* Login accepted: remember who we are, fetch the roster, sync, resend. */
static void
client_login_ok(struct client *c, struct json_object *reply)
{
	struct json_object *u = client_obj(reply, "user");
	struct client_sync_waiter *w = xcalloc(1, sizeof(*w));
	const char *name = c->login_name;
	size_t len;
	int64_t id = 0;

	if (u != NULL)
		codec_get_id(u, "id", &id);
	if (u != NULL && codec_get_string(u, "name", &name, &len) != 0)
		name = c->login_name;
	if (id != c->self_id) {
		/* Another user: nothing of the previous one applies. */
		roster_clear(c->roster);
		dedupe_clear(c->dedupe);
	}
	c->self_id = id;
	free(c->self_name);
	c->self_name = xstrdup(name);
	free(c->name);
	client_free_secret(c->password);
	c->name = c->login_name;
	c->password = c->login_password;
	c->login_name = c->login_password = NULL;
	c->authed = true;
	c->login_reply = json_object_get(reply);
	c->login_wait = 3;
	client_request(c, client_simple_req("friends"),
	               client_login_roster_reply, c);
	client_request(c, client_simple_req("groups"),
	               client_login_roster_reply, c);
	w->cb = client_login_synced;
	w->ud = c;
	w->next = c->sync_waiters;
	c->sync_waiters = w;
	client_sync_start(c);
	client_send_flush(c);
}

/* The login reply: go on with the roster and sync, or report the error. */
static void
client_login_reply(void *ud, struct json_object *reply)
{
	struct client *c = ud;
	client_reply_cb cb = c->login_cb;
	bool ok = false;

	if (reply == NULL)
		return; /* client_drop already aborted the login */
	codec_get_bool(reply, "ok", &ok);
	if (ok) {
		client_login_ok(c, reply);
		return;
	}
	c->login_running = false;
	c->login_cb = NULL;
	if (cb == NULL) {
		/* Our automatic re-login failed: forget the credentials. */
		client_emit_event(c, "error", reply);
		client_free_secret(c->password);
		free(c->name);
		c->name = c->password = NULL;
		client_send_fail_all(c, ERR_NOT_AUTHENTICATED,
		                     "login again failed");
	}
	client_free_secret(c->login_password);
	free(c->login_name);
	c->login_name = c->login_password = NULL;
	client_set_state(c, CLIENT_CONNECTED, NULL);
	if (cb != NULL)
		cb(c->login_ud, reply);
}

/* Sends login; the credentials are kept only if it succeeds. */
static void
client_login_start(struct client *c, const char *name, const char *password,
                   client_reply_cb cb, void *ud)
{
	struct json_object *o = client_simple_req("login");

	if (c->login_name != name) {
		free(c->login_name);
		client_free_secret(c->login_password);
		c->login_name = xstrdup(name);
		c->login_password = xstrdup(password);
	}
	codec_set_string(o, "name", name);
	codec_set_string(o, "password", password);
	c->login_running = true;
	c->login_cb = cb;
	c->login_ud = ud;
	client_set_state(c, CLIENT_LOGGING_IN, NULL);
	client_request(c, o, client_login_reply, c);
}

/* A user's login. */
int
client_login(struct client *c, const char *name, const char *password,
             client_reply_cb cb, void *ud)
{
	if (c->bev == NULL || !c->tcp_up)
		return -ERR_UNAVAILABLE;
	if (c->login_running)
		return -ERR_BAD_REQUEST;
	if (c->name != NULL && strcmp(c->name, name) != 0)
		client_send_fail_all(c, ERR_NOT_AUTHENTICATED,
		                     "another user logged in");
	client_login_start(c, name, password, cb, ud);
	return 0;
}

/* Logs out and forgets everything about the user. */
int
client_logout(struct client *c, client_reply_cb cb, void *ud)
{
	int r;

	if (c->login_running)
		return -ERR_BAD_REQUEST;
	r = client_request(c, client_simple_req("logout"), cb, ud);
	client_free_secret(c->password);
	free(c->name);
	c->name = c->password = NULL;
	free(c->self_name);
	c->self_name = NULL;
	c->self_id = 0;
	c->authed = false;
	roster_clear(c->roster);
	dedupe_clear(c->dedupe);
	client_send_fail_all(c, ERR_NOT_AUTHENTICATED, "logged out");
	if (c->state > CLIENT_CONNECTED)
		client_set_state(c, CLIENT_CONNECTED, NULL);
	return r;
}
