#!/usr/bin/env bash
# Checks the README's two commands where a new user meets them: on a bare Debian 12.
#
#   sudo tools/fresh-debian.sh [ROOT_DIR]      (default /var/tmp/tmirror-fresh-debian)
#
# Builds a minimal Debian 12 root with debootstrap (--variant=minbase, from Debian's own
# package), clones this repository's HEAD into it, and runs inside it, as root:
#   1. ./run.sh   until `tmirror up` says it is up; then the console answers 200 and the API
#                 lists this host's interfaces (tmirror's own CLI, SigV4 with the printed key);
#                 then it is stopped with SIGINT, as Ctrl-C would
#   2. ./test.sh  to the end: ctest must report 0 failed, the fuzzers must find nothing
# It prints each step's time and result, and exits non-zero when a step fails. The root shares
# this machine's network (package registries, loopback), gets proc/sys/dev mounted, is
# bind-mounted onto itself so `ip netns` works inside, and gets the host's CA certificates,
# resolver, apt sources and npmrc so package clients behave as on the host. Everything is
# unmounted at the end, even on failure. Not part of `make test`: it takes 40-60 minutes.
set -euo pipefail

root="${1:-/var/tmp/tmirror-fresh-debian}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
logs="$root.logs"
port=8900

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-debian: needs root (debootstrap, chroot, mounts)" >&2
  exit 1
fi

started=$(date +%s)
step_started=$started
failed=0
step() {
  step_started=$(date +%s)
  printf '\n=== %s  %s\n' "$(date -u +%H:%M:%S)" "$*"
}
result() {  # result ok|FAILED text
  local now
  now=$(date +%s)
  printf '=== %-6s %4ds  %s\n' "$1" $((now - step_started)) "$2"
  if [ "$1" != ok ]; then
    failed=1
  fi
}

