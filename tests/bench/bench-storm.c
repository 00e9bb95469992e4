/* The login storm on its own thread and event loop. */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench-proc.h"
#include "bench-run.h"
#include "bench-storm.h"
#include "xmalloc.h"

/*
 * The storm thread's priority. tests/bench/compare pins the generator to
 * one core, so the chat loop and the storm share it. At SCHED_IDLE (the
 * default) the storm gets the core only when the chat loop has nothing to
 * do, and a woken chat loop takes the core back at once: the chat p99
 * measures the server, not the generator. At a nice value (--storm-nice,
 * 5 until the twenty-second session) the storm kept the core for up to a
 * scheduler slice while the chat loop's timer and reads waited.
 */
static void
bench_storm_lower(const struct bench_opts *o)
{
	struct sched_param sp = {0};
	int r;

	if (o->storm_nice == BENCH_STORM_IDLE)
		r = sched_setscheduler(0, SCHED_IDLE, &sp); /* this thread */
	else
		r = setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
		                o->storm_nice);
	if (r < 0)
		fprintf(stderr, "natter-bench: storm priority: %s\n",
		        strerror(errno));
}

/*
 * Who touches what. The two threads share nothing mutable but:
 *  - the socketpair fds: the chat loop writes a byte on fds[0] to stop the
 *    storm thread, the storm thread a byte on fds[1] to say done/failed;
 *  - the atomics below, written by the storm thread, read by the chat
 *    loop; why[] is written once, before failed is set (release), and read
 *    only after failed was seen set (acquire).
 * o, done and arg are set before the thread starts and read-only after;
 * base, stop_ev and conns belong to the storm thread while it runs.
 */
struct bench_storm {
	const struct bench_opts *o;
	void (*done)(void *);
	void *arg;
	int fds[2];
	pthread_t thread;
	struct event *done_ev; /* chat loop: the storm thread's byte */
	/* The storm thread's own. */
	struct event_base *base;
	struct event *stop_ev;
	struct bench_conn **conns;
	int opened;
	/* Shared. */
	atomic_int nlogins;
	_Atomic uint64_t end;
	atomic_bool failed;
	char why[256];
};

/* Wakes the chat loop: the storm finished or failed. */
static void
bench_storm_notify(struct bench_storm *st)
{
	char b = 'd';

	if (write(st->fds[1], &b, 1) < 0)
		fprintf(stderr, "natter-bench: storm notify: %s\n",
		        strerror(errno));
}

/* Storm thread: the first failure is kept and reported; later ones not. */
static void __attribute__((format(printf, 2, 3)))
bench_storm_fail(struct bench_storm *st, const char *fmt, ...)
{
	va_list ap;

	if (atomic_load_explicit(&st->failed, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	vsnprintf(st->why, sizeof st->why, fmt, ap);
	va_end(ap);
	atomic_store_explicit(&st->failed, true, memory_order_release);
	bench_storm_notify(st);
}

static void bench_storm_cb(struct bench_conn *c, enum bench_ev ev,
                           const char *body, size_t len);

/* Storm thread: opens login idx from source 127.0.0.(1 + idx % sources). */
static void
bench_storm_open(struct bench_storm *st)
{
	int idx = st->opened;
	struct bench_conn *c;

	c = bench_run_dial(st->base, st->o, &st->o->server, (size_t)idx, "l",
	                   idx, bench_storm_cb, st);
	if (c == NULL) {
		bench_storm_fail(st, "cannot open login connection %d", idx);
		return;
	}
	c->registered = true;
	st->conns[st->opened++] = c;
}

/* Storm thread: a login is in (or failed); keep o->burst in progress. */
static void
bench_storm_cb(struct bench_conn *c, enum bench_ev ev, const char *body,
               size_t len)
{
	struct bench_storm *st = c->owner;
	int n;

	if (ev == BENCH_EV_FAIL || ev == BENCH_EV_CLOSED) {
		bench_storm_fail(st, "login %s: %.*s", c->name, (int)len, body);
		return;
	}
	if (ev != BENCH_EV_READY)
		return;
	if (st->opened < st->o->logins &&
	    !atomic_load_explicit(&st->failed, memory_order_relaxed))
		bench_storm_open(st);
	n = atomic_fetch_add_explicit(&st->nlogins, 1, memory_order_relaxed);
	if (n + 1 < st->o->logins)
		return;
	atomic_store_explicit(&st->end, bench_proc_now(), memory_order_release);
	bench_storm_notify(st);
}

/* Storm thread: the chat loop asks it to stop. */
static void
bench_storm_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_storm *st = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(st->base);
}

/* Storm thread: lower priority, first burst, loop until told to stop. */
static void *
bench_storm_main(void *arg)
{
	struct bench_storm *st = arg;
	int i;

	bench_storm_lower(st->o);
	while (st->opened < st->o->logins && st->opened < st->o->burst &&
	       !atomic_load_explicit(&st->failed, memory_order_relaxed))
		bench_storm_open(st);
	event_base_dispatch(st->base);
	for (i = 0; i < st->opened; i++)
		bench_conn_free(st->conns[i]);
	return NULL;
}

/* Chat loop: the storm thread's byte; drain it and tell the workload. */
static void
bench_storm_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_storm *st = arg;
	char buf[16];

	(void)what;
	while (read(fd, buf, sizeof buf) > 0)
		;
	st->done(st->arg);
}

