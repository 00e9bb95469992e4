/* The groups workload: many small groups, a fixed message rate, latency. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench-groups.h"
#include "bench-hist.h"
#include "bench-proc.h"
#include "bench-run.h"
#include "xmalloc.h"

/* A group this many messages behind (deliveries / (size - 1)) skips. */
#define BENCH_GROUPS_MAX_INFLIGHT 1000

struct bench_groups_group {
	char name[40];
	int joined;    /* members in; they join in order, one at a time */
	int next;      /* the member that sends next */
	uint64_t sent; /* messages */
	uint64_t got;  /* deliveries, a sender's own copy not counted */
};

/*
 * Member j of group i is connection i * size + j, and that number is the
 * sender index in the bodies: a receiver finds the group (index / size)
 * and tells its own messages apart (index == its own).
 */
struct bench_groups {
	struct bench_run *run;
	int ngroups, size, nconns;
	int opened, ready, joined;
	struct bench_conn **m;
	struct bench_groups_group *g;
	bool running;
	uint64_t t_start, t_measure, delivered, sent_total, skipped, failures;
	struct bench_run_clock *tick;
	int rr; /* next group to send */
	struct bench_hist *e2e, *ack;
	char body[4096];
};

static void bench_groups_cb(struct bench_conn *c, enum bench_ev ev,
                            const char *body, size_t len);

/*
 * Opens the next member's connection; NULL if the run failed. With a
 * second server (--port2: another node of a cluster) every other member
 * of each group connects there, so each message reaches both nodes.
 */
static struct bench_conn *
bench_groups_open(struct bench_groups *b)
{
	const struct bench_opts *o = b->run->o;
	int k = b->opened++;

	if (o->server2.sin_port != 0 && (k % b->size) % 2 == 1)
		b->m[k] = bench_run_open_at(b->run, &o->server2, "g", k,
		                            bench_groups_cb, b);
	else
		b->m[k] = bench_run_open(b->run, "g", k, bench_groups_cb, b);
	return b->m[k];
}

/* A member logged in: keep o->burst connecting, start joins once all are. */
static void
bench_groups_ready(struct bench_groups *b)
{
	int i;

	b->run->phase = "login";
	b->run->progress = b->ready + 1;
	if (b->opened < b->nconns)
		bench_groups_open(b);
	if (++b->ready < b->nconns)
		return;
	/* Every group at once, but one join at a time within a group: a
	 * join is announced to the members already in. */
	for (i = 0; i < b->ngroups; i++)
		b->m[i * b->size]->proto->join(b->m[i * b->size], b->g[i].name,
		                               true);
}

static void bench_groups_go(struct bench_groups *b);

/* Member c is in its group: the group's next member joins. */
static void
bench_groups_joined(struct bench_groups *b, struct bench_conn *c)
{
	struct bench_groups_group *g = &b->g[c->idx / b->size];
	struct bench_conn *n;

	b->run->phase = "joining";
	b->run->progress = b->joined + 1;
	if (++g->joined < b->size) {
		n = b->m[(c->idx / b->size) * b->size + g->joined];
		n->proto->join(n, g->name, false);
	}
	if (++b->joined == b->nconns)
		bench_groups_go(b);
}

/* Sends group i's next message from its next member. */
static void
bench_groups_send(struct bench_groups *b, int i, uint64_t now)
{
	struct bench_groups_group *g = &b->g[i];
	int k = i * b->size + g->next;
	size_t len = (size_t)b->run->o->body;

	bench_run_body(b->body, len, now, k);
	bench_conn_send(b->m[k], b->body, len, now);
	g->next = (g->next + 1) % b->size;
	g->sent++;
	b->sent_total++;
}

/* Whether group g's deliveries lag its sends by the bound or more. */
static bool
bench_groups_behind(const struct bench_groups *b,
                    const struct bench_groups_group *g)
{
	uint64_t others = (uint64_t)b->size - 1;

	/* sent * others - got >= bound * others, without going below 0 */
	return g->sent * others >= g->got + BENCH_GROUPS_MAX_INFLIGHT * others;
}

/* Sends what the fixed rate owes since the start, as latency does. */
static void
bench_groups_tick(void *arg)
{
	struct bench_groups *b = arg;
	uint64_t now = bench_proc_now(), due;

	due = (uint64_t)((double)(now - b->t_start) / 1e9 * b->run->o->rate);
	while (b->sent_total + b->skipped < due) {
		if (bench_groups_behind(b, &b->g[b->rr]))
			b->skipped++;
		else
			bench_groups_send(b, b->rr, now);
		b->rr = (b->rr + 1) % b->ngroups;
	}
}

