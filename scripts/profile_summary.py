#!/usr/bin/env python3
"""Sums `perf report` output (scripts/profile.sh) into a breakdown: self time by component, then
the inclusive time of the emulator's own functions. Standard library only."""

import re
import sys
from collections import defaultdict

# First match wins: a symbol is charged to the component its name names first in this list.
COMPONENTS = [
    ("allocation", r"\b(malloc|free|realloc|calloc|cfree|_int_malloc|_int_free|_int_realloc|malloc_consolidate|tcache|unlink_chunk|__rust_alloc|__rust_dealloc|__rdl_|_?mi_[a-z_]+)"),
    ("logging (tracing, the request line)", r"\btracing(_subscriber|_core|_appender)?::|\bsharded_slab::|\bnu_ansi_term::|roma_emulator::telemetry::"),
    ("metrics", r"\bprometheus_client::|roma_emulator::metrics::"),
    ("JSON (serde_json)", r"\bserde_json::|\bserde::"),
    ("ids (rand, uuid)", r"\brand(_core|_chacha)?::|\bchacha20::|\buuid::|roma_emulator::ids::"),
    ("hashing (SipHash, SHA-256)", r"\bcore::hash::sip::|\bsha2::|\bdigest::|\bhmac::"),
    ("job registry", r"roma_emulator::jobs::"),
    ("journal", r"roma_emulator::journal::"),
    ("auth", r"roma_emulator::auth::"),
    ("emulator middleware and handlers", r"roma_emulator::api::|roma_emulator::error::"),
    ("emulator connection layer", r"roma_emulator::connections::"),
    ("emulator, other", r"roma_emulator::"),
    ("axum routing and glue", r"\baxum(_core)?::|\btower(_http|_layer|_service)?::|\bmatchit::"),
    ("hyper and http", r"\bhyper(_util)?::|\bhttp(_body|_body_util)?::|\bhttparse::|\bbytes::"),
    ("tokio runtime", r"\btokio::|\bmio::"),
]


def component(dso, symbol):
    if dso.startswith("[kernel") or dso == "[unknown]" and symbol.startswith("0xffff"):
        return "kernel (syscalls, TCP, scheduling)"
    for name, pattern in COMPONENTS:
        if re.search(pattern, symbol):
            return name
    if "libc" in dso:
        return "libc, other (memcpy, ...)"
    if re.search(r"\b(core|alloc|std)::", symbol):
        return "Rust std/core, other"
    return f"other ({dso})"


def rows(path, children):
    pat = (r"^\s+([\d.]+)%\s+([\d.]+)%\s+(.*)$" if children else r"^\s+([\d.]+)%\s+(\S+)\s+(.*)$")
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(pat, line)
            if m:
                yield m.groups()


def main(self_path, children_path):
    totals = defaultdict(float)
    for pct, dso, symbol in rows(self_path, False):
        symbol = re.sub(r"^\[[.k]\]\s+", "", symbol)
        totals[component(dso, symbol)] += float(pct)
    print("Self time by component (% of the server's samples):")
    for name, pct in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {pct:5.1f}%  {name}")
    print()
    print("Inclusive time of the emulator's own functions (top 30):")
    seen = set()
    shown = 0
    for total, _self, symbol in rows(children_path, True):
        symbol = re.sub(r"^\[[.k]\]\s+", "", symbol).strip()
        name = re.sub(r"::\{\{closure\}\}|::h[0-9a-f]{16}$", "", symbol)
        if "roma_emulator::" not in name or name in seen:
            continue
        seen.add(name)
        print(f"  {float(total):5.1f}%  {name[:150]}")
        shown += 1
        if shown == 30:
            break


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
