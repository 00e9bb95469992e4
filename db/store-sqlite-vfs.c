#include "store-sqlite-vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include "log.h"
#include "store-sqlite-shm.h"
#include "xmalloc.h"
#include "yield.h"

#define STORE_SQLITE_VFS "natter"
/* Below 128 KiB: SQLite's unix VFS writes at most that much per call. */
#define STORE_SQLITE_WAL_BUF ((size_t)120 * 1024)
#define STORE_SQLITE_FRAME_HDR 24 /* SQLite's WAL frame header */
/* Bytes written to a file between two starts of its writeback. */
#define STORE_SQLITE_WB_BYTES ((size_t)1 << 20)
/* How far past its writes a WAL is read back into memory (vfs_ahead). */
#define STORE_SQLITE_AHEAD_BYTES ((sqlite3_int64)2 << 20)
/* SQLite's unix VFS: the "-shm" byte it read-locks while mapped (os_unix.c
 * UNIX_SHM_DMS: after 120 bytes of header and SQLITE_SHM_NLOCK locks). */
#define STORE_SQLITE_SHM_DMS (120 + SQLITE_SHM_NLOCK)

struct store_sqlite_file {
	sqlite3_file base;
	sqlite3_file *real;            /* the default VFS's file, after us */
	struct store_sqlite_file *wal; /* a database: its open WAL */
	struct store_sqlite_file *db;  /* a WAL: its database */
	bool is_wal;
	bool commit;        /* the last write: a commit's header */
	unsigned char *buf; /* WAL bytes not yet written, */
	size_t len;         /* len of them, */
	sqlite3_int64 off;  /* from this offset */
	int wb_fd;          /* a WAL again, for sync_file_range; or -1 */
	size_t wb_len;      /* bytes written since writeback last started */
	sqlite3_int64 ahead_from, ahead_to; /* the WAL's range asked for */
	/* A main database: its file, and its WAL-index locks once mapped
	 * (shm_memory: the in-memory ones, store-sqlite-shm.h). */
	bool has_id;
	const char *name; /* SQLite's, valid until xClose */
	dev_t dev;
	ino_t ino;
	struct store_sqlite_shm_hold shm;
	bool shm_memory;
};

#define STORE_SQLITE_FILE_HDR                                                  \
	((sizeof(struct store_sqlite_file) + 15) & ~(size_t)15)

static sqlite3_vfs *store_sqlite_vfs_real;

/*
 * Counts n bytes written to the file; after every STORE_SQLITE_WB_BYTES,
 * starts writing the file's dirty pages to disk without waiting for them
 * (store-sqlite-vfs.h says why).
 */
