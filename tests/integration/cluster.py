"""A natter cluster for tests: MariaDB, Redis, N natterd nodes and nginx on
loopback, each in a temporary folder (Python 3 standard library only).

    from cluster import Cluster, Client, run_async
    cl = Cluster(nodes=3, heartbeat=4, proxy_timeout=10)
    c = Client(cl, src="127.0.0.2")     # binds that source address
    run_async(c.register_and_login())   # asyncio inside
    cl.kill_node(0); cl.redis.stop(); cl.redis.start(); cl.close()

Redis and nginx are started the way /work/shared/NOTES.md describes:
`redis-server --save '' --appendonly no` (stopped with `redis-cli shutdown
nosave`, restarted on the same port), nginx with `-p DIR -e stderr -g
'daemon off;'` on a config made from packaging/nginx/natter-stream.conf
(its upstream list, listen and pid lines replaced), ready when `ss -ltn`
lists its port (connecting early could mark nodes failed).

nginx's `hash $remote_addr consistent` puts every client of one source
address on one node, so tests bind 127.0.0.x source addresses: Cluster.
addresses() finds, by asking (hello's `node`), which addresses land where.

Client is an asyncio client that survives node deaths: it reconnects
through nginx, logs in again, resends unacknowledged sends with the same
cmid, syncs (acking only what it holds without a gap), syncs on `resync`,
and records every message it saw per conversation; Ledger collects what
the senders got acknowledged, and check_delivery() compares the two.
"""

import asyncio
import atexit
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import natlib
import mariadb

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(os.path.dirname(HERE))
NGINX_EXAMPLE = os.path.join(SRC_ROOT, "packaging", "nginx",
                             "natter-stream.conf")
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing_tools():
    """What a cluster needs and is not installed (packaging/deps --test)."""
    miss = [t for t in ("redis-server", "redis-cli", "nginx", "ss")
            if shutil.which(t) is None and
            not os.path.exists("/usr/sbin/" + t)]
    if not os.path.exists(STREAM_MODULE):
        miss.append("libnginx-mod-stream")
    if not mariadb.available():
        miss.append("mariadb-server")
    return miss


