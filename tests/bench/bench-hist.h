#ifndef NATTER_BENCH_BENCH_HIST_H
#define NATTER_BENCH_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

/*
 * A latency sample set: every sample is kept (a 10 s run at 20k msg/s is
 * 200k samples, 1.6 MB), sorted once when a percentile is first asked for.
 */
struct bench_hist;

struct bench_hist *bench_hist_new(void);
void bench_hist_free(struct bench_hist *h);
void bench_hist_add(struct bench_hist *h, uint64_t ns);
size_t bench_hist_count(const struct bench_hist *h);

/* The p-th percentile (0 < p <= 100) in milliseconds; 0 if empty. */
double bench_hist_pct(struct bench_hist *h, double p);

#endif
