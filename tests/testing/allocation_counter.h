// Counts the global operator new calls a thread makes, to prove a path allocates nothing.
// Linking this file's library replaces the program's operator new/delete with counting ones
// (malloc and free underneath); only threads inside a CountAllocations scope are counted,
// so other threads (a test's helpers, the kernel-facing threads) do not disturb the figure.
#pragma once

#include <cstdint>

namespace tmirror::testing {

class CountAllocations {
 public:
  CountAllocations();
  ~CountAllocations();
  CountAllocations(const CountAllocations&) = delete;
  CountAllocations& operator=(const CountAllocations&) = delete;

  // Allocations this thread made since the scope began.
  uint64_t count() const;

 private:
  uint64_t start_;
};

}  // namespace tmirror::testing
