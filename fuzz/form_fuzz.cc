// libFuzzer target: any bytes as a form body. Every decoded name and value must survive
// uriEncode -> formDecode, and re-encoding the parsed pairs must parse back to the same pairs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/form_encoding.h"

using namespace tmirror::api;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  if (const auto decoded = formDecode(input)) {
    if (formDecode(uriEncode(*decoded)) != decoded ||
        formDecode(uriEncode(*decoded, /*encode_slash=*/false)) != decoded) {
      std::abort();
    }
  }

  std::vector<std::pair<std::string, std::string>> pairs;
  std::string bad_name;
  if (parseForm(input, pairs, &bad_name) != FormStatus::Ok) {
    return 0;
  }
  std::string encoded;
  for (const auto& [name, value] : pairs) {
    if (name.empty() || formDecode(uriEncode(name)) != name ||
        formDecode(uriEncode(value)) != value) {
      std::abort();
    }
    encoded += encoded.empty() ? "" : "&";
    encoded += uriEncode(name) + "=" + uriEncode(value);
  }
  std::vector<std::pair<std::string, std::string>> again;
  if (parseForm(encoded, again) != FormStatus::Ok || again != pairs) {
    std::abort();
  }
  return 0;
}
