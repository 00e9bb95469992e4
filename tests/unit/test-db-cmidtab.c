/*
 * cmidtab.h: cmids found by sender, handed out a sender at a time when the
 * sender has enough of them or its oldest is old, at most about max per
 * call, sorted by cmid; the smallest id held is known.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmidtab.h"
#include "unit.h"

/* Lookups, and the same cmid from two senders. */
static void
test_find(void)
{
	struct cmidtab *t = cmidtab_new(8, 0);

	cmidtab_add(t, 1, "x", 10);
	cmidtab_add(t, 2, "x", 11);
	cmidtab_add(t, 1, "y", 12);
	CHECK_EQ_INT(cmidtab_find(t, 1, "x"), 10);
	CHECK_EQ_INT(cmidtab_find(t, 2, "x"), 11);
	CHECK_EQ_INT(cmidtab_find(t, 1, "y"), 12);
	CHECK_EQ_INT(cmidtab_find(t, 2, "y"), 0);
	CHECK_EQ_INT(cmidtab_find(t, 3, "x"), 0);
	CHECK_EQ_INT(cmidtab_count(t), 3);
	CHECK_EQ_INT(cmidtab_min_id(t), 10);
	cmidtab_clear(t);
	CHECK_EQ_INT(cmidtab_count(t), 0);
	CHECK_EQ_INT(cmidtab_find(t, 1, "x"), 0);
	CHECK_EQ_INT(cmidtab_min_id(t), 0);
	cmidtab_add(t, 1, "x", 20);
	CHECK_EQ_INT(cmidtab_find(t, 1, "x"), 20);
	cmidtab_free(t);
	cmidtab_free(NULL);
}

/* A sender with per_sender entries leaves whole, sorted by cmid. */
static void
test_due(void)
{
	struct cmidtab *t = cmidtab_new(3, 0);
	struct cmidtab_entry *v;
	size_t n;

	cmidtab_add(t, 7, "b", 1);
	cmidtab_add(t, 8, "q", 2);
	cmidtab_add(t, 7, "c", 3);
	CHECK_EQ_INT(cmidtab_take(t, 0, 100, &v), 0);
	CHECK(v == NULL);
	cmidtab_add(t, 7, "a", 4);
	n = cmidtab_take(t, 0, 100, &v);
	CHECK_EQ_INT(n, 3);
	CHECK(n == 3 && v[0].sender == 7 && strcmp(v[0].cmid, "a") == 0 &&
	      v[0].id == 4 && strcmp(v[1].cmid, "b") == 0 && v[1].id == 1 &&
	      strcmp(v[2].cmid, "c") == 0 && v[2].id == 3);
	cmidtab_entries_free(v, n);
	CHECK_EQ_INT(cmidtab_find(t, 7, "a"), 0);
	CHECK_EQ_INT(cmidtab_find(t, 8, "q"), 2);
	CHECK_EQ_INT(cmidtab_count(t), 1);
	CHECK_EQ_INT(cmidtab_min_id(t), 2);
	/* By age: the oldest sender first, up to old_id. */
	cmidtab_add(t, 9, "r", 5);
	n = cmidtab_take(t, 4, 100, &v);
	CHECK(n == 1 && v[0].sender == 8 && v[0].id == 2);
	cmidtab_entries_free(v, n);
	CHECK_EQ_INT(cmidtab_min_id(t), 5);
	n = cmidtab_take(t, 5, 100, &v);
	CHECK(n == 1 && v[0].sender == 9);
	cmidtab_entries_free(v, n);
	CHECK_EQ_INT(cmidtab_count(t), 0);
	CHECK_EQ_INT(cmidtab_min_id(t), 0);
	cmidtab_entries_free(NULL, 0);
	cmidtab_free(t);
}

/* max bounds a call, whole senders at a time; the rest stay due. */
static void
test_max(void)
{
	struct cmidtab *t = cmidtab_new(2, 0);
	struct cmidtab_entry *v;
	int64_t s, id = 1;
	size_t n;

	for (s = 1; s <= 5; s++) {
		cmidtab_add(t, s, "a", id++);
		cmidtab_add(t, s, "b", id++);
	}
	n = cmidtab_take(t, 0, 3, &v);
	CHECK(n == 4 && v[0].sender == 1 && v[2].sender == 2);
	cmidtab_entries_free(v, n);
	n = cmidtab_take(t, 0, 3, &v);
	CHECK(n == 4 && v[0].sender == 3 && v[2].sender == 4);
	cmidtab_entries_free(v, n);
	/* Sender 5 left by age meanwhile and came back with one entry. */
	n = cmidtab_take(t, 10, 1, &v);
	CHECK(n == 2 && v[0].sender == 5);
	cmidtab_entries_free(v, n);
	cmidtab_add(t, 5, "c", id++);
	CHECK_EQ_INT(cmidtab_take(t, 0, 100, &v), 0);
	CHECK_EQ_INT(cmidtab_find(t, 5, "c"), 11);
	cmidtab_free(t);
}

