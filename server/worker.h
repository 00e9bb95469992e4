#ifndef NATTER_SERVER_WORKER_H
#define NATTER_SERVER_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "log.h"
#include "relay-ms.h"

struct conn_spares;
struct hjob;
struct server;
struct session;

#define WORKER_USER_BUCKETS 1024 /* power of two */

/*
 * A worker thread: its own event_base, its sessions and an index of them by
 * user. Only the worker's thread touches any of it; other threads reach a
 * worker through its loopq (q).
 */
struct worker {
	struct server *srv;
	int idx;
	pthread_t thread;
	struct event_base *base;
	struct loopq *q;
	struct codec_reader *reader; /* parses this loop's requests */
	struct event *tick;          /* heartbeat */
	struct event *flush;         /* hands this turn's sends to the writer */
	bool holding;                /* sends are held (dbpool_hold_writes) */
	TAILQ_HEAD(, session) sessions;
	size_t nsessions; /* open for requests */
	size_t nsockets;  /* sockets alive, flushing ones included */
	struct session *users[WORKER_USER_BUCKETS]; /* chained by unext */
	uint64_t next_id;
	struct hjob *spare_jobs; /* handler.c's, for reuse */
	size_t nspare_jobs;
	struct conn_spares *spare_bufs; /* its connections' empty buffers */
	struct log_limit refusals;      /* "too many clients" lines */
	bool stopping;                  /* no new requests are read */
	bool finishing;                 /* exit once every session is gone */
};

/*
 * Event priorities of a worker's loop: libevent runs the active events of
 * the top priority and leaves the rest for the next turn, so logged-in
 * clients' traffic (and DB completions) goes before connections that are
 * still logging in: a storm of logins delays chat less.
 */
#define WORKER_PRIO_LIVE 0 /* logged-in sessions, loop queue, flush */
#define WORKER_PRIO_NEW 1  /* sessions before login, heartbeat */
#define WORKER_PRIOS 2

/* A worker for srv (thread not started). */
struct worker *worker_new(struct server *srv, int idx);
void worker_free(struct worker *w);
void worker_start(struct worker *w);
void worker_join(struct worker *w);

/*
 * Holds the sends submitted on w's thread until the end of the current
 * loop turn, so the writer gets them together (dbpool_hold_writes).
 */
void worker_hold_writes(struct worker *w);

/* Hands an accepted socket to w (from the main thread); w owns fd. */
/* flags: SESSION_TLS, SESSION_PROXY (session.h). */
void worker_adopt(struct worker *w, evutil_socket_t fd, const char *host,
                  int port, unsigned flags);

/* Indexes s under its user id, and removes it again (worker thread). */
void worker_user_add(struct worker *w, struct session *s);
void worker_user_remove(struct worker *w, struct session *s);

/*
 * Queues a copy of frame (len bytes) for every session of uids on w,
 * except session except. Any thread.
 */
void worker_deliver(struct worker *w, const char *frame, size_t len,
                    const int64_t *uids, size_t n, uint64_t except);
/* The same at once, on w's own thread; frame is borrowed. */
void worker_deliver_here(struct worker *w, const char *frame, size_t len,
                         const int64_t *uids, size_t n, uint64_t except);

/*
 * worker_deliver for n deliveries at once, in order, to no session
 * excepted: one copy and one job for all of them (another node's batch,
 * thousands of deliveries, would otherwise cost a job each). They are as
 * relay_ms_read left them (relay-ms.h): each a frame to uids[uid0,
 * uid0 + nuid), within the region of rlen bytes at region, which is
 * copied whole. Any thread.
 */
void worker_deliver_many(struct worker *w, const struct relay_ms_item *v,
                         size_t n, const int64_t *uids, size_t nuids,
                         const char *region, size_t rlen);

/* Sends every logged-in session a "resync" event (posted; any thread). */
void worker_resync(struct worker *w);

/* Stop reading requests, then report to the server (posted; any thread). */
void worker_quiesce(struct worker *w);
/* Flush and close every session, then leave the loop (posted). */
void worker_finish(struct worker *w);

#endif
