#!/usr/bin/env bash
# tmirror(1) from the binary's own --help, with every daemon's options: help2man reads
# `tmirror --help`, and an included section holds `tmirror server|agent|collect|up --help`.
# Usage: make-man.sh TMIRROR VERSION OUT.gz
set -euo pipefail
binary="$1" version="$2" out="$3"
include="$(mktemp)"
trap 'rm -f "$include" "$out.tmp"' EXIT
{
  echo "[DAEMONS]"
  for sub in server agent collect up; do
    echo ".SS \"tmirror $sub\""
    echo ".nf"
    "$binary" "$sub" --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
    echo ".fi"
  done
  echo "[FILES]"
  echo ".TP"
  echo "/etc/tmirror/{server,agent,collector,up}.conf"
  echo "Each daemon's settings: one 'key = value' per line, keys the long flags without dashes."
  echo ".TP"
  echo "/lib/systemd/system/tmirror-{server,agent,collector,up}.service"
  echo "The systemd units; state in /var/lib/tmirror."
} > "$include"
help2man --no-info --no-discard-stderr --version-string="$version" \
  --name="self-hosted traffic mirroring with the AWS Traffic Mirroring API" \
  --include="$include" "$binary" > "$out.tmp"
gzip -9n -c "$out.tmp" > "$out"
