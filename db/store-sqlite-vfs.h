#ifndef NATTER_DB_STORE_SQLITE_VFS_H
#define NATTER_DB_STORE_SQLITE_VFS_H

#include <stddef.h>

#include <sqlite3.h>

/*
 * SQLite writes each WAL frame with two pwrite calls (its 24-byte header,
 * then the page), and a group commit writes one frame per dirty page: in
 * the writer that is most of its system time. Files opened through this
 * VFS (a thin layer over the default one) keep contiguous WAL writes in a
 * buffer and write it with one call when the commit frame's page arrives,
 * from inside that xWrite: a failure fails the commit as before. Nothing
 * is published earlier than before either: SQLite makes new frames
 * visible to other connections (the wal-index header) only after the
 * commit frame is written, and every other access to the WAL file (read,
 * sync, truncate, size, close, a non-contiguous write) and every
 * xShmBarrier writes the buffer out first. Durability is unchanged: with
 * synchronous=NORMAL a commit reaches the OS before it returns, as before.
 *
 * A checkpoint starts with an fsync of the WAL, which had to write every
 * byte logged since the last one (8 MiB and more under load): the writer,
 * when it checkpoints itself to restart the WAL, stopped for 20-35 ms. So
 * after every MiB written to the WAL the layer starts writing it to disk
 * (sync_file_range, which does not wait), and an fsync finds little left.
 *
 * A WAL that starts over overwrites its old frames in place, and a frame
 * covers parts of the kernel's pages: one dropped from memory meanwhile
 * is read from disk before the write goes on, on the thread committing.
 * So the layer asks for the next 2 MiB past its writes ahead of time
 * (POSIX_FADV_WILLNEED, which does not wait).
 */

/*
 * The bytes written to the database file f (as SQLITE_FCNTL_FILE_POINTER
 * gives it) by this process's connections and not yet synced; SIZE_MAX
 * if f is not ours or its WAL-index is not mapped (nothing is counted).
 */
size_t store_sqlite_vfs_unsynced(sqlite3_file *f);

/*
 * The name of the VFS to give sqlite3_open_v2 ("natter", registered on the
 * first call, any thread), or NULL if the default VFS lacks what the
 * layer needs: then SQLite's own is used.
 */
const char *store_sqlite_vfs_name(void);

#endif
