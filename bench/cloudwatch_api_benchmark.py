#!/usr/bin/env python3
"""GetMetricData through tmirror's CloudWatch API (issue 14): 100 series x 1 day at Period=60,
asked of a real `tmirror server` in each wire form, on SQLite and on PostgreSQL.

Goal (issue 14): at most 50 ms per GetMetricData call of 100 series x 1 day at 1-minute
resolution, on this machine.

For each store, bench/cloudwatch_api_store.cc seeds a data directory (or a PostgreSQL database
of the run's own, fsync on) with AWS/EC2 NetworkPacketsMirrorIn of 100 traffic mirror sessions
(dimension TrafficMirrorSessionId), a count for every minute of the last whole UTC day (--days
N: of the N last days), then a Release `tmirror server --listen 127.0.0.1:0` serves it. A call
is 100 MetricDataQueries (Period 60, Stat Sum) over the day: 144,000 datapoints, more than
CloudWatch's default MaxDatapoints (100,800), so a call is two requests, the second with the
first's NextToken; a call's time is both requests', and each request's time is shown too. The
forms:

  boto3            get_metric_data end to end (signing, sending, botocore's parsing), in the
                   protocol this botocore prefers (JSON 1.0 since botocore 1.37; the Query
                   protocol before), and in JSON 1.0 as well where its model has it;
  raw JSON 1.0     X-Amz-Target, signed once with botocore's SigV4Auth, sent with http.client
                   over one keep-alive connection: a request's time runs to its answer's
                   last byte (the server's time plus the transfer), "ttfb" to its first
                   byte, and the client's parse (json.loads) after is shown apart;
  raw Query        the form-encoded request the aws CLI v2 sends, XML answer (ElementTree);
  raw RPC v2 CBOR  /service/GraniteServiceVersion20100801/operation/GetMetricData, CBOR answer;
  raw JSON 1.0, 1 request   the same with MaxDatapoints 144,000: what the second page costs.

Each form's first answer is checked whole against the seeded values (every series, every
minute), every later one for its completeness (1,440 minutes of each series) and a few values,
so the benchmark cannot pass on an empty or partial answer: a wrong one ends the run, status 1.
In the same run, with the server up, `cloudwatch_api_store read` times in-process what the
server does besides HTTP and SigV4: the store read alone (the "peer" figure), GetMetricData's
query code, and the encoding of the answer in each form; the report gives the API/store ratio.

Prints median and p95 per form, datapoints per second, and the goal's verdict, judged on the raw
JSON 1.0 call (the server's own time as a client sees it without parsing).

    python3 bench/cloudwatch_api_benchmark.py --tmirror build/bench/tmirror \\
        --store-tool build/bench/bench/cloudwatch_api_store [--quick] [--runs 20] [--days 1]
        [--no-postgres] [--require-goal]

--quick: 3 series, 3 runs, no goal judged (a smoke run: bench_cloudwatch_api_smoke in ctest).
Needs boto3 in this python3, and PostgreSQL (Debian's postgresql) unless --no-postgres.
"""
from __future__ import annotations

import argparse
import datetime
import functools
import gzip
import http.client
import json
import math
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import xml.etree.ElementTree as ET

import boto3
import botocore
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))

import pg_server  # noqa: E402

REGION = "us-east-1"
NAMESPACE = "AWS/EC2"
METRIC = "NetworkPacketsMirrorIn"
DIMENSION = "TrafficMirrorSessionId"
TARGET_PREFIX = "GraniteServiceVersion20100801."
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/GetMetricData"
XMLNS = "{http://monitoring.amazonaws.com/doc/2010-08-01/}"
GOAL_MS = 50.0


class BenchError(RuntimeError):
    pass


# ---------------------------------------------------------------- the seeded data


def session_id(i: int) -> str:
    """The same ids as cloudwatch_api_store.cc's sessionId()."""
    return "tms-0be%014x" % i


