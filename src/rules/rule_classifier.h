// RuleClassifier: finds the first rule, in a fixed order, whose ranges contain a packet's
// (source address, destination address, protocol, source port, destination port).
//
// Small rule lists are scanned linearly over a compact array. Larger ones use the bit-vector
// scheme (Lakshman & Stiliadis, SIGCOMM '98): each field's value space is cut into elementary
// intervals, each interval maps to the bitset of rules whose range covers it, and the first
// matching rule is the lowest bit set in the AND of the five bitsets. The cost is five
// lookups plus ceil(n / 64) word ANDs, so 1,000 rules cost a few times what 10 do.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "packet/ip_address.h"

namespace tmirror::rules {

// The port value of a packet that has no ports (not TCP/UDP, non-first fragment, cut header).
// Only rules without port ranges cover it.
inline constexpr uint32_t kNoPort = 65536;

// One rule as ranges; the classifier's input.
struct RuleRanges {
  packet::Uint128 src_lo = 0, src_hi = 0;
  packet::Uint128 dst_lo = 0, dst_hi = 0;
  uint32_t src_port_lo = 0, src_port_hi = kNoPort;
  uint32_t dst_port_lo = 0, dst_port_hi = kNoPort;
  uint32_t protocol_lo = 0, protocol_hi = 255;
};

template <typename Addr>
struct RuleKey {
  Addr src = 0;
  Addr dst = 0;
  uint32_t src_port = kNoPort;
  uint32_t dst_port = kNoPort;
  uint32_t protocol = 0;
};

enum class ClassifierMode { Auto, Linear, Bitset };

// Addr is uint32_t for IPv4 rule lists and packet::Uint128 for IPv6 ones.
template <typename Addr>
class RuleClassifier {
 public:
  // Lists up to this size are scanned linearly (cheaper than five lookups when short).
  static constexpr std::size_t kLinearLimit = 12;

  RuleClassifier() = default;

  // `rules` in evaluation order. A forced mode is for tests and benchmarks.
  explicit RuleClassifier(std::span<const RuleRanges> rules,
                          ClassifierMode mode = ClassifierMode::Auto);

  // Position in `rules` of the first rule that covers `key`, or -1.
  int firstMatch(const RuleKey<Addr>& key) const;

  std::size_t size() const { return rule_count_; }

  bool usesBitsets() const { return bitset_mode_; }

 private:
  struct LinearRule {
    Addr src_lo, src_hi, dst_lo, dst_hi;
    uint32_t src_port_lo, src_port_hi, dst_port_lo, dst_port_hi;
    uint32_t protocol_lo, protocol_hi;
  };

  // A field's elementary intervals: interval i starts at starts[i] and its bitset is at
  // bits_[offsets[i]].
  template <typename T>
  struct Field {
    std::vector<T> starts;
    std::vector<uint32_t> offsets;
  };

  template <typename T>
  void buildField(Field<T>& field, std::span<const RuleRanges> rules, T max_value,
                  T (*lo)(const RuleRanges&), T (*hi)(const RuleRanges&));

  template <typename T>
  static uint32_t lookup(const Field<T>& field, T value);

  std::size_t rule_count_ = 0;
  bool bitset_mode_ = false;
  std::vector<LinearRule> linear_;
  Field<Addr> src_;
  Field<Addr> dst_;
  Field<uint32_t> src_port_;
  Field<uint32_t> dst_port_;
  std::array<uint32_t, 256> protocol_offsets_{};
  std::vector<uint64_t> bits_;
  uint32_t words_ = 0;
};

extern template class RuleClassifier<uint32_t>;
extern template class RuleClassifier<packet::Uint128>;

}  // namespace tmirror::rules
