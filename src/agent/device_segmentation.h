// Whether copies handed to a device as one UDP GSO buffer leave this host as wire packets.
//
// The agent may give the kernel a run of copies of one flow as a single UDP_L4 GSO buffer
// (mirror_sender.h). That is only right when someone cuts it into packets before anything
// reads them: the kernel does so in software before the driver when the device does not
// offer UDP segmentation (ethtool `tx-udp-segmentation` off), and a hardware NIC that offers
// it does so on the wire. A virtual device that offers it (veth, tap, a bridge, a
// paravirtual NIC) would carry the buffer whole into another namespace or machine, where a
// capture on the target would see one 64 KiB packet: copies are sent one by one there.
#pragma once

#include <optional>
#include <string>

namespace tmirror::agent {

struct DeviceSegmentation {
  std::optional<bool> udp_segmentation;  // ethtool's active tx-udp-segmentation; unknown: empty
  std::string driver;                    // of the device's bus device; empty when virtual
  bool hardware = false;                 // a bus device whose driver is not paravirtual

  // A GSO buffer of copies becomes wire packets on this host or on its wire.
  bool segmentsBeforeWire() const {
    return (udp_segmentation.has_value() && !*udp_segmentation) || hardware;
  }
};

// Reads `ifindex`'s features (SIOCETHTOOL) and its driver (/sys/class/net/NAME/device/driver).
DeviceSegmentation probeDeviceSegmentation(int ifindex);

}  // namespace tmirror::agent
