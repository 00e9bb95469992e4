/* Keys to actions: windows, scrolling, the line editor, the prompt. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "editor.h"
#include "keys.h"
#include "ui.h"
#include "uicmd.h"
#include "view.h"
#include "window.h"
#include "xmalloc.h"

#define KEYS_CTRL(c) ((c)&0x1f)

/* A terminfo extended key's code (Alt-Left is "kLFT3"), or -1. */
static int
keys_code(const char *name)
{
	static struct {
		const char *name;
		int code;
	} cache[8];
	size_t i;

	for (i = 0; i < 8 && cache[i].name != NULL; i++)
		if (strcmp(cache[i].name, name) == 0)
			return cache[i].code;
	if (i == 8)
		return -1;
	cache[i].name = name;
	cache[i].code = key_defined(name);
	if (cache[i].code <= 0)
		cache[i].code = -1;
	return cache[i].code;
}

/* Window i, relative moves wrapping around. */
static void
keys_window_step(struct ui *u, int step)
{
	size_t n = window_count(u->wl);
	size_t cur = window_current_index(u->wl);

	ui_select(u, (cur + n + (size_t)((int)n + step)) % n);
}

/* PgUp/PgDn; past the top asks the server for older messages. */
static void
keys_page(struct ui *u, int dir)
{
	struct window *w = window_current(u->wl);
	int page = view_body_rows(u) - 1, max;

	if (page < 1)
		page = 1;
	max = view_total_rows(u, w) - view_body_rows(u);
	if (max < 0)
		max = 0;
	w->scroll += dir * page;
	if (w->scroll < 0)
		w->scroll = 0;
	if (dir > 0 && w->scroll >= max) {
		w->scroll = max;
		ui_history(u, w);
	}
	ui_dirty(u);
}

