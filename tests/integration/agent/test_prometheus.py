"""Debian's Prometheus scraping tmirror in the namespace lab (root only; ctest label
``privileged``), and the shipped alerting rules.

* The live part: the server and the agent on the source host, the collector on the target host,
  a session mirroring the source's outgoing UDP. Prometheus (Debian's package, run as its
  `prometheus` user in the source namespace) scrapes all three every second with the example
  configuration's jobs and the shipped rules. A UDP stream of known rate is sent; through
  Prometheus's HTTP API, rate() of the agent's mirrored-packets counter and of the collector's
  datagrams counter match the rate sent, and no alert fires.
* The rules: `promtool check config`, and `promtool test rules` on the rules' unit tests
  (series in, alerts out: skipped copies, collector drops, a daemon down).

    cd tests/integration/agent && TMIRROR_BINARY=<build>/tmirror /usr/bin/python3 -m unittest -v \\
        test_prometheus
"""

import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import agentlab
import mirror_eval as me
from agentlab import lablib
from test_agent_e2e import CLI4, PY, TGT4, TRAFFIC

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
EXAMPLES = os.path.join(REPO, "packaging", "prometheus")
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
SKIP = agentlab.lab_skip_reason(need_agent=True) or (
    None if PROMETHEUS and PROMTOOL else "Debian's prometheus package is not installed")
PROM = "127.0.0.1:9090"  # in the source namespace
PPS, SECONDS = 200, 12.0
TOLERANCE = 0.15


