// The API in process: requests as a client sends them, answers as XML, state in a real store:
// SQLite in a temporary directory, and PostgreSQL.
#include "api/traffic_mirror_api.h"

#include <unistd.h>

#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "store/shared_store.h"
#include "testing/store_backends.h"
#include "testing/xml_fields.h"

namespace tmirror::api {
namespace {

class ApiTest : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    makeLocation("tmirror-api-test");
    auto store = store::SharedStore::open(location_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
    api_ = std::make_unique<TrafficMirrorApi>(
        *store_, ApiLimits{},
        [](const HttpRequestView&, const SecretLookup&) -> ApiResult<std::string> {
          return std::string("test");
        });
  }

  void TearDown() override {
    api_.reset();
    store_.reset();
    removeLocation();
  }

  HttpResponse call(const std::string& body) {
    HttpRequestView request;
    request.method = "POST";
    request.path = "/";
    request.body = body;
    request.headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8";
    return api_->handle(request);
  }

  static std::string field(const std::string& xml, const std::string& name) {
    return testing::xmlField(xml, name);
  }

  // Creates and returns the id named `id_field` from the response, failing the test on error.
  std::string create(const std::string& body, const std::string& id_field) {
    const HttpResponse r = call(body);
    EXPECT_EQ(r.status, 200) << r.body;
    return field(r.body, id_field);
  }

  std::string errorCode(const std::string& body, int expected_status = 400) {
    const HttpResponse r = call(body);
    EXPECT_EQ(r.status, expected_status) << r.body;
    return field(r.body, "Code");
  }

