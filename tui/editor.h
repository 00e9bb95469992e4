#ifndef NATTER_TUI_EDITOR_H
#define NATTER_TUI_EDITOR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The input line: UTF-8 text with a cursor, emacs-style editing by
 * cluster (width.h, so a CJK character, an emoji or a letter with its
 * combining marks moves and deletes as one), a kill buffer, a history and
 * a horizontal view. Pure logic, no terminal.
 */
struct editor;

#define EDITOR_HISTORY_MAX 200

struct editor *editor_new(void);
void editor_free(struct editor *e);

/* The text (NUL-terminated, borrowed until the next change), its length
 * and the cursor as a byte offset (always at a cluster boundary). */
const char *editor_text(const struct editor *e);
size_t editor_len(const struct editor *e);
size_t editor_cursor(const struct editor *e);

/* Replaces the text; the cursor goes to the end. */
void editor_set(struct editor *e, const char *text);
/* Inserts n bytes at the cursor (control characters are dropped). */
void editor_insert(struct editor *e, const char *s, size_t n);
/* Replaces bytes [start,end) with s; the cursor goes after it. */
void editor_replace(struct editor *e, size_t start, size_t end, const char *s);

/* Cursor motion; each returns false if the cursor could not move. */
bool editor_left(struct editor *e);
bool editor_right(struct editor *e);
void editor_home(struct editor *e);
void editor_end(struct editor *e);
bool editor_word_left(struct editor *e);
bool editor_word_right(struct editor *e);

/* Deletion by cluster; false if there was nothing to delete. */
bool editor_backspace(struct editor *e);
bool editor_delete(struct editor *e);
/* ^K, ^U, ^W: to the kill buffer; ^Y inserts the kill buffer. */
void editor_kill_end(struct editor *e);
void editor_kill_start(struct editor *e);
void editor_kill_word(struct editor *e);
void editor_yank(struct editor *e);

/*
 * Takes the line (the caller frees it) and empties the editor; a
 * non-blank line goes to the history unless keep_history is false.
 */
char *editor_take(struct editor *e, bool keep_history);
/* Up/Down through the history; the line being typed is kept aside. */
bool editor_history_prev(struct editor *e);
bool editor_history_next(struct editor *e);

/*
 * What to show in cols columns: *start is the first byte shown (a
 * cluster boundary, kept between calls so the view does not jump) and
 * *curcol the cursor's column from it.
 */
void editor_view(struct editor *e, int cols, size_t *start, int *curcol);

#endif
