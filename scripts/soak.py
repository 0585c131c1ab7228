#!/usr/bin/env python3
"""Soak and attack run against the release binary, on loopback only, bounded in count and time.

A prober asks /_emulator/health every 100 ms throughout, and each phase reports its own health
latencies and peak RSS beside an idle baseline:
  - mixed: connection floods, slow headers, oversized and amplifying bodies, hostile zips,
    malformed HTTP, catalog and queue growth (the classes of attack found earlier);
  - stalled uploads: every connection slot holds an upload head whose body never comes;
  - slow readers: clients that ask for a large state export and stop reading;
  - download flood: a flood of silent connections while a large archive is read slowly (the
    download must arrive whole);
  - crafted states: PUT /_emulator/state with states the registry cannot hold;
  - blocked stderr: a second emulator whose stderr is a pipe nobody reads, under requests;
  - a shared stub at scale (scripts/soak_shared_stub.py): a version-1 state spray, trickled
    uploads with a known access key, made-up access keys, and a connection flood of the main port
    with health probed on the probe port (`[server] probe_listen`).
Fails (exit 1) if health ever goes unanswered or slow, any attack gets a 5xx or a bare answer, a
download is cut, the process dies, or its peak RSS passes the ceiling.

Usage: scripts/soak.py [--seconds N] [--binary PATH] [--rss-ceiling-mib M]
Standard library only. Prints a table of figures: idle baseline beside the figures under attack.
"""

import argparse
import asyncio
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import logging

import soak_shared_stub as stub

