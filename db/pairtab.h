#ifndef NATTER_DB_PAIRTAB_H
#define NATTER_DB_PAIRTAB_H

#include <stddef.h>
#include <stdint.h>

/*
 * A value (non-zero) for each of recent pairs of numbers, in memory, as
 * SQLite's writer keeps what it would otherwise read for every message: a
 * conversation's last seq, by (lower user, higher user) for a direct one
 * and (0, group) for a group's; and the friendships it found, by (lower
 * user, higher user). store-sqlite.c says when each may be trusted. Fixed
 * size, direct-mapped: a new pair takes the slot of an old one, which is
 * then read again. Not thread-safe: one per connection.
 *
 * An exact table (pairtab_new_exact) keeps every pair set until it is
 * forgotten or cleared, and grows to hold them (open addressing), for
 * what must be known for sure: the last seqs of the conversations that
 * msg_seqs does not list yet.
 */
struct pairtab;

/* An empty table of at least slots entries (rounded up to a power of 2). */
struct pairtab *pairtab_new(size_t slots);

/* An empty exact table, room for slots / 2 pairs before it grows. */
struct pairtab *pairtab_new_exact(size_t slots);

/* Frees t; NULL is a no-op. */
void pairtab_free(struct pairtab *t);

/* Forgets every pair (after a rollback, say). */
void pairtab_clear(struct pairtab *t);

/* The value noted for (a, b), or 0 if none is. */
int64_t pairtab_find(const struct pairtab *t, int64_t a, int64_t b);

/* Notes v (non-zero) for (a, b), in place of what its slot held. */
void pairtab_set(struct pairtab *t, int64_t a, int64_t b, int64_t v);

/* Forgets (a, b), if it is noted. */
void pairtab_forget(struct pairtab *t, int64_t a, int64_t b);

#endif
