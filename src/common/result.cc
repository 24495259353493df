#include "common/result.h"

#include <cstring>

namespace tmirror {

std::unexpected<Error> makeSystemError(std::string_view what, int errno_value) {
  return makeError(ErrorCode::Io, std::string(what) + ": " + std::strerror(errno_value));
}

}  // namespace tmirror