def minute_value(minute: int, series: int) -> int:
    """The same counts as cloudwatch_api_store.cc's minuteValue()."""
    return 100000 + (minute * 7919 + series * 104729) % 900000


def queries(series: int) -> list[dict]:
    return [{"Id": f"m{i}", "MetricStat": {
        "Metric": {"Namespace": NAMESPACE, "MetricName": METRIC,
                   "Dimensions": [{"Name": DIMENSION, "Value": session_id(i)}]},
        "Period": 60, "Stat": "Sum"}} for i in range(series)]


def verify(results: dict[str, tuple[list[int], list[float]]], series: int, day: int,
           full: bool) -> None:
    """results: Id -> (timestamps, values) of a whole call (its pages put together). Every series
    must have the day's 1,440 minutes; `full` compares every value, else a few."""
    if sorted(results) != sorted(f"m{i}" for i in range(series)):
        raise BenchError(f"answer has ids {sorted(results)[:5]}..., expected m0..m{series - 1}")
    for i in range(series):
        stamps, values = results[f"m{i}"]
        if len(stamps) != 1440 or len(values) != 1440:
            raise BenchError(f"m{i}: {len(stamps)} timestamps and {len(values)} values, "
                             f"expected 1440")
        picks = range(1440) if full else (0, 719, 1439)
        for k in picks:
            t = int(stamps[k])
            if t % 60 or not day <= t < day + 86400:
                raise BenchError(f"m{i}: timestamp {stamps[k]} is not a minute of the day")
            if values[k] != minute_value(t // 60, i):
                raise BenchError(f"m{i} at {t}: {values[k]}, expected {minute_value(t // 60, i)}")
        if full and len(set(int(t) for t in stamps)) != 1440:
            raise BenchError(f"m{i}: repeated timestamps")


def merge_page(into: dict, page: list[tuple[str, list, list, str]]) -> None:
    for rid, stamps, values, _status in page:
        t, v = into.setdefault(rid, ([], []))
        t.extend(stamps)
        v.extend(values)


# ---------------------------------------------------------------- CBOR (what RPC v2 needs)


class Tag:
    def __init__(self, tag: int, value):
        self.tag, self.value = tag, value


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for info, size, fmt in ((24, 1, ">B"), (25, 2, ">H"), (26, 4, ">I"), (27, 8, ">Q")):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + struct.pack(fmt, n)
    raise ValueError("integer too large for CBOR")


def cbor_encode(v) -> bytes:
    if isinstance(v, bool):
        return b"\xf5" if v else b"\xf4"
    if v is None:
        return b"\xf6"
    if isinstance(v, int):
        return _cbor_head(0, v) if v >= 0 else _cbor_head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, str):
        b = v.encode()
        return _cbor_head(3, len(b)) + b
    if isinstance(v, bytes):
        return _cbor_head(2, len(v)) + v
    if isinstance(v, list):
        return _cbor_head(4, len(v)) + b"".join(cbor_encode(x) for x in v)
    if isinstance(v, dict):
        return _cbor_head(5, len(v)) + b"".join(cbor_encode(k) + cbor_encode(x)
                                                for k, x in v.items())
    if isinstance(v, Tag):
        return _cbor_head(6, v.tag) + cbor_encode(v.value)
    raise TypeError(f"no CBOR for {type(v)}")


