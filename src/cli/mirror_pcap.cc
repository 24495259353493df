#include "cli/mirror_pcap.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/unique_fd.h"
#include "engine/frame_direction.h"
#include "engine/mirror_engine.h"
#include "model/mirror_config_json.h"
#include "pcap/pcap_reader.h"
#include "pcap/pcap_writer.h"

namespace tmirror::cli {

namespace {

constexpr int kLinkTypeEthernet = 1;  // DLT_EN10MB

// Sends each copy's VXLAN header and inner frame as one UDP datagram (the kernel builds the
// outer IP/UDP headers, so the source port is the socket's, not the flow hash's).
class UdpCopySender {
 public:
  static Result<UdpCopySender> open(const MirrorPcapOptions::UdpDestination& destination) {
    UdpCopySender sender;
    const bool v6 = destination.address.family == packet::IpFamily::V6;
    sender.fd_ = UniqueFd(::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sender.fd_.valid()) {
      return makeSystemError("UDP socket", errno);
    }
    if (v6) {
      sockaddr_in6 sa{};
      sa.sin6_family = AF_INET6;
      sa.sin6_port = htons(destination.port);
      for (int i = 0; i < 16; ++i) {
        sa.sin6_addr.s6_addr[i] = static_cast<uint8_t>(destination.address.value >> (120 - 8 * i));
      }
      std::memcpy(&sender.address_, &sa, sizeof(sa));
      sender.address_length_ = sizeof(sa);
    } else {
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_port = htons(destination.port);
      sa.sin_addr.s_addr = htonl(static_cast<uint32_t>(destination.address.value));
      std::memcpy(&sender.address_, &sa, sizeof(sa));
      sender.address_length_ = sizeof(sa);
    }
    return sender;
  }

  Result<void> send(const packet::MirrorCopy& copy) {
    std::array<iovec, 4> iov{};
    // The VXLAN header is the last 8 bytes of the outer header; the kernel adds the rest.
    const auto& header = copy.pieces[0];
    iov[0] = {const_cast<std::byte*>(header.data() + header.size() - packet::kVxlanHeaderSize),
              packet::kVxlanHeaderSize};
    for (uint8_t i = 1; i < copy.piece_count; ++i) {
      iov[i] = {const_cast<std::byte*>(copy.pieces[i].data()), copy.pieces[i].size()};
    }
    msghdr msg{};
    msg.msg_name = &address_;
    msg.msg_namelen = address_length_;
    msg.msg_iov = iov.data();
    msg.msg_iovlen = copy.piece_count;
    if (::sendmsg(fd_.get(), &msg, 0) < 0) {
      return makeSystemError("sending a VXLAN datagram", errno);
    }
    return {};
  }

 private:
  UniqueFd fd_;
  sockaddr_storage address_{};
  socklen_t address_length_ = 0;
};

Result<const model::InterfaceMirrorConfig*> chooseInterface(const model::HostMirrorConfig& config,
                                                            const std::string& wanted) {
  if (wanted.empty()) {
    if (config.interfaces.size() == 1) {
      return &config.interfaces.front();
    }
    return makeError(ErrorCode::InvalidArgument,
                     "the config has " + std::to_string(config.interfaces.size()) +
                         " network interfaces; choose one with --network-interface-id");
  }
  for (const auto& interface : config.interfaces) {
    if (interface.interface.id == wanted) {
      return &interface;
    }
  }
  return makeError(ErrorCode::NotFound,
                   "--network-interface-id: " + wanted + " is not in the config");
}

nlohmann::ordered_json directionJson(const engine::DirectionCounters& d, const char* suffix) {
  nlohmann::ordered_json j;
  j[std::string("NetworkMirror") + suffix] = d.mirror_bytes;
  j[std::string("NetworkPacketsMirror") + suffix] = d.mirror_packets;
  j[std::string("NetworkSkipMirror") + suffix] = d.skip_bytes;
  j[std::string("NetworkPacketsSkipMirror") + suffix] = d.skip_packets;
  j[std::string("TruncatedPackets") + suffix] = d.truncated_packets;
  return j;
}

nlohmann::ordered_json mirrorJson(const engine::MirrorCounters& c) {
  nlohmann::ordered_json j = directionJson(c.in, "In");
  j.update(directionJson(c.out, "Out"));
  return j;
}

std::string reportJson(const engine::MirrorEngine& engine, const std::string& interface_id,
                       uint64_t written, uint64_t sent) {
  const auto& c = engine.counters();
  nlohmann::ordered_json j;
  j["NetworkInterfaceId"] = interface_id;
  j["Frames"] = c.frames;
  nlohmann::ordered_json fates;
  for (std::size_t i = 0; i < c.fates.size(); ++i) {
    fates[rules::packetFateName(static_cast<rules::PacketFate>(i))] = c.fates[i];
  }
  fates["skipped"] = c.skipped;
  fates["unknown_direction"] = c.unknown_direction;
  j["Fates"] = fates;
  nlohmann::ordered_json malformed = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < c.malformed.size(); ++i) {
    if (c.malformed[i] != 0) {
      malformed[packet::frameStatusName(static_cast<packet::FrameStatus>(i))] = c.malformed[i];
    }
  }
  j["Malformed"] = malformed;
  j["Counters"] = mirrorJson(c.mirror);
  nlohmann::ordered_json sessions = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < engine.sessionCount(); ++i) {
    nlohmann::ordered_json s;
    s["TrafficMirrorSessionId"] = engine.session(i).id;
    s["SessionNumber"] = engine.session(i).session_number;
    s["VirtualNetworkId"] = engine.session(i).virtual_network_id;
    s["Counters"] = mirrorJson(engine.sessionCounters(i));
    sessions.push_back(s);
  }
  j["Sessions"] = sessions;
  j["CopiesWritten"] = written;
  j["CopiesSent"] = sent;
  return j.dump(2);
}

}  // namespace

