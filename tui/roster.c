/* Friends and groups of the logged-in user, by id and by name. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec.h"
#include "errcode.h"
#include "roster.h"
#include "xmalloc.h"

struct roster {
	struct roster_friend *friends;
	size_t nfriends, capfriends;
	struct roster_group *groups;
	size_t ngroups, capgroups;
};

/* An empty roster. */
struct roster *
roster_new(void)
{
	return xcalloc(1, sizeof(struct roster));
}

/* Forgets every friend and group. */
void
roster_clear(struct roster *r)
{
	for (size_t i = 0; i < r->nfriends; i++)
		free(r->friends[i].name);
	for (size_t i = 0; i < r->ngroups; i++) {
		free(r->groups[i].name);
		free(r->groups[i].role);
	}
	r->nfriends = r->ngroups = 0;
}

/* Frees the roster; NULL is a no-op. */
void
roster_free(struct roster *r)
{
	if (r == NULL)
		return;
	roster_clear(r);
	free(r->friends);
	free(r->groups);
	free(r);
}

/* Index of a friend by id, or -1. */
static long
roster_friend_index(const struct roster *r, int64_t id)
{
	for (size_t i = 0; i < r->nfriends; i++)
		if (r->friends[i].id == id)
			return (long)i;
	return -1;
}

/* Updates in place or appends. */
void
roster_friend_set(struct roster *r, int64_t id, const char *name, bool online)
{
	long i = roster_friend_index(r, id);
	struct roster_friend *f;

	if (i < 0) {
		if (r->nfriends == r->capfriends) {
			r->capfriends = r->capfriends ? 2 * r->capfriends : 16;
			r->friends = xrealloc(
			    r->friends, r->capfriends * sizeof(*r->friends));
		}
		f = &r->friends[r->nfriends++];
		f->id = id;
		f->name = NULL;
	} else
		f = &r->friends[i];
	if (f->name == NULL || strcmp(f->name, name) != 0) {
		free(f->name);
		f->name = xstrdup(name);
	}
	f->online = online;
}

/* Removes by id, keeping the others in order. */
void
roster_friend_remove(struct roster *r, int64_t id)
{
	long i = roster_friend_index(r, id);

	if (i < 0)
		return;
	free(r->friends[i].name);
	memmove(&r->friends[i], &r->friends[i + 1],
	        (r->nfriends - (size_t)i - 1) * sizeof(*r->friends));
	r->nfriends--;
}

/* Lookup by id. */
const struct roster_friend *
roster_friend_by_id(const struct roster *r, int64_t id)
{
	long i = roster_friend_index(r, id);

	return i < 0 ? NULL : &r->friends[i];
}

/* Lookup by exact name. */
const struct roster_friend *
roster_friend_by_name(const struct roster *r, const char *name)
{
	for (size_t i = 0; i < r->nfriends; i++)
		if (strcmp(r->friends[i].name, name) == 0)
			return &r->friends[i];
	return NULL;
}

/* Number of friends. */
size_t
roster_friend_count(const struct roster *r)
{
	return r->nfriends;
}

/* The i-th friend in insertion order. */
const struct roster_friend *
roster_friend_at(const struct roster *r, size_t i)
{
	return i < r->nfriends ? &r->friends[i] : NULL;
}

/* Index of a group by id, or -1. */
static long
roster_group_index(const struct roster *r, int64_t id)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (r->groups[i].id == id)
			return (long)i;
	return -1;
}

/* Updates in place or appends; a new group without a role is "member". */
void
roster_group_set(struct roster *r, int64_t id, const char *name,
                 const char *role)
{
	long i = roster_group_index(r, id);
	struct roster_group *g;

	if (i < 0) {
		if (r->ngroups == r->capgroups) {
			r->capgroups = r->capgroups ? 2 * r->capgroups : 16;
			r->groups = xrealloc(r->groups,
			                     r->capgroups * sizeof(*r->groups));
		}
		g = &r->groups[r->ngroups++];
		g->id = id;
		g->name = NULL;
		g->role = xstrdup(role != NULL ? role : "member");
	} else
		g = &r->groups[i];
	if (name != NULL) {
		free(g->name);
		g->name = xstrdup(name);
	} else if (g->name == NULL)
		g->name = xstrdup("?");
	if (role != NULL && strcmp(g->role, role) != 0) {
		free(g->role);
		g->role = xstrdup(role);
	}
}

