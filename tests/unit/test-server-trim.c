/* When the main thread gives freed memory back: after TRIM_AFTER accepts,
 * at the first tick with none; not during a burst, not for a trickle. */
#include "trim.h"
#include "unit.h"

static void
accept_n(struct trim *t, int n)
{
	while (n-- > 0)
		trim_accepted(t);
}

static void
test_after_burst(void)
{
	struct trim t = {0};

	CHECK(!trim_due(&t)); /* nothing yet */
	accept_n(&t, TRIM_AFTER);
	CHECK(!trim_due(&t)); /* the burst is still on */
	CHECK(trim_due(&t));  /* a quiet tick */
	CHECK(!trim_due(&t)); /* once */
	accept_n(&t, 1);
	CHECK(!trim_due(&t));
	CHECK(!trim_due(&t)); /* one connection is no burst */
}

static void
test_trickle(void)
{
	struct trim t = {0};
	int i;

	/* TRIM_AFTER connections, a tick apart: the first quiet tick after
	 * the last of them trims, never one in between. */
	for (i = 0; i < TRIM_AFTER - 1; i++) {
		trim_accepted(&t);
		CHECK(!trim_due(&t));
		CHECK(!trim_due(&t));
	}
	trim_accepted(&t);
	CHECK(!trim_due(&t));
	CHECK(trim_due(&t));
}

static void
test_long_burst(void)
{
	struct trim t = {0};
	int i;

	for (i = 0; i < 10; i++) {
		accept_n(&t, TRIM_AFTER);
		CHECK(!trim_due(&t)); /* accepts every tick: no trim yet */
	}
	CHECK(trim_due(&t));
	CHECK_EQ_INT((int)t.trimmed, 10 * TRIM_AFTER);
}

static void
test_release(void)
{
	trim_release(); /* no arena state assumed: it must just return */
}

int
main(void)
{
	test_after_burst();
	test_trickle();
	test_long_burst();
	test_release();
	return UNIT_END();
}
