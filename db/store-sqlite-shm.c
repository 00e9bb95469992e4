#include "store-sqlite-shm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "xmalloc.h"

enum store_sqlite_shm_mode {
	STORE_SQLITE_SHM_UNDECIDED,
	STORE_SQLITE_SHM_MEMORY, /* the locks below are the ones in use */
	STORE_SQLITE_SHM_REAL,   /* another process was there: SQLite's */
};

struct store_sqlite_shm {
	struct store_sqlite_shm *next; /* in the registry */
	dev_t dev;
	ino_t ino;
	int refs; /* attached connections; under the registry's mutex */
	pthread_mutex_t mu;
	enum store_sqlite_shm_mode mode;
	int guard_fd; /* the guard's descriptor, closed last; or -1 */
	int shared[SQLITE_SHM_NLOCK]; /* connections holding each shared */
	bool excl[SQLITE_SHM_NLOCK];
	atomic_size_t written; /* bytes written to the file, ever */
	atomic_size_t synced;  /* of those, the ones a sync wrote out */
};

/* Every table in use, by file; see the header on why this is shared. */
static struct {
	pthread_mutex_t mu;
	struct store_sqlite_shm *list;
} store_sqlite_shm_registry = {PTHREAD_MUTEX_INITIALIZER, NULL};

/* The table of (dev, ino), made if missing, with one more reference. */
static struct store_sqlite_shm *
store_sqlite_shm_ref(dev_t dev, ino_t ino)
{
	struct store_sqlite_shm *s;

	pthread_mutex_lock(&store_sqlite_shm_registry.mu);
	for (s = store_sqlite_shm_registry.list; s != NULL; s = s->next)
		if (s->dev == dev && s->ino == ino)
			break;
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->dev = dev;
		s->ino = ino;
		s->guard_fd = -1;
		atomic_init(&s->written, 0);
		atomic_init(&s->synced, 0);
		pthread_mutex_init(&s->mu, NULL);
		s->next = store_sqlite_shm_registry.list;
		store_sqlite_shm_registry.list = s;
	}
	s->refs++;
	pthread_mutex_unlock(&store_sqlite_shm_registry.mu);
	return s;
}

/* Drops a reference; the last frees the table. */
static void
store_sqlite_shm_unref(struct store_sqlite_shm *s)
{
	struct store_sqlite_shm **pp;
	bool last;

	pthread_mutex_lock(&store_sqlite_shm_registry.mu);
	if ((last = --s->refs == 0)) {
		for (pp = &store_sqlite_shm_registry.list; *pp != s;
		     pp = &(*pp)->next)
			;
		*pp = s->next;
	}
	pthread_mutex_unlock(&store_sqlite_shm_registry.mu);
	if (last) {
		if (s->guard_fd >= 0)
			close(s->guard_fd);
		pthread_mutex_destroy(&s->mu);
		free(s);
	}
}

/* Attaches h; see the header. */
bool
store_sqlite_shm_attach(struct store_sqlite_shm_hold *h, dev_t dev, ino_t ino,
                        store_sqlite_shm_guard_fn guard, void *arg)
{
	struct store_sqlite_shm *s = store_sqlite_shm_ref(dev, ino);
	bool memory, alone = false;

	pthread_mutex_lock(&s->mu);
	if (s->mode == STORE_SQLITE_SHM_UNDECIDED) {
		s->guard_fd = guard(arg, &alone);
		s->mode =
		    alone ? STORE_SQLITE_SHM_MEMORY : STORE_SQLITE_SHM_REAL;
	}
	memory = s->mode == STORE_SQLITE_SHM_MEMORY;
	pthread_mutex_unlock(&s->mu);
	*h = (struct store_sqlite_shm_hold){s, 0, 0};
	return memory;
}

