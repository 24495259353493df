// What a daemon tells systemd about itself (sd_notify(3)) when it runs as a Type=notify unit:
// ready once it serves, a status line, stopping when asked to. Outside systemd (no
// NOTIFY_SOCKET) every call does nothing.
#pragma once

#include <string_view>

namespace tmirror::cli {

// READY=1 with a STATUS= line: the unit counts as started (dependent units may go on).
void notifyReady(std::string_view status);

// STATUS= only: what `systemctl status` shows under the unit.
void notifyStatus(std::string_view text);

// STOPPING=1: the daemon is shutting down cleanly.
void notifyStopping();

}  // namespace tmirror::cli
