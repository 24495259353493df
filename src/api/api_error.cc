#include "api/api_error.h"

#include <string_view>
#include <utility>

namespace tmirror::api {

int httpStatusOf(const std::string& code) {
  static constexpr std::pair<std::string_view, int> kStatuses[] = {
      {"DryRunOperation", 412},
      {"AuthFailure", 401},
      {"UnauthorizedOperation", 403},
      {"SignatureDoesNotMatch", 403},
      {"IncompleteSignature", 403},
      {"InvalidClientTokenId", 403},
      {"MissingAuthenticationToken", 403},
      {"RequestExpired", 403},
      {"RequestLimitExceeded", 503},
      {"ServiceUnavailable", 503},
      {"Unavailable", 503},
      {"InternalError", 500},
      {"RequestEntityTooLarge", 413},
  };
  for (const auto& [name, status] : kStatuses) {
    if (name == code) {
      return status;
    }
  }
  return 400;
}

}  // namespace tmirror::api