/* Releases the locks of mask that h holds, shared or exclusive. */
static void
store_sqlite_shm_release(struct store_sqlite_shm_hold *h, unsigned mask)
{
	int i;

	for (i = 0; i < SQLITE_SHM_NLOCK; i++) {
		if ((mask & h->shared & (1u << i)) != 0)
			h->shm->shared[i]--;
		if ((mask & h->excl & (1u << i)) != 0)
			h->shm->excl[i] = false;
	}
	h->shared &= (uint8_t)~mask;
	h->excl &= (uint8_t)~mask;
}

/* Detaches h; see the header. */
void
store_sqlite_shm_detach(struct store_sqlite_shm_hold *h)
{
	if (h->shm == NULL)
		return;
	pthread_mutex_lock(&h->shm->mu);
	store_sqlite_shm_release(h, 0xffu);
	pthread_mutex_unlock(&h->shm->mu);
	store_sqlite_shm_unref(h->shm);
	h->shm = NULL;
}

/* True if a connection other than h holds lock i in a way that blocks. */
static bool
store_sqlite_shm_taken(const struct store_sqlite_shm_hold *h, int i, bool excl)
{
	const struct store_sqlite_shm *s = h->shm;
	int mine = (h->shared >> i) & 1;

	if ((h->excl >> i) & 1)
		return false;
	return s->excl[i] || (excl && s->shared[i] > mine);
}

/* Takes the locks of mask as shared or exclusive, all or none. */
static int
store_sqlite_shm_take(struct store_sqlite_shm_hold *h, unsigned mask, bool excl)
{
	int i;

	for (i = 0; i < SQLITE_SHM_NLOCK; i++)
		if ((mask & (1u << i)) != 0 &&
		    store_sqlite_shm_taken(h, i, excl))
			return SQLITE_BUSY;
	for (i = 0; i < SQLITE_SHM_NLOCK; i++) {
		if ((mask & (1u << i)) == 0)
			continue;
		if (excl) {
			h->shm->excl[i] = true;
		} else if ((h->shared & (1u << i)) == 0) {
			h->shm->shared[i]++;
		}
	}
	if (excl)
		h->excl |= (uint8_t)mask;
	else
		h->shared |= (uint8_t)mask;
	return SQLITE_OK;
}

/* xShmLock on the table; see the header. */
int
store_sqlite_shm_lock(struct store_sqlite_shm_hold *h, int ofst, int n,
                      int flags)
{
	unsigned mask;
	int rc = SQLITE_OK;

	if (ofst < 0 || n < 1 || ofst + n > SQLITE_SHM_NLOCK)
		return SQLITE_IOERR_SHMLOCK;
	mask = ((1u << n) - 1) << ofst;
	pthread_mutex_lock(&h->shm->mu);
	if ((flags & SQLITE_SHM_UNLOCK) != 0)
		store_sqlite_shm_release(h, mask);
	else
		rc = store_sqlite_shm_take(h, mask,
		                           (flags & SQLITE_SHM_EXCLUSIVE) != 0);
	pthread_mutex_unlock(&h->shm->mu);
	return rc;
}

/* Counts n bytes written to the database file; see the header. */
void
store_sqlite_shm_wrote(struct store_sqlite_shm_hold *h, size_t n)
{
	atomic_fetch_add(&h->shm->written, n);
}

/* The bytes written so far, before a sync; see the header. */
size_t
store_sqlite_shm_mark(const struct store_sqlite_shm_hold *h)
{
	return atomic_load(&h->shm->written);
}

/* A sync that began at mark is done; see the header. */
void
store_sqlite_shm_synced(struct store_sqlite_shm_hold *h, size_t mark)
{
	size_t was = atomic_load(&h->shm->synced);

	while (was < mark &&
	       !atomic_compare_exchange_weak(&h->shm->synced, &was, mark))
		;
}

/* The bytes written and not synced; see the header. */
size_t
store_sqlite_shm_unsynced(const struct store_sqlite_shm_hold *h)
{
	size_t synced = atomic_load(&h->shm->synced);

	return atomic_load(&h->shm->written) - synced;
}
