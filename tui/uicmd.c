/* The command table of the full-screen client, /help and completion. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client.h"
#include "cmd.h"
#include "codec.h"
#include "editor.h"
#include "errcode.h"
#include "oneline.h"
#include "roster.h"
#include "scrollback.h"
#include "ui.h"
#include "cmdtab.h"
#include "uicmd.h"
#include "uireq.h"
#include "window.h"
#include "xmalloc.h"

/* A line in the current window. */
#define UICMD_SAY(u, kind, ...)                                                \
	ui_print((u), window_current((u)->wl), (kind), __VA_ARGS__)

/* The window a reply is about (the console if it was closed). */
static struct window *
uicmd_reply_window(const struct uireq *r)
{
	struct window *w = r->kind == WINDOW_CONSOLE
	                       ? NULL
	                       : window_find(r->u->wl, r->kind, r->id);

	return w != NULL ? w : window_at(r->u->wl, 0);
}

/* " a b c" from a reply's array, each rendered by fn. */
static char *
uicmd_list_text(struct json_object *reply, const char *key,
                char *(*fn)(struct json_object *))
{
	struct json_object *arr;
	char *s = xstrdup(""), *t, *item;
	size_t n = 0;

	if (json_object_object_get_ex(reply, key, &arr) &&
	    json_object_is_type(arr, json_type_array))
		n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		item = fn(json_object_array_get_idx(arr, i));
		t = xasprintf("%s%s%s", s, i ? ", " : "", item);
		free(item);
		free(s);
		s = t;
	}
	if (n == 0) {
		free(s);
		s = xstrdup("(none)");
	}
	return s;
}

/* The id and name of reply[key] ({id,name}). */
static void
uicmd_named(struct json_object *reply, const char *key, int64_t *id,
            const char **name)
{
	struct json_object *o = NULL;
	size_t len;

	*id = 0;
	if (codec_get_object(reply, key, &o) == 0) {
		codec_get_id(o, "id", id);
		codec_get_string(o, "name", name, &len);
	}
}

/* Group replies open, close or fill the group's window. */
static void
uicmd_group_ok(struct uireq *r, struct window *w, struct json_object *reply)
{
	const char *name = r->arg != NULL ? r->arg : "?";
	struct window *gw;
	int64_t id;
	char *s;

	switch (r->cmd) {
	case CMD_GROUP_CREATE:
	case CMD_GROUP_JOIN:
		uicmd_named(reply, "group", &id, &name);
		ui_print(r->u, w, SCROLLBACK_INFO, "%s #%s",
		         r->cmd == CMD_GROUP_JOIN ? "joined" : "created", name);
		if (id > 0)
			ui_open(r->u, WINDOW_GROUP, id, name, true);
		break;
	case CMD_GROUP_LEAVE:
		ui_print(r->u, w, SCROLLBACK_INFO, "left #%s", name);
		break;
	case CMD_GROUP_MEMBERS:
		s = uicmd_list_text(reply, "members", oneline_member);
		ui_print(r->u, w, SCROLLBACK_INFO, "members of #%s: %s", name,
		         s);
		free(s);
		gw = window_find_name(r->u->wl, name[0] == '#' ? name : name);
		if (gw != NULL && gw->kind == WINDOW_GROUP) {
			struct json_object *arr;

			if (json_object_object_get_ex(reply, "members", &arr))
				uireq_set_members(gw, arr);
		}
		break;
	}
}

/* Success of a server command, in words. */
static void
uicmd_ok(struct uireq *r, struct window *w, struct json_object *reply)
{
	const char *name = r->arg != NULL ? r->arg : "?";
	char *s;
	int64_t id;

	switch (r->cmd) {
	case CMD_REGISTER:
		ui_print(r->u, w, SCROLLBACK_INFO, "registered %s", name);
		if (r->secret != NULL)
			uicmd_credentials(r->u, false, name, r->secret);
		break;
	case CMD_ADD:
		uicmd_named(reply, "friend", &id, &name);
		ui_print(r->u, w, SCROLLBACK_INFO, "%s is now your friend",
		         name);
		break;
	case CMD_REMOVE:
		ui_print(r->u, w, SCROLLBACK_INFO, "removed %s", name);
		break;
	case CMD_FRIENDS:
	case CMD_GROUPS:
		s = uicmd_list_text(
		    reply, r->cmd == CMD_FRIENDS ? "friends" : "groups",
		    r->cmd == CMD_FRIENDS ? oneline_friend : oneline_group);
		ui_print(r->u, w, SCROLLBACK_INFO, "%s: %s",
		         r->cmd == CMD_FRIENDS ? "friends" : "groups", s);
		free(s);
		break;
	default:
		uicmd_group_ok(r, w, reply);
		break;
	}
}

