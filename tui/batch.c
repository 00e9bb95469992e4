/*
 * natter's line mode: commands from stdin, one line per event or reply.
 *
 * Commands are run ONE AT A TIME: the next line is read only when the
 * previous command has its reply (a /msg: its acknowledgement). Lines are
 * the /commands of cmd.h; in --batch mode any other line is an error, in
 * the interactive line mode it is sent to the last /msg target.
 *
 * Output, one line each, flushed at once (scripts parse these):
 *   every command ends with exactly one line "ok <cmd> ..." or
 *   "error <cmd> <code>: <message>", where <cmd> is register, login,
 *   logout, add, remove, friends, msg, group_create, group_join,
 *   group_leave, members, groups, history, sync, sleep, quit, help (or the
 *   word typed, for an unknown command; "-" for a line that is not one):
 *     ok register alice 1               name id
 *     ok login alice 1                  (after the roster and the first
 *                                        sync: offline messages come first)
 *     ok logout
 *     ok add bob(2,online)
 *     ok remove bob
 *     ok friends bob(2,online) carol(3,offline)
 *     ok msg d:1:2 3                    conv seq of the acknowledged send
 *     ok group_create dev 5             name id
 *     ok group_join dev 5
 *     ok group_leave dev
 *     ok members dev alice(creator,online) bob(member,offline)
 *     ok groups dev(creator) ops(member)
 *     history d:1:2 <seq> <ts> alice: text   one per message, then
 *     ok history N
 *     ok sync N                         N new messages delivered
 *     ok sleep | ok quit | ok help (after the help text)
 *     error msg not_found: no friend or group named zed
 *     error - bad_request: not a command
 *   events, whenever they come:
 *     msg d:1:2 3 <ts> alice: hello world      (each message once)
 *     msg g:1 4 <ts> alice: hi all
 *     presence bob online | presence bob offline
 *     friend_added bob
 *     group_joined dev bob | group_left dev bob
 *     error event <code>: <message>
 * <ts> is ms since the epoch. Names and bodies are printed as they are,
 * except control characters, escaped as \n \r \t \e \xHH (C1: \u00HH) so
 * that one event stays one line; backslashes are not escaped.
 *
 * Exit status (--batch): 0 when stdin ended (or /quit) and every message
 * given to /msg was acknowledged; 1 if the connection could not be made
 * or was lost (batch mode does not reconnect) or a /msg was refused by the
 * server (its error line says why). Other commands that fail print their
 * error line and do not change the status.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <json-c/json.h>

#include "batch.h"
#include "client.h"
#include "cmd.h"
#include "codec.h"
#include "errcode.h"
#include "oneline.h"
#include "roster.h"
#include "xmalloc.h"

#define BATCH_IDLE_WAIT_MS 5000 /* at the end, for acks and syncs */
#define BATCH_IDLE_POLL_MS 20

struct batch {
	struct event_base *base;
	struct client *c;
	const struct batch_options *opts;
	struct evbuffer *in;
	struct event *in_ev; /* fd 0 readable */
	bool in_file;        /* fd 0 cannot be polled: read it directly */
	bool in_armed;
	struct event *kick_ev;  /* runs batch_pump from the loop */
	struct event *sleep_ev; /* /sleep */
	struct event *idle_ev;  /* the final wait for acks and syncs */
	bool eof, busy, finishing, connected;
	int idle_ms;
	struct cmd cur; /* the command being run */
	char *target;   /* interactive: where plain text goes */
	int status;
};

static void batch_pump(struct batch *b);

/* One line on stdout, flushed: the unit scripts read. */
static void
batch_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Prints an allocated line and frees it. */
static void
batch_put(char *line)
{
	batch_printf("%s", line);
	free(line);
}

/* "error <cmd> <code>: <message>" for a local failure. */
static void
batch_error(const char *label, int code, const char *message)
{
	char *m = oneline_escape(message, strlen(message));

	batch_printf("error %s %s: %s", label, errcode_slug(-code), m);
	free(m);
}

/* The current command is over: read the next line from the loop. */
static void
batch_done(struct batch *b)
{
	b->busy = false;
	cmd_clear(&b->cur);
	event_active(b->kick_ev, EV_TIMEOUT, 0);
}