/* Removes by id. */
void
roster_group_remove(struct roster *r, int64_t id)
{
	long i = roster_group_index(r, id);

	if (i < 0)
		return;
	free(r->groups[i].name);
	free(r->groups[i].role);
	memmove(&r->groups[i], &r->groups[i + 1],
	        (r->ngroups - (size_t)i - 1) * sizeof(*r->groups));
	r->ngroups--;
}

/* Lookup by id. */
const struct roster_group *
roster_group_by_id(const struct roster *r, int64_t id)
{
	long i = roster_group_index(r, id);

	return i < 0 ? NULL : &r->groups[i];
}

/* Lookup by exact name. */
const struct roster_group *
roster_group_by_name(const struct roster *r, const char *name)
{
	for (size_t i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i].name, name) == 0)
			return &r->groups[i];
	return NULL;
}

/* Number of groups. */
size_t
roster_group_count(const struct roster *r)
{
	return r->ngroups;
}

/* The i-th group in insertion order. */
const struct roster_group *
roster_group_at(const struct roster *r, size_t i)
{
	return i < r->ngroups ? &r->groups[i] : NULL;
}

/* {id,name,online}; online defaults to false when absent. */
int
roster_friend_json(struct roster *r, struct json_object *f)
{
	const char *name;
	size_t len;
	int64_t id;
	bool online = false;

	if (f == NULL || codec_get_id(f, "id", &id) != 0 ||
	    codec_get_string(f, "name", &name, &len) != 0 ||
	    codec_get_bool(f, "online", &online) < 0)
		return -ERR_BAD_REQUEST;
	roster_friend_set(r, id, name, online);
	return 0;
}

/* {id,name,role?}; role (if not NULL) overrides the object's. */
int
roster_group_json(struct roster *r, struct json_object *g, const char *role)
{
	const char *name = NULL, *grole = NULL;
	size_t len;
	int64_t id;

	if (g == NULL || codec_get_id(g, "id", &id) != 0 ||
	    codec_get_string(g, "name", &name, &len) < 0 ||
	    codec_get_string(g, "role", &grole, &len) < 0)
		return -ERR_BAD_REQUEST;
	roster_group_set(r, id, name, role != NULL ? role : grole);
	return 0;
}

/* Replaces all friends from an array; bad entries are skipped. */
int
roster_friends_json(struct roster *r, struct json_object *arr)
{
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return -ERR_BAD_REQUEST;
	for (size_t i = 0; i < r->nfriends; i++)
		free(r->friends[i].name);
	r->nfriends = 0;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++)
		roster_friend_json(r, json_object_array_get_idx(arr, i));
	return 0;
}

/* Replaces all groups from an array; bad entries are skipped. */
int
roster_groups_json(struct roster *r, struct json_object *arr)
{
	size_t n;

	if (!json_object_is_type(arr, json_type_array))
		return -ERR_BAD_REQUEST;
	for (size_t i = 0; i < r->ngroups; i++) {
		free(r->groups[i].name);
		free(r->groups[i].role);
	}
	r->ngroups = 0;
	n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++)
		roster_group_json(r, json_object_array_get_idx(arr, i), NULL);
	return 0;
}

/* "#g" forces a group; otherwise a friend wins over a group. */
int
roster_resolve(const struct roster *r, const char *name, int64_t *user,
               int64_t *group)
{
	const struct roster_friend *f;
	const struct roster_group *g;

	*user = *group = 0;
	if (name[0] == '#') {
		if ((g = roster_group_by_name(r, name + 1)) == NULL)
			return -ERR_NOT_FOUND;
		*group = g->id;
		return 0;
	}
	if ((f = roster_friend_by_name(r, name)) != NULL) {
		*user = f->id;
		return 0;
	}
	if ((g = roster_group_by_name(r, name)) != NULL) {
		*group = g->id;
		return 0;
	}
	return -ERR_NOT_FOUND;
}

/* PROTOCOL.md "Conversations": d:<low>:<high> or g:<id>. */
char *
roster_conv(int64_t self, int64_t user, int64_t group)
{
	if (group != 0)
		return xasprintf("g:%lld", (long long)group);
	if (self < user)
		return xasprintf("d:%lld:%lld", (long long)self,
		                 (long long)user);
	return xasprintf("d:%lld:%lld", (long long)user, (long long)self);
}
