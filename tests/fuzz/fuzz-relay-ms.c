/*
 * Differential libFuzzer target for server/relay-ms.c: whatever text
 * relay_ms_read takes as a batch of deliveries, codec_parse (what the
 * relay reads any other cluster message with) must take too, with the
 * same node, epoch, users and frames. The input is one Redis payload.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec.h"
#include "jsonfast.h"
#include "relay-ms.h"

#define FUZZ_DEPTH 6 /* relay.c's RELAY_MAX_DEPTH */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run: relay_ms_read took a text that json-c reads otherwise. */
static void
fuzz_relay_ms_fail(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "fuzz-relay-ms: %s\ntext: %.*s\n", what, (int)len, s);
	abort();
}

/* The string v equals the raw text (s, n), unescaped if escaped. */
static bool
fuzz_same_string(struct json_object *v, const char *s, size_t n, bool escaped)
{
	char *buf;
	bool same;

	if (!json_object_is_type(v, json_type_string))
		return false;
	buf = malloc(n + 1);
	if (escaped)
		n = jsonfast_unescape(s, n, buf);
	else
		memcpy(buf, s, n);
	same = (size_t)json_object_get_string_len(v) == n &&
	       memcmp(json_object_get_string(v), buf, n) == 0;
	free(buf);
	return same;
}

/* Delivery i as json-c read it: {"u":[...],"f":"..."}. */
static bool
fuzz_same_item(struct json_object *o, const struct relay_ms *ms, size_t i)
{
	const struct relay_ms_item *it = &ms->items[i];
	struct json_object *u, *f, *id;
	size_t k;

	if (!json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) != 2 ||
	    !json_object_object_get_ex(o, "u", &u) ||
	    !json_object_object_get_ex(o, "f", &f) ||
	    !json_object_is_type(u, json_type_array) ||
	    json_object_array_length(u) != it->nuid)
		return false;
	for (k = 0; k < it->nuid; k++) {
		id = json_object_array_get_idx(u, k);
		if (!json_object_is_type(id, json_type_int) ||
		    json_object_get_int64(id) != ms->uids[it->uid0 + k])
			return false;
	}
	return fuzz_same_string(f, it->frame, it->len, it->escaped);
}

/* The whole batch as json-c read it. */
static bool
fuzz_same_batch(struct json_object *o, const struct relay_ms *ms)
{
	struct json_object *n, *e, *k, *m;
	size_t i;

	if (json_object_object_length(o) != 4 ||
	    !json_object_object_get_ex(o, "n", &n) ||
	    !json_object_object_get_ex(o, "e", &e) ||
	    !json_object_object_get_ex(o, "k", &k) ||
	    !json_object_object_get_ex(o, "m", &m) ||
	    !fuzz_same_string(n, ms->node, ms->node_len, false) ||
	    !json_object_is_type(e, json_type_int) ||
	    json_object_get_int64(e) != ms->epoch ||
	    !fuzz_same_string(k, "ms", 2, false) ||
	    !json_object_is_type(m, json_type_array) ||
	    json_object_array_length(m) != ms->nitems)
		return false;
	for (i = 0; i < ms->nitems; i++)
		if (!fuzz_same_item(json_object_array_get_idx(m, i), ms, i))
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct relay_ms ms = {0};
	struct json_object *o = NULL;

	if (relay_ms_read(s, size, &ms) == 0) {
		if (codec_parse(s, size, FUZZ_DEPTH, &o) != 0)
			fuzz_relay_ms_fail("json-c refuses it", s, size);
		if (!fuzz_same_batch(o, &ms))
			fuzz_relay_ms_fail("json-c reads it otherwise", s,
			                   size);
		json_object_put(o);
	}
	relay_ms_clear(&ms);
	return 0;
}
