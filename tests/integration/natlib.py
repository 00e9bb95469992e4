"""Helpers for natterd integration tests (Python 3 standard library only).

A test script does:

    from natlib import *

    @test
    def hello_works():
        srv = shared_server()
        c = Conn(srv)
        r = c.call("hello", proto=1, client="t")
        check_eq(r["proto"], 1)

    run()

`run()` runs every @test in order, prints "ok"/"FAIL" per test and the last
line "N passed, N failed", and exits non-zero if any test failed. Servers and
connections opened during a test are cleaned up after it; a failing test
prints the tail of the logs of the servers it used.

Environment: NATTERD is the natterd binary (ctest sets it). Without it, the
first build*/server/natterd under the source tree is used. With
NATTER_TEST_ONE_CORE=1, every natterd runs on one core (the first this
script may use), as `taskset` would pin it: natterd then stores sends on
its event loop (dbpool_loop_writes), not on the writer thread.
"""

import atexit
import collections
import glob
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(os.path.dirname(HERE))

DEFAULT_TIMEOUT = 10.0
START_TIMEOUT = 20.0
TEST_TIMEOUT = 90  # seconds per test, a watchdog against hangs

__all__ = [
    "Closed", "Conn", "Server", "start_natterd", "shared_server", "test",
    "run", "check", "check_eq", "check_err", "check_ok", "wait_until",
    "uniq", "new_user", "make_friends", "PASSWORD", "natterd_path", "natter_path",
    "natter_bench_path",
    "DEFAULT_TIMEOUT",
]

PASSWORD = "correct horse"


def _binary(env, sub, name):
    """$env, or the newest build tree's sub/name."""
    p = os.environ.get(env)
    if p:
        return p
    cands = sorted(glob.glob(os.path.join(SRC_ROOT, "build*", sub, name)),
                   key=os.path.getmtime, reverse=True)
    if cands:
        return cands[0]
    raise RuntimeError("%s not set and no build*/%s/%s found" %
                       (env, sub, name))


def natterd_path():
    """The natterd binary: $NATTERD, or a build tree's natterd."""
    return _binary("NATTERD", "server", "natterd")


def natter_path():
    """The natter binary: $NATTER, or a build tree's natter."""
    return _binary("NATTER", "tui", "natter")


def natter_bench_path():
    """The load generator: $NATTER_BENCH, or a build tree's natter-bench."""
    return _binary("NATTER_BENCH", os.path.join("tests", "bench"),
                   "natter-bench")


# ---------------------------------------------------------------- servers

_all_servers = []      # every server started, for atexit
_test_servers = []     # servers started during the current test
_tempdirs = []         # temp dirs to remove at exit
_shared = None         # the per-script shared server


_mysql = None          # NATTER_TEST_MYSQL=1: this process's MariaDB
_mysql_dbs = {}        # natterd data folder -> its MariaDB store URL


def _mysql_store_args(data_dir, args):
    """With NATTER_TEST_MYSQL=1, natterd stores in a fresh database of its
    own on one MariaDB per test process (started on first use, stopped at
    exit); a natterd restarted on the same data folder gets the same
    database. A test that passes --store itself keeps it."""
    global _mysql
    if os.environ.get("NATTER_TEST_MYSQL") != "1" or "--store" in args:
        return []
    if data_dir not in _mysql_dbs:
        if _mysql is None:
            import mariadb
            _mysql = mariadb.MariaDB()
            atexit.register(lambda: ([s.kill() for s in _all_servers],
                                     _mysql.stop()))
        _mysql_dbs[data_dir] = _mysql.new_database()
    return ["--store", _mysql_dbs[data_dir]]


