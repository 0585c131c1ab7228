#!/usr/bin/env bash
# The container test: builds the image from the repository's Dockerfile with podman, runs it, and
# checks through the published port what a staging stub must do. Only the two base images are
# substituted (through the Dockerfile's build arguments), because no registry can be reached here:
#   RUNTIME: a Debian bookworm minbase made with debootstrap (the published image uses distroless);
#   BUILDER: that base plus gcc, with this machine's Rust toolchain mounted where the official
#            rust image keeps its own (/usr/local/rustup, /usr/local/cargo).
# Installs podman, runc and debootstrap when missing (apt-get). Bounded: every wait has a limit.
# Usage: scripts/test-container.sh
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
check() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; echo "container: $passed passed, 1 failed"; exit 1; }

if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v debootstrap >/dev/null; then
  echo "-- installing podman, runc, debootstrap"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
fi
# This kernel refuses podman's default RLIMIT_NOFILE, and crun fails on its hybrid cgroups.
mkdir -p /etc/containers
grep -q '^default_ulimits' /etc/containers/containers.conf 2>/dev/null ||
  printf '[containers]\ndefault_ulimits = []\n' >> /etc/containers/containers.conf
pm() { podman --runtime runc "$@"; }

base=localhost/roma-test/debian:bookworm-minbase
builder=localhost/roma-test/rust-builder:bookworm
image=localhost/roma-emulator:test
if ! pm image exists "$base"; then
  echo "-- making $base with debootstrap"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" >/dev/null
  tar -C "$rootfs" -c . | pm import - "$base" >/dev/null
  rm -rf "$rootfs"
fi
if ! pm image exists "$builder"; then
  echo "-- making $builder"
  ctx=$(mktemp -d)
  cat > "$ctx/Containerfile" <<EOF
FROM $base
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev ca-certificates && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  pm build -q -t "$builder" "$ctx" >/dev/null
  rm -rf "$ctx"
fi

rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_home=${CARGO_HOME:-$HOME/.cargo}
echo "-- building $image from ./Dockerfile"
started=$(date +%s)
pm build --format docker \
  --build-arg BUILDER="$builder" --build-arg RUNTIME="$base" \
  --volume "$rustup_home:/usr/local/rustup:ro" \
  --volume "$cargo_home/bin:/usr/local/cargo/bin:ro" \
  --volume /etc/ssl/certs:/etc/ssl/certs:ro \
  -t "$image" . >/tmp/roma-container-build.log 2>&1 || { tail -30 /tmp/roma-container-build.log; fail "the image builds"; }
check "the image builds from the Dockerfile ($(( $(date +%s) - started )) s)"
size=$(pm image inspect --format '{{.Size}}' "$image")
echo "   image size: $((size / 1024 / 1024)) MiB (on the minbase stand-in; the distroless runtime is smaller)"

name=roma-ct-$$
volume=roma-ct-state-$$
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
probe_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  pm rm -f "$name" "$name-2" >/dev/null 2>&1 || true
  pm volume rm -f "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# (Without systemd, podman cannot schedule the HEALTHCHECK itself and says so; the check is run
# by hand below with `podman healthcheck run`.)
run() { pm run -d --name "$1" -p "127.0.0.1:$port:8080" -p "127.0.0.1:$probe_port:8081" -v "$volume:/var/lib/roma-emulator" "$image" >/dev/null 2>/tmp/roma-ct-run.log; }
wait_health() {
  for _ in $(seq 1 100); do
    curl -fsS "$url/_emulator/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}
api() { curl -sS -H "X-Auth-Token: ct" -H "Content-Type: application/json" "$@"; }

run "$name"
wait_health || { pm logs "$name" | tail -20; fail "health answers through the published port"; }
check "health answers through the published port"
for _ in $(seq 1 20); do pm healthcheck run "$name" >/dev/null 2>&1 && break; sleep 0.5; done
pm healthcheck run "$name" >/dev/null 2>&1 || fail "the HEALTHCHECK reports healthy"
check "the HEALTHCHECK (roma-emulator healthcheck) reports healthy"
curl -fsS "http://127.0.0.1:$probe_port/_emulator/health" >/dev/null || fail "the probe port (server.probe_listen) answers health"
probe_other=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$probe_port/_emulator/jobs")
[ "$probe_other" = 503 ] || fail "the probe port serves only the probes (got $probe_other)"
check "the probe port 8081 serves health and nothing but the probes"
# The image has no ps: read the uid of the container's main process from the host's /proc.
pid=$(pm inspect --format '{{.State.Pid}}' "$name")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ -n "$uid" ] && [ "$uid" != "0" ] || fail "the process runs as non-root (uid $uid)"
check "the process runs as non-root (uid $uid)"

job=$(api -X POST "$url/v2/p1/instances/i1/assets/export" -d '{"apps": [{"id": "app-1"}]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
kept=""
for _ in $(seq 1 50); do
  status=$(api "$url/v2/p1/instances/i1/assets/jobs/$job")
  kept=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("archive_id", ""))')
  [ -n "$kept" ] && break
  sleep 0.2
done
[ -n "$kept" ] || fail "an export succeeds and its job is polled ($status)"
check "an export is created and polled to Success"
# A second user's export: downloaded now, before the stop.
other=$(curl -sS -H "X-Auth-Token: ct2" -H "Content-Type: application/json" -X POST "$url/v2/p1/instances/i1/assets/export" -d '{"apps": [{"id": "app-2"}]}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
sleep 2.5
archive=$(curl -sS -H "X-Auth-Token: ct2" "$url/v2/p1/instances/i1/assets/jobs/$other" | python3 -c 'import json,sys; print(json.load(sys.stdin)["archive_id"])')
code=$(curl -sS -o /tmp/roma-ct.zip -w '%{http_code}' -H "X-Auth-Token: ct2" "$url/v2/p1/instances/i1/assets/archives/$archive")
[ "$code" = 200 ] && head -c 2 /tmp/roma-ct.zip | grep -q PK || fail "an archive downloads (status $code)"
check "an archive downloads (a zip)"

started=$(date +%s)
pm stop -t 10 "$name" >/dev/null 2>>/tmp/roma-ct-run.log || fail "podman stop exits 0"
took=$(( $(date +%s) - started ))
exit_code=$(pm inspect --format '{{.State.ExitCode}}' "$name")
[ "$exit_code" = 0 ] && [ "$took" -lt 10 ] || fail "SIGTERM drains and exits 0 within the grace period (exit $exit_code after ${took}s)"
check "podman stop: exit code 0 after ${took}s (grace 10s)"
pm logs "$name" 2>&1 | grep -q '"message":"roma-emulator stopped"' || fail "the shutdown line is logged"

pm rm "$name" >/dev/null 2>>/tmp/roma-ct-run.log
run "$name-2"
wait_health || fail "a second container on the same volume starts"
after=$(api "$url/v2/p1/instances/i1/assets/jobs/$job")
echo "$after" | grep -q "\"archive_id\":\"$kept\"" || fail "the second container still has the job ($after)"
check "a second container on the same volume still has the job"
code=$(curl -sS -o /tmp/roma-ct.zip -w '%{http_code}' -H "X-Auth-Token: ct" "$url/v2/p1/instances/i1/assets/archives/$kept")
[ "$code" = 200 ] && head -c 2 /tmp/roma-ct.zip | grep -q PK || fail "the archive made before the stop downloads after it (status $code)"
check "an archive created before the stop downloads from the second container"
pm stop -t 10 "$name-2" >/dev/null 2>>/tmp/roma-ct-run.log
echo "container: $passed passed, 0 failed"
