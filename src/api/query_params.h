// QueryParams: the parameters of one EC2 Query API request (form-encoded POST body or GET
// query string), with typed readers that answer AWS error codes naming the parameter.
//
// Every reader marks the names it reads; unusedNames() then lists what the request sent that
// the action does not know, so that the action can answer UnknownParameter.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_error.h"
#include "api/form_encoding.h"

namespace tmirror::api {

class QueryParams {
 public:
  // Parses application/x-www-form-urlencoded text ("+" is a space, %XX escapes, UTF-8).
  // MalformedQueryString on a bad escape, a repeated name, or too many/too long parameters.
  static ApiResult<QueryParams> parse(std::string_view encoded);

  // Merges a second source (the query string of a POST); a name in both is malformed.
  ApiResult<void> merge(const QueryParams& other);

  bool has(std::string_view name) const;

  // Raw value, marking the name used.
  std::optional<std::string> get(std::string_view name) const;

  // MissingParameter when absent.
  ApiResult<std::string> required(std::string_view name) const;

  // Integers: InvalidParameterValue naming the parameter when not a decimal integer or
  // outside [min, max].
  ApiResult<std::optional<int64_t>> optionalInt(std::string_view name, int64_t min,
                                                int64_t max) const;
  ApiResult<int64_t> requiredInt(std::string_view name, int64_t min, int64_t max) const;

  // "true"/"false" (AWS also accepts any case); InvalidParameterValue otherwise.
  ApiResult<std::optional<bool>> optionalBool(std::string_view name) const;

  // The indexes N present for "prefix.N..." names, sorted numerically (gaps tolerated).
  // InvalidParameterValue when an index is not a positive integer.
  ApiResult<std::vector<uint32_t>> indexes(std::string_view prefix) const;

  // Values of "prefix.1", "prefix.2", ... in index order.
  ApiResult<std::vector<std::string>> list(std::string_view prefix) const;

  // Names sent that no reader asked for, sorted.
  std::vector<std::string> unusedNames() const;

  // All names, for actions that read dynamically (e.g. Filter.N.Value.M).
  const std::map<std::string, std::string, std::less<>>& all() const { return values_; }

 private:
  std::map<std::string, std::string, std::less<>> values_;
  mutable std::set<std::string, std::less<>> used_;
};

}  // namespace tmirror::api
