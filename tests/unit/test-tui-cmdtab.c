/* cmdtab: the command table, lookup, and Tab completion candidates. */
#include <stdlib.h>
#include <string.h>

#include "cmdtab.h"
#include "unit.h"

/* A fake roster: friends, groups, people. */
static char **
names(void *ud, enum cmdtab_arg kind)
{
	static const char *friends[] = {"bob", "bert", "张三", NULL};
	static const char *groups[] = {"dev", "大家", NULL};
	char **v = NULL;
	size_t n = 0;

	(void)ud;
	if (kind != CMDTAB_ARG_GROUP)
		for (int i = 0; friends[i]; i++)
			cmdtab_list_add(&v, &n, friends[i]);
	if (kind == CMDTAB_ARG_GROUP || kind == CMDTAB_ARG_TARGET)
		for (int i = 0; groups[i]; i++)
			cmdtab_list_add(&v, &n, groups[i]);
	return v;
}

/* Candidates for line with the cursor at its end, as one string. */
static char *
cands(const char *line, size_t *start)
{
	char **v = cmdtab_candidates(line, strlen(line), start, names, NULL);
	char *s = calloc(1, 512);

	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		strcat(s, i ? " " : "");
		strcat(s, v[i]);
	}
	cmdtab_free_list(v);
	return s;
}

#define CANDS(line, want)                                                      \
	do {                                                                   \
		size_t st_;                                                    \
		char *got = cands((line), &st_);                               \
		if (strcmp(got, (want)) != 0)                                  \
			fprintf(stderr, "%s: got [%s]\n", (line), got);        \
		CHECK(strcmp(got, (want)) == 0);                               \
		free(got);                                                     \
	} while (0)

/* Every command the issue lists is in the table, once, with help. */
static void
test_table(void)
{
	static const char *want[] = {
	    "/register",   "/login",       "/logout",        "/add",
	    "/remove",     "/friends",     "/msg",           "/group create",
	    "/group join", "/group leave", "/group members", "/groups",
	    "/win",        "/close",       "/roster",        "/clear",
	    "/reconnect",  "/help",        "/quit",          NULL};

	for (int i = 0; want[i] != NULL; i++) {
		const struct cmdtab_entry *e = cmdtab_find(want[i]);

		CHECK(e != NULL);
		if (e != NULL) {
			CHECK(strncmp(e->usage, want[i], strlen(want[i])) == 0);
			CHECK(e->help != NULL && *e->help != '\0');
		}
	}
	for (size_t i = 0; i < cmdtab_count(); i++)
		for (size_t j = i + 1; j < cmdtab_count(); j++)
			CHECK(strcmp(cmdtab_at(i)->usage,
			             cmdtab_at(j)->usage) != 0);
	CHECK(cmdtab_find("/nope") == NULL);
	CHECK(cmdtab_find("/group nope x") == NULL);
	CHECK(cmdtab_find("hello") == NULL);
	CHECK(cmdtab_find("/msgx") == NULL);
	CHECK(strcmp(cmdtab_args(cmdtab_find("/group join  dev"),
	                         "/group join  dev"),
	             "dev") == 0);
	CHECK(strcmp(cmdtab_args(cmdtab_find("/msg bob hi there"),
	                         "/msg bob hi there"),
	             "bob hi there") == 0);
}

/* Completion of commands, subcommands and names (CJK ones too). */
static void
test_complete(void)
{
	size_t st;
	char *s;

	CANDS("/ms", "/msg");
	CANDS("/gr", "/group /groups");
	CANDS("/re", "/register /remove /reconnect /retry");
	CANDS("/group j", "join");
	CANDS("/group leave d", "dev");
	CANDS("/group leave ", "dev 大家");
	CANDS("/msg b", "bob bert");
	CANDS("/msg 张", "张三");
	CANDS("/msg 大", "大家");
	CANDS("/remove d", "");
	CANDS("/help gr", "/group /groups");
	CANDS("/msg bob hello b", "");
	CANDS("hi 张", "张三");
	s = cands("hello /msg bo", &st);
	CHECK_EQ_INT(st, 11);
	free(s);
	s = cands("/msg 张", &st);
	CHECK_EQ_INT(st, 5);
	free(s);
}

int
main(void)
{
	test_table();
	test_complete();
	return UNIT_END();
}
