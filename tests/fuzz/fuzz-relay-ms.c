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
#include "../unit/relay-ms-ref.h"

#define FUZZ_DEPTH 6 /* relay.c's RELAY_MAX_DEPTH */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run: relay_ms_read took a text that json-c reads otherwise. */
static void
fuzz_relay_ms_fail(const char *what, const char *s, size_t len)
{
	fprintf(stderr, "fuzz-relay-ms: %s\ntext: %.*s\n", what, (int)len, s);
	abort();
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
		if (!relay_ms_ref_batch(o, &ms))
			fuzz_relay_ms_fail("json-c reads it otherwise", s,
			                   size);
		json_object_put(o);
	}
	relay_ms_clear(&ms);
	return 0;
}
