"""Black-box test harness for the tmirror EC2 Traffic Mirroring Query API server.

Two ways to point the tests at a server:

* default: ``TMIRROR_BINARY`` names the ``tmirror`` executable. Each test class starts its own
  ``tmirror server`` in a fresh temporary data directory on 127.0.0.1:0, creates an access key
  with ``--create-access-key`` and stops the server (and removes the directory) afterwards, even
  when the class fails.
* ``TMIRROR_TEST_STORE=postgresql``: the same, but each server keeps its state in a fresh
  database of a PostgreSQL server (``--database``): the run's, which ctest started
  (``TMIRROR_TEST_POSTGRES_DIR``), or one this process starts and removes
  (tests/testing/pg_server.py).
* ``TMIRROR_ENDPOINT=http://127.0.0.1:PORT``: use a server that is already running (for
  example ``moto_server``) instead. Credentials come from ``TMIRROR_ACCESS_KEY_ID`` /
  ``TMIRROR_SECRET_ACCESS_KEY`` (dummy values by default). Tests that need to start, kill or
  restart the server are skipped in this mode.

Only the Python standard library plus boto3/botocore (Debian's 1.26 or a newer one) are used.
The AWS CLI used is always Debian's v2 at ``/usr/bin/aws`` (``TMIRROR_AWS_CLI`` overrides it).
"""

import atexit
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

# Keep any user/machine AWS configuration away from boto3 in this process.
for _k in list(os.environ):
    if _k.startswith("AWS_"):
        del os.environ[_k]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import boto3  # noqa: E402
import botocore  # noqa: E402
import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402
import botocore.exceptions  # noqa: E402
from botocore.config import Config  # noqa: E402

REGION = "us-east-1"
API_VERSION = "2016-11-15"
AWS_CLI = os.environ.get("TMIRROR_AWS_CLI", "/usr/bin/aws")
STARTUP_TIMEOUT = 20.0
NLB_ARN = ("arn:aws:elasticloadbalancing:us-east-1:123456789012:"
           "loadbalancer/net/collectors/0123456789abcdef")

ID_RE = {
    "eni": re.compile(r"^eni-[0-9a-f]{17}$"),
    "tmt": re.compile(r"^tmt-[0-9a-f]{17}$"),
    "tmf": re.compile(r"^tmf-[0-9a-f]{17}$"),
    "tmfr": re.compile(r"^tmfr-[0-9a-f]{17}$"),
    "tms": re.compile(r"^tms-[0-9a-f]{17}$"),
}
OWNER_RE = re.compile(r"^[0-9]{12}$")
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
CLI_ERROR_RE = re.compile(r"An error occurred \(([^)]+)\) when calling the (\w+) operation")

# Syntactically valid IDs that never exist.
MISSING = {
    "eni": "eni-0fedcba9876543210",
    "tmt": "tmt-0fedcba9876543210",
    "tmf": "tmf-0fedcba9876543210",
    "tmfr": "tmfr-0fedcba9876543210",
    "tms": "tms-0fedcba9876543210",
}


STORE = os.environ.get("TMIRROR_TEST_STORE", "sqlite")
_POSTGRES = None


def postgres():
    """This process's PostgreSQL server (tests/testing/pg_server.py), started on first use."""
    global _POSTGRES
    if _POSTGRES is None:
        import sys
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "..", "testing"))
        import pg_server
        _POSTGRES = pg_server.PostgresServer()
        atexit.register(_POSTGRES.close)
    return _POSTGRES


def external_endpoint():
    return os.environ.get("TMIRROR_ENDPOINT") or None


