#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "loopq.h"
#include "xmalloc.h"

struct loopq_job {
	loopq_fn fn;
	void *arg;
	struct loopq_job *next;
};

/*
 * Posters append under mu and wake the loop with event_active; the loop
 * takes the whole list at once, so the lock is held only for pointer swaps
 * and never while a job runs (a job may post to the same queue).
 */
struct loopq {
	pthread_mutex_t mu;
	struct loopq_job *head, *tail;
	struct event *ev;
};

/* Takes every queued job out of q, oldest first. */
static struct loopq_job *
loopq_take(struct loopq *q)
{
	struct loopq_job *list;

	pthread_mutex_lock(&q->mu);
	list = q->head;
	q->head = q->tail = NULL;
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

/* Appends fn(arg) and wakes the loop; safe from any thread. */
void
loopq_post(struct loopq *q, loopq_fn fn, void *arg)
{
	struct loopq_job *job = xmalloc(sizeof(*job));

	job->fn = fn;
	job->arg = arg;
	job->next = NULL;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
	pthread_mutex_unlock(&q->mu);
	event_active(q->ev, EV_READ, 0);
}

/* Runs what is queued now on the calling thread, e.g. before shutdown. */
void
loopq_drain(struct loopq *q)
{
	loopq_run(loopq_take(q));
}
