/* The full-screen client's command table: usage, help, completion. */
#include <stdlib.h>
#include <string.h>

#include "cmdtab.h"
#include "xmalloc.h"

static const struct cmdtab_entry cmdtab_table[] = {
    {"register", NULL, "/register NAME [PASSWORD]",
     "create an account and log in (asks for the password)", CMDTAB_ARG_NONE,
     CMDTAB_REGISTER},
    {"login", NULL, "/login [NAME] [PASSWORD]",
     "log in (asks for the password)", CMDTAB_ARG_NONE, CMDTAB_LOGIN},
    {"logout", NULL, "/logout", "log out", CMDTAB_ARG_NONE, CMDTAB_LOGOUT},
    {"add", NULL, "/add NAME", "add a friend", CMDTAB_ARG_NONE, CMDTAB_SERVER},
    {"remove", NULL, "/remove NAME", "remove a friend", CMDTAB_ARG_FRIEND,
     CMDTAB_SERVER},
    {"friends", NULL, "/friends", "list your friends", CMDTAB_ARG_NONE,
     CMDTAB_SERVER},
    {"msg", NULL, "/msg NAME|#GROUP [TEXT...]",
     "open a chat window (and send TEXT)", CMDTAB_ARG_TARGET, CMDTAB_MSG},
    {"group", "create", "/group create NAME [DESC...]", "create a group",
     CMDTAB_ARG_NONE, CMDTAB_SERVER},
    {"group", "join", "/group join NAME", "join a group", CMDTAB_ARG_NONE,
     CMDTAB_SERVER},
    {"group", "leave", "/group leave NAME", "leave a group", CMDTAB_ARG_GROUP,
     CMDTAB_SERVER},
    {"group", "members", "/group members NAME", "list a group's members",
     CMDTAB_ARG_GROUP, CMDTAB_SERVER},
    {"groups", NULL, "/groups", "list your groups", CMDTAB_ARG_NONE,
     CMDTAB_SERVER},
    {"win", NULL, "/win N|NAME", "go to a window", CMDTAB_ARG_WINDOW,
     CMDTAB_WIN},
    {"close", NULL, "/close [N|NAME]", "close a window (not the console)",
     CMDTAB_ARG_WINDOW, CMDTAB_CLOSE},
    {"roster", NULL, "/roster", "show or hide the roster panel",
     CMDTAB_ARG_NONE, CMDTAB_ROSTER},
    {"clear", NULL, "/clear", "clear the window", CMDTAB_ARG_NONE,
     CMDTAB_CLEAR},
    {"reconnect", NULL, "/reconnect", "connect again now", CMDTAB_ARG_NONE,
     CMDTAB_RECONNECT},
    {"retry", NULL, "/retry", "send this window's failed messages again",
     CMDTAB_ARG_NONE, CMDTAB_RETRY},
    {"help", NULL, "/help [COMMAND]", "list commands and keys",
     CMDTAB_ARG_COMMAND, CMDTAB_HELP},
    {"quit", NULL, "/quit", "leave natter", CMDTAB_ARG_NONE, CMDTAB_QUIT},
};

#define CMDTAB_N (sizeof(cmdtab_table) / sizeof(cmdtab_table[0]))

/* Table size. */
size_t
cmdtab_count(void)
{
	return CMDTAB_N;
}

/* Entry i. */
const struct cmdtab_entry *
cmdtab_at(size_t i)
{
	return i < CMDTAB_N ? &cmdtab_table[i] : NULL;
}

/* Length of the word at s (up to a blank). */
static size_t
cmdtab_wordlen(const char *s)
{
	return strcspn(s, " \t");
}

/* Skips blanks. */
static const char *
cmdtab_skip(const char *s)
{
	return s + strspn(s, " \t");
}

/* True if s's first word is exactly word. */
static bool
cmdtab_word_is(const char *s, const char *word)
{
	size_t n = cmdtab_wordlen(s);

	return n == strlen(word) && strncmp(s, word, n) == 0;
}

