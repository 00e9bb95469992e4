#include <stdbool.h>
#include <string.h>

#include "errcode.h"
#include "utf8.h"
#include "validate.h"

/*
 * Whitespace and control characters would let two names look alike or
 * break a terminal, so names refuse them: C0, space, DEL, C1 (which holds
 * U+0085) and Unicode's other white space (plus U+FEFF, an invisible BOM).
 */
static bool
validate_name_cp_bad(uint32_t cp)
{
	if (cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0))
		return true;
	if (cp >= 0x2000 && cp <= 0x200A)
		return true;
	switch (cp) {
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
	case 0xFEFF:
		return true;
	}
	return false;
}

/* A user or group name; see validate.h for the rules. */
int
validate_name(const char *s, size_t len)
{
	size_t i = 0;
	int count = 0;
	uint32_t cp;
	int n;

	if (s == NULL || len == 0)
		return -ERR_INVALID_NAME;
	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) < 0)
			return -ERR_INVALID_NAME;
		if (validate_name_cp_bad(cp) || ++count > VALIDATE_NAME_MAX_CP)
			return -ERR_INVALID_NAME;
		i += (size_t)n;
	}
	return 0;
}

/* A password: its length only, and no NUL (it would cut C strings short). */
int
validate_password(const char *s, size_t len)
{
	if (s == NULL || len < VALIDATE_PASSWORD_MIN ||
	    len > VALIDATE_PASSWORD_MAX || memchr(s, '\0', len) != NULL)
		return -ERR_INVALID_PASSWORD;
	return 0;
}

/* A message body of 1..max bytes; see validate.h. */
int
validate_body(const char *s, size_t len, size_t max)
{
	if (s == NULL || len == 0)
		return -ERR_BAD_REQUEST;
	if (len > max)
		return -ERR_BODY_TOO_LONG;
	if (memchr(s, '\0', len) != NULL || !utf8_valid(s, len))
		return -ERR_BAD_REQUEST;
	return 0;
}

/* Ids must fit a JSON number exactly, hence the 2^53 bound. */
int
validate_id(int64_t id)
{
	if (id < 1 || id >= VALIDATE_ID_MAX)
		return -ERR_BAD_REQUEST;
	return 0;
}
