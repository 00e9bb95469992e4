/* roster: friends and groups by id and name, JSON forms, resolution. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "errcode.h"
#include "roster.h"
#include "unit.h"

/* Set, update, remove, look up. */
static void
test_maps(void)
{
	struct roster *r = roster_new();
	const struct roster_friend *f;
	const struct roster_group *g;

	roster_friend_set(r, 2, "bob", false);
	roster_friend_set(r, 3, "carol", true);
	roster_friend_set(r, 2, "bob", true);
	CHECK_EQ_INT(roster_friend_count(r), 2);
	f = roster_friend_by_name(r, "bob");
	CHECK(f != NULL && f->id == 2 && f->online);
	CHECK(roster_friend_by_name(r, "Bob") == NULL); /* case-sensitive */
	roster_friend_remove(r, 2);
	CHECK(roster_friend_by_id(r, 2) == NULL);
	CHECK(roster_friend_at(r, 0)->id == 3);
	roster_group_set(r, 7, "dev", "creator");
	roster_group_set(r, 7, "dev", NULL);
	g = roster_group_by_name(r, "dev");
	CHECK(g != NULL && strcmp(g->role, "creator") == 0);
	roster_group_set(r, 8, NULL, NULL);
	g = roster_group_by_id(r, 8);
	CHECK(g != NULL && strcmp(g->role, "member") == 0);
	roster_group_remove(r, 7);
	CHECK_EQ_INT(roster_group_count(r), 1);
	roster_clear(r);
	CHECK_EQ_INT(roster_friend_count(r) + roster_group_count(r), 0);
	roster_free(r);
	roster_free(NULL);
}

/* Reply arrays replace the lists; bad entries are skipped. */
static void
test_json(void)
{
	struct roster *r = roster_new();
	struct json_object *fr = json_tokener_parse(
	    "[{\"id\":2,\"name\":\"bob\",\"online\":true},"
	    "{\"id\":\"x\",\"name\":\"bad\"},{\"id\":4,\"name\":\"dan\"}]");
	struct json_object *gr = json_tokener_parse(
	    "[{\"id\":7,\"name\":\"dev\",\"desc\":\"\",\"role\":\"member\"}]");

	roster_friend_set(r, 99, "old", false);
	CHECK_EQ_INT(roster_friends_json(r, fr), 0);
	CHECK_EQ_INT(roster_friend_count(r), 2);
	CHECK(roster_friend_by_id(r, 99) == NULL);
	CHECK(roster_friend_by_id(r, 4) != NULL &&
	      !roster_friend_by_id(r, 4)->online);
	CHECK_EQ_INT(roster_groups_json(r, gr), 0);
	CHECK(roster_group_by_id(r, 7) != NULL);
	CHECK_EQ_INT(roster_friends_json(r, gr), 0); /* all entries bad */
	CHECK_EQ_INT(roster_groups_json(r, NULL), -ERR_BAD_REQUEST);
	json_object_put(fr);
	json_object_put(gr);
	roster_free(r);
}

/* /msg NAME resolution and conversation ids. */
static void
test_resolve(void)
{
	struct roster *r = roster_new();
	int64_t u, g;
	char *s;

	roster_friend_set(r, 2, "dev", true);
	roster_group_set(r, 7, "dev", "member");
	roster_group_set(r, 8, "ops", "member");
	CHECK_EQ_INT(roster_resolve(r, "dev", &u, &g), 0);
	CHECK(u == 2 && g == 0);
	CHECK_EQ_INT(roster_resolve(r, "#dev", &u, &g), 0);
	CHECK(u == 0 && g == 7);
	CHECK_EQ_INT(roster_resolve(r, "ops", &u, &g), 0);
	CHECK(u == 0 && g == 8);
	CHECK_EQ_INT(roster_resolve(r, "zed", &u, &g), -ERR_NOT_FOUND);
	CHECK_EQ_INT(roster_resolve(r, "#zed", &u, &g), -ERR_NOT_FOUND);
	s = roster_conv(9, 2, 0);
	CHECK(strcmp(s, "d:2:9") == 0);
	free(s);
	s = roster_conv(2, 9, 0);
	CHECK(strcmp(s, "d:2:9") == 0);
	free(s);
	s = roster_conv(2, 0, 7);
	CHECK(strcmp(s, "g:7") == 0);
	free(s);
	roster_free(r);
}

/* Runs every case; the last line is the tally. */
int
main(void)
{
	test_maps();
	test_json();
	test_resolve();
	return UNIT_END();
}
