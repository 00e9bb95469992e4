#ifndef NATTER_SERVER_RELAY_MS_H
#define NATTER_SERVER_RELAY_MS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"

/*
 * The cluster relay's batches of deliveries: what a node stored in one
 * group commit, for the users on other nodes, as one Redis message. They
 * are binary, so that a frame goes in and comes out as it is: written as
 * a JSON string, each frame was escaped on the storing node (a sixth of
 * its DB writer's time) and unescaped on every other one (two fifths of
 * its relay thread's). The layout, integers little-endian:
 *
 *   batch = magic node epoch count item...  (count items, at least one)
 *   magic = 00 6e 62 31            ("\0nb1": no JSON text starts so)
 *   node  = u32 length, its bytes  (the node's name: UTF-8, no NUL)
 *   epoch = u64                    (at most INT64_MAX)
 *   count = u32                    (so that a batch cut short is refused)
 *   item  = u32 n, n x u64 user id, u32 length, the frame's bytes
 *
 * A frame is one protocol frame, its "\n" included. Other cluster
 * messages (presence, snapshots, and an older node's JSON batches) are
 * JSON, read with json-c.
 */

#define RELAY_MS_MAGIC "\0nb1"
#define RELAY_MS_MAGIC_LEN 4
#define RELAY_MS_COUNT_LEN 4 /* a head ends with its count */

/* One delivery: its users, uids[uid0 .. uid0 + nuid), and its frame. */
struct relay_ms_item {
	size_t uid0, nuid;
	const char *frame; /* in the batch */
	size_t len;
};

/* A batch as read; its arrays are kept for the next one. */
struct relay_ms {
	const char *node; /* in the batch, not NUL-terminated */
	size_t node_len;
	int64_t epoch;
	int64_t *uids;
	size_t nuids, uids_cap;
	struct relay_ms_item *items;
	size_t nitems, items_cap;
	size_t bad; /* deliveries left out: a user id or a frame not valid */
};

/* Whether the len bytes at s begin with the magic of a batch. */
bool relay_ms_is_batch(const char *s, size_t len);

/*
 * Appends a batch's head to o, with a count of 0: once the items follow,
 * relay_ms_set_count puts theirs.
 */
void relay_ms_put_head(struct codec_out *o, const char *node, size_t node_len,
                       int64_t epoch);

/* Puts count n in the head of head_len bytes that batch starts with. */
void relay_ms_set_count(char *batch, size_t head_len, size_t n);

/* The bytes a delivery to nuid users of a frame of len bytes takes. */
size_t relay_ms_item_size(size_t nuid, size_t len);

/* Writes that delivery at p, which has relay_ms_item_size bytes. */
void relay_ms_put_item(char *p, const int64_t *uids, size_t nuid,
                       const char *frame, size_t len);

/*
 * Reads the len bytes at s into ms (pointing into s). Returns 0 if they
 * are a batch; 1 if not (another magic, a length or count past the end or
 * short of it, no delivery, a delivery to no one, a node's name empty or
 * not UTF-8 or with a NUL, an epoch above INT64_MAX). A
 * delivery whose user ids are not all positive, or whose frame is not
 * valid UTF-8 ending in its only "\n", is left out and counted in
 * ms->bad: the others still go.
 */
int relay_ms_read(const char *s, size_t len, struct relay_ms *ms);

/* Frees the arrays. */
void relay_ms_clear(struct relay_ms *ms);

#endif
