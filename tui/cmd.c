/* Parsing /command lines, and the protocol requests behind them. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd.h"
#include "codec.h"
#include "errcode.h"
#include "roster.h"
#include "xmalloc.h"

/* What follows the command word(s). */
enum cmd_args {
	CMD_A_NONE,         /* nothing */
	CMD_A_NAME,         /* NAME */
	CMD_A_NAME_REST,    /* NAME REST... (rest required) */
	CMD_A_NAME_OPTREST, /* NAME [REST...] */
	CMD_A_NAME_OPTNUM,  /* NAME [N] */
	CMD_A_SECONDS,      /* SECONDS */
};

/* One command: its words, what it takes, its label and usage. */
struct cmd_entry {
	const char *word;
	const char *sub; /* second word, or NULL */
	enum cmd_kind kind;
	enum cmd_args args;
	const char *label;
	const char *usage;
};

static const struct cmd_entry cmd_table[] = {
    {"register", NULL, CMD_REGISTER, CMD_A_NAME_REST, "register",
     "/register NAME PASSWORD"},
    {"login", NULL, CMD_LOGIN, CMD_A_NAME_OPTREST, "login",
     "/login NAME PASSWORD"},
    {"logout", NULL, CMD_LOGOUT, CMD_A_NONE, "logout", "/logout"},
    {"add", NULL, CMD_ADD, CMD_A_NAME, "add", "/add NAME"},
    {"remove", NULL, CMD_REMOVE, CMD_A_NAME, "remove", "/remove NAME"},
    {"friends", NULL, CMD_FRIENDS, CMD_A_NONE, "friends", "/friends"},
    {"msg", NULL, CMD_MSG, CMD_A_NAME_REST, "msg", "/msg NAME|#GROUP TEXT..."},
    {"group", "create", CMD_GROUP_CREATE, CMD_A_NAME_OPTREST, "group_create",
     "/group create NAME [DESC...]"},
    {"group", "join", CMD_GROUP_JOIN, CMD_A_NAME, "group_join",
     "/group join NAME"},
    {"group", "leave", CMD_GROUP_LEAVE, CMD_A_NAME, "group_leave",
     "/group leave NAME"},
    {"group", "members", CMD_GROUP_MEMBERS, CMD_A_NAME, "members",
     "/group members NAME"},
    {"groups", NULL, CMD_GROUPS, CMD_A_NONE, "groups", "/groups"},
    {"history", NULL, CMD_HISTORY, CMD_A_NAME_OPTNUM, "history",
     "/history NAME|#GROUP [N]"},
    {"sync", NULL, CMD_SYNC, CMD_A_NONE, "sync", "/sync"},
    {"sleep", NULL, CMD_SLEEP, CMD_A_SECONDS, "sleep", "/sleep SECONDS"},
    {"quit", NULL, CMD_QUIT, CMD_A_NONE, "quit", "/quit"},
    {"help", NULL, CMD_HELP, CMD_A_NONE, "help", "/help"},
};

#define CMD_NTABLE (sizeof(cmd_table) / sizeof(cmd_table[0]))

/* Spaces and tabs separate words; nothing else does. */
static const char *
cmd_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Copies the word at *p (advancing past it), or NULL at the end. */
static char *
cmd_word(const char **p)
{
	const char *s = cmd_skip_space(*p), *e = s;

	while (*e != '\0' && *e != ' ' && *e != '\t')
		e++;
	*p = e;
	return e == s ? NULL : xstrndup(s, (size_t)(e - s));
}

/* Sets the output label, truncated to fit. */
static void
cmd_set_label(struct cmd *c, const char *label, size_t len)
{
	if (len >= CMD_LABEL_MAX)
		len = CMD_LABEL_MAX - 1;
	memcpy(c->label, label, len);
	c->label[len] = '\0';
}

/* The table entry for word [sub], or NULL. */
static const struct cmd_entry *
cmd_lookup(const char *word, const char *sub)
{
	for (size_t i = 0; i < CMD_NTABLE; i++) {
		const struct cmd_entry *e = &cmd_table[i];

		if (strcmp(e->word, word) != 0)
			continue;
		if (e->sub == NULL || (sub != NULL && strcmp(e->sub, sub) == 0))
			return e;
	}
	return NULL;
}

/* True if the word is a prefix for subcommands ("group"). */
static bool
cmd_has_subs(const char *word)
{
	for (size_t i = 0; i < CMD_NTABLE; i++)
		if (cmd_table[i].sub != NULL &&
		    strcmp(cmd_table[i].word, word) == 0)
			return true;
	return false;
}

