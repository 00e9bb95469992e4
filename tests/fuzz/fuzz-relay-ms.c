/*
 * libFuzzer target for server/relay-ms.c's reader. The input is one Redis
 * payload: relay_ms_read takes any bytes without a crash, and what it
 * reads as a batch is what relay.c would have written. Written again with
 * relay_ms_put_head and relay_ms_put_item, a batch is the same bytes when
 * no delivery was left out; otherwise its kept deliveries make a batch
 * that reads back as they are, with none left out.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "relay-ms.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run on a batch read or written back wrong. */
static void
fuzz_relay_ms_fail(const char *what, const char *s, size_t len)
{
	size_t i;

	fprintf(stderr, "fuzz-relay-ms: %s\ninput:", what);
	for (i = 0; i < len; i++)
		fprintf(stderr, " %02x", (unsigned char)s[i]);
	fprintf(stderr, "\n");
	abort();
}

/* The batch ms was read from, as relay.c writes one: the caller frees. */
static char *
fuzz_relay_ms_write(const struct relay_ms *ms, size_t *len)
{
	const struct relay_ms_item *it;
	struct codec_out o = {0};
	size_t i, n, head;
	char *p;

	relay_ms_put_head(&o, ms->node, ms->node_len, ms->epoch);
	head = o.len;
	for (i = 0; i < ms->nitems; i++) {
		it = &ms->items[i];
		n = relay_ms_item_size(it->nuid, it->len);
		p = xmalloc(n);
		relay_ms_put_item(p, ms->uids + it->uid0, it->nuid, it->frame,
		                  it->len);
		codec_out_bytes(&o, p, n);
		free(p);
	}
	relay_ms_set_count(o.buf, head, ms->nitems);
	return codec_out_take(&o, len);
}

/* Whether a and b hold the same node, epoch and deliveries. */
static bool
fuzz_relay_ms_same(const struct relay_ms *a, const struct relay_ms *b)
{
	const struct relay_ms_item *x, *y;
	size_t i;

	if (a->node_len != b->node_len ||
	    memcmp(a->node, b->node, a->node_len) != 0 ||
	    a->epoch != b->epoch || a->nitems != b->nitems)
		return false;
	for (i = 0; i < a->nitems; i++) {
		x = &a->items[i];
		y = &b->items[i];
		if (x->nuid != y->nuid || x->len != y->len ||
		    memcmp(a->uids + x->uid0, b->uids + y->uid0,
		           x->nuid * sizeof(*a->uids)) != 0 ||
		    memcmp(x->frame, y->frame, x->len) != 0)
			return false;
	}
	return true;
}

/*
 * Writes ms back and reads that again. With every delivery left out, the
 * head alone is no batch.
 */
static void
fuzz_relay_ms_check(const struct relay_ms *ms, const char *s, size_t len)
{
	struct relay_ms again = {0};
	size_t wlen;
	char *w = fuzz_relay_ms_write(ms, &wlen);
	int r = relay_ms_read(w, wlen, &again);

	if (!relay_ms_is_batch(s, len))
		fuzz_relay_ms_fail("read without the magic", s, len);
	if (ms->bad == 0 && (wlen != len || memcmp(w, s, len) != 0))
		fuzz_relay_ms_fail("written back otherwise", s, len);
	if (ms->nitems == 0 && r != 1)
		fuzz_relay_ms_fail("a head alone read back", s, len);
	if (ms->nitems > 0 &&
	    (r != 0 || again.bad != 0 || !fuzz_relay_ms_same(ms, &again)))
		fuzz_relay_ms_fail("read back otherwise", s, len);
	relay_ms_clear(&again);
	free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct relay_ms ms = {0};

	if (relay_ms_read(s, size, &ms) == 0)
		fuzz_relay_ms_check(&ms, s, size);
	relay_ms_clear(&ms);
	return 0;
}
