"""Every Traffic Mirroring action through Debian's AWS CLI v2 (/usr/bin/aws) with --endpoint-url.

Asserts the JSON the CLI prints (AWS key names) and the error codes it reports on stderr.
"""

import json
import unittest

from harness import (ID_RE, MAC_RE, MISSING, NLB_ARN, OWNER_RE, ServerTestCase, tags_of,
                     unique)


def tag_spec(resource_type, **tags):
    return "ResourceType=%s,Tags=[%s]" % (
        resource_type, ",".join("{Key=%s,Value=%s}" % kv for kv in tags.items()))


def filters(*pairs):
    """filters(('name', ['v1', 'v2']), ...) -> JSON for --filters."""
    return json.dumps([{"Name": n, "Values": list(v)} for n, v in pairs])


class CliTestCase(ServerTestCase):
    def cli_eni(self, description=None, ip=None):
        args = ["create-network-interface", "--subnet-id", self.fx.subnet_id(),
                "--private-ip-address", ip or self.fx.next_ip()]
        if description is not None:
            args += ["--description", description]
        return self.cli_ok(*args)["NetworkInterface"]

    def cli_filter(self, description=None, *extra):
        args = ["create-traffic-mirror-filter"]
        if description is not None:
            args += ["--description", description]
        return self.cli_ok(*(args + list(extra)))["TrafficMirrorFilter"]

    def cli_target_eni(self, eni_id, *extra):
        return self.cli_ok("create-traffic-mirror-target", "--network-interface-id", eni_id,
                           *extra)["TrafficMirrorTarget"]

    def cli_session(self, eni, tmt, tmf, number, *extra):
        return self.cli_ok("create-traffic-mirror-session", "--network-interface-id", eni,
                           "--traffic-mirror-target-id", tmt, "--traffic-mirror-filter-id", tmf,
                           "--session-number", number, *extra)["TrafficMirrorSession"]

    def describe_session(self, tms):
        doc = self.cli_ok("describe-traffic-mirror-sessions", "--traffic-mirror-session-ids", tms)
        self.assertEqual(len(doc["TrafficMirrorSessions"]), 1, doc)
        return doc["TrafficMirrorSessions"][0]

    def describe_filter(self, tmf):
        doc = self.cli_ok("describe-traffic-mirror-filters", "--traffic-mirror-filter-ids", tmf)
        self.assertEqual(len(doc["TrafficMirrorFilters"]), 1, doc)
        return doc["TrafficMirrorFilters"][0]


class NetworkInterfaceCli(CliTestCase):
    def test_create_network_interface_shape(self):
        ip = self.fx.next_ip()
        eni = self.cli_eni(description="cli source", ip=ip)
        self.assertRegex(eni["NetworkInterfaceId"], ID_RE["eni"])
        self.assertRegex(eni["MacAddress"], MAC_RE)
        self.assertEqual(eni["PrivateIpAddress"], ip)
        self.assertEqual(eni["Status"], "available")
        self.assertEqual(eni["InterfaceType"], "interface")
        self.assertEqual(eni["Description"], "cli source")
        self.assertEqual(eni["SubnetId"], self.fx.subnet_id())

    def test_describe_network_interfaces_by_id_and_filters(self):
        desc = unique("eni-desc")
        ip_a = self.fx.next_ip()
        a = self.cli_eni(description=desc, ip=ip_a)
        b = self.cli_eni(description=unique("other"))
        doc = self.cli_ok("describe-network-interfaces", "--network-interface-ids",
                          a["NetworkInterfaceId"], b["NetworkInterfaceId"])
        got = {n["NetworkInterfaceId"]: n for n in doc["NetworkInterfaces"]}
        self.assertEqual(set(got), {a["NetworkInterfaceId"], b["NetworkInterfaceId"]})
        self.assertEqual(got[a["NetworkInterfaceId"]]["MacAddress"], a["MacAddress"])
        self.assertEqual(got[a["NetworkInterfaceId"]]["PrivateIpAddress"], ip_a)

        def ids_for(*pairs):
            d = self.cli_ok("describe-network-interfaces", "--filters", filters(*pairs))
            return sorted(n["NetworkInterfaceId"] for n in d["NetworkInterfaces"])

        self.assertEqual(ids_for(("private-ip-address", [ip_a])),
                         [a["NetworkInterfaceId"]])
        self.assertEqual(ids_for(("mac-address", [b["MacAddress"]])), [b["NetworkInterfaceId"]])
        self.assertEqual(ids_for(("description", [desc])), [a["NetworkInterfaceId"]])
        self.assertEqual(ids_for(("network-interface-id", [a["NetworkInterfaceId"],
                                                           b["NetworkInterfaceId"]])),
                         sorted([a["NetworkInterfaceId"], b["NetworkInterfaceId"]]))
        # AND across names: id of b but description of a -> nothing.
        self.assertEqual(ids_for(("network-interface-id", [b["NetworkInterfaceId"]]),
                                 ("description", [desc])), [])
        key = unique("k")
        self.cli_ok("create-tags", "--resources", b["NetworkInterfaceId"],
                    "--tags", "Key=%s,Value=v1" % key)
        self.assertEqual(ids_for(("tag:%s" % key, ["v1"])), [b["NetworkInterfaceId"]])
        self.assertEqual(ids_for(("tag:%s" % key, ["v2"])), [])
        self.assertEqual(ids_for(("tag-key", [key])), [b["NetworkInterfaceId"]])

    def test_describe_unknown_network_interface(self):
        self.cli_err("InvalidNetworkInterfaceID.NotFound", "describe-network-interfaces",
                     "--network-interface-ids", MISSING["eni"])

    def test_delete_network_interface_cascades_to_sessions(self):
        src = self.cli_eni()["NetworkInterfaceId"]
        tgt_eni = self.cli_eni()["NetworkInterfaceId"]
        tmt = self.cli_target_eni(tgt_eni)["TrafficMirrorTargetId"]
        tmf = self.cli_filter()["TrafficMirrorFilterId"]
        s1 = self.cli_session(src, tmt, tmf, 1)["TrafficMirrorSessionId"]
        s2 = self.cli_session(src, tmt, tmf, 2)["TrafficMirrorSessionId"]
        # The target's ENI is in use: it cannot be deleted.
        self.cli_err("InvalidNetworkInterface.InUse", "delete-network-interface",
                     "--network-interface-id", tgt_eni)
        rc, doc, err = self.server.cli("delete-network-interface", "--network-interface-id", src)
        self.assertEqual(rc, 0, err)
        for s in (s1, s2):
            self.cli_err("InvalidTrafficMirrorSessionId.NotFound",
                         "describe-traffic-mirror-sessions", "--traffic-mirror-session-ids", s)
        self.cli_err("InvalidNetworkInterfaceID.NotFound", "describe-network-interfaces",
                     "--network-interface-ids", src)
        # Target and filter are free now and can go, then the target ENI too.
        self.cli_ok("delete-traffic-mirror-target", "--traffic-mirror-target-id", tmt)
        self.cli_ok("delete-traffic-mirror-filter", "--traffic-mirror-filter-id", tmf)
        rc, _, err = self.server.cli("delete-network-interface", "--network-interface-id", tgt_eni)
        self.assertEqual(rc, 0, err)
        self.cli_err("InvalidNetworkInterfaceID.NotFound", "delete-network-interface",
                     "--network-interface-id", tgt_eni)


