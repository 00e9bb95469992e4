/* Drawing: bars, lines, panels, input; all widths from width.h. */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "client.h"
#include "editor.h"
#include "roster.h"
#include "scrollback.h"
#include "ui.h"
#include "utf8.h"
#include "view.h"
#include "width.h"
#include "window.h"
#include "wrap.h"
#include "xmalloc.h"

enum {
	VIEW_PAIR_BAR = 1,
	VIEW_PAIR_ERROR,
	VIEW_PAIR_INFO,
	VIEW_PAIR_ONLINE,
	VIEW_PAIR_MARK,
	VIEW_PAIR_NAME0, /* six name colours from here */
};

#define VIEW_NAME_COLOURS 6
#define VIEW_PANEL_MAX 20

static bool view_has_colour;

/* Pairs on the terminal's default background. */
void
view_colours_init(void)
{
	static const short names[VIEW_NAME_COLOURS] = {
	    COLOR_RED,  COLOR_GREEN,   COLOR_YELLOW,
	    COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN};

	start_color();
	use_default_colors();
	init_pair(VIEW_PAIR_BAR, COLOR_WHITE, COLOR_BLUE);
	init_pair(VIEW_PAIR_ERROR, COLOR_RED, -1);
	init_pair(VIEW_PAIR_INFO, COLOR_CYAN, -1);
	init_pair(VIEW_PAIR_ONLINE, COLOR_GREEN, -1);
	init_pair(VIEW_PAIR_MARK, COLOR_YELLOW, -1);
	for (int i = 0; i < VIEW_NAME_COLOURS; i++)
		init_pair((short)(VIEW_PAIR_NAME0 + i), names[i], -1);
	view_has_colour = true;
}

/* A colour pair's attribute, or a fallback without colours. */
static attr_t
view_attr(int pair, attr_t fallback)
{
	return view_has_colour ? COLOR_PAIR(pair) : fallback;
}

/* FNV-1a of the name: the same user, the same colour, every run. */
unsigned
view_name_colour(const char *name)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % VIEW_NAME_COLOURS;
}

/* The cluster s[0..n) as a curses cell. */
static void
view_cell(const char *s, size_t n, attr_t attr, cchar_t *cc)
{
	wchar_t wc[CCHARW_MAX + 1];
	size_t i = 0;
	int k = 0;

	while (i < n && k < CCHARW_MAX) {
		uint32_t cp;
		int m = utf8_decode(s + i, n - i, &cp);

		if (m < 0) {
			cp = 0xFFFD;
			m = 1;
		} else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
			cp = '?';
		wc[k++] = (wchar_t)cp;
		i += (size_t)m;
	}
	wc[k] = L'\0';
	setcchar(cc, wc, attr, 0, NULL);
}

/*
 * Puts s[0..len) at (y, x), cluster by cluster at the columns width.h
 * gives, stopping before maxw columns. Returns the columns used.
 */
static int
view_put(int y, int x, int maxw, const char *s, size_t len, attr_t attr)
{
	size_t i = 0;
	int used = 0;

	while (i < len) {
		int w;
		size_t n = width_cluster(s + i, len - i, &w);
		cchar_t cc;

		if (used + w > maxw)
			break;
		view_cell(s + i, n, attr, &cc);
		mvadd_wch(y, x + used, &cc);
		used += w;
		i += n;
	}
	return used;
}

/* A whole row in one attribute, blanks to the edge. */
static void
view_bar(int y, int x, int w, const char *s, attr_t attr)
{
	int used;

	attrset(attr);
	mvhline(y, x, ' ', w);
	used = view_put(y, x, w, s, strlen(s), attr);
	(void)used;
	attrset(A_NORMAL);
}

/* Columns left for the panel: none when off or the screen is narrow. */
static int
view_panel_cols(const struct ui *u)
{
	int w = u->cols / 4;

	if (!u->roster_on || u->cols < 50)
		return 0;
	return w > VIEW_PANEL_MAX ? VIEW_PANEL_MAX : w;
}

/* Message area size. */
int
view_body_rows(const struct ui *u)
{
	return u->rows - 3;
}

/* Width of the message area. */
static int
view_body_cols(const struct ui *u)
{
	int p = view_panel_cols(u);

	return p > 0 ? u->cols - p - 1 : u->cols;
}

