/*
 * Pending cmids by sender (cmidtab.h). Senders are found by an
 * open-addressing table (linear probing, deletion by backward shift); a
 * sender's entries are a vector in id order, found through a second such
 * table of their positions (by cmid hash, never deleted from: a sender's
 * entries leave together). Two queues say what is due:
 * `due`, the senders that reached their due count, and `oldest`, each sender's
 * first entry in id order (a mark goes stale when its sender's entries
 * leave; it is dropped when it reaches the front).
 */
#include "cmidtab.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct cmidtab_item {
	int64_t id;
	uint32_t hash;
	char *cmid; /* owned */
};

struct cmidtab_sender {
	int64_t sender;
	struct cmidtab_item *v; /* in id order */
	size_t n, cap;
	size_t due_at; /* n at which it is due (cmidtab_due_at) */
	uint32_t *idx; /* nidx slots, a power of 2: v's index + 1; 0: free */
	size_t nidx;
};

/* A sender's first entry when it had none before. */
struct cmidtab_mark {
	int64_t sender, id;
};

struct cmidtab {
	struct cmidtab_sender **slot; /* nslot, a power of 2; NULL: free */
	size_t nslot, nsender, count, per_sender, spread;
	struct cmidtab_mark *oldest; /* a ring: head, len, cap */
	size_t ohead, olen, ocap;
	int64_t *due; /* senders that reached due_at, from dhead */
	size_t dhead, ndue, capdue;
};

/* FNV-1a: cheap, and only compared before the bytes. */
static uint32_t
cmidtab_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static size_t
cmidtab_home(const struct cmidtab *t, int64_t sender)
{
	uint64_t x = (uint64_t)sender * 0x9e3779b97f4a7c15ull;

	return (size_t)(x >> 32) & (t->nslot - 1);
}

/* The slot of sender, or the free slot where it would go. */
static size_t
cmidtab_slot(const struct cmidtab *t, int64_t sender)
{
	size_t i = cmidtab_home(t, sender);

	while (t->slot[i] != NULL && t->slot[i]->sender != sender)
		i = (i + 1) & (t->nslot - 1);
	return i;
}

/*
 * A sender's due count for entries starting at first_id: per_sender
 * moved by up to spread / 2 either way, from a hash of both (a sender's
 * count changes from one round to the next, so senders in step drift
 * apart even if two hash alike once).
 */
static size_t
cmidtab_due_at(const struct cmidtab *t, int64_t sender, int64_t first_id)
{
	uint64_t x = (uint64_t)sender * 0x9e3779b97f4a7c15ull ^
	             (uint64_t)first_id * 0xc2b2ae3d27d4eb4full;

	if (t->spread == 0)
		return t->per_sender;
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return t->per_sender - t->spread / 2 + (size_t)(x % (t->spread + 1));
}

struct cmidtab *
cmidtab_new(size_t per_sender, size_t spread)
{
	struct cmidtab *t = xcalloc(1, sizeof(*t));

	t->per_sender = per_sender > 0 ? per_sender : 1;
	t->spread = spread < t->per_sender ? spread : t->per_sender;
	t->nslot = 64;
	t->slot = xcalloc(t->nslot, sizeof(*t->slot));
	return t;
}

static void
cmidtab_sender_free(struct cmidtab_sender *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].cmid);
	free(s->v);
	free(s->idx);
	free(s);
}

void
cmidtab_clear(struct cmidtab *t)
{
	size_t i;

	for (i = 0; i < t->nslot; i++) {
		if (t->slot[i] != NULL)
			cmidtab_sender_free(t->slot[i]);
		t->slot[i] = NULL;
	}
	t->nsender = t->count = 0;
	t->ohead = t->olen = 0;
	t->dhead = t->ndue = 0;
}

void
cmidtab_free(struct cmidtab *t)
{
	if (t == NULL)
		return;
	cmidtab_clear(t);
	free(t->slot);
	free(t->oldest);
	free(t->due);
	free(t);
}