class TargetCli(CliTestCase):
    def test_eni_target_lifecycle(self):
        eni = self.cli_eni()["NetworkInterfaceId"]
        doc = self.cli_ok("create-traffic-mirror-target", "--network-interface-id", eni,
                          "--description", "collector eni",
                          "--tag-specifications", tag_spec("traffic-mirror-target", Name="t1",
                                                           env="dev"))
        self.assertIn("ClientToken", doc)
        t = doc["TrafficMirrorTarget"]
        self.assertRegex(t["TrafficMirrorTargetId"], ID_RE["tmt"])
        self.assertEqual(t["NetworkInterfaceId"], eni)
        self.assertEqual(t["Type"], "network-interface")
        self.assertEqual(t["Description"], "collector eni")
        self.assertRegex(t["OwnerId"], OWNER_RE)
        self.assertEqual(tags_of(t), {"Name": "t1", "env": "dev"})
        self.assertNotIn("NetworkLoadBalancerArn", t)

        d = self.cli_ok("describe-traffic-mirror-targets", "--traffic-mirror-target-ids",
                        t["TrafficMirrorTargetId"])["TrafficMirrorTargets"]
        self.assertEqual(len(d), 1)
        self.assertEqual(d[0]["TrafficMirrorTargetId"], t["TrafficMirrorTargetId"])
        self.assertEqual(d[0]["NetworkInterfaceId"], eni)
        self.assertEqual(d[0]["Type"], "network-interface")
        self.assertEqual(d[0]["Description"], "collector eni")
        self.assertEqual(d[0]["OwnerId"], t["OwnerId"])
        self.assertEqual(tags_of(d[0]), {"Name": "t1", "env": "dev"})

        out = self.cli_ok("delete-traffic-mirror-target", "--traffic-mirror-target-id",
                          t["TrafficMirrorTargetId"])
        self.assertEqual(out, {"TrafficMirrorTargetId": t["TrafficMirrorTargetId"]})
        self.cli_err("InvalidTrafficMirrorTargetId.NotFound", "describe-traffic-mirror-targets",
                     "--traffic-mirror-target-ids", t["TrafficMirrorTargetId"])
        self.cli_err("InvalidTrafficMirrorTargetId.NotFound", "delete-traffic-mirror-target",
                     "--traffic-mirror-target-id", t["TrafficMirrorTargetId"])

    def test_nlb_target(self):
        desc = unique("nlb")
        t = self.cli_ok("create-traffic-mirror-target", "--network-load-balancer-arn", NLB_ARN,
                        "--description", desc)["TrafficMirrorTarget"]
        self.assertRegex(t["TrafficMirrorTargetId"], ID_RE["tmt"])
        self.assertEqual(t["NetworkLoadBalancerArn"], NLB_ARN)
        self.assertEqual(t["Type"], "network-load-balancer")
        self.assertNotIn("NetworkInterfaceId", t)
        d = self.cli_ok("describe-traffic-mirror-targets", "--filters",
                        filters(("network-load-balancer-arn", [NLB_ARN]),
                                ("description", [desc])))["TrafficMirrorTargets"]
        self.assertEqual([x["TrafficMirrorTargetId"] for x in d], [t["TrafficMirrorTargetId"]])
        self.cli_ok("delete-traffic-mirror-target", "--traffic-mirror-target-id",
                    t["TrafficMirrorTargetId"])

    def test_target_describe_filters(self):
        eni = self.cli_eni()["NetworkInterfaceId"]
        t = self.cli_target_eni(eni, "--description", unique("d"))
        tid = t["TrafficMirrorTargetId"]

        def ids(*pairs):
            d = self.cli_ok("describe-traffic-mirror-targets", "--filters", filters(*pairs))
            return [x["TrafficMirrorTargetId"] for x in d["TrafficMirrorTargets"]]

        self.assertEqual(ids(("network-interface-id", [eni])), [tid])
        self.assertEqual(ids(("traffic-mirror-target-id", [tid])), [tid])
        self.assertEqual(ids(("description", [t["Description"]])), [tid])
        self.assertIn(tid, ids(("owner-id", [t["OwnerId"]])))
        self.assertEqual(ids(("traffic-mirror-target-id", [tid]),
                             ("owner-id", ["000000000000"])), [])


