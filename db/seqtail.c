/*
 * The tail of msg_seqs (seqtail.h): the messages waiting, in id order, in
 * one array; a round moves them to a second array, sorted, and a cursor
 * walks it.
 */
#include "seqtail.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct seqtail_rows {
	struct seqtail_row *v;
	size_t n, cap;
};

struct seqtail {
	struct seqtail_rows wait;  /* not in a round, in id order */
	struct seqtail_rows round; /* the running round, sorted */
	size_t next;               /* the round's next row to hand out */
	int64_t round_max;         /* the round's newest id */
	size_t added;              /* rows added since the last slice */
};

struct seqtail *
seqtail_new(void)
{
	return xcalloc(1, sizeof(struct seqtail));
}

void
seqtail_free(struct seqtail *t)
{
	if (t == NULL)
		return;
	free(t->wait.v);
	free(t->round.v);
	free(t);
}

void
seqtail_clear(struct seqtail *t)
{
	t->wait.n = t->round.n = t->next = t->added = 0;
	t->round_max = 0;
}

void
seqtail_add(struct seqtail *t, const struct seqtail_row *r)
{
	if (t->wait.n == t->wait.cap) {
		t->wait.cap = t->wait.cap != 0 ? 2 * t->wait.cap : 256;
		t->wait.v =
		    xrealloc(t->wait.v, t->wait.cap * sizeof(*t->wait.v));
	}
	t->wait.v[t->wait.n++] = *r;
	t->added++;
}

size_t
seqtail_waiting(const struct seqtail *t)
{
	return t->wait.n;
}

/* (conv, seq) order, msg_seqs' key. */
static int
seqtail_cmp(const void *x, const void *y)
{
	const struct seqtail_row *a = x, *b = y;
	int c = strcmp(a->conv, b->conv);

	if (c != 0)
		return c;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

int64_t
seqtail_round(struct seqtail *t, size_t n)
{
	struct seqtail_rows swap;

	if (t->round.n == 0 && t->wait.n > 0 && t->wait.n >= n) {
		t->round_max = t->wait.v[t->wait.n - 1].id; /* id order */
		swap = t->round;
		t->round = t->wait;
		t->wait = swap;
		t->wait.n = 0;
		t->next = t->added = 0;
		qsort(t->round.v, t->round.n, sizeof(*t->round.v), seqtail_cmp);
	}
	return t->round.n != 0 ? t->round_max : 0;
}

size_t
seqtail_slice(struct seqtail *t, size_t n, const struct seqtail_row **v)
{
	size_t left = t->round.n - t->next;

	n += 2 * t->added;
	t->added = 0;
	if (n > left)
		n = left;
	*v = t->round.v + t->next;
	t->next += n;
	return n;
}

void
seqtail_round_end(struct seqtail *t, const struct seqtail_row **v, size_t *n)
{
	t->round.n = t->next = 0;
	t->round_max = 0;
	*v = t->wait.v;
	*n = t->wait.n;
}