/* Twice the slots once they are half full, every sender placed again. */
static void
cmidtab_rehash(struct cmidtab *t)
{
	struct cmidtab_sender **old = t->slot;
	size_t i, n = t->nslot;

	t->nslot *= 2;
	t->slot = xcalloc(t->nslot, sizeof(*t->slot));
	for (i = 0; i < n; i++)
		if (old[i] != NULL)
			t->slot[cmidtab_slot(t, old[i]->sender)] = old[i];
	free(old);
}

/* Appends a mark to the ring of first entries, growing it when full. */
static void
cmidtab_mark_push(struct cmidtab *t, int64_t sender, int64_t id)
{
	struct cmidtab_mark *v;
	size_t i;

	if (t->olen == t->ocap) {
		v = xcalloc(t->ocap ? t->ocap * 2 : 64, sizeof(*v));
		for (i = 0; i < t->olen; i++)
			v[i] = t->oldest[(t->ohead + i) % t->ocap];
		free(t->oldest);
		t->oldest = v;
		t->ocap = t->ocap ? t->ocap * 2 : 64;
		t->ohead = 0;
	}
	t->oldest[(t->ohead + t->olen++) % t->ocap] =
	    (struct cmidtab_mark){sender, id};
}

/* Records that v[k] is in s->idx. */
static void
cmidtab_index_put(struct cmidtab_sender *s, size_t k)
{
	size_t i = s->v[k].hash & (s->nidx - 1);

	while (s->idx[i] != 0)
		i = (i + 1) & (s->nidx - 1);
	s->idx[i] = (uint32_t)k + 1;
}

/* Room in s->idx for one more entry: kept at most half full. */
static void
cmidtab_index_grow(struct cmidtab_sender *s)
{
	size_t k;

	if ((s->n + 1) * 2 <= s->nidx)
		return;
	free(s->idx);
	s->nidx = s->nidx ? s->nidx * 2 : 16;
	s->idx = xcalloc(s->nidx, sizeof(*s->idx));
	for (k = 0; k < s->n; k++)
		cmidtab_index_put(s, k);
}

void
cmidtab_add(struct cmidtab *t, int64_t sender, const char *cmid, int64_t id)
{
	struct cmidtab_sender *s;
	size_t i = cmidtab_slot(t, sender);

	if ((s = t->slot[i]) == NULL) {
		s = t->slot[i] = xcalloc(1, sizeof(*s));
		s->sender = sender;
		if (++t->nsender * 2 > t->nslot)
			cmidtab_rehash(t);
	}
	if (s->n == 0) {
		cmidtab_mark_push(t, sender, id);
		s->due_at = cmidtab_due_at(t, sender, id);
	}
	cmidtab_index_grow(s);
	s->v = xgrow(s->v, s->n, &s->cap, sizeof(*s->v));
	s->v[s->n] =
	    (struct cmidtab_item){id, cmidtab_hash(cmid), xstrdup(cmid)};
	cmidtab_index_put(s, s->n++);
	t->count++;
	if (s->n == s->due_at) {
		t->due = xgrow(t->due, t->ndue, &t->capdue, sizeof(*t->due));
		t->due[t->ndue++] = sender;
	}
}

int64_t
cmidtab_find(const struct cmidtab *t, int64_t sender, const char *cmid)
{
	const struct cmidtab_sender *s = t->slot[cmidtab_slot(t, sender)];
	const struct cmidtab_item *v;
	uint32_t h = cmidtab_hash(cmid);
	size_t i;

	if (s == NULL || s->nidx == 0)
		return 0;
	for (i = h & (s->nidx - 1); s->idx[i] != 0;
	     i = (i + 1) & (s->nidx - 1)) {
		v = &s->v[s->idx[i] - 1];
		if (v->hash == h && strcmp(v->cmid, cmid) == 0)
			return v->id;
	}
	return 0;
}