# Processes whose root directory is inside the fresh root (what a step left running).
processes_in_root() {
  local p r
  for p in /proc/[0-9]*; do
    r="$(readlink "$p/root" 2>/dev/null || true)"
    case "$r" in
      "$root" | "$root"/*) echo "${p#/proc/}" ;;
    esac
  done
}

teardown() {
  local pids
  pids="$(processes_in_root)"
  if [ -n "$pids" ]; then
    kill -INT $pids 2>/dev/null || true
    sleep 3
    pids="$(processes_in_root)"
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    sleep 1
  fi
  # Network namespaces a test left inside the root (its /run/netns).
  if [ -d "$root/run/netns" ]; then
    for ns in "$root"/run/netns/*; do
      [ -e "$ns" ] || continue
      umount -l "$ns" 2>/dev/null || true
    done
  fi
  if mountpoint -q "$root"; then
    umount -R -l "$root" 2>/dev/null || true
  fi
}
trap teardown EXIT

in_root() {  # in_root COMMAND: runs COMMAND with bash in the root, in the clone, as a login would
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 /bin/bash -c "cd /root/tmirror && $1"
}

# --- 1. A minimal Debian 12 ----------------------------------------------------------------
step "debootstrap --variant=minbase bookworm into $root"
teardown
if grep -q " $root[/ ]" /proc/mounts; then  # never rm -rf through a mount of the host's /dev
  echo "fresh-debian: $root still has mounts; unmount them first" >&2
  exit 1
fi
rm -rf "$root" "$logs"
mkdir -p "$root" "$logs"
if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi
# The mirror this machine uses (deb822 or one-line sources).
mirror="$(grep -hoE '^URIs: *[^ ]+' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | awk '{print $2}')"
if [ -z "$mirror" ]; then
  mirror="$(grep -hoE '^deb +[^ ]+' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}')"
fi
mirror="${mirror:-http://deb.debian.org/debian}"
if debootstrap --variant=minbase bookworm "$root" "$mirror" >"$logs/debootstrap.log" 2>&1; then
  result ok "minimal root from $mirror ($(du -sm "$root" | cut -f1) MiB)"
else
  tail -20 "$logs/debootstrap.log"
  result FAILED "debootstrap (log: $logs/debootstrap.log)"
  exit 1
fi

step "mounts, host CA certificates, resolver, apt sources, clone of $(git -C "$repo" rev-parse --short HEAD)"
mount --bind "$root" "$root"
mount --make-private "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mkdir -p "$root/run/netns"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
[ -f /etc/npmrc ] && cp /etc/npmrc "$root/etc/npmrc"
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  rm -f "$root/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$root/etc/apt/sources.list.d/"
fi
if ! git -C "$repo" diff --quiet HEAD 2>/dev/null; then
  echo "fresh-debian: note: the working tree has uncommitted changes; the root gets HEAD only"
fi
git clone -q "$repo" "$root/root/tmirror"
result ok "root ready"

# --- 2. ./run.sh: set up and run --------------------------------------------------------------
step "./run.sh (as the README says), until tmirror is up"
setsid chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  TERM=dumb LANG=C.UTF-8 /bin/bash -c 'cd /root/tmirror && ./run.sh' >"$logs/run.log" 2>&1 &
run_pid=$!
deadline=$(($(date +%s) + 3600))
up=0
while [ "$(date +%s)" -lt $deadline ] && kill -0 $run_pid 2>/dev/null; do
  if grep -q '^Stop with Ctrl-C' "$logs/run.log"; then
    up=1
    break
  fi
  sleep 5
done
if [ $up -eq 1 ]; then
  result ok "tmirror is up ($(grep -c 'install-deps' "$logs/run.log") install step(s))"
  step "the running tmirror answers: console and API"
  status="$(in_root "exec 3<>/dev/tcp/127.0.0.1/$port && printf 'GET /console/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && head -1 <&3")"
  key_line="$(grep -m1 'AWS_ACCESS_KEY_ID=' "$logs/run.log")"
  key_id="$(sed -E 's/.*AWS_ACCESS_KEY_ID=([^ ]+).*/\1/' <<<"$key_line")"
  secret="$(sed -E 's/.*AWS_SECRET_ACCESS_KEY=([^ ]+).*/\1/' <<<"$key_line")"
  interfaces="$(in_root "AWS_ACCESS_KEY_ID=$key_id AWS_SECRET_ACCESS_KEY=$secret \
      build/release/tmirror describe-network-interfaces --endpoint-url http://127.0.0.1:$port \
      --output json" 2>&1 || true)"
  echo "console: $status"
  echo "interfaces: $(grep -o 'eni-[0-9a-f]*' <<<"$interfaces" | sort -u | tr '\n' ' ')"
  if [[ "$status" == *" 200"* ]] && [[ "$interfaces" == *eni-* ]]; then
    result ok "console 200, DescribeNetworkInterfaces lists this host's interfaces"
  else
    result FAILED "the running tmirror did not answer as expected (log: $logs/run.log)"
  fi
else
  tail -30 "$logs/run.log"
  result FAILED "./run.sh did not bring tmirror up (log: $logs/run.log)"
fi
kill -INT -- -$run_pid 2>/dev/null || true
for _ in $(seq 1 20); do
  kill -0 $run_pid 2>/dev/null || break
  sleep 1
done
kill -KILL -- -$run_pid 2>/dev/null || true
wait $run_pid 2>/dev/null || true

# --- 3. ./test.sh: set up and test ------------------------------------------------------------
step "./test.sh (as the README says), to the end"
if in_root './test.sh' >"$logs/test.log" 2>&1; then
  summary="$(grep -E 'tests passed|tests failed' "$logs/test.log" | tail -1)"
  result ok "${summary:-test.sh exited 0}"
else
  grep -E 'tests passed|tests failed|\(Failed\)|\(Timeout\)|\*\*\*' "$logs/test.log" | tail -30 || true
  tail -20 "$logs/test.log"
  result FAILED "./test.sh (log: $logs/test.log)"
fi
echo "node in the root: $(in_root 'node --version' 2>&1 || true)"

now=$(date +%s)
printf '\n=== fresh Debian 12: %s in %d min (logs in %s)\n' \
  "$([ $failed -eq 0 ] && echo PASSED || echo FAILED)" $(((now - started) / 60)) "$logs"
exit $failed
