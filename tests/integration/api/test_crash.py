"""Crash durability: kill -9 the server while 4 threads mutate through boto3 (no retries), restart
it on the same data directory and check that every acknowledged mutation survived.

* every acknowledged create exists (with the acknowledged attributes),
* every acknowledged delete is gone (including ENI-delete cascades to sessions),
* every acknowledged modify is visible,
* a mutation whose answer never came (in flight at the kill) may or may not have happened:
  the resource must be in its before- or after-state, nothing else,
* ``PRAGMA integrity_check`` on DIR/tmirror.db is 'ok'.

Three rounds with random (bounded) kill delays on one data directory; each round re-checks the
expectations of the previous ones.
"""

import os
import random
import sqlite3
import threading
import time
import unittest

import botocore.exceptions
import botocore.parsers

from harness import NLB_ARN, TmirrorServer, describe_all, external_endpoint

ROUNDS = 3
THREADS = 4
KILL_DELAY = (0.4, 2.5)      # seconds after the workers start
WORKER_TIME_LIMIT = 30.0     # a worker stops by itself after this long
WORKER_OP_LIMIT = 200000   # the time limit is what normally bounds a worker


class Unknown(Exception):
    """The request may or may not have been applied (no answer, or a 5xx)."""


def call(fn, **kw):
    """Returns the response; re-raises a 4xx ClientError (definite answer); Unknown otherwise."""
    try:
        return fn(**kw)
    except botocore.exceptions.ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if 400 <= status < 500:
            raise
        raise Unknown(str(e))
    except (botocore.exceptions.BotoCoreError, botocore.parsers.ResponseParserError,
            OSError) as e:
        # No answer, or one cut off by the kill (an empty body after the status line).
        raise Unknown(repr(e))


# -- views: what a resource looks like, reduced to the attributes the workers change -------------
def tags(obj):
    return tuple(sorted((t["Key"], t["Value"]) for t in obj.get("Tags", [])))


def filter_view(f):
    return {"desc": f.get("Description"), "services": tuple(sorted(f.get("NetworkServices", []))),
            "tags": tags(f)}


def rule_view(r):
    return {"filter": r["TrafficMirrorFilterId"], "direction": r["TrafficDirection"],
            "number": r["RuleNumber"], "action": r["RuleAction"], "desc": r.get("Description")}


def session_view(s):
    return {"eni": s["NetworkInterfaceId"], "target": s["TrafficMirrorTargetId"],
            "filter": s["TrafficMirrorFilterId"], "number": s["SessionNumber"],
            "plen": s.get("PacketLength"), "vni": s["VirtualNetworkId"],
            "desc": s.get("Description"), "tags": tags(s)}


def target_view(t):
    return {"nlb": t.get("NetworkLoadBalancerArn"), "desc": t.get("Description")}


def eni_view(e):
    return {"ip": e.get("PrivateIpAddress"), "desc": e.get("Description")}


def observe(client):
    obs = {}
    for t in describe_all(client, "describe_traffic_mirror_targets", "TrafficMirrorTargets"):
        obs[t["TrafficMirrorTargetId"]] = target_view(t)
    for f in describe_all(client, "describe_traffic_mirror_filters", "TrafficMirrorFilters"):
        obs[f["TrafficMirrorFilterId"]] = filter_view(f)
        for r in f.get("IngressFilterRules", []) + f.get("EgressFilterRules", []):
            obs[r["TrafficMirrorFilterRuleId"]] = rule_view(r)
    for s in describe_all(client, "describe_traffic_mirror_sessions", "TrafficMirrorSessions"):
        obs[s["TrafficMirrorSessionId"]] = session_view(s)
    for e in describe_all(client, "describe_network_interfaces", "NetworkInterfaces"):
        obs[e["NetworkInterfaceId"]] = eni_view(e)
    return obs


