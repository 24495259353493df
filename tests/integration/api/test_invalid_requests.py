"""Table-driven invalid requests, sent raw (SigV4-signed with botocore's signer, so botocore's own
client-side validation cannot get in the way). Each case asserts the exact error code and HTTP
status, and that the whole visible state (every Describe* + DescribeTags) is unchanged.
"""

import datetime
import unittest

from harness import MISSING, NLB_ARN, ServerTestCase, snapshot

M = MISSING

# Placeholders in parameter values are filled from the fixtures built in setUpClass:
#   {eni_src}  source ENI of session {tms}      {eni_tgt}  ENI of target {tmt}
#   {eni_free} unused ENI                       {tmt_nlb}  NLB target (no sessions)
#   {tmf}      filter used by {tms}             {tmf2}     unused filter with rule {tmfr}
#   {tmfr}     ingress rule #10 of {tmf2}: TCP, dst port 80, 10.0.0.0/8 -> 0.0.0.0/0
#   {tmf50}    unused filter carrying 50 tags
#   {tmf_tok}  filter created with Description "a" and ClientToken "fixed-token-1"
RULE_OK = [("TrafficMirrorFilterId", "{tmf2}"), ("TrafficDirection", "ingress"),
           ("RuleNumber", "20"), ("RuleAction", "accept"),
           ("SourceCidrBlock", "0.0.0.0/0"), ("DestinationCidrBlock", "0.0.0.0/0")]
SESSION_OK = [("NetworkInterfaceId", "{eni_free}"), ("TrafficMirrorTargetId", "{tmt_nlb}"),
              ("TrafficMirrorFilterId", "{tmf2}"), ("SessionNumber", "1")]


def replace(base, **changes):
    """base params with some keys replaced (value None drops the key) or added."""
    out = [(k, changes.pop(k) if k in changes else v) for k, v in base]
    out += list(changes.items())
    return [(k, v) for k, v in out if v is not None]


def long(n):
    return "k" * n