Result<MirrorPcapReport> runMirrorPcap(const MirrorPcapOptions& options) {
  auto config = model::loadHostMirrorConfig(options.config);
  if (!config) {
    return std::unexpected(config.error());
  }
  auto interface = chooseInterface(*config, options.network_interface_id);
  if (!interface) {
    return std::unexpected(interface.error());
  }
  const model::InterfaceMirrorConfig& source = **interface;
  if (options.direction_source == DirectionSource::Mac && !source.interface.mac) {
    return makeError(
        ErrorCode::InvalidArgument,
        "--direction mac: interface " + source.interface.id + " has no MacAddress in the config");
  }
  auto engine =
      engine::MirrorEngine::create(*config, source, {.outer_dst_mac = options.outer_dst_mac});
  if (!engine) {
    return std::unexpected(std::move(engine.error()).withContext(options.config.string()));
  }
  auto reader = pcap::PcapReader::open(options.input);
  if (!reader) {
    return std::unexpected(reader.error());
  }
  if (reader->linkType() != kLinkTypeEthernet) {
    return makeError(ErrorCode::Unsupported,
                     options.input.string() + ": link type " + std::to_string(reader->linkType()) +
                         " is not Ethernet; capture on the interface itself (not 'any')");
  }
  std::optional<pcap::PcapWriter> writer;
  if (options.output_pcap) {
    auto w = pcap::PcapWriter::create(*options.output_pcap, kLinkTypeEthernet);
    if (!w) {
      return std::unexpected(w.error());
    }
    writer.emplace(std::move(*w));
  }
  std::optional<UdpCopySender> sender;
  if (options.send_to) {
    auto s = UdpCopySender::open(*options.send_to);
    if (!s) {
      return std::unexpected(s.error());
    }
    sender.emplace(std::move(*s));
  }

  MirrorPcapReport report;
  packet::EncapSlot slot;
  engine::Decision decision;
  std::vector<std::byte> outer(pcap::kPcapWriterSnaplen);
  while (true) {
    auto next = reader->next();
    if (!next) {
      return std::unexpected(next.error());
    }
    if (!*next) {
      break;
    }
    const pcap::PcapPacket& packet = **next;
    std::optional<model::TrafficDirection> direction;
    if (options.direction_source != DirectionSource::Mac) {
      if (packet.direction == packet::PacketDirection::Inbound) {
        direction = model::TrafficDirection::Ingress;
      } else if (packet.direction == packet::PacketDirection::Outbound) {
        direction = model::TrafficDirection::Egress;
      }
    }
    if (!direction && options.direction_source != DirectionSource::Flags && source.interface.mac) {
      direction = engine::directionByMac(packet.data, *source.interface.mac);
    }
    if (!direction) {
      engine->recordUnknownDirection();
      continue;
    }
    engine->process(packet.data, packet.original_length, *direction, {}, slot, decision);
    if (decision.match.fate != rules::PacketFate::Mirrored) {
      continue;
    }
    if (writer) {
      const std::size_t n = decision.copy.copyTo(outer);
      // When the input capture had cut the frame, the record keeps what we have and says how
      // long the agent's copy of the whole frame would be (as the outer headers do).
      auto written = writer->write(packet.timestamp_ns, std::span(outer).first(n),
                                   decision.copy.outerWireLength());
      if (!written) {
        return std::unexpected(written.error());
      }
      ++report.copies_written;
    }
    if (sender) {
      auto sent = sender->send(decision.copy);
      if (!sent) {
        return std::unexpected(sent.error());
      }
      ++report.copies_sent;
    }
    engine->recordSent(decision);
  }
  if (writer) {
    auto committed = writer->commit();
    if (!committed) {
      return std::unexpected(committed.error());
    }
  }
  report.counters = engine->counters();
  report.json = reportJson(*engine, source.interface.id, report.copies_written, report.copies_sent);
  return report;
}

}  // namespace tmirror::cli
