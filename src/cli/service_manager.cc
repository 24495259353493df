#include "cli/service_manager.h"

#include <string>

#include <systemd/sd-daemon.h>

namespace tmirror::cli {

namespace {

// A newline would start another assignment in the notification.
std::string oneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n') {
      c = ' ';
    }
  }
  return out;
}

}  // namespace

void notifyReady(std::string_view status) {
  sd_notify(0, ("READY=1\nSTATUS=" + oneLine(status)).c_str());
}

void notifyStatus(std::string_view text) {
  sd_notify(0, ("STATUS=" + oneLine(text)).c_str());
}

void notifyStopping() {
  sd_notify(0, "STOPPING=1");
}

}  // namespace tmirror::cli
