/* Unit tests for shared/loopq.c: jobs from many threads run on the loop. */
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "loopq.h"
#include "unit.h"

#define THREADS 4
#define JOBS 1000

struct job {
	int thread, seq;
};

static struct loopq *q;
static struct event_base *base;
static pthread_t loop_thread;
static int next_seq[THREADS], ran, out_of_order, wrong_thread;

/* A job: checks where and in which order it runs. */
static void
job_run(void *arg)
{
	struct job *j = arg;

	if (!pthread_equal(pthread_self(), loop_thread))
		wrong_thread++;
	if (j->seq != next_seq[j->thread]++)
		out_of_order++;
	free(j);
	if (++ran == THREADS * JOBS)
		event_base_loopbreak(base);
}

/* A poster thread. */
static void *
poster(void *arg)
{
	int t = (int)(long)arg;

	for (int i = 0; i < JOBS; i++) {
		struct job *j = malloc(sizeof(*j));
		j->thread = t;
		j->seq = i;
		loopq_post(q, job_run, j);
	}
	return NULL;
}

/* Safety net so a lost wake-up fails the test instead of hanging it. */
static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* A counter job for the drain test. */
static void
count_run(void *arg)
{
	(*(int *)arg)++;
}

/* A job that records its tag in the order jobs ran. */
static char order[16];
static size_t norder;

static void
tag_run(void *arg)
{
	order[norder++] = *(const char *)arg;
}

/*
 * Held posts wait for the release, then every queue gets its own in
 * posting order; posts after the release go straight through again.
 */
static void
test_hold(void)
{
	static const char tags[] = "abcdefg";
	struct event_base *b = event_base_new();
	struct loopq *q1 = loopq_new(b), *q2 = loopq_new(b);

	loopq_hold();
	loopq_post(q1, tag_run, (void *)&tags[0]);
	loopq_post(q2, tag_run, (void *)&tags[1]);
	loopq_post(q1, tag_run, (void *)&tags[2]);
	loopq_post(q2, tag_run, (void *)&tags[3]);
	loopq_post(q1, tag_run, (void *)&tags[4]);
	event_base_loop(b, EVLOOP_NONBLOCK);
	CHECK_EQ_INT((int)norder, 0);
	loopq_release();
	loopq_post(q1, tag_run, (void *)&tags[5]);
	loopq_drain(q1);
	loopq_drain(q2);
	CHECK_EQ_INT((int)norder, 6);
	CHECK(memcmp(order, "acefbd", 6) == 0);
	loopq_free(q1);
	loopq_free(q2);
	event_base_free(b);
}

/*
 * Holds nest: an inner release wakes nothing. The outermost
 * loopq_release_run(q1) runs q1's held jobs at once, on the caller, and
 * wakes q2's loop, which runs its own when it turns.
 */
static void
test_hold_run(void)
{
	static const char tags[] = "abc";
	struct event_base *b = event_base_new();
	struct loopq *q1 = loopq_new(b), *q2 = loopq_new(b);

	norder = 0;
	loopq_hold();
	loopq_post(q1, tag_run, (void *)&tags[0]);
	loopq_hold();
	loopq_post(q2, tag_run, (void *)&tags[1]);
	loopq_post(q1, tag_run, (void *)&tags[2]);
	loopq_release();
	event_base_loop(b, EVLOOP_NONBLOCK);
	CHECK_EQ_INT((int)norder, 0);
	loopq_release_run(q1);
	CHECK_EQ_INT((int)norder, 2);
	CHECK(memcmp(order, "ac", 2) == 0);
	event_base_loop(b, EVLOOP_NONBLOCK);
	CHECK_EQ_INT((int)norder, 3);
	CHECK_EQ_INT(order[2], 'b');
	/* not held: nothing to run at the release */
	loopq_hold();
	loopq_release_run(q1);
	CHECK_EQ_INT((int)norder, 3);
	loopq_free(q1);
	loopq_free(q2);
	event_base_free(b);
}

/* A job that posts the next tag to its own queue, up to 'e'. */
static struct loopq *chain_q;

static void
chain_run(void *arg)
{
	const char *tag = arg;

	order[norder++] = *tag;
	if (*tag < 'e')
		loopq_post(chain_q, chain_run, (void *)(tag + 1));
}

/* A job that posts 'f' and runs it at once, from inside the run. */
static void
drain_run(void *arg)
{
	static const char f = 'f';

	order[norder++] = 'D';
	loopq_post(arg, tag_run, (void *)&f);
	loopq_drain(arg);
}

/*
 * A job may post to its own queue (the post runs at the next turn, not
 * in this one) and may drain it; runs longer than any before keep their
 * order as the arrays grow and are reused.
 */
static void
test_reentry(void)
{
	static const char tags[] = "abcdefg";
	struct event_base *b = event_base_new();
	int n = 0;

	chain_q = loopq_new(b);
	norder = 0;
	loopq_post(chain_q, chain_run, (void *)&tags[0]);
	loopq_drain(chain_q);
	CHECK_EQ_INT((int)norder, 1);
	event_base_loop(b, EVLOOP_NONBLOCK);
	while (norder < 5 && n++ < 10)
		loopq_drain(chain_q);
	CHECK(memcmp(order, "abcde", 5) == 0);
	norder = 0;
	loopq_post(chain_q, drain_run, chain_q);
	loopq_post(chain_q, tag_run, (void *)&tags[6]);
	loopq_drain(chain_q);
	CHECK(norder == 3 && memcmp(order, "Dfg", 3) == 0);
	for (int round = 0; round < 3; round++) {
		norder = 0;
		for (int i = 0; i < 300; i++)
			loopq_post(chain_q, count_run, &n);
		n = 0;
		loopq_drain(chain_q);
		CHECK_EQ_INT(n, 300);
	}
	loopq_free(chain_q);
	event_base_free(b);
}

int
main(void)
{
	pthread_t th[THREADS];
	struct timeval tv = {30, 0};
	struct event *timer;
	int counted = 0;

	evthread_use_pthreads();
	base = event_base_new();
	loop_thread = pthread_self();
	q = loopq_new(base);
	timer = evtimer_new(base, timeout_cb, base);
	evtimer_add(timer, &tv);
	for (long t = 0; t < THREADS; t++)
		pthread_create(&th[t], NULL, poster, (void *)t);
	event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	CHECK_EQ_INT(ran, THREADS * JOBS);
	CHECK_EQ_INT(out_of_order, 0);
	CHECK_EQ_INT(wrong_thread, 0);
	for (int t = 0; t < THREADS; t++)
		CHECK_EQ_INT(next_seq[t], JOBS);

	/* drain runs jobs on the caller; free drops what is left */
	loopq_post(q, count_run, &counted);
	loopq_post(q, count_run, &counted);
	loopq_drain(q);
	CHECK_EQ_INT(counted, 2);
	loopq_post(q, count_run, &counted);
	loopq_free(q);
	CHECK_EQ_INT(counted, 2);
	loopq_free(NULL);

	event_free(timer);
	event_base_free(base);
	test_hold();
	test_reentry();
	test_hold_run();
	return UNIT_END();
}