/* A positive decimal count for /history. */
static int
cmd_parse_count(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || v > 100000)
		return -ERR_BAD_REQUEST;
	*out = v;
	return 0;
}

/* Seconds for /sleep: a non-negative number, at most a day. */
static int
cmd_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0 || v > 86400)
		return -ERR_BAD_REQUEST;
	*out = v;
	return 0;
}

/* Arguments after the command words, per the entry's shape. */
static int
cmd_parse_args(const struct cmd_entry *e, const char *p, struct cmd *c)
{
	char *w;
	int r = 0;

	if (e->args == CMD_A_NONE)
		return *cmd_skip_space(p) == '\0' ? 0 : -ERR_BAD_REQUEST;
	if ((w = cmd_word(&p)) == NULL)
		return -ERR_BAD_REQUEST;
	if (e->args == CMD_A_SECONDS) {
		r = cmd_parse_seconds(w, &c->seconds);
		free(w);
		return r == 0 && *cmd_skip_space(p) == '\0' ? 0
		                                            : -ERR_BAD_REQUEST;
	}
	c->arg = w;
	p = cmd_skip_space(p);
	switch (e->args) {
	case CMD_A_NAME:
		return *p == '\0' ? 0 : -ERR_BAD_REQUEST;
	case CMD_A_NAME_REST:
		if (*p == '\0')
			return -ERR_BAD_REQUEST;
		c->rest = xstrdup(p);
		return 0;
	case CMD_A_NAME_OPTREST:
		c->rest = *p == '\0' ? NULL : xstrdup(p);
		return 0;
	case CMD_A_NAME_OPTNUM:
		if (*p == '\0')
			return 0;
		if ((w = cmd_word(&p)) == NULL)
			return -ERR_BAD_REQUEST;
		r = cmd_parse_count(w, &c->count);
		free(w);
		return r == 0 && *cmd_skip_space(p) == '\0' ? 0
		                                            : -ERR_BAD_REQUEST;
	default:
		return -ERR_BAD_REQUEST;
	}
}

/* A line that does not start with '/': blank, or text for the chat. */
static int
cmd_parse_text(const char *line, struct cmd *c)
{
	if (*cmd_skip_space(line) == '\0') {
		c->kind = CMD_EMPTY;
		return 0;
	}
	c->kind = CMD_TEXT;
	cmd_set_label(c, "-", 1);
	c->rest = xstrdup(line);
	return 0;
}

/* Splits the command word(s) off and hands the rest to cmd_parse_args. */
int
cmd_parse(const char *line, struct cmd *c, const char **err)
{
	const struct cmd_entry *e;
	const char *p = line + 1;
	char *word, *sub = NULL;
	bool subs;

	memset(c, 0, sizeof(*c));
	*err = NULL;
	if (line[0] != '/')
		return cmd_parse_text(line, c);
	if ((word = cmd_word(&p)) == NULL) {
		cmd_set_label(c, "-", 1);
		*err = "empty command (try /help)";
		return -ERR_UNKNOWN_TYPE;
	}
	cmd_set_label(c, word, strlen(word));
	subs = cmd_has_subs(word);
	if (subs)
		sub = cmd_word(&p);
	e = cmd_lookup(word, sub);
	free(word);
	free(sub);
	if (e == NULL && subs) {
		*err = "/group create|join|leave|members NAME";
		return -ERR_BAD_REQUEST;
	}
	if (e == NULL) {
		*err = "unknown command (try /help)";
		return -ERR_UNKNOWN_TYPE;
	}
	c->kind = e->kind;
	cmd_set_label(c, e->label, strlen(e->label));
	if (cmd_parse_args(e, p, c) < 0) {
		free(c->arg);
		free(c->rest);
		c->arg = c->rest = NULL;
		*err = e->usage;
		return -ERR_BAD_REQUEST;
	}
	return 0;
}

/* Frees the arguments; the struct can be parsed into again. */
void
cmd_clear(struct cmd *c)
{
	free(c->arg);
	free(c->rest);
	c->arg = c->rest = NULL;
}

/* A request object {"type":type}, optionally with "name". */
static struct json_object *
cmd_new_req(const char *type, const char *name)
{
	struct json_object *o = json_object_new_object();

	codec_set_string(o, "type", type);
	if (name != NULL)
		codec_set_string(o, "name", name);
	return o;
}

