"""Two natterd processes on one MariaDB database: seq allocation across
nodes (issue 3). Starts its own MariaDB in a temporary folder on loopback.

Without a relay (no --redis) a node pushes live only to its own sessions;
the order every member sees is checked through sync, which reads the
database, and through the seqs the senders got in their acknowledgements.
"""

import os
import shutil
import subprocess
import tempfile
import threading

from natlib import *
import mariadb

CLIENTS_PER_NODE = 8
PER_CLIENT = 25

db = mariadb.script_db  # this script's MariaDB


def node(url):
    return start_natterd(["--store", url, "--rate-limit", "0",
                          "--db-threads", "4"])


def sync_all(c):
    """Every message above c's cursors, following `more`."""
    msgs = []
    while True:
        r = c.call("sync", limit=500, timeout=30)
        msgs += r["msgs"]
        if not r.get("more"):
            return msgs
        last = {}
        for m in r["msgs"]:
            last[m["conv"]] = m["seq"]
        for conv, seq in last.items():
            c.call("ack", conv=conv, seq=seq)


def mysql_schema_versions():
    """The versions of db/schema/mysql's migrations (NNN-what.sql)."""
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "db", "schema", "mysql")
    return sorted(int(f.split("-", 1)[0]) for f in os.listdir(d)
                  if f.endswith(".sql"))


@test
def nodes_start_together_on_a_fresh_database():
    """Two nodes migrating one empty database at once both come up (they
    serialize on a named lock). Started by hand: natlib's servers must be
    started from the main thread."""
    url = db().new_database()
    tmp = tempfile.mkdtemp(prefix="natmyc-")
    procs = []
    try:
        for i in range(2):
            log = open(os.path.join(tmp, "n%d.log" % i), "w+")
            procs.append((subprocess.Popen(
                [natterd_path(), "--listen", "127.0.0.1:0", "--data", tmp,
                 "--store", url, "--log-level", "info"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log), log))
        for p, log in procs:
            wait_until(lambda: "listening on" in open(log.name).read() or
                       p.poll() is not None, timeout=30, what="node start")
            check(p.poll() is None, "node exited:\n" + open(log.name).read())
    finally:
        for p, log in procs:
            p.terminate()
            p.wait(10)
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    rows = db().sql("SELECT version FROM schema_version ORDER BY version",
                    db=url.rsplit("/", 1)[1])
    check_eq(rows, [[str(v)] for v in mysql_schema_versions()],
             "schema_version rows: each migration once")
    a, b = new_user(node(url)), new_user(node(url))
    a.call("friend_add", name=b.name)
    check_eq(a.call("send", to={"user": b.uid}, body="hi",
                    cmid="x")["msg"]["seq"], 1)


@test
def two_nodes_one_group_gapless_same_order():
    """16 clients on two nodes send into one group at once: seqs 1..N with
    no gap or duplicate, and every member reads the same order."""
    url = db().new_database()
    nodes = [node(url), node(url)]
    clients = [new_user(nodes[i % 2]) for i in range(2 * CLIENTS_PER_NODE)]
    gname = uniq("grp")
    gid = clients[0].call("group_create", name=gname)["group"]["id"]
    for c in clients[1:]:
        c.call("group_join", group=gid)
    total = len(clients) * PER_CLIENT
    acked = {}          # cmid -> seq from the send reply
    errors = []
    barrier = threading.Barrier(len(clients))

    def talk(c):
        try:
            barrier.wait(20)
            reqs = [(c.send_req("send", to={"group": gid},
                                body="%s says %d" % (c.name, k),
                                cmid="%s-%d" % (c.name, k)),
                     "%s-%d" % (c.name, k)) for k in range(PER_CLIENT)]
            for q, cmid in reqs:
                r = c.wait_reply(q, timeout=60)
                check_ok(r, cmid)
                acked[cmid] = r["msg"]["seq"]
        except Exception as e:
            errors.append("%s: %r" % (c.name, e))

    ts = [threading.Thread(target=talk, args=(c,), daemon=True)
          for c in clients]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    check_eq(errors, [], "send errors")
    check_eq(sorted(acked.values()), list(range(1, total + 1)),
             "acknowledged seqs")
    want = sorted(acked.items(), key=lambda kv: kv[1])
    for c in clients:
        msgs = [m for m in sync_all(c) if m["conv"] == "g:%d" % gid]
        check_eq([(m["cmid"], m["seq"]) for m in msgs], want,
                 "%s's order" % c.name)
    rows = db().sql("SELECT COUNT(*), COUNT(DISTINCT seq), MIN(seq), "
                    "MAX(seq) FROM messages WHERE conv = 'g:%d'" % gid,
                    db=url.rsplit("/", 1)[1])
    check_eq(rows, [[str(total), str(total), "1", str(total)]],
             "messages in MariaDB")
    for n in nodes:
        check(n.alive(), "a node died")


@test
def same_cmid_on_both_nodes_stored_once():
    """One user retrying a send through the other node at the same time:
    one message, both replies name it."""
    url = db().new_database()
    nodes = [node(url), node(url)]
    a = new_user(nodes[0])
    b = new_user(nodes[1])
    a.call("friend_add", name=b.name)  # no relay: no event across nodes
    a2 = Conn(nodes[1])
    a2.login(a.name)
    for k in range(20):
        cmid = "dup-%d" % k
        qa = a.send_req("send", to={"user": b.uid}, body="x", cmid=cmid)
        qb = a2.send_req("send", to={"user": b.uid}, body="x", cmid=cmid)
        ra, rb = a.wait_reply(qa), a2.wait_reply(qb)
        check_ok(ra)
        check_ok(rb)
        check_eq(ra["msg"]["seq"], rb["msg"]["seq"], cmid)
        check_eq(ra["msg"]["seq"], k + 1, cmid)
    rows = db().sql("SELECT COUNT(*) FROM messages",
                    db=url.rsplit("/", 1)[1])
    check_eq(rows, [["20"]])


run()
