#!/usr/bin/env python3
"""A describe's latency with 1,000 slowloris connections held open, next to the quiet figure.

Starts `tmirror server` on a free 127.0.0.1 port and measures DescribeTrafficMirrorSessions
(SigV4-signed, one keep-alive connection, sequential) twice: quiet, then while N connections
trickle a request head one line per second and never finish it. A connection the server cuts
(the head deadline) is opened again at once, as an attacker would, so N stay held throughout.
With --baseline, the same runs against another build (e.g. the commit before the event-driven
front) in the same run, for the ratio.

Prints, per server: quiet p50/p99, under-slowloris p50/p99, calls that failed or waited past
the client timeout, connections held, and whether p99 stayed within 2x of the quiet p99 (the goal).

Usage: python3 bench/slowloris_benchmark.py [--tmirror build/bench/tmirror]
           [--baseline OLD_TMIRROR] [--connections 1000] [--calls 100] [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import multiprocessing
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_benchmark as ab  # noqa: E402  (reuses its signing and process handling)

GOAL_RATIO = 2.0
CALL_TIMEOUT_S = 30.0
CALL_INTERVAL_S = 0.1


def accepts_flag(binary: str, flag: str) -> bool:
    out = subprocess.run([binary, "server", "--help"], capture_output=True, text=True, timeout=10)
    return flag in out.stdout + out.stderr


def describe_latencies(server: ab.Server, calls: int, budget_s: float = 120.0,
                       interval_s: float = 0.0) -> tuple[list[float], int]:
    """Sequential signed describes on one keep-alive connection: (seconds each, failures).
    Stops early once budget_s has passed (a stalled server would take calls x timeout)."""
    port = int(server.host.split(":")[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CALL_TIMEOUT_S)
    latencies, failures = [], 0
    give_up = time.monotonic() + budget_s
    for _ in range(calls):
        if time.monotonic() > give_up:
            break
        body, headers = ab.signed_request(server, {"Action": "DescribeTrafficMirrorSessions"})
        started = time.perf_counter()
        try:
            conn.request("POST", "/", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures += 1
        except (OSError, http.client.HTTPException):
            failures += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=CALL_TIMEOUT_S)
        latencies.append(time.perf_counter() - started)
        if interval_s > 0:
            time.sleep(interval_s)
    conn.close()
    return latencies, failures


class Slowloris:
    """N connections that send a request head one line a second and never end it. They run in
    a process of their own: in this one, their loop would hold the GIL and delay the client
    being measured."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.stop = multiprocessing.Event()
        self.held_now = multiprocessing.Value("i", 0)
        self.reopened_total = multiprocessing.Value("i", 0)
        self.process = multiprocessing.Process(target=self.run, daemon=True)

    def open_one(self) -> socket.socket | None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.setblocking(False)
            s.send(b"POST / HTTP/1.1\r\nHost: x\r\n")
            return s
        except OSError:
            return None

    def start(self) -> None:
        self.process.start()
        deadline = time.monotonic() + 60
        while self.held_now.value < self.count and time.monotonic() < deadline:
            time.sleep(0.05)

    def held(self) -> int:
        return self.held_now.value

    @property
    def reopened(self) -> int:
        return self.reopened_total.value

    def run(self) -> None:
        sockets = [self.open_one() for _ in range(self.count)]
        self.held_now.value = sum(1 for s in sockets if s is not None)
        line = 0
        while not self.stop.is_set():
            line += 1
            # Each connection's line at its own point of the second, as many attackers on other
            # machines would send them: a burst from this process would take the CPU the
            # server and the measured client share with it on this machine.
            second = time.monotonic()
            for i, s in enumerate(sockets):
                pause = second + i / self.count - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                alive = s is not None
                if alive:
                    try:
                        s.recv(4096, socket.MSG_PEEK)
                        alive = False  # answered (408 or 503) or closed: start again
                    except BlockingIOError:
                        pass
                    except OSError:
                        alive = False
                if alive:
                    try:
                        s.send(f"X-Line-{line}: 1\r\n".encode())
                    except OSError:
                        alive = False
                if not alive:
                    if s is not None:
                        s.close()
                    with self.reopened_total.get_lock():
                        self.reopened_total.value += 1
                    sockets[i] = self.open_one()
            self.held_now.value = sum(1 for s in sockets if s is not None)
            rest = second + 1.0 - time.monotonic()
            if rest > 0:
                self.stop.wait(rest)
        for s in sockets:
            if s is not None:
                s.close()

    def close(self) -> None:
        self.stop.set()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(name: str, binary: str, connections: int, calls: int) -> dict:
    procs: list = []
    with tempfile.TemporaryDirectory(prefix="tmirror-slowloris-") as workdir:
        extra = []
        if accepts_flag(binary, "--max-connections-per-address"):
            # Every slow connection comes from 127.0.0.1: lift the per-address cap so that the
            # server must withstand them rather than refuse them.
            extra = ["--max-connections-per-address", str(connections + 100)]
        try:
            server = ab.start_tmirror(binary, workdir, procs, tuple(extra))
            describe_latencies(server, 10)  # warm-up
            # 10 calls a second: the loaded phase spans the head deadline (10 s), when the
            # server cuts the slow connections with a 408 and they come straight back.
            quiet, quiet_failures = describe_latencies(server, calls, interval_s=CALL_INTERVAL_S)
            loris = Slowloris(int(server.host.split(":")[1]), connections)
            loris.start()
            time.sleep(2.0)
            held_before = loris.held()
            loaded, loaded_failures = describe_latencies(server, calls, interval_s=CALL_INTERVAL_S)
            held_after = loris.held()
            reopened = loris.reopened
            loris.close()
        finally:
            for proc in procs:
                ab.stop_process(proc)
    return {
        "name": name, "quiet": quiet, "loaded": loaded,
        "failures": quiet_failures + loaded_failures,
        "held": min(held_before, held_after), "reopened": reopened,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tmirror", default=os.path.join(ab.REPO, "build/bench/tmirror"))
    parser.add_argument("--baseline", help="another tmirror build to measure in the same run")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="100 connections, 20 calls")
    args = parser.parse_args()
    if args.quick:
        args.connections, args.calls = 100, 20
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.connections + 512)), hard))

    runs = [("tmirror", args.tmirror)]
    if args.baseline:
        runs.append(("baseline", args.baseline))
    print(f"slowloris: {args.connections} connections trickling a head, {args.calls} "
          f"sequential DescribeTrafficMirrorSessions each phase; {os.cpu_count()} CPUs")
    print(f"{'server':<10} {'quiet p50':>10} {'quiet p99':>10} {'loris p50':>10} "
          f"{'loris p99':>10} {'p99 ratio':>10} {'failed':>7} {'held':>6} {'reopened':>9}")
    ok = True
    for name, binary in runs:
        r = measure(name, binary, args.connections, args.calls)
        if len(r["loaded"]) < args.calls:
            print(f"  {name}: only {len(r['loaded'])} of {args.calls} loaded calls within the "
                  f"time budget")
        q50, q99 = percentile(r["quiet"], 0.5), percentile(r["quiet"], 0.99)
        l50, l99 = percentile(r["loaded"], 0.5), percentile(r["loaded"], 0.99)
        ratio = l99 / q99 if q99 > 0 else float("inf")
        print(f"{name:<10} {q50 * 1e3:>8.2f}ms {q99 * 1e3:>8.2f}ms {l50 * 1e3:>8.2f}ms "
              f"{l99 * 1e3:>8.2f}ms {ratio:>9.2f}x {r['failures']:>7} {r['held']:>6} "
              f"{r['reopened']:>9}")
        if name == "tmirror":
            met = ratio <= GOAL_RATIO and r["failures"] == 0
            ok = ok and r["failures"] == 0 and r["held"] >= args.connections * 0.9
            print(f"  goal: loaded p99 <= {GOAL_RATIO:.0f}x quiet p99: "
                  f"{'met' if met else 'NOT met'} ({ratio:.2f}x); mean quiet "
                  f"{statistics.mean(r['quiet']) * 1e3:.2f} ms, loaded "
                  f"{statistics.mean(r['loaded']) * 1e3:.2f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