/* A group of the roster by name, "#" prefix allowed. */
static int
cmd_group_id(const struct roster *r, const char *name, int64_t *id, char **err)
{
	const struct roster_group *g;

	if (name[0] == '#')
		name++;
	if ((g = roster_group_by_name(r, name)) == NULL) {
		*err = xasprintf("you are in no group named %s", name);
		return -ERR_NOT_FOUND;
	}
	*id = g->id;
	return 0;
}

/* /history NAME [N]: the conversation with a friend or group. */
static int
cmd_history_req(const struct cmd *c, const struct roster *r, int64_t self,
                struct json_object **req, char **err)
{
	int64_t user, group;
	char *conv;

	if (roster_resolve(r, c->arg, &user, &group) < 0) {
		*err = xasprintf("no friend or group named %s", c->arg);
		return -ERR_NOT_FOUND;
	}
	conv = roster_conv(self, user, group);
	*req = cmd_new_req("history", NULL);
	codec_set_string(*req, "conv", conv);
	if (c->count > 0)
		codec_set_int(*req, "limit", c->count);
	free(conv);
	return 0;
}

/* Commands whose request needs an id from the roster. */
static int
cmd_roster_req(const struct cmd *c, const struct roster *r,
               struct json_object **req, char **err)
{
	const struct roster_friend *f;
	int64_t id;
	int rc;

	if (c->kind == CMD_REMOVE) {
		if ((f = roster_friend_by_name(r, c->arg)) == NULL) {
			*err = xasprintf("no friend named %s", c->arg);
			return -ERR_NOT_FOUND;
		}
		*req = cmd_new_req("friend_remove", NULL);
		codec_set_int(*req, "user", f->id);
		return 0;
	}
	if ((rc = cmd_group_id(r, c->arg, &id, err)) < 0)
		return rc;
	*req = cmd_new_req(
	    c->kind == CMD_GROUP_LEAVE ? "group_leave" : "group_members", NULL);
	codec_set_int(*req, "group", id);
	return 0;
}

/* One request per command; names go through the roster. */
int
cmd_request(const struct cmd *c, const struct roster *r, int64_t self,
            struct json_object **req, char **err)
{
	*req = NULL;
	*err = NULL;
	switch (c->kind) {
	case CMD_REGISTER:
	case CMD_LOGIN:
		if (c->rest == NULL) {
			*err = xstrdup("a password is required");
			return -ERR_BAD_REQUEST;
		}
		*req = cmd_new_req(c->kind == CMD_LOGIN ? "login" : "register",
		                   c->arg);
		codec_set_string(*req, "password", c->rest);
		return 0;
	case CMD_ADD:
		*req = cmd_new_req("friend_add", c->arg);
		return 0;
	case CMD_FRIENDS:
		*req = cmd_new_req("friends", NULL);
		return 0;
	case CMD_GROUPS:
		*req = cmd_new_req("groups", NULL);
		return 0;
	case CMD_GROUP_CREATE:
		*req = cmd_new_req("group_create", c->arg);
		if (c->rest != NULL)
			codec_set_string(*req, "desc", c->rest);
		return 0;
	case CMD_GROUP_JOIN:
		*req = cmd_new_req("group_join",
		                   c->arg[0] == '#' ? c->arg + 1 : c->arg);
		return 0;
	case CMD_REMOVE:
	case CMD_GROUP_LEAVE:
	case CMD_GROUP_MEMBERS:
		return cmd_roster_req(c, r, req, err);
	case CMD_HISTORY:
		return cmd_history_req(c, r, self, req, err);
	default:
		*err = xstrdup("not a server request");
		return -ERR_BAD_REQUEST;
	}
}

/* Kept by hand next to the table so it can group and explain. */
const char *
cmd_help(void)
{
	return "/register NAME PASSWORD   create an account\n"
	       "/login NAME PASSWORD      log in\n"
	       "/logout                   log out\n"
	       "/add NAME                 add a friend\n"
	       "/remove NAME              remove a friend\n"
	       "/friends                  list friends\n"
	       "/msg NAME TEXT...         message a friend or group (#GROUP: "
	       "a group)\n"
	       "/group create NAME [DESC...]\n"
	       "/group join NAME\n"
	       "/group leave NAME\n"
	       "/group members NAME\n"
	       "/groups                   list your groups\n"
	       "/history NAME [N]         last N messages with a friend or "
	       "group\n"
	       "/sync                     fetch missed messages\n"
	       "/sleep SECONDS            wait, showing events\n"
	       "/quit                     leave\n";
}