size_t
cmidtab_count(const struct cmidtab *t)
{
	return t->count;
}

/* Whether mark m still names its sender's first entry. */
static bool
cmidtab_mark_live(const struct cmidtab *t, const struct cmidtab_mark *m)
{
	const struct cmidtab_sender *s = t->slot[cmidtab_slot(t, m->sender)];

	return s != NULL && s->n > 0 && s->v[0].id == m->id;
}

/* The front mark, stale ones dropped first; NULL if none is left. */
static const struct cmidtab_mark *
cmidtab_mark_front(struct cmidtab *t)
{
	while (t->olen > 0 && !cmidtab_mark_live(t, &t->oldest[t->ohead])) {
		t->ohead = (t->ohead + 1) % t->ocap;
		t->olen--;
	}
	return t->olen > 0 ? &t->oldest[t->ohead] : NULL;
}

int64_t
cmidtab_min_id(struct cmidtab *t)
{
	const struct cmidtab_mark *m = cmidtab_mark_front(t);

	return m != NULL ? m->id : 0;
}

/* Removes slot i's sender, shifting back the run of slots after it. */
static void
cmidtab_unslot(struct cmidtab *t, size_t i)
{
	size_t j = i, home, mask = t->nslot - 1;

	t->slot[i] = NULL;
	for (;;) {
		j = (j + 1) & mask;
		if (t->slot[j] == NULL)
			break;
		home = cmidtab_home(t, t->slot[j]->sender);
		/* j's entry may move to i unless its home lies in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slot[i] = t->slot[j];
			t->slot[j] = NULL;
			i = j;
		}
	}
	t->nsender--;
}

static int
cmidtab_item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cmidtab_item *)a)->cmid,
	              ((const struct cmidtab_item *)b)->cmid);
}

/* Moves every entry of sender to the end of *out (room made by *cap). */
static void
cmidtab_take_sender(struct cmidtab *t, int64_t sender,
                    struct cmidtab_entry **out, size_t *n, size_t *cap)
{
	size_t i = cmidtab_slot(t, sender), k;
	struct cmidtab_sender *s = t->slot[i];

	if (s == NULL)
		return;
	/* s->idx goes stale: s is freed below. */
	qsort(s->v, s->n, sizeof(*s->v), cmidtab_item_cmp);
	for (k = 0; k < s->n; k++) {
		*out = xgrow(*out, *n, cap, sizeof(**out));
		(*out)[(*n)++] =
		    (struct cmidtab_entry){sender, s->v[k].id, s->v[k].cmid};
	}
	t->count -= s->n;
	s->n = 0; /* the strings are *out's now */
	cmidtab_sender_free(s);
	cmidtab_unslot(t, i);
}

size_t
cmidtab_take(struct cmidtab *t, int64_t old_id, size_t max,
             struct cmidtab_entry **out)
{
	const struct cmidtab_mark *m;
	size_t n = 0, cap = 0;
	const struct cmidtab_sender *s;
	int64_t sender;

	*out = NULL;
	while (n < max && (m = cmidtab_mark_front(t)) != NULL &&
	       m->id <= old_id)
		cmidtab_take_sender(t, m->sender, out, &n, &cap);
	while (n < max && t->dhead < t->ndue) {
		sender = t->due[t->dhead++];
		s = t->slot[cmidtab_slot(t, sender)];
		/* It may have left by age since, and come back fewer. */
		if (s != NULL && s->n >= s->due_at)
			cmidtab_take_sender(t, sender, out, &n, &cap);
	}
	if (t->dhead > 0) {
		memmove(t->due, t->due + t->dhead,
		        (t->ndue - t->dhead) * sizeof(*t->due));
		t->ndue -= t->dhead;
		t->dhead = 0;
	}
	return n;
}

void
cmidtab_entries_free(struct cmidtab_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].cmid);
	free(v);
}