class Rules(unittest.TestCase):
    @unittest.skipUnless(PROMTOOL, "promtool (Debian's prometheus package) is not installed")
    def test_the_example_config_is_valid_and_the_alerts_pass_their_unit_tests(self):
        for args in (["check", "config", "prometheus.yml"],
                     ["test", "rules", "tmirror-rules.test.yml"]):
            res = subprocess.run([PROMTOOL, *args], cwd=EXAMPLES, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
            self.assertEqual(res.returncode, 0, res.stdout)
            self.assertIn("SUCCESS", res.stdout)


@unittest.skipIf(SKIP, SKIP or "")
class ScrapedByPrometheus(unittest.TestCase):
    def setUp(self):
        self.binary = agentlab.find_binary()
        self.lab = lablib.Lab()
        self.addCleanup(self.lab.down)
        self.lab.up()
        srv = self.lab.popen("cli", [PY, TRAFFIC, "serve"], stdout=subprocess.PIPE)
        self.assertEqual(srv.stdout.readline().strip(), b"ready")
        self.work = tempfile.mkdtemp(prefix="tmirror-prometheus-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.collector = self.lab.popen(
            "tgt", [self.binary, "collect", "--listen", "0.0.0.0:4789", "--stdout",
                    "--metrics-listen", "%s:8902" % TGT4],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.collector_log = agentlab.LineLog(self.collector.stderr, "[collect]")
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

    def start_prometheus(self):
        with open(os.path.join(EXAMPLES, "prometheus.yml")) as f:
            config = f.read()
        # The example's jobs and rules, at the lab's addresses, scraped every second.
        config = config.replace("scrape_interval: 15s", "scrape_interval: 1s")
        config = config.replace("evaluation_interval: 15s", "evaluation_interval: 1s")
        config = config.replace("127.0.0.1:8900", "127.0.0.1:%d" % self.server.port)
        config = config.replace("127.0.0.1:8902", "%s:8902" % TGT4)
        # The rules beside it: the prometheus user may not reach into the checkout.
        shutil.copy(os.path.join(EXAMPLES, "tmirror-rules.yml"), self.work)
        path = os.path.join(self.work, "prometheus.yml")
        with open(path, "w") as f:
            f.write(config)
        data = os.path.join(self.work, "data")
        os.makedirs(data)
        user = pwd.getpwnam("prometheus")
        for d in (self.work, data):
            os.chown(d, user.pw_uid, user.pw_gid)
        os.chmod(self.work, 0o755)
        proc = self.lab.popen("src", ["runuser", "-u", "prometheus", "--", PROMETHEUS,
                                      "--config.file", path, "--storage.tsdb.path", data,
                                      "--web.listen-address", PROM],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.prometheus_log = agentlab.LineLog(proc.stderr, "[prometheus]")
        self.addCleanup(lambda: proc.poll() is None and (proc.terminate(), proc.wait(20)))

    def get(self, path, **params):
        """Prometheus's HTTP API, asked from inside the source namespace; the `data` part."""
        url = "http://%s%s?%s" % (PROM, path, urllib.parse.urlencode(params))
        res = self.lab.run("src", [PY, "-c", "import sys, urllib.request; "
                                   "print(urllib.request.urlopen(sys.argv[1], timeout=10)"
                                   ".read().decode())", url], check=False)
        if res.returncode != 0:
            return None
        doc = json.loads(res.stdout)
        self.assertEqual(doc.get("status"), "success", doc)
        return doc["data"]

    def value(self, query, at):
        data = self.get("/api/v1/query", query=query, time="%.3f" % at)
        result = data["result"] if data else []
        self.assertEqual(len(result), 1, "%s at %.0f: %r" % (query, at, result))
        return float(result[0]["value"][1])

    def test_rate_of_the_mirrored_packets_is_the_rate_sent(self):
        eni = self.agent.enis["eth0"]
        udp_out = [me.Rule(10, "accept", "egress", "0.0.0.0/0", "0.0.0.0/0", protocol=17)]
        mark = self.agent.mark()
        self.api.session(eni, self.api.target_for(TGT4), self.api.filter_with(udp_out), 1, 4242)
        self.agent.wait_applied(mark, timeout=10)
        self.start_prometheus()

        deadline = time.time() + 60
        while True:
            targets = (self.get("/api/v1/targets") or {}).get("activeTargets", [])
            health = {t["labels"]["job"]: t["health"] for t in targets}
            if health == {"tmirror-server": "up", "tmirror-agent": "up",
                          "tmirror-collector": "up"}:
                break
            self.assertLess(time.time(), deadline, "targets: %r\n%s"
                            % (health, self.prometheus_log.text()[-3000:]))
            time.sleep(0.5)

        sent = self.lab.run("src", [PY, TRAFFIC, "stream", "--dst", CLI4, "--pps", PPS,
                                    "--seconds", SECONDS], timeout=SECONDS + 30)
        t1 = time.time()
        report = json.loads(sent.stdout.strip().splitlines()[-1])
        rate_sent = report["sent"] / report["seconds"]
        # When the stream ran: it ended as its process did (the process took a while to start).
        t0 = t1 - report["seconds"]
        time.sleep(4)  # the last scrapes of the stream

        # rate() over 5 s windows inside the stream, away from its ramps.
        mirrored, received = [], []
        for at in (t0 + 6, t0 + 9, t1 - 1):
            mirrored.append(self.value(
                'sum(rate(tmirror_NetworkPacketsMirrorOut{job="tmirror-agent",interface="eth0"}'
                '[5s]))', at))
            received.append(self.value(
                'sum(rate(tmirror_collector_datagrams_total{job="tmirror-collector"}[5s]))', at))
        print("\n  sent %.1f packets/s; Prometheus: rate() of mirrored %s, of collector "
              "datagrams %s" % (rate_sent, ", ".join("%.1f" % v for v in mirrored),
                                ", ".join("%.1f" % v for v in received)))
        for v in mirrored + received:
            self.assertAlmostEqual(v, rate_sent, delta=TOLERANCE * rate_sent)
        # The whole stream, counted once: increase() over it is the packets sent.
        total = self.value('sum(increase(tmirror_NetworkPacketsMirrorOut{job="tmirror-agent",'
                           'interface="eth0"}[%ds]))' % int(t1 - t0 + 6), t1 + 3)
        self.assertAlmostEqual(total, report["sent"], delta=TOLERANCE * report["sent"])

        # The server's view, and the shipped rules loaded with nothing firing.
        self.assertEqual(self.value('tmirror_registered_agents{job="tmirror-server"}', t1), 1)
        groups = self.get("/api/v1/rules")["groups"]
        names = {r["name"] for g in groups for r in g["rules"]}
        self.assertEqual(names, {"TmirrorCopiesSkipped", "TmirrorCollectorDrops",
                                 "TmirrorAgentDown", "TmirrorCollectorDown", "TmirrorServerDown"})
        self.assertEqual(self.get("/api/v1/alerts")["alerts"], [])


if __name__ == "__main__":
    unittest.main()
