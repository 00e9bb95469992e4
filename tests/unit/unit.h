#ifndef NATTER_TESTS_UNIT_H
#define NATTER_TESTS_UNIT_H

/*
 * A minimal harness for unit programs: CHECK counts and reports, and
 * UNIT_END prints the last line ctest readers look for, "N passed, N
 * failed", and returns the exit status.
 */
#include <stdio.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (cond) {                                                  \
			unit_passed++;                                       \
		} else {                                                     \
			unit_failed++;                                       \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",         \
			    __FILE__, __LINE__, #cond);                      \
		}                                                            \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                   \
	do {                                                                 \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b); \
		if (unit_a_ == unit_b_) {                                    \
			unit_passed++;                                       \
		} else {                                                     \
			unit_failed++;                                       \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
			    __FILE__, __LINE__, #a, unit_a_, unit_b_);       \
		}                                                            \
	} while (0)

#define UNIT_END()                                                           \
	(printf("%d passed, %d failed\n", unit_passed, unit_failed),         \
	    unit_failed ? 1 : 0)

#endif
