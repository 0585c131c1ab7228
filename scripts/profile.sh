#!/usr/bin/env bash
# Profiles the emulator's export hot path: a release build with debug line tables (target/profile),
# the server pinned to core 0 under wrk on core 1 (32 connections, the benchmark's request), and
# `perf record --call-graph dwarf` on the server. Prints where the server's CPU goes: self time by
# component, and the inclusive time of the emulator's own steps. Needs perf (Debian: linux-perf).
# Usage: scripts/profile.sh [seconds] [extra env, e.g. ROMA_EMULATOR_LOG_LEVEL=warn]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
shift || true
CARGO_TARGET_DIR="$PWD/target/profile" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build --release --locked --bin roma-emulator
out=$(mktemp -d /tmp/roma-profile-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
env "$@" ROMA_EMULATOR_JOBS_PROGRESSION=immediate taskset -c 0 target/profile/release/roma-emulator \
  --listen "127.0.0.1:$port" >/dev/null 2>"$out/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/_emulator/health" >/dev/null && break; sleep 0.05; done
python3 scripts/bench.py --print-lua >"$out/export.lua"
url="http://127.0.0.1:$port/v2/bench-project/instances/bench-instance/assets/export"
taskset -c 1 wrk -t1 -c32 -d2s -s "$out/export.lua" "$url" >/dev/null
taskset -c 1 wrk -t1 -c32 -d"$((seconds + 2))s" -s "$out/export.lua" "$url" >"$out/wrk.txt" &
wrk_pid=$!
sleep 1
perf record -q -F 999 --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$wrk_pid"
grep -E "Requests/sec" "$out/wrk.txt"
perf report -i "$out/perf.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null >"$out/self.txt"
perf report -i "$out/perf.data" --children --sort symbol --stdio -g none 2>/dev/null >"$out/children.txt"
python3 scripts/profile_summary.py "$out/self.txt" "$out/children.txt"
echo "profile: raw reports in $out"
