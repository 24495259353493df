// CaptureFiles: the collector's pcapng files under a directory, as the console lists and
// downloads them (`tmirror server --captures-dir`, set by `tmirror up`). Only plain files
// directly in the directory whose names are the collector's (`<sender>-vni<N>-….pcapng`,
// or `.pcapng.part` while being written) are ever listed or served: no path from a request
// reaches anything else.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tmirror::server {

struct CaptureFile {
  std::string name;
  uint64_t bytes = 0;
  int64_t modified_unix = 0;
  std::optional<uint32_t> vni;  // from the name
  bool complete = false;        // .pcapng (finished) rather than .pcapng.part
};

// Newest first.
std::vector<CaptureFile> listCaptureFiles(const std::filesystem::path& directory);

// JSON {"Files":[{"Name","Bytes","Modified","Vni","Complete"}]}.
std::string captureFilesToJson(const std::vector<CaptureFile>& files);

// The file `name` names in `directory`, if it is one listCaptureFiles would list.
std::optional<std::filesystem::path> resolveCaptureFile(const std::filesystem::path& directory,
                                                        const std::string& name);

}  // namespace tmirror::server
