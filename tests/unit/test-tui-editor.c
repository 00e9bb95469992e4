/* editor: cursor motion and deletion by cluster, kill/yank, history. */
#include <stdlib.h>
#include <string.h>

#include "editor.h"
#include "unit.h"
#include "width.h"

#define TEXT_IS(e, s) CHECK(strcmp(editor_text(e), (s)) == 0)

/* Typing and moving over CJK, emoji and combining marks. */
static void
test_motion(void)
{
	struct editor *e = editor_new();
	const char *s = "a你e\xcc\x81😀b";

	editor_insert(e, s, strlen(s));
	CHECK_EQ_INT(editor_cursor(e), strlen(s));
	CHECK(editor_left(e)); /* before b */
	CHECK_EQ_INT(editor_cursor(e), strlen(s) - 1);
	CHECK(editor_left(e)); /* before the emoji: 4 bytes at once */
	CHECK_EQ_INT(editor_cursor(e), strlen(s) - 5);
	CHECK(editor_left(e)); /* before e + mark: 3 bytes at once */
	CHECK_EQ_INT(editor_cursor(e), 4);
	CHECK(editor_left(e));
	CHECK_EQ_INT(editor_cursor(e), 1);
	CHECK(editor_left(e));
	CHECK(!editor_left(e));
	CHECK(editor_right(e));
	CHECK(editor_right(e));
	CHECK_EQ_INT(editor_cursor(e), 4);
	editor_end(e);
	CHECK(!editor_right(e));
	editor_home(e);
	CHECK_EQ_INT(editor_cursor(e), 0);
	editor_free(e);
}

/* Backspace and Delete remove whole clusters, never half a character. */
static void
test_delete(void)
{
	struct editor *e = editor_new();

	editor_set(e, "x👨\u200d👩\u200d👧e\xcc\x81你");
	CHECK(editor_backspace(e));
	TEXT_IS(e, "x👨\u200d👩\u200d👧e\xcc\x81");
	CHECK(editor_backspace(e));
	TEXT_IS(e, "x👨\u200d👩\u200d👧");
	CHECK(editor_backspace(e)); /* the whole ZWJ family */
	TEXT_IS(e, "x");
	editor_set(e, "你好");
	editor_home(e);
	CHECK(editor_delete(e));
	TEXT_IS(e, "好");
	CHECK(editor_delete(e));
	CHECK(!editor_delete(e));
	CHECK(!editor_backspace(e));
	/* Pasted control characters are dropped. */
	editor_insert(e, "a\tb\nc", 5);
	TEXT_IS(e, "abc");
	editor_free(e);
}

/* ^K ^U ^W ^Y and Alt-b/f. */
static void
test_kill(void)
{
	struct editor *e = editor_new();

	editor_set(e, "hello 世界 again");
	editor_kill_word(e);
	TEXT_IS(e, "hello 世界 ");
	editor_kill_word(e);
	TEXT_IS(e, "hello ");
	editor_yank(e);
	TEXT_IS(e, "hello 世界 ");
	CHECK(editor_word_left(e));
	CHECK_EQ_INT(editor_cursor(e), 6);
	CHECK(editor_word_left(e));
	CHECK_EQ_INT(editor_cursor(e), 0);
	CHECK(editor_word_right(e));
	CHECK_EQ_INT(editor_cursor(e), 5);
	editor_kill_end(e);
	TEXT_IS(e, "hello");
	editor_home(e);
	editor_right(e);
	editor_kill_start(e);
	TEXT_IS(e, "ello");
	editor_end(e);
	editor_yank(e);
	TEXT_IS(e, "elloh");
	editor_replace(e, 0, 4, "/msg");
	TEXT_IS(e, "/msgh");
	CHECK_EQ_INT(editor_cursor(e), 4);
	editor_free(e);
}

/* Up/Down walk the history and come back to the line being typed. */
static void
test_history(void)
{
	struct editor *e = editor_new();
	char *l;

	editor_set(e, "one");
	free(editor_take(e, true));
	editor_set(e, "two");
	free(editor_take(e, true));
	editor_set(e, "secret");
	free(editor_take(e, false));
	editor_set(e, "   ");
	free(editor_take(e, true));
	editor_set(e, "draft");
	CHECK(editor_history_prev(e));
	TEXT_IS(e, "two");
	CHECK(editor_history_prev(e));
	TEXT_IS(e, "one");
	CHECK(!editor_history_prev(e));
	CHECK(editor_history_next(e));
	TEXT_IS(e, "two");
	CHECK(editor_history_next(e));
	TEXT_IS(e, "draft");
	CHECK(!editor_history_next(e));
	l = editor_take(e, true);
	CHECK(strcmp(l, "draft") == 0);
	free(l);
	TEXT_IS(e, "");
	editor_free(e);
}

/* The view scrolls so the cursor stays visible, by display columns. */
static void
test_view(void)
{
	struct editor *e = editor_new();
	size_t start;
	int col;

	editor_set(e, "你好世界你好世界"); /* 16 columns */
	editor_view(e, 10, &start, &col);
	CHECK(col <= 9);
	CHECK(width_str(editor_text(e) + start, editor_cursor(e) - start) ==
	      col);
	CHECK(start % 3 == 0);
	editor_home(e);
	editor_view(e, 10, &start, &col);
	CHECK_EQ_INT(start, 0);
	CHECK_EQ_INT(col, 0);
	editor_free(e);
}

int
main(void)
{
	if (width_init() < 0) {
		printf("no UTF-8 locale: skipped\n0 passed, 0 failed\n");
		return 0;
	}
	test_motion();
	test_delete();
	test_kill();
	test_history();
	test_view();
	return UNIT_END();
}