# (name, action, params, expected code, expected HTTP status, extra raw_request kwargs)
CASES = [
    # --- protocol level -----------------------------------------------------------------
    ("unknown_action", "DescribeTrafficMirrorThings", [], "InvalidAction", 400, {}),
    ("missing_action", None, [("TrafficMirrorTargetId.1", "{tmt_nlb}")], "MissingAction", 400,
     {}),
    ("bad_percent_encoding", None, None, "MalformedQueryString", 400,
     {"body": "Action=DescribeTrafficMirrorTargets&Version=2016-11-15&Filter.1.Name=%ZZ"}),
    ("missing_version", "DescribeTrafficMirrorTargets", [], "MissingParameter", 400,
     {"version": None}),
    ("signed_for_another_region", "DescribeTrafficMirrorTargets", [], "AuthFailure", 401,
     {"region": "eu-west-1"}),
    # Bytes that are not UTF-8 would come back in every Describe and break its XML.
    ("description_not_utf8", None, None, "InvalidParameterValue", 400,
     {"body": "Action=CreateTrafficMirrorFilter&Version=2016-11-15&Description=ok%FF%FE"}),
    ("tag_value_overlong_utf8", None, None, "InvalidParameterValue", 400,
     {"body": "Action=CreateTrafficMirrorFilter&Version=2016-11-15"
              "&TagSpecification.1.ResourceType=traffic-mirror-filter"
              "&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=%C0%AF"}),
    ("surrogate_in_rule_description", None, None, "InvalidParameterValue", 400,
     {"body": "Action=ModifyTrafficMirrorFilterRule&Version=2016-11-15"
              "&TrafficMirrorFilterRuleId={tmfr}&Description=%ED%A0%80"}),
    ("private_ip_in_use_in_subnet", "CreateNetworkInterface",
     [("SubnetId", "{subnet}"), ("PrivateIpAddress", "{ip_src}")], "InvalidIPAddress.InUse", 400,
     {}),
    ("unknown_parameter", "DescribeTrafficMirrorTargets", [("Bogus", "1")], "UnknownParameter",
     400, {}),
    ("unknown_parameter_on_create", "CreateTrafficMirrorFilter",
     [("Description", "x"), ("NetworkInterfaceId", "{eni_free}")], "UnknownParameter", 400, {}),
    ("filter_description_is_immutable", "ModifyTrafficMirrorFilterNetworkServices",
     [("TrafficMirrorFilterId", "{tmf2}"), ("Description", "new")], "UnknownParameter", 400, {}),
    ("session_source_is_immutable", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "{tms}"), ("NetworkInterfaceId", "{eni_free}")],
     "UnknownParameter", 400, {}),
    ("missing_session_number", "CreateTrafficMirrorSession",
     replace(SESSION_OK, SessionNumber=None), "MissingParameter", 400, {}),
    ("missing_target_id_on_delete", "DeleteTrafficMirrorTarget", [], "MissingParameter", 400, {}),
    ("missing_source_cidr", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, SourceCidrBlock=None), "MissingParameter", 400, {}),
    ("missing_rule_action", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, RuleAction=None), "MissingParameter", 400, {}),
    ("missing_session_id_on_modify", "ModifyTrafficMirrorSession", [("SessionNumber", "2")],
     "MissingParameter", 400, {}),
    # --- unknown / malformed ids ---------------------------------------------------------
    ("describe_unknown_target", "DescribeTrafficMirrorTargets",
     [("TrafficMirrorTargetId.1", M["tmt"])], "InvalidTrafficMirrorTargetId.NotFound", 400, {}),
    ("describe_known_and_unknown_filter", "DescribeTrafficMirrorFilters",
     [("TrafficMirrorFilterId.1", "{tmf}"), ("TrafficMirrorFilterId.2", M["tmf"])],
     "InvalidTrafficMirrorFilterId.NotFound", 400, {}),
    ("delete_unknown_filter", "DeleteTrafficMirrorFilter", [("TrafficMirrorFilterId", M["tmf"])],
     "InvalidTrafficMirrorFilterId.NotFound", 400, {}),
    ("modify_unknown_rule", "ModifyTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", M["tmfr"]), ("RuleAction", "reject")],
     "InvalidTrafficMirrorFilterRuleId.NotFound", 400, {}),
    ("modify_unknown_session", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", M["tms"]), ("SessionNumber", "2")],
     "InvalidTrafficMirrorSessionId.NotFound", 400, {}),
    ("delete_unknown_eni", "DeleteNetworkInterface", [("NetworkInterfaceId", M["eni"])],
     "InvalidNetworkInterfaceID.NotFound", 400, {}),
    ("session_with_unknown_target", "CreateTrafficMirrorSession",
     replace(SESSION_OK, TrafficMirrorTargetId=M["tmt"]),
     "InvalidTrafficMirrorTargetId.NotFound", 400, {}),
    ("session_with_unknown_filter", "CreateTrafficMirrorSession",
     replace(SESSION_OK, TrafficMirrorFilterId=M["tmf"]),
     "InvalidTrafficMirrorFilterId.NotFound", 400, {}),
    ("session_with_unknown_eni", "CreateTrafficMirrorSession",
     replace(SESSION_OK, NetworkInterfaceId=M["eni"]), "InvalidNetworkInterfaceID.NotFound", 400,
     {}),
    ("target_with_unknown_eni", "CreateTrafficMirrorTarget",
     [("NetworkInterfaceId", M["eni"])], "InvalidNetworkInterfaceID.NotFound", 400, {}),
    ("rule_in_unknown_filter", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, TrafficMirrorFilterId=M["tmf"]), "InvalidTrafficMirrorFilterId.NotFound",
     400, {}),
    ("modify_session_to_unknown_target", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "{tms}"), ("TrafficMirrorTargetId", M["tmt"])],
     "InvalidTrafficMirrorTargetId.NotFound", 400, {}),
    ("malformed_session_id", "DescribeTrafficMirrorSessions",
     [("TrafficMirrorSessionId.1", "tms-xyz")], "InvalidParameterValue", 400, {}),
    ("wrong_prefix_target_id", "DeleteTrafficMirrorTarget",
     [("TrafficMirrorTargetId", "tmf-0123456789abcdef0")], "InvalidParameterValue", 400, {}),
    ("ten_hex_session_id", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "tms-0123456789"), ("SessionNumber", "2")],
     "InvalidParameterValue", 400, {}),
    ("uppercase_hex_filter_id", "DeleteTrafficMirrorFilter",
     [("TrafficMirrorFilterId", "tmf-0123456789ABCDEF0")], "InvalidParameterValue", 400, {}),
    # --- ranges and enums ----------------------------------------------------------------
    ("session_number_0", "CreateTrafficMirrorSession", replace(SESSION_OK, SessionNumber="0"),
     "InvalidParameterValue", 400, {}),
    ("session_number_32767", "CreateTrafficMirrorSession",
     replace(SESSION_OK, SessionNumber="32767"), "InvalidParameterValue", 400, {}),
    ("session_number_not_int", "CreateTrafficMirrorSession",
     replace(SESSION_OK, SessionNumber="one"), "InvalidParameterValue", 400, {}),
    ("vni_16777216", "CreateTrafficMirrorSession",
     replace(SESSION_OK, VirtualNetworkId="16777216"), "InvalidParameterValue", 400, {}),
    ("vni_negative", "CreateTrafficMirrorSession", replace(SESSION_OK, VirtualNetworkId="-1"),
     "InvalidParameterValue", 400, {}),
    ("packet_length_0", "CreateTrafficMirrorSession", replace(SESSION_OK, PacketLength="0"),
     "InvalidParameterValue", 400, {}),
    ("packet_length_8501", "CreateTrafficMirrorSession", replace(SESSION_OK, PacketLength="8501"),
     "InvalidParameterValue", 400, {}),
    ("modify_packet_length_8501", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "{tms}"), ("PacketLength", "8501")], "InvalidParameterValue",
     400, {}),
    ("modify_session_number_0", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "{tms}"), ("SessionNumber", "0")], "InvalidParameterValue", 400,
     {}),
    ("modify_vni_too_big", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "{tms}"), ("VirtualNetworkId", "16777216")],
     "InvalidParameterValue", 400, {}),
    ("rule_number_0", "CreateTrafficMirrorFilterRule", replace(RULE_OK, RuleNumber="0"),
     "InvalidParameterValue", 400, {}),
    ("rule_number_32767", "CreateTrafficMirrorFilterRule", replace(RULE_OK, RuleNumber="32767"),
     "InvalidParameterValue", 400, {}),
    ("protocol_256", "CreateTrafficMirrorFilterRule", replace(RULE_OK, Protocol="256"),
     "InvalidParameterValue", 400, {}),
    ("port_65536", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, Protocol="6", **{"DestinationPortRange.FromPort": "1",
                                       "DestinationPortRange.ToPort": "65536"}),
     "InvalidParameterValue", 400, {}),
    ("from_port_above_to_port", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, Protocol="17", **{"SourcePortRange.FromPort": "2000",
                                        "SourcePortRange.ToPort": "1000"}),
     "InvalidParameterValue", 400, {}),
    ("bad_cidr_text", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, SourceCidrBlock="10.0.0.300/16"), "InvalidParameterValue", 400, {}),
    ("cidr_not_a_cidr", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, DestinationCidrBlock="any"), "InvalidParameterValue", 400, {}),
    ("cidr_host_bits_set", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, SourceCidrBlock="10.0.0.1/16"), "InvalidParameterValue", 400, {}),
    ("ipv6_cidr_host_bits_set", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, SourceCidrBlock="2001:db8::1/32", DestinationCidrBlock="::/0"),
     "InvalidParameterValue", 400, {}),
    ("direction_sideways", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, TrafficDirection="sideways"), "InvalidParameterValue", 400, {}),
    ("rule_action_drop", "CreateTrafficMirrorFilterRule", replace(RULE_OK, RuleAction="drop"),
     "InvalidParameterValue", 400, {}),
    ("modify_rule_action_drop", "ModifyTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", "{tmfr}"), ("RuleAction", "drop")], "InvalidParameterValue",
     400, {}),
    ("modify_rule_bad_cidr", "ModifyTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", "{tmfr}"), ("DestinationCidrBlock", "10.1.2.3/8")],
     "InvalidParameterValue", 400, {}),
    ("network_service_foo", "ModifyTrafficMirrorFilterNetworkServices",
     [("TrafficMirrorFilterId", "{tmf2}"), ("AddNetworkService.1", "foo")],
     "InvalidParameterValue", 400, {}),
    ("remove_network_service_foo", "ModifyTrafficMirrorFilterNetworkServices",
     [("TrafficMirrorFilterId", "{tmf2}"), ("RemoveNetworkService.1", "foo")],
     "InvalidParameterValue", 400, {}),
    ("max_results_4", "DescribeTrafficMirrorSessions", [("MaxResults", "4")],
     "InvalidParameterValue", 400, {}),
    ("max_results_1001", "DescribeTrafficMirrorTargets", [("MaxResults", "1001")],
     "InvalidParameterValue", 400, {}),
    ("max_results_4_network_interfaces", "DescribeNetworkInterfaces", [("MaxResults", "4")],
     "InvalidParameterValue", 400, {}),
    ("max_results_4_filters", "DescribeTrafficMirrorFilters", [("MaxResults", "4")],
     "InvalidParameterValue", 400, {}),
    ("unknown_filter_name", "DescribeTrafficMirrorSessions",
     [("Filter.1.Name", "bogus"), ("Filter.1.Value.1", "x")], "InvalidParameterValue", 400, {}),
    ("filter_name_is_case_sensitive", "DescribeTrafficMirrorTargets",
     [("Filter.1.Name", "Description"), ("Filter.1.Value.1", "x")], "InvalidParameterValue", 400,
     {}),
    ("session_filter_name_on_filters", "DescribeTrafficMirrorFilters",
     [("Filter.1.Name", "session-number"), ("Filter.1.Value.1", "1")], "InvalidParameterValue",
     400, {}),
    ("describe_tags_unknown_filter", "DescribeTags",
     [("Filter.1.Name", "colour"), ("Filter.1.Value.1", "x")], "InvalidParameterValue", 400, {}),
    ("tag_key_aws_prefix", "CreateTags",
     [("ResourceId.1", "{tmf2}"), ("Tag.1.Key", "aws:owner"), ("Tag.1.Value", "x")],
     "InvalidParameterValue", 400, {}),
    ("tag_key_128_chars", "CreateTags",
     [("ResourceId.1", "{tmf2}"), ("Tag.1.Key", long(128)), ("Tag.1.Value", "x")],
     "InvalidParameterValue", 400, {}),
    ("tag_value_257_chars", "CreateTags",
     [("ResourceId.1", "{tmf2}"), ("Tag.1.Key", "k"), ("Tag.1.Value", "v" * 257)],
     "InvalidParameterValue", 400, {}),
    ("tag_spec_key_aws_prefix", "CreateTrafficMirrorFilter",
     [("TagSpecification.1.ResourceType", "traffic-mirror-filter"),
      ("TagSpecification.1.Tag.1.Key", "aws:x"), ("TagSpecification.1.Tag.1.Value", "v")],
     "InvalidParameterValue", 400, {}),
    ("tag_spec_value_257_on_session", "CreateTrafficMirrorSession",
     SESSION_OK + [("TagSpecification.1.ResourceType", "traffic-mirror-session"),
                   ("TagSpecification.1.Tag.1.Key", "k"),
                   ("TagSpecification.1.Tag.1.Value", "v" * 257)],
     "InvalidParameterValue", 400, {}),
    ("session_remove_field_bogus", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "{tms}"), ("RemoveField.1", "session-number")],
     "InvalidParameterValue", 400, {}),
    ("rule_remove_field_not_in_enum", "ModifyTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", "{tmfr}"), ("RemoveField.1", "packet-length")],
     "InvalidParameterValue", 400, {}),
    # --- cross-field ---------------------------------------------------------------------
    ("cidr_families_differ", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, DestinationCidrBlock="::/0"), "InvalidParameterCombination", 400, {}),
    ("modify_cidr_family_differs", "ModifyTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", "{tmfr}"), ("SourceCidrBlock", "2001:db8::/32")],
     "InvalidParameterCombination", 400, {}),
    ("port_range_with_icmp", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, Protocol="1", **{"DestinationPortRange.FromPort": "1",
                                       "DestinationPortRange.ToPort": "2"}),
     "InvalidParameterCombination", 400, {}),
    ("port_range_without_protocol", "CreateTrafficMirrorFilterRule",
     replace(RULE_OK, **{"SourcePortRange.FromPort": "1", "SourcePortRange.ToPort": "2"}),
     "InvalidParameterCombination", 400, {}),
    ("modify_rule_remove_protocol_keeps_ports", "ModifyTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", "{tmfr}"), ("RemoveField.1", "protocol")],
     "InvalidParameterCombination", 400, {}),
    ("modify_rule_protocol_icmp_keeps_ports", "ModifyTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", "{tmfr}"), ("Protocol", "1")],
     "InvalidParameterCombination", 400, {}),
    ("target_with_no_destination", "CreateTrafficMirrorTarget", [("Description", "none")],
     "InvalidParameterCombination", 400, {}),
    ("target_with_eni_and_nlb", "CreateTrafficMirrorTarget",
     [("NetworkInterfaceId", "{eni_free}"), ("NetworkLoadBalancerArn", NLB_ARN)],
     "InvalidParameterCombination", 400, {}),
    ("target_with_nlb_and_gwlbe", "CreateTrafficMirrorTarget",
     [("NetworkLoadBalancerArn", NLB_ARN),
      ("GatewayLoadBalancerEndpointId", "vpce-0123456789abcdef0")],
     "InvalidParameterCombination", 400, {}),
    ("session_source_is_a_target_eni", "CreateTrafficMirrorSession",
     replace(SESSION_OK, NetworkInterfaceId="{eni_tgt}"), "InvalidParameterCombination", 400,
     {}),
    ("target_on_a_session_source_eni", "CreateTrafficMirrorTarget",
     [("NetworkInterfaceId", "{eni_src}")], "InvalidParameterCombination", 400, {}),
    # --- conflicts and quotas ------------------------------------------------------------
    ("duplicate_rule_number", "CreateTrafficMirrorFilterRule", replace(RULE_OK, RuleNumber="10"),
     "TrafficMirrorFilterRuleAlreadyExists", 400, {}),
    ("duplicate_session_number_on_eni", "CreateTrafficMirrorSession",
     replace(SESSION_OK, NetworkInterfaceId="{eni_src}"), "InvalidParameterValue", 400, {}),
    ("delete_target_in_use", "DeleteTrafficMirrorTarget", [("TrafficMirrorTargetId", "{tmt}")],
     "TrafficMirrorTargetInUseException", 400, {}),
    ("delete_filter_in_use", "DeleteTrafficMirrorFilter", [("TrafficMirrorFilterId", "{tmf}")],
     "TrafficMirrorFilterInUse", 400, {}),
    ("delete_eni_used_by_target", "DeleteNetworkInterface", [("NetworkInterfaceId", "{eni_tgt}")],
     "InvalidNetworkInterface.InUse", 400, {}),
    ("tag_51st_key", "CreateTags",
     [("ResourceId.1", "{tmf50}"), ("Tag.1.Key", "one-more"), ("Tag.1.Value", "x")],
     "TagLimitExceeded", 400, {}),
    ("tag_spec_51_tags", "CreateTrafficMirrorFilter",
     [("TagSpecification.1.ResourceType", "traffic-mirror-filter")]
     + [("TagSpecification.1.Tag.%d.%s" % (i + 1, kv), "k%d" % i)
        for i in range(51) for kv in ("Key", "Value")],
     "TagLimitExceeded", 400, {}),
    ("garbage_next_token", "DescribeTrafficMirrorSessions",
     [("MaxResults", "5"), ("NextToken", "not-a-token")], "InvalidPaginationToken", 400, {}),
    ("garbage_next_token_targets", "DescribeTrafficMirrorTargets",
     [("NextToken", "AAAA")], "InvalidPaginationToken", 400, {}),
    ("client_token_reused_with_other_params", "CreateTrafficMirrorFilter",
     [("Description", "b"), ("ClientToken", "fixed-token-1")], "IdempotentParameterMismatch",
     400, {}),
    # --- DryRun ----------------------------------------------------------------------------
    ("dry_run_valid_create", "CreateTrafficMirrorSession", SESSION_OK + [("DryRun", "true")],
     "DryRunOperation", 412, {}),
    ("dry_run_valid_delete", "DeleteTrafficMirrorFilterRule",
     [("TrafficMirrorFilterRuleId", "{tmfr}"), ("DryRun", "true")], "DryRunOperation", 412, {}),
    ("dry_run_valid_modify", "ModifyTrafficMirrorSession",
     [("TrafficMirrorSessionId", "{tms}"), ("SessionNumber", "9"), ("DryRun", "true")],
     "DryRunOperation", 412, {}),
    ("dry_run_invalid_session_number", "CreateTrafficMirrorSession",
     replace(SESSION_OK, SessionNumber="0") + [("DryRun", "true")], "InvalidParameterValue", 400,
     {}),
    ("dry_run_unknown_id", "DeleteTrafficMirrorSession",
     [("TrafficMirrorSessionId", M["tms"]), ("DryRun", "true")],
     "InvalidTrafficMirrorSessionId.NotFound", 400, {}),
    ("dry_run_target_in_use", "DeleteTrafficMirrorTarget",
     [("TrafficMirrorTargetId", "{tmt}"), ("DryRun", "true")],
     "TrafficMirrorTargetInUseException", 400, {}),
    # --- authentication --------------------------------------------------------------------
    ("unsigned", "DescribeTrafficMirrorTargets", [], "AuthFailure", 401, {"sign": False}),
    ("unsigned_mutation", "CreateTrafficMirrorFilter", [("Description", "x")], "AuthFailure", 401,
     {"sign": False}),
    ("unknown_access_key", "DescribeTrafficMirrorTargets", [], "AuthFailure", 401,
     {"access_key": "AKIAUNKNOWNKEY000000"}),
    ("wrong_secret", "CreateTrafficMirrorFilter", [("Description", "x")], "AuthFailure", 401,
     {"secret_key": "not-the-secret"}),
    ("tampered_body", "CreateTrafficMirrorFilter", [("Description", "ok")], "AuthFailure", 401,
     {"tamper": lambda b: b.replace("Description=ok", "Description=ko")}),
    ("date_20_minutes_old", "DescribeTrafficMirrorTargets", [], "RequestExpired", None,
     {"clock_skew": datetime.timedelta(minutes=-20)}),
    ("date_20_minutes_ahead", "CreateTrafficMirrorFilter", [("Description", "x")],
     "RequestExpired", None, {"clock_skew": datetime.timedelta(minutes=20)}),
]


