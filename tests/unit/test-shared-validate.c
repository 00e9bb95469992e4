/* Unit tests for shared/validate.c: names, passwords, bodies and ids. */
#include <stdlib.h>
#include <string.h>

#include "errcode.h"
#include "unit.h"
#include "validate.h"

#define NAME(lit) validate_name(lit, sizeof(lit) - 1)

/* n copies of the UTF-8 sequence unit, in a string the caller frees. */
static char *
repeat(const char *unit, int n)
{
	size_t u = strlen(unit);
	char *s = malloc(u * (size_t)n + 1);

	for (int i = 0; i < n; i++)
		memcpy(s + u * (size_t)i, unit, u);
	s[u * (size_t)n] = '\0';
	return s;
}

/* Names are measured in code points, not bytes. */
static void
test_validate_name_length(void)
{
	char *s;

	CHECK_EQ_INT(NAME("a"), 0);
	CHECK_EQ_INT(NAME(""), -ERR_INVALID_NAME);
	CHECK_EQ_INT(validate_name(NULL, 0), -ERR_INVALID_NAME);
	s = repeat("x", 32);
	CHECK_EQ_INT(validate_name(s, strlen(s)), 0);
	free(s);
	s = repeat("x", 33);
	CHECK_EQ_INT(validate_name(s, strlen(s)), -ERR_INVALID_NAME);
	free(s);
	s = repeat("你", 32); /* 96 bytes, 32 code points */
	CHECK_EQ_INT(validate_name(s, strlen(s)), 0);
	free(s);
	s = repeat("😀", 33);
	CHECK_EQ_INT(validate_name(s, strlen(s)), -ERR_INVALID_NAME);
	free(s);
}

/* Whitespace of every kind, and control characters, are refused. */
static void
test_validate_name_chars(void)
{
	static const char *const bad[] = {
	    "a b",
	    " a",
	    "a ",
	    "a\tb",
	    "a\nb",
	    "a\rb",
	    "a\x01",
	    "a\x7f",
	    "a\xC2\x80",
	    "a\xC2\x9F",
	    "a\xC2\x85",
	    "a\xC2\xA0",
	    "a\xE3\x80\x80",
	    "a\xE1\x9A\x80",
	    "a\xE2\x80\x80",
	    "a\xE2\x80\x8A",
	    "a\xE2\x80\xA8",
	    "a\xE2\x80\xA9",
	    "a\xE2\x80\xAF",
	    "a\xE2\x81\x9F",
	    "a\xEF\xBB\xBF",
	    "a\xC0\x80",
	    "a\xFF",
	    "\xED\xA0\x80",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(validate_name(bad[i], strlen(bad[i])),
		             -ERR_INVALID_NAME);
	CHECK_EQ_INT(validate_name("a\0b", 3), -ERR_INVALID_NAME);
	CHECK_EQ_INT(NAME("你好"), 0);
	CHECK_EQ_INT(NAME("😀"), 0);
	CHECK_EQ_INT(NAME("Zoë"), 0);
	CHECK_EQ_INT(NAME("Robert');DROP_TABLE_users;--"), 0);
	CHECK_EQ_INT(NAME("Robert');DROP TABLE users;--"), -ERR_INVALID_NAME);
	CHECK_EQ_INT(NAME("Robert'); DROP TABLE users;--"), -ERR_INVALID_NAME);
	CHECK_EQ_INT(NAME("a'b;c--d\"e<f>&"), 0);
}

/* Passwords: 8..128 bytes, no NUL. */
static void
test_validate_password(void)
{
	char buf[200];

	memset(buf, 'p', sizeof(buf));
	CHECK_EQ_INT(validate_password(buf, 7), -ERR_INVALID_PASSWORD);
	CHECK_EQ_INT(validate_password(buf, 8), 0);
	CHECK_EQ_INT(validate_password(buf, 128), 0);
	CHECK_EQ_INT(validate_password(buf, 129), -ERR_INVALID_PASSWORD);
	CHECK_EQ_INT(validate_password(buf, 0), -ERR_INVALID_PASSWORD);
	CHECK_EQ_INT(validate_password("pass word", 9), 0);
	CHECK_EQ_INT(validate_password("pass\0word", 9), -ERR_INVALID_PASSWORD);
	CHECK_EQ_INT(validate_password("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", 8),
	             0);
}

/* Bodies: 1..max bytes of UTF-8 without NUL; too long has its own code. */
static void
test_validate_body(void)
{
	char *big = malloc(4097);

	memset(big, 'b', 4097);
	CHECK_EQ_INT(validate_body("", 0, VALIDATE_BODY_MAX), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(validate_body("hi", 2, VALIDATE_BODY_MAX), 0);
	CHECK_EQ_INT(validate_body("line\nline", 9, VALIDATE_BODY_MAX), 0);
	CHECK_EQ_INT(validate_body(big, 4096, VALIDATE_BODY_MAX), 0);
	CHECK_EQ_INT(validate_body(big, 4097, VALIDATE_BODY_MAX),
	             -ERR_BODY_TOO_LONG);
	CHECK_EQ_INT(validate_body(big, 11, 10), -ERR_BODY_TOO_LONG);
	CHECK_EQ_INT(validate_body("a\0b", 3, VALIDATE_BODY_MAX),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(validate_body("a\xC0\x80", 3, VALIDATE_BODY_MAX),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(validate_body("\xE2\x82", 2, VALIDATE_BODY_MAX),
	             -ERR_BAD_REQUEST);
	CHECK_EQ_INT(
	    validate_body("你好 😀", strlen("你好 😀"), VALIDATE_BODY_MAX), 0);
	free(big);
}

/* Ids: 1 <= id < 2^53. */
static void
test_validate_id(void)
{
	CHECK_EQ_INT(validate_id(1), 0);
	CHECK_EQ_INT(validate_id(((int64_t)1 << 53) - 1), 0);
	CHECK_EQ_INT(validate_id((int64_t)1 << 53), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(validate_id(0), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(validate_id(-1), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(validate_id(INT64_MAX), -ERR_BAD_REQUEST);
	CHECK_EQ_INT(validate_id(INT64_MIN), -ERR_BAD_REQUEST);
}

int
main(void)
{
	test_validate_name_length();
	test_validate_name_chars();
	test_validate_password();
	test_validate_body();
	test_validate_id();
	return UNIT_END();
}
