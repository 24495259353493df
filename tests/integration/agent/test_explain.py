"""``tmirror explain`` against the agent's real decisions in the namespace lab (root only; ctest
label ``privileged``).

Three sessions with reject rules, port ranges, both families, a packet length and amazon-dns
are put on the source's eth0 through the API. Traffic runs: the usual mix (TCP, UDP, ICMP, both
families, resolver DNS, VLAN-tagged frames) and a few hundred random frames each way (random
protocols, ports that touch every exclusion, fragments). Ground truth is tcpdump on the source's
eth0; what the agent really sent is tcpdump on the targets. Every ground-truth frame is then
explained by ``tmirror explain --pcap`` against the live server, and the copies explain says the
agent makes (session VNI, target, bytes kept) must be exactly the copies that arrived: none
missing, none extra. The independent model (mirror_eval) must agree too.

    cd tests/integration/agent && TMIRROR_BINARY=<build>/tmirror /usr/bin/python3 -m unittest -v \\
        test_explain
"""

import collections
import json
import os
import shutil
import struct
import tempfile
import unittest

import mirror_eval as me
from agentlab import lablib
from test_agent_e2e import (ALL4, ALL6, CLI4, CLI6, PY, SKIP, SRC4, SRC6, TG24, TGT4, TRAFFIC,
                            AgentLabCase, Observation)


