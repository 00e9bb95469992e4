#!/usr/bin/env python3
"""natter --batch against a real natterd: two (or more) line-mode clients
driven through pipes, checking the output lines documented in tui/batch.c.

Environment: NATTERD and NATTER are the binaries (ctest sets both); without
them the newest build*/server/natterd and build*/tui/natter are used.
"""

import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403
from natlib import SRC_ROOT  # noqa: E402

PW = "password1"
TIMEOUT = 10.0


_procs = []


class Natter:
    """One `natter --batch` process; its stdout lines are collected."""

    def __init__(self, srv, *extra, stdin=subprocess.PIPE, batch=True):
        port = srv if isinstance(srv, int) else srv.port
        self.args = [natter_path(), "--server", "127.0.0.1:%d" % port]
        self.args += (["--batch"] if batch else []) + list(extra)
        self.proc = subprocess.Popen(self.args, stdin=stdin,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        _procs.append(self)
        self.lines = []
        self.err = []
        self.cond = threading.Condition()
        self.done = False
        self.pos = 0  # lines before pos were matched by expect()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for raw in iter(self.proc.stdout.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace")
                                  .rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.done = True
            self.cond.notify_all()

    def _read_err(self):
        for raw in iter(self.proc.stderr.readline, b""):
            self.err.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def wait_line(self, pred, start=0, timeout=TIMEOUT, what=None):
        """Index and text of the first line at or after start matching
        pred (a regex string or a function)."""
        if isinstance(pred, str):
            rx = re.compile(pred)
            pred = rx.search
            what = what or rx.pattern
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i, self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.done:
                    raise AssertionError(
                        "natter: no line matching %s; output:\n  %s\n"
                        "stderr:\n  %s" % (what, "\n  ".join(self.lines),
                                           "\n  ".join(self.err)))
                self.cond.wait(left)

    def expect(self, pred, timeout=TIMEOUT):
        """Waits for a line after the previous expect()ed one."""
        i, line = self.wait_line(pred, self.pos, timeout)
        self.pos = i + 1
        return line

    def cmd(self, line, timeout=TIMEOUT):
        """Sends a command and returns its final ok/error line; the lines
        it printed before that (events, history) are in self.last."""
        with self.cond:
            start = len(self.lines)
        self.send(line)
        i, res = self.wait_line(r"^(ok|error) (?!event )", start, timeout)
        with self.cond:
            self.last = self.lines[start:i]
        self.pos = max(self.pos, i + 1)
        return res

    def ok(self, line, want=None):
        res = self.cmd(line)
        check(res.startswith("ok "), "%r: %r" % (line, res))
        if want is not None:
            check(re.search(want, res), "%r: %r !~ %r" % (line, res, want))
        return res

    def close(self, timeout=TIMEOUT):
        """Ends stdin and returns the exit status."""
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, AttributeError):
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("natter did not exit within %.0fs of EOF; "
                                 "output:\n%s" % (timeout,
                                                  "\n".join(self.lines)))


def user(srv, name=None):
    """A natter process with a freshly registered, logged-in user."""
    name = name or uniq("n")
    n = Natter(srv)
    uid = int(n.ok("/register %s %s" % (name, PW),
                   r"^ok register %s \d+$" % name).split()[-1])
    n.ok("/login %s %s" % (name, PW), r"^ok login %s %d$" % (name, uid))
    n.name, n.uid = name, uid
    return n


def dconv(a, b):
    lo, hi = sorted((a, b))
    return "d:%d:%d" % (lo, hi)


def befriend(a, b):
    a.ok("/add %s" % b.name, r"^ok add %s\(%d,online\)$" % (b.name, b.uid))
    b.expect(r"^friend_added %s$" % a.name)


