"""Faults in a natter cluster under load: a node killed (kill -9), Redis
stopped for 5 s, a node stopped (SIGTERM). Two natterd nodes on one MariaDB
database and one Redis, behind nginx (packaging/nginx/natter-stream.conf),
all started here on loopback.

Clients (cluster.Client) bind source addresses that nginx sends to a
chosen node, reconnect through nginx when their node goes, log in again,
resend what was not acknowledged with the same cmid, and sync. The check
afterwards: every message acknowledged to a sender is held exactly once by
every member of its conversation, seqs 1..N without a gap (cluster.
check_delivery); sync pages come in seq order.
"""

import asyncio
import time

import natlib
from natlib import test, run, check, check_eq
from cluster import (Cluster, Client, Ledger, connect_all, check_delivery,
                     run_async)

KILL_PER_NODE = 50    # the issue asks for 50 clients per node
LEAVERS = 5           # users of the killed node that do not come back
# The node that dies (its clients are Load.a) and the one that stays.
VICTIM, SURVIVOR = "n0", "n1"


class Load:
    """Clients on two nodes: cross-node friend pairs (one on each node)
    and groups with members on both; send() runs them all until stopped."""

    def __init__(self, cl, per_node, groups, leavers=0):
        self.cl = cl
        self.ledger = Ledger()
        addrs = cl.addresses(per_node=2)
        self.a = [Client(cl, addrs[VICTIM][i % 2], self.ledger)
                  for i in range(per_node)]
        self.b = [Client(cl, addrs[SURVIVOR][i % 2], self.ledger)
                  for i in range(per_node)]
        self.leavers = [Client(cl, addrs[VICTIM][i % 2], self.ledger,
                               reconnect=False) for i in range(leavers)]
        self.ngroups = groups
        self.groups = []        # (gid, [members])
        self.stop = False
        self.errors = []

    def clients(self):
        return self.a + self.b

    async def setup(self):
        await connect_all(self.clients() + self.leavers)
        for c in self.a + self.leavers:
            check_eq(c.node, VICTIM, "%s lands on" % c.src)
        for c in self.b:
            check_eq(c.node, SURVIVOR, "%s lands on" % c.src)
        await asyncio.gather(*(x.call("friend_add", name=y.name)
                               for x, y in zip(self.a, self.b)))
        await asyncio.gather(*(y.call("friend_add", name=x.name)
                               for x, y in zip(self.leavers, self.b)))
        size = len(self.a) // self.ngroups
        for k in range(self.ngroups):
            ms = self.a[k * size:(k + 1) * size] + \
                self.b[k * size:(k + 1) * size]
            g = (await ms[0].call("group_create",
                                  name=natlib.uniq("g")))["group"]
            await asyncio.gather(*(m.call("group_join", group=g["id"])
                                   for m in ms[1:]))
            self.groups.append((g["id"], ms))
            for m in ms:
                m.gid = g["id"]

    def members(self):
        by_uid = {c.uid: c for c in self.clients()}
        out = {}
        for conv in self.ledger.convs:
            if conv.startswith("g:"):
                gid = int(conv[2:])
                out[conv] = [ms for g, ms in self.groups if g == gid][0]
            else:
                out[conv] = [by_uid[int(u)] for u in conv.split(":")[1:]]
        return out

    async def _talk(self, c, peer, interval):
        k = 0
        try:
            while not self.stop:
                k += 1
                to = {"user": peer.uid} if k % 2 else {"group": c.gid}
                await c.send(to)
                await asyncio.sleep(interval)
        except Exception as e:  # reported by the test
            self.errors.append("%s: %r" % (c.name, e))

    def start(self, interval):
        self.tasks = [asyncio.ensure_future(self._talk(x, y, interval))
                      for x, y in zip(self.a, self.b)]
        self.tasks += [asyncio.ensure_future(self._talk(y, x, interval))
                       for x, y in zip(self.a, self.b)]

    async def finish(self, timeout=30):
        """Stops sending, waits for every send to be acknowledged, then
        syncs every client."""
        self.stop = True
        await asyncio.wait_for(asyncio.gather(*self.tasks), timeout)
        check(not self.errors, "senders failed:\n" +
              "\n".join(self.errors[:10]))
        for c in self.clients():
            try:
                await asyncio.wait_for(c.connected.wait(), timeout)
            except asyncio.TimeoutError:
                raise AssertionError("%s not reconnected: %s" %
                                     (c.name, c.retry_why[-5:]))
        await asyncio.gather(*(c.sync() for c in self.clients()))

    def verify(self):
        bad = check_delivery(self.ledger, self.members())
        check(not bad, "%d problems:\n%s" % (len(bad), "\n".join(bad[:20])))
        return sum(len(v) for v in self.ledger.convs.values())

    async def friends_online(self, pairs, timeout):
        """Waits until each x lists its y online; returns the offenders."""
        deadline = time.monotonic() + timeout
        while True:
            wrong = []
            for x, y in pairs:
                fs = (await x.call("friends"))["friends"]
                if not [f for f in fs if f["id"] == y.uid and f["online"]]:
                    wrong.append("%s (on %s) shows %s (on %s) offline" %
                                 (x.name, x.node, y.name, y.node))
            if not wrong or time.monotonic() > deadline:
                return wrong
            await asyncio.sleep(0.5)

    def stats(self):
        cs = self.clients()
        return "%d msgs acked, %d drops, %d resends, %d resyncs, %d dups" % (
            sum(len(v) for v in self.ledger.convs.values()),
            sum(c.drops for c in cs), sum(c.resends for c in cs),
            sum(c.resyncs for c in cs), sum(c.dups for c in cs))

    async def close(self):
        for c in self.clients() + self.leavers:
            await c.close()