/* The user's time_format (from the config file, so not a literal). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void
view_strftime(const struct ui *u, time_t t, char *buf, size_t size)
{
	struct tm tm;

	localtime_r(&t, &tm);
	if (strftime(buf, size, u->opts->time_format, &tm) == 0)
		buf[0] = '\0';
}
#pragma GCC diagnostic pop

/* "12:34 " by the configured format. */
static void
view_time(const struct ui *u, int64_t ts_ms, char *buf, size_t size)
{
	view_strftime(u, (time_t)(ts_ms / 1000), buf, size - 1);
	strcat(buf, " ");
}

/* The prefix of an entry: time, then "<name> " or "-!- ". */
static char *
view_prefix(const struct ui *u, const struct scrollback_entry *e)
{
	char t[64];
	const char *mark = e->state == SCROLLBACK_PENDING  ? "~"
	                   : e->state == SCROLLBACK_FAILED ? "!"
	                                                   : "";

	view_time(u, e->ts_ms, t, sizeof(t));
	if (e->kind == SCROLLBACK_MSG)
		return xasprintf("%s%s<%s> ", t, mark, e->from);
	return xasprintf("%s-!- ", t);
}

/* Indent of continuation rows: the prefix, unless it eats the row. */
static int
view_indent(int prefix_w, int cols)
{
	return prefix_w < cols / 2 ? prefix_w : 0;
}

/* Rows an entry takes. */
static int
view_entry_rows(const struct ui *u, struct scrollback_entry *e, int cols)
{
	int key = cols * 4 + (int)e->state + 1;
	char *p;

	if (e->rows_key == key)
		return e->rows;
	p = view_prefix(u, e);
	int pw = width_str(p, strlen(p)), ind = view_indent(pw, cols);
	size_t len = strlen(e->text), next;
	size_t first =
	    wrap_next(e->text, len, cols - pw > 0 ? cols - pw : 1, &next);
	int rows = 1;

	(void)first;
	free(p);
	if (next < len)
		rows += wrap_count(e->text + next, len - next, cols - ind);
	e->rows_key = key;
	e->rows = rows;
	return rows;
}

/* Rows of the whole scrollback, plus the separator. */
int
view_total_rows(const struct ui *u, const struct window *w)
{
	int cols = view_body_cols(u), rows = w->first_new ? 1 : 0;

	for (size_t i = 0; i < scrollback_count(w->sb); i++)
		rows += view_entry_rows(u, scrollback_at(w->sb, i), cols);
	return rows;
}

/* The attribute of an entry's text. */
static attr_t
view_entry_attr(const struct scrollback_entry *e)
{
	if (e->kind == SCROLLBACK_ERROR || e->state == SCROLLBACK_FAILED)
		return view_attr(VIEW_PAIR_ERROR, A_BOLD);
	if (e->kind == SCROLLBACK_INFO)
		return view_attr(VIEW_PAIR_INFO, A_NORMAL);
	if (e->state == SCROLLBACK_PENDING)
		return A_DIM;
	return A_NORMAL;
}

/*
 * Draws rows [skip, skip+avail) of an entry at screen row y; returns the
 * rows drawn. The prefix is coloured by the sender's name.
 */
static int
view_entry_draw(const struct ui *u, const struct scrollback_entry *e, int y,
                int cols, int skip, int avail)
{
	char *p = view_prefix(u, e);
	int pw = width_str(p, strlen(p)), ind = view_indent(pw, cols);
	size_t len = strlen(e->text), off = 0, n, next;
	attr_t ta = view_entry_attr(e), pa = ta;
	int row = 0, drawn = 0;

	if (e->kind == SCROLLBACK_MSG && e->from != NULL)
		pa = view_attr(VIEW_PAIR_NAME0 + (int)view_name_colour(e->from),
		               A_BOLD);
	do {
		int x = row == 0 ? pw : ind;

		n = wrap_next(e->text + off, len - off,
		              cols - x > 0 ? cols - x : 1, &next);
		if (row >= skip && drawn < avail) {
			if (row == 0)
				view_put(y + drawn, 0, cols, p, strlen(p), pa);
			view_put(y + drawn, x, cols - x, e->text + off, n, ta);
			drawn++;
		}
		off += next;
		row++;
	} while (off < len);
	free(p);
	return drawn;
}

/* "--- new messages ---" */
static void
view_separator(int y, int cols)
{
	attr_t a = view_attr(VIEW_PAIR_MARK, A_BOLD);
	const char *label = "-- new messages --";

	attrset(a);
	mvhline(y, 0, ACS_HLINE, cols);
	view_put(y, 2, cols - 2, label, strlen(label), a);
	attrset(A_NORMAL);
}

