#!/usr/bin/env bash
# Regenerates docs/errors.md's error-code table from the catalog in src/error.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --test api the_documented_error_table_is_the_catalog >/dev/null 2>&1 || true
python3 - <<'PY'
import re
table = open("target/error-table.md").read()
readme = open("docs/errors.md").read()
start = "<!-- error table: generated from roma_emulator::error::markdown_table() -->\n"
end = "<!-- end of error table -->"
i = readme.index(start) + len(start); j = readme.index(end)
open("docs/errors.md", "w").write(readme[:i] + table + readme[j:])
PY
