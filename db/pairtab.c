/*
 * Values by pair of numbers (pairtab.h): an array of slots, a power of 2,
 * each pair in the one slot its hash picks; value 0 marks a free slot.
 */
#include "pairtab.h"

#include <stdlib.h>

#include "xmalloc.h"

struct pairtab_slot {
	int64_t a, b, v;
};

struct pairtab {
	size_t mask;
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
}

/* (a, b)'s slot: a multiplicative hash of both, its high bits folded in. */
static struct pairtab_slot *
pairtab_slot(const struct pairtab *t, int64_t a, int64_t b)
{
	uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15u ^
	             (uint64_t)b * 0xc2b2ae3d27d4eb4fu;

	return &t->slot[(h ^ h >> 32) & t->mask];
}

int64_t
pairtab_find(const struct pairtab *t, int64_t a, int64_t b)
{
	const struct pairtab_slot *s = pairtab_slot(t, a, b);

	return s->v != 0 && s->a == a && s->b == b ? s->v : 0;
}

void
pairtab_set(struct pairtab *t, int64_t a, int64_t b, int64_t v)
{
	struct pairtab_slot *s = pairtab_slot(t, a, b);

	s->a = a;
	s->b = b;
	s->v = v;
}

void
pairtab_forget(struct pairtab *t, int64_t a, int64_t b)
{
	struct pairtab_slot *s = pairtab_slot(t, a, b);

	if (s->a == a && s->b == b)
		s->v = 0;
}
