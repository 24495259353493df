#include "store/shared_store.h"

#include <pthread.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace tmirror::store {

Result<std::unique_ptr<SharedStore>> SharedStore::open(const StoreLocation& location,
                                                       SharedStoreOptions options) {
  auto writer = MirrorStore::open(location);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  options.readers = std::max<std::size_t>(options.readers, 1);      // a read must find one
  options.max_group = std::max<std::size_t>(options.max_group, 1);  // a leader takes one at least
  std::vector<MirrorStore> readers;
  readers.reserve(options.readers);
  for (std::size_t i = 0; i < options.readers; ++i) {
    auto reader = MirrorStore::openReader(location);
    if (!reader) {
      return std::unexpected(reader.error());
    }
    readers.push_back(std::move(*reader));
  }
  std::unique_ptr<SharedStore> shared(
      new SharedStore(std::move(*writer), std::move(readers), options));
  if (location.postgresql()) {
    // The other replicas' commits: their NOTIFY wakes whoever waits on onCommitted().
    SharedStore* raw = shared.get();
    auto listener = ChangeListener::start(location.database_url, [raw] { raw->committed(); });
    if (!listener) {
      return std::unexpected(listener.error());
    }
    shared->listener_ = std::move(*listener);
  }
  return shared;
}

void SharedStore::onCommitted(std::function<void()> fn) {
  std::lock_guard lock(committed_mutex_);
  on_committed_ = std::move(fn);
}

void SharedStore::committed() {
  std::lock_guard lock(committed_mutex_);
  if (on_committed_) {
    on_committed_();
  }
}

uint64_t SharedStore::changeNotifications() const {
  return listener_ ? listener_->notifications() : 0;
}

SharedStore::SharedStore(MirrorStore writer, std::vector<MirrorStore> readers,
                         SharedStoreOptions options)
    : options_(options),
      account_id_(writer.accountId()),
      where_(writer.where()),
      writer_(std::move(writer)),
      readers_(std::move(readers)) {
  for (MirrorStore& reader : readers_) {
    free_readers_.push_back(&reader);
  }
  committer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "store-commit");  // for top -H, perf -t
    commitLoop();
  });
}

SharedStore::~SharedStore() {
  listener_.reset();
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queued_.notify_one();
  committer_.join();
}

void SharedStore::Waiter::finish() {
  // Notified under the lock: wait() (and the frame that holds this Waiter) cannot return
  // before finish() lets go of it.
  std::lock_guard lock(mutex_);
  done_ = true;
  finished_.notify_one();
}

void SharedStore::Waiter::wait() {
  std::unique_lock lock(mutex_);
  finished_.wait(lock, [&] { return done_; });
}

SharedStore::Lease::Lease(SharedStore& shared) : owner(shared) {
  std::unique_lock lock(owner.readers_mutex_);
  owner.reader_freed_.wait(lock, [&] { return !owner.free_readers_.empty(); });
  store = owner.free_readers_.back();
  owner.free_readers_.pop_back();
}

SharedStore::Lease::~Lease() {
  {
    std::lock_guard lock(owner.readers_mutex_);
    owner.free_readers_.push_back(store);
  }
  owner.reader_freed_.notify_one();
}

SharedStore::GroupStats SharedStore::groupStats() const {
  std::lock_guard lock(queue_mutex_);
  return stats_;
}

std::size_t SharedStore::pendingMembers() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

void SharedStore::commitAsync(Run run, Done done) {
  auto member = std::make_unique<Member>();
  member->run = std::move(run);
  member->done = std::move(done);
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back(std::move(member));
  }
  queued_.notify_one();
}

void SharedStore::commitLoop() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      return;  // stopping, and nothing is left that a caller waits for
    }
    // Everyone who queued while the last group committed.
    std::vector<std::unique_ptr<Member>> group;
    while (!queue_.empty() && group.size() < options_.max_group) {
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    runGroup(group);
    {
      std::lock_guard stats(queue_mutex_);
      ++stats_.groups;
      stats_.members += group.size();
    }
    for (const auto& m : group) {
      try {
        m->done(m->lost);
      } catch (...) {
        // A caller's completion failed; the commit thread serves the others regardless.
      }
    }
    committed();
    group.clear();  // the callbacks' captures are released outside the queue's lock
    lock.lock();
  }
}

void SharedStore::runGroup(const std::vector<std::unique_ptr<Member>>& group) {
  std::lock_guard lock(writer_mutex_);
  auto loseAll = [&](const Error& why) {
    writer_.abandonGroup();
    for (const auto& m : group) {
      m->lost = why;
    }
    std::lock_guard stats(queue_mutex_);
    ++stats_.lost;
  };
  if (auto r = writer_.beginGroup(); !r) {
    loseAll(r.error());
    return;
  }
  for (const auto& m : group) {
    try {
      m->run(writer_);
    } catch (const std::exception& e) {
      // Its savepoint was rolled back as the exception left it; the others carry on.
      m->lost = Error{ErrorCode::Internal, std::string("a request failed: ") + e.what()};
    } catch (...) {
      m->lost = Error{ErrorCode::Internal, "a request failed"};
    }
    if (!writer_.groupIntact()) {
      // SQLite rolled the whole transaction back (a full disk, an I/O error), or the
      // connection to PostgreSQL is gone: every member's writes so far are gone, so none may
      // be acknowledged.
      loseAll(writer_.connected()
                  ? Error{ErrorCode::Io, "the store rolled back a commit group; nothing was saved"}
                  : Error{ErrorCode::Unavailable,
                          "the database went away during a commit group; nothing was saved"});
      return;
    }
  }
  if (auto r = writer_.commitGroup(); !r) {
    loseAll(r.error());
  }
}

}  // namespace tmirror::store
