"""The Traffic Mirroring lifecycle through boto3 (Debian's 1.26 or a newer one), plus quotas.

Create -> describe (ids, filters, paginators) -> modify -> delete, with waiter-style NotFound
checks on botocore ClientError codes.
"""

import time
import unittest
import urllib.request
import uuid

import botocore.exceptions

from harness import (MISSING, NLB_ARN, OWNER_RE, ServerTestCase, describe_all, error_code,
                     external_endpoint, has_operation, snapshot, tag_list, tags_of, unique)


def wait_until_gone(fn, code, timeout=10.0, **kwargs):
    """Polls like a boto3 waiter with an error matcher until ``fn`` fails with ``code``."""
    deadline = time.time() + timeout
    while True:
        try:
            fn(**kwargs)
        except botocore.exceptions.ClientError as e:
            if error_code(e) == code:
                return e
            raise
        if time.time() > deadline:
            raise AssertionError("%s still succeeds after %.0f s" % (fn.__name__, timeout))
        time.sleep(0.2)


class Boto3Lifecycle(ServerTestCase):
    def test_full_lifecycle(self):
        c = self.ec2
        src = c.create_network_interface(SubnetId=self.fx.subnet_id(), Description="source",
                                         PrivateIpAddress=self.fx.next_ip())["NetworkInterface"]
        self.assertId("eni", src["NetworkInterfaceId"])
        self.assertEqual(src["Status"], "available")
        self.assertEqual(src["InterfaceType"], "interface")
        self.assertEqual(src["Description"], "source")
        src_id = src["NetworkInterfaceId"]
        tgt_eni = self.fx.eni("collector")

        t = c.create_traffic_mirror_target(
            NetworkInterfaceId=tgt_eni, Description="eni target",
            TagSpecifications=[{"ResourceType": "traffic-mirror-target",
                                "Tags": [{"Key": "Name", "Value": "t"}]}])["TrafficMirrorTarget"]
        self.assertId("tmt", t["TrafficMirrorTargetId"])
        self.assertEqual((t["Type"], t["NetworkInterfaceId"], t["Description"]),
                         ("network-interface", tgt_eni, "eni target"))
        self.assertRegex(t["OwnerId"], OWNER_RE)
        nlb = c.create_traffic_mirror_target(NetworkLoadBalancerArn=NLB_ARN)["TrafficMirrorTarget"]
        self.assertEqual((nlb["Type"], nlb["NetworkLoadBalancerArn"]),
                         ("network-load-balancer", NLB_ARN))

        f = c.create_traffic_mirror_filter(Description="filter")["TrafficMirrorFilter"]
        fid = f["TrafficMirrorFilterId"]
        self.assertId("tmf", fid)
        self.assertEqual((f["IngressFilterRules"], f["EgressFilterRules"], f["NetworkServices"]),
                         ([], [], []))
        r_in = c.create_traffic_mirror_filter_rule(
            TrafficMirrorFilterId=fid, TrafficDirection="ingress", RuleNumber=10,
            RuleAction="accept", Protocol=6, DestinationPortRange={"FromPort": 80, "ToPort": 443},
            SourceCidrBlock="0.0.0.0/0", DestinationCidrBlock="10.0.0.0/8", Description="web"
        )["TrafficMirrorFilterRule"]
        self.assertId("tmfr", r_in["TrafficMirrorFilterRuleId"])
        self.assertEqual(r_in["DestinationPortRange"], {"FromPort": 80, "ToPort": 443})
        self.assertNotIn("SourcePortRange", r_in)
        r_out = c.create_traffic_mirror_filter_rule(
            TrafficMirrorFilterId=fid, TrafficDirection="egress", RuleNumber=10,
            RuleAction="reject", SourceCidrBlock="::/0", DestinationCidrBlock="fd00::/8"
        )["TrafficMirrorFilterRule"]
        mod = c.modify_traffic_mirror_filter_network_services(
            TrafficMirrorFilterId=fid, AddNetworkServices=["amazon-dns"])["TrafficMirrorFilter"]
        self.assertEqual(mod["NetworkServices"], ["amazon-dns"])
        self.assertEqual([x["TrafficMirrorFilterRuleId"] for x in mod["IngressFilterRules"]],
                         [r_in["TrafficMirrorFilterRuleId"]])
        self.assertEqual([x["TrafficMirrorFilterRuleId"] for x in mod["EgressFilterRules"]],
                         [r_out["TrafficMirrorFilterRuleId"]])

        s = c.create_traffic_mirror_session(
            NetworkInterfaceId=src_id, TrafficMirrorTargetId=t["TrafficMirrorTargetId"],
            TrafficMirrorFilterId=fid, SessionNumber=1, PacketLength=128, VirtualNetworkId=77,
            Description="boto3 session")["TrafficMirrorSession"]
        sid = s["TrafficMirrorSessionId"]
        self.assertId("tms", sid)
        self.assertEqual((s["NetworkInterfaceId"], s["TrafficMirrorTargetId"],
                          s["TrafficMirrorFilterId"], s["SessionNumber"], s["PacketLength"],
                          s["VirtualNetworkId"], s["Description"]),
                         (src_id, t["TrafficMirrorTargetId"], fid, 1, 128, 77, "boto3 session"))

        # describe by id and by filters
        d = c.describe_traffic_mirror_sessions(TrafficMirrorSessionIds=[sid])
        self.assertEqual(d["TrafficMirrorSessions"][0]["VirtualNetworkId"], 77)
        d = c.describe_traffic_mirror_sessions(Filters=[
            {"Name": "network-interface-id", "Values": [src_id]},
            {"Name": "traffic-mirror-filter-id", "Values": [fid]}])
        self.assertEqual([x["TrafficMirrorSessionId"] for x in d["TrafficMirrorSessions"]], [sid])
        d = c.describe_traffic_mirror_targets(Filters=[
            {"Name": "network-interface-id", "Values": [tgt_eni]}])
        self.assertEqual([x["TrafficMirrorTargetId"] for x in d["TrafficMirrorTargets"]],
                         [t["TrafficMirrorTargetId"]])
        d = c.describe_traffic_mirror_filters(TrafficMirrorFilterIds=[fid])["TrafficMirrorFilters"]
        self.assertEqual(d[0]["NetworkServices"], ["amazon-dns"])
        self.assertEqual(d[0]["IngressFilterRules"][0]["Protocol"], 6)

        # modify
        m = c.modify_traffic_mirror_session(
            TrafficMirrorSessionId=sid, TrafficMirrorTargetId=nlb["TrafficMirrorTargetId"],
            SessionNumber=3, RemoveFields=["packet-length"])["TrafficMirrorSession"]
        self.assertNotIn("PacketLength", m)
        self.assertEqual((m["SessionNumber"], m["TrafficMirrorTargetId"], m["VirtualNetworkId"]),
                         (3, nlb["TrafficMirrorTargetId"], 77))
        r = c.modify_traffic_mirror_filter_rule(
            TrafficMirrorFilterRuleId=r_in["TrafficMirrorFilterRuleId"], RuleAction="reject",
            SourcePortRange={"FromPort": 1024, "ToPort": 2048})["TrafficMirrorFilterRule"]
        self.assertEqual((r["RuleAction"], r["SourcePortRange"], r["DestinationPortRange"]),
                         ("reject", {"FromPort": 1024, "ToPort": 2048},
                          {"FromPort": 80, "ToPort": 443}))

        # delete in dependency order; each deleted thing reports NotFound afterwards
        self.assertEqual(c.delete_traffic_mirror_session(TrafficMirrorSessionId=sid)[
            "TrafficMirrorSessionId"], sid)
        wait_until_gone(c.describe_traffic_mirror_sessions,
                        "InvalidTrafficMirrorSessionId.NotFound", TrafficMirrorSessionIds=[sid])
        self.assertEqual(c.delete_traffic_mirror_filter_rule(
            TrafficMirrorFilterRuleId=r_in["TrafficMirrorFilterRuleId"])[
            "TrafficMirrorFilterRuleId"], r_in["TrafficMirrorFilterRuleId"])
        self.assertClientError("InvalidTrafficMirrorFilterRuleId.NotFound",
                               c.delete_traffic_mirror_filter_rule,
                               TrafficMirrorFilterRuleId=r_in["TrafficMirrorFilterRuleId"],
                               status=400)
        for tid in (t["TrafficMirrorTargetId"], nlb["TrafficMirrorTargetId"]):
            self.assertEqual(c.delete_traffic_mirror_target(TrafficMirrorTargetId=tid)[
                "TrafficMirrorTargetId"], tid)
            wait_until_gone(c.describe_traffic_mirror_targets,
                            "InvalidTrafficMirrorTargetId.NotFound", TrafficMirrorTargetIds=[tid])
        self.assertEqual(c.delete_traffic_mirror_filter(TrafficMirrorFilterId=fid)[
            "TrafficMirrorFilterId"], fid)
        wait_until_gone(c.describe_traffic_mirror_filters, "InvalidTrafficMirrorFilterId.NotFound",
                        TrafficMirrorFilterIds=[fid])
        # The egress rule went with its filter.
        self.assertClientError("InvalidTrafficMirrorFilterRuleId.NotFound",
                               c.modify_traffic_mirror_filter_rule,
                               TrafficMirrorFilterRuleId=r_out["TrafficMirrorFilterRuleId"],
                               RuleAction="accept")
        c.delete_network_interface(NetworkInterfaceId=src_id)
        c.delete_network_interface(NetworkInterfaceId=tgt_eni)
        wait_until_gone(c.describe_network_interfaces, "InvalidNetworkInterfaceID.NotFound",
                        NetworkInterfaceIds=[src_id])

    def test_not_found_codes(self):
        c = self.ec2
        cases = [
            (c.describe_traffic_mirror_targets, "InvalidTrafficMirrorTargetId.NotFound",
             {"TrafficMirrorTargetIds": [MISSING["tmt"]]}),
            (c.delete_traffic_mirror_target, "InvalidTrafficMirrorTargetId.NotFound",
             {"TrafficMirrorTargetId": MISSING["tmt"]}),
            (c.describe_traffic_mirror_filters, "InvalidTrafficMirrorFilterId.NotFound",
             {"TrafficMirrorFilterIds": [MISSING["tmf"]]}),
            (c.delete_traffic_mirror_filter, "InvalidTrafficMirrorFilterId.NotFound",
             {"TrafficMirrorFilterId": MISSING["tmf"]}),
            (c.modify_traffic_mirror_filter_network_services,
             "InvalidTrafficMirrorFilterId.NotFound",
             {"TrafficMirrorFilterId": MISSING["tmf"], "AddNetworkServices": ["amazon-dns"]}),
            (c.delete_traffic_mirror_filter_rule, "InvalidTrafficMirrorFilterRuleId.NotFound",
             {"TrafficMirrorFilterRuleId": MISSING["tmfr"]}),
            (c.describe_traffic_mirror_sessions, "InvalidTrafficMirrorSessionId.NotFound",
             {"TrafficMirrorSessionIds": [MISSING["tms"]]}),
            (c.delete_traffic_mirror_session, "InvalidTrafficMirrorSessionId.NotFound",
             {"TrafficMirrorSessionId": MISSING["tms"]}),
            (c.describe_network_interfaces, "InvalidNetworkInterfaceID.NotFound",
             {"NetworkInterfaceIds": [MISSING["eni"]]}),
            (c.delete_network_interface, "InvalidNetworkInterfaceID.NotFound",
             {"NetworkInterfaceId": MISSING["eni"]}),
        ]
        for fn, code, kw in cases:
            with self.subTest(op=fn.__name__):
                self.assertClientError(code, fn, status=400, **kw)

    def test_describe_with_only_filters_and_no_match_is_empty(self):
        c = self.ec2
        nothing = [{"Name": "description", "Values": [unique("nothing")]}]
        self.assertEqual(c.describe_traffic_mirror_targets(Filters=nothing)[
            "TrafficMirrorTargets"], [])
        self.assertEqual(c.describe_traffic_mirror_filters(Filters=nothing)[
            "TrafficMirrorFilters"], [])
        self.assertEqual(c.describe_traffic_mirror_sessions(Filters=nothing)[
            "TrafficMirrorSessions"], [])

    def test_packet_length_omitted_and_random_vni(self):
        tmt = self.fx.target(nlb=True)
        tmf = self.fx.filter()
        vnis = set()
        for _ in range(3):
            s = self.ec2.create_traffic_mirror_session(
                NetworkInterfaceId=self.fx.eni(), TrafficMirrorTargetId=tmt,
                TrafficMirrorFilterId=tmf, SessionNumber=1)["TrafficMirrorSession"]
            self.assertNotIn("PacketLength", s)
            self.assertTrue(1 <= s["VirtualNetworkId"] <= 16777215)
            vnis.add(s["VirtualNetworkId"])
            d = self.ec2.describe_traffic_mirror_sessions(
                TrafficMirrorSessionIds=[s["TrafficMirrorSessionId"]])["TrafficMirrorSessions"][0]
            self.assertNotIn("PacketLength", d)
            self.assertEqual(d["VirtualNetworkId"], s["VirtualNetworkId"])
        self.assertEqual(len(vnis), 3)
        # RemoveFields virtual-network-id assigns a new random VNI.
        sid = self.fx.session(self.fx.eni(), tmt, tmf, VirtualNetworkId=5)
        m = self.ec2.modify_traffic_mirror_session(
            TrafficMirrorSessionId=sid, RemoveFields=["virtual-network-id"])["TrafficMirrorSession"]
        self.assertNotEqual(m["VirtualNetworkId"], 5)
        self.assertTrue(1 <= m["VirtualNetworkId"] <= 16777215)

    def test_dry_run_412(self):
        tmt = self.fx.target(nlb=True)
        tmf = self.fx.filter()
        before = snapshot(self.ec2)
        calls = [
            (self.ec2.create_traffic_mirror_filter, {}),
            (self.ec2.create_traffic_mirror_target, {"NetworkLoadBalancerArn": NLB_ARN}),
            (self.ec2.create_traffic_mirror_filter_rule, {
                "TrafficMirrorFilterId": tmf, "TrafficDirection": "ingress", "RuleNumber": 1,
                "RuleAction": "accept", "SourceCidrBlock": "0.0.0.0/0",
                "DestinationCidrBlock": "0.0.0.0/0"}),
            (self.ec2.modify_traffic_mirror_filter_network_services, {
                "TrafficMirrorFilterId": tmf, "AddNetworkServices": ["amazon-dns"]}),
            (self.ec2.delete_traffic_mirror_filter, {"TrafficMirrorFilterId": tmf}),
            (self.ec2.delete_traffic_mirror_target, {"TrafficMirrorTargetId": tmt}),
            (self.ec2.describe_traffic_mirror_sessions, {}),
            (self.ec2.create_tags, {"Resources": [tmt], "Tags": [{"Key": "a", "Value": "b"}]}),
        ]
        for fn, kw in calls:
            with self.subTest(op=fn.__name__):
                self.assertClientError("DryRunOperation", fn, DryRun=True, status=412, **kw)
        self.assertEqual(snapshot(self.ec2), before)

    def test_client_token_idempotency(self):
        c = self.ec2
        tmt = self.fx.target(nlb=True)
        tmf = self.fx.filter()
        eni = self.fx.eni()
        tok = str(uuid.uuid4())
        kw = dict(NetworkInterfaceId=eni, TrafficMirrorTargetId=tmt, TrafficMirrorFilterId=tmf,
                  SessionNumber=2, Description="idem", ClientToken=tok)
        a = c.create_traffic_mirror_session(**kw)
        before = snapshot(c)
        b = c.create_traffic_mirror_session(**kw)
        self.assertEqual(a["TrafficMirrorSession"]["TrafficMirrorSessionId"],
                         b["TrafficMirrorSession"]["TrafficMirrorSessionId"])
        self.assertEqual(b["ClientToken"], tok)
        self.assertEqual(snapshot(c), before)
        kw["Description"] = "different"
        self.assertClientError("IdempotentParameterMismatch", c.create_traffic_mirror_session,
                               status=400, **kw)
        self.assertEqual(snapshot(c), before)
        # Without a ClientToken botocore sends a fresh one each time: two filters.
        f1 = c.create_traffic_mirror_filter(Description="same")["TrafficMirrorFilter"]
        f2 = c.create_traffic_mirror_filter(Description="same")["TrafficMirrorFilter"]
        self.assertNotEqual(f1["TrafficMirrorFilterId"], f2["TrafficMirrorFilterId"])

    def test_describe_filter_rules(self):
        fid = self.fx.filter()
        r1 = self.fx.rule(fid, 1, Protocol=17, DestinationPortRange={"FromPort": 53,
                                                                       "ToPort": 53})
        r2 = self.fx.rule(fid, 2, action="reject", src="10.0.0.0/8")
        r3 = self.fx.rule(fid, 1, direction="egress")
        if has_operation(self.ec2, "DescribeTrafficMirrorFilterRules"):
            rules = self.ec2.describe_traffic_mirror_filter_rules(
                TrafficMirrorFilterId=fid)["TrafficMirrorFilterRules"]
            self.assertEqual(sorted(r["TrafficMirrorFilterRuleId"] for r in rules),
                             sorted([r1, r2, r3]))
            rules = self.ec2.describe_traffic_mirror_filter_rules(
                TrafficMirrorFilterRuleIds=[r1, r3])["TrafficMirrorFilterRules"]
            self.assertEqual(sorted(r["TrafficMirrorFilterRuleId"] for r in rules),
                             sorted([r1, r3]))
            for name, vals, want in (("rule-action", ["reject"], [r2]),
                                     ("traffic-direction", ["egress"], [r3]),
                                     ("protocol", ["17"], [r1]),
                                     ("source-cidr-block", ["10.0.0.0/8"], [r2]),
                                     ("rule-number", ["1"], sorted([r1, r3]))):
                rules = self.ec2.describe_traffic_mirror_filter_rules(Filters=[
                    {"Name": "traffic-mirror-filter-id", "Values": [fid]},
                    {"Name": name, "Values": vals}])["TrafficMirrorFilterRules"]
                self.assertEqual(sorted(r["TrafficMirrorFilterRuleId"] for r in rules), want, name)
            self.assertClientError("InvalidTrafficMirrorFilterRuleId.NotFound",
                                   self.ec2.describe_traffic_mirror_filter_rules,
                                   TrafficMirrorFilterRuleIds=[MISSING["tmfr"]])
        else:
            resp = self.server.raw("DescribeTrafficMirrorFilterRules",
                                   [("TrafficMirrorFilterId", fid),
                                    ("Filter.1.Name", "rule-action"),
                                    ("Filter.1.Value.1", "reject")])
            self.assertEqual(resp.status, 200, resp)
            got = [x.text for x in resp.root.iter()
                   if x.tag.endswith("trafficMirrorFilterRuleId")]
            self.assertEqual(got, [r2])
            resp = self.server.raw("DescribeTrafficMirrorFilterRules",
                                   [("TrafficMirrorFilterRuleId.1", MISSING["tmfr"])])
            self.assertEqual(resp.code, "InvalidTrafficMirrorFilterRuleId.NotFound")


