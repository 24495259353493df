"""`tmirror server --database` when PostgreSQL is not there: a clear error and a non-zero exit
at start; while it goes away later, API calls answer ServiceUnavailable (HTTP 503) and nothing
acknowledged is lost; once it is back, the server carries on by itself.
"""

import os
import subprocess
import sys
import time
import unittest
import urllib.request

import botocore.exceptions

from harness import (STARTUP_TIMEOUT, TmirrorServer, close_client, error_code, external_endpoint,
                     http_status)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "testing"))
import pg_server  # noqa: E402


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

        pg.halt()
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
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                filters = ec2.describe_traffic_mirror_filters()["TrafficMirrorFilters"]
                break
            except botocore.exceptions.ClientError as e:
                self.assertEqual(error_code(e), "ServiceUnavailable", str(e))
                self.assertLess(time.monotonic(), deadline, "no recovery after the outage")
                time.sleep(0.5)
        # What was acknowledged is there; what was refused is not.
        self.assertEqual([f["Description"] for f in filters], ["before"])
        self.assertEqual(filters[0]["TrafficMirrorFilterId"], before)
        ec2.create_traffic_mirror_filter(Description="after")
        self.assertEqual(
            sorted(f["Description"] for f in ec2.describe_traffic_mirror_filters()[
                "TrafficMirrorFilters"]), ["after", "before"])


if __name__ == "__main__":
    unittest.main()
