/*
 * yield.h: a thread gives the core away at its yield points once the set
 * time has passed since it last did, never with yielding off, and each
 * thread keeps its own setting. sched_yield is replaced here by a counter
 * (this program's definition wins over libc's).
 */
#include <pthread.h>
#include <time.h>

#include "unit.h"
#include "yield.h"

static _Thread_local int test_yields;

int
sched_yield(void)
{
	test_yields++;
	return 0;
}

static void
test_sleep_us(long us)
{
	struct timespec t = {us / 1000000, (us % 1000000) * 1000};

	nanosleep(&t, NULL);
}

/* Off at a thread's start: a yield point does nothing. */
static void *
test_other_thread(void *arg)
{
	(void)arg;
	yield_point();
	test_sleep_us(3000);
	yield_point();
	return (void *)(long)test_yields;
}

int
main(void)
{
	pthread_t t;
	void *other;

	yield_point();
	CHECK_EQ_INT(test_yields, 0);

	/* 100 ms: long enough that "too soon" holds on a loaded machine. */
	yield_enable(100000);
	yield_point(); /* nothing yet since the last: the first is due */
	CHECK_EQ_INT(test_yields, 1);
	yield_point(); /* too soon */
	CHECK_EQ_INT(test_yields, 1);
	test_sleep_us(120000);
	yield_point();
	CHECK_EQ_INT(test_yields, 2);

	/* Another thread starts with yielding off. */
	CHECK_EQ_INT(pthread_create(&t, NULL, test_other_thread, NULL), 0);
	CHECK_EQ_INT(pthread_join(t, &other), 0);
	CHECK_EQ_INT((int)(long)other, 0);

	yield_enable(0);
	test_sleep_us(2500);
	yield_point();
	CHECK_EQ_INT(test_yields, 2);
	return UNIT_END();
}
