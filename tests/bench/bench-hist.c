/* Latency samples and their percentiles. */
#include <stdbool.h>
#include <stdlib.h>

#include "bench-hist.h"
#include "xmalloc.h"

struct bench_hist {
	uint64_t *v;
	size_t n, cap;
	bool sorted;
};

/* An empty sample set. */
struct bench_hist *
bench_hist_new(void)
{
	return xcalloc(1, sizeof(struct bench_hist));
}

/* Frees h; NULL is a no-op. */
void
bench_hist_free(struct bench_hist *h)
{
	if (h == NULL)
		return;
	free(h->v);
	free(h);
}

/* Adds one sample of ns nanoseconds. */
void
bench_hist_add(struct bench_hist *h, uint64_t ns)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 4096;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	h->v[h->n++] = ns;
	h->sorted = false;
}

/* How many samples h holds. */
size_t
bench_hist_count(const struct bench_hist *h)
{
	return h->n;
}

/* Orders two samples for qsort. */
static int
bench_hist_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile, in milliseconds. */
double
bench_hist_pct(struct bench_hist *h, double p)
{
	size_t i;

	if (h->n == 0)
		return 0;
	if (!h->sorted) {
		qsort(h->v, h->n, sizeof *h->v, bench_hist_cmp);
		h->sorted = true;
	}
	i = (size_t)(p / 100.0 * (double)h->n);
	if (i >= h->n)
		i = h->n - 1;
	return (double)h->v[i] / 1e6;
}
