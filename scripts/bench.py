#!/usr/bin/env python3
"""The hot-path benchmark, driven by scripts/bench.sh: the emulator's release binary
side by side with the floor (benches/floor, a bare axum route), over loopback, with wrk.

Every server is pinned to one core and wrk to another (taskset), so the server's CPU per request is
what one core spends. Figures are printed as one table with the ratios to the floor. Standard
library only. Nothing here asserts a time: it prints what it measured.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

EXPORT_PATH = "/v2/bench-project/instances/bench-instance/assets/export"
JOB_PATH = "/v2/bench-project/instances/bench-instance/assets/jobs/"
BODY = '{"apps": [{"id": "app-1"}], "tasks": [{"id": "task-1"}]}'
HEADERS = {"X-Auth-Token": "bench-token", "Content-Type": "application/json"}
TICKS = os.sysconf("SC_CLK_TCK")

# wrk's Lua: the export request, and (with a limit) a stop after that many responses per thread.
LUA = """
wrk.method = "{method}"
wrk.body = {body}
wrk.headers["X-Auth-Token"] = "bench-token"
wrk.headers["Content-Type"] = "application/json"
local limit = {limit}
local seen = 0
{response}
"""
LUA_COUNTING = """
function response(status, headers, body)
  seen = seen + 1
  if seen == limit then
    -- wrk's main thread sleeps out -d whatever the threads do; a SIGINT ends its sleep once this
    -- thread has returned (sent while it still runs, the thread would take the signal).
    wrk.thread:stop()
    os.execute("(sleep 0.2; kill -INT $PPID) &")
  end
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def taskset(core, argv):
    return ["taskset", "-c", str(core), *argv] if core is not None else argv