def _fail_with_logs(cl, fn):
    """Runs fn(); on failure adds the cluster's logs to the message."""
    try:
        fn()
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, cl.logs(30))) from None


@test
def kill_9_a_node_under_load():
    """50 clients per node on two nodes; n0 is killed with SIGKILL while
    they talk. Its clients come back through nginx on n1; nothing
    acknowledged is lost, duplicated or out of order; n0's users that do
    not come back are shown offline to their friends within 15 s."""
    cl = Cluster(nodes=2, heartbeat=10)
    try:
        _fail_with_logs(cl, lambda: run_async(_kill_9(cl), timeout=110))
    finally:
        cl.close()


async def _kill_9(cl):
    load = Load(cl, KILL_PER_NODE, groups=10, leavers=LEAVERS)
    t = time.monotonic()
    await load.setup()
    watchers = load.b[:LEAVERS]
    for x, y in zip(watchers, load.leavers):
        check(await load.friends_online([(x, y)], 15) == [],
              "leaver not shown online across nodes before the kill")
    print("  setup %.1fs" % (time.monotonic() - t))
    load.start(interval=0.2)
    await asyncio.sleep(3)
    t_kill = time.monotonic()
    cl.kill_node(VICTIM)
    await asyncio.sleep(8)
    await load.finish()
    print("  load stopped %.1fs after the kill; %s" %
          (time.monotonic() - t_kill, load.stats()))
    for c in load.a:
        check_eq(c.node, SURVIVOR, "%s's node after the kill" % c.name)
    # Every resend of an acknowledged cmid gives back the same message.
    await asyncio.gather(*(_resend_first(c) for c in load.a))
    # The leavers went offline for their friends within 15 s (noted, not
    # raised at once, so that delivery is checked whatever happens).
    late = []
    for x, y in zip(watchers, load.leavers):
        try:
            await _until(lambda: [p for p in x.presence
                                  if p[1] == y.uid and p[2] is False],
                         t_kill + 15 - time.monotonic(), "")
        except AssertionError:
            fs = (await x.call("friends"))["friends"]
            late.append("%s (was on %s) not shown offline to %s (on %s) "
                        "within 15 s of the kill (no presence event; its "
                        "friends list says online=%s)" %
                        (y.name, VICTIM, x.name, x.node,
                         [f["online"] for f in fs if f["id"] == y.uid]))
    seen = [min(p[0] for p in x.presence if p[1] == y.uid and
                p[2] is False) - t_kill
            for x, y in zip(watchers, load.leavers)
            if [p for p in x.presence if p[1] == y.uid and p[2] is False]]
    if seen:
        print("  dead node's users offline after %.1f-%.1fs" % (min(seen),
                                                                 max(seen)))
    await asyncio.gather(*(c.sync() for c in load.clients()))
    n = load.verify()
    print("  %d messages verified at every member" % n)
    # Those who came back are online for their friends once the dead
    # node's users were taken offline.
    wrong = await load.friends_online(list(zip(load.b, load.a)), 5)
    check(not late and not wrong, "presence after the kill:\n" +
          "\n".join(late + wrong[:10]))
    await load.close()


