#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time with the committed corpus (fuzz/corpus/<target>).
# Installs cargo-fuzz when it is missing. Stable toolchain: with `-s none` (no sanitizer) cargo-fuzz
# passes only stable flags (SanitizerCoverage through -Cllvm-args), so no nightly is needed.
# A crash stops the run with its input under fuzz/artifacts/<target>/: make it a regression test.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "-- installing cargo-fuzz 0.13.2"
  cargo install cargo-fuzz --locked --version 0.13.2
fi
cd fuzz
cargo fuzz build -s none --release
for target in request_bodies package signature config state; do
  echo "== fuzz $target for ${seconds}s"
  # The committed corpus is read only; new inputs go to a scratch directory.
  scratch=$(mktemp -d)
  log=$(mktemp)
  status=0
  cargo fuzz run -s none --release "$target" "$scratch" "corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)" "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$log"
    echo "fuzz target $target failed (exit $status): the input is under fuzz/artifacts/$target"
    exit 1
  fi
  rm -rf "$scratch" "$log"
done
echo "fuzz: every target ran ${seconds}s with no crash"
echo "fuzz: 5 passed, 0 failed"
