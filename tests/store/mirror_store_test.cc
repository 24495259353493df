// MirrorStore directly: what a mutation leaves behind, what a rollback leaves, and that all of
// it is still there when the database is opened again (a restarted server).
#include "store/mirror_store.h"

#include <filesystem>
#include <memory>

#include <gtest/gtest.h>

#include "testing/store_backends.h"

namespace tmirror::store {
namespace {

class MirrorStoreTest : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    makeLocation("tmirror-store-test");
    reopen();
  }

  void TearDown() override {
    store_.reset();
    removeLocation();
  }

  void reopen() {
    store_.reset();
    auto store = MirrorStore::open(location_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::make_unique<MirrorStore>(std::move(*store));
  }

  static FilterRecord filter(const std::string& id) {
    FilterRecord f;
    f.id = id;
    f.description = "web";
    return f;
  }

  static RuleRecord rule(const std::string& id, const std::string& filter_id, int64_t number) {
    RuleRecord r;
    r.id = id;
    r.filter_id = filter_id;
    r.direction = "ingress";
    r.rule_number = number;
    r.action = "accept";
    r.protocol = 6;
    r.source_cidr = "0.0.0.0/0";
    r.destination_cidr = "10.0.0.0/8";
    r.destination_from_port = 80;
    r.destination_to_port = 80;
    return r;
  }

  std::unique_ptr<MirrorStore> store_;
};

TEST_P(MirrorStoreTest, WhatIsWrittenIsThereAfterReopening) {
  const std::string account = store_->accountId();
  EXPECT_EQ(account.size(), 12u) << account;
  ASSERT_TRUE(store_->insertFilter(filter("tmf-01")));
  ASSERT_TRUE(store_->insertRule(rule("tmfr-01", "tmf-01", 100)));
  ASSERT_TRUE(store_->putTag("tmf-01", {"team", "net"}));
  ASSERT_TRUE(store_->insertAccessKey("AKIDTEST", "secret"));
  ASSERT_TRUE(store_->insertClientToken("CreateTrafficMirrorFilter", "tok-1", "fp", "tmf-01"));
  reopen();
  EXPECT_EQ(store_->accountId(), account) << "the account id is kept";
  auto f = store_->filter("tmf-01");
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->description, "web");
  auto rules = store_->rulesOf("tmf-01");
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].destination_from_port, 80);
  EXPECT_EQ((*rules)[0].protocol, 6);
  auto tags = store_->tagsOf("tmf-01");
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].value, "net");
  auto secret = store_->secretFor("AKIDTEST");
  ASSERT_TRUE(secret && *secret);
  EXPECT_EQ(**secret, "secret");
  auto token = store_->findClientToken("CreateTrafficMirrorFilter", "tok-1");
  ASSERT_TRUE(token && *token);
  EXPECT_EQ((*token)->resource_id, "tmf-01");
  auto other = store_->findClientToken("CreateTrafficMirrorTarget", "tok-1");
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other) << "a token belongs to one action";
}

TEST_P(MirrorStoreTest, ARolledBackTransactionLeavesNothing) {
  const int64_t before = store_->revision().value_or(-1);
  {
    auto transaction = store_->transaction();
    ASSERT_TRUE(transaction);
    ASSERT_TRUE(store_->insertFilter(filter("tmf-02")));
    ASSERT_TRUE(store_->bumpRevision());
  }  // dropped uncommitted: rolled back
  auto f = store_->filter("tmf-02");
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  EXPECT_EQ(store_->revision().value_or(-1), before);
}

TEST_P(MirrorStoreTest, ACommittedTransactionIsDurable) {
  const int64_t before = store_->revision().value_or(-1);
  auto transaction = store_->transaction();
  ASSERT_TRUE(transaction);
  ASSERT_TRUE(store_->insertFilter(filter("tmf-03")));
  ASSERT_TRUE(store_->bumpRevision());
  ASSERT_TRUE(transaction->commit());
  reopen();
  auto f = store_->filter("tmf-03");
  ASSERT_TRUE(f);
  EXPECT_TRUE(*f);
  EXPECT_EQ(store_->revision().value_or(-1), before + 1);
}

TEST_P(MirrorStoreTest, TheRevisionOnlyGoesUp) {
  int64_t last = store_->revision().value_or(-1);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->bumpRevision());
    const int64_t now = store_->revision().value_or(-1);
    EXPECT_GT(now, last);
    last = now;
  }
  reopen();
  EXPECT_EQ(store_->revision().value_or(-1), last);
}