def cbor_decode(data: bytes):
    """Definite and indefinite lengths; tags are dropped (a timestamp's tag 1 keeps its number)."""
    pos = 0

    def item():
        nonlocal pos
        ib = data[pos]
        pos += 1
        major, info = ib >> 5, ib & 31
        if major == 7:
            if info == 20:
                return False
            if info == 21:
                return True
            if info in (22, 23):
                return None
            if info == 25:
                pos += 2
                return struct.unpack(">e", data[pos - 2:pos])[0]
            if info == 26:
                pos += 4
                return struct.unpack(">f", data[pos - 4:pos])[0]
            if info == 27:
                pos += 8
                return struct.unpack(">d", data[pos - 8:pos])[0]
            if info == 31:
                return StopIteration
            raise BenchError(f"CBOR: simple value {info}")
        if info < 24:
            n = info
        elif info <= 27:
            size = 1 << (info - 24)
            n = int.from_bytes(data[pos:pos + size], "big")
            pos += size
        elif info == 31:
            n = None
        else:
            raise BenchError(f"CBOR: bad additional information {info}")
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major in (2, 3):
            if n is None:
                parts = []
                while (p := item()) is not StopIteration:
                    parts.append(p)
                return (b"" if major == 2 else "").join(parts)
            raw = data[pos:pos + n]
            pos += n
            return raw if major == 2 else raw.decode()
        if major == 4:
            if n is None:
                out = []
                while (x := item()) is not StopIteration:
                    out.append(x)
                return out
            return [item() for _ in range(n)]
        if major == 5:
            out = {}
            while n is None or len(out) < n:
                k = item()
                if k is StopIteration:
                    break
                out[k] = item()
            return out
        return item()  # major 6: a tag

    value = item()
    if pos != len(data):
        raise BenchError(f"CBOR: {len(data) - pos} bytes after the item")
    return value


# ---------------------------------------------------------------- the server


def stop_process(proc: subprocess.Popen | None) -> None:
    """Ends a process this script started (its own process group), by its id."""
    if proc is None or proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


