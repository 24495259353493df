"""`tmirror up`: one command starts the server, the collector and the agent; Ctrl-C stops all.

The plain test runs anywhere (the agent is left out with --no-agent). The demo test needs root
(it builds network namespaces) and checks the whole newcomer's path: the lab's web traffic is
mirrored through the API-made session into capture files tshark reads, and SSH is not.
"""

import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

for _k in list(os.environ):
    if _k.startswith("AWS_"):
        del os.environ[_k]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402

BINARY = os.environ.get("TMIRROR_BINARY", "tmirror")


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Up:
    """A running `tmirror up`, its output collected line by line."""

    def __init__(self, args):
        self.lines = []
        self.process = subprocess.Popen([BINARY, "up"] + args, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, universal_newlines=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern, timeout=30):
        deadline = time.time() + timeout
        regex = re.compile(pattern)
        while time.time() < deadline:
            for line in list(self.lines):
                m = regex.search(line)
                if m:
                    return m
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("no line matching %r; output:\n%s" % (pattern, "\n".join(self.lines)))

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)
        return self.process.returncode


def children_of(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return [int(p) for p in out.split()]


class UpTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="tmirror-up-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_starts_everything_prints_the_key_and_stops_on_ctrl_c(self):
        port, udp = free_port(), free_port(socket.SOCK_DGRAM)
        up = Up(["--data-dir", self.dir, "--listen", "127.0.0.1:%d" % port, "--no-agent",
                 "--collector-listen", "127.0.0.1:%d" % udp,
                 ])
        try:
            m = up.wait_for(r"AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)")
            up.wait_for(r"console\s+http://127\.0\.0\.1:%d/console/" % port)
            key, secret = m.group(1), m.group(2)
            creds = os.path.join(self.dir, "credentials.json")
            self.assertEqual(os.stat(creds).st_mode & 0o777, 0o600)
            self.assertEqual(json.load(open(creds))["AccessKeyId"], key)
            ec2 = boto3.client("ec2", endpoint_url="http://127.0.0.1:%d" % port,
                               region_name="us-east-1", aws_access_key_id=key,
                               aws_secret_access_key=secret)
            self.assertEqual(ec2.describe_traffic_mirror_sessions()["TrafficMirrorSessions"], [])
            # The collector registered this host's interfaces with the server.
            self.wait_for_interfaces(ec2, up)
            self.check_capture_routes(port, key, secret)
            pids = children_of(up.process.pid)
            self.assertEqual(len(pids), 2, "server and collector: %s" % pids)
        finally:
            code = up.stop()
        self.assertEqual(code, 0, "\n".join(up.lines))
        for pid in pids:
            self.assertFalse(os.path.exists("/proc/%d" % pid), "child %d left running" % pid)
        # A second start reuses the credentials.
        up2 = Up(["--data-dir", self.dir, "--listen", "127.0.0.1:%d" % port, "--no-agent",
                  "--no-collector"])
        try:
            self.assertEqual(up2.wait_for(r"AWS_ACCESS_KEY_ID=(\S+)").group(1), key)
        finally:
            up2.stop()

    def test_on_a_non_loopback_address_it_serves_https_and_its_hosts_trust_the_ca(self):
        port, udp = free_port(), free_port(socket.SOCK_DGRAM)
        # Listening on every address (nothing is sent anywhere); clients use 127.0.0.1.
        up = Up(["--data-dir", self.dir, "--listen", "0.0.0.0:%d" % port, "--no-agent",
                 "--collector-listen", "127.0.0.1:%d" % udp])
        try:
            m = up.wait_for(r"AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)")
            up.wait_for(r"console\s+https://127\.0\.0\.1:%d/console/" % port)
            ca = up.wait_for(r"TLS\s+private CA (\S+):").group(1)
            self.assertEqual(ca, os.path.join(self.dir, "server", "tls", "ca.pem"))
            ec2 = boto3.client("ec2", endpoint_url="https://127.0.0.1:%d" % port,
                               region_name="us-east-1", aws_access_key_id=m.group(1),
                               aws_secret_access_key=m.group(2), verify=ca)
            # The collector registered over HTTPS, trusting the server's CA.
            self.wait_for_interfaces(ec2, up)
        finally:
            code = up.stop()
        self.assertEqual(code, 0, "\n".join(up.lines))

    def wait_for_interfaces(self, ec2, up):
        deadline = time.time() + 20
        while time.time() < deadline:
            if ec2.describe_network_interfaces()["NetworkInterfaces"]:
                return
            time.sleep(0.2)
        self.fail("no interface registered in 20 s:\n" + "\n".join(up.lines))

    def check_capture_routes(self, port, key, secret):
        """GET /captures lists the collector's files and /captures/<name> serves one, only to
        SigV4-signed requests, and nothing outside the directory."""
        import botocore.auth
        import botocore.awsrequest
        import botocore.credentials
        import urllib.error
        import urllib.request
        captures = os.path.join(self.dir, "captures")
        os.makedirs(captures, exist_ok=True)
        name = "198.51.100.20-vni100-20261122T071343Z-000000.pcapng"
        with open(os.path.join(captures, name), "wb") as f:
            f.write(b"\x0a\x0d\x0d\x0a" + bytes(range(256)) * 300)
        creds = botocore.credentials.Credentials(key, secret)

        def get(path, sign=True):
            url = "http://127.0.0.1:%d%s" % (port, path)
            request = botocore.awsrequest.AWSRequest(method="GET", url=url)
            if sign:
                botocore.auth.SigV4Auth(creds, "ec2", "us-east-1").add_auth(request)
            try:
                with urllib.request.urlopen(urllib.request.Request(
                        url, headers=dict(request.headers.items()))) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        status, body = get("/captures")
        self.assertEqual(status, 200, body)
        files = json.loads(body)["Files"]
        self.assertEqual([f["Name"] for f in files], [name])
        self.assertEqual(files[0]["Vni"], 100)
        status, body = get("/captures/" + name)
        self.assertEqual(status, 200)
        self.assertEqual(body, open(os.path.join(captures, name), "rb").read())
        self.assertEqual(get("/captures", sign=False)[0], 403)
        self.assertEqual(get("/captures/" + name, sign=False)[0], 403)
        self.assertEqual(get("/captures/credentials.json")[0], 404)
        self.assertEqual(get("/captures/..%2Fcredentials.json")[0], 404)

    @unittest.skipUnless(os.geteuid() == 0, "the demo builds network namespaces (root)")
    def check_readme_explain(self, up, port, session):
        """The README's `tmirror explain` example, against the demo."""
        eni = up.wait_for(r"agent: registered as i-[0-9a-f]+: eth0=(eni-[0-9a-f]{17})")[1]
        keys = up.wait_for(r"AWS_ACCESS_KEY_ID=(\S+) AWS_SECRET_ACCESS_KEY=(\S+)")
        env = dict(os.environ, AWS_ACCESS_KEY_ID=keys[1], AWS_SECRET_ACCESS_KEY=keys[2],
                   AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)

        def explain(*args):
            r = subprocess.run([BINARY, "explain", "--endpoint-url", "http://127.0.0.1:%d" % port,
                                "--network-interface-id", eni] + list(args),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            return r.stdout

        ssh = explain("--packet", "tcp 198.51.100.10:51000 > 198.51.100.20:22")
        self.assertIn("packet: tcp 198.51.100.10:51000 > 198.51.100.20:22, 54 bytes, ingress", ssh)
        self.assertIn("rule 10 reject tcp 0.0.0.0/0 > 0.0.0.0/0 port 22: MATCHES", ssh)
        self.assertIn("NOT MIRRORED: no session accepted it (session 1: rejected by rule 10)",
                      ssh)
        web = explain("--packet", "tcp 198.51.100.20:80 > 198.51.100.10:51000", "--length",
                      "1500")
        self.assertIn("MIRRORED by session %s (number 1), VNI 100, to target tmt-" % session, web)
        self.assertIn("at 198.51.100.30:4789; the copy carries the first 1464 of the frame's "
                      "1500 bytes (what fits the path MTU of 1500 to the target)", web)

    def test_demo_mirrors_web_traffic_not_ssh_into_readable_captures(self):
        port = free_port()
        up = Up(["--data-dir", self.dir, "--listen", "127.0.0.1:%d" % port, "--demo"])
        try:
            session = up.wait_for(r"session (tms-[0-9a-f]{17}) \(VNI 100\)", timeout=90)[1]
            self.check_readme_explain(up, port, session)
            captures = os.path.join(self.dir, "captures")
            # Wait until a capture holds enough packets, then read what is complete.
            deadline = time.time() + 60
            packets = []
            while time.time() < deadline:
                files = sorted(glob.glob(os.path.join(captures, "**", "*.pcapng*"),
                                         recursive=True))
                for f in files:
                    r = subprocess.run(["tshark", "-r", f, "-T", "fields", "-e", "tcp.port"],
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       universal_newlines=True)
                    packets = [l for l in r.stdout.splitlines() if l]
                    if len(packets) >= 20:
                        break
                if len(packets) >= 20:
                    break
                time.sleep(1)
            self.assertGreaterEqual(len(packets), 20, "\n".join(up.lines))
            ports = [set(p.split(",")) for p in packets]
            self.assertTrue(all("80" in p for p in ports), "only web traffic is mirrored")
            self.assertFalse(any("22" in p for p in ports), "SSH is never mirrored")
        finally:
            code = up.stop()
        self.assertEqual(code, 0, "\n".join(up.lines))
        names = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                               universal_newlines=True).stdout
        self.assertNotIn("tmdemo", names, "the demo lab was removed")


if __name__ == "__main__":
    unittest.main()
