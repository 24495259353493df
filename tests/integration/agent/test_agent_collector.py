"""The agent and the collector end to end in the namespace lab (root only; ctest label
``privileged``): two sessions of the source host's eth0, with different VNIs, go to one
``tmirror collect`` on the target host. Checked: each session's pcapng files (rotated by size
during the run) hold exactly the inner frames that reached the target, byte for byte, and
``tcpdump -i tmirror-<vni>`` on the collector's TAP device sees the inner traffic.

    cd tests/integration/agent && TMIRROR_BINARY=<build>/tmirror /usr/bin/python3 -m unittest -v \\
        test_agent_collector
"""

import collections
import glob
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import agentlab
import mirror_eval as me
from agentlab import lablib
from test_agent_e2e import CLI4, CLI6, PY, SRC4, TGT4, TRAFFIC, Observation

SKIP = agentlab.lab_skip_reason(need_agent=True)
TCP_VNI, UDP_VNI = 5001, 5002
ROTATE_BYTES = 16384


def read_pcapng_frames(path):
    """(bytes, original length) of every packet of a pcapng file, via scapy."""
    from scapy.utils import RawPcapNgReader
    out = []
    for data, meta in RawPcapNgReader(path):
        out.append((bytes(data), getattr(meta, "wirelen", len(data))))
    return out


@unittest.skipIf(SKIP, SKIP or "")
class AgentToCollectorTest(unittest.TestCase):
    def setUp(self):
        self.binary = agentlab.find_binary()
        self.lab = lablib.Lab()
        self.addCleanup(self.lab.down)
        self.lab.up()
        srv = self.lab.popen("cli", [PY, TRAFFIC, "serve"], stdout=subprocess.PIPE)
        self.assertEqual(srv.stdout.readline().strip(), b"ready")
        self.captures = tempfile.mkdtemp(prefix="tmirror-agentlab-collector-")
        self.addCleanup(shutil.rmtree, self.captures, True)
        self.collector = self.lab.popen(
            "tgt", [self.binary, "collect", "--listen", "0.0.0.0:4789", "--output-dir",
                    self.captures, "--rotate-bytes", str(ROTATE_BYTES), "--tap",
                    "--metrics-listen", "127.0.0.1:8902"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.collector_log = agentlab.LineLog(self.collector.stdout, "[collect]")
        self.addCleanup(self.stop_collector)
        self.assertTrue(self.collector_log.wait_for(re.compile(r"listening on udp"), 20),
                        self.collector_log.text())
        self.server = agentlab.NsServer(self.lab, self.binary)
        self.addCleanup(self.server.cleanup)
        self.server.start()
        self.api = agentlab.NsApi(self.lab, self.server)
        self.addCleanup(self.api.close)
        self.agent = agentlab.NsAgent(self.lab, self.binary, self.server)
        self.addCleanup(self.agent.cleanup)
        self.agent.start()

    def stop_collector(self):
        if self.collector.poll() is None:
            self.collector.terminate()
            self.collector.wait(timeout=20)
        self.collector_log.thread.join(timeout=5)

    def test_two_sessions_into_rotated_files_and_tap_devices(self):
        eni = self.agent.enis["eth0"]
        target = self.api.target_for(TGT4)
        tcp = [me.Rule(10, "accept", d, "0.0.0.0/0", "0.0.0.0/0", protocol=6)
               for d in ("ingress", "egress")]
        udp = [me.Rule(10, "accept", d, "0.0.0.0/0", "0.0.0.0/0", protocol=17)
               for d in ("ingress", "egress")]
        mark = self.agent.mark()
        for number, vni, rules in ((1, TCP_VNI, tcp), (2, UDP_VNI, udp)):
            self.api.session(eni, target, self.api.filter_with(rules), number, vni)
        self.agent.wait_applied(mark, timeout=5)
        time.sleep(0.5)
        # First copies make the collector create its TAP devices; then listen on them.
        self.lab.run("src", [PY, TRAFFIC, "mix", "--peer4", CLI4, "--peer6", CLI6,
                             "--rounds", 1])
        deadline = time.time() + 10
        while time.time() < deadline:
            links = self.lab.run("tgt", ["ip", "-o", "link"]).stdout
            if "tmirror-%d" % TCP_VNI in links and "tmirror-%d" % UDP_VNI in links:
                break
            time.sleep(0.1)
        taps = {vni: self.lab.tcpdump("tgt", "tmirror-%d" % vni, None,
                                      os.path.join(self.captures, "tap-%d.pcap" % vni))
                for vni in (TCP_VNI, UDP_VNI)}
        with Observation(self, targets=("tgt",)) as obs:
            self.lab.run("src", [PY, TRAFFIC, "mix", "--peer4", CLI4, "--peer6", CLI6,
                                 "--rounds", 3])
            # Enough UDP for several files of 16 KiB.
            stream = self.lab.popen("src", [PY, TRAFFIC, "stream", "--dst", CLI4, "--pps",
                                            400, "--seconds", 1.5, "--size", 400],
                                    stdout=subprocess.PIPE)
            stream.wait(timeout=20)
        time.sleep(0.5)
        tap_frames = {}
        for vni, cap in taps.items():
            cap.stop()
            tap_frames[vni] = [f[1] for f in me.read_pcap(cap.path)]
        self.stop_collector()  # flushes and closes the current files

        on_wire = collections.defaultdict(list)
        for m in obs.mirrored:
            on_wire[m.vni].append(bytes(m.inner))
        self.assertTrue(on_wire[TCP_VNI] and on_wire[UDP_VNI], "both sessions mirrored")
        for vni in (TCP_VNI, UDP_VNI):
            files = sorted(glob.glob(os.path.join(self.captures, "*vni%d*.pcapng" % vni)))
            self.assertTrue(files, "no file for VNI %d in %s" % (vni, os.listdir(self.captures)))
            for f in files:
                r = subprocess.run(["capinfos", f], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, universal_newlines=True)
                self.assertEqual(r.returncode, 0, r.stdout)
            written = []
            for f in files:
                written += [data for data, _ in read_pcapng_frames(f)]
            print("\n  VNI %d: %d copies on the wire, %d frames in %d files, %d on the TAP"
                  % (vni, len(on_wire[vni]), len(written), len(files), len(tap_frames[vni])))
            # Every copy seen on the wire during the observation is in the files, once.
            missing = collections.Counter(on_wire[vni]) - collections.Counter(written)
            self.assertEqual(sum(missing.values()), 0,
                             "VNI %d: %d copies not in the files" % (vni, sum(missing.values())))
            # And the TAP device carried them too.
            missing_tap = collections.Counter(on_wire[vni]) - collections.Counter(tap_frames[vni])
            self.assertEqual(sum(missing_tap.values()), 0,
                             "VNI %d: %d copies not on tmirror-%d"
                             % (vni, sum(missing_tap.values()), vni))
        udp_files = glob.glob(os.path.join(self.captures, "*vni%d*.pcapng" % UDP_VNI))
        self.assertGreater(len(udp_files), 2, "rotation by size during the run")
        # Each session's traffic only in its own files.
        for data, _ in read_pcapng_frames(
                sorted(glob.glob(os.path.join(self.captures, "*vni%d*.pcapng" % TCP_VNI)))[0]):
            self.assertNotIn(data, set(on_wire[UDP_VNI]))


if __name__ == "__main__":
    unittest.main()
