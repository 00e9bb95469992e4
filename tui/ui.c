/*
 * The full-screen client's loop and glue: terminal set-up, the libevent
 * events (stdin, SIGWINCH, signals, the clock, the deferred redraw), and
 * the client core's events turned into lines in windows.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "client.h"
#include "codec.h"
#include "editor.h"
#include "keys.h"
#include "log.h"
#include "roster.h"
#include "scrollback.h"
#include "ui.h"
#include "uireq.h"
#include "view.h"
#include "window.h"
#include "xmalloc.h"

#define UI_HISTORY_LIMIT 50
#define UI_MAX_BODY 4096 /* PROTOCOL.md: body */

/* Milliseconds since the epoch, as message timestamps are. */
static int64_t
ui_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* The deferred redraw: runs after the turn's other callbacks. */
static void
ui_redraw_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;

	(void)fd;
	(void)what;
	if (!u->dirty || !u->curses_up)
		return;
	u->dirty = false;
	view_draw(u);
}

/* Marks the screen stale; one redraw per loop turn however many calls. */
void
ui_dirty(struct ui *u)
{
	if (u->dirty)
		return;
	u->dirty = true;
	if (u->redraw_ev != NULL)
		event_active(u->redraw_ev, EV_TIMEOUT, 0);
}

/* A notice or error line. */
void
ui_print(struct ui *u, struct window *w, int kind, const char *fmt, ...)
{
	struct scrollback_entry *e;
	va_list ap;
	char *s;

	if (w == NULL)
		w = window_at(u->wl, 0);
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	e = scrollback_add(w->sb, (enum scrollback_kind)kind, ui_now_ms(), 0,
	                   NULL, s);
	free(s);
	if (e != NULL)
		window_note(u->wl, w, false, e->id);
	ui_dirty(u);
}

/* Switches windows; the input line goes with the window. */
bool
ui_select(struct ui *u, size_t i)
{
	if (!window_select(u->wl, i))
		return false;
	u->comp_active = false;
	ui_dirty(u);
	return true;
}

/* Opens a conversation window; a new one gets recent history. */
struct window *
ui_open(struct ui *u, int kind, int64_t id, const char *name, bool select)
{
	size_t n = window_count(u->wl);
	struct window *w = window_open(u->wl, (enum window_kind)kind, id, name);

	if (window_count(u->wl) > n) {
		ui_history(u, w);
		if (kind == WINDOW_GROUP)
			ui_members(u, w);
	}
	if (select)
		for (size_t i = 0; i < window_count(u->wl); i++)
			if (window_at(u->wl, i) == w)
				ui_select(u, i);
	ui_dirty(u);
	return w;
}

/* The name of a friend (or "user<id>" if not in the roster). */
static char *
ui_user_name(struct ui *u, int64_t id)
{
	const struct roster_friend *f =
	    roster_friend_by_id(client_roster(u->c), id);

	return f != NULL ? xstrdup(f->name)
	                 : xasprintf("user%lld", (long long)id);
}

/* The window of a msg event's conversation, opened if needed. */
static struct window *
ui_msg_window(struct ui *u, struct json_object *m, const char *from_name,
              int64_t from_id)
{
	struct json_object *to = NULL;
	const struct roster_group *g;
	int64_t gid = 0, uid = 0, self = client_self_id(u->c);
	struct window *w;
	char *name;

	codec_get_object(m, "to", &to);
	if (to != NULL && codec_get_id(to, "group", &gid) == 0) {
		if ((w = window_find(u->wl, WINDOW_GROUP, gid)) != NULL)
			return w;
		g = roster_group_by_id(client_roster(u->c), gid);
		name = g != NULL ? xstrdup(g->name)
		                 : xasprintf("group%lld", (long long)gid);
		w = ui_open(u, WINDOW_GROUP, gid, name, false);
		free(name);
		return w;
	}
	if (to != NULL)
		codec_get_id(to, "user", &uid);
	if (from_id != self)
		uid = from_id;
	if ((w = window_find(u->wl, WINDOW_USER, uid)) != NULL)
		return w;
	name = uid == from_id ? xstrdup(from_name) : ui_user_name(u, uid);
	w = ui_open(u, WINDOW_USER, uid, name, false);
	free(name);
	return w;
}

/*
 * A message into its window, once: our own echo confirms the pending
 * line with the same cmid; a seq already shown is dropped.
 */
