#ifndef NATTER_SERVER_RELAY_MS_H
#define NATTER_SERVER_RELAY_MS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The cluster relay's batches of deliveries, read without json-c. A node
 * writes them as exactly
 *   {"n":NODE,"e":EPOCH,"k":"ms","m":[{"u":[UID,...],"f":FRAME},...]}
 * (relay.c), so the other nodes scan that shape and nothing else: any
 * other text, valid JSON or not, is left to json-c as before.
 */

/* One delivery: its users, uids[uid0 .. uid0 + nuid), and its frame. */
struct relay_ms_item {
	size_t uid0, nuid;
	const char *frame; /* the string's raw text in the batch */
	size_t len;
	bool escaped; /* frame holds escapes: jsonfast_unescape it */
};

/* A batch as read; its arrays are kept for the next one. */
struct relay_ms {
	const char *node; /* raw text in the batch, without escapes */
	size_t node_len;
	int64_t epoch;
	int64_t *uids;
	size_t nuids, uids_cap;
	struct relay_ms_item *items;
	size_t nitems, items_cap;
};

/*
 * Reads the len bytes at s into ms (pointing into s). Returns 0 if they
 * are a batch in the shape above, in UTF-8, with UIDs of at most 18
 * digits and a NODE without escapes; 1 for any other text.
 */
int relay_ms_read(const char *s, size_t len, struct relay_ms *ms);

/* Frees the arrays. */
void relay_ms_clear(struct relay_ms *ms);

#endif
