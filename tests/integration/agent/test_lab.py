"""Tests of the namespace lab itself and of the ground-truth pipeline (root; no agent needed)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import agentlab
import mirror_eval as me
from agentlab import lablib

TRAFFIC = os.path.join(agentlab.HERE, "traffic.py")
LAB_PY = os.path.join(agentlab.REPO, "tools", "lab", "lab.py")
PY = "/usr/bin/python3"
SKIP = agentlab.lab_skip_reason(need_agent=False)


@unittest.skipIf(SKIP, SKIP or "")
class LabTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.lab = lablib.Lab()
        cls.addClassCleanup(cls.lab.down)
        cls.lab.up()
        srv = cls.lab.popen("cli", [PY, TRAFFIC, "serve"], stdout=subprocess.PIPE)
        assert srv.stdout.readline().strip() == b"ready"

    def test_addresses_reach_each_other_and_nothing_else(self):
        for role in ("src", "tgt", "tg2"):
            rtt = self.lab.run(role, [PY, TRAFFIC, "ping", "--dst", "198.51.100.10",
                                      "--count", 1])
            self.assertNotIn("null", rtt.stdout)
        routes = self.lab.run("src", ["ip", "route", "show", "default"]).stdout.strip()
        self.assertEqual(routes, "")
        r6 = self.lab.run("src", ["ip", "-6", "route", "show", "default"]).stdout.strip()
        self.assertEqual(r6, "")
        self.assertEqual(open("/etc/netns/%s/resolv.conf" % self.lab.ns("src")).read(),
                         "nameserver 198.51.100.53\n")
        self.assertIn("nameserver 198.51.100.53",
                      self.lab.run("src", ["cat", "/etc/resolv.conf"]).stdout)

    def test_offloads_off_and_helpers(self):
        k = self.lab.run("src", ["ethtool", "-k", "eth0"]).stdout
        for feat in ("tcp-segmentation-offload", "generic-segmentation-offload",
                     "generic-receive-offload"):
            self.assertIn("%s: off" % feat, k)
        self.assertRegex(self.lab.mac("src"), r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
        self.assertGreater(self.lab.ifindex("src"), 1)
        self.assertIn("rx_packets", self.lab.if_stats("src"))

    def test_ground_truth_capture_sees_every_kind_of_traffic_once(self):
        d = tempfile.mkdtemp(prefix="tmirror-labtest-")
        self.addCleanup(shutil.rmtree, d, True)
        cin = self.lab.tcpdump("src", "eth0", "in", os.path.join(d, "in.pcap"))
        cout = self.lab.tcpdump("src", "eth0", "out", os.path.join(d, "out.pcap"))
        res = self.lab.run("src", [PY, TRAFFIC, "mix", "--rounds", 2, "--dns"])
        self.assertIn('"lost": 0', res.stdout)
        self.lab.run("src", [PY, TRAFFIC, "vlan", "--src-ip", "198.51.100.202", "--dst-ip",
                             "198.51.100.201", "--dst-mac", self.lab.mac("cli"), "--count", 3])
        self.lab.run("cli", [PY, TRAFFIC, "vlan", "--src-ip", "198.51.100.201", "--dst-ip",
                             "198.51.100.202", "--dst-mac", self.lab.mac("src"), "--count", 3])
        cin.stop()
        cout.stop()
        got = {}
        for direction, cap in (("ingress", cin), ("egress", cout)):
            for _, raw, orig in me.read_pcap(cap.path):
                self.assertEqual(len(raw), orig)
                self.assertLessEqual(len(raw), 1514 + 4, "super-packet: offloads not off?")
                f = me.parse_frame(raw)
                key = (direction, f.family, f.proto, bool(f.vlans))
                got[key] = got.get(key, 0) + 1
        for direction in ("ingress", "egress"):
            for fam, proto in ((4, 6), (4, 17), (4, 1), (6, 6), (6, 17), (6, 58)):
                self.assertIn((direction, fam, proto, False), got, got)
            self.assertEqual(got.get((direction, 4, 17, True)), 3, got)
            self.assertEqual(got.get((direction, 4, 1, True)), 3, got)
        # The UDP echo's request appears exactly once egress and its reply once ingress.
        echo = [(d, raw) for d, cap in (("egress", cout), ("ingress", cin))
                for _, raw, _ in me.read_pcap(cap.path)
                if b"udp 0 198.51.100.10" in raw]
        self.assertEqual(sorted(x[0] for x in echo), ["egress", "ingress"])


@unittest.skipIf(SKIP, SKIP or "")
class TeardownTest(unittest.TestCase):
    def test_context_manager_kills_processes_and_removes_everything(self):
        with lablib.Lab(prefix="tmlctx%d" % os.getpid()) as lab:
            p = lab.popen("src", ["sleep", "300"])
            q = subprocess.Popen(["ip", "netns", "exec", lab.ns("tgt"), "sleep", "300"])
            ns = [lab.ns(r) for r in lablib.ROLES]
        self.assertIsNotNone(p.poll())
        q.wait(timeout=10)  # not started by the lab, still killed: it ran in its namespace
        left = set(lablib.list_namespaces()) & set(ns)
        self.assertEqual(left, set())
        self.assertFalse(os.path.exists("/etc/netns/%s" % ns[2]))

    def test_sigterm_tears_down(self):
        prefix = "tml%d" % 0  # placeholder, replaced by the child's pid
        code = ("import sys, time; sys.path.insert(0, %r); import lab; l = lab.Lab(); l.up(); "
                "print(l.prefix, flush=True); time.sleep(300)" % os.path.dirname(LAB_PY))
        child = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE)
        prefix = child.stdout.readline().decode().strip()
        self.assertTrue(any(n.startswith(prefix + "-") for n in lablib.list_namespaces()))
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
        self.assertFalse(any(n.startswith(prefix + "-") for n in lablib.list_namespaces()))

    def test_down_cleans_up_after_a_crash(self):
        code = ("import sys, os, subprocess; sys.path.insert(0, %r); import lab; l = lab.Lab(); "
                "l.up(); l.popen('src', ['sleep', '300'], preexec_fn=os.setsid, stdout=subprocess.DEVNULL); "
                "print(l.prefix, flush=True); os._exit(9)" % os.path.dirname(LAB_PY))
        child = subprocess.run([PY, "-c", code], stdout=subprocess.PIPE, timeout=60)
        prefix = child.stdout.decode().strip()
        self.assertEqual(child.returncode, 9)
        self.assertTrue(any(n.startswith(prefix + "-") for n in lablib.list_namespaces()))
        self.assertIn(prefix, lablib.stale_prefixes())
        res = subprocess.run([PY, LAB_PY, "down"], stdout=subprocess.PIPE, timeout=60,
                             universal_newlines=True)
        self.assertEqual(res.returncode, 0)
        self.assertFalse(any(n.startswith(prefix + "-") for n in lablib.list_namespaces()))
        self.assertFalse(os.path.exists("/etc/netns/%s-src" % prefix))


if __name__ == "__main__":
    unittest.main()
