/* The idle workload: memory per logged-in connection. */
#include <stdlib.h>

#include "bench-idle.h"
#include "bench-proc.h"
#include "bench-run.h"
#include "xmalloc.h"

#define BENCH_IDLE_SETTLE 2.0 /* seconds between the last login and RSS */

struct bench_idle {
	struct bench_run *run;
	int opened, ready;
	long rss0;
	uint64_t t0;
};

static void bench_idle_cb(struct bench_conn *c, enum bench_ev ev,
                          const char *body, size_t len);

/* Opens the next connection, natter accounts being registered already. */
static void
bench_idle_open(struct bench_idle *d)
{
	struct bench_conn *c;

	c = bench_run_open(d->run, "i", d->opened++, bench_idle_cb, d);
	if (c != NULL)
		c->registered = true;
}

/* Everyone settled: read the server's memory. */
static void
bench_idle_end(void *arg)
{
	struct bench_idle *d = arg;
	struct bench_run *run = d->run;
	long rss = bench_proc_rss(run->o->server_pid);

	bench_run_result(run, "conns", d->ready);
	bench_run_result(run, "rss0_kib", (double)d->rss0);
	bench_run_result(run, "rss_kib", (double)rss);
	bench_run_result(run, "kib_per_conn",
	                 (double)(rss - d->rss0) / d->ready);
	bench_run_finish(run);
}

/* A connection logged in (keep the burst full) or failed. */
static void
bench_idle_cb(struct bench_conn *c, enum bench_ev ev, const char *body,
              size_t len)
{
	struct bench_idle *d = c->owner;

	if (ev == BENCH_EV_FAIL || ev == BENCH_EV_CLOSED) {
		bench_run_fail(d->run, "%s after %d logins: %.*s", c->name,
		               d->ready, (int)len, body);
		return;
	}
	if (ev != BENCH_EV_READY)
		return;
	if (d->opened < d->run->o->conns)
		bench_idle_open(d);
	if (++d->ready < d->run->o->conns)
		return;
	bench_run_result(d->run, "logins_per_s",
	                 d->ready / ((double)(bench_proc_now() - d->t0) / 1e9));
	bench_run_after(d->run, BENCH_IDLE_SETTLE, bench_idle_end, d);
}

/* Accounts exist: note the baseline and open the connections. */
static void
bench_idle_start(void *arg)
{
	struct bench_idle *d = arg;

	d->rss0 = bench_proc_rss(d->run->o->server_pid);
	d->t0 = bench_proc_now();
	while (d->opened < d->run->o->conns && d->opened < d->run->o->burst)
		bench_idle_open(d);
}

/* The registrars are gone: let the server free them, then start. */
static void
bench_idle_settle(void *arg)
{
	struct bench_idle *d = arg;

	bench_run_after(d->run, 1, bench_idle_start, d);
}

/* Registers, measures, prints. */
int
bench_idle_run(struct bench_run *run)
{
	struct bench_idle *d = xcalloc(1, sizeof *d);
	int r;

	d->run = run;
	if (run->o->server_pid == 0) {
		bench_run_fail(run, "idle needs --server-pid");
		free(d);
		return 1;
	}
	/* The registrars come and go first, so the baseline excludes them. */
	bench_run_accounts(run, "i", run->o->conns, bench_idle_settle, d);
	r = bench_run_loop(run);
	free(d);
	return r;
}