class Boto3Paginators(ServerTestCase):
    N = 13

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmt = cls.fx.target(nlb=True)
        cls.tmf = cls.fx.filter()
        cls.enis = [cls.fx.eni() for _ in range(cls.N)]
        cls.sessions = [cls.fx.session(e, cls.tmt, cls.tmf, tags={"k": "v%d" % (i % 2)})
                        for i, e in enumerate(cls.enis)]
        cls.filters = [cls.tmf] + [cls.fx.filter() for _ in range(cls.N - 1)]
        cls.targets = [cls.tmt] + [cls.fx.target(nlb=True) for _ in range(cls.N - 1)]

    def paginate(self, op, key, id_key, **kw):
        pages = list(self.ec2.get_paginator(op).paginate(
            PaginationConfig={"PageSize": 5}, **kw))
        for p in pages:
            self.assertLessEqual(len(p[key]), 5)
        got = [x[id_key] for p in pages for x in p[key]]
        self.assertEqual(len(got), len(set(got)), "an item came twice: %r" % got)
        return pages, got

    def test_sessions_paginator(self):
        pages, got = self.paginate("describe_traffic_mirror_sessions", "TrafficMirrorSessions",
                                   "TrafficMirrorSessionId")
        self.assertEqual(sorted(got), sorted(self.sessions))
        self.assertGreaterEqual(len(pages), 3)

    def test_sessions_paginator_with_filter(self):
        _, got = self.paginate("describe_traffic_mirror_sessions", "TrafficMirrorSessions",
                               "TrafficMirrorSessionId",
                               Filters=[{"Name": "tag:k", "Values": ["v0"]}])
        self.assertEqual(sorted(got), sorted(self.sessions[0::2]))

    def test_sessions_paginator_max_items_resume(self):
        pag = self.ec2.get_paginator("describe_traffic_mirror_sessions")
        first = pag.paginate(PaginationConfig={"PageSize": 5, "MaxItems": 8}).build_full_result()
        self.assertEqual(len(first["TrafficMirrorSessions"]), 8)
        self.assertIn("NextToken", first)
        rest = pag.paginate(PaginationConfig={"PageSize": 5, "StartingToken": first["NextToken"]}
                            ).build_full_result()
        got = [x["TrafficMirrorSessionId"] for x in
               first["TrafficMirrorSessions"] + rest["TrafficMirrorSessions"]]
        self.assertEqual(sorted(got), sorted(self.sessions))
        self.assertEqual(len(got), len(set(got)))

    def test_targets_paginator(self):
        _, got = self.paginate("describe_traffic_mirror_targets", "TrafficMirrorTargets",
                               "TrafficMirrorTargetId")
        self.assertEqual(sorted(got), sorted(self.targets))

    def test_filters_paginator(self):
        _, got = self.paginate("describe_traffic_mirror_filters", "TrafficMirrorFilters",
                               "TrafficMirrorFilterId")
        self.assertEqual(sorted(got), sorted(self.filters))

    def test_network_interfaces_paginator(self):
        _, got = self.paginate("describe_network_interfaces", "NetworkInterfaces",
                               "NetworkInterfaceId")
        self.assertEqual(sorted(got), sorted(self.enis))

    def test_tags_paginator(self):
        pages = list(self.ec2.get_paginator("describe_tags").paginate(
            Filters=[{"Name": "key", "Values": ["k"]}], PaginationConfig={"PageSize": 5}))
        got = [t["ResourceId"] for p in pages for t in p["Tags"]]
        self.assertEqual(sorted(got), sorted(self.sessions))

    def test_manual_next_token_and_max_results(self):
        resp = self.ec2.describe_traffic_mirror_sessions(MaxResults=5)
        self.assertEqual(len(resp["TrafficMirrorSessions"]), 5)
        self.assertTrue(resp.get("NextToken"))
        resp = self.ec2.describe_traffic_mirror_sessions(MaxResults=1000)
        self.assertEqual(len(resp["TrafficMirrorSessions"]), self.N)
        self.assertFalse(resp.get("NextToken"))
        all_items = describe_all(self.ec2, "describe_traffic_mirror_sessions",
                                 "TrafficMirrorSessions", MaxResults=6)
        self.assertEqual(sorted(x["TrafficMirrorSessionId"] for x in all_items),
                         sorted(self.sessions))
        self.assertClientError("InvalidPaginationToken", self.ec2.describe_traffic_mirror_sessions,
                               MaxResults=5, NextToken="garbage-token", status=400)


