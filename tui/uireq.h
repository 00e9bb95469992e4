#ifndef NATTER_TUI_UIREQ_H
#define NATTER_TUI_UIREQ_H

#include <stdint.h>

/*
 * What a request of the full-screen client remembers until its reply: the
 * window it is about (by kind and id, since the window may be closed
 * meanwhile), a send's cmid, a command's label and argument. Each is on
 * the ui's list so that those whose replies never come (the client was
 * freed) are freed at exit.
 */
struct json_object;
struct ui;
struct window;

struct uireq {
	struct ui *u;
	int kind;   /* enum window_kind of the window, WINDOW_CONSOLE if none */
	int64_t id; /* its user or group id */
	char cmid[33];
	int cmd;      /* enum cmd_kind of a /command */
	char *arg;    /* its NAME, or NULL */
	char *secret; /* /register: the password, to log in after (wiped) */
	struct uireq *prev, *next;
};

/* About window w (NULL: the console); linked into u's list. */
struct uireq *uireq_new(struct ui *u, const struct window *w);
/* Unlinks and frees; NULL is a no-op. */
void uireq_free(struct uireq *r);
void uireq_free_all(struct ui *u);

/* "code: message" of an error reply, "connection lost" for NULL.
 * Borrowed from reply (or static) until the next call. */
const char *uireq_error_text(struct json_object *reply);

/* A group window's members from a group_members reply's array. */
void uireq_set_members(struct window *w, struct json_object *arr);

#endif
