#!/usr/bin/env bash
# The hot-path benchmark (README "Performance"): builds the emulator's release binary and the floor
# (benches/floor, a bare axum route), installs wrk from Debian's packages if it is missing, and
# prints one table of figures side by side with the ratios to the floor. Extra arguments go to
# scripts/bench.py (e.g. --seconds 10, --json out.json). Not part of the test command: figures are
# printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    echo "bench: wrk is missing; install it (Debian: apt-get install wrk)" >&2
    exit 1
  fi
fi
command -v taskset >/dev/null || echo "bench: taskset is missing; server and wrk are not pinned" >&2

cargo build --release --locked --bin roma-emulator
CARGO_TARGET_DIR="$PWD/target/floor" cargo build --release --locked --manifest-path benches/floor/Cargo.toml
exec python3 scripts/bench.py --emulator target/release/roma-emulator \
  --floor target/floor/release/roma-floor "$@"
