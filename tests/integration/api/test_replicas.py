"""Two `tmirror server` replicas on one PostgreSQL database, raced through boto3.

Each test sends concurrent requests spread over both replicas and checks the outcome a
single server would give: quotas and in-use checks hold, ClientToken idempotency holds, no two
sessions get one automatic VNI. These are races on the state, not on one process's locks.
Needs PostgreSQL (the run's server, or one this process starts).
"""

import concurrent.futures
import json
import os
import random
import subprocess
import threading
import time
import unittest
import urllib.request

import botocore.exceptions

from harness import (Fixtures, TmirrorServer, close_client, error_code, external_endpoint,
                     postgres, unique)
from test_crash import Worker, verify_survived

WORKERS = 50


@unittest.skipIf(external_endpoint(), "starts its own replicas")
class Replicas(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        url = postgres().create_database()
        cls.a = TmirrorServer(database_url=url)
        cls.addClassCleanup(cls.a.cleanup)
        cls.a.start()
        cls.b = TmirrorServer(database_url=url)
        cls.addClassCleanup(cls.b.cleanup)
        # The access key lives in the database: one key works on both replicas.
        cls.b.access_key, cls.b.secret_key = cls.a.access_key, cls.a.secret_key
        cls.b.start()
        cls.clients = [cls.a.client(timeout=60), cls.b.client(timeout=60)]
        for c in cls.clients:
            cls.addClassCleanup(close_client, c)
        cls.fx = Fixtures(cls.a, cls.clients[0])

    def agent_token(self):
        res = subprocess.run([os.environ["TMIRROR_BINARY"], "server", "--database",
                              self.a.database_url, "--create-agent-token"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=60, check=True)
        return res.stdout.strip().splitlines()[-1]

    def agent_request(self, server, path, token, body=None, timeout=30):
        req = urllib.request.Request(server.endpoint + path, method="POST" if body else "GET",
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"Authorization": "Bearer " + token,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, (json.loads(r.read() or b"null"))

    def race(self, calls):
        """Runs calls[i](client) for each i at once, client alternating between the replicas;
        returns [(result or None, error code or None)] in order."""
        start = threading.Barrier(len(calls))

        def one(i):
            client = self.clients[i % 2]
            start.wait()
            try:
                return calls[i](client), None
            except botocore.exceptions.ClientError as e:
                return None, error_code(e)

        with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(one, range(len(calls))))

    def test_the_sessions_per_interface_quota_holds_under_a_race(self):
        eni = self.fx.eni()
        target = self.fx.target()
        filter_id = self.fx.filter()

        def create(number):
            return lambda c: c.create_traffic_mirror_session(
                NetworkInterfaceId=eni, TrafficMirrorTargetId=target,
                TrafficMirrorFilterId=filter_id, SessionNumber=number
            )["TrafficMirrorSession"]["TrafficMirrorSessionId"]

        outcomes = self.race([create(n) for n in range(1, WORKERS + 1)])
        created = [r for r, e in outcomes if r]
        refused = [e for r, e in outcomes if e]
        self.assertEqual(len(created), 3, outcomes)
        self.assertEqual(set(refused), {"TrafficMirrorSessionsPerInterfaceLimitExceeded"},
                         outcomes)
        for client in self.clients:
            sessions = client.describe_traffic_mirror_sessions(
                Filters=[{"Name": "network-interface-id", "Values": [eni]}]
            )["TrafficMirrorSessions"]
            self.assertEqual(sorted(s["TrafficMirrorSessionId"] for s in sessions),
                             sorted(created))

    def test_a_client_token_makes_one_resource_whichever_replica_answers(self):
        token = unique("token")
        outcomes = self.race([
            (lambda c: c.create_traffic_mirror_filter(Description="once", ClientToken=token)
             ["TrafficMirrorFilter"]["TrafficMirrorFilterId"])
            for _ in range(WORKERS)])
        self.assertEqual([e for _, e in outcomes if e], [], outcomes)
        ids = {r for r, _ in outcomes}
        self.assertEqual(len(ids), 1, ids)
        described = self.clients[1].describe_traffic_mirror_filters(
            Filters=[{"Name": "description", "Values": ["once"]}])["TrafficMirrorFilters"]
        self.assertEqual([f["TrafficMirrorFilterId"] for f in described], list(ids))

    def test_automatic_vnis_never_collide(self):
        filter_id = self.fx.filter()
        enis = [self.fx.eni() for _ in range(WORKERS)]
        # A target takes 10 sources (AWS's quota): one target per 10 sessions.
        targets = [self.fx.target() for _ in range(WORKERS // 10)]

        def create(i):
            eni, target = enis[i], targets[i % len(targets)]
            return lambda c: c.create_traffic_mirror_session(
                NetworkInterfaceId=eni, TrafficMirrorTargetId=target,
                TrafficMirrorFilterId=filter_id, SessionNumber=1
            )["TrafficMirrorSession"]["VirtualNetworkId"]

        outcomes = self.race([create(i) for i in range(WORKERS)])
        self.assertEqual([e for _, e in outcomes if e], [], outcomes)
        vnis = [r for r, _ in outcomes]
        self.assertEqual(len(set(vnis)), WORKERS, sorted(vnis))

    def test_a_change_through_one_replica_reaches_an_agent_polling_the_other(self):
        token = self.agent_token()
        # A host registers through B (as an agent does), then long-polls B.
        _, reg = self.agent_request(self.b, "/agent/v1/register", token, {
            "HostKey": unique("host"), "Hostname": "web-1", "Role": "agent",
            "DnsResolvers": [], "Interfaces": [{"Name": "eth0", "MacAddress": "02:00:00:00:0a:01",
                                                "Mtu": 1500, "PrivateIpAddress": "10.9.0.5"}]})
        instance = reg["InstanceId"]
        eni = reg["NetworkInterfaces"][0]["NetworkInterfaceId"]
        _, state = self.agent_request(
            self.b, "/agent/v1/desired-state?instance-id=%s&revision=0&wait=0" % instance, token)
        have = state["Revision"]
        filter_id = self.fx.filter()
        delays = []
        for number in (1, 2, 3):
            target = self.fx.target()
            answer = {}

            def poll():
                answer["status"], answer["state"] = self.agent_request(
                    self.b, "/agent/v1/desired-state?instance-id=%s&revision=%d&wait=20"
                    % (instance, have), token)
                answer["at"] = time.monotonic()

            poller = threading.Thread(target=poll)
            poller.start()
            time.sleep(0.3)  # parked on B
            made = time.monotonic()
            self.clients[0].create_traffic_mirror_session(  # through A
                NetworkInterfaceId=eni, TrafficMirrorTargetId=target,
                TrafficMirrorFilterId=filter_id, SessionNumber=number)
            poller.join(30)
            self.assertEqual(answer.get("status"), 200, answer)
            self.assertGreater(answer["state"]["Revision"], have)
            have = answer["state"]["Revision"]
            sessions = [s for i in answer["state"]["NetworkInterfaces"]
                        for s in i["TrafficMirrorSessions"]]
            self.assertEqual(len(sessions), number, answer["state"])
            delays.append(answer["at"] - made)
        # The poll came back with the new state (a wait that ended with nothing would be a 204),
        # so the change arrived; how fast is the benchmark's to say.
        print("\n  change through A seen by a poll on B after %s ms"
              % ", ".join("%.0f" % (1000 * d) for d in delays))
        # B heard of A's commits through the database's change feed (LISTEN/NOTIFY).
        with urllib.request.urlopen(self.b.endpoint + "/metrics", timeout=10) as r:
            metrics = r.read().decode()
        heard = [float(line.split()[-1]) for line in metrics.splitlines()
                 if line.startswith("tmirror_database_change_notifications ")]
        self.assertTrue(heard and heard[0] >= 3, heard)

    def test_a_filter_deleted_on_one_replica_is_not_attached_on_the_other(self):
        for round_no in range(10):
            target = self.fx.target()  # up to 3 sources a round, 10 per target
            filter_id = self.fx.filter()
            enis = [self.fx.eni() for _ in range(3)]

            def attach(eni):
                return lambda c: c.create_traffic_mirror_session(
                    NetworkInterfaceId=eni, TrafficMirrorTargetId=target,
                    TrafficMirrorFilterId=filter_id, SessionNumber=1
                )["TrafficMirrorSession"]["TrafficMirrorSessionId"]

            def delete(c):
                return c.delete_traffic_mirror_filter(TrafficMirrorFilterId=filter_id)[
                    "TrafficMirrorFilterId"]

            outcomes = self.race([delete, attach(enis[0]), delete, attach(enis[1]),
                                  attach(enis[2]), delete])
            deletes = [outcomes[i] for i in (0, 2, 5)]
            attaches = [outcomes[i] for i in (1, 3, 4)]
            deleted = [r for r, _ in deletes if r]
            attached = [r for r, _ in attaches if r]
            sessions = self.clients[round_no % 2].describe_traffic_mirror_sessions(
                Filters=[{"Name": "traffic-mirror-filter-id", "Values": [filter_id]}]
            )["TrafficMirrorSessions"]
            self.assertEqual(sorted(s["TrafficMirrorSessionId"] for s in sessions),
                             sorted(attached), outcomes)
            if deleted:
                # Deleted once, and only after no session used it: every attach that came
                # later found no filter.
                self.assertEqual(len(deleted), 1, outcomes)
                self.assertEqual(attached, [], outcomes)
                self.assertEqual({e for _, e in attaches},
                                 {"InvalidTrafficMirrorFilterId.NotFound"}, outcomes)
                self.assertEqual({e for r, e in deletes if not r},
                                 {"InvalidTrafficMirrorFilterId.NotFound"}, outcomes)
            else:
                # A session came first: the filter is in use, every delete says so.
                self.assertTrue(attached, outcomes)
                self.assertEqual({e for _, e in deletes}, {"TrafficMirrorFilterInUse"}, outcomes)


@unittest.skipIf(external_endpoint(), "starts and kills its own replicas")
class KillOneReplica(unittest.TestCase):
    """kill -9 of one of two replicas while clients mutate through both (test_crash's workers:
    no retries, each acknowledged write recorded). The other replica keeps answering, and every
    write either replica acknowledged is there, read through the survivor and, once restarted,
    through the killed one."""

    def test_kill9_of_one_replica_loses_no_acknowledged_write(self):
        seed = int(os.environ.get("TMIRROR_CRASH_SEED") or random.randrange(1 << 30))
        rnd = random.Random(seed)
        print("\nreplica kill seed %d (set TMIRROR_CRASH_SEED to repeat)" % seed, flush=True)
        url = postgres().create_database()
        a = TmirrorServer(database_url=url)
        self.addCleanup(a.cleanup)
        a.start()
        b = TmirrorServer(database_url=url)
        self.addCleanup(b.cleanup)
        b.access_key, b.secret_key = a.access_key, a.secret_key
        b.start()
        subnet = "subnet-0123456789abcdef0"
        on_a = [Worker("a%d" % i, a.client(retries=1, timeout=5), subnet, rnd.random(), 16 + i)
                for i in range(2)]
        on_b = [Worker("b%d" % i, b.client(retries=1, timeout=5), subnet, rnd.random(), 18 + i)
                for i in range(2)]
        for w in on_a + on_b:
            w.start()
        delay = rnd.uniform(0.5, 2.0)
        time.sleep(delay)
        self.assertTrue(all(w.is_alive() for w in on_a), "a worker on A stopped before the kill")
        a.kill9()
        at_kill = sum(w.acked for w in on_b)
        time.sleep(1.5)  # B goes on alone
        for w in on_b:
            w.stopped.set()
        for w in on_a + on_b:
            w.join(60)
            self.assertFalse(w.is_alive(), "worker %s did not stop" % w.name)
        errors = [e for w in on_a + on_b for e in w.errors]
        self.assertEqual(errors, [], "\n".join(errors[:20]))
        self.assertGreater(sum(w.acked for w in on_a), 0, "A acknowledged nothing before the kill")
        after_kill = sum(w.acked for w in on_b) - at_kill
        self.assertGreater(after_kill, 0, "B acknowledged nothing after A was killed")
        self.assertEqual([w.name for w in on_b if w.uncertain], [],
                         "B left writes unanswered: it was not killed")

        expected, uncertain = {}, {}
        for w in on_a + on_b:
            expected.update(w.model)
            uncertain.update(w.uncertain)
        for rid in uncertain:
            expected.pop(rid, None)
        label = "kill after %.2f s, %d acked by A, %d by B (%d after the kill)" % (
            delay, sum(w.acked for w in on_a), sum(w.acked for w in on_b), after_kill)
        verify_survived(self, b.client(retries=3, timeout=30), expected, uncertain,
                        "through B, " + label)
        a.restart()
        verify_survived(self, a.client(retries=3, timeout=30), expected, {},
                        "through A restarted, " + label)


if __name__ == "__main__":
    unittest.main()
