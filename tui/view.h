#ifndef NATTER_TUI_VIEW_H
#define NATTER_TUI_VIEW_H

#include <stddef.h>

/*
 * Drawing the full-screen client with curses: title bar, the current
 * window's lines, the roster and member panels, the status bar with the
 * hotlist, and the input line. Every width comes from width.h; each
 * cluster is put at the column width.h gives it.
 */
struct ui;
struct window;

#define VIEW_MIN_COLS 20
#define VIEW_MIN_ROWS 5

/* Colour pairs, once curses is up and has colours. */
void view_colours_init(void);
/* Redraws everything (or "terminal too small"). */
void view_draw(struct ui *u);
/* Rows of the message area, and rows w's lines take at its width. */
int view_body_rows(const struct ui *u);
int view_total_rows(const struct ui *u, const struct window *w);
/* A stable colour index 0..5 for a user name. */
unsigned view_name_colour(const char *name);

#endif
