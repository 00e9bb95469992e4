/* One workload run: loop, connections, timers, results. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "bench-hist.h"
#include "bench-natter.h"
#include "bench-proc.h"
#include "bench-run.h"
#include "xmalloc.h"

#define BENCH_RUN_REGISTRARS 4  /* connections used to pre-register */
#define BENCH_RUN_REG_WINDOW 64 /* registers in flight on each */

/*
 * A one-shot timer's trampoline, on the run's list until it fires, so a
 * run that ends first (failed, timed out) frees the ones still pending.
 */
struct bench_run_timer {
	void (*fn)(void *);
	void *arg;
	struct bench_run *run;
	struct bench_run_timer *prev, *next;
};

/* bench_run_clock_new's: a repeating timerfd watched by the loop. */
struct bench_run_clock {
	int fd;
	struct event *ev;
	void (*fn)(void *);
	void *arg;
};

/* The run's time limit passed before the workload finished. */
static void
bench_run_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bench_run_fail(arg, "timed out after %.0f s",
	               ((struct bench_run *)arg)->o->timeout);
}

/* The clock's timerfd fired (once or more since the last read). */
static void
bench_run_clock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_run_clock *k = arg;
	uint64_t n;

	(void)what;
	if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
		fprintf(stderr, "natter-bench: clock: %s\n", strerror(errno));
	k->fn(k->arg);
}

/*
 * Not libevent's timers: with epoll their resolution is the millisecond,
 * and the clock ran late and sent in bursts that every server then queued
 * (mosquitto's p50 at 20k msg/s 1.25 ms against 0.10; doc/performance.md,
 * fifteenth session). libevent's precise timers (a timerfd too) set it
 * again on every loop turn, a system call each: 6 % of the generator's
 * time at 20k msg/s. This one repeats by itself: a read a tick.
 */
struct bench_run_clock *
bench_run_clock_new(struct bench_run *run, int us, void (*fn)(void *),
                    void *arg)
{
	struct bench_run_clock *k = xcalloc(1, sizeof *k);
	struct itimerspec it = {{us / 1000000, (long)(us % 1000000) * 1000},
	                        {us / 1000000, (long)(us % 1000000) * 1000}};

	k->fn = fn;
	k->arg = arg;
	k->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (k->fd < 0 || timerfd_settime(k->fd, 0, &it, NULL) < 0) {
		fprintf(stderr, "natter-bench: timerfd: %s\n", strerror(errno));
		if (k->fd >= 0)
			close(k->fd);
		free(k);
		return NULL;
	}
	k->ev = event_new(run->base, k->fd, EV_READ | EV_PERSIST,
	                  bench_run_clock_cb, k);
	event_add(k->ev, NULL);
	return k;
}

void
bench_run_clock_free(struct bench_run_clock *k)
{
	if (k == NULL)
		return;
	event_free(k->ev);
	close(k->fd);
	free(k);
}

/* A run with its loop and its time limit armed. */
struct bench_run *
bench_run_new(const struct bench_opts *o)
{
	struct bench_run *run = xcalloc(1, sizeof *run);
	struct timeval tv = {(time_t)o->timeout, 0};

	run->o = o;
	run->base = event_base_new();
	run->deadline = evtimer_new(run->base, bench_run_deadline_cb, run);
	evtimer_add(run->deadline, &tv);
	return run;
}

/* Frees every connection, then the loop; NULL is a no-op. */
void
bench_run_free(struct bench_run *run)
{
	struct bench_run_timer *t;
	size_t i;

	if (run == NULL)
		return;
	for (i = 0; i < run->nconns; i++)
		bench_conn_free(run->conns[i]);
	free(run->conns);
	event_free(run->deadline);
	/* event_base_free drops the pending once-events, not their args. */
	event_base_free(run->base);
	while ((t = run->timers) != NULL) {
		run->timers = t->next;
		free(t);
	}
	free(run);
}

