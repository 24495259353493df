// How `tmirror server` answers GET /console and /console/...: the embedded files, with their
// content type and ETag, index.html for the folder, 404 for anything else. Free of HTTP library
// types so it is tested without a server.
#pragma once

#include <string>
#include <string_view>

namespace tmirror::console {

inline constexpr std::string_view kConsolePath = "/console";

struct ConsoleResponse {
  int status = 200;
  std::string content_type;
  std::string_view body;  // points into the embedded bytes (static storage) or a literal
  std::string etag;       // empty: none
  std::string location;   // for redirects
  // The files change with every build: the browser checks the ETag before using its copy.
  std::string cache_control = "no-cache";
};

// path: the request path without the query string. if_none_match: the If-None-Match header.
ConsoleResponse serveConsole(std::string_view path, std::string_view if_none_match);

}  // namespace tmirror::console
