// The collector's logger (common/log.h), looked up once.
#pragma once

#include "common/log.h"

namespace tmirror::collector {

inline spdlog::logger& logger() {
  static const auto collector = log::logger("collector");
  return *collector;
}

}  // namespace tmirror::collector
