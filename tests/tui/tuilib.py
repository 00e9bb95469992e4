"""Helpers for natter's full-screen end-to-end tests (Python 3 stdlib).

Each client runs in its own tmux session on a private tmux server
(`tmux -L natter-test-<pid>`), sized with `new -d -x 100 -y 30`, driven
with `send-keys -l` and read with `capture-pane -p`. Waits poll the
screen for text (never sleep for a fixed time) and never look at the
input row, where typed text echoes.

Environment: NATTER and NATTERD are the binaries (ctest sets them);
without them the newest build*/ ones are used.
"""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata

from natlib import SRC_ROOT, check, natter_path, wait_until  # noqa: F401

WAIT = 15.0  # seconds: a loaded 2-core CI machine can be slow
SOCKET = "natter-test-%d" % os.getpid()
_tmpdirs = []


def tmux(*args, check_rc=True):
    """Runs a tmux command on the private server; returns its stdout."""
    p = subprocess.run(["tmux", "-L", SOCKET, "-f", "/dev/null"] +
                       list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    if check_rc and p.returncode != 0:
        raise AssertionError("tmux %s: %s" % (" ".join(args),
                                              p.stderr.decode()))
    return p.stdout.decode("utf-8", "replace")


def kill_server():
    """Ends the private tmux server (every session of the script)."""
    tmux("kill-server", check_rc=False)
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)
    del _tmpdirs[:]


def cell_width(s):
    """Terminal columns of s: wide East Asian (and emoji) 2, marks 0."""
    w = 0
    for ch in s:
        cp = ord(ch)
        if unicodedata.combining(ch) or cp == 0x200D or \
                0xFE00 <= cp <= 0xFE0F or 0x1F3FB <= cp <= 0x1F3FF:
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


class Client:
    """natter full screen in a tmux session of its own."""

    _n = 0

    def __init__(self, port, width=100, height=30, extra=(),
                 config_home=None):
        Client._n += 1
        self.name = "c%d" % Client._n
        self.home = tempfile.mkdtemp(prefix="nattertui-")
        _tmpdirs.append(self.home)
        self.width, self.height = width, height
        env = ("env TERM=tmux-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 "
               "HOME=%s XDG_CONFIG_HOME=%s XDG_STATE_HOME=%s/state"
               % (self.home, config_home or self.home + "/config",
                  self.home))
        cmd = "%s %s --server 127.0.0.1:%d %s" % (
            env, natter_path(), port, " ".join(extra))
        tmux("new-session", "-d", "-s", self.name, "-x", str(width),
             "-y", str(height), cmd)
        tmux("set-option", "-t", self.name, "remain-on-exit", "on")
        self.wait("console")

    def send(self, text):
        """Types text literally (UTF-8, as a paste or an input method)."""
        tmux("send-keys", "-t", self.name, "-l", text)

    def key(self, *names):
        """Presses keys by tmux name: Enter, M-2, C-n, PPage, ..."""
        tmux("send-keys", "-t", self.name, *names)

    def line(self, text):
        """Types a line and presses Enter."""
        self.send(text)
        self.key("Enter")

    def all_rows(self):
        """The whole screen, one string per row."""
        out = tmux("capture-pane", "-p", "-t", self.name)
        rows = out.split("\n")
        if rows and rows[-1] == "":
            rows.pop()
        return rows

    def rows(self):
        """The screen without the input row (typed text echoes there)."""
        return self.all_rows()[:-1]

    def wait_prompt(self, text, timeout=WAIT):
        """Waits for the password prompt: it replaces the input row."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.all_rows()
            if len(rows) >= self.height and rows[-1].startswith(text):
                return
            time.sleep(0.05)
        raise AssertionError("no prompt %r; screen:\n%s" %
                             (text, "\n".join(self.all_rows())))

    def screen(self):
        return "\n".join(self.rows())

    def dead(self):
        return tmux("display-message", "-p", "-t", self.name,
                    "#{pane_dead}").strip() == "1"

    def wait(self, pattern, timeout=WAIT, absent=False):
        """Waits until the screen (minus the input row) matches the
        regular expression (or stops matching, with absent=True).
        Returns the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.M)
        while True:
            s = self.screen()
            m = rx.search(s)
            if (m is not None) != absent:
                return m
            if self.dead():
                raise AssertionError("natter exited; screen:\n" + s)
            if time.monotonic() > deadline:
                raise AssertionError("%s: timed out waiting for %s%r; "
                                     "screen:\n%s" %
                                     (self.name, "no " if absent else "",
                                      pattern, s))
            time.sleep(0.05)

    def count(self, text):
        """How many times text appears on the screen."""
        return self.screen().count(text)

    def resize(self, width, height):
        tmux("resize-window", "-t", self.name, "-x", str(width),
             "-y", str(height))
        self.width, self.height = width, height

    def check_widths(self):
        """No captured row is wider than the pane."""
        for row in self.rows():
            check(cell_width(row) <= self.width,
                  "row wider than %d: %r" % (self.width, row))

    def register(self, name, password="password1"):
        """Registers and logs in through the hidden password prompt."""
        self.line("/register %s" % name)
        self.wait_prompt("Password for %s:" % name)
        self.send(password)
        self.wait_prompt("Password for %s:" % name)
        check(password not in "\n".join(self.all_rows()),
              "password echoed")
        self.key("Enter")
        self.wait(r"logged in as %s" % re.escape(name))
