"""Three natterd nodes behind nginx (packaging/nginx/natter-stream.conf),
on one MariaDB database and one Redis relay, all started here on loopback.

nginx balances with `hash $remote_addr consistent`, so the clients bind
distinct source addresses (127.0.0.x) chosen to land on each node; the
checks are the cross-node paths: 1:1, groups, friend and presence events.
An idle client stays logged in for 60 s behind proxy_timeout 10s with
natterd --heartbeat 4, while the other tests run.
"""

import asyncio
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

import natlib
from natlib import test, run, check, check_eq, PASSWORD
from cluster import (Cluster, Client, Ledger, connect_all, check_delivery,
                     run_async, natterd_supports, NGINX_EXAMPLE,
                     nginx_config)

IDLE_SECONDS = 60
MAX_PER_ADDR = 8
_cl = None
_idle = None


def cluster():
    global _cl
    if _cl is None:
        # A silent client relies on natterd's pings alone (idle-timeout
        # far above 2 x heartbeat); nginx's PROXY lines when natterd has
        # --proxy-from, and then a per-address limit to see them work.
        extra = ["--idle-timeout", "120"]
        if natterd_supports("--proxy-from"):
            extra += ["--max-clients-per-addr", str(MAX_PER_ADDR)]
        _cl = Cluster(nodes=3, heartbeat=4, proxy_timeout=10,
                      extra_args=extra, persistent=True)
    return _cl


class IdleClient(threading.Thread):
    """Logs in through nginx, then says nothing; notes natterd's pings
    and whether the connection ends."""

    def __init__(self, cl, src):
        super().__init__(daemon=True)
        self.cl, self.src = cl, src
        self.pings, self.closed_at, self.err = [], None, None
        s = socket.create_connection(("127.0.0.1", cl.port), 5, (src, 0))
        self.sock, self.f = s, s.makefile("rb")
        name = natlib.uniq("idle")
        for i, (t, extra) in enumerate([
                ("hello", ',"proto":1,"client":"idle"'),
                ("register", ',"name":"%s","password":"%s"' % (name,
                                                               PASSWORD)),
                ("login", ',"name":"%s","password":"%s"' % (name,
                                                            PASSWORD))]):
            s.sendall(('{"type":"%s","req":%d%s}\n' % (t, i + 1,
                                                       extra)).encode())
        self.t0 = time.monotonic()

    def run(self):
        self.sock.settimeout(None)
        try:
            for line in self.f:
                f = json.loads(line)
                if f.get("type") == "ping" and "req" not in f:
                    self.pings.append(time.monotonic())
                elif "req" in f:
                    if f.get("ok") is not True:
                        self.err = "request failed: %r" % f
        except OSError as e:
            self.err = repr(e)
        self.closed_at = time.monotonic()

    def ping_round_trip(self):
        self.sock.sendall(b'{"type":"ping","req":99}\n')


