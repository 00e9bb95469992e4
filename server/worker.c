#include "worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "codec.h"
#include "conn.h"
#include "dbpool.h"
#include "config.h"
#include "guard.h"
#include "handler.h"
#include "log.h"
#include "loopq.h"
#include "server.h"
#include "session.h"
#include "thread.h"
#include "xmalloc.h"

#define WORKER_FINISH_SECONDS 5

/* A socket on its way from the listener to a worker. */
struct worker_adoption {
	struct worker *w;
	evutil_socket_t fd;
	char host[48];
	int port;
	unsigned flags;
};

/*
 * A frame on its way to some users' sessions on one worker: one block,
 * the users then the frame, so a delivery costs one allocation.
 */
struct worker_delivery {
	struct worker *w;
	size_t len;
	size_t n;
	uint64_t except;
	int64_t uids[]; /* n of them, then the frame's len bytes */
};

static const char worker_ping[] = "{\"type\":\"ping\"}\n";

/* Pings every client once a heartbeat, so proxies see traffic. */
static void
worker_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct session *s, *next;

	(void)fd;
	(void)what;
	for (s = TAILQ_FIRST(&w->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry); /* sending may close s */
		session_send_raw(s, worker_ping, sizeof worker_ping - 1);
	}
}

/* Hands the sends held this loop turn, if any, to the writer. */
static void
worker_release_writes(struct worker *w)
{
	if (!w->holding)
		return;
	w->holding = false;
	dbpool_release_writes(w->srv->db);
}

/*
 * The end of a loop turn: the sends read during it go to the writer. If
 * this loop stores them itself (dbpool_loop_writes), their completions,
 * posted to its own queue, run here and now rather than after waking it.
 */
static void
worker_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	loopq_hold();
	worker_release_writes(w);
	loopq_release_run(w->q);
}

/*
 * Sends submitted from now to the end of this loop turn reach the writer
 * together. The flush event is activated now, so it runs after the
 * callbacks already active in this turn (the other clients' reads).
 */
void
worker_hold_writes(struct worker *w)
{
	if (w->holding)
		return;
	w->holding = true;
	dbpool_hold_writes();
	event_active(w->flush, EV_TIMEOUT, 0);
}

/* A worker with its loop, queue and heartbeat timer. */
struct worker *
worker_new(struct server *srv, int idx)
{
	struct worker *w = xcalloc(1, sizeof *w);
	struct timeval hb = {srv->cfg->heartbeat, 0};

	w->srv = srv;
	w->idx = idx;
	if ((w->base = event_base_new()) == NULL ||
	    event_base_priority_init(w->base, WORKER_PRIOS) < 0)
		fatal("%s: event_base_new failed", __func__);
	w->q = loopq_new(w->base);
	w->reader = codec_reader_new((int)srv->cfg->max_depth + 1);
	w->spare_bufs = conn_spares_new();
	TAILQ_INIT(&w->sessions);
	w->tick = event_new(w->base, -1, EV_PERSIST, worker_tick_cb, w);
	w->flush = event_new(w->base, -1, 0, worker_flush_cb, w);
	event_priority_set(w->flush, WORKER_PRIO_LIVE);
	event_add(w->tick, &hb);
	return w;
}

/* Frees a worker whose thread has ended. */
void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	event_free(w->tick);
	event_free(w->flush);
	loopq_drain(w->q); /* deliveries posted after the loop ended */
	loopq_free(w->q);
	codec_reader_free(w->reader);
	handler_spares_free(w);
	conn_spares_free(w->spare_bufs);
	event_base_free(w->base);
	free(w);
}

/* The thread: run the loop until worker_finish ends it. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char name[16]; /* the kernel's limit, NUL included */

	snprintf(name, sizeof name, "worker-%d", w->idx);
	pthread_setname_np(pthread_self(), name); /* for top -H, perf */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	loopq_drain(w->q);
	return NULL;
}

void
worker_start(struct worker *w)
{
	if (thread_start(&w->thread, worker_main, w) != 0)
		fatal("%s: pthread_create failed", __func__);
}

void
worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

/* On the worker: the adopted socket becomes a session. */
static void
worker_adopt_cb(void *arg)
{
	struct worker_adoption *a = arg;

	if (a->w->finishing) {
		if (!(a->flags & SESSION_PROXY))
			guard_conn_close(a->w->srv->guard, a->host);
		evutil_closesocket(a->fd);
	} else {
		session_new(a->w, a->fd, a->host, a->port, a->flags);
	}
	free(a);
}

void
worker_adopt(struct worker *w, evutil_socket_t fd, const char *host, int port,
             unsigned flags)
{
	struct worker_adoption *a = xmalloc(sizeof *a);

	a->w = w;
	a->fd = fd;
	snprintf(a->host, sizeof a->host, "%s", host);
	a->port = port;
	a->flags = flags;
	loopq_post(w->q, worker_adopt_cb, a);
}

/* The head of uid's chain in the user index. */
static struct session **
worker_user_head(struct worker *w, int64_t uid)
{
	return &w->users[(uint64_t)uid & (WORKER_USER_BUCKETS - 1)];
}

