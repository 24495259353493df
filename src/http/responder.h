// Responder: how a Handler answers one request, now or later, from any thread. It holds the
// connection weakly: a long-poll parked for thirty seconds keeps no thread and no socket alive
// by itself, and an answer for a connection that closed meanwhile is dropped.
#pragma once

#include <cstdint>
#include <memory>

#include "http/message.h"

namespace tmirror::http {

namespace detail {
// The connection side of a Responder.
class ResponseTarget {
 public:
  virtual ~ResponseTarget() = default;
  virtual void deliver(uint64_t request, Response response) = 0;
  virtual bool open() const = 0;
};
}  // namespace detail

class Responder {
 public:
  Responder() = default;

  Responder(std::weak_ptr<detail::ResponseTarget> target, uint64_t request)
      : target_(std::move(target)), request_(request) {}

  // Sends the answer on the request's connection. The first call counts; later ones, and calls
  // after the connection closed, do nothing.
  void operator()(Response response) const;

  // False once the connection has closed (the client left or the listener stopped).
  bool connected() const;

 private:
  std::weak_ptr<detail::ResponseTarget> target_;
  uint64_t request_ = 0;
};

}  // namespace tmirror::http
