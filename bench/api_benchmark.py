#!/usr/bin/env python3
"""Throughput of tmirror's EC2 Query API next to moto_server's, on this machine.

Starts both servers on free 127.0.0.1 ports, gives them the same data (134 ENIs, 100 traffic
mirror targets, 100 filters, and 100 sessions where the server implements sessions), then drives
each call with wrk for a fixed duration over keep-alive connections. Every request is a real
SigV4-signed POST: the requests are signed with botocore right before each run (a signature stays
valid for 15 minutes; a run lasts seconds) and wrk replays them from a pool, so the client costs
no signing time. Write calls never repeat a request that would fail: CreateTrafficMirrorFilter
creates a new filter per request, and each CreateTrafficMirrorFilterRule request is a distinct
(filter, direction, rule number), spread over filters so that no filter exceeds the default quota
of 10 rules.

Prints the machine, the tmirror commit, one row per (server, call) with requests/s and p50/p99
latency, the tmirror/moto ratios and whether the goals are met (>= 20x moto, >= 3,000
DescribeTrafficMirrorSessions requests/s). A call moto_server does not implement is said so and
compared with the closest call it has, labelled as such.

Needs: wrk (Debian package), botocore/boto3 and moto (for moto_server) in this python3, a built
tmirror (default build/bench/tmirror). Usage: python3 bench/api_benchmark.py [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGION = "us-east-1"
VERSION = "2016-11-15"
ITEMS = 100  # sessions, targets and filters each server holds while describes are measured
SOURCE_ENIS = 34  # 34 source ENIs x up to 3 sessions each (the AWS quota) = 100 sessions
RULES_PER_FILTER = 10  # AWS's default quota, which tmirror enforces by default
GOAL_RATIO = 20.0
GOAL_DESCRIBE_RPS = 3000.0
MAX_RULE_POOL = 150_000  # distinct rule creates signed at most (botocore signs ~20k/s)
MIN_RULE_FILTERS = 200
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"

# wrk script: replays a pool of pre-built raw HTTP requests, each wrk thread its own slice (so a
# request meant to be sent once is sent by one thread only), and reports JSON from done().
WRK_LUA = r"""
local threads = {}
local next_id = 0
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local pool = {}
local idx = 0
sent = 0
wrapped = 0
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local data = f:read("*a")
  f:close()
  local nthreads = tonumber(args[2])
  local all = {}
  local i = 1
  while true do
    local j = string.find(data, "\0", i, true)
    if not j then break end
    all[#all + 1] = string.sub(data, i, j - 1)
    i = j + 1
  end
  for k = tid + 1, #all, nthreads do pool[#pool + 1] = all[k] end
  if #pool == 0 then pool = all end
end

function request()
  idx = idx + 1
  if idx > #pool then
    idx = 1
    wrapped = wrapped + 1
  end
  sent = sent + 1
  return pool[idx]
end

function done(summary, latency, requests)
  local w, s = 0, 0
  for _, t in ipairs(threads) do
    w = w + (t:get("wrapped") or 0)
    s = s + (t:get("sent") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"wrapped":%d,"sent":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, w, s))
end
"""


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    endpoint: str  # http://127.0.0.1:PORT
    host: str  # 127.0.0.1:PORT, the Host header that is signed
    credentials: Credentials
    proc: subprocess.Popen
    subnet_id: str = ""
    supports: dict[str, bool] = field(default_factory=dict)
    filter_ids: list[str] = field(default_factory=list)


def stop_process(proc: subprocess.Popen | None) -> None:
    """Ends a process this script started (and its process group), by its id."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def quota_args(binary: str) -> tuple[str, ...]:
    """--resources-per-kind high enough for any create run, when this build knows the flag."""
    usage = subprocess.run([binary, "server", "--help"], capture_output=True, text=True,
                           timeout=30).stdout
    return ("--resources-per-kind", "10000000") if "--resources-per-kind" in usage else ()


