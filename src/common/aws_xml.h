// XML text as the EC2 Query API writes it, and the AWS error envelope: one escaper and one
// envelope for the API's answers (api/xml_writer.h) and the HTTP layer's own (oversized body,
// timeout, unknown path, a handler that threw).
#pragma once

#include <string>
#include <string_view>

namespace tmirror {

inline constexpr std::string_view kXmlContentType = "text/xml;charset=UTF-8";

// Appends `text` as XML character data: the five entities, and U+FFFD for what XML 1.0
// cannot carry even escaped (control characters, bytes that are not UTF-8, U+FFFE/U+FFFF),
// so that no input can make the document ill-formed.
void appendXmlEscaped(std::string& out, std::string_view text);

// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
std::string awsErrorDocument(std::string_view code, std::string_view message,
                             std::string_view request_id);

}  // namespace tmirror
