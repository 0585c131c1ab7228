#!/usr/bin/env python3
"""Soak and attack run against the release binary, on loopback only, bounded in count and time.

Replays the classes of issue 8 (connection floods, slow headers, oversized and amplifying bodies,
hostile zips, malformed HTTP, catalog and queue growth, HEAD of archives) while a prober asks
/_emulator/health every 100 ms. Fails (exit 1) if health ever goes unanswered or slow, any attack
gets a 5xx or a bare answer, the process dies, or its peak RSS passes the ceiling.

Usage: scripts/soak.py [--seconds N] [--binary PATH] [--rss-ceiling-mib M]
Standard library only. Prints a table of figures: idle baseline beside the figures under attack.
"""

import argparse
import asyncio
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
import logging

CONFIG = """
[server]
listen = "127.0.0.1:0"
header_read_timeout_ms = 2000
max_connections = 512
[jobs]
progression = "immediate"
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
        await writer.drain()
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


async def probe_health(port, stop, latencies, results):
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, _, _ = await http(port, "GET", "/_emulator/health", timeout=5)
            results.check("health", status == 200, f"status {status}")
        except Exception as e:  # noqa: BLE001 - any failure to answer is a finding
            results.check("health", False, repr(e))
        latencies.append((time.monotonic() - started) * 1000)
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


def hostile_zip(content_bytes):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        manifest = {"format": "roma-emulator-asset-package", "version": 1,
                    "source": {"project_id": "p", "instance_id": "i"}, "exported_at": "t", "job_id": "j",
                    "assets": [{"type": "task", "id": "a", "name": "n", "path": "tasks/1.json"}]}
        z.writestr("manifest.json", json.dumps(manifest))
        z.writestr("tasks/1.json", '{"id": "a", "name": "n", "content": [' + "{}," * (content_bytes // 3) + "{}]}")
    return buf.getvalue()


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


async def main_async(args):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(CONFIG)
        config = f.name
    proc = subprocess.Popen([args.binary, "--config", config], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    line = proc.stdout.readline()
    port = int(re.search(r":(\d+)\s*$", line).group(1))
    results = Results()
    try:
        idle = []
        stop = asyncio.Event()
        prober = asyncio.create_task(probe_health(port, stop, idle, results))
        await asyncio.sleep(3)
        stop.set()
        await prober
        idle_rss = rss_kib(proc.pid)

        under = []
        stop = asyncio.Event()
        prober = asyncio.create_task(probe_health(port, stop, under, results))
        peak = idle_rss
        end = time.monotonic() + args.seconds
        rounds = 0
        background = [asyncio.create_task(flood(port, 2000, args.seconds)),
                      asyncio.create_task(slowloris(port, 300, args.seconds))]
        while time.monotonic() < end:
            await attack_round(port, results, rounds)
            rounds += 1
            peak = max(peak, rss_kib(proc.pid))
        held = await background[0]
        await background[1]
        stop.set()
        await prober
        peak = max(peak, rss_kib(proc.pid))
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

    print(f"soak: {args.seconds} s, {rounds} attack rounds, {held} flood connections opened, 300 slowloris")
    print(f"{'':28}{'idle':>12}{'under attack':>16}")
    print(f"{'RSS (MiB)':28}{idle_rss / 1024:>12.1f}{peak / 1024:>16.1f}   (peak; ceiling {args.rss_ceiling_mib})")
    print(f"{'health probes':28}{len(idle):>12}{len(under):>16}")
    print(f"{'health p50 (ms)':28}{statistics.median(idle):>12.2f}{statistics.median(under):>16.2f}")
    print(f"{'health p99 (ms)':28}{pct(idle, 0.99):>12.2f}{pct(under, 0.99):>16.2f}")
    print(f"{'health max (ms)':28}{max(idle):>12.2f}{max(under):>16.2f}")
    print("checks: " + ", ".join(f"{k} {v}" for k, v in sorted(results.counts.items())))
    if peak / 1024 > args.rss_ceiling_mib:
        results.failures.append(f"peak RSS {peak / 1024:.1f} MiB over the ceiling {args.rss_ceiling_mib} MiB")
    if max(under) > args.health_max_ms:
        results.failures.append(f"a health probe took {max(under):.0f} ms (limit {args.health_max_ms})")
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
    parser.add_argument("--rss-ceiling-mib", type=float, default=128)
    parser.add_argument("--health-max-ms", type=float, default=1000)
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
