/* The cluster relay's batches of deliveries, read in place (relay-ms.h). */
#include <stdlib.h>

#include "jsonfast.h"
#include "relay-ms.h"
#include "utf8.h"
#include "xmalloc.h"

/* Appends a user to the batch's list. */
static void
relay_ms_add_uid(struct relay_ms *ms, int64_t uid)
{
	ms->uids = xgrow(ms->uids, ms->nuids, &ms->uids_cap, sizeof(*ms->uids));
	ms->uids[ms->nuids++] = uid;
}

/* Appends a delivery and returns it. */
static struct relay_ms_item *
relay_ms_add_item(struct relay_ms *ms)
{
	ms->items =
	    xgrow(ms->items, ms->nitems, &ms->items_cap, sizeof(*ms->items));
	return &ms->items[ms->nitems++];
}

/* {"u":[UID,...],"f":FRAME}; UIDs positive. */
static bool
relay_ms_read_item(struct jsonfast_cursor *c, struct relay_ms *ms)
{
	struct relay_ms_item *it = relay_ms_add_item(ms);
	int64_t uid;

	it->uid0 = ms->nuids;
	if (!jsonfast_next_lit(c, "{\"u\":["))
		return false;
	do {
		if (!jsonfast_next_int(c, &uid) || uid <= 0)
			return false;
		relay_ms_add_uid(ms, uid);
	} while (jsonfast_next_lit(c, ","));
	it->nuid = ms->nuids - it->uid0;
	return jsonfast_next_lit(c, "],\"f\":") &&
	       jsonfast_next_string(c, &it->frame, &it->len, &it->escaped) &&
	       jsonfast_next_lit(c, "}");
}

int
relay_ms_read(const char *s, size_t len, struct relay_ms *ms)
{
	struct jsonfast_cursor c = {s, s + len};
	bool escaped;

	ms->nuids = ms->nitems = 0;
	if (!jsonfast_next_lit(&c, "{\"n\":") ||
	    !jsonfast_next_string(&c, &ms->node, &ms->node_len, &escaped) ||
	    escaped || !jsonfast_next_lit(&c, ",\"e\":") ||
	    !jsonfast_next_int(&c, &ms->epoch) || ms->epoch < 0 ||
	    !jsonfast_next_lit(&c, ",\"k\":\"ms\",\"m\":["))
		return 1;
	do {
		if (!relay_ms_read_item(&c, ms))
			return 1;
	} while (jsonfast_next_lit(&c, ","));
	if (!jsonfast_next_lit(&c, "]}") || c.p != c.end)
		return 1;
	return utf8_valid(s, len) ? 0 : 1; /* as codec_parse checks */
}

void
relay_ms_clear(struct relay_ms *ms)
{
	free(ms->uids);
	free(ms->items);
	*ms = (struct relay_ms){0};
}