/* Appends " item" for each element of reply[key], rendered by fn. */
static void
batch_add_list(struct evbuffer *out, struct json_object *reply, const char *key,
               char *(*fn)(struct json_object *))
{
	struct json_object *arr;
	size_t n;

	if (!json_object_object_get_ex(reply, key, &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		char *s = fn(json_object_array_get_idx(arr, i));

		evbuffer_add_printf(out, " %s", s);
		free(s);
	}
}

/* " <name> <id>" of reply[key] ({id,name}), as register/group_* print. */
static void
batch_add_named(struct evbuffer *out, struct json_object *reply,
                const char *key)
{
	struct json_object *o = NULL, *id = NULL;
	const char *name = "?";
	size_t len;
	char *e;

	codec_get_object(reply, key, &o);
	if (o != NULL) {
		codec_get_string(o, "name", &name, &len);
		json_object_object_get_ex(o, "id", &id);
	}
	e = oneline_escape(name, strlen(name));
	evbuffer_add_printf(out, " %s %lld", e,
	                    (long long)json_object_get_int64(id));
	free(e);
}

/* history: one line per message, then the count. */
static void
batch_add_history(struct evbuffer *out, struct json_object *reply)
{
	struct json_object *arr;
	size_t n = 0;

	if (json_object_object_get_ex(reply, "msgs", &arr) &&
	    json_object_is_type(arr, json_type_array))
		n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++)
		batch_put(
		    oneline_msg("history", json_object_array_get_idx(arr, i)));
	evbuffer_add_printf(out, " %zu", n);
}

/* " <arg>" escaped: the name the user typed, echoed. */
static void
batch_add_arg(struct evbuffer *out, const struct cmd *c)
{
	char *e;

	if (c->arg == NULL)
		return;
	e = oneline_escape(c->arg, strlen(c->arg));
	evbuffer_add_printf(out, " %s", e);
	free(e);
}

/* The "ok ..." line of a successful reply to the current command. */
static char *
batch_ok_line(struct batch *b, struct json_object *reply)
{
	struct evbuffer *out = evbuffer_new();
	struct json_object *f;
	size_t n;
	char *s;

	evbuffer_add_printf(out, "ok %s", b->cur.label);
	switch (b->cur.kind) {
	case CMD_REGISTER:
	case CMD_LOGIN:
		batch_add_named(out, reply, "user");
		break;
	case CMD_GROUP_CREATE:
	case CMD_GROUP_JOIN:
		batch_add_named(out, reply, "group");
		break;
	case CMD_ADD:
		if (codec_get_object(reply, "friend", &f) == 0) {
			s = oneline_friend(f);
			evbuffer_add_printf(out, " %s", s);
			free(s);
		}
		break;
	case CMD_FRIENDS:
		batch_add_list(out, reply, "friends", oneline_friend);
		break;
	case CMD_GROUPS:
		batch_add_list(out, reply, "groups", oneline_group);
		break;
	case CMD_GROUP_MEMBERS:
		batch_add_arg(out, &b->cur);
		batch_add_list(out, reply, "members", oneline_member);
		break;
	case CMD_HISTORY:
		batch_add_history(out, reply);
		break;
	case CMD_REMOVE:
	case CMD_GROUP_LEAVE:
		batch_add_arg(out, &b->cur);
		break;
	default:
		break;
	}
	n = evbuffer_get_length(out);
	s = xmalloc(n + 1);
	evbuffer_remove(out, s, n);
	s[n] = '\0';
	evbuffer_free(out);
	return s;
}

/* The reply to a command run as one request (or a login). */
static void
batch_reply_cb(void *ud, struct json_object *reply)
{
	struct batch *b = ud;
	bool ok = false;

	if (reply == NULL)
		batch_error(b->cur.label, -ERR_UNAVAILABLE, "connection lost");
	else if (codec_get_bool(reply, "ok", &ok) != 0 || !ok)
		batch_put(oneline_error(b->cur.label, reply));
	else
		batch_put(batch_ok_line(b, reply));
	batch_done(b);
}

