"""`tmirror collect --server`: the collector registers its receiving interface through the agent
channel (so it can be a mirror target) and reports health, visible on the server's /metrics."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))

from collector_harness import BINARY, Collector, inner_frame, send, vxlan  # noqa: E402
from harness import TmirrorServer, postgres  # noqa: E402


class CollectorServerTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="tmirror-collect-srv-")
        out = subprocess.run([BINARY, "server", "--data-dir", self.data_dir,
                              "--create-agent-token"], stdout=subprocess.PIPE, check=True,
                             timeout=60)
        self.token = out.stdout.decode().strip().splitlines()[-1]
        self.server = TmirrorServer(data_dir=self.data_dir).start()
        self.collector = None

    def tearDown(self):
        if self.collector:
            self.collector.close()
        self.server.cleanup()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def test_collector_registers_as_an_interface_that_can_be_a_target_and_reports_health(self):
        self.collector = Collector("--output-dir", os.path.join(self.data_dir, "caps"),
                                   "--server", self.server.endpoint, "--token", self.token,
                                   "--health-interval", "1")
        deadline = time.time() + 30
        m = None
        while time.time() < deadline and not m:
            m = re.search(r"registered as (i-[0-9a-f]+), interface (\S+) \((\S+)\) is (eni-[0-9a-f]+)",
                          self.collector.stderr())
            time.sleep(0.1)
        self.assertIsNotNone(m, self.collector.stderr())
        instance, name, address, eni = m.groups()
        self.assertEqual((name, address), ("lo", "127.0.0.1"))

        ec2 = self.server.client()
        described = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])
        self.assertEqual(described["NetworkInterfaces"][0]["PrivateIpAddress"], "127.0.0.1")
        target = ec2.create_traffic_mirror_target(NetworkInterfaceId=eni)
        self.assertEqual(target["TrafficMirrorTarget"]["NetworkInterfaceId"], eni)

        send(self.collector.port, [vxlan(inner_frame(1), 5)] * 4)
        self.collector.wait_datagrams(4)
        # Health and counters reach the server within a few intervals.
        deadline = time.time() + 30
        healthy = False
        while time.time() < deadline and not healthy:
            with urllib.request.urlopen(self.server.endpoint + "/metrics", timeout=10) as r:
                text = r.read().decode()
            healthy = ('tmirror_agent_counter{resource_id="%s",name="CollectorHealthy"} 1' % eni
                       in text and
                       'tmirror_agent_counter{resource_id="%s",name="CollectorDatagrams"} 4' % eni
                       in text)
            time.sleep(0.3)
        self.assertTrue(healthy, text)


class CollectorReplicaFailoverTest(unittest.TestCase):
    """Two server replicas on one PostgreSQL database; the collector is given both. When the one
    it registered with is killed, its health reports go on to the other, under the same
    interface id."""

    def metric(self, server, eni, name):
        with urllib.request.urlopen(server.endpoint + "/metrics", timeout=10) as r:
            text = r.read().decode()
        m = re.search(r'tmirror_agent_counter\{resource_id="%s",name="%s"\} (\S+)' % (eni, name),
                      text)
        return float(m.group(1)) if m else None

    def test_health_reports_go_on_to_the_other_replica(self):
        url = postgres().create_database()
        a = TmirrorServer(database_url=url)
        self.addCleanup(a.cleanup)
        a.start()
        b = TmirrorServer(database_url=url)
        b.access_key, b.secret_key = a.access_key, a.secret_key
        self.addCleanup(b.cleanup)
        b.start()
        token = subprocess.run([BINARY, "server", "--database", url, "--create-agent-token"],
                               stdout=subprocess.PIPE, check=True, timeout=60
                               ).stdout.decode().strip().splitlines()[-1]
        caps = tempfile.mkdtemp(prefix="tmirror-collect-caps-")
        self.addCleanup(shutil.rmtree, caps, True)
        collector = Collector("--output-dir", caps, "--server", a.endpoint, "--server",
                              b.endpoint, "--token", token, "--health-interval", "1")
        self.addCleanup(collector.close)
        deadline = time.time() + 30
        m = None
        while time.time() < deadline and not m:
            m = re.search(r"registered as (i-[0-9a-f]+), interface \S+ \(\S+\) is (eni-[0-9a-f]+)",
                          collector.stderr())
            time.sleep(0.1)
        self.assertIsNotNone(m, collector.stderr())
        eni = m.group(2)

        a.kill9()
        send(collector.port, [vxlan(inner_frame(1), 7)] * 3)
        collector.wait_datagrams(3)
        # B has never been talked to: what it shows came after the failover.
        deadline = time.time() + 30
        while time.time() < deadline and self.metric(b, eni, "CollectorDatagrams") != 3:
            time.sleep(0.3)
        self.assertEqual(self.metric(b, eni, "CollectorDatagrams"), 3, collector.stderr())
        self.assertEqual(self.metric(b, eni, "CollectorHealthy"), 1)
        self.assertIn("going on with " + b.endpoint, collector.stderr())
        # The same interface: the collector did not register anew under another id.
        interfaces = b.client().describe_network_interfaces()["NetworkInterfaces"]
        self.assertEqual([n["NetworkInterfaceId"] for n in interfaces], [eni])


if __name__ == "__main__":
    unittest.main()