static void
ui_on_msg(struct ui *u, struct json_object *m, bool live)
{
	struct json_object *from = NULL;
	const char *fname = "?", *body = "", *cmid;
	int64_t fid = 0, seq = 0, ts = 0;
	struct scrollback_entry *e;
	struct window *w;
	size_t len;

	if (codec_get_object(m, "from", &from) == 0) {
		codec_get_string(from, "name", &fname, &len);
		codec_get_id(from, "id", &fid);
	}
	codec_get_string(m, "body", &body, &len);
	codec_get_id(m, "seq", &seq);
	ts = json_object_get_int64(json_object_object_get(m, "ts"));
	w = ui_msg_window(u, m, fname, fid);
	if (fid == client_self_id(u->c) &&
	    codec_get_string(m, "cmid", &cmid, &len) == 0 &&
	    (e = scrollback_find_cmid(w->sb, cmid)) != NULL) {
		scrollback_confirm(w->sb, e, seq, ts);
		ui_dirty(u);
		return;
	}
	e = scrollback_add(w->sb, SCROLLBACK_MSG, ts, seq, fname, body);
	if (e != NULL && live && fid != client_self_id(u->c))
		window_note(u->wl, w, true, e->id);
	ui_dirty(u);
}

/* Presence, friends and groups: notices in the console and the window. */
static void
ui_on_notice(struct ui *u, const char *type, struct json_object *ev)
{
	struct json_object *o = NULL, *g = NULL;
	const char *name = "?", *gname = "?";
	int64_t id = 0, gid = 0;
	bool online = false;
	struct window *w;
	size_t len;

	if (strcmp(type, "presence") == 0 ||
	    strcmp(type, "friend_added") == 0) {
		codec_get_object(
		    ev, strcmp(type, "presence") == 0 ? "user" : "friend", &o);
		if (o != NULL) {
			codec_get_string(o, "name", &name, &len);
			codec_get_id(o, "id", &id);
		}
		codec_get_bool(ev, "online", &online);
		w = window_find(u->wl, WINDOW_USER, id);
		if (strcmp(type, "friend_added") == 0)
			ui_print(u, NULL, SCROLLBACK_INFO,
			         "%s is now your friend", name);
		else if (w != NULL)
			ui_print(u, w, SCROLLBACK_INFO, "%s is %s", name,
			         online ? "online" : "offline");
		ui_dirty(u);
		return;
	}
	codec_get_object(ev, "user", &o);
	codec_get_object(ev, "group", &g);
	if (o != NULL)
		codec_get_string(o, "name", &name, &len);
	if (g != NULL) {
		codec_get_string(g, "name", &gname, &len);
		codec_get_id(g, "id", &gid);
	}
	if ((w = window_find(u->wl, WINDOW_GROUP, gid)) != NULL) {
		ui_print(u, w, SCROLLBACK_INFO, "%s %s #%s", name,
		         strcmp(type, "group_joined") == 0 ? "joined" : "left",
		         gname);
		ui_members(u, w);
	}
}

/* Events from the core. */
static void
ui_on_event(void *ud, const char *type, struct json_object *ev)
{
	struct ui *u = ud;
	struct json_object *err = NULL;
	const char *code = "?", *msg = "";
	size_t len;

	if (strcmp(type, "msg") == 0) {
		ui_on_msg(u, ev, true);
		return;
	}
	if (strcmp(type, "error") == 0) {
		if (codec_get_object(ev, "error", &err) == 0) {
			codec_get_string(err, "code", &code, &len);
			codec_get_string(err, "message", &msg, &len);
		}
		ui_print(u, NULL, SCROLLBACK_ERROR, "server: %s: %s", code,
		         msg);
		return;
	}
	if (strcmp(type, "presence") == 0 ||
	    strcmp(type, "friend_added") == 0 ||
	    strcmp(type, "group_joined") == 0 ||
	    strcmp(type, "group_left") == 0)
		ui_on_notice(u, type, ev);
}

/* A drop is narrated once; failed attempts once until one succeeds. */
static void
ui_note_drop(struct ui *u, const char *why)
{
	if (u->last_state >= CLIENT_CONNECTED)
		ui_print(u, NULL, SCROLLBACK_ERROR,
		         "disconnected: %s; reconnecting", why);
	else if (!u->fail_noted)
		ui_print(u, NULL, SCROLLBACK_ERROR,
		         "cannot connect to %s:%s: %s; retrying", u->opts->host,
		         u->opts->port, why);
	u->fail_noted = true;
}