/*
 * The current window's lines, bottom-aligned, w->scroll rows up from the
 * end. Entries are measured from the newest back, so drawing costs what
 * is on screen plus the scroll distance.
 */
static void
view_body(const struct ui *u, struct window *w)
{
	int rows = view_body_rows(u), cols = view_body_cols(u);
	int total = view_total_rows(u, w), top, y, cur = 0;

	if (w->scroll > total - rows)
		w->scroll = total - rows > 0 ? total - rows : 0;
	top = total - rows - w->scroll; /* first row shown (may be < 0) */
	y = top < 0 ? -top : 0;
	for (size_t i = 0; i < scrollback_count(w->sb) && y < rows; i++) {
		struct scrollback_entry *e = scrollback_at(w->sb, i);
		int er;

		if (w->first_new != 0 && e->id == w->first_new) {
			if (cur >= top)
				view_separator(1 + y++, cols);
			cur++;
			if (y >= rows)
				break;
		}
		er = view_entry_rows(u, e, cols);
		if (cur + er > top) {
			int skip = top > cur ? top - cur : 0;

			y += view_entry_draw(u, e, 1 + y, cols, skip, rows - y);
		}
		cur += er;
	}
}

/* A panel heading, then names; returns the next free row. */
static int
view_panel_head(int y, int x, int w, const char *title)
{
	view_put(y, x, w, title, strlen(title), A_BOLD | A_UNDERLINE);
	return y + 1;
}

/* One panel name: online ones marked and coloured. */
static void
view_panel_name(int y, int x, int w, const char *prefix, const char *name,
                bool online)
{
	attr_t a = online ? view_attr(VIEW_PAIR_ONLINE, A_BOLD) : A_DIM;
	int used = view_put(y, x, w, prefix, strlen(prefix), a);

	view_put(y, x + used, w - used, name, strlen(name), a);
}

/* Friends (online first marked '+'), then groups; members in a group. */
static void
view_panel(const struct ui *u, const struct window *cw)
{
	const struct roster *r = client_roster(u->c);
	int pw = view_panel_cols(u), x = u->cols - pw, y = 1;
	int end = 1 + view_body_rows(u);
	int mid = cw->kind == WINDOW_GROUP ? 1 + view_body_rows(u) / 2 : end;

	mvvline(1, x - 1, ACS_VLINE, view_body_rows(u));
	y = view_panel_head(y, x, pw, "Friends");
	for (size_t i = 0; i < roster_friend_count(r) && y < mid; i++) {
		const struct roster_friend *f = roster_friend_at(r, i);

		view_panel_name(y++, x, pw, f->online ? "+" : " ", f->name,
		                f->online);
	}
	if (y < mid)
		y = view_panel_head(y, x, pw, "Groups");
	for (size_t i = 0; i < roster_group_count(r) && y < mid; i++)
		view_panel_name(y++, x, pw, "#", roster_group_at(r, i)->name,
		                false);
	if (cw->kind != WINDOW_GROUP)
		return;
	y = view_panel_head(mid, x, pw, "Members");
	for (size_t i = 0; i < cw->nmembers && y < end; i++)
		view_panel_name(y++, x, pw, cw->members[i].online ? "+" : " ",
		                cw->members[i].name, cw->members[i].online);
}

/* The title: the peer's presence, or the group and its size. */
static void
view_title(const struct ui *u, const struct window *w)
{
	const struct roster_friend *f;
	char *s;

	if (w->kind == WINDOW_USER) {
		f = roster_friend_by_id(client_roster(u->c), w->id);
		s = xasprintf(" %s - %s", w->name,
		              f == NULL   ? "not a friend"
		              : f->online ? "online"
		                          : "offline");
	} else if (w->kind == WINDOW_GROUP)
		s = xasprintf(" #%s - %zu member%s", w->name, w->nmembers,
		              w->nmembers == 1 ? "" : "s");
	else
		s = xasprintf(" natter %s - console - /help for commands",
		              NATTER_VERSION);
	view_bar(0, 0, u->cols, s, view_attr(VIEW_PAIR_BAR, A_REVERSE));
	free(s);
}

/* "connected", "reconnecting in 3s", ... */
static char *
view_conn(const struct ui *u)
{
	long ms;

	switch (client_state(u->c)) {
	case CLIENT_LOGGED_IN:
		return xstrdup("connected");
	case CLIENT_CONNECTED:
		return xstrdup("connected, not logged in");
	case CLIENT_LOGGING_IN:
		return xstrdup("logging in");
	case CLIENT_CONNECTING:
		return xstrdup(u->logged_in_once ? "reconnecting"
		                                 : "connecting");
	case CLIENT_DISCONNECTED:
		break;
	}
	if ((ms = client_reconnect_in_ms(u->c)) >= 0)
		return xasprintf("reconnecting in %lds", (ms + 999) / 1000);
	return xstrdup("disconnected");
}