/* Runs until finish or fail breaks the loop. */
int
bench_run_loop(struct bench_run *run)
{
	event_base_dispatch(run->base);
	return run->status;
}

/*
 * A connection on base named tag+role+idx, to server from source address
 * 127.0.0.(1 + n % sources); reads only o, so any thread may call it.
 */
struct bench_conn *
bench_run_dial(struct event_base *base, const struct bench_opts *o,
               const struct sockaddr_in *server, size_t n, const char *role,
               int idx, bench_conn_cb cb, void *owner)
{
	struct sockaddr_in src = {.sin_family = AF_INET};
	char name[40];

	src.sin_addr.s_addr =
	    htonl(0x7f000001u + (uint32_t)(n % (size_t)o->sources));
	snprintf(name, sizeof name, "%s%s%d", o->tag, role, idx);
	return bench_conn_new(base, o->proto, server, &src, name, cb, owner,
	                      idx);
}

/* A new connection to server from the run's next source address. */
struct bench_conn *
bench_run_open_at(struct bench_run *run, const struct sockaddr_in *server,
                  const char *role, int idx, bench_conn_cb cb, void *owner)
{
	struct bench_conn *c;

	c = bench_run_dial(run->base, run->o, server, run->nconns, role, idx,
	                   cb, owner);
	if (c == NULL) {
		bench_run_fail(run, "cannot open connection %zu", run->nconns);
		return NULL;
	}
	if (run->nconns == run->cap) {
		run->cap = run->cap ? run->cap * 2 : 256;
		run->conns =
		    xrealloc(run->conns, run->cap * sizeof *run->conns);
	}
	run->conns[run->nconns++] = c;
	return c;
}

/* A new connection to the (first) server. */
struct bench_conn *
bench_run_open(struct bench_run *run, const char *role, int idx,
               bench_conn_cb cb, void *owner)
{
	return bench_run_open_at(run, &run->o->server, role, idx, cb, owner);
}

/* Shuts c's socket; the struct lives until bench_run_free. */
void
bench_run_close(struct bench_run *run, struct bench_conn *c)
{
	(void)run;
	bench_conn_close(c);
}

/* Takes t off its run's list. */
static void
bench_run_timer_unlink(struct bench_run_timer *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		t->run->timers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
}

/* Calls the timer's function and frees the timer. */
static void
bench_run_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bench_run_timer t = *(struct bench_run_timer *)arg;

	(void)fd;
	(void)what;
	bench_run_timer_unlink(arg);
	free(arg);
	t.fn(t.arg);
}

/* Calls fn(arg) once, secs seconds from now. */
void
bench_run_after(struct bench_run *run, double secs, void (*fn)(void *),
                void *arg)
{
	struct bench_run_timer *t = xcalloc(1, sizeof *t);
	struct timeval tv;

	t->fn = fn;
	t->arg = arg;
	t->run = run;
	tv.tv_sec = (time_t)secs;
	tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
	if (event_base_once(run->base, -1, EV_TIMEOUT, bench_run_timer_cb, t,
	                    &tv) != 0) {
		free(t);
		bench_run_fail(run, "cannot arm a timer");
		return;
	}
	t->next = run->timers;
	if (t->next != NULL)
		t->next->prev = t;
	run->timers = t;
}

/* Pre-registration state (bench_run_accounts). */
struct bench_run_accts {
	struct bench_run *run;
	const char *role;
	int n, next, answered;
	struct bench_conn *c[BENCH_RUN_REGISTRARS];
	int inflight[BENCH_RUN_REGISTRARS];
	void (*done)(void *);
	void *arg;
};

/* Keeps a registrar's window full. */
static void
bench_run_accts_pump(struct bench_run_accts *a, struct bench_conn *c)
{
	char name[40];

	while (a->next < a->n && a->inflight[c->idx] < BENCH_RUN_REG_WINDOW) {
		snprintf(name, sizeof name, "%s%s%d", a->run->o->tag, a->role,
		         a->next++);
		bench_natter_register(c, name);
		a->inflight[c->idx]++;
	}
}

