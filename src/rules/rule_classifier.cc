#include "rules/rule_classifier.h"

#include <algorithm>
#include <bit>
#include <map>

namespace tmirror::rules {

namespace {

template <typename Addr>
Addr addrMax() {
  return static_cast<Addr>(~Addr{0});
}

}  // namespace

template <typename Addr>
RuleClassifier<Addr>::RuleClassifier(std::span<const RuleRanges> rules, ClassifierMode mode)
    : rule_count_(rules.size()) {
  bitset_mode_ = mode == ClassifierMode::Bitset ||
                 (mode == ClassifierMode::Auto && rules.size() > kLinearLimit);
  if (!bitset_mode_) {
    linear_.reserve(rules.size());
    for (const auto& r : rules) {
      linear_.push_back({static_cast<Addr>(r.src_lo), static_cast<Addr>(r.src_hi),
                         static_cast<Addr>(r.dst_lo), static_cast<Addr>(r.dst_hi), r.src_port_lo,
                         r.src_port_hi, r.dst_port_lo, r.dst_port_hi, r.protocol_lo,
                         r.protocol_hi});
    }
    return;
  }
  words_ = static_cast<uint32_t>((rules.size() + 63) / 64);
  buildField<Addr>(
      src_, rules, addrMax<Addr>(), [](const RuleRanges& r) { return static_cast<Addr>(r.src_lo); },
      [](const RuleRanges& r) { return static_cast<Addr>(r.src_hi); });
  buildField<Addr>(
      dst_, rules, addrMax<Addr>(), [](const RuleRanges& r) { return static_cast<Addr>(r.dst_lo); },
      [](const RuleRanges& r) { return static_cast<Addr>(r.dst_hi); });
  buildField<uint32_t>(
      src_port_, rules, kNoPort, [](const RuleRanges& r) { return r.src_port_lo; },
      [](const RuleRanges& r) { return r.src_port_hi; });
  buildField<uint32_t>(
      dst_port_, rules, kNoPort, [](const RuleRanges& r) { return r.dst_port_lo; },
      [](const RuleRanges& r) { return r.dst_port_hi; });
  Field<uint32_t> protocol;
  buildField<uint32_t>(
      protocol, rules, 255, [](const RuleRanges& r) { return r.protocol_lo; },
      [](const RuleRanges& r) { return r.protocol_hi; });
  for (uint32_t p = 0; p < 256; ++p) {
    protocol_offsets_[p] = protocol.offsets[lookup(protocol, p)];
  }
}

template <typename Addr>
template <typename T>
void RuleClassifier<Addr>::buildField(Field<T>& field, std::span<const RuleRanges> rules,
                                      T max_value, T (*lo)(const RuleRanges&),
                                      T (*hi)(const RuleRanges&)) {
  std::vector<T> starts{T{0}};
  for (const auto& r : rules) {
    starts.push_back(lo(r));
    if (hi(r) < max_value) {
      starts.push_back(static_cast<T>(hi(r) + 1));
    }
  }
  std::sort(starts.begin(), starts.end());
  starts.erase(std::unique(starts.begin(), starts.end()), starts.end());

  // Intervals with the same set of covering rules share one bitset.
  std::map<std::vector<uint64_t>, uint32_t> seen;
  field.offsets.reserve(starts.size());
  std::vector<uint64_t> bitset(words_);
  for (const T start : starts) {
    std::fill(bitset.begin(), bitset.end(), 0);
    for (std::size_t i = 0; i < rules.size(); ++i) {
      // Interval boundaries include every rule edge, so covering its start covers it all.
      if (lo(rules[i]) <= start && start <= hi(rules[i])) {
        bitset[i / 64] |= uint64_t{1} << (i % 64);
      }
    }
    auto [it, inserted] = seen.try_emplace(bitset, static_cast<uint32_t>(bits_.size()));
    if (inserted) {
      bits_.insert(bits_.end(), bitset.begin(), bitset.end());
    }
    field.offsets.push_back(it->second);
  }
  field.starts = std::move(starts);
}

template <typename Addr>
template <typename T>
uint32_t RuleClassifier<Addr>::lookup(const Field<T>& field, T value) {
  // Index of the last start <= value; starts[0] == 0 so it always exists.
  const auto it = std::upper_bound(field.starts.begin(), field.starts.end(), value);
  return static_cast<uint32_t>(it - field.starts.begin() - 1);
}

template <typename Addr>
int RuleClassifier<Addr>::firstMatch(const RuleKey<Addr>& key) const {
  if (!bitset_mode_) {
    for (std::size_t i = 0; i < linear_.size(); ++i) {
      const LinearRule& r = linear_[i];
      if (key.src >= r.src_lo && key.src <= r.src_hi && key.dst >= r.dst_lo &&
          key.dst <= r.dst_hi && key.protocol >= r.protocol_lo && key.protocol <= r.protocol_hi &&
          key.src_port >= r.src_port_lo && key.src_port <= r.src_port_hi &&
          key.dst_port >= r.dst_port_lo && key.dst_port <= r.dst_port_hi) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  const uint64_t* a = bits_.data() + src_.offsets[lookup(src_, key.src)];
  const uint64_t* b = bits_.data() + dst_.offsets[lookup(dst_, key.dst)];
  const uint64_t* c = bits_.data() + src_port_.offsets[lookup(src_port_, key.src_port)];
  const uint64_t* d = bits_.data() + dst_port_.offsets[lookup(dst_port_, key.dst_port)];
  const uint64_t* e = bits_.data() + protocol_offsets_[key.protocol & 0xFF];
  for (uint32_t w = 0; w < words_; ++w) {
    const uint64_t x = a[w] & b[w] & c[w] & d[w] & e[w];
    if (x != 0) {
      return static_cast<int>(w * 64 + static_cast<uint32_t>(std::countr_zero(x)));
    }
  }
  return -1;
}

template class RuleClassifier<uint32_t>;
template class RuleClassifier<packet::Uint128>;

}  // namespace tmirror::rules
