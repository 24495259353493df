"""The CloudWatch API of ``tmirror server`` (its metric history) with the real clients, in each
of the three wire forms clients use:

* Debian's ``aws`` CLI v2 speaks the Query protocol (``aws cloudwatch ...``);
* boto3 speaks JSON 1.0 (X-Amz-Target);
* boto3 pointed at a copy of CloudWatch's model that lists only ``smithy-rpc-v2-cbor`` (through
  ``AWS_DATA_PATH``) speaks RPC v2 CBOR, as Smithy-built SDKs do.

A host registers on the agent channel and reports cumulative counters as an agent does; what it
counted between its reports must come back, summed, from ListMetrics, GetMetricStatistics and
GetMetricData in every form; bad requests get CloudWatch's error codes in every form.

    cd tests/integration/api && TMIRROR_BINARY=<build>/tmirror python3 -m unittest -v \\
        test_cloudwatch
"""

import datetime
import gzip
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

import urllib.error

import boto3
import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import botocore.session

from harness import REGION, TmirrorServer, unique


def agent_token(server):
    res = subprocess.run([server.binary, "server", "--data-dir", server.data_dir,
                          *server.store_args(), "--create-agent-token"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=60, check=True)
    return res.stdout.strip().splitlines()[-1]


def agent_request(server, path, token, body):
    req = urllib.request.Request(server.endpoint + path, method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def model_with_only(protocol, into):
    """A copy of botocore's CloudWatch model whose only protocol is `protocol`, under `into`
    (an AWS_DATA_PATH directory)."""
    src = os.path.join(os.path.dirname(botocore.__file__), "data", "cloudwatch", "2010-08-01")
    name = "service-2.json"
    if os.path.exists(os.path.join(src, name + ".gz")):
        with gzip.open(os.path.join(src, name + ".gz"), "rt") as f:
            model = json.load(f)
    else:
        with open(os.path.join(src, name)) as f:
            model = json.load(f)
    if protocol not in model["metadata"].get("protocols", [model["metadata"]["protocol"]]):
        return False
    model["metadata"]["protocols"] = [protocol]
    model["metadata"]["protocol"] = protocol
    dest = os.path.join(into, "cloudwatch", "2010-08-01")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, name), "w") as f:
        json.dump(model, f)
    return True


class CloudWatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = TmirrorServer(extra_args=["--history-flush-seconds", "0.2"]).start()
        cls.addClassCleanup(cls.server.cleanup)
        token = agent_token(cls.server)
        reg = agent_request(cls.server, "/agent/v1/register", token, {
            "HostKey": unique("host"), "Hostname": "web-1", "Role": "agent", "DnsResolvers": [],
            "Interfaces": [{"Name": "eth0", "MacAddress": "02:00:00:00:0c:01", "Mtu": 1500,
                            "PrivateIpAddress": "10.9.0.5"}]})
        cls.instance = reg["InstanceId"]
        cls.eni = reg["NetworkInterfaces"][0]["NetworkInterfaceId"]
        cls.start = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
        # Totals since the agent started, as it reports them: the first only sets the base.
        cls.counted = 0
        for total in (1000, 1100, 1175, 1300):
            agent_request(cls.server, "/agent/v1/counters", token, {
                "InstanceId": cls.instance,
                "Interfaces": [{"NetworkInterfaceId": cls.eni, "NetworkPacketsMirrorIn": total,
                                "NetworkMirrorIn": total * 100}]})
        cls.counted = 300
        time.sleep(1.0)  # a few flushes of the history
        cls.end = cls.start + datetime.timedelta(minutes=3)
        cls.data_path = tempfile.mkdtemp(prefix="tmirror-cw-models-")
        cls.addClassCleanup(shutil.rmtree, cls.data_path, True)

    def client(self, protocol=None):
        """boto3's CloudWatch client; `protocol` forces one wire form through a model copy."""
        if protocol is None:  # the protocol this botocore prefers (JSON 1.0 since 1.37)
            return boto3.client(
                "cloudwatch", endpoint_url=self.server.endpoint, region_name=REGION,
                aws_access_key_id=self.server.access_key,
                aws_secret_access_key=self.server.secret_key)
        path = os.path.join(self.data_path, protocol)
        if not model_with_only(protocol, path):
            self.skipTest("this botocore's CloudWatch model has no %s protocol" % protocol)
        session = botocore.session.get_session()
        session.set_config_variable("data_path", path)
        loader = session.get_component("data_loader")
        loader.search_paths.insert(0, path)
        return boto3.session.Session(botocore_session=session).client(
            "cloudwatch", endpoint_url=self.server.endpoint, region_name=REGION,
            aws_access_key_id=self.server.access_key,
            aws_secret_access_key=self.server.secret_key)

    def statistics(self, client):
        return client.get_metric_statistics(
            Namespace="AWS/EC2", MetricName="NetworkPacketsMirrorIn",
            Dimensions=[{"Name": "InstanceId", "Value": self.instance}],
            StartTime=self.start, EndTime=self.end, Period=60,
            Statistics=["Sum", "SampleCount", "Maximum"])

    def check_every_operation(self, client):
        stats = self.statistics(client)
        self.assertEqual(sum(p["Sum"] for p in stats["Datapoints"]), self.counted, stats)
        self.assertTrue(all(p["Unit"] == "Count" for p in stats["Datapoints"]))
        listed = client.list_metrics(Namespace="AWS/EC2",
                                     Dimensions=[{"Name": "InstanceId", "Value": self.instance}])
        names = sorted(m["MetricName"] for m in listed["Metrics"])
        self.assertEqual(names, ["NetworkMirrorIn", "NetworkPacketsMirrorIn"])
        data = client.get_metric_data(
            StartTime=self.start, EndTime=self.end,
            MetricDataQueries=[
                {"Id": "packets", "MetricStat": {
                    "Metric": {"Namespace": "AWS/EC2", "MetricName": "NetworkPacketsMirrorIn",
                               "Dimensions": [{"Name": "NetworkInterfaceId",
                                               "Value": self.eni}]},
                    "Period": 60, "Stat": "Sum"}},
                {"Id": "bytes", "Label": "bytes", "MetricStat": {
                    "Metric": {"Namespace": "AWS/EC2", "MetricName": "NetworkMirrorIn",
                               "Dimensions": [{"Name": "InstanceId", "Value": self.instance}]},
                    "Period": 180, "Stat": "Sum"}}])
        results = {r["Id"]: r for r in data["MetricDataResults"]}
        self.assertEqual(sum(results["packets"]["Values"]), self.counted)
        self.assertEqual(sum(results["bytes"]["Values"]), self.counted * 100)
        self.assertEqual(results["bytes"]["Label"], "bytes")
        for r in results.values():
            self.assertEqual(r["StatusCode"], "Complete")
            self.assertTrue(all(isinstance(t, datetime.datetime) for t in r["Timestamps"]))
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            client.get_metric_statistics(
                Namespace="AWS/EC2", MetricName="NetworkPacketsMirrorIn",
                StartTime=self.start, EndTime=self.end, Period=90, Statistics=["Sum"])
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidParameterValue")
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            client.get_metric_statistics(
                Namespace="AWS/EC2", MetricName="NetworkPacketsMirrorIn",
                StartTime=self.start, EndTime=self.start + datetime.timedelta(days=2), Period=60,
                Statistics=["Sum"])
        self.assertEqual(caught.exception.response["Error"]["Code"],
                         "InvalidParameterCombination")

    def test_boto3_json(self):
        self.check_every_operation(self.client())

    def test_boto3_rpc_v2_cbor(self):
        self.check_every_operation(self.client("smithy-rpc-v2-cbor"))

    def test_boto3_query(self):
        self.check_every_operation(self.client("query"))

    def test_aws_cli_v2_query(self):
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        env = self.server.cli_env()
        res = subprocess.run(
            ["/usr/bin/aws", "cloudwatch", "get-metric-statistics", "--namespace", "AWS/EC2",
             "--metric-name", "NetworkPacketsMirrorIn", "--dimensions",
             "Name=InstanceId,Value=" + self.instance, "--statistics", "Sum", "--period", "60",
             "--start-time", self.start.strftime(fmt), "--end-time", self.end.strftime(fmt),
             "--endpoint-url", self.server.endpoint, "--region", REGION, "--output", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
            timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = json.loads(res.stdout)
        self.assertEqual(doc["Label"], "NetworkPacketsMirrorIn")
        self.assertEqual(sum(p["Sum"] for p in doc["Datapoints"]), self.counted)
        res = subprocess.run(
            ["/usr/bin/aws", "cloudwatch", "list-metrics", "--namespace", "tmirror/Collector",
             "--endpoint-url", self.server.endpoint, "--region", REGION, "--output", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
            timeout=120)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(json.loads(res.stdout)["Metrics"], [])
        res = subprocess.run(
            ["/usr/bin/aws", "cloudwatch", "get-metric-statistics", "--namespace", "AWS/EC2",
             "--metric-name", "NetworkPacketsMirrorIn", "--statistics", "Sum", "--period", "61",
             "--start-time", self.start.strftime(fmt), "--end-time", self.end.strftime(fmt),
             "--endpoint-url", self.server.endpoint, "--region", REGION],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env,
            timeout=120)
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("(InvalidParameterValue)", res.stderr)

    def test_a_request_signed_for_ec2_is_refused(self):
        """The CloudWatch API checks its own SigV4 scope: an `ec2` signature does not pass."""
        session = botocore.session.get_session()
        creds = botocore.credentials.Credentials(self.server.access_key, self.server.secret_key)
        body = "Action=ListMetrics&Version=2010-08-01"
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=self.server.endpoint + "/", data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        botocore.auth.SigV4Auth(creds, "ec2", REGION).add_auth(request)
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, data=body.encode(), method="POST",
                                     headers=dict(prepared.headers))
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(req, timeout=30)
        self.assertIn(b"<Code>", caught.exception.read())
        del session


if __name__ == "__main__":
    unittest.main()
