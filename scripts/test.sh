#!/usr/bin/env bash
# Runs every functional test of roma-emulator, doing the set-up the tests need first:
#   1. cargo test: unit tests, the in-process HTTP tests, and the binary smoke tests;
#   2. the official Huawei Cloud Python SDK against the emulator binary, in a venv (.venv) that this
#      script creates and fills from tests/sdk/requirements.txt when it is missing or out of date,
#      the official Node.js SDK core's AK/SK signer (tests/node, npm ci from its lock file),
#      and every console and Python example of the README and docs/, each page in order (tests/readme);
#   3. the contract test: schemathesis against /openapi.json (scripts/contract.sh, its own venv).
# With --long it runs the long tier instead (CI runs it after this one):
#   4. a soak/attack run against the release binary, one phase per attack class (scripts/soak.py);
#   5. every fuzz target for a bounded time with the committed corpus (scripts/fuzz.sh 20).
# Nothing is skipped: a missing Python or a failed install fails the run.
# Usage: scripts/test.sh [--long]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}

if [ "${1:-}" = "--long" ]; then
  echo "== soak: every attack class against the release binary, health probed throughout (scripts/soak.py)"
  cargo build --release --locked --quiet
  "$python" scripts/soak.py --seconds 20
  echo "== fuzz: every target, bounded"
  scripts/fuzz.sh 20
  exit 0
fi

echo "== cargo test (unit, integration, binary smoke tests) and the Rust examples of the README and docs (doctests)"
cargo test --all-targets --locked
cargo test --doc --locked

echo "== official Python SDK (huaweicloudsdkroma) against the emulator binary"
. scripts/lib/venv.sh
ensure_venv .venv tests/sdk/requirements.txt
cargo build --locked --quiet
ROMA_EMULATOR_BIN="$PWD/target/debug/roma-emulator" .venv/bin/python -m pytest -q -p no:cacheprovider tests/sdk

echo "== the official Node.js SDK core's AK/SK signer against the binary (npm ci from tests/node's lock file)"
lock_stamp=tests/node/node_modules/.package-lock.sha256
want_lock=$(sha256sum tests/node/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$lock_stamp" 2>/dev/null)" != "$want_lock" ]; then
  npm ci --prefix tests/node --no-audit --no-fund --silent
  echo "$want_lock" > "$lock_stamp"
fi
ROMA_EMULATOR_BIN="$PWD/target/debug/roma-emulator" node --test tests/node

echo "== the console and Python examples of the README and docs/, each page in order against the binary"
ROMA_EMULATOR_BIN="$PWD/target/debug/roma-emulator" PYTHON_FOR_README="$PWD/.venv/bin/python" \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/readme

echo "== contract: schemathesis against /openapi.json"
scripts/contract.sh 25