  std::unique_ptr<store::SharedStore> store_;
  std::unique_ptr<TrafficMirrorApi> api_;
};

constexpr const char* kV = "&Version=2016-11-15";

TEST_P(ApiTest, EveryRequestNeedsItsVersion) {
  EXPECT_EQ(errorCode("Action=DescribeTrafficMirrorSessions"), "MissingParameter");
  EXPECT_EQ(errorCode("Action=CreateTrafficMirrorFilter"), "MissingParameter");
  EXPECT_EQ(call(std::string("Action=DescribeTrafficMirrorFilters") + kV).status, 200);
  EXPECT_EQ(call(std::string("Action=DescribeTrafficMirrorFilters") + kV).body.find("<item>"),
            std::string::npos)
      << "the refused create made nothing";
}

TEST_P(ApiTest, TextThatIsNotUtf8IsRefusedAndNeverStored) {
  EXPECT_EQ(errorCode(std::string("Action=CreateTrafficMirrorFilter&Description=a%FFb") + kV),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode(std::string("Action=CreateTrafficMirrorFilter&Description=%ED%A0%80") + kV),
            "InvalidParameterValue");
  // Well-formed UTF-8 beyond ASCII is kept as it is.
  const std::string filter =
      create(std::string("Action=CreateTrafficMirrorFilter&Description=caf%C3%A9+%E2%82%AC") + kV,
             "trafficMirrorFilterId");
  const HttpResponse described =
      call("Action=DescribeTrafficMirrorFilters&TrafficMirrorFilterId.1=" + filter + kV);
  EXPECT_EQ(field(described.body, "description"), "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST_P(ApiTest, APrivateAddressIsUsedOncePerSubnet) {
  const std::string body =
      std::string("Action=CreateNetworkInterface&PrivateIpAddress=198.51.100.77&SubnetId=");
  const std::string first = create(body + "subnet-0123abcd" + kV, "networkInterfaceId");
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(errorCode(body + "subnet-0123abcd" + kV), "InvalidIPAddress.InUse");
  EXPECT_FALSE(create(body + "subnet-4567abcd" + kV, "networkInterfaceId").empty())
      << "another subnet may hold the same address";
}

TEST_P(ApiTest, TheAnswerSaysWhichActionRanAndWhichCodeItGave) {
  HttpResponse ok = call(std::string("Action=DescribeTrafficMirrorSessions") + kV);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.action, "DescribeTrafficMirrorSessions");
  EXPECT_EQ(ok.error_code, "");
  HttpResponse refused = call(std::string("Action=CreateTrafficMirrorSession") + kV);
  EXPECT_EQ(refused.action, "CreateTrafficMirrorSession");
  EXPECT_EQ(refused.error_code, "MissingParameter");
  EXPECT_EQ(field(refused.body, "Code"), "MissingParameter");
  // What the client typed is never echoed as the action.
  HttpResponse unknown = call(std::string("Action=MadeUpAction") + kV);
  EXPECT_EQ(unknown.action, "");
  EXPECT_EQ(unknown.error_code, "InvalidAction");
  HttpResponse none = call(kV + 1);
  EXPECT_EQ(none.action, "");
  EXPECT_EQ(none.error_code, "MissingAction");
}

TEST_P(ApiTest, SessionLifecycleFromInterfacesToDelete) {
  const std::string src = create(
      std::string(
          "Action=CreateNetworkInterface&SubnetId=subnet-0123abcd&PrivateIpAddress=198.51.100.10") +
          kV,
      "networkInterfaceId");
  const std::string dst = create(
      std::string(
          "Action=CreateNetworkInterface&SubnetId=subnet-0123abcd&PrivateIpAddress=198.51.100.20") +
          kV,
      "networkInterfaceId");
  ASSERT_TRUE(testing::isLongId(src, "eni"));
  const std::string target = create(
      "Action=CreateTrafficMirrorTarget&NetworkInterfaceId=" + dst + kV, "trafficMirrorTargetId");
  const std::string filter =
      create(std::string("Action=CreateTrafficMirrorFilter&Description=web") + kV,
             "trafficMirrorFilterId");
  const std::string rule =
      create("Action=CreateTrafficMirrorFilterRule&TrafficMirrorFilterId=" + filter +
                 "&TrafficDirection=ingress&RuleNumber=10&RuleAction=accept&Protocol=6"
                 "&DestinationPortRange.FromPort=80&DestinationPortRange.ToPort=80"
                 "&SourceCidrBlock=0.0.0.0%2F0&DestinationCidrBlock=10.0.0.0%2F8" +
                 kV,
             "trafficMirrorFilterRuleId");
  ASSERT_FALSE(rule.empty());
  const HttpResponse created =
      call("Action=CreateTrafficMirrorSession&NetworkInterfaceId=" + src +
           "&TrafficMirrorTargetId=" + target + "&TrafficMirrorFilterId=" + filter +
           "&SessionNumber=1&PacketLength=128" + kV);
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string session = field(created.body, "trafficMirrorSessionId");
  const int vni = std::stoi(field(created.body, "virtualNetworkId"));
  EXPECT_GE(vni, 1);
  EXPECT_EQ(field(created.body, "packetLength"), "128");

  const HttpResponse described =
      call("Action=DescribeTrafficMirrorFilters&TrafficMirrorFilterId.1=" + filter + kV);
  EXPECT_NE(described.body.find("<ingressFilterRuleSet><item><trafficMirrorFilterRuleId>" + rule),
            std::string::npos)
      << described.body;
  EXPECT_NE(described.body.find("<destinationPortRange><fromPort>80</fromPort><toPort>80</toPort>"),
            std::string::npos);

  EXPECT_EQ(errorCode("Action=DeleteTrafficMirrorTarget&TrafficMirrorTargetId=" + target + kV),
            "TrafficMirrorTargetInUseException");
  EXPECT_EQ(errorCode("Action=DeleteTrafficMirrorFilter&TrafficMirrorFilterId=" + filter + kV),
            "TrafficMirrorFilterInUse");
  const HttpResponse modified =
      call("Action=ModifyTrafficMirrorSession&TrafficMirrorSessionId=" + session +
           "&RemoveField.1=packet-length" + kV);
  ASSERT_EQ(modified.status, 200) << modified.body;
  EXPECT_EQ(modified.body.find("<packetLength>"), std::string::npos);

  // Deleting the source interface deletes its session; then the target can go.
  EXPECT_EQ(call("Action=DeleteNetworkInterface&NetworkInterfaceId=" + src + kV).status, 200);
  EXPECT_EQ(
      errorCode("Action=DescribeTrafficMirrorSessions&TrafficMirrorSessionId.1=" + session + kV),
      "InvalidTrafficMirrorSessionId.NotFound");
  EXPECT_EQ(call("Action=DeleteTrafficMirrorTarget&TrafficMirrorTargetId=" + target + kV).status,
            200);
}

TEST_P(ApiTest, FailedMutationChangesNothing) {
  const std::string filter =
      create(std::string("Action=CreateTrafficMirrorFilter") + kV, "trafficMirrorFilterId");
  const std::string base = "Action=CreateTrafficMirrorFilterRule&TrafficMirrorFilterId=" + filter +
                           "&TrafficDirection=egress&RuleAction=accept"
                           "&SourceCidrBlock=0.0.0.0%2F0&DestinationCidrBlock=0.0.0.0%2F0";
  EXPECT_FALSE(create(base + "&RuleNumber=5" + kV, "trafficMirrorFilterRuleId").empty());
  EXPECT_EQ(errorCode(base + "&RuleNumber=5" + kV), "TrafficMirrorFilterRuleAlreadyExists");
  EXPECT_EQ(errorCode(base +
                      "&RuleNumber=6&Protocol=1&SourcePortRange.FromPort=1"
                      "&SourcePortRange.ToPort=2" +
                      kV),
            "InvalidParameterCombination");
  EXPECT_EQ(errorCode(base + "&RuleNumber=7&Bogus=1" + kV), "UnknownParameter");
  EXPECT_EQ(errorCode(base + "&RuleNumber=8&DryRun=true" + kV, 412), "DryRunOperation");
  const HttpResponse rules =
      call("Action=DescribeTrafficMirrorFilterRules&TrafficMirrorFilterId=" + filter + kV);
  int count = 0;
  for (std::size_t at = 0; (at = rules.body.find("<ruleNumber>", at)) != std::string::npos; ++at) {
    ++count;
  }
  EXPECT_EQ(count, 1) << rules.body;
}

TEST_P(ApiTest, ClientTokenMakesCreateIdempotent) {
  const std::string a =
      create(std::string("Action=CreateTrafficMirrorFilter&ClientToken=tok-1&Description=x") + kV,
             "trafficMirrorFilterId");
  const std::string b =
      create(std::string("Action=CreateTrafficMirrorFilter&ClientToken=tok-1&Description=x") + kV,
             "trafficMirrorFilterId");
  EXPECT_EQ(a, b);
  EXPECT_EQ(
      errorCode(std::string("Action=CreateTrafficMirrorFilter&ClientToken=tok-1&Description=y") +
                kV),
      "IdempotentParameterMismatch");
}

TEST_P(ApiTest, PaginationReturnsEveryItemOnce) {
  std::set<std::string> created;
  for (int i = 0; i < 12; ++i) {
    created.insert(
        create(std::string("Action=CreateTrafficMirrorFilter") + kV, "trafficMirrorFilterId"));
  }
  std::set<std::string> seen;
  std::string token;
  for (int page = 0; page < 10; ++page) {
    const HttpResponse r = call(std::string("Action=DescribeTrafficMirrorFilters&MaxResults=5") +
                                (token.empty() ? "" : "&NextToken=" + token) + kV);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& id : testing::xmlFields(r.body, "trafficMirrorFilterId")) {
      EXPECT_TRUE(seen.insert(id).second) << "seen twice";
    }
    token = field(r.body, "nextToken");
    if (token.empty()) {
      break;
    }
  }
  EXPECT_EQ(seen, created);
  EXPECT_EQ(errorCode(std::string("Action=DescribeTrafficMirrorFilters&NextToken=garbage") + kV),
            "InvalidPaginationToken");
}