/* A send's final reply: "ok msg <conv> <seq>" or its error. */
static void
batch_send_line(struct batch *b, struct json_object *reply)
{
	struct json_object *m = NULL;
	const char *conv = "?";
	size_t len;
	int64_t seq = 0;
	bool ok = false;

	if (reply == NULL) {
		batch_error("msg", -ERR_UNAVAILABLE, "connection lost");
		return;
	}
	if (codec_get_bool(reply, "ok", &ok) != 0 || !ok) {
		batch_put(oneline_error("msg", reply));
		b->status = 1; /* a message that will never be delivered */
		return;
	}
	if (codec_get_object(reply, "msg", &m) == 0) {
		codec_get_string(m, "conv", &conv, &len);
		codec_get_id(m, "seq", &seq);
	}
	batch_printf("ok msg %s %lld", conv, (long long)seq);
}

/* Batch mode waits for each send's reply before the next line. */
static void
batch_send_cb(void *ud, struct json_object *reply)
{
	struct batch *b = ud;

	batch_send_line(b, reply);
	if (!b->opts->interactive)
		batch_done(b);
}

/* /sync is over. */
static void
batch_sync_cb(void *ud, int n)
{
	struct batch *b = ud;

	if (n < 0)
		batch_error("sync", n, "connection lost");
	else
		batch_printf("ok sync %d", n);
	batch_done(b);
}

/* /msg NAME TEXT (and plain text in interactive mode). */
static void
batch_cmd_msg(struct batch *b, const char *name, const char *text)
{
	int64_t user, group;
	char *m;
	int r;

	if (client_self_id(b->c) == 0) {
		batch_error("msg", -ERR_NOT_AUTHENTICATED, "log in first");
		return;
	}
	if (roster_resolve(client_roster(b->c), name, &user, &group) < 0) {
		m = xasprintf("no friend or group named %s", name);
		batch_error("msg", -ERR_NOT_FOUND, m);
		free(m);
		return;
	}
	if ((r = client_send(b->c, user, group, text, batch_send_cb, b)) < 0) {
		batch_error("msg", r, errcode_message(-r));
		return;
	}
	if (b->opts->interactive && name != b->target) {
		free(b->target);
		b->target = xstrdup(name);
	} else if (!b->opts->interactive)
		b->busy = true;
}

/* Commands that are one protocol request. */
static void
batch_cmd_request(struct batch *b)
{
	struct json_object *req;
	char *err;
	int r;

	r = cmd_request(&b->cur, client_roster(b->c), client_self_id(b->c),
	                &req, &err);
	if (r < 0) {
		batch_error(b->cur.label, r, err);
		free(err);
		return;
	}
	if ((r = client_request(b->c, req, batch_reply_cb, b)) < 0) {
		batch_error(b->cur.label, r, "not connected");
		return;
	}
	b->busy = true;
}

/* /login NAME PASSWORD, or /login PASSWORD with --user. */
static void
batch_cmd_login(struct batch *b)
{
	const char *name = b->cur.arg, *password = b->cur.rest;
	int r;

	if (password == NULL && b->opts->user != NULL) {
		name = b->opts->user;
		password = b->cur.arg;
	}
	if (password == NULL) {
		batch_error("login", -ERR_BAD_REQUEST,
		            "usage: /login NAME PASSWORD");
		return;
	}
	r = client_login(b->c, name, password, batch_reply_cb, b);
	if (r < 0) {
		batch_error("login", r,
		            r == -ERR_UNAVAILABLE
		                ? "not connected"
		                : "a login is already running");
		return;
	}
	b->busy = true;
}

/* /sleep is over. */
static void
batch_sleep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;

	(void)fd;
	(void)what;
	batch_printf("ok sleep");
	batch_done(b);
}

/* /sleep SECONDS: events keep printing meanwhile. */
static void
batch_cmd_sleep(struct batch *b)
{
	struct timeval tv;

	tv.tv_sec = (time_t)b->cur.seconds;
	tv.tv_usec = (suseconds_t)((b->cur.seconds - (double)tv.tv_sec) * 1e6);
	event_add(b->sleep_ev, &tv);
	b->busy = true;
}