async def _resend_first(c):
    """Sends c's first message again (same cmid and body): the server
    must answer with the first conv/seq (Ledger notes a mismatch)."""
    first = c.name + "-1"
    conv, seq = c.ledger.where[first]
    to = {"group": c.gid} if conv.startswith("g:") else {
        "user": [int(u) for u in conv.split(":")[1:] if int(u) != c.uid][0]}
    got = await c.resend(first, to, first)
    if got != (conv, seq):
        c.errors.append("resend of %s gave %r, first %r" % (first, got,
                                                           (conv, seq)))


async def _until(fn, timeout, what):
    deadline = time.monotonic() + max(timeout, 0)
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        await asyncio.sleep(0.1)


@test
def redis_down_5s_under_load():
    """Redis stops for 5 s while clients on two nodes talk: sends are
    still acknowledged, clients get `resync`, live pushes resume within
    5 s of Redis's return, and sync brings everything else."""
    cl = Cluster(nodes=2, heartbeat=10)
    try:
        _fail_with_logs(cl, lambda: run_async(_redis_down(cl), timeout=80))
    finally:
        cl.close()


async def _redis_down(cl):
    load = Load(cl, 10, groups=2)
    await load.setup()
    load.start(interval=0.1)
    await asyncio.sleep(2)
    loop = asyncio.get_running_loop()
    t_stop = time.monotonic()
    await loop.run_in_executor(None, cl.redis.stop)
    await asyncio.sleep(5)
    await loop.run_in_executor(None, cl.redis.start)
    t_start = time.monotonic()
    await asyncio.sleep(9)
    await load.finish()
    cs = load.clients()
    print("  %s" % load.stats())
    # Sends went on while Redis was away.
    for c in cs:
        during = [a for a in c.acks if t_stop + 0.5 < a[1] < t_start]
        check(during, "%s: no send acknowledged while Redis was down" %
              c.name)
    slow = max(a[1] - a[0] for c in cs for a in c.acks)
    check(slow < 3, "a send took %.1fs to be acknowledged" % slow)
    no_resync = [c.name for c in cs if c.resyncs == 0]
    check(not no_resync, "no resync event at %s" % no_resync)
    # Live pushes through the relay: the first push, to a client on the
    # other node than its sender's, of a message sent after Redis's return.
    acked = load.ledger.ack_times
    convs = load.ledger.convs
    after = [p[0] for c in cs for p in c.pushes
             if acked.get((p[1], p[2]), 0) >= t_start and
             _sender(load, convs[p[1]][p[2]]).node != c.node]
    check(after, "no live push after Redis came back")
    resume = min(after) - t_start
    print("  live pushes resumed %.1fs after Redis's return" % resume)
    check(resume <= 5, "live pushes resumed only after %.1fs" % resume)
    # From then on every message is pushed to every other member.
    members = load.members()
    unpushed = []
    for conv, seqs in load.ledger.convs.items():
        for seq, cmid in seqs.items():
            if acked[(conv, seq)] < t_start + 5:
                continue
            for m in members[conv]:
                if not cmid.startswith(m.name + "-") and \
                        (conv, seq) not in {(p[1], p[2]) for p in m.pushes}:
                    unpushed.append("%s %d to %s" % (conv, seq, m.name))
    check(not unpushed, "%d messages sent 5 s after Redis's return were "
          "not pushed: %s" % (len(unpushed), unpushed[:10]))
    # And the outage was real: some cross-node messages of that time
    # were never pushed (sync brought them).
    lost = 0
    for conv, seqs in load.ledger.convs.items():
        for seq, cmid in seqs.items():
            if t_stop + 0.5 < acked[(conv, seq)] < t_start - 0.5:
                lost += sum(1 for m in members[conv]
                            if m.node != _sender(load, cmid).node and
                            (conv, seq) not in {(p[1], p[2])
                                                for p in m.pushes})
    print("  %d deliveries of the outage came only through sync" % lost)
    check(lost > 0, "every message was pushed while Redis was down?")
    n = load.verify()
    wrong = await load.friends_online(list(zip(load.b, load.a)) +
                                      list(zip(load.a, load.b)), 15)
    spurious = sum(1 for c in cs for p in c.presence if p[2] is False)
    print("  %d messages verified; %d offline presence events seen" %
          (n, spurious))
    check(not wrong, "presence after the Redis outage:\n" +
          "\n".join(wrong[:10]))
    await load.close()