/* A message reached member c: count and time it unless c sent it. */
static void
bench_groups_msg(struct bench_groups *b, struct bench_conn *c, const char *body,
                 size_t len)
{
	uint64_t sent, now = bench_proc_now();
	int k;

	if (bench_run_body_parse(body, len, &sent, &k) < 0 || k < 0 ||
	    k >= b->nconns || k == c->idx || k / b->size != c->idx / b->size)
		return;
	b->g[k / b->size].got++;
	if (!b->run->measuring)
		return;
	b->delivered++;
	if (sent >= b->t_measure)
		bench_hist_add(b->e2e, now - sent);
}

/* Members' events: login, join, then messages and acks. */
static void
bench_groups_cb(struct bench_conn *c, enum bench_ev ev, const char *body,
                size_t len)
{
	struct bench_groups *b = c->owner;
	uint64_t sent;

	switch (ev) {
	case BENCH_EV_READY:
		bench_groups_ready(b);
		break;
	case BENCH_EV_DONE:
		bench_groups_joined(b, c);
		break;
	case BENCH_EV_MSG:
		bench_groups_msg(b, c, body, len);
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

/* The measured window ends: print the figures and stop. */
static void
bench_groups_end(void *arg)
{
	struct bench_groups *b = arg;
	struct bench_run *run = b->run;
	double secs = (double)(bench_proc_now() - b->t_measure) / 1e9;
	double per_s = (double)b->delivered / secs;

	bench_run_cpu_stop(run);
	run->measuring = false;
	b->running = false;
	bench_run_result(run, "rate", per_s / (b->size - 1));
	bench_run_result(run, "deliveries_per_s", per_s);
	bench_run_result(run, "samples", (double)bench_hist_count(b->e2e));
	bench_run_pcts(run, b->e2e, false);
	bench_run_pcts(run, b->ack, true);
	bench_run_result(run, "skipped", (double)b->skipped);
	bench_run_result(run, "failures", (double)b->failures);
	bench_run_result(run, "groups", b->ngroups);
	bench_run_result(run, "group_size", b->size);
	bench_run_finish(run);
}

/* The warm-up is over: measure from now on. */
static void
bench_groups_measure(void *arg)
{
	struct bench_groups *b = arg;

	b->t_measure = bench_proc_now();
	b->run->measuring = true;
	bench_run_cpu_start(b->run);
	bench_run_after(b->run, b->run->o->duration, bench_groups_end, b);
}

/* Every member of every group is in: the clock starts sending. */
static void
bench_groups_go(struct bench_groups *b)
{
	b->run->phase = "running";
	b->running = true;
	b->t_start = bench_proc_now();
	b->tick = bench_run_clock_new(b->run, b->run->o->tick_us,
	                              bench_groups_tick, b);
	if (b->tick == NULL) {
		bench_run_fail(b->run, "cannot start the clock");
		return;
	}
	bench_run_after(b->run, b->run->o->warmup, bench_groups_measure, b);
}

/* Frees the workload's state (the run frees the connections). */
static void
bench_groups_free(struct bench_groups *b)
{
	bench_run_clock_free(b->tick);
	bench_hist_free(b->e2e);
	bench_hist_free(b->ack);
	free(b->g);
	free(b->m);
	free(b);
}

/*
 * Opens the first o->burst members; the rest follows from their events.
 * Connecting o->burst at a time, not all: ngircd's listen backlog is 10
 * and a thousand connects at once stall on it for seconds.
 */
int
bench_groups_run(struct bench_run *run)
{
	const struct bench_opts *o = run->o;
	struct bench_groups *b = xcalloc(1, sizeof *b);
	int i, r;

	b->run = run;
	b->ngroups = o->groups;
	b->size = o->group_size;
	b->nconns = b->ngroups * b->size;
	b->m = xcalloc((size_t)b->nconns, sizeof *b->m);
	b->g = xcalloc((size_t)b->ngroups, sizeof *b->g);
	b->e2e = bench_hist_new();
	b->ack = bench_hist_new();
	for (i = 0; i < b->ngroups; i++)
		snprintf(b->g[i].name, sizeof b->g[i].name, "%sgroup%d", o->tag,
		         i);
	run->phase = "connecting";
	while (b->opened < b->nconns && b->opened < o->burst)
		if (bench_groups_open(b) == NULL)
			break;
	r = bench_run_loop(run);
	bench_groups_free(b);
	return r;
}