/* Commands handled right here or by the client core. */
static void
batch_cmd_local(struct batch *b)
{
	int r;

	switch (b->cur.kind) {
	case CMD_LOGOUT:
		if ((r = client_logout(b->c, batch_reply_cb, b)) < 0)
			batch_error("logout", r, "not connected");
		else
			b->busy = true;
		break;
	case CMD_SYNC:
		if ((r = client_sync(b->c, batch_sync_cb, b)) < 0)
			batch_error("sync", r, "not logged in");
		else
			b->busy = true;
		break;
	case CMD_SLEEP:
		batch_cmd_sleep(b);
		break;
	case CMD_QUIT:
		batch_printf("ok quit");
		b->eof = true;
		break;
	case CMD_HELP:
		fputs(cmd_help(), stdout);
		batch_printf("ok help");
		break;
	default:
		break;
	}
}

/* Plain text: an error in batch mode, a message to the current chat else. */
static void
batch_cmd_text(struct batch *b)
{
	if (!b->opts->interactive)
		batch_error("-", -ERR_BAD_REQUEST, "not a command");
	else if (b->target == NULL)
		batch_error("-", -ERR_BAD_REQUEST,
		            "no current chat: use /msg NAME TEXT first");
	else
		batch_cmd_msg(b, b->target, b->cur.rest);
}

/* One input line. */
static void
batch_line(struct batch *b, const char *line)
{
	const char *err;
	char *m;
	int r;

	if ((r = cmd_parse(line, &b->cur, &err)) < 0) {
		m = r == -ERR_BAD_REQUEST ? xasprintf("usage: %s", err)
		                          : xstrdup(err);
		batch_error(b->cur.label, r, m);
		free(m);
		return;
	}
	switch (b->cur.kind) {
	case CMD_EMPTY:
		break;
	case CMD_TEXT:
		batch_cmd_text(b);
		break;
	case CMD_LOGIN:
		batch_cmd_login(b);
		break;
	case CMD_MSG:
		batch_cmd_msg(b, b->cur.arg, b->cur.rest);
		break;
	case CMD_LOGOUT:
	case CMD_SYNC:
	case CMD_SLEEP:
	case CMD_QUIT:
	case CMD_HELP:
		batch_cmd_local(b);
		break;
	default:
		batch_cmd_request(b);
		break;
	}
	if (!b->busy)
		cmd_clear(&b->cur);
}

/* Reads what stdin has into b->in; end of file or an error ends input. */
static void
batch_read_once(struct batch *b)
{
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n > 0)
		evbuffer_add(b->in, buf, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		b->eof = true;
}

/* stdin is readable. */
static void
batch_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;

	(void)fd;
	(void)what;
	batch_read_once(b);
	batch_pump(b);
}

/* Watches stdin only while we want a line, so input waits its turn. */
static void
batch_want_input(struct batch *b, bool want)
{
	if (b->in_file || want == b->in_armed)
		return;
	if (want)
		event_add(b->in_ev, NULL);
	else
		event_del(b->in_ev);
	b->in_armed = want;
}

/* The next complete line (or the last one without newline at EOF). */
static char *
batch_next_line(struct batch *b)
{
	size_t len;
	char *line = evbuffer_readln(b->in, &len, EVBUFFER_EOL_LF);

	if (line == NULL && b->eof && (len = evbuffer_get_length(b->in)) > 0) {
		line = xmalloc(len + 1);
		evbuffer_remove(b->in, line, len);
		line[len] = '\0';
	}
	if (line != NULL && (len = strlen(line)) > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	return line;
}

/* Waits (bounded) for the core to settle, then leaves the loop. */
static void
batch_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;
	struct timeval tv = {0, BATCH_IDLE_POLL_MS * 1000};

	(void)fd;
	(void)what;
	b->idle_ms += BATCH_IDLE_POLL_MS;
	if (client_busy(b->c) && client_state(b->c) != CLIENT_DISCONNECTED &&
	    b->idle_ms < BATCH_IDLE_WAIT_MS) {
		event_add(b->idle_ev, &tv);
		return;
	}
	if (client_outbox_count(b->c) > 0)
		b->status = 1;
	event_base_loopexit(b->base, NULL);
}

/* Input is over and the last command done. */
static void
batch_finish(struct batch *b)
{
	if (b->finishing)
		return;
	b->finishing = true;
	batch_want_input(b, false);
	event_active(b->idle_ev, EV_TIMEOUT, 0);
}