/* Frees what start made; the thread must not be running. */
static void
bench_storm_release(struct bench_storm *st)
{
	if (st->done_ev != NULL)
		event_free(st->done_ev);
	if (st->stop_ev != NULL)
		event_free(st->stop_ev);
	if (st->base != NULL)
		event_base_free(st->base);
	close(st->fds[0]);
	close(st->fds[1]);
	free(st->conns);
	free(st);
}

/* Starts the storm thread; see bench-storm.h. */
struct bench_storm *
bench_storm_start(const struct bench_opts *o, struct event_base *base,
                  void (*done)(void *), void *arg)
{
	struct bench_storm *st = xcalloc(1, sizeof *st);
	int r;

	st->o = o;
	st->done = done;
	st->arg = arg;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	               st->fds) < 0) {
		fprintf(stderr, "natter-bench: socketpair: %s\n",
		        strerror(errno));
		free(st);
		return NULL;
	}
	st->conns =
	    xcalloc((size_t)(o->logins > 0 ? o->logins : 1), sizeof *st->conns);
	st->base = event_base_new();
	st->stop_ev =
	    event_new(st->base, st->fds[1], EV_READ, bench_storm_stop_cb, st);
	st->done_ev = event_new(base, st->fds[0], EV_READ | EV_PERSIST,
	                        bench_storm_done_cb, st);
	event_add(st->stop_ev, NULL);
	event_add(st->done_ev, NULL);
	if ((r = pthread_create(&st->thread, NULL, bench_storm_main, st)) !=
	    0) {
		fprintf(stderr, "natter-bench: storm thread: %s\n",
		        strerror(r));
		bench_storm_release(st);
		return NULL;
	}
	return st;
}

/* Tells the thread to stop, waits for it, frees everything. */
void
bench_storm_free(struct bench_storm *st)
{
	char b = 'q';

	if (st == NULL)
		return;
	if (write(st->fds[0], &b, 1) < 0)
		fprintf(stderr, "natter-bench: storm stop: %s\n",
		        strerror(errno));
	pthread_join(st->thread, NULL);
	bench_storm_release(st);
}

/* Logins completed so far. */
int
bench_storm_logins(const struct bench_storm *st)
{
	return atomic_load_explicit(&st->nlogins, memory_order_relaxed);
}

/* The last login's time, or 0. */
uint64_t
bench_storm_end(const struct bench_storm *st)
{
	return atomic_load_explicit(&st->end, memory_order_acquire);
}

/* The failure's reason, or NULL. */
const char *
bench_storm_error(const struct bench_storm *st)
{
	return atomic_load_explicit(&st->failed, memory_order_acquire) ? st->why
	                                                               : NULL;
}
