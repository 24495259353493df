// Whether a host, as an operator writes it, is this machine's loopback: where plain HTTP and
// --auth none are acceptable because nothing crosses a network.
#pragma once

#include <string_view>

namespace tmirror {

// 127.0.0.0/8, ::1, ::ffff:127.x.y.z (brackets allowed around IPv6), or "localhost".
bool isLoopbackHost(std::string_view host);

}  // namespace tmirror
