// Helpers for the collector tests: frames with real headers, reading pcapng files back.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pcap/pcap_reader.h"

namespace tmirror::collector::testing {

struct ReadPacket {
  std::vector<std::byte> data;
  uint32_t original_length = 0;
  int64_t timestamp_ns = 0;
  packet::PacketDirection direction = packet::PacketDirection::Unknown;
};

// An Ethernet/IPv4/UDP frame of `size` bytes (>= 42) whose payload bytes encode `seed`.
inline std::vector<std::byte> makeFrame(std::size_t size, uint32_t seed, uint8_t src_last = 0x01,
                                        uint8_t dst_last = 0x02) {
  std::vector<std::byte> f(std::max<std::size_t>(size, 42));
  const uint8_t head[] = {0x02,     0,    0,    0,    0,    dst_last, 0x02, 0, 0,  0, 0,
                          src_last, 0x08, 0x00, 0x45, 0,    0,        0,    0, 0,  0, 0,
                          64,       17,   0,    0,    10,   0,        0,    1, 10, 0, 0,
                          2,        0x30, 0x39, 0x00, 0x35, 0,        0,    0, 0};
  for (std::size_t i = 0; i < sizeof head; ++i) {
    f[i] = std::byte{head[i]};
  }
  const uint16_t ip_len = static_cast<uint16_t>(f.size() - 14);
  f[16] = std::byte(ip_len >> 8);
  f[17] = std::byte(ip_len & 0xFF);
  const uint16_t udp_len = static_cast<uint16_t>(f.size() - 34);
  f[38] = std::byte(udp_len >> 8);
  f[39] = std::byte(udp_len & 0xFF);
  for (std::size_t i = 42; i < f.size(); ++i) {
    f[i] = std::byte(static_cast<uint8_t>(seed * 31 + i));
  }
  return f;
}

inline std::vector<ReadPacket> readCapture(const std::filesystem::path& path) {
  std::vector<ReadPacket> out;
  auto reader = pcap::PcapReader::open(path);
  if (!reader) {
    ADD_FAILURE() << path << ": " << reader.error().message;
    return out;
  }
  for (;;) {
    auto packet = reader->next();
    if (!packet) {
      ADD_FAILURE() << path << ": " << packet.error().message;
      return out;
    }
    if (!*packet) {
      return out;
    }
    const auto& p = **packet;
    out.push_back({std::vector<std::byte>(p.data.begin(), p.data.end()), p.original_length,
                   p.timestamp_ns, p.direction});
  }
}

// Files in `dir` ending in `suffix`, sorted by name.
inline std::vector<std::filesystem::path> filesIn(const std::filesystem::path& dir,
                                                  const std::string& suffix) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().ends_with(suffix)) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Exit status of a shell command (tshark, capinfos) run on a file.
inline int runQuiet(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

}  // namespace tmirror::collector::testing