class Server:
    """A running natterd. Start with start_natterd()."""

    def __init__(self, extra_args=(), data_dir=None):
        self.tmp = tempfile.mkdtemp(prefix="natinteg-")
        _tempdirs.append(self.tmp)
        if data_dir is None:
            data_dir = os.path.join(self.tmp, "data")
            os.makedirs(data_dir)
        self.data_dir = data_dir
        self.log_path = os.path.join(self.tmp, "natterd.log")
        self.args = [natterd_path(), "--listen", "127.0.0.1:0",
                     "--data", data_dir, "--pwhash-ops", "1",
                     "--pwhash-mem", "8192", "--auth-rate", "0",
                     "--log-level", "info"]
        self.args += [str(a) for a in extra_args]
        self.args += _mysql_store_args(data_dir, self.args)
        self.port = None
        self.termed = False
        self._port_seen = threading.Event()
        self._log = open(self.log_path, "w", buffering=1, errors="replace")
        self._log.write("# " + " ".join(self.args) + "\n")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self._log,
                                     stderr=subprocess.PIPE,
                                     preexec_fn=_die_with_parent)
        _all_servers.append(self)
        _test_servers.append(self)
        self._drain = threading.Thread(target=self._drain_stderr,
                                       daemon=True)
        self._drain.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._port_seen.wait(0.05):
            if self.proc.poll() is not None:
                self._drain.join(2)
                raise AssertionError(
                    "natterd exited with %d before listening; log:\n%s" %
                    (self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise AssertionError(
                    "natterd did not log 'listening on' within %ds; log:\n%s"
                    % (START_TIMEOUT, self.log_tail()))

    def _drain_stderr(self):
        """Copies stderr to the log file so the pipe never fills."""
        marker = "listening on 127.0.0.1:"
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace")
            try:
                self._log.write(line)
            except ValueError:
                pass
            if self.port is None and marker in line:
                rest = line.split(marker, 1)[1]
                digits = ""
                for ch in rest:
                    if not ch.isdigit():
                        break
                    digits += ch
                if digits and int(digits) > 0:
                    self.port = int(digits)
                    self._port_seen.set()
        self.proc.stderr.close()

    def alive(self):
        return self.proc.poll() is None

    def stop(self, expect_code=0, timeout=10.0):
        """SIGTERM, wait; asserts the exit code if expect_code is not None.
        Returns (exit code, seconds it took)."""
        t0 = time.monotonic()
        if self.proc.poll() is None and not self.termed:
            self.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self._drain.join(2)
            raise AssertionError("natterd did not exit within %.0fs of "
                                 "SIGTERM" % timeout)
        took = time.monotonic() - t0
        self._drain.join(2)
        rc = self.proc.returncode
        if expect_code is not None and rc != expect_code:
            raise AssertionError("natterd exited with %r after SIGTERM, "
                                 "expected %r" % (rc, expect_code))
        return rc, took

    def terminate(self):
        """Sends SIGTERM once, without waiting."""
        self.termed = True
        self.proc.send_signal(signal.SIGTERM)

    def kill(self):
        """SIGKILL and reap."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._drain.join(2)

    def sanitizer_report(self):
        """New AddressSanitizer/UBSan/LeakSanitizer lines in the log (each
        reported once)."""
        text = self.log_text()
        start = getattr(self, "_san_seen", 0)
        self._san_seen = len(text)
        keys = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                "ThreadSanitizer")
        lines = [ln for ln in text[start:].splitlines()
                 if any(k in ln for k in keys)]
        return "\n".join(lines[:20])

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=60):
        lines = self.log_text().splitlines()
        return "\n".join(lines[-n:])

    def connect(self, **kw):
        return Conn(self, **kw)


def _die_with_parent():
    """In the child: SIGKILL natterd if this script dies (PR_SET_PDEATHSIG),
    so a killed test run leaves no server behind; one core if asked."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass
    if os.environ.get("NATTER_TEST_ONE_CORE") == "1":
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def start_natterd(extra_args=(), data_dir=None):
    """Starts natterd on a free port with fast password hashing. Returns a
    Server with .port, .proc, .data_dir, .stop(), .kill()."""
    return Server(extra_args, data_dir)


def shared_server():
    """One server shared by the tests of a script (restarted if it died)."""
    global _shared
    if _shared is None or not _shared.alive():
        _shared = Server(["--rate-limit", "0"])
        if _shared in _test_servers:
            _test_servers.remove(_shared)
    return _shared


def _cleanup_all():
    for c in list(_all_conns):
        c.close()
    for s in _all_servers:
        try:
            s.kill()
        except Exception:
            pass
        try:
            s._log.close()
        except Exception:
            pass
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_all)

# ------------------------------------------------------------ connections

_all_conns = []


class Closed(Exception):
    """The server closed the connection."""


class Conn:
    """One TCP connection speaking natter frames.

    Frames that are not the reply being waited for are kept: replies in
    self.replies (by req), everything else in self.events (in order).
    """

    _req_counter = itertools.count(1)

    def __init__(self, srv_or_port, host="127.0.0.1", timeout=DEFAULT_TIMEOUT,
                 rcvbuf=None, src=None):
        port = srv_or_port if isinstance(srv_or_port, int) else \
            srv_or_port.port
        self.srv = None if isinstance(srv_or_port, int) else srv_or_port
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if src:  # another client address: all of 127/8 routes to lo
            s.bind((src, 0))
        s.settimeout(timeout)
        s.connect((host, port))
        self.sock = s
        self.buf = bytearray()  # read, not yet split into frames
        self._scan = 0  # how much of buf is known to hold no newline
        self.events = collections.deque()
        self.replies = {}
        self.closed = False
        self.uid = None
        self.name = None
        self.password = None
        self.frames_seen = 0
        _all_conns.append(self)

    # -- raw I/O

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send(self, obj):
        """Sends one frame (compact JSON + newline)."""
        self.send_raw(json.dumps(obj, separators=(",", ":"),
                                 ensure_ascii=False).encode() + b"\n")

    def _recv_some(self, deadline):
        """Reads more bytes into self.buf; False on timeout; raises Closed."""
        if self.closed:
            raise Closed("connection already closed")
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            raise Closed("connection closed by server")
        self.buf += data  # in place: a big frame is not copied per read
        return True

    def next_line(self, deadline):
        """The next line read (bytes, without its newline), or None at the
        deadline. Each byte is searched once, so a frame of megabytes
        costs no more than its reads."""
        while True:
            i = self.buf.find(b"\n", self._scan)
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                self._scan = 0
                return line
            self._scan = len(self.buf)
            if not self._recv_some(deadline):
                return None

    def read_frame(self, timeout=DEFAULT_TIMEOUT):
        """The next frame from the socket (not from the queues) as a dict, or
        None on timeout. Raises Closed on EOF."""
        line = self.next_line(time.monotonic() + timeout)
        if line is None:
            return None
        if line.endswith(b"\r"):
            line = line[:-1]
        try:
            frame = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise AssertionError("server sent a bad frame %r: %s" %
                                 (line[:200], e))
        if not isinstance(frame, dict):
            raise AssertionError("server sent a non-object frame %r" %
                                 (line[:200],))
        self.frames_seen += 1
        return frame

    def _file(self, frame):
        """Queues a frame read while waiting for something else."""
        if "req" in frame and "ok" in frame:
            self.replies[frame["req"]] = frame
        else:
            self.events.append(frame)

    # -- requests

    def send_req(self, type_, fields=None, **kw):
        """Sends a request without waiting; returns its req."""
        req = next(Conn._req_counter) % 1000000 + 1
        obj = {"type": type_, "req": req}
        if fields:
            obj.update(fields)
        obj.update(kw)
        self.send(obj)
        return req

    def wait_reply(self, req, timeout=DEFAULT_TIMEOUT):
        """The reply with this req; queues other frames. Raises on timeout."""
        deadline = time.monotonic() + timeout
        while req not in self.replies:
            left = deadline - time.monotonic()
            f = self.read_frame(max(left, 0)) if left > 0 else None
            if f is None:
                raise AssertionError("no reply to req %d within %.0fs" %
                                     (req, timeout))
            self._file(f)
        return self.replies.pop(req)

    def request(self, type_, fields=None, timeout=DEFAULT_TIMEOUT, **kw):
        """Sends a request and returns its reply (ok or not)."""
        req = self.send_req(type_, fields, **kw)
        r = self.wait_reply(req, timeout)
        if r.get("type") != type_:
            raise AssertionError("reply to %s has type %r: %r" %
                                 (type_, r.get("type"), r))
        return r

    def call(self, type_, fields=None, timeout=DEFAULT_TIMEOUT, **kw):
        """A request that must succeed; returns the reply."""
        r = self.request(type_, fields, timeout, **kw)
        check_ok(r, "%s %r" % (type_, fields or kw))
        return r

    def fail(self, code, type_, fields=None, timeout=DEFAULT_TIMEOUT, **kw):
        """A request that must fail with this error code (or one of a
        tuple of codes); returns the reply."""
        r = self.request(type_, fields, timeout, **kw)
        check_err(r, code, "%s %r" % (type_, fields or kw))
        return r

    # -- events

    def wait_event(self, type_, pred=None, timeout=DEFAULT_TIMEOUT):
        """Removes and returns the first queued or arriving event of this
        type matching pred; other frames stay queued. Raises on timeout."""
        for i, e in enumerate(self.events):
            if e.get("type") == type_ and (pred is None or pred(e)):
                del self.events[i]
                return e
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            f = self.read_frame(left) if left > 0 else None
            if f is None:
                raise AssertionError(
                    "no %r event within %.0fs (queued: %s)" %
                    (type_, timeout, _short(list(self.events))))
            if "req" not in f and f.get("type") == type_ and \
                    (pred is None or pred(f)):
                return f
            self._file(f)

    def pending(self, type_=None):
        """Queued events (optionally of one type) after a round trip, so
        that anything the server sent before it has been read."""
        self.call("ping")
        return [e for e in self.events
                if type_ is None or e.get("type") == type_]

    def drop_events(self, type_=None):
        self.events = collections.deque(
            e for e in self.events
            if type_ is not None and e.get("type") != type_)

    def expect_closed(self, timeout=DEFAULT_TIMEOUT):
        """Reads (queuing frames) until the server closes the connection.
        Raises if it is still open after timeout."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                f = self.read_frame(left) if left > 0 else None
                if f is None:
                    raise AssertionError("connection still open after %.0fs"
                                         % timeout)
                self._file(f)
        except Closed:
            return True

    def is_open(self):
        """True if a ping round trip works."""
        try:
            self.call("ping", timeout=5)
            return True
        except Closed:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True
        if self in _all_conns:
            _all_conns.remove(self)

    def reset(self):
        """Closes with RST (SO_LINGER 0): an abrupt drop."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self.close()

    # -- account helpers

    def register(self, name, password=PASSWORD):
        r = self.call("register", name=name, password=password)
        check_eq(r["user"]["name"], name, "register reply name")
        return r["user"]["id"]

    def login(self, name, password=PASSWORD):
        r = self.call("login", name=name, password=password)
        self.uid = r["user"]["id"]
        self.name = name
        self.password = password
        check_eq(r["user"]["name"], name, "login reply name")
        return self.uid


def _short(x, n=400):
    s = repr(x)
    return s if len(s) <= n else s[:n] + "..."


_uniq_counter = itertools.count(1)


def uniq(prefix="u"):
    """A name unique in this process and short enough to be valid."""
    return "%s%d_%d" % (prefix, os.getpid() % 10000, next(_uniq_counter))


def new_user(srv, name=None, password=PASSWORD, **kw):
    """Registers a user and returns a logged-in Conn (.uid, .name)."""
    name = name or uniq()
    c = Conn(srv, **kw)
    uid = c.register(name, password)
    got = c.login(name, password)
    check_eq(got, uid, "login id equals register id")
    return c


def make_friends(a, b):
    """a adds b; waits for b's friend_added. Returns a's reply."""
    r = a.call("friend_add", name=b.name)
    check_eq(r["friend"]["id"], b.uid)
    b.wait_event("friend_added", lambda e: e["friend"]["id"] == a.uid)
    return r


def thread_names(pid):
    """The names of pid's threads (/proc's comm: what top -H shows), sorted;
    a thread that ends meanwhile is left out."""
    names = []
    task = "/proc/%d/task" % pid
    for t in os.listdir(task):
        try:
            with open("%s/%s/comm" % (task, t)) as f:
                names.append(f.read().strip())
        except OSError:
            continue
    return sorted(names)


def wait_until(fn, timeout=DEFAULT_TIMEOUT, what="condition", step=0.05):
    """Polls fn() until it returns a true value; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" %
                                 (timeout, what))
        time.sleep(step)


# ------------------------------------------------------------ assertions

def check(cond, msg="check failed"):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %s, want %s" %
                             (what or "value", _short(got), _short(want)))


def check_ok(r, what=""):
    if r.get("ok") is not True:
        raise AssertionError("%s: expected ok, got %s" % (what or "request",
                                                          _short(r, 600)))


def check_err(r, code, what=""):
    codes = code if isinstance(code, tuple) else (code,)
    err = r.get("error")
    if r.get("ok") is not False or not isinstance(err, dict) or \
            err.get("code") not in codes:
        raise AssertionError("%s: expected error %s, got %s" %
                             (what or "request", "/".join(codes),
                              _short(r, 600)))
    if not isinstance(err.get("message"), str):
        raise AssertionError("%s: error without a message string: %s" %
                             (what or "request", _short(r)))


# ------------------------------------------------------------ runner

_tests = []


def test(fn):
    """Registers a test function."""
    _tests.append(fn)
    return fn


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout("test took longer than %ds" % TEST_TIMEOUT)


def run():
    """Runs the registered tests (or those named on the command line)."""
    only = set(sys.argv[1:])
    passed = failed = 0
    failures = []
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _on_sigterm)
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.monotonic()
        err = None
        shared_before = _shared
        signal.alarm(TEST_TIMEOUT)
        try:
            fn()
        except BaseException as e:  # noqa: B902 (reports everything)
            if isinstance(e, KeyboardInterrupt):
                raise
            err = traceback.format_exc()
        finally:
            signal.alarm(0)
        used = list(_test_servers)
        if shared_before is not None:
            used.append(shared_before)
        if _shared is not None and _shared not in used:
            used.append(_shared)
        for s in used:
            if s is not None and s.proc.poll() is not None and \
                    s.proc.returncode < 0 and s in (_shared, shared_before):
                err = (err or "") + "natterd died with signal %d\n" % \
                    -s.proc.returncode
        for c in list(_all_conns):
            c.close()
        for s in list(_test_servers):
            if not s.alive():
                continue
            try:
                rc, _ = s.stop(expect_code=None, timeout=10)
            except AssertionError as e:
                err = (err or "") + "at test end: %s\n" % e
                continue
            if rc != 0:
                err = (err or "") + "natterd exited %d on SIGTERM at test " \
                    "end\n" % rc
        for s in used:
            if s is None:
                continue
            bad = s.sanitizer_report()
            if bad:
                err = (err or "") + "sanitizer report in natterd log:\n" + \
                    bad + "\n"
        for s in list(_test_servers):
            try:
                s.kill()
            except Exception:
                pass
        _test_servers.clear()
        took = time.monotonic() - t0
        if err is None:
            passed += 1
            print("ok   %s (%.1fs)" % (fn.__name__, took), flush=True)
        else:
            failed += 1
            failures.append(fn.__name__)
            print("FAIL %s (%.1fs)\n%s" % (fn.__name__, took,
                                            _indent(err)), flush=True)
            for s in used:
                if s is not None and s.port is not None:
                    print("  --- natterd log tail (%s) ---\n%s" %
                          (s.log_path, _indent(s.log_tail(40))), flush=True)
    if _shared is not None and _shared.alive():
        err = None
        try:
            rc, _ = _shared.stop(expect_code=None, timeout=10)
            if rc != 0:
                err = "shared natterd exited %d on SIGTERM" % rc
        except AssertionError as e:
            err = str(e)
        bad = _shared.sanitizer_report()
        if bad:
            err = (err or "") + "\nsanitizer report:\n" + bad
        if err:
            failed += 1
            failures.append("shared_server_shutdown")
            print("FAIL shared_server_shutdown\n%s\n  --- log tail ---\n%s"
                  % (_indent(err), _indent(_shared.log_tail(40))), flush=True)
    if failures:
        print("failed: " + " ".join(failures))
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.stdout.flush()
    # os._exit skips atexit, so run its handlers here: _cleanup_all and
    # what cluster.py and mariadb.py registered (Redis, nginx, MariaDB),
    # which a run of one test by name otherwise leaves running.
    atexit._run_exitfuncs()
    os._exit(1 if failed or passed == 0 else 0)


def _indent(text, pre="    "):
    return "\n".join(pre + line for line in text.splitlines())
