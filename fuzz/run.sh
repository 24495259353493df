#!/usr/bin/env bash
# Builds the fuzz targets with clang and runs each for FUZZ_SECONDS (default 20) from the
# checked-in seed corpus. New inputs go to a scratch corpus; crashes fail the run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${FUZZ_BUILD_DIR:-$here/../build/fuzz}
seconds=${FUZZ_SECONDS:-20}
cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j2 >/dev/null
for target in frame_parser_fuzz vxlan_decap_fuzz sigv4_fuzz form_fuzz collector_fuzz segmenter_fuzz; do
  rm -f "$build/$target"-crash-* "$build/$target"-leak-* "$build/$target"-timeout-*
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus"' EXIT
  seeds=$here/corpus/${target%_fuzz}
  echo "fuzz: $target for ${seconds}s (seeds: $(ls "$seeds" | wc -l))"
  "$build/$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$build/$target-" "$corpus" "$seeds" 2>&1 | grep -E '^(stat::number_of_executed_units|stat::new_units_added)|ERROR|SUMMARY' || true
  # Any one kind of artifact is a failure (a single `ls` of all three globs needs all three).
  failures=$(compgen -G "$build/$target-crash-*"; compgen -G "$build/$target-leak-*"; compgen -G "$build/$target-timeout-*") || true
  if [ -n "$failures" ]; then
    echo "fuzz: $target found a failing input:" $failures
    exit 1
  fi
  rm -rf "$corpus"
  trap - EXIT
done
echo "fuzz: no crashes"
