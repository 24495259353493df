// SharedStore: readers see committed state only and cannot write; concurrent mutations are
// committed in groups, each member still all-or-nothing; what a group acknowledged is there
// when the store is opened again.
#include "store/shared_store.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "testing/store_backends.h"

namespace tmirror::store {
namespace {

class SharedStoreTest : public testing::StoreBackendTest {
 protected:
  void SetUp() override {
    makeLocation("tmirror-shared-store-test");
    reopen();
  }

  void TearDown() override {
    store_.reset();
    removeLocation();
  }

  void reopen() {
    store_.reset();
    auto store = SharedStore::open(location_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
  }

  static FilterRecord filter(const std::string& id) {
    FilterRecord f;
    f.id = id;
    f.description = "web";
    return f;
  }

  // One member's mutation: the filter in its own transaction.
  static Result<void> addFilter(MirrorStore& s, const std::string& id) {
    auto transaction = s.transaction();
    if (!transaction) {
      return std::unexpected(transaction.error());
    }
    if (auto r = s.insertFilter(filter(id)); !r) {
      return r;
    }
    return transaction->commit();
  }

  bool readerSees(const std::string& id) {
    auto found = store_->read([&](MirrorStore& s) { return s.filter(id); });
    EXPECT_TRUE(found.has_value());
    return found && found->has_value();
  }

  // Waits (bounded) until `n` members queue behind the running group.
  void waitForPending(std::size_t n) {
    for (int i = 0; i < 5000 && store_->pendingMembers() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(store_->pendingMembers(), n);
  }

  std::unique_ptr<SharedStore> store_;
};

TEST_P(SharedStoreTest, ReadersSeeOnlyWhatIsCommitted) {
  auto done = store_->commitGrouped([&](MirrorStore& s) {
    EXPECT_TRUE(addFilter(s, "tmf-00000000000000001").has_value());
    // Written inside the group, not yet committed: another connection must not see it.
    return readerSees("tmf-00000000000000001");
  });
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_FALSE(*done);
  EXPECT_TRUE(readerSees("tmf-00000000000000001"));
}

TEST_P(SharedStoreTest, ReadersCannotWrite) {
  auto written = store_->read([](MirrorStore& s) { return s.insertFilter(filter("tmf-1")); });
  EXPECT_FALSE(written.has_value());
  auto transaction = store_->read([](MirrorStore& s) { return s.transaction().has_value(); });
  EXPECT_FALSE(transaction);
  EXPECT_FALSE(readerSees("tmf-1"));
}

TEST_P(SharedStoreTest, ConcurrentMutationsShareCommitsAndAllArriveOnce) {
  constexpr int kThreads = 8;
  constexpr int kEach = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "tmf-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = store_->commitGrouped([&](MirrorStore& s) { return addFilter(s, id); });
        if (!r || !*r) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures, 0);
  const auto stats = store_->groupStats();
  EXPECT_EQ(stats.members, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_LT(stats.groups, stats.members) << "no two concurrent mutations shared a commit";
  EXPECT_EQ(stats.lost, 0u);
  // Durable: all there after reopening.
  reopen();
  auto all = store_->read([](MirrorStore& s) { return s.filters(); });
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), static_cast<std::size_t>(kThreads * kEach));
}

// Three members in one group: the one that fails (an early return, an exception) leaves
// nothing; the others are committed.
TEST_P(SharedStoreTest, AFailedMemberUndoesOnlyItself) {
  // The first group holds its commit until the three others queued behind it: they then
  // form the second group together.
  std::promise<void> leading;
  auto first = std::async(std::launch::async, [&] {
    return store_->commitGrouped([&](MirrorStore& s) {
      leading.set_value();
      auto r = addFilter(s, "tmf-first");
      waitForPending(3);
      return r;
    });
  });
  leading.get_future().wait();
  auto ok = std::async(std::launch::async, [&] {
    return store_->commitGrouped([](MirrorStore& s) { return addFilter(s, "tmf-ok"); });
  });
  auto abandoned = std::async(std::launch::async, [&] {
    return store_->commitGrouped([](MirrorStore& s) -> Result<void> {
      auto transaction = s.transaction();
      EXPECT_TRUE(transaction.has_value());
      EXPECT_TRUE(s.insertFilter(filter("tmf-abandoned")).has_value());
      return makeError(ErrorCode::InvalidArgument, "refused after writing");  // rolls back
    });
  });
  auto thrown = std::async(std::launch::async, [&] {
    return store_->commitGrouped([](MirrorStore& s) -> Result<void> {
      auto transaction = s.transaction();
      EXPECT_TRUE(transaction.has_value());
      EXPECT_TRUE(s.insertFilter(filter("tmf-thrown")).has_value());
      throw std::runtime_error("boom");
    });
  });
  auto first_result = first.get();
  ASSERT_TRUE(first_result.has_value());
  EXPECT_TRUE(first_result->has_value());
  auto ok_result = ok.get();
  ASSERT_TRUE(ok_result.has_value());
  EXPECT_TRUE(ok_result->has_value());
  auto abandoned_result = abandoned.get();
  ASSERT_TRUE(abandoned_result.has_value()) << "the group was not lost";
  EXPECT_FALSE(abandoned_result->has_value()) << "its own refusal comes back";
  auto thrown_result = thrown.get();
  ASSERT_FALSE(thrown_result.has_value());
  EXPECT_NE(thrown_result.error().message.find("boom"), std::string::npos);

  const auto stats = store_->groupStats();
  EXPECT_EQ(stats.groups, 2u);
  EXPECT_EQ(stats.members, 4u);
  reopen();
  EXPECT_TRUE(readerSees("tmf-first"));
  EXPECT_TRUE(readerSees("tmf-ok"));
  EXPECT_FALSE(readerSees("tmf-abandoned"));
  EXPECT_FALSE(readerSees("tmf-thrown"));
}

// commitAsync: the caller goes on at once; done says the member is durable, on the commit
// thread, after the member's run; a member still queued when the store closes is committed.
TEST_P(SharedStoreTest, AnAsyncMemberIsAnsweredOnceDurableAndTheCallerDoesNotWait) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<std::thread::id> ran_on;
  std::promise<std::optional<Error>> done;
  store_->commitAsync(
      [&](MirrorStore& s) {
        ran_on.set_value(std::this_thread::get_id());
        released.wait();  // the caller below must not be waiting for this
        ASSERT_TRUE(addFilter(s, "tmf-async").has_value());
      },
      [&](const std::optional<Error>& lost) { done.set_value(lost); });
  // Back here while the member runs: the commit thread, not this one, runs it.
  const auto runner = ran_on.get_future().get();
  EXPECT_NE(runner, std::this_thread::get_id());
  auto answer = done.get_future();
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "done came before the member's commit";
  release.set_value();
  const auto lost = answer.get();
  EXPECT_FALSE(lost.has_value()) << lost->message;
  EXPECT_TRUE(readerSees("tmf-async")) << "done came before the commit was visible";

  // Queued behind a held group when the store closes: committed, and answered, before close.
  std::promise<void> hold;
  auto held = hold.get_future().share();
  std::promise<void> holding;
  std::atomic<int> answered = 0;
  store_->commitAsync(
      [&](MirrorStore&) {
        holding.set_value();
        held.wait();
      },
      [&](const std::optional<Error>&) { ++answered; });
  holding.get_future().wait();
  store_->commitAsync([](MirrorStore& s) { ASSERT_TRUE(addFilter(s, "tmf-last").has_value()); },
                      [&](const std::optional<Error>& last_lost) {
                        EXPECT_FALSE(last_lost.has_value());
                        ++answered;
                      });
  waitForPending(1);
  hold.set_value();
  reopen();
  EXPECT_EQ(answered, 2);
  EXPECT_TRUE(readerSees("tmf-last"));
}

INSTANTIATE_TEST_SUITE_P(Stores, SharedStoreTest, testing::kStoreBackends,
                         testing::storeBackendName);

}  // namespace
}  // namespace tmirror::store
