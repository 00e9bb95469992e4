#ifndef NATTER_DB_SYNCORDER_H
#define NATTER_DB_SYNCORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * The order of a sync read a conversation at a time (MariaDB reads each
 * conversation's range by its primary key; one query over all of them
 * read every conversation from its first message). Oldest first by the
 * store's order value (MariaDB: messages.ord, the storing node's clock),
 * but never a seq before a lower one of its conversation: two nodes'
 * clocks may disagree, and a client that acks a seq past one it was not
 * sent loses that one. So a message's key is the highest order value up
 * to its seq in its conversation; equal keys go by conversation, then
 * seq.
 */

/* One conversation's messages, next in the array after the previous. */
struct syncorder_part {
	size_t n;
	bool partial; /* more of it wait beyond these n */
};

/*
 * Sorts v[0..n), the parts' messages one part after another, each in seq
 * order, with ord[k] v[k]'s order value, and returns how many of the
 * first are the sync's: at most limit, and none that a partial part's
 * unread messages might precede. *more says whether any are left out or
 * unread. The caller frees v[ret..n); ord is not reordered.
 */
size_t syncorder_sort(struct store_msg *v, const int64_t *ord, size_t n,
                      const struct syncorder_part *parts, size_t nparts,
                      size_t limit, bool *more);

#endif