class Server:
    def __init__(self, binary: str, workdir: str, data_dir: str, store_args: list[str]):
        out = subprocess.run([binary, "server", "--data-dir", data_dir, *store_args,
                              "--create-access-key"],
                             capture_output=True, text=True, timeout=60, check=True)
        key = json.loads(out.stdout.strip().splitlines()[-1])
        self.credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        self.log_path = os.path.join(workdir, "tmirror.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, "server", "--data-dir", data_dir, *store_args,
                 "--listen", "127.0.0.1:0"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                self.endpoint = f"http://127.0.0.1:{self.port}"
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        stop_process(self.proc)
        raise BenchError(f"tmirror server did not start: {self.log()[-2000:]}")

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def close(self):
        stop_process(self.proc)


# ---------------------------------------------------------------- the forms


class RawForm:
    """A wire form sent as signed raw HTTP: build(token) -> (path, body, extra headers) and
    parse(body) -> ([(id, timestamps, values, status)], next token)."""

    name = ""

    def __init__(self, server: Server, series: int, day: int):
        self.server, self.series, self.day = server, series, day
        self.conn: http.client.HTTPConnection | None = None
        self.signed: dict[str | None, tuple[str, bytes, dict]] = {}

    def request(self, token: str | None) -> tuple[str, bytes, dict]:
        """Signed once per distinct request (a signature holds for minutes; a run takes less)."""
        if token not in self.signed:
            path, body, headers = self.build(token)
            req = AWSRequest(method="POST", url=self.server.endpoint + path, data=body,
                             headers={"Host": f"127.0.0.1:{self.server.port}", **headers})
            SigV4Auth(self.server.credentials, "monitoring", REGION).add_auth(req)
            self.signed[token] = (path, body, dict(req.headers.items()))
        return self.signed[token]

    def send(self, token: str | None) -> tuple[bytes, float, float]:
        """One request: (answer body, ms to its first byte, ms to its last)."""
        path, body, headers = self.request(token)
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
            try:
                t0 = time.perf_counter()
                self.conn.request("POST", path, body=body, headers=headers)
                resp = self.conn.getresponse()
                t1 = time.perf_counter()
                data = resp.read()
                t2 = time.perf_counter()
                break
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                # The server closed an idle keep-alive connection: once more, on a new one.
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        if resp.status != 200:
            raise BenchError(f"{self.name}: HTTP {resp.status}: {data[:500]!r}")
        return data, (t1 - t0) * 1e3, (t2 - t0) * 1e3

    def close(self):
        if self.conn is not None:
            self.conn.close()


class RawJson(RawForm):
    name = "raw JSON 1.0"

    def __init__(self, server: Server, series: int, day: int, max_datapoints: int = 0):
        super().__init__(server, series, day)
        self.max_datapoints = max_datapoints
        if max_datapoints:
            self.name = "raw JSON 1.0, 1 request"

    def build(self, token):
        doc = {"MetricDataQueries": queries(self.series), "StartTime": self.day,
               "EndTime": self.day + 86400}
        if self.max_datapoints:
            doc["MaxDatapoints"] = self.max_datapoints
        if token:
            doc["NextToken"] = token
        return "/", json.dumps(doc).encode(), {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": TARGET_PREFIX + "GetMetricData"}

    def parse(self, body):
        doc = json.loads(body)
        return [(r["Id"], r["Timestamps"], r["Values"], r["StatusCode"])
                for r in doc["MetricDataResults"]], doc.get("NextToken")


def iso(t: int) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=4096)
def iso_seconds(text: str) -> int:
    return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


class RawQuery(RawForm):
    name = "raw Query (XML)"

    def build(self, token):
        params = {"Action": "GetMetricData", "Version": "2010-08-01",
                  "StartTime": iso(self.day), "EndTime": iso(self.day + 86400)}
        for n, q in enumerate(queries(self.series), 1):
            at = f"MetricDataQueries.member.{n}."
            stat = q["MetricStat"]
            params[at + "Id"] = q["Id"]
            params[at + "MetricStat.Metric.Namespace"] = NAMESPACE
            params[at + "MetricStat.Metric.MetricName"] = METRIC
            d = stat["Metric"]["Dimensions"][0]
            params[at + "MetricStat.Metric.Dimensions.member.1.Name"] = d["Name"]
            params[at + "MetricStat.Metric.Dimensions.member.1.Value"] = d["Value"]
            params[at + "MetricStat.Period"] = "60"
            params[at + "MetricStat.Stat"] = "Sum"
        if token:
            params["NextToken"] = token
        return "/", urllib.parse.urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def parse(self, body):
        root = ET.fromstring(body)
        result = root.find(XMLNS + "GetMetricDataResult")
        if result is None:
            raise BenchError(f"{self.name}: no GetMetricDataResult in {body[:300]!r}")
        out = []
        for m in result.find(XMLNS + "MetricDataResults"):
            stamps = [iso_seconds(t.text) for t in m.find(XMLNS + "Timestamps")]
            values = [float(v.text) for v in m.find(XMLNS + "Values")]
            out.append((m.findtext(XMLNS + "Id"), stamps, values,
                        m.findtext(XMLNS + "StatusCode")))
        return out, result.findtext(XMLNS + "NextToken")


class RawCbor(RawForm):
    name = "raw RPC v2 CBOR"

    def build(self, token):
        doc = {"MetricDataQueries": queries(self.series), "StartTime": Tag(1, self.day),
               "EndTime": Tag(1, self.day + 86400)}
        if token:
            doc["NextToken"] = token
        return CBOR_PATH, cbor_encode(doc), {
            "Content-Type": "application/cbor", "Accept": "application/cbor",
            "smithy-protocol": "rpc-v2-cbor"}

    def parse(self, body):
        doc = cbor_decode(body)
        return [(r["Id"], r["Timestamps"], r["Values"], r["StatusCode"])
                for r in doc["MetricDataResults"]], doc.get("NextToken")


def model_with_only(protocol: str, into: str) -> bool:
    """A copy of this botocore's CloudWatch model whose only protocol is `protocol`, under
    `into` (an AWS_DATA_PATH directory); False when the model does not list it."""
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


def boto3_client(server: Server, data_path: str | None):
    session = botocore.session.get_session()
    if data_path:
        session.set_config_variable("data_path", data_path)
        session.get_component("data_loader").search_paths.insert(0, data_path)
    return boto3.session.Session(botocore_session=session).client(
        "cloudwatch", endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id=server.credentials.access_key,
        aws_secret_access_key=server.credentials.secret_key,
        config=Config(retries={"max_attempts": 1}, read_timeout=300))


class Boto3Form:
    def __init__(self, client, series: int, day: int):
        self.client, self.series, self.day = client, series, day
        model = client.meta.service_model
        # The protocol botocore speaks: the first of its priorities the model lists (botocore
        # 1.37+), else the model's only one.
        self.protocol = getattr(model, "resolved_protocol", None) or model.protocol
        self.name = f"boto3 ({self.protocol})"
        self.queries = queries(series)
        self.start = datetime.datetime.fromtimestamp(day, datetime.timezone.utc)
        self.end = datetime.datetime.fromtimestamp(day + 86400, datetime.timezone.utc)

    def call(self):
        """A whole call, pages followed: (results by id, per-request ms, requests)."""
        results: dict = {}
        per_request = []
        token = None
        while True:
            kwargs = {"NextToken": token} if token else {}
            t0 = time.perf_counter()
            r = self.client.get_metric_data(MetricDataQueries=self.queries, StartTime=self.start,
                                            EndTime=self.end, **kwargs)
            per_request.append((time.perf_counter() - t0) * 1e3)
            merge_page(results, [(m["Id"], [int(t.timestamp()) for t in m["Timestamps"]],
                                  m["Values"], m["StatusCode"])
                                 for m in r["MetricDataResults"]])
            token = r.get("NextToken")
            if not token:
                return results, per_request


# ---------------------------------------------------------------- timing


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)] if s else float("nan")


