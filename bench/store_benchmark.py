#!/usr/bin/env python3
"""The PostgreSQL store next to the SQLite store, and one replica next to two, in one run.

1. Stores: a server on SQLite and a server on PostgreSQL (a server of this run's own, from
   Debian's package, with fsync on as SQLite's synchronous=FULL is), the same data in each
   (bench/api_benchmark.py's: 100 sessions, targets and filters), then describes and creates
   driven by wrk. Prints requests/s and the PostgreSQL/SQLite ratio per call.
2. Replicas: one PostgreSQL database, describes driven first through one replica with N
   connections, then through two replicas with N/2 connections each (two wrk processes at
   once). Prints the sum and the two/one ratio.

Goals (issue "PostgreSQL store"): describes on PostgreSQL >= 0.5x SQLite's; two replicas >= 1.5x
one on describes. On a 2-core machine the database, the replicas and wrk share the two cores,
so what a second replica adds is bounded by the cores left, not by tmirror; the report prints
the cores each process used so that the bound can be read off.

Usage: python3 bench/store_benchmark.py [--tmirror build/bench/tmirror] [--duration 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))

import api_benchmark as ab  # noqa: E402
import pg_server  # noqa: E402

DESCRIBES = [("DescribeTrafficMirrorSessions", "trafficMirrorSessionId"),
             ("DescribeTrafficMirrorFilters", "trafficMirrorFilterId")]
GOAL_PG_RATIO = 0.5
GOAL_REPLICA_RATIO = 1.5


def database_cpu_seconds(pg) -> float:
    """CPU time of the PostgreSQL server so far: the postmaster and every process it started
    (backends live as long as their connections, so they are read while they run)."""
    with open(os.path.join(pg.directory, "data", "postmaster.pid")) as f:
        postmaster = int(f.readline())
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == postmaster or int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class DatabaseCores:
    """Cores the database used while a block ran: `with DatabaseCores(pg) as d: ...; d.cores`."""

    def __init__(self, pg):
        self.pg = pg
        self.cores = 0.0

    def __enter__(self):
        self.t0, self.cpu0 = time.monotonic(), database_cpu_seconds(self.pg)
        return self

    def __exit__(self, *exc):
        self.cores = (database_cpu_seconds(self.pg) - self.cpu0) / (time.monotonic() - self.t0)


def start(args, workdir, procs, name, store_args):
    os.makedirs(workdir)
    server = ab.start_tmirror(args.tmirror, workdir, procs, ab.quota_args(args.tmirror),
                              store_args)
    server.name = name
    return server


def describe_rps(args, servers, action, tag, workdir, connections):
    """wrk on each server at once, `connections` each; (sum of req/s, [Result...])."""
    out = [None] * len(servers)

    def one(i):
        a = argparse.Namespace(**vars(args))
        a.connections = connections
        d = os.path.join(workdir, f"wrk-{i}")
        os.makedirs(d, exist_ok=True)
        out[i] = ab.bench_describe(a, servers[i], action, tag, d)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(servers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(r.rps for r in out), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tmirror", default=os.path.join(REPO, "build/bench/tmirror"))
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run for the tests: one-second runs, no goal judged")
    args = ap.parse_args()
    if args.quick:
        args.duration = 1.0  # wrk takes whole seconds
    for tool in (args.wrk, args.tmirror):
        if not (shutil.which(tool) or os.access(tool, os.X_OK)):
            print(f"store_benchmark: {tool} not found", file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    info = ab.machine_info(args.tmirror)
    print(f"machine: {info['cpu']}, {info['nproc']} cores; tmirror {info['tmirror_commit']}",
          flush=True)
    workdir = tempfile.mkdtemp(prefix="tmirror-store-bench-")
    procs: list[subprocess.Popen] = []
    pg = None
    try:
        pg = pg_server.PostgresServer(durable=True)
        print(f"postgresql: own server on 127.0.0.1:{pg.port}, fsync on", flush=True)

        # 1. SQLite vs PostgreSQL, one server each.
        sqlite = start(args, os.path.join(workdir, "sqlite"), procs, "sqlite", ())
        postgres = start(args, os.path.join(workdir, "pg"), procs, "postgres",
                         ("--database", pg.create_database()))
        rows = []
        for s in (sqlite, postgres):
            ab.populate(s)
            ab.run_wrk(args, s, [ab.raw_request(s, {"Action": "DescribeTrafficMirrorFilters"})],
                       workdir, 1.0)  # warm-up
        for action, tag in DESCRIBES:
            a = ab.bench_describe(args, sqlite, action, tag, workdir)
            with DatabaseCores(pg) as db:
                b = ab.bench_describe(args, postgres, action, tag, workdir)
            rows.append((action, a, b, db.cores))
        a = ab.bench_create_filters(args, sqlite, workdir)
        with DatabaseCores(pg) as db:
            b = ab.bench_create_filters(args, postgres, workdir)
        rows.append(("CreateTrafficMirrorFilter", a, b, db.cores))
        for p in procs:
            ab.stop_process(p)
        procs.clear()

        # 2. One replica vs two on one database.
        url = pg.create_database()
        one = start(args, os.path.join(workdir, "r1"), procs, "replica-1", ("--database", url))
        two = start(args, os.path.join(workdir, "r2"), procs, "replica-2", ("--database", url))
        ab.populate(one)
        replica_rows = []
        for action, tag in DESCRIBES:
            with DatabaseCores(pg) as db1:
                single, _ = describe_rps(args, [one], action, tag, workdir, args.connections)
            with DatabaseCores(pg) as db2:
                double, parts = describe_rps(args, [one, two], action, tag, workdir,
                                             max(1, args.connections // 2))
            replica_rows.append((action, single, double, parts, db1.cores, db2.cores))

        print("\n== PostgreSQL vs SQLite (one server each, same data, same run)")
        print(f"{'call':34} {'SQLite req/s':>13} {'PostgreSQL':>11} {'ratio':>6}  "
              f"cores: tmirror on SQLite / tmirror on PostgreSQL + PostgreSQL")
        ok = True
        for action, a, b, db_cores in rows:
            ratio = b.rps / a.rps if a.rps else 0.0
            goal = action.startswith("Describe")
            met = ratio >= GOAL_PG_RATIO if goal else True
            ok = ok and met
            print(f"{action:34} {a.rps:13.1f} {b.rps:11.1f} {ratio:6.2f}  "
                  f"{a.server_cpu:.2f} / {b.server_cpu:.2f} + {db_cores:.2f}"
                  + (f"   goal >= {GOAL_PG_RATIO}: {'met' if met else 'MISSED'}" if goal else ""))
        print("\n== Two replicas vs one (PostgreSQL, describes; connections split over the two)")
        for action, single, double, parts, db1, db2 in replica_rows:
            ratio = double / single if single else 0.0
            met = ratio >= GOAL_REPLICA_RATIO
            ok = ok and met
            cores = " + ".join(f"{r.server_cpu:.2f}" for r in parts)
            wrk = sum(r.wrk_cpu for r in parts)
            print(f"{action:34} one {single:9.1f}  two {double:9.1f}  ratio {ratio:5.2f}  "
                  f"cores: replicas {cores}, PostgreSQL {db2:.2f} (one replica: {db1:.2f}), "
                  f"wrk {wrk:.2f}   goal >= {GOAL_REPLICA_RATIO}: {'met' if met else 'MISSED'}")
        print(f"\ncores on this machine: {os.cpu_count()} (database, replicas and wrk share them)")
        if args.quick:
            return 0  # the smoke run checks that every part runs, not the figures
        return 0 if ok else 3
    except ab.BenchError as e:
        print(f"store_benchmark: {e}", file=sys.stderr)
        return 1
    finally:
        for p in procs:
            ab.stop_process(p)
        if pg is not None:
            pg.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
