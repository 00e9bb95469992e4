/* The list of windows, the current one, unread counts and read marks. */
#include <stdlib.h>
#include <string.h>

#include "editor.h"
#include "roster.h"
#include "scrollback.h"
#include "window.h"
#include "xmalloc.h"

struct window_list {
	struct window **v;
	size_t n, cap, cur;
};

/* A window with an empty scrollback and input line. */
static struct window *
window_new(enum window_kind kind, int64_t id, const char *name)
{
	struct window *w = xcalloc(1, sizeof(*w));

	w->kind = kind;
	w->id = id;
	w->name = xstrdup(name);
	w->sb = scrollback_new(SCROLLBACK_DEFAULT_MAX);
	w->ed = editor_new();
	return w;
}

/* Frees a window. */
static void
window_free(struct window *w)
{
	if (w == NULL)
		return;
	window_set_members(w, NULL, 0);
	scrollback_free(w->sb);
	editor_free(w->ed);
	free(w->name);
	free(w);
}

/* Appends a window. */
static void
window_push(struct window_list *wl, struct window *w)
{
	if (wl->n == wl->cap) {
		wl->cap = wl->cap ? wl->cap * 2 : 8;
		wl->v = xrealloc(wl->v, wl->cap * sizeof(wl->v[0]));
	}
	wl->v[wl->n++] = w;
}

/* Just the console. */
struct window_list *
window_list_new(void)
{
	struct window_list *wl = xcalloc(1, sizeof(*wl));

	window_push(wl, window_new(WINDOW_CONSOLE, 0, "console"));
	return wl;
}

/* Frees every window. */
void
window_list_free(struct window_list *wl)
{
	if (wl == NULL)
		return;
	for (size_t i = 0; i < wl->n; i++)
		window_free(wl->v[i]);
	free(wl->v);
	free(wl);
}

/* Accessors. */
size_t
window_count(const struct window_list *wl)
{
	return wl->n;
}

/* Window i or NULL. */
struct window *
window_at(const struct window_list *wl, size_t i)
{
	return i < wl->n ? wl->v[i] : NULL;
}

/* The one shown. */
struct window *
window_current(const struct window_list *wl)
{
	return wl->v[wl->cur];
}

/* Its index. */
size_t
window_current_index(const struct window_list *wl)
{
	return wl->cur;
}

/* Linear: a user has tens of windows, not thousands. */
struct window *
window_find(const struct window_list *wl, enum window_kind kind, int64_t id)
{
	for (size_t i = 1; i < wl->n; i++)
		if (wl->v[i]->kind == kind && wl->v[i]->id == id)
			return wl->v[i];
	return NULL;
}

/* "3", "bob", "#dev" or "dev". */
struct window *
window_find_name(const struct window_list *wl, const char *name)
{
	char *end;
	long n = strtol(name, &end, 10);

	if (*name != '\0' && *end == '\0')
		return n >= 1 ? window_at(wl, (size_t)n - 1) : NULL;
	for (size_t i = 0; i < wl->n; i++)
		if (wl->v[i]->kind != WINDOW_GROUP &&
		    strcmp(wl->v[i]->name, name) == 0)
			return wl->v[i];
	if (name[0] == '#')
		name++;
	for (size_t i = 0; i < wl->n; i++)
		if (wl->v[i]->kind == WINDOW_GROUP &&
		    strcmp(wl->v[i]->name, name) == 0)
			return wl->v[i];
	return NULL;
}

/* Finds or appends. */
struct window *
window_open(struct window_list *wl, enum window_kind kind, int64_t id,
            const char *name)
{
	struct window *w = window_find(wl, kind, id);

	if (w != NULL) {
		if (strcmp(w->name, name) != 0) {
			free(w->name);
			w->name = xstrdup(name);
		}
		return w;
	}
	w = window_new(kind, id, name);
	window_push(wl, w);
	return w;
}

/* Removes window i; the console stays. */
void
window_close(struct window_list *wl, size_t i)
{
	if (i == 0 || i >= wl->n)
		return;
	window_free(wl->v[i]);
	memmove(wl->v + i, wl->v + i + 1, (wl->n - i - 1) * sizeof(wl->v[0]));
	wl->n--;
	if (wl->cur >= i && wl->cur > 0)
		wl->cur--;
	wl->v[wl->cur]->unread = 0;
	wl->v[wl->cur]->activity = false;
}

/* Leaves the current window for window i. */
bool
window_select(struct window_list *wl, size_t i)
{
	struct window *w;

	if (i >= wl->n)
		return false;
	w = wl->v[i];
	if (w->unread == 0)
		w->first_new = 0; /* nothing new: no separator */
	w->unread = 0;
	w->activity = false;
	wl->cur = i;
	return true;
}

/* Messages first, then any activity, wrapping around. */
long
window_next_unread(const struct window_list *wl)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 1; k < wl->n; k++) {
			size_t i = (wl->cur + k) % wl->n;

			if (wl->v[i]->unread > 0 ||
			    (pass == 1 && wl->v[i]->activity))
				return (long)i;
		}
	return -1;
}

/* Counts activity in windows not shown. */
void
window_note(struct window_list *wl, struct window *w, bool is_msg, uint64_t id)
{
	if (w == wl->v[wl->cur])
		return;
	if (!is_msg) {
		w->activity = true;
		return;
	}
	if (w->unread == 0)
		w->first_new = id;
	w->unread++;
}

/* Takes m (an array of n members, names owned). */
void
window_set_members(struct window *w, struct window_member *m, size_t n)
{
	for (size_t i = 0; i < w->nmembers; i++)
		free(w->members[i].name);
	free(w->members);
	w->members = m;
	w->nmembers = n;
}

/* conv id of the window. */
char *
window_conv(const struct window *w, int64_t self)
{
	if (w->kind == WINDOW_USER)
		return roster_conv(self, w->id, 0);
	if (w->kind == WINDOW_GROUP)
		return roster_conv(self, 0, w->id);
	return NULL;
}
