#!/usr/bin/env python3
"""Delivery: offline messages through sync and ack, history paging,
presence, cmid retries, several sessions per user, slow consumers and
persistence across a restart."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403


def dconv(x, y):
    lo, hi = sorted((x, y))
    return "d:%d:%d" % (lo, hi)


def login_again(srv, who):
    c = Conn(srv)
    c.login(who.name, who.password)
    return c


def pair(srv=None):
    srv = srv or shared_server()
    a = new_user(srv)
    b = new_user(srv)
    make_friends(a, b)
    return a, b


@test
def offline_delivery_sync_ack():
    srv = shared_server()
    a, b = pair(srv)
    conv = dconv(a.uid, b.uid)
    b.close()
    a.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
    sent = []
    for i in range(5):
        r = a.call("send", to={"user": b.uid}, body="offline %d" % i,
                   cmid="o%d" % i)
        sent.append((r["msg"]["seq"], r["msg"]["ts"]))
    check_eq([s for s, _ in sent], [1, 2, 3, 4, 5])
    b2 = login_again(srv, b)
    e = a.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
    check_eq(e["online"], True)
    msgs = b2.call("sync")["msgs"]
    check_eq([(m["conv"], m["seq"], m["ts"], m["body"], m["cmid"],
               m["from"]["id"], m["to"]) for m in msgs],
             [(conv, s, ts, "offline %d" % i, "o%d" % i, a.uid,
               {"user": b.uid}) for i, (s, ts) in enumerate(sent)])
    # sync again without ack: the same messages
    check_eq([m["seq"] for m in b2.call("sync")["msgs"]], [1, 2, 3, 4, 5])
    b2.call("ack", conv=conv, seq=3)
    check_eq([m["seq"] for m in b2.call("sync")["msgs"]], [4, 5])
    b2.call("ack", conv=conv, seq=5)
    check_eq(b2.call("sync")["msgs"], [], "empty after ack")
    # the cursor is per user: a new session of b sees it too
    b3 = login_again(srv, b)
    check_eq(b3.call("sync")["msgs"], [], "empty for another session")
    # an ack never moves the cursor back
    b3.call("ack", conv=conv, seq=1)
    check_eq(b3.call("sync")["msgs"], [], "ack below the cursor ignored")
    # a's own messages are still above a's cursor
    check_eq(len(a.call("sync")["msgs"]), 5)


@test
def sync_pages_with_more():
    srv = shared_server()
    a, b = pair(srv)
    gid = a.call("group_create", name=uniq("g"))["group"]["id"]
    b.call("group_join", group=gid)
    b.close()
    for i in range(12):
        to = {"user": b.uid} if i % 2 else {"group": gid}
        a.call("send", to=to, body="p%d" % i, cmid="p%d" % i)
    b = login_again(srv, b)
    seen = []
    for _ in range(10):
        r = b.call("sync", limit=5)
        check(len(r["msgs"]) <= 5, "limit respected")
        seen += [m["body"] for m in r["msgs"]]
        for m in r["msgs"]:
            b.call("ack", conv=m["conv"], seq=m["seq"])
        if not r["more"]:
            break
    check_eq(seen, ["p%d" % i for i in range(12)],
             "everything once, oldest first across conversations")
    check_eq(b.call("sync")["msgs"], b.call("sync")["msgs"], "stable")
    check_eq(b.call("sync")["msgs"], [])


@test
def group_offline_delivery():
    srv = shared_server()
    a = new_user(srv)
    b = new_user(srv)
    c = new_user(srv)
    gid = a.call("group_create", name=uniq("g"))["group"]["id"]
    for m in (b, c):
        m.call("group_join", group=gid)
    c.call("logout")
    for i in range(3):
        b.call("send", to={"group": gid}, body="g%d" % i, cmid="g%d" % i)
    for i in range(3):
        e = a.wait_event("msg", lambda e, i=i: e["body"] == "g%d" % i)
        check_eq(e["seq"], i + 1)
    c.login(c.name)
    msgs = c.call("sync")["msgs"]
    check_eq([(m["conv"], m["seq"], m["body"], m["from"]["id"])
              for m in msgs],
             [("g:%d" % gid, i + 1, "g%d" % i, b.uid) for i in range(3)])
    # a member who joins later still reads history
    d = new_user(srv)
    d.call("group_join", group=gid)
    h = d.call("history", conv="g:%d" % gid)["msgs"]
    check_eq([m["seq"] for m in h], [1, 2, 3])


@test
def history_paging():
    a, b = pair()
    conv = dconv(a.uid, b.uid)
    n = 25
    for i in range(n):
        s = a if i % 3 else b
        o = b if i % 3 else a
        r = s.call("send", to={"user": o.uid}, body="h%d" % i,
                   cmid="h%d" % i)
        check_eq(r["msg"]["seq"], i + 1)
    full = b.call("history", conv=conv, limit=100)["msgs"]
    check_eq([m["body"] for m in full], ["h%d" % i for i in range(n)])
    check_eq(full, a.call("history", conv=conv, limit=100)["msgs"],
             "both sides see the same history")
    # page backwards 10 at a time
    pages = []
    before = None
    while True:
        f = {"conv": conv, "limit": 10}
        if before is not None:
            f["before"] = before
        page = b.call("history", f)["msgs"]
        if not page:
            break
        seqs = [m["seq"] for m in page]
        check_eq(seqs, sorted(seqs), "oldest first in a page")
        pages.append(seqs)
        before = seqs[0]
        check(len(pages) < 10, "paging terminates")
    check_eq(pages, [list(range(16, 26)), list(range(6, 16)),
                     list(range(1, 6))], "pages")
    default = b.call("history", conv=conv)["msgs"]
    check_eq([m["seq"] for m in default], list(range(1, 26)),
             "default limit 50")
    h = b.call("history", conv=conv, before=1000, limit=2)["msgs"]
    check_eq([m["seq"] for m in h], [24, 25], "before past the end")
    # history does not touch the sync cursor
    check_eq(len(b.call("sync", limit=500)["msgs"]), n)


@test
def presence_on_disconnect():
    srv = shared_server()
    a, b = pair(srv)
    c = new_user(srv)
    make_friends(c, b)
    b.close()
    for w in (a, c):
        e = w.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
        check_eq((e["user"], e["online"]),
                 ({"id": b.uid, "name": b.name}, False))
    b = login_again(srv, b)
    for w in (a, c):
        e = w.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
        check_eq(e["online"], True)
    # an abrupt drop (RST) counts too
    b.reset()
    e = a.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
    check_eq(e["online"], False)
    fl = {f["id"]: f["online"] for f in a.call("friends")["friends"]}
    check_eq(fl[b.uid], False, "offline in the friends list")
    # non-friends get nothing
    stranger = new_user(srv)
    b = login_again(srv, b)
    a.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
    b.close()
    a.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
    check_eq(stranger.pending("presence"), [], "stranger sees no presence")


@test
def presence_multi_session():
    srv = shared_server()
    a, b = pair(srv)
    b2 = login_again(srv, b)   # second session: no presence event
    b2.call("logout")          # not the last session: no presence event
    b3 = login_again(srv, b)
    b3.close()
    # b's remaining session talks, so a's queue is ordered after the above
    b.call("send", to={"user": a.uid}, body="marker1", cmid="mk1")
    a.wait_event("msg", lambda e: e["body"] == "marker1")
    check_eq(a.pending("presence"), [],
             "no presence for a second session coming and going")
    b.close()
    e = a.wait_event("presence", lambda e: e["user"]["id"] == b.uid)
    check_eq(e["online"], False)


@test
def multi_session_delivery():
    srv = shared_server()
    a, b = pair(srv)
    a2 = login_again(srv, a)
    b.call("send", to={"user": a.uid}, body="to both", cmid="x1")
    for s in (a, a2):
        e = s.wait_event("msg")
        check_eq((e["body"], e["from"]["id"]), ("to both", b.uid))
    # a's own message reaches a's other session and b, not the sender
    r = a.call("send", to={"user": b.uid}, body="from a", cmid="x2")
    e = a2.wait_event("msg")
    check_eq((e["body"], e["from"]["id"], e["to"], e["seq"]),
             ("from a", a.uid, {"user": b.uid}, r["msg"]["seq"]))
    e = b.wait_event("msg")
    check_eq(e["body"], "from a")
    check_eq(a.pending("msg"), [], "the sending session gets no copy")
    # group: the sender's other session gets it
    gid = a.call("group_create", name=uniq("g"))["group"]["id"]
    b.call("group_join", group=gid)
    a2.wait_event("group_joined")
    b.call("send", to={"group": gid}, body="grp", cmid="x3")
    for s in (a, a2):
        s.wait_event("msg", lambda e: e["body"] == "grp")
    a.call("send", to={"group": gid}, body="grp2", cmid="x4")
    a2.wait_event("msg", lambda e: e["body"] == "grp2")
    b.wait_event("msg", lambda e: e["body"] == "grp2")
    check_eq(a.pending("msg"), [])
    # sync from the other session includes own messages
    bodies = [m["body"] for m in a2.call("sync")["msgs"]]
    check_eq(bodies, ["to both", "from a", "grp", "grp2"])
    # logging out one session leaves the other receiving
    a.call("logout")
    b.call("send", to={"user": a.uid}, body="after logout", cmid="x5")
    a2.wait_event("msg", lambda e: e["body"] == "after logout")
    check_eq(a.pending("msg"), [], "logged-out session gets nothing")


@test
def cmid_retry_after_reconnect():
    srv = shared_server()
    a, b = pair(srv)
    r1 = a.call("send", to={"user": b.uid}, body="hello", cmid="retry-1")
    b.wait_event("msg")
    a.reset()
    a = login_again(srv, a)
    r2 = a.call("send", to={"user": b.uid}, body="hello", cmid="retry-1")
    check_eq((r2["msg"]["conv"], r2["msg"]["seq"]),
             (r1["msg"]["conv"], r1["msg"]["seq"]), "same conv/seq")
    # pipelined duplicates: all the same seq
    reqs = [a.send_req("send", to={"user": b.uid}, body="dup",
                       cmid="retry-2") for _ in range(5)]
    seqs = [a.wait_reply(q) for q in reqs]
    for r in seqs:
        check_ok(r, "duplicate send")
    check_eq(len({r["msg"]["seq"] for r in seqs}), 1, "one seq for a cmid")
    r3 = a.call("send", to={"user": b.uid}, body="last", cmid="retry-3")
    check_eq(r3["msg"]["seq"], 3, "no gap")
    h = b.call("history", conv=r1["msg"]["conv"])["msgs"]
    check_eq([(m["seq"], m["body"]) for m in h],
             [(1, "hello"), (2, "dup"), (3, "last")], "each stored once")
    check_eq([m["seq"] for m in b.call("sync")["msgs"]], [1, 2, 3])
    # the same cmid to another recipient: still the first message
    c = new_user(srv)
    make_friends(a, c)
    r4 = a.call("send", to={"user": c.uid}, body="hello", cmid="retry-1")
    check_eq((r4["msg"]["conv"], r4["msg"]["seq"]),
             (r1["msg"]["conv"], r1["msg"]["seq"]),
             "a cmid is the sender's: the first message's conv/seq")
    check_eq(c.call("sync")["msgs"], [], "nothing stored for c")


# A fast reader in its own process (a thread here would share the GIL with
# the sender and could be starved into looking slow): logs in, reads raw
# bytes and prints "got K" after every FAST_STEP msg frames, then "all"
# once it has N, or "closed K" / "timeout K".
FAST_STEP = 50
FAST_READER = r"""
import json, os, socket, sys, time
try:
    os.nice(-5)
