"""`tmirror collect` as a process, fed VXLAN built by scapy (an implementation independent of
tmirror's encapsulator) over loopback; its outputs read by tshark, capinfos and scapy."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from collector_harness import (Collector, capinfos_ok, inner_frame, pcapng_files, rdpcap, send,
                               tshark_ok, vxlan)


class CollectorTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tmirror-collect-it-")
        self.collectors = []

    def tearDown(self):
        for c in self.collectors:
            c.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *args, **kw):
        c = Collector(*args, **kw)
        self.collectors.append(c)
        return c

    def test_scapy_frames_are_written_byte_for_byte_per_session(self):
        out = os.path.join(self.dir, "out")
        c = self.start("--output-dir", out, "--snaplen", "256")
        frames = {7: [inner_frame(i, 60 + i * 4) for i in range(40)],  # all under --snaplen
                  9: [inner_frame(i + 100, 1400) for i in range(10)]}
        send(c.port, [vxlan(f, 7) for f in frames[7]])
        send(c.port, [vxlan(f, 9) for f in frames[9]])
        c.wait_datagrams(50)
        self.assertEqual(c.stop(), 0)
        files = pcapng_files(out)
        self.assertEqual(len(files), 2, files)
        for path in files:
            self.assertEqual(tshark_ok(path), (True, ""))
            ok, err = capinfos_ok(path)
            self.assertTrue(ok, err)
        by_vni = {7: [p for p in files if "-vni7-" in p][0], 9: [p for p in files if "-vni9-" in p][0]}
        got7 = rdpcap(by_vni[7])
        self.assertEqual([bytes(p) for p in got7], frames[7])
        got9 = rdpcap(by_vni[9])
        # Cut to --snaplen 256, the original length kept.
        self.assertEqual([bytes(p) for p in got9], [f[:256] for f in frames[9]])
        self.assertEqual([p.wirelen for p in got9], [1400] * 10)
        lengths = subprocess.run(["tshark", "-n", "-r", by_vni[9], "-T", "fields", "-e", "frame.len",
                                  "-e", "frame.cap_len", "-e", "frame.interface_description"],
                                 stdout=subprocess.PIPE, check=True).stdout.decode().splitlines()
        self.assertEqual(lengths[0], "1400\t256\tVXLAN mirror from 127.0.0.1 VNI 9")

    def test_inner_frames_up_to_the_largest_udp_payload_are_written_whole(self):
        out = os.path.join(self.dir, "out")
        c = self.start("--output-dir", out)
        # Jumbo frames, and copies of unsegmented super-frames from other senders.
        frames = [inner_frame(1, 9000), inner_frame(2, 30000), inner_frame(3, 65000),
                  inner_frame(4, 100)]
        send(c.port, [vxlan(f, 77) for f in frames])
        c.wait_datagrams(len(frames))
        self.assertEqual(sum(c.counters()["drops"].values()), 0)
        c.stop()
        files = pcapng_files(out)
        self.assertEqual(len(files), 1)
        self.assertEqual([bytes(p) for p in rdpcap(files[0])], frames)

    def test_socket_drops_are_counted_when_the_burst_ends_without_a_next_datagram(self):
        c = self.start("--rcvbuf", "65536", "--output-dir", os.path.join(self.dir, "out"))
        c.proc.send_signal(signal.SIGSTOP)  # a stalled receiver: the socket buffer overflows
        try:
            send(c.port, [vxlan(inner_frame(i, 1000), 3) for i in range(2000)])
        finally:
            c.proc.send_signal(signal.SIGCONT)
        # Nothing more is sent: the drop count must come from the socket itself.
        deadline = time.time() + 10
        while time.time() < deadline:
            counters = c.counters()
            if counters["datagrams"] + counters["drops"]["socket_overflow"] == 2000:
                break
            time.sleep(0.2)
        print("\n  received %d, socket_overflow %d" % (counters["datagrams"],
                                                     counters["drops"]["socket_overflow"]))
        self.assertGreater(counters["drops"]["socket_overflow"], 1000)
        self.assertEqual(counters["datagrams"] + counters["drops"]["socket_overflow"], 2000)
        self.assertIn('tmirror_collector_drops_total{reason="socket_overflow"} %d'
                      % counters["drops"]["socket_overflow"], c.metrics())
        c.stop()

    def test_ipv6_listener_receives_from_ipv6_senders(self):
        out = os.path.join(self.dir, "out")
        c = self.start("--output-dir", out, listen="[::1]:0")
        frames = [inner_frame(i, 80) for i in range(5)]
        send(c.port, [vxlan(f, 1234) for f in frames], address="::1")
        c.wait_datagrams(5)
        c.stop()
        files = pcapng_files(out)
        self.assertEqual(len(files), 1)
        self.assertIn("--1-vni1234-", os.path.basename(files[0]))
        self.assertEqual([bytes(p) for p in rdpcap(files[0])], frames)

    def test_hostile_datagrams_are_counted_by_reason_and_never_crash(self):
        out = os.path.join(self.dir, "out")
        c = self.start("--output-dir", out, "--deny-vni", "66", "--allow-sender", "127.0.0.0/8")
        good = vxlan(inner_frame(1), 5)
        hostile = [b"", b"\x08", b"\x08\x00\x00\x00\x00\x00\x05",  # short
                   b"\x08\x00\x00\x00\x00\x00\x05\x00",  # header only
                   b"\x00" + good[1:], b"\xff" + good[1:],  # flags
                   good[:7] + b"\x01" + good[8:],  # reserved byte
                   vxlan(inner_frame(2), 66),  # denied
                   # large and random, with a reserved bit set
                   b"\x08\x00\x00\x00\x00\x00\x07\x01" + os.urandom(60000)]
        send(c.port, hostile + [good])
        c.wait_datagrams(len(hostile) + 1)
        counters = c.counters()
        drops = counters["drops"]
        self.assertEqual(drops["short_packet"], 3)
        self.assertEqual(drops["empty_inner_frame"], 1)
        self.assertEqual(drops["bad_vxlan_flags"], 2)
        # Any UDP payload fits the receive buffer (64 KiB): the large one is read whole.
        self.assertEqual(drops["reserved_bits_set"], 2)
        self.assertEqual(drops["oversized_datagram"], 0)
        self.assertEqual(drops["vni_denied"], 1)
        self.assertEqual([s["vni"] for s in counters["sessions"]], [5])
        metrics = c.metrics()
        self.assertIn('tmirror_collector_drops_total{reason="bad_vxlan_flags"} 2', metrics)
        self.assertIn('tmirror_collector_session_packets_total{sender="127.0.0.1",vni="5"} 1',
                      metrics)
        self.assertIsNone(c.proc.poll())
        c.stop()
        files = pcapng_files(out)
        self.assertEqual(len(files), 1)
        self.assertEqual([bytes(p) for p in rdpcap(files[0])], [inner_frame(1)])

    def test_sender_outside_the_allow_list_is_dropped(self):
        c = self.start("--output-dir", os.path.join(self.dir, "o"), "--allow-sender", "10.0.0.0/8")
        send(c.port, [vxlan(inner_frame(1), 5)] * 3)
        c.wait_datagrams(3)
        self.assertEqual(c.counters()["drops"]["sender_not_allowed"], 3)
        self.assertEqual(c.counters()["sessions"], [])

    def test_stdout_is_a_live_pcap_stream_for_tshark(self):
        c = self.start("--stdout", stdout=subprocess.PIPE)
        tshark = subprocess.Popen(["tshark", "-n", "-l", "-r", "-", "-T", "fields", "-e",
                                   "udp.srcport"], stdin=c.proc.stdout, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        c.proc.stdout.close()
        try:
            send(c.port, [vxlan(inner_frame(i), 3) for i in range(5)])
            # Live: the lines arrive while the collector still runs.
            lines = []
            deadline = time.time() + 30
            while len(lines) < 5 and time.time() < deadline:
                line = tshark.stdout.readline()
                if not line:
                    break
                lines.append(line.decode().strip())
            self.assertEqual(lines, [str(10000 + i) for i in range(5)])
            self.assertIsNone(c.proc.poll())
        finally:
            c.stop()
            tshark.wait(timeout=30)
            tshark.stdout.close()

    def test_collector_stops_when_the_stdout_reader_goes_away(self):
        c = self.start("--stdout", stdout=subprocess.PIPE)
        c.proc.stdout.read(24)  # the pcap file header
        c.proc.stdout.close()
        c.proc.wait(timeout=20)
        self.assertEqual(c.proc.returncode, 0)
        self.assertIn("stdout reader went away", c.stderr())

    def test_size_rotation_and_retention(self):
        out = os.path.join(self.dir, "out")
        c = self.start("--output-dir", out, "--rotate-bytes", "50000", "--keep-files", "3")
        send(c.port, [vxlan(inner_frame(i, 1000), 4) for i in range(300)])
        c.wait_datagrams(300)
        c.stop()
        files = pcapng_files(out)
        self.assertEqual(len(files), 3, files)  # ~310 kB written, the newest 3 kept
        for path in files:
            self.assertLessEqual(os.path.getsize(path), 50000)
            self.assertEqual(tshark_ok(path), (True, ""))
        last = rdpcap(files[-1])
        self.assertEqual(bytes(last[-1]), inner_frame(299, 1000))

    def test_time_rotation(self):
        out = os.path.join(self.dir, "out")
        c = self.start("--output-dir", out, "--rotate-seconds", "1")
        for i in range(7):
            send(c.port, [vxlan(inner_frame(i), 4)])
            time.sleep(0.5)
        c.wait_datagrams(7)
        c.stop()
        files = pcapng_files(out)
        self.assertGreaterEqual(len(files), 3, files)
        self.assertEqual(sum(len(rdpcap(f)) for f in files), 7)

    def test_kill9_leaves_every_file_readable_and_restart_recovers_the_current_one(self):
        out = os.path.join(self.dir, "out")
        c = self.start("--output-dir", out, "--rotate-bytes", "40000")
        send(c.port, [vxlan(inner_frame(i, 500), 4) for i in range(200)])
        c.wait_datagrams(200)
        time.sleep(1.5)  # the current file's buffer is flushed after a second
        c.proc.send_signal(signal.SIGKILL)
        c.proc.wait()
        finished = pcapng_files(out)
        parts = pcapng_files(out, ".part")
        self.assertGreaterEqual(len(finished), 2)
        self.assertEqual(len(parts), 1)
        total = 0
        for path in finished + parts:
            self.assertEqual(tshark_ok(path), (True, ""))
            total += len(rdpcap(path))
        self.assertEqual(total, 200)
        # Restart: the leftover is renamed, and capinfos accepts every file.
        c2 = self.start("--output-dir", out)
        self.assertIn("recovered", c2.stderr())
        c2.stop()
        self.assertEqual(pcapng_files(out, ".part"), [])
        for path in pcapng_files(out):
            ok, err = capinfos_ok(path)
            self.assertTrue(ok, err)

    def test_forward_reencapsulates_to_another_collector(self):
        out = os.path.join(self.dir, "second")
        second = self.start("--output-dir", out)
        first = self.start("--forward", "127.0.0.1:%d" % second.port)
        frames = [inner_frame(i, 200) for i in range(10)]
        send(first.port, [vxlan(f, 321) for f in frames])
        second.wait_datagrams(10)
        second.stop()
        files = pcapng_files(out)
        self.assertEqual(len(files), 1)
        self.assertIn("-vni321-", files[0])
        self.assertEqual([bytes(p) for p in rdpcap(files[0])], frames)


if __name__ == "__main__":
    unittest.main()
