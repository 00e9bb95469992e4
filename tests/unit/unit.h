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

/*
 * An SQLite WAL header's checkpoint sequence number (big-endian, at byte
 * 12): SQLite adds one each time the WAL starts over. -1 if unreadable.
 */
static inline long
unit_wal_restarts(const char *wal)
{
	unsigned char h[16];
	FILE *f = fopen(wal, "rb");
	long n = -1;

	if (f != NULL && fread(h, 1, sizeof(h), f) == sizeof(h))
		n = (long)h[12] << 24 | (long)h[13] << 16 | (long)h[14] << 8 |
		    (long)h[15];
	if (f != NULL)
		fclose(f);
	return n;
}

#endif
