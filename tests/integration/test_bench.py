#!/usr/bin/env python3
"""natter-bench against a real natterd, briefly: each workload of
doc/performance.md runs for a second with small counts, stops by itself,
prints its result line and its JSON line, and reports no failure. Only
that the load generator still works is checked here: speed is measured
by tests/bench/compare, never by a test.

natterd runs with the compare script's benchmark flags (read from
tests/bench/compare), so a flag it names that natterd no longer takes
fails here first."""

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import natlib
from natlib import check, check_eq, start_natterd, test

COMPARE = os.path.join(natlib.SRC_ROOT, "tests", "bench", "compare")
DB_COST = os.path.join(natlib.SRC_ROOT, "tests", "bench", "db-cost")

# (workload arguments, result keys that must be there, key that must be > 0)
WORKLOADS = {
    "relay": (["--pairs", "10", "--window", "4"],
              ["msgs_per_s", "server_cpu", "gen_cpu"], "msgs_per_s"),
    "latency": (["--pairs", "10", "--rate", "1000"],
                ["rate", "p50_ms", "p99_ms", "p999_ms", "ack_p99_ms"],
                "rate"),
    "fanout": (["--members", "20", "--senders", "2"],
               ["deliveries_per_s", "members"], "deliveries_per_s"),
    "groups": (["--groups", "5", "--group-size", "4", "--rate", "500"],
               ["rate", "deliveries_per_s", "p99_ms", "ack_p99_ms"], "rate"),
    "idle": (["--conns", "200"], ["conns", "kib_per_conn"], "conns"),
    "storm": (["--pairs", "10", "--rate", "500", "--logins", "100",
               "--burst", "20"],
              ["logins_per_s", "storm_p99_ms", "p99_ms"], "logins_per_s"),
}


def _compare_flags():
    """NATTERD_FLAGS of tests/bench/compare."""
    loader = importlib.machinery.SourceFileLoader("natter_compare", COMPARE)
    spec = importlib.util.spec_from_loader("natter_compare", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod.NATTERD_FLAGS


def _run(srv, workload, extra=()):
    args, keys, positive = WORKLOADS[workload]
    argv = [natlib.natter_bench_path(), "--proto", "natter", "--port", str(srv.port),
            "--server-pid", str(srv.proc.pid), "--label", "natterd",
            "--workload", workload, "--duration", "1", "--warmup", "0.2",
            "--timeout", "60"] + args + list(extra)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=90)
    lines = p.stdout.splitlines()
    check_eq(p.returncode, 0, "natter-bench %s exit code (stderr: %s)" %
             (workload, p.stderr.strip()[-300:]))
    text = [ln for ln in lines if not ln.startswith("{")]
    js = [ln for ln in lines if ln.startswith("{")]
    check_eq(len(js), 1, "JSON lines of %s: %r" % (workload, lines))
    res = json.loads(js[0])
    print("  " + " ".join(text))
    check("error" not in res, "%s failed: %r" % (workload, res))
    check_eq(res.get("workload"), workload, "workload in the JSON")
    for k in keys:
        check(k in res, "%s: no %s in %r" % (workload, k, res))
    check(res[positive] > 0, "%s: %s is %r" % (workload, positive,
                                               res[positive]))
    check(res.get("failures", 0) == 0, "%s: failures %r" %
          (workload, res.get("failures")))
    return res


def _server():
    """A natterd of its own with compare's flags, but the tests' log level
    (info, so that its log tells what went wrong)."""
    flags, it = [], iter(_compare_flags())
    for f in it:
        if f == "--log-level":
            next(it)
        else:
            flags.append(f)
    return start_natterd(flags)


@test
def relay_runs():
    _run(_server(), "relay")


@test
def latency_runs():
    res = _run(_server(), "latency")
    check(res["p50_ms"] <= res["p99_ms"] <= res["p999_ms"],
          "percentiles out of order: %r" % res)


