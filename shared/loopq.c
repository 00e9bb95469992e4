#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "loopq.h"
#include "xmalloc.h"

struct loopq_job {
	loopq_fn fn;
	void *arg;
	struct loopq_job *next;
};

/* Jobs in order, with the last one at hand for appending. */
struct loopq_list {
	struct loopq_job *head, *tail;
};

/*
 * Posters append under mu and wake the loop with event_active; the loop
 * takes the whole list at once, so the lock is held only for pointer swaps
 * and never while a job runs (a job may post to the same queue).
 */
struct loopq {
	pthread_mutex_t mu;
	struct loopq_list jobs;
	struct event *ev;
};

/* One queue's held jobs. */
struct loopq_held {
	struct loopq *q;
	struct loopq_list jobs;
};

/*
 * The posts a thread holds (loopq_hold). Thread-local: each thread only
 * ever sees its own, so nothing here is shared.
 */
static _Thread_local struct {
	bool on;
	struct loopq_held *v;
	size_t n, cap;
} loopq_holding;

/* Appends the jobs of more (a non-empty list) to l. */
static void
loopq_list_cat(struct loopq_list *l, struct loopq_list more)
{
	if (l->tail != NULL)
		l->tail->next = more.head;
	else
		l->head = more.head;
	l->tail = more.tail;
}

/* Takes every queued job out of q, oldest first. */
static struct loopq_job *
loopq_take(struct loopq *q)
{
	struct loopq_job *list;

	pthread_mutex_lock(&q->mu);
	list = q->jobs.head;
	q->jobs = (struct loopq_list){NULL, NULL};
	pthread_mutex_unlock(&q->mu);
	return list;
}

/* Runs and frees a list of jobs in order. */
static void
loopq_run(struct loopq_job *list)
{
	struct loopq_job *next;

	for (; list != NULL; list = next) {
		next = list->next;
		list->fn(list->arg);
		free(list);
	}
}

/* The wake-up event fired: run what was posted. */
static void
loopq_event_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	loopq_run(loopq_take(arg));
}

/* A queue whose jobs run on base's thread. */
struct loopq *
loopq_new(struct event_base *base)
{
	struct loopq *q = xcalloc(1, sizeof(*q));

	pthread_mutex_init(&q->mu, NULL);
	q->ev = event_new(base, -1, 0, loopq_event_cb, q);
	if (q->ev == NULL)
		fatal("%s: event_new failed", __func__);
	/* Completions first, on a base with priorities (0 is the top). */
	event_priority_set(q->ev, 0);
	return q;
}

/* Frees q on its loop's thread; queued jobs are dropped, args untouched. */
void
loopq_free(struct loopq *q)
{
	struct loopq_job *list, *next;

	if (q == NULL)
		return;
	event_free(q->ev);
	for (list = loopq_take(q); list != NULL; list = next) {
		next = list->next;
		free(list);
	}
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Appends jobs to q and wakes its loop. */
static void
loopq_append(struct loopq *q, struct loopq_list jobs)
{
	pthread_mutex_lock(&q->mu);
	loopq_list_cat(&q->jobs, jobs);
	pthread_mutex_unlock(&q->mu);
	event_active(q->ev, EV_READ, 0);
}

/* Adds job to this thread's held list for q. */
static void
loopq_hold_add(struct loopq *q, struct loopq_job *job)
{
	struct loopq_held *h;
	size_t i;

	for (i = 0; i < loopq_holding.n && loopq_holding.v[i].q != q; i++)
		;
	if (i == loopq_holding.n) {
		if (i == loopq_holding.cap) {
			loopq_holding.cap = i != 0 ? 2 * i : 8;
			loopq_holding.v = xrealloc(
			    loopq_holding.v,
			    loopq_holding.cap * sizeof(*loopq_holding.v));
		}
		loopq_holding.v[i] = (struct loopq_held){q, {NULL, NULL}};
		loopq_holding.n++;
	}
	h = &loopq_holding.v[i];
	loopq_list_cat(&h->jobs, (struct loopq_list){job, job});
}

/* Appends fn(arg) and wakes the loop (or holds it); any thread. */
void
loopq_post(struct loopq *q, loopq_fn fn, void *arg)
{
	struct loopq_job *job = xmalloc(sizeof(*job));

	job->fn = fn;
	job->arg = arg;
	job->next = NULL;
	if (loopq_holding.on)
		loopq_hold_add(q, job);
	else
		loopq_append(q, (struct loopq_list){job, job});
}

void
loopq_hold(void)
{
	loopq_holding.on = true;
}

/*
 * Hands every held list to its queue. The array goes too: a thread that
 * ends must leave nothing behind.
 */
void
loopq_release(void)
{
	size_t i;

	loopq_holding.on = false;
	for (i = 0; i < loopq_holding.n; i++)
		loopq_append(loopq_holding.v[i].q, loopq_holding.v[i].jobs);
	free(loopq_holding.v);
	loopq_holding.v = NULL;
	loopq_holding.n = loopq_holding.cap = 0;
}

/* Runs what is queued now on the calling thread, e.g. before shutdown. */
void
loopq_drain(struct loopq *q)
{
	loopq_run(loopq_take(q));
}