/* Many senders: the slots grow, and removal keeps every other findable. */
static void
test_many(void)
{
	struct cmidtab *t = cmidtab_new(1000, 0);
	struct cmidtab_entry *v;
	char cmid[16];
	int64_t s;
	size_t n;
	int bad = 0;

	for (s = 1; s <= 20000; s++) {
		snprintf(cmid, sizeof(cmid), "m%lld", (long long)s);
		cmidtab_add(t, s * 7919, cmid, s);
	}
	n = cmidtab_take(t, 10000, 100000, &v);
	CHECK_EQ_INT(n, 10000);
	cmidtab_entries_free(v, n);
	for (s = 1; s <= 20000; s++) {
		snprintf(cmid, sizeof(cmid), "m%lld", (long long)s);
		bad += cmidtab_find(t, s * 7919, cmid) != (s > 10000 ? s : 0);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(cmidtab_count(t), 10000);
	CHECK_EQ_INT(cmidtab_min_id(t), 10001);
	cmidtab_free(t);
}

/* A cmid for id that does not sort with it (as random ones), in out. */
static const char *
test_scattered(char *out, size_t size, int64_t id)
{
	snprintf(out, size, "%08llx", (unsigned long long)id * 2654435761u);
	return out;
}

/* One sender with many entries: each found through its index. */
static void
test_one_sender(void)
{
	struct cmidtab *t = cmidtab_new(100000, 0);
	struct cmidtab_entry *v;
	char cmid[24];
	int64_t id;
	size_t n;
	int bad = 0;

	for (id = 1; id <= 5000; id++)
		cmidtab_add(t, 42, test_scattered(cmid, sizeof(cmid), id), id);
	for (id = 1; id <= 5000; id++) {
		test_scattered(cmid, sizeof(cmid), id);
		bad += cmidtab_find(t, 42, cmid) != id;
		bad += cmidtab_find(t, 43, cmid) != 0;
		snprintf(cmid, sizeof(cmid), "n%lld", (long long)id);
		bad += cmidtab_find(t, 42, cmid) != 0;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(cmidtab_take(t, 0, 100, &v), 0);
	n = cmidtab_take(t, 1, 100, &v); /* a sender leaves whole */
	CHECK_EQ_INT(n, 5000);
	cmidtab_entries_free(v, n);
	CHECK_EQ_INT(cmidtab_find(t, 42, "9e3779b1"), 0); /* id 1 */
	cmidtab_add(t, 42, "again", 5001);
	CHECK_EQ_INT(cmidtab_find(t, 42, "again"), 5001);
	cmidtab_free(t);
}

/*
 * Senders in step (a round robin): how many fall due after one round at
 * most, with the sizes of what left (each sender's due count).
 */
static size_t
test_in_step(struct cmidtab *t, size_t *small, size_t *big, size_t *sum,
             size_t *groups)
{
	struct cmidtab_entry *v;
	char cmid[24];
	int64_t id = 1, s;
	size_t n, k, m, due, most = 0;
	int r;

	*small = SIZE_MAX;
	*big = *sum = *groups = 0;
	for (r = 0; r < 1024; r++) {
		for (s = 1; s <= 100; s++) {
			snprintf(cmid, sizeof(cmid), "c%04d", r);
			cmidtab_add(t, s, cmid, id++);
		}
		n = cmidtab_take(t, 0, SIZE_MAX, &v);
		for (k = 0, due = 0; k < n; k += m, due++) {
			for (m = 1; k + m < n && v[k + m].sender == v[k].sender;
			     m++)
				;
			*small = m < *small ? m : *small;
			*big = m > *big ? m : *big;
			*sum += m;
		}
		*groups += due;
		most = due > most ? due : most;
		cmidtab_entries_free(v, n);
	}
	return most;
}

/*
 * With a spread, senders in step fall due a few at a time, each at its
 * count within per_sender +- spread / 2, about per_sender on average;
 * without, all in the same round.
 */
static void
test_spread(void)
{
	struct cmidtab *t = cmidtab_new(256, 256);
	size_t most, small, big, sum, groups;

	most = test_in_step(t, &small, &big, &sum, &groups);
	CHECK(most <= 8);
	CHECK(small >= 128);
	CHECK(big <= 384);
	CHECK(groups >= 300);
	CHECK(sum / groups >= 220 && sum / groups <= 292);
	cmidtab_free(t);
	t = cmidtab_new(256, 0);
	most = test_in_step(t, &small, &big, &sum, &groups);
	CHECK_EQ_INT(most, 100);
	CHECK_EQ_INT(small, 256);
	CHECK_EQ_INT(big, 256);
	cmidtab_free(t);
}

int
main(void)
{
	test_find();
	test_due();
	test_max();
	test_many();
	test_one_sender();
	test_spread();
	return UNIT_END();
}
