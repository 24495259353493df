"""`tmirror server --tls auto` as API clients meet it: the aws CLI with --ca-bundle, boto3 with
verify=, the console, and what happens without the CA or over plain HTTP."""

import hashlib
import re
import ssl
import unittest
import urllib.error
import urllib.request

import botocore.exceptions

from harness import ServerError, TmirrorServer, external_endpoint


def printed(server, pattern):
    for line in server._stdout_lines:
        m = re.search(pattern, line)
        if m:
            return m.group(1)
    raise AssertionError("no line matching %r in %r" % (pattern, server._stdout_lines))


@unittest.skipIf(external_endpoint(), "starts its own servers")
class TlsAutoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = TmirrorServer(extra_args=["--tls", "auto"]).start()
        cls.ca_file = printed(cls.server, r"TLS: private CA (\S+) ")
        cls.fingerprint = printed(cls.server, r"TLS: private CA \S+ \((sha256:[0-9a-f]{64})\)")

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_the_endpoint_is_https_and_the_fingerprint_is_the_ca_certificates(self):
        self.assertTrue(self.server.endpoint.startswith("https://127.0.0.1:"))
        with open(self.ca_file) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        self.assertEqual(self.fingerprint, "sha256:" + hashlib.sha256(der).hexdigest())

    def test_boto3_with_the_ca_bundle_works_and_without_it_is_refused(self):
        trusted = self.server.client(verify=self.ca_file)
        trusted.create_traffic_mirror_filter(Description="over tls")
        self.assertEqual(len(trusted.describe_traffic_mirror_filters()["TrafficMirrorFilters"]), 1)
        untrusted = self.server.client()
        with self.assertRaises(botocore.exceptions.SSLError):
            untrusted.describe_traffic_mirror_filters()

    def test_the_aws_cli_with_ca_bundle_works_and_without_it_fails_validation(self):
        code, doc, err = self.server.cli("describe-traffic-mirror-sessions",
                                         global_args=["--ca-bundle", self.ca_file])
        self.assertEqual(code, 0, err)
        self.assertEqual(doc, {"TrafficMirrorSessions": []})
        code, _, err = self.server.cli("describe-traffic-mirror-sessions")
        self.assertNotEqual(code, 0)
        self.assertIn("SSL validation failed", err)

    def test_the_console_is_served_over_https(self):
        context = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(self.server.endpoint + "/console/", context=context,
                                    timeout=10) as response:
            self.assertEqual(response.status, 200)
            self.assertIn(b"<html", response.read().lower())

    def test_plain_http_to_the_https_port_gets_no_answer(self):
        plain = self.server.endpoint.replace("https://", "http://") + "/metrics"
        with self.assertRaises((urllib.error.URLError, ConnectionError, OSError)):
            urllib.request.urlopen(plain, timeout=10).read()


@unittest.skipIf(external_endpoint(), "starts its own servers")
class TlsAutoRestartTest(unittest.TestCase):
    def test_a_restart_keeps_the_ca_so_agents_keep_trusting_it(self):
        server = TmirrorServer(extra_args=["--tls", "auto"]).start()
        try:
            first = printed(server, r"\((sha256:[0-9a-f]{64})\)")
            server.restart()
            self.assertEqual(printed(server, r"\((sha256:[0-9a-f]{64})\)"), first)
        finally:
            server.cleanup()

    def test_a_missing_certificate_file_is_a_clear_error(self):
        server = TmirrorServer(extra_args=["--tls-cert", "/nonexistent/c.pem",
                                           "--tls-key", "/nonexistent/k.pem"])
        with self.assertRaises(ServerError) as raised:
            server.start()
        self.assertIn("cannot use TLS certificate /nonexistent/c.pem", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
