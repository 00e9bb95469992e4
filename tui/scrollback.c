/* A window's lines: capped, seq-ordered, without duplicates. */
#include <stdlib.h>
#include <string.h>

#include "scrollback.h"
#include "wrap.h"
#include "xmalloc.h"

struct scrollback {
	struct scrollback_entry **v;
	size_t n, cap, max;
	uint64_t next_id;
};

/* Empty, holding at most max lines. */
struct scrollback *
scrollback_new(size_t max)
{
	struct scrollback *sb = xcalloc(1, sizeof(*sb));

	sb->max = max > 0 ? max : SCROLLBACK_DEFAULT_MAX;
	sb->next_id = 1;
	return sb;
}

/* Frees one entry. */
static void
scrollback_entry_free(struct scrollback_entry *e)
{
	free(e->from);
	free(e->text);
	free(e);
}

/* Drops every line (ids keep increasing). */
void
scrollback_clear(struct scrollback *sb)
{
	for (size_t i = 0; i < sb->n; i++)
		scrollback_entry_free(sb->v[i]);
	sb->n = 0;
}

/* Frees everything. */
void
scrollback_free(struct scrollback *sb)
{
	if (sb == NULL)
		return;
	scrollback_clear(sb);
	free(sb->v);
	free(sb);
}

/* Removes entry i without freeing it. */
static void
scrollback_unlink(struct scrollback *sb, size_t i)
{
	memmove(sb->v + i, sb->v + i + 1, (sb->n - i - 1) * sizeof(sb->v[0]));
	sb->n--;
}

/* Puts e at index i. */
static void
scrollback_insert_at(struct scrollback *sb, size_t i,
                     struct scrollback_entry *e)
{
	if (sb->n == sb->cap) {
		sb->cap = sb->cap ? sb->cap * 2 : 64;
		sb->v = xrealloc(sb->v, sb->cap * sizeof(sb->v[0]));
	}
	memmove(sb->v + i + 1, sb->v + i, (sb->n - i) * sizeof(sb->v[0]));
	sb->v[i] = e;
	sb->n++;
}

/*
 * Where a message with seq goes: after the last entry with a smaller seq
 * (entries without a seq after it stay after it). SIZE_MAX for a copy.
 */
static size_t
scrollback_slot_scan(const struct scrollback *sb, int64_t seq)
{
	size_t i = sb->n;

	while (i > 0) {
		int64_t s = sb->v[i - 1]->seq;

		if (s == seq)
			return SIZE_MAX;
		if (s != 0 && s < seq)
			break;
		i--;
	}
	return i;
}

/* The same, with the common case (newer than everything) first. */
static size_t
scrollback_slot(const struct scrollback *sb, int64_t seq)
{
	if (seq > scrollback_max_seq(sb))
		return sb->n;
	return scrollback_slot_scan(sb, seq);
}

/* Drops the oldest lines past the cap. */
static void
scrollback_trim(struct scrollback *sb)
{
	size_t drop;

	if (sb->n <= sb->max)
		return;
	drop = sb->n - sb->max;
	for (size_t i = 0; i < drop; i++)
		scrollback_entry_free(sb->v[i]);
	memmove(sb->v, sb->v + drop, sb->max * sizeof(sb->v[0]));
	sb->n = sb->max;
}

/* Adds a line in its place. */
struct scrollback_entry *
scrollback_add(struct scrollback *sb, enum scrollback_kind kind, int64_t ts_ms,
               int64_t seq, const char *from, const char *text)
{
	struct scrollback_entry *e;
	size_t i = seq > 0 ? scrollback_slot(sb, seq) : sb->n;

	if (i == SIZE_MAX)
		return NULL;
	if (i == 0 && sb->n >= sb->max)
		return NULL; /* older than everything kept: would go at once */
	e = xcalloc(1, sizeof(*e));
	e->id = sb->next_id++;
	e->kind = kind;
	e->ts_ms = ts_ms;
	e->seq = seq;
	e->from = from != NULL ? xstrdup(from) : NULL;
	e->text = wrap_sanitize(text, strlen(text));
	scrollback_insert_at(sb, i, e);
	scrollback_trim(sb);
	return e;
}

/* Count. */
size_t
scrollback_count(const struct scrollback *sb)
{
	return sb->n;
}

/* Entry i (0 oldest). */
struct scrollback_entry *
scrollback_at(const struct scrollback *sb, size_t i)
{
	return i < sb->n ? sb->v[i] : NULL;
}

/* Looks for our message, newest first. */
struct scrollback_entry *
scrollback_find_cmid(const struct scrollback *sb, const char *cmid)
{
	for (size_t i = sb->n; i > 0; i--)
		if (sb->v[i - 1]->cmid[0] != '\0' &&
		    strcmp(sb->v[i - 1]->cmid, cmid) == 0)
			return sb->v[i - 1];
	return NULL;
}

/* Our message acknowledged: it takes its place in seq order. */
bool
scrollback_confirm(struct scrollback *sb, struct scrollback_entry *e,
                   int64_t seq, int64_t ts_ms)
{
	size_t i, slot;
	bool newest;

	for (i = 0; i < sb->n && sb->v[i] != e; i++)
		;
	if (i == sb->n)
		return false;
	scrollback_unlink(sb, i);
	newest = seq > scrollback_max_seq(sb);
	if ((slot = scrollback_slot_scan(sb, seq)) == SIZE_MAX) {
		scrollback_entry_free(e);
		return false;
	}
	if (newest && slot < i)
		slot = i; /* stays where it was typed, after later notices */
	e->seq = seq;
	e->ts_ms = ts_ms;
	e->state = SCROLLBACK_OK;
	scrollback_insert_at(sb, slot, e);
	return true;
}

/* The oldest seq shown, for loading history before it. */
int64_t
scrollback_min_seq(const struct scrollback *sb)
{
	for (size_t i = 0; i < sb->n; i++)
		if (sb->v[i]->seq > 0)
			return sb->v[i]->seq;
	return 0;
}

/* The newest seq shown. */
int64_t
scrollback_max_seq(const struct scrollback *sb)
{
	int64_t m = 0;

	for (size_t i = sb->n; i > 0; i--)
		if (sb->v[i - 1]->seq > m)
			m = sb->v[i - 1]->seq;
	return m;
}

/* For read marks. */
uint64_t
scrollback_last_id(const struct scrollback *sb)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sb->n; i++)
		if (sb->v[i]->id > m)
			m = sb->v[i]->id;
	return m;
}