@test
def nginx_example_config_is_valid():
    """`nginx -t` accepts the example as shipped and as tests rewrite it."""
    d = tempfile.mkdtemp(prefix="natnginx-t-")
    try:
        for conf in (NGINX_EXAMPLE, os.path.join(d, "gen.conf")):
            if conf != NGINX_EXAMPLE:
                with open(conf, "w") as f:
                    f.write(nginx_config([6000, 6001], 16667, 10, False))
            r = subprocess.run(["nginx", "-t", "-p", d, "-c", conf, "-e",
                                "stderr"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            check(r.returncode == 0, "nginx -t %s:\n%s" % (conf, r.stdout))
        with open(NGINX_EXAMPLE) as f:
            text = f.read()
        for want in ("hash $remote_addr consistent", "max_fails=",
                     "fail_timeout=", "proxy_timeout 90s",
                     "proxy_protocol on", "load_module"):
            check(want in text, "example lacks %r" % want)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@test
def three_nodes_one_to_one_groups_presence():
    global _idle
    cl = cluster()
    addrs = cl.addresses(per_node=2)
    names = sorted(addrs)
    check_eq(len(names), 3, "nodes reached through nginx")
    for n in cl.nodes:  # the Redis relay's thread, named for top -H
        threads = natlib.thread_names(n.proc.pid)
        check("relay" in threads, "threads: %r" % threads)
    _idle = IdleClient(cl, addrs[names[0]][1])
    _idle.start()
    run_async(_cross_node(cl, addrs, names), timeout=80)


async def _cross_node(cl, addrs, names):
    ledger = Ledger()
    # Two users per node, one watcher that comes and goes on the last.
    us = [Client(cl, addrs[n][0], ledger) for n in names for _ in (0, 1)]
    await connect_all(us)
    for i, u in enumerate(us):
        check_eq(u.node, names[i // 2], "%s lands on" % u.src)
    a, b, c = us[0], us[2], us[4]           # one per node
    # Friendship across nodes: the other side hears of it at once.
    pairs = [(a, b), (b, c), (c, a), (us[1], us[3]), (us[3], us[5])]
    for x, y in pairs:
        await x.call("friend_add", name=y.name)
    for x, y in pairs:
        await _wait(lambda: any(e.get("type") == "friend_added" and
                                e["friend"]["id"] == x.uid
                                for e in y.events), 5,
                    "%s's friend_added (%s -> %s)" % (y.name, x.node,
                                                      y.node))
    # Presence across nodes: friends listed online; a drop and a return
    # on node 3 reach a friend on node 1 live.
    r = await a.call("friends")
    online = {f["id"]: f["online"] for f in r["friends"]}
    check_eq(online, {b.uid: True, c.uid: True}, "a's friends online")
    w = Client(cl, addrs[names[2]][1], ledger, reconnect=False)
    await w.register_and_login()
    await a.call("friend_add", name=w.name)
    t0 = time.monotonic()
    await w.close()
    await _wait(lambda: (w.uid, False) in [(p[1], p[2]) for p in
                                          a.presence], 5,
                "presence offline from another node")
    off = time.monotonic() - t0
    w2 = Client(cl, addrs[names[2]][1], ledger, name=w.name)
    w2.uid = w.uid
    await w2._open()
    await _wait(lambda: (w.uid, True) in [(p[1], p[2]) for p in
                                         a.presence], 5,
                "presence online from another node")
    print("  presence offline after %.2fs" % off)
    # 1:1 across each pair of nodes, both ways, 20 each, all at once.
    sends = []
    for x, y in pairs:
        for k in range(20):
            sends += [x.send({"user": y.uid}), y.send({"user": x.uid})]
    # A group with two members per node; everyone writes 10 at once.
    g = (await a.call("group_create", name=natlib.uniq("g")))["group"]
    for u in us[1:]:
        await u.call("group_join", group=g["id"])
    await _wait(lambda: sum(1 for e in a.events
                            if e.get("type") == "group_joined") >= 5, 5,
                "group_joined events from nodes 1-3 at the creator")
    for u in us:
        sends += [u.send({"group": g["id"]}) for _ in range(10)]
    await asyncio.gather(*sends)
    # Pushed live: every member holds everything without a sync.
    members = {}
    for conv, acked in ledger.convs.items():
        members[conv] = [u for u in us if u.uid in _conv_uids(conv, us, g)]
    await _wait(lambda: not check_delivery(ledger, members, True), 5,
                "live pushes to every member")
    for u in us:
        await u.sync()
    bad = check_delivery(ledger, members)
    check(not bad, "\n".join(bad[:20]))
    check_eq(len(ledger.convs["g:%d" % g["id"]]), 60, "group messages")
    for u in us + [w2]:
        await u.close()


def _conv_uids(conv, us, g):
    if conv.startswith("g:"):
        return {u.uid for u in us}
    return {int(x) for x in conv.split(":")[1:]}


async def _wait(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" %
                                 (timeout, what))
        await asyncio.sleep(0.05)


@test
def proxy_protocol_gives_natterd_the_client_address():
    """With proxy_protocol on and --proxy-from, the per-address limit
    counts the client's address, not nginx's."""
    cl = cluster()
    if not cl.proxy:  # natterd without --proxy-from
        print("  skipped: natterd has no --proxy-from yet")
        return
    addrs = cl.addresses(per_node=2, first=100)
    node, (src, other) = sorted(addrs.items())[0]
    srv = cl.node(node)
    socks = []
    try:
        for _ in range(MAX_PER_ADDR + 1):
            socks.append(socket.create_connection(("127.0.0.1", cl.port), 5,
                                                  (src, 0)))
        natlib.wait_until(lambda: "refused a connection from %s: too many"
                          % src in srv.log_text(), 5,
                          "natterd to refuse the %dth client of %s" %
                          (MAX_PER_ADDR + 1, src))
        # Another address on the same node is still welcome.
        run_async(_login_from(cl, other, node), 20)
    finally:
        for s in socks:
            s.close()
    # natterd's stderr reaches the log file through a drain thread: wait.
    natlib.wait_until(lambda: "logged in from %s:" % other in srv.log_text(),
                      5, "natterd's log to name the client address %s" % other)
    check("127.0.0.1: too many" not in srv.log_text(),
          "natterd counted nginx's address")


async def _login_from(cl, src, node):
    c = Client(cl, src)
    await c.register_and_login()
    check_eq(c.node, node, "node of %s" % src)
    await c.close()


@test
def forged_cluster_batches_are_checked():
    """JSON batches of deliveries ("k":"ms", as nodes before the binary
    form publish them) from something that is not a node: every malformed
    one is dropped, the node keeps serving, and a well-formed batch
    reaches its user whole and in order."""
    cl = cluster()
    addrs = cl.addresses(per_node=2, first=150)
    src = sorted(addrs.items())[0][1][0]
    run_async(_forged_batches(cl, src), 30)


async def _forged_batches(cl, src):
    c = Client(cl, src)
    await c.register_and_login()
    head = {"n": "forger", "e": 1, "k": "ms"}
    bad = ["x", None, 5, {"u": [c.uid]},
           [1, "a", None, [], {"u": "x", "f": "{}\n"},
            {"u": [c.uid], "f": 5}, {"u": [c.uid]}, {"f": "{}\n"}]]
    texts = [json.dumps(dict(head, m=m)) for m in bad]
    texts.append('{"n":"forger","e":1,"k":"ms","m":[{"u":[%d' % c.uid)
    good = [{"u": [c.uid], "f": json.dumps({"type": "forged", "n": i}) + "\n"}
            for i in range(3)]
    # A bad element between good ones costs only itself.
    texts.append(json.dumps(dict(head, m=[good[0], {"u": "x"}, good[1], 7,
                                          good[2]])))
    for t in texts:
        cl.redis.cli("PUBLISH", "natter:cluster", t)
    await _wait(lambda: sum(1 for e in c.events
                            if e.get("type") == "forged") >= 3, 5,
                "the well-formed batch")
    await asyncio.sleep(0.2)
    check_eq([e["n"] for e in c.events if e.get("type") == "forged"],
             [0, 1, 2], "forged frames delivered")
    check_eq(len([e for e in c.events if "type" not in e]), 0,
             "frames of malformed batches")
    r = await c.call("friends")
    check(r.get("ok"), "the node still answers: %s" % r)
    await c.close()


def _batch(node, epoch, items):
    """A binary batch of deliveries (server/relay-ms.h) of (uids, frame)."""
    b = b"\0nb1" + struct.pack("<I", len(node)) + node + struct.pack(
        "<QI", epoch, len(items))
    for uids, frame in items:
        b += struct.pack("<I%dQ" % len(uids), len(uids), *uids)
        b += struct.pack("<I", len(frame)) + frame
    return b


@test
def forged_binary_batches_are_checked():
    """Binary batches of deliveries published by something that is not a
    node: a malformed one is dropped whole, a malformed delivery costs
    only itself, and the node keeps serving."""
    cl = cluster()
    addrs = cl.addresses(per_node=2, first=170)
    src = sorted(addrs.items())[0][1][0]
    run_async(_forged_binary(cl, src), 30)


async def _forged_binary(cl, src):
    c = Client(cl, src)
    await c.register_and_login()

    def frame(n):
        return (json.dumps({"type": "forged", "n": n}) + "\n").encode()

    whole = _batch(b"forger", 1, [([c.uid], frame(9))])
    bad = [whole[:-1], whole + b"\0", whole[:4], b"\0nb1",
           _batch(b"forger", 1, []), _batch(b"forger", 2 ** 63, [([c.uid],
                                                              frame(9))]),
           _batch(b"forger", 1, [([], frame(9))])]
    # Between good deliveries: no users' ids, a frame without its "\n",
    # two frames in one, invalid UTF-8, an empty frame.
    good = _batch(b"forger", 1, [
        ([c.uid], frame(0)), ([0], frame(9)), ([c.uid], frame(9)[:-1]),
        ([c.uid], frame(9) + frame(9)), ([c.uid], b'{"x":"\xff"}\n'),
        ([c.uid], frame(1)), ([c.uid], b""), ([2 ** 63 + c.uid], frame(9)),
        ([c.uid, c.uid + 10 ** 6], frame(2))])
    for b in bad + [good]:
        check_eq(cl.redis.publish("natter:cluster", b)[:1], b":",
                 "PUBLISH's reply")
    await _wait(lambda: sum(1 for e in c.events
                            if e.get("type") == "forged") >= 3, 5,
                "the well-formed deliveries")
    await asyncio.sleep(0.2)
    check_eq([e["n"] for e in c.events if e.get("type") == "forged"],
             [0, 1, 2], "forged frames delivered")
    log = cl.node(c.node).log_text()
    check_eq(log.count("relay: malformed batch of deliveries"), len(bad),
             "batches logged as malformed")
    check("relay: 6 malformed deliveries from node forger left out" in log,
          "the deliveries left out are logged")
    r = await c.call("friends")
    check(r.get("ok"), "the node still answers: %s" % r)
    await c.close()


@test
def idle_client_behind_nginx_stays_60s():
    """proxy_timeout 10s, --heartbeat 4: natterd's pings alone keep a
    silent client's connection through nginx open for a minute."""
    check(_idle is not None, "the idle client was not started")
    left = _idle.t0 + IDLE_SECONDS - time.monotonic()
    if left > 0:
        time.sleep(left)
    check(_idle.closed_at is None,
          "idle client cut after %.1fs (%s); pings at %s" %
          ((_idle.closed_at or 0) - _idle.t0, _idle.err,
           ["%.1f" % (p - _idle.t0) for p in _idle.pings]))
    check(_idle.err is None, "idle client: %s" % _idle.err)
    gaps = [b - a for a, b in zip([_idle.t0] + _idle.pings, _idle.pings)]
    check(len(_idle.pings) >= IDLE_SECONDS // 4 - 2,
          "only %d pings in %ds" % (len(_idle.pings), IDLE_SECONDS))
    check(max(gaps) < 6, "pings %.1fs apart" % max(gaps))
    n = len(_idle.pings)
    _idle.ping_round_trip()
    time.sleep(0.3)
    check(_idle.closed_at is None, "closed after a ping request")
    print("  %d pings in %.0fs, largest gap %.1fs" %
          (n, time.monotonic() - _idle.t0, max(gaps)))


@test
def bench_groups_across_two_nodes():
    """natter-bench's groups workload with every other member of each
    group on a second node (compare's xgroups), briefly: each message
    reaches the members on both nodes. Speed is compare's business; here
    only that the generator's cross-node groups still work."""
    # Nodes of their own: the shared cluster's expect nginx's PROXY lines
    # from 127.0.0.1, and the generator dials the nodes directly.
    cl = Cluster(nodes=2, proxy=False)
    argv = [natlib.natter_bench_path(), "--proto", "natter",
            "--port", str(cl.nodes[0].port), "--port2",
            str(cl.nodes[1].port), "--workload", "groups", "--groups", "3",
            "--group-size", "4", "--rate", "200", "--duration", "1",
            "--warmup", "0.2", "--timeout", "60"]
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=90)
    finally:
        cl.close()
    check_eq(p.returncode, 0, "natter-bench exit code (%s %s)" %
             (p.stdout.strip()[-300:], p.stderr.strip()[-300:]))
    js = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    check_eq(len(js), 1, "one JSON line: %r" % p.stdout)
    res = json.loads(js[0])
    check("error" not in res, "groups failed: %r" % res)
    # 200 msg/s, each to the 3 others of its group of 4, two on each node
    check(res["deliveries_per_s"] > 2 * res["rate"] > 0,
          "deliveries per message: %r" % res)
    check_eq(res.get("failures"), 0, "failures")


@test
def cluster_shuts_down_cleanly():
    """Every node exits 0 on SIGTERM."""
    cl = cluster()
    for s in cl.nodes:
        rc, took = s.stop(expect_code=0, timeout=10)
        print("  %s stopped in %.1fs" % (s.name, took))
    cl.close()


if __name__ == "__main__":
    natlib.TEST_TIMEOUT = 120
    run()
