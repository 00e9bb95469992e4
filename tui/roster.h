#ifndef NATTER_TUI_ROSTER_H
#define NATTER_TUI_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

/*
 * The logged-in user's friends (with presence) and groups, kept in memory
 * so that a command naming a friend or group can be turned into an id.
 * Names are unique and case-sensitive (PROTOCOL.md), so lookups compare
 * bytes.
 */
struct roster_friend {
	int64_t id;
	char *name;
	bool online;
};

struct roster_group {
	int64_t id;
	char *name;
	char *role; /* "creator" or "member" */
};

struct roster;

struct roster *roster_new(void);
void roster_free(struct roster *r);
void roster_clear(struct roster *r);

/* Adds or updates a friend (name copied). */
void roster_friend_set(struct roster *r, int64_t id, const char *name,
                       bool online);
void roster_friend_remove(struct roster *r, int64_t id);
/* Entries are borrowed until the roster changes; NULL if absent. */
const struct roster_friend *roster_friend_by_id(const struct roster *r,
                                                int64_t id);
const struct roster_friend *roster_friend_by_name(const struct roster *r,
                                                  const char *name);
size_t roster_friend_count(const struct roster *r);
const struct roster_friend *roster_friend_at(const struct roster *r, size_t i);

/* Adds or updates a group; role NULL keeps the old one (or "member"). */
void roster_group_set(struct roster *r, int64_t id, const char *name,
                      const char *role);
void roster_group_remove(struct roster *r, int64_t id);
const struct roster_group *roster_group_by_id(const struct roster *r,
                                              int64_t id);
const struct roster_group *roster_group_by_name(const struct roster *r,
                                                const char *name);
size_t roster_group_count(const struct roster *r);
const struct roster_group *roster_group_at(const struct roster *r, size_t i);

/*
 * JSON forms from the protocol. roster_friend_json takes {id,name,online}
 * and roster_group_json {id,name,role?}; each returns 0 or -ERR_BAD_REQUEST
 * (the object is left alone then). roster_friends_json and
 * roster_groups_json replace the whole list from a reply's array.
 */
int roster_friend_json(struct roster *r, struct json_object *f);
int roster_group_json(struct roster *r, struct json_object *g,
                      const char *role);
int roster_friends_json(struct roster *r, struct json_object *arr);
int roster_groups_json(struct roster *r, struct json_object *arr);

/*
 * Resolves a target name for /msg and /history: "#NAME" is a group; a bare
 * NAME is a friend, else a group (a friend wins if both exist). Sets
 * exactly one of *user and *group (the other to 0). Returns 0 or
 * -ERR_NOT_FOUND.
 */
int roster_resolve(const struct roster *r, const char *name, int64_t *user,
                   int64_t *group);

/*
 * The conversation id of a target: "d:<low>:<high>" with self for a user,
 * "g:<id>" for a group. The caller frees it.
 */
char *roster_conv(int64_t self, int64_t user, int64_t group);

#endif
