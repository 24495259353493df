#include "agent/interface_worker.h"

#include <net/if.h>
#include <pthread.h>
#include <sched.h>

#include <array>
#include <cstdio>
#include <set>

#include "agent/mirror_sender.h"
#include "agent/next_hop.h"

namespace tmirror::agent {

// The per-batch scratch of the data path: one slot and one decision per queued copy.
struct WorkerDataPath {
  explicit WorkerDataPath(MirrorSender s) : sender(std::move(s)) {}

  MirrorSender sender;
  std::array<packet::EncapSlot, kSendBatch> slots{};
  std::array<engine::Decision, kSendBatch> decisions{};
  std::array<bool, kSendBatch> sent{};
  engine::FrameWork work;  // the frame being copied
};

void addCounters(engine::MirrorCounters& total, const engine::MirrorCounters& more) {
  for (auto d : {model::TrafficDirection::Ingress, model::TrafficDirection::Egress}) {
    engine::DirectionCounters& t = total.of(d);
    const engine::DirectionCounters& m = more.of(d);
    t.mirror_bytes += m.mirror_bytes;
    t.mirror_packets += m.mirror_packets;
    t.skip_bytes += m.skip_bytes;
    t.skip_packets += m.skip_packets;
    t.truncated_packets += m.truncated_packets;
  }
}

void addCounters(engine::InterfaceCounters& total, const engine::InterfaceCounters& more) {
  addCounters(total.mirror, more.mirror);
  total.frames += more.frames;
  total.skipped += more.skipped;
  total.unknown_direction += more.unknown_direction;
  for (std::size_t i = 0; i < total.fates.size(); ++i) {
    total.fates[i] += more.fates[i];
  }
  for (std::size_t i = 0; i < total.malformed.size(); ++i) {
    total.malformed[i] += more.malformed[i];
  }
  total.offload.super_frames += more.offload.super_frames;
  total.offload.segments += more.offload.segments;
  total.offload.checksums_completed += more.offload.checksums_completed;
  for (std::size_t i = 0; i < total.offload.problems.size(); ++i) {
    total.offload.problems[i] += more.offload.problems[i];
  }
}

void addReport(InterfaceReport& total, const InterfaceReport& more) {
  addCounters(total.counters, more.counters);
  for (const auto& [id, counters] : more.sessions) {
    addCounters(total.sessions[id], counters);
  }
  total.skipped_rate_limit += more.skipped_rate_limit;
  total.skipped_send_failed += more.skipped_send_failed;
  total.skipped_no_route += more.skipped_no_route;
  total.kernel_packets += more.kernel_packets;
  total.kernel_drops += more.kernel_drops;
  total.send_calls += more.send_calls;
  total.raw_frames += more.raw_frames;
  total.routed_packets += more.routed_packets;
  total.capture_cut += more.capture_cut;
  total.send_errors += more.send_errors;
  total.gso_buffers += more.gso_buffers;
  total.gso_copies += more.gso_copies;
  total.gso_refused += more.gso_refused;
  if (more.last_send_errno != 0) {
    total.last_send_errno = more.last_send_errno;
  }
}

InterfaceWorker::InterfaceWorker(std::string name, std::string network_interface_id,
                                 WorkerOptions options)
    : name_(std::move(name)),
      network_interface_id_(std::move(network_interface_id)),
      options_(options),
      limiter_(options.rate_limit_pps, options.rate_limit_bps) {
  retired_.name = name_;
  retired_.network_interface_id = network_interface_id_;
}

InterfaceWorker::~InterfaceWorker() {
  stop();
}

namespace {

// The IPv4 targets `e` sends to.
std::vector<uint32_t> targetsOf(const engine::MirrorEngine& e) {
  std::set<uint32_t> targets;
  for (std::size_t i = 0; i < e.sessionCount(); ++i) {
    for (const packet::IpAddress& address : e.session(i).target.addresses) {
      if (address.family == packet::IpFamily::V4) {
        targets.insert(static_cast<uint32_t>(address.value));
      }
    }
  }
  return {targets.begin(), targets.end()};
}

}  // namespace

Result<void> InterfaceWorker::open(std::unique_ptr<engine::MirrorEngine> engine,
                                   uint64_t generation,
                                   std::vector<rules::BpfInstruction> prefilter) {
  auto ring = CaptureRing::open(name_, options_.ring);
  if (!ring) {
    return std::unexpected(std::move(ring.error()).withContext(name_));
  }
  auto sender = MirrorSender::open(options_.send_gso);
  if (!sender) {
    return std::unexpected(std::move(sender.error()).withContext(name_));
  }
  ring_.emplace(std::move(*ring));
  data_path_ = std::make_unique<WorkerDataPath>(std::move(*sender));
  {
    std::lock_guard lock(report_mutex_);
    retired_.ring_bytes = ring_->mappedBytes();
    retired_.offload_headers = ring_->hasOffloadHeaders();
  }
  // The first engine goes the way every later one does, so that the data path takes it,
  // its prefilter and its next hops before the first frame.
  apply(std::move(engine), generation, std::move(prefilter));
  takePendingEngine();
  hops_.take();
  last_publish_ = std::chrono::steady_clock::now();
  publish(/*always=*/true);
  return {};
}

Result<void> InterfaceWorker::start(std::unique_ptr<engine::MirrorEngine> engine,
                                    uint64_t generation,
                                    std::vector<rules::BpfInstruction> prefilter) {
  if (auto opened = open(std::move(engine), generation, std::move(prefilter)); !opened) {
    return opened;
  }
  running_ = true;
  thread_ = std::thread([this] { run(); });
  upkeep_thread_ = std::thread([this] { upkeep(); });
  return {};
}

void InterfaceWorker::apply(std::unique_ptr<engine::MirrorEngine> engine, uint64_t generation,
                            std::vector<rules::BpfInstruction> prefilter) {
  {
    // The hops first: the data path takes them with the engine or before it.
    std::lock_guard lock(hops_mutex_);
    newest_destinations_ = engine ? targetsOf(*engine) : std::vector<uint32_t>{};
    newest_generation_ = generation;
    // The engine in effect keeps its hops until the data path has swapped it out.
    std::vector<uint32_t> both = destinations_;
    both.insert(both.end(), newest_destinations_.begin(), newest_destinations_.end());
    destinations_ = std::move(both);
    resolveNextHops();
  }
  std::lock_guard lock(pending_mutex_);
  pending_ = std::move(engine);
  pending_generation_ = generation;
  pending_prefilter_ = std::move(prefilter);
  has_pending_.store(true, std::memory_order_release);
}

void InterfaceWorker::resolveNextHops() {
  if (applied_generation_.load() >= newest_generation_) {
    destinations_ = newest_destinations_;  // the older engine is gone from the data path
  }
  hops_.post(NextHops::resolve(destinations_));
}

void InterfaceWorker::stop() {
  {
    std::lock_guard lock(upkeep_mutex_);
    stop_ = true;
  }
  upkeep_wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
  if (upkeep_thread_.joinable()) {
    upkeep_thread_.join();
  }
}

void InterfaceWorker::upkeep() {
  // Next hops live a second, like the kernel's answers they come from.
  constexpr auto kHopLifetime = std::chrono::seconds(1);
  constexpr auto kInterfaceCheck = std::chrono::milliseconds(100);
  auto next_hops = std::chrono::steady_clock::now() + kHopLifetime;
  const int ifindex = ring_->ifindex();
  std::unique_lock lock(upkeep_mutex_);
  while (!stop_.load()) {
    upkeep_wake_.wait_for(lock, kInterfaceCheck, [this] { return stop_.load(); });
    if (stop_.load()) {
      break;
    }
    lock.unlock();
    char current[IF_NAMESIZE] = {};
    if (::if_indextoname(static_cast<unsigned>(ifindex), current) == nullptr || name_ != current) {
      interface_gone_.store(true, std::memory_order_relaxed);
    }
    if (const auto now = std::chrono::steady_clock::now(); now >= next_hops) {
      next_hops = now + kHopLifetime;
      std::lock_guard hops_lock(hops_mutex_);
      resolveNextHops();
    }
    lock.lock();
  }
}

InterfaceReport InterfaceWorker::report() const {
  std::lock_guard lock(report_mutex_);
  InterfaceReport r = retired_;
  addCounters(r.counters, live_counters_);
  for (std::size_t i = 0; i < live_sessions_.size() && i < live_session_ids_.size(); ++i) {
    addCounters(r.sessions[live_session_ids_[i]], live_sessions_[i]);
  }
  r.skipped_rate_limit = live_path_.skipped_rate_limit;
  r.skipped_send_failed = live_path_.skipped_send_failed;
  r.skipped_no_route = live_path_.skipped_no_route;
  r.capture_cut = live_path_.capture_cut;
  r.kernel_packets = live_path_.kernel_packets;
  r.kernel_drops = live_path_.kernel_drops;
  r.send_calls = live_send_.send_calls;
  r.raw_frames = live_send_.raw_frames;
  r.routed_packets = live_send_.routed_packets;
  r.send_errors = live_send_.errors + live_send_.would_block;
  r.gso_buffers = live_send_.gso_buffers;
  r.gso_copies = live_send_.gso_copies;
  r.gso_refused = live_send_.gso_refused;
  r.last_send_errno = live_send_.last_errno;
  return r;
}

void InterfaceWorker::takePendingEngine() {
  if (!has_pending_.load(std::memory_order_acquire)) {
    return;
  }
  std::unique_ptr<engine::MirrorEngine> next;
  uint64_t generation = 0;
  std::vector<rules::BpfInstruction> prefilter;
  {
    std::lock_guard lock(pending_mutex_);
    next = std::move(pending_);
    generation = pending_generation_;
    prefilter = std::move(pending_prefilter_);
    has_pending_.store(false, std::memory_order_relaxed);
  }
  // Frames already in the ring passed the old prefilter; the new engine decides on them.
  installPrefilter(prefilter);
  std::vector<std::string> ids;
  if (next) {
    for (std::size_t i = 0; i < next->sessionCount(); ++i) {
      ids.push_back(next->session(i).id);
    }
  }
  {
    // The old engine's counters move to the retired totals in the same step in which the
    // live ones restart from zero: a report never counts them twice or loses them.
    std::lock_guard lock(report_mutex_);
    if (engine_) {
      addCounters(retired_.counters, engine_->counters());
      for (std::size_t i = 0; i < engine_->sessionCount(); ++i) {
        addCounters(retired_.sessions[engine_->session(i).id], engine_->sessionCounters(i));
      }
    }
    live_counters_ = {};
    live_sessions_.assign(ids.size(), engine::MirrorCounters{});
    live_session_ids_ = std::move(ids);
    retired_.applied_generation = generation;
  }
  engine_ = std::move(next);
  applied_generation_.store(generation);
}

void InterfaceWorker::installPrefilter(const std::vector<rules::BpfInstruction>& prefilter) {
  auto set = ring_->setFilter(prefilter);
  std::string error;
  if (!set) {
    // Refused: capture everything (the engine alone decides) and say why.
    error = set.error().message;
    (void)ring_->setFilter({});
  }
  std::lock_guard lock(report_mutex_);
  retired_.prefilter_instructions = set ? prefilter.size() : 0;
  retired_.prefilter_error = std::move(error);
}

void InterfaceWorker::publish(bool always) {
  // Numbers into storage sized when the engine came: no allocation, no map.
  const SendStatistics& s = data_path_->sender.statistics();
  std::unique_lock lock(report_mutex_, std::defer_lock);
  if (always) {
    lock.lock();
  } else if (!lock.try_lock()) {
    return;  // report() is copying: never wait for it on the data path
  }
  live_path_ = path_;
  live_send_ = s;
  if (engine_) {
    live_counters_ = engine_->counters();
    for (std::size_t i = 0; i < live_sessions_.size(); ++i) {
      live_sessions_[i] = engine_->sessionCounters(i);
    }
  }
}

void InterfaceWorker::flushBatch() {
  WorkerDataPath& dp = *data_path_;
  const std::size_t n = dp.sender.size();
  if (n == 0) {
    return;
  }
  dp.sender.flush(dp.sent);
  for (std::size_t i = 0; i < n; ++i) {
    if (dp.sent[i]) {
      engine_->recordSent(dp.decisions[i]);
    } else {
      engine_->recordSkipped(dp.decisions[i]);
      ++path_.skipped_send_failed;
    }
  }
}

namespace {

// A target missing from the table (not expected: the table holds the targets of the engine in
// effect and of the one handed over next) goes through the kernel's IP layer.
const NextHop kThroughTheKernel{};

}  // namespace

void InterfaceWorker::processBlock() {
  WorkerDataPath& dp = *data_path_;
  const NextHops* hops = hops_.current();
  ring_->visitBlock([&](const CapturedFrame& frame) {
    if (!engine_) {
      return;
    }
    if (frame.packet_type > PACKET_OUTGOING || frame.packet_type == PACKET_OTHERHOST) {
      // PACKET_LOOPBACK and kernel-internal types: our own multicast echoed back, seen once
      // already as outgoing. PACKET_OTHERHOST: a promiscuous interface hearing frames for
      // other hosts, which are not this interface's traffic (AWS never shows them either).
      engine_->recordUnknownDirection();
      return;
    }
    const auto direction =
        frame.outgoing() ? model::TrafficDirection::Egress : model::TrafficDirection::Ingress;
    // A frame the ring cut (larger than a block) is carried as what was captured, so that
    // the copy's headers announce exactly the bytes it carries.
    uint32_t wire_length = frame.wire_length;
    if (frame.data.size() < wire_length) {
      wire_length = static_cast<uint32_t>(frame.data.size());
      ++path_.capture_cut;
    }
    engine::FrameWork& work = dp.work;
    engine_->begin(frame.data, wire_length, direction, frame.tag, frame.offload, work);
    if (work.copies > 1 && dp.sender.size() + work.copies > kSendBatch) {
      // A super-frame's copies start a batch of their own: they go as few GSO buffers.
      flushBatch();
    }
    // A super-frame gives one copy per wire packet; they all point into the block.
    for (uint32_t i = 0; i < work.copies; ++i) {
      const std::size_t position = dp.sender.size();
      engine::Decision& decision = dp.decisions[position];
      packet::EncapSlot& slot = dp.slots[position];
      engine_->take(work, i, slot, decision);
      const uint32_t destination = static_cast<uint32_t>(decision.target.value);
      const NextHop* found = hops != nullptr ? hops->find(destination) : nullptr;
      const NextHop& hop = found != nullptr ? *found : kThroughTheKernel;
      if (!hop.error.empty()) {
        engine_->recordSkipped(decision);
        ++path_.skipped_no_route;
        continue;
      }
      if (!limiter_.unlimited()) {
        // Refilled by the frames' own times: a backlog of blocks is paced as it arrived.
        limiter_.refillNanoseconds(frame.timestamp_ns);
        if (!limiter_.admit(decision.copy.outerWireLength())) {
          engine_->recordSkipped(decision);
          ++path_.skipped_rate_limit;
          continue;
        }
      }
      dp.sender.queue(decision.copy, slot, hop, destination);
      if (dp.sender.full()) {
        flushBatch();
      }
    }
  });
  // The copies point into the block: they leave before the block goes back.
  flushBatch();
  ring_->releaseBlock();
}

Result<void> InterfaceWorker::runOnce(int wait_ms) {
  takePendingEngine();
  hops_.take();
  auto ready = ring_->waitForBlock(wait_ms);
  if (!ready) {
    return std::unexpected(std::move(ready.error()));
  }
  if (*ready) {
    processBlock();
  }
  if (const auto now = std::chrono::steady_clock::now();
      now - last_publish_ >= std::chrono::milliseconds(100)) {
    last_publish_ = now;
    if (auto stats = ring_->readStatistics()) {
      path_.kernel_packets += stats->packets;
      path_.kernel_drops += stats->drops;
    }
    publish();
  }
  return {};
}

void InterfaceWorker::run() {
  if (options_.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*options_.cpu, &set);
    ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
  }
  std::string error;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (interface_gone_.load(std::memory_order_relaxed)) {
      error = "the interface is gone";
      break;
    }
    if (auto round = runOnce(50); !round) {
      error = round.error().message;
      break;
    }
  }
  if (auto stats = ring_->readStatistics()) {
    path_.kernel_packets += stats->packets;
    path_.kernel_drops += stats->drops;
  }
  publish(/*always=*/true);
  {
    std::lock_guard lock(report_mutex_);
    retired_.error = error;
  }
  running_ = false;
}

}  // namespace tmirror::agent
