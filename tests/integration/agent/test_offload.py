"""Every byte with the kernel's offloads at their defaults (root only; ctest label
``privileged``). The lab's veths keep TSO/GSO on, so the agent's capture ring sees 64 KiB
super-frames both ways; the agent must cut them into the wire packets a NIC would send.

4 MB go each way over TCP between the client and a process on the source host; the source's
agent mirrors both directions to ``tmirror collect`` on the target host. Checked:
- the TCP streams tshark reassembles from the collector's pcapng equal the bytes sent, both
  directions, every copy whole (captured length = wire length) and wire-size (<= 1514 bytes);
- tshark finds no bad IP or TCP checksum in the copies;
- the agent says it cut super-frames (its counters), so the test did test offloads;
- with a PacketLength session, every copy is the first N bytes of a wire-size packet, and the
  packets' TCP sequence ranges tile each stream exactly once.
``GsoSendTest`` runs the same with the source's eth0 not offering UDP segmentation, so the agent
sends runs of copies as UDP GSO buffers (``--send-gso auto``) that the source's kernel cuts: the
same checks, plus every VXLAN packet reaching the target is a wire packet (no buffer got
through whole) with sound outer headers, one per copy the collector wrote.

The copies (wire packets + 36 bytes of VXLAN) must fit the 1500-byte path to the target
whole: the client's link gets MTU 1400, so TCP's wire packets are at most 1414 bytes.

    cd tests/integration/agent && TMIRROR_BINARY=<build>/tmirror /usr/bin/python3 -m unittest -v \\
        test_offload
"""

import glob
import os
import re
import shutil
import struct
import subprocess
import tempfile
import time
import unittest

import agentlab
import mirror_eval as me
from agentlab import lablib
from test_agent_collector import read_pcapng_frames
from test_agent_e2e import CLI4, PY, SRC4, TGT4

HERE = os.path.dirname(os.path.abspath(__file__))
BULK = os.path.join(HERE, "bulk_tcp.py")
SKIP = agentlab.lab_skip_reason(need_agent=True)
if not SKIP and shutil.which("tshark") is None:
    SKIP = "tshark is not installed (scripts/install-deps.sh test)"
VNI = 7001
PORT = 5001
BYTES = 4 * 1000 * 1000
CLIENT_MTU = 1400
WIRE_MAX = 14 + CLIENT_MTU  # the largest wire packet of the transfer
HEAD = 160  # bytes of each VXLAN packet the target's capture keeps: the headers


def expected(seed):
    import random
    return random.Random(seed).randbytes(BYTES)


