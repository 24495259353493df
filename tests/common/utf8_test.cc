#include "common/utf8.h"

#include <gtest/gtest.h>

#include "common/aws_xml.h"

namespace tmirror {
namespace {

TEST(Utf8, WellFormedTextPasses) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("caf\xC3\xA9"));       // U+00E9
  EXPECT_TRUE(isValidUtf8("\xE2\x82\xAC"));      // U+20AC
  EXPECT_TRUE(isValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_TRUE(isValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last
  EXPECT_EQ(utf8SequenceLength("\xF0\x9F\x98\x80 rest"), 4u);
}

TEST(Utf8, WhatRfc3629ForbidsIsRefused) {
  for (const char* bad : {
           "\xFF",              // never a UTF-8 byte
           "\x80",              // a continuation without a lead
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong, three bytes
           "\xF0\x80\x80\xAF",  // overlong, four bytes
           "\xED\xA0\x80",      // U+D800, a surrogate
           "\xF4\x90\x80\x80",  // past U+10FFFF
           "\xE2\x82",          // cut short
           "ok\xC3",            // cut short at the end
       }) {
    EXPECT_FALSE(isValidUtf8(bad)) << testing::PrintToString(std::string(bad));
  }
}

TEST(Utf8, TheXmlEscaperNeverEmitsIllFormedText) {
  std::string out;
  appendXmlEscaped(out,
                   "a\xFF"
                   "b\xC3\xA9"
                   "c\xED\xA0\x80"
                   "d\xEF\xBF\xBF"
                   "e\xE2\x82");
  // Each bad byte or sequence is one U+FFFD; U+FFFF (not an XML character) too.
  EXPECT_EQ(out,
            "a&#xFFFD;b\xC3\xA9"
            "c&#xFFFD;&#xFFFD;&#xFFFD;d&#xFFFD;e&#xFFFD;&#xFFFD;");
  EXPECT_TRUE(isValidUtf8(out));
}

}  // namespace
}  // namespace tmirror
