/*
 * seqtail.h: a round starts once enough rows wait, takes them all sorted
 * by (conv, seq), hands them out in slices that grow with the rows added
 * meanwhile, and its end leaves the rows added since waiting.
 */
#include <stdio.h>
#include <string.h>

#include "seqtail.h"
#include "unit.h"

/* Adds message id, seq seq of conversation conv. */
static void
test_add(struct seqtail *t, const char *conv, int64_t seq, int64_t id)
{
	struct seqtail_row r = {.a = 0, .b = seq % 3, .seq = seq, .id = id};

	snprintf(r.conv, sizeof(r.conv), "%s", conv);
	seqtail_add(t, &r);
}

static void
test_round(void)
{
	struct seqtail *t = seqtail_new();
	const struct seqtail_row *v;
	size_t n, got = 0;
	int64_t id;

	for (id = 1; id <= 9; id++) /* three conversations, interleaved */
		test_add(t,
		         id % 3 == 0   ? "g:1"
		         : id % 3 == 1 ? "d:1:2"
		                       : "d:1:3",
		         (id + 2) / 3, id);
	CHECK_EQ_INT(seqtail_waiting(t), 9);
	CHECK_EQ_INT(seqtail_round(t, 10), 0); /* not enough yet */
	CHECK_EQ_INT(seqtail_round(t, 9), 9);
	CHECK_EQ_INT(seqtail_waiting(t), 0);
	test_add(t, "d:1:2", 4, 10);          /* waits for the next round */
	CHECK_EQ_INT(seqtail_round(t, 1), 9); /* this one still runs */
	n = seqtail_slice(t, 2, &v);          /* 2, and twice the 1 added */
	CHECK_EQ_INT(n, 4);
	CHECK(strcmp(v[0].conv, "d:1:2") == 0 && v[0].seq == 1 && v[0].id == 1);
	CHECK(strcmp(v[2].conv, "d:1:2") == 0 && v[2].seq == 3);
	CHECK(strcmp(v[3].conv, "d:1:3") == 0 && v[3].seq == 1 && v[3].id == 2);
	got += n;
	while ((n = seqtail_slice(t, 2, &v)) > 0) {
		CHECK(n <= 2);
		got += n;
	}
	CHECK_EQ_INT(got, 9);
	CHECK(strcmp(v[-1].conv, "g:1") == 0 && v[-1].seq == 3);
	seqtail_round_end(t, &v, &n);
	CHECK_EQ_INT(n, 1);
	CHECK(v[0].id == 10 && v[0].seq == 4);
	CHECK_EQ_INT(seqtail_round(t, 2), 0);
	CHECK_EQ_INT(seqtail_round(t, 1), 10);
	seqtail_clear(t);
	CHECK_EQ_INT(seqtail_waiting(t), 0);
	CHECK_EQ_INT(seqtail_round(t, 0), 0);
	seqtail_free(t);
	seqtail_free(NULL);
}

int
main(void)
{
	test_round();
	return UNIT_END();
}
