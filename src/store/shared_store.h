// SharedStore: the store as the server's threads share it.
//
//   read(fn)           fn runs on a read-only connection of its own, concurrently with other
//                      reads and with the writer (SQLite's WAL); it sees committed state only.
//   commitGrouped(fn)  fn runs on the writer as one member of a commit group: the requests
//                      that arrive while one group commits wait, then run together in one
//                      transaction (each in a savepoint of its own, so that a failed member
//                      undoes only itself) and share one commit and one fsync. fn's result
//                      comes back only once the group is durable; if the group is lost, every
//                      member gets the error instead of its result.
//   write(fn)          fn has the writer alone, between groups, and makes its own transactions.
//
// The commit is led by whichever waiting caller finds no group running (leader/followers):
// no thread of its own, and under no load a request commits alone, at once.
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
#include <type_traits>
#include <vector>

#include "common/result.h"
#include "store/mirror_store.h"

namespace tmirror::store {

struct SharedStoreOptions {
  std::size_t readers = 4;     // read-only connections; more readers wait for a free one
  std::size_t max_group = 64;  // members of one commit group
};

class SharedStore {
 public:
  // Opens (creating and migrating as needed) DIR/tmirror.db.
  static Result<std::unique_ptr<SharedStore>> open(const std::filesystem::path& data_dir,
                                                   SharedStoreOptions options = {});

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

  template <typename F>
  auto commitGrouped(F&& fn) -> Result<std::invoke_result_t<F&, MirrorStore&>> {
    using R = std::invoke_result_t<F&, MirrorStore&>;
    std::optional<R> result;
    Member member;
    member.run = [&](MirrorStore& s) { result.emplace(fn(s)); };
    submit(member);
    if (member.lost) {
      return std::unexpected(*member.lost);
    }
    return std::move(*result);
  }

  struct GroupStats {
    uint64_t groups = 0;   // commits
    uint64_t members = 0;  // requests they carried
    uint64_t lost = 0;     // groups that failed as a whole
  };

  GroupStats groupStats() const;

  // Members queued for the next group (not yet taken by a leader).
  std::size_t pendingMembers() const;

 private:
  struct Member {
    std::function<void(MirrorStore&)> run;
    std::optional<Error> lost;  // why the group, or this member alone, came to nothing
    bool done = false;
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

  void submit(Member& member);
  void runGroup(const std::vector<Member*>& group);

  SharedStoreOptions options_;
  std::string account_id_;

  std::mutex writer_mutex_;
  MirrorStore writer_;

  std::mutex readers_mutex_;
  std::condition_variable reader_freed_;
  std::vector<MirrorStore> readers_;
  std::vector<MirrorStore*> free_readers_;

  mutable std::mutex queue_mutex_;
  std::condition_variable group_done_;
  std::deque<Member*> queue_;
  bool leading_ = false;
  GroupStats stats_;
};

}  // namespace tmirror::store