/* A registrar's events: connected, a register answered, or trouble. */
static void
bench_run_accts_cb(struct bench_conn *c, enum bench_ev ev, const char *body,
                   size_t len)
{
	struct bench_run_accts *a = c->owner;
	int i;

	if (ev == BENCH_EV_CLOSED || ev == BENCH_EV_FAIL) {
		bench_run_fail(a->run, "registrar: %.*s", (int)len, body);
		return;
	}
	if (ev == BENCH_EV_REGISTERED) {
		a->inflight[c->idx]--;
		a->answered++;
	}
	bench_run_accts_pump(a, c);
	if (a->answered < a->n)
		return;
	for (i = 0; i < BENCH_RUN_REGISTRARS; i++)
		bench_run_close(a->run, a->c[i]);
	a->done(a->arg);
	free(a);
}

/* Calls done after the accounts exist (natter) or at once (others). */
void
bench_run_accounts(struct bench_run *run, const char *role, int n,
                   void (*done)(void *), void *arg)
{
	struct bench_run_accts *a;
	int i;

	if (run->o->proto != &bench_natter_proto || n == 0) {
		bench_run_after(run, 0, done, arg);
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->run = run;
	a->role = role;
	a->n = n;
	a->done = done;
	a->arg = arg;
	for (i = 0; i < BENCH_RUN_REGISTRARS; i++) {
		if ((a->c[i] = bench_run_open(run, "reg", i, bench_run_accts_cb,
		                              a)) == NULL)
			return;
		a->c[i]->registered = true;
		a->c[i]->no_login = true;
	}
}

/* CPU seconds of the server's nodes so far (0 without --server-pid). */
static double
bench_run_server_cpu(const struct bench_opts *o)
{
	double t = 0;

	if (o->server_pid)
		t += bench_proc_cpu(o->server_pid);
	if (o->server_pid2)
		t += bench_proc_cpu(o->server_pid2);
	return t;
}

/* CPU seconds of the --aux-pid processes (database, Redis) so far. */
static double
bench_run_aux_cpu(const struct bench_opts *o)
{
	double t = 0;
	int i;

	for (i = 0; i < o->naux; i++)
		t += bench_proc_cpu(o->aux_pids[i]);
	return t;
}

/* Notes the CPU clocks at the start of the measured window. */
void
bench_run_cpu_start(struct bench_run *run)
{
	run->t_cpu0 = bench_proc_now();
	run->cpu_self0 = bench_proc_self_cpu();
	run->cpu_server0 = bench_run_server_cpu(run->o);
	run->cpu_server20 =
	    run->o->server_pid2 ? bench_proc_cpu(run->o->server_pid2) : 0;
	run->cpu_aux0 = bench_run_aux_cpu(run->o);
}

/* CPU use over the window as a percentage of one core. */
void
bench_run_cpu_stop(struct bench_run *run)
{
	const struct bench_opts *o = run->o;
	double wall = (double)(bench_proc_now() - run->t_cpu0) / 1e9;

	if (o->server_pid)
		bench_run_result(
		    run, "server_cpu",
		    100 * (bench_run_server_cpu(o) - run->cpu_server0) / wall);
	if (o->server_pid2)
		bench_run_result(
		    run, "server2_cpu",
		    100 * (bench_proc_cpu(o->server_pid2) - run->cpu_server20) /
		        wall);
	if (o->naux > 0)
		bench_run_result(run, "aux_cpu",
		                 100 * (bench_run_aux_cpu(o) - run->cpu_aux0) /
		                     wall);
	bench_run_result(run, "gen_cpu",
	                 100 * (bench_proc_self_cpu() - run->cpu_self0) / wall);
}

/* Adds one figure to the results. */
void
bench_run_result(struct bench_run *run, const char *key, double v)
{
	if (run->nresults == BENCH_RUN_MAX_RESULTS)
		return;
	run->results[run->nresults].key = key;
	run->results[run->nresults++].v = v;
}

/* addr:port of sa into buf. */
static void
bench_run_addr(const struct sockaddr_in *sa, char *buf, size_t len)
{
	char host[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
	snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(sa->sin_port));
}

/* p50, p99 and p99.9 of h as results (bench-run.h). */
void
bench_run_pcts(struct bench_run *run, struct bench_hist *h, bool ack)
{
	if (bench_hist_count(h) == 0)
		return;
	bench_run_result(run, ack ? "ack_p50_ms" : "p50_ms",
	                 bench_hist_pct(h, 50));
	bench_run_result(run, ack ? "ack_p99_ms" : "p99_ms",
	                 bench_hist_pct(h, 99));
	bench_run_result(run, ack ? "ack_p999_ms" : "p999_ms",
	                 bench_hist_pct(h, 99.9));
}

/* One text line for people, one JSON line for the compare script. */
void
bench_run_finish(struct bench_run *run)
{
	const struct bench_opts *o = run->o;
	size_t i;

	char rx[64] = "";

	if (o->server2.sin_port != 0)
		bench_run_addr(&o->server2, rx, sizeof rx);
	printf("%s %s%s%s:", o->workload, o->label, *rx ? " receivers@" : "",
	       rx);
	for (i = 0; i < run->nresults; i++)
		printf(" %s=%.4g", run->results[i].key, run->results[i].v);
	printf("\n{\"workload\":\"%s\",\"server\":\"%s\",\"proto\":\"%s\"",
	       o->workload, o->label, o->proto->name);
	if (*rx)
		printf(",\"receivers_at\":\"%s\"", rx);
	for (i = 0; i < run->nresults; i++)
		printf(",\"%s\":%.6g", run->results[i].key, run->results[i].v);
	printf("}\n");
	fflush(stdout);
	event_base_loopbreak(run->base);
}

/* Reports why the run failed, as JSON too, and stops. */
void
bench_run_fail(struct bench_run *run, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	for (i = 0; why[i] != '\0'; i++)
		if (why[i] == '"' || why[i] == '\\' ||
		    (unsigned char)why[i] < 32)
			why[i] = '?';
	printf("%s %s: FAILED: %s\n", run->o->workload, run->o->label, why);
	printf("{\"workload\":\"%s\",\"server\":\"%s\",\"error\":\"%s\"}\n",
	       run->o->workload, run->o->label, why);
	fflush(stdout);
	run->status = 1;
	event_base_loopbreak(run->base);
}

/* "<16 hex digits of ns> <8 hex digits of sender> xxxx..." */
void
bench_run_body(char *buf, size_t len, uint64_t now, int sender)
{
	int n = snprintf(buf, len, "%016llx %08x ", (unsigned long long)now,
	                 (unsigned)sender);

	memset(buf + n, 'x', len - (size_t)n);
}

/* The n hex digits at s into *v; false if one is not a hex digit. */
static bool
bench_run_hex(const char *s, int n, uint64_t *v)
{
	int i, d;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return false;
		*v = *v << 4 | (uint64_t)d;
	}
	return true;
}

/*
 * Reads the send time and sender back out of a body. By hand: strtoull
 * was a fifth of the generator's instructions in fanout, where it runs
 * for every delivery.
 */
int
bench_run_body_parse(const char *body, size_t len, uint64_t *sent, int *sender)
{
	uint64_t k;

	if (len < 26 || body[16] != ' ' || body[25] != ' ' ||
	    !bench_run_hex(body, 16, sent) || !bench_run_hex(body + 17, 8, &k))
		return -1;
	*sender = (int)k;
	return 0;
}
