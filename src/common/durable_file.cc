#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/unique_fd.h"

namespace tmirror {

Result<void> replaceFileDurably(const std::filesystem::path& path, const std::string& content) {
  const std::filesystem::path temp = path.string() + ".tmp";
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) {
      return makeSystemError("creating " + temp.string(), errno);
    }
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return makeSystemError("writing " + temp.string(), errno);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      return makeSystemError("fsync " + temp.string(), errno);
    }
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    return makeSystemError("renaming to " + path.string(), errno);
  }
  UniqueFd dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                      O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.valid() && ::fsync(dir.get()) != 0 && errno != EINVAL) {
    return makeSystemError("fsync of " + path.parent_path().string(), errno);
  }
  return {};
}

Result<void> makePrivateDirectory(const std::filesystem::path& directory) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return makeError(ErrorCode::Io,
                     "state directory " + directory.string() + ": " + error.message());
  }
  ::chmod(directory.c_str(), 0700);
  return {};
}

std::optional<std::string> readWholeFile(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace tmirror