class Worker(threading.Thread):
    def __init__(self, name, client, subnet, seed, ip_base):
        super().__init__(name=name, daemon=True)
        self.c = client
        self.subnet = subnet
        self.rnd = random.Random(seed)
        self.ip_base = ip_base
        self.ip_n = 0
        self.model = {}        # rid -> view (None = acknowledged deleted)
        self.kind = {}         # rid -> 'filter' | 'rule' | 'session' | 'target' | 'eni'
        self.uncertain = {}    # rid -> (before, after) of the op that never got an answer
        self.acked = 0
        self.errors = []       # unexpected responses (assertion material)
        self.pending = None
        self.counter = 0
        self.stopped = threading.Event()  # set: stop after the operation under way

    # -- helpers -------------------------------------------------------------------------------
    def live(self, kind):
        return [r for r, k in self.kind.items() if k == kind and self.model.get(r) is not None]

    def sessions_of(self, eni):
        return [s for s in self.live("session") if self.model[s]["eni"] == eni]

    def rules_of(self, fid):
        return [r for r in self.live("rule") if self.model[r]["filter"] == fid]

    def ack(self, rid, kind, view):
        self.kind[rid] = kind
        self.model[rid] = view
        self.acked += 1

    def expect(self, what, got, want):
        if got != want:
            self.errors.append("%s: response %r, expected %r" % (what, got, want))

    def next_ip(self):
        self.ip_n += 1
        return "10.%d.%d.%d" % (self.ip_base, self.ip_n // 250, self.ip_n % 250 + 2)

    def uniq(self):
        self.counter += 1
        return "%s-%d" % (self.name, self.counter)

    # -- operations: each returns after updating the model, or raises Unknown / ClientError ----
    def op_create_eni(self):
        ip = self.next_ip()
        e = call(self.c.create_network_interface, SubnetId=self.subnet, PrivateIpAddress=ip,
                 Description=self.uniq())["NetworkInterface"]
        self.ack(e["NetworkInterfaceId"], "eni", eni_view(e))

    def op_create_target(self):
        desc = self.uniq()
        t = call(self.c.create_traffic_mirror_target, NetworkLoadBalancerArn=NLB_ARN,
                 Description=desc)["TrafficMirrorTarget"]
        self.expect("create target", target_view(t), {"nlb": NLB_ARN, "desc": desc})
        self.ack(t["TrafficMirrorTargetId"], "target", target_view(t))

    def op_create_filter(self):
        desc = self.uniq()
        f = call(self.c.create_traffic_mirror_filter, Description=desc)["TrafficMirrorFilter"]
        self.expect("create filter", filter_view(f), {"desc": desc, "services": (), "tags": ()})
        self.ack(f["TrafficMirrorFilterId"], "filter", filter_view(f))

    def op_modify_services(self):
        fid = self.rnd.choice(self.live("filter"))
        before = self.model[fid]
        add = not before["services"]
        after = dict(before, services=("amazon-dns",) if add else ())
        self.pending = {fid: (before, after)}
        kw = {"AddNetworkServices" if add else "RemoveNetworkServices": ["amazon-dns"]}
        f = call(self.c.modify_traffic_mirror_filter_network_services, TrafficMirrorFilterId=fid,
                 **kw)["TrafficMirrorFilter"]
        self.expect("modify services", filter_view(f), after)
        self.ack(fid, "filter", after)

    def op_tag(self):
        rid = self.rnd.choice(self.live("filter") + self.live("session"))
        before = self.model[rid]
        val = self.uniq()
        after = dict(before, tags=tuple(sorted(dict(before["tags"], k=val).items())))
        self.pending = {rid: (before, after)}
        call(self.c.create_tags, Resources=[rid], Tags=[{"Key": "k", "Value": val}])
        self.ack(rid, self.kind[rid], after)

    def op_create_rule(self):
        fids = [f for f in self.live("filter") if len(self.rules_of(f)) < 10]
        if not fids:
            return self.op_create_filter()
        fid = self.rnd.choice(fids)
        used = {self.model[r]["number"] for r in self.rules_of(fid)}
        number = self.rnd.choice([n for n in range(1, 40) if n not in used])
        desc = self.uniq()
        r = call(self.c.create_traffic_mirror_filter_rule, TrafficMirrorFilterId=fid,
                 TrafficDirection="ingress", RuleNumber=number, RuleAction="accept",
                 SourceCidrBlock="0.0.0.0/0", DestinationCidrBlock="10.0.0.0/8",
                 Description=desc)["TrafficMirrorFilterRule"]
        want = {"filter": fid, "direction": "ingress", "number": number, "action": "accept",
                "desc": desc}
        self.expect("create rule", rule_view(r), want)
        self.ack(r["TrafficMirrorFilterRuleId"], "rule", want)

    def op_modify_rule(self):
        rid = self.rnd.choice(self.live("rule"))
        before = self.model[rid]
        after = dict(before, action="reject" if before["action"] == "accept" else "accept",
                     desc=self.uniq())
        self.pending = {rid: (before, after)}
        r = call(self.c.modify_traffic_mirror_filter_rule, TrafficMirrorFilterRuleId=rid,
                 RuleAction=after["action"], Description=after["desc"])["TrafficMirrorFilterRule"]
        self.expect("modify rule", rule_view(r), after)
        self.ack(rid, "rule", after)

    def op_delete_rule(self):
        rid = self.rnd.choice(self.live("rule"))
        self.pending = {rid: (self.model[rid], None)}
        call(self.c.delete_traffic_mirror_filter_rule, TrafficMirrorFilterRuleId=rid)
        self.ack(rid, "rule", None)

    def op_delete_filter(self):
        used = {self.model[s]["filter"] for s in self.live("session")}
        free = [f for f in self.live("filter") if f not in used]
        if not free:
            return self.op_create_filter()
        fid = self.rnd.choice(free)
        rules = self.rules_of(fid)
        self.pending = {r: (self.model[r], None) for r in rules + [fid]}
        call(self.c.delete_traffic_mirror_filter, TrafficMirrorFilterId=fid)
        for r in rules:
            self.model[r] = None
        self.ack(fid, "filter", None)

    def op_create_session(self):
        enis = [e for e in self.live("eni") if len(self.sessions_of(e)) < 3]
        if not enis or not self.live("filter"):
            return self.op_create_eni() if not enis else self.op_create_filter()
        eni = self.rnd.choice(enis)
        used = {self.model[s]["number"] for s in self.sessions_of(eni)}
        number = self.rnd.choice([n for n in range(1, 10) if n not in used])
        fid = self.rnd.choice(self.live("filter"))
        tmt = self.rnd.choice(self.live("target"))
        kw = {"NetworkInterfaceId": eni, "TrafficMirrorTargetId": tmt,
              "TrafficMirrorFilterId": fid, "SessionNumber": number, "Description": self.uniq()}
        if self.rnd.random() < 0.5:
            kw["PacketLength"] = self.rnd.randint(1, 8500)
        if self.rnd.random() < 0.5:
            kw["VirtualNetworkId"] = self.rnd.randint(1, 16777215)
        s = call(self.c.create_traffic_mirror_session, **kw)["TrafficMirrorSession"]
        got = session_view(s)
        want = {"eni": eni, "target": tmt, "filter": fid, "number": number,
                "plen": kw.get("PacketLength"), "vni": kw.get("VirtualNetworkId", got["vni"]),
                "desc": kw["Description"], "tags": ()}
        self.expect("create session", got, want)
        self.ack(s["TrafficMirrorSessionId"], "session", want)

    def op_modify_session(self):
        sid = self.rnd.choice(self.live("session"))
        before = self.model[sid]
        used = {self.model[s]["number"] for s in self.sessions_of(before["eni"])}
        number = self.rnd.choice([n for n in range(1, 10) if n not in used] or [before["number"]])
        after = dict(before, number=number, desc=self.uniq(),
                     vni=self.rnd.randint(1, 16777215), filter=self.rnd.choice(
                         self.live("filter")))
        kw = {"TrafficMirrorSessionId": sid, "SessionNumber": number,
              "Description": after["desc"], "VirtualNetworkId": after["vni"],
              "TrafficMirrorFilterId": after["filter"]}
        if before["plen"] is None:
            after["plen"] = kw["PacketLength"] = self.rnd.randint(1, 8500)
        else:
            after["plen"] = None
            kw["RemoveFields"] = ["packet-length"]
        self.pending = {sid: (before, after)}
        s = call(self.c.modify_traffic_mirror_session, **kw)["TrafficMirrorSession"]
        self.expect("modify session", session_view(s), after)
        self.ack(sid, "session", after)

    def op_delete_session(self):
        sid = self.rnd.choice(self.live("session"))
        self.pending = {sid: (self.model[sid], None)}
        call(self.c.delete_traffic_mirror_session, TrafficMirrorSessionId=sid)
        self.ack(sid, "session", None)

    def op_delete_eni(self):
        eni = self.rnd.choice(self.live("eni"))
        sessions = self.sessions_of(eni)
        self.pending = {r: (self.model[r], None) for r in sessions + [eni]}
        call(self.c.delete_network_interface, NetworkInterfaceId=eni)
        for s in sessions:
            self.model[s] = None
        self.ack(eni, "eni", None)

    def choose(self):
        ops = [(self.op_create_filter, 2), (self.op_create_eni, 2), (self.op_create_rule, 4),
               (self.op_create_session, 4)]
        if self.live("filter"):
            ops += [(self.op_modify_services, 2), (self.op_delete_filter, 1), (self.op_tag, 1)]
        if self.live("rule"):
            ops += [(self.op_modify_rule, 3), (self.op_delete_rule, 1)]
        if self.live("session"):
            ops += [(self.op_modify_session, 4), (self.op_delete_session, 1)]
        if len(self.live("eni")) > 2:
            ops += [(self.op_delete_eni, 1)]
        fns, weights = zip(*ops)
        return self.rnd.choices(fns, weights)[0]

    def run(self):
        deadline = time.time() + WORKER_TIME_LIMIT
        try:
            self.pending = None
            self.op_create_target()
            for _ in range(WORKER_OP_LIMIT):
                if time.time() > deadline or self.stopped.is_set():
                    break
                self.pending = None
                op = self.choose()
                try:
                    op()
                except botocore.exceptions.ClientError as e:
                    # A definite 4xx answer: nothing changed, but the worker only sends valid
                    # requests, so this is a server (or model) bug.
                    self.errors.append("%s rejected: %s" % (op.__name__, e))
            self.pending = None
        except Unknown:
            if self.pending:
                self.uncertain.update(self.pending)
        except Exception as e:  # a bug in the worker itself must fail the test
            self.errors.append("worker crashed: %r" % (e,))


def verify_survived(test, client, expected, uncertain, label):
    """Asserts that every acknowledged state is what client describes now, and that each
    resource of an unanswered operation is in its before- or after-state; the state found for
    the latter joins `expected` (whichever it is, it must stay so from now on)."""
    obs = observe(client)
    problems = []
    for rid, want in sorted(expected.items()):
        got = obs.get(rid)
        if got != want:
            problems.append("%s: %s is %r, acknowledged state %r" % (label, rid, got, want))
    for rid, (before, after) in sorted(uncertain.items()):
        got = obs.get(rid)
        if got != before and got != after:
            problems.append("%s: %s is %r; in-flight op allowed only %r or %r"
                            % (label, rid, got, before, after))
        expected[rid] = got
    test.assertEqual(problems, [], "\n".join(problems[:30]))


def integrity_check(db_path):
    last = None
    for _ in range(20):
        try:
            con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True, timeout=10)
            try:
                return con.execute("PRAGMA integrity_check").fetchall()
            finally:
                con.close()
        except sqlite3.OperationalError as e:
            last = e
            time.sleep(0.25)
    raise AssertionError("cannot run integrity_check on %s: %s" % (db_path, last))


