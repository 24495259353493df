#!/usr/bin/env python3
"""Loss-free receive rate of `tmirror collect` (VXLAN decap -> pcapng files) against
`tcpdump -i lo -w FILE udp port 4789` (the method AWS's guides teach; it keeps the encapsulation),
on the same loopback traffic from bench/vxlan_sender (sendmmsg batches).

For each receiver, a binary search over the offered rate finds the highest rate at which every
datagram sent was written (collector: its /counters show all packets in sessions and no drop of
any reason; tcpdump: "N packets captured" equals N sent and 0 "dropped by kernel"). Short trials,
so the figures are indicative; on a busy or 2-core machine they are noisy (see the caveats printed).

  python3 bench/collector_benchmark.py --tmirror build/bench/tmirror --sender build/bench/bench/vxlan_sender
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

from proc_cpu import thread_cpu_ns

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def wait_idle(pid, quiet_seconds=0.5, limit=120):
    """Waits until pid has used no CPU for quiet_seconds; returns its CPU ns then."""
    last = thread_cpu_ns(pid)
    still_since = time.time()
    deadline = time.time() + limit
    while time.time() < deadline:
        time.sleep(0.05)
        now = thread_cpu_ns(pid)
        if now - last > 1_000_000:  # more than 1 ms of work: still draining
            last, still_since = now, time.time()
        elif time.time() - still_since >= quiet_seconds:
            return now
    raise RuntimeError("receiver did not go idle")


def taskset(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


def run_sender(args, port, rate, seconds=None):
    seconds = args.trial_seconds if seconds is None else seconds
    out = subprocess.run(taskset(args.sender_cpu) + [args.sender, "127.0.0.1", str(port),
                                                     str(rate), str(seconds),
                                                     str(args.inner_bytes), "42",
                                                     str(args.source_ports)],
                         stdout=subprocess.PIPE, check=True, timeout=60)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


class CollectorTrial:
    name = "tmirror collect"

    def __init__(self, args):
        self.args = args

    def start(self, work, extra=()):
        log = open(os.path.join(work, "log"), "w+")
        cmd = taskset(self.args.receiver_cpu) + [
            self.args.tmirror, "collect", "--listen", "127.0.0.1:%d" % self.args.port,
            "--output-dir", os.path.join(work, "out"), "--metrics-listen", "127.0.0.1:0",
            "--threads", str(self.args.threads)] + list(extra)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
        metrics_port = None
        deadline = time.time() + 20
        while time.time() < deadline and metrics_port is None and proc.poll() is None:
            log.seek(0)
            m = re.search(r"metrics on http \S+ port (\d+)", log.read())
            metrics_port = int(m.group(1)) if m else None
            time.sleep(0.05)
        if metrics_port is None:
            proc.kill()
            proc.wait()
            log.close()
            raise RuntimeError("collector did not start")
        return proc, log, metrics_port

    @staticmethod
    def counters(metrics_port):
        with urllib.request.urlopen("http://127.0.0.1:%d/counters" % metrics_port) as r:
            counters = json.loads(r.read())
        written = sum(s["packets"] for s in counters["sessions"])
        drops = {k: v for k, v in counters["drops"].items() if v}
        return written, drops

    @staticmethod
    def stop(proc, log, work):
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    def run(self, rate):
        work = tempfile.mkdtemp(prefix="tmirror-bench-", dir=self.args.dir)
        proc, log, metrics_port = self.start(work)
        try:
            cpu0 = cpu_seconds(proc.pid)
            sent = run_sender(self.args, self.args.port, rate)
            time.sleep(1.5)  # let the socket buffer drain (same wait as for tcpdump)
            cpu1 = cpu_seconds(proc.pid)
            written, drops = self.counters(metrics_port)
            return {"sent": sent["sent"], "seconds": sent["seconds"], "received": written,
                    "drops": drops, "cpu_seconds": cpu1 - cpu0,
                    "lossless": written == sent["sent"] and not drops}
        finally:
            self.stop(proc, log, work)

    def drain(self):
        """Fills the stopped collector's socket queue, then lets it empty the queue at full
        batches: its CPU time per packet then is its own per-packet cost at saturation."""
        work = tempfile.mkdtemp(prefix="tmirror-bench-", dir=self.args.dir)
        proc, log, metrics_port = self.start(work, ["--rcvbuf", str(self.args.drain_buffer)])
        try:
            wait_idle(proc.pid, 0.3)
            proc.send_signal(signal.SIGSTOP)
            sent = run_sender(self.args, self.args.port, self.args.max_rate, self.args.drain_seconds)
            cpu0 = thread_cpu_ns(proc.pid)
            proc.send_signal(signal.SIGCONT)
            cpu1 = wait_idle(proc.pid)
            written, drops = self.counters(metrics_port)
            return {"sent": sent["sent"], "received": written, "drops": drops,
                    "cpu_ns": cpu1 - cpu0}
        finally:
            self.stop(proc, log, work)


class TcpdumpTrial:
    name = "tcpdump -i lo -w FILE udp port 4789"

    def __init__(self, args):
        self.args = args

    def run(self, rate):
        work = tempfile.mkdtemp(prefix="tmirror-bench-", dir=self.args.dir)
        cmd = taskset(self.args.receiver_cpu) + [
            "tcpdump", "-i", "lo", "-w", os.path.join(work, "capture.pcap"), "udp", "port",
            str(self.args.port)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            line = proc.stderr.readline().decode()
            if "listening on" not in line:
                raise RuntimeError("tcpdump: " + line)
            cpu0 = cpu_seconds(proc.pid)
            sent = run_sender(self.args, self.args.port, rate)
            # libpcap's TPACKET_V3 hands over a partly filled ring block only when tcpdump's
            # 1 s timeout retires it: wait longer than that before stopping.
            time.sleep(1.5)
            cpu1 = cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            err = proc.communicate(timeout=60)[1].decode()
            shutil.rmtree(work, ignore_errors=True)
        captured = int(re.search(r"(\d+) packets? captured", err).group(1))
        kernel = int(re.search(r"(\d+) packets? dropped by kernel", err).group(1))
        return {"sent": sent["sent"], "seconds": sent["seconds"], "received": captured,
                "drops": {"dropped_by_kernel": kernel} if kernel else {},
                "cpu_seconds": cpu1 - cpu0,
                "lossless": captured == sent["sent"] and kernel == 0}


    def drain(self):
        """As for the collector: tcpdump stopped while its ring (-B) fills, then let go."""
        work = tempfile.mkdtemp(prefix="tmirror-bench-", dir=self.args.dir)
        cmd = taskset(self.args.receiver_cpu) + [
            "tcpdump", "-i", "lo", "-B", str(self.args.drain_buffer // 1024), "-w",
            os.path.join(work, "capture.pcap"), "udp", "port", str(self.args.port)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            line = proc.stderr.readline().decode()
            if "listening on" not in line:
                raise RuntimeError("tcpdump: " + line)
            wait_idle(proc.pid, 0.3)
            proc.send_signal(signal.SIGSTOP)
            sent = run_sender(self.args, self.args.port, self.args.max_rate, self.args.drain_seconds)
            cpu0 = thread_cpu_ns(proc.pid)
            proc.send_signal(signal.SIGCONT)
            # A partly filled ring block is handed over by the 1 s block timeout: wait it out.
            time.sleep(1.2)
            cpu1 = wait_idle(proc.pid)
        finally:
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGINT)
            err = proc.communicate(timeout=60)[1].decode()
            shutil.rmtree(work, ignore_errors=True)
        captured = int(re.search(r"(\d+) packets? captured", err).group(1))
        kernel = int(re.search(r"(\d+) packets? dropped by kernel", err).group(1))
        return {"sent": sent["sent"], "received": captured,
                "drops": {"dropped_by_kernel": kernel} if kernel else {}, "cpu_ns": cpu1 - cpu0}


def drain_rate(trial):
    """Packets per receiver CPU-second with a full queue (None when packets were lost)."""
    r = trial.drain()
    ok = r["received"] == r["sent"] and not r["drops"]
    per_packet = r["cpu_ns"] / max(r["received"], 1)
    print("  %-38s queued %9d, written %9d, %7.0f ns CPU per packet -> %9.0f packets per "
          "CPU-second%s" % (trial.name, r["sent"], r["received"], per_packet, 1e9 / per_packet,
                            "" if ok else "  LOSS " + json.dumps(r["drops"])), flush=True)
    return {"ns": per_packet, "pps": 1e9 / per_packet} if ok else None


def search(trial, args):
    """Highest loss-free offered rate (pps) by bisection; also whether the sender kept up."""
    lo, hi = 0.0, float(args.max_rate)
    best = None
    sender_bound = False
    rate = args.start_rate
    for _ in range(args.steps):
        result = trial.run(rate)
        achieved = result["sent"] / result["seconds"]
        ok = result["lossless"]
        print("  %-38s offered %9.0f pps, sent %9.0f pps, written %9d/%-9d %s%s" % (
            trial.name, rate, achieved, result["received"], result["sent"],
            "loss-free" if ok else "LOSS", "" if ok else " " + json.dumps(result["drops"])),
            flush=True)
        if ok:
            if achieved < 0.97 * rate:
                sender_bound = True  # the generator, not the receiver, is the limit here
            if best is None or achieved > best["pps"]:
                per_packet = result["cpu_seconds"] / max(result["received"], 1)
                best = {"pps": achieved, "cpu_ns_per_packet": per_packet * 1e9}
            lo = rate
            if sender_bound:
                break
        else:
            hi = rate
        rate = (lo + hi) / 2 if hi < float(args.max_rate) or not ok else min(rate * 2, hi)
        if hi - lo < args.resolution:
            break
    return best, sender_bound


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tmirror", default="build/bench/tmirror")
    p.add_argument("--sender", default="build/bench/bench/vxlan_sender")
    p.add_argument("--port", type=int, default=24789)
    p.add_argument("--threads", type=int, default=1, help="collector receive threads")
    p.add_argument("--inner-bytes", type=int, default=64,
                   help="inner frame size (64: 114-byte VXLAN packets on the wire)")
    p.add_argument("--source-ports", type=int, default=8)
    p.add_argument("--trial-seconds", type=float, default=1.5)
    p.add_argument("--start-rate", type=float, default=200000)
    p.add_argument("--max-rate", type=float, default=4000000)
    p.add_argument("--resolution", type=float, default=25000)
    p.add_argument("--steps", type=int, default=9)
    p.add_argument("--sender-cpu", type=int, default=0)
    p.add_argument("--receiver-cpu", type=int, default=1)
    p.add_argument("--dir", default=None, help="where files are written (default: $TMPDIR)")
    p.add_argument("--drain-seconds", type=float, default=2.0,
                   help="how long the sender fills the stopped receiver's queue")
    p.add_argument("--drain-buffer", type=int, default=1 << 30,
                   help="socket buffer / tcpdump ring for the drain trial, bytes")
    p.add_argument("--no-drain", action="store_true", help="skip the drain trial")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("note: tcpdump on lo needs root; running the collector alone")

    print("collector benchmark: loopback, %d-byte inner frames, trials of %.1f s, sender on cpu %s, "
          "receiver on cpu %s, %d cpus online" % (args.inner_bytes, args.trial_seconds,
                                                  args.sender_cpu, args.receiver_cpu,
                                                  os.cpu_count()))
    with open("/proc/loadavg") as f:
        print("load average before: " + " ".join(f.read().split()[:3]))
    results = {}
    trials = [CollectorTrial(args)] + ([TcpdumpTrial(args)] if os.geteuid() == 0 else [])
    for trial in trials:
        results[trial.name] = search(trial, args)
    print()
    for name, (best, sender_bound) in results.items():
        if best is None:
            print("%-38s no loss-free rate found" % name)
            continue
        print("%-38s %9.0f pps loss-free, %6.0f ns CPU per packet%s" % (
            name, best["pps"], best["cpu_ns_per_packet"],
            "  (sender-bound: the receiver may do more)" if sender_bound else ""))
    names = list(results)
    if len(names) == 2 and results[names[0]][0] and results[names[1]][0]:
        ratio = results[names[0]][0]["pps"] / results[names[1]][0]["pps"]
        bound = [n for n in names if results[n][1]]
        print("ratio collector / tcpdump: %.2fx (goal >= 1.5x)%s" % (
            ratio, "" if not bound else
            "  -- NOT a receiver comparison: the sender was the limit for " + " and ".join(bound)
            + " (on loopback tcpdump's ring copy also runs on the sender's core)"))
    if not args.no_drain:
        print()
        print("drain: each receiver stopped (SIGSTOP) while the sender fills its queue for %.1f s, "
              "then let go; its CPU time while it empties the queue, per packet:"
              % args.drain_seconds)
        drains = {trial.name: drain_rate(trial) for trial in trials}
        names = [n for n in drains if drains[n]]
        if drains.get(CollectorTrial.name):
            print("collector: %.2f Mpps per core at full batches (goal >= 1 Mpps per core)"
                  % (drains[CollectorTrial.name]["pps"] / 1e6))
        if len(names) == 2:
            print("drain ratio collector / tcpdump: %.2fx (packets per CPU-second)"
                  % (drains[names[0]]["pps"] / drains[names[1]]["pps"]))
        print("drain caveat: the kernel's enqueue work (loopback: the sender's softirq) is not in "
              "these figures; the receiver's recvmmsg/ring reads, decap and writes are.")
    print("caveats: on loopback the kernel's receive work (softirq) runs on the sender's core; "
          "CPU per packet is the receiver process only (user+sys); short trials on a shared "
          "machine are noisy: re-run on a quiet one.")


if __name__ == "__main__":
    main()