/* Enter in the password prompt. */
static void
keys_prompt_done(struct ui *u)
{
	char *pw = editor_take(u->secret, false);
	enum ui_prompt kind = u->prompt;

	u->prompt = UI_PROMPT_NONE;
	if (*pw != '\0')
		uicmd_credentials(u, kind == UI_PROMPT_REGISTER, u->prompt_name,
		                  pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	editor_free(u->secret);
	u->secret = NULL;
	ui_dirty(u);
}

/* The prompt takes text, Backspace, ^U, Enter; Esc or ^G cancels. */
static void
keys_prompt(struct ui *u, bool is_key, wint_t ch)
{
	char buf[8];
	int n;

	if (!is_key && (ch == '\r' || ch == '\n'))
		keys_prompt_done(u);
	else if ((!is_key && (ch == 27 || ch == KEYS_CTRL('g'))) ||
	         (!is_key && ch == KEYS_CTRL('c'))) {
		u->prompt = UI_PROMPT_NONE;
		ui_dirty(u);
	} else if ((is_key && ch == KEY_BACKSPACE) ||
	           (!is_key && (ch == 127 || ch == 8)))
		editor_backspace(u->secret);
	else if (!is_key && ch == KEYS_CTRL('u'))
		editor_kill_start(u->secret);
	else if (!is_key && ch >= 0x20 && (n = wctomb(buf, (wchar_t)ch)) > 0)
		editor_insert(u->secret, buf, (size_t)n);
}

/* Curses key codes. */
static void
keys_special(struct ui *u, struct editor *ed, wint_t ch, bool alt)
{
	if ((int)ch == keys_code("kLFT3") || (alt && ch == KEY_LEFT))
		keys_window_step(u, -1);
	else if ((int)ch == keys_code("kRIT3") || (alt && ch == KEY_RIGHT))
		keys_window_step(u, 1);
	else if ((int)ch == keys_code("kLFT5"))
		editor_word_left(ed);
	else if ((int)ch == keys_code("kRIT5"))
		editor_word_right(ed);
	else if (ch == KEY_LEFT)
		editor_left(ed);
	else if (ch == KEY_RIGHT)
		editor_right(ed);
	else if (ch == KEY_HOME)
		editor_home(ed);
	else if (ch == KEY_END)
		editor_end(ed);
	else if (ch == KEY_UP)
		editor_history_prev(ed);
	else if (ch == KEY_DOWN)
		editor_history_next(ed);
	else if (ch == KEY_BACKSPACE)
		editor_backspace(ed);
	else if (ch == KEY_DC)
		editor_delete(ed);
	else if (ch == KEY_PPAGE)
		keys_page(u, 1);
	else if (ch == KEY_NPAGE)
		keys_page(u, -1);
	else if (ch == KEY_ENTER)
		uicmd_submit(u);
	else if (ch == KEY_RESIZE)
		ui_resize(u, true);
}

/* Alt with a character: windows and words. */
static void
keys_alt(struct ui *u, struct editor *ed, wint_t ch)
{
	long i;

	if (ch >= '1' && ch <= '9')
		ui_select(u, (size_t)(ch - '1'));
	else if (ch == '0')
		ui_select(u, 9);
	else if (ch == 'a' && (i = window_next_unread(u->wl)) >= 0)
		ui_select(u, (size_t)i);
	else if (ch == 'b')
		editor_word_left(ed);
	else if (ch == 'f')
		editor_word_right(ed);
	else if (ch == 127 || ch == 8)
		editor_kill_word(ed);
	else if (ch == 'd') {
		editor_word_right(ed);
		editor_kill_word(ed);
	}
}

/* Control characters. */
static void
keys_ctrl(struct ui *u, struct editor *ed, wint_t ch)
{
	switch (ch) {
	case KEYS_CTRL('a'):
		editor_home(ed);
		break;
	case KEYS_CTRL('e'):
		editor_end(ed);
		break;
	case KEYS_CTRL('b'):
		editor_left(ed);
		break;
	case KEYS_CTRL('f'):
		editor_right(ed);
		break;
	case KEYS_CTRL('d'):
		editor_delete(ed);
		break;
	case KEYS_CTRL('k'):
		editor_kill_end(ed);
		break;
	case KEYS_CTRL('u'):
		editor_kill_start(ed);
		break;
	case KEYS_CTRL('w'):
		editor_kill_word(ed);
		break;
	case KEYS_CTRL('y'):
		editor_yank(ed);
		break;
	case KEYS_CTRL('p'):
		keys_window_step(u, -1);
		break;
	case KEYS_CTRL('n'):
		keys_window_step(u, 1);
		break;
	case KEYS_CTRL('l'):
		ui_resize(u, true);
		break;
	case KEYS_CTRL('i'):
		uicmd_complete(u);
		return;
	case KEYS_CTRL('h'):
	case 127:
		editor_backspace(ed);
		break;
	case '\r':
	case '\n':
		uicmd_submit(u);
		break;
	default:
		break;
	}
}

/* One key. */
void
keys_feed(struct ui *u, bool is_key, wint_t ch)
{
	struct editor *ed = window_current(u->wl)->ed;
	bool alt = u->esc;
	char buf[8];
	int n;

	if (u->prompt != UI_PROMPT_NONE) {
		keys_prompt(u, is_key, ch);
		ui_dirty(u);
		return;
	}
	if (!is_key && ch == 27 && !u->esc) {
		u->esc = true;
		return;
	}
	u->esc = false;
	if (!(!is_key && ch == KEYS_CTRL('i')))
		u->comp_active = false;
	if (is_key)
		keys_special(u, ed, ch, alt);
	else if (alt)
		keys_alt(u, ed, ch);
	else if (ch < 0x20 || ch == 127)
		keys_ctrl(u, ed, ch);
	else if ((n = wctomb(buf, (wchar_t)ch)) > 0)
		editor_insert(ed, buf, (size_t)n);
	ui_dirty(u);
}
