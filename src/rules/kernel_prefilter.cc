#include "rules/kernel_prefilter.h"

#include <linux/filter.h>
#include <linux/if_packet.h>

#include <algorithm>
#include <array>

namespace tmirror::rules {

namespace {

using model::FilterRule;
using model::TrafficDirection;

constexpr uint32_t kAccept = 0xFFFFFFFFu;  // the whole frame
constexpr uint32_t kDrop = 0;
// Scratch memory slots.
constexpr uint32_t kPortsSlot = 0;     // 1 when the frame is long enough to hold the L4 ports
constexpr uint32_t kProtocolSlot = 1;  // IPv4 protocol / IPv6 next header
constexpr uint32_t kEtherTypeSlot = 2;
constexpr uint32_t kPacketTypeLoad = static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE);

constexpr uint32_t kEthIpv4 = 0x0800;
constexpr uint32_t kEthIpv6 = 0x86DD;
// Offsets from the start of the frame (untagged Ethernet: the kernel keeps the outer VLAN tag
// in the frame's metadata; a tag still in the data is not looked through).
constexpr uint32_t kV4Fragment = 20;
constexpr uint32_t kV4Protocol = 23;
constexpr uint32_t kV4Source = 26;
constexpr uint32_t kV4Destination = 30;
constexpr uint32_t kV6NextHeader = 20;
constexpr uint32_t kV6Source = 22;
constexpr uint32_t kV6Destination = 38;
constexpr uint32_t kV6Ports = 54;

// IPv6 next-header values after which the upper protocol is not at offset 54: hop-by-hop,
// routing, fragment, ESP, AH, destination options, mobility, HIP, shim6, experimental.
constexpr std::array<uint32_t, 11> kV6ExtensionHeaders = {0,   43,  44,  50,  51, 60,
                                                          135, 139, 140, 253, 254};

class Emitter {
 public:
  using Label = int;
  static constexpr Label kNext = -1;

  Label newLabel() {
    labels_.push_back(-1);
    return static_cast<Label>(labels_.size() - 1);
  }

  void bind(Label label) { labels_[label] = static_cast<int>(code_.size()); }

  void stmt(uint16_t code, uint32_t k) { code_.push_back({code, 0, 0, k}); }

  // A conditional jump: `op` is BPF_JEQ/JGT/JGE/JSET with BPF_K or BPF_X.
  void jump(uint16_t op, uint32_t k, Label jt, Label jf) {
    fixups_.push_back({code_.size(), jt, jf, false});
    code_.push_back({static_cast<uint16_t>(BPF_JMP | op), 0, 0, k});
  }

  void always(Label to) {
    fixups_.push_back({code_.size(), to, kNext, true});
    code_.push_back({BPF_JMP | BPF_JA, 0, 0, 0});
  }

  // Resolves the labels; nullopt when a conditional jump is longer than 255 instructions
  // (cBPF's limit) or the program is too long for the kernel.
  std::optional<std::vector<BpfInstruction>> finish() {
    if (code_.size() > kMaxBpfInstructions) {
      return std::nullopt;
    }
    for (const Fixup& f : fixups_) {
      const auto offset = [&](Label label) -> std::optional<uint32_t> {
        if (label == kNext) {
          return 0;
        }
        const int target = labels_[label];
        const int from = static_cast<int>(f.at) + 1;
        if (target < from) {
          return std::nullopt;  // cBPF jumps only forward
        }
        return static_cast<uint32_t>(target - from);
      };
      const auto t = offset(f.jt);
      const auto e = offset(f.jf);
      if (!t || !e) {
        return std::nullopt;
      }
      if (f.unconditional) {
        code_[f.at].k = *t;
        continue;
      }
      if (*t > 255 || *e > 255) {
        return std::nullopt;
      }
      code_[f.at].jt = static_cast<uint8_t>(*t);
      code_[f.at].jf = static_cast<uint8_t>(*e);
    }
    return code_;
  }

 private:
  struct Fixup {
    std::size_t at;
    Label jt;
    Label jf;
    bool unconditional;
  };

