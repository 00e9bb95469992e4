#include <stdint.h>
#include <string.h>

#include "utf8.h"

/*
 * The bounds of a sequence's second byte depend on its lead byte: that is
 * where overlong forms (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90..BF) are cut off (RFC 3629, section 4).
 */
static void
utf8_second_range(unsigned char lead, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (lead == 0xE0)
		*lo = 0xA0;
	else if (lead == 0xED)
		*hi = 0x9F;
	else if (lead == 0xF0)
		*lo = 0x90;
	else if (lead == 0xF4)
		*hi = 0x8F;
}

/* Sequence length announced by a lead byte, 0 if it cannot start one. */
static int
utf8_seq_len(unsigned char lead)
{
	if (lead < 0x80)
		return 1;
	if (lead >= 0xC2 && lead <= 0xDF)
		return 2;
	if (lead >= 0xE0 && lead <= 0xEF)
		return 3;
	if (lead >= 0xF0 && lead <= 0xF4)
		return 4;
	return 0; /* continuation byte, C0, C1 or F5..FF */
}

/* Decodes one code point; see utf8.h. */
int
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo, hi;
	uint32_t c;
	int n;

	if (len == 0 || (n = utf8_seq_len(p[0])) == 0 || (size_t)n > len)
		return -1;
	if (n == 1) {
		*cp = p[0];
		return 1;
	}
	utf8_second_range(p[0], &lo, &hi);
	if (p[1] < lo || p[1] > hi)
		return -1;
	c = p[0] & (0x7F >> n);
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		c = (c << 6) | (p[i] & 0x3F);
	}
	*cp = c;
	return n;
}

/* Whether any of the 8 bytes at s has its high bit set (is not ASCII). */
static bool
utf8_word_high(const char *s)
{
	uint64_t w;

	memcpy(&w, s, sizeof(w)); /* s need not be aligned */
	return (w & UINT64_C(0x8080808080808080)) != 0;
}

/* True if all len bytes are strict UTF-8. */
bool
utf8_valid(const char *s, size_t len)
{
	return utf8_count(s, len) >= 0;
}

/*
 * Counts code points, -1 on the first invalid sequence. Every frame and
 * every string of one is checked (utf8_valid), mostly ASCII: runs of it
 * go eight bytes at a time (byte by byte this was 3-4% of natterd's
 * instructions under load).
 */
long
utf8_count(const char *s, size_t len)
{
	size_t i = 0;
	long count = 0;
	uint32_t cp;
	int n;

	while (i < len) {
		while (len - i >= 8 && !utf8_word_high(s + i)) {
			i += 8;
			count += 8;
		}
		if (i == len)
			break;
		/* ASCII runs are the common case: skip the decoder. */
		if ((unsigned char)s[i] < 0x80) {
			i++;
			count++;
			continue;
		}
		if ((n = utf8_decode(s + i, len - i, &cp)) < 0)
			return -1;
		i += (size_t)n;
		count++;
	}
	return count;
}
