/* Relay, latency and login-storm workloads over sender/receiver pairs. */
#include <errno.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-hist.h"
#include "bench-pairs.h"
#include "bench-proc.h"
#include "bench-run.h"
#include "bench-storm.h"
#include "xmalloc.h"

#define BENCH_PAIRS_MAX_INFLIGHT                                               \
	1000 /* latency: a pair this far behind skips */

struct bench_pairs_pair {
	struct bench_conn *s, *r;
	uint64_t sent, recv;
	uint64_t mark; /* storm: messages sent before the storm ended */
};

enum bench_pairs_mode { BENCH_PAIRS_RELAY, BENCH_PAIRS_LATENCY };

struct bench_pairs {
	struct bench_run *run;
	enum bench_pairs_mode mode;
	bool storm;
	int n, ready, done;
	struct bench_pairs_pair *v;
	bool running;
	uint64_t t_start, t_measure, delivered, sent_total, skipped, failures;
	struct bench_run_clock *tick;
	int rr; /* latency: next pair to send */
	struct bench_hist *e2e, *ack, *storm_e2e;
	/* Login storm: its thread's logins, timed from st_begin to the end
	 * that thread reports (bench_storm_end); st_end is set here once the
	 * chat loop has heard of it. */
	struct bench_storm *st;
	uint64_t st_begin, st_end;
	FILE *trace; /* --trace: a line per measured message */
	char body[4096];
};

/* Sends one stamped message on pair i. */
static void
bench_pairs_send(struct bench_pairs *b, int i, uint64_t now)
{
	struct bench_pairs_pair *p = &b->v[i];
	size_t len = (size_t)b->run->o->body;

	bench_run_body(b->body, len, now, i);
	bench_conn_send(p->s, b->body, len, now);
	p->sent++;
	b->sent_total++;
}

/* Relay: refill pair i's window. */
static void
bench_pairs_refill(struct bench_pairs *b, int i)
{
	struct bench_pairs_pair *p = &b->v[i];
	uint64_t now = bench_proc_now();

	while (p->sent - p->recv < (uint64_t)b->run->o->window)
		bench_pairs_send(b, i, now);
}

/*
 * --trace: the message's send time (CLOCK_MONOTONIC, as perf's -k
 * CLOCK_MONOTONIC) and its latency, in microseconds, its pair, and whether
 * the storm ran. The lines go through stdio's buffer: a write(2) every 4
 * KiB or so.
 */
static void
bench_pairs_trace(struct bench_pairs *b, uint64_t sent, uint64_t now, int pair,
                  bool in_storm)
{
	fprintf(b->trace, "%.1f %.1f %d %d\n", (double)sent / 1e3,
	        (double)(now - sent) / 1e3, pair, in_storm ? 1 : 0);
}

/* A message reached receiver c: count it, time it, refill. */
static void
bench_pairs_msg(struct bench_pairs *b, struct bench_conn *c, const char *body,
                size_t len)
{
	uint64_t sent, st_end, now = bench_proc_now();
	int i = c->idx, sender;
	bool in_storm;

	b->v[i].recv++;
	if (bench_run_body_parse(body, len, &sent, &sender) < 0)
		return;
	if (b->run->measuring) {
		b->delivered++;
		if (sent >= b->t_measure)
			bench_hist_add(b->e2e, now - sent);
		/* The storm thread stamps its end: messages sent after it
		 * are out even if the chat loop has not heard yet. */
		st_end = b->st != NULL ? bench_storm_end(b->st) : 0;
		in_storm = b->st_begin && sent >= b->st_begin &&
		           (st_end == 0 || sent <= st_end);
		if (in_storm)
			bench_hist_add(b->storm_e2e, now - sent);
		if (b->trace != NULL && sent >= b->t_measure)
			bench_pairs_trace(b, sent, now, sender, in_storm);
	}
	if (b->mode == BENCH_PAIRS_RELAY && b->running)
		bench_pairs_refill(b, i);
}

/* Latency: send what the fixed rate owes since the start. */
static void
bench_pairs_tick(void *arg)
{
	struct bench_pairs *b = arg;
	uint64_t now = bench_proc_now(), due;
	struct bench_pairs_pair *p;

	due = (uint64_t)((double)(now - b->t_start) / 1e9 * b->run->o->rate);
	while (b->sent_total + b->skipped < due) {
		p = &b->v[b->rr];
		if (p->sent - p->recv < BENCH_PAIRS_MAX_INFLIGHT)
			bench_pairs_send(b, b->rr, now);
		else
			b->skipped++;
		b->rr = (b->rr + 1) % b->n;
	}
}

