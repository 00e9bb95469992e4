/*
 * Values by pair of numbers (pairtab.h): an array of slots, a power of 2,
 * each pair in the one slot its hash picks; value 0 marks a free slot. An
 * exact table looks on from that slot to the next free one (linear
 * probing) and doubles when half full.
 */
#include "pairtab.h"

#include <stdbool.h>
#include <stdlib.h>

#include "xmalloc.h"

struct pairtab_slot {
	int64_t a, b, v;
};

struct pairtab {
	size_t mask;
	size_t used; /* exact: pairs held */
	bool exact;
	struct pairtab_slot *slot;
};

struct pairtab *
pairtab_new(size_t slots)
{
	struct pairtab *t = xcalloc(1, sizeof(*t));
	size_t n = 1;

	while (n < slots)
		n <<= 1;
	t->mask = n - 1;
	t->slot = xcalloc(n, sizeof(*t->slot));
	return t;
}

struct pairtab *
pairtab_new_exact(size_t slots)
{
	struct pairtab *t = pairtab_new(slots);

	t->exact = true;
	return t;
}

void
pairtab_free(struct pairtab *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	free(t);
}

void
pairtab_clear(struct pairtab *t)
{
	size_t i;

	for (i = 0; i <= t->mask; i++)
		t->slot[i].v = 0;
	t->used = 0;
}

/* (a, b)'s slot: a multiplicative hash of both, its high bits folded in. */
static struct pairtab_slot *
pairtab_slot(const struct pairtab *t, int64_t a, int64_t b)
{
	uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15u ^
	             (uint64_t)b * 0xc2b2ae3d27d4eb4fu;

	return &t->slot[(h ^ h >> 32) & t->mask];
}

/*
 * Exact: (a, b)'s slot, or the free one that ends its run of taken slots
 * (the table is never full: it grows at half).
 */
static struct pairtab_slot *
pairtab_probe(const struct pairtab *t, int64_t a, int64_t b)
{
	struct pairtab_slot *s = pairtab_slot(t, a, b);

	while (s->v != 0 && (s->a != a || s->b != b))
		s = s == &t->slot[t->mask] ? t->slot : s + 1;
	return s;
}

/* Exact: twice the slots, every pair set again. */
static void
pairtab_grow(struct pairtab *t)
{
	struct pairtab_slot *old = t->slot;
	size_t i, n = t->mask + 1;

	t->mask = 2 * n - 1;
	t->slot = xcalloc(2 * n, sizeof(*t->slot));
	for (i = 0; i < n; i++)
		if (old[i].v != 0)
			*pairtab_probe(t, old[i].a, old[i].b) = old[i];
	free(old);
}

int64_t
pairtab_find(const struct pairtab *t, int64_t a, int64_t b)
{
	const struct pairtab_slot *s =
	    t->exact ? pairtab_probe(t, a, b) : pairtab_slot(t, a, b);

	return s->v != 0 && s->a == a && s->b == b ? s->v : 0;
}

void
pairtab_set(struct pairtab *t, int64_t a, int64_t b, int64_t v)
{
	struct pairtab_slot *s;

	if (!t->exact) {
		s = pairtab_slot(t, a, b);
	} else {
		if (2 * (t->used + 1) > t->mask + 1)
			pairtab_grow(t);
		s = pairtab_probe(t, a, b);
		t->used += s->v == 0;
	}
	s->a = a;
	s->b = b;
	s->v = v;
}

/*
 * Exact: frees s, then sets again the pairs after it up to the next free
 * slot, so that none is cut off from its hash's slot.
 */
static void
pairtab_unset(struct pairtab *t, struct pairtab_slot *s)
{
	struct pairtab_slot e;

	s->v = 0;
	t->used--;
	for (s = s == &t->slot[t->mask] ? t->slot : s + 1; s->v != 0;
	     s = s == &t->slot[t->mask] ? t->slot : s + 1) {
		e = *s;
		s->v = 0;
		*pairtab_probe(t, e.a, e.b) = e;
	}
}

void
pairtab_forget(struct pairtab *t, int64_t a, int64_t b)
{
	struct pairtab_slot *s =
	    t->exact ? pairtab_probe(t, a, b) : pairtab_slot(t, a, b);

	if (s->v == 0 || s->a != a || s->b != b)
		return;
	if (t->exact)
		pairtab_unset(t, s);
	else
		s->v = 0;
}
