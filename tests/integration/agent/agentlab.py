"""The agent under test in the namespace lab: server + agent in ``<P>-src``, API clients there.

Everything that depends on the spelling of ``tmirror agent``'s interface is in the ADAPTER
block below, so a rename is one edit.

* ``TmirrorBinary.find()``: ``TMIRROR_BINARY`` or the usual build trees; ``has_agent()``.
* ``NsServer``: ``tmirror server`` on the source namespace's loopback (kill -9, restart on
  the same port and data dir).
* ``NsAgent``: ``tmirror agent``; parses the registration and "applied revision N" lines with
  their arrival times; reads ``/counters``.
* ``NsApi``: boto3 EC2 client whose sockets live in the source namespace (a worker thread that
  ``setns()``-ed into it), plus ``cli()`` for ``ip netns exec <P>-src /usr/bin/aws ec2 …``.
"""

import concurrent.futures
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "lab"))
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration", "api"))

import lab as lablib  # noqa: E402
import pg_server  # noqa: E402,F401  (PostgreSQL for the replica tests)

for _k in list(os.environ):
    if _k.startswith("AWS_"):
        del os.environ[_k]
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

# ---- ADAPTER: the agent's interface as issue 4's brief spells it --------------------------------
AGENT_SUBCOMMAND = ["agent"]
AGENT_FLAGS = {
    "server": "--server", "token": "--token", "state_dir": "--state-dir",
    "interface": "--interface", "metrics_listen": "--metrics-listen",
    "rate_limit_pps": "--rate-limit-pps", "rate_limit_bps": "--rate-limit-bps",
    "ring_block_size": "--ring-block-size", "ring_blocks": "--ring-blocks",
    "block_timeout_ms": "--block-timeout-ms", "dns_resolver": "--dns-resolver", "cpu": "--cpu",
    "no_kernel_prefilter": "--no-kernel-prefilter", "send_gso": "--send-gso",
}
AGENT_REGISTERED_RE = re.compile(r"registered as (i-[0-9a-f]{17}):((?:\s+\S+=eni-[0-9a-f]{17})*)")
AGENT_APPLIED_RE = re.compile(r"applied revision (\d+)")
SERVER_LISTENING_RE = re.compile(r"listening on (http://127\.0\.0\.1:(\d+))")
COUNTERS_PATH = "/counters"
METRICS_PATH = "/metrics"
DEFAULT_METRICS = "127.0.0.1:8901"
PKT_MIRROR = ("NetworkPacketsMirrorIn", "NetworkPacketsMirrorOut")
PKT_SKIP = ("NetworkPacketsSkipMirrorIn", "NetworkPacketsSkipMirrorOut")
# ---------------------------------------------------------------------------------------------------

AWS_CLI = os.environ.get("TMIRROR_AWS_CLI", "/usr/bin/aws")
REGION = "us-east-1"
SUBNET = "subnet-0123456789abcdef0"


def find_binary():
    """TMIRROR_BINARY when set (and nothing else), else this checkout's usual build trees."""
    env = os.environ.get("TMIRROR_BINARY")
    if env:
        return env if os.access(env, os.X_OK) else None
    cand = [os.path.join(REPO, "build", b, "tmirror") for b in ("release", "asan", "bench")]
    for c in cand:
        if c and os.access(c, os.X_OK):
            return c
    return None