/* The reply to a server command. */
static void
uicmd_reply_cb(void *ud, struct json_object *reply)
{
	struct uireq *r = ud;
	struct window *w = uicmd_reply_window(r);
	bool ok = false;

	if (reply != NULL)
		codec_get_bool(reply, "ok", &ok);
	if (!ok)
		ui_print(r->u, w, SCROLLBACK_ERROR, "%s: %s",
		         r->cmd == CMD_REGISTER ? "register" : "error",
		         uireq_error_text(reply));
	else
		uicmd_ok(r, w, reply);
	ui_dirty(r->u);
	uireq_free(r);
}

/* Sends a request on behalf of a command. */
static void
uicmd_send_req(struct ui *u, struct json_object *req, int cmd, const char *arg,
               const char *secret)
{
	struct uireq *r = uireq_new(u, window_current(u->wl));

	r->cmd = cmd;
	r->arg = arg != NULL ? xstrdup(arg) : NULL;
	r->secret = secret != NULL ? xstrdup(secret) : NULL;
	if (client_request(u->c, req, uicmd_reply_cb, r) < 0) {
		UICMD_SAY(u, SCROLLBACK_ERROR, "not connected");
		uireq_free(r);
	}
}

/* Commands that are one request, parsed by cmd.c. */
static void
uicmd_server(struct ui *u, const char *line, const char *args)
{
	struct json_object *req;
	struct cmd c;
	const char *err;
	char *msg;

	(void)args;
	if (cmd_parse(line, &c, &err) < 0) {
		UICMD_SAY(u, SCROLLBACK_ERROR, "usage: %s", err);
		return;
	}
	if (cmd_request(&c, client_roster(u->c), client_self_id(u->c), &req,
	                &msg) < 0) {
		UICMD_SAY(u, SCROLLBACK_ERROR, "%s", msg);
		free(msg);
	} else
		uicmd_send_req(u, req, (int)c.kind, c.arg, NULL);
	cmd_clear(&c);
}

/* The login's outcome (success is narrated by the state change). */
static void
uicmd_login_cb(void *ud, struct json_object *reply)
{
	struct uireq *r = ud;
	bool ok = false;

	if (reply != NULL)
		codec_get_bool(reply, "ok", &ok);
	if (!ok)
		ui_print(r->u, NULL, SCROLLBACK_ERROR, "login: %s",
		         uireq_error_text(reply));
	uireq_free(r);
}

/* Logs in, or registers (then logs in). */
void
uicmd_credentials(struct ui *u, bool reg, const char *name,
                  const char *password)
{
	struct json_object *req;
	struct uireq *r;
	int rc;

	if (reg) {
		req = json_object_new_object();
		codec_set_string(req, "type", "register");
		codec_set_string(req, "name", name);
		codec_set_string(req, "password", password);
		uicmd_send_req(u, req, CMD_REGISTER, name, password);
		return;
	}
	r = uireq_new(u, NULL);
	rc = client_login(u->c, name, password, uicmd_login_cb, r);
	if (rc < 0) {
		uireq_free(r);
		UICMD_SAY(u, SCROLLBACK_ERROR, "login: %s",
		          rc == -ERR_UNAVAILABLE
		              ? "not connected"
		              : "a login is already running");
	}
}

/* NAME and PASSWORD words of args (each NULL if absent). */
static void
uicmd_two_words(const char *args, char **a, char **b)
{
	size_t n = strcspn(args, " \t");
	const char *rest = args + n + strspn(args + n, " \t");

	*a = n > 0 ? xstrndup(args, n) : NULL;
	*b = *rest != '\0' ? xstrdup(rest) : NULL;
}

/* /register NAME [PASSWORD] */
static void
uicmd_register(struct ui *u, const char *line, const char *args)
{
	char *name, *pw;

	(void)line;
	uicmd_two_words(args, &name, &pw);
	if (name == NULL)
		UICMD_SAY(u, SCROLLBACK_ERROR, "usage: /register NAME");
	else if (pw == NULL)
		ui_prompt(u, UI_PROMPT_REGISTER, name);
	else
		uicmd_credentials(u, true, name, pw);
	if (pw != NULL)
		explicit_bzero(pw, strlen(pw));
	free(name);
	free(pw);
}

/* /login [NAME] [PASSWORD] */
static void
uicmd_login(struct ui *u, const char *line, const char *args)
{
	char *name, *pw;

	(void)line;
	uicmd_two_words(args, &name, &pw);
	if (name == NULL && u->opts->user != NULL)
		name = xstrdup(u->opts->user);
	if (name == NULL)
		UICMD_SAY(u, SCROLLBACK_ERROR, "usage: /login NAME");
	else if (pw == NULL)
		ui_prompt(u, UI_PROMPT_LOGIN, name);
	else
		uicmd_credentials(u, false, name, pw);
	if (pw != NULL)
		explicit_bzero(pw, strlen(pw));
	free(name);
	free(pw);
}