/* Connection state: the status bar shows it; the console narrates. */
static void
ui_on_state(void *ud, enum client_state st, const char *why)
{
	struct ui *u = ud;

	free(u->why);
	u->why = why != NULL ? xstrdup(why) : NULL;
	if (st == CLIENT_DISCONNECTED)
		ui_note_drop(u, why != NULL ? why : "?");
	else if (st == CLIENT_CONNECTED && client_self_id(u->c) == 0) {
		u->fail_noted = false;
		ui_print(u, NULL, SCROLLBACK_INFO, "connected to %s:%s",
		         u->opts->host, u->opts->port);
		if (u->opts->user != NULL && !u->logged_in_once &&
		    u->prompt == UI_PROMPT_NONE)
			ui_prompt(u, UI_PROMPT_LOGIN, u->opts->user);
	} else if (st == CLIENT_CONNECTED)
		u->fail_noted = false;
	else if (st == CLIENT_LOGGED_IN) {
		ui_print(u, NULL, SCROLLBACK_INFO, "logged in as %s",
		         client_self_name(u->c));
		u->logged_in_once = true;
	}
	u->last_state = (int)st;
	ui_dirty(u);
}

/* A message's final reply: confirmed, or marked failed. */
static void
ui_send_cb(void *ud, struct json_object *reply)
{
	struct uireq *r = ud;
	struct ui *u = r->u;
	struct window *w = window_find(u->wl, r->kind, r->id);
	struct scrollback_entry *e;
	struct json_object *m = NULL;
	int64_t seq = 0;
	bool ok = false;

	if (w != NULL && (e = scrollback_find_cmid(w->sb, r->cmid)) != NULL) {
		if (reply != NULL)
			codec_get_bool(reply, "ok", &ok);
		if (ok && codec_get_object(reply, "msg", &m) == 0 &&
		    codec_get_id(m, "seq", &seq) == 0)
			scrollback_confirm(
			    w->sb, e, seq,
			    json_object_get_int64(
			        json_object_object_get(m, "ts")));
		else if (!ok) {
			e->state = SCROLLBACK_FAILED;
			ui_print(u, w, SCROLLBACK_ERROR,
			         "not delivered: %s (/retry sends it again)",
			         uireq_error_text(reply));
		}
	}
	uireq_free(r);
	ui_dirty(u);
}

/* Queues a send and shows it as pending. */
static int
ui_send_entry(struct ui *u, struct window *w, struct scrollback_entry *e)
{
	struct uireq *r = uireq_new(u, w);
	int rc;

	rc = client_send_cmid(u->c, w->kind == WINDOW_USER ? w->id : 0,
	                      w->kind == WINDOW_GROUP ? w->id : 0, e->text,
	                      ui_send_cb, r, r->cmid);
	if (rc < 0) {
		uireq_free(r);
		return rc;
	}
	memcpy(e->cmid, r->cmid, sizeof(e->cmid));
	e->state = SCROLLBACK_PENDING;
	return 0;
}

/* Plain text in a conversation window. */
void
ui_send(struct ui *u, struct window *w, const char *text)
{
	struct scrollback_entry *e;

	if (w->kind == WINDOW_CONSOLE) {
		ui_print(u, w, SCROLLBACK_ERROR,
		         "this is the console: /msg NAME opens a chat");
		return;
	}
	if (client_self_id(u->c) == 0) {
		ui_print(u, w, SCROLLBACK_ERROR, "log in first (/login NAME)");
		return;
	}
	if (strlen(text) > UI_MAX_BODY) {
		ui_print(u, w, SCROLLBACK_ERROR,
		         "too long: %zu bytes, at most %d", strlen(text),
		         UI_MAX_BODY);
		return;
	}
	e = scrollback_add(w->sb, SCROLLBACK_MSG, ui_now_ms(), 0,
	                   client_self_name(u->c), text);
	if (e != NULL && ui_send_entry(u, w, e) < 0)
		e->state = SCROLLBACK_FAILED;
	w->scroll = 0;
	ui_dirty(u);
}

/* /retry: failed messages go out again with new cmids. */
void
ui_retry(struct ui *u, struct window *w)
{
	int n = 0;

	for (size_t i = 0; i < scrollback_count(w->sb); i++) {
		struct scrollback_entry *e = scrollback_at(w->sb, i);

		if (e->state == SCROLLBACK_FAILED &&
		    ui_send_entry(u, w, e) == 0)
			n++;
	}
	ui_print(u, w, SCROLLBACK_INFO, "%d message%s sent again", n,
	         n == 1 ? "" : "s");
}

