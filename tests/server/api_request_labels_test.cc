#include "server/api_request_labels.h"

#include <gtest/gtest.h>

#include "common/random.h"
#include "server/error_envelope.h"

namespace tmirror::server {
namespace {

TEST(ServerApiLabels, ActionComesFromQueryThenBody) {
  EXPECT_EQ(actionParameter("Action=DescribeTrafficMirrorSessions&Version=2016-11-15", ""),
            "DescribeTrafficMirrorSessions");
  EXPECT_EQ(actionParameter("", "Version=2016-11-15&Action=CreateTrafficMirrorTarget"),
            "CreateTrafficMirrorTarget");
  EXPECT_EQ(actionParameter("Action=FromQuery", "Action=FromBody"), "FromQuery");
  EXPECT_EQ(actionParameter("XAction=Nope&Action=Yes", ""), "Yes");
}

TEST(ServerApiLabels, UnsafeOrMissingActionsAreUnknown) {
  EXPECT_EQ(actionParameter("", ""), "unknown");
  EXPECT_EQ(actionParameter("Version=2016-11-15", "DryRun=true"), "unknown");
  EXPECT_EQ(actionParameter("Action=", ""), "unknown");
  EXPECT_EQ(actionParameter("Action=Describe%20Sessions", ""), "unknown");
  EXPECT_EQ(actionParameter("Action=Describe+Sessions", ""), "unknown");
  EXPECT_EQ(actionParameter("Action=Drop\"}evil", ""), "unknown");
  EXPECT_EQ(actionParameter("Action=" + std::string(64, 'A'), ""), std::string(64, 'A'));
  EXPECT_EQ(actionParameter("Action=" + std::string(65, 'A'), ""), "unknown");
}

TEST(ServerApiLabels, ErrorCodeComesFromTheEnvelope) {
  EXPECT_EQ(envelopeErrorCode(errorEnvelope("InvalidTrafficMirrorSessionId.NotFound", "x")),
            "InvalidTrafficMirrorSessionId.NotFound");
  EXPECT_EQ(envelopeErrorCode("<Response><Errors><Error><Code>Bad Code</Code>"), "");
  EXPECT_EQ(envelopeErrorCode("<Code>" + std::string(65, 'A') + "</Code>"), "");
  EXPECT_EQ(envelopeErrorCode("<Code>Unterminated"), "");
  EXPECT_EQ(envelopeErrorCode("no envelope"), "");
}

TEST(ServerApiLabels, CodeIsTheStatusClassUnlessAnErrorNamesItself) {
  EXPECT_EQ(apiRequestLabels("Action=A", "", 200, "<ok/>").code, "2xx");
  EXPECT_EQ(apiRequestLabels("Action=A", "", 200, "<Code>NotAnError</Code>").code, "2xx");
  EXPECT_EQ(apiRequestLabels("Action=A", "", 400, errorEnvelope("InvalidParameterValue", "m")).code,
            "InvalidParameterValue");
  EXPECT_EQ(apiRequestLabels("Action=A", "", 503, "plain text").code, "5xx");
  EXPECT_EQ(statusClass(99), "other");
  EXPECT_EQ(statusClass(600), "other");
}

TEST(ServerApiLabels, ActionsTheApiDidNotAcceptAreUnknown) {
  EXPECT_EQ(apiRequestLabels("Action=MadeUp", "", 400, errorEnvelope("InvalidAction", "m")).action,
            "unknown");
  EXPECT_EQ(apiRequestLabels("Action=Anything", "", 401, errorEnvelope("AuthFailure", "m")).action,
            "unknown");
  EXPECT_EQ(
      apiRequestLabels("Action=Anything", "", 403, errorEnvelope("SignatureDoesNotMatch", "m"))
          .action,
      "unknown");
  EXPECT_EQ(
      apiRequestLabels("Action=CreateTags", "", 400, errorEnvelope("MissingParameter", "m")).action,
      "CreateTags");
}

TEST(ServerErrorEnvelope, CarriesEscapedCodeMessageAndAFreshRequestId) {
  const std::string envelope = errorEnvelope("RequestEntityTooLarge", "body > 1 MiB & <more>");
  EXPECT_TRUE(
      envelope.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<Response><Errors><Error><Code>RequestEntityTooLarge</Code>"
                           "<Message>body &gt; 1 MiB &amp; &lt;more&gt;</Message>"
                           "</Error></Errors><RequestID>"))
      << envelope;
  EXPECT_TRUE(envelope.ends_with("</RequestID></Response>"));
  const std::string id = newUuid4();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id[8], '-');
  EXPECT_EQ(id[14], '4');  // version 4
  EXPECT_NE(id, newUuid4());
}

}  // namespace
}  // namespace tmirror::server