class Boto3Tags(ServerTestCase):
    def test_tag_filters_for_all_kinds(self):
        key, val = unique("k"), unique("v")
        eni = self.fx.eni()
        tmt = self.fx.target(nlb=True, tags={key: val})
        tmf = self.fx.filter(tags={key: val})
        tms = self.fx.session(eni, tmt, tmf, tags={key: val})
        rule = self.fx.rule(tmf, 1)
        self.ec2.create_tags(Resources=[eni, rule], Tags=[{"Key": key, "Value": val}])
        views = [
            ("describe_traffic_mirror_targets", "TrafficMirrorTargets",
             "TrafficMirrorTargetId", tmt),
            ("describe_traffic_mirror_filters", "TrafficMirrorFilters",
             "TrafficMirrorFilterId", tmf),
            ("describe_traffic_mirror_sessions", "TrafficMirrorSessions",
             "TrafficMirrorSessionId", tms),
            ("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId", eni),
        ]
        for op, key_, id_key, rid in views:
            with self.subTest(op=op):
                fn = getattr(self.ec2, op)
                for flt, want in (([{"Name": "tag:" + key, "Values": [val]}], [rid]),
                                  ([{"Name": "tag:" + key, "Values": [val.upper()]}], []),
                                  ([{"Name": "tag-key", "Values": [key]}], [rid]),
                                  ([{"Name": "tag-key", "Values": ["nope", key]}], [rid])):
                    self.assertEqual([x[id_key] for x in fn(Filters=flt)[key_]], want, flt)
        rows = self.ec2.describe_tags(Filters=[{"Name": "key", "Values": [key]}])["Tags"]
        self.assertEqual(sorted((r["ResourceType"], r["ResourceId"]) for r in rows), sorted([
            ("network-interface", eni), ("traffic-mirror-target", tmt),
            ("traffic-mirror-filter", tmf), ("traffic-mirror-session", tms),
            ("traffic-mirror-filter-rule", rule)]))
        # Tags on rules show up in describe-filters' rule entries only with newer models;
        # DescribeTags is the portable check.
        rows = self.ec2.describe_tags(Filters=[
            {"Name": "resource-type", "Values": ["traffic-mirror-filter-rule"]},
            {"Name": "resource-id", "Values": [rule]}])["Tags"]
        self.assertEqual([(r["Key"], r["Value"]) for r in rows], [(key, val)])

    def test_tag_limit_50(self):
        tmf = self.fx.filter(tags={"t%02d" % i: "v" for i in range(50)})
        f = self.ec2.describe_traffic_mirror_filters(TrafficMirrorFilterIds=[tmf])[
            "TrafficMirrorFilters"][0]
        self.assertEqual(len(f["Tags"]), 50)
        # Overwriting an existing key does not count as a new tag.
        self.ec2.create_tags(Resources=[tmf], Tags=[{"Key": "t00", "Value": "new"}])
        before = snapshot(self.ec2)
        self.assertClientError("TagLimitExceeded", self.ec2.create_tags, Resources=[tmf],
                               Tags=[{"Key": "t50", "Value": "v"}], status=400)
        self.assertEqual(snapshot(self.ec2), before)
        self.assertClientError("TagLimitExceeded", self.ec2.create_traffic_mirror_filter,
                               TagSpecifications=[{"ResourceType": "traffic-mirror-filter",
                                                   "Tags": tag_list({"k%02d" % i: "v"
                                                                     for i in range(51)})}])
        self.assertEqual(snapshot(self.ec2), before)

    def test_delete_tags_semantics(self):
        tmt = self.fx.target(nlb=True, tags={"a": "1", "b": "2", "c": ""})
        self.ec2.delete_tags(Resources=[tmt], Tags=[{"Key": "a", "Value": "wrong"}])
        self.ec2.delete_tags(Resources=[tmt], Tags=[{"Key": "c", "Value": ""}])
        t = self.ec2.describe_traffic_mirror_targets(TrafficMirrorTargetIds=[tmt])[
            "TrafficMirrorTargets"][0]
        self.assertEqual(tags_of(t), {"a": "1", "b": "2"})
        self.ec2.delete_tags(Resources=[tmt], Tags=[{"Key": "a"}])
        t = self.ec2.describe_traffic_mirror_targets(TrafficMirrorTargetIds=[tmt])[
            "TrafficMirrorTargets"][0]
        self.assertEqual(tags_of(t), {"b": "2"})


