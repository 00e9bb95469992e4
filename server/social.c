#include "social.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec.h"
#include "errcode.h"
#include "handler.h"
#include "presence.h"
#include "server.h"
#include "validate.h"
#include "xmalloc.h"

#define SOCIAL_DESC_MAX 1024 /* bytes of a group description */

/* A request with a "name": a user or group name. */
int
social_name_parse(struct hjob *j)
{
	if (codec_get_string(j->in, "name", &j->str, &j->len) != 0)
		return handler_fail(j, ERR_BAD_REQUEST,
		                    "name must be a string");
	if (validate_name(j->str, j->len) < 0)
		return handler_fail(j, ERR_INVALID_NAME, NULL);
	return 0;
}

/* A request with a "user" id. */
int
social_user_parse(struct hjob *j)
{
	if (codec_get_id(j->in, "user", &j->id) != 0)
		return handler_fail(j, ERR_BAD_REQUEST, "user must be an id");
	return 0;
}

/* A request with a "group" id. */
int
social_group_parse(struct hjob *j)
{
	if (codec_get_id(j->in, "group", &j->id) != 0)
		return handler_fail(j, ERR_BAD_REQUEST, "group must be an id");
	return 0;
}

int
social_none_parse(struct hjob *j)
{
	(void)j;
	return 0;
}

/* {"id","name","online"} for a user, online as this node sees it. */
static struct json_object *
social_user_json(struct hjob *j, int64_t id, const char *name)
{
	struct json_object *o = handler_user_json(id, name);

	codec_set_bool(o, "online", presence_online(j->srv->presence, id));
	return o;
}

/* {"id","name","desc","role"} for a group. */
static struct json_object *
social_group_json(const struct store_group *g)
{
	struct json_object *o = json_object_new_object();

	codec_set_int(o, "id", g->id);
	codec_set_string(o, "name", g->name);
	codec_set_string(o, "desc", g->desc != NULL ? g->desc : "");
	codec_set_string(o, "role",
	                 g->role == STORE_ROLE_CREATOR ? "creator" : "member");
	return o;
}

/* Befriends both ways; the other side hears of it if it is new. */
int
social_friend_add_run(struct store *st, struct hjob *j)
{
	struct store_user f = {0};
	bool created = false;
	int r;

	if ((r = store_friend_add(st, j->uid, j->str, &f, &created)) < 0)
		return r;
	json_object_object_add(j->reply, "friend",
	                       social_user_json(j, f.id, f.name));
	if (created) {
		j->event = codec_event("friend_added");
		json_object_object_add(j->event, "friend",
		                       social_user_json(j, j->uid, j->uname));
		j->rcpt.ids = xmalloc(sizeof *j->rcpt.ids);
		j->rcpt.ids[0] = f.id;
		j->rcpt.n = 1;
	}
	store_user_clear(&f);
	return 0;
}

int
social_friend_remove_run(struct store *st, struct hjob *j)
{
	return store_friend_remove(st, j->uid, j->id);
}

int
social_friends_run(struct store *st, struct hjob *j)
{
	struct json_object *arr = json_object_new_array();
	struct store_user *v = NULL;
	size_t i, n = 0;
	int r;

	if ((r = store_friends(st, j->uid, &v, &n)) < 0) {
		json_object_put(arr);
		return r;
	}
	for (i = 0; i < n; i++)
		json_object_array_add(arr,
		                      social_user_json(j, v[i].id, v[i].name));
	json_object_object_add(j->reply, "friends", arr);
	store_users_free(v, n);
	return 0;
}

/* group_create: a valid name and an optional description. */
int
social_group_create_parse(struct hjob *j)
{
	size_t len;
	int r;

	if (social_name_parse(j) < 0)
		return j->err;
	j->str2 = "";
	r = codec_get_string(j->in, "desc", &j->str2, &len);
	if (r < 0 || (r == 0 && (len > SOCIAL_DESC_MAX ||
	                         memchr(j->str2, '\0', len) != NULL)))
		return handler_fail(
		    j, ERR_BAD_REQUEST,
		    "desc must be a string of at most 1024 bytes");
	return 0;
}

