// DescribeInstances: hosts whose agent registered, with their interfaces, as EC2 shapes them.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "api/traffic_mirror_api.h"
#include "store/shared_store.h"
#include "testing/store_backends.h"
#include "testing/xml_fields.h"

namespace tmirror::api {
namespace {

class DescribeInstancesTest : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    makeLocation("tmirror-instances-test");
    auto store = store::SharedStore::open(location_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
    api_ = std::make_unique<TrafficMirrorApi>(
        *store_, ApiLimits{},
        [](const HttpRequestView&, const SecretLookup&) -> ApiResult<std::string> {
          return std::string("test");
        });
    for (int i = 1; i <= 7; ++i) {
      store::InstanceRecord host;
      host.id = "i-0000000000000000" + std::to_string(i);
      host.host_key = "host-" + std::to_string(i);
      host.hostname = "web-" + std::to_string(i);
      ASSERT_TRUE(
          store_->write([&](store::MirrorStore& s) { return s.upsertInstance(host); }).has_value());
      store::NetworkInterfaceRecord eni;
      eni.id = "eni-0000000000000000" + std::to_string(i);
      eni.subnet_id = "subnet-00000000";
      eni.mac = "02:00:00:00:00:0" + std::to_string(i);
      eni.private_ip = "10.0.0." + std::to_string(i);
      eni.instance_id = host.id;
      ASSERT_TRUE(
          store_->write([&](store::MirrorStore& s) { return s.insertNetworkInterface(eni); })
              .has_value());
    }
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

  std::unique_ptr<store::SharedStore> store_;
  std::unique_ptr<TrafficMirrorApi> api_;
};

TEST_P(DescribeInstancesTest, ListsEachRegisteredHostWithItsInterfaces) {
  const HttpResponse r = call("Action=DescribeInstances&Version=2016-11-15");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(testing::xmlFields(r.body, "instanceId").size(), 7u);
  EXPECT_EQ(testing::xmlField(r.body, "reservationId"), "r-00000000000000001");
  EXPECT_EQ(testing::xmlField(r.body, "privateDnsName"), "web-1");
  EXPECT_EQ(testing::xmlField(r.body, "networkInterfaceId"), "eni-00000000000000001");
  EXPECT_EQ(testing::xmlField(r.body, "macAddress"), "02:00:00:00:00:01");
  EXPECT_EQ(testing::xmlField(r.body, "privateIpAddress"), "10.0.0.1");
}

TEST_P(DescribeInstancesTest, FiltersByIdHostNameAndInterface) {
  HttpResponse r = call(
      "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=private-dns-name"
      "&Filter.1.Value.1=web-3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(testing::xmlFields(r.body, "instanceId"),
            std::vector<std::string>{"i-00000000000000003"});
  r = call(
      "Action=DescribeInstances&Version=2016-11-15"
      "&Filter.1.Name=network-interface.network-interface-id&Filter.1.Value.1="
      "eni-00000000000000005");
  EXPECT_EQ(testing::xmlFields(r.body, "instanceId"),
            std::vector<std::string>{"i-00000000000000005"});
  r = call("Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-00000000000000002");
  EXPECT_EQ(testing::xmlFields(r.body, "instanceId"),
            std::vector<std::string>{"i-00000000000000002"});
}

TEST_P(DescribeInstancesTest, UnknownIdIsNotFoundAndPagesCoverEveryHostOnce) {
  HttpResponse r =
      call("Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(testing::xmlField(r.body, "Code"), "InvalidInstanceID.NotFound");
  r = call("Action=DescribeInstances&Version=2016-11-15&MaxResults=5");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(testing::xmlFields(r.body, "instanceId").size(), 5u);
  const std::string token = testing::xmlField(r.body, "nextToken");
  ASSERT_FALSE(token.empty());
  r = call("Action=DescribeInstances&Version=2016-11-15&MaxResults=5&NextToken=" + token);
  EXPECT_EQ(testing::xmlFields(r.body, "instanceId").size(), 2u);
  EXPECT_EQ(testing::xmlField(r.body, "nextToken"), "");
}

INSTANTIATE_TEST_SUITE_P(Stores, DescribeInstancesTest, testing::kStoreBackends,
                         testing::storeBackendName);

}  // namespace
}  // namespace tmirror::api