class Boto3Constraints(ServerTestCase):
    """Quotas and cross-resource rules; every rejected call leaves the state unchanged."""

    def rejected(self, code, fn, **kw):
        before = snapshot(self.ec2)
        self.assertClientError(code, fn, status=400, **kw)
        self.assertEqual(snapshot(self.ec2), before)

    def test_rule_number_unique_per_direction(self):
        fid = self.fx.filter()
        self.fx.rule(fid, 100)
        self.rejected("TrafficMirrorFilterRuleAlreadyExists",
                      self.ec2.create_traffic_mirror_filter_rule, TrafficMirrorFilterId=fid,
                      TrafficDirection="ingress", RuleNumber=100, RuleAction="reject",
                      SourceCidrBlock="10.0.0.0/8", DestinationCidrBlock="10.0.0.0/8")
        self.fx.rule(fid, 100, direction="egress")
        r = self.fx.rule(fid, 101)
        self.rejected("TrafficMirrorFilterRuleAlreadyExists",
                      self.ec2.modify_traffic_mirror_filter_rule, TrafficMirrorFilterRuleId=r,
                      RuleNumber=100)

    def test_rule_limit_10_counts_both_directions(self):
        fid = self.fx.filter()
        for i in range(5):
            self.fx.rule(fid, i + 1, direction="ingress")
            self.fx.rule(fid, i + 1, direction="egress")
        for direction in ("ingress", "egress"):
            self.rejected("TrafficMirrorFilterRuleLimitExceeded",
                          self.ec2.create_traffic_mirror_filter_rule, TrafficMirrorFilterId=fid,
                          TrafficDirection=direction, RuleNumber=50, RuleAction="accept",
                          SourceCidrBlock="0.0.0.0/0", DestinationCidrBlock="0.0.0.0/0")

    def test_three_sessions_per_source_eni(self):
        eni = self.fx.eni()
        tmt = self.fx.target(nlb=True)
        tmf = self.fx.filter()
        for n in (1, 2, 3):
            self.fx.session(eni, tmt, tmf, n)
        self.rejected("TrafficMirrorSessionsPerInterfaceLimitExceeded",
                      self.ec2.create_traffic_mirror_session, NetworkInterfaceId=eni,
                      TrafficMirrorTargetId=tmt, TrafficMirrorFilterId=tmf, SessionNumber=4)

    def test_duplicate_session_number_on_one_eni(self):
        eni = self.fx.eni()
        tmt = self.fx.target(nlb=True)
        tmf = self.fx.filter()
        self.fx.session(eni, tmt, tmf, 1)
        s2 = self.fx.session(eni, tmt, tmf, 2)
        self.rejected("InvalidParameterValue", self.ec2.create_traffic_mirror_session,
                      NetworkInterfaceId=eni, TrafficMirrorTargetId=tmt,
                      TrafficMirrorFilterId=tmf, SessionNumber=1)
        self.rejected("InvalidParameterValue", self.ec2.modify_traffic_mirror_session,
                      TrafficMirrorSessionId=s2, SessionNumber=1)
        # The same number on another ENI is fine.
        self.fx.session(self.fx.eni(), tmt, tmf, 1)

    def test_ten_sources_per_interface_target(self):
        tgt = self.fx.target(eni=self.fx.eni())
        tmf = self.fx.filter()
        srcs = [self.fx.eni() for _ in range(11)]
        for s in srcs[:10]:
            self.fx.session(s, tgt, tmf, 1)
        # A second session from an existing source is not a new source.
        self.fx.session(srcs[0], tgt, tmf, 2)
        self.rejected("TrafficMirrorSourcesPerTargetLimitExceeded",
                      self.ec2.create_traffic_mirror_session, NetworkInterfaceId=srcs[10],
                      TrafficMirrorTargetId=tgt, TrafficMirrorFilterId=tmf, SessionNumber=1)
        # Re-pointing a session from the 11th source onto the full target fails the same way.
        other = self.fx.session(srcs[10], self.fx.target(nlb=True), tmf, 1)
        self.rejected("TrafficMirrorSourcesPerTargetLimitExceeded",
                      self.ec2.modify_traffic_mirror_session, TrafficMirrorSessionId=other,
                      TrafficMirrorTargetId=tgt)

    def test_source_and_target_eni_exclusive(self):
        tmf = self.fx.filter()
        tgt_eni = self.fx.eni()
        tgt = self.fx.target(eni=tgt_eni)
        self.rejected("InvalidParameterCombination", self.ec2.create_traffic_mirror_session,
                      NetworkInterfaceId=tgt_eni, TrafficMirrorTargetId=tgt,
                      TrafficMirrorFilterId=tmf, SessionNumber=1)
        nlb = self.fx.target(nlb=True)
        self.rejected("InvalidParameterCombination", self.ec2.create_traffic_mirror_session,
                      NetworkInterfaceId=tgt_eni, TrafficMirrorTargetId=nlb,
                      TrafficMirrorFilterId=tmf, SessionNumber=1)
        src = self.fx.eni()
        self.fx.session(src, nlb, tmf, 1)
        self.rejected("InvalidParameterCombination", self.ec2.create_traffic_mirror_target,
                      NetworkInterfaceId=src)

    def test_in_use_deletes(self):
        eni = self.fx.eni()
        tgt_eni = self.fx.eni()
        tmt = self.fx.target(eni=tgt_eni)
        tmf = self.fx.filter()
        sid = self.fx.session(eni, tmt, tmf)
        self.rejected("TrafficMirrorTargetInUseException", self.ec2.delete_traffic_mirror_target,
                      TrafficMirrorTargetId=tmt)
        self.rejected("TrafficMirrorFilterInUse", self.ec2.delete_traffic_mirror_filter,
                      TrafficMirrorFilterId=tmf)
        self.rejected("InvalidNetworkInterface.InUse", self.ec2.delete_network_interface,
                      NetworkInterfaceId=tgt_eni)
        self.ec2.delete_traffic_mirror_session(TrafficMirrorSessionId=sid)
        self.ec2.delete_traffic_mirror_target(TrafficMirrorTargetId=tmt)
        self.ec2.delete_traffic_mirror_filter(TrafficMirrorFilterId=tmf)
        self.ec2.delete_network_interface(NetworkInterfaceId=tgt_eni)

    def test_delete_source_eni_deletes_its_sessions_only(self):
        tmt = self.fx.target(nlb=True)
        tmf = self.fx.filter()
        a, b = self.fx.eni(), self.fx.eni()
        sa = [self.fx.session(a, tmt, tmf, n) for n in (1, 2)]
        sb = self.fx.session(b, tmt, tmf, 1)
        self.ec2.delete_network_interface(NetworkInterfaceId=a)
        for s in sa:
            self.assertClientError("InvalidTrafficMirrorSessionId.NotFound",
                                   self.ec2.describe_traffic_mirror_sessions,
                                   TrafficMirrorSessionIds=[s])
        self.assertEqual(len(self.ec2.describe_traffic_mirror_sessions(
            TrafficMirrorSessionIds=[sb])["TrafficMirrorSessions"]), 1)



