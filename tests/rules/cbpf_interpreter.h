// A classic BPF interpreter with the kernel's socket-filter semantics, for tests of the
// agent's kernel prefilter: a load past the end of the packet ends the program with 0 (drop),
// ancillary loads give the packet type, and the checks the kernel makes before it accepts a
// program (forward jumps inside it, a return at the end, scratch slots 0-15) are made first.
#pragma once

#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rules/bpf_program.h"

namespace tmirror::testing {

// Empty when the kernel would accept the program; otherwise why not.
inline std::string checkCbpf(const std::vector<rules::BpfInstruction>& program) {
  if (program.empty() || program.size() > rules::kMaxBpfInstructions) {
    return "length " + std::to_string(program.size());
  }
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const auto& i = program[pc];
    const uint16_t cls = BPF_CLASS(i.code);
    if (cls == BPF_JMP) {
      const std::size_t t = BPF_OP(i.code) == BPF_JA ? pc + 1 + i.k : pc + 1 + i.jt;
      const std::size_t f = BPF_OP(i.code) == BPF_JA ? t : pc + 1 + i.jf;
      if (t >= program.size() || f >= program.size()) {
        return "jump out of the program at " + std::to_string(pc);
      }
    }
    if ((cls == BPF_ST || cls == BPF_STX ||
         ((cls == BPF_LD || cls == BPF_LDX) && BPF_MODE(i.code) == BPF_MEM)) &&
        i.k >= BPF_MEMWORDS) {
      return "scratch slot " + std::to_string(i.k) + " at " + std::to_string(pc);
    }
  }
  if (BPF_CLASS(program.back().code) != BPF_RET) {
    return "no return at the end";
  }
  return {};
}

// Runs `program` on `packet` as the kernel would on an AF_PACKET socket; nullopt when it meets
// an instruction this interpreter does not know (the test then fails).
inline std::optional<uint32_t> runCbpf(const std::vector<rules::BpfInstruction>& program,
                                       std::span<const std::byte> packet, uint32_t packet_type) {
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t m[BPF_MEMWORDS] = {};
  const auto load = [&](uint32_t offset, uint32_t size) -> std::optional<uint32_t> {
    if (offset > packet.size() || packet.size() - offset < size) {
      return std::nullopt;
    }
    uint32_t v = 0;
    for (uint32_t b = 0; b < size; ++b) {
      v = (v << 8) | std::to_integer<uint32_t>(packet[offset + b]);
    }
    return v;
  };
  const auto sizeOf = [](uint16_t code) {
    return BPF_SIZE(code) == BPF_W ? 4u : BPF_SIZE(code) == BPF_H ? 2u : 1u;
  };
  for (std::size_t pc = 0; pc < program.size(); ++pc) {
    const auto& i = program[pc];
    switch (BPF_CLASS(i.code)) {
      case BPF_LD: {
        const uint16_t mode = BPF_MODE(i.code);
        if (mode == BPF_IMM) {
          a = i.k;
        } else if (mode == BPF_MEM) {
          a = m[i.k];
        } else if (mode == BPF_LEN) {
          a = static_cast<uint32_t>(packet.size());
        } else if (mode == BPF_ABS && static_cast<int32_t>(i.k) < 0) {
          if (i.k != static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE)) {
            return std::nullopt;
          }
          a = packet_type;
        } else if (mode == BPF_ABS || mode == BPF_IND) {
          const auto v = load(mode == BPF_ABS ? i.k : x + i.k, sizeOf(i.code));
          if (!v) {
            return 0;
          }
          a = *v;
        } else {
          return std::nullopt;
        }
        break;
      }
      case BPF_LDX: {
        const uint16_t mode = BPF_MODE(i.code);
        if (mode == BPF_IMM) {
          x = i.k;
        } else if (mode == BPF_MEM) {
          x = m[i.k];
        } else if (mode == BPF_LEN) {
          x = static_cast<uint32_t>(packet.size());
        } else if (mode == BPF_MSH) {
          const auto v = load(i.k, 1);
          if (!v) {
            return 0;
          }
          x = 4 * (*v & 0xF);
        } else {
          return std::nullopt;
        }
        break;
      }
      case BPF_ST:
        m[i.k] = a;
        break;
      case BPF_STX:
        m[i.k] = x;
        break;
      case BPF_ALU: {
        const uint32_t operand = BPF_SRC(i.code) == BPF_X ? x : i.k;
        switch (BPF_OP(i.code)) {
          case BPF_ADD:
            a += operand;
            break;
          case BPF_SUB:
            a -= operand;
            break;
          case BPF_AND:
            a &= operand;
            break;
          case BPF_OR:
            a |= operand;
            break;
          default:
            return std::nullopt;
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(i.code) == BPF_JA) {
          pc += i.k;
          break;
        }
        const uint32_t operand = BPF_SRC(i.code) == BPF_X ? x : i.k;
        bool taken = false;
        switch (BPF_OP(i.code)) {
          case BPF_JEQ:
            taken = a == operand;
            break;
          case BPF_JGT:
            taken = a > operand;
            break;
          case BPF_JGE:
            taken = a >= operand;
            break;
          case BPF_JSET:
            taken = (a & operand) != 0;
            break;
          default:
            return std::nullopt;
        }
        pc += taken ? i.jt : i.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(i.code) == BPF_A ? a : i.k;
      case BPF_MISC:
        if (BPF_MISCOP(i.code) == BPF_TAX) {
          x = a;
        } else {
          a = x;
        }
        break;
      default:
        return std::nullopt;
    }
  }
  return std::nullopt;  // ran off the end: checkCbpf refuses such programs
}

}  // namespace tmirror::testing