def _sender(load, cmid):
    name = cmid.rsplit("-", 1)[0]
    return [c for c in load.clients() if c.name == name][0]


@test
def sigterm_a_node_under_load():
    """SIGTERM on a node with 20 talking clients: it exits 0 within 10 s,
    its clients move to the other node, nothing is lost."""
    cl = Cluster(nodes=2, heartbeat=10)
    try:
        _fail_with_logs(cl, lambda: run_async(_sigterm(cl), timeout=80))
    finally:
        cl.close()


async def _sigterm(cl):
    load = Load(cl, 20, groups=2, leavers=2)
    await load.setup()
    watchers = load.b[:2]
    for x, y in zip(watchers, load.leavers):
        check(await load.friends_online([(x, y)], 15) == [],
              "leaver not shown online across nodes before SIGTERM")
    load.start(interval=0.1)
    await asyncio.sleep(2)
    loop = asyncio.get_running_loop()
    rc, took = await loop.run_in_executor(
        None, lambda: cl.node(VICTIM).stop(expect_code=None, timeout=10))
    print("  %s exited %d after %.1fs" % (VICTIM, rc, took))
    check_eq(rc, 0, "exit code after SIGTERM")
    check(took < 10, "%s took %.1fs to exit" % (VICTIM, took))
    t_exit = time.monotonic()
    await asyncio.sleep(4)
    await load.finish()
    print("  %s" % load.stats())
    for c in load.a:
        check_eq(c.node, SURVIVOR, "%s's node after SIGTERM" % c.name)
    n = load.verify()
    # The node said goodbye: its users that did not come back went
    # offline for their friends at once (within 3 s).
    late = ["%s (was on %s) not shown offline to %s within 3 s of the "
            "SIGTERM" % (y.name, VICTIM, x.name)
            for x, y in zip(watchers, load.leavers)
            if not [p for p in x.presence if p[1] == y.uid and
                    p[2] is False and p[0] < t_exit + 3]]
    wrong = await load.friends_online(list(zip(load.b, load.a)), 15)
    check(not late and not wrong, "presence after the SIGTERM:\n" +
          "\n".join(late + wrong[:10]))
    print("  %d messages verified" % n)
    await load.close()


if __name__ == "__main__":
    natlib.TEST_TIMEOUT = 120
    run()
