#!/usr/bin/env bash
# The hot-path benchmark (README "Performance"): builds the emulator's release binary and the floor
# (benches/floor, a bare axum route), installs wrk from Debian's packages if it is missing, and
# prints one table of figures side by side with the ratios to the floor. Extra arguments go to
# scripts/bench.py (e.g. --seconds 10, --json out.json). With --peers it also installs Stoplight Prism
# and the Mockoon CLI from npm into a temporary directory and runs the same export against them.
# Not part of the test command: figures are printed, never asserted.
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

args=()
peers=
for arg in "$@"; do
  if [ "$arg" = "--peers" ]; then
    peers=$(mktemp -d)
    trap 'rm -rf "$peers"' EXIT
    echo "bench: installing @stoplight/prism-cli and @mockoon/cli from npm into $peers"
    npm install --prefix "$peers" --no-audit --no-fund --silent @stoplight/prism-cli@5.14.2 @mockoon/cli@9.9.0
    args+=(--peers "$peers")
  else
    args+=("$arg")
  fi
done

cargo build --release --locked --bin roma-emulator
CARGO_TARGET_DIR="$PWD/target/floor" cargo build --release --locked --manifest-path benches/floor/Cargo.toml
python3 scripts/bench.py --emulator target/release/roma-emulator \
  --floor target/floor/release/roma-floor "${args[@]}"