def unique(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


class ServerError(RuntimeError):
    pass


_LIVE = set()


@atexit.register
def _kill_leftovers():
    for srv in list(_LIVE):
        try:
            srv.cleanup()
        except Exception:
            pass


def _die_with_parent():
    """Child-side: get SIGKILL if the test runner dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


class TmirrorServer:
    """One ``tmirror server`` process (or an external endpoint)."""

    def __init__(self, auth="sigv4", data_dir=None, extra_args=(), database_url=None):
        self.auth = auth
        # The PostgreSQL database (TMIRROR_TEST_STORE=postgresql, or a replica's shared one).
        self.database_url = database_url
        self.extra_args = list(extra_args)
        self.external = external_endpoint()
        self.binary = os.environ.get("TMIRROR_BINARY")
        self._owns_dir = data_dir is None
        self.data_dir = data_dir
        self.proc = None
        self.endpoint = None
        self.access_key = None
        self.secret_key = None
        self._log_path = None
        self._stdout_lines = []
        self._reader = None

    # -- lifecycle --------------------------------------------------------------------------
    def start(self):
        if self.external:
            self.endpoint = self.external.rstrip("/")
            self.access_key = os.environ.get("TMIRROR_ACCESS_KEY_ID", "AKIDTMIRRORTEST00001")
            self.secret_key = os.environ.get("TMIRROR_SECRET_ACCESS_KEY", "tmirror-test-secret")
            return self
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise ServerError("TMIRROR_BINARY must name the tmirror executable (got %r)"
                              % (self.binary,))
        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="tmirror-it-")
        if self.database_url is None and STORE == "postgresql":
            self.database_url = postgres().create_database()
        try:
            if self.access_key is None:
                self._create_access_key()
            self._spawn()
        except BaseException:
            self.cleanup()
            raise
        return self

    def _create_access_key(self):
        res = subprocess.run(
            [self.binary, "server", "--data-dir", self.data_dir, *self.store_args(),
             "--create-access-key"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=STARTUP_TIMEOUT,
            universal_newlines=True)
        if res.returncode != 0:
            raise ServerError("--create-access-key exited %d: %s" % (res.returncode, res.stderr))
        for line in res.stdout.splitlines():
            line = line.strip()
            if line.startswith("{"):
                doc = json.loads(line)
                self.access_key = doc["AccessKeyId"]
                self.secret_key = doc["SecretAccessKey"]
                return
        raise ServerError("--create-access-key printed no JSON line: %r" % res.stdout)

    def store_args(self):
        return ["--database", self.database_url] if self.database_url else []

    def _spawn(self):
        if self._log_path is None:  # one stderr log per server object, appended on restarts
            fd, self._log_path = tempfile.mkstemp(prefix="tmirror-it-stderr-", suffix=".log")
            os.close(fd)
        cmd = [self.binary, "server", "--data-dir", self.data_dir, *self.store_args(),
               "--listen", "127.0.0.1:0", "--auth", self.auth, *self.extra_args]
        self._stdout_lines = []
        # The server logs to stderr (its start-up lines too); one pipe keeps the order.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        _LIVE.add(self)
        ready = threading.Event()
        found = {}
        proc = self.proc
        log_path = self._log_path

        def reader():
            with open(log_path, "ab", buffering=0) as log:
                for raw in iter(proc.stdout.readline, b""):
                    log.write(raw)
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    self._stdout_lines.append(line)
                    m = re.search(r"listening on (https?://127\.0\.0\.1:\d+)", line)
                    if m and not ready.is_set():
                        found["endpoint"] = m.group(1)
                        ready.set()
            ready.set()  # EOF: process ended

        self._reader = threading.Thread(target=reader, daemon=True)
        self._reader.start()
        ready.wait(STARTUP_TIMEOUT)
        if "endpoint" not in found:
            exited = proc.poll()
            self._terminate()
            raise ServerError("tmirror server did not print 'listening on' within %.0f s "
                              "(%s)\noutput:\n%s\nlog:\n%s"
                              % (STARTUP_TIMEOUT, "still running; terminated" if exited is None
                                 else "exited with %d" % exited,
                                 "\n".join(self._stdout_lines), self.stderr_text()))
        self.endpoint = found["endpoint"]

    def stderr_text(self, limit=4000):
        if not self._log_path or not os.path.exists(self._log_path):
            return ""
        with open(self._log_path, "rb") as f:
            data = f.read()
        return data[-limit:].decode("utf-8", "replace")

    def _terminate(self, sig=signal.SIGTERM, wait=10.0):
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=wait)
        if self._reader is not None:
            self._reader.join(timeout=5)
        try:
            proc.stdout.close()
        except Exception:
            pass
        self.proc = None
        return proc.returncode

    def stop(self):
        """SIGTERM; returns the exit code."""
        if self.external:
            return None
        return self._terminate(signal.SIGTERM)

    def kill9(self):
        if self.external:
            raise ServerError("cannot kill an external server")
        return self._terminate(signal.SIGKILL)

    def restart(self):
        if self.external:
            return self
        self._terminate(signal.SIGTERM)
        self._spawn()
        return self

    def cleanup(self):
        _LIVE.discard(self)
        try:
            if not self.external:
                self._terminate(signal.SIGTERM)
        finally:
            if self._log_path and os.path.exists(self._log_path):
                os.unlink(self._log_path)
                self._log_path = None
            if self._owns_dir and self.data_dir and os.path.isdir(self.data_dir):
                shutil.rmtree(self.data_dir, ignore_errors=True)
                self.data_dir = None

    @property
    def db_path(self):
        """The SQLite file (None when the state is in PostgreSQL)."""
        if self.database_url or not self.data_dir:
            return None
        return os.path.join(self.data_dir, "tmirror.db")

    # -- clients ----------------------------------------------------------------------------
    def client(self, retries=1, access_key=None, secret_key=None, timeout=30, verify=None):
        """A boto3 EC2 client; ``retries`` is the total number of attempts (1 = no retry);
        ``verify``: boto3's, a CA bundle for an HTTPS server."""
        session = boto3.session.Session(
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name=REGION)
        cfg = Config(retries={"total_max_attempts": retries, "mode": "standard"},
                     connect_timeout=timeout, read_timeout=timeout)
        return session.client("ec2", endpoint_url=self.endpoint, config=cfg, verify=verify)

    def cli_env(self, access_key=None, secret_key=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": access_key or self.access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key or self.secret_key,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return env

    def cli(self, *args, access_key=None, secret_key=None, timeout=120, global_args=()):
        """Run ``/usr/bin/aws ec2 ARGS``; returns (exit code, parsed JSON or None, stderr)."""
        cmd = [AWS_CLI, "ec2"] + [str(a) for a in args] + list(global_args) + [
            "--endpoint-url", self.endpoint, "--region", REGION, "--output", "json"]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=self.cli_env(access_key, secret_key), timeout=timeout,
                             universal_newlines=True)
        out = res.stdout.strip()
        doc = None
        if out:
            try:
                doc = json.loads(out)
            except ValueError:
                doc = None
                if res.returncode == 0:
                    raise AssertionError("aws %s printed non-JSON output: %r" % (args[0], out))
        return res.returncode, doc, res.stderr

    def cli_has_command(self, name):
        """Whether /usr/bin/aws knows ``aws ec2 NAME`` (Debian's 2.9 CLI lacks newer ones)."""
        res = subprocess.run([AWS_CLI, "ec2", name, "help"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=self.cli_env(), timeout=60)
        return res.returncode == 0

    def raw(self, action=None, params=None, **kw):
        return raw_request(self, action, params, **kw)


def cli_error_code(stderr):
    m = CLI_ERROR_RE.search(stderr or "")
    return m.group(1) if m else None


# -- raw signed requests --------------------------------------------------------------------
class RawResponse:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers
        self.root = None
        self.code = None
        self.message = None
        try:
            self.root = ET.fromstring(body) if body.strip() else None
        except ET.ParseError:
            self.root = None
        if self.root is not None and status >= 300:
            for el in self.root.iter():
                if _local(el.tag) == "Code" and self.code is None:
                    self.code = (el.text or "").strip()
                elif _local(el.tag) == "Message" and self.message is None:
                    self.message = (el.text or "").strip()

    def __iter__(self):
        """Unpacks as (HTTP status, error code): ``status, code = server.raw(...)``."""
        return iter((self.status, self.code))

    def find(self, path):
        """First element whose local-name path (e.g. 'trafficMirrorSession/sessionNumber')
        matches, searching anywhere in the document."""
        if self.root is None:
            return None
        parts = path.split("/")
        for el in self.root.iter():
            if _local(el.tag) == parts[0]:
                cur = el
                for p in parts[1:]:
                    nxt = [c for c in cur if _local(c.tag) == p]
                    if not nxt:
                        cur = None
                        break
                    cur = nxt[0]
                if cur is not None:
                    return cur
        return None

    def text(self, path):
        el = self.find(path)
        return None if el is None else (el.text or "")

    def items(self, set_name):
        el = self.find(set_name)
        return [] if el is None else [c for c in el if _local(c.tag) == "item"]

    def __repr__(self):
        return "RawResponse(status=%d, code=%r, body=%r)" % (self.status, self.code,
                                                              self.body[:500])


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def xml_item_to_dict(el):
    """Converts an <item> element to a plain dict of its children's text (one level)."""
    return {_local(c.tag): (c.text or "") for c in el if len(c) == 0}


class _FixedTimeSigV4Auth(botocore.auth.SigV4Auth):
    """SigV4Auth that signs with a caller-chosen timestamp (same steps as add_auth)."""

    def __init__(self, credentials, service, region, when):
        super().__init__(credentials, service, region)
        self._when = when

    def add_auth(self, request):
        request.context["timestamp"] = self._when.strftime(botocore.auth.SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical_request = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical_request)
        signature = self.signature(string_to_sign, request)
        self._inject_signature_to_request(request, signature)


def encode_params(action, params, version=API_VERSION):
    pairs = []
    if action is not None:
        pairs.append(("Action", action))
    if version is not None:
        pairs.append(("Version", version))
    if params:
        items = params.items() if isinstance(params, dict) else params
        for k, v in items:
            if isinstance(v, bool):
                v = "true" if v else "false"
            pairs.append((k, str(v)))
    return urllib.parse.urlencode(pairs)


def raw_request(server, action=None, params=None, body=None, sign=True, access_key=None,
                secret_key=None, clock_skew=None, tamper=None, version=API_VERSION,
                timeout=30, region=REGION):
    """POST a form-encoded EC2 query, SigV4-signed with botocore's signer.

    body        -- send this exact body (str) instead of encoding action/params
    sign        -- False sends no Authorization / X-Amz-Date headers
    clock_skew  -- datetime.timedelta added to the signing time
    region      -- the region the credential is scoped to
    tamper      -- callable(body:str)->str applied to the body after signing
    Returns a RawResponse (status, code, message, root).
    """
    if body is None:
        body = encode_params(action, params, version)
    url = server.endpoint + "/"
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    req = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body.encode("utf-8"),
                                         headers=headers)
    if sign:
        creds = botocore.credentials.Credentials(access_key or server.access_key,
                                                 secret_key or server.secret_key)
        if clock_skew is None:
            signer = botocore.auth.SigV4Auth(creds, "ec2", region)
        else:
            when = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + clock_skew
            signer = _FixedTimeSigV4Auth(creds, "ec2", region, when)
        signer.add_auth(req)
    send_body = body if tamper is None else tamper(body)
    out_headers = {k: v for k, v in req.headers.items()}
    ureq = urllib.request.Request(url, data=send_body.encode("utf-8"), method="POST",
                                  headers=out_headers)
    try:
        with urllib.request.urlopen(ureq, timeout=timeout) as resp:
            return RawResponse(resp.status, resp.read().decode("utf-8", "replace"),
                               dict(resp.headers))
    except urllib.error.HTTPError as e:
        return RawResponse(e.code, e.read().decode("utf-8", "replace"), dict(e.headers))


# -- boto3 helpers --------------------------------------------------------------------------
def error_code(exc):
    return exc.response.get("Error", {}).get("Code")


def http_status(exc):
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


def close_client(client):
    close = getattr(client, "close", None)  # botocore >= 1.27 only
    if close is not None:
        close()


def has_operation(client, name):
    return name in client.meta.service_model.operation_names


def describe_all(client, method, result_key, **kwargs):
    """Follows NextToken until exhausted; returns all items (and checks tokens do not repeat)."""
    items = []
    seen = set()
    call = getattr(client, method)
    while True:
        resp = call(**kwargs)
        items.extend(resp.get(result_key, []))
        tok = resp.get("NextToken")
        if not tok:
            return items
        if tok in seen:
            raise AssertionError("%s returned NextToken %r twice" % (method, tok))
        seen.add(tok)
        kwargs["NextToken"] = tok


def snapshot(client):
    """Everything the API can show, normalised for equality comparison."""
    def by(key, items):
        return sorted(items, key=lambda x: x.get(key, ""))

    def norm_tags(obj):
        if isinstance(obj, dict):
            return {k: (sorted(norm_tags(v), key=lambda t: json.dumps(t, sort_keys=True))
                        if k in ("Tags", "TagSet", "IngressFilterRules", "EgressFilterRules")
                        and isinstance(v, list) else norm_tags(v))
                    for k, v in obj.items() if k != "ResponseMetadata"}
        if isinstance(obj, list):
            return [norm_tags(x) for x in obj]
        return obj

    snap = {
        "targets": by("TrafficMirrorTargetId", describe_all(
            client, "describe_traffic_mirror_targets", "TrafficMirrorTargets")),
        "filters": by("TrafficMirrorFilterId", describe_all(
            client, "describe_traffic_mirror_filters", "TrafficMirrorFilters")),
        "sessions": by("TrafficMirrorSessionId", describe_all(
            client, "describe_traffic_mirror_sessions", "TrafficMirrorSessions")),
        "enis": by("NetworkInterfaceId", describe_all(
            client, "describe_network_interfaces", "NetworkInterfaces")),
        "tags": sorted(describe_all(client, "describe_tags", "Tags"),
                       key=lambda t: (t.get("ResourceId", ""), t.get("Key", ""))),
    }
    return norm_tags(snap)


class Fixtures:
    """Resource factories over a boto3 client (ENI subnet handled for external servers)."""

    def __init__(self, server, client):
        self.server = server
        self.c = client
        # An external server may keep state between runs: start at a random address there.
        self._ip = 10 if not server.external else 10 + (uuid.uuid4().int % 50000)
        self._subnet = None

    def subnet_id(self):
        if self._subnet is None:
            if self.server.external:
                # moto and friends only accept subnets that exist.
                vpc = self.c.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
                self._subnet = self.c.create_subnet(
                    VpcId=vpc, CidrBlock="10.0.0.0/16")["Subnet"]["SubnetId"]
            else:
                self._subnet = "subnet-0123456789abcdef0"
        return self._subnet

    def next_ip(self):
        self._ip += 1
        return "10.0.%d.%d" % ((self._ip // 250) % 250, self._ip % 250 + 2)

    def eni(self, description=None, ip=None):
        kw = {"SubnetId": self.subnet_id(), "PrivateIpAddress": ip or self.next_ip()}
        if description is not None:
            kw["Description"] = description
        return self.c.create_network_interface(**kw)["NetworkInterface"]["NetworkInterfaceId"]

    def target(self, eni=None, nlb=False, description=None, tags=None):
        kw = {}
        if nlb:
            kw["NetworkLoadBalancerArn"] = NLB_ARN
        else:
            kw["NetworkInterfaceId"] = eni or self.eni()
        if description is not None:
            kw["Description"] = description
        if tags:
            kw["TagSpecifications"] = [{"ResourceType": "traffic-mirror-target",
                                        "Tags": tag_list(tags)}]
        return self.c.create_traffic_mirror_target(**kw)["TrafficMirrorTarget"][
            "TrafficMirrorTargetId"]

    def filter(self, description=None, tags=None):
        kw = {}
        if description is not None:
            kw["Description"] = description
        if tags:
            kw["TagSpecifications"] = [{"ResourceType": "traffic-mirror-filter",
                                        "Tags": tag_list(tags)}]
        return self.c.create_traffic_mirror_filter(**kw)["TrafficMirrorFilter"][
            "TrafficMirrorFilterId"]

    def rule(self, filter_id, number, direction="ingress", action="accept",
             src="0.0.0.0/0", dst="0.0.0.0/0", **extra):
        return self.c.create_traffic_mirror_filter_rule(
            TrafficMirrorFilterId=filter_id, TrafficDirection=direction, RuleNumber=number,
            RuleAction=action, SourceCidrBlock=src, DestinationCidrBlock=dst, **extra
        )["TrafficMirrorFilterRule"]["TrafficMirrorFilterRuleId"]

    def session(self, eni, target, filter_id, number=1, tags=None, **extra):
        kw = dict(NetworkInterfaceId=eni, TrafficMirrorTargetId=target,
                  TrafficMirrorFilterId=filter_id, SessionNumber=number, **extra)
        if tags:
            kw["TagSpecifications"] = [{"ResourceType": "traffic-mirror-session",
                                        "Tags": tag_list(tags)}]
        return self.c.create_traffic_mirror_session(**kw)["TrafficMirrorSession"][
            "TrafficMirrorSessionId"]


def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def tags_of(obj):
    return {t["Key"]: t["Value"] for t in obj.get("Tags", [])}


# -- unittest base ----------------------------------------------------------------------------
class ServerTestCase(unittest.TestCase):
    """Starts one server per test class; subclasses may set ``auth``."""

    auth = "sigv4"
    server_args = ()  # more `tmirror server` flags (a test of a quota flag sets it)
    server = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = TmirrorServer(auth=cls.auth, extra_args=cls.server_args)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.ec2 = cls.server.client()
        cls.addClassCleanup(close_client, cls.ec2)
        cls.fx = Fixtures(cls.server, cls.ec2)

    # assertions ------------------------------------------------------------------------------
    def assertId(self, kind, value):
        self.assertIsInstance(value, str)
        self.assertRegex(value, ID_RE[kind])

    def assertClientError(self, code, fn, *args, status=None, **kwargs):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(error_code(cm.exception), code, str(cm.exception))
        if status is not None:
            self.assertEqual(http_status(cm.exception), status, str(cm.exception))
        return cm.exception

    def cli_ok(self, *args):
        rc, doc, err = self.server.cli(*args)
        self.assertEqual(rc, 0, "aws ec2 %s failed: %s" % (" ".join(map(str, args)), err))
        return doc

    def cli_err(self, code, *args):
        rc, doc, err = self.server.cli(*args)
        self.assertNotEqual(rc, 0, "aws ec2 %s unexpectedly succeeded: %r" % (args[0], doc))
        self.assertEqual(cli_error_code(err), code, err)
        return err