/*
 * The hotlist after x on the status row: "2:bob(3)!" in bold for unread
 * direct messages, "3:#dev(1)" for a group, "4:carol" for notices only.
 */
static void
view_hotlist(const struct ui *u, int y, int x, attr_t bar)
{
	bool first = true;

	for (size_t i = 1; i < window_count(u->wl) && x < u->cols; i++) {
		const struct window *w = window_at(u->wl, i);
		bool direct = w->kind == WINDOW_USER && w->unread > 0;
		char count[32] = "", *item;

		if (w->unread == 0 && !w->activity)
			continue;
		if (w->unread > 0)
			snprintf(count, sizeof(count), "(%u)%s", w->unread,
			         direct ? "!" : "");
		item = xasprintf("%s%zu:%s%s%s", first ? "[Act: " : " ", i + 1,
		                 w->kind == WINDOW_GROUP ? "#" : "", w->name,
		                 count);
		x += view_put(y, x, u->cols - x, item, strlen(item),
		              direct ? bar | A_BOLD : bar);
		free(item);
		first = false;
	}
	if (!first)
		view_put(y, x, u->cols - x, "]", 1, bar);
}

/* Time, user, connection, window, then the hotlist. */
static void
view_status(const struct ui *u, const struct window *w)
{
	attr_t bar = view_attr(VIEW_PAIR_BAR, A_REVERSE);
	char clock[64], *conn = view_conn(u), *s;
	const char *who = client_self_name(u->c);
	int x;

	view_strftime(u, time(NULL), clock, sizeof(clock));
	s = xasprintf(" %s [%s] [%s] [%zu:%s%s] ", clock,
	              who != NULL ? who : "-", conn,
	              window_current_index(u->wl) + 1,
	              w->kind == WINDOW_GROUP ? "#" : "", w->name);
	view_bar(u->rows - 2, 0, u->cols, s, bar);
	x = width_str(s, strlen(s));
	view_hotlist(u, u->rows - 2, x, bar);
	free(s);
	free(conn);
}

/* The input line (or the password prompt, which shows nothing typed). */
static void
view_input(struct ui *u, struct window *w)
{
	int y = u->rows - 1, pw, col;
	size_t start;
	char *prompt;

	move(y, 0);
	clrtoeol();
	if (u->prompt != UI_PROMPT_NONE) {
		prompt = xasprintf("Password for %s: ", u->prompt_name);
		pw =
		    view_put(y, 0, u->cols - 1, prompt, strlen(prompt), A_BOLD);
		free(prompt);
		move(y, pw);
		return;
	}
	prompt = w->kind == WINDOW_CONSOLE ? xstrdup("[natter] ")
	         : w->kind == WINDOW_GROUP ? xasprintf("[#%s] ", w->name)
	                                   : xasprintf("[%s] ", w->name);
	pw = view_put(y, 0, u->cols / 3, prompt, strlen(prompt), A_BOLD);
	free(prompt);
	editor_view(w->ed, u->cols - pw, &start, &col);
	view_put(y, pw, u->cols - pw, editor_text(w->ed) + start,
	         editor_len(w->ed) - start, A_NORMAL);
	move(y, pw + col);
}

/* Below the minimum size nothing fits: say so instead. */
static void
view_too_small(const struct ui *u)
{
	const char *msg = "terminal too small";
	size_t off = 0, len = strlen(msg), n, next;

	erase();
	for (int y = 0; y < u->rows && off < len; y++) {
		n = wrap_next(msg + off, len - off, u->cols, &next);
		view_put(y, 0, u->cols, msg + off, n, A_BOLD);
		off += next;
	}
	curs_set(0);
	refresh();
}

/* The whole screen. */
void
view_draw(struct ui *u)
{
	struct window *w = window_current(u->wl);

	if (u->cols < VIEW_MIN_COLS || u->rows < VIEW_MIN_ROWS) {
		view_too_small(u);
		return;
	}
	erase();
	view_title(u, w);
	view_body(u, w);
	if (view_panel_cols(u) > 0)
		view_panel(u, w);
	view_status(u, w);
	curs_set(1);
	view_input(u, w);
	refresh();
}
