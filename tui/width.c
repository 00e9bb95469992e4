/* Terminal width of UTF-8 text, by grapheme-like clusters. */
#define _XOPEN_SOURCE 700
#include <langinfo.h>
#include <locale.h>
#include <stdbool.h>
#include <string.h>
#include <wchar.h>

#include "utf8.h"
#include "width.h"

/* True if LC_CTYPE's codeset is UTF-8. */
static bool
width_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs != NULL &&
	       (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* The environment's locale, forced to a UTF-8 LC_CTYPE. */
int
width_init(void)
{
	static const char *const fallbacks[] = {"C.UTF-8", "C.utf8",
	                                        "en_US.UTF-8"};

	setlocale(LC_ALL, "");
	if (width_is_utf8())
		return 0;
	for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++)
		if (setlocale(LC_CTYPE, fallbacks[i]) != NULL &&
		    width_is_utf8())
			return 0;
	return -1;
}

/* Emoji blocks: two columns even where the C library's tables lag. */
static bool
width_is_emoji(uint32_t cp)
{
	return (cp >= 0x1F300 && cp <= 0x1F64F) ||
	       (cp >= 0x1F680 && cp <= 0x1F6FF) ||
	       (cp >= 0x1F900 && cp <= 0x1FAFF);
}

/* Attaches to the previous character without a column of its own. */
static bool
width_is_extender(uint32_t cp)
{
	return (cp >= 0xFE00 && cp <= 0xFE0F) ||   /* variation selectors */
	       (cp >= 0x1F3FB && cp <= 0x1F3FF) || /* skin tones */
	       (cp >= 0xE0020 && cp <= 0xE007F) || /* tags */
	       (cp >= 0xE0100 && cp <= 0xE01EF) || cp == 0x200C;
}

/* wcwidth with the gaps filled: never negative for printable text. */
int
width_cp(uint32_t cp)
{
	int w;

	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0))
		return 1; /* drawn as '?' */
	if (width_is_emoji(cp))
		return 2;
	if (cp == 0x200D || width_is_extender(cp))
		return 0;
	w = wcwidth((wchar_t)cp);
	if (w < 0)
		return 1; /* unassigned or private: one cell in most terminals
		           */
	return w > 2 ? 2 : w;
}

/* One code point at s, or -1; *cp gets it. */
static int
width_decode(const char *s, size_t len, uint32_t *cp)
{
	int n = utf8_decode(s, len, cp);

	if (n > 0 && *cp == 0)
		return -1;
	return n;
}

/* True for U+1F1E6..U+1F1FF, which pair into flags. */
static bool
width_is_regional(uint32_t cp)
{
	return cp >= 0x1F1E6 && cp <= 0x1F1FF;
}

/* Bytes of what attaches after a base at s[i..len). */
static size_t
width_extend(const char *s, size_t len, size_t i, uint32_t base)
{
	uint32_t cp;
	int n;
	bool joined = false;

	while (i < len && (n = width_decode(s + i, len - i, &cp)) > 0) {
		bool attach =
		    joined || cp == 0x200D || width_is_extender(cp) ||
		    (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp < 0xA0) &&
		     wcwidth((wchar_t)cp) == 0);

		if (!attach && width_is_regional(base) &&
		    width_is_regional(cp)) {
			base = 0; /* a pair, not a run */
			attach = true;
		}
		if (!attach)
			break;
		joined = cp == 0x200D;
		i += (size_t)n;
	}
	return i;
}

/* The cluster at s: a base and everything attached to it. */
size_t
width_cluster(const char *s, size_t len, int *cols)
{
	uint32_t base;
	int n = width_decode(s, len, &base);

	if (n < 0) {
		*cols = 1;
		return 1;
	}
	*cols = width_cp(base);
	if (*cols == 0)
		*cols = 1; /* a mark with nothing before it: drawn on a space */
	if (width_is_regional(base))
		*cols = 2;
	return width_extend(s, len, (size_t)n, base);
}

/* Walks from the start: clusters are only well defined going forward. */
size_t
width_prev(const char *s, size_t pos)
{
	size_t i = 0, last = 0;
	int w;

	while (i < pos) {
		last = i;
		i += width_cluster(s + i, pos - i, &w);
	}
	return last;
}

/* Sum of the clusters' widths. */
int
width_str(const char *s, size_t len)
{
	size_t i = 0;
	int total = 0, w;

	while (i < len) {
		i += width_cluster(s + i, len - i, &w);
		total += w;
	}
	return total;
}

/* Clusters while they fit. */
size_t
width_fit(const char *s, size_t len, int cols, int *used)
{
	size_t i = 0, n;
	int total = 0, w;

	while (i < len) {
		n = width_cluster(s + i, len - i, &w);
		if (total + w > cols)
			break;
		total += w;
		i += n;
	}
	if (used != NULL)
		*used = total;
	return i;
}
