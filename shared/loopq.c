#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "loopq.h"
#include "xmalloc.h"

/* Queues a held post may wait to wake; past that a post wakes at once. */
#define LOOPQ_HOLD_MAX 64

struct loopq_job {
	loopq_fn fn;
	void *arg;
};

/* Jobs in order in one array, whose room is kept when it empties. */
struct loopq_vec {
	struct loopq_job *v;
	size_t n, cap;
};

/*
 * Posters append under mu and wake the loop through an eventfd of the
 * queue's own; the loop swaps the array out at once, so the lock is held
 * only for an append or a swap and never while a job runs (a job may post
 * to the same queue). Two arrays take turns, so a post allocates only when
 * a burst is longer than any before: nothing per job.
 *
 * Not event_active: from another thread it writes libevent's wake-up fd
 * while holding the base's lock. On a shared core the woken loop preempts
 * the poster at once, blocks on that lock, and preempts it again when it
 * is let go: four context switches a wake-up where two do (fifteenth
 * session, doc/performance.md). Here the write comes after every unlock,
 * and only the post that finds the queue not yet woken makes it.
 */
struct loopq {
	pthread_mutex_t mu;
	struct loopq_vec jobs;  /* posted, not yet taken */
	struct loopq_vec spare; /* empty, with the room of an earlier run */
	bool woken;             /* a wake-up is written or held since a take */
	int fd;                 /* eventfd the loop reads */
	struct event *ev;
};

/*
 * The queues this thread posted to while holding (loopq_hold, depth deep),
 * to wake at the outermost release. Thread-local and fixed: nothing is
 * shared, and a thread that ends leaves nothing behind.
 */
static _Thread_local struct {
	int depth;
	struct loopq *q[LOOPQ_HOLD_MAX];
	size_t n;
} loopq_holding;

/* Takes every queued job out of q, oldest first. */
static struct loopq_vec
loopq_take(struct loopq *q)
{
	struct loopq_vec run;

	pthread_mutex_lock(&q->mu);
	run = q->jobs;
	q->jobs = q->spare;
	q->spare = (struct loopq_vec){NULL, 0, 0};
	q->woken = false;
	pthread_mutex_unlock(&q->mu);
	return run;
}

/* Gives q back the room of a run it took (or frees it if q has one). */
static void
loopq_put_back(struct loopq *q, struct loopq_vec run)
{
	pthread_mutex_lock(&q->mu);
	if (q->spare.v == NULL) {
		q->spare = run;
		q->spare.n = 0;
		run.v = NULL;
	}
	pthread_mutex_unlock(&q->mu);
	free(run.v);
}

/* Runs the jobs taken from q in order, then returns their room. */
static void
loopq_run(struct loopq *q, struct loopq_vec run)
{
	size_t i;

	for (i = 0; i < run.n; i++)
		run.v[i].fn(run.v[i].arg);
	loopq_put_back(q, run);
}

/* Wakes q's loop; a full counter (never, in practice) is awake anyway. */
static void
loopq_wake(struct loopq *q)
{
	uint64_t one = 1;

	if (write(q->fd, &one, sizeof one) < 0 && errno != EAGAIN)
		log_warn("loopq: eventfd write: %s", strerror(errno));
}

/*
 * The wake-up fired: reset the counter, then run what was posted. A post
 * after the take writes again, so nothing posted is left waiting.
 */
static void
loopq_event_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		log_warn("loopq: eventfd read: %s", strerror(errno));
	loopq_run(arg, loopq_take(arg));
}

/* A queue whose jobs run on base's thread. */
struct loopq *
loopq_new(struct event_base *base)
{
	struct loopq *q = xcalloc(1, sizeof(*q));

	pthread_mutex_init(&q->mu, NULL);
	q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->fd < 0)
		fatal("%s: eventfd: %s", __func__, strerror(errno));
	q->ev = event_new(base, q->fd, EV_READ | EV_PERSIST, loopq_event_cb, q);
	if (q->ev == NULL)
		fatal("%s: event_new failed", __func__);
	/* Completions first, on a base with priorities (0 is the top). */
	event_priority_set(q->ev, 0);
	if (event_add(q->ev, NULL) < 0)
		fatal("%s: event_add failed", __func__);
	return q;
}

/* Frees q on its loop's thread; queued jobs are dropped, args untouched. */
void
loopq_free(struct loopq *q)
{
	if (q == NULL)
		return;
	event_free(q->ev);
	close(q->fd);
	free(q->jobs.v);
	free(q->spare.v);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* Remembers q to wake at the release; false if there is no room. */
static bool
loopq_hold_add(struct loopq *q)
{
	size_t i;

	for (i = 0; i < loopq_holding.n; i++)
		if (loopq_holding.q[i] == q)
			return true;
	if (loopq_holding.n == LOOPQ_HOLD_MAX)
		return false;
	loopq_holding.q[loopq_holding.n++] = q;
	return true;
}

/* Appends fn(arg) and wakes the loop (or holds it); any thread. */
void
loopq_post(struct loopq *q, loopq_fn fn, void *arg)
{
	struct loopq_vec *jobs = &q->jobs;
	bool wake;

	pthread_mutex_lock(&q->mu);
	if (jobs->n == jobs->cap) {
		jobs->cap = jobs->cap != 0 ? 2 * jobs->cap : 64;
		jobs->v = xrealloc(jobs->v, jobs->cap * sizeof(*jobs->v));
	}
	jobs->v[jobs->n++] = (struct loopq_job){fn, arg};
	wake = !q->woken;
	q->woken = true;
	pthread_mutex_unlock(&q->mu);
	if (wake && (loopq_holding.depth == 0 || !loopq_hold_add(q)))
		loopq_wake(q);
}

void
loopq_hold(void)
{
	loopq_holding.depth++;
}

/*
 * The outermost release: wakes each loop the held posts went to, once,
 * but self's (if not NULL); true if self was among them.
 */
static bool
loopq_release_all(struct loopq *self)
{
	bool held_self = false;
	size_t i;

	if (--loopq_holding.depth > 0)
		return false;
	for (i = 0; i < loopq_holding.n; i++)
		if (loopq_holding.q[i] == self)
			held_self = true;
		else
			loopq_wake(loopq_holding.q[i]);
	loopq_holding.n = 0;
	return held_self;
}

void
loopq_release(void)
{
	(void)loopq_release_all(NULL);
}

void
loopq_release_run(struct loopq *self)
{
	if (loopq_release_all(self))
		loopq_run(self, loopq_take(self));
}

/* Runs what is queued now on the calling thread, e.g. before shutdown. */
void
loopq_drain(struct loopq *q)
{
	loopq_run(q, loopq_take(q));
}
