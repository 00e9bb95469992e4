#ifndef NATTER_BENCH_BENCH_GROUPS_H
#define NATTER_BENCH_BENCH_GROUPS_H

struct bench_run;

/*
 * Groups: o->groups groups (natter group, MQTT topic, IRC channel) of
 * o->group_size members, each member a connection of its own. Once every
 * member is in, o->rate messages/s in all, open loop as in latency:
 * round-robin over the groups and, within a group, over its members as
 * sender, so every member sends and each message reaches the group's
 * other members. Delivered messages/s, p50/p99/p99.9 from send to every
 * delivery and to the ack (natter only); a member's own messages coming
 * back (MQTT) are not deliveries. With o->server2 (--port2), every other
 * member of each group is on that second node. Returns the run's exit
 * status.
 */
int bench_groups_run(struct bench_run *run);

#endif
