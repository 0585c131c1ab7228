#!/usr/bin/env bash
# Runs every test of roma-emulator, doing the set-up the tests need first.
# Usage: scripts/test.sh   (from anywhere; nothing is skipped silently)
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (unit, integration, binary smoke tests)"
cargo test --all-targets --locked