class InvalidRequests(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        fx = cls.fx
        f = {}
        f["eni_src"] = fx.eni("source")
        f["eni_tgt"] = fx.eni("target")
        f["eni_free"] = fx.eni("free")
        f["tmt"] = fx.target(eni=f["eni_tgt"])
        f["tmt_nlb"] = fx.target(nlb=True)
        f["tmf"] = fx.filter("used")
        f["tmf2"] = fx.filter("free")
        f["tmfr"] = fx.rule(f["tmf2"], 10, Protocol=6, src="10.0.0.0/8",
                            DestinationPortRange={"FromPort": 80, "ToPort": 80})
        f["tms"] = fx.session(f["eni_src"], f["tmt"], f["tmf"], 1)
        f["tmf50"] = fx.filter(tags={"t%02d" % i: "v" for i in range(50)})
        f["tmf_tok"] = cls.ec2.create_traffic_mirror_filter(
            Description="a", ClientToken="fixed-token-1")["TrafficMirrorFilter"][
            "TrafficMirrorFilterId"]
        f["subnet"] = fx.subnet_id()
        f["ip_src"] = cls.ec2.describe_network_interfaces(NetworkInterfaceIds=[f["eni_src"]])[
            "NetworkInterfaces"][0]["PrivateIpAddress"]
        cls.f = f

    def run_case(self, action, params, code, status, kw):
        if params is not None:
            params = [(k, v.format(**self.f)) for k, v in params]
        if "body" in kw:
            kw = dict(kw, body=kw["body"].format(**self.f))
        before = snapshot(self.ec2)
        resp = self.server.raw(action, params, **kw)
        self.assertEqual(resp.code, code, resp)
        if status is not None:
            self.assertEqual(resp.status, status, resp)
        else:
            self.assertGreaterEqual(resp.status, 400, resp)
            self.assertLess(resp.status, 500, resp)
        self.assertEqual(snapshot(self.ec2), before, "state changed by a rejected request")

    def test_fixture_state_is_as_expected(self):
        # Sanity for the table: the fixtures exist as described, and a correct request succeeds.
        resp = self.server.raw("DescribeTrafficMirrorSessions",
                               [("TrafficMirrorSessionId.1", self.f["tms"])])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.text("trafficMirrorSessionSet/item/networkInterfaceId"),
                         self.f["eni_src"])
        resp = self.server.raw("DescribeTrafficMirrorFilters",
                               [("TrafficMirrorFilterId.1", self.f["tmf50"])])
        self.assertEqual(len(resp.items("tagSet")), 50)


