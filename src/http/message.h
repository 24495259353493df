// The HTTP/1.1 messages the listener hands to a Handler and takes back from it: owned strings,
// no library types, so the server and the collector route requests without seeing Boost.Beast.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tmirror::http {

struct Header {
  std::string name;  // as the client spelt it
  std::string value;
};

struct Request {
  std::string method;  // one of the methods the listener admits (see Refusal::MethodNotAllowed)
  std::string target;  // the request target exactly as sent: path and query still encoded
  std::vector<Header> headers;  // in the order sent, repeats kept
  std::string body;             // de-chunked
  std::string remote_address;   // the client's IP literal
  bool head = false;            // HEAD: the response's body is not sent

  // The first header of that name (ASCII case-insensitive), or "".
  std::string_view header(std::string_view name) const;
  // GET or HEAD: the routes that serve documents answer both.
  bool isGetOrHead() const;
  // The target's path and query, split at the first '?'.
  std::string_view path() const;
  std::string_view query() const;
};

// A file sent as the body, read in pieces while it is written, never whole in memory.
struct FileBody {
  std::filesystem::path path;
};

struct Response {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::optional<FileBody> file;  // when set, sent instead of body
  std::vector<Header> headers;   // besides Content-Type, Content-Length and Connection
  bool close = false;            // close the connection after this response
};

// Why the listener answered a request itself, before or instead of a Handler seeing it.
enum class Refusal {
  Malformed,         // unparsable request line or headers, ambiguous body framing, unknown method
  MethodNotAllowed,  // a method HTTP defines that no route takes (TRACE, CONNECT, WebDAV's)
  UriTooLong,        // the request target is longer than ListenerOptions::max_target_bytes
  HeadersTooLarge,   // the head is larger than ListenerOptions::max_header_bytes
  BodyTooLarge,      // more than ListenerOptions::max_body_bytes
  Timeout,           // the request was not received before a read deadline
  InternalError,     // the handler threw
};

}  // namespace tmirror::http
