/*
 * Conversations' last seqs (seqtab.h): an array of slots, a power of 2,
 * each conversation in the one slot its hash picks; seq 0 marks a free
 * slot.
 */
#include "seqtab.h"

#include <stdlib.h>

#include "xmalloc.h"

struct seqtab_slot {
	int64_t a, b, seq;
};

struct seqtab {
	size_t mask;
	struct seqtab_slot *slot;
};

struct seqtab *
seqtab_new(size_t slots)
{
	struct seqtab *t = xcalloc(1, sizeof(*t));
	size_t n = 1;

	while (n < slots)
		n <<= 1;
	t->mask = n - 1;
	t->slot = xcalloc(n, sizeof(*t->slot));
	return t;
}

void
seqtab_free(struct seqtab *t)
{
	if (t == NULL)
		return;
	free(t->slot);
	free(t);
}

void
seqtab_clear(struct seqtab *t)
{
	size_t i;

	for (i = 0; i <= t->mask; i++)
		t->slot[i].seq = 0;
}

/* (a, b)'s slot: a multiplicative hash of both, its high bits folded in. */
static struct seqtab_slot *
seqtab_slot(const struct seqtab *t, int64_t a, int64_t b)
{
	uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15u ^
	             (uint64_t)b * 0xc2b2ae3d27d4eb4fu;

	return &t->slot[(h ^ h >> 32) & t->mask];
}

int64_t
seqtab_find(const struct seqtab *t, int64_t a, int64_t b)
{
	const struct seqtab_slot *s = seqtab_slot(t, a, b);

	return s->seq != 0 && s->a == a && s->b == b ? s->seq : 0;
}

void
seqtab_set(struct seqtab *t, int64_t a, int64_t b, int64_t seq)
{
	struct seqtab_slot *s = seqtab_slot(t, a, b);

	s->a = a;
	s->b = b;
	s->seq = seq;
}

void
seqtab_forget(struct seqtab *t, int64_t a, int64_t b)
{
	struct seqtab_slot *s = seqtab_slot(t, a, b);

	if (s->a == a && s->b == b)
		s->seq = 0;
}
