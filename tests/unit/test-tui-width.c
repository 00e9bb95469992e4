/* width and wrap: columns of CJK, emoji, combining marks, ZWJ; wrapping. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "width.h"
#include "wrap.h"

#define W(s) width_str((s), strlen(s))

/* Single code points and clusters. */
static void
test_width(void)
{
	int cols;

	CHECK_EQ_INT(W("abc"), 3);
	CHECK_EQ_INT(W("你好"), 4);
	CHECK_EQ_INT(W("😀"), 2);
	CHECK_EQ_INT(W("e\xcc\x81"), 1);       /* e + COMBINING ACUTE */
	CHECK_EQ_INT(W("👍🏽"), 2);        /* skin tone modifier */
	CHECK_EQ_INT(W("👨\u200d👩\u200d👧"), 2); /* ZWJ family */
	CHECK_EQ_INT(W("🇫🇷"), 2);              /* flag pair */
	CHECK_EQ_INT(W("\xe2\x9d\xa4\xef\xb8\x8f"), 1); /* heart + VS16 */
	CHECK_EQ_INT(W("한국어"), 6);
	CHECK_EQ_INT(W("\xff"), 1); /* invalid byte: one cell (U+FFFD) */
	CHECK_EQ_INT(W("\x01"), 1); /* control: drawn as '?' */
	CHECK_EQ_INT(width_cp(0x0301), 0);
	CHECK_EQ_INT(width_cp(0x4E2D), 2);
	CHECK_EQ_INT(width_cp(0x1FAE0), 2); /* newer emoji than most libcs */
	/* Clusters: the whole family is one; the mark stays with its base. */
	CHECK_EQ_INT(width_cluster("👨\u200d👩\u200d👧x", 19, &cols), 18);
	CHECK_EQ_INT(cols, 2);
	CHECK_EQ_INT(width_cluster("e\xcc\x81x", 4, &cols), 3);
	CHECK_EQ_INT(cols, 1);
	CHECK_EQ_INT(width_cluster("\xcc\x81", 2, &cols), 2);
	CHECK_EQ_INT(cols, 1); /* a lone mark still takes a cell */
	CHECK_EQ_INT(width_cluster("🇫🇷🇩🇪", 16, &cols), 8);
	CHECK_EQ_INT(width_prev("a你e\xcc\x81", 7), 4);
	CHECK_EQ_INT(width_prev("a你", 4), 1);
}

/* Fitting never splits a cluster or a wide character. */
static void
test_fit(void)
{
	int used;

	CHECK_EQ_INT(width_fit("你好世界", 12, 5, &used), 6);
	CHECK_EQ_INT(used, 4);
	CHECK_EQ_INT(width_fit("ab😀", 6, 3, &used), 2);
	CHECK_EQ_INT(width_fit("e\xcc\x81\xcc\x82z", 6, 1, &used), 5);
	CHECK_EQ_INT(width_fit("abc", 3, 0, &used), 0);
}

/* Rows of a wrapped text, as the view cuts it. */
static void
test_wrap(void)
{
	const char *s = "hello world foo";
	size_t next, n;

	n = wrap_next(s, strlen(s), 11, &next);
	CHECK_EQ_INT(n, 11); /* "hello world" */
	CHECK_EQ_INT(next, 12);
	n = wrap_next(s, strlen(s), 8, &next);
	CHECK_EQ_INT(n, 5); /* breaks at the blank */
	CHECK_EQ_INT(next, 6);
	n = wrap_next("你好世界", 12, 5, &next);
	CHECK_EQ_INT(n, 6); /* two CJK in 5 columns */
	CHECK_EQ_INT(next, 6);
	n = wrap_next("😀", 4, 1, &next); /* too wide: still advances */
	CHECK_EQ_INT(n, 4);
	n = wrap_next("ab\ncd", 5, 10, &next);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(next, 3);
	CHECK_EQ_INT(wrap_count("你好世界你好世界", 24, 4), 4);
	CHECK_EQ_INT(wrap_count("", 0, 10), 1);
	CHECK_EQ_INT(wrap_count("a\nb\nc", 5, 10), 3);
	/* Every row fits, for every width. */
	for (int cols = 2; cols < 12; cols++) {
		const char *t =
		    "汉字 and 😀 emoji e\xcc\x81 mixed 👨\u200d👩\u200d👧 text";
		size_t off = 0, len = strlen(t);

		while (off < len) {
			n = wrap_next(t + off, len - off, cols, &next);
			CHECK(width_str(t + off, n) <= cols);
			CHECK(next > 0);
			off += next;
		}
	}
}

/* Peer text loses what a terminal would act on. */
static void
test_sanitize(void)
{
	char *s = wrap_sanitize("a\x1b[2Jb\tc\r\n\xff你", 14);

	CHECK(strcmp(s, "a?[2Jb c \n\xef\xbf\xbd你") == 0);
	free(s);
	s = wrap_sanitize("\xc2\x9b"
	                  "x",
	                  3); /* C1 CSI */
	CHECK(strcmp(s, "?x") == 0);
	free(s);
}

int
main(void)
{
	if (width_init() < 0) {
		printf("no UTF-8 locale: skipped\n0 passed, 0 failed\n");
		return 0;
	}
	test_width();
	test_fit();
	test_wrap();
	test_sanitize();
	return UNIT_END();
}
