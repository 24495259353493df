#!/usr/bin/env bash
# Installs what one use of tmirror needs, from Debian's packages (and, for the console's
# browser tests, playwright-core from the npm registry). Needs nothing but bash, dpkg and
# apt-get, so it runs on a bare Debian 12 (debootstrap --variant=minbase) as root.
#
#   scripts/install-deps.sh run      build and run tmirror (make run, make demo)
#   scripts/install-deps.sh offline  run + tshark (make offline prints the mirrored capture)
#   scripts/install-deps.sh package  run + help2man and lintian (make package)
#   scripts/install-deps.sh test     run + package + everything make test uses (fuzzers, tshark,
#                                    aws CLI, boto3, scapy, Node.js + playwright-core, Chromium)
#   scripts/install-deps.sh bench    test + Google Benchmark and wrk (make bench, bench-agent)
#
# Idempotent: installs only what is missing, and calls apt-get only then.
set -euo pipefail

purpose="${1:-run}"

# Building and running: the compiler, CMake and make, the libraries the binary links, and
# iproute2 (`ip`, which `tmirror up --demo` uses for its namespace lab).
run_packages=(
  build-essential cmake make pkg-config
  libpcap-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libssl-dev libcpp-httplib-dev libboost-dev libpq-dev libsystemd-dev
  iproute2 ca-certificates
)
offline_packages=(tshark)
package_packages=(
  help2man                            # tmirror(1) from --help
  lintian                             # checks the package (its test)
)
test_packages=(
  git sqlite3
  clang libclang-rt-14-dev            # libFuzzer and the fuzz build
  clang-format clang-tidy
  libgtest-dev libgmock-dev
  tshark tcpdump python3 python3-scapy python3-boto3 awscli
  ethtool                             # the namespace lab turns offloads off (tools/lab)
  postgresql                          # the PostgreSQL store's tests start their own server
  prometheus                          # scrapes the lab in a test; promtool checks the rules
  wrk                                 # the store benchmark's smoke run (bench/store_benchmark.py)
  chromium                            # the web console's browser tests (tests/console)
)
bench_packages=(
  libbenchmark-dev
  wrk                                 # load generator of bench/api_benchmark.py
)

packages=()
node_tests=false
case "$purpose" in
  run) packages=("${run_packages[@]}") ;;
  offline) packages=("${run_packages[@]}" "${offline_packages[@]}") ;;
  package) packages=("${run_packages[@]}" "${package_packages[@]}") ;;
  test) packages=("${run_packages[@]}" "${package_packages[@]}" "${test_packages[@]}")
        node_tests=true ;;
  bench) packages=("${run_packages[@]}" "${package_packages[@]}" "${test_packages[@]}"
                   "${bench_packages[@]}")
         node_tests=true ;;
  *) echo "usage: $0 run|offline|package|test|bench" >&2; exit 2 ;;
esac

# Node.js and npm for the console's tests, unless some Node.js (e.g. NodeSource's, which
# carries its own npm) is already there: Debian's npm would conflict with it. Debian 12's own
# Node.js is 18; tests/console/package.json pins a playwright-core that supports it.
if $node_tests && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
  packages+=(nodejs npm)
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps ($purpose): installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture; answer once, non-interactively.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# playwright-core for the console's browser tests, exactly as package-lock.json pins it. It
# drives Debian's chromium: no browser download (never `npx playwright install`).
if $node_tests; then
  dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/console"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in tests/console"
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
fi
