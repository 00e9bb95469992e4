#ifndef NATTER_DB_SEQTAIL_H
#define NATTER_DB_SEQTAIL_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * The messages SQLite's msg_seqs does not list yet (those past
 * msg_seqs_floor), as its writer knows them, and the rounds that list them:
 * a round takes the messages waiting, sorts them by (conv, seq), so that a
 * conversation's rows go to its page of msg_seqs together, and hands them
 * out a slice at a time, one slice per transaction, so that no transaction
 * stops for all of them (store-sqlite.c says why). Not thread-safe: one
 * per connection.
 *
 * Messages must be added in increasing id order (ids are messages.id, the
 * commit order).
 */
struct seqtail;

/*
 * One message: its conversation's name (natterd's fit STORE_CONV_MAX) and
 * key (a, b), seq and id.
 */
struct seqtail_row {
	char conv[STORE_CONV_MAX];
	int64_t a, b;
	int64_t seq;
	int64_t id;
};

/* An empty tail. */
struct seqtail *seqtail_new(void);

/* Frees t; NULL is a no-op. */
void seqtail_free(struct seqtail *t);

/* Forgets every message and the round, if one runs. */
void seqtail_clear(struct seqtail *t);

/* Adds a copy of a message past the floor. */
void seqtail_add(struct seqtail *t, const struct seqtail_row *r);

/* The messages waiting, not in a round. */
size_t seqtail_waiting(const struct seqtail *t);

/*
 * If no round runs and at least n messages wait, starts one with all of
 * them. Returns the newest id of the running round, or 0 if none runs.
 */
int64_t seqtail_round(struct seqtail *t, size_t n);

/*
 * The next slice of the running round, at *v in (conv, seq) order, valid
 * until the next call: up to n rows, and twice as many as were added
 * since the last slice (or the round's start) besides, so that rounds
 * keep up however many messages a transaction holds; 0 once the round is
 * handed out.
 */
size_t seqtail_slice(struct seqtail *t, size_t n, const struct seqtail_row **v);

/*
 * Ends the running round (its rows listed, the floor moved to its newest
 * id): they leave the tail. The waiting rows, those after it, are then at
 * *v (*n of them), valid until the next call.
 */
void seqtail_round_end(struct seqtail *t, const struct seqtail_row **v,
                       size_t *n);

#endif
