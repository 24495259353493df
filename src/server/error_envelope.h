// The AWS error envelope for answers the HTTP layer gives itself (oversized body, timeout,
// unknown path, a handler that threw). API errors proper are written by the QueryApi.
#pragma once

#include <string>
#include <string_view>

namespace tmirror::server {

inline constexpr std::string_view kXmlContentType = "text/xml;charset=UTF-8";

// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>, with a
// fresh request ID.
std::string errorEnvelope(std::string_view code, std::string_view message);

}  // namespace tmirror::server
