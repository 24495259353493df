#!/usr/bin/env python3
"""Memory of `tmirror collect` per session, with pcapng file output (bench/vxlan_sender on
loopback, one session per VNI).

Two trials, each with a fresh collector (--max-sessions 65536):
  active   N sessions (default 4,096) all busy at once: the sender cycles through their VNIs
           at RATE pps for SECONDS; the collector's RSS is sampled all along.
  many     M sessions (default 65,536) with one frame each.
For each it prints the peak RSS (VmHWM), the RSS over the idle collector's, MiB per session,
the files open and the write buffers held, and whether every datagram was written (no drop
of any reason). Goals (issue "Every byte, bounded memory"): active 4,096 <= 256 MiB, 65,536
with one frame each <= 2 GiB.

  python3 bench/collector_memory_benchmark.py --tmirror build/bench/tmirror \\
      --sender build/bench/bench/vxlan_sender [--quick]
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Collector:
    def __init__(self, binary, directory, extra=()):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [binary, "collect", "--listen", "127.0.0.1:0", "--output-dir", directory,
             "--max-sessions", "65536", "--metrics-listen", "127.0.0.1:0"] + list(extra),
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + 20
        text = ""
        while time.time() < deadline:
            self.log.seek(0)
            text = self.log.read().decode(errors="replace")
            m = re.search(r"listening on udp \S+ port (\d+)", text)
            h = re.search(r"metrics on http \S+ port (\d+)", text)
            if m and h:
                self.port, self.metrics_port = int(m.group(1)), int(h.group(1))
                return
            time.sleep(0.05)
        raise RuntimeError("collector did not start: " + text)

    def counters(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/counters" % self.metrics_port,
                                    timeout=30) as r:
            return json.loads(r.read())

    def rss_mib(self):
        return status_kib(self.proc.pid, "VmRSS") / 1024

    def peak_mib(self):
        return status_kib(self.proc.pid, "VmHWM") / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def send(args, port, rate, seconds, vni_count, inner_bytes):
    out = subprocess.run([args.sender, "127.0.0.1", str(port), str(rate), str(seconds),
                          str(inner_bytes), "1", "8", str(vni_count)],
                         stdout=subprocess.PIPE, check=True, universal_newlines=True)
    return json.loads(out.stdout)["sent"]


def wait_written(collector, sent, limit=300):
    """Waits until the collector counted every datagram (received or dropped)."""
    deadline = time.time() + limit
    c = collector.counters()
    while time.time() < deadline:
        c = collector.counters()
        if c["datagrams"] + c["drops"]["socket_overflow"] >= sent:
            break
        time.sleep(0.2)
    # Datagrams are counted as a batch arrives, before its frames reach their sessions: read
    # again once the receive threads had time to finish the batch.
    time.sleep(0.5)
    return collector.counters()


def trial(args, name, sessions, rate, seconds, inner_bytes):
    directory = tempfile.mkdtemp(prefix="tmirror-membench-")
    collector = Collector(args.tmirror, directory)
    try:
        time.sleep(0.5)
        idle = collector.rss_mib()
        samples = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                samples.append(collector.rss_mib())
                time.sleep(0.25)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.time()
        sent = send(args, collector.port, rate, seconds, sessions, inner_bytes)
        c = wait_written(collector, sent)
        elapsed = time.time() - started
        stop.set()
        sampler.join()
        rss = collector.rss_mib()
        peak = collector.peak_mib()
        drops = {k: v for k, v in c["drops"].items() if v}
        files = c.get("files", {})
        seen = len(c["sessions"])
        print("%-7s %6d sessions  %8d datagrams in %5.1f s   RSS idle %6.1f MiB, now %7.1f, "
              "peak %7.1f MiB -> %7.1f KiB per session over idle" %
              (name, seen, sent, elapsed, idle, rss, peak, (peak - idle) * 1024 / max(seen, 1)))
        print("        files open %s (finished for the cap %s), write buffers %.1f MiB, drops %s"
              % (files.get("open_files"), files.get("closed_for_open_file_cap"),
                 files.get("buffer_bytes", 0) / 2**20, drops or "none"))
        return {"sessions": seen, "sent": sent, "peak_mib": peak, "idle_mib": idle,
                "drops": drops}
    finally:
        collector.stop()
        shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tmirror", required=True)
    parser.add_argument("--sender", required=True)
    parser.add_argument("--active-sessions", type=int, default=4096)
    parser.add_argument("--many-sessions", type=int, default=65536)
    parser.add_argument("--rate", type=int, default=100000, help="pps of the active trial")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--inner-bytes", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and short")
    args = parser.parse_args()
    if args.quick:
        args.active_sessions, args.many_sessions, args.seconds = 256, 2048, 2
    print("collector memory: %s (pcapng files; a session = one VNI from 127.0.0.1)" % args.tmirror)
    active = trial(args, "active", args.active_sessions, args.rate, args.seconds, args.inner_bytes)
    many = trial(args, "many", args.many_sessions, 100000, -args.many_sessions, 64)
    ok = True
    for name, result, goal in (("active", active, 256), ("many", many, 2048)):
        if result["sessions"] != (args.active_sessions if name == "active" else args.many_sessions):
            print("  %s: only %d sessions seen" % (name, result["sessions"]))
            ok = False
        if result["drops"]:
            print("  %s: frames were not written: %s" % (name, result["drops"]))
            ok = False
        if not args.quick:
            print("  %s: peak %.0f MiB, goal <= %d MiB: %s"
                  % (name, result["peak_mib"], goal,
                     "met" if result["peak_mib"] <= goal else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
