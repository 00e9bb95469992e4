#ifndef NATTER_DB_STORE_SQLITE_SHM_H
#define NATTER_DB_STORE_SQLITE_SHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The WAL-index locks of a database that only this process uses, kept in
 * memory instead of as POSIX locks. SQLite's unix VFS takes a WAL-index
 * lock with fcntl whenever the process's hold on it changes: a write
 * transaction made about six such calls (a read mark taken exclusively to
 * move it, then shared; the write lock; their releases), a fifth of the
 * writer's time when sends arrive one at a time (doc/performance.md,
 * fifteenth session). The VFS layer (store-sqlite-vfs.c) keeps other
 * processes out instead, for as long as the database is open here; if it
 * cannot (another process has the database open), the database keeps
 * SQLite's own locks. Every connection to the database in this process
 * must then go through that layer.
 *
 * One table per database file (device and inode), shared by every
 * connection to it in the process, found through a registry under a
 * mutex: a lock table is shared between threads by nature, as SQLite's
 * own per-inode table is. The table also counts the bytes written to the
 * file and not yet synced, in either mode (below).
 */
struct store_sqlite_shm;

/* What one connection holds: bit i is lock i (SQLITE_SHM_NLOCK of them). */
struct store_sqlite_shm_hold {
	struct store_sqlite_shm *shm;
	uint8_t shared, excl;
};

/*
 * Called once per table, by the first connection to attach, with the
 * table's mutex held: *alone true if other processes are now kept out
 * (the table's locks are used), false if not (SQLite's are). Returns a
 * descriptor the table closes when it goes (it holds the guard), or -1.
 */
typedef int (*store_sqlite_shm_guard_fn)(void *arg, bool *alone);

/*
 * Attaches h to the table of the file (dev, ino), made on first use; the
 * first attacher's guard decides its mode. Returns true if the table's
 * locks are in use, false if the connection should use SQLite's (h is
 * attached either way).
 */
bool store_sqlite_shm_attach(struct store_sqlite_shm_hold *h, dev_t dev,
                             ino_t ino, store_sqlite_shm_guard_fn guard,
                             void *arg);
/* Drops what h holds and detaches it; the last one frees the table. */
void store_sqlite_shm_detach(struct store_sqlite_shm_hold *h);
/*
 * xShmLock on the table: locks ofst .. ofst + n - 1 as flags says
 * (SQLITE_SHM_LOCK or _UNLOCK, with _SHARED or _EXCLUSIVE). SQLITE_OK,
 * or SQLITE_BUSY if another connection's hold is in the way.
 */
int store_sqlite_shm_lock(struct store_sqlite_shm_hold *h, int ofst, int n,
                          int flags);

/*
 * The bytes written to the database file and not yet synced, by any
 * connection of this process, so that a checkpoint can sync the file only
 * once enough is waiting (store-sqlite.c says why). The VFS layer counts
 * each write (wrote); before a sync it takes the count so far (mark), and
 * after it says that much is on disk (synced): syncs may overlap, and
 * the later mark wins. Any thread.
 */
void store_sqlite_shm_wrote(struct store_sqlite_shm_hold *h, size_t n);
size_t store_sqlite_shm_mark(const struct store_sqlite_shm_hold *h);
void store_sqlite_shm_synced(struct store_sqlite_shm_hold *h, size_t mark);
size_t store_sqlite_shm_unsynced(const struct store_sqlite_shm_hold *h);

#endif