static void
store_sqlite_vfs_written(struct store_sqlite_file *p, size_t n)
{
	p->wb_len += n;
	if (p->wb_fd < 0 || p->wb_len < STORE_SQLITE_WB_BYTES)
		return;
	p->wb_len = 0;
	if (sync_file_range(p->wb_fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0)
		log_debug("sqlite vfs: sync_file_range: %s", strerror(errno));
}

/*
 * A WAL that starts over overwrites frames written seconds or minutes
 * before. A frame (24 bytes and a page) covers parts of the kernel's 4 KiB
 * pages, and a page the kernel has dropped from memory meanwhile must be
 * read from disk before the write can go on: at 20k msg/s the event loop
 * waited for up to ~40 such reads a second (doc/performance.md). So once the
 * writes near the end of the range asked for, or go back (the WAL started
 * over), the next STORE_SQLITE_AHEAD_BYTES past end are asked for
 * (POSIX_FADV_WILLNEED reads without waiting, and skips pages in memory
 * and past the file's end).
 */
static void
store_sqlite_vfs_ahead(struct store_sqlite_file *p, sqlite3_int64 end)
{
	if (p->wb_fd < 0 || (end >= p->ahead_from &&
	                     end + STORE_SQLITE_AHEAD_BYTES / 2 <= p->ahead_to))
		return;
	p->ahead_from = end;
	p->ahead_to = end + STORE_SQLITE_AHEAD_BYTES;
	(void)posix_fadvise(p->wb_fd, (off_t)end,
	                    (off_t)STORE_SQLITE_AHEAD_BYTES,
	                    POSIX_FADV_WILLNEED);
}

/* Writes through to the default VFS's file, counting the bytes. */
static int
store_sqlite_vfs_put(struct store_sqlite_file *p, const void *data, int amt,
                     sqlite3_int64 off)
{
	int rc = p->real->pMethods->xWrite(p->real, data, amt, off);

	if (rc == SQLITE_OK)
		store_sqlite_vfs_written(p, (size_t)amt);
	store_sqlite_vfs_ahead(p, off + amt);
	return rc;
}

/* Writes out the buffered WAL bytes, if any. */
static int
store_sqlite_vfs_flush(struct store_sqlite_file *p)
{
	int rc;

	if (p->len == 0)
		return SQLITE_OK;
	rc = store_sqlite_vfs_put(p, p->buf, (int)p->len, p->off);
	p->len = 0;
	return rc;
}

/*
 * A WAL write: appended to the buffer when contiguous; the commit frame's
 * page writes the buffer out. A buffer may start with a frame's header:
 * when only pages could, each commit's first header went out alone, a
 * second pwrite a commit. A lone header (SQLite rewriting checksums)
 * waits in the buffer until the read of the next frame writes it out.
 */
static int
store_sqlite_vfs_wal_write(struct store_sqlite_file *p, const void *data,
                           int amt, sqlite3_int64 off)
{
	const unsigned char *h = data;
	bool last = amt > 32 && p->commit; /* the commit frame's page */
	int rc;

	/* Bytes 4..7 of a frame header: the database size, in a commit. */
	p->commit =
	    amt == STORE_SQLITE_FRAME_HDR && (h[4] | h[5] | h[6] | h[7]);
	if (p->len > 0 && (off != p->off + (sqlite3_int64)p->len ||
	                   p->len + (size_t)amt > STORE_SQLITE_WAL_BUF))
		if ((rc = store_sqlite_vfs_flush(p)) != SQLITE_OK)
			return rc;
	if (p->len == 0 && last)
		return store_sqlite_vfs_put(p, data, amt, off);
	if (p->buf == NULL)
		p->buf = xmalloc(STORE_SQLITE_WAL_BUF);
	if (p->len == 0)
		p->off = off;
	memcpy(p->buf + p->len, data, (size_t)amt);
	p->len += (size_t)amt;
	return last ? store_sqlite_vfs_flush(p) : SQLITE_OK;
}

static int
store_sqlite_vfs_write(sqlite3_file *f, const void *data, int amt,
                       sqlite3_int64 off)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	int rc;

	if (p->is_wal)
		return store_sqlite_vfs_wal_write(p, data, amt, off);
	yield_point(); /* a checkpoint's copy, on a general thread */
	rc = store_sqlite_vfs_put(p, data, amt, off);
	if (rc == SQLITE_OK && p->shm.shm != NULL)
		store_sqlite_shm_wrote(&p->shm, (size_t)amt);
	return rc;
}

/* Closes the file; a WAL writes its buffer out first. */
static int
store_sqlite_vfs_close(sqlite3_file *f)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	int rc = store_sqlite_vfs_flush(p), rc2;

	store_sqlite_shm_detach(&p->shm);
	if (p->db != NULL)
		p->db->wal = NULL;
	if (p->wal != NULL)
		p->wal->db = NULL;
	free(p->buf);
	p->buf = NULL;
	if (p->wb_fd >= 0)
		close(p->wb_fd);
	p->wb_fd = -1;
	rc2 = p->real->pMethods->xClose(p->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int
store_sqlite_vfs_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	int rc;

	if ((rc = store_sqlite_vfs_flush(p)) != SQLITE_OK)
		return rc;
	return p->real->pMethods->xRead(p->real, data, amt, off);
}