/* "/group join x" finds the group join entry; "/win 2" the win entry. */
const struct cmdtab_entry *
cmdtab_find(const char *line)
{
	const char *w, *sub;

	if (line[0] != '/')
		return NULL;
	w = line + 1;
	sub = cmdtab_skip(w + cmdtab_wordlen(w));
	for (size_t i = 0; i < CMDTAB_N; i++) {
		const struct cmdtab_entry *e = &cmdtab_table[i];

		if (cmdtab_word_is(w, e->word) &&
		    (e->sub == NULL || cmdtab_word_is(sub, e->sub)))
			return e;
	}
	return NULL;
}

/* The text after the command word(s). */
const char *
cmdtab_args(const struct cmdtab_entry *e, const char *line)
{
	const char *p = cmdtab_skip(line + 1 + cmdtab_wordlen(line + 1));

	if (e->sub != NULL)
		p = cmdtab_skip(p + cmdtab_wordlen(p));
	return p;
}

/* Appends s to a NULL-terminated list unless already there. */
void
cmdtab_list_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return;
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

/* Frees a list. */
void
cmdtab_free_list(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Commands (or /group subcommands) starting with the prefix. */
static void
cmdtab_cand_words(const char *prefix, size_t plen, bool subs, char ***v,
                  size_t *n)
{
	for (size_t i = 0; i < CMDTAB_N; i++) {
		const struct cmdtab_entry *e = &cmdtab_table[i];
		const char *w = subs ? e->sub : e->word;
		char *s;

		if (w == NULL || (subs && strcmp(e->word, "group") != 0) ||
		    strncmp(w, prefix, plen) != 0)
			continue;
		s = xasprintf("%s%s", subs ? "" : "/", w);
		cmdtab_list_add(v, n, s);
		free(s);
	}
}

/* Names of the kind that start with the prefix. */
static void
cmdtab_cand_names(enum cmdtab_arg kind, const char *prefix, size_t plen,
                  char **(*names_fn)(void *, enum cmdtab_arg), void *ud,
                  char ***v, size_t *n)
{
	char **names = names_fn(ud, kind);

	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		if (strncmp(names[i], prefix, plen) == 0)
			cmdtab_list_add(v, n, names[i]);
	cmdtab_free_list(names);
}

/* Which word (0-based) of the line starts at start. */
static int
cmdtab_word_index(const char *line, size_t start)
{
	int k = 0;
	const char *p = cmdtab_skip(line);

	while (*p != '\0' && (size_t)(p - line) < start) {
		p = cmdtab_skip(p + cmdtab_wordlen(p));
		if ((size_t)(p - line) <= start)
			k++;
	}
	return k;
}

/* Completion candidates for the word ending at pos. */
char **
cmdtab_candidates(const char *line, size_t pos, size_t *start,
                  char **(*names_fn)(void *ud, enum cmdtab_arg kind), void *ud)
{
	const struct cmdtab_entry *e;
	char **v = NULL;
	size_t n = 0, s = pos, plen;
	int k;

	while (s > 0 && line[s - 1] != ' ' && line[s - 1] != '\t')
		s--;
	*start = s;
	plen = pos - s;
	k = cmdtab_word_index(line, s);
	if (line[0] != '/')
		cmdtab_cand_names(CMDTAB_ARG_NONE, line + s, plen, names_fn, ud,
		                  &v, &n);
	else if (k == 0)
		cmdtab_cand_words(line + s + 1, plen > 0 ? plen - 1 : 0, false,
		                  &v, &n);
	else if (k == 1 && cmdtab_word_is(line + 1, "group"))
		cmdtab_cand_words(line + s, plen, true, &v, &n);
	else if ((e = cmdtab_find(line)) != NULL &&
	         e->arg == CMDTAB_ARG_COMMAND)
		cmdtab_cand_words(line + s, plen, false, &v, &n);
	else if (e != NULL && k == (e->sub != NULL ? 2 : 1))
		cmdtab_cand_names(e->arg, line + s, plen, names_fn, ud, &v, &n);
	return v;
}