class FilterCli(CliTestCase):
    def test_filter_lifecycle_and_network_services(self):
        doc = self.cli_ok("create-traffic-mirror-filter", "--description", "web filter",
                          "--tag-specifications", tag_spec("traffic-mirror-filter", Name="f1"))
        self.assertIn("ClientToken", doc)
        f = doc["TrafficMirrorFilter"]
        fid = f["TrafficMirrorFilterId"]
        self.assertRegex(fid, ID_RE["tmf"])
        self.assertEqual(f["IngressFilterRules"], [])
        self.assertEqual(f["EgressFilterRules"], [])
        self.assertEqual(f["NetworkServices"], [])
        self.assertEqual(f["Description"], "web filter")
        self.assertEqual(tags_of(f), {"Name": "f1"})

        out = self.cli_ok("modify-traffic-mirror-filter-network-services",
                          "--traffic-mirror-filter-id", fid,
                          "--add-network-services", "amazon-dns")["TrafficMirrorFilter"]
        self.assertEqual(out["TrafficMirrorFilterId"], fid)
        self.assertEqual(out["NetworkServices"], ["amazon-dns"])
        self.assertEqual(out["Description"], "web filter")
        self.assertEqual(self.describe_filter(fid)["NetworkServices"], ["amazon-dns"])
        # Adding twice keeps one entry.
        out = self.cli_ok("modify-traffic-mirror-filter-network-services",
                          "--traffic-mirror-filter-id", fid,
                          "--add-network-services", "amazon-dns")["TrafficMirrorFilter"]
        self.assertEqual(out["NetworkServices"], ["amazon-dns"])
        out = self.cli_ok("modify-traffic-mirror-filter-network-services",
                          "--traffic-mirror-filter-id", fid,
                          "--remove-network-services", "amazon-dns")["TrafficMirrorFilter"]
        self.assertEqual(out.get("NetworkServices", []), [])
        self.assertEqual(self.describe_filter(fid).get("NetworkServices", []), [])

        out = self.cli_ok("delete-traffic-mirror-filter", "--traffic-mirror-filter-id", fid)
        self.assertEqual(out, {"TrafficMirrorFilterId": fid})
        self.cli_err("InvalidTrafficMirrorFilterId.NotFound", "describe-traffic-mirror-filters",
                     "--traffic-mirror-filter-ids", fid)
        self.cli_err("InvalidTrafficMirrorFilterId.NotFound",
                     "modify-traffic-mirror-filter-network-services",
                     "--traffic-mirror-filter-id", fid, "--add-network-services", "amazon-dns")

    def test_filter_describe_filters(self):
        d1, d2 = unique("fd"), unique("fd")
        a = self.cli_filter(d1)["TrafficMirrorFilterId"]
        b = self.cli_filter(d2)["TrafficMirrorFilterId"]

        def ids(*pairs):
            d = self.cli_ok("describe-traffic-mirror-filters", "--filters", filters(*pairs))
            return sorted(x["TrafficMirrorFilterId"] for x in d["TrafficMirrorFilters"])

        self.assertEqual(ids(("description", [d1, d2])), sorted([a, b]))       # OR
        self.assertEqual(ids(("description", [d1]), ("traffic-mirror-filter-id", [a])), [a])
        self.assertEqual(ids(("description", [d1]), ("traffic-mirror-filter-id", [b])), [])  # AND
        self.assertEqual(ids(("description", [d1.upper()])), [])               # case-sensitive
        self.cli_err("InvalidParameterValue", "describe-traffic-mirror-filters", "--filters",
                     filters(("Description", [d1])))


