#ifndef NATTER_TUI_CMDTAB_H
#define NATTER_TUI_CMDTAB_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The full-screen client's /commands in one table: each command's words,
 * usage, help line, what its NAME argument completes to, and which
 * handler runs it (uicmd.c). /help and Tab completion are generated from
 * it. Pure logic: no terminal, no client.
 */
enum cmdtab_arg {
	CMDTAB_ARG_NONE,
	CMDTAB_ARG_FRIEND,  /* a friend */
	CMDTAB_ARG_GROUP,   /* a group */
	CMDTAB_ARG_TARGET,  /* a friend or a group */
	CMDTAB_ARG_WINDOW,  /* an open window's name */
	CMDTAB_ARG_COMMAND, /* a command name (/help) */
};

enum cmdtab_id {
	CMDTAB_REGISTER,
	CMDTAB_LOGIN,
	CMDTAB_LOGOUT,
	CMDTAB_SERVER, /* one request, parsed by cmd.c */
	CMDTAB_MSG,
	CMDTAB_WIN,
	CMDTAB_CLOSE,
	CMDTAB_ROSTER,
	CMDTAB_CLEAR,
	CMDTAB_RECONNECT,
	CMDTAB_RETRY,
	CMDTAB_HELP,
	CMDTAB_QUIT,
};

struct cmdtab_entry {
	const char *word;
	const char *sub; /* second word ("group create"), or NULL */
	const char *usage;
	const char *help;
	enum cmdtab_arg arg;
	enum cmdtab_id id;
};

size_t cmdtab_count(void);
const struct cmdtab_entry *cmdtab_at(size_t i);
/* The entry for "/word [sub] ..." at the start of line, or NULL. */
const struct cmdtab_entry *cmdtab_find(const char *line);
/* The text after the command word(s) of line (which e matched). */
const char *cmdtab_args(const struct cmdtab_entry *e, const char *line);

/*
 * Candidates for completing the word that ends at byte pos of line:
 * command names for the first word of a /line, subcommands after
 * "/group", command names after "/help", names of the command's argument
 * kind for its NAME, and names of kind CMDTAB_ARG_NONE ("people") in
 * plain text. names_fn(ud, kind) returns a NULL-terminated list (freed
 * here). Returns a NULL-terminated list (or NULL if none) that the caller
 * frees with cmdtab_free_list; *start gets the word's first byte.
 */
char **cmdtab_candidates(const char *line, size_t pos, size_t *start,
                         char **(*names_fn)(void *ud, enum cmdtab_arg kind),
                         void *ud);
/* Appends a copy of s to the NULL-terminated list *v of *n unless there. */
void cmdtab_list_add(char ***v, size_t *n, const char *s);
void cmdtab_free_list(char **v);

#endif