int
social_group_create_run(struct store *st, struct hjob *j)
{
	struct store_group g = {0};
	int r;

	if ((r = store_group_create(st, j->uid, j->str, j->str2, &g)) < 0)
		return r;
	json_object_object_add(j->reply, "group", social_group_json(&g));
	store_group_clear(&g);
	return 0;
}

/* group_join: by "group" id or by "name". */
int
social_group_join_parse(struct hjob *j)
{
	int r = codec_get_id(j->in, "group", &j->id);

	if (r < 0)
		return handler_fail(j, ERR_BAD_REQUEST, "group must be an id");
	if (r == 0)
		return 0;
	if (!json_object_object_get_ex(j->in, "name", NULL))
		return handler_fail(j, ERR_BAD_REQUEST, "name or group needed");
	return social_name_parse(j);
}

/* {"group":{"id","name"},"user":{"id","name"}} for group_joined/left. */
static struct json_object *
social_group_event(const char *type, struct hjob *j, const char *gname)
{
	struct json_object *ev = codec_event(type);
	struct json_object *g = json_object_new_object();

	codec_set_int(g, "id", j->id);
	if (gname != NULL)
		codec_set_string(g, "name", gname);
	json_object_object_add(ev, "group", g);
	json_object_object_add(ev, "user", handler_user_json(j->uid, j->uname));
	return ev;
}

/* Joins; every member (the joiner's other sessions too) hears of it. */
int
social_group_join_run(struct store *st, struct hjob *j)
{
	struct store_group g = {0};
	int r;

	r = store_group_join(st, j->uid, j->id, j->id ? NULL : j->str, &g);
	if (r == 0)
		r = store_group_member_ids(st, g.id, &j->rcpt);
	if (r == 0) {
		json_object_object_add(j->reply, "group",
		                       social_group_json(&g));
		j->id = g.id;
		j->event = social_group_event("group_joined", j, g.name);
	}
	store_group_clear(&g);
	return r;
}

/* Leaves; the members left and the leaver's other sessions hear of it. */
int
social_group_leave_run(struct store *st, struct hjob *j)
{
	int r;

	if ((r = store_group_leave(st, j->uid, j->id)) < 0)
		return r;
	if ((r = store_group_member_ids(st, j->id, &j->rcpt)) < 0)
		return r;
	j->rcpt.ids =
	    xrealloc(j->rcpt.ids, (j->rcpt.n + 1) * sizeof *j->rcpt.ids);
	j->rcpt.ids[j->rcpt.n++] = j->uid;
	j->event = social_group_event("group_left", j, NULL);
	return 0;
}

int
social_groups_run(struct store *st, struct hjob *j)
{
	struct json_object *arr;
	struct store_group *v = NULL;
	size_t i, n = 0;
	int r;

	if ((r = store_groups(st, j->uid, &v, &n)) < 0)
		return r;
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, social_group_json(&v[i]));
	json_object_object_add(j->reply, "groups", arr);
	store_groups_free(v, n);
	return 0;
}

int
social_group_members_run(struct store *st, struct hjob *j)
{
	struct json_object *arr, *m;
	struct store_member *v = NULL;
	size_t i, n = 0;
	int r;

	if ((r = store_group_members(st, j->uid, j->id, &v, &n)) < 0)
		return r;
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		m = social_user_json(j, v[i].id, v[i].name);
		codec_set_string(m, "role",
		                 v[i].role == STORE_ROLE_CREATOR ? "creator"
		                                                 : "member");
		json_object_array_add(arr, m);
	}
	json_object_object_add(j->reply, "members", arr);
	store_members_free(v, n);
	return 0;
}
