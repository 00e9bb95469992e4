/*
 * pairtab.h: a pair's value is found until it is forgotten, cleared or its
 * slot taken by another; 0 means unknown. An exact table loses none.
 */
#include "pairtab.h"
#include "unit.h"

/* Found, replaced, forgotten, cleared; (0, x) and (y, x) apart. */
static void
test_find(void)
{
	struct pairtab *t = pairtab_new(100);

	CHECK_EQ_INT(pairtab_find(t, 1, 2), 0);
	pairtab_set(t, 1, 2, 5);
	pairtab_set(t, 0, 2, 9);
	CHECK_EQ_INT(pairtab_find(t, 1, 2), 5);
	CHECK_EQ_INT(pairtab_find(t, 0, 2), 9);
	CHECK_EQ_INT(pairtab_find(t, 2, 1), 0);
	pairtab_set(t, 1, 2, 6);
	CHECK_EQ_INT(pairtab_find(t, 1, 2), 6);
	pairtab_forget(t, 1, 2);
	CHECK_EQ_INT(pairtab_find(t, 1, 2), 0);
	CHECK_EQ_INT(pairtab_find(t, 0, 2), 9);
	pairtab_forget(t, 7, 8); /* not there: nothing else goes */
	CHECK_EQ_INT(pairtab_find(t, 0, 2), 9);
	pairtab_clear(t);
	CHECK_EQ_INT(pairtab_find(t, 0, 2), 0);
	pairtab_free(t);
	pairtab_free(NULL);
}

/*
 * More pairs than slots: each is found with its own value or not at all,
 * never with another's; and most of a table's worth stay found.
 */
static void
test_collisions(void)
{
	struct pairtab *t = pairtab_new(64);
	int64_t i, found = 0;

	for (i = 1; i <= 1000; i++)
		pairtab_set(t, i, i + 1, i * 10);
	for (i = 1; i <= 1000; i++) {
		int64_t v = pairtab_find(t, i, i + 1);

		CHECK(v == 0 || v == i * 10);
		found += v != 0;
	}
	CHECK(found > 0 && found <= 64);
	pairtab_clear(t);
	for (i = 1; i <= 32; i++)
		pairtab_set(t, 0, i, i);
	for (i = 1, found = 0; i <= 32; i++)
		found += pairtab_find(t, 0, i) == i;
	CHECK(found >= 16);
	pairtab_free(t);
}

/*
 * An exact table: every pair of thousands (past many growths, in runs
 * that share slots) found with its value; those forgotten gone, and the
 * rest still found (forgetting moves the pairs after it); cleared, empty.
 */
static void
test_exact(void)
{
	struct pairtab *t = pairtab_new_exact(4);
	int64_t i, found = 0, gone = 0;

	for (i = 1; i <= 5000; i++)
		pairtab_set(t, i % 7, i, i * 10);
	pairtab_set(t, 3, 10, 1); /* replaced, not added */
	for (i = 1; i <= 5000; i++)
		found += pairtab_find(t, i % 7, i) == (i == 10 ? 1 : i * 10);
	CHECK_EQ_INT(found, 5000);
	CHECK_EQ_INT(pairtab_find(t, 0, 10), 0);
	for (i = 1; i <= 5000; i += 3)
		pairtab_forget(t, i % 7, i);
	pairtab_forget(t, 9, 9); /* not there */
	for (i = 1, found = 0; i <= 5000; i++) {
		int64_t v = pairtab_find(t, i % 7, i);

		if ((i - 1) % 3 == 0)
			gone += v == 0;
		else
			found += v == (i == 10 ? 1 : i * 10);
	}
	CHECK_EQ_INT(gone, 1667);
	CHECK_EQ_INT(found, 5000 - 1667);
	pairtab_clear(t);
	CHECK_EQ_INT(pairtab_find(t, 2, 2), 0);
	pairtab_set(t, 2, 2, 7);
	CHECK_EQ_INT(pairtab_find(t, 2, 2), 7);
	pairtab_free(t);
}

int
main(void)
{
	test_find();
	test_collisions();
	test_exact();
	return UNIT_END();
}
