#ifndef NATTER_TUI_KEYS_H
#define NATTER_TUI_KEYS_H

#include <stdbool.h>
#include <wchar.h>

/*
 * The key map of the full-screen client: one key from wget_wch (a whole
 * character, or a curses key code when is_key) does one thing. ESC then a
 * key is that key with Alt.
 */
struct ui;

void keys_feed(struct ui *u, bool is_key, wint_t ch);

#endif
