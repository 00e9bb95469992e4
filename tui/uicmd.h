#ifndef NATTER_TUI_UICMD_H
#define NATTER_TUI_UICMD_H

#include <stdbool.h>

/*
 * The full-screen client's /commands (the table is cmdtab.h): their
 * handlers, Enter and Tab. Server commands reuse cmd.h's parsing and
 * requests.
 */
struct ui;

/* Enter: the current window's line is run or sent. */
void uicmd_submit(struct ui *u);
/* Tab: complete, or cycle to the next candidate. */
void uicmd_complete(struct ui *u);
/* A password typed at the prompt: log in or register name. */
void uicmd_credentials(struct ui *u, bool reg, const char *name,
                       const char *password);

#endif
