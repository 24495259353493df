// SessionTable: the demultiplexer. A session is one (outer sender, VNI) pair; each gets a small
// index that the outputs use to find their per-session state. Bounded: hostile senders cannot
// grow it past `max_sessions`.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector/pcapng_format.h"
#include "packet/ip_address.h"

namespace tmirror::collector {

struct SessionKey {
  packet::IpAddress sender;
  uint32_t vni = 0;

  friend auto operator<=>(const SessionKey& a, const SessionKey& b) {
    if (a.sender.family != b.sender.family) {
      return a.sender.family <=> b.sender.family;
    }
    if (a.sender.value != b.sender.value) {
      return a.sender.value < b.sender.value ? std::strong_ordering::less
                                             : std::strong_ordering::greater;
    }
    return a.vni <=> b.vni;
  }

  friend bool operator==(const SessionKey&, const SessionKey&) = default;
};

// What the collector knows of a VNI beyond the wire (from options or the server).
struct SessionMetadata {
  std::string session_id;    // tms-...
  std::string interface_id;  // eni-... of the source
  std::optional<packet::MacAddress> source_mac;
};

// A mirror session as the collector receives it: the copies one sender sends with one VNI
// (model::Session is the API's resource).
struct ReceivedSession {
  uint32_t index = 0;
  SessionKey key;
  SessionMetadata metadata;
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};  // inner frame bytes received

  // "10.0.0.1-vni42": used in file names, interface names and metric labels.
  std::string label() const;
  InterfaceDescription interfaceDescription() const;
  // From the inner frame's MACs and the source interface's MAC, when known.
  packet::PacketDirection directionOf(packet::Bytes frame) const;
};

// Copies received for one mirror session, since the collector started.
struct SessionTotals {
  uint64_t packets = 0;
  uint64_t bytes = 0;  // inner frame bytes

  friend bool operator==(const SessionTotals&, const SessionTotals&) = default;
};

class SessionTable {
 public:
  explicit SessionTable(std::size_t max_sessions = 4096,
                        std::map<uint32_t, SessionMetadata> metadata = {})
      : max_sessions_(max_sessions), metadata_(std::move(metadata)) {}

  // Metadata the server gave (by VNI), for sessions created from now on; what the options
  // said takes precedence.
  void setServerMetadata(std::map<uint32_t, SessionMetadata> metadata);

  // The session for `key`, created on first sight; null when the table is full.
  ReceivedSession* findOrCreate(const SessionKey& key);

  std::size_t size() const;

  // Sessions by index; the pointers stay valid for the table's life.
  std::vector<const ReceivedSession*> snapshot() const;

  // The mirror session (tms-...) `vni` belongs to by the metadata now (the options', else the
  // server's latest), or "". A session created before the server's metadata arrived keeps none
  // of its own: reports ask this instead.
  std::string sessionIdOf(uint32_t vni) const;

  // What was received for each mirror session the metadata names now, summed over its senders;
  // sessions with nothing received yet are there with zeros. At most `max_ids` ids (the first
  // in id order): a report's bound.
  std::map<std::string, SessionTotals> totalsBySessionId(std::size_t max_ids) const;

 private:
  // With mutex_ held.
  std::string sessionIdOfLocked(uint32_t vni) const;

  const std::size_t max_sessions_;
  const std::map<uint32_t, SessionMetadata> metadata_;
  mutable std::mutex mutex_;
  std::map<uint32_t, SessionMetadata> server_metadata_;  // guarded by mutex_
  std::map<SessionKey, ReceivedSession*> by_key_;
  std::deque<ReceivedSession> sessions_;
};

}  // namespace tmirror::collector
