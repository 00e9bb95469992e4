#ifndef NATTER_BENCH_BENCH_IDLE_H
#define NATTER_BENCH_BENCH_IDLE_H

struct bench_run;

/*
 * Idle: o->conns logged-in connections that then do nothing (natter
 * accounts are registered first, over a few connections, before the
 * baseline is read). The server's VmRSS before and after, and the growth
 * per connection in KiB. Returns the run's exit status.
 */
int bench_idle_run(struct bench_run *run);

#endif
