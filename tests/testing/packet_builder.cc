#include "testing/packet_builder.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace tmirror::testing {

namespace {

void put8(Frame& f, uint8_t v) {
  f.push_back(static_cast<std::byte>(v));
}

void put16(Frame& f, uint16_t v) {
  put8(f, static_cast<uint8_t>(v >> 8));
  put8(f, static_cast<uint8_t>(v));
}

void putAddress(Frame& f, const packet::IpAddress& a) {
  const int bytes = a.family == packet::IpFamily::V4 ? 4 : 16;
  for (int i = bytes - 1; i >= 0; --i) {
    put8(f, static_cast<uint8_t>(a.value >> (8 * i)));
  }
}

void set16(Frame& f, std::size_t off, uint16_t v) {
  f[off] = static_cast<std::byte>(v >> 8);
  f[off + 1] = static_cast<std::byte>(v);
}

}  // namespace

packet::IpAddress ip(std::string_view text) {
  auto a = packet::parseIpAddress(text);
  if (!a) {
    std::fprintf(stderr, "bad test address %s\n", std::string(text).c_str());
    std::abort();
  }
  return *a;
}

Frame fromHex(std::string_view hex) {
  Frame out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      continue;
    }
    int v = -1;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      std::fprintf(stderr, "bad hex character '%c'\n", c);
      std::abort();
    }
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::byte>((high << 4) | v));
      high = -1;
    }
  }
  if (high >= 0) {
    std::fprintf(stderr, "odd number of hex digits\n");
    std::abort();
  }
  return out;
}

std::string toHex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    const auto v = static_cast<uint8_t>(b);
    out.push_back(kDigits[v >> 4]);
    out.push_back(kDigits[v & 0x0F]);
  }
  return out;
}

PacketBuilder& PacketBuilder::macs(std::string_view dst, std::string_view src) {
  auto d = packet::parseMacAddress(dst);
  auto s = packet::parseMacAddress(src);
  if (!d || !s) {
    std::abort();
  }
  for (int i = 0; i < 6; ++i) {
    dst_mac_[i] = d->octets[static_cast<std::size_t>(i)];
    src_mac_[i] = s->octets[static_cast<std::size_t>(i)];
  }
  return *this;
}

PacketBuilder& PacketBuilder::vlan(uint16_t tci, uint16_t tpid) {
  vlans_.push_back({tpid, tci});
  return *this;
}

PacketBuilder& PacketBuilder::ipv4(std::string_view src, std::string_view dst) {
  family_ = 4;
  src_ = ip(src);
  dst_ = ip(dst);
  return *this;
}

PacketBuilder& PacketBuilder::ipv6(std::string_view src, std::string_view dst) {
  family_ = 6;
  src_ = ip(src);
  dst_ = ip(dst);
  return *this;
}

PacketBuilder& PacketBuilder::ipv4Options(std::size_t option_words) {
  option_words_ = option_words;
  return *this;
}

PacketBuilder& PacketBuilder::ipv4Fragment(uint16_t offset_units, bool more_fragments) {
  frag_offset_ = offset_units;
  more_fragments_ = more_fragments;
  return *this;
}

PacketBuilder& PacketBuilder::ipv6Extension(uint8_t header_type) {
  extensions_.push_back(header_type);
  return *this;
}

PacketBuilder& PacketBuilder::ipv6Fragment(uint16_t offset_units, bool more_fragments) {
  frag_offset_ = offset_units;
  more_fragments_ = more_fragments;
  extensions_.push_back(44);
  return *this;
}

PacketBuilder& PacketBuilder::tcp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Tcp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::udp(uint16_t sport, uint16_t dport) {
  l4_ = L4::Udp;
  sport_ = sport;
  dport_ = dport;
  return *this;
}

PacketBuilder& PacketBuilder::icmpEcho(uint16_t id, bool reply) {
  l4_ = L4::Icmp;
  icmp_id_ = id;
  icmp_reply_ = reply;
  return *this;
}

PacketBuilder& PacketBuilder::protocol(uint8_t proto) {
  l4_ = L4::Opaque;
  opaque_proto_ = proto;
  return *this;
}

PacketBuilder& PacketBuilder::payload(std::size_t bytes) {
  payload_ = bytes;
  return *this;
}

PacketBuilder& PacketBuilder::etherType(uint16_t type) {
  raw_ether_type_ = type;
  family_ = 0;
  return *this;
}

