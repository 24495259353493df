#include "agent/agent_state.h"

#include <fstream>

#include <gtest/gtest.h>

#include "model/mirror_config_json.h"
#include "rules/rules_test_util.h"

namespace tmirror::agent {
namespace {

class AgentStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tmirror-agent-state-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(AgentStateTest, IdentityIsMadeOnceAndKept) {
  auto state = AgentState::open(dir_);
  ASSERT_TRUE(state);
  auto first = state->loadOrCreateIdentity();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->host_key.size(), 32u);
  EXPECT_TRUE(first->instance_id.empty());
  first->instance_id = "i-0123456789abcdef0";
  ASSERT_TRUE(state->saveIdentity(*first));
  auto again = AgentState::open(dir_)->loadOrCreateIdentity();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->host_key, first->host_key);
  EXPECT_EQ(again->instance_id, "i-0123456789abcdef0");
  // Another state directory is another host.
  auto other = AgentState::open(dir_ / "other")->loadOrCreateIdentity();
  ASSERT_TRUE(other);
  EXPECT_NE(other->host_key, first->host_key);
}

TEST_F(AgentStateTest, DesiredStateRoundTripsAndNothingSavedIsNotAnError) {
  auto state = AgentState::open(dir_);
  ASSERT_TRUE(state);
  auto none = state->loadDesiredState();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  model::HostMirrorConfig config;
  config.revision = 17;
  auto interface = testing::makeInterface();
  interface.sessions.push_back(testing::makeSession(3, 4242));
  config.interfaces.push_back(interface);
  ASSERT_TRUE(state->saveDesiredState(config));
  auto loaded = state->loadDesiredState();
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->revision, 17u);
  EXPECT_EQ(model::hostMirrorConfigToJson(**loaded), model::hostMirrorConfigToJson(config));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "desired-state.json.tmp"));
}

TEST_F(AgentStateTest, DamagedFilesAreErrorsNotSilentResets) {
  auto state = AgentState::open(dir_);
  ASSERT_TRUE(state);
  std::ofstream(dir_ / "identity.json") << "{\"HostKey\": 5}";
  EXPECT_FALSE(state->loadOrCreateIdentity());
  std::ofstream(dir_ / "desired-state.json") << "{\"Revision\": ";
  EXPECT_FALSE(state->loadDesiredState());
}

}  // namespace
}  // namespace tmirror::agent