static void bench_pairs_setup(struct bench_pairs *b);
static void bench_pairs_go(struct bench_pairs *b);
static void bench_pairs_storm_begin(void *arg);
static void bench_pairs_storm_drain(void *arg);
static void bench_pairs_end(void *arg);

/* Events of the pairs' connections. */
static void
bench_pairs_cb(struct bench_conn *c, enum bench_ev ev, const char *body,
               size_t len)
{
	struct bench_pairs *b = c->owner;
	uint64_t sent;

	switch (ev) {
	case BENCH_EV_READY:
		b->run->phase = "login";
		b->run->progress = b->ready + 1;
		if (++b->ready == 2 * b->n)
			bench_pairs_setup(b);
		break;
	case BENCH_EV_DONE:
		b->run->phase = "pairing";
		b->run->progress = b->done + 1;
		if (++b->done == b->n)
			bench_pairs_go(b);
		break;
	case BENCH_EV_MSG:
		bench_pairs_msg(b, c, body, len);
		break;
	case BENCH_EV_ACK:
		sent = bench_conn_ack_pop(c);
		if (b->run->measuring && sent >= b->t_measure)
			bench_hist_add(b->ack, bench_proc_now() - sent);
		break;
	case BENCH_EV_FAIL:
		if (b->running && ++b->failures < 1000)
			break;
		bench_run_fail(b->run, "%s: %.*s", c->name, (int)len, body);
		break;
	default:
		bench_run_fail(b->run, "%s closed: %s", c->name, body);
		break;
	}
}

/* Everyone is logged in: pair each sender with its receiver. */
static void
bench_pairs_setup(struct bench_pairs *b)
{
	int i;

	for (i = 0; i < b->n; i++)
		b->v[i].s->proto->pair(b->v[i].s, b->v[i].r);
}

/* The measured window ends: print the figures and stop. */
static void
bench_pairs_end(void *arg)
{
	struct bench_pairs *b = arg;
	struct bench_run *run = b->run;
	double secs = (double)(bench_proc_now() - b->t_measure) / 1e9;

	bench_run_cpu_stop(run);
	run->measuring = false;
	b->running = false;
	if (b->mode == BENCH_PAIRS_RELAY) {
		bench_run_result(run, "msgs_per_s",
		                 (double)b->delivered / secs);
	} else {
		bench_run_result(run, "rate", (double)b->delivered / secs);
		bench_run_result(run, "samples",
		                 (double)bench_hist_count(b->e2e));
		bench_run_pcts(run, b->e2e, false);
		bench_run_pcts(run, b->ack, true);
		bench_run_result(run, "skipped", (double)b->skipped);
	}
	if (b->storm) {
		bench_run_result(run, "logins_per_s",
		                 bench_storm_logins(b->st) /
		                     ((double)(b->st_end - b->st_begin) / 1e9));
		bench_run_result(run, "storm_p50_ms",
		                 bench_hist_pct(b->storm_e2e, 50));
		bench_run_result(run, "storm_p99_ms",
		                 bench_hist_pct(b->storm_e2e, 99));
	}
	bench_run_result(run, "failures", (double)b->failures);
	bench_run_finish(run);
}

/*
 * The storm thread is done (every login in) or failed: on success, note
 * how far each pair had sent and wait for those messages to arrive.
 */
static void
bench_pairs_storm_done(void *arg)
{
	struct bench_pairs *b = arg;
	const char *why = bench_storm_error(b->st);
	int i;

	if (why != NULL) {
		bench_run_fail(b->run, "%s", why);
		return;
	}
	if (b->st_end != 0 || bench_storm_end(b->st) == 0)
		return;
	b->st_end = bench_storm_end(b->st);
	for (i = 0; i < b->n; i++)
		b->v[i].mark = b->v[i].sent;
	b->run->phase = "storm drain";
	b->run->progress = bench_storm_logins(b->st);
	bench_run_after(b->run, 0.1, bench_pairs_storm_drain, b);
}

