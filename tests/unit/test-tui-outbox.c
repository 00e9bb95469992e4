/* outbox and backoff: cmids, queue order, requeue, retry delays. */
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "outbox.h"
#include "unit.h"

/* 1000 cmids: right length, lowercase hex, all different, in time order. */
static void
test_cmid(void)
{
	static char ids[1000][OUTBOX_CMID_LEN + 1];
	int bad = 0, dup = 0;

	for (int i = 0; i < 1000; i++) {
		outbox_cmid(ids[i]);
		if (strlen(ids[i]) != OUTBOX_CMID_LEN ||
		    strspn(ids[i], "0123456789abcdef") != OUTBOX_CMID_LEN)
			bad++;
		for (int j = 0; j < i; j++)
			dup += strcmp(ids[i], ids[j]) == 0;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(dup, 0);
	/* Made 2 ms apart, the later sorts after. */
	nanosleep(&(struct timespec){0, 2000000}, NULL);
	outbox_cmid(ids[1]);
	CHECK(strcmp(ids[0], ids[1]) < 0);
}

/* FIFO order, removal from the middle and the ends, requeue. */
static void
test_queue(void)
{
	struct outbox *o = outbox_new();
	struct outbox_item *a = outbox_add(o, 2, 0, "one");
	struct outbox_item *b = outbox_add(o, 0, 7, "two");
	struct outbox_item *c = outbox_add(o, 2, 0, "three");

	CHECK_EQ_INT(outbox_count(o), 3);
	CHECK(outbox_first(o) == a && a->next == b && b->next == c);
	CHECK(strcmp(a->cmid, b->cmid) != 0);
	CHECK(strcmp(b->body, "two") == 0 && b->to_group == 7);
	CHECK(a->state == OUTBOX_QUEUED);
	a->state = b->state = OUTBOX_INFLIGHT;
	outbox_requeue(o);
	CHECK(a->state == OUTBOX_QUEUED && b->state == OUTBOX_QUEUED);
	outbox_remove(o, b);
	outbox_item_free(b);
	CHECK(outbox_first(o) == a && a->next == c);
	outbox_remove(o, c);
	outbox_item_free(c);
	CHECK_EQ_INT(outbox_count(o), 1);
	/* the tail is right after removing it: appending still works */
	c = outbox_add(o, 3, 0, "four");
	CHECK(a->next == c);
	outbox_remove(o, a);
	outbox_item_free(a);
	CHECK(outbox_first(o) == c);
	outbox_free(o); /* frees c */
	outbox_free(NULL);
	outbox_item_free(NULL);
}

/* Which errors are retried. */
static void
test_retryable(void)
{
	CHECK(outbox_retryable("rate_limited"));
	CHECK(outbox_retryable("unavailable"));
	CHECK(!outbox_retryable("not_friends"));
	CHECK(!outbox_retryable("body_too_long"));
	CHECK(!outbox_retryable(NULL));
}

/* 1 s doubling to 60 s, jittered into [d/2, d]. */
static void
test_backoff(void)
{
	static const unsigned want[] = {1000,  2000,  4000,  8000,
	                                16000, 32000, 60000, 60000};

	for (unsigned i = 0; i < 8; i++) {
		for (int k = 0; k < 50; k++) {
			unsigned ms = backoff_delay_ms(i, 1000, 60000);

			CHECK(ms >= want[i] / 2 && ms <= want[i]);
		}
	}
	CHECK(backoff_delay_ms(1000, 1000, 60000) <= 60000);
}

/* Runs every case; the last line is the tally. */
int
main(void)
{
	test_cmid();
	test_queue();
	test_retryable();
	test_backoff();
	return UNIT_END();
}
