/* The fanout workload: a few senders, one group of many members. */
#include <stdio.h>
#include <stdlib.h>

#include "bench-fanout.h"
#include "bench-proc.h"
#include "bench-run.h"
#include "xmalloc.h"

struct bench_fanout {
	struct bench_run *run;
	int n, ready, done, next_join;
	struct bench_conn **m;
	uint64_t *sent, *got; /* per sender: messages, deliveries to others */
	bool running;
	uint64_t delivered, t_measure;
	char body[4096];
	char group[40];
};

/* Keeps sender k's window full. */
static void
bench_fanout_refill(struct bench_fanout *f, int k)
{
	uint64_t others = (uint64_t)f->n - 1, now = bench_proc_now();
	uint64_t window = (uint64_t)f->run->o->window * others;
	size_t len = (size_t)f->run->o->body;

	while (f->sent[k] * others - f->got[k] < window) {
		bench_run_body(f->body, len, now, k);
		bench_conn_send(f->m[k], f->body, len, now);
		f->sent[k]++;
	}
}

/* The measured window ends. */
static void
bench_fanout_end(void *arg)
{
	struct bench_fanout *f = arg;
	double secs = (double)(bench_proc_now() - f->t_measure) / 1e9;

	bench_run_cpu_stop(f->run);
	f->running = false;
	f->run->measuring = false;
	bench_run_result(f->run, "deliveries_per_s",
	                 (double)f->delivered / secs);
	bench_run_result(f->run, "members", f->n);
	bench_run_finish(f->run);
}

/* The warm-up is over. */
static void
bench_fanout_measure(void *arg)
{
	struct bench_fanout *f = arg;

	f->t_measure = bench_proc_now();
	f->run->measuring = true;
	bench_run_cpu_start(f->run);
	bench_run_after(f->run, f->run->o->duration, bench_fanout_end, f);
}

/* Every member is in: the senders start. */
static void
bench_fanout_go(struct bench_fanout *f)
{
	int k;

	f->running = true;
	for (k = 0; k < f->run->o->senders; k++)
		bench_fanout_refill(f, k);
	bench_run_after(f->run, f->run->o->warmup, bench_fanout_measure, f);
}

/* A delivery to member c. */
static void
bench_fanout_msg(struct bench_fanout *f, struct bench_conn *c, const char *body,
                 size_t len)
{
	uint64_t sent;
	int k;

	/* A sender's own message coming back (mosquitto) is no delivery. */
	if (bench_run_body_parse(body, len, &sent, &k) < 0 || k < 0 ||
	    k >= f->run->o->senders || k == c->idx)
		return;
	if (f->run->measuring)
		f->delivered++;
	f->got[k]++;
	if (f->running)
		bench_fanout_refill(f, k);
}

/*
 * The next member joins. At most o->burst joins are in flight: every join
 * is announced to all members, and a thousand at once overflow the output
 * buffers of servers that cut slow readers (ngircd).
 */
static void
bench_fanout_join_next(struct bench_fanout *f)
{
	struct bench_conn *c;

	if (f->next_join >= f->n)
		return;
	c = f->m[f->next_join++];
	c->proto->join(c, f->group, false);
}

/* Members' events: login, then member 0 creates, the others join. */
static void
bench_fanout_cb(struct bench_conn *c, enum bench_ev ev, const char *body,
                size_t len)
{
	struct bench_fanout *f = c->owner;
	int i;

	switch (ev) {
	case BENCH_EV_READY:
		if (++f->ready == f->n)
			f->m[0]->proto->join(f->m[0], f->group, true);
		break;
	case BENCH_EV_DONE:
		f->run->phase = "joining";
		f->run->progress = f->done + 1;
		if (++f->done == f->n)
			bench_fanout_go(f);
		else if (c->idx == 0)
			for (i = 0; i < f->run->o->burst; i++)
				bench_fanout_join_next(f);
		else
			bench_fanout_join_next(f);
		break;
	case BENCH_EV_MSG:
		bench_fanout_msg(f, c, body, len);
		break;
	case BENCH_EV_ACK:
		break;
	case BENCH_EV_FAIL:
		bench_run_fail(f->run, "%s: %.*s", c->name, (int)len, body);
		break;
	default:
		bench_run_fail(f->run, "%s closed: %s", c->name, body);
		break;
	}
}

/* Opens every member; the rest follows from their events. */
int
bench_fanout_run(struct bench_run *run)
{
	const struct bench_opts *o = run->o;
	struct bench_fanout *f = xcalloc(1, sizeof *f);
	int i, r;

	f->run = run;
	f->n = o->members;
	f->next_join = 1;
	f->m = xcalloc((size_t)f->n, sizeof *f->m);
	f->sent = xcalloc((size_t)o->senders, sizeof *f->sent);
	f->got = xcalloc((size_t)o->senders, sizeof *f->got);
	snprintf(f->group, sizeof f->group, "%sgroup", o->tag);
	for (i = 0; i < f->n; i++)
		if ((f->m[i] = bench_run_open(run, "m", i, bench_fanout_cb,
		                              f)) == NULL)
			break;
	r = bench_run_loop(run);
	free(f->m);
	free(f->sent);
	free(f->got);
	free(f);
	return r;
}