class Server:
    """One server process, pinned to the server core."""

    def __init__(self, label, argv, env, core, log_path):
        self.label, self.argv, self.env, self.core = label, argv, env, core
        self.log_path = log_path
        self.proc = None
        self.port = None

    def start(self):
        self.port = free_port()
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        log = open(self.log_path, "ab")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            taskset(self.core, argv), env=self.env, stdout=subprocess.DEVNULL, stderr=log
        )
        log.close()
        return started

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cpu_seconds(self):
        """User and system CPU of the server and every process under it (a peer may fork)."""
        user = system = 0.0
        for pid in self.tree():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            # Fields 14 and 15 of proc(5) (utime, stime) are at 11 and 12 after the ")".
            user += int(fields[11]) / TICKS
            system += int(fields[12]) / TICKS
        return user, system

    def tree(self):
        """The server's pid and its descendants'."""
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
                except OSError:
                    pass
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(parents.get(pid, []))
        return out

    def rss_mib(self):
        total = 0
        for pid in self.tree():
            try:
                with open(f"/proc/{pid}/status") as f:
                    total += sum(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            except OSError:
                pass
        if not total:
            raise RuntimeError("no VmRSS")
        return total / 1024


def http(port, method, path, body="", timeout=2.0):
    """One request on a new connection: (status, body)."""
    payload = body.encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    head += f"Content-Length: {len(payload)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.encode() + payload)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def first_200(server):
    """Spawns the server and asks for an export until one answers 200: the seconds from spawn."""
    started = server.start()
    deadline = started + 10
    while time.perf_counter() < deadline:
        try:
            status, _ = http(server.port, "POST", EXPORT_PATH, BODY, timeout=1)
            if status == 200:
                return time.perf_counter() - started
        except (ConnectionRefusedError, ConnectionResetError):
            time.sleep(0.0002)
    raise RuntimeError(f"{server.label}: no 200 within 10 s")


def wrk(args, port, path, connections, seconds=None, limit=None, method="POST", body=BODY):
    """Runs wrk; returns requests, req/s, p50 and p99 in ms and the count of non-200 answers."""
    script = lua_script(method, body, limit)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    argv = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", f.name]
    argv += [f"-d{seconds if seconds else 3600}s", "--timeout", "5s"]
    argv.append(f"http://127.0.0.1:{port}{path}")
    try:
        out = subprocess.run(
            taskset(args.load_core, argv), capture_output=True, text=True, check=True
        ).stdout
    finally:
        os.unlink(f.name)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = latency_ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    p99 = latency_ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    bad = int(non_2xx.group(1)) if non_2xx else 0
    if bad or errors:
        raise RuntimeError(f"wrk saw failures (non-2xx {bad}, socket errors {errors and errors.group(1)}):\n{out}")
    return {"requests": requests, "rate": rate, "p50": p50, "p99": p99}


def lua_script(method="POST", body=BODY, limit=None):
    """wrk's script for the benchmark's request (also what scripts/profile.sh loads with)."""
    return LUA.format(
        method=method,
        body=json.dumps(body) if body else "nil",
        limit=limit or 0,
        response=LUA_COUNTING if limit else "",
    )


def latency_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def measured_load(args, server, path, connections, method="POST", body=BODY):
    """A wrk run with the server's CPU time over it."""
    user0, sys0 = server.cpu_seconds()
    run = wrk(args, server.port, path, connections, seconds=args.seconds, method=method, body=body)
    user1, sys1 = server.cpu_seconds()
    run["user_us"] = (user1 - user0) * 1e6 / run["requests"]
    run["sys_us"] = (sys1 - sys0) * 1e6 / run["requests"]
    run["cpu_us"] = run["user_us"] + run["sys_us"]
    return run


def fill(args, server, count):
    """Sends `count` exports (32 connections, as fast as they go)."""
    wrk(args, server.port, EXPORT_PATH, 32, limit=count)


def bench_server(args, server, rss_counts, starts=None):
    """What is measured on one server alone: starts, idle RSS and RSS after many exports. Leaves the
    server running, warmed up, for the load rounds."""
    out = {}
    starts, count = [], args.starts if starts is None else starts
    for _ in range(count):
        starts.append(first_200(server))
        server.stop()
    if starts:
        out["start_ms"] = statistics.median(starts) * 1000
    if rss_counts:
        server.start()
        wait_up(server)
        done = 1
        for count in rss_counts:
            fill(args, server, count - done)
            done = count
            out[f"rss_{count}"] = server.rss_mib()
        server.stop()
    server.start()
    wait_up(server)
    out["idle_rss"] = server.rss_mib()
    wrk(args, server.port, EXPORT_PATH, 32, seconds=2)  # warm-up
    return out


def load_rounds(args, servers, paths, rounds, method="POST", body=BODY):
    """The load runs of `servers` (running), interleaved: each round runs every server once at 1 and
    at 32 connections, so a slow spell of a shared machine falls on all of them rather than on one.
    Each figure is the median of its rounds; `cpu_us_range` is the CPU per request's lowest and
    highest round (the run-to-run spread a before/after difference is read against)."""
    runs = {label: {"c1": [], "c32": []} for label in servers}
    for _ in range(rounds):
        for label, server in servers.items():
            for conns in (1, 32):
                runs[label][f"c{conns}"].append(
                    measured_load(args, server, paths[label], conns, method=method, body=body))

    def summary(rs):
        out = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        out["cpu_us_range"] = [min(r["cpu_us"] for r in rs), max(r["cpu_us"] for r in rs)]
        return out

    return {label: {c: summary(rs) for c, rs in by_conns.items()} for label, by_conns in runs.items()}


def job_status_setup(args, server, held):
    """Starts `server` holding `held` jobs; returns the path of the first job's status."""
    # Room for wrk's last in-flight answers, so the first job is not evicted.
    server.env = dict(server.env, ROMA_EMULATOR_JOBS_MAX_JOBS=str(max(held + 1000, 10_000)))
    server.start()
    wait_up(server)
    status, body = http(server.port, "POST", EXPORT_PATH, BODY)
    assert status == 200, body
    job_path = JOB_PATH + json.loads(body)["job_id"]
    if held > 1:
        fill(args, server, held - 1)
    status, body = http(server.port, "GET", job_path)
    assert status == 200, body
    return job_path


def wait_up(server):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if http(server.port, "GET", "/_emulator/health")[0] in (200, 404):
                return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{server.label} did not come up")


def row(name, values, unit, fmt="{:.1f}"):
    floor = values[0]
    cells = [fmt.format(v) if v is not None else "-" for v in values]
    ratios = []
    for v in values[1:]:
        ratios.append("-" if v is None or not floor else f"{v / floor:.2f}x")
    return f"| {name} ({unit}) | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |"


def report(results, labels, jobs, held):
    floor, *others = labels
    print()
    print(f"| figure | {' | '.join(labels)} | " + " | ".join(f"{o} / floor" for o in others) + " |")
    print("|---" * (1 + len(labels) + len(others)) + "|")
    get = lambda key: [lookup(results[l], key) for l in labels]
    for conns in ("c1", "c32"):
        n = conns[1:]
        print(row(f"requests/s, {n} conn", get(f"{conns}.rate"), "req/s", "{:.0f}"))
        print(row(f"p50, {n} conn", get(f"{conns}.p50"), "ms", "{:.3f}"))
        print(row(f"p99, {n} conn", get(f"{conns}.p99"), "ms", "{:.3f}"))
        print(row(f"server CPU per request, {n} conn", get(f"{conns}.cpu_us"), "µs"))
        print(row(f"  of which user, {n} conn", get(f"{conns}.user_us"), "µs"))
        print(row(f"  of which sys, {n} conn", get(f"{conns}.sys_us"), "µs"))
    print()
    for conns in ("c1", "c32"):
        spans = [lookup(results[l], f"{conns}.cpu_us_range") for l in labels]
        cells = ", ".join(f"{l} {span[0]:.1f}-{span[1]:.1f}" for l, span in zip(labels, spans) if span)
        print(f"server CPU per request, {conns[1:]} conn, lowest-highest round (µs): {cells}")
    if "no summaries" in labels:
        for conns in ("c1", "c32"):
            on, off = lookup(results["emulator"], f"{conns}.cpu_us"), lookup(results["no summaries"], f"{conns}.cpu_us")
            if on and off:
                print(f"the journal's summaries, {conns[1:]} conn: {on:.1f} vs {off:.1f} µs CPU per export "
                      f"({(on / off - 1) * 100:+.1f}%)")
    if not jobs:
        return
    print(row("start to first 200, median", get("start_ms"), "ms", "{:.2f}"))
    print(row("idle RSS", get("idle_rss"), "MiB"))
    for key in sorted(k for k in results[floor] if k.startswith("rss_")):
        print(row(f"RSS after {int(key[4:]):,} exports", get(key), "MiB"))
    print()
    print(f"CheckAssetJobStatus of one job with {held:,} jobs held:")
    print()
    print(f"| figure | {' | '.join(labels[:2])} | {labels[1]} / floor |")
    print("|---|---|---|---|")
    pair = lambda key: [lookup(jobs[l], key) for l in labels[:2]]
    for conns in ("c1", "c32"):
        n = conns[1:]
        print(row(f"requests/s, {n} conn", pair(f"{conns}.rate"), "req/s", "{:.0f}"))
        print(row(f"p99, {n} conn", pair(f"{conns}.p99"), "ms", "{:.3f}"))
        print(row(f"server CPU per request, {n} conn", pair(f"{conns}.cpu_us"), "µs"))
    print(row("RSS", pair("rss"), "MiB"))


def lookup(d, key):
    for part in key.split("."):
        if d is None or part not in d:
            return None
        d = d[part]
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--emulator")
    ap.add_argument("--floor")
    ap.add_argument("--seconds", type=int, default=5, help="length of each measured wrk run")
    ap.add_argument("--rounds", type=int, default=5,
                    help="interleaved rounds of the load runs (floor, emulator, warn); medians are printed")
    ap.add_argument("--starts", type=int, default=20, help="starts whose median is taken")
    ap.add_argument("--rss-counts", default="100000,1000000", help="exports after which RSS is read")
    ap.add_argument("--held", type=int, default=100_000, help="jobs held for CheckAssetJobStatus")
    ap.add_argument("--server-core", type=int, default=0)
    ap.add_argument("--load-core", type=int, default=1)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--baseline", metavar="BINARY",
                    help="another build of the emulator (the commit before a change), run the same way in "
                         "the same interleaved rounds, for a before/after figure")
    ap.add_argument("--quick", action="store_true",
                    help="only the load runs of the floor and the emulator (to compare one change)")
    ap.add_argument("--peers", metavar="DIR",
                    help="also run Stoplight Prism (serving the emulator's /openapi.json) and the Mockoon "
                         "CLI (a route file answering the export), installed under DIR/node_modules")
    ap.add_argument("--print-lua", action="store_true",
                    help="print wrk's script for the export request and exit (scripts/profile.sh)")
    args = ap.parse_args()
    if args.print_lua:
        print(lua_script())
        return
    if not (args.emulator and args.floor):
        ap.error("--emulator and --floor are required")
    if args.quick:
        args.starts, args.rss_counts, args.held = 0, "", 0
    if len(os.sched_getaffinity(0)) < 2 or not shutil.which("taskset"):
        print("bench: not pinned (fewer than 2 cores, or no taskset): server and wrk share the cores")
        args.server_core = args.load_core = None
    rss_counts = [int(c) for c in args.rss_counts.split(",") if c]
    tmp = tempfile.mkdtemp(prefix="roma-bench-")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("ROMA_EMULATOR_", "RUST_LOG"))}
    # The emulator at its defaults, but for jobs that end at once (the floor has no job to wait for).
    emulator_env = dict(base_env, ROMA_EMULATOR_JOBS_PROGRESSION="immediate")
    log = os.path.join(tmp, "server.log")
    servers = {
        "floor": Server("floor", [args.floor, "127.0.0.1:{port}"], base_env, args.server_core, log),
        "emulator": Server(
            "emulator",
            [args.emulator, "--listen", "127.0.0.1:{port}"],
            emulator_env,
            args.server_core,
            log,
        ),
        "emulator warn": Server(
            "emulator warn",
            [args.emulator, "--listen", "127.0.0.1:{port}"],
            dict(emulator_env, ROMA_EMULATOR_LOG_LEVEL="warn"),
            args.server_core,
            log,
        ),
    }
    # The same binary without the journal's summaries, for their cost per export (#30: at most 5%).
    servers["no summaries"] = Server(
        "no summaries",
        [args.emulator, "--listen", "127.0.0.1:{port}"],
        dict(emulator_env, ROMA_EMULATOR_JOURNAL_SUMMARIES="false"),
        args.server_core,
        log,
    )
    if args.quick:
        del servers["emulator warn"]
    if args.baseline:
        servers["baseline"] = Server(
            "baseline", [args.baseline, "--listen", "127.0.0.1:{port}"], emulator_env, args.server_core, log
        )
    if args.peers:
        servers.update(peer_servers(args, base_env, tmp, log))
    labels = list(servers)
    print(f"bench: wrk {wrk_version()}, server on core {args.server_core}, wrk on core {args.load_core},"
          f" {args.seconds} s a run; server logs to {log}", flush=True)
    results, jobs = {}, {}
    core = [label for label in labels if label not in ("prism", "mockoon")]
    try:
        for label, server in servers.items():
            print(f"bench: {label} ...", flush=True)
            peer = label not in core
            lean = peer or label in ("emulator warn", "no summaries")
            results[label] = bench_server(args, server, [] if lean else rss_counts,
                                          starts=min(args.starts, 3) if peer else args.starts)
            if peer:
                # A peer is measured alone (one round: its figures are far from the others').
                results[label].update(load_rounds(args, {label: server}, {label: EXPORT_PATH}, 1)[label])
                server.stop()
            try:
                os.truncate(log, 0)
            except OSError:
                pass
        print(f"bench: {', '.join(core)}: {args.rounds} interleaved rounds ...", flush=True)
        rounds = load_rounds(args, {l: servers[l] for l in core}, {l: EXPORT_PATH for l in core}, args.rounds)
        for label in core:
            results[label].update(rounds[label])
            servers[label].stop()
        os.truncate(log, 0)
        if args.held:
            pair = {label: servers[label] for label in labels[:2]}
            print(f"bench: {', '.join(pair)}: CheckAssetJobStatus with {args.held:,} jobs held, "
                  f"{args.rounds} interleaved rounds ...", flush=True)
            paths = {label: job_status_setup(args, server, args.held) for label, server in pair.items()}
            jobs = load_rounds(args, pair, paths, args.rounds, method="GET", body="")
            for label, server in pair.items():
                jobs[label]["rss"] = server.rss_mib()
            os.truncate(log, 0)
    finally:
        for server in servers.values():
            server.stop()
    report(results, labels, jobs, args.held)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"exports": results, "job_status": jobs}, f, indent=2)


