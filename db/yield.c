#include <sched.h>
#include <time.h>

#include "yield.h"

static _Thread_local long yield_us;              /* 0: never yields */
static _Thread_local struct timespec yield_last; /* the last yield */

void
yield_enable(long us)
{
	yield_us = us;
	yield_last = (struct timespec){0, 0};
}

/* Off: returns at once. On: a clock read (vDSO), a sched_yield when due. */
void
yield_point(void)
{
	struct timespec now;

	if (yield_us <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((now.tv_sec - yield_last.tv_sec) * 1000000L +
	        (now.tv_nsec - yield_last.tv_nsec) / 1000 <
	    yield_us)
		return;
	sched_yield();
	clock_gettime(CLOCK_MONOTONIC, &yield_last);
}