TEST_P(ApiTest, RequestLevelErrors) {
  EXPECT_EQ(errorCode("Version=2016-11-15"), "MissingAction");
  EXPECT_EQ(errorCode(std::string("Action=RunInstances") + kV), "InvalidAction");
  EXPECT_EQ(errorCode("Action=DescribeTags&Bad=%zz"), "MalformedQueryString");
  EXPECT_EQ(errorCode(std::string("Action=DeleteTrafficMirrorSession") + kV), "MissingParameter");
  EXPECT_EQ(
      errorCode(std::string("Action=DeleteTrafficMirrorSession&TrafficMirrorSessionId=tms-1") + kV),
      "InvalidParameterValue");
}

TEST_P(ApiTest, EveryMutatingCallIsAuditedAcceptedOrRefused) {
  const std::string filter =
      create(std::string("Action=CreateTrafficMirrorFilter") + kV, "trafficMirrorFilterId");
  EXPECT_EQ(errorCode("Action=DeleteTrafficMirrorFilter&TrafficMirrorFilterId=tmf-00000000" +
                      std::string(kV)),
            "InvalidTrafficMirrorFilterId.NotFound");
  EXPECT_EQ(errorCode(std::string("Action=CreateTrafficMirrorSession&SessionNumber=0") + kV),
            "MissingParameter");
  (void)call(std::string("Action=DescribeTrafficMirrorFilters") + kV);
  auto log = store_->write([&](store::MirrorStore& s) { return s.auditLog(); });
  ASSERT_TRUE(log.has_value());
  std::vector<std::string> rows;
  for (const auto& e : *log) {
    rows.push_back(e.access_key_id + " " + e.action + " " + e.resource_id + " " + e.result);
  }
  ASSERT_EQ(rows.size(), 3u);  // describes are not audited
  EXPECT_EQ(rows[0], "test CreateTrafficMirrorFilter " + filter + " ok");
  EXPECT_EQ(rows[1],
            "test DeleteTrafficMirrorFilter tmf-00000000 InvalidTrafficMirrorFilterId.NotFound");
  EXPECT_EQ(rows[2].substr(0, 32), "test CreateTrafficMirrorSession ");
  EXPECT_TRUE(rows[2].ends_with("MissingParameter"));
}

INSTANTIATE_TEST_SUITE_P(Stores, ApiTest, testing::kStoreBackends, testing::storeBackendName);

}  // namespace
}  // namespace tmirror::api
