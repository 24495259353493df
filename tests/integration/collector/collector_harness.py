"""Runs ``tmirror collect`` for the integration tests and sends it VXLAN made by scapy.

Traffic goes to 127.0.0.1 / ::1 only. Run with Debian's /usr/bin/python3 (it has scapy).
"""

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

from scapy.all import IP, UDP, VXLAN, Ether, Raw, rdpcap  # noqa: F401  (re-exported)

BINARY = os.environ.get("TMIRROR_BINARY", "")


def die_with_parent():
    import ctypes
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Collector:
    """One ``tmirror collect`` process on 127.0.0.1:0 (or ``listen``), stderr in a file."""

    def __init__(self, *args, listen="127.0.0.1:0", metrics=True, stdout=subprocess.DEVNULL):
        self.log = tempfile.NamedTemporaryFile(prefix="tmirror-collect-", suffix=".log",
                                               delete=False)
        cmd = [BINARY, "collect", "--listen", listen] + list(args)
        if "--server" in args and "--state-dir" not in args:
            # Each collector its own identity, as each host has its own state directory.
            cmd += ["--state-dir", tempfile.mkdtemp(prefix="tmirror-collect-state-")]
        if metrics:
            cmd += ["--metrics-listen", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd, stdout=stdout, stderr=self.log,
                                     stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
        self.port = None
        self.metrics_port = None
        deadline = time.time() + 20
        while time.time() < deadline:
            text = self.stderr()
            m = re.search(r"listening on udp \S+ port (\d+)", text)
            if m and (not metrics or "metrics on http" in text):
                self.port = int(m.group(1))
                if metrics:
                    self.metrics_port = int(re.search(r"metrics on http \S+ port (\d+)",
                                                      text).group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError("tmirror collect did not start: " + self.stderr())

    def stderr(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def counters(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/counters" % self.metrics_port,
                                    timeout=10) as r:
            return json.loads(r.read())

    def metrics(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                    timeout=10) as r:
            return r.read().decode()

    def wait_datagrams(self, n, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.counters()["datagrams"] >= n:
                return
            time.sleep(0.05)
        raise AssertionError("collector saw %d of %d datagrams" % (self.counters()["datagrams"], n))

    def stop(self, sig=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self):
        self.stop(signal.SIGKILL)
        os.unlink(self.log.name)


def inner_frame(i, size=100, src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02"):
    """An Ethernet/IPv4/UDP frame of ``size`` bytes whose payload depends on ``i``."""
    head = Ether(src=src_mac, dst=dst_mac) / IP(src="10.1.0.%d" % (1 + i % 200),
                                                dst="10.2.0.1") / UDP(sport=10000 + i, dport=53)
    pad = max(0, size - len(head))
    return bytes(head / Raw(bytes((i * 7 + k) & 0xFF for k in range(pad))))


def vxlan(frame, vni):
    """The UDP payload scapy builds for ``frame`` on ``vni`` (flags 0x08)."""
    return bytes(VXLAN(flags=0x08, vni=vni) / Raw(frame))


def send(port, payloads, address="127.0.0.1"):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        for p in payloads:
            s.sendto(p, (address, port))


def pcapng_files(directory, suffix=".pcapng"):
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(suffix))


def tshark_ok(path):
    r = subprocess.run(["tshark", "-n", "-r", path], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    # tshark also complains on stderr about a file cut short mid-block: no complaint is allowed.
    err = "".join(line for line in r.stderr.decode(errors="replace").splitlines(True)
                  if not line.startswith("Running as user"))
    return r.returncode == 0, err


def capinfos_ok(path):
    r = subprocess.run(["capinfos", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=60)
    return r.returncode == 0, r.stderr.decode(errors="replace")
