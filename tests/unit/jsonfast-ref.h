#ifndef NATTER_TESTS_JSONFAST_REF_H
#define NATTER_TESTS_JSONFAST_REF_H

/*
 * The reference that shared/jsonfast.c is held to, for its unit test and
 * its differential fuzzer (which includes this as "../unit/..."): json-c
 * parsing as codec_reader_parse sets it up, and a member-by-member
 * comparison of two objects.
 */
#include <json-c/json.h>
#include "jsonfast.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* json-c's object for s as codec_reader_parse gets it; NULL if refused. */
static struct json_object *
jsonfast_ref_parse(const char *s, size_t len, int max_depth)
{
	struct json_tokener *tok = json_tokener_new_ex(max_depth);
	struct json_object *obj;
	size_t i;

	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	                                JSON_TOKENER_ALLOW_TRAILING_CHARS);
	obj = json_tokener_parse_ex(tok, s, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
	}
	/* Nothing but JSON white space after the object. */
	for (i = json_tokener_get_parse_end(tok); obj != NULL && i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
		    s[i] != '\n') {
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

/* Whether a and b hold the same keys in the same order, of equal types. */
static bool
jsonfast_ref_same_shape(struct json_object *a, struct json_object *b)
{
	struct json_object_iterator ia, ib, ea, eb;

	if (json_object_get_type(a) != json_object_get_type(b))
		return false;
	if (!json_object_is_type(a, json_type_object))
		return true;
	ia = json_object_iter_begin(a);
	ib = json_object_iter_begin(b);
	ea = json_object_iter_end(a);
	eb = json_object_iter_end(b);
	for (; !json_object_iter_equal(&ia, &ea);
	     json_object_iter_next(&ia), json_object_iter_next(&ib)) {
		if (json_object_iter_equal(&ib, &eb) ||
		    strcmp(json_object_iter_peek_name(&ia),
		           json_object_iter_peek_name(&ib)) != 0 ||
		    !jsonfast_ref_same_shape(json_object_iter_peek_value(&ia),
		                             json_object_iter_peek_value(&ib)))
			return false;
	}
	return json_object_iter_equal(&ib, &eb);
}

/*
 * The slots of a send frame as server/chat.c asks jsonfast_fields for
 * them, and the contract that whatever it takes is held to: json-c's
 * object, walked member by member (so that a member no slot found is
 * caught too), has exactly the members found, of the slots' kinds and
 * with equal values.
 */
enum jsonfast_ref_send_slot {
	JSONFAST_REF_TYPE,
	JSONFAST_REF_REQ,
	JSONFAST_REF_TO,
	JSONFAST_REF_USER,
	JSONFAST_REF_GROUP,
	JSONFAST_REF_BODY,
	JSONFAST_REF_CMID,
	JSONFAST_REF_COUNT
};

static const struct jsonfast_field jsonfast_ref_send[JSONFAST_REF_COUNT] = {
    [JSONFAST_REF_TYPE] = {.key = "type", .kind = JSONFAST_STRING},
    [JSONFAST_REF_REQ] = {.key = "req", .kind = JSONFAST_INT},
    [JSONFAST_REF_TO] = {.key = "to", .kind = JSONFAST_OBJECT},
    [JSONFAST_REF_USER] = {.key = "to.user", .kind = JSONFAST_INT},
    [JSONFAST_REF_GROUP] = {.key = "to.group", .kind = JSONFAST_INT},
    [JSONFAST_REF_BODY] = {.key = "body", .kind = JSONFAST_STRING},
    [JSONFAST_REF_CMID] = {.key = "cmid", .kind = JSONFAST_STRING},
};

/* The slot named prefix.name (prefix NULL: name), or NULL. */
static struct jsonfast_field *
jsonfast_ref_fields_slot(struct jsonfast_field *f, size_t n, const char *prefix,
                         const char *name)
{
	size_t i, plen = prefix != NULL ? strlen(prefix) : 0;
	const char *k;

	if (strchr(name, '.') != NULL)
		return NULL; /* a member's name is never a path */
	for (i = 0; i < n; i++) {
		k = f[i].key;
		if (prefix != NULL &&
		    (strncmp(k, prefix, plen) != 0 || k[plen] != '.'))
			continue;
		if (strcmp(prefix != NULL ? k + plen + 1 : k, name) == 0)
			return &f[i];
	}
	return NULL;
}

/* Why json-c's string v is not what slot says, or NULL. */
static const char *
jsonfast_ref_fields_string(const struct jsonfast_field *slot,
                           struct json_object *v, const char *s, size_t len)
{
	char *buf;
	size_t n;
	bool same;

	if (!json_object_is_type(v, json_type_string))
		return "a string slot is no string in json-c";
	if (slot->str < s || slot->str > s + len ||
	    slot->len > (size_t)(s + len - slot->str))
		return "a string slot points out of the text";
	if (!slot->escaped && memchr(slot->str, '\\', slot->len) != NULL)
		return "a string slot has escapes but says not";
	buf = malloc(slot->len ? slot->len : 1);
	n = jsonfast_unescape(slot->str, slot->len, buf);
	same = n == (size_t)json_object_get_string_len(v) &&
	       memcmp(buf, json_object_get_string(v), n) == 0;
	free(buf);
	return same ? NULL : "a string differs from json-c's";
}

static const char *jsonfast_ref_fields_members(struct json_object *obj,
                                               const char *prefix,
                                               const char *s, size_t len,
                                               struct jsonfast_field *f,
                                               size_t n, size_t *found);

/* Why json-c's member prefix.name, v, is not what the slots say, or NULL. */
static const char *
jsonfast_ref_fields_member(const char *prefix, const char *name,
                           struct json_object *v, const char *s, size_t len,
                           struct jsonfast_field *f, size_t n, size_t *found)
{
	struct jsonfast_field *slot =
	    jsonfast_ref_fields_slot(f, n, prefix, name);

	if (slot == NULL || !slot->set)
		return "json-c has a member that no slot found";
	(*found)++;
	switch (slot->kind) {
	case JSONFAST_STRING:
		return jsonfast_ref_fields_string(slot, v, s, len);
	case JSONFAST_INT:
		if (!json_object_is_type(v, json_type_int))
			return "an int slot is no int in json-c";
		return json_object_get_int64(v) == slot->num
		           ? NULL
		           : "an int differs from json-c's";
	case JSONFAST_OBJECT:
		if (prefix != NULL)
			return "an object slot nested in another";
		if (!json_object_is_type(v, json_type_object))
			return "an object slot is no object in json-c";
		return jsonfast_ref_fields_members(v, name, s, len, f, n,
		                                   found);
	}
	return "a slot of no known kind";
}

/* The members of json-c's obj (named prefix, or the top) against f. */
static const char *
jsonfast_ref_fields_members(struct json_object *obj, const char *prefix,
                            const char *s, size_t len, struct jsonfast_field *f,
                            size_t n, size_t *found)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);
	const char *why;

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		why = jsonfast_ref_fields_member(
		    prefix, json_object_iter_peek_name(&it),
		    json_object_iter_peek_value(&it), s, len, f, n, found);
		if (why != NULL)
			return why;
	}
	return NULL;
}

/*
 * Why the slots that jsonfast_fields filled from s break its contract
 * with json-c, or NULL. Every member json-c has maps to a distinct set
 * slot, so equal counts mean no set slot is missing from json-c's object.
 */
static const char *
jsonfast_ref_fields_why(const char *s, size_t len, int max_depth,
                        struct jsonfast_field *f, size_t n)
{
	struct json_object *obj = jsonfast_ref_parse(s, len, max_depth);
	size_t found = 0, set = 0, i;
	const char *why;

	if (obj == NULL)
		return "json-c refuses the text";
	if (!json_object_is_type(obj, json_type_object))
		why = "json-c's text is no object";
	else
		why = jsonfast_ref_fields_members(obj, NULL, s, len, f, n,
		                                  &found);
	for (i = 0; i < n; i++)
		set += f[i].set;
	if (why == NULL && set != found)
		why = "a slot is set that json-c's object does not have";
	json_object_put(obj);
	return why;
}

#endif
