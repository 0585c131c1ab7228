#!/usr/bin/env python3
"""The shared-stub-at-scale benchmark (#27): each figure for this build and for a baseline binary
(another build, such as the main branch before #27), side by side, in one run. Printed, never
asserted: the machines are shared and noisy.

  - peak RSS of a version-1 `PUT /_emulator/state` that names N projects (finding 1), N = 2000 and
    20000, each in a fresh process whose address space is capped at 4 GiB (a build that copies the
    catalog per project dies there instead of taking the machine);
  - at 100 000 held jobs (made by exports, pipelined): RSS at rest, after 10 metrics scrapes, after one
    `GET /_emulator/jobs`, after one `GET /_emulator/state`, and 3 s later (finding 7);
  - CPU a metrics scrape costs at 10 and at 100 000 jobs (finding 7);
  - health p50/p99/max during a flood of 1024 busy connections and 800 new silent ones a second
    (finding 6), on the probe port when the build has one (`[server] probe_listen`).

Usage: scripts/bench_scale.py --binary target/release/roma-emulator --baseline PATH [--label NAME]
Standard library only; loopback only.
"""

import argparse
import asyncio
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

AS_LIMIT = 4 << 30
# Scrapes whose CPU is averaged (the kernel counts CPU in 10 ms ticks).
SCRAPES = 200


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One emulator process with `extra` TOML; `probes` asks for a probe port (if the build has one)."""

    def __init__(self, binary, extra, probes=False, cap_memory=False):
        self.port = free_port()
        self.probe_port = free_port() if probes else None
        text = f'[server]\nlisten = "127.0.0.1:{self.port}"\nmax_body_bytes = 134217728\n'
        if self.probe_port:
            text += f'probe_listen = "127.0.0.1:{self.probe_port}"\n'
        text += '[log]\nlevel = "error"\n' + extra
        self.config = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        self.config.write(text)
        self.config.close()
        limit = (lambda: resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))) if cap_memory else None
        self.proc = subprocess.Popen([binary, "--config", self.config.name], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, preexec_fn=limit)
        line = self.proc.stdout.readline()
        if "listening" not in line:
            self.proc.wait(5)
            if self.probe_port:  # a build without probe_listen refuses the key: run without it
                os.unlink(self.config.name)
                self.__init__(binary, extra, probes=False, cap_memory=cap_memory)
                return
            raise RuntimeError(f"{binary} did not start: {line!r}")

    @property
    def pid(self):
        return self.proc.pid

    def rss_mib(self):
        return status_kib(self.pid, "VmRSS") / 1024

    def peak_mib(self):
        return status_kib(self.pid, "VmHWM") / 1024

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        os.unlink(self.config.name)


def request(port, method, path, body=b"", headers=None, timeout=120):
    """One request on a fresh connection; (status, body) or (0, b"") if the server went away."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {len(body)}\r\n"
            for k, v in (headers or {}).items():
                head += f"{k}: {v}\r\n"
            s.sendall(head.encode() + b"\r\n" + body)
            data = b""
            while chunk := s.recv(1 << 20):
                data += chunk
    except OSError:
        return 0, b""
    status = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, data.partition(b"\r\n\r\n")[2]


def v1_spray(projects):
    jobs = ",".join(f'{{"scope":{{"project":"p{k}","instance":"i"}}}}' for k in range(projects))
    return ('{"format":"roma-emulator-state","version":1,"registry":{"last_seq":0,"jobs":[' + jobs +
            '],"work":[],"archives":[],"catalog":{"i":{"apps":[{"id":"a","name":"a","content":{"blob":"' +
            "x" * 100_000 + '"}}],"tasks":[]}}}}').encode()


