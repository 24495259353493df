#include "server/api_request_labels.h"

#include <gtest/gtest.h>

namespace tmirror::server {
namespace {

api::HttpResponse answer(int status, std::string action, std::string code = "") {
  return api::HttpResponse{
      .status = status, .body = "<x/>", .action = std::move(action), .error_code = std::move(code)};
}

TEST(ServerApiLabels, ActionIsTheOneTheApiAccepted) {
  EXPECT_EQ(apiRequestLabels(answer(200, "DescribeTrafficMirrorSessions")).action,
            "DescribeTrafficMirrorSessions");
  EXPECT_EQ(apiRequestLabels(answer(400, "CreateTags", "MissingParameter")).action, "CreateTags");
}

TEST(ServerApiLabels, NoAcceptedActionOrAnUnsafeOneIsUnknown) {
  EXPECT_EQ(apiRequestLabels(answer(400, "", "InvalidAction")).action, "unknown");
  EXPECT_EQ(apiRequestLabels(answer(401, "", "AuthFailure")).action, "unknown");
  EXPECT_EQ(apiRequestLabels(answer(200, "Drop\"}evil")).action, "unknown");
  EXPECT_EQ(apiRequestLabels(answer(200, std::string(64, 'A'))).action, std::string(64, 'A'));
  EXPECT_EQ(apiRequestLabels(answer(200, std::string(65, 'A'))).action, "unknown");
}

TEST(ServerApiLabels, CodeIsTheStatusClassUnlessAnErrorNamesItself) {
  EXPECT_EQ(apiRequestLabels(answer(200, "A")).code, "2xx");
  EXPECT_EQ(apiRequestLabels(answer(200, "A", "NotAnError")).code, "2xx");
  EXPECT_EQ(apiRequestLabels(answer(400, "A", "InvalidParameterValue")).code,
            "InvalidParameterValue");
  EXPECT_EQ(apiRequestLabels(answer(400, "A", "InvalidTrafficMirrorSessionId.NotFound")).code,
            "InvalidTrafficMirrorSessionId.NotFound");
  EXPECT_EQ(apiRequestLabels(answer(400, "A", "Bad Code")).code, "4xx");
  EXPECT_EQ(apiRequestLabels(answer(503, "A")).code, "5xx");
  EXPECT_EQ(statusClass(99), "other");
  EXPECT_EQ(statusClass(600), "other");
}

}  // namespace
}  // namespace tmirror::server