CONFIG = """
[server]
listen = "127.0.0.1:0"
probe_listen = "127.0.0.1:{probe_port}"
header_read_timeout_ms = 2000
body_read_timeout_ms = 3000
write_timeout_ms = 3000
max_connections = 512
[jobs]
progression = "immediate"
[catalog]
max_bytes_per_instance = 67108864
max_instances = 4
[auth]
ak_lockout = true
[log]
level = "warn"
"""


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def http(port, method, path, body=b"", headers=None, timeout=10.0):
    """One request on a fresh connection; returns (status, headers text, body bytes)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        headers = {"Content-Length": str(len(body)), **(headers or {})}
        head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        for k, v in headers.items():
            head += f"{k}: {v}\r\n"
        writer.write(head.encode() + b"\r\n" + body)
        await asyncio.wait_for(writer.drain(), timeout)
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    text = data.decode("latin-1")
    status = int(text[9:12]) if text.startswith("HTTP/1.1 ") else 0
    head, _, rest = text.partition("\r\n\r\n")
    return status, head.lower(), rest.encode("latin-1")


class Results:
    def __init__(self):
        self.failures = []
        self.counts = {}

    def check(self, what, ok, detail=""):
        self.counts[what] = self.counts.get(what, 0) + 1
        if not ok and len(self.failures) < 20:
            self.failures.append(f"{what}: {detail}")


def health_once(port, timeout=5.0):
    """One health probe the way a prober makes it (kubelet, curl, the container's HEALTHCHECK): a
    blocking socket that connects and writes at once. Returns (status, head, body, milliseconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    took = (time.monotonic() - started) * 1000
    text = data.decode("latin-1")
    status = int(text[9:12]) if text.startswith("HTTP/1.1 ") else 0
    head, _, body = text.partition("\r\n\r\n")
    return status, head, body, took


async def probe_health(port, stop, latencies, results, phase=""):
    """Probes health every 100 ms from a thread of its own, so the attack's event loop cannot delay
    the probe's own writes or stretch its measured latency."""
    while not stop.is_set():
        try:
            status, head, body, took = await asyncio.to_thread(health_once, port)
            results.check("health", status == 200, f"{phase}: status {status} {head[:60]!r} {body[:100]!r}")
            latencies.append(took)
        except Exception as e:  # noqa: BLE001 - any failure to answer is a finding
            results.check("health", False, f"{phase}: {e!r}")
            latencies.append(5000.0)
        await asyncio.sleep(0.1)


async def expect_error(results, what, port, method, path, body=b"", headers=None, declared=None):
    """An error answer with the ROMA body. With `declared`, only the head is sent, claiming that
    many body bytes: the server must refuse before reading (the body would hit a closed socket)."""
    try:
        if declared is not None:
            headers = {**(headers or {}), "Content-Length": str(declared)}
        status, head, rest = await http(port, method, path, body, headers)
    except Exception as e:  # noqa: BLE001
        results.check(what, False, repr(e))
        return
    ok = 400 <= status < 500 and "x-request-id:" in head and b'"error_code"' in rest
    results.check(what, ok, f"status {status} body {rest[:120]!r}")


def padded_json(n):
    return ('{"apps": [{"id": "a"}], "pad": [' + "{}," * (n // 3) + "{}]}").encode()


def package_zip(kind, folder, content):
    """A package of one asset `a` of `kind` whose content is the JSON text `content`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        manifest = {"format": "roma-emulator-asset-package", "version": 1,
                    "source": {"project_id": "p", "instance_id": "i"}, "exported_at": "t", "job_id": "j",
                    "assets": [{"type": kind, "id": "a", "name": "n", "path": f"{folder}/1.json"}]}
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr(f"{folder}/1.json", '{"id": "a", "name": "n", "content": ' + content + "}")
    return buf.getvalue()


def hostile_zip(content_bytes):
    return package_zip("task", "tasks", "[" + "{}," * (content_bytes // 3) + "{}]")


def multipart(file_bytes):
    boundary = "soakboundary1234"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.zip\"\r\n\r\n").encode()
    body += file_bytes + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Auth-Token": "soak"}


async def flood(port, n, hold):
    """n silent connections held for `hold` seconds."""
    conns = []
    for _ in range(n):
        try:
            conns.append(await asyncio.open_connection("127.0.0.1", port))
        except OSError:
            break
    await asyncio.sleep(hold)
    for _, w in conns:
        w.close()
    return len(conns)


async def slowloris(port, n, seconds):
    conns = []
    for _ in range(n):
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /_emulator/health HTTP/1.1\r\n")
            conns.append(w)
        except OSError:
            break
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for w in conns:
            try:
                w.write(b"X-a: b\r\n")
            except Exception:  # noqa: BLE001 - closed by the server, as it should be
                pass
        await asyncio.sleep(0.5)
    for w in conns:
        w.close()


async def attack_round(port, results, i):
    tok = {"X-Auth-Token": f"soak-{i}", "Content-Type": "application/json"}
    await expect_error(results, "oversized export", port, "POST", "/v2/p/instances/i/assets/export", b"", tok,
                       declared=1_000_000)
    await expect_error(results, "oversized token request", port, "POST", "/v3/auth/tokens", b"",
                       {"Content-Type": "application/json"}, declared=10**12)
    await expect_error(results, "amplifying token request", port, "POST", "/v3/auth/tokens", padded_json(60_000),
                       {"Content-Type": "application/json"})
    await expect_error(results, "duplicate keys", port, "POST", "/v2/p/instances/i/assets/export",
                       b'{"apps": [{"id": "a"}], "apps": "b"}', tok)
    await expect_error(results, "path traversal", port, "GET", "/v2/p/instances/%2E%2E/assets/jobs/x", b"", tok)
    await expect_error(results, "nul in path", port, "GET", "/v2/p/instances/a%00b/assets/jobs/x", b"", tok)
    body, headers = multipart(hostile_zip(6_000_000))
    status, head, rest = await http(port, "POST", f"/v2/p/instances/zip-{i}/assets/import", body,
                                    {**headers, "X-Auth-Token": f"soak-zip-{i}"})
    results.check("hostile zip", status < 500 and "x-request-id:" in head, f"status {status}")
    await expect_error(results, "garbage zip", port, "POST", "/v2/p/instances/i/assets/import",
                       *multipart(os.urandom(2000)))
    # Lax deletes to ever new instances, exports then scoped resets: nothing may accumulate.
    for j in range(20):
        status, _, _ = await http(port, "POST", f"/v2/p/instances/new-{i}-{j}/assets/delete",
                                  b'{"apps": [{"id": "a"}]}', {**tok, "X-Auth-Token": f"soak-del-{i}-{j}"})
        results.check("lax delete", status == 200, f"status {status}")
        status, _, rest = await http(port, "POST", f"/v2/r{i}-{j}/instances/i/assets/export",
                                     b'{"apps": [{"id": "a"}]}', {**tok, "X-Auth-Token": f"soak-exp-{i}-{j}"})
        results.check("export", status == 200, f"status {status}")
        if status == 200:
            job = json.loads(rest)["job_id"]
            status, _, _ = await http(port, "GET", f"/v2/r{i}-{j}/instances/i/assets/jobs/{job}", b"",
                                      {"X-Auth-Token": f"soak-exp-{i}-{j}"})
            results.check("poll", status == 200, f"status {status}")
        await http(port, "POST", f"/_emulator/reset?project_id=r{i}-{j}")
    # Malformed HTTP: every answer carries the error body.
    for raw in [b"\x01\x02 garbage\r\n\r\n", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n"]:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(raw)
        await w.drain()
        data = await asyncio.wait_for(r.read(), 10)
        w.close()
        results.check("malformed http", b'"error_code"' in data, repr(data[:80]))


def noise_zip(hex_bytes):
    """A package of one app `a` whose content is `hex_bytes` of random hex (it compresses to about half)."""
    return package_zip("application", "apps", json.dumps(os.urandom(hex_bytes // 2).hex()))


async def stalled_uploads(port, n, seconds, results):
    """n connections, each an export head declaring 60000 bytes and sending one; reopened when cut."""
    head = (b"POST /v2/p/instances/i/assets/export HTTP/1.1\r\nHost: x\r\nX-Auth-Token: stall\r\n"
            b"Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{")
    end = time.monotonic() + seconds

    async def one():
        while time.monotonic() < end:
            try:
                r, w = await asyncio.open_connection("127.0.0.1", port)
                w.write(head)
                await w.drain()
                data = await asyncio.wait_for(r.read(), max(0.1, end - time.monotonic()))
                w.close()
                if data:
                    status = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else 0
                    results.check("stalled upload answered 408 or 503", status in (408, 503), repr(data[:60]))
            except (asyncio.TimeoutError, OSError):
                await asyncio.sleep(0.05)
    await asyncio.gather(*(one() for _ in range(n)))


async def slow_readers(port, n, seconds, results):
    """n clients ask for the state export and read 1 KiB a second."""
    async def one():
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /_emulator/state HTTP/1.1\r\nHost: x\r\n\r\n")
        await w.drain()
        first = await asyncio.wait_for(r.read(64), 10)
        results.check("slow reader answered 200 or 503", first[9:12] in (b"200", b"503"), repr(first[:40]))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                if not await asyncio.wait_for(r.read(1024), 2):
                    break
            except (asyncio.TimeoutError, OSError):
                break
            await asyncio.sleep(1)
        w.close()
    await asyncio.gather(*(one() for _ in range(n)))


async def download_under_flood(port, results, connections):
    """Exports the big app, then reads its archive slowly while `connections` silent ones arrive."""
    tok = {"X-Auth-Token": "soak-big", "Content-Type": "application/json"}
    status, _, rest = await http(port, "POST", "/v2/p/instances/big/assets/export", b'{"apps": [{"id": "a"}]}', tok)
    results.check("big export", status == 200, f"status {status}")
    if status != 200:
        return
    job = json.loads(rest)["job_id"]
    _, _, rest = await http(port, "GET", f"/v2/p/instances/big/assets/jobs/{job}", b"", tok)
    archive = json.loads(rest).get("archive_id")
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(f"GET /v2/p/instances/big/assets/archives/{archive} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: soak-big\r\n\r\n".encode())
    await w.drain()
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 10)
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))
    got = 0
    flooder = asyncio.create_task(flood(port, connections, 4))
    while got < length:
        chunk = await asyncio.wait_for(r.read(256 * 1024), 10)
        if not chunk:
            break
        got += len(chunk)
        await asyncio.sleep(0.05)
    w.close()
    await flooder
    results.check("download under a flood arrives whole", got == length, f"{got} of {length} bytes")


async def crafted_states(port, results, seconds):
    """States the registry cannot hold, sent for `seconds`: each must be refused (400) quickly,
    none may hang it."""
    # Built from scratch: the running state holds a 16 MB asset, more than a PUT may carry.
    base = {"format": "roma-emulator-state", "version": 1,
            "registry": {"last_seq": 0, "jobs": [], "work": [], "archives": [], "catalog": {}}}
    cases = []
    s = json.loads(json.dumps(base)); s["ids"] = [2**64 - 1] * 4; cases.append(("ids at the top", s))
    s = json.loads(json.dumps(base)); s["registry"]["last_seq"] = 2**64 - 1; cases.append(("last_seq at the top", s))
    job = {"id": "0" * 31 + "1", "seq": 1, "kind": "exportAsset", "owner": "u",
           "scope": {"project": "p", "instance": "i"}, "begin": 1, "duration": {"secs": 2**64 - 1, "nanos": 0},
           "end": None, "state": "Running", "reasons": [], "archive": None, "downloaded": False,
           "fail_at": None, "end_progress": None}
    s = json.loads(json.dumps(base)); s["registry"]["jobs"] = [job]; s["registry"]["last_seq"] = max(1, s["registry"]["last_seq"])
    cases.append(("endless job", s))
    twin = dict(job, id="0" * 31 + "2", seq=2, duration={"secs": 1, "nanos": 0})
    s = json.loads(json.dumps(base)); s["registry"]["jobs"] = [dict(job, duration={"secs": 1, "nanos": 0}), twin]
    s["registry"]["last_seq"] = max(2, s["registry"]["last_seq"]); cases.append(("two Running exports", s))
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for what, state in cases:
            status, _, body = await http(port, "PUT", "/_emulator/state", json.dumps(state).encode(),
                                         {"Content-Type": "application/json"}, timeout=10)
            results.check("crafted state refused", status == 400, f"{what}: status {status} {body[:100]!r}")


async def blocked_stderr(binary, config, results, seconds):
    """A second emulator whose stderr nobody reads, under requests for `seconds`: requests and
    health keep answering, SIGTERM ends it."""
    proc = subprocess.Popen([binary, "--config", config, "--log-format", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "ROMA_EMULATOR_LOG_LEVEL": "info",
                                                     # The first process holds the probe port.
                                                     "ROMA_EMULATOR_SERVER_PROBE_LISTEN": "127.0.0.1:0"}, text=True)
    line = proc.stdout.readline()
    port = int(re.search(r":(\d+)\s*$", line).group(1))
    latencies = []
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_health(port, stop, latencies, results))
    r, w = await asyncio.open_connection("127.0.0.1", port)
    end = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < end:
        sent += 1
        w.write(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        await w.drain()
        head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
        n = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))
        await r.readexactly(n)
    w.close()
    results.check("blocked stderr: requests answered", sent > 5000, f"only {sent} requests in {seconds} s")
    stop.set()
    await prober
    rss = rss_kib(proc.pid)
    proc.terminate()
    try:
        proc.wait(15)
        results.check("blocked stderr: SIGTERM ends it", proc.returncode == 0, f"exit {proc.returncode}")
    except subprocess.TimeoutExpired:
        proc.kill()
        results.check("blocked stderr: SIGTERM ends it", False, "still running 15 s after SIGTERM")
    return latencies, rss


class Phase:
    """Health latencies and peak RSS while one class of attack runs."""

    def __init__(self, name):
        self.name, self.latencies, self.peak = name, [], 0


async def run_phase(phase, port, pid, results, work, probe_port=None):
    """Runs `work`, probing health on `probe_port` (default: the main port)."""
    print(f"-- phase: {phase.name}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_health(probe_port or port, stop, phase.latencies, results, phase.name))
    task = asyncio.create_task(work)
    while not task.done():
        phase.peak = max(phase.peak, rss_kib(pid))
        await asyncio.sleep(0.1)
    try:
        await task
    except Exception as e:  # noqa: BLE001 - a phase that breaks is a finding, the others still run
        results.check(f"{phase.name} ran", False, repr(e))
    stop.set()
    await prober
    phase.peak = max(phase.peak, rss_kib(pid))


async def main_async(args):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        probe_port = s.getsockname()[1]
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(CONFIG.replace("{probe_port}", str(probe_port)))
        config = f.name
    proc = subprocess.Popen([args.binary, "--config", config], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    line = proc.stdout.readline()
    port = int(re.search(r":(\d+)\s*$", line).group(1))
    results = Results()
    phases = []
    rounds = held = 0
    try:
        idle = Phase("idle")
        await run_phase(idle, port, proc.pid, results, asyncio.sleep(3))
        phases.append(idle)

        mixed = Phase("mixed attacks")
        end = time.monotonic() + args.seconds

        async def mixed_work():
            nonlocal rounds, held
            background = [asyncio.create_task(flood(port, 2000, args.seconds)),
                          asyncio.create_task(slowloris(port, 300, args.seconds))]
            while time.monotonic() < end:
                await attack_round(port, results, rounds)
                rounds += 1
            held = await background[0]
            await background[1]
        await run_phase(mixed, port, proc.pid, results, mixed_work())
        phases.append(mixed)

        # A large asset for the state export and the download (about 16 MB of content).
        body, headers = multipart(noise_zip(16_000_000))
        status, _, _ = await http(port, "POST", "/v2/p/instances/big/assets/import", body,
                                  {**headers, "X-Auth-Token": "soak-big"}, timeout=30)
        results.check("big import", status == 200, f"status {status}")
        await asyncio.sleep(0.5)
        for name, work in [
            ("stalled uploads at the cap", stalled_uploads(port, 512, 8, results)),
            ("slow readers of the state", slow_readers(port, 8, 8, results)),
            ("flood during a download", download_under_flood(port, results, 1500)),
            ("crafted state imports", crafted_states(port, results, 5)),
        ]:
            phase = Phase(name)
            await run_phase(phase, port, proc.pid, results, work)
            phases.append(phase)
        small = package_zip("application", "apps", json.dumps("soak"))
        for name, work, probes in [
            ("v1 state spray (#27.1)", stub.state_spray(http, port, results, 5), None),
            ("trickled signed uploads (#27.2)", stub.trickled_uploads(http, multipart, small, port, results, 10), None),
            ("made-up access keys (#27.5)", stub.made_up_keys(rss_kib, proc.pid, port, results, 3000), None),
            ("flood, probe port (#27.6)", flood(port, 1500, 5), probe_port),
        ]:
            phase = Phase(name)
            await run_phase(phase, port, proc.pid, results, work, probes)
            phases.append(phase)
        blocked = Phase("blocked stderr (2nd process)")
        blocked.latencies, blocked.peak = await blocked_stderr(args.binary, config, results, 5)
        phases.append(blocked)
        alive = proc.poll() is None
        results.check("process alive", alive, "the emulator exited")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.unlink(config)

    def pct(xs, p):
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else float("nan")

    print(f"soak: {args.seconds} s of mixed attacks ({rounds} rounds, {held} flood connections, 300 slowloris), "
          "then one phase per class")
    print(f"{'phase':32}{'probes':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'peak RSS MiB':>14}")
    for phase in phases:
        lat = phase.latencies or [float("nan")]
        print(f"{phase.name:32}{len(phase.latencies):>8}{statistics.median(lat):>10.2f}{pct(lat, 0.99):>10.2f}"
              f"{max(lat):>10.2f}{phase.peak / 1024:>14.1f}")
    print("checks: " + ", ".join(f"{k} {v}" for k, v in sorted(results.counts.items())))
    peak = max(p.peak for p in phases)
    if peak / 1024 > args.rss_ceiling_mib:
        results.failures.append(f"peak RSS {peak / 1024:.1f} MiB over the ceiling {args.rss_ceiling_mib} MiB")
    worst = max(max(p.latencies or [0]) for p in phases)
    if worst > args.health_max_ms:
        results.failures.append(f"a health probe took {worst:.0f} ms (limit {args.health_max_ms})")
    for failure in results.failures:
        print("FAIL " + failure)
    passed = sum(results.counts.values()) - len(results.failures)
    print(f"soak: {passed} passed, {len(results.failures)} failed")
    return 1 if results.failures else 0


def main():
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # writes to sockets the server closed
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--binary", default="target/release/roma-emulator")
    parser.add_argument("--rss-ceiling-mib", type=float, default=320)
    parser.add_argument("--health-max-ms", type=float, default=1000)
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
