/*
 * syncorder.h: a sync read a conversation at a time comes out oldest
 * first by ts, each conversation in seq order whatever its ts, cut at
 * the limit and before anything a partly read conversation's unread
 * messages might precede.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncorder.h"
#include "unit.h"

#define TEST_MAX 64

/* Appends message seq of conv, sent at ts, to v[*n]. */
static void
test_msg(struct store_msg *v, size_t *n, const char *conv, int64_t seq,
         int64_t ts)
{
	memset(&v[*n], 0, sizeof(v[*n]));
	snprintf(v[*n].conv, sizeof(v[*n].conv), "%s", conv);
	v[*n].seq = seq;
	v[*n].ts = ts;
	(*n)++;
}

/* syncorder_sort with each message's ts as its order value. */
static size_t
test_sort(struct store_msg *v, size_t n, const struct syncorder_part *parts,
          size_t nparts, size_t limit, bool *more)
{
	int64_t ord[TEST_MAX];
	size_t k;

	for (k = 0; k < n; k++)
		ord[k] = v[k].ts;
	return syncorder_sort(v, ord, n, parts, nparts, limit, more);
}

/* Whether v[i] is message seq of conv. */
static bool
test_is(const struct store_msg *v, size_t i, const char *conv, int64_t seq)
{
	return strcmp(v[i].conv, conv) == 0 && v[i].seq == seq;
}

/* Two conversations of two messages each, stored in turn. */
static size_t
test_two(struct store_msg *v)
{
	size_t n = 0;

	test_msg(v, &n, "d:1:2", 1, 100);
	test_msg(v, &n, "d:1:2", 2, 300);
	test_msg(v, &n, "g:7", 1, 200);
	test_msg(v, &n, "g:7", 2, 400);
	return n;
}

/* Conversations read whole: in turn, as stored. */
static void
test_whole(void)
{
	struct syncorder_part parts[2] = {{.n = 2}, {.n = 2}};
	struct store_msg v[4];
	bool more;

	CHECK_EQ_INT(test_sort(v, test_two(v), parts, 2, 10, &more), 4);
	CHECK(!more);
	CHECK(test_is(v, 0, "d:1:2", 1) && test_is(v, 1, "g:7", 1));
	CHECK(test_is(v, 2, "d:1:2", 2) && test_is(v, 3, "g:7", 2));
	CHECK_EQ_INT(test_sort(v, test_two(v), parts, 2, 3, &more), 3);
	CHECK(more && test_is(v, 2, "d:1:2", 2));
	CHECK_EQ_INT(test_sort(v, 0, parts, 0, 3, &more), 0);
	CHECK(!more);
}

/* An order value that goes back (another node's clock) keeps its place. */
static void
test_clock_back(void)
{
	struct syncorder_part parts[2] = {{.n = 2}, {.n = 1}};
	struct store_msg v[3];
	size_t n = 0;
	bool more;

	test_msg(v, &n, "d:1:2", 1, 300);
	test_msg(v, &n, "d:1:2", 2, 100); /* another node's clock, behind */
	test_msg(v, &n, "g:7", 1, 200);
	CHECK_EQ_INT(test_sort(v, n, parts, 2, 2, &more), 2);
	CHECK(more && test_is(v, 0, "g:7", 1) && test_is(v, 1, "d:1:2", 1));
	CHECK(test_is(v, 2, "d:1:2", 2) && v[2].ts == 100);
}

/* Equal keys: by conversation, then seq. */
static void
test_ties(void)
{
	struct syncorder_part parts[2] = {{.n = 2}, {.n = 1}};
	struct store_msg v[3];
	size_t n = 0;
	bool more;

	test_msg(v, &n, "g:7", 1, 50);
	test_msg(v, &n, "g:7", 2, 50);
	test_msg(v, &n, "d:1:2", 1, 50);
	CHECK_EQ_INT(test_sort(v, n, parts, 2, 5, &more), 3);
	CHECK(test_is(v, 0, "d:1:2", 1) && test_is(v, 1, "g:7", 1));
	CHECK(test_is(v, 2, "g:7", 2) && !more);
}

