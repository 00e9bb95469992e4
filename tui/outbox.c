/* The queue of unacknowledged sends, each with its cmid. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "outbox.h"
#include "xmalloc.h"

struct outbox {
	struct outbox_item *head;
	struct outbox_item *tail;
	size_t n;
};

/* An empty outbox. */
struct outbox *
outbox_new(void)
{
	return xcalloc(1, sizeof(struct outbox));
}

/* Frees the items silently: callers that must answer do it first. */
void
outbox_free(struct outbox *o)
{
	struct outbox_item *it, *next;

	if (o == NULL)
		return;
	for (it = o->head; it != NULL; it = next) {
		next = it->next;
		outbox_item_free(it);
	}
	free(o);
}

/*
 * Lowercase hex: the time in ms (12 digits), then 10 random bytes. Later
 * cmids sort after earlier ones, so the server's index of them grows at
 * its end (a page per many sends, not one each: natterd(8)).
 */
void
outbox_cmid(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[OUTBOX_CMID_LEN / 2];
	struct timespec ts;
	uint64_t ms;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (i = 0; i < 6; i++)
		raw[i] = (unsigned char)(ms >> (40 - 8 * i));
	backoff_random(raw + 6, sizeof(raw) - 6);
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[OUTBOX_CMID_LEN] = '\0';
}

/* Appends at the tail so messages go out in the order typed. */
struct outbox_item *
outbox_add(struct outbox *o, int64_t to_user, int64_t to_group,
           const char *body)
{
	struct outbox_item *it = xcalloc(1, sizeof(*it));

	outbox_cmid(it->cmid);
	it->to_user = to_user;
	it->to_group = to_group;
	it->body = xstrdup(body);
	it->state = OUTBOX_QUEUED;
	if (o->tail != NULL)
		o->tail->next = it;
	else
		o->head = it;
	o->tail = it;
	o->n++;
	return it;
}

/* Unlinks it; a linear walk is fine for a human's typing queue. */
void
outbox_remove(struct outbox *o, struct outbox_item *it)
{
	struct outbox_item **pp, *prev = NULL;

	for (pp = &o->head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp != it)
			continue;
		*pp = it->next;
		if (o->tail == it)
			o->tail = prev;
		it->next = NULL;
		o->n--;
		return;
	}
}

/* Frees an item taken out of the outbox; NULL is a no-op. */
void
outbox_item_free(struct outbox_item *it)
{
	if (it == NULL)
		return;
	free(it->body);
	free(it);
}

/* The head of the queue. */
struct outbox_item *
outbox_first(struct outbox *o)
{
	return o->head;
}

/* Items not yet acknowledged. */
size_t
outbox_count(const struct outbox *o)
{
	return o->n;
}

/* After a drop nothing is in flight any more. */
void
outbox_requeue(struct outbox *o)
{
	for (struct outbox_item *it = o->head; it != NULL; it = it->next)
		it->state = OUTBOX_QUEUED;
}

/* The server asks for a retry only with these two (PROTOCOL.md). */
bool
outbox_retryable(const char *code)
{
	return code != NULL && (strcmp(code, "rate_limited") == 0 ||
	                        strcmp(code, "unavailable") == 0);
}
