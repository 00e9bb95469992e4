"""natterd on MariaDB through database faults (issue 3): MariaDB stopped
and started again under load, every pool connection killed from the
server side, idle connections timed out, and an unreachable database at
start-up; and the database reached over its Unix socket. Starts its own
MariaDB in a temporary folder on loopback.

What must hold: nothing is acknowledged without a commit (every send that
got ok is in the database exactly once, with the seq it was given), a
send that got `unavailable` is retried with the same cmid and stored once,
the conversation stays gapless, natterd never restarts, and requests that
need no storage keep working while the database is down.
"""

import os
import subprocess
import threading
import time
import urllib.parse

from natlib import *
import mariadb

db = mariadb.script_db  # this script's MariaDB


def dbname(url):
    return url.rsplit("/", 1)[1]


def node(url, *extra):
    return start_natterd(["--store", url, "--rate-limit", "0",
                          "--db-threads", "4"] + list(extra))


def group_of(srv, n):
    """n logged-in members of a new group; returns (clients, gid)."""
    clients = [new_user(srv) for _ in range(n)]
    gid = clients[0].call("group_create", name=uniq("grp"))["group"]["id"]
    for c in clients[1:]:
        c.call("group_join", group=gid)
    return clients, gid


class Sender(threading.Thread):
    """Sends into a group until told to stop, one request at a time; on
    `unavailable` retries the same cmid until it gets ok."""

    def __init__(self, c, gid, stop):
        super().__init__(daemon=True)
        self.c, self.gid, self.stop = c, gid, stop
        self.acked = {}          # cmid -> seq
        self.unavailable = 0
        self.first_ok_after = {}  # cmid -> time of ok after unavailable
        self.error = None

    def send_until_ok(self, cmid):
        deadline = time.monotonic() + 45
        saw_unavailable = False
        while True:
            r = self.c.request("send", to={"group": self.gid},
                               body="body of " + cmid, cmid=cmid,
                               timeout=30)
            if r.get("ok"):
                self.acked[cmid] = r["msg"]["seq"]
                if saw_unavailable:
                    self.first_ok_after[cmid] = time.monotonic()
                return
            check_err(r, "unavailable", cmid)
            self.unavailable += 1
            saw_unavailable = True
            check(time.monotonic() < deadline, "%s never stored" % cmid)
            time.sleep(0.1)

    def run(self):
        try:
            k = 0
            while not self.stop.is_set():
                self.send_until_ok("%s-%d" % (self.c.name, k))
                k += 1
                time.sleep(0.01)
        except Exception as e:
            self.error = repr(e)


def check_stored(url, gid, senders):
    """Every acknowledged send is in MariaDB once, with its seq; the
    conversation is gapless."""
    rows = db().sql("SELECT CAST(cmid AS CHAR), seq FROM messages "
                    "WHERE conv = 'g:%d' ORDER BY seq" % gid,
                    db=dbname(url))
    stored = [(r[0], int(r[1])) for r in rows]
    acked = {}
    for s in senders:
        acked.update(s.acked)
    check_eq([seq for _, seq in stored], list(range(1, len(stored) + 1)),
             "stored seqs")
    check_eq(len(set(c for c, _ in stored)), len(stored), "duplicate cmids")
    check_eq(sorted(stored), sorted(acked.items()),
             "stored (cmid, seq) vs acknowledged")


@test
def mariadb_restart_under_load():
    """MariaDB down for 5 s while 6 clients send: acknowledged means
    stored once; unavailable sends retried and stored once; ping and the
    sessions survive; the pool recovers within seconds."""
    url = db().new_database()
    srv = node(url)
    pid = srv.proc.pid
    clients, gid = group_of(srv, 6)
    watcher = new_user(srv)
    stop = threading.Event()
    senders = [Sender(c, gid, stop) for c in clients]
    for s in senders:
        s.start()
    time.sleep(1.0)
    db().stop_server()
    down_at = time.monotonic()
    time.sleep(1.0)
    # While MariaDB is down: no storage, but natterd answers.
    watcher.call("ping")
    r = watcher.request("send", to={"group": gid}, body="x", cmid="w-1")
    check_err(r, "unavailable", "send while MariaDB is down")
    time.sleep(max(0.0, 5.0 - (time.monotonic() - down_at)))
    db().start()
    up_at = time.monotonic()
    time.sleep(3.0)
    stop.set()
    for s in senders:
        s.join(60)
        check(s.error is None, "sender: %s" % s.error)
    check(srv.alive() and srv.proc.pid == pid, "natterd restarted or died")
    check(sum(s.unavailable for s in senders) > 0,
          "no send saw the outage")
    oks = [t for s in senders for t in s.first_ok_after.values()]
    check(oks, "nobody was retried")
    check(max(oks) - up_at < 5.0,
          "recovery took %.1fs after MariaDB was back" % (max(oks) - up_at))
    check_stored(url, gid, senders)
    print("    %d sends acknowledged, %d unavailable answers, recovered "
          "%.1fs after MariaDB was back" %
          (sum(len(s.acked) for s in senders),
           sum(s.unavailable for s in senders), max(oks) - up_at))
    for c in clients + [watcher]:
        c.call("ping")


