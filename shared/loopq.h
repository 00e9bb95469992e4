#ifndef NATTER_SHARED_LOOPQ_H
#define NATTER_SHARED_LOOPQ_H

struct event_base;

/*
 * A queue of callbacks to run on one event loop, fed from any thread
 * (mutex + array + an eventfd; redis's bio.c has a list). This is how
 * data crosses threads in natter: a job posted here belongs to the loop's
 * thread once it runs. Posting allocates nothing once the queue's array
 * has grown to its longest burst.
 */
struct loopq;
typedef void (*loopq_fn)(void *arg);

/* A queue whose callbacks run on base's thread, at priority 0. */
struct loopq *loopq_new(struct event_base *base);
/* Frees the queue; jobs still queued are dropped without running. */
void loopq_free(struct loopq *q);
/* Queues fn(arg) to run on the loop, in posting order. Any thread. */
void loopq_post(struct loopq *q, loopq_fn fn, void *arg);
/* Runs every job queued so far on the calling (owner) thread. */
void loopq_drain(struct loopq *q);

/*
 * Between loopq_hold and loopq_release, the calling thread's posts are
 * queued but their loops are not woken; the release wakes each loop once.
 * For a thread that posts many jobs in a burst (the DB writer after a
 * group commit): a loop woken per job would preempt it for every one. A
 * loop woken by someone else may run held jobs early. Order per queue is
 * kept. Holds nest: only the outermost release wakes.
 */
void loopq_hold(void);
void loopq_release(void);
/*
 * loopq_release on self's own thread: the other loops are woken, and the
 * jobs of self, if the held posts went there, run now instead of after a
 * wake-up of self's loop (an eventfd write, a turn of the loop, a read).
 */
void loopq_release_run(struct loopq *self);

#endif
