#ifndef NATTER_TUI_WINDOW_H
#define NATTER_TUI_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The full-screen client's windows: window 1 is the console (server
 * notices, command output), then one window per friend or group
 * conversation, numbered by position. Each has its scrollback, its own
 * input line and history, an unread count and a read mark (for the "new
 * messages" separator). No drawing here.
 */
enum window_kind { WINDOW_CONSOLE, WINDOW_USER, WINDOW_GROUP };

struct window_member {
	char *name;
	bool online;
};

struct window {
	enum window_kind kind;
	int64_t id; /* user or group id (0 for the console) */
	char *name; /* friend or group name; "console" */
	struct scrollback *sb;
	struct editor *ed;
	unsigned unread;    /* messages since last seen */
	bool activity;      /* a notice since last seen */
	int scroll;         /* rows scrolled up from the bottom */
	uint64_t first_new; /* the first entry unread on return, or 0 */
	bool hist_busy;     /* a history request is out */
	bool hist_done;     /* the server has nothing older */
	struct window_member *members;
	size_t nmembers;
};

struct window_list;

struct window_list *window_list_new(void);
void window_list_free(struct window_list *wl);

size_t window_count(const struct window_list *wl);
/* Window i (0 is the console), NULL if out of range. */
struct window *window_at(const struct window_list *wl, size_t i);
struct window *window_current(const struct window_list *wl);
size_t window_current_index(const struct window_list *wl);

/* The conversation window of a friend or group, NULL if not open. */
struct window *window_find(const struct window_list *wl, enum window_kind kind,
                           int64_t id);
/* By number ("3") or name (a friend, or a group with or without '#'). */
struct window *window_find_name(const struct window_list *wl, const char *name);
/* Opens (or finds) the window of a friend or group; name copied. */
struct window *window_open(struct window_list *wl, enum window_kind kind,
                           int64_t id, const char *name);
/* Closes window i (not the console); the current one moves left. */
void window_close(struct window_list *wl, size_t i);

/*
 * Switches to window i; the one entered loses its unread count (and its
 * "new messages" mark if nothing is new). Returns false if i is out of range.
 */
bool window_select(struct window_list *wl, size_t i);
/* The next window with unread messages after the current (else with
 * notices), or -1. */
long window_next_unread(const struct window_list *wl);

/* Entry id arrived in w: counted unless w is current. */
void window_note(struct window_list *wl, struct window *w, bool is_msg,
                 uint64_t id);
/* Replaces the member list of a group window. */
void window_set_members(struct window *w, struct window_member *m, size_t n);
/* The conversation id ("d:1:2" / "g:5"); the caller frees it. */
char *window_conv(const struct window *w, int64_t self);

#endif