@test
def killed_pool_connections_recover():
    """KILL every pool connection from the server side: the next requests
    reconnect and succeed, none answers unavailable."""
    url = db().new_database()
    srv = node(url)
    clients, gid = group_of(srv, 4)
    killed = db().kill_connections()
    check(killed >= 4, "only %d connections to kill" % killed)
    seqs = []
    for k in range(40):
        c = clients[k % 4]
        r = c.request("send", to={"group": gid}, body="after kill %d" % k,
                      cmid="k-%d" % k)
        check_ok(r, "send %d after KILL" % k)
        seqs.append(r["msg"]["seq"])
    check_eq(seqs, list(range(1, 41)))
    check(len(db().connection_ids()) >= 1, "no connection reopened")
    # Again, mid-traffic, with reads too.
    db().kill_connections()
    for c in clients:
        check_ok(c.request("groups"), "groups after the second KILL")
        check_ok(c.request("sync"), "sync after the second KILL")
    check(srv.alive(), "natterd died")


@test
def idle_connections_timed_out_recover():
    """wait_timeout closes idle pool connections; the next request
    reconnects."""
    url = db().new_database()
    db().sql("SET GLOBAL wait_timeout = 1")
    try:
        srv = node(url)
        clients, gid = group_of(srv, 2)
        time.sleep(2.5)
        for k in range(8):
            r = clients[k % 2].request("send", to={"group": gid},
                                       body="idle %d" % k, cmid="i-%d" % k)
            check_ok(r, "send after wait_timeout")
    finally:
        db().sql("SET GLOBAL wait_timeout = 28800")


@test
def unreachable_database_at_start_is_fatal():
    """natterd refuses to start, with a clear message, when the database
    is not there at start-up (later outages are survived)."""
    with socket_closed_port() as port:
        url = "mysql://natter:pw@127.0.0.1:%d/natter" % port
        t0 = time.monotonic()
        p = subprocess.run([natterd_path(), "--listen", "127.0.0.1:0",
                            "--data", "/tmp", "--store", url],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    check(p.returncode != 0, "natterd started without its database")
    check("127.0.0.1" in out and "natter" in out, "unclear message: " + out)
    check(":pw@" not in out, "password in the message: " + out)
    check(time.monotonic() - t0 < 15, "took too long to give up")


@test
def store_over_the_unix_socket():
    """`?socket=PATH` in the store URL: natterd talks to MariaDB over that
    Unix socket (the server sees its connections from localhost) and
    stores as over TCP."""
    url = db().new_database()
    sock_url = "mysql://natter:%s@localhost/%s?socket=%s" % (
        mariadb.PASSWORD, dbname(url), urllib.parse.quote(db().sock, safe=""))
    srv = node(sock_url)
    clients, gid = group_of(srv, 2)
    for k in range(20):
        check_ok(clients[k % 2].request("send", to={"group": gid},
                                        body="over the socket %d" % k,
                                        cmid="s-%d" % k), "send %d" % k)
    rows = db().sql("SELECT COUNT(*) FROM messages WHERE conv = 'g:%d'" %
                    gid, db=dbname(url))
    check_eq(int(rows[0][0]), 20, "stored")
    hosts = db().sql("SELECT DISTINCT host FROM information_schema."
                     "processlist WHERE user = 'natter' AND db = '%s'" %
                     dbname(url))
    check_eq([h[0] for h in hosts], ["localhost"], "connections' host")
    check(srv.alive(), "natterd died")


@test
def bad_store_url_query_is_fatal():
    """A query other than socket=PATH in the store URL: natterd refuses to
    start and says what it wants."""
    p = subprocess.run([natterd_path(), "--listen", "127.0.0.1:0",
                        "--data", "/tmp", "--store",
                        "mysql://natter:pw@localhost/natter?sock=/x"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    check(p.returncode != 0, "natterd started with a bad URL")
    check("socket=PATH" in out, "unclear message: " + out)


class socket_closed_port:
    """A loopback port with nothing listening."""

    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *a):
        return False


run()
