// SharedStore: the store as the server's threads share it.
//
//   read(fn)           fn runs on a read-only connection of its own, concurrently with other
//                      reads and with the writer (SQLite's WAL); it sees committed state only.
//   commitAsync(run, done)
//                      run runs on the writer as one member of a commit group: the mutations
//                      that arrive while one group commits wait, then run together in one
//                      transaction (each in a savepoint of its own, so that a failed member
//                      undoes only itself) and share one commit and one fsync. done(lost)
//                      follows once the group is durable (lost empty), or lost as a whole
//                      (lost says why; none of its members may be acknowledged). The caller
//                      does not wait: both run on the store's commit thread.
//   commitGrouped(fn)  the same for a caller that waits: fn's result comes back once the group
//                      is durable; if the group is lost, the error instead.
//   write(fn)          fn has the writer alone, between groups, and makes its own transactions.
//
// One commit thread runs the groups back to back: under load it never sleeps, and no caller
// blocks on another's commit (an API worker hands its mutation over and serves the next
// request). Under no load a mutation costs that thread one wake-up.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/result.h"
#include "store/mirror_store.h"
#include "store/postgres.h"

namespace tmirror::store {

struct SharedStoreOptions {
  std::size_t readers = 4;     // read-only connections; more readers wait for a free one
  std::size_t max_group = 64;  // members of one commit group
};

class SharedStore {
 public:
  // Opens (creating and migrating as needed) DIR/tmirror.db, or the PostgreSQL database.
  static Result<std::unique_ptr<SharedStore>> open(const StoreLocation& location,
                                                   SharedStoreOptions options = {});

  static Result<std::unique_ptr<SharedStore>> open(const std::filesystem::path& data_dir,
                                                   SharedStoreOptions options = {}) {
    return open(StoreLocation{data_dir, {}}, options);
  }

  // Where the store is, for messages (a file, or a database URL without its password).
  const std::string& where() const { return where_; }

  // Commits what is still queued, then stops the commit thread.
  ~SharedStore();

  SharedStore(const SharedStore&) = delete;
  SharedStore& operator=(const SharedStore&) = delete;

  const std::string& accountId() const { return account_id_; }

  template <typename F>
  auto read(F&& fn) {
    Lease lease(*this);
    return fn(*lease.store);
  }

  template <typename F>
  auto write(F&& fn) {
    std::lock_guard lock(writer_mutex_);
    return fn(writer_);
  }

  using Run = std::function<void(MirrorStore&)>;
  using Done = std::function<void(const std::optional<Error>& lost)>;

  // Neither callback may throw past itself: what they throw is caught and dropped.
  void commitAsync(Run run, Done done);

  template <typename F>
  auto commitGrouped(F&& fn) -> Result<std::invoke_result_t<F&, MirrorStore&>> {
    using R = std::invoke_result_t<F&, MirrorStore&>;
    std::optional<R> result;
    std::optional<Error> lost;
    Waiter waiter;
    commitAsync([&](MirrorStore& s) { result.emplace(fn(s)); },
                [&](const std::optional<Error>& why) {
                  lost = why;
                  waiter.finish();
                });
    waiter.wait();
    if (lost) {
      return std::unexpected(*lost);
    }
    return std::move(*result);
  }

  struct GroupStats {
    uint64_t groups = 0;   // commits
    uint64_t members = 0;  // requests they carried
    uint64_t lost = 0;     // groups that failed as a whole
  };

  GroupStats groupStats() const;

  // Members queued for the next group (not yet taken by the commit thread).
  std::size_t pendingMembers() const;

  // `fn` is called, from a store thread, after writes were committed: this process's commit
  // groups, and on PostgreSQL every replica's (LISTEN/NOTIFY). It must be quick (wake a
  // thread). Null stops the calls; once this returns, no call of an earlier `fn` is running.
  void onCommitted(std::function<void()> fn);

  // Notifications the PostgreSQL change feed delivered (0 on SQLite).
  uint64_t changeNotifications() const;

 private:
  struct Member {
    Run run;
    Done done;
    std::optional<Error> lost;  // why the group, or this member alone, came to nothing
  };

  // A commitGrouped caller's wait for its member's done.
  class Waiter {
   public:
    void finish();
    void wait();

   private:
    std::mutex mutex_;
    std::condition_variable finished_;
    bool done_ = false;
  };

  struct Lease {
    explicit Lease(SharedStore& shared);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SharedStore& owner;
    MirrorStore* store;
  };

  SharedStore(MirrorStore writer, std::vector<MirrorStore> readers, SharedStoreOptions options);

  void commitLoop();
  void committed();
  void runGroup(const std::vector<std::unique_ptr<Member>>& group);

  SharedStoreOptions options_;
  std::string account_id_;
  std::string where_;

  std::mutex writer_mutex_;
  MirrorStore writer_;

  std::mutex readers_mutex_;
  std::condition_variable reader_freed_;
  std::vector<MirrorStore> readers_;
  std::vector<MirrorStore*> free_readers_;

  mutable std::mutex queue_mutex_;
  std::condition_variable queued_;
  std::deque<std::unique_ptr<Member>> queue_;
  bool stopping_ = false;
  GroupStats stats_;

  std::mutex committed_mutex_;
  std::function<void()> on_committed_;

  std::thread committer_;  // started once everything above exists
  // Last: stopped first (its thread calls committed()).
  std::unique_ptr<ChangeListener> listener_;
};

}  // namespace tmirror::store
