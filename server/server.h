#ifndef NATTER_SERVER_SERVER_H
#define NATTER_SERVER_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "trim.h"

struct json_object;
struct loopq;
struct worker;

/*
 * The natterd process: the listener and signals on the main thread, the
 * worker threads, the DB pool and the presence table. The layout is open to
 * the other server modules; after start-up only the fields marked as such
 * change, under the lock beside them.
 */
struct server {
	const struct config *cfg;
	char node[64];
	struct event_base *base; /* main thread */
	struct evconnlistener *listener;
	struct evconnlistener *tls_listener;
	struct tls *tls; /* NULL: no TLS listener */
	char **proxies;  /* proxy-from, split; NULL-terminated */
	struct event *sig_term, *sig_int;
	struct event *accept_pause; /* out of descriptors: listeners rest */
	unsigned accept_pauses;     /* since accept last worked */
	struct event *trim_tick;    /* every TRIM_TICK_MS */
	struct trim trim;           /* after a burst of connections */
	struct log_limit refusals;  /* "too many clients" lines */
	struct dbpool *db;
	struct presence *presence;
	struct relay *relay; /* NULL: a single node */
	struct guard *guard;
	struct worker **workers;
	int nworkers;
	int next_worker; /* round robin; main thread only */

	pthread_mutex_t lock; /* guards quiesced */
	pthread_cond_t cond;
	int quiesced;
};

/*
 * Makes everything natterd needs before it listens: locks, node name,
 * presence, guard, the DB pool and the workers (threads not started).
 * Returns 0, or -1 (logged); server_teardown frees what it made either way.
 * server_run uses it; tests and fuzz targets drive a worker's loop alone.
 */
int server_init(struct server *srv, const struct config *cfg);
void server_teardown(struct server *srv);

/*
 * Runs natterd with configuration cfg until SIGTERM or SIGINT. Returns the
 * process exit status: 0 after a clean stop, 1 if start-up failed.
 */
int server_run(const struct config *cfg);

/*
 * Delivers event ev to every session of the users in uids, on every
 * worker, except the session with id except (0: none). Any loop thread;
 * ev is borrowed (serialized here).
 */
void server_deliver(struct server *srv, const int64_t *uids, size_t n,
                    struct json_object *ev, uint64_t except);

/*
 * The same for an already serialized frame (len bytes, borrowed); with
 * relay, it also goes to the other nodes of a cluster. Worker skip (if
 * not NULL) is left out: the caller delivers there itself.
 */
void server_deliver_frame(struct server *srv, const int64_t *uids, size_t n,
                          const char *frame, size_t len, uint64_t except,
                          bool relay, const struct worker *skip);

/*
 * Another node's deliveries (relay_ms_read's, relay-ms.h), to every worker in
 * one job each; their frames lie within the rlen bytes at region, which
 * is borrowed. Not relayed. Any thread.
 */
struct relay_ms_item;
void server_deliver_many(struct server *srv, const struct relay_ms_item *v,
                         size_t n, const int64_t *uids, size_t nuids,
                         const char *region, size_t rlen);

/* Tells every logged-in client of this node to sync (any thread). */
void server_resync(struct server *srv);

/*
 * Tells uid's friends that uid went offline, unless uid is back online by
 * the time the friend list is read. Any loop thread.
 */
void server_notify_offline(struct server *srv, struct loopq *q, int64_t uid,
                           const char *name);

/* Called by a worker once it stopped reading from its clients. */
void server_quiesced(struct server *srv);

#endif
