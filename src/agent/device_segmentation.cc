#include "agent/device_segmentation.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/unique_fd.h"

namespace tmirror::agent {

namespace {

constexpr std::string_view kUdpSegmentation = "tx-udp-segmentation";

// Paravirtual NICs hand a GSO buffer to the hypervisor, which may pass it whole to a guest.
constexpr std::array<std::string_view, 5> kParavirtualDrivers = {"virtio_net", "hv_netvsc",
                                                                 "vmxnet3", "vif", "xen-netfront"};

bool ethtool(int fd, const std::string& device, void* command) {
  ifreq request{};
  std::memcpy(request.ifr_name, device.c_str(), device.size());
  request.ifr_data = static_cast<char*>(command);
  return ::ioctl(fd, SIOCETHTOOL, &request) == 0;
}

// The active state of the feature named `feature`; empty when the kernel does not say.
std::optional<bool> activeFeature(const std::string& device, std::string_view feature) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return std::nullopt;
  }
  // ethtool_sset_info and the one count it returns for one set.
  alignas(ethtool_sset_info) std::array<std::byte, sizeof(ethtool_sset_info) + sizeof(uint32_t)>
      set_buffer{};
  auto* sets = reinterpret_cast<ethtool_sset_info*>(set_buffer.data());
  sets->cmd = ETHTOOL_GSSET_INFO;
  sets->sset_mask = uint64_t{1} << ETH_SS_FEATURES;
  if (!ethtool(fd.get(), device, sets) || sets->sset_mask == 0 || sets->data[0] == 0) {
    return std::nullopt;
  }
  const uint32_t count = sets->data[0];
  std::vector<std::byte> names(sizeof(ethtool_gstrings) + std::size_t{count} * ETH_GSTRING_LEN);
  auto* strings = reinterpret_cast<ethtool_gstrings*>(names.data());
  strings->cmd = ETHTOOL_GSTRINGS;
  strings->string_set = ETH_SS_FEATURES;
  strings->len = count;
  if (!ethtool(fd.get(), device, strings)) {
    return std::nullopt;
  }
  std::optional<uint32_t> index;
  for (uint32_t i = 0; i < count && i < strings->len; ++i) {
    const auto* name =
        reinterpret_cast<const char*>(strings->data) + std::size_t{i} * ETH_GSTRING_LEN;
    if (std::string_view(name, ::strnlen(name, ETH_GSTRING_LEN)) == feature) {
      index = i;
      break;
    }
  }
  if (!index) {
    return std::nullopt;
  }
  const uint32_t blocks = (count + 31) / 32;
  std::vector<std::byte> state(sizeof(ethtool_gfeatures) +
                               std::size_t{blocks} * sizeof(ethtool_get_features_block));
  auto* features = reinterpret_cast<ethtool_gfeatures*>(state.data());
  features->cmd = ETHTOOL_GFEATURES;
  features->size = blocks;
  if (!ethtool(fd.get(), device, features)) {
    return std::nullopt;
  }
  return (features->features[*index / 32].active >> (*index % 32) & 1u) != 0;
}

}  // namespace

DeviceSegmentation probeDeviceSegmentation(int ifindex) {
  DeviceSegmentation out;
  char name[IF_NAMESIZE] = {};
  if (::if_indextoname(static_cast<unsigned>(ifindex), name) == nullptr) {
    return out;
  }
  const std::string device(name);
  out.udp_segmentation = activeFeature(device, kUdpSegmentation);
  std::error_code error;
  const auto driver =
      std::filesystem::read_symlink("/sys/class/net/" + device + "/device/driver", error);
  if (!error) {
    out.driver = driver.filename().string();
    out.hardware = true;
    for (std::string_view paravirtual : kParavirtualDrivers) {
      if (out.driver == paravirtual) {
        out.hardware = false;
      }
    }
  }
  return out;
}

}  // namespace tmirror::agent
