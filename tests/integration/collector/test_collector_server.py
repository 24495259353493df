"""`tmirror collect --server`: the collector registers its receiving interface through the agent
channel (so it can be a mirror target) and reports health, visible on the server's /metrics, and
the copies of each session that arrived, beside what the session's agent sent and in the
CloudWatch history."""

import datetime
import json
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
from harness import REGION, TmirrorServer, postgres  # noqa: E402
import boto3  # noqa: E402


def agent_request(server, path, token, body):
    req = urllib.request.Request(server.endpoint + path, method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def metrics_text(server):
    with urllib.request.urlopen(server.endpoint + "/metrics", timeout=10) as r:
        return r.read().decode()


def registration_of(test, collector):
    """(instance id, interface id) the collector logs once registered."""
    deadline = time.time() + 30
    m = None
    while time.time() < deadline and not m:
        m = re.search(r"registered as (i-[0-9a-f]+), interface \S+ \(\S+\) is (eni-[0-9a-f]+)",
                      collector.stderr())
        time.sleep(0.1)
    test.assertIsNotNone(m, collector.stderr())
    return m.groups()


class CollectorServerTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="tmirror-collect-srv-")
        out = subprocess.run([BINARY, "server", "--data-dir", self.data_dir,
                              "--create-agent-token"], stdout=subprocess.PIPE, check=True,
                             timeout=60)
        self.token = out.stdout.decode().strip().splitlines()[-1]
        self.server = TmirrorServer(data_dir=self.data_dir,
                                    extra_args=["--history-flush-seconds", "0.3"]).start()
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

    def test_each_collector_is_known_by_its_state_directory_not_its_host_name(self):
        # Three collectors on this host (one host name), each with a state directory of its
        # own: three instances, three interfaces.
        states = [tempfile.mkdtemp(prefix="tmirror-collect-id-") for _ in range(3)]
        collectors = []
        try:
            for state in states:
                collectors.append(Collector("--server", self.server.endpoint, "--token",
                                            self.token, "--health-interval", "1",
                                            "--state-dir", state, "--stdout"))
            found = [self.registration_of(c) for c in collectors]
            self.assertEqual(len({instance for instance, _ in found}), 3, found)
            self.assertEqual(len({eni for _, eni in found}), 3, found)
            for state in states:
                with open(os.path.join(state, "identity.json")) as f:
                    self.assertGreaterEqual(len(json.load(f)["HostKey"]), 32)
            # Restarted from its state directory, even on another port: the same instance and
            # interface (so its targets and sessions stay).
            collectors[0].close()
            collectors[0] = Collector("--server", self.server.endpoint, "--token", self.token,
                                      "--health-interval", "1", "--state-dir", states[0],
                                      "--stdout")
            self.assertEqual(self.registration_of(collectors[0]), found[0])
        finally:
            for c in collectors:
                c.close()
            for state in states:
                shutil.rmtree(state, ignore_errors=True)

    def registration_of(self, collector):
        return registration_of(self, collector)

    def registered_eni(self):
        return self.registration_of(self.collector)[1]

    def test_the_copies_of_a_session_that_arrived_are_reported_beside_what_was_sent(self):
        start = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        self.collector = Collector("--output-dir", os.path.join(self.data_dir, "caps"),
                                   "--server", self.server.endpoint, "--token", self.token,
                                   "--health-interval", "1")
        eni = self.registered_eni()
        # A source host's agent, as the agent channel knows it.
        source = agent_request(self.server, "/agent/v1/register", self.token, {
            "HostKey": "agent:web-1", "Hostname": "web-1", "Role": "agent", "DnsResolvers": [],
            "Interfaces": [{"Name": "eth0", "MacAddress": "02:00:00:00:00:01", "Mtu": 1500,
                            "PrivateIpAddress": "10.9.0.5"}]})
        ec2 = self.server.client()
        target = ec2.create_traffic_mirror_target(NetworkInterfaceId=eni)
        tmf = ec2.create_traffic_mirror_filter()["TrafficMirrorFilter"]["TrafficMirrorFilterId"]
        session = ec2.create_traffic_mirror_session(
            NetworkInterfaceId=source["NetworkInterfaces"][0]["NetworkInterfaceId"],
            TrafficMirrorTargetId=target["TrafficMirrorTarget"]["TrafficMirrorTargetId"],
            TrafficMirrorFilterId=tmf, SessionNumber=1, VirtualNetworkId=4242,
        )["TrafficMirrorSession"]["TrafficMirrorSessionId"]
        # What the agent says it sent.
        agent_request(self.server, "/agent/v1/counters", self.token, {
            "InstanceId": source["InstanceId"],
            "Sessions": [{"TrafficMirrorSessionId": session, "NetworkPacketsMirrorOut": 6}]})
        # The copies come at once, likely before the collector has learnt their session: it
        # names them when it does. VNI 77 is no session's.
        send(self.collector.port, [vxlan(inner_frame(i), 4242) for i in range(6)] +
             [vxlan(inner_frame(i), 77) for i in range(3)])
        self.collector.wait_datagrams(9)

        received = ('tmirror_collector_session_counter{session_id="%s",network_interface_id="%s",'
                    'name="CollectorDatagrams"} 6' % (session, eni))
        sent = 'tmirror_agent_counter{resource_id="%s",name="NetworkPacketsMirrorOut"} 6' % session
        deadline = time.time() + 30
        text = metrics_text(self.server)
        while time.time() < deadline and received not in text:
            time.sleep(0.3)
            text = metrics_text(self.server)
        self.assertIn(received, text)
        self.assertIn(sent, text)  # the collector's report did not replace the agent's
        self.assertIn('tmirror_collector_session_counter{session_id="%s",network_interface_id='
                      '"%s",name="CollectorBytes"} %d' % (session, eni, 6 * 100), text)
        self.assertEqual(text.count("tmirror_collector_session_counter{"), 2, text)

        # The history: the session's Datagrams are the copies that arrived.
        cloudwatch = boto3.client("cloudwatch", endpoint_url=self.server.endpoint,
                                  region_name=REGION, aws_access_key_id=self.server.access_key,
                                  aws_secret_access_key=self.server.secret_key)

        def datagrams():
            stats = cloudwatch.get_metric_statistics(
                Namespace="tmirror/Collector", MetricName="Datagrams",
                Dimensions=[{"Name": "TrafficMirrorSessionId", "Value": session}],
                StartTime=start, EndTime=start + datetime.timedelta(minutes=5), Period=60,
                Statistics=["Sum"])
            return sum(p["Sum"] for p in stats["Datapoints"])

        deadline = time.time() + 30
        while time.time() < deadline and datagrams() < 6:
            time.sleep(0.3)
        time.sleep(1.5)  # a report or two more must not add to it
        self.assertEqual(datagrams(), 6)


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
        _, eni = registration_of(self, collector)

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
