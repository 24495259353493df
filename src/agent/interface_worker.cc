#include "agent/interface_worker.h"

#include <net/if.h>
#include <pthread.h>
#include <sched.h>

#include <array>
#include <cstdio>

#include "agent/mirror_sender.h"
#include "agent/next_hop.h"

namespace tmirror::agent {

// The per-batch scratch of the data path: one slot and one decision per queued copy.
struct WorkerDataPath {
  explicit WorkerDataPath(MirrorSender s) : sender(std::move(s)) {}

  MirrorSender sender;
  NextHopTable hops;
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
  base_.name = name_;
  base_.network_interface_id = network_interface_id_;
  published_ = base_;
}

InterfaceWorker::~InterfaceWorker() {
  stop();
}

Result<void> InterfaceWorker::start(std::unique_ptr<engine::MirrorEngine> engine,
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
  base_.ring_bytes = ring_->mappedBytes();
  base_.offload_headers = ring_->hasOffloadHeaders();
  installPrefilter(prefilter);
  engine_ = std::move(engine);
  applied_generation_ = generation;
  base_.applied_generation = generation;
  publish();  // the ring and the prefilter are in place before the first frame
  running_ = true;
  thread_ = std::thread([this] { run(); });
  return {};
}

void InterfaceWorker::apply(std::unique_ptr<engine::MirrorEngine> engine, uint64_t generation,
                            std::vector<rules::BpfInstruction> prefilter) {
  std::lock_guard lock(pending_mutex_);
  pending_ = std::move(engine);
  pending_generation_ = generation;
  pending_prefilter_ = std::move(prefilter);
  has_pending_.store(true, std::memory_order_release);
}

void InterfaceWorker::stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

InterfaceReport InterfaceWorker::report() const {
  std::lock_guard lock(report_mutex_);
  return published_;
}

namespace {

// The engine's counters as a report, sessions keyed by id.
InterfaceReport engineReport(const engine::MirrorEngine& e) {
  InterfaceReport r;
  r.counters = e.counters();
  for (std::size_t i = 0; i < e.sessionCount(); ++i) {
    addCounters(r.sessions[e.session(i).id], e.sessionCounters(i));
  }
  return r;
}

}  // namespace

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
  if (engine_) {
    addReport(base_, engineReport(*engine_));
  }
  engine_ = std::move(next);
  base_.applied_generation = generation;
  applied_generation_.store(generation);
  publish();
}

void InterfaceWorker::installPrefilter(const std::vector<rules::BpfInstruction>& prefilter) {
  auto set = ring_->setFilter(prefilter);
  if (set) {
    base_.prefilter_instructions = prefilter.size();
    base_.prefilter_error.clear();
    return;
  }
  // Refused: capture everything (the engine alone decides) and say why.
  base_.prefilter_error = set.error().message;
  base_.prefilter_instructions = 0;
  (void)ring_->setFilter({});
}

void InterfaceWorker::publish() {
  InterfaceReport r = base_;
  if (engine_) {
    addReport(r, engineReport(*engine_));
  }
  const SendStatistics& s = data_path_->sender.statistics();
  r.send_calls = s.send_calls;
  r.raw_frames = s.raw_frames;
  r.routed_packets = s.routed_packets;
  r.send_errors = s.errors + s.would_block;
  r.gso_buffers = s.gso_buffers;
  r.gso_copies = s.gso_copies;
  r.gso_refused = s.gso_refused;
  r.last_send_errno = s.last_errno;
  std::lock_guard lock(report_mutex_);
  published_ = std::move(r);
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
      ++base_.skipped_send_failed;
    }
  }
}

void InterfaceWorker::processBlock(std::chrono::steady_clock::time_point now) {
  WorkerDataPath& dp = *data_path_;
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
      ++base_.capture_cut;
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
      const NextHop& hop = dp.hops.find(destination, now);
      if (!hop.error.empty()) {
        engine_->recordSkipped(decision);
        ++base_.skipped_no_route;
        continue;
      }
      if (!limiter_.unlimited()) {
        // Refilled by the frames' own times: a backlog of blocks is paced as it arrived.
        limiter_.refillNanoseconds(frame.timestamp_ns);
        if (!limiter_.admit(decision.copy.outerWireLength())) {
          engine_->recordSkipped(decision);
          ++base_.skipped_rate_limit;
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

void InterfaceWorker::run() {
  if (options_.cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*options_.cpu, &set);
    ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
  }
  auto last_publish = std::chrono::steady_clock::now();
  std::string error;
  while (!stop_.load(std::memory_order_relaxed)) {
    takePendingEngine();
    auto ready = ring_->waitForBlock(50);
    if (!ready) {
      error = ready.error().message;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (*ready) {
      processBlock(now);
    }
    if (now - last_publish >= std::chrono::milliseconds(100)) {
      last_publish = now;
      char current[IF_NAMESIZE] = {};
      if (::if_indextoname(static_cast<unsigned>(ring_->ifindex()), current) == nullptr ||
          name_ != current) {
        error = "the interface is gone";
        break;
      }
      if (auto stats = ring_->readStatistics()) {
        base_.kernel_packets += stats->packets;
        base_.kernel_drops += stats->drops;
      }
      publish();
    }
  }
  if (auto stats = ring_->readStatistics()) {
    base_.kernel_packets += stats->packets;
    base_.kernel_drops += stats->drops;
  }
  base_.error = error;
  publish();
  running_ = false;
}

}  // namespace tmirror::agent