/* /logout */
static void
uicmd_logout(struct ui *u, const char *line, const char *args)
{
	(void)line;
	(void)args;
	if (client_logout(u->c, NULL, NULL) < 0)
		UICMD_SAY(u, SCROLLBACK_ERROR, "logout: not connected");
	else
		UICMD_SAY(u, SCROLLBACK_INFO, "logged out");
}

/* /msg NAME [TEXT]: opens the window, sends TEXT if any. */
static void
uicmd_msg(struct ui *u, const char *line, const char *args)
{
	int64_t user, group;
	char *name, *text;
	struct window *w;

	(void)line;
	uicmd_two_words(args, &name, &text);
	if (name == NULL)
		UICMD_SAY(u, SCROLLBACK_ERROR, "usage: /msg NAME [TEXT]");
	else if (roster_resolve(client_roster(u->c), name, &user, &group) < 0)
		UICMD_SAY(u, SCROLLBACK_ERROR, "no friend or group named %s",
		          name);
	else {
		const char *n = name[0] == '#' ? name + 1 : name;

		w = ui_open(u, user != 0 ? WINDOW_USER : WINDOW_GROUP,
		            user != 0 ? user : group, n, true);
		if (text != NULL)
			ui_send(u, w, text);
	}
	free(name);
	free(text);
}

/* /win N|NAME */
static void
uicmd_win(struct ui *u, const char *line, const char *args)
{
	struct window *w = window_find_name(u->wl, args);

	(void)line;
	for (size_t i = 0; w != NULL && i < window_count(u->wl); i++)
		if (window_at(u->wl, i) == w) {
			ui_select(u, i);
			return;
		}
	UICMD_SAY(u, SCROLLBACK_ERROR, "no window %s", args);
}

/* /close [N|NAME] */
static void
uicmd_close(struct ui *u, const char *line, const char *args)
{
	struct window *w =
	    *args ? window_find_name(u->wl, args) : window_current(u->wl);

	(void)line;
	for (size_t i = 1; w != NULL && i < window_count(u->wl); i++)
		if (window_at(u->wl, i) == w) {
			window_close(u->wl, i);
			ui_dirty(u);
			return;
		}
	UICMD_SAY(u, SCROLLBACK_ERROR, "%s",
	          w == NULL ? "no such window" : "the console stays open");
}

/* /roster */
static void
uicmd_roster(struct ui *u, const char *line, const char *args)
{
	(void)line;
	(void)args;
	u->roster_on = !u->roster_on;
	ui_dirty(u);
}

/* /clear */
static void
uicmd_clear(struct ui *u, const char *line, const char *args)
{
	struct window *w = window_current(u->wl);

	(void)line;
	(void)args;
	scrollback_clear(w->sb);
	w->scroll = 0;
	w->first_new = 0;
	w->hist_done = true; /* cleared on purpose: do not refill */
	ui_dirty(u);
}

/* /reconnect */
static void
uicmd_reconnect(struct ui *u, const char *line, const char *args)
{
	(void)line;
	(void)args;
	UICMD_SAY(u, SCROLLBACK_INFO, "reconnecting");
	client_reconnect_now(u->c);
}

/* /retry */
static void
uicmd_retry(struct ui *u, const char *line, const char *args)
{
	(void)line;
	(void)args;
	ui_retry(u, window_current(u->wl));
}

/* /help [COMMAND]: generated from the table. */
static void
uicmd_help(struct ui *u, const char *line, const char *args)
{
	char *want = NULL;
	bool found = false;

	(void)line;
	if (*args != '\0')
		want = xasprintf("/%s", args[0] == '/' ? args + 1 : args);
	for (size_t i = 0; i < cmdtab_count(); i++) {
		const struct cmdtab_entry *e = cmdtab_at(i);

		if (want != NULL && strncmp(e->usage, want, strlen(want)) != 0)
			continue;
		UICMD_SAY(u, SCROLLBACK_INFO, "%-30s %s", e->usage, e->help);
		found = true;
	}
	if (want == NULL)
		UICMD_SAY(
		    u, SCROLLBACK_INFO,
		    "keys: Alt-1..9/0, Alt-Left/Right, ^P/^N, Alt-a "
		    "windows; PgUp/PgDn scroll; Tab completes; ^L redraws");
	else if (!found)
		UICMD_SAY(u, SCROLLBACK_ERROR, "no command %s", want);
	free(want);
}

/* /quit */
static void
uicmd_quit(struct ui *u, const char *line, const char *args)
{
	(void)line;
	(void)args;
	u->quit = true;
}