@test
def register_login_friend_message():
    srv = shared_server()
    a, b = user(srv), user(srv)
    befriend(a, b)
    conv = dconv(a.uid, b.uid)
    a.ok("/msg %s hello world" % b.name, r"^ok msg %s 1$" % conv)
    b.expect(r"^msg %s 1 \d+ %s: hello world$" % (conv, a.name))
    b.ok("/msg %s two  spaces kept " % a.name, r"^ok msg %s 2$" % conv)
    a.expect(r"^msg %s 2 \d+ %s: two  spaces kept $" % (conv, b.name))
    b.ok("/friends", r"^ok friends %s\(%d,online\)$" % (a.name, a.uid))
    check_eq(a.close(), 0, "alice exit status")
    b.expect(r"^presence %s offline$" % a.name)
    b.ok("/friends", r"^ok friends %s\(%d,offline\)$" % (a.name, a.uid))
    check_eq(b.close(), 0, "bob exit status")


@test
def offline_message_via_sync_once():
    srv = shared_server()
    a, b = user(srv), user(srv)
    bname, buid = b.name, b.uid
    check_eq(b.close(), 0, "bob exit")
    a.ok("/add %s" % bname, r"^ok add %s\(%d,offline\)$" % (bname, buid))
    conv = dconv(a.uid, buid)
    a.ok("/msg %s while you were out" % bname, r"^ok msg %s 1$" % conv)
    a.ok("/msg %s second" % bname, r"^ok msg %s 2$" % conv)
    b2 = Natter(srv)
    b2.ok("/login %s %s" % (bname, PW))
    got = [x for x in b2.last if x.startswith("msg ")]
    check_eq(got[0].split(" ", 4)[:3], ["msg", conv, "1"], "first")
    check(got[0].endswith(" %s: while you were out" % a.name), got[0])
    check(got[1].endswith(" %s: second" % a.name), got[1])
    check_eq(len(got), 2, "offline messages before 'ok login'")
    check_eq(b2.close(), 0, "bob2 exit")
    # Acked: the next login gets nothing again.
    b3 = Natter(srv)
    b3.ok("/login %s %s" % (bname, PW))
    b3.ok("/sync", r"^ok sync 0$")
    check_eq([x for x in b3.lines if x.startswith("msg ")], [],
             "no repeat after ack")
    b3.ok("/history %s" % a.name, r"^ok history 2$")
    check(b3.last[0].startswith("history %s 1 " % conv), b3.last)
    check(b3.last[1].endswith(": second"), b3.last)
    check_eq(b3.close(), 0, "bob3 exit")
    check_eq(a.close(), 0, "alice exit")


@test
def groups_join_message_members_leave():
    srv = shared_server()
    a, b = user(srv), user(srv)
    g = uniq("g")
    gid = int(a.ok("/group create %s our dev group" % g,
                   r"^ok group_create %s \d+$" % g).split()[-1])
    b.ok("/group join %s" % g, r"^ok group_join %s %d$" % (g, gid))
    a.expect(r"^group_joined %s %s$" % (g, b.name))
    b.ok("/groups", r"^ok groups %s\(member\)$" % g)
    a.ok("/groups", r"^ok groups %s\(creator\)$" % g)
    b.ok("/msg %s hi all" % g, r"^ok msg g:%d \d+$" % gid)
    a.expect(r"^msg g:%d \d+ \d+ %s: hi all$" % (gid, b.name))
    a.ok("/msg #%s hello back" % g, r"^ok msg g:%d \d+$" % gid)
    b.expect(r"^msg g:%d \d+ \d+ %s: hello back$" % (gid, a.name))
    res = b.ok("/group members %s" % g, r"^ok members %s " % g)
    check("%s(creator,online)" % a.name in res, res)
    check("%s(member,online)" % b.name in res, res)
    b.ok("/history #%s 1" % g, r"^ok history 1$")
    check(b.last[0].endswith(" %s: hello back" % a.name), b.last)
    b.ok("/group leave %s" % g, r"^ok group_leave %s$" % g)
    a.expect(r"^group_left %s %s$" % (g, b.name))
    res = b.cmd("/msg %s gone" % g)
    check(res.startswith("error msg not_found: "), res)
    check_eq(a.close(), 0, "alice exit")
    check_eq(b.close(), 0, "bob exit")


