/* One-line renderings of protocol objects for the line-mode client. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "codec.h"
#include "oneline.h"
#include "xmalloc.h"

/* The evbuffer's bytes as a NUL-terminated string; frees the buffer. */
static char *
oneline_take(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = xmalloc(n + 1);

	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

/* Appends one byte, escaped if it is a C0 control or DEL. */
static void
oneline_byte(struct evbuffer *b, unsigned char ch)
{
	switch (ch) {
	case '\n':
		evbuffer_add(b, "\\n", 2);
		break;
	case '\r':
		evbuffer_add(b, "\\r", 2);
		break;
	case '\t':
		evbuffer_add(b, "\\t", 2);
		break;
	case 0x1b:
		evbuffer_add(b, "\\e", 2);
		break;
	default:
		if (ch < 0x20 || ch == 0x7f)
			evbuffer_add_printf(b, "\\x%02x", ch);
		else
			evbuffer_add(b, &ch, 1);
	}
}

/* Appends s escaped (see oneline_escape). */
static void
oneline_add_escaped(struct evbuffer *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f. */
		if (p[i] == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 &&
		    p[i + 1] <= 0x9f) {
			evbuffer_add_printf(b, "\\u%04x", p[i + 1]);
			i++;
			continue;
		}
		oneline_byte(b, p[i]);
	}
}

/* Escaped copy; see the header for the rules. */
char *
oneline_escape(const char *s, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	oneline_add_escaped(b, s, len);
	return oneline_take(b);
}

/* Appends a string field escaped, or "?" if it is missing. */
static void
oneline_add_field(struct evbuffer *b, struct json_object *o, const char *key)
{
	const char *s;
	size_t len;

	if (o != NULL && codec_get_string(o, key, &s, &len) == 0)
		oneline_add_escaped(b, s, len);
	else
		evbuffer_add(b, "?", 1);
}

/* An integer field as decimal, 0 if missing. */
static long long
oneline_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return 0;
	return (long long)json_object_get_int64(v);
}

/* A boolean field; false if missing. */
static bool
oneline_bool(struct json_object *o, const char *key)
{
	bool v = false;

	if (o != NULL)
		codec_get_bool(o, key, &v);
	return v;
}

/* A sub-object or NULL. */
static struct json_object *
oneline_obj(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o == NULL || codec_get_object(o, key, &v) != 0)
		return NULL;
	return v;
}

/* "<prefix> <conv> <seq> <ts> <from>: <body>". */
char *
oneline_msg(const char *prefix, struct json_object *m)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add_printf(b, "%s ", prefix);
	oneline_add_field(b, m, "conv");
	evbuffer_add_printf(b, " %lld %lld ", oneline_int(m, "seq"),
	                    oneline_int(m, "ts"));
	oneline_add_field(b, oneline_obj(m, "from"), "name");
	evbuffer_add(b, ": ", 2);
	oneline_add_field(b, m, "body");
	return oneline_take(b);
}

/* "bob(2,online)". */
char *
oneline_friend(struct json_object *f)
{
	struct evbuffer *b = evbuffer_new();

	oneline_add_field(b, f, "name");
	evbuffer_add_printf(b, "(%lld,%s)", oneline_int(f, "id"),
	                    oneline_bool(f, "online") ? "online" : "offline");
	return oneline_take(b);
}

/* "alice(creator,online)". */
char *
oneline_member(struct json_object *m)
{
	struct evbuffer *b = evbuffer_new();

	oneline_add_field(b, m, "name");
	evbuffer_add(b, "(", 1);
	oneline_add_field(b, m, "role");
	evbuffer_add_printf(b, ",%s)",
	                    oneline_bool(m, "online") ? "online" : "offline");
	return oneline_take(b);
}

/* "dev(creator)". */
char *
oneline_group(struct json_object *g)
{
	struct evbuffer *b = evbuffer_new();

	oneline_add_field(b, g, "name");
	evbuffer_add(b, "(", 1);
	oneline_add_field(b, g, "role");
	evbuffer_add(b, ")", 1);
	return oneline_take(b);
}

/* "error <label> <code>: <message>" from an "error" object. */
static void
oneline_add_error(struct evbuffer *b, const char *label,
                  struct json_object *err)
{
	evbuffer_add_printf(b, "error %s ", label);
	oneline_add_field(b, err, "code");
	evbuffer_add(b, ": ", 2);
	oneline_add_field(b, err, "message");
}

/* Events other than msg, one line each. */
char *
oneline_event(const char *type, struct json_object *ev)
{
	struct evbuffer *b = evbuffer_new();

	if (strcmp(type, "error") == 0) {
		oneline_add_error(b, "event", oneline_obj(ev, "error"));
		return oneline_take(b);
	}
	oneline_add_escaped(b, type, strlen(type));
	if (strcmp(type, "presence") == 0) {
		evbuffer_add(b, " ", 1);
		oneline_add_field(b, oneline_obj(ev, "user"), "name");
		evbuffer_add_printf(b, " %s",
		                    oneline_bool(ev, "online") ? "online"
		                                               : "offline");
	} else if (strcmp(type, "friend_added") == 0) {
		evbuffer_add(b, " ", 1);
		oneline_add_field(b, oneline_obj(ev, "friend"), "name");
	} else if (strcmp(type, "group_joined") == 0 ||
	           strcmp(type, "group_left") == 0) {
		evbuffer_add(b, " ", 1);
		oneline_add_field(b, oneline_obj(ev, "group"), "name");
		evbuffer_add(b, " ", 1);
		oneline_add_field(b, oneline_obj(ev, "user"), "name");
	}
	return oneline_take(b);
}

/* An error reply as "error <cmd> <code>: <message>". */
char *
oneline_error(const char *cmd, struct json_object *reply)
{
	struct evbuffer *b = evbuffer_new();

	oneline_add_error(b, cmd, oneline_obj(reply, "error"));
	return oneline_take(b);
}
