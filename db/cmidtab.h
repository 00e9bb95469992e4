#ifndef NATTER_DB_CMIDTAB_H
#define NATTER_DB_CMIDTAB_H

#include <stddef.h>
#include <stdint.h>

/*
 * The client message ids (cmids) of recent messages, in memory, by sender:
 * SQLite's writer keeps here the cmids it has not yet written to its
 * msg_cmids table, and writes them out a sender at a time, so that the
 * table's index gets many entries per page written instead of one page per
 * message (store-sqlite.c says why). Not thread-safe: one per connection.
 *
 * Entries must be added in increasing id order (ids are messages.id, the
 * commit order). A sender's entries leave together, by cmidtab_take: once
 * it has its due count of them, or once its oldest is old enough.
 *
 * The due count is per_sender, give or take spread / 2: drawn afresh each
 * time a sender starts over, from a hash of the sender and its first id.
 * Senders who send in step (a benchmark's round robin, or clients started
 * together) would otherwise all fall due in the same few batches, and the
 * writer would write their entries back to back.
 */
struct cmidtab;

/* One entry handed out by cmidtab_take; cmid is owned by the array. */
struct cmidtab_entry {
	int64_t sender;
	int64_t id;
	char *cmid;
};

/*
 * An empty table; a sender's entries are due at per_sender (>= 1), give
 * or take spread / 2 (0: exactly; at most per_sender).
 */
struct cmidtab *cmidtab_new(size_t per_sender, size_t spread);

/* Frees t and its entries; NULL is a no-op. */
void cmidtab_free(struct cmidtab *t);

/* Forgets every entry (after a rollback: the caller reloads). */
void cmidtab_clear(struct cmidtab *t);

/* Adds (sender, cmid) -> id; cmid is copied. id must exceed every id added. */
void cmidtab_add(struct cmidtab *t, int64_t sender, const char *cmid,
                 int64_t id);

/* The id of sender's entry with cmid, or 0 if none. */
int64_t cmidtab_find(const struct cmidtab *t, int64_t sender, const char *cmid);

/* How many entries it holds. */
size_t cmidtab_count(const struct cmidtab *t);

/* The smallest id it holds, or 0 if it is empty. */
int64_t cmidtab_min_id(struct cmidtab *t);

/*
 * Removes entries that are due and returns how many: every entry of a
 * sender that has its due count or more, and of a sender whose oldest id is
 * at most old_id, oldest due first. It stops once it has max or more (a
 * sender's entries leave together); the rest stay due for the next call.
 * *out (NULL if none) holds them grouped by sender, each sender's sorted by
 * cmid; free it with cmidtab_entries_free.
 */
size_t cmidtab_take(struct cmidtab *t, int64_t old_id, size_t max,
                    struct cmidtab_entry **out);

/* Frees what cmidtab_take returned; NULL is a no-op. */
void cmidtab_entries_free(struct cmidtab_entry *v, size_t n);

#endif
