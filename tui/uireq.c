/* Requests in flight for the full-screen client, and reply helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "codec.h"
#include "ui.h"
#include "uireq.h"
#include "window.h"
#include "xmalloc.h"

/* Remembers the window by identity, not by pointer. */
struct uireq *
uireq_new(struct ui *u, const struct window *w)
{
	struct uireq *r = xcalloc(1, sizeof(*r));

	r->u = u;
	r->kind = w != NULL ? (int)w->kind : WINDOW_CONSOLE;
	r->id = w != NULL ? w->id : 0;
	r->next = u->reqs;
	if (u->reqs != NULL)
		u->reqs->prev = r;
	u->reqs = r;
	return r;
}

/* Unlinks and frees. */
void
uireq_free(struct uireq *r)
{
	if (r == NULL)
		return;
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		r->u->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	free(r->arg);
	if (r->secret != NULL)
		explicit_bzero(r->secret, strlen(r->secret));
	free(r->secret);
	free(r);
}

/* At exit, after client_free dropped the callbacks. */
void
uireq_free_all(struct ui *u)
{
	while (u->reqs != NULL)
		uireq_free(u->reqs);
}

/* For error lines. */
const char *
uireq_error_text(struct json_object *reply)
{
	static char buf[512];
	struct json_object *err = NULL;
	const char *code = "error", *msg = "";
	size_t len;

	if (reply == NULL)
		return "connection lost";
	if (codec_get_object(reply, "error", &err) == 0) {
		codec_get_string(err, "code", &code, &len);
		codec_get_string(err, "message", &msg, &len);
	}
	snprintf(buf, sizeof(buf), "%s%s%s", code, *msg ? ": " : "", msg);
	return buf;
}

/* Copies {name,online} of each member. */
void
uireq_set_members(struct window *w, struct json_object *arr)
{
	size_t n;
	struct window_member *m;

	if (!json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	m = xcalloc(n + 1, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *name = "?";
		size_t len;

		codec_get_string(o, "name", &name, &len);
		m[i].name = xstrdup(name);
		codec_get_bool(o, "online", &m[i].online);
	}
	window_set_members(w, m, n);
}