def follow_tcp(path):
    """The two byte streams of the first TCP stream on PORT, as tshark reassembles them:
    (client -> server, server -> client)."""
    r = subprocess.run(["tshark", "-r", path, "-q", "-Y", "tcp.port == %d" % PORT,
                        "-z", "follow,tcp,raw,0"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    if r.returncode != 0:
        raise AssertionError("tshark follow failed: %s" % r.stderr)
    node0, node1 = [], []
    lines = r.stdout.splitlines()
    body = False
    client_first = None
    for line in lines:
        if line.startswith("Node 0:"):
            client_first = line.split()[-1].startswith(CLI4 + ":")
            continue
        if line.startswith("Node 1:"):
            body = True
            continue
        if not body or line.startswith("====="):
            continue
        if line.startswith("\t"):
            node1.append(line.strip())
        elif line.strip():
            node0.append(line.strip())
    a, b = bytes.fromhex("".join(node0)), bytes.fromhex("".join(node1))
    return (a, b) if client_first else (b, a)


def bad_checksums(path):
    """Frames tshark finds a bad IPv4 or TCP checksum in (checksum checks turned on)."""
    r = subprocess.run(["tshark", "-r", path, "-o", "ip.check_checksum:TRUE",
                        "-o", "tcp.check_checksum:TRUE", "-Y",
                        "ip.checksum.status == \"Bad\" || tcp.checksum.status == \"Bad\"",
                        "-T", "fields", "-e", "frame.number"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                       timeout=300)
    if r.returncode != 0:
        raise AssertionError("tshark failed: %s" % r.stderr)
    return [l for l in r.stdout.splitlines() if l.strip()]


def tcp_segments(frames):
    """(direction, sequence, payload length) of each TCP segment on PORT, read from the
    headers of each copy (which may be cut): direction True = client -> server."""
    out = []
    for data, wirelen in frames:
        if len(data) < 14 + 20 + 20 or data[12:14] != b"\x08\x00" or data[23] != 6:
            continue
        ihl = (data[14] & 0x0F) * 4
        total = struct.unpack("!H", data[16:18])[0]
        tcp = 14 + ihl
        sport, dport, seq = struct.unpack("!HHI", data[tcp:tcp + 8])
        if PORT not in (sport, dport):
            continue
        doff = (data[tcp + 12] >> 4) * 4
        out.append((dport == PORT, seq, total - ihl - doff, total, len(data)))
    return out


@unittest.skipIf(SKIP, SKIP or "")
class OffloadTest(unittest.TestCase):
    def setUp(self):
        self.binary = agentlab.find_binary()
        self.lab = lablib.Lab(offloads_off=False)
        self.addCleanup(self.lab.down)
        self.lab.up()
        # Room for whole copies: the client's link is narrower than the path to the target,
        # so TCP's segments (and the copies, 36 bytes longer) fit the lab's 1500 bytes.
        self.lab.run("cli", ["ip", "link", "set", "eth0", "mtu", str(CLIENT_MTU)])
        self.lab.run("net", ["ip", "link", "set", "p-cli", "mtu", str(CLIENT_MTU)])
        offloads = self.lab.run("src", ["ethtool", "-k", "eth0"]).stdout
        self.assertRegex(offloads, r"tcp-segmentation-offload: on",
                         "the lab must keep TSO on for this test")
        self.captures = tempfile.mkdtemp(prefix="tmirror-offload-")
        self.addCleanup(shutil.rmtree, self.captures, True)
        self.collector = self.lab.popen(
            "tgt", [self.binary, "collect", "--listen", "0.0.0.0:4789", "--output-dir",
                    self.captures, "--rotate-bytes", str(1 << 30),
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
        self.ns_thread = agentlab.NsThread(self.lab.ns("src"))
        self.addCleanup(self.ns_thread.close)

    def start_outer_capture(self):
        """A capture of the VXLAN packets reaching the target, when the test checks them."""
        return None

    def stop_collector(self):
        if self.collector.poll() is None:
            self.collector.terminate()
            self.collector.wait(timeout=20)
        self.collector_log.thread.join(timeout=5)

    def mirror_bulk_transfer(self, packet_length=None):
        """Mirrors port PORT both ways and runs the transfer; returns the pcapng path."""
        eni = self.agent.enis["eth0"]
        rules = [me.Rule(10, "accept", d, "0.0.0.0/0", "0.0.0.0/0", protocol=6)
                 for d in ("ingress", "egress")]
        mark = self.agent.mark()
        self.api.session(eni, self.api.target_for(TGT4), self.api.filter_with(rules), 1, VNI,
                         packet_length=packet_length)
        self.agent.wait_applied(mark, timeout=5)
        time.sleep(0.3)
        outer = self.start_outer_capture()
        server = self.lab.popen("src", [PY, BULK, "serve", PORT, BYTES], stdout=subprocess.PIPE)
        self.assertEqual(server.stdout.readline().strip(), b"ready")
        client = self.lab.run("cli", [PY, BULK, "send", SRC4, PORT, BYTES], timeout=120)
        self.assertEqual(client.stdout.strip(), "done %d" % BYTES)
        self.assertEqual(server.stdout.readline().strip(), b"done %d" % BYTES)
        server.wait(timeout=20)
        time.sleep(1.0)  # the last copies reach the collector
        counters = agentlab.interface_counters(self.agent.counters(self.ns_thread))
        print("\n  agent: %d super-frames cut into %d wire packets, %d checksums completed, "
              "copied as captured: %s, skipped %d, kernel drops %d"
              % (counters["OffloadSuperFrames"], counters["OffloadSegments"],
                 counters["OffloadChecksumsCompleted"], counters["OffloadCopiedAsCaptured"],
                 counters["Skipped"], counters["KernelDrops"]))
        self.assertTrue(counters["OffloadMetadata"], "the kernel gives offload metadata")
        self.assertGreater(counters["OffloadSuperFrames"], 10,
                           "TSO/GSO super-frames reached the agent (else this tests nothing)")
        self.assertEqual(counters["OffloadCopiedAsCaptured"], {})
        self.stop_collector()  # flushes and closes the file
        self.outer_path = outer.stop() if outer else None
        if os.environ.get("TMIRROR_KEEP"):
            shutil.copytree(self.captures, os.environ["TMIRROR_KEEP"], dirs_exist_ok=True)
        files = sorted(glob.glob(os.path.join(self.captures, "*vni%d*.pcapng" % VNI)))
        self.assertEqual(len(files), 1, os.listdir(self.captures))
        return files[0], counters

    def test_bulk_tcp_both_ways_reassembles_from_the_collectors_file(self):
        path, counters = self.mirror_bulk_transfer()
        frames = read_pcapng_frames(path)
        self.assertTrue(frames)
        cut = [(len(d), w) for d, w in frames if len(d) != w]
        self.assertEqual(cut, [], "copies cut short")
        too_big = [w for _, w in frames if w > WIRE_MAX]
        self.assertEqual(too_big, [], "copies larger than a wire packet")
        sent_up, sent_down = follow_tcp(path)
        print("  collector: %d frames; reassembled %d bytes client->server, %d back"
              % (len(frames), len(sent_up), len(sent_down)))
        self.assertEqual(len(sent_up), BYTES)
        self.assertEqual(len(sent_down), BYTES)
        self.assertTrue(sent_up == expected(1), "client -> server stream differs")
        self.assertTrue(sent_down == expected(2), "server -> client stream differs")
        self.assertEqual(bad_checksums(path), [], "bad checksums in the copies")
        self.assertEqual(counters["Skipped"], 0)

    def test_packet_length_cuts_each_wire_packet(self):
        n = 100
        path, _ = self.mirror_bulk_transfer(packet_length=n)
        frames = read_pcapng_frames(path)
        self.assertTrue(frames)
        # A VXLAN copy does not say how long the packet was: its IP header does.
        segments = tcp_segments(frames)
        self.assertGreater(len(segments), 2 * BYTES // 1448)
        for up, seq, length, total, captured in segments:
            self.assertEqual(captured, min(n, total + 14), "a copy is cut to PacketLength")
            self.assertLessEqual(total + 14, WIRE_MAX, "from a wire-size packet")
        self.assertEqual(max(s[3] for s in segments) + 14, WIRE_MAX, "full-size wire packets")
        for direction in (True, False):
            mine = [(seq, length) for up, seq, length, _, _ in segments
                    if up == direction and length > 0]
            # Relative to the first data packet, so a sequence number wrap sorts right.
            first = mine[0][0]
            ranges = sorted(((seq - first) & 0xFFFFFFFF, length) for seq, length in mine)
            # The ranges cover the stream with no gap. A retransmission (a loaded machine)
            # repeats a range: it was on the wire too, so it is mirrored too.
            covered = 0
            for start, length in ranges:
                self.assertLessEqual(start, covered, "a gap in the mirrored sequence space")
                covered = max(covered, start + length)
            self.assertEqual(covered, BYTES)
            print("  %s: %d data packets, %d retransmitted bytes"
                  % ("client->server" if direction else "server->client", len(ranges),
                     sum(l for _, l in ranges) - BYTES))


class GsoSendTest(OffloadTest):
    """The same with runs of copies sent as UDP GSO buffers, cut by the source's kernel."""

    def setUp(self):
        super().setUp()
        # A device without UDP segmentation offload: the kernel cuts GSO buffers before it,
        # which is where the agent's --send-gso auto sends them.
        self.lab.run("src", ["ethtool", "-K", "eth0", "tx-udp-segmentation", "off"])

    def start_outer_capture(self):
        self.outer_capture = self.lab.tcpdump("tgt", "eth0", "in",
                                              os.path.join(self.captures, "outer.pcap"),
                                              bpf="udp dst port 4789", snaplen=HEAD)
        return self.outer_capture

    def mirror_bulk_transfer(self, packet_length=None):
        path, counters = super().mirror_bulk_transfer(packet_length)
        copies = counters["RawFramesSent"]
        print("  agent: %d of %d copies sent in %d GSO buffers (%d refused)"
              % (counters["GsoCopiesSent"], copies, counters["GsoBuffersSent"],
                 counters["GsoBuffersRefused"]))
        self.assertEqual(counters["GsoBuffersRefused"], 0)
        self.assertGreater(counters["GsoCopiesSent"], copies // 2,
                           "most copies of a bulk transfer go in GSO buffers")
        outer = me.read_pcap(self.outer_path)
        self.assertEqual(self.outer_capture.kernel_drops(), 0)
        # Every packet that reached the target is a wire packet, however it was sent, and its
        # IPv4 and UDP lengths are its own.
        self.assertEqual([o for _, _, o in outer if o > 14 + 1500], [],
                         "a GSO buffer reached the target whole")
        lengths = [(struct.unpack("!H", raw[16:18])[0], struct.unpack("!H", raw[38:40])[0], o)
                   for _, raw, o in outer]
        self.assertEqual([x for x in lengths if x[0] != x[2] - 14 or x[1] != x[0] - 20], [],
                         "IPv4 / UDP lengths of the packets cut from GSO buffers")
        got = me.decap_vxlan(outer, expect_source=SRC4)
        self.assertEqual(len(got), copies, "one VXLAN packet per copy")
        # The only other allowed difference from a copy sent alone: a UDP checksum (left to
        # the device; veth hands it over unfinished, so its value is not checked here). The
        # capture keeps only the headers, so the total length is checked above.
        notes = sorted({e for m in got for e in m.errors
                        if "checksum" not in e and "total length" not in e})
        self.assertEqual(notes, [], "outer headers")
        self.assertTrue(all(m.vni == VNI for m in got))
        self.assertEqual(len(read_pcapng_frames(path)), copies, "the collector wrote every copy")
        return path, counters


if __name__ == "__main__":
    unittest.main()