def _make(case):
    name, action, params, code, status, kw = case

    def test(self):
        self.run_case(action, params, code, status, kw)
    test.__doc__ = "%s -> %s" % (action, code)
    return "test_%s" % name, test


for _case in CASES:
    _name, _fn = _make(_case)
    assert not hasattr(InvalidRequests, _name), _name
    setattr(InvalidRequests, _name, _fn)


class ValidRawRequests(ServerTestCase):
    """The raw path itself works: a correct signed request succeeds, so the failures above are
    about the parameters, not the signing."""

    def test_signed_raw_create_and_describe(self):
        resp = self.server.raw("CreateTrafficMirrorFilter", [("Description", "raw ok")])
        self.assertEqual(resp.status, 200, resp)
        fid = resp.text("trafficMirrorFilter/trafficMirrorFilterId")
        self.assertRegex(fid, r"^tmf-[0-9a-f]{17}$")
        self.assertTrue(resp.text("requestId"))
        resp = self.server.raw("DescribeTrafficMirrorFilters", [("TrafficMirrorFilterId.1", fid)])
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.text("trafficMirrorFilterSet/item/description"), "raw ok")

    def test_error_envelope(self):
        resp = self.server.raw("DeleteTrafficMirrorSession",
                               [("TrafficMirrorSessionId", MISSING["tms"])])
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.code, "InvalidTrafficMirrorSessionId.NotFound")
        self.assertEqual([el.tag for el in resp.root], ["Errors", "RequestID"])
        self.assertTrue(resp.message)

    def test_list_indices_out_of_order(self):
        a = self.fx.filter("a")
        b = self.fx.filter("b")
        resp = self.server.raw("DescribeTrafficMirrorFilters",
                               [("TrafficMirrorFilterId.2", b), ("TrafficMirrorFilterId.1", a)])
        self.assertEqual(resp.status, 200, resp)
        got = sorted(el.text for el in resp.root.iter()
                     if el.tag.endswith("}trafficMirrorFilterId") or el.tag ==
                     "trafficMirrorFilterId")
        self.assertEqual(got, sorted([a, b]))

    def test_signed_with_small_clock_skew_is_accepted(self):
        resp = self.server.raw("DescribeTrafficMirrorTargets", [],
                               clock_skew=datetime.timedelta(minutes=-5))
        self.assertEqual(resp.status, 200, resp)


class AuthNone(ServerTestCase):
    """--auth none: unsigned requests are served."""

    auth = "none"

    def test_unsigned_requests_work(self):
        resp = self.server.raw("CreateTrafficMirrorFilter", [("Description", "anon")], sign=False)
        self.assertEqual(resp.status, 200, resp)
        fid = resp.text("trafficMirrorFilter/trafficMirrorFilterId")
        resp = self.server.raw("DescribeTrafficMirrorFilters", [("TrafficMirrorFilterId.1", fid)],
                               sign=False)
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.text("trafficMirrorFilterSet/item/description"), "anon")

    def test_validation_still_applies(self):
        resp = self.server.raw("DescribeTrafficMirrorSessions", [("MaxResults", "4")], sign=False)
        self.assertEqual((resp.status, resp.code), (400, "InvalidParameterValue"), resp)


if __name__ == "__main__":
    unittest.main()