@unittest.skipIf(external_endpoint(), "the quota is a flag of the server this suite starts")
class Boto3AccountQuotas(ServerTestCase):
    """--resources-per-kind: AWS's 10,000 targets, filters and sessions per account, lowered."""

    server_args = ("--resources-per-kind", "2")

    def test_the_third_of_a_kind_is_refused_until_one_is_deleted(self):
        filters = [self.fx.filter(), self.fx.filter()]
        self.assertClientError("TrafficMirrorFilterLimitExceeded",
                               self.ec2.create_traffic_mirror_filter, status=400)
        targets = [self.fx.target(nlb=True), self.fx.target(nlb=True)]
        self.assertClientError("TrafficMirrorTargetLimitExceeded",
                               self.ec2.create_traffic_mirror_target,
                               NetworkLoadBalancerArn=NLB_ARN, status=400)
        for n in (1, 2):
            self.fx.session(self.fx.eni(), targets[0], filters[0], n)
        self.assertClientError("TrafficMirrorSessionLimitExceeded",
                               self.ec2.create_traffic_mirror_session,
                               NetworkInterfaceId=self.fx.eni(), TrafficMirrorTargetId=targets[0],
                               TrafficMirrorFilterId=filters[0], SessionNumber=3, status=400)
        self.assertEqual(len(describe_all(self.ec2, "describe_traffic_mirror_filters",
                                          "TrafficMirrorFilters")), 2)
        self.ec2.delete_traffic_mirror_filter(TrafficMirrorFilterId=filters[1])
        self.fx.filter()