class FilterRuleCli(CliTestCase):
    def create_ssh_rule(self, fid, **over):
        args = {"--traffic-mirror-filter-id": fid, "--traffic-direction": "ingress",
                "--rule-number": "100", "--rule-action": "accept",
                "--destination-port-range": "FromPort=22,ToPort=22",
                "--source-port-range": "FromPort=1024,ToPort=65535", "--protocol": "6",
                "--destination-cidr-block": "10.0.0.0/16", "--source-cidr-block": "0.0.0.0/0",
                "--description": "ssh"}
        args.update(over)
        flat = ["create-traffic-mirror-filter-rule"]
        for k, v in args.items():
            if v is not None:
                flat += [k, v]
        return self.cli_ok(*flat)

    def test_rule_create_shape_and_filter_view(self):
        fid = self.cli_filter("rules")["TrafficMirrorFilterId"]
        doc = self.create_ssh_rule(fid)
        self.assertIn("ClientToken", doc)
        r = doc["TrafficMirrorFilterRule"]
        self.assertRegex(r["TrafficMirrorFilterRuleId"], ID_RE["tmfr"])
        self.assertEqual(r["TrafficMirrorFilterId"], fid)
        self.assertEqual(r["TrafficDirection"], "ingress")
        self.assertEqual(r["RuleNumber"], 100)
        self.assertEqual(r["RuleAction"], "accept")
        self.assertEqual(r["Protocol"], 6)
        self.assertEqual(r["DestinationPortRange"], {"FromPort": 22, "ToPort": 22})
        self.assertEqual(r["SourcePortRange"], {"FromPort": 1024, "ToPort": 65535})
        self.assertEqual(r["DestinationCidrBlock"], "10.0.0.0/16")
        self.assertEqual(r["SourceCidrBlock"], "0.0.0.0/0")
        self.assertEqual(r["Description"], "ssh")

        e = self.cli_ok("create-traffic-mirror-filter-rule", "--traffic-mirror-filter-id", fid,
                        "--traffic-direction", "egress", "--rule-number", "100",
                        "--rule-action", "reject", "--destination-cidr-block", "::/0",
                        "--source-cidr-block", "2001:db8::/32")["TrafficMirrorFilterRule"]
        self.assertEqual(e["TrafficDirection"], "egress")
        self.assertEqual(e["RuleAction"], "reject")
        self.assertNotIn("Protocol", e)
        self.assertNotIn("DestinationPortRange", e)
        self.assertNotIn("SourcePortRange", e)

        f = self.describe_filter(fid)
        self.assertEqual([x["TrafficMirrorFilterRuleId"] for x in f["IngressFilterRules"]],
                         [r["TrafficMirrorFilterRuleId"]])
        self.assertEqual([x["TrafficMirrorFilterRuleId"] for x in f["EgressFilterRules"]],
                         [e["TrafficMirrorFilterRuleId"]])
        ing = f["IngressFilterRules"][0]
        for k in ("TrafficMirrorFilterId", "TrafficDirection", "RuleNumber", "RuleAction",
                  "Protocol", "DestinationPortRange", "SourcePortRange", "DestinationCidrBlock",
                  "SourceCidrBlock", "Description"):
            self.assertEqual(ing[k], r[k], k)
        self.assertEqual(f["EgressFilterRules"][0]["SourceCidrBlock"], "2001:db8::/32")

    def test_rule_modify_and_remove_fields(self):
        fid = self.cli_filter("modify")["TrafficMirrorFilterId"]
        rid = self.create_ssh_rule(fid)["TrafficMirrorFilterRule"]["TrafficMirrorFilterRuleId"]
        r = self.cli_ok("modify-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", rid,
                        "--rule-action", "reject", "--rule-number", "110",
                        "--source-cidr-block", "192.168.0.0/16",
                        "--remove-fields", "destination-port-range", "source-port-range",
                        "protocol", "description")["TrafficMirrorFilterRule"]
        self.assertEqual(r["TrafficMirrorFilterRuleId"], rid)
        self.assertEqual(r["RuleAction"], "reject")
        self.assertEqual(r["RuleNumber"], 110)
        self.assertEqual(r["SourceCidrBlock"], "192.168.0.0/16")
        self.assertEqual(r["DestinationCidrBlock"], "10.0.0.0/16")
        for gone in ("Protocol", "DestinationPortRange", "SourcePortRange"):
            self.assertNotIn(gone, r)
        self.assertIn(r.get("Description"), (None, ""))

        r = self.cli_ok("modify-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", rid,
                        "--protocol", "17", "--destination-port-range", "FromPort=53,ToPort=53",
                        "--description", "dns", "--traffic-direction", "egress"
                        )["TrafficMirrorFilterRule"]
        self.assertEqual(r["Protocol"], 17)
        self.assertEqual(r["DestinationPortRange"], {"FromPort": 53, "ToPort": 53})
        self.assertEqual(r["Description"], "dns")
        self.assertEqual(r["TrafficDirection"], "egress")
        f = self.describe_filter(fid)
        self.assertEqual(f["IngressFilterRules"], [])
        self.assertEqual(len(f["EgressFilterRules"]), 1)
        seen = f["EgressFilterRules"][0]
        self.assertEqual((seen["TrafficMirrorFilterRuleId"], seen["Protocol"], seen["RuleNumber"],
                          seen["RuleAction"], seen["Description"]),
                         (rid, 17, 110, "reject", "dns"))

        out = self.cli_ok("delete-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id",
                          rid)
        self.assertEqual(out, {"TrafficMirrorFilterRuleId": rid})
        self.assertEqual(self.describe_filter(fid)["EgressFilterRules"], [])
        self.cli_err("InvalidTrafficMirrorFilterRuleId.NotFound",
                     "delete-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", rid)
        self.cli_err("InvalidTrafficMirrorFilterRuleId.NotFound",
                     "modify-traffic-mirror-filter-rule", "--traffic-mirror-filter-rule-id", rid,
                     "--rule-action", "accept")

    def test_describe_filter_rules(self):
        fid = self.cli_filter("describe-rules")["TrafficMirrorFilterId"]
        r1 = self.create_ssh_rule(fid)["TrafficMirrorFilterRule"]["TrafficMirrorFilterRuleId"]
        r2 = self.create_ssh_rule(fid, **{"--rule-number": "200", "--rule-action": "reject",
                                          "--traffic-direction": "egress"}
                                  )["TrafficMirrorFilterRule"]["TrafficMirrorFilterRuleId"]
        if self.server.cli_has_command("describe-traffic-mirror-filter-rules"):
            by_id = self.cli_ok("describe-traffic-mirror-filter-rules",
                                "--traffic-mirror-filter-rule-ids", r1, r2)
            self.assertEqual(sorted(x["TrafficMirrorFilterRuleId"]
                                    for x in by_id["TrafficMirrorFilterRules"]), sorted([r1, r2]))
            fl = self.cli_ok("describe-traffic-mirror-filter-rules", "--filters",
                             filters(("traffic-mirror-filter-id", [fid]),
                                     ("rule-action", ["reject"])))
            self.assertEqual([x["TrafficMirrorFilterRuleId"]
                              for x in fl["TrafficMirrorFilterRules"]], [r2])
            return
        # Debian's CLI 2.9 predates DescribeTrafficMirrorFilterRules: send the same request
        # the newer CLI would send, signed like the CLI signs it.
        resp = self.server.raw("DescribeTrafficMirrorFilterRules",
                               [("TrafficMirrorFilterRuleId.1", r1),
                                ("TrafficMirrorFilterRuleId.2", r2)])
        self.assertEqual(resp.status, 200, resp)
        got = sorted(x.text for x in resp.root.iter()
                     if x.tag.endswith("trafficMirrorFilterRuleId"))
        self.assertEqual(got, sorted([r1, r2]))
        resp = self.server.raw("DescribeTrafficMirrorFilterRules",
                               [("Filter.1.Name", "traffic-mirror-filter-id"),
                                ("Filter.1.Value.1", fid),
                                ("Filter.2.Name", "rule-action"),
                                ("Filter.2.Value.1", "reject")])
        self.assertEqual(resp.status, 200, resp)
        got = [x.text for x in resp.root.iter() if x.tag.endswith("trafficMirrorFilterRuleId")]
        self.assertEqual(got, [r2])

    def test_duplicate_rule_number_and_other_direction(self):
        fid = self.cli_filter()["TrafficMirrorFilterId"]
        self.create_ssh_rule(fid)
        self.cli_err("TrafficMirrorFilterRuleAlreadyExists", "create-traffic-mirror-filter-rule",
                     "--traffic-mirror-filter-id", fid, "--traffic-direction", "ingress",
                     "--rule-number", "100", "--rule-action", "reject",
                     "--destination-cidr-block", "0.0.0.0/0", "--source-cidr-block", "0.0.0.0/0")
        self.create_ssh_rule(fid, **{"--traffic-direction": "egress"})


