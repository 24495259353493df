#include "http/server_list.h"

namespace tmirror::http {

Result<ServerList> ServerList::parse(const std::vector<std::string>& urls,
                                     const ServerTrust& trust) {
  if (urls.empty()) {
    return makeError(ErrorCode::InvalidArgument, "no --server given");
  }
  std::vector<ServerUrl> parsed;
  for (const std::string& text : urls) {
    auto url = parseServerUrl(text, trust);
    if (!url) {
      return std::unexpected(url.error());
    }
    parsed.push_back(std::move(*url));
  }
  return ServerList(std::move(parsed), urls);
}

bool ServerList::failedAt(std::size_t index) {
  if (urls_.size() < 2) {
    return false;
  }
  std::size_t seen = current_.load();
  while (seen % urls_.size() == index % urls_.size()) {
    if (current_.compare_exchange_weak(seen, seen + 1)) {
      return true;
    }
  }
  return false;  // another thread moved on already
}

}  // namespace tmirror::http
