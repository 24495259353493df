#!/usr/bin/env bash
# Installs every build and test dependency of tmirror from Debian packages.
# Idempotent: does nothing when all packages are already present.
set -euo pipefail

packages=(
  build-essential cmake make pkg-config git
  clang libclang-rt-14-dev            # libFuzzer and the fuzz build
  clang-format clang-tidy
  libgtest-dev libgmock-dev libbenchmark-dev
  libpcap-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libssl-dev libcpp-httplib-dev sqlite3
  tshark tcpdump python3 python3-scapy python3-boto3 awscli iproute2
  ethtool                             # the namespace lab turns offloads off (tools/lab)
  wrk                                 # load generator of bench/api_benchmark.py
  chromium                            # the web console's browser tests (tests/console)
)
# Node.js and npm for the console's tests, unless some Node.js (e.g. NodeSource's, which
# carries its own npm) is already there: Debian's npm would conflict with it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

# playwright-core for the console's browser tests, exactly as package-lock.json pins it. It
# drives Debian's chromium: no browser download (never `npx playwright install`).
install_node_packages() {
  local dir
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/console"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in tests/console"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  install_node_packages
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_node_packages