static int
store_sqlite_vfs_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	int rc;

	if ((rc = store_sqlite_vfs_flush(p)) != SQLITE_OK)
		return rc;
	return p->real->pMethods->xTruncate(p->real, size);
}

/* A sync; a database file's takes what it wrote out off its count. */
static int
store_sqlite_vfs_sync(sqlite3_file *f, int flags)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	size_t mark = p->shm.shm != NULL ? store_sqlite_shm_mark(&p->shm) : 0;
	int rc;

	if ((rc = store_sqlite_vfs_flush(p)) != SQLITE_OK)
		return rc;
	rc = p->real->pMethods->xSync(p->real, flags);
	if (rc == SQLITE_OK && p->shm.shm != NULL)
		store_sqlite_shm_synced(&p->shm, mark);
	return rc;
}

static int
store_sqlite_vfs_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	int rc;

	if ((rc = store_sqlite_vfs_flush(p)) != SQLITE_OK)
		return rc;
	return p->real->pMethods->xFileSize(p->real, size);
}

static int
store_sqlite_vfs_lock(sqlite3_file *f, int lock)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	return p->real->pMethods->xLock(p->real, lock);
}

static int
store_sqlite_vfs_unlock(sqlite3_file *f, int lock)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	return p->real->pMethods->xUnlock(p->real, lock);
}

static int
store_sqlite_vfs_check_lock(sqlite3_file *f, int *out)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int
store_sqlite_vfs_control(sqlite3_file *f, int op, void *arg)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	int rc;

	if ((rc = store_sqlite_vfs_flush(p)) != SQLITE_OK)
		return rc;
	return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int
store_sqlite_vfs_sector_size(sqlite3_file *f)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	return p->real->pMethods->xSectorSize(p->real);
}

static int
store_sqlite_vfs_device(sqlite3_file *f)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	return p->real->pMethods->xDeviceCharacteristics(p->real);
}

/*
 * The first connection to map a database's WAL-index write-locks the
 * "-shm" file's DMS byte, which SQLite's unix VFS read-locks for as long
 * as a process has the WAL-index mapped and tests before mapping it: a
 * process that comes later cannot map it (SQLite retries for about 10 s,
 * then fails with SQLITE_PROTOCOL), and the in-memory locks are all the
 * connections here need. If another process holds it
 * already, the lock fails and SQLite's locks stay. POSIX locks belong to
 * the process, so ours replaces SQLite's read lock on that byte, and the
 * descriptor stays open until the table goes: closing any descriptor of
 * the file drops all of the process's locks on it.
 */
static int
store_sqlite_vfs_guard(void *arg, bool *alone)
{
	struct store_sqlite_file *p = arg;
	struct flock lk = {.l_type = F_WRLCK,
	                   .l_whence = SEEK_SET,
	                   .l_start = STORE_SQLITE_SHM_DMS,
	                   .l_len = 1};
	char *shm = xasprintf("%s-shm", p->name);
	int fd = open(shm, O_RDWR | O_CLOEXEC);

	free(shm);
	*alone = fd >= 0 && fcntl(fd, F_SETLK, &lk) == 0;
	return fd;
}

static int
store_sqlite_vfs_shm_map(sqlite3_file *f, int region, int size, int extend,
                         void volatile **out)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	int rc = p->real->pMethods->xShmMap(p->real, region, size, extend, out);

	if (rc == SQLITE_OK && p->has_id && p->shm.shm == NULL)
		p->shm_memory = store_sqlite_shm_attach(
		    &p->shm, p->dev, p->ino, store_sqlite_vfs_guard, p);
	return rc;
}