def peer_servers(args, env, tmp, log):
    """Prism and Mockoon, the mocks users pick instead, answering the same export."""
    bin_dir = os.path.join(os.path.abspath(args.peers), "node_modules", ".bin")
    spec = os.path.join(tmp, "openapi.json")
    emulator = subprocess.Popen([args.emulator, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        url = emulator.stdout.readline().split()[-1]
        with urllib.request.urlopen(url + "/openapi.json", timeout=5) as res, open(spec, "wb") as f:
            f.write(res.read())
    finally:
        emulator.terminate()
        emulator.wait()
    routes = os.path.join(tmp, "mockoon.json")
    with open(routes, "w") as f:
        json.dump(mockoon_environment(), f)
    return {
        "prism": Server("prism", [os.path.join(bin_dir, "prism"), "mock", "-h", "127.0.0.1", "-p", "{port}",
                                  spec], env, args.server_core, log),
        "mockoon": Server("mockoon", [os.path.join(bin_dir, "mockoon-cli"), "start", "--data", routes,
                                      "--port", "{port}", "--disable-log-to-file", "--disable-admin-api"],
                          env, args.server_core, log),
    }


def mockoon_environment():
    """A Mockoon environment with one route: the export, answered with a fixed job id."""
    response = {"uuid": "5e0e6f9a-0000-4000-8000-000000000002", "body": '{"job_id":"' + "0" * 32 + '"}',
                "latency": 0, "statusCode": 200, "label": "", "headers": [{"key": "Content-Type",
                "value": "application/json"}], "bodyType": "INLINE", "filePath": "", "databucketID": "",
                "sendFileAsBody": False, "rules": [], "rulesOperator": "OR", "disableTemplating": True,
                "fallbackTo404": False, "default": True, "crudKey": "id", "callbacks": []}
    route = {"uuid": "5e0e6f9a-0000-4000-8000-000000000001", "type": "http", "documentation": "ExportAsset",
             "method": "post", "endpoint": "v2/:project_id/instances/:instance_id/assets/export",
             "responses": [response], "responseMode": None, "streamingMode": None, "streamingInterval": 0}
    return {"uuid": "5e0e6f9a-0000-4000-8000-000000000000", "lastMigration": 33, "name": "roma-export",
            "endpointPrefix": "", "latency": 0, "port": 3000, "hostname": "127.0.0.1", "folders": [],
            "routes": [route], "rootChildren": [{"type": "route", "uuid": route["uuid"]}], "proxyMode": False,
            "proxyHost": "", "proxyRemovePrefix": False, "tlsOptions": {"enabled": False, "type": "CERT",
            "pfxPath": "", "certPath": "", "keyPath": "", "caPath": "", "passphrase": ""}, "cors": False,
            "headers": [], "proxyReqHeaders": [], "proxyResHeaders": [], "data": [], "callbacks": []}


def wrk_version():
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (out.stdout + out.stderr).split()[1]


if __name__ == "__main__":
    sys.exit(main())