def natterd_supports(flag):
    """Whether `natterd --help` lists flag (e.g. "--proxy-from")."""
    r = subprocess.run([natlib.natterd_path(), "--help"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return flag in r.stdout.decode("utf-8", "replace")


def _port_listening(port):
    """Whether `ss -ltn` lists a listener on port."""
    out = subprocess.run(["ss", "-ltnH"], stdout=subprocess.PIPE).stdout
    return re.search(r":%d\b" % port, out.decode()) is not None


def _wait(fn, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" %
                                 (timeout, what))
        time.sleep(step)


# ------------------------------------------------------------------ Redis

class Redis:
    """redis-server on 127.0.0.1 without persistence; stop() and start()
    again keep the port (a restarted Redis is empty)."""

    def __init__(self, port=None):
        self.dir = tempfile.mkdtemp(prefix="natredis-")
        self.port = port or free_port()
        self.log = os.path.join(self.dir, "log")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind",
             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
             self.dir, "--logfile", self.log],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        _wait(lambda: self.ping() or self.proc.poll() is not None, 10,
              "redis-server to answer PING")
        if self.proc.poll() is not None:
            raise RuntimeError("redis-server exited:\n" + self.log_tail())

    def ping(self):
        r = subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return r.stdout.strip() == b"PONG"

    def cli(self, *args):
        """A redis-cli command's output lines."""
        r = subprocess.run(["redis-cli", "-p", str(self.port)] +
                           [str(a) for a in args], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        return r.stdout.decode("utf-8", "replace").splitlines()

    def publish(self, channel, payload):
        """PUBLISHes payload (bytes, NULs and all: redis-cli's arguments
        cannot carry them) and returns the reply line."""
        args = [b"PUBLISH", channel.encode(), payload]
        cmd = b"*%d\r\n" % len(args) + b"".join(
            b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
        with socket.create_connection(("127.0.0.1", self.port), 5) as s:
            s.sendall(cmd)
            return s.makefile("rb").readline()

    def stop(self):
        """`shutdown nosave` and wait (SIGKILL if it lingers)."""
        if self.proc is None:
            return
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown",
                        "nosave"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=20):
        try:
            with open(self.log, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"


# ------------------------------------------------------------------ nginx

def nginx_config(upstreams, listen, proxy_timeout=None, proxy_protocol=None,
                 example=NGINX_EXAMPLE):
    """The example config with these upstream ports, one loopback listen
    port, one worker, and optionally another proxy_timeout (seconds) or
    proxy_protocol (bool); everything else as the example says."""
    with open(example) as f:
        text = f.read()
    lines = []
    ups_done = listen_done = False
    for line in text.splitlines():
        code = line.split("#", 1)[0].rstrip()
        if not code.strip():
            continue
        m = re.match(r"^(\s*)server\s+[^\s{]+:\d+(.*);$", code)
        if m:
            if not ups_done:
                lines += ["%sserver 127.0.0.1:%d%s;" % (m.group(1), p,
                                                         m.group(2))
                          for p in upstreams]
                ups_done = True
            continue
        m = re.match(r"^(\s*)listen\s", code)
        if m:
            if not listen_done:
                lines.append("%slisten 127.0.0.1:%d;" % (m.group(1), listen))
                listen_done = True
            continue
        if re.match(r"^\s*worker_processes\s", code):
            code = "worker_processes 1;"
        elif re.match(r"^\s*error_log\s", code):
            code = "error_log error.log info;"
        elif proxy_timeout is not None and \
                re.match(r"^\s*proxy_timeout\s", code):
            code = re.sub(r"proxy_timeout\s+\S+;",
                          "proxy_timeout %ds;" % proxy_timeout, code)
        elif proxy_protocol is not None and \
                re.match(r"^\s*proxy_protocol\s", code):
            code = re.sub(r"proxy_protocol\s+\S+;", "proxy_protocol %s;" %
                          ("on" if proxy_protocol else "off"), code)
        lines.append(code)
    if not ups_done or not listen_done:
        raise AssertionError("%s: no upstream server or listen line" %
                             example)
    return "\n".join(lines) + "\n"


class Nginx:
    """nginx in front of natterd ports, from the example config."""

    def __init__(self, upstreams, proxy_timeout=None, proxy_protocol=None,
                 port=None):
        self.dir = tempfile.mkdtemp(prefix="natnginx-")
        os.chmod(self.dir, 0o755)
        self.port = port or free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.text = nginx_config(upstreams, self.port, proxy_timeout,
                                 proxy_protocol)
        with open(self.conf, "w") as f:
            f.write(self.text)
        self.out = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(
            ["nginx", "-p", self.dir, "-c", self.conf, "-e", "stderr", "-g",
             "daemon off;"], stdin=subprocess.DEVNULL, stdout=self.out,
            stderr=self.out, preexec_fn=natlib._die_with_parent)
        _wait(lambda: _port_listening(self.port) or
              self.proc.poll() is not None, 10, "nginx to listen")
        if self.proc.poll() is not None:
            raise RuntimeError("nginx exited:\n" + self.log_tail())

    def log_tail(self, n=30):
        out = []
        for name in ("stderr", "error.log"):
            try:
                with open(os.path.join(self.dir, name),
                          errors="replace") as f:
                    out += f.readlines()[-n:]
            except OSError:
                pass
        return "".join(out)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------- cluster

_db = None


def shared_mariadb():
    """This process's MariaDB (started on first use, stopped at exit)."""
    global _db
    if _db is None:
        _db = mariadb.MariaDB()
        atexit.register(_db.stop)
    return _db


class Cluster:
    """MariaDB (one fresh database), Redis, nodes natterd processes named
    n0, n1, ... and nginx in front of them.

    persistent=True keeps the nodes out of natlib's per-test cleanup (the
    cluster then lives until close() or exit)."""

    def __init__(self, nodes=2, heartbeat=None, proxy_timeout=None,
                 proxy=None, extra_args=(), persistent=False):
        miss = missing_tools()
        if miss:
            raise AssertionError("not installed: %s (packaging/deps --test "
                                 "installs them)" % " ".join(miss))
        if proxy is None:
            proxy = natterd_supports("--proxy-from")
        self.proxy = proxy
        self.persistent = persistent
        self.heartbeat = heartbeat
        self.url = shared_mariadb().new_database()
        self.redis = Redis()
        self.extra = list(extra_args)
        self.nodes = []
        self.nginx = None
        atexit.register(self.close)
        for i in range(nodes):
            self.nodes.append(self._start_node("n%d" % i))
        self.nginx = Nginx([n.port for n in self.nodes], proxy_timeout,
                           proxy)
        self.port = self.nginx.port

    def _start_node(self, name):
        args = ["--store", self.url, "--redis",
                "127.0.0.1:%d" % self.redis.port, "--node", name,
                "--rate-limit", "0", "--db-threads", "4"]
        if self.heartbeat:
            args += ["--heartbeat", self.heartbeat]
        if self.proxy:
            args += ["--proxy-from", "127.0.0.1"]
        srv = natlib.start_natterd(args + self.extra)
        srv.name = name
        if self.persistent and srv in natlib._test_servers:
            natlib._test_servers.remove(srv)
        return srv

    def node(self, name):
        return [n for n in self.nodes if n.name == name][0]

    def kill_node(self, name):
        """SIGKILL (kill -9) the node called name."""
        self.node(name).kill()

    def logs(self, n=40):
        """The end of each log, without natterd's login lines."""
        out = []
        for s in self.nodes:
            lines = [ln for ln in s.log_text().splitlines()
                     if " logged in from " not in ln]
            out.append("--- %s (%s)\n%s" % (s.name, s.log_path,
                                            "\n".join(lines[-n:])))
        if self.nginx:
            out.append("--- nginx\n" + self.nginx.log_tail(10))
        out.append("--- redis\n" + self.redis.log_tail(5))
        return "\n".join(out)

    def addresses(self, per_node=2, first=2, limit=250):
        """Source addresses 127.0.0.x that nginx sends to each node:
        {node name: [addr, ...]} with per_node each (asks hello)."""
        got = {n.name: [] for n in self.nodes if n.alive()}
        for x in range(first, limit):
            if all(len(v) >= per_node for v in got.values()):
                return got
            addr = "127.0.0.%d" % x
            s = socket.create_connection(("127.0.0.1", self.port), 5,
                                         (addr, 0))
            try:
                s.sendall(b'{"type":"hello","req":1,"proto":1,'
                          b'"client":"probe"}\n')
                f = s.makefile("rb")
                node = json.loads(f.readline())["node"]
            finally:
                s.close()
            if len(got.setdefault(node, [])) < per_node:
                got[node].append(addr)
        raise AssertionError("nginx spread 127.0.0.2-%d unevenly: %r" %
                             (limit, got))

    def close(self):
        if self.nginx:
            self.nginx.close()
            self.nginx = None
        for s in self.nodes:
            try:
                s.kill()
            except Exception:
                pass
        if self.redis:
            self.redis.close()
            self.redis = None


# ----------------------------------------------------------------- client

class Dropped(Exception):
    """The connection went away while a request was waiting."""


class Ledger:
    """What senders got acknowledged: conv -> {seq: cmid}, plus errors
    (one seq acknowledged for two cmids, one cmid at two places)."""

    def __init__(self):
        self.convs = {}
        self.where = {}      # cmid -> (conv, seq)
        self.ack_times = {}  # (conv, seq) -> monotonic time of the ack
        self.errors = []

    def add(self, cmid, conv, seq, t):
        old = self.where.get(cmid)
        if old is not None and old != (conv, seq):
            self.errors.append("cmid %s acknowledged as %r and %r" %
                               (cmid, old, (conv, seq)))
        self.where[cmid] = (conv, seq)
        prev = self.convs.setdefault(conv, {}).get(seq)
        if prev is not None and prev != cmid:
            self.errors.append("%s seq %d acknowledged for %s and %s" %
                               (conv, seq, prev, cmid))
        self.convs[conv][seq] = cmid
        self.ack_times.setdefault((conv, seq), t)


class Client:
    """One user behind nginx, bound to source address src. Runs on the
    asyncio loop of run_async(); reconnects by itself when reconnect is
    true (until close())."""

    def __init__(self, cluster, src, ledger=None, name=None,
                 reconnect=True):
        self.cl = cluster
        self.src = src
        self.ledger = ledger if ledger is not None else Ledger()
        self.name = name or natlib.uniq("c")
        self.auto = reconnect
        self.uid = None
        self.node = None
        self.nodes = []          # every node it was logged in on, in order
        self.heartbeat = None
        self.writer = None
        self.gen = 0
        self.req = 0
        self.futs = {}
        self.connected = asyncio.Event()
        self.closing = False
        self.reconnecting = None  # the running reconnect task
        self.sync_lock = asyncio.Lock()
        self.k = 0
        self.unacked = {}        # cmid -> to
        self.seen = {}           # conv -> {seq: cmid}
        self.contig = {}         # conv -> highest seq held without a gap
        self.acked_cursor = {}   # conv -> seq acked to the server
        self.pushes = []         # (time, conv, seq) of every msg push
        self.presence = []       # (time, uid, online)
        self.pings = []          # times of server pings
        self.events = []         # other events
        self.errors = []
        self.drops = 0
        self.resends = 0
        self.retry_why = []      # why reconnect attempts failed
        self.acks = []           # (time sent, time acknowledged)
        self.resyncs = 0
        self.dups = 0
        self.tasks = set()

    # -- connection

    async def _open(self):
        """Connects through nginx, hello, login (if registered)."""
        r, w = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", self.cl.port, local_addr=(self.src, 0),
            limit=1 << 24), 5)  # a sync page can be far over 64 KiB
        self.gen += 1
        self.writer = w
        self._spawn(self._reader(r, self.gen))
        h = await self._call("hello", proto=1, client="cluster-test")
        self.node = h.get("node")
        self.heartbeat = h.get("heartbeat")
        if self.uid is not None:
            r = await self._call("login", name=self.name,
                                 password=natlib.PASSWORD)
            if r.get("ok") is not True:
                raise AssertionError("%s: login failed: %r" % (self.name, r))
            self.nodes.append(self.node)
        self.connected.set()

    async def register_and_login(self):
        await self._open()
        r = await self._call("register", name=self.name,
                             password=natlib.PASSWORD)
        natlib.check_ok(r, "register " + self.name)
        r = await self._call("login", name=self.name,
                             password=natlib.PASSWORD)
        natlib.check_ok(r, "login " + self.name)
        self.uid = r["user"]["id"]
        self.nodes.append(self.node)
        return self

    def _spawn(self, coro):
        t = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(t)
        t.add_done_callback(self.tasks.discard)
        return t

    async def _reader(self, r, gen):
        try:
            while True:
                line = await r.readline()
                if not line:
                    break
                self._dispatch(json.loads(line))
        except (ConnectionError, OSError, ValueError,
                asyncio.IncompleteReadError):
            pass
        if gen == self.gen:
            self._lost()

    def _lost(self):
        """The connection ended: fail waiting requests, reconnect."""
        self.connected.clear()
        self.drops += 1
        futs, self.futs = self.futs, {}
        for f in futs.values():
            if not f.done():
                f.set_exception(Dropped())
        try:
            self.writer.close()
        except Exception:
            pass
        if self.auto and not self.closing and self.reconnecting is None:
            self.reconnecting = self._spawn(self._reconnect())

    async def _reconnect(self, timeout=30):
        deadline = time.monotonic() + timeout
        try:
            while not self.closing:
                try:
                    await self._open()
                    await self.sync()
                    return
                except (OSError, Dropped, asyncio.TimeoutError) as e:
                    self.retry_why.append(repr(e))
                    self.connected.clear()
                    if self.writer is not None:
                        self.writer.close()
                    if time.monotonic() > deadline:
                        self.errors.append("no reconnect within %ds" %
                                           timeout)
                        return
                    await asyncio.sleep(0.2)
        finally:
            self.reconnecting = None

    def _dispatch(self, f):
        if "req" in f and "ok" in f:
            fut = self.futs.pop(f["req"], None)
            if fut is not None and not fut.done():
                fut.set_result(f)
            return
        t = f.get("type")
        now = time.monotonic()
        if t == "msg":
            self.pushes.append((now, f["conv"], f["seq"]))
            self._record(f)
        elif t == "presence":
            self.presence.append((now, f["user"]["id"], f["online"]))
        elif t == "ping":
            self.pings.append(now)
        elif t == "resync":
            self.resyncs += 1
            self._spawn(self._sync_quiet())
        else:
            self.events.append(f)

    async def _call(self, type_, timeout=15, **fields):
        """One request on the current connection; raises Dropped."""
        if self.writer is None or self.writer.is_closing():
            raise Dropped()
        self.req += 1
        req = self.req
        fut = asyncio.get_running_loop().create_future()
        self.futs[req] = fut
        obj = dict(fields, type=type_, req=req)
        self.writer.write(json.dumps(obj).encode() + b"\n")
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise AssertionError("%s: no reply to %s within %ds (node %s)" %
                                 (self.name, type_, timeout, self.node))

    async def call(self, type_, timeout=15, **fields):
        """A request that must succeed, retried over reconnects."""
        while True:
            await asyncio.wait_for(self.connected.wait(), 30)
            try:
                r = await self._call(type_, timeout, **fields)
            except Dropped:
                continue
            natlib.check_ok(r, "%s %s %r" % (self.name, type_, fields))
            return r

    # -- messages

    async def send(self, to, body=None):
        """Sends until acknowledged (same cmid on every try); returns
        (conv, seq)."""
        self.k += 1
        cmid = "%s-%d" % (self.name, self.k)
        return await self.resend(cmid, to, body or cmid)

    async def resend(self, cmid, to, body):
        self.unacked[cmid] = to
        tries = 0
        t0 = time.monotonic()
        while True:
            await asyncio.wait_for(self.connected.wait(), 30)
            if tries:
                self.resends += 1
            tries += 1
            try:
                r = await self._call("send", to=to, body=body, cmid=cmid)
            except Dropped:
                continue
            if r.get("ok") is True:
                m = r["msg"]
                now = time.monotonic()
                self.ledger.add(cmid, m["conv"], m["seq"], now)
                self.acks.append((t0, now))
                del self.unacked[cmid]
                return m["conv"], m["seq"]
            if r["error"]["code"] in ("unavailable", "rate_limited"):
                await asyncio.sleep(0.2)
                continue
            raise AssertionError("%s: send %s failed: %r" % (self.name,
                                                             cmid, r))

    def _record(self, m):
        conv, seq, cmid = m["conv"], m["seq"], m.get("cmid")
        have = self.seen.setdefault(conv, {})
        if seq in have:
            self.dups += 1
            if have[seq] != cmid:
                self.errors.append("%s seq %d seen as %s and %s" %
                                   (conv, seq, have[seq], cmid))
            return
        have[seq] = cmid
        c = self.contig.get(conv, 0)
        while c + 1 in have:
            c += 1
        self.contig[conv] = c

    async def _sync_quiet(self):
        try:
            await self.sync()
        except (Dropped, asyncio.TimeoutError):
            pass  # the reconnect syncs

    async def sync(self):
        """sync pages until `more` is false, acking per conversation only
        up to the highest seq held without a gap (so sync fills gaps)."""
        async with self.sync_lock:
            for _ in range(100):
                r = await self._call("sync", limit=500, timeout=30)
                if r.get("ok") is not True:
                    raise AssertionError("%s: sync: %r" % (self.name, r))
                last = {}
                for m in r["msgs"]:
                    if m["seq"] <= last.get(m["conv"], 0):
                        self.errors.append(
                            "sync out of order in %s: %d after %d" %
                            (m["conv"], m["seq"], last[m["conv"]]))
                    last[m["conv"]] = m["seq"]
                    self._record(m)
                moved = await self._ack()
                if not r.get("more"):
                    return
                if not moved:
                    self.errors.append("sync: more, but no progress")
                    return

    async def _ack(self):
        """Acks each conversation's gapless prefix; True if any moved."""
        todo = [(conv, c) for conv, c in self.contig.items()
                if c > self.acked_cursor.get(conv, 0)]
        rs = await asyncio.gather(*(self._call("ack", conv=conv, seq=c)
                                    for conv, c in todo))
        for (conv, c), r in zip(todo, rs):
            natlib.check_ok(r, "%s ack %s %d" % (self.name, conv, c))
            self.acked_cursor[conv] = max(c, self.acked_cursor.get(conv, 0))
        return bool(todo)

    async def close(self):
        self.closing = True
        self.connected.clear()
        if self.writer is not None:
            self.writer.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def run_async(coro, timeout=200):
    """Runs coro on a fresh asyncio loop."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def make_friends(a, b):
    """a adds b (friendship is mutual)."""
    await a.call("friend_add", name=b.name)


async def connect_all(clients, batch=20):
    """register_and_login for every client, batch at a time."""
    for i in range(0, len(clients), batch):
        await asyncio.gather(*(c.register_and_login()
                               for c in clients[i:i + batch]))


def check_delivery(ledger, members, skip_own=False):
    """Every acknowledged message is held exactly once by every member
    of its conversation, and each conversation's seqs are 1..N without a
    gap, each held for the cmid its sender got acknowledged.
    members: conv -> [Client]. skip_own: a member need not hold its own
    messages (pushes go to the others). Returns a list of problems (empty:
    good); the clients' own error lists are included."""
    bad = list(ledger.errors)
    for conv, acked in ledger.convs.items():
        n = max(acked)
        missing = [s for s in range(1, n + 1) if s not in acked]
        if missing:
            bad.append("%s: seqs %s never acknowledged to a sender (a gap, "
                       "or a resend stored twice)" % (conv, missing[:10]))
        for c in members.get(conv, []):
            held = c.seen.get(conv, {})
            lost = [s for s in acked if s not in held and not
                    (skip_own and acked[s].startswith(c.name + "-"))]
            extra = [s for s in held if s not in acked]
            wrong = [s for s in acked if s in held and held[s] != acked[s]]
            if lost or extra or wrong:
                bad.append("%s at %s (node %s): lost %s, unacknowledged %s,"
                           " wrong cmid %s" % (conv, c.name, c.node,
                                               sorted(lost)[:10],
                                               sorted(extra)[:10],
                                               wrong[:10]))
    for cs in members.values():
        for c in cs:
            bad += ["%s: %s" % (c.name, e) for e in c.errors]
    return sorted(set(bad), key=bad.index)
