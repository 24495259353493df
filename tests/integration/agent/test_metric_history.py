"""Metric history from a real agent, read with the CloudWatch API (root only; ctest label
``privileged``).

A session is made on the source's eth0 and traffic runs through it. The agent reports its
counters to the server, which keeps them as history. The Sum over the period that the server
answers must equal what the agent itself counted, for the session, the interface and the
instance:

* Debian's aws CLI v2 (the Query protocol) answers GetMetricStatistics;
* boto3 (JSON 1.0) answers GetMetricData and ListMetrics.

    cd tests/integration/agent && TMIRROR_BINARY=<build>/tmirror /usr/bin/python3 -m unittest -v \\
        test_metric_history
"""

import datetime
import json
import os
import time
import unittest

import agentlab
from test_agent_e2e import (CLI4, SKIP, AgentLabCase, accept_all)

FMT = "%Y-%m-%dT%H:%M:%SZ"


@unittest.skipIf(SKIP, SKIP or "")
class MetricHistoryTest(AgentLabCase):
    server_args = ("--history-flush-seconds", "0.5")

    def cloudwatch_cli(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.server.access_key,
                   AWS_SECRET_ACCESS_KEY=self.server.secret_key, AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_PAGER="")
        res = self.lab.run("src", [agentlab.AWS_CLI, "cloudwatch"] + [str(a) for a in args] + [
            "--endpoint-url", self.server.endpoint, "--region", agentlab.REGION,
            "--output", "json"], env=env, timeout=120)
        return json.loads(res.stdout)

    def cloudwatch_boto3(self):
        def make():
            import boto3
            return boto3.session.Session(
                aws_access_key_id=self.server.access_key,
                aws_secret_access_key=self.server.secret_key,
                region_name=agentlab.REGION).client("cloudwatch",
                                                    endpoint_url=self.server.endpoint)
        return self.ns_thread(make)

    def session_counts(self, session_id):
        doc = self.agent.counters(self.ns_thread)
        for s in doc.get("Sessions", []):
            if s.get("TrafficMirrorSessionId") == session_id:
                return s
        raise KeyError("no session %s in %s" % (session_id, doc))

    def test_the_sum_the_server_answers_is_what_the_agent_counted(self):
        start = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        s, = self.setup_sessions([dict(number=1, vni=7100, rules=accept_all())])
        time.sleep(1.5)  # the new session's first report (its base) goes before the traffic
        stream = self.stream(pps=200, seconds=3, dst=CLI4)
        stream.communicate(timeout=30)
        time.sleep(0.5)
        counted = self.session_counts(s.session_id)
        packets = counted["NetworkPacketsMirrorOut"]
        self.assertGreater(packets, 500, counted)
        end = start + datetime.timedelta(minutes=5)

        def statistics(dimension, value, metric="NetworkPacketsMirrorOut"):
            doc = self.cloudwatch_cli(
                "get-metric-statistics", "--namespace", "AWS/EC2", "--metric-name", metric,
                "--dimensions", "Name=%s,Value=%s" % (dimension, value), "--statistics", "Sum",
                "SampleCount", "--period", "60", "--start-time", start.strftime(FMT),
                "--end-time", end.strftime(FMT))
            return sum(p["Sum"] for p in doc["Datapoints"])

        # The agent reports every second or so, the server writes every half second.
        deadline = time.time() + 15
        while statistics("TrafficMirrorSessionId", s.session_id) < packets:
            self.assertLess(time.time(), deadline, "the history never reached what the agent "
                            "counted")
            time.sleep(1)
        self.assertEqual(statistics("TrafficMirrorSessionId", s.session_id), packets)
        self.assertEqual(statistics("TrafficMirrorSessionId", s.session_id, "NetworkMirrorOut"),
                         counted["NetworkMirrorOut"])
        # The instance and its interface counted at least that (other egress too, e.g. the
        # session's own first packets before its base); never less.
        self.assertGreaterEqual(statistics("NetworkInterfaceId", self.eni), packets)
        instance = self.agent.counters(self.ns_thread)["InstanceId"]
        self.assertEqual(statistics("InstanceId", instance), statistics("NetworkInterfaceId",
                                                                         self.eni))

        cw = self.cloudwatch_boto3()
        data = self.ns_thread(cw.get_metric_data, StartTime=start, EndTime=end,
                              MetricDataQueries=[{"Id": "session", "MetricStat": {
                                  "Metric": {"Namespace": "AWS/EC2",
                                             "MetricName": "NetworkPacketsMirrorOut",
                                             "Dimensions": [{"Name": "TrafficMirrorSessionId",
                                                             "Value": s.session_id}]},
                                  "Period": 300, "Stat": "Sum"}}])
        self.assertEqual(sum(data["MetricDataResults"][0]["Values"]), packets)
        listed = self.ns_thread(cw.list_metrics, Namespace="AWS/EC2",
                                Dimensions=[{"Name": "TrafficMirrorSessionId",
                                             "Value": s.session_id}])
        self.assertIn("NetworkPacketsMirrorOut", [m["MetricName"] for m in listed["Metrics"]])


if __name__ == "__main__":
    unittest.main()