def fill_by_exports(port, n, connections=50):
    """`n` exports (each ends at once), pipelined on `connections` keep-alive connections: the jobs
    are held the way a stub's tenants make them, not through a state import."""
    body = b'{"apps":[{"id":"app-1"}]}'

    def one(count, worker):
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            sent = 0
            while sent < count:
                batch = min(200, count - sent)
                reqs = b"".join(
                    (f"POST /v2/p{worker % 50}/instances/i1/assets/export HTTP/1.1\r\nHost: x\r\n"
                     f"X-Auth-Token: filler-{worker}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n").encode() + body for _ in range(batch))
                s.sendall(reqs)
                seen, data = 0, b""
                while seen < batch:
                    chunk = s.recv(1 << 16)
                    if not chunk:
                        raise RuntimeError("the server closed a filler connection")
                    data += chunk
                    seen = data.count(b"HTTP/1.1 ")
                sent += batch

    threads = [threading.Thread(target=one, args=(n // connections, w)) for w in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def put_peak(binary, projects):
    server = Server(binary, "", cap_memory=True)
    try:
        before = server.rss_mib()
        body = v1_spray(projects)
        status, _ = request(server.port, "PUT", "/_emulator/state", body, {"Content-Type": "application/json"})
        alive = server.proc.poll() is None
        peak = server.peak_mib() if alive else None
        return {"body_kib": len(body) / 1024, "status": status, "peak_mib": peak, "rest_mib": before,
                "died": not alive}
    finally:
        server.stop()


def scale(binary, n):
    extra = (f"[jobs]\nmax_jobs = {max(n, 10)}\nretention_s = 86400\nduration_ms = 0\n"
             "[journal]\nmax_entries = 1000\n")
    server = Server(binary, extra)
    try:
        fill_by_exports(server.port, n)
        time.sleep(3)
        rest = server.rss_mib()
        for _ in range(10):
            request(server.port, "GET", "/_emulator/metrics")
        after_scrapes = server.rss_mib()
        cpu0 = cpu_s(server.pid)
        for _ in range(SCRAPES):
            request(server.port, "GET", "/_emulator/metrics")
        scrape_ms = (cpu_s(server.pid) - cpu0) / SCRAPES * 1000
        status, page = request(server.port, "GET", "/_emulator/jobs")
        after_page = server.rss_mib()
        status, state = request(server.port, "GET", "/_emulator/state")
        after_state = server.rss_mib()
        time.sleep(3)
        settled = server.rss_mib()
        return {"rest": rest, "scrapes": after_scrapes, "page": after_page, "page_kib": len(page) / 1024,
                "state": after_state, "state_mib": len(state) / 1024 / 1024, "settled": settled,
                "scrape_cpu_ms": scrape_ms}
    finally:
        server.stop()


async def flood_health(binary, seconds):
    server = Server(binary, "", probes=True)
    probe_port = server.probe_port or server.port
    latencies, stop = [], threading.Event()

    def prober():
        while not stop.is_set():
            started = time.monotonic()
            try:
                with socket.create_connection(("127.0.0.1", probe_port), timeout=5) as s:
                    s.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    while s.recv(4096):
                        pass
                latencies.append((time.monotonic() - started) * 1000)
            except OSError:
                latencies.append(5000.0)
            time.sleep(0.1)

    busy, silent = [], []
    try:
        for _ in range(1024):
            try:
                r, w = await asyncio.open_connection("127.0.0.1", server.port)
                w.write(b"GET /_emulator/health HTTP/1.1\r\n")
                busy.append(w)
            except OSError:
                break
        thread = threading.Thread(target=prober)
        thread.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(80):
                try:
                    silent.append((await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), 1))[1])
                except (OSError, asyncio.TimeoutError):
                    pass
            for w in busy:
                try:
                    w.write(b"X-a: b\r\n")
                except Exception:  # noqa: BLE001 - the server closed it, as it may
                    pass
            await asyncio.sleep(0.1)
        stop.set()
        thread.join()
    finally:
        for w in busy + silent:
            w.close()
        server.stop()
    xs = sorted(latencies)
    return {"port": "probe" if server.probe_port else "main", "probes": len(xs),
            "p50": statistics.median(xs), "p99": xs[min(len(xs) - 1, int(len(xs) * 0.99))], "max": xs[-1]}


def fmt(v, unit=""):
    return "died (4 GiB cap)" if v is None else f"{v:.1f}{unit}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/release/roma-emulator")
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--label", default="baseline")
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--flood-seconds", type=int, default=5)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    builds = [("this build", args.binary), (args.label, args.baseline)]
    rows = []
    for projects in (2000, 20000):
        got = [put_peak(b, projects) for _, b in builds]
        rows.append((f"v1 PUT, {projects} projects ({got[0]['body_kib']:.0f} KiB): peak RSS MiB (over idle)",
                     [fmt(g["peak_mib"]) + ("" if g["died"] else f" (+{g['peak_mib'] - g['rest_mib']:.1f}) [{g['status']}]")
                      for g in got]))
    big = [scale(b, args.jobs) for _, b in builds]
    small = [scale(b, 10) for _, b in builds]
    rows.append((f"{args.jobs} jobs: RSS MiB at rest", [fmt(g["rest"]) for g in big]))
    rows.append((f"{args.jobs} jobs: RSS MiB after 10 scrapes", [fmt(g["scrapes"]) for g in big]))
    rows.append((f"{args.jobs} jobs: RSS MiB after GET /_emulator/jobs", [fmt(g["page"]) + f" ({g['page_kib']:.0f} KiB)" for g in big]))
    rows.append((f"{args.jobs} jobs: RSS MiB after GET /_emulator/state", [fmt(g["state"]) + f" ({g['state_mib']:.0f} MiB)" for g in big]))
    rows.append((f"{args.jobs} jobs: RSS MiB 3 s later", [fmt(g["settled"]) for g in big]))
    rows.append(("scrape CPU ms at 10 jobs", [f"{g['scrape_cpu_ms']:.2f}" for g in small]))
    rows.append((f"scrape CPU ms at {args.jobs} jobs", [f"{g['scrape_cpu_ms']:.2f}" for g in big]))
    rows.append(("  ratio", [f"{b['scrape_cpu_ms'] / max(s['scrape_cpu_ms'], 0.05):.1f}x" for b, s in zip(big, small)]))
    floods = [asyncio.run(flood_health(b, args.flood_seconds)) for _, b in builds]
    rows.append(("flood: health p50 / p99 / max ms",
                 [f"{f['p50']:.1f} / {f['p99']:.1f} / {f['max']:.1f} ({f['port']} port, {f['probes']} probes)" for f in floods]))
    width = max(len(r[0]) for r in rows) + 2
    print(f"{'':{width}}{builds[0][0]:>34}{builds[1][0]:>44}")
    for name, values in rows:
        print(f"{name:{width}}{values[0]:>34}{values[1]:>44}")


if __name__ == "__main__":
    main()
