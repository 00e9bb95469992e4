/* dedupe: each conv+seq delivered once, floors, gaps, the size cap. */
#include "dedupe.h"
#include "unit.h"

/* Seqs from 1 in order: each new once, the floor follows. */
static void
test_in_order(void)
{
	struct dedupe *d = dedupe_new();

	CHECK_EQ_INT(dedupe_floor(d, "d:1:2"), -1);
	CHECK(dedupe_add(d, "d:1:2", 1));
	CHECK(dedupe_add(d, "d:1:2", 2));
	CHECK(!dedupe_add(d, "d:1:2", 2));
	CHECK(!dedupe_add(d, "d:1:2", 1));
	CHECK_EQ_INT(dedupe_floor(d, "d:1:2"), 2);
	CHECK_EQ_INT(dedupe_pending(d, "d:1:2"), 0);
	/* conversations are independent */
	CHECK(dedupe_add(d, "g:1", 1));
	CHECK_EQ_INT(dedupe_floor(d, "g:9"), -1);
	dedupe_free(d);
}

/* Unknown floor: seqs are remembered; sync's floor settles them. */
static void
test_unknown_floor_then_sync(void)
{
	struct dedupe *d = dedupe_new();

	CHECK(dedupe_add(d, "g:1", 60)); /* a push before the sync reply */
	CHECK_EQ_INT(dedupe_floor(d, "g:1"), -1);
	CHECK(!dedupe_add(d, "g:1", 60));
	dedupe_set_floor(d, "g:1", 56); /* sync's first message is 57 */
	CHECK(dedupe_add(d, "g:1", 57));
	CHECK(dedupe_add(d, "g:1", 58));
	CHECK_EQ_INT(dedupe_floor(d, "g:1"), 58);
	CHECK(dedupe_add(d, "g:1", 59));
	CHECK_EQ_INT(dedupe_floor(d, "g:1"), 60); /* climbed over 60 */
	CHECK(!dedupe_add(d, "g:1", 60));
	CHECK_EQ_INT(dedupe_pending(d, "g:1"), 0);
	/* the floor never moves back */
	dedupe_set_floor(d, "g:1", 3);
	CHECK_EQ_INT(dedupe_floor(d, "g:1"), 60);
	CHECK(!dedupe_add(d, "g:1", 5));
	CHECK(!dedupe_add(d, "g:1", 0));
	dedupe_free(d);
}

/* A gap keeps the floor below it until filled. */
static void
test_gap(void)
{
	struct dedupe *d = dedupe_new();

	CHECK(dedupe_add(d, "c", 1));
	CHECK(dedupe_add(d, "c", 3));
	CHECK(dedupe_add(d, "c", 4));
	CHECK_EQ_INT(dedupe_floor(d, "c"), 1);
	CHECK_EQ_INT(dedupe_pending(d, "c"), 2);
	CHECK(!dedupe_add(d, "c", 3));
	CHECK(dedupe_add(d, "c", 2));
	CHECK_EQ_INT(dedupe_floor(d, "c"), 4);
	dedupe_clear(d);
	CHECK_EQ_INT(dedupe_floor(d, "c"), -1);
	CHECK(dedupe_add(d, "c", 4));
	dedupe_free(d);
}

/* A gap that never fills: memory stays bounded, new seqs still deliver. */
static void
test_cap(void)
{
	struct dedupe *d = dedupe_new();
	int fresh = 0;

	CHECK(dedupe_add(d, "c", 1));
	for (int s = 3; s < 3 + 1000; s++)
		fresh += dedupe_add(d, "c", s);
	CHECK_EQ_INT(fresh, 1000);
	CHECK(dedupe_pending(d, "c") <= 256);
	CHECK(dedupe_floor(d, "c") > 1);
	CHECK(!dedupe_add(d, "c", 1002));
	CHECK(dedupe_add(d, "c", 1003));
	dedupe_free(d);
	dedupe_free(NULL);
}

/* Runs every case; the last line is the tally. */
int
main(void)
{
	test_in_order();
	test_unknown_floor_then_sync();
	test_gap();
	test_cap();
	return UNIT_END();
}