void
worker_user_add(struct worker *w, struct session *s)
{
	struct session **head = worker_user_head(w, s->uid);

	s->unext = *head;
	*head = s;
}

void
worker_user_remove(struct worker *w, struct session *s)
{
	struct session **pp = worker_user_head(w, s->uid);

	while (*pp != NULL && *pp != s)
		pp = &(*pp)->unext;
	if (*pp != NULL)
		*pp = s->unext;
	s->unext = NULL;
}

void
worker_deliver_here(struct worker *w, const char *frame, size_t len,
                    const int64_t *uids, size_t n, uint64_t except)
{
	struct session *s, *next;
	size_t i;

	for (i = 0; i < n; i++) {
		s = *worker_user_head(w, uids[i]);
		for (; s != NULL; s = next) {
			next = s->unext; /* sending may close s */
			if (s->uid == uids[i] && s->id != except)
				session_send_raw(s, frame, len);
		}
	}
}

/* Writes a delivery to each matching session of this worker. */
static void
worker_deliver_cb(void *arg)
{
	struct worker_delivery *d = arg;

	worker_deliver_here(d->w, (const char *)(d->uids + d->n), d->len,
	                    d->uids, d->n, d->except);
	free(d);
}

void
worker_deliver(struct worker *w, const char *frame, size_t len,
               const int64_t *uids, size_t n, uint64_t except)
{
	struct worker_delivery *d =
	    xmalloc(sizeof(*d) + n * sizeof(*uids) + len);

	d->w = w;
	d->len = len;
	memcpy(d->uids, uids, n * sizeof(*uids));
	memcpy(d->uids + n, frame, len);
	d->n = n;
	d->except = except;
	loopq_post(w->q, worker_deliver_cb, d);
}

/* A worker_deliver_many job: its frames point into region. */
struct worker_deliveries {
	struct worker *w;
	struct relay_ms_item *v;
	size_t n;
	int64_t *uids;
	char *region;
};

/* Writes each delivery of a batch to its matching sessions. */
static void
worker_deliver_many_cb(void *arg)
{
	struct worker_deliveries *d = arg;
	size_t i;

	for (i = 0; i < d->n; i++)
		worker_deliver_here(d->w, d->v[i].frame, d->v[i].len,
		                    d->uids + d->v[i].uid0, d->v[i].nuid, 0);
	free(d);
}

void
worker_deliver_many(struct worker *w, const struct relay_ms_item *v, size_t n,
                    const int64_t *uids, size_t nuids, const char *region,
                    size_t rlen)
{
	/* one block: the job, the deliveries, the users, the region */
	size_t sv = n * sizeof(*v), su = nuids * sizeof(*uids);
	struct worker_deliveries *d = xmalloc(sizeof(*d) + sv + su + rlen);
	size_t i;

	d->w = w;
	d->n = n;
	d->v = (struct relay_ms_item *)(void *)(d + 1);
	d->uids = (int64_t *)(void *)((char *)d->v + sv);
	d->region = (char *)d->uids + su;
	memcpy(d->uids, uids, su);
	memcpy(d->region, region, rlen);
	for (i = 0; i < n; i++) {
		d->v[i] = v[i];
		d->v[i].frame = d->region + (v[i].frame - region);
	}
	loopq_post(w->q, worker_deliver_many_cb, d);
}

static const char worker_resync_frame[] = "{\"type\":\"resync\"}\n";

/* On the worker: pushes may have been lost; clients should sync. */
static void
worker_resync_cb(void *arg)
{
	struct worker *w = arg;
	struct session *s, *next;

	for (s = TAILQ_FIRST(&w->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry); /* sending may close s */
		if (s->uid != 0)
			session_send_raw(s, worker_resync_frame,
			                 sizeof worker_resync_frame - 1);
	}
}

void
worker_resync(struct worker *w)
{
	loopq_post(w->q, worker_resync_cb, w);
}

/* On the worker: stop taking requests, report to the main thread. */
static void
worker_quiesce_cb(void *arg)
{
	struct worker *w = arg;
	struct session *s;

	w->stopping = true;
	TAILQ_FOREACH(s, &w->sessions, entry)
	{
		if (s->conn != NULL)
			conn_set_reading(s->conn, false);
	}
	/* The sends read this turn reach the writer before the server, told
	 * we are quiet, stops the DB pool (the flush would come too late). */
	worker_release_writes(w);
	server_quiesced(w->srv);
}

void
worker_quiesce(struct worker *w)
{
	loopq_post(w->q, worker_quiesce_cb, w);
}

/* On the worker: flush and close everyone, leave the loop when done. */
static void
worker_finish_cb(void *arg)
{
	struct worker *w = arg;
	struct timeval t = {WORKER_FINISH_SECONDS, 0};

	w->finishing = true;
	event_del(w->tick);
	while (!TAILQ_EMPTY(&w->sessions))
		session_close_flush(TAILQ_FIRST(&w->sessions), "shutdown");
	/* Leave once the flushes are done, or after a few seconds. */
	event_base_loopexit(w->base, w->nsockets == 0 ? NULL : &t);
}

void
worker_finish(struct worker *w)
{
	loopq_post(w->q, worker_finish_cb, w);
}
