/*
 * The order of a sync read a conversation at a time (syncorder.h): sort
 * keys computed per part, one qsort, and a cut at the first message a
 * partial part's unread ones might precede.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "syncorder.h"
#include "xmalloc.h"

/* A message and its sort key. */
struct syncorder_item {
	int64_t key; /* the highest order value up to its seq in its conv */
	const struct store_msg *m;
};

/* Key, then conversation, then seq. */
static int
syncorder_cmp(const void *pa, const void *pb)
{
	const struct syncorder_item *a = pa, *b = pb;
	int c;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if ((c = strcmp(a->m->conv, b->m->conv)) != 0)
		return c;
	return a->m->seq < b->m->seq ? -1 : a->m->seq > b->m->seq;
}

/*
 * Fills it[] with each message and its key; returns the index in it[] of
 * the partial parts' least last message (the cut), or n if none.
 */
static size_t
syncorder_keys(const struct store_msg *v, const int64_t *ord, size_t n,
               const struct syncorder_part *parts, size_t nparts,
               struct syncorder_item *it)
{
	size_t p, i, k = 0, cut = n;
	int64_t run;

	for (p = 0; p < nparts && k < n; p++) {
		run = INT64_MIN;
		for (i = 0; i < parts[p].n && k < n; i++, k++) {
			run = ord[k] > run ? ord[k] : run;
			it[k] = (struct syncorder_item){.key = run, .m = &v[k]};
		}
		if (parts[p].partial && k > 0 &&
		    (cut == n || syncorder_cmp(&it[k - 1], &it[cut]) < 0))
			cut = k - 1;
	}
	for (; k < n; k++) /* beyond the parts: not expected */
		it[k] = (struct syncorder_item){.key = ord[k], .m = &v[k]};
	return cut;
}

size_t
syncorder_sort(struct store_msg *v, const int64_t *ord, size_t n,
               const struct syncorder_part *parts, size_t nparts, size_t limit,
               bool *more)
{
	struct syncorder_item *it, last = {0};
	struct store_msg *w;
	size_t i, cut, keep = 0;

	*more = false;
	if (n == 0)
		return 0;
	it = xcalloc(n, sizeof(*it));
	cut = syncorder_keys(v, ord, n, parts, nparts, it);
	if (cut < n)
		last = it[cut];
	qsort(it, n, sizeof(*it), syncorder_cmp);
	while (keep < n && keep < limit &&
	       (cut == n || syncorder_cmp(&it[keep], &last) <= 0))
		keep++;
	w = xcalloc(n, sizeof(*w));
	for (i = 0; i < n; i++)
		w[i] = *it[i].m;
	memcpy(v, w, n * sizeof(*v));
	free(w);
	free(it);
	*more = keep < n || cut < n;
	return keep;
}
