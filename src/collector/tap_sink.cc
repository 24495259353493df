#include "collector/tap_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "collector/collector_log.h"

namespace tmirror::collector {

Result<UniqueFd> openTapDevice(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return makeError(ErrorCode::InvalidArgument,
                     "TAP device name '" + name + "' is not 1-15 chars");
  }
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return makeSystemError("open /dev/net/tun", errno);
  }

  struct ifreq ifr {};

  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
    return makeSystemError("TUNSETIFF " + name, errno);
  }
  UniqueFd control(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));

  struct ifreq up {};

  std::strncpy(up.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (!control.valid() || ::ioctl(control.get(), SIOCGIFFLAGS, &up) != 0) {
    return makeSystemError("SIOCGIFFLAGS " + name, errno);
  }
  up.ifr_flags = static_cast<short>(up.ifr_flags | IFF_UP);
  if (::ioctl(control.get(), SIOCSIFFLAGS, &up) != 0) {
    return makeSystemError("bringing " + name + " up", errno);
  }
  return fd;
}

TapSink::TapSink(std::optional<std::string> single_device, CollectorCounters& counters)
    : single_device_(std::move(single_device)), counters_(counters) {}

Result<void> TapSink::start() {
  if (!single_device_) {
    return {};
  }
  auto fd = openTapDevice(*single_device_);
  if (!fd) {
    return std::unexpected(std::move(fd.error()));
  }
  single_fd_ = std::move(*fd);
  return {};
}

int TapSink::fdFor(uint32_t vni) {
  if (single_device_) {
    return single_fd_.get();
  }
  auto it = by_vni_.find(vni);
  if (it == by_vni_.end()) {
    auto fd = openTapDevice("tmirror-" + std::to_string(vni));
    if (!fd) {
      logger().error("{}", fd.error().message);
    } else {
      logger().info("TAP device tmirror-{} is up", vni);
    }
    // Remember a failure too (an invalid fd): one log line, not one per packet.
    it = by_vni_.emplace(vni, fd ? std::move(*fd) : UniqueFd()).first;
  }
  return it->second.get();
}

void TapSink::write(ReceivedSession& session, const ReceivedFrame& frame) {
  std::lock_guard lock(mutex_);
  const int fd = fdFor(session.key.vni);
  if (fd < 0 || ::write(fd, frame.inner.data(), frame.inner.size()) < 0) {
    counters_.drop(DropReason::WriteError);  // includes EAGAIN: the device's queue is full
  }
}

}  // namespace tmirror::collector
