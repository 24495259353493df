// InterfaceWorker: the data path of one source interface, on its own thread.
//
//   capture ring block -> MirrorEngine::process() per frame, in place
//                      -> rate cap -> next hop -> MirrorSender batch -> sendmmsg
//                      -> counters; the block goes back to the kernel after its copies left.
//
// The data-path thread only reads and sends: it makes no lookup, takes no lock per block and
// allocates nothing (tests/agent/data_path_no_allocation_test.cc). Beside it an upkeep thread
// resolves the next hops of the engine's targets once a second into an immutable table that
// the data path swaps in without a lock (common/handoff.h), and watches that the interface
// still exists. Every 100 ms the data path copies its counters, numbers only, into the
// published slot; report() turns them into the named report on the caller's thread.
//
// A new desired state arrives as a ready-built engine (apply()); the thread swaps it in
// between blocks, so no frame is ever half old and half new, and folds the old engine's
// counters into the retired totals so that they never go backwards.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/capture_ring.h"
#include "agent/mirror_sender.h"
#include "agent/next_hop.h"
#include "agent/rate_limiter.h"
#include "common/handoff.h"
#include "common/result.h"
#include "engine/mirror_engine.h"

namespace tmirror::agent {

struct WorkerOptions {
  RingOptions ring;
  uint64_t rate_limit_pps = 0;       // 0: no cap
  uint64_t rate_limit_bps = 0;       // bytes per second of mirror output; 0: no cap
  std::optional<int> cpu;            // pin the thread
  GsoSend send_gso = GsoSend::Auto;  // runs of copies as UDP GSO buffers (mirror_sender.h)
};

// What a worker has done since it started: the engine's counters accumulated over every
// engine it ran, plus what only the agent knows (kernel drops, why copies were skipped).
struct InterfaceReport {
  std::string name;
  std::string network_interface_id;
  engine::InterfaceCounters counters;
  std::map<std::string, engine::MirrorCounters> sessions;  // by session id
  uint64_t skipped_rate_limit = 0;
  uint64_t skipped_send_failed = 0;  // socket or queue full, send error
  uint64_t skipped_no_route = 0;
  uint64_t kernel_packets = 0;
  uint64_t kernel_drops = 0;
  uint64_t send_calls = 0;
  uint64_t raw_frames = 0;
  uint64_t routed_packets = 0;
  uint64_t send_errors = 0;  // copies the kernel refused (full, interface down, too big)
  uint64_t gso_buffers = 0;  // UDP GSO buffers sent (each two or more copies)
  uint64_t gso_copies = 0;   // copies sent inside them
  uint64_t gso_refused = 0;  // GSO buffers the kernel refused (copies then go one by one)
  int last_send_errno = 0;   // why the kernel last refused a copy
  uint64_t capture_cut = 0;  // frames larger than a ring block, mirrored as captured
  uint64_t applied_generation = 0;
  std::size_t ring_bytes = 0;
  bool offload_headers = false;  // the kernel gives per-frame offload metadata (capture_ring.h)
  std::size_t prefilter_instructions = 0;  // the kernel prefilter in effect; 0: none
  std::string prefilter_error;             // why the kernel refused it, if it did
  std::string error;                       // why the worker stopped, if it did
};

void addCounters(engine::MirrorCounters& total, const engine::MirrorCounters& more);
void addCounters(engine::InterfaceCounters& total, const engine::InterfaceCounters& more);
void addReport(InterfaceReport& total, const InterfaceReport& more);

// What the data path counts itself, beside the engine: numbers only, copied as one.
struct PathCounters {
  uint64_t skipped_rate_limit = 0;
  uint64_t skipped_send_failed = 0;
  uint64_t skipped_no_route = 0;
  uint64_t capture_cut = 0;
  uint64_t kernel_packets = 0;
  uint64_t kernel_drops = 0;
};

class InterfaceWorker {
 public:
  InterfaceWorker(std::string name, std::string network_interface_id, WorkerOptions options);
  ~InterfaceWorker();
  InterfaceWorker(const InterfaceWorker&) = delete;
  InterfaceWorker& operator=(const InterfaceWorker&) = delete;