@test
def friend_name_wins_over_group():
    srv = shared_server()
    a, b = user(srv), user(srv)
    befriend(a, b)
    # a group with the friend's name: /msg NAME picks the friend, #NAME it.
    gid = int(a.ok("/group create %s" % b.name).split()[-1])
    a.ok("/msg %s to the friend" % b.name,
         r"^ok msg %s " % dconv(a.uid, b.uid))
    a.ok("/msg #%s to the group" % b.name, r"^ok msg g:%d 1$" % gid)
    check_eq(a.close(), 0, "exit")
    check_eq(b.close(), 0, "exit")


@test
def errors_and_escapes():
    srv = shared_server()
    a, b = user(srv), user(srv)
    befriend(a, b)
    res = a.cmd("/msg nosuchuser hello")
    check(res.startswith("error msg not_found: "), res)
    check_eq(a.cmd("just text"), "error - bad_request: not a command")
    check(a.cmd("/frobnicate").startswith("error frobnicate unknown_type: "),
          "unknown command")
    check(a.cmd("/msg %s" % b.name).startswith("error msg bad_request: "
                                               "usage: "), "usage")
    check(a.cmd("/add").startswith("error add bad_request: usage: "),
          "usage add")
    res = a.cmd("/add nosuchuser")
    check(res.startswith("error add not_found: "), res)
    res = a.cmd("/register %s %s" % (b.name, PW))
    check(res.startswith("error register name_taken: "), res)
    a.ok("/msg %s tab\there\x1b[31mred" % b.name)
    b.expect(r"^msg \S+ \d+ \d+ %s: tab\\there\\e\[31mred$" % a.name)
    check_eq(a.close(), 0, "errors of commands other than /msg exit 0")
    check_eq(b.close(), 0, "exit")


@test
def refused_send_exits_1():
    srv = shared_server()
    a, b = user(srv), user(srv)
    befriend(a, b)
    res = a.cmd("/msg %s %s" % (b.name, "x" * 5000))
    check(res.startswith("error msg body_too_long: "), res)
    check_eq(a.close(), 1, "a refused /msg makes the status 1")
    check_eq(b.close(), 0, "exit")


@test
def logout_and_not_logged_in():
    srv = shared_server()
    a = user(srv)
    a.ok("/logout", r"^ok logout$")
    res = a.cmd("/msg %s hi" % a.name)
    check(res.startswith("error msg not_authenticated: "), res)
    res = a.cmd("/friends")
    check(res.startswith("error friends not_authenticated: "), res)
    res = a.cmd("/login %s wrongpassword" % a.name)
    check(res.startswith("error login bad_credentials: "), res)
    a.ok("/login %s %s" % (a.name, PW))
    a.ok("/sleep 0.1", r"^ok sleep$")
    a.ok("/quit", r"^ok quit$")
    check_eq(a.proc.wait(TIMEOUT), 0, "exit after /quit")


@test
def stdin_file_and_last_line_without_newline():
    srv = shared_server()
    b = user(srv)
    name = uniq("f")
    with tempfile.TemporaryFile() as f:
        f.write(("/register {n} {pw}\n/login {n} {pw}\r\n/add {b}\n\n"
                 "/msg {b} from a file").format(n=name, pw=PW, b=b.name)
                .encode())
        f.seek(0)
        n = Natter(srv, stdin=f)
        check_eq(n.proc.wait(TIMEOUT), 0, "exit status")
    b.expect(r"^friend_added %s$" % name)
    b.expect(r"^msg \S+ 1 \d+ %s: from a file$" % name)
    n.wait_line(r"^ok msg \S+ 1$")
    check_eq(b.close(), 0, "exit")


