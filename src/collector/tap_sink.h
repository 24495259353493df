// TapSink: decapsulated frames written to TAP devices, so Zeek, Suricata or tcpdump can listen
// on "tmirror-<vni>" (one device per VNI) or on one device for all sessions.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "collector/collector_counters.h"
#include "collector/frame_sink.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace tmirror::collector {

// Creates (or attaches to) a TAP device named `name` (IFF_TAP | IFF_NO_PI, non-blocking) and
// brings it up. Needs CAP_NET_ADMIN.
Result<UniqueFd> openTapDevice(const std::string& name);

class TapSink : public FrameSink {
 public:
  // `single_device`: every session to that device; otherwise one "tmirror-<vni>" per VNI.
  TapSink(std::optional<std::string> single_device, CollectorCounters& counters);

  // Opens the single device now, so a missing privilege fails at start.
  Result<void> start();

  void write(ReceivedSession& session, const ReceivedFrame& frame) override;

 private:
  int fdFor(uint32_t vni);

  const std::optional<std::string> single_device_;
  CollectorCounters& counters_;
  std::mutex mutex_;
  UniqueFd single_fd_;
  std::map<uint32_t, UniqueFd> by_vni_;
};

}  // namespace tmirror::collector
