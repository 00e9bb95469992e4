#ifndef NATTER_TUI_SCROLLBACK_H
#define NATTER_TUI_SCROLLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The lines of one window, oldest first, capped (the oldest go). Messages
 * with a seq stay in seq order and appear once; local lines (notices,
 * command output, own messages not yet acknowledged) have seq 0.
 */
enum scrollback_kind {
	SCROLLBACK_MSG,   /* from someone (or us) */
	SCROLLBACK_INFO,  /* a notice or command output */
	SCROLLBACK_ERROR, /* an error */
};

enum scrollback_state {
	SCROLLBACK_OK,
	SCROLLBACK_PENDING, /* our message, not yet acknowledged */
	SCROLLBACK_FAILED,  /* refused by the server; can be retried */
};

struct scrollback_entry {
	uint64_t id; /* increasing in arrival order, never reused */
	enum scrollback_kind kind;
	enum scrollback_state state;
	int64_t ts_ms;
	int64_t seq;
	char *from;         /* sender name (MSG), else NULL */
	char *text;         /* sanitized (wrap_sanitize) */
	char cmid[33];      /* our messages: the client message id */
	int rows_key, rows; /* the view's cache of the rows it takes */
};

#define SCROLLBACK_DEFAULT_MAX 5000

struct scrollback;

struct scrollback *scrollback_new(size_t max);
void scrollback_free(struct scrollback *sb);
void scrollback_clear(struct scrollback *sb);

/*
 * Adds a line; text is sanitized and copied, from copied (may be NULL).
 * seq 0 appends; a seq goes to its place in seq order, and a seq already
 * present returns NULL (a duplicate). The entry is borrowed until the
 * scrollback changes.
 */
struct scrollback_entry *scrollback_add(struct scrollback *sb,
                                        enum scrollback_kind kind,
                                        int64_t ts_ms, int64_t seq,
                                        const char *from, const char *text);

size_t scrollback_count(const struct scrollback *sb);
struct scrollback_entry *scrollback_at(const struct scrollback *sb, size_t i);
/* The entry of our message with this cmid, or NULL. */
struct scrollback_entry *scrollback_find_cmid(const struct scrollback *sb,
                                              const char *cmid);
/* Gives our message its seq (moving it to its place); false if the seq
 * is already shown, in which case the entry is removed. */
bool scrollback_confirm(struct scrollback *sb, struct scrollback_entry *e,
                        int64_t seq, int64_t ts_ms);
/* The lowest and highest seq held (0 if none). */
int64_t scrollback_min_seq(const struct scrollback *sb);
int64_t scrollback_max_seq(const struct scrollback *sb);
/* The id of the newest entry, 0 if empty. */
uint64_t scrollback_last_id(const struct scrollback *sb);

#endif
