#include "http/responder.h"

namespace tmirror::http {

void Responder::operator()(Response response) const {
  if (const auto target = target_.lock()) {
    target->deliver(request_, std::move(response));
  }
}

bool Responder::connected() const {
  const auto target = target_.lock();
  return target != nullptr && target->open();
}

}  // namespace tmirror::http