/* A partly read conversation: nothing after its last message read. */
static void
test_partial(void)
{
	struct syncorder_part parts[2] = {{.n = 2, .partial = true}, {.n = 4}};
	struct store_msg v[6];
	size_t n = 0;
	bool more;

	test_msg(v, &n, "d:1:2", 1, 10);
	test_msg(v, &n, "d:1:2", 2, 20);
	test_msg(v, &n, "g:7", 1, 5);
	test_msg(v, &n, "g:7", 2, 15);
	test_msg(v, &n, "g:7", 3, 25);
	test_msg(v, &n, "g:7", 4, 30);
	CHECK_EQ_INT(test_sort(v, n, parts, 2, 100, &more), 4);
	CHECK(more && test_is(v, 3, "d:1:2", 2));
	CHECK(test_is(v, 0, "g:7", 1) && test_is(v, 2, "g:7", 2));
}

/* The key of v[i] among v[0..n): the highest ts up to it in its conv. */
static int64_t
test_key(const struct store_msg *v, size_t n, size_t i)
{
	int64_t k = v[i].ts;
	size_t j;

	for (j = 0; j < n; j++)
		if (strcmp(v[j].conv, v[i].conv) == 0 && v[j].seq < v[i].seq &&
		    v[j].ts > k)
			k = v[j].ts;
	return k;
}

/* Where message seq of part p sits in the input. */
static size_t
test_index(const struct syncorder_part *parts, size_t p, int64_t seq)
{
	size_t j = (size_t)(seq - 1), q;

	for (q = 0; q < p; q++)
		j += parts[q].n;
	return j;
}

/* Whether input message a sorts after input message b. */
static bool
test_after(const struct store_msg *in, size_t n, size_t a, size_t b)
{
	int64_t ka = test_key(in, n, a), kb = test_key(in, n, b);
	int c = strcmp(in[a].conv, in[b].conv);

	if (ka != kb)
		return ka > kb;
	return c != 0 ? c > 0 : in[a].seq > in[b].seq;
}

/*
 * Whether input message j sorts after a partial part's last message
 * read (its unread ones might come before j).
 */
static bool
test_past_partial(const struct store_msg *in, size_t n,
                  const struct syncorder_part *parts, size_t np, size_t j)
{
	size_t p;

	for (p = 0; p < np; p++)
		if (parts[p].partial &&
		    test_after(in, n, j,
		               test_index(parts, p, (int64_t)parts[p].n)))
			return true;
	return false;
}

/* Checks one random sync against the rules, not against a second sort. */
static void
test_random_one(unsigned int *seed)
{
	struct syncorder_part parts[4];
	struct store_msg v[TEST_MAX], in[TEST_MAX];
	size_t n = 0, np = (size_t)rand_r(seed) % 4 + 1, p, i, j, got;
	size_t limit = (size_t)rand_r(seed) % 20 + 1;
	int64_t seen[4] = {0};
	char conv[STORE_CONV_MAX];
	bool more, partial = false;

	for (p = 0; p < np; p++) {
		parts[p].n = (size_t)rand_r(seed) % 8 + 1;
		parts[p].partial = rand_r(seed) % 3 == 0;
		partial |= parts[p].partial;
		snprintf(conv, sizeof(conv), "g:%zu", p);
		for (i = 0; i < parts[p].n; i++)
			test_msg(v, &n, conv, (int64_t)i + 1,
			         rand_r(seed) % 50);
	}
	memcpy(in, v, sizeof(in));
	got = test_sort(v, n, parts, np, limit, &more);
	CHECK(got <= limit && more == (got < n || partial));
	for (i = 0; i < got; i++) {
		p = (size_t)atoi(v[i].conv + 2);
		CHECK_EQ_INT(v[i].seq, ++seen[p]); /* each conv a prefix */
		j = test_index(parts, p, v[i].seq);
		CHECK(i == 0 ||
		      test_after(in, n, j,
		                 test_index(parts,
		                            (size_t)atoi(v[i - 1].conv + 2),
		                            v[i - 1].seq)));
		CHECK(!test_past_partial(in, n, parts, np, j));
	}
	/* Cut short only by the limit or by a partial part. */
	if (got < n && got < limit) {
		p = (size_t)atoi(v[got].conv + 2);
		j = test_index(parts, p, v[got].seq);
		CHECK(test_past_partial(in, n, parts, np, j));
	}
}

static void
test_random(void)
{
	unsigned int seed = 7;
	int i;

	for (i = 0; i < 2000; i++)
		test_random_one(&seed);
}

int
main(void)
{
	test_whole();
	test_clock_back();
	test_ties();
	test_partial();
	test_random();
	return UNIT_END();
}
