#ifndef NATTER_TESTS_JSONFAST_REF_H
#define NATTER_TESTS_JSONFAST_REF_H

/*
 * The reference that shared/jsonfast.c is held to, for its unit test and
 * its differential fuzzer (which includes this as "../unit/..."): json-c
 * parsing as codec_reader_parse sets it up, and a member-by-member
 * comparison of two objects.
 */
#include <json-c/json.h>
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

#endif