def median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    return (s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2) if n else float("nan")


class Row:
    def __init__(self, name: str):
        self.name = name
        self.calls: list[float] = []  # ms per whole call (every page)
        self.requests: list[list[float]] = []  # ms of the call's 1st, 2nd... request
        self.ttfb: list[float] = []  # ms to the first byte, per request
        self.parse: list[float] = []  # ms of the client's parsing, per call
        self.pages = 0
        self.bytes = 0


def add_requests(row: Row, per_request: list[float]) -> None:
    for k, ms in enumerate(per_request):
        if k == len(row.requests):
            row.requests.append([])
        row.requests[k].append(ms)


def run_raw(form: RawForm, runs: int, warmup: int) -> Row:
    row = Row(form.name)
    for run in range(warmup + runs):
        token = None
        call_ms = parse_ms = 0.0
        results: dict = {}
        pages = nbytes = 0
        request_ms, ttfb_ms = [], []
        while True:
            body, first, last = form.send(token)
            t0 = time.perf_counter()
            page, token = form.parse(body)
            parse_ms += (time.perf_counter() - t0) * 1e3
            call_ms += last
            request_ms.append(last)
            ttfb_ms.append(first)
            pages += 1
            nbytes += len(body)
            merge_page(results, page)
            if not token:
                break
            if pages > 100:
                raise BenchError(f"{form.name}: more than 100 pages")
        verify(results, form.series, form.day, full=run == 0)
        if run >= warmup:
            row.calls.append(call_ms)
            row.parse.append(parse_ms)
            add_requests(row, request_ms)
            row.ttfb += ttfb_ms
        row.pages, row.bytes = pages, nbytes
    return row


def run_boto3(form: Boto3Form, runs: int, warmup: int) -> Row:
    row = Row(form.name)
    for run in range(warmup + runs):
        t0 = time.perf_counter()
        results, per_request = form.call()
        ms = (time.perf_counter() - t0) * 1e3
        verify(results, form.series, form.day, full=run == 0)
        if run >= warmup:
            row.calls.append(ms)
            add_requests(row, per_request)
        row.pages = len(per_request)
    return row


# ---------------------------------------------------------------- one store


