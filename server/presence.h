#ifndef NATTER_SERVER_PRESENCE_H
#define NATTER_SERVER_PRESENCE_H

#include <stdbool.h>
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

/* Counts a session of uid in; returns the count after (1: came online). */
unsigned presence_add(struct presence *p, int64_t uid);
/* Counts one out; returns the count after (0: went offline). */
unsigned presence_remove(struct presence *p, int64_t uid);
bool presence_online(struct presence *p, int64_t uid);
/* How many sessions uid has on this node. */
unsigned presence_sessions(struct presence *p, int64_t uid);

/* Takes one token from uid's bucket; false if it is empty. */
bool presence_take(struct presence *p, int64_t uid, int64_t now_ms);

#endif
