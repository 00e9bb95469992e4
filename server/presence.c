#include "presence.h"

#include <pthread.h>
#include <stdlib.h>

#include "xmalloc.h"

#define PRESENCE_BUCKETS 4096 /* power of two */

struct presence_entry {
	int64_t uid;
	char *name;        /* known while the user has sessions here */
	unsigned sessions; /* on this node */
	unsigned remote;   /* other nodes that report the user online */
	double tokens;
	int64_t refill_ms;
	struct presence_entry *next;
};

struct presence {
	pthread_mutex_t lock;
	unsigned rate;
	unsigned burst;
	struct presence_entry *buckets[PRESENCE_BUCKETS];
};

/* A table with rate limit rate/s and bucket size burst. */
struct presence *
presence_new(unsigned rate, unsigned burst)
{
	struct presence *p = xcalloc(1, sizeof *p);

	pthread_mutex_init(&p->lock, NULL);
	p->rate = rate;
	p->burst = burst > 0 ? burst : rate;
	return p;
}

/* Frees the table and every entry. */
void
presence_free(struct presence *p)
{
	struct presence_entry *e, *next;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < PRESENCE_BUCKETS; i++) {
		for (e = p->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e->name);
			free(e);
		}
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The slot of uid's chain; called with the lock held. */
static struct presence_entry **
presence_slot(struct presence *p, int64_t uid)
{
	struct presence_entry **pp;

	pp = &p->buckets[(uint64_t)uid & (PRESENCE_BUCKETS - 1)];
	while (*pp != NULL && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return pp;
}

/* uid's entry, made on first use with a full bucket; lock held. */
static struct presence_entry *
presence_get(struct presence *p, int64_t uid)
{
	struct presence_entry **pp = presence_slot(p, uid);

	if (*pp == NULL) {
		*pp = xcalloc(1, sizeof **pp);
		(*pp)->uid = uid;
		(*pp)->tokens = p->burst;
	}
	return *pp;
}

/* Drops e if it counts nothing any more; lock held. */
static void
presence_prune(struct presence *p, struct presence_entry *e)
{
	struct presence_entry **pp;

	if (e->sessions > 0 || e->remote > 0)
		return;
	pp = presence_slot(p, e->uid);
	*pp = e->next;
	free(e->name);
	free(e);
}

/* Counts a session in. */
unsigned
presence_add(struct presence *p, int64_t uid, const char *name, bool *changed)
{
	struct presence_entry *e;
	unsigned n;

	pthread_mutex_lock(&p->lock);
	e = presence_get(p, uid);
	if (e->name == NULL)
		e->name = xstrdup(name);
	n = ++e->sessions;
	*changed = n == 1 && e->remote == 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Counts a session out; the entry goes when nobody is left. */
unsigned
presence_remove(struct presence *p, int64_t uid, bool *changed)
{
	struct presence_entry *e;
	unsigned n = 0;

	pthread_mutex_lock(&p->lock);
	if ((e = *presence_slot(p, uid)) != NULL) {
		if (e->sessions > 0)
			e->sessions--;
		n = e->sessions;
		*changed = n == 0 && e->remote == 0;
		presence_prune(p, e);
	} else {
		*changed = false;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

void
presence_remote_add(struct presence *p, int64_t uid)
{
	pthread_mutex_lock(&p->lock);
	presence_get(p, uid)->remote++;
	pthread_mutex_unlock(&p->lock);
}

void
presence_remote_remove(struct presence *p, int64_t uid)
{
	struct presence_entry *e;

	pthread_mutex_lock(&p->lock);
	if ((e = *presence_slot(p, uid)) != NULL && e->remote > 0) {
		e->remote--;
		presence_prune(p, e);
	}
	pthread_mutex_unlock(&p->lock);
}

size_t
presence_local_users(struct presence *p, int64_t **uids, char ***names)
{
	struct presence_entry *e;
	size_t i, n = 0, cap = 64;

	*uids = xmalloc(cap * sizeof **uids);
	*names = xmalloc(cap * sizeof **names);
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < PRESENCE_BUCKETS; i++) {
		for (e = p->buckets[i]; e != NULL; e = e->next) {
			if (e->sessions == 0)
				continue;
			if (n == cap) {
				cap *= 2;
				*uids = xrealloc(*uids, cap * sizeof **uids);
				*names = xrealloc(*names, cap * sizeof **names);
			}
			(*uids)[n] = e->uid;
			(*names)[n++] = xstrdup(e->name);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned
presence_sessions(struct presence *p, int64_t uid)
{
	struct presence_entry *e;
	unsigned n;

	pthread_mutex_lock(&p->lock);
	e = *presence_slot(p, uid);
	n = e != NULL ? e->sessions : 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Whether uid has a session on this node. */
bool
presence_online(struct presence *p, int64_t uid)
{
	struct presence_entry *e;
	bool on;

	pthread_mutex_lock(&p->lock);
	e = *presence_slot(p, uid);
	on = e != NULL && (e->sessions > 0 || e->remote > 0);
	pthread_mutex_unlock(&p->lock);
	return on;
}

/* Token bucket: refill by elapsed time, then take one if there is one. */
bool
presence_take(struct presence *p, int64_t uid, int64_t now_ms)
{
	struct presence_entry *e;
	bool ok;

	if (p->rate == 0)
		return true;
	pthread_mutex_lock(&p->lock);
	e = presence_get(p, uid);
	if (e->refill_ms != 0 && now_ms > e->refill_ms) {
		e->tokens += (double)(now_ms - e->refill_ms) * p->rate / 1000.0;
		if (e->tokens > p->burst)
			e->tokens = p->burst;
	}
	e->refill_ms = now_ms;
	ok = e->tokens >= 1.0;
	if (ok)
		e->tokens -= 1.0;
	pthread_mutex_unlock(&p->lock);
	return ok;
}
