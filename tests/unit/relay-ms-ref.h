#ifndef NATTER_TESTS_RELAY_MS_REF_H
#define NATTER_TESTS_RELAY_MS_REF_H

/*
 * The reference that server/relay-ms.c is held to, for its unit test and
 * its differential fuzzer (which includes this as "../unit/..."): the
 * batch json-c builds from the same text, compared member by member.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsonfast.h"
#include "relay-ms.h"

/* The string v equals the raw text (s, n), unescaped if escaped. */
static bool
relay_ms_ref_string(struct json_object *v, const char *s, size_t n,
                    bool escaped)
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
relay_ms_ref_item(struct json_object *o, const struct relay_ms *ms, size_t i)
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
	return relay_ms_ref_string(f, it->frame, it->len, it->escaped);
}

/* The whole batch: what relay_ms_read found in the text json-c read as o. */
static bool
relay_ms_ref_batch(struct json_object *o, const struct relay_ms *ms)
{
	struct json_object *n, *e, *k, *m;
	size_t i;

	if (json_object_object_length(o) != 4 ||
	    !json_object_object_get_ex(o, "n", &n) ||
	    !json_object_object_get_ex(o, "e", &e) ||
	    !json_object_object_get_ex(o, "k", &k) ||
	    !json_object_object_get_ex(o, "m", &m) ||
	    !relay_ms_ref_string(n, ms->node, ms->node_len, false) ||
	    !json_object_is_type(e, json_type_int) ||
	    json_object_get_int64(e) != ms->epoch ||
	    !relay_ms_ref_string(k, "ms", 2, false) ||
	    !json_object_is_type(m, json_type_array) ||
	    json_object_array_length(m) != ms->nitems)
		return false;
	for (i = 0; i < ms->nitems; i++)
		if (!relay_ms_ref_item(json_object_array_get_idx(m, i), ms, i))
			return false;
	return true;
}

#endif