/* Older messages arrived: each in its place, once. */
static void
ui_history_cb(void *ud, struct json_object *reply)
{
	struct uireq *r = ud;
	struct window *w = window_find(r->u->wl, r->kind, r->id);
	struct json_object *msgs;
	size_t n = 0;
	bool ok = false;

	if (w != NULL) {
		w->hist_busy = false;
		if (reply != NULL)
			codec_get_bool(reply, "ok", &ok);
		if (ok && json_object_object_get_ex(reply, "msgs", &msgs) &&
		    json_object_is_type(msgs, json_type_array))
			n = json_object_array_length(msgs);
		for (size_t i = 0; i < n; i++)
			ui_on_msg(r->u, json_object_array_get_idx(msgs, i),
			          false);
		if (ok && n < UI_HISTORY_LIMIT)
			w->hist_done = true;
	}
	ui_dirty(r->u);
	uireq_free(r);
}

/* Asks for the messages before the oldest one shown. */
void
ui_history(struct ui *u, struct window *w)
{
	struct json_object *req;
	struct uireq *r;
	int64_t before = scrollback_min_seq(w->sb);
	char *conv;

	if (w->kind == WINDOW_CONSOLE || w->hist_busy || w->hist_done ||
	    client_state(u->c) != CLIENT_LOGGED_IN || before == 1)
		return;
	conv = window_conv(w, client_self_id(u->c));
	req = json_object_new_object();
	codec_set_string(req, "type", "history");
	codec_set_string(req, "conv", conv);
	if (before > 0)
		codec_set_int(req, "before", before);
	codec_set_int(req, "limit", UI_HISTORY_LIMIT);
	free(conv);
	r = uireq_new(u, w);
	if (client_request(u->c, req, ui_history_cb, r) < 0) {
		uireq_free(r);
		return;
	}
	w->hist_busy = true;
}

/* A group window's member list. */
static void
ui_members_cb(void *ud, struct json_object *reply)
{
	struct uireq *r = ud;
	struct window *w = window_find(r->u->wl, r->kind, r->id);
	struct json_object *arr;
	bool ok = false;

	if (w != NULL && reply != NULL &&
	    codec_get_bool(reply, "ok", &ok) == 0 && ok &&
	    json_object_object_get_ex(reply, "members", &arr))
		uireq_set_members(w, arr);
	ui_dirty(r->u);
	uireq_free(r);
}

/* Asks for a group's members. */
void
ui_members(struct ui *u, struct window *w)
{
	struct json_object *req;
	struct uireq *r;

	if (w->kind != WINDOW_GROUP || client_self_id(u->c) == 0)
		return;
	req = json_object_new_object();
	codec_set_string(req, "type", "group_members");
	codec_set_int(req, "group", w->id);
	r = uireq_new(u, w);
	if (client_request(u->c, req, ui_members_cb, r) < 0)
		uireq_free(r);
}

/* The password is typed into a separate, never-echoed editor. */
void
ui_prompt(struct ui *u, enum ui_prompt kind, const char *name)
{
	u->prompt = kind;
	free(u->prompt_name);
	u->prompt_name = xstrdup(name);
	editor_free(u->secret);
	u->secret = editor_new();
	ui_dirty(u);
}

/* Reads the size from the terminal (libevent owns SIGWINCH, not curses). */
void
ui_resize(struct ui *u, bool force)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0 && (ws.ws_row != u->rows || ws.ws_col != u->cols)) {
		resizeterm(ws.ws_row, ws.ws_col);
		u->rows = ws.ws_row;
		u->cols = ws.ws_col;
		force = true;
	}
	if (force)
		clearok(curscr, TRUE);
	ui_dirty(u);
}

/* SIGWINCH */
static void
ui_winch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ui_resize(arg, true);
}

/* SIGINT, SIGTERM, SIGHUP: leave cleanly, restoring the terminal. */
static void
ui_quit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;

	(void)fd;
	(void)what;
	u->quit = true;
	event_base_loopexit(u->base, NULL);
}

/* Every key the terminal has for us now, whole characters at a time. */
static void
ui_stdin_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;
	wint_t ch;
	int rc;

	(void)fd;
	(void)what;
	while ((rc = wget_wch(stdscr, &ch)) != ERR) {
		keys_feed(u, rc == KEY_CODE_YES, ch);
		if (u->quit) {
			event_base_loopexit(u->base, NULL);
			return;
		}
	}
}

/* The clock and the reconnect countdown, once a second. */
static void
ui_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ui_dirty(arg);
}