  std::vector<BpfInstruction> code_;
  std::vector<int> labels_;
  std::vector<Fixup> fixups_;
};

using Label = Emitter::Label;
constexpr Label kNext = Emitter::kNext;

bool isV4(const FilterRule& rule) {
  return rule.source_cidr.family() == packet::IpFamily::V4 &&
         rule.destination_cidr.family() == packet::IpFamily::V4;
}

bool isV6(const FilterRule& rule) {
  return rule.source_cidr.family() == packet::IpFamily::V6 &&
         rule.destination_cidr.family() == packet::IpFamily::V6;
}

bool hasPorts(const FilterRule& rule) {
  return rule.source_port_range.has_value() || rule.destination_port_range.has_value();
}

// A rule that matches every packet of its family.
bool matchesAll(const FilterRule& rule) {
  return !rule.protocol && !hasPorts(rule) && rule.source_cidr.prefix_length == 0 &&
         rule.destination_cidr.prefix_length == 0;
}

bool sameMatch(const FilterRule& a, const FilterRule& b) {
  return a.protocol == b.protocol && a.source_cidr == b.source_cidr &&
         a.destination_cidr == b.destination_cidr && a.source_port_range == b.source_port_range &&
         a.destination_port_range == b.destination_port_range;
}

// Compares the address at `offset` with `cidr` word by word; jumps to `fail` when outside.
void emitCidr(Emitter& e, const packet::Cidr& cidr, uint32_t offset, bool v4, Label fail) {
  const int words = v4 ? 1 : 4;
  for (int w = 0; w < words; ++w) {
    const int bits = std::clamp(static_cast<int>(cidr.prefix_length) - 32 * w, 0, 32);
    if (bits == 0) {
      break;
    }
    const int shift = v4 ? 0 : 96 - 32 * w;
    const auto word = static_cast<uint32_t>(cidr.network.value >> shift);
    const uint32_t mask = bits == 32 ? 0xFFFFFFFFu : ~0u << (32 - bits);
    e.stmt(BPF_LD | BPF_W | BPF_ABS, offset + 4 * static_cast<uint32_t>(w));
    if (bits < 32) {
      e.stmt(BPF_ALU | BPF_AND | BPF_K, mask);
    }
    e.jump(BPF_JEQ | BPF_K, word & mask, kNext, fail);
  }
}

// Loads a port (A) and keeps it inside `range`.
void emitPortRange(Emitter& e, const model::PortRange& range, bool v4, uint32_t v4_offset,
                   uint32_t v6_offset, Label fail) {
  if (range.from_port == 0 && range.to_port == 65535) {
    return;
  }
  e.stmt(BPF_LD | BPF_H | (v4 ? BPF_IND : BPF_ABS), v4 ? v4_offset : v6_offset);
  if (range.from_port > 0) {
    e.jump(BPF_JGE | BPF_K, range.from_port, kNext, fail);
  }
  if (range.to_port < 65535) {
    e.jump(BPF_JGT | BPF_K, range.to_port, fail, kNext);
  }
}

void emitRule(Emitter& e, const FilterRule& rule, bool v4) {
  const bool ports = hasPorts(rule);
  if (ports && rule.protocol && *rule.protocol != 6 && *rule.protocol != 17) {
    return;  // ports exist only for TCP and UDP: the rule never matches
  }
  const Label fail = e.newLabel();
  if (rule.protocol) {
    e.stmt(BPF_LD | BPF_MEM, kProtocolSlot);
    e.jump(BPF_JEQ | BPF_K, *rule.protocol, kNext, fail);
  } else if (ports) {
    const Label tcp_or_udp = e.newLabel();
    e.stmt(BPF_LD | BPF_MEM, kProtocolSlot);
    e.jump(BPF_JEQ | BPF_K, 6, tcp_or_udp, kNext);
    e.jump(BPF_JEQ | BPF_K, 17, tcp_or_udp, fail);
    e.bind(tcp_or_udp);
  }
  emitCidr(e, rule.source_cidr, v4 ? kV4Source : kV6Source, v4, fail);
  emitCidr(e, rule.destination_cidr, v4 ? kV4Destination : kV6Destination, v4, fail);
  if (ports) {
    e.stmt(BPF_LD | BPF_MEM, kPortsSlot);
    e.jump(BPF_JEQ | BPF_K, 0, fail, kNext);
    if (v4) {
      e.stmt(BPF_LDX | BPF_B | BPF_MSH, 14);  // X = IPv4 header length
    }
    if (rule.source_port_range) {
      emitPortRange(e, *rule.source_port_range, v4, 14, kV6Ports, fail);
    }
    if (rule.destination_port_range) {
      emitPortRange(e, *rule.destination_port_range, v4, 16, kV6Ports + 2, fail);
    }
  }
  e.stmt(BPF_RET | BPF_K, kAccept);
  e.bind(fail);
}

// Returns accept right here when the test `op k` on A comes out as `when`, else falls through.
void acceptIf(Emitter& e, uint16_t op, uint32_t k, bool when = true) {
  const Label go_on = e.newLabel();
  if (when) {
    e.jump(op, k, kNext, go_on);
  } else {
    e.jump(op, k, go_on, kNext);
  }
  e.stmt(BPF_RET | BPF_K, kAccept);
  e.bind(go_on);
}

// M[kPortsSlot] = (A >= X) or (A >= k): 1 when the ports are inside the frame.
void storePortsPresent(Emitter& e, uint16_t op, uint32_t k) {
  const Label absent = e.newLabel();
  const Label store = e.newLabel();
  e.jump(op, k, kNext, absent);
  e.stmt(BPF_LD | BPF_IMM, 1);
  e.always(store);
  e.bind(absent);
  e.stmt(BPF_LD | BPF_IMM, 0);
  e.bind(store);
  e.stmt(BPF_ST, kPortsSlot);  // A keeps the value
}

// Accepts a frame with port 53 on either side (amazon-dns: the engine checks the resolver).
void emitDnsService(Emitter& e, bool v4) {
  const Label none = e.newLabel();
  const Label accept = e.newLabel();
  e.stmt(BPF_LD | BPF_MEM, kPortsSlot);
  e.jump(BPF_JEQ | BPF_K, 0, none, kNext);
  if (v4) {
    e.stmt(BPF_LDX | BPF_B | BPF_MSH, 14);
  }
  e.stmt(BPF_LD | BPF_H | (v4 ? BPF_IND : BPF_ABS), v4 ? 14 : kV6Ports);
  e.jump(BPF_JEQ | BPF_K, 53, accept, kNext);
  e.stmt(BPF_LD | BPF_H | (v4 ? BPF_IND : BPF_ABS), v4 ? 16 : kV6Ports + 2);
  e.jump(BPF_JEQ | BPF_K, 53, accept, none);
  e.bind(accept);
  e.stmt(BPF_RET | BPF_K, kAccept);
  e.bind(none);
}

void emitFamily(Emitter& e, const std::vector<const FilterRule*>& rules, bool dns, bool v4) {
  if (std::any_of(rules.begin(), rules.end(), [](const auto* r) { return matchesAll(*r); })) {
    e.stmt(BPF_RET | BPF_K, kAccept);
    return;
  }
  if (rules.empty() && !dns) {
    e.stmt(BPF_RET | BPF_K, kDrop);
    return;
  }
  // Frames too short for the headers read below, or with a bad IPv4 header length, go to the
  // engine, which counts them as malformed by reason.
  e.stmt(BPF_LD | BPF_W | BPF_LEN, 0);
  acceptIf(e, BPF_JGE | BPF_K, v4 ? kV4Destination + 4 : kV6Ports, /*when=*/false);
  if (v4) {
    e.stmt(BPF_LD | BPF_B | BPF_ABS, 14);
    e.stmt(BPF_ALU | BPF_AND | BPF_K, 0x0F);
    acceptIf(e, BPF_JGE | BPF_K, 5, /*when=*/false);
    // Later fragments carry no ports and are rare: the engine decides.
    e.stmt(BPF_LD | BPF_H | BPF_ABS, kV4Fragment);
    acceptIf(e, BPF_JSET | BPF_K, 0x1FFF);
    e.stmt(BPF_LD | BPF_B | BPF_ABS, kV4Protocol);
    e.stmt(BPF_ST, kProtocolSlot);
    // Ports present when the frame holds 14 + IHL*4 + 4 bytes.
    e.stmt(BPF_LDX | BPF_B | BPF_MSH, 14);
    e.stmt(BPF_MISC | BPF_TXA, 0);
    e.stmt(BPF_ALU | BPF_ADD | BPF_K, 18);
    e.stmt(BPF_MISC | BPF_TAX, 0);
    e.stmt(BPF_LD | BPF_W | BPF_LEN, 0);
    storePortsPresent(e, BPF_JGE | BPF_X, 0);
  } else {
    e.stmt(BPF_LD | BPF_B | BPF_ABS, kV6NextHeader);
    e.stmt(BPF_ST, kProtocolSlot);
    const Label extension = e.newLabel();
    const Label upper = e.newLabel();
    for (uint32_t header : kV6ExtensionHeaders) {
      e.jump(BPF_JEQ | BPF_K, header, extension, kNext);
    }
    e.always(upper);
    e.bind(extension);
    e.stmt(BPF_RET | BPF_K, kAccept);
    e.bind(upper);
    e.stmt(BPF_LD | BPF_W | BPF_LEN, 0);
    storePortsPresent(e, BPF_JGE | BPF_K, kV6Ports + 4);
  }
  // TCP or UDP cut before its ports: malformed, the engine counts it.
  const Label complete = e.newLabel();
  const Label cut = e.newLabel();
  e.jump(BPF_JEQ | BPF_K, 1, complete, kNext);  // A = M[kPortsSlot]
  e.stmt(BPF_LD | BPF_MEM, kProtocolSlot);
  e.jump(BPF_JEQ | BPF_K, 6, cut, kNext);
  e.jump(BPF_JEQ | BPF_K, 17, cut, complete);
  e.bind(cut);
  e.stmt(BPF_RET | BPF_K, kAccept);
  e.bind(complete);
  if (dns) {
    emitDnsService(e, v4);
  }
  for (const FilterRule* rule : rules) {
    emitRule(e, *rule, v4);
  }
  e.stmt(BPF_RET | BPF_K, kDrop);
}

}  // namespace

