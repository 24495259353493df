#include "collector/receive_path.h"

namespace tmirror::collector {

void ReceivePath::process(const Datagram& datagram) {
  counters_.received(1, datagram.payload.size());
  if (datagram.truncated) {
    counters_.drop(DropReason::OversizedDatagram);
    return;
  }
  const packet::VxlanPayload vxlan = packet::decodeVxlan(datagram.payload);
  if (vxlan.status != packet::DecapStatus::Ok) {
    counters_.drop(dropReasonFor(vxlan.status));
    return;
  }
  const SessionKey key{datagram.sender, vxlan.vni};
  ReceivedSession* session = nullptr;
  if (last_session_ != nullptr && key == last_key_) {
    session = last_session_;
  } else {
    if (auto refused = admission_.check(key.sender, key.vni)) {
      counters_.drop(*refused);
      return;
    }
    session = sessions_.findOrCreate(key);
    if (session == nullptr) {
      counters_.drop(DropReason::SessionTableFull);
      return;
    }
    last_key_ = key;
    last_session_ = session;
  }
  session->packets.fetch_add(1, std::memory_order_relaxed);
  session->bytes.fetch_add(vxlan.inner.size(), std::memory_order_relaxed);
  const ReceivedFrame frame{datagram.timestamp_ns, vxlan.inner,
                            static_cast<uint32_t>(vxlan.inner.size())};
  for (FrameSink* sink : sinks_) {
    sink->write(*session, frame);
  }
}

void ReceivePath::endBatch() {
  for (FrameSink* sink : sinks_) {
    sink->endBatch();
  }
}

}  // namespace tmirror::collector
