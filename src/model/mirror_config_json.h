// The JSON form of HostMirrorConfig: what `tmirror mirror-pcap` reads from a file and what the
// server hands the agent. Field names follow the EC2 API's; the reader is strict (unknown fields,
// wrong types and out-of-range values are errors naming their JSON path) and never throws.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"
#include "model/mirror_config.h"

namespace tmirror::model {

// InvalidArgument errors start with the JSON path of the offending value, e.g.
// "NetworkInterfaces[0].TrafficMirrorSessions[1].SessionNumber: 40000 is out of range 1-32766".
Result<HostMirrorConfig> parseHostMirrorConfig(std::string_view json_text);

// As parseHostMirrorConfig, with the file name in front of every error. A missing file is
// NotFound, any other read failure Io.
Result<HostMirrorConfig> loadHostMirrorConfig(const std::filesystem::path& path);

// Pretty-printed (2-space) JSON with the same field names; parseHostMirrorConfig gives back
// an equal config.
std::string hostMirrorConfigToJson(const HostMirrorConfig& config);

}  // namespace tmirror::model