static int
store_sqlite_vfs_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	if (p->shm_memory)
		return store_sqlite_shm_lock(&p->shm, offset, n, flags);
	return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

/*
 * SQLite calls the barrier before it publishes new WAL frames: the last
 * moment to write them out. The commit frame did already; this is the
 * safety net (a failure here cannot be returned, hence the log).
 */
static void
store_sqlite_vfs_shm_barrier(sqlite3_file *f)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	if (p->wal != NULL && store_sqlite_vfs_flush(p->wal) != SQLITE_OK)
		log_error("sqlite: WAL write failed before publishing");
	p->real->pMethods->xShmBarrier(p->real);
}

static int
store_sqlite_vfs_shm_unmap(sqlite3_file *f, int del)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	store_sqlite_shm_detach(&p->shm);
	p->shm_memory = false;
	return p->real->pMethods->xShmUnmap(p->real, del);
}

static int
store_sqlite_vfs_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	return p->real->pMethods->xFetch(p->real, off, amt, out);
}

static int
store_sqlite_vfs_unfetch(sqlite3_file *f, sqlite3_int64 off, void *ptr)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	return p->real->pMethods->xUnfetch(p->real, off, ptr);
}

static const sqlite3_io_methods store_sqlite_vfs_methods = {
    .iVersion = 3,
    .xClose = store_sqlite_vfs_close,
    .xRead = store_sqlite_vfs_read,
    .xWrite = store_sqlite_vfs_write,
    .xTruncate = store_sqlite_vfs_truncate,
    .xSync = store_sqlite_vfs_sync,
    .xFileSize = store_sqlite_vfs_file_size,
    .xLock = store_sqlite_vfs_lock,
    .xUnlock = store_sqlite_vfs_unlock,
    .xCheckReservedLock = store_sqlite_vfs_check_lock,
    .xFileControl = store_sqlite_vfs_control,
    .xSectorSize = store_sqlite_vfs_sector_size,
    .xDeviceCharacteristics = store_sqlite_vfs_device,
    .xShmMap = store_sqlite_vfs_shm_map,
    .xShmLock = store_sqlite_vfs_shm_lock,
    .xShmBarrier = store_sqlite_vfs_shm_barrier,
    .xShmUnmap = store_sqlite_vfs_shm_unmap,
    .xFetch = store_sqlite_vfs_fetch,
    .xUnfetch = store_sqlite_vfs_unfetch,
};

/* A main database: the file its WAL-index locks are kept by. */
static void
store_sqlite_vfs_identify(struct store_sqlite_file *p, const char *name)
{
	struct stat sb;

	if (stat(name, &sb) != 0)
		return; /* then SQLite's own locks */
	p->has_id = true;
	p->name = name;
	p->dev = sb.st_dev;
	p->ino = sb.st_ino;
}

/*
 * Opens a file through the default VFS, ours wrapped around it; a WAL is
 * tied to its database file (which SQLite opened first, through us too)
 * so that the database's barrier finds it.
 */
static int
store_sqlite_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
                      int flags, int *out_flags)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;
	sqlite3_file *db;
	int rc;

	(void)vfs;
	memset(p, 0, sizeof(*p));
	p->wb_fd = -1;
	p->real = (sqlite3_file *)((char *)p + STORE_SQLITE_FILE_HDR);
	rc = store_sqlite_vfs_real->xOpen(store_sqlite_vfs_real, name, p->real,
	                                  flags, out_flags);
	if (rc != SQLITE_OK || p->real->pMethods == NULL ||
	    p->real->pMethods->iVersion < 3) {
		if (rc == SQLITE_OK && p->real->pMethods != NULL)
			p->real->pMethods->xClose(p->real);
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	p->base.pMethods = &store_sqlite_vfs_methods;
	if ((flags & SQLITE_OPEN_MAIN_DB) != 0 && name != NULL)
		store_sqlite_vfs_identify(p, name);
	if ((flags & SQLITE_OPEN_WAL) != 0 && name != NULL &&
	    (db = sqlite3_database_file_object(name)) != NULL &&
	    db->pMethods == &store_sqlite_vfs_methods) {
		p->is_wal = true;
		p->db = (struct store_sqlite_file *)db;
		p->db->wal = p;
	}
	/*
	 * The WAL only: SQLite takes no POSIX lock on it. On the database
	 * file, closing a second descriptor would drop every lock the
	 * process holds on it, other connections' included.
	 */
	if (p->is_wal)
		p->wb_fd = open(name, O_RDONLY | O_CLOEXEC);
	return SQLITE_OK;
}