class SessionCli(CliTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tgt_eni = cls.fx.eni("target eni")
        cls.tmt = cls.fx.target(eni=cls.tgt_eni)
        cls.tmt_nlb = cls.fx.target(nlb=True)
        cls.tmf = cls.fx.filter("sessions")
        cls.tmf2 = cls.fx.filter("sessions 2")

    def test_session_lifecycle(self):
        src = self.cli_eni()["NetworkInterfaceId"]
        doc = self.cli_ok("create-traffic-mirror-session", "--network-interface-id", src,
                          "--traffic-mirror-target-id", self.tmt,
                          "--traffic-mirror-filter-id", self.tmf, "--packet-length", "100",
                          "--session-number", "1", "--virtual-network-id", "123",
                          "--description", "my session", "--tag-specifications",
                          tag_spec("traffic-mirror-session", Name="s1", env="dev"))
        self.assertIn("ClientToken", doc)
        s = doc["TrafficMirrorSession"]
        sid = s["TrafficMirrorSessionId"]
        self.assertRegex(sid, ID_RE["tms"])
        expect = {"TrafficMirrorTargetId": self.tmt, "TrafficMirrorFilterId": self.tmf,
                  "NetworkInterfaceId": src, "PacketLength": 100, "SessionNumber": 1,
                  "VirtualNetworkId": 123, "Description": "my session"}
        for k, v in expect.items():
            self.assertEqual(s[k], v, k)
        self.assertRegex(s["OwnerId"], OWNER_RE)
        self.assertEqual(tags_of(s), {"Name": "s1", "env": "dev"})
        d = self.describe_session(sid)
        for k, v in expect.items():
            self.assertEqual(d[k], v, k)
        self.assertEqual(tags_of(d), {"Name": "s1", "env": "dev"})

        m = self.cli_ok("modify-traffic-mirror-session", "--traffic-mirror-session-id", sid,
                        "--session-number", "2", "--packet-length", "200",
                        "--virtual-network-id", "456", "--description", "changed",
                        "--traffic-mirror-target-id", self.tmt_nlb,
                        "--traffic-mirror-filter-id", self.tmf2)["TrafficMirrorSession"]
        expect.update({"SessionNumber": 2, "PacketLength": 200, "VirtualNetworkId": 456,
                       "Description": "changed", "TrafficMirrorTargetId": self.tmt_nlb,
                       "TrafficMirrorFilterId": self.tmf2})
        for k, v in expect.items():
            self.assertEqual(m[k], v, k)
            self.assertEqual(self.describe_session(sid)[k], v, k)

        m = self.cli_ok("modify-traffic-mirror-session", "--traffic-mirror-session-id", sid,
                        "--remove-fields", "packet-length", "description", "virtual-network-id"
                        )["TrafficMirrorSession"]
        d = self.describe_session(sid)
        for view in (m, d):
            self.assertNotIn("PacketLength", view)
            self.assertIn(view.get("Description"), (None, ""))
            self.assertIsInstance(view["VirtualNetworkId"], int)
            self.assertTrue(1 <= view["VirtualNetworkId"] <= 16777215, view)
            self.assertEqual(view["SessionNumber"], 2)
        self.assertEqual(m["VirtualNetworkId"], d["VirtualNetworkId"])

        out = self.cli_ok("delete-traffic-mirror-session", "--traffic-mirror-session-id", sid)
        self.assertEqual(out, {"TrafficMirrorSessionId": sid})
        self.cli_err("InvalidTrafficMirrorSessionId.NotFound", "describe-traffic-mirror-sessions",
                     "--traffic-mirror-session-ids", sid)
        self.cli_err("InvalidTrafficMirrorSessionId.NotFound", "modify-traffic-mirror-session",
                     "--traffic-mirror-session-id", sid, "--session-number", "3")
        self.cli_err("InvalidTrafficMirrorSessionId.NotFound", "delete-traffic-mirror-session",
                     "--traffic-mirror-session-id", sid)

    def test_defaults_random_vni_and_no_packet_length(self):
        a = self.cli_session(self.fx.eni(), self.tmt_nlb, self.tmf, 1)
        b = self.cli_session(self.fx.eni(), self.tmt_nlb, self.tmf, 1)
        for s in (a, b):
            self.assertNotIn("PacketLength", s)
            self.assertTrue(1 <= s["VirtualNetworkId"] <= 16777215, s)
        self.assertNotEqual(a["VirtualNetworkId"], b["VirtualNetworkId"])
        self.assertNotIn("PacketLength", self.describe_session(a["TrafficMirrorSessionId"]))

    def test_session_describe_filters_and_or(self):
        src1, src2 = self.fx.eni(), self.fx.eni()
        desc = unique("sd")
        s = {}
        s[(1, 1)] = self.cli_session(src1, self.tmt_nlb, self.tmf, 1, "--description", desc,
                                     "--virtual-network-id", "1001", "--packet-length", "64")
        s[(1, 2)] = self.cli_session(src1, self.tmt_nlb, self.tmf2, 2, "--description", desc)
        s[(2, 1)] = self.cli_session(src2, self.tmt_nlb, self.tmf, 1, "--description", desc)
        ident = {k: v["TrafficMirrorSessionId"] for k, v in s.items()}

        def ids(*pairs):
            d = self.cli_ok("describe-traffic-mirror-sessions", "--filters", filters(*pairs))
            return sorted(x["TrafficMirrorSessionId"] for x in d["TrafficMirrorSessions"])

        self.assertEqual(ids(("description", [desc])), sorted(ident.values()))
        self.assertEqual(ids(("network-interface-id", [src1, src2]),
                             ("session-number", ["2"])), [ident[(1, 2)]])
        self.assertEqual(ids(("network-interface-id", [src1]), ("session-number", ["1", "2"])),
                         sorted([ident[(1, 1)], ident[(1, 2)]]))
        self.assertEqual(ids(("description", [desc]), ("traffic-mirror-filter-id", [self.tmf2])),
                         [ident[(1, 2)]])
        self.assertEqual(ids(("virtual-network-id", ["1001"]), ("description", [desc])),
                         [ident[(1, 1)]])
        self.assertEqual(ids(("packet-length", ["64"]), ("description", [desc])), [ident[(1, 1)]])
        self.assertEqual(ids(("traffic-mirror-session-id", [ident[(2, 1)]])), [ident[(2, 1)]])
        self.assertEqual(ids(("description", [desc]), ("traffic-mirror-target-id", [self.tmt])),
                         [])
        self.assertEqual(len(ids(("description", [desc]),
                                 ("owner-id", [s[(1, 1)]["OwnerId"]]))), 3)
        self.assertEqual(ids(("session-number", ["1"]), ("session-number", ["2"]),
                             ("description", [desc])), [])

    def test_dry_run(self):
        src = self.fx.eni()
        before = self.cli_ok("describe-traffic-mirror-sessions")["TrafficMirrorSessions"]
        self.cli_err("DryRunOperation", "create-traffic-mirror-session", "--dry-run",
                     "--network-interface-id", src, "--traffic-mirror-target-id", self.tmt_nlb,
                     "--traffic-mirror-filter-id", self.tmf, "--session-number", "1")
        self.assertEqual(self.cli_ok("describe-traffic-mirror-sessions")["TrafficMirrorSessions"],
                         before)
        # An invalid request with --dry-run reports the validation error, not DryRunOperation.
        self.cli_err("InvalidParameterValue", "create-traffic-mirror-session", "--dry-run",
                     "--network-interface-id", src, "--traffic-mirror-target-id", self.tmt_nlb,
                     "--traffic-mirror-filter-id", self.tmf, "--session-number", "0")
        sid = self.cli_session(src, self.tmt_nlb, self.tmf, 5)["TrafficMirrorSessionId"]
        self.cli_err("DryRunOperation", "modify-traffic-mirror-session", "--dry-run",
                     "--traffic-mirror-session-id", sid, "--session-number", "6")
        self.cli_err("DryRunOperation", "delete-traffic-mirror-session", "--dry-run",
                     "--traffic-mirror-session-id", sid)
        self.assertEqual(self.describe_session(sid)["SessionNumber"], 5)
        self.cli_err("DryRunOperation", "create-traffic-mirror-filter", "--dry-run")
        self.cli_err("DryRunOperation", "create-traffic-mirror-target", "--dry-run",
                     "--network-load-balancer-arn", NLB_ARN)
        self.cli_err("DryRunOperation", "describe-traffic-mirror-targets", "--dry-run")
        self.cli_err("DryRunOperation", "create-tags", "--dry-run", "--resources", sid,
                     "--tags", "Key=dry,Value=run")
        self.assertNotIn("dry", tags_of(self.describe_session(sid)))
        self.cli_err("InvalidTrafficMirrorSessionId.NotFound", "delete-traffic-mirror-session",
                     "--dry-run", "--traffic-mirror-session-id", MISSING["tms"])

    def test_client_token_retry(self):
        src = self.fx.eni()
        token = unique("tok")
        args = ["create-traffic-mirror-session", "--network-interface-id", src,
                "--traffic-mirror-target-id", self.tmt_nlb, "--traffic-mirror-filter-id", self.tmf,
                "--session-number", "7", "--client-token", token]
        first = self.cli_ok(*args)
        again = self.cli_ok(*args)
        self.assertEqual(first["ClientToken"], token)
        self.assertEqual(again["TrafficMirrorSession"]["TrafficMirrorSessionId"],
                         first["TrafficMirrorSession"]["TrafficMirrorSessionId"])
        d = self.cli_ok("describe-traffic-mirror-sessions", "--filters",
                        filters(("network-interface-id", [src])))["TrafficMirrorSessions"]
        self.assertEqual(len(d), 1)
        self.cli_err("IdempotentParameterMismatch", *(args[:-4] + ["--session-number", "8",
                                                                   "--client-token", token]))

        ftoken = unique("ftok")
        f1 = self.cli_ok("create-traffic-mirror-filter", "--description", "idem",
                         "--client-token", ftoken)
        f2 = self.cli_ok("create-traffic-mirror-filter", "--description", "idem",
                         "--client-token", ftoken)
        self.assertEqual(f1["TrafficMirrorFilter"]["TrafficMirrorFilterId"],
                         f2["TrafficMirrorFilter"]["TrafficMirrorFilterId"])
        self.cli_err("IdempotentParameterMismatch", "create-traffic-mirror-filter",
                     "--description", "other", "--client-token", ftoken)

        ttoken = unique("ttok")
        t1 = self.cli_ok("create-traffic-mirror-target", "--network-load-balancer-arn", NLB_ARN,
                         "--client-token", ttoken)
        t2 = self.cli_ok("create-traffic-mirror-target", "--network-load-balancer-arn", NLB_ARN,
                         "--client-token", ttoken)
        self.assertEqual(t1["TrafficMirrorTarget"]["TrafficMirrorTargetId"],
                         t2["TrafficMirrorTarget"]["TrafficMirrorTargetId"])

        rtoken = unique("rtok")
        rargs = ["create-traffic-mirror-filter-rule", "--traffic-mirror-filter-id", self.tmf2,
                 "--traffic-direction", "ingress", "--rule-number", "77", "--rule-action",
                 "accept", "--destination-cidr-block", "0.0.0.0/0", "--source-cidr-block",
                 "0.0.0.0/0", "--client-token", rtoken]
        r1 = self.cli_ok(*rargs)
        r2 = self.cli_ok(*rargs)
        self.assertEqual(r1["TrafficMirrorFilterRule"]["TrafficMirrorFilterRuleId"],
                         r2["TrafficMirrorFilterRule"]["TrafficMirrorFilterRuleId"])
        rules = self.describe_filter(self.tmf2)["IngressFilterRules"]
        self.assertEqual([x["RuleNumber"] for x in rules].count(77), 1)


class TagsCli(CliTestCase):
    def test_create_describe_delete_tags(self):
        src = self.fx.eni()
        tmt = self.fx.target(nlb=True)
        tmf = self.fx.filter()
        rule = self.fx.rule(tmf, 1)
        tms = self.fx.session(src, tmt, tmf, 1)
        key = unique("k")
        rc, out, err = self.server.cli("create-tags", "--resources", tmt, tmf, rule, tms, src,
                                       "--tags", "Key=%s,Value=v" % key, "Key=%s-empty,Value="
                                       % key)
        self.assertEqual(rc, 0, err)
        d = self.cli_ok("describe-tags", "--filters", filters(("key", [key])))["Tags"]
        got = {(t["ResourceId"], t["ResourceType"], t["Key"], t["Value"]) for t in d}
        self.assertEqual(got, {(tmt, "traffic-mirror-target", key, "v"),
                               (tmf, "traffic-mirror-filter", key, "v"),
                               (rule, "traffic-mirror-filter-rule", key, "v"),
                               (tms, "traffic-mirror-session", key, "v"),
                               (src, "network-interface", key, "v")})
        for t in d:
            self.assertEqual(set(t), {"Key", "ResourceId", "ResourceType", "Value"})

        def tag_rows(*pairs):
            res = self.cli_ok("describe-tags", "--filters", filters(*pairs))["Tags"]
            return sorted((t["ResourceId"], t["Key"], t["Value"]) for t in res)

        self.assertEqual(tag_rows(("resource-id", [tms])),
                         sorted([(tms, key, "v"), (tms, key + "-empty", "")]))
        self.assertEqual(tag_rows(("resource-type", ["traffic-mirror-filter-rule"]),
                                  ("key", [key, key + "-empty"])),
                         sorted([(rule, key, "v"), (rule, key + "-empty", "")]))
        self.assertEqual(tag_rows(("resource-id", [tmt, tmf]), ("value", [""])),
                         sorted([(tmt, key + "-empty", ""), (tmf, key + "-empty", "")]))
        self.assertEqual(tag_rows(("resource-type", ["traffic-mirror-session"]),
                                  ("resource-id", [tmt])), [])

        # Overwrite, then delete by key only, by key+matching value, and by wrong value (kept).
        self.cli_ok_or_empty("create-tags", "--resources", tms, "--tags", "Key=%s,Value=w" % key)
        self.assertEqual(tags_of(self.describe_session(tms)), {key: "w", key + "-empty": ""})
        self.cli_ok_or_empty("delete-tags", "--resources", tms, "--tags", "Key=%s,Value=nope" % key)
        self.assertEqual(tags_of(self.describe_session(tms)), {key: "w", key + "-empty": ""})
        self.cli_ok_or_empty("delete-tags", "--resources", tms, "--tags", "Key=%s,Value=w" % key)
        self.assertEqual(tags_of(self.describe_session(tms)), {key + "-empty": ""})
        self.cli_ok_or_empty("delete-tags", "--resources", tmt, tmf, "--tags", "Key=%s" % key)
        self.assertEqual(tag_rows(("resource-id", [tmt, tmf]), ("key", [key])), [])
        self.assertEqual(tag_rows(("resource-id", [rule]), ("key", [key])), [(rule, key, "v")])

    def test_tag_filters_on_all_kinds(self):
        key, val = unique("tk"), unique("tv")
        src = self.fx.eni()
        tmt = self.fx.target(nlb=True, tags={key: val})
        tmf = self.fx.filter(tags={key: val})
        tms = self.fx.session(src, tmt, tmf, 1, tags={key: val})
        for cmd, ids_opt, res_key, id_key, rid in (
                ("describe-traffic-mirror-targets", None, "TrafficMirrorTargets",
                 "TrafficMirrorTargetId", tmt),
                ("describe-traffic-mirror-filters", None, "TrafficMirrorFilters",
                 "TrafficMirrorFilterId", tmf),
                ("describe-traffic-mirror-sessions", None, "TrafficMirrorSessions",
                 "TrafficMirrorSessionId", tms)):
            with self.subTest(cmd=cmd):
                for pairs, want in (((("tag:%s" % key, [val]),), [rid]),
                                    ((("tag:%s" % key, ["x", val]),), [rid]),
                                    ((("tag:%s" % key, ["x"]),), []),
                                    ((("tag-key", [key]),), [rid]),
                                    ((("tag-key", [key.upper()]),), [])):
                    d = self.cli_ok(cmd, "--filters", filters(*pairs))[res_key]
                    self.assertEqual([x[id_key] for x in d], want, pairs)

    def cli_ok_or_empty(self, *args):
        rc, doc, err = self.server.cli(*args)
        self.assertEqual(rc, 0, err)
        return doc


class PaginationCli(CliTestCase):
    """Own server: exact totals are known."""

    N = 12

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmt_nlb = cls.fx.target(nlb=True, tags={"set": "page"})
        cls.tmf = cls.fx.filter(tags={"set": "page"})
        cls.sessions = []
        cls.enis = []
        for i in range(cls.N):
            eni = cls.fx.eni()
            cls.enis.append(eni)
            cls.sessions.append(cls.fx.session(eni, cls.tmt_nlb, cls.tmf, 1,
                                               tags={"set": "page"}))
        cls.filters = [cls.tmf] + [cls.fx.filter(tags={"set": "page"})
                                   for _ in range(cls.N - 1)]
        cls.targets = [cls.tmt_nlb] + [cls.fx.target(eni=cls.fx.eni(), tags={"set": "page"})
                                       for _ in range(cls.N - 1)]

    def check_all_once(self, cmd, key, id_key, expected):
        d = self.cli_ok(cmd, "--page-size", "5")
        got = [x[id_key] for x in d[key]]
        self.assertEqual(len(got), len(set(got)), "duplicates: %r" % got)
        self.assertEqual(sorted(got), sorted(expected))
        self.assertNotIn("NextToken", d)

    def test_sessions_page_size(self):
        self.check_all_once("describe-traffic-mirror-sessions", "TrafficMirrorSessions",
                            "TrafficMirrorSessionId", self.sessions)

    def test_filters_page_size(self):
        self.check_all_once("describe-traffic-mirror-filters", "TrafficMirrorFilters",
                            "TrafficMirrorFilterId", self.filters)

    def test_targets_page_size(self):
        self.check_all_once("describe-traffic-mirror-targets", "TrafficMirrorTargets",
                            "TrafficMirrorTargetId", self.targets)

    def test_network_interfaces_page_size(self):
        d = self.cli_ok("describe-network-interfaces", "--page-size", "5")
        got = [x["NetworkInterfaceId"] for x in d["NetworkInterfaces"]]
        self.assertEqual(len(got), len(set(got)))
        self.assertTrue(set(self.enis) <= set(got))
        self.assertEqual(len(got), 2 * self.N - 1)

    def test_tags_page_size(self):
        d = self.cli_ok("describe-tags", "--page-size", "5", "--filters",
                        filters(("key", ["set"])))
        got = [(t["ResourceId"], t["Key"]) for t in d["Tags"]]
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(sorted(r for r, _ in got),
                         sorted(self.sessions + self.filters + self.targets))

    def test_max_items_and_starting_token(self):
        first = self.cli_ok("describe-traffic-mirror-sessions", "--page-size", "5",
                            "--max-items", "7")
        self.assertEqual(len(first["TrafficMirrorSessions"]), 7)
        self.assertIn("NextToken", first)
        rest = self.cli_ok("describe-traffic-mirror-sessions", "--page-size", "5",
                           "--starting-token", first["NextToken"])
        got = [x["TrafficMirrorSessionId"] for x in
               first["TrafficMirrorSessions"] + rest["TrafficMirrorSessions"]]
        self.assertEqual(len(got), len(set(got)))
        self.assertEqual(sorted(got), sorted(self.sessions))

    def test_page_size_with_filter(self):
        d = self.cli_ok("describe-traffic-mirror-sessions", "--page-size", "5", "--filters",
                        filters(("network-interface-id", self.enis[:6])))
        got = [x["TrafficMirrorSessionId"] for x in d["TrafficMirrorSessions"]]
        self.assertEqual(sorted(got), sorted(self.sessions[:6]))


if __name__ == "__main__":
    unittest.main()
