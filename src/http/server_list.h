// ServerList: the equivalent servers a host (agent, collector) may talk to, e.g. replicas of
// `tmirror server` on one PostgreSQL database. Requests go to one until a request to it fails,
// then to the next, round the list. A name that resolves to several addresses is one entry
// (the client tries its addresses in turn when it connects).
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "http/server_client.h"

namespace tmirror::http {

class ServerList {
 public:
  // Every URL parsed as parseServerUrl does; at least one.
  static Result<ServerList> parse(const std::vector<std::string>& urls, const ServerTrust& trust);

  ServerList(const ServerList& other)
      : urls_(other.urls_), texts_(other.texts_), current_(other.current_.load()) {}

  ServerList& operator=(const ServerList&) = delete;

  // The server requests go to now, and its place in the list (to name it in failedAt()).
  std::size_t index() const { return current_.load() % urls_.size(); }

  const ServerUrl& url(std::size_t index) const { return urls_[index % urls_.size()]; }

  const std::string& text(std::size_t index) const { return texts_[index % texts_.size()]; }

  const std::vector<ServerUrl>& all() const { return urls_; }

  std::size_t size() const { return urls_.size(); }

  // A request to the server at `index` failed: later requests go to the next one. Several
  // threads that saw the same server fail move on once. True if this call moved on.
  bool failedAt(std::size_t index);

 private:
  ServerList(std::vector<ServerUrl> urls, std::vector<std::string> texts)
      : urls_(std::move(urls)), texts_(std::move(texts)) {}

  std::vector<ServerUrl> urls_;
  std::vector<std::string> texts_;  // as the operator wrote them, for messages
  std::atomic<std::size_t> current_{0};
};

}  // namespace tmirror::http
