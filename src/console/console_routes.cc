#include "console/console_routes.h"

#include "console/console_assets.h"

namespace tmirror::console {

namespace {

ConsoleResponse notFound() {
  ConsoleResponse response;
  response.status = 404;
  response.content_type = "text/plain; charset=utf-8";
  response.body = "There is nothing at this path.\n";
  return response;
}

const ConsoleAsset* findAsset(std::string_view relative) {
  for (const ConsoleAsset& asset : consoleAssets()) {
    if (asset.path == relative) {
      return &asset;
    }
  }
  return nullptr;
}

// If-None-Match may list several tags, or be "*".
bool etagMatches(std::string_view header, std::string_view etag) {
  if (header == "*") {
    return true;
  }
  std::size_t at = 0;
  while (at < header.size()) {
    const std::size_t comma = header.find(',', at);
    std::string_view tag =
        header.substr(at, comma == std::string_view::npos ? header.size() - at : comma - at);
    while (!tag.empty() && tag.front() == ' ') {
      tag.remove_prefix(1);
    }
    while (!tag.empty() && tag.back() == ' ') {
      tag.remove_suffix(1);
    }
    if (tag.starts_with("W/")) {
      tag.remove_prefix(2);
    }
    if (tag == etag) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    at = comma + 1;
  }
  return false;
}

}  // namespace

ConsoleResponse serveConsole(std::string_view path, std::string_view if_none_match) {
  if (path == kConsolePath) {
    // Relative module imports resolve against the folder, so the folder needs its slash.
    ConsoleResponse response;
    response.status = 301;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "Moved to /console/\n";
    response.location = std::string(kConsolePath) + "/";
    return response;
  }
  const std::string prefix = std::string(kConsolePath) + "/";
  if (!path.starts_with(prefix)) {
    return notFound();
  }
  std::string_view relative = path.substr(prefix.size());
  if (relative.empty()) {
    relative = "index.html";
  }
  // Only exact names of embedded files: "..", "//" or percent-escapes can never match one.
  const ConsoleAsset* asset = findAsset(relative);
  if (asset == nullptr) {
    return notFound();
  }
  ConsoleResponse response;
  response.content_type = std::string(asset->content_type);
  response.etag = std::string(asset->etag);
  if (!if_none_match.empty() && etagMatches(if_none_match, asset->etag)) {
    response.status = 304;
    return response;
  }
  response.body =
      std::string_view(reinterpret_cast<const char*>(asset->bytes.data()), asset->bytes.size());
  return response;
}

}  // namespace tmirror::console
