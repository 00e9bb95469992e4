/* Wrapping by display width, and text made safe to draw. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "width.h"
#include "wrap.h"
#include "xmalloc.h"

/* Fills a row cluster by cluster, remembering the last blank. */
size_t
wrap_next(const char *s, size_t len, int cols, size_t *next)
{
	size_t i = 0, blank = 0, n;
	int used = 0, w;
	const char *nl = memchr(s, '\n', len);

	if (nl != NULL)
		len = (size_t)(nl - s);
	while (i < len) {
		n = width_cluster(s + i, len - i, &w);
		if (used + w > cols && i > 0)
			break;
		if (s[i] == ' ')
			blank = i;
		used += w;
		i += n;
	}
	if (i >= len) {
		*next = nl != NULL ? len + 1 : len;
		return len;
	}
	if (s[i] == ' ') { /* the break falls on a blank: drop it */
		*next = i + 1;
		return i;
	}
	if (blank > 0) {
		*next = blank + 1;
		return blank;
	}
	*next = i;
	return i;
}

/* Counts rows. */
int
wrap_count(const char *s, size_t len, int cols)
{
	size_t off = 0, next;
	int rows = 0;

	do {
		wrap_next(s + off, len - off, cols, &next);
		off += next;
		rows++;
	} while (off < len);
	return rows;
}

/* Appends a code point's UTF-8 bytes. */
static size_t
wrap_put_cp(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	out[0] = (char)(0xE0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[2] = (char)(0x80 | (cp & 0x3F));
	return 3;
}

/* Copies, replacing what a terminal would act on. */
char *
wrap_sanitize(const char *s, size_t len)
{
	char *out = xmalloc(len * 3 + 1);
	size_t i = 0, o = 0;

	while (i < len) {
		uint32_t cp;
		int n = utf8_decode(s + i, len - i, &cp);

		if (n < 0) {
			o += wrap_put_cp(out + o, 0xFFFD);
			i++;
			continue;
		}
		if (cp == '\t' || cp == '\r')
			out[o++] = ' ';
		else if (cp == '\n')
			out[o++] = '\n';
		else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
			out[o++] = '?';
		else {
			memcpy(out + o, s + i, (size_t)n);
			o += (size_t)n;
		}
		i += (size_t)n;
	}
	out[o] = '\0';
	return out;
}
