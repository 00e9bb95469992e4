/* The input line's text, cursor, kill buffer and history. */
#include <stdlib.h>
#include <string.h>

#include "editor.h"
#include "width.h"
#include "xmalloc.h"

struct editor {
	char *buf;
	size_t len, cap, cur, view;
	char *kill;
	char *hist[EDITOR_HISTORY_MAX];
	size_t nhist, hpos; /* hpos == nhist: the line being typed */
	char *saved;        /* that line, while browsing the history */
};

/* An empty line. */
struct editor *
editor_new(void)
{
	struct editor *e = xcalloc(1, sizeof(*e));

	e->cap = 64;
	e->buf = xcalloc(1, e->cap);
	return e;
}

/* Frees the text, the kill buffer and the history. */
void
editor_free(struct editor *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nhist; i++)
		free(e->hist[i]);
	free(e->saved);
	free(e->kill);
	free(e->buf);
	free(e);
}

/* Accessors. */
const char *
editor_text(const struct editor *e)
{
	return e->buf;
}

/* Length in bytes. */
size_t
editor_len(const struct editor *e)
{
	return e->len;
}

/* Cursor byte offset. */
size_t
editor_cursor(const struct editor *e)
{
	return e->cur;
}

/* Room for n more bytes and the NUL. */
static void
editor_reserve(struct editor *e, size_t n)
{
	if (e->len + n + 1 <= e->cap)
		return;
	while (e->len + n + 1 > e->cap)
		e->cap *= 2;
	e->buf = xrealloc(e->buf, e->cap);
}

/* Removes bytes [a,b) and puts the cursor at a. */
static void
editor_cut(struct editor *e, size_t a, size_t b)
{
	memmove(e->buf + a, e->buf + b, e->len - b + 1);
	e->len -= b - a;
	e->cur = a;
	if (e->view > a)
		e->view = a;
}

/* Inserts raw bytes at the cursor. */
static void
editor_put(struct editor *e, const char *s, size_t n)
{
	editor_reserve(e, n);
	memmove(e->buf + e->cur + n, e->buf + e->cur, e->len - e->cur + 1);
	memcpy(e->buf + e->cur, s, n);
	e->len += n;
	e->cur += n;
}

/* New text, cursor at the end. */
void
editor_set(struct editor *e, const char *text)
{
	e->len = e->cur = e->view = 0;
	e->buf[0] = '\0';
	editor_put(e, text, strlen(text));
}

/* Typed or pasted text; controls (a pasted tab or newline) are dropped. */
void
editor_insert(struct editor *e, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != 0x7F)
			j++;
		editor_put(e, s + i, j - i);
		i = j + 1;
	}
}

/* Completion: a word replaced. */
void
editor_replace(struct editor *e, size_t start, size_t end, const char *s)
{
	if (end > e->len)
		end = e->len;
	if (start > end)
		start = end;
	editor_cut(e, start, end);
	editor_insert(e, s, strlen(s));
}

/* One cluster left. */
bool
editor_left(struct editor *e)
{
	if (e->cur == 0)
		return false;
	e->cur = width_prev(e->buf, e->cur);
	return true;
}

/* One cluster right. */
bool
editor_right(struct editor *e)
{
	int w;

	if (e->cur >= e->len)
		return false;
	e->cur += width_cluster(e->buf + e->cur, e->len - e->cur, &w);
	return true;
}

/* ^A */
void
editor_home(struct editor *e)
{
	e->cur = 0;
}

/* ^E */
void
editor_end(struct editor *e)
{
	e->cur = e->len;
}

/* True if the cluster before pos is a blank. */
static bool
editor_space_before(const struct editor *e, size_t pos)
{
	return pos > 0 && (e->buf[pos - 1] == ' ' || e->buf[pos - 1] == '\t');
}

/* The start of the word before pos (blanks skipped first). */
static size_t
editor_word_start(const struct editor *e, size_t pos)
{
	while (editor_space_before(e, pos))
		pos--;
	while (pos > 0 && !editor_space_before(e, pos))
		pos = width_prev(e->buf, pos);
	return pos;
}