@unittest.skipIf(external_endpoint(), "needs to start and kill the server itself")
class CrashDurability(unittest.TestCase):
    def setUp(self):
        self.server = TmirrorServer()
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def verify(self, client, expected, uncertain, label):
        verify_survived(self, client, expected, uncertain, label)

    def test_kill9_during_mutations(self):
        seed = int(os.environ.get("TMIRROR_CRASH_SEED") or random.randrange(1 << 30))
        rnd = random.Random(seed)
        print("\ncrash test seed %d (set TMIRROR_CRASH_SEED to repeat)" % seed, flush=True)
        subnet = "subnet-0123456789abcdef0"
        expected = {}
        for rnd_no in range(ROUNDS):
            clients = [self.server.client(retries=1, timeout=5) for _ in range(THREADS)]
            workers = [Worker("r%dt%d" % (rnd_no, i), clients[i], subnet,
                              rnd.random(), 16 + rnd_no * THREADS + i)
                       for i in range(THREADS)]
            for w in workers:
                w.start()
            delay = rnd.uniform(*KILL_DELAY)
            time.sleep(delay)
            running = sum(w.is_alive() for w in workers)
            self.server.kill9()
            for w in workers:
                w.join(WORKER_TIME_LIMIT + 30)
                self.assertFalse(w.is_alive(), "worker %s did not stop" % w.name)
            errors = [e for w in workers for e in w.errors]
            self.assertEqual(errors, [], "\n".join(errors[:20]))
            self.assertGreater(running, 0, "all workers had stopped before the kill")
            acked = sum(w.acked for w in workers)
            self.assertGreater(acked, 0, "no mutation was acknowledged within %.2f s" % delay)

            self.server.restart()
            uncertain = {}
            for w in workers:
                expected.update(w.model)
                uncertain.update(w.uncertain)
            for rid in uncertain:
                expected.pop(rid, None)
            client = self.server.client(retries=3, timeout=30)
            self.verify(client, expected, uncertain,
                        "round %d (kill after %.2f s, %d acked)" % (rnd_no + 1, delay, acked))
            if self.server.db_path:  # SQLite's file (PostgreSQL's pages are the server's)
                self.assertEqual(integrity_check(self.server.db_path), [("ok",)])

        # Orderly stop: everything still there after SIGTERM and a restart.
        self.server.stop()
        if self.server.db_path:
            self.assertEqual(integrity_check(self.server.db_path), [("ok",)])
        self.server.restart()
        self.verify(self.server.client(retries=3), expected, {}, "after SIGTERM")


if __name__ == "__main__":
    unittest.main()