@test
def cmid_kinds_run():
    """--cmid time and random: natterd takes every send (no failure)."""
    srv = _server()
    for kind in ("time", "random"):
        _run(srv, "latency", ["--cmid", kind])
    p = subprocess.run([natlib.natter_bench_path(), "--proto", "natter",
                        "--port", "1", "--workload", "latency", "--cmid",
                        "sequential"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    check(p.returncode != 0 and "--cmid" in p.stderr,
          "an unknown --cmid is refused with the usage")
    # compare passes --cmid on; it checks the kind before starting anything.
    p = subprocess.run([sys.executable, COMPARE, "--no-install", "--cmid",
                        "sequential"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=30)
    check(p.returncode == 2 and "--cmid" in p.stderr,
          "compare refuses an unknown --cmid (stderr: %s)" % p.stderr[-300:])


@test
def fanout_runs():
    _run(_server(), "fanout")


@test
def groups_runs():
    res = _run(_server(), "groups")
    # 500 msg/s, each to the 3 others of its group of 4
    check_eq(res["deliveries_per_s"] > 2 * res["rate"], True,
             "deliveries per message: %r" % res)


@test
def idle_runs():
    res = _run(_server(), "idle")
    check_eq(int(res["conns"]), 200, "idle connections held")


@test
def storm_runs():
    _run(_server(), "storm")


def _trace_lines(path):
    """--trace's lines as (sent us, latency us, pair, in storm)."""
    with open(path) as f:
        rows = [ln.split() for ln in f]
    for r in rows:
        check_eq(len(r), 4, "trace line fields: %r" % r)
    return [(float(a), float(b), int(c), int(d)) for a, b, c, d in rows]


@test
def trace_written():
    """--trace writes a line per measured message, sent time and latency
    in microseconds, the pair, whether the storm ran; a trace that cannot
    be written fails the run before it starts."""
    srv = _server()
    tmp = tempfile.mkdtemp(prefix="natbench-")
    try:
        path = os.path.join(tmp, "latency.trace")
        res = _run(srv, "latency", ["--trace", path])
        rows = _trace_lines(path)
        check_eq(len(rows), int(res["samples"]), "a line per sample")
        # sent: CLOCK_MONOTONIC, as Python's monotonic clock on Linux
        now_us = time.monotonic() * 1e6
        check(all(now_us - 30e6 <= r[0] <= now_us and r[1] > 0 and
                  0 <= r[2] < 10 and r[3] == 0 for r in rows),
              "latency trace values")
        check(rows[-1][0] - rows[0][0] <= 1.5e6, "sent over the second")
        path = os.path.join(tmp, "storm.trace")
        _run(srv, "storm", ["--trace", path])
        check(any(r[3] == 1 for r in _trace_lines(path)),
              "the storm's messages are marked")
        p = subprocess.run([natlib.natter_bench_path(), "--proto", "natter",
                            "--port", str(srv.port), "--workload",
                            "latency", "--trace",
                            os.path.join(tmp, "no", "such")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=30)
        check(p.returncode != 0 and "no/such" in p.stderr,
              "an unwritable trace fails: %r" % p.stderr[-300:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _thread_policies(pid):
    """(policy, nice) of each thread of pid (/proc's stat fields 41, 19)."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended
        out.append((int(rest[38]), int(rest[16])))
    return out


def _storm_policy(srv, extra):
    """The storm's thread's (policy, nice), seen while the run lasts."""
    args = WORKLOADS["storm"][0]
    argv = [natlib.natter_bench_path(), "--proto", "natter", "--port",
            str(srv.port), "--workload", "storm", "--duration", "3",
            "--warmup", "0.2", "--timeout", "60"] + args + extra
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    seen = set()
    try:
        deadline = time.monotonic() + 30
        while p.poll() is None and time.monotonic() < deadline:
            seen.update(_thread_policies(p.pid))
            if len(seen) > 1:
                break
            time.sleep(0.05)
    finally:
        p.kill()
        p.wait()
    return seen - {(0, 0)}  # the chat loop's


@test
def storm_thread_below_chat():
    """The storm's logins run at SCHED_IDLE (5), or at --storm-nice N, so
    that on the generator's one core they never hold up the chat loop."""
    srv = _server()
    check_eq(_storm_policy(srv, []), {(5, 0)}, "storm thread policy, nice")
    check_eq(_storm_policy(srv, ["--storm-nice", "5"]), {(0, 5)},
             "storm thread with --storm-nice 5")


@test
def timed_out_run_fails_cleanly():
    """A run whose time limit passes with its end timer still pending
    reports the time-out and exits 1; under ASan, it frees that timer."""
    srv = _server()
    argv = [natlib.natter_bench_path(), "--proto", "natter", "--port",
            str(srv.port), "--workload", "relay", "--pairs", "2",
            "--duration", "30", "--timeout", "2"]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    check_eq(p.returncode, 1, "exit code (stderr: %s)" % p.stderr[-300:])
    js = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    check_eq(len(js), 1, "JSON lines: %r" % p.stdout)
    check("timed out" in json.loads(js[0]).get("error", ""),
          "error: %r" % js[0])
    check("LeakSanitizer" not in p.stderr, "leak: %s" % p.stderr[-600:])


@test
def db_cost_runs():
    """tests/bench/db-cost, briefly: it starts its own mariadbd, loads
    rows into each variant of natterd's messages table and times its
    statements; it prints a table row for each (a variant's cost above
    zero) and a JSON line for each."""
    out = tempfile.mkdtemp(prefix="natter-dbcost-test-")
    try:
        p = subprocess.run(
            [DB_COST, "--runs", "1", "--rows", "5000", "--statements",
             "1000", "--no-install",
             "--natterd", natlib.natterd_path(), "--out", out],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=180)
        check_eq(p.returncode, 0, "exit code (stderr: %s)" % p.stderr[-600:])
        rows, stmts = {}, 0
        for ln in p.stdout.splitlines():
            cells = [c.strip() for c in ln.strip("|").split("|")]
            if len(cells) == 4 and cells[0] in ("natter", "fk-checked",
                                                 "id-key", "pk-only"):
                rows[cells[0]] = float(cells[1])
            elif len(cells) == 3 and cells[1] in ("1", "10"):
                stmts += 1
        check_eq(sorted(rows), ["fk-checked", "id-key", "natter", "pk-only"],
                 "variants in %r" % p.stdout)
        check(all(us > 0 for us in rows.values()), "us a row: %r" % rows)
        check_eq(stmts, 6, "statement rows in %r" % p.stdout)
        with open(os.path.join(out, "db-cost.jsonl")) as f:
            check_eq(len(f.readlines()), 10, "JSON lines")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    natlib.run()
