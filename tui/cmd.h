#ifndef NATTER_TUI_CMD_H
#define NATTER_TUI_CMD_H

#include <stdint.h>

struct json_object;
struct roster;

/*
 * The /commands typed by the user (or a script), shared by the line-mode
 * and the full-screen client: parsing a line into a struct cmd, and turning
 * a parsed command into its protocol request. No I/O.
 */
enum cmd_kind {
	CMD_EMPTY, /* blank line: nothing to do */
	CMD_TEXT,  /* a line not starting with '/': text for the current chat */
	CMD_REGISTER,
	CMD_LOGIN,
	CMD_LOGOUT,
	CMD_ADD,
	CMD_REMOVE,
	CMD_FRIENDS,
	CMD_MSG,
	CMD_GROUP_CREATE,
	CMD_GROUP_JOIN,
	CMD_GROUP_LEAVE,
	CMD_GROUP_MEMBERS,
	CMD_GROUPS,
	CMD_HISTORY,
	CMD_SYNC,
	CMD_SLEEP,
	CMD_QUIT,
	CMD_HELP,
};

#define CMD_LABEL_MAX 24

struct cmd {
	enum cmd_kind kind;
	/* The command's name in output lines ("msg", "group_create"); for an
	 * unknown command, the word typed (truncated). */
	char label[CMD_LABEL_MAX];
	char *arg;  /* NAME, or NULL */
	char *rest; /* PASSWORD, TEXT or DESC verbatim; the line for CMD_TEXT */
	long count; /* /history N; 0 means the server's default */
	double seconds; /* /sleep */
};

/*
 * Parses one line (without its newline). Returns 0 and fills *c (release
 * with cmd_clear), or -ERR_UNKNOWN_TYPE for an unknown /command or
 * -ERR_BAD_REQUEST for wrong arguments; then *err is a static sentence
 * (the usage) and c->label names the command.
 */
int cmd_parse(const char *line, struct cmd *c, const char **err);
void cmd_clear(struct cmd *c);

/*
 * The protocol request of a command that maps to one request (register,
 * login, add, remove, friends, group *, groups, history), with names
 * resolved through r and self the logged-in user's id (for /history with a
 * friend). Returns 0 and a new object in *req (without "req": the client
 * assigns it), or -ERR_NOT_FOUND / -ERR_BAD_REQUEST with *err a message
 * the caller frees.
 */
int cmd_request(const struct cmd *c, const struct roster *r, int64_t self,
                struct json_object **req, char **err);

/* The /help text: one command per line, ending with a newline. Static. */
const char *cmd_help(void);

#endif
