/*
 * log.h's limit on repeated lines: the first logs, then one a
 * LOG_LIMIT_SECONDS, each with the count left out since the one before.
 */
#include "log.h"
#include "unit.h"

/* A burst within a second, then the next second, then a quiet spell. */
static void
test_limit(void)
{
	struct log_limit l = {0};
	unsigned held = 99;
	int i, logged = 0;

	CHECK(log_limit_take(&l, 1000, &held));
	CHECK_EQ_INT(held, 0);
	for (i = 0; i < 50; i++)
		logged += log_limit_take(&l, 1000, &held);
	CHECK_EQ_INT(logged, 0);
	CHECK(log_limit_take(&l, 1001, &held));
	CHECK_EQ_INT(held, 50);
	CHECK(!log_limit_take(&l, 1001, &held));
	CHECK(log_limit_take(&l, 5000, &held));
	CHECK_EQ_INT(held, 1);
	CHECK(log_limit_take(&l, 6000, &held));
	CHECK_EQ_INT(held, 0);
}

/* The first line logs at any time, 0 included; a clock set back logs. */
static void
test_edges(void)
{
	struct log_limit l = {0};
	unsigned held = 99;

	CHECK(log_limit_take(&l, 0, &held));
	CHECK_EQ_INT(held, 0);
	CHECK(!log_limit_take(&l, 0, &held));
	CHECK(log_limit_take(&l, -5, &held));
	CHECK_EQ_INT(held, 1);
}

int
main(void)
{
	test_limit();
	test_edges();
	return UNIT_END();
}
