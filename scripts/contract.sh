#!/usr/bin/env bash
# The contract test: schemathesis (pinned in tests/contract/requirements.txt, installed into
# .venv-contract when missing or out of date) generates requests for every operation of the
# emulator's own /openapi.json and checks every answer: never a 5xx, and status, content type,
# headers and body as the document describes them (including every refusal's error body).
# The emulator binary runs with short timeouts so that long-poll waits stay short.
# Usage: scripts/contract.sh [MAX_EXAMPLES_PER_OPERATION]   (default 25)
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-25}
venv=.venv-contract
. scripts/lib/venv.sh
ensure_venv "$venv" tests/contract/requirements.txt
cargo build --locked --quiet
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/contract.toml" <<'TOML'
[server]
listen = "127.0.0.1:0"
request_timeout_ms = 2000
[jobs]
duration_ms = 300
[log]
level = "warn"
TOML
target/debug/roma-emulator --config "$work/contract.toml" > "$work/stdout" 2> "$work/stderr" &
pid=$!
for _ in $(seq 1 100); do
  url=$(sed -n 's/^roma-emulator listening on //p' "$work/stdout")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/stderr"; echo "the emulator did not start"; exit 1; }
"$venv/bin/schemathesis" run "$url/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples "$examples" --seed 20261128 --request-timeout 10 \
  -H "X-Auth-Token: contract-test" --no-color 2>&1 | tee "$work/report" | tail -25
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  echo "schemathesis found problems (exit $status)"
  exit "$status"
fi
cases=$(grep -Eo '[0-9]+ generated' "$work/report" | head -1 | cut -d' ' -f1)
echo "contract: ${cases:-0} passed, 0 failed"