/* Alt-b */
bool
editor_word_left(struct editor *e)
{
	size_t p = editor_word_start(e, e->cur);

	if (p == e->cur)
		return false;
	e->cur = p;
	return true;
}

/* Alt-f: past the blanks, then to the end of the word. */
bool
editor_word_right(struct editor *e)
{
	size_t p = e->cur;

	while (p < e->len && e->buf[p] == ' ')
		p++;
	while (p < e->len && e->buf[p] != ' ') {
		int w;

		p += width_cluster(e->buf + p, e->len - p, &w);
	}
	if (p == e->cur)
		return false;
	e->cur = p;
	return true;
}

/* Backspace: the cluster before the cursor. */
bool
editor_backspace(struct editor *e)
{
	size_t end = e->cur;

	if (!editor_left(e))
		return false;
	editor_cut(e, e->cur, end);
	return true;
}

/* Delete: the cluster under the cursor. */
bool
editor_delete(struct editor *e)
{
	size_t start = e->cur;

	if (!editor_right(e))
		return false;
	editor_cut(e, start, e->cur);
	return true;
}

/* Saves [a,b) in the kill buffer and removes it. */
static void
editor_kill(struct editor *e, size_t a, size_t b)
{
	if (a == b)
		return;
	free(e->kill);
	e->kill = xstrndup(e->buf + a, b - a);
	editor_cut(e, a, b);
}

/* ^K */
void
editor_kill_end(struct editor *e)
{
	editor_kill(e, e->cur, e->len);
}

/* ^U */
void
editor_kill_start(struct editor *e)
{
	editor_kill(e, 0, e->cur);
}

/* ^W: the word before the cursor and the blanks after it. */
void
editor_kill_word(struct editor *e)
{
	editor_kill(e, editor_word_start(e, e->cur), e->cur);
}

/* ^Y */
void
editor_yank(struct editor *e)
{
	if (e->kill != NULL)
		editor_put(e, e->kill, strlen(e->kill));
}

/* Appends to the history, dropping the oldest when full. */
static void
editor_history_add(struct editor *e, const char *line)
{
	if (e->nhist > 0 && strcmp(e->hist[e->nhist - 1], line) == 0)
		return;
	if (e->nhist == EDITOR_HISTORY_MAX) {
		free(e->hist[0]);
		memmove(e->hist, e->hist + 1,
		        (EDITOR_HISTORY_MAX - 1) * sizeof(e->hist[0]));
		e->nhist--;
	}
	e->hist[e->nhist++] = xstrdup(line);
}

/* Enter. */
char *
editor_take(struct editor *e, bool keep_history)
{
	char *line = xstrdup(e->buf);

	if (keep_history && line[strspn(line, " ")] != '\0')
		editor_history_add(e, line);
	free(e->saved);
	e->saved = NULL;
	e->hpos = e->nhist;
	editor_set(e, "");
	return line;
}

/* Up. */
bool
editor_history_prev(struct editor *e)
{
	if (e->hpos == 0)
		return false;
	if (e->hpos == e->nhist) {
		free(e->saved);
		e->saved = xstrdup(e->buf);
	}
	editor_set(e, e->hist[--e->hpos]);
	return true;
}

/* Down; past the newest entry comes back the line being typed. */
bool
editor_history_next(struct editor *e)
{
	if (e->hpos >= e->nhist)
		return false;
	if (++e->hpos == e->nhist) {
		editor_set(e, e->saved != NULL ? e->saved : "");
		free(e->saved);
		e->saved = NULL;
	} else
		editor_set(e, e->hist[e->hpos]);
	return true;
}

/* Scrolls the view so the cursor is on screen, with room for it. */
void
editor_view(struct editor *e, int cols, size_t *start, int *curcol)
{
	int w;

	if (cols < 2)
		cols = 2;
	if (e->view > e->cur || e->view > e->len)
		e->view = e->cur;
	/* Scrolling back: show some context before the cursor. */
	while (e->view > 0 && e->view == e->cur)
		e->view = width_prev(e->buf, e->view);
	while ((w = width_str(e->buf + e->view, e->cur - e->view)) > cols - 1) {
		int cw;

		e->view +=
		    width_cluster(e->buf + e->view, e->len - e->view, &cw);
	}
	*start = e->view;
	*curcol = w;
}