@unittest.skipIf(external_endpoint(), "another server's commits are not this suite's alone")
class Boto3StoreMetrics(ServerTestCase):
    """/metrics: the group commit's transactions and the mutations they carried."""

    def test_metrics_count_the_commits_that_carried_the_mutations(self):
        def commits():
            with urllib.request.urlopen(self.server.endpoint + "/metrics", timeout=10) as r:
                text = r.read().decode()
            values = {}
            for line in text.splitlines():
                name, _, value = line.partition(" ")
                if name.startswith("tmirror_store_commit_group"):
                    values[name] = float(value)
            return values

        before = commits()
        self.assertEqual(set(before), {"tmirror_store_commit_groups",
                                       "tmirror_store_commit_group_members",
                                       "tmirror_store_commit_groups_lost"})
        fid = self.fx.filter()
        self.ec2.delete_traffic_mirror_filter(TrafficMirrorFilterId=fid)
        after = commits()
        # Two mutations, each answered only after its commit: at least one commit, at most two.
        self.assertEqual(after["tmirror_store_commit_group_members"]
                         - before["tmirror_store_commit_group_members"], 2)
        self.assertIn(after["tmirror_store_commit_groups"] - before["tmirror_store_commit_groups"],
                      (1, 2))
        self.assertEqual(after["tmirror_store_commit_groups_lost"], 0)


if __name__ == "__main__":
    unittest.main()
