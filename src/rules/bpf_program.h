// A classic BPF program as the kernel takes it (SO_ATTACH_FILTER), without the model: what the
// capture ring installs and the kernel prefilter compiles.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tmirror::rules {

// Layout-identical to struct sock_filter (linux/filter.h).
struct BpfInstruction {
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};

inline constexpr std::size_t kMaxBpfInstructions = 4096;  // BPF_MAXINSNS

}  // namespace tmirror::rules