/* Runs lines while no command is waiting; asks for input when out. */
static void
batch_pump(struct batch *b)
{
	char *line;

	while (!b->busy && !b->finishing) {
		if ((line = batch_next_line(b)) != NULL) {
			batch_line(b, line);
			free(line);
			continue;
		}
		if (b->eof) {
			batch_finish(b);
			return;
		}
		if (!b->in_file) {
			batch_want_input(b, true);
			return;
		}
		batch_read_once(b);
	}
	batch_want_input(b, false);
}

/* Deferred pump: after a reply, outside the client's callback. */
static void
batch_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	batch_pump(arg);
}

/* Begins reading stdin (batch mode: once connected). */
static void
batch_input_start(struct batch *b)
{
	b->in_ev = event_new(b->base, STDIN_FILENO, EV_READ | EV_PERSIST,
	                     batch_read_cb, b);
	/* epoll refuses regular files and /dev/null; those never block. */
	if (event_add(b->in_ev, NULL) < 0)
		b->in_file = true;
	else
		b->in_armed = true;
	event_active(b->kick_ev, EV_TIMEOUT, 0);
}

/* Events from the core, one line each. */
static void
batch_on_event(void *ud, const char *type, struct json_object *ev)
{
	(void)ud;
	if (strcmp(type, "msg") == 0)
		batch_put(oneline_msg("msg", ev));
	else
		batch_put(oneline_event(type, ev));
}

/* Interactive mode narrates; batch mode starts on connect, dies on loss. */
static void
batch_on_state(void *ud, enum client_state st, const char *why)
{
	struct batch *b = ud;

	if (b->opts->interactive && (st != CLIENT_CONNECTING || why != NULL))
		printf("* %s%s%s\n", client_state_name(st), why ? ": " : "",
		       why ? why : "");
	fflush(stdout);
	if (st == CLIENT_CONNECTED && !b->connected && !b->opts->interactive)
		batch_input_start(b);
	if (st == CLIENT_CONNECTED)
		b->connected = true;
	if (st != CLIENT_DISCONNECTED || b->opts->interactive)
		return;
	fprintf(stderr, "natter: %s %s:%s: %s\n",
	        b->connected ? "connection lost to" : "cannot connect to",
	        b->opts->host, b->opts->port, why ? why : "?");
	b->status = 1;
	event_base_loopexit(b->base, NULL);
}

/* --tls: set up the client's TLS; a CA file it cannot load is an error. */
static int
batch_tls(struct batch *b)
{
	char *err = NULL;
	int r;

	if (!b->opts->tls)
		return 0;
	if ((r = client_tls_enable(b->c, b->opts->ca, &err)) < 0) {
		fprintf(stderr, "natter: %s\n", err);
		free(err);
	}
	return r;
}

/* Sets up the client and stdin, runs the loop, returns the exit status. */
int
batch_run(struct event_base *base, const struct batch_options *opts)
{
	struct client_callbacks cbs = {batch_on_event, batch_on_state, NULL};
	struct batch b;

	memset(&b, 0, sizeof(b));
	b.base = base;
	b.opts = opts;
	b.in = evbuffer_new();
	b.kick_ev = event_new(base, -1, 0, batch_kick_cb, &b);
	b.sleep_ev = event_new(base, -1, 0, batch_sleep_cb, &b);
	b.idle_ev = event_new(base, -1, 0, batch_idle_cb, &b);
	cbs.ud = &b;
	b.c = client_new(base, opts->host, opts->port, &cbs);
	client_set_reconnect(b.c, opts->interactive);
	if (opts->interactive) {
		printf("* natter %s line mode (natter on a terminal without "
		       "--line is full screen); /help lists commands\n",
		       NATTER_VERSION);
		batch_input_start(&b);
	}
	if (batch_tls(&b) < 0)
		b.status = 1;
	else if (client_connect(b.c) < 0) {
		fprintf(stderr, "natter: cannot resolve %s\n", opts->host);
		b.status = 1;
	} else
		event_base_dispatch(base);
	client_free(b.c);
	cmd_clear(&b.cur);
	free(b.target);
	if (b.in_ev != NULL)
		event_free(b.in_ev);
	event_free(b.kick_ev);
	event_free(b.sleep_ev);
	event_free(b.idle_ev);
	evbuffer_free(b.in);
	return b.status;
}
