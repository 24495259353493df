"""`tmirror server --database` when PostgreSQL is not there: a clear error and a non-zero exit
at start; while it goes away later, API calls and the agent channel answer ServiceUnavailable
(HTTP 503) and nothing acknowledged is lost; once it is back, the server carries on by itself.
"""

import json
import os
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import botocore.exceptions

from harness import (STARTUP_TIMEOUT, TmirrorServer, close_client, error_code, external_endpoint,
                     http_status)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "testing"))
import pg_server  # noqa: E402


def agent_request(endpoint, path, token, body=None):
    """(HTTP status, JSON body) of an agent-channel request; errors are answers too."""
    req = urllib.request.Request(endpoint + path, method="POST" if body else "GET",
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": "Bearer " + token,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def registration(host_key):
    return {"HostKey": host_key, "Hostname": host_key, "Role": "agent", "DnsResolvers": [],
            "Interfaces": [{"Name": "eth0", "MacAddress": "02:00:00:00:0b:01", "Mtu": 1500,
                            "PrivateIpAddress": "10.9.1.5"}]}


def metric(endpoint, name, labels=""):
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    return None


@unittest.skipIf(external_endpoint(), "starts its own servers")
class DatabaseAvailability(unittest.TestCase):
    def test_an_unreachable_database_at_start_is_a_clear_error(self):
        port = pg_server.free_port()  # nothing listens there
        url = "postgresql://tmirror@127.0.0.1:%d/tmirror" % port
        res = subprocess.run([os.environ["TMIRROR_BINARY"], "server", "--database", url,
                              "--listen", "127.0.0.1:0", "--auth", "none"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                             universal_newlines=True)
        self.assertNotEqual(res.returncode, 0, res.stdout)
        self.assertNotIn("listening on", res.stdout)
        self.assertIn("127.0.0.1", res.stderr)
        self.assertIn(str(port), res.stderr)
        self.assertIn("refused", res.stderr.lower())

    def test_a_database_outage_is_503_then_the_server_carries_on(self):
        pg = pg_server.PostgresServer(own=True)  # this test stops and restarts it
        self.addCleanup(pg.close)
        server = TmirrorServer(database_url=pg.create_database(), auth="none")
        self.addCleanup(server.cleanup)
        server.start()
        ec2 = server.client(retries=1, timeout=30)
        self.addCleanup(close_client, ec2)
        before = ec2.create_traffic_mirror_filter(Description="before")["TrafficMirrorFilter"][
            "TrafficMirrorFilterId"]
        token, unused_token = (
            subprocess.run([os.environ["TMIRROR_BINARY"], "server", "--database",
                            server.database_url, "--create-agent-token"], check=True,
                           stdout=subprocess.PIPE, universal_newlines=True,
                           timeout=60).stdout.strip().splitlines()[-1] for _ in range(2))
        status, reg = agent_request(server.endpoint, "/agent/v1/register", token,
                                    registration("db-host-1"))
        self.assertEqual(status, 200, reg)
        poll = "/agent/v1/desired-state?instance-id=%s&revision=0&wait=0" % reg["InstanceId"]
        status, state = agent_request(server.endpoint, poll, token)
        self.assertEqual(status, 200, state)

        pg.halt()
        # The agent channel: a retry-later for the agent (which keeps its last state), not an
        # internal error, and never a verdict on a token it could not look up.
        for what, path, tok, body in (
                ("poll", poll, token, None),
                ("register", "/agent/v1/register", token, registration("db-host-2")),
                ("a token not seen before", poll, unused_token, None)):
            status, answer = agent_request(server.endpoint, path, tok, body)
            self.assertEqual((status, ((answer or {}).get("Error") or {}).get("Code")),
                             (503, "ServiceUnavailable"),
                             "%s during the outage: %r" % (what, answer))
        for call in (lambda: ec2.describe_traffic_mirror_filters(),
                     lambda: ec2.create_traffic_mirror_filter(Description="during")):
            with self.assertRaises(botocore.exceptions.ClientError) as cm:
                call()
            self.assertEqual(error_code(cm.exception), "ServiceUnavailable", str(cm.exception))
            self.assertEqual(http_status(cm.exception), 503)
        self.assertGreater(metric(server.endpoint, "tmirror_database_errors",
                                  '{kind="unavailable"}'), 0)
        self.assertIsNone(server.proc.poll(), "the server must keep running")

        pg.resume()

        def once_back(call):
            # Each connection is made again at its next use, at most once a second: until then
            # a call may still be refused, with the same 503 (which clients retry).
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while True:
                try:
                    return call()
                except botocore.exceptions.ClientError as e:
                    self.assertEqual(error_code(e), "ServiceUnavailable", str(e))
                    self.assertLess(time.monotonic(), deadline, "no recovery after the outage")
                    time.sleep(0.5)

        filters = once_back(ec2.describe_traffic_mirror_filters)["TrafficMirrorFilters"]
        status, state = agent_request(server.endpoint, poll, unused_token)
        self.assertEqual(status, 200, state)
        # What was acknowledged is there; what was refused is not.
        self.assertEqual([f["Description"] for f in filters], ["before"])
        self.assertEqual(filters[0]["TrafficMirrorFilterId"], before)
        once_back(lambda: ec2.create_traffic_mirror_filter(Description="after"))
        self.assertEqual(
            sorted(f["Description"] for f in ec2.describe_traffic_mirror_filters()[
                "TrafficMirrorFilters"]), ["after", "before"])


if __name__ == "__main__":
    unittest.main()