  // open(), then starts the data-path and upkeep threads.
  Result<void> start(std::unique_ptr<engine::MirrorEngine> engine, uint64_t generation,
                     std::vector<rules::BpfInstruction> prefilter = {});

  // Opens the ring and the sender with `engine` and resolves its next hops, without starting
  // a thread: the caller may drive the data path itself with runOnce() (tests).
  // `prefilter`: the capture socket's kernel prefilter for this engine (empty: none).
  Result<void> open(std::unique_ptr<engine::MirrorEngine> engine, uint64_t generation,
                    std::vector<rules::BpfInstruction> prefilter = {});

  // Hands over a new engine (its next hops resolved first); the data path takes it before its
  // next block.
  void apply(std::unique_ptr<engine::MirrorEngine> engine, uint64_t generation,
             std::vector<rules::BpfInstruction> prefilter = {});

  // One round of the data path on the calling thread: takes a new engine and new next hops
  // if there are, waits up to `wait_ms` for a block and mirrors it, and publishes the
  // counters when 100 ms have passed. The data-path thread calls it in a loop.
  Result<void> runOnce(int wait_ms);

  // The generation whose engine is in effect on the data path.
  uint64_t appliedGeneration() const { return applied_generation_.load(); }

  // Stops the threads (idempotent); the report keeps the final counters.
  void stop();

  bool running() const { return running_.load(); }

  InterfaceReport report() const;

  const std::string& name() const { return name_; }

 private:
  void run();
  void upkeep();
  void resolveNextHops();  // hops_mutex_ held
  void takePendingEngine();
  void installPrefilter(const std::vector<rules::BpfInstruction>& prefilter);
  void processBlock();
  void flushBatch();
  // Copies the counters to the published slot. `always`: wait for report() to finish with
  // it; otherwise a busy slot is skipped (the counts are cumulative: the next one carries them).
  void publish(bool always = false);

  std::string name_;
  std::string network_interface_id_;
  WorkerOptions options_;

  // The data path's own (its thread, or the caller of runOnce()).
  std::optional<CaptureRing> ring_;
  std::unique_ptr<struct WorkerDataPath> data_path_;
  std::unique_ptr<engine::MirrorEngine> engine_;
  RateLimiter limiter_;
  PathCounters path_;
  std::chrono::steady_clock::time_point last_publish_{};

  // Control thread -> data path: the next engine.
  std::mutex pending_mutex_;
  std::unique_ptr<engine::MirrorEngine> pending_;
  uint64_t pending_generation_ = 0;
  std::vector<rules::BpfInstruction> pending_prefilter_;
  std::atomic<bool> has_pending_{false};
  std::atomic<uint64_t> applied_generation_{0};

  // Upkeep (and apply()) -> data path: the next hops of the targets, taken without a lock.
  // Guarded by hops_mutex_ (the producers'; the data path never takes it). Until the data
  // path has taken the newest engine, the table holds the targets of the engine it still
  // runs too: destinations_ is their union, and it narrows to newest_destinations_ once
  // appliedGeneration() reaches newest_generation_.
  std::mutex hops_mutex_;
  std::vector<uint32_t> destinations_;
  std::vector<uint32_t> newest_destinations_;
  uint64_t newest_generation_ = 0;
  Handoff<NextHops> hops_;
  std::atomic<bool> interface_gone_{false};

  // Published by the data path, read by report() (report_mutex_).
  mutable std::mutex report_mutex_;
  InterfaceReport retired_;  // retired engines' counters, and what is not a counter
  engine::InterfaceCounters live_counters_;
  std::vector<engine::MirrorCounters> live_sessions_;  // the engine in effect, by index
  std::vector<std::string> live_session_ids_;
  PathCounters live_path_;
  SendStatistics live_send_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::mutex upkeep_mutex_;
  std::condition_variable upkeep_wake_;
  std::thread thread_;
  std::thread upkeep_thread_;
};

}  // namespace tmirror::agent
