#ifndef NATTER_SERVER_RELAY_H
#define NATTER_SERVER_RELAY_H

#include <stddef.h>
#include <stdint.h>

struct server;

/*
 * The cluster relay: live events between natterd nodes through Redis
 * pub/sub (hiredis async on the relay's own thread and event loop), the
 * node's lease, its users' routes, and the cluster-wide presence.
 *
 * Design. Every node publishes to one cluster channel and subscribes to
 * it; each message names its recipients, and a node delivers to those of
 * them it holds. One PUBLISH per event whatever the number of recipients
 * and nodes, no route lookup on the hot path, and nothing to go stale: a
 * per-node channel would need a route lookup (a Redis round trip) before
 * every publish, and a per-group channel a SUBSCRIBE per group per node;
 * both cost more than filtering at a handful of nodes. Past a few dozen
 * nodes, per-node channels chosen from the routes would win.
 *
 * Redis is only the fast path: every event is stored (or recomputable)
 * before it is published, so what pub/sub loses comes back through sync;
 * after a Redis outage every node tells its clients to "resync".
 *
 * Liveness. Each node holds a lease (natter:lease:NODE = EPOCH, 10 s TTL,
 * refreshed every 3 s) and writes a route per online user
 * (natter:route:UID:NODE = EPOCH, 30 s TTL). A node whose lease is gone or
 * carries another epoch is dead (or restarted): its users go offline for
 * their friends within about 15 s. Nodes announce their online users
 * (snapshot on start and reconnect, then each change) so every node knows
 * who is online anywhere.
 */
struct relay;

/* A relay to Redis at host:port for srv (started with relay_start). */
struct relay *relay_new(struct server *srv, const char *addr);
void relay_start(struct relay *r);
/*
 * Says goodbye to the other nodes (they take this node's users offline)
 * and waits until the relay thread has stopped announcing and submitting
 * DB jobs, so the DB pool can go.
 */
void relay_leave(struct relay *r);
/* Closes the connections, stops the thread and frees. */
void relay_free(struct relay *r);

/*
 * Publishes frame (len bytes, borrowed) for the users in uids to the other
 * nodes. Any thread; dropped if Redis is down (sync recovers).
 */
void relay_publish(struct relay *r, const int64_t *uids, size_t n,
                   const char *frame, size_t len);

/* A user came online on this node, or went offline here. Any thread. */
void relay_announce(struct relay *r, int64_t uid, const char *name, int on);

#endif
