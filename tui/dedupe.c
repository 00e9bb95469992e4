/* Per-conversation record of delivered seqs: a floor plus a small set. */
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "xmalloc.h"

/*
 * Seqs above the floor kept per conversation. Past it the floor jumps to
 * the lowest kept seq: a gap that long is not going to be filled by a push,
 * and sync (which raises the floor itself) fills it anyway.
 */
#define DEDUPE_SET_MAX 256

struct dedupe_conv {
	char *conv;
	int64_t floor; /* -1: unknown */
	int64_t *set;  /* sorted ascending, all > floor */
	unsigned n;
	struct dedupe_conv *next;
};

struct dedupe {
	struct dedupe_conv *convs;
};

/* An empty record. */
struct dedupe *
dedupe_new(void)
{
	return xcalloc(1, sizeof(struct dedupe));
}

/* Drops every conversation. */
void
dedupe_clear(struct dedupe *d)
{
	struct dedupe_conv *dc, *next;

	for (dc = d->convs; dc != NULL; dc = next) {
		next = dc->next;
		free(dc->conv);
		free(dc->set);
		free(dc);
	}
	d->convs = NULL;
}

/* Frees the record; NULL is a no-op. */
void
dedupe_free(struct dedupe *d)
{
	if (d == NULL)
		return;
	dedupe_clear(d);
	free(d);
}

/* The conversation's entry, or NULL. */
static struct dedupe_conv *
dedupe_lookup(const struct dedupe *d, const char *conv)
{
	struct dedupe_conv *dc;

	for (dc = d->convs; dc != NULL; dc = dc->next)
		if (strcmp(dc->conv, conv) == 0)
			return dc;
	return NULL;
}

/* The conversation's entry, created with an unknown floor if new. */
static struct dedupe_conv *
dedupe_get(struct dedupe *d, const char *conv)
{
	struct dedupe_conv *dc = dedupe_lookup(d, conv);

	if (dc != NULL)
		return dc;
	dc = xcalloc(1, sizeof(*dc));
	dc->conv = xstrdup(conv);
	dc->floor = -1;
	dc->set = xmalloc(DEDUPE_SET_MAX * sizeof(*dc->set));
	dc->next = d->convs;
	d->convs = dc;
	return dc;
}

/* Drops set entries at or below the floor and climbs over contiguous ones. */
static void
dedupe_settle(struct dedupe_conv *dc)
{
	unsigned i = 0;

	if (dc->floor < 0)
		return;
	while (i < dc->n && dc->set[i] <= dc->floor + 1) {
		if (dc->set[i] == dc->floor + 1)
			dc->floor++;
		i++;
	}
	memmove(dc->set, dc->set + i, (dc->n - i) * sizeof(*dc->set));
	dc->n -= i;
}

/*
 * Inserts seq in the sorted set; false if it is there already. When the set
 * is full, the floor jumps over the oldest gap first.
 */
static bool
dedupe_insert(struct dedupe_conv *dc, int64_t seq)
{
	unsigned i = 0;

	while (i < dc->n && dc->set[i] < seq)
		i++;
	if (i < dc->n && dc->set[i] == seq)
		return false;
	if (dc->n == DEDUPE_SET_MAX) {
		/* Full: give up on the oldest gap (see DEDUPE_SET_MAX). */
		dc->floor = dc->set[0];
		memmove(dc->set, dc->set + 1, --dc->n * sizeof(*dc->set));
		if (i > 0)
			i--;
		if (seq <= dc->floor)
			return true; /* new, but below what we can track */
	}
	memmove(dc->set + i + 1, dc->set + i, (dc->n - i) * sizeof(*dc->set));
	dc->set[i] = seq;
	dc->n++;
	return true;
}

/* Seen before if at or below the floor or in the set. */
bool
dedupe_add(struct dedupe *d, const char *conv, int64_t seq)
{
	struct dedupe_conv *dc = dedupe_get(d, conv);

	if (seq <= 0)
		return false;
	if (dc->floor < 0 && seq == 1)
		dc->floor = 0;
	if (dc->floor >= 0 && seq <= dc->floor)
		return false;
	if (!dedupe_insert(dc, seq))
		return false;
	dedupe_settle(dc);
	return true;
}

/* Only ever raises: the server's cursor never moves back. */
void
dedupe_set_floor(struct dedupe *d, const char *conv, int64_t floor)
{
	struct dedupe_conv *dc = dedupe_get(d, conv);

	if (floor > dc->floor)
		dc->floor = floor;
	dedupe_settle(dc);
}

/* -1 while unknown. */
int64_t
dedupe_floor(const struct dedupe *d, const char *conv)
{
	const struct dedupe_conv *dc = dedupe_lookup(d, conv);

	return dc == NULL ? -1 : dc->floor;
}

/* Size of the set above the floor. */
unsigned
dedupe_pending(const struct dedupe *d, const char *conv)
{
	const struct dedupe_conv *dc = dedupe_lookup(d, conv);

	return dc == NULL ? 0 : dc->n;
}
