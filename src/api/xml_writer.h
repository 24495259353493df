// XmlWriter: builds EC2 Query API response documents. Element names are trusted (ours);
// text is escaped. Absent optional members are simply not written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tmirror::api {

inline constexpr std::string_view kEc2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

class XmlWriter {
 public:
  // Starts <{action}Response xmlns="..."><requestId>...</requestId>.
  XmlWriter(std::string_view action, std::string_view request_id);

  void open(std::string_view name);
  void close();  // closes the innermost open element
  void text(std::string_view name, std::string_view value);
  void integer(std::string_view name, int64_t value);
  void boolean(std::string_view name, bool value);

  // Closes everything and returns the document.
  std::string finish();

 private:
  std::string out_;
  std::vector<std::string> stack_;
};

}  // namespace tmirror::api