std::optional<std::vector<BpfInstruction>> compileKernelPrefilter(
    const model::InterfaceMirrorConfig& interface) {
  // The accept rules of every session, per direction and family, without duplicates.
  std::array<std::array<std::vector<const FilterRule*>, 2>, 2> rules;  // [direction][v6]
  bool dns = false;
  for (const auto& session : interface.sessions) {
    dns = dns || session.filter.amazon_dns;
    for (const auto* list : {&session.filter.ingress_rules, &session.filter.egress_rules}) {
      for (const FilterRule& rule : *list) {
        if (rule.action != model::RuleAction::Accept || (!isV4(rule) && !isV6(rule))) {
          continue;
        }
        auto& bucket = rules[rule.direction == TrafficDirection::Egress][isV6(rule)];
        if (std::none_of(bucket.begin(), bucket.end(),
                         [&](const FilterRule* seen) { return sameMatch(*seen, rule); })) {
          bucket.push_back(&rule);
        }
      }
    }
  }

  Emitter e;
  const Label tagged = e.newLabel();
  const Label untagged = e.newLabel();
  const Label drop = e.newLabel();
  const Label egress = e.newLabel();
  const std::array<Label, 2> direction = {e.newLabel(), egress};
  const std::array<std::array<Label, 2>, 2> family = {
      std::array<Label, 2>{e.newLabel(), e.newLabel()},
      std::array<Label, 2>{e.newLabel(), e.newLabel()}};

  // A runt: the engine counts it.
  e.stmt(BPF_LD | BPF_W | BPF_LEN, 0);
  acceptIf(e, BPF_JGE | BPF_K, 14, /*when=*/false);
  // A VLAN tag still in the data (QinQ's inner tag, or no offload): the engine decides.
  e.stmt(BPF_LD | BPF_H | BPF_ABS, 12);
  e.jump(BPF_JEQ | BPF_K, 0x8100, tagged, kNext);
  e.jump(BPF_JEQ | BPF_K, 0x88A8, tagged, kNext);
  e.jump(BPF_JEQ | BPF_K, 0x9100, tagged, untagged);
  e.bind(tagged);
  e.stmt(BPF_RET | BPF_K, kAccept);
  e.bind(untagged);
  e.stmt(BPF_ST, kEtherTypeSlot);
  // Direction from the packet type, as the worker reads it; other hosts' frames (promiscuous)
  // and loopback echoes are never mirrored.
  e.stmt(BPF_LD | BPF_W | BPF_ABS, kPacketTypeLoad);
  const Label not_outgoing = e.newLabel();
  e.jump(BPF_JEQ | BPF_K, PACKET_OUTGOING, kNext, not_outgoing);
  e.always(egress);
  e.bind(not_outgoing);
  e.jump(BPF_JEQ | BPF_K, PACKET_OTHERHOST, drop, kNext);
  e.jump(BPF_JGT | BPF_K, PACKET_OUTGOING, drop, kNext);
  e.always(direction[0]);
  e.bind(drop);
  e.stmt(BPF_RET | BPF_K, kDrop);
  for (int d = 0; d < 2; ++d) {
    e.bind(direction[d]);
    const Label not_v4 = e.newLabel();
    const Label not_v6 = e.newLabel();
    e.stmt(BPF_LD | BPF_MEM, kEtherTypeSlot);
    e.jump(BPF_JEQ | BPF_K, kEthIpv4, kNext, not_v4);
    e.always(family[d][0]);
    e.bind(not_v4);
    e.jump(BPF_JEQ | BPF_K, kEthIpv6, kNext, not_v6);
    e.always(family[d][1]);
    e.bind(not_v6);
    // Not IP: never mirrored, but rare, and the engine counts it (ARP, LLDP, garbage).
    e.stmt(BPF_RET | BPF_K, kAccept);
  }
  for (int d = 0; d < 2; ++d) {
    for (int v6 = 0; v6 < 2; ++v6) {
      e.bind(family[d][v6]);
      emitFamily(e, rules[d][v6], dns, v6 == 0);
    }
  }
  return e.finish();
}

}  // namespace tmirror::rules
