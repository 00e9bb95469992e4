/* Unit tests for shared/utf8.c: the strict RFC 3629 decoder. */
#include <string.h>

#include "unit.h"
#include "utf8.h"

#define VALID(lit) utf8_valid(lit, sizeof(lit) - 1)

/* Well-formed input of every sequence length. */
static void
test_utf8_valid_forms(void)
{
	uint32_t cp;

	CHECK(VALID(""));
	CHECK(VALID("hello, world"));
	CHECK(VALID("a\0b"));             /* NUL is valid UTF-8 */
	CHECK(VALID("\xC3\xA9"));         /* é */
	CHECK(VALID("\xE2\x82\xAC"));     /* € */
	CHECK(VALID("\xF0\x9F\x98\x80")); /* 😀 */
	CHECK(VALID("你好"));
	CHECK(VALID("😀"));
	CHECK(VALID("\xC2\x80"));         /* U+0080, lowest 2-byte */
	CHECK(VALID("\xE0\xA0\x80"));     /* U+0800, lowest 3-byte */
	CHECK(VALID("\xED\x9F\xBF"));     /* U+D7FF, below surrogates */
	CHECK(VALID("\xEE\x80\x80"));     /* U+E000, above surrogates */
	CHECK(VALID("\xEF\xBF\xBD"));     /* U+FFFD */
	CHECK(VALID("\xF0\x90\x80\x80")); /* U+10000 */
	CHECK(VALID("\xF4\x8F\xBF\xBF")); /* U+10FFFF */

	CHECK_EQ_INT(utf8_decode("\xE2\x82\xAC", 3, &cp), 3);
	CHECK_EQ_INT(cp, 0x20AC);
	CHECK_EQ_INT(utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
	CHECK_EQ_INT(cp, 0x1F600);
	CHECK_EQ_INT(utf8_decode("\xF4\x8F\xBF\xBF", 4, &cp), 4);
	CHECK_EQ_INT(cp, 0x10FFFF);
	CHECK_EQ_INT(utf8_decode("A", 1, &cp), 1);
	CHECK_EQ_INT(cp, 'A');
	CHECK_EQ_INT(utf8_decode("\xC3\xA9", 2, &cp), 2);
	CHECK_EQ_INT(cp, 0xE9);
}

/* Overlong forms, surrogates and out-of-range code points. */
static void
test_utf8_invalid_forms(void)
{
	uint32_t cp;

	CHECK(!VALID("\xC0\x80"));
	CHECK(!VALID("\xC1\xBF"));
	CHECK(!VALID("\xE0\x80\x80"));
	CHECK(!VALID("\xE0\x9F\xBF"));
	CHECK(!VALID("\xF0\x80\x80\x80"));
	CHECK(!VALID("\xF0\x8F\xBF\xBF"));
	CHECK(!VALID("\xED\xA0\x80"));             /* U+D800 */
	CHECK(!VALID("\xED\xBF\xBF"));             /* U+DFFF */
	CHECK(!VALID("\xED\xA0\xBD\xED\xB8\x80")); /* CESU-8 pair */
	CHECK(!VALID("\xF4\x90\x80\x80"));         /* U+110000 */
	CHECK(!VALID("\xF5\x80\x80\x80"));
	CHECK(!VALID("\xF8\x88\x80\x80\x80"));
	CHECK(!VALID("\xFE"));
	CHECK(!VALID("\xFF"));
	CHECK_EQ_INT(utf8_decode("\xC0\x80", 2, &cp), -1);
	CHECK_EQ_INT(utf8_decode("\xED\xA0\x80", 3, &cp), -1);
	CHECK_EQ_INT(utf8_decode("", 0, &cp), -1);
}

/* Sequences cut short, and continuation bytes with no lead. */
static void
test_utf8_truncated(void)
{
	uint32_t cp;

	CHECK(!VALID("\xC3"));
	CHECK(!VALID("\xE2\x82"));
	CHECK(!VALID("\xF0\x9F\x98"));
	CHECK(!VALID("ab\xF0\x9F"));
	CHECK(!VALID("\xE2\x82x")); /* lead then ASCII */
	CHECK(!VALID("\x80"));
	CHECK(!VALID("a\xBFz"));
	CHECK(!VALID("\xC3\xA9\xA9")); /* one continuation too many */
	/* len cuts a sequence that is complete in memory */
	CHECK(!utf8_valid("\xE2\x82\xAC", 2));
	CHECK_EQ_INT(utf8_decode("\xE2\x82\xAC", 2, &cp), -1);
}

/* utf8_count counts code points, not bytes. */
static void
test_utf8_count(void)
{
	CHECK_EQ_INT(utf8_count("", 0), 0);
	CHECK_EQ_INT(utf8_count("abc", 3), 3);
	CHECK_EQ_INT(utf8_count("你好", strlen("你好")), 2);
	CHECK_EQ_INT(utf8_count("a😀é€", strlen("a😀é€")), 4);
	CHECK_EQ_INT(utf8_count("a\xC0\x80", 3), -1);
	CHECK_EQ_INT(utf8_count("\xF4\x90\x80\x80", 4), -1);
}

/*
 * ASCII runs are skipped eight bytes at a time: a bad byte, a good
 * sequence and a cut one at every offset of a longer buffer, so each
 * lands before, inside and after a word.
 */
static void
test_utf8_runs(void)
{
	char buf[40];
	size_t at, len;

	for (at = 0; at < 30; at++) {
		memset(buf, 'a', sizeof(buf));
		buf[at] = (char)0xFF;
		CHECK(!utf8_valid(buf, sizeof(buf)));
		CHECK(utf8_valid(buf, at));          /* the run before it */
		memcpy(buf + at, "\xE4\xBD\xA0", 3); /* U+4F60 */
		CHECK(utf8_valid(buf, sizeof(buf)));
		CHECK_EQ_INT(utf8_count(buf, sizeof(buf)), 38);
		len = at + 2; /* the sequence cut after two bytes */
		CHECK(!utf8_valid(buf, len));
		memcpy(buf + at, "\xED\xA0\x80", 3); /* a surrogate */
		CHECK(!utf8_valid(buf, sizeof(buf)));
	}
}

int
main(void)
{
	test_utf8_valid_forms();
	test_utf8_invalid_forms();
	test_utf8_truncated();
	test_utf8_count();
	test_utf8_runs();
	return UNIT_END();
}