except OSError:
    pass
port, name, pw, n, step = sys.argv[1:6]
port, n, step = int(port), int(n), int(step)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(json.dumps({"type": "login", "req": 1, "name": name,
                      "password": pw}).encode() + b"\n")
buf = bytearray()
while b"\n" not in buf:
    buf.extend(s.recv(65536))
print("ready", flush=True)
deadline = time.time() + 60
s.settimeout(1)
got, tail, told = 0, b"", 0
while time.time() < deadline:
    try:
        d = s.recv(1 << 20)
    except socket.timeout:
        continue
    if not d:
        print("closed", got, flush=True)
        sys.exit(0)
    # a marker may straddle two reads; 11 bytes never hold a whole one
    chunk = tail + d
    got += chunk.count(b'"type":"msg"')
    tail = chunk[-11:]
    if got >= n:
        print("all", flush=True)
        sys.exit(0)
    if got >= told + step:
        told = got - got % step
        print("got", got, flush=True)
print("timeout", got, flush=True)
"""


def fast_reader_wait(fast, want):
    """Reads the fast reader's lines until it has at least want msgs;
    returns its last line ("all" when it has every message)."""
    while True:
        line = fast.stdout.readline().strip()
        if line == "all" or (line.startswith("got ") and
                             int(line.split()[1]) >= want):
            return line
        if not line.startswith("got "):
            return line or "(exited)"


@test
def slow_consumer_closed_messages_kept():
    cap = 1 << 20
    srv = start_natterd(["--output-cap", str(cap), "--rate-limit", "0"])
    a, b = pair(srv)
    slow = Conn(srv, rcvbuf=4096)
    slow.login(b.name, b.password)
    body = "z" * 4000
    # more than the kernel can buffer (tcp_wmem max is 4 MB here) plus the
    # cap, so the server's own queue for the slow session must pass the cap
    n = 1500
    # the sends wait for the fast reader: it is never more than `ahead`
    # messages (600 KB, under the cap) behind, however the two cores are
    # shared, so only the session that does not read is cut off
    ahead = 150
    fast = subprocess.Popen([sys.executable, "-c", FAST_READER,
                             str(srv.port), b.name, b.password, str(n),
                             str(FAST_STEP)],
                            stdout=subprocess.PIPE, text=True)
    try:
        check_eq(fast.stdout.readline().strip(), "ready", "fast reader")
        done, last = [], ""
        for first in range(0, n, FAST_STEP):
            if first >= ahead and last != "all":
                last = fast_reader_wait(fast, first - ahead + FAST_STEP)
                check(last.startswith("got ") or last == "all",
                      "fast reader keeps up: %s" % last)
            reqs = [a.send_req("send", to={"user": b.uid}, body=body,
                               cmid="s%d" % i)
                    for i in range(first, first + FAST_STEP)]
            done += [a.wait_reply(q, timeout=30) for q in reqs]
        check(all(r.get("ok") for r in done), "every send ok")
        if last != "all":
            last = fast_reader_wait(fast, n + 1)
        check_eq(last, "all",
                 "the fast session (reading) got every message")
    finally:
        fast.kill()
        fast.wait()
    # the slow session is closed (after we read what it already got)
    slow.expect_closed(20)
    check(slow.frames_seen < n, "the slow session was cut off "
          "(saw %d frames)" % slow.frames_seen)
    # and everything is in storage for sync (pages well under the cap)
    b3 = login_again(srv, b)
    got = []
    for _ in range(n):
        r = b3.call("sync", limit=100)
        got += [m["seq"] for m in r["msgs"]]
        if not r["more"]:
            break
        last = r["msgs"][-1]
        b3.call("ack", conv=last["conv"], seq=last["seq"])
    check_eq(got, list(range(1, n + 1)), "all stored")


@test
def relogin_as_other_user_on_same_connection():
    srv = shared_server()
    x, y = pair(srv)
    z = new_user(srv)
    make_friends(z, x)
    c = Conn(srv)
    c.login(x.name, x.password)
    c.call("logout")
    c.login(y.name, y.password)
    z.call("send", to={"user": x.uid}, body="for x only", cmid="fx")
    x.wait_event("msg", lambda e: e["body"] == "for x only")
    x.call("send", to={"user": y.uid}, body="for y", cmid="fy")
    e = c.wait_event("msg")
    check_eq(e["body"], "for y", "the connection gets the new user's msgs")
    check_eq(c.pending("msg"), [], "nothing of the old user leaks")
    check_eq([m["body"] for m in c.call("sync")["msgs"]], ["for y"])


@test
def unfriend_stops_presence_and_delivery():
    srv = shared_server()
    a, b = pair(srv)
    a.call("friend_remove", user=b.uid)
    b2 = login_again(srv, b)
    b2.close()
    # a marker from a friend of a, after b's coming and going
    c = new_user(srv)
    make_friends(c, a)
    c.call("send", to={"user": a.uid}, body="marker", cmid="mk")
    a.wait_event("msg", lambda e: e["body"] == "marker")
    check_eq([e for e in a.pending("presence")
              if e["user"]["id"] == b.uid], [],
             "no presence from a former friend")


@test
def group_leave_stops_delivery():
    srv = shared_server()
    a = new_user(srv)
    b = new_user(srv)
    gid = a.call("group_create", name=uniq("g"))["group"]["id"]
    b.call("group_join", group=gid)
    a.call("send", to={"group": gid}, body="before", cmid="g1")
    b.wait_event("msg", lambda e: e["body"] == "before")
    b.call("group_leave", group=gid)
    a.wait_event("group_left")
    make_friends(a, b)
    a.call("send", to={"group": gid}, body="after", cmid="g2")
    # a direct marker from a, relayed after the group message
    a.call("send", to={"user": b.uid}, body="marker", cmid="g3")
    b.wait_event("msg", lambda e: e["body"] == "marker")
    check_eq([e["body"] for e in b.pending("msg")], [],
             "no push after leaving")
    check_eq([m["body"] for m in b.call("sync")["msgs"]
              if m["body"] == "after"], [], "no sync after leaving")
    b.fail("not_member", "history", conv="g:%d" % gid)


@test
def ack_past_the_end_does_not_hide_later_messages():
    a, b = pair()
    conv = dconv(a.uid, b.uid)
    a.call("send", to={"user": b.uid}, body="one", cmid="1")
    b.call("ack", conv=conv, seq=1000)
    check_eq(b.call("sync")["msgs"], [])
    r = a.call("send", to={"user": b.uid}, body="two", cmid="2")
    check_eq(r["msg"]["seq"], 2)
    check_eq([m["body"] for m in b.call("sync")["msgs"]], ["two"],
             "a later message is not hidden by an ack past the end")


@test
def acknowledged_sends_survive_sigkill():
    srv = start_natterd([])
    a, b = pair(srv)
    reqs = [a.send_req("send", to={"user": b.uid}, body="k%d" % i,
                       cmid="k%d" % i) for i in range(50)]
    got = [a.wait_reply(q) for q in reqs[:25]]
    srv.kill()
    try:
        for q in reqs[25:]:
            got.append(a.wait_reply(q, timeout=3))
    except (Closed, AssertionError):
        pass
    okseqs = {r["msg"]["seq"] for r in got if r.get("ok")}
    check(len(okseqs) >= 25, "25 sends acknowledged before the kill")
    srv2 = start_natterd([], data_dir=srv.data_dir)
    b2 = Conn(srv2)
    b2.login(b.name, b.password)
    stored = [m["seq"] for m in b2.call("sync")["msgs"]]
    check(okseqs <= set(stored), "acknowledged but lost after SIGKILL: %s"
          % sorted(okseqs - set(stored))[:10])
    check_eq(stored, list(range(1, len(stored) + 1)), "no gap")
    # The client sends all 50 again with their cmids (the server's memory
    # of recent cmids died with it): each is stored once, and an
    # acknowledged one keeps its seq.
    a2 = Conn(srv2)
    a2.login(a.name, a.password)
    again = [a2.call("send", to={"user": b.uid}, body="k%d" % i,
                     cmid="k%d" % i)["msg"]["seq"] for i in range(50)]
    for i, r in enumerate(got):
        if r.get("ok"):
            check_eq(again[i], r["msg"]["seq"], "retry of k%d" % i)
    msgs = b2.call("sync")["msgs"]
    check_eq(sorted(m["body"] for m in msgs),
             sorted("k%d" % i for i in range(50)), "each stored once")
    check_eq(sorted(again), list(range(1, 51)), "seqs 1..50")


@test
def sigkill_across_seq_rounds():
    """Thousands of sends, so that the SQLite writer lists them in msg_seqs
    in rounds (past 1,024 a round starts, a slice a commit), killed as the
    last hundred are sent: after a restart every acknowledged message is
    there, once, in order, in sync and in history (across the floor of
    msg_seqs, wherever the kill left it), and seqs carry on."""
    srv = start_natterd(["--rate-limit", "0"])
    a, b = pair(srv)
    c, d = pair(srv)
    n = 3000
    got, other = [], []
    for k in range(0, n, 100):
        reqs = [a.send_req("send", to={"user": b.uid}, body="r%d" % i,
                           cmid="r%d" % i) for i in range(k, k + 100)]
        oreq = c.send_req("send", to={"user": d.uid}, body="o%d" % k,
                          cmid="o%d" % k)
        if k == n - 100:
            srv.kill()  # the last hundred in flight
        try:
            got += [a.wait_reply(q, timeout=3) for q in reqs]
            other.append(c.wait_reply(oreq, timeout=3))
        except (Closed, AssertionError):
            break
    okseqs = sorted(r["msg"]["seq"] for r in got if r.get("ok"))
    check(len(okseqs) >= n - 100, "the sends before the kill acknowledged")
    srv2 = start_natterd(["--rate-limit", "0"], data_dir=srv.data_dir)
    b2 = login_again(srv2, b)
    stored = [m["seq"] for m in sync_all(b2)]
    check_eq(stored, list(range(1, len(stored) + 1)), "once each, no gap")
    check(set(okseqs) <= set(stored), "acknowledged but lost: %s"
          % sorted(set(okseqs) - set(stored))[:10])
    conv = dconv(a.uid, b.uid)
    last = len(stored)
    for before in (last + 1, last - 1100, 1030, 60):
        h = b2.call("history", conv=conv, before=before, limit=50)["msgs"]
        want = list(range(max(1, before - 50), min(before, last + 1)))
        check_eq([m["seq"] for m in h], want, "history before %d" % before)
        check(all(m["body"] == "r%d" % (m["seq"] - 1) for m in h),
              "bodies before %d" % before)
    d2 = login_again(srv2, d)
    ostored = [m["seq"] for m in sync_all(d2)]
    check_eq(ostored, list(range(1, len(ostored) + 1)), "the other conv")
    a2 = login_again(srv2, a)
    r = a2.call("send", to={"user": b.uid}, body="after", cmid="after")
    check_eq(r["msg"]["seq"], last + 1, "seqs carry on")


def sync_all(c, limit=None):
    """Syncs and acks until more is false; returns the messages."""
    out = []
    for _ in range(1000):
        r = c.call("sync", {"limit": limit} if limit else None)
        out += r["msgs"]
        if r["msgs"]:
            last = r["msgs"][-1]
            c.call("ack", conv=last["conv"], seq=last["seq"])
        if not r["more"]:
            return out
    raise AssertionError("sync never ends")


@test
def sync_reply_larger_than_output_cap():
    """A client asking for a big sync page is not a slow consumer: it must
    be able to fetch its backlog (the server may page by size)."""
    srv = start_natterd(["--output-cap", "65536", "--rate-limit", "0"])
    a, b = pair(srv)
    b.close()
    n = 60
    reqs = [a.send_req("send", to={"user": b.uid}, body="w" * 4000,
                       cmid="w%d" % i) for i in range(n)]
    for q in reqs:
        check_ok(a.wait_reply(q))
    b = login_again(srv, b)
    msgs = sync_all(b)   # the default limit: 500
    check_eq([m["seq"] for m in msgs], list(range(1, n + 1)))


@test
def sync_backlog_of_escaped_bodies_default_cap():
    """With the default output cap, 500 messages of 4096 control
    characters (each escaped to 6 bytes: a 12 MB page) must still sync."""
    srv = start_natterd(["--rate-limit", "0"])
    a, b = pair(srv)
    b.close()
    n = 500
    body = "\x01" * 4096
    reqs = [a.send_req("send", to={"user": b.uid}, body=body,
                       cmid="e%d" % i) for i in range(n)]
    for q in reqs:
        check_ok(a.wait_reply(q, timeout=30))
    b = login_again(srv, b)
    msgs = sync_all(b)
    check_eq(len(msgs), n)
    check(all(m["body"] == body for m in msgs), "bodies intact")


@test
def restart_persistence():
    srv = start_natterd(["--workers", "1", "--db-threads", "1"])
    a, b = pair(srv)
    gid = a.call("group_create", name=uniq("g"), desc="kept")["group"]["id"]
    b.call("group_join", group=gid)
    conv = dconv(a.uid, b.uid)
    for i in range(3):
        a.call("send", to={"user": b.uid}, body="keep %d" % i, cmid="k%d" % i)
    a.call("send", to={"group": gid}, body="group keep", cmid="kg")
    b.call("ack", conv=conv, seq=1)
    # pipelined sends, SIGTERM while some may be in flight
    reqs = [a.send_req("send", to={"user": b.uid}, body="late %d" % i,
                       cmid="l%d" % i) for i in range(30)]
    first = a.wait_reply(reqs[0])
    check_ok(first, "first late send")
    srv.terminate()
    acked = [first]
    try:
        for q in reqs[1:]:
            acked.append(a.wait_reply(q, timeout=5))
    except (Closed, AssertionError):
        pass
    acked = [r for r in acked if r.get("ok")]
    rc, took = srv.stop(expect_code=0, timeout=15)  # no second SIGTERM
    check(took < 10, "SIGTERM exit took %.1fs" % took)
    srv2 = start_natterd([], data_dir=srv.data_dir)
    b2 = Conn(srv2)
    b2.login(b.name, b.password)
    check_eq(b2.uid, b.uid, "same id after restart")
    fl = b2.call("friends")["friends"]
    check_eq([(f["id"], f["name"]) for f in fl], [(a.uid, a.name)])
    gl = b2.call("groups")["groups"]
    check_eq([(g["id"], g["desc"], g["role"]) for g in gl],
             [(gid, "kept", "member")])
    msgs = b2.call("sync")["msgs"]
    direct = [(m["seq"], m["body"]) for m in msgs if m["conv"] == conv]
    want = [(2, "keep 1"), (3, "keep 2")]
    check_eq(direct[:2], want, "unacked messages survive, acked do not")
    late = {m["body"] for m in msgs if m["body"].startswith("late")}
    for r in acked:
        check(r["msg"]["seq"] in {m["seq"] for m in msgs
                                  if m["conv"] == conv},
              "acknowledged send seq %d survives" % r["msg"]["seq"])
    check(len(late) >= len(acked), "every acknowledged send is stored")
    seqs = [s for s, _ in direct]
    check_eq(seqs, list(range(2, 2 + len(seqs))), "no gap")
    check_eq([m["body"] for m in msgs if m["conv"] == "g:%d" % gid],
             ["group keep"])
    # seq continues after the restart
    a2 = Conn(srv2)
    a2.login(a.name, a.password)
    r = a2.call("send", to={"user": b.uid}, body="after", cmid="after")
    check_eq(r["msg"]["seq"], 2 + len(seqs), "seq continues")
    # the cmid table survived too
    r = a2.call("send", to={"user": b.uid}, body="keep 0", cmid="k0")
    check_eq(r["msg"]["seq"], 1, "cmid retry after restart")
    srv2.stop(expect_code=0)


def _add_schema_version(srv, version):
    """Records a schema version in srv's stopped database, as a newer
    natterd's migration would (SQLite file, or the MariaDB database when
    the tests run on one)."""
    if "--store" in srv.args:
        import natlib
        url = srv.args[srv.args.index("--store") + 1]
        natlib._mysql.sql("INSERT INTO schema_version VALUES (%d, 'future', 0)"
                          % version, db=url.rsplit("/", 1)[1])
        return
    import sqlite3
    db = sqlite3.connect(os.path.join(srv.data_dir, "natter.db"))
    db.execute("INSERT INTO schema_version VALUES (?, 'future', 0)",
               (version,))
    db.commit()
    db.close()


@test
def newer_schema_refused():
    """A database a newer natterd migrated (a schema version this one does
    not know) is refused at start-up with the reason in the log: an older
    node must not run beside newer ones, whose caches rely on every node
    keeping what the newer schema promises."""
    srv = start_natterd()
    srv.stop(expect_code=0)
    _add_schema_version(srv, 999)
    try:
        start_natterd([], data_dir=srv.data_dir)
    except AssertionError as e:
        check("is version 999, newer than this natterd" in str(e),
              "the reason is logged: %s" % e)
    else:
        check(False, "natterd started on a newer schema")


if __name__ == "__main__":
    run()
