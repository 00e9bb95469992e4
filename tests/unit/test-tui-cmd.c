/* cmd: parsing /command lines and building their requests. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cmd.h"
#include "errcode.h"
#include "roster.h"
#include "unit.h"

#define STREQ(a, b) ((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0)

/* Parses line expecting success; returns the kind. */
static enum cmd_kind
parse_ok(const char *line, struct cmd *c)
{
	const char *err;
	int r = cmd_parse(line, c, &err);

	if (r != 0)
		fprintf(stderr, "parse %s: %d %s\n", line, r, err);
	CHECK_EQ_INT(r, 0);
	return c->kind;
}

/* Well-formed commands and their arguments. */
static void
test_parse(void)
{
	struct cmd c;

	CHECK_EQ_INT(parse_ok("/register alice secret pw", &c), CMD_REGISTER);
	CHECK(STREQ(c.arg, "alice") && STREQ(c.rest, "secret pw"));
	CHECK(STREQ(c.label, "register"));
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/login alice", &c), CMD_LOGIN);
	CHECK(STREQ(c.arg, "alice") && c.rest == NULL);
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/msg  bob   hello  world ", &c), CMD_MSG);
	CHECK(STREQ(c.arg, "bob") && STREQ(c.rest, "hello  world "));
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/group create dev the dev team", &c),
	             CMD_GROUP_CREATE);
	CHECK(STREQ(c.label, "group_create") && STREQ(c.arg, "dev") &&
	      STREQ(c.rest, "the dev team"));
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/group create dev", &c), CMD_GROUP_CREATE);
	CHECK(c.rest == NULL);
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/group members dev", &c), CMD_GROUP_MEMBERS);
	CHECK(STREQ(c.label, "members"));
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/history bob 20", &c), CMD_HISTORY);
	CHECK_EQ_INT(c.count, 20);
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/history #dev", &c), CMD_HISTORY);
	CHECK_EQ_INT(c.count, 0);
	cmd_clear(&c);
	CHECK_EQ_INT(parse_ok("/sleep 0.25", &c), CMD_SLEEP);
	CHECK(c.seconds > 0.24 && c.seconds < 0.26);
	CHECK_EQ_INT(parse_ok("/friends", &c), CMD_FRIENDS);
	CHECK_EQ_INT(parse_ok("/groups", &c), CMD_GROUPS);
	CHECK_EQ_INT(parse_ok("/quit", &c), CMD_QUIT);
	CHECK_EQ_INT(parse_ok("   ", &c), CMD_EMPTY);
	CHECK_EQ_INT(parse_ok("", &c), CMD_EMPTY);
	CHECK_EQ_INT(parse_ok("hello there", &c), CMD_TEXT);
	CHECK(STREQ(c.rest, "hello there"));
	cmd_clear(&c);
}

/* Returns the code of a failing parse and checks the label. */
static int
parse_err(const char *line, const char *label)
{
	struct cmd c;
	const char *err = NULL;
	int r = cmd_parse(line, &c, &err);

	CHECK(err != NULL);
	CHECK(STREQ(c.label, label));
	CHECK(c.arg == NULL && c.rest == NULL);
	return r;
}

/* Usage errors and unknown commands. */
static void
test_parse_errors(void)
{
	CHECK_EQ_INT(parse_err("/frob x", "frob"), -ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(parse_err("/", "-"), -ERR_UNKNOWN_TYPE);
	CHECK_EQ_INT(parse_err("/msg bob", "msg"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/msg", "msg"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/add", "add"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/add a b", "add"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/friends x", "friends"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/group", "group"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/group dance x", "group"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/history bob zero", "history"),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/history bob 0", "history"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/sleep -1", "sleep"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/sleep soon", "sleep"), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/register alice", "register"),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(parse_err("/averyveryverylongcommandname", "averyveryver"
	                                                        "ylongcomman"),
	             -ERR_UNKNOWN_TYPE);
}

/* Parses and builds; returns the request's JSON text (static buffer). */
static const char *
request(const char *line, const struct roster *r, int *code)
{
	static char buf[512];
	struct json_object *req;
	const char *perr;
	char *err;
	struct cmd c;

	buf[0] = '\0';
	CHECK_EQ_INT(cmd_parse(line, &c, &perr), 0);
	*code = cmd_request(&c, r, 5, &req, &err);
	if (*code == 0) {
		snprintf(buf, sizeof(buf), "%s",
		         json_object_to_json_string_ext(
		             req, JSON_C_TO_STRING_PLAIN |
		                      JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(req);
	} else {
		CHECK(err != NULL);
		snprintf(buf, sizeof(buf), "%s", err);
		free(err);
	}
	cmd_clear(&c);
	return buf;
}

/* Requests, with names resolved through the roster. */
static void
test_requests(void)
{
	struct roster *r = roster_new();
	int code;

	roster_friend_set(r, 9, "bob", true);
	roster_friend_set(r, 3, "dev", false);
	roster_group_set(r, 12, "dev", "creator");
	roster_group_set(r, 14, "ops", NULL);
	CHECK(STREQ(request("/add carol", r, &code),
	            "{\"type\":\"friend_add\",\"name\":\"carol\"}"));
	CHECK(STREQ(request("/remove bob", r, &code),
	            "{\"type\":\"friend_remove\",\"user\":9}"));
	request("/remove zed", r, &code);
	CHECK_EQ_INT(code, -ERR_NOT_FOUND);
	CHECK(
	    STREQ(request("/register al pass word", r, &code),
	          "{\"type\":\"register\",\"name\":\"al\",\"password\":\"pass "
	          "word\"}"));
	CHECK(STREQ(
	    request("/group create x a b", r, &code),
	    "{\"type\":\"group_create\",\"name\":\"x\",\"desc\":\"a b\"}"));
	CHECK(STREQ(request("/group join #x", r, &code),
	            "{\"type\":\"group_join\",\"name\":\"x\"}"));
	CHECK(STREQ(request("/group leave dev", r, &code),
	            "{\"type\":\"group_leave\",\"group\":12}"));
	CHECK(STREQ(request("/group members #ops", r, &code),
	            "{\"type\":\"group_members\",\"group\":14}"));
	request("/group members nope", r, &code);
	CHECK_EQ_INT(code, -ERR_NOT_FOUND);
	/* a friend named like a group wins; #NAME picks the group */
	CHECK(STREQ(request("/history dev 3", r, &code),
	            "{\"type\":\"history\",\"conv\":\"d:3:5\",\"limit\":3}"));
	CHECK(STREQ(request("/history bob", r, &code),
	            "{\"type\":\"history\",\"conv\":\"d:5:9\"}"));
	CHECK(STREQ(request("/history #dev", r, &code),
	            "{\"type\":\"history\",\"conv\":\"g:12\"}"));
	request("/sync", r, &code);
	CHECK_EQ_INT(code, -ERR_BAD_REQUEST);
	roster_free(r);
	CHECK(strstr(cmd_help(), "/msg") != NULL);
}

/* Runs every case; the last line is the tally. */
int
main(void)
{
	test_parse();
	test_parse_errors();
	test_requests();
	return UNIT_END();
}
