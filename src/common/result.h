// Result<T>: the project's error channel. Functions that can fail return Result<T>;
// nothing in tmirror's own code throws.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace tmirror {

// The closed set of error kinds. The API layer maps each to an AWS error code in one table;
// the CLI maps them to exit codes.
enum class ErrorCode {
  InvalidArgument,  // a value the caller gave is malformed or out of range
  NotFound,         // a named thing (file, resource) does not exist
  AlreadyExists,    // would overwrite or duplicate something
  Unsupported,      // a valid request for something tmirror does not do
  Io,               // the OS refused (errno is kept in the message)
  Unavailable,      // a service tmirror depends on (its database) cannot be reached now
  Internal,         // a tmirror bug
};

struct Error {
  ErrorCode code = ErrorCode::Internal;
  std::string message;

  // Prefixes the message with where it happened: "loading sessions.json: ...".
  [[nodiscard]] Error withContext(std::string_view context) && {
    message = std::string(context) + ": " + message;
    return std::move(*this);
  }
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> makeError(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

// An Io error that carries strerror(errno_value).
std::unexpected<Error> makeSystemError(std::string_view what, int errno_value);

}  // namespace tmirror