static int
store_sqlite_vfs_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return store_sqlite_vfs_real->xDelete(store_sqlite_vfs_real, name,
	                                      sync_dir);
}

static int
store_sqlite_vfs_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return store_sqlite_vfs_real->xAccess(store_sqlite_vfs_real, name,
	                                      flags, out);
}

static int
store_sqlite_vfs_full_path(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return store_sqlite_vfs_real->xFullPathname(store_sqlite_vfs_real, name,
	                                            n, out);
}

static int
store_sqlite_vfs_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return store_sqlite_vfs_real->xRandomness(store_sqlite_vfs_real, n,
	                                          out);
}

static int
store_sqlite_vfs_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return store_sqlite_vfs_real->xSleep(store_sqlite_vfs_real, us);
}

static int
store_sqlite_vfs_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return store_sqlite_vfs_real->xCurrentTime(store_sqlite_vfs_real, out);
}

static int
store_sqlite_vfs_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return store_sqlite_vfs_real->xGetLastError(store_sqlite_vfs_real, n,
	                                            out);
}

static int
store_sqlite_vfs_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return store_sqlite_vfs_real->xCurrentTimeInt64(store_sqlite_vfs_real,
	                                                out);
}

static sqlite3_vfs store_sqlite_vfs = {
    .iVersion = 2,
    .zName = STORE_SQLITE_VFS,
    .xOpen = store_sqlite_vfs_open,
    .xDelete = store_sqlite_vfs_delete,
    .xAccess = store_sqlite_vfs_access,
    .xFullPathname = store_sqlite_vfs_full_path,
    .xRandomness = store_sqlite_vfs_randomness,
    .xSleep = store_sqlite_vfs_sleep,
    .xCurrentTime = store_sqlite_vfs_time,
    .xGetLastError = store_sqlite_vfs_last_error,
    .xCurrentTimeInt64 = store_sqlite_vfs_time64,
};

/* Registers our VFS over the default one, once per process. */
static void
store_sqlite_vfs_init(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);

	if (real == NULL || real->iVersion < 2 ||
	    real->xCurrentTimeInt64 == NULL)
		return; /* then connections use the default VFS directly */
	store_sqlite_vfs_real = real;
	store_sqlite_vfs.szOsFile = (int)STORE_SQLITE_FILE_HDR + real->szOsFile;
	store_sqlite_vfs.mxPathname = real->mxPathname;
	if (sqlite3_vfs_register(&store_sqlite_vfs, 0) != SQLITE_OK)
		store_sqlite_vfs_real = NULL;
}

/* Unsynced bytes of a database file opened through us; see the header. */
size_t
store_sqlite_vfs_unsynced(sqlite3_file *f)
{
	struct store_sqlite_file *p = (struct store_sqlite_file *)f;

	if (f->pMethods != &store_sqlite_vfs_methods || p->shm.shm == NULL)
		return SIZE_MAX;
	return store_sqlite_shm_unsynced(&p->shm);
}

/* The VFS name for sqlite3_open_v2: ours, or NULL for the default. */
const char *
store_sqlite_vfs_name(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)pthread_once(&once, store_sqlite_vfs_init);
	return store_sqlite_vfs_real != NULL ? STORE_SQLITE_VFS : NULL;
}
