/* scrollback and window: seq order, no duplicates, pending messages,
 * the cap, unread counts and the "new messages" mark. */
#include <string.h>

#include "scrollback.h"
#include "unit.h"
#include "width.h"
#include "window.h"

/* Messages land in seq order once; local lines append. */
static void
test_order(void)
{
	struct scrollback *sb = scrollback_new(100);
	struct scrollback_entry *p;

	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 5, "a", "five") != NULL);
	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 3, "a", "three") != NULL);
	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 4, "a", "four") != NULL);
	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 4, "a", "dup") == NULL);
	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 5, "a", "dup") == NULL);
	CHECK_EQ_INT(scrollback_count(sb), 3);
	CHECK(strcmp(scrollback_at(sb, 0)->text, "three") == 0);
	CHECK(strcmp(scrollback_at(sb, 2)->text, "five") == 0);
	CHECK_EQ_INT(scrollback_min_seq(sb), 3);
	CHECK_EQ_INT(scrollback_max_seq(sb), 5);
	/* Our pending message, then someone's 6: ours gets 7. */
	p = scrollback_add(sb, SCROLLBACK_MSG, 1, 0, "me", "mine");
	strcpy(p->cmid, "c1");
	p->state = SCROLLBACK_PENDING;
	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 6, "a", "six") != NULL);
	CHECK(scrollback_find_cmid(sb, "c1") == p);
	CHECK(scrollback_confirm(sb, p, 7, 2));
	CHECK(strcmp(scrollback_at(sb, 4)->text, "mine") == 0);
	CHECK_EQ_INT(scrollback_at(sb, 4)->state, SCROLLBACK_OK);
	/* Confirmed with a seq below one shown after it: it moves. */
	p = scrollback_add(sb, SCROLLBACK_MSG, 1, 0, "me", "late");
	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 9, "a", "nine") != NULL);
	CHECK(scrollback_confirm(sb, p, 8, 2));
	CHECK(strcmp(scrollback_at(sb, 5)->text, "late") == 0);
	CHECK(strcmp(scrollback_at(sb, 6)->text, "nine") == 0);
	/* Its echo already shown: the pending copy goes. */
	p = scrollback_add(sb, SCROLLBACK_MSG, 1, 0, "me", "echoed");
	CHECK(!scrollback_confirm(sb, p, 9, 2));
	CHECK_EQ_INT(scrollback_count(sb), 7);
	scrollback_free(sb);
}

/* At most max lines: the oldest go, and older history is refused. */
static void
test_cap(void)
{
	struct scrollback *sb = scrollback_new(SCROLLBACK_DEFAULT_MAX);

	for (int i = 1; i <= 6000; i++)
		scrollback_add(sb, SCROLLBACK_MSG, 1, 1000 + i, "a", "x");
	CHECK_EQ_INT(scrollback_count(sb), 5000);
	CHECK_EQ_INT(scrollback_min_seq(sb), 2001);
	CHECK(scrollback_add(sb, SCROLLBACK_MSG, 1, 5, "a", "old") == NULL);
	scrollback_free(sb);
}

/* Unread counts, the hotlist order and the read mark. */
static void
test_windows(void)
{
	struct window_list *wl = window_list_new();
	struct window *bob = window_open(wl, WINDOW_USER, 2, "bob");
	struct window *dev = window_open(wl, WINDOW_GROUP, 5, "dev");
	struct scrollback_entry *e;

	CHECK_EQ_INT(window_count(wl), 3);
	CHECK(window_open(wl, WINDOW_USER, 2, "bob") == bob);
	CHECK(window_find_name(wl, "2") == bob);
	CHECK(window_find_name(wl, "#dev") == dev);
	CHECK(window_find_name(wl, "dev") == dev);
	CHECK(window_find_name(wl, "9") == NULL);
	window_note(wl, dev, false, 1);
	CHECK_EQ_INT(window_next_unread(wl), 2); /* notices only */
	e = scrollback_add(bob->sb, SCROLLBACK_MSG, 1, 1, "bob", "hi");
	window_note(wl, bob, true, e->id);
	e = scrollback_add(bob->sb, SCROLLBACK_MSG, 1, 2, "bob", "there");
	window_note(wl, bob, true, e->id);
	CHECK_EQ_INT(bob->unread, 2);
	CHECK_EQ_INT(window_next_unread(wl), 1); /* messages first */
	CHECK(window_select(wl, 1));
	CHECK_EQ_INT(bob->unread, 0);
	CHECK_EQ_INT(bob->first_new, scrollback_at(bob->sb, 0)->id);
	window_note(wl, bob, true, 99); /* current: not counted */
	CHECK_EQ_INT(bob->unread, 0);
	CHECK(window_select(wl, 0));
	CHECK(window_select(wl, 1));
	CHECK_EQ_INT(bob->first_new, 0); /* nothing new: no separator */
	window_close(wl, 1);
	CHECK_EQ_INT(window_count(wl), 2);
	CHECK(window_current(wl) == window_at(wl, 0));
	window_close(wl, 0); /* the console stays */
	CHECK_EQ_INT(window_count(wl), 2);
	window_list_free(wl);
}

int
main(void)
{
	width_init();
	test_order();
	test_cap();
	test_windows();
	return UNIT_END();
}