/* Runs a table entry's handler. */
static void
uicmd_run(struct ui *u, const struct cmdtab_entry *e, const char *line,
          const char *args)
{
	static void (*const run[])(struct ui *, const char *, const char *) = {
	    [CMDTAB_REGISTER] = uicmd_register,
	    [CMDTAB_LOGIN] = uicmd_login,
	    [CMDTAB_LOGOUT] = uicmd_logout,
	    [CMDTAB_SERVER] = uicmd_server,
	    [CMDTAB_MSG] = uicmd_msg,
	    [CMDTAB_WIN] = uicmd_win,
	    [CMDTAB_CLOSE] = uicmd_close,
	    [CMDTAB_ROSTER] = uicmd_roster,
	    [CMDTAB_CLEAR] = uicmd_clear,
	    [CMDTAB_RECONNECT] = uicmd_reconnect,
	    [CMDTAB_RETRY] = uicmd_retry,
	    [CMDTAB_HELP] = uicmd_help,
	    [CMDTAB_QUIT] = uicmd_quit,
	};

	run[e->id](u, line, args);
}

/* True if the line carries a password and must not enter the history. */
static bool
uicmd_is_secret(const char *line)
{
	const struct cmdtab_entry *e = cmdtab_find(line);

	return e != NULL && (strcmp(e->word, "login") == 0 ||
	                     strcmp(e->word, "register") == 0);
}

/* Enter. */
void
uicmd_submit(struct ui *u)
{
	struct window *w = window_current(u->wl);
	const struct cmdtab_entry *e;
	char *line = editor_take(w->ed, !uicmd_is_secret(editor_text(w->ed)));

	w->scroll = 0;
	if (line[0] == '/' && line[1] != '/') {
		if ((e = cmdtab_find(line)) != NULL)
			uicmd_run(u, e, line, cmdtab_args(e, line));
		else
			UICMD_SAY(u, SCROLLBACK_ERROR,
			          "unknown command %s (try /help)", line);
	} else if (line[strspn(line, " ")] != '\0')
		ui_send(u, w, line[0] == '/' ? line + 1 : line);
	if (uicmd_is_secret(line))
		explicit_bzero(line, strlen(line));
	free(line);
	ui_dirty(u);
}

/* Names for completion, from the roster and the windows. */
static char **
uicmd_names(void *ud, enum cmdtab_arg kind)
{
	struct ui *u = ud;
	const struct roster *r = client_roster(u->c);
	struct window *cw = window_current(u->wl);
	char **v = NULL;
	size_t n = 0;

	if (kind == CMDTAB_ARG_FRIEND || kind == CMDTAB_ARG_TARGET ||
	    kind == CMDTAB_ARG_NONE)
		for (size_t i = 0; i < roster_friend_count(r); i++)
			cmdtab_list_add(&v, &n, roster_friend_at(r, i)->name);
	if (kind == CMDTAB_ARG_GROUP || kind == CMDTAB_ARG_TARGET)
		for (size_t i = 0; i < roster_group_count(r); i++)
			cmdtab_list_add(&v, &n, roster_group_at(r, i)->name);
	if (kind == CMDTAB_ARG_WINDOW)
		for (size_t i = 0; i < window_count(u->wl); i++)
			cmdtab_list_add(&v, &n, window_at(u->wl, i)->name);
	if (kind == CMDTAB_ARG_NONE)
		for (size_t i = 0; i < cw->nmembers; i++)
			cmdtab_list_add(&v, &n, cw->members[i].name);
	return v;
}

/* Tab: the first candidate, then the next one on each Tab. */
void
uicmd_complete(struct ui *u)
{
	struct editor *ed = window_current(u->wl)->ed;
	const char *cand;
	char *ins;

	if (!u->comp_active) {
		for (size_t i = 0; i < u->ncomp; i++)
			free(u->comp[i]);
		free(u->comp);
		u->comp = cmdtab_candidates(editor_text(ed), editor_cursor(ed),
		                            &u->comp_start, uicmd_names, u);
		for (u->ncomp = 0; u->comp != NULL && u->comp[u->ncomp];)
			u->ncomp++;
		if (u->ncomp == 0)
			return;
		u->comp_i = 0;
		u->comp_end = editor_cursor(ed);
		u->comp_active = true;
	} else
		u->comp_i = (u->comp_i + 1) % u->ncomp;
	cand = u->comp[u->comp_i];
	ins = xasprintf("%s%s", cand, u->ncomp == 1 ? " " : "");
	editor_replace(ed, u->comp_start, u->comp_end, ins);
	u->comp_end = u->comp_start + strlen(ins);
	free(ins);
	if (u->ncomp == 1)
		u->comp_active = false;
	ui_dirty(u);
}
