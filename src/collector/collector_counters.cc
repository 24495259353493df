#include "collector/collector_counters.h"

namespace tmirror::collector {

const char* dropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::ShortPacket:
      return "short_packet";
    case DropReason::BadVxlanFlags:
      return "bad_vxlan_flags";
    case DropReason::ReservedBitsSet:
      return "reserved_bits_set";
    case DropReason::EmptyInnerFrame:
      return "empty_inner_frame";
    case DropReason::OversizedDatagram:
      return "oversized_datagram";
    case DropReason::SenderNotAllowed:
      return "sender_not_allowed";
    case DropReason::VniNotAllowed:
      return "vni_not_allowed";
    case DropReason::VniDenied:
      return "vni_denied";
    case DropReason::SessionTableFull:
      return "session_table_full";
    case DropReason::WriteError:
      return "write_error";
    case DropReason::DiskFull:
      return "disk_full";
    case DropReason::SocketOverflow:
      return "socket_overflow";
    case DropReason::kCount:
      break;
  }
  return "unknown";
}

DropReason dropReasonFor(packet::DecapStatus status) {
  switch (status) {
    case packet::DecapStatus::BadVxlanFlags:
      return DropReason::BadVxlanFlags;
    case packet::DecapStatus::ReservedBitsSet:
      return DropReason::ReservedBitsSet;
    case packet::DecapStatus::EmptyInnerFrame:
      return DropReason::EmptyInnerFrame;
    default:
      return DropReason::ShortPacket;
  }
}

}  // namespace tmirror::collector
