#ifndef NATTER_DB_SEQTAB_H
#define NATTER_DB_SEQTAB_H

#include <stddef.h>
#include <stdint.h>

/*
 * The last seq of recent conversations, in memory: SQLite's writer takes a
 * conversation's next seq from here instead of reading the end of its
 * (conv, seq) range for every message (store-sqlite.c says when it may).
 * A conversation is a pair of numbers: (lower user, higher user) for a
 * direct one, (0, group) for a group's. Fixed size, direct-mapped: a new
 * conversation takes the slot of an old one, which is then read again.
 * Not thread-safe: one per connection.
 */
struct seqtab;

/* An empty table of at least slots entries (rounded up to a power of 2). */
struct seqtab *seqtab_new(size_t slots);

/* Frees t; NULL is a no-op. */
void seqtab_free(struct seqtab *t);

/* Forgets every conversation (after a rollback). */
void seqtab_clear(struct seqtab *t);

/* The last seq noted for (a, b), or 0 if none is. */
int64_t seqtab_find(const struct seqtab *t, int64_t a, int64_t b);

/* Notes seq (> 0) as the last of (a, b), in place of what its slot held. */
void seqtab_set(struct seqtab *t, int64_t a, int64_t b, int64_t seq);

/* Forgets (a, b), if it is noted. */
void seqtab_forget(struct seqtab *t, int64_t a, int64_t b);

#endif