def has_agent(binary):
    if not binary:
        return False
    res = subprocess.run([binary] + AGENT_SUBCOMMAND + ["--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, timeout=30)
    return res.returncode == 0 and AGENT_FLAGS["token"] in res.stdout


def lab_skip_reason(need_agent=True):
    """None when the privileged agent tests can run here, else why not."""
    if sys.platform != "linux":
        return "Linux only"
    ok, why = lablib.netns_usable()
    if not ok:
        return why
    for tool in ("tcpdump", "ethtool"):
        if shutil.which(tool) is None:
            return "%s is not installed (scripts/install-deps.sh)" % tool
    if need_agent:
        b = find_binary()
        if not b:
            return "no tmirror binary: set TMIRROR_BINARY"
        if not has_agent(b):
            return "%s has no 'agent' subcommand yet" % b
    return None


# -- a thread inside the namespace ------------------------------------------------------------
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000


def _enter_netns(name):
    fd = os.open("/var/run/netns/%s" % name, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, "setns(%s): %s" % (name, os.strerror(e)))
    finally:
        os.close(fd)


class NsThread:
    """Runs callables on one thread that lives in a network namespace (sockets made there)."""

    def __init__(self, ns):
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, initializer=_enter_netns, initargs=(ns,))

    def __call__(self, fn, *a, **kw):
        return self.pool.submit(fn, *a, **kw).result()

    def close(self):
        self.pool.shutdown(wait=False)


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")


# -- processes with timestamped output --------------------------------------------------------
class LineLog:
    def __init__(self, stream, echo_prefix=None):
        self.lines = []  # (time.time(), line)
        self.cond = threading.Condition()
        self.echo = echo_prefix
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self.cond:
                self.lines.append((time.time(), line))
                self.cond.notify_all()
            if self.echo and os.environ.get("TMIRROR_LAB_VERBOSE"):
                sys.stderr.write("%s %s\n" % (self.echo, line))
        with self.cond:
            self.lines.append((time.time(), None))  # EOF
            self.cond.notify_all()

    def wait_for(self, regex, timeout, start=0):
        """First match at index >= start: (index, time, match) or None."""
        deadline = time.time() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    t, line = self.lines[i]
                    if line is None:
                        return None
                    m = regex.search(line)
                    if m:
                        return i, t, m
                    i += 1
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def text(self):
        return "\n".join(l for _, l in self.lines if l is not None)


class NsServer:
    """A server in the source namespace; database_url: its state in PostgreSQL (replicas share
    one), else SQLite in data_dir."""

    def __init__(self, lab, binary, data_dir=None, extra_args=(), database_url=None):
        self.lab, self.binary = lab, binary
        self.store_args = ["--database", database_url] if database_url else []
        self.extra_args = list(extra_args)
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="tmirror-agentlab-srv-")
        self.port = 0
        self.proc = None
        self.log = None
        res = subprocess.run([binary, "server", "--data-dir", self.data_dir, *self.store_args,
                              "--create-access-key"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True, timeout=30,
                             check=True)
        doc = next(json.loads(l) for l in res.stdout.splitlines() if l.strip().startswith("{"))
        self.access_key, self.secret_key = doc["AccessKeyId"], doc["SecretAccessKey"]
        res = subprocess.run([binary, "server", "--data-dir", self.data_dir, *self.store_args,
                              "--create-agent-token"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True, timeout=30,
                             check=True)
        self.agent_token = res.stdout.strip().splitlines()[-1].strip()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self, timeout=20):
        deadline = time.time() + timeout
        while True:
            self.proc = self.lab.popen(
                "src", [self.binary, "server", "--listen", "127.0.0.1:%d" % self.port,
                        "--data-dir", self.data_dir, *self.store_args, "--auth", "sigv4",
                        *self.extra_args],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.log = LineLog(self.proc.stdout, "[server]")
            got = self.log.wait_for(SERVER_LISTENING_RE, max(1, deadline - time.time()))
            if got:
                self.port = int(got[2].group(2))
                return self
            self.proc.kill()
            self.proc.wait()
            if time.time() > deadline:  # e.g. the port is still in TIME_WAIT after kill -9
                raise RuntimeError("tmirror server did not start:\n" + self.log.text())
            time.sleep(0.2)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class NsAgent:
    def __init__(self, lab, binary, server, interfaces=("eth0",), state_dir=None,
                 metrics_listen=DEFAULT_METRICS, block_timeout_ms=10, more_servers=(),
                 **options):
        self.lab, self.binary, self.server = lab, binary, server
        self.more_servers = list(more_servers)  # replicas, each one more --server
        self.interfaces = list(interfaces)
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="tmirror-agentlab-agent-")
        self.metrics_listen = metrics_listen
        self.options = dict(options)
        if block_timeout_ms is not None:
            self.options["block_timeout_ms"] = block_timeout_ms
        self.proc = None
        self.log = None
        self.instance_id = None
        self.enis = {}

    def command(self):
        f = AGENT_FLAGS
        cmd = [self.binary] + AGENT_SUBCOMMAND + [
            f["server"], self.server.endpoint,
            *[a for s in self.more_servers for a in (f["server"], s.endpoint)],
            f["token"], self.server.agent_token,
            f["state_dir"], self.state_dir, f["metrics_listen"], self.metrics_listen]
        for i in self.interfaces:
            cmd += [f["interface"], i]
        for k, v in self.options.items():
            if v is True:  # a flag without a value
                cmd.append(f[k])
                continue
            for item in (v if isinstance(v, (list, tuple)) else [v]):
                cmd += [f[k], str(item)]
        return cmd

    def start(self, timeout=20):
        self.proc = self.lab.popen("src", self.command(), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        self.log = LineLog(self.proc.stdout, "[agent]")
        got = self.log.wait_for(AGENT_REGISTERED_RE, timeout)
        if not got:
            self.stop()
            raise RuntimeError("tmirror agent did not register within %d s:\n%s"
                               % (timeout, self.log.text()))
        self.instance_id = got[2].group(1)
        self.enis = dict(kv.split("=") for kv in got[2].group(2).split())
        return self

    @property
    def pid(self):
        """pid of the agent itself (ip netns exec execs it, so the same pid)."""
        return self.proc.pid

    def applied(self):
        """[(time, revision)] of every 'applied revision N' line so far."""
        out = []
        for t, line in list(self.log.lines):
            m = line and AGENT_APPLIED_RE.search(line)
            if m:
                out.append((t, int(m.group(1))))
        return out

    def mark(self):
        return len(self.log.lines)

    def wait_applied(self, after_mark, timeout=5):
        """(time, revision) of the first 'applied revision' line after ``after_mark``."""
        got = self.log.wait_for(AGENT_APPLIED_RE, timeout, start=after_mark)
        if not got:
            raise AssertionError("agent printed no 'applied revision' within %.1f s:\n%s"
                                 % (timeout, self.log.text()[-3000:]))
        return got[1], int(got[2].group(1))

    def counters(self, ns_thread):
        return json.loads(ns_thread(http_get, "http://%s%s" % (self.metrics_listen,
                                                              COUNTERS_PATH)))

    def metrics(self, ns_thread):
        return ns_thread(http_get, "http://%s%s" % (self.metrics_listen, METRICS_PATH))

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.thread.join(timeout=5)

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)


def interface_counters(doc, name="eth0"):
    for i in doc.get("Interfaces", []):
        if i.get("Name") == name:
            return i
    raise KeyError("no interface %s in %s" % (name, doc))


class NsApi:
    """boto3 (made and used on a thread inside the source namespace) and the aws CLI there."""

    def __init__(self, lab, server):
        self.lab, self.server = lab, server
        self.thread = NsThread(lab.ns("src"))
        self.ec2 = self.thread(self._client)

    def _client(self):
        import boto3
        from botocore.config import Config
        s = boto3.session.Session(aws_access_key_id=self.server.access_key,
                                  aws_secret_access_key=self.server.secret_key,
                                  region_name=REGION)
        return s.client("ec2", endpoint_url=self.server.endpoint,
                        config=Config(retries={"total_max_attempts": 1, "mode": "standard"},
                                      connect_timeout=5, read_timeout=30))

    def __getattr__(self, name):
        fn = getattr(self.ec2, name)
        return lambda **kw: self.thread(fn, **kw)

    def cli(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": self.server.access_key,
                    "AWS_SECRET_ACCESS_KEY": self.server.secret_key,
                    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                    "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true"})
        res = self.lab.run("src", [AWS_CLI, "ec2"] + [str(a) for a in args] + [
            "--endpoint-url", self.server.endpoint, "--region", REGION, "--output", "json"],
            env=env, timeout=120)
        return json.loads(res.stdout) if res.stdout.strip() else None

    def close(self):
        self.thread.close()

    # -- resource helpers (rules come from mirror_eval.Rule.api_kwargs) --
    def target_for(self, ip):
        eni = self.create_network_interface(SubnetId=SUBNET, PrivateIpAddress=ip)[
            "NetworkInterface"]["NetworkInterfaceId"]
        return self.create_traffic_mirror_target(NetworkInterfaceId=eni)[
            "TrafficMirrorTarget"]["TrafficMirrorTargetId"]

    def filter_with(self, rules, amazon_dns=False):
        fid = self.create_traffic_mirror_filter(Description="agentlab")[
            "TrafficMirrorFilter"]["TrafficMirrorFilterId"]
        for r in rules:
            self.create_traffic_mirror_filter_rule(TrafficMirrorFilterId=fid,
                                                   **r.api_kwargs())
        if amazon_dns:
            self.modify_traffic_mirror_filter_network_services(
                TrafficMirrorFilterId=fid, AddNetworkServices=["amazon-dns"])
        return fid

    def session(self, eni, target, fid, number, vni, packet_length=None):
        kw = dict(NetworkInterfaceId=eni, TrafficMirrorTargetId=target,
                  TrafficMirrorFilterId=fid, SessionNumber=number, VirtualNetworkId=vni)
        if packet_length:
            kw["PacketLength"] = packet_length
        return self.create_traffic_mirror_session(**kw)["TrafficMirrorSession"][
            "TrafficMirrorSessionId"]
