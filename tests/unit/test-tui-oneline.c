/* oneline: the line formats scripts parse, and escaping. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "oneline.h"
#include "unit.h"

/* Checks a returned string against want and frees it. */
static void
check_str(char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		fprintf(stderr, "got  \"%s\"\nwant \"%s\"\n", got, want);
	CHECK(strcmp(got, want) == 0);
	free(got);
}

/* Escaping: controls become visible; UTF-8 and backslash stay. */
static void
test_escape(void)
{
	static const char in[] = "a\nb\rc\td\x1b[0m\x01\x7f\\ \xe4\xbd\xa0"
	                         "\xc2\x9b\xc2\xa0";

	check_str(
	    oneline_escape(in, sizeof(in) - 1),
	    "a\\nb\\rc\\td\\e[0m\\x01\\x7f\\ \xe4\xbd\xa0\\u009b\xc2\xa0");
	check_str(oneline_escape("x\0y", 3), "x\\x00y");
}

/* Parses JSON text for a test. */
static struct json_object *
j(const char *s)
{
	return json_tokener_parse(s);
}

/* msg, friend, member, group, events, errors. */
static void
test_formats(void)
{
	struct json_object *o;

	o = j("{\"type\":\"msg\",\"conv\":\"d:1:2\",\"seq\":3,\"ts\":1700000000"
	      "123,\"from\":{\"id\":1,\"name\":\"alice\"},\"to\":{\"user\":2},"
	      "\"body\":\"hello\\nworld\",\"cmid\":\"x\"}");
	check_str(oneline_msg("msg", o),
	          "msg d:1:2 3 1700000000123 alice: hello\\nworld");
	check_str(oneline_msg("history", o),
	          "history d:1:2 3 1700000000123 alice: hello\\nworld");
	json_object_put(o);
	o = j("{\"id\":2,\"name\":\"bob\",\"online\":true}");
	check_str(oneline_friend(o), "bob(2,online)");
	json_object_put(o);
	o = j(
	    "{\"id\":2,\"name\":\"bob\",\"role\":\"member\",\"online\":false}");
	check_str(oneline_member(o), "bob(member,offline)");
	check_str(oneline_group(o), "bob(member)");
	json_object_put(o);
	o = j("{\"type\":\"presence\",\"user\":{\"id\":2,\"name\":\"bob\"},"
	      "\"online\":false}");
	check_str(oneline_event("presence", o), "presence bob offline");
	json_object_put(o);
	o = j("{\"friend\":{\"id\":2,\"name\":\"bob\",\"online\":true}}");
	check_str(oneline_event("friend_added", o), "friend_added bob");
	json_object_put(o);
	o = j("{\"group\":{\"id\":1,\"name\":\"dev\"},\"user\":{\"id\":2,"
	      "\"name\":\"bob\"}}");
	check_str(oneline_event("group_joined", o), "group_joined dev bob");
	check_str(oneline_event("group_left", o), "group_left dev bob");
	json_object_put(o);
	o = j("{\"type\":\"x\",\"ok\":false,\"error\":{\"code\":\"not_found\","
	      "\"message\":\"no such\\tuser\"}}");
	check_str(oneline_error("add", o),
	          "error add not_found: no such\\tuser");
	check_str(oneline_event("error", o), "error event not_found: no "
	                                     "such\\tuser");
	json_object_put(o);
	o = j("{}");
	check_str(oneline_msg("msg", o), "msg ? 0 0 ?: ?");
	check_str(oneline_event("weird", o), "weird");
	json_object_put(o);
}

/* Runs every case; the last line is the tally. */
int
main(void)
{
	test_escape();
	test_formats();
	return UNIT_END();
}
