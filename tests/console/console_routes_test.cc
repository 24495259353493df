// What `tmirror server` answers under /console: the embedded console/ files, found by exact
// name only, with their content type and ETag.
#include "console/console_routes.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "console/console_assets.h"

namespace tmirror::console {
namespace {

std::string sourceFile(const std::string& relative) {
  const char* root = std::getenv("TMIRROR_SOURCE_DIR");
  std::ifstream in(std::string(root != nullptr ? root : ".") + "/console/" + relative,
                   std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(ConsoleRoutes, FolderWithoutSlashRedirects) {
  const ConsoleResponse r = serveConsole("/console", "");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.location, "/console/");
}

TEST(ConsoleRoutes, FolderServesIndexHtml) {
  const ConsoleResponse r = serveConsole("/console/", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(r.body, sourceFile("index.html"));
  EXPECT_EQ(r.cache_control, "no-cache");
}

TEST(ConsoleRoutes, ModulesAreJavaScriptAndByteExact) {
  const ConsoleResponse r = serveConsole("/console/js/sigv4.js", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(r.body, sourceFile("js/sigv4.js"));
  EXPECT_EQ(serveConsole("/console/css/console.css", "").content_type, "text/css; charset=utf-8");
}

TEST(ConsoleRoutes, EveryEmbeddedFileHasAQuotedEtag) {
  ASSERT_FALSE(consoleAssets().empty());
  for (const ConsoleAsset& asset : consoleAssets()) {
    EXPECT_EQ(asset.etag.size(), 18u) << asset.path;
    EXPECT_EQ(asset.etag.front(), '"') << asset.path;
    EXPECT_EQ(asset.etag.back(), '"') << asset.path;
  }
}

TEST(ConsoleRoutes, MatchingEtagAnswersNotModified) {
  const ConsoleResponse first = serveConsole("/console/js/main.js", "");
  ASSERT_FALSE(first.etag.empty());
  EXPECT_EQ(serveConsole("/console/js/main.js", first.etag).status, 304);
  EXPECT_EQ(serveConsole("/console/js/main.js", "\"other\", W/" + first.etag).status, 304);
  EXPECT_EQ(serveConsole("/console/js/main.js", "\"other\"").status, 200);
}

TEST(ConsoleRoutes, UnknownOrTraversingPathsAreNotFound) {
  for (const char* path :
       {"/console/nothing.js", "/console/js/", "/console/../README.md", "/console/js/../index.html",
        "/console//index.html", "/console/%69ndex.html", "/consoles/index.html", "/"}) {
    EXPECT_EQ(serveConsole(path, "").status, 404) << path;
  }
}

}  // namespace
}  // namespace tmirror::console
