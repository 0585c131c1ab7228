#!/usr/bin/env bash
# The Python package as a user meets it (long tier; .ci/run runs it after the container test):
#   1. builds the wheel with maturin (manylinux2014 through zig), prints its size and platform tag;
#   2. installs it into a fresh venv and, with no cargo on PATH, runs examples/python under
#      pytest-xdist (-n 2) against one shared emulator started from the bundled binary, then the
#      package's own tests (tests/python-package);
#   3. runs examples/python again with --roma-emulator-url against the container image that
#      scripts/test-container.sh built (localhost/roma-emulator:test);
#   4. drives roma_emulator.testcontainers through podman's Docker-compatible API socket.
# Prints the time from `pip install` of the wheel to the first passing suite.
# Usage: scripts/test-python-package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh

image=localhost/roma-emulator:test
pm() { podman --runtime runc "$@"; }

echo "== building the wheel (maturin, manylinux2014 via zig)"
ensure_venv .venv-build scripts/lib/build-requirements.txt
rm -rf target/wheels
PATH="$PWD/.venv-build/bin:$PATH" maturin build --quiet --release --locked --zig \
  --compatibility manylinux2014 -o target/wheels
wheel=$(ls target/wheels/roma_emulator-*.whl)
echo "   $(basename "$wheel"): $(( $(stat -c %s "$wheel") / 1024 )) KiB"

tmp=$(mktemp -d)
socket_pid=
container=
cleanup() {
  [ -n "$container" ] && pm rm -f "$container" >/dev/null 2>&1 || true
  [ -n "$socket_pid" ] && kill "$socket_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== a fresh venv with the wheel; no cargo on PATH from here on"
python3 -m venv "$tmp/venv"
started=$(date +%s.%N)
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" -r examples/python/requirements.txt
user_env=(env -i "PATH=$tmp/venv/bin:/usr/bin:/bin" "HOME=$HOME" "LANG=C.UTF-8")
if "${user_env[@]}" sh -c 'command -v cargo' >/dev/null; then
  echo "cargo is still on PATH" >&2
  exit 1
fi
pytest=("${user_env[@]}" "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider)

echo "== examples/python under xdist against one emulator from the bundled binary"
"${pytest[@]}" -n 2 examples/python --roma-emulator-config examples/python/roma.toml
echo "   from pip install to a passing suite: $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s"

echo "== the package's own tests"
"${pytest[@]}" tests/python-package

echo "== examples/python against the container ($image) through --roma-emulator-url"
pm image exists "$image" || { echo "no $image: run scripts/test-container.sh first" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
container=roma-py-$$
pm run -d --name "$container" -p "127.0.0.1:$port:8080" "$image" >/dev/null
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/_emulator/health" >/dev/null 2>&1 && break
  sleep 0.1
done
"${pytest[@]}" -n 2 examples/python --roma-emulator-url "http://127.0.0.1:$port"
pm rm -f "$container" >/dev/null
container=

echo "== roma_emulator.testcontainers through podman's Docker API"
pm system service --time=0 "unix://$tmp/podman.sock" &
socket_pid=$!
for _ in $(seq 1 100); do [ -S "$tmp/podman.sock" ] && break; sleep 0.1; done
"${user_env[@]}" DOCKER_HOST="unix://$tmp/podman.sock" TESTCONTAINERS_RYUK_DISABLED=true \
  TC_HOST=127.0.0.1 TESTCONTAINERS_CONNECTION_MODE=docker_host ROMA_TEST_IMAGE="$image" \
  "$tmp/venv/bin/python" -m pytest -q -p no:cacheprovider tests/testcontainers
echo "python package: all suites passed"