/* Ends the run once every message sent during the storm has arrived. */
static void
bench_pairs_storm_drain(void *arg)
{
	struct bench_pairs *b = arg;
	int i;

	for (i = 0; i < b->n; i++)
		if (b->v[i].recv < b->v[i].mark)
			break;
	if (i < b->n)
		bench_run_after(b->run, 0.1, bench_pairs_storm_drain, b);
	else
		bench_pairs_end(b);
}

/* A second into the measured window: the logins start. */
static void
bench_pairs_storm_begin(void *arg)
{
	struct bench_pairs *b = arg;

	b->run->phase = "storm";
	b->st_begin = bench_proc_now();
	b->st = bench_storm_start(b->run->o, b->run->base,
	                          bench_pairs_storm_done, b);
	if (b->st == NULL)
		bench_run_fail(b->run, "cannot start the storm thread");
}

/* The warm-up is over: measure from now on. */
static void
bench_pairs_measure(void *arg)
{
	struct bench_pairs *b = arg;

	b->t_measure = bench_proc_now();
	b->run->measuring = true;
	bench_run_cpu_start(b->run);
	if (b->storm)
		bench_run_after(b->run, 1, bench_pairs_storm_begin, b);
	else
		bench_run_after(b->run, b->run->o->duration, bench_pairs_end,
		                b);
}

/*
 * Opens every pair's two connections; with --port2 the receivers go to the
 * second server (another node of a cluster), the senders stay on the first.
 */
static void
bench_pairs_connect(void *arg)
{
	struct bench_pairs *b = arg;
	const struct bench_opts *o = b->run->o;
	const struct sockaddr_in *rx =
	    o->server2.sin_port != 0 ? &o->server2 : &o->server;
	int i;

	for (i = 0; i < b->n; i++) {
		b->v[i].s = bench_run_open(b->run, "s", i, bench_pairs_cb, b);
		b->v[i].r =
		    bench_run_open_at(b->run, rx, "r", i, bench_pairs_cb, b);
		if (b->v[i].s == NULL || b->v[i].r == NULL)
			return;
	}
}

/* Setup done: start sending. */
static void
bench_pairs_go(struct bench_pairs *b)
{
	int i;

	b->running = true;
	b->t_start = bench_proc_now();
	if (b->mode == BENCH_PAIRS_RELAY) {
		for (i = 0; i < b->n; i++)
			bench_pairs_refill(b, i);
	} else {
		b->tick = bench_run_clock_new(b->run, b->run->o->tick_us,
		                              bench_pairs_tick, b);
		if (b->tick == NULL) {
			bench_run_fail(b->run, "cannot start the clock");
			return;
		}
	}
	bench_run_after(b->run, b->run->o->warmup, bench_pairs_measure, b);
}

/* Frees the workload's state when the run's loop is gone. */
static void
bench_pairs_free(struct bench_pairs *b)
{
	bench_storm_free(b->st);
	bench_run_clock_free(b->tick);
	bench_hist_free(b->e2e);
	bench_hist_free(b->ack);
	bench_hist_free(b->storm_e2e);
	if (b->trace != NULL && fclose(b->trace) != 0)
		fprintf(stderr, "natter-bench: --trace: %s\n", strerror(errno));
	free(b->v);
	free(b);
}

/* Runs relay, latency or storm (after its accounts exist) to the end. */
int
bench_pairs_run(struct bench_run *run)
{
	const struct bench_opts *o = run->o;
	struct bench_pairs *b = xcalloc(1, sizeof *b);
	int r;

	b->run = run;
	b->mode = strcmp(o->workload, "relay") == 0 ? BENCH_PAIRS_RELAY
	                                            : BENCH_PAIRS_LATENCY;
	b->storm = strcmp(o->workload, "storm") == 0;
	b->n = o->pairs;
	b->v = xcalloc((size_t)b->n, sizeof *b->v);
	b->e2e = bench_hist_new();
	b->ack = bench_hist_new();
	b->storm_e2e = bench_hist_new();
	if (o->trace != NULL && (b->trace = fopen(o->trace, "w")) == NULL) {
		fprintf(stderr, "natter-bench: %s: %s\n", o->trace,
		        strerror(errno));
		bench_pairs_free(b);
		return 1;
	}
	bench_run_accounts(run, "l", b->storm ? o->logins : 0,
	                   bench_pairs_connect, b);
	r = bench_run_loop(run);
	bench_pairs_free(b);
	return r;
}