def store_read(tool: str, data_dir: str, store_args: list[str], series: int, day: int,
               runs: int) -> dict:
    out = subprocess.run([tool, "read", "--data-dir", data_dir, *store_args, "--series",
                          str(series), "--day", str(day), "--runs", str(runs)],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise BenchError(f"cloudwatch_api_store read failed: {out.stderr.strip()}")
    lines = out.stdout.strip().splitlines()
    for line in lines[:-1]:
        print("  " + line.strip() if line.startswith(" ") else line)
    return json.loads(lines[-1].removeprefix("JSON "))


def bench_store(args, label: str, store_args: list[str]) -> bool:
    now = int(time.time())
    day = now // 86400 * 86400 - 86400  # the last whole UTC day
    first_day = day - (args.days - 1) * 86400
    workdir = tempfile.mkdtemp(prefix="tmirror-cw-bench-")
    data_dir = os.path.join(workdir, "tmirror-data")
    server = None
    forms: list = []
    data_path = os.path.join(workdir, "models")
    try:
        subprocess.run([args.store_tool, "seed", "--data-dir", data_dir, *store_args,
                        "--series", str(args.series), "--days", str(args.days),
                        "--first-day", str(first_day), "--now", str(now)], check=True,
                       timeout=1800)
        server = Server(args.tmirror, workdir, data_dir, store_args)
        points = args.series * 1440
        print(f"\n== GetMetricData through the API, {label}: {args.series} series x 1 day at "
              f"Period=60 ({points:,} datapoints a call), {args.runs} runs after "
              f"{args.warmup} warm-up; {args.days} day(s) stored ==")
        rows: list[Row] = []

        # boto3: the protocol it speaks (JSON 1.0 from botocore 1.37, the Query protocol
        # before), and JSON 1.0 where that is not it and its model has it.
        default = Boto3Form(boto3_client(server, None), args.series, day)
        boto_forms = [default]
        if default.protocol != "json":
            if model_with_only("json", os.path.join(data_path, "j")):
                boto_forms.append(Boto3Form(boto3_client(server, os.path.join(data_path, "j")),
                                            args.series, day))
            else:
                print(f"  boto3 (json): not measured: botocore {botocore.__version__}'s "
                      "CloudWatch model has no JSON 1.0 protocol (1.37 and later have it)")
        for f in boto_forms:
            rows.append(run_boto3(f, args.boto3_runs, min(args.warmup, 1)))
            print(f"  {f.name}: done", flush=True)
        # The raw forms; and JSON once more with a MaxDatapoints that holds the whole call, so
        # what the second page costs shows.
        raw_forms = [RawJson(server, args.series, day), RawQuery(server, args.series, day),
                     RawCbor(server, args.series, day)]
        if points > 100800:
            raw_forms.append(RawJson(server, args.series, day, max_datapoints=points))
        for f in raw_forms:
            forms.append(f)
            rows.append(run_raw(f, args.runs, args.warmup))
            print(f"  {f.name}: done", flush=True)

        # The peer figure, in the same run with the server up: the store read alone, the
        # query code and the encodings, in-process.
        peer = store_read(args.store_tool, data_dir, store_args, args.series, day, args.runs)
        return report(args, label, rows, peer, points)
    finally:
        for f in forms:
            f.close()
        if server is not None:
            server.close()
            if args.keep_log:
                print(server.log())
        shutil.rmtree(workdir, ignore_errors=True)


def report(args, label: str, rows: list[Row], peer: dict, points: int) -> bool:
    print()
    hdr = (f"{'form':26} {'req':>3} {'call ms':>8} {'p95 ms':>8} {'each request ms':>16} "
           f"{'ttfb ms':>8} {'parse ms':>9} {'MB':>5} {'Mpoints/s':>9}  <={GOAL_MS:g}ms")
    print(hdr)
    print("-" * len(hdr))
    verdict = None
    for r in rows:
        med = median(r.calls)
        each = "/".join(f"{median(k):.1f}" for k in r.requests)
        ttfb = f"{median(r.ttfb):8.2f}" if r.ttfb else f"{'':8}"
        parse = f"{median(r.parse):9.2f}" if r.parse else f"{'(in call)':>9}"
        mb = f"{r.bytes / 1e6:5.2f}" if r.bytes else f"{'':5}"
        met = med <= GOAL_MS
        print(f"{r.name:26} {r.pages:3d} {med:8.2f} {percentile(r.calls, 95):8.2f} {each:>16} "
              f"{ttfb} {parse} {mb} {points / med / 1e3:9.2f}  {'yes' if met else 'NO'}")
        if r.name == RawJson.name:
            verdict = (med, percentile(r.calls, 95), met)
    print("(req: requests per call; call ms: all of a call's requests, median of the runs, the "
          "raw forms' without the client's parse; each request ms: the 1st/2nd request's median; "
          "ttfb: to an answer's first byte, median; MB: a call's answers)")
    store_ms = peer["store_ms"]
    print(f"in-process, same run, server up: store read alone {store_ms:.2f} ms (best "
          f"{peer['store_best_ms']:.2f}); GetMetricData's query code {peer['query_ms']:.2f} ms "
          f"(best {peer['query_best_ms']:.2f}; {peer['pages']} page(s)); encoding JSON "
          f"{peer['encode_json_ms']:.2f}, Query {peer['encode_query_ms']:.2f}, CBOR "
          f"{peer['encode_cbor_ms']:.2f} ms (medians)")
    for r in rows:
        if r.name.startswith("raw"):
            print(f"  {r.name + ' / store read:':40} {median(r.calls) / store_ms:5.1f}x")
    med, p95, met = verdict
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.quick:
        print(f"goal ({label}): not judged in a --quick run (the answers were checked)")
        return True
    print(f"goal ({label}): GetMetricData of {args.series} series x 1 day at 1-minute "
          f"resolution <= {GOAL_MS:g} ms per call (raw JSON 1.0, CloudWatch's default "
          f"MaxDatapoints): median {med:.2f} ms, p95 {p95:.2f} ms -> "
          f"{'met' if met else 'NOT met'} (load average {load})")
    return met


# ---------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tmirror", default=os.path.join(REPO, "build/bench/tmirror"))
    ap.add_argument("--store-tool", default=os.path.join(REPO, "build/bench/bench/"
                                                               "cloudwatch_api_store"))
    ap.add_argument("--quick", action="store_true", help="3 series, 3 runs (a smoke run)")
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--days", type=int, default=1, help="days stored (1-14); a call reads one")
    ap.add_argument("--runs", type=int, default=20, help="timed calls per raw form")
    ap.add_argument("--boto3-runs", type=int, default=5, help="timed calls per boto3 form")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls first, per form")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    ap.add_argument("--keep-log", action="store_true", help="print the server's log at the end")
    ap.add_argument("--require-goal", action="store_true",
                    help="exit 3 when the goal is not met (default: report only)")
    args = ap.parse_args()
    if args.quick:
        args.series, args.runs, args.boto3_runs, args.warmup = 3, 3, 2, 1
    if not 1 <= args.series <= 500 or not 1 <= args.days <= 14 or args.runs < 1:
        ap.error("--series must be in [1, 500], --days in [1, 14], --runs at least 1")
    for tool in (args.tmirror, args.store_tool):
        if not os.access(tool, os.X_OK):
            print(f"cloudwatch_api_benchmark: {tool} not found: cmake --build build/bench "
                  "--target tmirror cloudwatch_api_store", file=sys.stderr)
            return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"machine: nproc={os.cpu_count()}; botocore {botocore.__version__}; python "
          f"{sys.version.split()[0]}")
    met = []
    try:
        met.append(bench_store(args, "SQLite", []))
        if not args.no_postgres:
            # The smoke run may share ctest's server; figures come from one of our own, fsync on.
            pg = pg_server.PostgresServer(durable=not args.quick)
            try:
                met.append(bench_store(args, "PostgreSQL", ["--database", pg.create_database()]))
            finally:
                pg.close()
    except (BenchError, subprocess.CalledProcessError) as e:
        print(f"cloudwatch_api_benchmark: FAILED: {e}", file=sys.stderr)
        return 1
    return 3 if args.require_goal and not all(met) else 0


if __name__ == "__main__":
    sys.exit(main())
