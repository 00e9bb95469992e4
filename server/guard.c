#include "guard.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmalloc.h"

#define GUARD_BUCKETS 4096 /* power of two */

/* Counters of one key: an address ("a:1.2.3.4") or an account ("n:bob"). */
struct guard_entry {
	char *key;
	unsigned conns;
	unsigned fails;
	int64_t window_ms; /* when the failure window began */
	int64_t locked_until_ms;
	double tokens; /* password checks left (addresses) */
	int64_t refill_ms;
	struct guard_entry *next;
};

struct guard {
	pthread_mutex_t lock;
	struct guard_limits lim;
	unsigned conns;
	int64_t swept_ms; /* last sweep of expired entries */
	struct guard_entry *buckets[GUARD_BUCKETS];
};

struct guard *
guard_new(const struct guard_limits *lim)
{
	struct guard *g = xcalloc(1, sizeof *g);

	pthread_mutex_init(&g->lock, NULL);
	g->lim = *lim;
	return g;
}

void
guard_free(struct guard *g)
{
	struct guard_entry *e, *next;
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < GUARD_BUCKETS; i++) {
		for (e = g->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* The slot of key (kind + text) in its chain; lock held. */
static struct guard_entry **
guard_slot(struct guard *g, char kind, const char *text)
{
	struct guard_entry **pp;
	uint32_t h = 2166136261u ^ (unsigned char)kind; /* FNV-1a */
	const char *p;

	for (p = text; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	pp = &g->buckets[h & (GUARD_BUCKETS - 1)];
	while (*pp != NULL &&
	       ((*pp)->key[0] != kind || strcmp((*pp)->key + 2, text) != 0))
		pp = &(*pp)->next;
	return pp;
}

/* The entry of key, made on first use; lock held. */
static struct guard_entry *
guard_get(struct guard *g, char kind, const char *text)
{
	struct guard_entry **pp = guard_slot(g, kind, text);

	if (*pp == NULL) {
		*pp = xcalloc(1, sizeof **pp);
		(*pp)->key = xasprintf("%c:%s", kind, text);
	}
	return *pp;
}

/* Whether e still counts something at now_ms; lock held. */
static bool
guard_live(const struct guard *g, const struct guard_entry *e, int64_t now_ms)
{
	int64_t window = (int64_t)g->lim.lock_seconds * 1000;

	return e->conns > 0 || e->locked_until_ms > now_ms ||
	       (e->fails > 0 && now_ms - e->window_ms < window) ||
	       (e->refill_ms != 0 && now_ms - e->refill_ms < window);
}

/* Drops the entry at *pp if it counts nothing any more; lock held. */
static void
guard_prune_at(struct guard *g, struct guard_entry **pp, int64_t now_ms)
{
	struct guard_entry *e = *pp;

	if (e == NULL || guard_live(g, e, now_ms))
		return;
	*pp = e->next;
	free(e->key);
	free(e);
}

static void
guard_prune(struct guard *g, char kind, const char *text, int64_t now_ms)
{
	guard_prune_at(g, guard_slot(g, kind, text), now_ms);
}

/*
 * Once a window, drops every expired entry, so names and addresses that
 * failed once do not pile up. Lock held.
 */
static void
guard_sweep(struct guard *g, int64_t now_ms)
{
	struct guard_entry **pp, *e;
	size_t i;

	if (now_ms - g->swept_ms < (int64_t)g->lim.lock_seconds * 1000)
		return;
	g->swept_ms = now_ms;
	for (i = 0; i < GUARD_BUCKETS; i++) {
		for (pp = &g->buckets[i]; (e = *pp) != NULL;) {
			guard_prune_at(g, pp, now_ms);
			if (*pp == e)
				pp = &e->next;
		}
	}
}

bool
guard_conn_open(struct guard *g, const char *addr)
{
	struct guard_entry *e;
	bool ok;

	pthread_mutex_lock(&g->lock);
	e = guard_get(g, 'a', addr);
	ok = (g->lim.max_clients == 0 || g->conns < g->lim.max_clients) &&
	     (g->lim.max_clients_per_addr == 0 ||
	      e->conns < g->lim.max_clients_per_addr);
	if (ok) {
		g->conns++;
		e->conns++;
	} else {
		guard_prune(g, 'a', addr, 0);
	}
	pthread_mutex_unlock(&g->lock);
	return ok;
}

void
guard_conn_close(struct guard *g, const char *addr)
{
	struct guard_entry *e;

	pthread_mutex_lock(&g->lock);
	if ((e = *guard_slot(g, 'a', addr)) != NULL && e->conns > 0) {
		e->conns--;
		g->conns--;
		guard_prune(g, 'a', addr, 0);
	}
	pthread_mutex_unlock(&g->lock);
}

/* Whether e is locked now; lock held. */
static bool
guard_locked(const struct guard_entry *e, int64_t now_ms)
{
	return e != NULL && e->locked_until_ms > now_ms;
}

bool
guard_login_allowed(struct guard *g, const char *name, const char *addr,
                    int64_t now_ms)
{
	bool ok;

	pthread_mutex_lock(&g->lock);
	ok = !guard_locked(*guard_slot(g, 'n', name), now_ms) &&
	     !guard_locked(*guard_slot(g, 'a', addr), now_ms);
	pthread_mutex_unlock(&g->lock);
	return ok;
}

/* Counts one failure in e's window; locks e at max. Lock held. */
static void
guard_count_failure(struct guard *g, struct guard_entry *e, unsigned max,
                    int64_t now_ms)
{
	int64_t window = (int64_t)g->lim.lock_seconds * 1000;

	if (e->fails == 0 || now_ms - e->window_ms >= window) {
		e->fails = 0;
		e->window_ms = now_ms;
	}
	if (max > 0 && ++e->fails >= max) {
		e->locked_until_ms = now_ms + window;
		e->fails = 0;
	}
}

void
guard_login_failed(struct guard *g, const char *name, const char *addr,
                   int64_t now_ms)
{
	pthread_mutex_lock(&g->lock);
	guard_sweep(g, now_ms);
	guard_count_failure(g, guard_get(g, 'n', name), g->lim.max_fail_account,
	                    now_ms);
	guard_count_failure(g, guard_get(g, 'a', addr), g->lim.max_fail_addr,
	                    now_ms);
	pthread_mutex_unlock(&g->lock);
}

size_t
guard_size(struct guard *g)
{
	struct guard_entry *e;
	size_t i, n = 0;

	pthread_mutex_lock(&g->lock);
	for (i = 0; i < GUARD_BUCKETS; i++) {
		for (e = g->buckets[i]; e != NULL; e = e->next)
			n++;
	}
	pthread_mutex_unlock(&g->lock);
	return n;
}

bool
guard_auth_take(struct guard *g, const char *addr, int64_t now_ms)
{
	struct guard_entry *e;
	double burst = 2.0 * g->lim.auth_rate;
	bool ok;

	if (g->lim.auth_rate == 0)
		return true;
	pthread_mutex_lock(&g->lock);
	guard_sweep(g, now_ms);
	e = guard_get(g, 'a', addr);
	if (e->refill_ms == 0)
		e->tokens = burst;
	else
		e->tokens +=
		    (double)(now_ms - e->refill_ms) * g->lim.auth_rate / 1000.0;
	if (e->tokens > burst)
		e->tokens = burst;
	e->refill_ms = now_ms;
	ok = e->tokens >= 1.0;
	if (ok)
		e->tokens -= 1.0;
	pthread_mutex_unlock(&g->lock);
	return ok;
}

void
guard_login_succeeded(struct guard *g, const char *name)
{
	struct guard_entry *e;

	pthread_mutex_lock(&g->lock);
	if ((e = *guard_slot(g, 'n', name)) != NULL) {
		e->fails = 0;
		guard_prune(g, 'n', name, 0);
	}
	pthread_mutex_unlock(&g->lock);
}

/* One line at most a LOG_LIMIT_SECONDS for l's thread (guard.h). */
void
guard_refused_log(struct log_limit *l, const char *addr)
{
	unsigned held;

	if (!log_limit_take(l, time(NULL), &held))
		return;
	if (held == 0)
		log_warn("refused a connection from %s: too many clients",
		         addr);
	else
		log_warn("refused a connection from %s: too many clients "
		         "(and %u more since the last such line)",
		         addr, held);
}