@test
def user_flag_and_config_file():
    srv = shared_server()
    name = uniq("c")
    with tempfile.NamedTemporaryFile("w", suffix=".conf") as conf:
        conf.write("# natter config\nserver 127.0.0.1:1\nuser %s\n" % name)
        conf.flush()
        n = Natter(srv, "--config", conf.name)  # --server overrides it
        n.ok("/register %s %s" % (name, PW))
        n.ok("/login %s" % PW, r"^ok login %s \d+$" % name)
        check_eq(n.close(), 0, "exit")


@test
def connection_loss_exits_1():
    srv = start_natterd()
    a = user(srv)
    srv.kill()
    check_eq(a.proc.wait(TIMEOUT), 1, "status after the server died")
    # stderr is read by a thread: it may lag the exit a little
    wait_until(lambda: any("connection lost" in e for e in a.err),
               what="'connection lost' on stderr: %r" % (a.err,))


@test
def interactive_mode_reconnects_and_resends():
    srv = start_natterd()
    port, data = srv.port, srv.data_dir
    a = Natter(srv, batch=False)
    a.expect(r"line mode")
    a.expect(r"^\* connected$")
    name = uniq("i")
    a.ok("/register %s %s" % (name, PW))
    a.ok("/login %s %s" % (name, PW))
    b = user(srv)
    a.ok("/add %s" % b.name)
    srv.kill()
    a.expect(r"^\* disconnected: ")
    check_eq(b.proc.wait(TIMEOUT), 1, "batch client status after the loss")
    # Typed while disconnected: queued, sent after the automatic re-login.
    a.send("/msg %s sent while down" % b.name)
    a.send("and plain text goes to the same chat")
    srv2 = start_natterd(["--listen", "127.0.0.1:%d" % port], data_dir=data)
    a.expect(r"^\* logged_in$", timeout=20)
    a.expect(r"^ok msg d:\d+:\d+ 1$")
    a.expect(r"^ok msg d:\d+:\d+ 2$")
    b2 = Natter(srv2)
    b2.ok("/login %s %s" % (b.name, PW))
    bodies = [x.split(": ", 1)[1] for x in b2.last if x.startswith("msg ")]
    check_eq(bodies, ["sent while down",
                      "and plain text goes to the same chat"], "resent")
    check_eq(a.close(), 0, "interactive exit at EOF")
    check_eq(b2.close(), 0, "exit")


@test
def heartbeat_keeps_an_idle_client_connected():
    # natterd closes a connection silent for 2 x heartbeat: our pings
    # (every heartbeat/2, at least 1 s) must keep it open.
    srv = start_natterd(["--heartbeat", "1"])
    a = user(srv)
    a.ok("/sleep 3.5", r"^ok sleep$")
    a.ok("/friends", r"^ok friends$")
    check_eq(a.close(), 0, "exit")


@test
def no_server_exits_1():
    srv = start_natterd()
    port = srv.port
    srv.kill()
    n = Natter(port)
    check_eq(n.proc.wait(TIMEOUT), 1, "status without a server")


@test
def version_and_help():
    out = subprocess.run([natter_path(), "--version"], capture_output=True,
                         timeout=TIMEOUT)
    check_eq(out.returncode, 0, "--version status")
    check(out.stdout.decode().startswith("natter "), out.stdout)
    out = subprocess.run([natter_path(), "--help"], capture_output=True,
                         timeout=TIMEOUT)
    check_eq(out.returncode, 0, "--help status")
    check(b"--batch" in out.stdout, "help mentions --batch")
    out = subprocess.run([natter_path(), "--bogus"], capture_output=True,
                         timeout=TIMEOUT)
    check_eq(out.returncode, 2, "bad option status")


def _kill_all():
    for n in _procs:
        if n.proc.poll() is None:
            n.proc.kill()
            n.proc.wait()


import atexit  # noqa: E402
atexit.register(_kill_all)

run()
