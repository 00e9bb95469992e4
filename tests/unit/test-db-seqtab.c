/*
 * seqtab.h: a conversation's last seq is found until it is forgotten,
 * cleared or its slot taken by another; 0 means unknown.
 */
#include "seqtab.h"
#include "unit.h"

/* Found, replaced, forgotten, cleared; direct and group keys apart. */
static void
test_find(void)
{
	struct seqtab *t = seqtab_new(100);

	CHECK_EQ_INT(seqtab_find(t, 1, 2), 0);
	seqtab_set(t, 1, 2, 5);
	seqtab_set(t, 0, 2, 9);
	CHECK_EQ_INT(seqtab_find(t, 1, 2), 5);
	CHECK_EQ_INT(seqtab_find(t, 0, 2), 9);
	CHECK_EQ_INT(seqtab_find(t, 2, 1), 0);
	seqtab_set(t, 1, 2, 6);
	CHECK_EQ_INT(seqtab_find(t, 1, 2), 6);
	seqtab_forget(t, 1, 2);
	CHECK_EQ_INT(seqtab_find(t, 1, 2), 0);
	CHECK_EQ_INT(seqtab_find(t, 0, 2), 9);
	seqtab_forget(t, 7, 8); /* not there: nothing else goes */
	CHECK_EQ_INT(seqtab_find(t, 0, 2), 9);
	seqtab_clear(t);
	CHECK_EQ_INT(seqtab_find(t, 0, 2), 0);
	seqtab_free(t);
	seqtab_free(NULL);
}

/*
 * More conversations than slots: each is found with its own seq or not
 * at all, never with another's; and most of a table's worth stay found.
 */
static void
test_collisions(void)
{
	struct seqtab *t = seqtab_new(64);
	int64_t i, found = 0;

	for (i = 1; i <= 1000; i++)
		seqtab_set(t, i, i + 1, i * 10);
	for (i = 1; i <= 1000; i++) {
		int64_t seq = seqtab_find(t, i, i + 1);

		CHECK(seq == 0 || seq == i * 10);
		found += seq != 0;
	}
	CHECK(found > 0 && found <= 64);
	seqtab_clear(t);
	for (i = 1; i <= 32; i++)
		seqtab_set(t, 0, i, i);
	for (i = 1, found = 0; i <= 32; i++)
		found += seqtab_find(t, 0, i) == i;
	CHECK(found >= 16);
	seqtab_free(t);
}

int
main(void)
{
	test_find();
	test_collisions();
	return UNIT_END();
}
