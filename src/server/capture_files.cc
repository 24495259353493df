#include "server/capture_files.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <nlohmann/json.hpp>

namespace tmirror::server {

namespace {

bool isCaptureName(const std::string& name, bool& complete) {
  if (name.empty() || name.size() > 255 || name.front() == '.' ||
      name.find('/') != std::string::npos || name.find("-vni") == std::string::npos) {
    return false;
  }
  if (name.ends_with(".pcapng")) {
    complete = true;
    return true;
  }
  if (name.ends_with(".pcapng.part")) {
    complete = false;
    return true;
  }
  return false;
}

std::optional<uint32_t> vniOf(const std::string& name) {
  const auto at = name.find("-vni");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  uint32_t vni = 0;
  const char* begin = name.data() + at + 4;
  const auto [end, error] = std::from_chars(begin, name.data() + name.size(), vni);
  if (error != std::errc{} || end == begin) {
    return std::nullopt;
  }
  return vni;
}

}  // namespace

std::vector<CaptureFile> listCaptureFiles(const std::filesystem::path& directory) {
  std::vector<CaptureFile> out;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    std::error_code e;
    if (!entry.is_regular_file(e) || entry.is_symlink(e)) {
      continue;
    }
    CaptureFile f;
    f.name = entry.path().filename().string();
    if (!isCaptureName(f.name, f.complete)) {
      continue;
    }
    f.bytes = entry.file_size(e);
    const auto written = entry.last_write_time(e);
    f.modified_unix = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::file_clock::to_sys(written).time_since_epoch())
                          .count();
    f.vni = vniOf(f.name);
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(), [](const CaptureFile& a, const CaptureFile& b) {
    return a.modified_unix != b.modified_unix ? a.modified_unix > b.modified_unix : a.name > b.name;
  });
  return out;
}

std::string captureFilesToJson(const std::vector<CaptureFile>& files) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : files) {
    nlohmann::json item = {{"Name", f.name},
                           {"Bytes", f.bytes},
                           {"Modified", f.modified_unix},
                           {"Complete", f.complete}};
    if (f.vni) {
      item["Vni"] = *f.vni;
    }
    list.push_back(std::move(item));
  }
  // File names need not be UTF-8; JSON must be.
  return nlohmann::json{{"Files", list}}.dump(-1, ' ', false,
                                              nlohmann::json::error_handler_t::replace);
}

std::optional<std::filesystem::path> resolveCaptureFile(const std::filesystem::path& directory,
                                                        const std::string& name) {
  bool complete = false;
  if (!isCaptureName(name, complete) || name.find("..") != std::string::npos ||
      name.find('\\') != std::string::npos || name.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  const auto path = directory / name;
  std::error_code e;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(path, e))) {
    return std::nullopt;
  }
  return path;
}

}  // namespace tmirror::server