/* Where log lines go: the -v file, else nowhere (the screen is ours). */
static int
ui_log_open(const struct ui_options *opts)
{
	int saved = dup(STDERR_FILENO);
	int fd = opts->log_path != NULL
	             ? open(opts->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600)
	             : open("/dev/null", O_WRONLY);

	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	log_set_level(opts->log_path != NULL ? LOG_DEBUG : LOG_ERROR);
	return saved;
}

/* Puts stderr back once the terminal is restored. */
static void
ui_log_close(int saved)
{
	if (saved < 0)
		return;
	dup2(saved, STDERR_FILENO);
	close(saved);
}

/* curses in the mode the key reader and the redraw expect. */
static int
ui_curses_start(struct ui *u)
{
	if (initscr() == NULL)
		return -1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	if (u->opts->colours && has_colors())
		view_colours_init();
	u->curses_up = true;
	getmaxyx(stdscr, u->rows, u->cols);
	return 0;
}

/* The loop's events; priorities put the redraw after everything else. */
static void
ui_events_start(struct ui *u)
{
	struct timeval sec = {1, 0};

	u->stdin_ev = event_new(u->base, STDIN_FILENO, EV_READ | EV_PERSIST,
	                        ui_stdin_cb, u);
	u->winch_ev = evsignal_new(u->base, SIGWINCH, ui_winch_cb, u);
	u->tick_ev = event_new(u->base, -1, EV_PERSIST, ui_tick_cb, u);
	u->redraw_ev = event_new(u->base, -1, 0, ui_redraw_cb, u);
	event_priority_set(u->redraw_ev, 2);
	event_add(u->stdin_ev, NULL);
	event_add(u->winch_ev, NULL);
	event_add(u->tick_ev, &sec);
}

/* Frees the events, the signals first. */
static void
ui_events_stop(struct ui *u, struct event **sigs, size_t nsigs)
{
	for (size_t i = 0; i < nsigs; i++)
		event_free(sigs[i]);
	event_free(u->stdin_ev);
	event_free(u->winch_ev);
	event_free(u->tick_ev);
	event_free(u->redraw_ev);
}

/* --tls: set up the client's TLS; a CA file it cannot load is an error. */
static int
ui_tls(struct ui *u)
{
	char *err = NULL;
	int r;

	if (!u->opts->tls)
		return 0;
	if ((r = client_tls_enable(u->c, u->opts->ca, &err)) < 0) {
		ui_print(u, NULL, SCROLLBACK_ERROR, "%s (not connecting)", err);
		free(err);
	}
	return r;
}

/* Sets everything up, runs the loop, tears down. */
int
ui_run(struct event_base *base, const struct ui_options *opts)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct client_callbacks cbs = {ui_on_event, ui_on_state, NULL};
	struct event *sigev[3];
	struct ui u;
	int saved, status = 0;

	memset(&u, 0, sizeof(u));
	u.base = base;
	u.opts = opts;
	u.roster_on = opts->roster;
	u.wl = window_list_new();
	saved = ui_log_open(opts);
	if (ui_curses_start(&u) < 0) {
		ui_log_close(saved);
		fprintf(stderr, "natter: cannot initialise the terminal\n");
		window_list_free(u.wl);
		return 1;
	}
	ui_events_start(&u);
	for (size_t i = 0; i < 3; i++) {
		sigev[i] = evsignal_new(base, sigs[i], ui_quit_cb, &u);
		event_add(sigev[i], NULL);
	}
	cbs.ud = &u;
	u.c = client_new(base, opts->host, opts->port, &cbs);
	ui_print(&u, NULL, SCROLLBACK_INFO,
	         "natter %s: /help lists commands and keys", NATTER_VERSION);
	if (ui_tls(&u) < 0)
		status = 1;
	else if (client_connect(u.c) < 0) {
		ui_print(&u, NULL, SCROLLBACK_ERROR, "cannot resolve %s",
		         opts->host);
		status = 1;
	}
	view_draw(&u);
	event_base_dispatch(base);
	endwin();
	u.curses_up = false;
	ui_log_close(saved);
	client_free(u.c);
	uireq_free_all(&u);
	ui_events_stop(&u, sigev, 3);
	window_list_free(u.wl);
	editor_free(u.secret);
	free(u.prompt_name);
	free(u.why);
	for (size_t i = 0; i < u.ncomp; i++)
		free(u.comp[i]);
	free(u.comp);
	return status;
}
