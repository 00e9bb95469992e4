#ifndef NATTER_TUI_UI_H
#define NATTER_TUI_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The full-screen client: one thread, one libevent loop over the
 * terminal, the server socket, SIGWINCH and timers; the screen is redrawn
 * from a dirty flag once per loop turn. ui.c runs the loop and turns
 * client events into window lines; view.c draws; keys.c maps keys;
 * uicmd.c holds the command table. The struct is shared by those modules
 * only.
 */
struct editor;
struct event;
struct event_base;
struct client;
struct window;
struct window_list;
struct uireq;

struct ui_options {
	const char *host, *port;
	const char *user;        /* asked for a password at start, or NULL */
	const char *time_format; /* strftime, default "%H:%M" */
	bool colours;
	bool roster;          /* panel shown at start */
	const char *log_path; /* -v: debug log file, else NULL */
	bool tls;             /* connect over TLS */
	const char *ca;       /* with tls: CA file to trust, NULL: system's */
};

/* A password being asked for, without echo. */
enum ui_prompt { UI_PROMPT_NONE, UI_PROMPT_LOGIN, UI_PROMPT_REGISTER };

struct ui {
	struct event_base *base;
	struct client *c;
	const struct ui_options *opts;
	struct window_list *wl;
	struct event *stdin_ev, *winch_ev, *tick_ev, *redraw_ev;
	bool dirty, quit, curses_up;
	int rows, cols;
	bool roster_on;
	bool esc; /* ESC read: the next key is Alt-modified */
	enum ui_prompt prompt;
	char *prompt_name;
	struct editor *secret; /* the password being typed */
	/* Tab completion: the candidates cycled through, and the word. */
	char **comp;
	size_t ncomp, comp_i, comp_start, comp_end;
	bool comp_active;
	char *why; /* why the connection dropped */
	bool logged_in_once;
	int last_state;     /* the previous enum client_state */
	bool fail_noted;    /* "cannot connect" said since the last success */
	struct uireq *reqs; /* requests whose replies point back at us */
};

/* Runs the full-screen client until /quit; returns the exit status. */
int ui_run(struct event_base *base, const struct ui_options *opts);

/* Something changed: redraw at the end of this loop turn. */
void ui_dirty(struct ui *u);
/* A line in window w (the console if NULL); printf-style. */
void ui_print(struct ui *u, struct window *w, int kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Opens the conversation window of a friend or group and fills it with
 * recent history. */
struct window *ui_open(struct ui *u, int kind, int64_t id, const char *name,
                       bool select);
/* Switches windows (index); false if out of range. */
bool ui_select(struct ui *u, size_t i);
/* Sends text to a conversation window's peer. */
void ui_send(struct ui *u, struct window *w, const char *text);
/* Retries the failed messages of w. */
void ui_retry(struct ui *u, struct window *w);
/* Loads older messages into w (PgUp past the top). */
void ui_history(struct ui *u, struct window *w);
/* Fetches a group window's members. */
void ui_members(struct ui *u, struct window *w);
/* Begins asking for a password (kind is UI_PROMPT_LOGIN or _REGISTER). */
void ui_prompt(struct ui *u, enum ui_prompt kind, const char *name);
/* Terminal size changed (or ^L): re-read it and redraw everything. */
void ui_resize(struct ui *u, bool force);

#endif
