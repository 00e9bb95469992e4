/* The cluster relay's batches of deliveries (relay-ms.h). */
#include <stdlib.h>
#include <string.h>

#include "relay-ms.h"
#include "utf8.h"
#include "xmalloc.h"

/* --- writing --- */

static void
relay_ms_put32(char *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = (char)(v >> (8 * i));
}

static void
relay_ms_put64(char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (char)(v >> (8 * i));
}

bool
relay_ms_is_batch(const char *s, size_t len)
{
	return len >= RELAY_MS_MAGIC_LEN &&
	       memcmp(s, RELAY_MS_MAGIC, RELAY_MS_MAGIC_LEN) == 0;
}

void
relay_ms_put_head(struct codec_out *o, const char *node, size_t node_len,
                  int64_t epoch)
{
	char n[12];

	relay_ms_put32(n, (uint32_t)node_len);
	codec_out_bytes(o, RELAY_MS_MAGIC, RELAY_MS_MAGIC_LEN);
	codec_out_bytes(o, n, 4);
	codec_out_bytes(o, node, node_len);
	relay_ms_put64(n, (uint64_t)epoch);
	relay_ms_put32(n + 8, 0);
	codec_out_bytes(o, n, 8 + RELAY_MS_COUNT_LEN);
}

void
relay_ms_set_count(char *batch, size_t head_len, size_t n)
{
	relay_ms_put32(batch + head_len - RELAY_MS_COUNT_LEN, (uint32_t)n);
}

size_t
relay_ms_item_size(size_t nuid, size_t len)
{
	return 4 + 8 * nuid + 4 + len;
}

/* The u32s cannot overflow: a frame and its users are far below 4 GiB. */
void
relay_ms_put_item(char *p, const int64_t *uids, size_t nuid, const char *frame,
                  size_t len)
{
	size_t i;

	relay_ms_put32(p, (uint32_t)nuid);
	p += 4;
	for (i = 0; i < nuid; i++, p += 8)
		relay_ms_put64(p, (uint64_t)uids[i]);
	relay_ms_put32(p, (uint32_t)len);
	memcpy(p + 4, frame, len);
}

/* --- reading --- */

/* What is left of a batch being read. */
struct relay_ms_cursor {
	const unsigned char *p, *end;
};

static bool
relay_ms_get32(struct relay_ms_cursor *c, size_t *v)
{
	int i;

	if (c->end - c->p < 4)
		return false;
	for (*v = 0, i = 0; i < 4; i++)
		*v |= (size_t)c->p[i] << (8 * i);
	c->p += 4;
	return true;
}

static bool
relay_ms_get64(struct relay_ms_cursor *c, uint64_t *v)
{
	int i;

	if (c->end - c->p < 8)
		return false;
	for (*v = 0, i = 0; i < 8; i++)
		*v |= (uint64_t)c->p[i] << (8 * i);
	c->p += 8;
	return true;
}

/* Points *s at the next n bytes. */
static bool
relay_ms_get_bytes(struct relay_ms_cursor *c, size_t n, const char **s)
{
	if ((size_t)(c->end - c->p) < n)
		return false;
	*s = (const char *)c->p;
	c->p += n;
	return true;
}

/* A node's name: what relay.c compares as a C string, and logs. */
static bool
relay_ms_node_valid(const char *node, size_t len)
{
	return len > 0 && memchr(node, '\0', len) == NULL &&
	       utf8_valid(node, len);
}

/* A frame as a node sends one: UTF-8, ending in its only "\n". */
static bool
relay_ms_frame_valid(const char *f, size_t len)
{
	return len > 0 && f[len - 1] == '\n' &&
	       memchr(f, '\n', len - 1) == NULL && utf8_valid(f, len);
}

/*
 * Reads one delivery and keeps it, or counts it bad: false only if it
 * does not fit the batch.
 */
static bool
relay_ms_read_item(struct relay_ms_cursor *c, struct relay_ms *ms)
{
	struct relay_ms_item it = {.uid0 = ms->nuids};
	bool valid = true;
	uint64_t uid;
	size_t i;

	/* the bound keeps a forged count from growing uids past the batch */
	if (!relay_ms_get32(c, &it.nuid) || it.nuid == 0 ||
	    (size_t)(c->end - c->p) / 8 < it.nuid)
		return false;
	while (ms->uids_cap < ms->nuids + it.nuid)
		ms->uids = xgrow(ms->uids, ms->uids_cap, &ms->uids_cap,
		                 sizeof(*ms->uids));
	for (i = 0; i < it.nuid; i++) {
		if (!relay_ms_get64(c, &uid))
			return false;
		valid = valid && uid > 0 && uid <= INT64_MAX;
		ms->uids[ms->nuids + i] = (int64_t)uid;
	}
	if (!relay_ms_get32(c, &it.len) ||
	    !relay_ms_get_bytes(c, it.len, &it.frame))
		return false;
	if (!valid || !relay_ms_frame_valid(it.frame, it.len)) {
		ms->bad++;
		return true;
	}
	ms->nuids += it.nuid;
	ms->items =
	    xgrow(ms->items, ms->nitems, &ms->items_cap, sizeof(*ms->items));
	ms->items[ms->nitems++] = it;
	return true;
}

int
relay_ms_read(const char *s, size_t len, struct relay_ms *ms)
{
	struct relay_ms_cursor c = {(const unsigned char *)s,
	                            (const unsigned char *)s + len};
	uint64_t epoch;
	size_t count, i;

	ms->nuids = ms->nitems = ms->bad = 0;
	if (!relay_ms_is_batch(s, len))
		return 1;
	c.p += RELAY_MS_MAGIC_LEN;
	if (!relay_ms_get32(&c, &ms->node_len) ||
	    !relay_ms_get_bytes(&c, ms->node_len, &ms->node) ||
	    !relay_ms_node_valid(ms->node, ms->node_len) ||
	    !relay_ms_get64(&c, &epoch) || epoch > INT64_MAX ||
	    !relay_ms_get32(&c, &count) || count == 0)
		return 1;
	ms->epoch = (int64_t)epoch;
	for (i = 0; i < count; i++)
		if (!relay_ms_read_item(&c, ms))
			return 1;
	return c.p == c.end ? 0 : 1;
}

void
relay_ms_clear(struct relay_ms *ms)
{
	free(ms->uids);
	free(ms->items);
	*ms = (struct relay_ms){0};
}
