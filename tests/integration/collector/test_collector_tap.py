"""`tmirror collect --tap`: each VNI's frames appear on a TAP device tmirror-<vni>, where tcpdump
reads them as if it sat on the source interface. Needs root; everything runs in a network
namespace this test creates and always deletes, so no frame reaches the host's stack."""

import os
import shutil
import subprocess
import tempfile
import time
import unittest

from collector_harness import BINARY, inner_frame, vxlan  # noqa: F401

NS = "tmirror-ct-%d" % os.getpid()


def ns(*cmd, **kw):
    return ["ip", "netns", "exec", NS] + list(cmd)


@unittest.skipUnless(os.geteuid() == 0, "needs root (network namespace, TAP devices)")
class CollectorTapTest(unittest.TestCase):
    def setUp(self):
        subprocess.run(["ip", "netns", "add", NS], check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", NS])
        subprocess.run(ns("ip", "link", "set", "lo", "up"), check=True)
        self.dir = tempfile.mkdtemp(prefix="tmirror-tap-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()

    def spawn(self, cmd, **kw):
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        return p

    def send(self, payloads):
        script = ("import socket,sys\n"
                  "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                  "for h in sys.argv[1:]: s.sendto(bytes.fromhex(h),('127.0.0.1',14789))\n")
        subprocess.run(ns("/usr/bin/python3", "-c", script, *[p.hex() for p in payloads]),
                       check=True, timeout=60)

    def wait_for(self, predicate, what, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        self.fail("timed out waiting for " + what)

    def test_tcpdump_on_tmirror_vni_sees_the_inner_frames(self):
        log_path = os.path.join(self.dir, "collect.log")
        with open(log_path, "wb") as log:
            self.spawn(ns(BINARY, "collect", "--listen", "127.0.0.1:14789", "--tap"), stdout=log,
                       stderr=log)

        def started():
            with open(log_path, "rb") as f:
                return b"listening" in f.read()

        self.wait_for(started, "the collector")
        # The device appears with the first frame of its VNI.
        self.send([vxlan(inner_frame(0), 77)])
        self.wait_for(lambda: subprocess.run(ns("ip", "link", "show", "tmirror-77"),
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL).returncode == 0,
                      "tmirror-77")
        state = subprocess.run(ns("ip", "-o", "link", "show", "tmirror-77"),
                               stdout=subprocess.PIPE).stdout.decode()
        self.assertIn("UP", state)
        pcap = os.path.join(self.dir, "tap.pcap")
        tcpdump = self.spawn(ns("tcpdump", "-n", "-U", "-i", "tmirror-77", "-w", pcap, "-c", "5",
                                "udp and dst port 53"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        # tcpdump says "listening on" once its socket is open.
        line = tcpdump.stderr.readline().decode()
        self.assertIn("listening on tmirror-77", line)
        frames = [inner_frame(i, 64 + i * 100) for i in range(1, 6)]
        self.send([vxlan(f, 77) for f in frames] + [vxlan(inner_frame(9), 78)])
        tcpdump.wait(timeout=30)
        tcpdump.stderr.close()
        from scapy.all import rdpcap
        self.assertEqual([bytes(p) for p in rdpcap(pcap)], frames)
        self.assertEqual(subprocess.run(ns("ip", "link", "show", "tmirror-78"),
                                        stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL).returncode, 0)


if __name__ == "__main__":
    unittest.main()
