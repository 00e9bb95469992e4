"""A throwaway MariaDB server for natter's tests (Python 3 stdlib only).

    from mariadb import MariaDB
    db = MariaDB()                 # installs and starts in a temp folder
    url = db.new_database()        # mysql://natter:...@127.0.0.1:P/natter_N
    db.sql("SELECT 1")             # as root, over the socket
    db.restart(down=5)             # stop, stay down 5 s, start again
    db.kill_connections()          # KILL every connection of the natter user
    db.stop()                      # SIGTERM, wait, remove the folder

The server runs as the `mysql` user when we are root (mariadbd refuses to
run as root without --user), listens on 127.0.0.1 and on a socket in its
folder, and keeps everything it writes in that folder. See
/work/shared/NOTES.md ("MariaDB without systemd").

Run as a script to start one and print its URL until Ctrl-C:
    python3 tests/integration/mariadb.py
"""

import atexit
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

USER = "natter"
PASSWORD = "natter-test-pw"
READY_TIMEOUT = 30.0

_counter = itertools.count(1)


def _free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available():
    """Whether mariadbd and mariadb-install-db are installed."""
    return bool(shutil.which("mariadbd") or
                os.path.exists("/usr/sbin/mariadbd")) and \
        bool(shutil.which("mariadb-install-db"))


def _mariadbd():
    return shutil.which("mariadbd") or "/usr/sbin/mariadbd"


class MariaDB:
    """One mariadbd in a temporary folder, on loopback."""

    def __init__(self, port=None):
        # A short folder: the socket path must stay under 108 bytes.
        self.dir = tempfile.mkdtemp(prefix="natmy-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        # Its own tmpdir: instances started at once in /tmp collide on
        # their temporary tables ("#sql-temptable-PID-...").
        self.tmp = os.path.join(self.dir, "tmp")
        self.sock = os.path.join(self.dir, "sock")
        self.pidfile = os.path.join(self.dir, "pid")
        self.errlog = os.path.join(self.dir, "err.log")
        self.port = port or _free_port()
        self.proc = None
        self._as_root = os.geteuid() == 0
        self._install()
        self.start()
        self.sql("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s';"
                 "CREATE USER '%s'@'localhost' IDENTIFIED BY '%s';"
                 "GRANT ALL ON *.* TO '%s'@'127.0.0.1';"
                 "GRANT ALL ON *.* TO '%s'@'localhost';" %
                 (USER, PASSWORD, USER, PASSWORD, USER, USER))

    def _chown(self, path):
        if self._as_root:
            pw = pwd.getpwnam("mysql")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _install(self):
        """mariadb-install-db into self.data (about 0.5 s)."""
        os.makedirs(self.data)
        os.makedirs(self.tmp)
        self._chown(self.dir)
        self._chown(self.data)
        self._chown(self.tmp)
        cmd = ["mariadb-install-db", "--no-defaults",
               "--datadir=" + self.data, "--tmpdir=" + self.tmp,
               "--auth-root-authentication-method=normal",
               "--skip-test-db"]
        if self._as_root:
            cmd.insert(2, "--user=mysql")
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if r.returncode != 0:
            raise RuntimeError("mariadb-install-db failed:\n" +
                               r.stdout.decode("utf-8", "replace"))

    def start(self):
        """Starts mariadbd on the same folder and port; waits until ready."""
        cmd = [_mariadbd(), "--no-defaults"]
        if self._as_root:
            cmd.append("--user=mysql")
        cmd += ["--datadir=" + self.data, "--tmpdir=" + self.tmp,
                "--socket=" + self.sock,
                "--port=%d" % self.port, "--bind-address=127.0.0.1",
                "--pid-file=" + self.pidfile, "--log-error=" + self.errlog,
                "--skip-name-resolve", "--max-connections=500",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=2",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_bin"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self._reaper()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited with %d:\n%s" %
                                   (self.proc.returncode, self.log_tail()))
            r = subprocess.run(["mariadb-admin", "--no-defaults", "-S",
                                self.sock, "-uroot", "ping"],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("mariadbd not ready in %ds:\n%s" %
                                   (READY_TIMEOUT, self.log_tail()))
            time.sleep(0.05)

    def _reaper(self):
        """A watchdog that stops this server and removes its folder if the
        test process dies without stop(): natlib's run() ends with
        os._exit (no atexit), and PR_SET_PDEATHSIG does not survive
        mariadbd switching to the mysql user. It exits by itself when the
        server stops first (stop() or restart())."""
        script = ('while kill -0 %(me)d 2>/dev/null && '
                  'kill -0 %(db)d 2>/dev/null; do sleep 0.5; done; '
                  'kill -0 %(me)d 2>/dev/null && exit 0; '
                  'kill -TERM %(db)d 2>/dev/null; i=0; '
                  'while kill -0 %(db)d 2>/dev/null && [ $i -lt 100 ]; '
                  'do sleep 0.1; i=$((i+1)); done; '
                  'kill -KILL %(db)d 2>/dev/null; rm -rf "%(dir)s"' %
                  {"me": os.getpid(), "db": self.proc.pid, "dir": self.dir})
        subprocess.Popen(["sh", "-c", script], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)

    def stop_server(self, timeout=30.0):
        """SIGTERM and wait; the folder stays (start() again later)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down=5.0):
        """Stops the server, stays down `down` seconds, starts it again."""
        self.stop_server()
        time.sleep(down)
        self.start()

    def stop(self):
        """Stops the server and removes its folder."""
        self.stop_server()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=30):
        try:
            with open(self.errlog, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def sql(self, query, db=None):
        """Runs query as root over the socket; returns rows (tab-split)."""
        cmd = ["mariadb", "--no-defaults", "-S", self.sock, "-uroot",
               "-N", "-B", "-e", query]
        if db:
            cmd.append(db)
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise RuntimeError("mariadb %r: %s" %
                               (query, r.stderr.decode("utf-8", "replace")))
        out = r.stdout.decode("utf-8", "replace")
        return [line.split("\t") for line in out.splitlines()]

    def url(self, name):
        return "mysql://%s:%s@127.0.0.1:%d/%s" % (USER, PASSWORD,
                                                 self.port, name)

    def new_database(self, name=None):
        """Creates an empty utf8mb4_bin database; returns its store URL."""
        if name is None:
            name = "natter_%d_%d" % (os.getpid(), next(_counter))
        self.sql("CREATE DATABASE `%s` CHARACTER SET utf8mb4 "
                 "COLLATE utf8mb4_bin" % name)
        return self.url(name)

    def connection_ids(self, user=USER):
        rows = self.sql("SELECT id FROM information_schema.processlist "
                        "WHERE user = '%s'" % user)
        return [int(r[0]) for r in rows if r and r[0].isdigit()]

    def kill_connections(self, user=USER):
        """KILLs every connection of user from the server side; returns
        how many there were."""
        ids = self.connection_ids(user)
        for i in ids:
            try:
                self.sql("KILL %d" % i)
            except RuntimeError:
                pass  # it went away by itself
        return len(ids)


if __name__ == "__main__":
    m = MariaDB()
    print(m.new_database("natter"), flush=True)
    print("socket", m.sock, flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        m.stop()


_script_db = None


def script_db():
    """This script's MariaDB, started on first use and stopped at exit."""
    global _script_db
    if _script_db is None:
        if not available():
            raise AssertionError("mariadb-server is not installed "
                                 "(packaging/deps --test installs it)")
        _script_db = MariaDB()
        atexit.register(_script_db.stop)
    return _script_db