TEST_P(MirrorStoreTest, DeletingAFilterDeletesItsRulesOnly) {
  ASSERT_TRUE(store_->insertFilter(filter("tmf-04")));
  ASSERT_TRUE(store_->insertFilter(filter("tmf-05")));
  ASSERT_TRUE(store_->insertRule(rule("tmfr-04a", "tmf-04", 100)));
  ASSERT_TRUE(store_->insertRule(rule("tmfr-04b", "tmf-04", 200)));
  ASSERT_TRUE(store_->insertRule(rule("tmfr-05a", "tmf-05", 100)));
  ASSERT_TRUE(store_->deleteFilter("tmf-04"));
  auto all = store_->rules();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, "tmfr-05a");
  EXPECT_EQ(store_->count("filters").value_or(-1), 1);
  EXPECT_EQ(store_->count("filter_rules").value_or(-1), 1);
}

TEST_P(MirrorStoreTest, TagsArePutReplacedAndDeletedByKey) {
  ASSERT_TRUE(store_->putTag("tmt-01", {"env", "prod"}));
  ASSERT_TRUE(store_->putTag("tmt-01", {"env", "test"}));  // same key: replaced
  ASSERT_TRUE(store_->putTag("tmt-01", {"owner", "net"}));
  ASSERT_TRUE(store_->putTag("tms-01", {"env", "prod"}));
  auto tags = store_->tagsOf("tmt-01");
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->size(), 2u);
  ASSERT_TRUE(store_->deleteTag("tmt-01", "env"));
  tags = store_->tagsOf("tmt-01");
  ASSERT_TRUE(tags);
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].key, "owner");
  ASSERT_TRUE(store_->deleteAllTags("tmt-01"));
  auto all = store_->allTags();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->count("tmt-01"), 0u);
  EXPECT_EQ(all->count("tms-01"), 1u);
}

TEST_P(MirrorStoreTest, AnAgentHostIsFoundByItsKeyAndKeepsItsInterfaces) {
  ASSERT_TRUE(store_->insertAgentToken("abc123"));
  EXPECT_TRUE(store_->hasAgentToken("abc123").value_or(false));
  EXPECT_FALSE(store_->hasAgentToken("other").value_or(true));
  InstanceRecord host;
  host.id = "i-00000000000000001";
  host.host_key = "machine-1";
  host.hostname = "web-1";
  ASSERT_TRUE(store_->upsertInstance(host));
  NetworkInterfaceRecord eni;
  eni.id = "eni-00000000000000001";
  eni.subnet_id = "subnet-00000000";
  eni.mac = "02:00:00:00:00:01";
  eni.instance_id = host.id;
  ASSERT_TRUE(store_->insertNetworkInterface(eni));
  reopen();
  auto found = store_->instanceByHostKey("machine-1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, host.id);
  auto interfaces = store_->interfacesOf(host.id);
  ASSERT_TRUE(interfaces);
  ASSERT_EQ(interfaces->size(), 1u);
  EXPECT_EQ((*interfaces)[0].mac, "02:00:00:00:00:01");
}

TEST_P(MirrorStoreTest, ATransactionCommitsOnceAndTheAuditLogReadsBackInOrder) {
  auto transaction = store_->transaction();
  ASSERT_TRUE(transaction);
  ASSERT_TRUE(store_->appendAudit(
      {"AKIA1", "CreateTrafficMirrorFilter", "tmf-04", "ok", "r-1", "127.0.0.1"}));
  ASSERT_TRUE(store_->appendAudit({"AKIA1", "DeleteTrafficMirrorFilter", "tmf-05",
                                   "InvalidTrafficMirrorFilterId.NotFound", "r-2", "::1"}));
  ASSERT_TRUE(transaction->commit());
  EXPECT_FALSE(transaction->commit()) << "a transaction ends once";
  auto log = store_->auditLog();
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0].resource_id, "tmf-04");
  EXPECT_EQ((*log)[0].remote_address, "127.0.0.1");
  EXPECT_EQ((*log)[1].result, "InvalidTrafficMirrorFilterId.NotFound");
  EXPECT_EQ((*log)[1].request_id, "r-2");
}

INSTANTIATE_TEST_SUITE_P(Stores, MirrorStoreTest, testing::kStoreBackends,
                         testing::storeBackendName);

}  // namespace
}  // namespace tmirror::store
