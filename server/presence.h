#ifndef NATTER_SERVER_PRESENCE_H
#define NATTER_SERVER_PRESENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Who is online on this node, and each user's message budget. It is the
 * one table every worker reads and writes, so it is an object behind its
 * own mutex with a small API (not a global): session counts per user and a
 * token bucket per user, so the rate limit holds across all of a user's
 * sessions whatever worker they are on.
 */
struct presence;

/* rate: tokens per second (0 disables the limit); burst: bucket size. */
struct presence *presence_new(unsigned rate, unsigned burst);
void presence_free(struct presence *p);

/*
 * Counts a session of uid on this node in, or out. Both return the user's
 * sessions on this node after. *changed says whether the user just came
 * online, or went offline, as the whole cluster sees it.
 */
unsigned presence_add(struct presence *p, int64_t uid, const char *name,
                      bool *changed);
unsigned presence_remove(struct presence *p, int64_t uid, bool *changed);

/* Another node reports uid online there, or not any more (relay). */
void presence_remote_add(struct presence *p, int64_t uid);
void presence_remote_remove(struct presence *p, int64_t uid);

/* The users with a session on this node, with their names (caller frees
 * both arrays and the names). */
size_t presence_local_users(struct presence *p, int64_t **uids, char ***names);
/* Whether uid is online on this node or another. */
bool presence_online(struct presence *p, int64_t uid);
/* How many sessions uid has on this node. */
unsigned presence_sessions(struct presence *p, int64_t uid);

/* Takes one token from uid's bucket; false if it is empty. */
bool presence_take(struct presence *p, int64_t uid, int64_t now_ms);

#endif
