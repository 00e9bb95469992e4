#!/usr/bin/env python3
"""Concurrency: many clients sending into one group at once must produce
one gapless order that every member agrees on."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from natlib import *  # noqa: E402,F401,F403

CLIENTS = 8
PER_CLIENT = 50


def setup_group(srv, n):
    users = [new_user(srv, name=uniq("c%d_" % i)) for i in range(n)]
    gid = users[0].call("group_create", name=uniq("conc"))["group"]["id"]
    for u in users[1:]:
        u.call("group_join", group=gid)
    # wait until the creator has seen every join, so all are members
    for u in users[1:]:
        users[0].wait_event("group_joined",
                            lambda e, u=u: e["user"]["id"] == u.uid)
    for u in users:
        u.drop_events()
    return users, gid


def drain_msgs(c, conv, want, timeout=20):
    """Reads msg events for conv until `want` distinct seqs or timeout;
    returns the list of (seq, cmid) in arrival order."""
    seen = []
    have = set()
    deadline = time.monotonic() + timeout
    for e in list(c.events):
        if e.get("type") == "msg" and e.get("conv") == conv:
            seen.append((e["seq"], e["cmid"], e["body"]))
            have.add(e["seq"])
    c.drop_events("msg")
    while len(have) < want and time.monotonic() < deadline:
        f = c.read_frame(max(deadline - time.monotonic(), 0.05))
        if f is None:
            break
        if f.get("type") == "msg" and "req" not in f and \
                f.get("conv") == conv:
            seen.append((f["seq"], f["cmid"], f["body"]))
            have.add(f["seq"])
    return seen


def run_burst(srv, pipelined):
    users, gid = setup_group(srv, CLIENTS)
    conv = "g:%d" % gid
    total = CLIENTS * PER_CLIENT
    replies = [None] * CLIENTS
    pushed = [None] * CLIENTS
    errors = []
    barrier = threading.Barrier(CLIENTS)

    def sender(i):
        u = users[i]
        try:
            barrier.wait(10)
            out = []
            if pipelined:
                reqs = [u.send_req("send", to={"group": gid},
                                   body="u%d m%d" % (i, k),
                                   cmid="u%d-%d" % (i, k))
                        for k in range(PER_CLIENT)]
                out = [u.wait_reply(q, timeout=60) for q in reqs]
            else:
                for k in range(PER_CLIENT):
                    q = u.send_req("send", to={"group": gid},
                                   body="u%d m%d" % (i, k),
                                   cmid="u%d-%d" % (i, k))
                    out.append(u.wait_reply(q, timeout=60))
            replies[i] = out
            # keep reading so that no member becomes a slow consumer
            pushed[i] = drain_msgs(u, conv, total - PER_CLIENT, timeout=30)
        except Exception as e:  # reported below
            errors.append("client %d: %r" % (i, e))

    threads = [threading.Thread(target=sender, args=(i,), daemon=True)
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    check(not any(t.is_alive() for t in threads), "senders finished")
    check_eq(errors, [], "sender errors")
    seq_of = {}
    for i, rs in enumerate(replies):
        check_eq(len(rs), PER_CLIENT, "replies of client %d" % i)
        for k, r in enumerate(rs):
            check_ok(r, "client %d send %d" % (i, k))
            check_eq(r["msg"]["conv"], conv)
            seq_of[(i, k)] = r["msg"]["seq"]
    check_eq(sorted(seq_of.values()), list(range(1, total + 1)),
             "seqs 1..%d, no gap or duplicate" % total)
    truth = {s: "u%d m%d" % ik for ik, s in seq_of.items()}
    # every member: pushes agree with the replies, sync has everything
    for i, u in enumerate(users):
        others = [(s, b) for s, _, b in pushed[i]]
        check(all(not b.startswith("u%d " % i) for _, b in others),
              "member %d: own messages pushed to the sending session" % i)
        for s, b in others:
            check_eq(b, truth.get(s), "member %d: body of seq %d" % (i, s))
        check_eq(len({s for s, _ in others}), len(others),
                 "member %d: no duplicate pushes" % i)
        synced = []
        for _ in range(10):
            r = u.call("sync", limit=500)
            synced += [(m["seq"], m["body"]) for m in r["msgs"]
                       if m["conv"] == conv]
            if not r["more"]:
                break
            last = r["msgs"][-1]
            u.call("ack", conv=last["conv"], seq=last["seq"])
        check_eq(synced, sorted(truth.items()),
                 "member %d: sync has every message in seq order" % i)
    hist = users[0].call("history", conv=conv, limit=total)["msgs"]
    check_eq([(m["seq"], m["body"]) for m in hist], sorted(truth.items()),
             "history")
    # one sender's messages keep their order
    for i, rs in enumerate(replies):
        seqs = [r["msg"]["seq"] for r in rs]
        check_eq(seqs, sorted(seqs), "client %d's messages in send order"
                 % i)
    return pushed


def check_push_order(pushed):
    """Each member got every push, in seq order (so a client that acks the
    highest seq it saw never skips a message)."""
    total = CLIENTS * PER_CLIENT
    for i in range(CLIENTS):
        seqs = [s for s, _, _ in pushed[i]]
        check_eq(len(seqs), total - PER_CLIENT,
                 "member %d: pushes received" % i)
        check(seqs == sorted(seqs), "member %d: pushes out of seq order: "
              "%s" % (i, [p for p, q in zip(seqs, sorted(seqs)) if p != q]
                      [:10]))


@test
def group_burst_pipelined():
    srv = start_natterd(["--rate-limit", "0", "--workers", "2",
                         "--db-threads", "2"])
    run_burst(srv, pipelined=True)


@test
def group_burst_lockstep():
    srv = start_natterd(["--rate-limit", "0", "--workers", "2",
                         "--db-threads", "4"])
    run_burst(srv, pipelined=False)


@test
def group_push_order():
    srv = start_natterd(["--rate-limit", "0"])
    check_push_order(run_burst(srv, pipelined=True))


@test
def direct_pairs_concurrent():
    """Pairs of friends chatting at once: each conversation gapless."""
    srv = start_natterd(["--rate-limit", "0"])
    pairs = []
    for _ in range(4):
        a = new_user(srv)
        b = new_user(srv)
        make_friends(a, b)
        pairs.append((a, b))
    results = {}
    errors = []
    barrier = threading.Barrier(8)

    def talk(me, other, tag):
        try:
            barrier.wait(10)
            reqs = [me.send_req("send", to={"user": other.uid},
                                body="%s %d" % (tag, k),
                                cmid="%s-%d" % (tag, k))
                    for k in range(40)]
            results[tag] = [me.wait_reply(q, timeout=60) for q in reqs]
        except Exception as e:
            errors.append("%s: %r" % (tag, e))

    threads = []
    for n, (a, b) in enumerate(pairs):
        threads.append(threading.Thread(target=talk, args=(a, b, "a%d" % n),
                                        daemon=True))
        threads.append(threading.Thread(target=talk, args=(b, a, "b%d" % n),
                                        daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    check_eq(errors, [])
    for n, (a, b) in enumerate(pairs):
        seqs = []
        for tag in ("a%d" % n, "b%d" % n):
            for r in results[tag]:
                check_ok(r, tag)
                seqs.append(r["msg"]["seq"])
        check_eq(sorted(seqs), list(range(1, 81)), "pair %d seqs" % n)
        h = a.call("history", conv=results["a%d" % n][0]["msg"]["conv"],
                   limit=100)["msgs"]
        check_eq([m["seq"] for m in h], list(range(1, 81)))


def race(fns):
    """Runs the functions at once in threads; returns their results."""
    out = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def go(i):
        try:
            barrier.wait(10)
            out[i] = fns[i]()
        except Exception as e:
            out[i] = e

    ts = [threading.Thread(target=go, args=(i,), daemon=True)
          for i in range(len(fns))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


@test
def register_same_name_race():
    srv = start_natterd(["--rate-limit", "0", "--db-threads", "4"])
    for round_ in range(3):
        name = uniq("race")
        conns = [Conn(srv) for _ in range(8)]
        rs = race([lambda c=c: c.request("register", name=name,
                                         password=PASSWORD)
                   for c in conns])
        for r in rs:
            check(isinstance(r, dict), "a reply: %r" % (r,))
        oks = [r for r in rs if r.get("ok")]
        check_eq(len(oks), 1, "exactly one register wins")
        for r in rs:
            if not r.get("ok"):
                check_err(r, "name_taken")


@test
def friend_add_both_ways_race():
    srv = start_natterd(["--rate-limit", "0", "--db-threads", "4"])
    for _ in range(5):
        a = new_user(srv)
        b = new_user(srv)
        rs = race([lambda: a.request("friend_add", name=b.name),
                   lambda: b.request("friend_add", name=a.name)])
        for r in rs:
            check(isinstance(r, dict), "a reply: %r" % (r,))
            check_ok(r, "friend_add in a race")
        check_eq([f["id"] for f in a.call("friends")["friends"]], [b.uid])
        check_eq([f["id"] for f in b.call("friends")["friends"]], [a.uid])
        r = a.call("send", to={"user": b.uid}, body="x", cmid="x")
        check_eq(r["msg"]["seq"], 1)


@test
def same_cmid_from_two_sessions_race():
    srv = start_natterd(["--rate-limit", "0", "--db-threads", "4"])
    a = new_user(srv)
    b = new_user(srv)
    make_friends(a, b)
    sessions = [a] + [Conn(srv) for _ in range(3)]
    for s in sessions[1:]:
        s.login(a.name, a.password)
    for k in range(5):
        rs = race([lambda s=s: s.request("send", to={"user": b.uid},
                                         body="once %d" % k,
                                         cmid="dup-%d" % k)
                   for s in sessions])
        for r in rs:
            check(isinstance(r, dict), "a reply: %r" % (r,))
            check_ok(r, "duplicate send %d" % k)
        check_eq({r["msg"]["seq"] for r in rs}, {k + 1},
                 "round %d: one seq for one cmid" % k)
    h = b.call("history", conv=rs[0]["msg"]["conv"])["msgs"]
    check_eq([m["body"] for m in h], ["once %d" % k for k in range(5)])


@test
def group_join_race():
    srv = start_natterd(["--rate-limit", "0", "--db-threads", "4"])
    a = new_user(srv)
    gid = a.call("group_create", name=uniq("g"))["group"]["id"]
    b = new_user(srv)
    sessions = [b] + [Conn(srv) for _ in range(3)]
    for s in sessions[1:]:
        s.login(b.name, b.password)
    rs = race([lambda s=s: s.request("group_join", group=gid)
               for s in sessions])
    oks = [r for r in rs if isinstance(r, dict) and r.get("ok")]
    check_eq(len(oks), 1, "one join wins: %r" % (rs,))
    for r in rs:
        if not r.get("ok"):
            check_err(r, "already_member")
    ms = a.call("group_members", group=gid)["members"]
    check_eq(sorted(m["id"] for m in ms), sorted([a.uid, b.uid]))


@test
def many_connections_login_at_once():
    srv = start_natterd(["--rate-limit", "0"])
    names = [uniq("m") for _ in range(30)]
    c0 = Conn(srv)
    for n in names:
        c0.register(n)
    conns = [Conn(srv) for _ in names]
    reqs = [c.send_req("login", name=n, password=PASSWORD)
            for c, n in zip(conns, names)]
    for c, q, n in zip(conns, reqs, names):
        r = c.wait_reply(q, timeout=30)
        check_ok(r, "login " + n)
        check_eq(r["user"]["name"], n)
    # all of them now talk in one group
    gid = conns[0].call("group_create", name=uniq("big"))["group"]["id"]
    jr = [c.send_req("group_join", group=gid) for c in conns[1:]]
    for c, q in zip(conns[1:], jr):
        check_ok(c.wait_reply(q, timeout=30))
    ms = conns[5].call("group_members", group=gid)["members"]
    check_eq(len(ms), 30)
    check(all(m["online"] for m in ms), "all online")


if __name__ == "__main__":
    run()
