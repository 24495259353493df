#include "collector/session_table.h"

#include <algorithm>
#include <iterator>

namespace tmirror::collector {

std::string ReceivedSession::label() const {
  std::string sender = packet::formatIpAddress(key.sender);
  std::replace(sender.begin(), sender.end(), ':', '-');  // IPv6: keep file names portable
  return sender + "-vni" + std::to_string(key.vni);
}

InterfaceDescription ReceivedSession::interfaceDescription() const {
  InterfaceDescription d;
  d.name = "tmirror-" + std::to_string(key.vni);
  d.description = "VXLAN mirror from " + packet::formatIpAddress(key.sender) + " VNI " +
                  std::to_string(key.vni);
  if (!metadata.session_id.empty()) {
    d.description += " session " + metadata.session_id;
  }
  if (!metadata.interface_id.empty()) {
    d.description += " source " + metadata.interface_id;
  }
  return d;
}

packet::PacketDirection ReceivedSession::directionOf(packet::Bytes frame) const {
  if (!metadata.source_mac || frame.size() < 12) {
    return packet::PacketDirection::Unknown;
  }
  const auto& mac = metadata.source_mac->octets;
  auto equals = [&](std::size_t offset) {
    for (std::size_t i = 0; i < 6; ++i) {
      if (static_cast<uint8_t>(frame[offset + i]) != mac[i]) {
        return false;
      }
    }
    return true;
  };
  if (equals(6)) {
    return packet::PacketDirection::Outbound;  // sent by the source interface: egress
  }
  if (equals(0)) {
    return packet::PacketDirection::Inbound;
  }
  return packet::PacketDirection::Unknown;
}

ReceivedSession* SessionTable::findOrCreate(const SessionKey& key) {
  std::lock_guard lock(mutex_);
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    return it->second;
  }
  if (sessions_.size() >= max_sessions_) {
    return nullptr;
  }
  ReceivedSession& s = sessions_.emplace_back();
  s.index = static_cast<uint32_t>(sessions_.size() - 1);
  s.key = key;
  if (auto m = metadata_.find(key.vni); m != metadata_.end()) {
    s.metadata = m->second;
  } else if (auto sm = server_metadata_.find(key.vni); sm != server_metadata_.end()) {
    s.metadata = sm->second;
  }
  by_key_.emplace(key, &s);
  return &s;
}

void SessionTable::setServerMetadata(std::map<uint32_t, SessionMetadata> metadata) {
  std::lock_guard lock(mutex_);
  server_metadata_ = std::move(metadata);
}

std::size_t SessionTable::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::vector<const ReceivedSession*> SessionTable::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<const ReceivedSession*> out;
  for (const auto& s : sessions_) {
    out.push_back(&s);
  }
  return out;
}

std::string SessionTable::sessionIdOf(uint32_t vni) const {
  std::lock_guard lock(mutex_);
  return sessionIdOfLocked(vni);
}

std::string SessionTable::sessionIdOfLocked(uint32_t vni) const {
  if (auto m = metadata_.find(vni); m != metadata_.end() && !m->second.session_id.empty()) {
    return m->second.session_id;
  }
  if (auto sm = server_metadata_.find(vni); sm != server_metadata_.end()) {
    return sm->second.session_id;
  }
  return {};
}

std::map<std::string, SessionTotals> SessionTable::totalsBySessionId(std::size_t max_ids) const {
  std::map<std::string, SessionTotals> out;
  std::lock_guard lock(mutex_);
  // Every session the metadata names, received or not: a zero says the copies do not arrive.
  for (const auto* metadata : {&metadata_, &server_metadata_}) {
    for (const auto& [vni, m] : *metadata) {
      if (std::string id = sessionIdOfLocked(vni); !id.empty()) {
        out.try_emplace(std::move(id));
      }
    }
  }
  for (const auto& s : sessions_) {
    const std::string id = sessionIdOfLocked(s.key.vni);
    if (id.empty()) {
      continue;
    }
    SessionTotals& t = out[id];
    t.packets += s.packets.load(std::memory_order_relaxed);
    t.bytes += s.bytes.load(std::memory_order_relaxed);
  }
  while (out.size() > max_ids) {
    out.erase(std::prev(out.end()));
  }
  return out;
}

}  // namespace tmirror::collector