def write_pcap(path, frames):
    """frames: [(ts, bytes, orig_len)] as mirror_eval.read_pcap returns them."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for ts, raw, orig in frames:
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(raw), orig))
            f.write(raw)


@unittest.skipIf(SKIP, SKIP or "")
class ExplainTest(AgentLabCase):
    def explain(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.server.access_key,
                   AWS_SECRET_ACCESS_KEY=self.server.secret_key, AWS_CONFIG_FILE=os.devnull,
                   AWS_SHARED_CREDENTIALS_FILE=os.devnull)
        res = self.lab.run("src", [self.binary, "explain", "--endpoint-url", self.server.endpoint,
                                   "--network-interface-id", self.eni] + [str(a) for a in args],
                           env=env, check=False, timeout=300)
        self.assertEqual(res.returncode, 0, res.stderr + res.stdout[-2000:])
        return res.stdout

    def test_explain_predicts_exactly_the_copies_the_agent_sends(self):
        no_ssh = [me.Rule(10, "reject", "egress", *ALL4, protocol=6, src_ports=(22, 22)),
                  me.Rule(10, "reject", "ingress", *ALL4, protocol=6, dst_ports=(22, 22)),
                  me.Rule(20, "accept", "ingress", *ALL4, protocol=6),
                  me.Rule(20, "accept", "egress", *ALL4, protocol=6),
                  me.Rule(30, "accept", "ingress", *ALL6, protocol=17, dst_ports=(1, 1023)),
                  me.Rule(30, "accept", "egress", *ALL6, protocol=17, src_ports=(1, 1023))]
        udp_band = [me.Rule(5, "reject", d, *ALL4, protocol=17, dst_ports=(5000, 6000))
                    for d in ("ingress", "egress")]
        udp_band += [me.Rule(6, "accept", d, "0.0.0.0/0", "198.51.100.0/24", protocol=17)
                     for d in ("ingress", "egress")]
        udp_band += [me.Rule(7, "accept", d, *ALL6, protocol=58) for d in ("ingress", "egress")]
        rest = [me.Rule(1, "reject", d, *ALL4, protocol=47) for d in ("ingress", "egress")]
        rest += [me.Rule(2, "accept", d, *ALL4) for d in ("ingress", "egress")]
        sessions = self.setup_sessions([
            dict(number=1, vni=301, rules=no_ssh, target=TGT4),
            dict(number=2, vni=302, rules=udp_band, target=TG24, amazon_dns=True),
            dict(number=3, vni=303, rules=rest, target=TGT4, packet_length=120)])
        with Observation(self) as obs:
            self.mix(rounds=1, dns=True)
            self.vlan_both(count=3)
            for ns, peer, seed in (("src", "cli", 7), ("cli", "src", 8)):
                own4, own6 = lablib.HOSTS[ns][0], lablib.HOSTS[ns][1]
                other4, other6 = lablib.HOSTS[peer][0], lablib.HOSTS[peer][1]
                res = self.lab.run(ns, [PY, TRAFFIC, "random", "--dst-mac", self.lab.mac(peer),
                                        "--src4", own4, "--src6", own6, "--dst4", other4,
                                        "--dst6", other6, "--count", 250, "--seed", seed])
                self.assertIn('"sent": 250', res.stdout)

        # The independent model agrees with what arrived (the lab's own check).
        self.assertExact(obs, sessions)

        tmp = tempfile.mkdtemp(prefix="tmirror-explain-")
        self.addCleanup(shutil.rmtree, tmp, True)
        want = collections.Counter()
        fates = collections.Counter()
        outcomes = collections.Counter()
        targets = {s.vni: s.target_ip for s in sessions}
        for direction, frames in obs.truth.items():
            path = os.path.join(tmp, direction + ".pcap")
            write_pcap(path, frames)
            reports = json.loads(self.explain("--pcap", path, "--direction", direction,
                                              "--output", "json"))
            self.assertEqual(len(reports), len(frames))
            for (ts, raw, orig), report in zip(frames, reports):
                verdict = report["Verdict"]
                fates[verdict["Fate"]] += 1
                for s in report["Sessions"]:
                    outcomes[s["Outcome"]] += 1
                self.assertEqual(report["Direction"], direction)
                if not verdict["Mirrored"]:
                    continue
                self.assertEqual(verdict["TargetAddress"], targets[verdict["VirtualNetworkId"]])
                self.assertEqual(verdict["FrameBytes"], orig)
                want[(verdict["VirtualNetworkId"],
                      me.wire_form(raw)[:verdict["CopiedBytes"]])] += 1
        rep = me.compare(want, obs.mirrored, window=(obs.t0, obs.t1))
        print("\n  explained %d frames: %s; session outcomes %s; %s"
              % (sum(fates.values()), dict(fates), dict(outcomes), rep.summary().splitlines()[0]))
        self.assertTrue(rep.ok, "explain's verdicts and the agent's copies differ:\n"
                        + rep.summary())
        # Every kind of answer was exercised, or the agreement proves little.
        # (Resolver DNS is mirrored here: session 2 has amazon-dns.)
        for fate in ("mirrored", "not_matched", "dhcp"):
            self.assertGreater(fates[fate], 0, "no %s verdict: %s" % (fate, dict(fates)))
        for outcome in ("accepted", "rejected", "no-rule-matched", "amazon-dns", "not-reached"):
            self.assertGreater(outcomes[outcome], 0, "no %s outcome: %s" % (outcome,
                                                                             dict(outcomes)))
        self.assertGreater(sum(1 for (vni, inner) in want if vni == 303 and len(inner) == 120), 0,
                           "no copy cut to the packet length")

    def test_one_packet_by_hand_text_and_json(self):
        s, = self.setup_sessions([dict(number=1, vni=401, rules=[
            me.Rule(10, "reject", "ingress", *ALL4, protocol=6, dst_ports=(22, 22)),
            me.Rule(20, "accept", "ingress", *ALL4, protocol=6)])])
        text = self.explain("--packet", "tcp %s:51000 > %s:22" % (CLI4, SRC4))
        self.assertIn("ingress", text)
        self.assertIn("rule 10 reject tcp 0.0.0.0/0 > 0.0.0.0/0 port 22: MATCHES", text)
        self.assertIn("NOT MIRRORED: no session accepted it (session 1: rejected by rule 10)",
                      text)
        doc = json.loads(self.explain("--packet", "tcp %s:51000 > %s:443" % (CLI4, SRC4),
                                      "--length", 300, "--output", "json"))
        self.assertEqual(doc["Verdict"]["Mirrored"], True)
        self.assertEqual(doc["Verdict"]["VirtualNetworkId"], 401)
        self.assertEqual(doc["Verdict"]["TrafficMirrorSessionId"], s.session_id)
        self.assertEqual(doc["Verdict"]["TargetAddress"], TGT4)
        self.assertEqual(doc["Verdict"]["CopiedBytes"], 300)
        rules = doc["Sessions"][0]["Rules"]
        self.assertEqual([r["Matched"] for r in rules], [False, True])
        self.assertEqual(rules[0]["Reason"], "destination port 443 is outside 22")
        # Egress has no rules here; the interface's address as source says egress.
        out = json.loads(self.explain("--packet", "udp [%s]:5353 > [%s]:53" % (SRC6, CLI6),
                                      "--output", "json"))
        self.assertEqual(out["Direction"], "egress")
        self.assertEqual(out["Sessions"][0]["Outcome"], "no-rule-matched")
        self.assertFalse(out["Verdict"]["Mirrored"])


if __name__ == "__main__":
    unittest.main()