Frame PacketBuilder::build() const {
  Frame f;
  for (uint8_t b : dst_mac_) {
    put8(f, b);
  }
  for (uint8_t b : src_mac_) {
    put8(f, b);
  }
  for (const auto& [tpid, tci] : vlans_) {
    put16(f, tpid);
    put16(f, tci);
  }
  if (family_ == 0) {
    put16(f, raw_ether_type_);
    for (std::size_t i = 0; i < 46; ++i) {
      put8(f, static_cast<uint8_t>(i));
    }
    return f;
  }
  put16(f, family_ == 4 ? 0x0800 : 0x86DD);

  // L4 header + payload first, so lengths are known.
  Frame l4;
  uint8_t proto = 0;
  switch (l4_) {
    case L4::Tcp:
      proto = 6;
      put16(l4, sport_);
      put16(l4, dport_);
      for (int i = 0; i < 8; ++i) {
        put8(l4, 0);  // seq, ack
      }
      put8(l4, 0x50);  // data offset 5
      put8(l4, 0x02);  // SYN
      put16(l4, 65535);
      put16(l4, 0);
      put16(l4, 0);
      break;
    case L4::Udp:
      proto = 17;
      put16(l4, sport_);
      put16(l4, dport_);
      put16(l4, static_cast<uint16_t>(8 + payload_));
      put16(l4, 0);
      break;
    case L4::Icmp:
      proto = family_ == 4 ? 1 : 58;
      put8(l4, family_ == 4 ? (icmp_reply_ ? 0 : 8) : (icmp_reply_ ? 129 : 128));
      put8(l4, 0);
      put16(l4, 0);
      put16(l4, icmp_id_);
      put16(l4, 1);
      break;
    case L4::Opaque:
      proto = opaque_proto_;
      for (int i = 0; i < 8; ++i) {
        put8(l4, 0xAB);
      }
      break;
    case L4::None:
      proto = 59;
      break;
  }
  for (std::size_t i = 0; i < payload_; ++i) {
    put8(l4, static_cast<uint8_t>(i * 7));
  }

  if (family_ == 4) {
    const std::size_t ihl = 5 + option_words_;
    const std::size_t start = f.size();
    put8(f, static_cast<uint8_t>(0x40 | ihl));
    put8(f, 0);
    put16(f, static_cast<uint16_t>(ihl * 4 + l4.size()));
    put16(f, 0x1234);
    put16(f, static_cast<uint16_t>((more_fragments_ ? 0x2000 : 0) | (frag_offset_ & 0x1FFF)));
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    putAddress(f, src_);
    putAddress(f, dst_);
    for (std::size_t i = 0; i < option_words_ * 4; ++i) {
      put8(f, 1);  // NOP
    }
    uint32_t sum = 0;
    for (std::size_t i = 0; i < ihl * 4; i += 2) {
      sum += (static_cast<uint32_t>(f[start + i]) << 8) | static_cast<uint32_t>(f[start + i + 1]);
    }
    while (sum >> 16) {
      sum = (sum & 0xFFFF) + (sum >> 16);
    }
    set16(f, start + 10, static_cast<uint16_t>(~sum));
  } else {
    Frame ext;
    for (std::size_t i = 0; i < extensions_.size(); ++i) {
      const uint8_t next = i + 1 < extensions_.size() ? extensions_[i + 1] : proto;
      const uint8_t type = extensions_[i];
      if (type == 44) {
        put8(ext, next);
        put8(ext, 0);
        put16(ext, static_cast<uint16_t>((frag_offset_ << 3) | (more_fragments_ ? 1 : 0)));
        put16(ext, 0xBEEF);
        put16(ext, 0x0001);
      } else if (type == 51) {  // AH: length field in 4-byte units minus 2; 24 bytes here
        put8(ext, next);
        put8(ext, 4);
        for (int b = 0; b < 22; ++b) {
          put8(ext, 0);
        }
      } else {  // 16 bytes: length field 1 (in 8-byte units, minus 1)
        put8(ext, next);
        put8(ext, 1);
        put8(ext, 1);  // PadN option
        put8(ext, 12);
        for (int b = 0; b < 12; ++b) {
          put8(ext, 0);
        }
      }
    }
    put8(f, 0x60);
    put8(f, 0);
    put16(f, 0);
    put16(f, static_cast<uint16_t>(ext.size() + l4.size()));
    put8(f, extensions_.empty() ? proto : extensions_.front());
    put8(f, 64);
    putAddress(f, src_);
    putAddress(f, dst_);
    f.insert(f.end(), ext.begin(), ext.end());
  }
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

}  // namespace tmirror::testing