def start_tmirror(binary: str, workdir: str, procs: list, extra_args: tuple[str, ...] = (),
                  store_args: tuple[str, ...] = ()) -> Server:
    """store_args: e.g. ("--database", URL); SQLite in workdir by default."""
    data_dir = os.path.join(workdir, "tmirror-data")
    os.makedirs(data_dir)
    out = subprocess.run([binary, "server", "--data-dir", data_dir, *store_args,
                          "--create-access-key"],
                         capture_output=True, text=True, timeout=30, check=True)
    key = json.loads(out.stdout.strip().splitlines()[-1])
    log_path = os.path.join(workdir, "tmirror.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [binary, "server", "--data-dir", data_dir, *store_args, "--listen", "127.0.0.1:0",
             *extra_args],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    procs.append(proc)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
        if m:
            port = int(m.group(1))
            creds = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
            return Server("tmirror", f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", creds, proc,
                          subnet_id="subnet-0123abcd")
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        raise BenchError(f"tmirror server did not start: {f.read()[-2000:]}")


def start_moto(binary: str, workdir: str, procs: list) -> Server:
    log_path = os.path.join(workdir, "moto.log")
    for _attempt in range(3):
        port = free_port()
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=2):
                        pass
                except urllib.error.HTTPError:
                    pass  # it answers: it is up
                # moto accepts any credentials; sign with well-formed ones all the same.
                creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
                return Server("moto", f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", creds, proc)
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        stop_process(proc)
    with open(log_path, encoding="utf-8", errors="replace") as f:
        raise BenchError(f"moto_server did not start: {f.read()[-2000:]}")


# ---------------------------------------------------------------- requests


def signed_request(server: Server, params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = urllib.parse.urlencode({"Version": VERSION, **params})
    req = AWSRequest(method="POST", url=server.endpoint + "/", data=body,
                     headers={"Host": server.host, "Content-Type": CONTENT_TYPE})
    SigV4Auth(server.credentials, "ec2", REGION).add_auth(req)
    return body.encode(), dict(req.headers.items())


def raw_request(server: Server, params: dict[str, str]) -> bytes:
    body, headers = signed_request(server, params)
    lines = ["POST / HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def call(server: Server, params: dict[str, str]) -> tuple[int, str]:
    """One signed request with urllib: (HTTP status, body)."""
    body, headers = signed_request(server, params)
    req = urllib.request.Request(server.endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def client(server: Server):
    session = botocore.session.get_session()
    return session.create_client(
        "ec2", region_name=REGION, endpoint_url=server.endpoint,
        aws_access_key_id=server.credentials.access_key,
        aws_secret_access_key=server.credentials.secret_key,
        config=Config(retries={"max_attempts": 1}, connect_timeout=10, read_timeout=60))


def implemented(server: Server, params: dict[str, str]) -> bool:
    """Whether the server implements an action: a DryRun request changes nothing and answers
    DryRunOperation (or success) where it does; moto answers 500 NotImplementedError otherwise."""
    status, body = call(server, {**params, "DryRun": "true"})
    if "DryRunOperation" in body or status == 200:
        return True
    if status >= 500 or "InvalidAction" in body or "not been implemented" in body:
        return False
    raise BenchError(f"{server.name}: unexpected answer to a DryRun {params['Action']}: "
                     f"{status} {body[:300]}")


def populate(server: Server) -> None:
    """The same data on every server: 100 target ENIs + 100 targets, 34 source ENIs, 100 filters,
    and 100 sessions (3 per source ENI) where sessions are implemented."""
    ec2 = client(server)
    if not server.subnet_id:
        server.subnet_id = ec2.describe_subnets()["Subnets"][0]["SubnetId"]

    def eni(ip: str) -> str:
        r = ec2.create_network_interface(SubnetId=server.subnet_id, PrivateIpAddress=ip,
                                         Description="bench")
        return r["NetworkInterface"]["NetworkInterfaceId"]

    target_enis = [eni(f"172.31.1.{i + 10}") for i in range(ITEMS)]
    source_enis = [eni(f"172.31.2.{i + 10}") for i in range(SOURCE_ENIS)]
    targets = [
        ec2.create_traffic_mirror_target(NetworkInterfaceId=e, Description=f"bench-target-{i}")
        ["TrafficMirrorTarget"]["TrafficMirrorTargetId"] for i, e in enumerate(target_enis)
    ]
    filters = [
        ec2.create_traffic_mirror_filter(Description=f"bench-filter-{i}")
        ["TrafficMirrorFilter"]["TrafficMirrorFilterId"] for i in range(ITEMS)
    ]
    server.filter_ids = filters
    server.supports["CreateTrafficMirrorFilterRule"] = implemented(server, {
        "Action": "CreateTrafficMirrorFilterRule", "TrafficMirrorFilterId": filters[0],
        "TrafficDirection": "ingress", "RuleNumber": "1", "RuleAction": "accept",
        "DestinationCidrBlock": "0.0.0.0/0", "SourceCidrBlock": "0.0.0.0/0"})
    server.supports["CreateTrafficMirrorSession"] = implemented(server, {
        "Action": "CreateTrafficMirrorSession", "NetworkInterfaceId": source_enis[0],
        "TrafficMirrorTargetId": targets[0], "TrafficMirrorFilterId": filters[0],
        "SessionNumber": "1"})
    server.supports["DescribeTrafficMirrorSessions"] = implemented(
        server, {"Action": "DescribeTrafficMirrorSessions"})
    if server.supports["CreateTrafficMirrorSession"]:
        for i in range(ITEMS):
            ec2.create_traffic_mirror_session(
                NetworkInterfaceId=source_enis[i // 3], TrafficMirrorTargetId=targets[i],
                TrafficMirrorFilterId=filters[i], SessionNumber=i % 3 + 1, VirtualNetworkId=1000 + i,
                Description=f"bench-session-{i}")


def count_tag(body: str, tag: str) -> int:
    return len(re.findall(f"<{tag}>", body))


def all_filter_ids(server: Server) -> list[str]:
    ec2 = client(server)
    ids = []
    for page in ec2.get_paginator("describe_traffic_mirror_filters").paginate(
            PaginationConfig={"PageSize": 1000}):
        ids += [f["TrafficMirrorFilterId"] for f in page["TrafficMirrorFilters"]]
    return ids


# ---------------------------------------------------------------- wrk


@dataclass
class Result:
    server: str
    action: str
    items: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    errors: int = 0
    server_cpu: float = 0.0  # cores the server process used during the run
    wrk_cpu: float = 0.0  # cores wrk used
    note: str = ""
    implemented: bool = True


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(args, server: Server, pool: list[bytes], workdir: str, duration: float) -> dict:
    pool_path = os.path.join(workdir, "pool.bin")
    with open(pool_path, "wb") as f:
        for r in pool:
            f.write(r + b"\0")
    lua_path = os.path.join(workdir, "pool.lua")
    with open(lua_path, "w", encoding="utf-8") as f:
        f.write(WRK_LUA)
    cmd = [args.wrk, "-t", str(args.threads), "-c", str(args.connections),
           "-d", f"{duration:g}s", "--timeout", "10s", "-s", lua_path, server.endpoint + "/",
           "--", pool_path, str(args.threads)]
    cpu0 = cpu_seconds(server.proc.pid)
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = cpu_seconds(server.proc.pid) - cpu0
    wrk_cpu = (wrk1.ru_utime + wrk1.ru_stime) - (wrk0.ru_utime + wrk0.ru_stime)
    m = re.search(r"^WRKJSON (.*)$", out.stdout, re.M)
    if out.returncode != 0 or not m:
        raise BenchError(f"wrk failed ({out.returncode}): {out.stdout[-1500:]} {out.stderr[-1500:]}")
    stats = json.loads(m.group(1))
    seconds = stats["duration_us"] / 1e6
    stats["server_cpu"] = server_cpu / seconds
    stats["wrk_cpu"] = wrk_cpu / seconds
    os.unlink(pool_path)
    return stats


def measure(args, server: Server, action: str, items: str, pool: list[bytes], workdir: str,
            distinct: bool = False) -> Result:
    stats = run_wrk(args, server, pool, workdir, args.duration)
    errors = stats["connect"] + stats["read"] + stats["write"] + stats["status"] + stats["timeout"]
    res = Result(server.name, action, items,
                 rps=stats["requests"] / (stats["duration_us"] / 1e6),
                 p50_ms=stats["p50_us"] / 1000, p99_ms=stats["p99_us"] / 1000,
                 requests=stats["requests"], errors=errors, server_cpu=stats["server_cpu"],
                 wrk_cpu=stats["wrk_cpu"])
    notes = []
    if distinct and stats["wrapped"]:
        notes.append("POOL EXHAUSTED: requests repeated, figure invalid (too few fresh filters)")
    if res.server_cpu < 0.5 and res.p50_ms > 20:
        notes.append("server mostly idle: requests wait (~40 ms p50 = Nagle + delayed ACK?), "
                     "not work")
    res.note = "; ".join(notes)
    if errors:
        res.note = (res.note + "; " if res.note else "") + (
            f"errors: status {stats['status']}, connect {stats['connect']}, read {stats['read']}, "
            f"write {stats['write']}, timeout {stats['timeout']}")
    print(f"  {server.name:8} {action:32} {res.rps:10.1f} req/s  p50 {res.p50_ms:7.2f} ms  "
          f"p99 {res.p99_ms:7.2f} ms  ({res.requests} requests, {errors} errors; cores used: "
          f"server {res.server_cpu:.2f}, wrk {res.wrk_cpu:.2f})", flush=True)
    return res


def bench_describe(args, server: Server, action: str, id_tag: str, workdir: str) -> Result:
    params = {"Action": action}
    status, body = call(server, params)
    n = count_tag(body, id_tag)
    if status != 200 or n != ITEMS:
        raise BenchError(f"{server.name} {action}: expected {ITEMS} items, got {status} with {n}")
    # One request, signed now, replayed: a describe changes nothing.
    return measure(args, server, action, f"{ITEMS} items", [raw_request(server, params)], workdir)


def bench_create_filters(args, server: Server, workdir: str) -> Result:
    # Each request creates a new filter (no ClientToken), so a replayed request is a new create;
    # the pool still varies the description.
    before = len(all_filter_ids(server))
    pool = [raw_request(server, {"Action": "CreateTrafficMirrorFilter",
                                 "Description": f"bench-created-{i}"}) for i in range(2000)]
    res = measure(args, server, "CreateTrafficMirrorFilter", "new filter each", pool, workdir)
    created = len(all_filter_ids(server)) - before
    # wrk does not count requests still in flight when the time is up.
    if not res.requests <= created <= res.requests + args.connections:
        res.note = (res.note + "; " if res.note else "") + (
            f"created {created} filters for {res.requests} requests")
    return res


def bench_create_rules(args, server: Server, workdir: str) -> Result:
    # Filters with no rules yet: the ones the CreateTrafficMirrorFilter run created, 10 rule slots
    # each. A rule create is no cheaper than a filter create by 10x, so that run leaves more slots
    # than this run of the same length can use; should it not, the row says POOL EXHAUSTED.
    setup_filters = set(server.filter_ids)
    fresh = [f for f in all_filter_ids(server) if f not in setup_filters]
    fresh = fresh[:MAX_RULE_POOL // RULES_PER_FILTER]
    if len(fresh) < MIN_RULE_FILTERS:
        ec2 = client(server)
        for i in range(MIN_RULE_FILTERS - len(fresh)):
            fresh.append(ec2.create_traffic_mirror_filter(Description=f"bench-rules-{i}")
                         ["TrafficMirrorFilter"]["TrafficMirrorFilterId"])
    # Slot k of every filter before slot k+1 of any: (direction, rule number) distinct per filter,
    # at most RULES_PER_FILTER per filter.
    pool = []
    for k in range(RULES_PER_FILTER):
        direction = "ingress" if k % 2 == 0 else "egress"
        for f in fresh:
            pool.append(raw_request(server, {
                "Action": "CreateTrafficMirrorFilterRule", "TrafficMirrorFilterId": f,
                "TrafficDirection": direction, "RuleNumber": str(100 + k // 2),
                "RuleAction": "accept", "Protocol": "6", "DestinationCidrBlock": "10.0.0.0/8",
                "SourceCidrBlock": "0.0.0.0/0", "DestinationPortRange.FromPort": "443",
                "DestinationPortRange.ToPort": "443", "Description": "bench"}))
    return measure(args, server, "CreateTrafficMirrorFilterRule", "distinct rule each", pool,
                   workdir, distinct=True)


# ---------------------------------------------------------------- report


def machine_info(tmirror: str) -> dict[str, str]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            model = m.group(1).strip() if m else model
    except OSError:
        pass
    commit = "unknown"
    try:
        commit = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if dirty:
            commit += " (+ uncommitted changes)"
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        import moto
        moto_version = moto.__version__
    except ImportError:
        moto_version = "not importable"
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True,
                                 text=True).stdout.splitlines()[0:1]
    wrk = re.match(r"(wrk \S+)", wrk_version[0]) if wrk_version else None
    binary = shutil.which(tmirror) or tmirror
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(binary)))
    return {"nproc": str(os.cpu_count()), "cpu": model, "tmirror_commit": commit,
            "tmirror_binary": f"{binary} (built {built})",
            "moto": moto_version, "wrk": wrk.group(1) if wrk else "wrk"}


GOAL_DESCRIBE_VS_BASELINE = 1.5


def print_baseline_report(args, results: list[Result]) -> bool:
    """This build against --baseline, call by call, in the same run."""
    by = {(r.server, r.action): r for r in results if r.implemented}
    print()
    print(f"== tmirror vs baseline ({args.baseline}) ==")
    print(f"{'call':32} {'tmirror req/s':>14} {'baseline req/s':>15} {'ratio':>8}  goal")
    ok = True
    for action in ("DescribeTrafficMirrorSessions", "DescribeTrafficMirrorFilters",
                   "DescribeTrafficMirrorTargets", "CreateTrafficMirrorFilter",
                   "CreateTrafficMirrorFilterRule"):
        t, b = by.get(("tmirror", action)), by.get(("baseline", action))
        if not t or not b or b.rps <= 0:
            continue
        ratio = t.rps / b.rps
        goal = ""
        if action.startswith("Describe"):
            met = ratio >= GOAL_DESCRIBE_VS_BASELINE
            ok = ok and met
            goal = f">= {GOAL_DESCRIBE_VS_BASELINE:g}x: {'met' if met else 'NOT met'}"
        print(f"{action:32} {t.rps:14.1f} {b.rps:15.1f} {ratio:7.2f}x  {goal}")
    return ok


def print_report(args, info: dict, results: list[Result], moto_gaps: list[str]) -> bool:
    by = {(r.server, r.action): r for r in results if r.implemented}
    print()
    print("== tmirror vs moto_server: EC2 Query API throughput ==")
    print(f"machine: nproc={info['nproc']}, cpu={info['cpu']}")
    print(f"tmirror commit: {info['tmirror_commit']}; binary {info['tmirror_binary']}")
    print(f"moto {info['moto']}; load: {info['wrk']}, {args.threads} thread(s), "
          f"{args.connections} keep-alive connections, {args.duration:g} s per call; wrk and the "
          f"server share the {info['nproc']} cores (srv/wrk cpu: cores each used)")
    print()
    hdr = (f"{'server':8} {'call':32} {'data':20} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
           f"{'srv cpu':>7} {'wrk cpu':>7}  note")
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        if not r.implemented:
            print(f"{r.server:8} {r.action:32} {r.items:20} {'n/a':>10} {'n/a':>8} {'n/a':>8} "
                  f"{'':7} {'':7}  {r.note}")
        else:
            print(f"{r.server:8} {r.action:32} {r.items:20} {r.rps:10.1f} {r.p50_ms:8.2f} "
                  f"{r.p99_ms:8.2f} {r.server_cpu:7.2f} {r.wrk_cpu:7.2f}  {r.note}")
    if moto_gaps:
        print()
        for g in moto_gaps:
            print(f"note: {g}")

    # The goal's two calls, each against moto's own call or, where moto lacks it, its closest
    # calls (the faster of them: the stricter comparison); then same-call comparisons for context.
    stand_ins = {
        "DescribeTrafficMirrorSessions": ["DescribeTrafficMirrorFilters",
                                          "DescribeTrafficMirrorTargets"],
        "CreateTrafficMirrorFilterRule": ["CreateTrafficMirrorFilter"],
    }
    rows = []  # (tmirror call, moto call, label, counts for the goal)
    for call_name, closest in stand_ins.items():
        if ("moto", call_name) in by:
            rows.append((call_name, call_name, "same call", True))
            continue
        present = [c for c in closest if ("moto", c) in by]
        best = max(present, key=lambda c: by[("moto", c)].rps, default=None)
        for c in present:
            label = f"CLOSEST: moto lacks {call_name}" + (
                "; the faster stand-in" if c == best and len(present) > 1 else "")
            rows.append((call_name, c, label, c == best))
    for call_name in ("DescribeTrafficMirrorFilters", "DescribeTrafficMirrorTargets",
                      "CreateTrafficMirrorFilter"):
        rows.append((call_name, call_name, "same call (context)", False))
    print()
    print(f"{'tmirror call':32} {'moto call':32} {'ratio':>8}  {'>=20x':6} comparison")
    print("-" * 110)
    goals: list[tuple[str, bool]] = []
    for tm, mo, label, counts in rows:
        t, m = by.get(("tmirror", tm)), by.get(("moto", mo))
        if not t or not m or m.rps <= 0:
            continue
        ratio = t.rps / m.rps
        met = ratio >= GOAL_RATIO and not t.errors and not m.errors
        print(f"{tm:32} {mo:32} {ratio:7.1f}x  {'yes' if met else 'NO':6} {label}")
        if counts:
            goals.append((f">= {GOAL_RATIO:g}x moto on {tm}: {ratio:.1f}x vs moto {mo}", met))
    d = by.get(("tmirror", "DescribeTrafficMirrorSessions"))
    if d:
        goals.append((f">= {GOAL_DESCRIBE_RPS:,.0f} DescribeTrafficMirrorSessions ({ITEMS} "
                      f"sessions) req/s: {d.rps:,.0f}", d.rps >= GOAL_DESCRIBE_RPS and not d.errors))
    print()
    for text, met in goals:
        print(f"goal {text} -> {'met' if met else 'NOT met'}")
    return all(met for _, met in goals)


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tmirror", default=os.path.join(REPO, "build/bench/tmirror"))
    ap.add_argument("--moto-server", default=shutil.which("moto_server") or "moto_server")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per call (default 10)")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of describe load first")
    ap.add_argument("--connections", type=int, default=8,
                    help="keep-alive connections (tmirror serves 8 at once by default)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--no-moto", action="store_true", help="measure tmirror only")
    ap.add_argument("--baseline", help="another tmirror build (e.g. an earlier commit) measured "
                                       "in the same run, for the before/after ratio")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--require-goals", action="store_true",
                    help="exit 3 when a goal is not met (default: report only)")
    args = ap.parse_args()
    if not 0 < args.duration <= 120 or not 0 <= args.warmup <= 30:
        ap.error("--duration must be in (0, 120] and --warmup in [0, 30]")
    if args.connections < args.threads:
        ap.error("--connections must be at least --threads")
    for tool, hint in ((args.wrk, "apt-get install wrk (make setup does)"),
                       (args.tmirror, "build it: make bench, or cmake --build build/bench "
                                      "--target tmirror")):
        if not (shutil.which(tool) or os.access(tool, os.X_OK)):
            print(f"api_benchmark: {tool} not found: {hint}", file=sys.stderr)
            return 2
    if not args.no_moto and not shutil.which(args.moto_server) and not os.access(
            args.moto_server, os.X_OK):
        print("api_benchmark: moto_server not found (pip install 'moto[server]'): measuring "
              "tmirror alone, no ratios", file=sys.stderr)
        args.no_moto = True

    # SIGTERM ends the run through the finally below, like Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    info = machine_info(args.tmirror)
    workdir = tempfile.mkdtemp(prefix="tmirror-api-bench-")
    procs: list[subprocess.Popen] = []
    results: list[Result] = []
    moto_gaps: list[str] = []
    try:
        # AWS's 10,000 filters per account would end a create run in seconds and leave the rest
        # of it measuring refusals: the quota is raised where the build has the flag.
        servers = [start_tmirror(args.tmirror, workdir, procs, quota_args(args.tmirror))]
        if args.baseline:
            baseline_dir = os.path.join(workdir, "baseline")
            os.makedirs(baseline_dir)
            servers.append(start_tmirror(args.baseline, baseline_dir, procs,
                                         quota_args(args.baseline)))
            servers[-1].name = "baseline"
        if not args.no_moto:
            servers.append(start_moto(args.moto_server, workdir, procs))
        for s in servers:
            t0 = time.monotonic()
            populate(s)
            print(f"{s.name}: populated in {time.monotonic() - t0:.1f} s "
                  f"(sessions {'yes' if s.supports['CreateTrafficMirrorSession'] else 'NOT implemented'}"
                  f", filter rules "
                  f"{'yes' if s.supports['CreateTrafficMirrorFilterRule'] else 'NOT implemented'})",
                  flush=True)
        for s in servers:
            if args.warmup > 0:
                params = {"Action": "DescribeTrafficMirrorFilters"}
                run_wrk(args, s, [raw_request(s, params)], workdir, args.warmup)
            describes = [("DescribeTrafficMirrorSessions", "trafficMirrorSessionId"),
                         ("DescribeTrafficMirrorFilters", "trafficMirrorFilterId"),
                         ("DescribeTrafficMirrorTargets", "trafficMirrorTargetId")]
            for action, tag in describes:
                if action == "DescribeTrafficMirrorSessions" and not (
                        s.supports["DescribeTrafficMirrorSessions"]
                        and s.supports["CreateTrafficMirrorSession"]):
                    results.append(Result(s.name, action, "-", implemented=False,
                                          note=f"not implemented by {s.name}"))
                    moto_gaps.append(f"{s.name} does not implement {action} (or "
                                     "CreateTrafficMirrorSession): compared with its "
                                     "DescribeTrafficMirrorFilters/Targets (100 items) instead")
                    continue
                results.append(bench_describe(args, s, action, tag, workdir))
            # Creates last: they change what the describes list.
            filter_res = bench_create_filters(args, s, workdir)
            results.append(filter_res)
            if s.supports["CreateTrafficMirrorFilterRule"]:
                results.append(bench_create_rules(args, s, workdir))
            else:
                results.append(Result(s.name, "CreateTrafficMirrorFilterRule", "-",
                                      implemented=False, note=f"not implemented by {s.name}"))
                moto_gaps.append(f"{s.name} does not implement CreateTrafficMirrorFilterRule: "
                                 "compared with its CreateTrafficMirrorFilter instead")
        ok = print_report(args, info, results, moto_gaps)
        if args.baseline:
            ok = print_baseline_report(args, results) and ok
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump({"machine": info, "duration_s": args.duration,
                           "connections": args.connections, "wrk_threads": args.threads,
                           "results": [r.__dict__ for r in results], "goals_met": ok}, f, indent=2)
        return 3 if args.require_goals and not ok else 0
    except BenchError as e:
        print(f"api_benchmark: {e}", file=sys.stderr)
        return 1
    finally:
        for p in procs:
            stop_process(p)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
