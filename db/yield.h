#ifndef NATTER_DB_YIELD_H
#define NATTER_DB_YIELD_H

/*
 * Cooperative yielding for threads that run below the event loops (the
 * DB pool's general threads). Their niceness alone does not keep them
 * from holding a core: under EEVDF (Linux 6.6 and later; measured on
 * 6.18 with its default PREEMPT_NONE at 250 Hz) a thread that gets the
 * core at a timer tick can keep it until it sleeps, yields or the next
 * tick (4 ms) when the thread it displaced is runnable rather than woken,
 * and a busy background thread never sleeps. So such a thread marks
 * points where it may give the core away, and does so (sched_yield) once
 * a set time has passed since it last did.
 *
 * The state is the calling thread's own (thread-local): nothing is
 * shared between threads.
 */

/*
 * From now on, on this thread, yield_point gives the core away once us
 * microseconds have passed since it last did; 0 (every thread's start)
 * makes yield_point a no-op.
 */
void yield_enable(long us);

/* A point where this thread may give the core away (see above). */
void yield_point(void);

#endif
