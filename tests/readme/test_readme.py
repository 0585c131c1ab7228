"""The README and every page of docs/ as a tested contract: every console and Python block runs, in each
page's order, against a freshly started binary with the config the page names for it, and its output must
match what the page shows. Each page runs on its own (its own binaries and names). Ids, tokens, times, dates and progress are matched by pattern (an id the README shows stands
for the id the run produced, everywhere after). The Rust blocks are compiled and run as doctests by
`cargo test` (src/lib.rs includes the README and the docs with Rust blocks under cfg(doctest)).

Directives are HTML comments right before a block (invisible when the README is rendered):
  <!-- readme-test: config NAME [file=PATH] -->  the next ```toml block is the config NAME (with file=,
                                                 it must equal that file of the repository)
  <!-- readme-test: run [with=NAME] [fresh] [env K=V ...] -->
                                                 run the next block against a binary with config NAME
                                                 (default: the embedded defaults); `fresh` restarts it
  <!-- readme-test: skip REASON -->              the next block is not run, for the reason given
  <!-- readme-test: file PATH -->                 the next block is that file of the repository, which
                                                 another suite runs (it must equal the file)
A console or python block without a directive fails the test, so no example goes unchecked.
"""

import os
import re
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = os.environ.get("ROMA_EMULATOR_BIN", str(ROOT / "target/debug/roma-emulator"))
README = Path(os.environ.get("ROMA_README", ROOT / "README.md"))
PAGES = [README] + sorted((ROOT / "docs").glob("*.md"))

HEX32 = r"[0-9a-f]{32}"
TOKEN = r"MIIEMU[0-9a-f]+\.[0-9a-f]{64}"
# An open-mode user name: keyed with the token key, so it differs from run to run.
OPEN_USER = r"token-[0-9a-f]{16}"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"
DIRECTIVE = re.compile(r"<!-- readme-test: (.*?) -->")


def blocks(text):
    """(directive or None, language, body lines, line number) for every fenced block."""
    lines = text.split("\n")
    out, i, pending = [], 0, None
    while i < len(lines):
        m = DIRECTIVE.fullmatch(lines[i].strip())
        if m:
            pending = m.group(1)
        elif lines[i].startswith("```"):
            lang = lines[i][3:].strip()
            start = i
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((pending, lang, body, start + 1))
            pending = None
        elif lines[i].strip():
            # A directive belongs to the block right after it (blank lines may stand between).
            pending = pending if lines[i].startswith("<!--") else None
        i += 1
    return out


def commands(body):
    """The console block's (command, expected output lines) pairs."""
    pairs, cmd, expected = [], None, []
    lines = iter(body)
    for line in lines:
        if line.startswith("$ "):
            if cmd is not None:
                pairs.append((cmd, expected))
            cmd, expected = line[2:], []
            while cmd.endswith("\\"):
                cmd = cmd[:-1] + " " + next(lines).strip()
        elif cmd is not None:
            expected.append(line)
    if cmd is not None:
        pairs.append((cmd, expected))
    return [(c, strip_blank_tail(e)) for c, e in pairs]


def strip_blank_tail(lines):
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


class Session:
    """One running binary, the names bound so far, and the shell variables the README set."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.config = None
        self.port = None
        self.names = {}  # what the README shows -> what this run produced
        self.vars = {}  # shell variables the README sets (H, B), as shown

    def start(self, name, config_text, fresh):
        if self.proc and self.config == name and not fresh:
            return
        self.stop()
        path = Path(self.workdir) / f"{name}.toml"
        path.write_text(config_text)
        self.proc = subprocess.Popen(
            [BINARY, "--listen", "127.0.0.1:0", "--config", str(path)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=self.workdir)
        line = self.proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)$", line.strip())
        assert m, f"no listening line: {line!r}"
        self.port = m.group(1)
        self.config = name

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def substitute(self, text):
        for shown, real in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(shown, real)
        return text.replace("127.0.0.1:8080", f"127.0.0.1:{self.port}")

    def with_real_length(self, line, rest):
        """A shown `content-length` counts the shown port (8080); the run's port may be longer. The
        body is the lines that follow, up to the next command."""
        m = re.fullmatch(r"(?i)(content-length: )(\d+)", line)
        if not m:
            return line
        body = []
        for later in rest:
            if later.startswith("$ "):
                break
            body.append(later)
        urls = sum(b.count("127.0.0.1:8080") for b in body)
        return f"{m.group(1)}{int(m.group(2)) + urls * (len(self.port) - 4)}"

    def run(self, cmd):
        later = re.search(r"#\s*(\d+) s later", cmd)
        if later:
            time.sleep(int(later.group(1)) + 0.3)
        env = dict(os.environ, **{k: self.substitute(v) for k, v in self.vars.items()})
        # `roma-emulator ...` in a block is the binary under test, as after `cargo install`.
        env["PATH"] = f"{Path(BINARY).resolve().parent}{os.pathsep}{env.get('PATH', '')}"
        result = subprocess.run(["bash", "-c", self.substitute(cmd)], capture_output=True, text=True,
                                cwd=self.workdir, env=env, timeout=60)
        assert result.returncode == 0, f"{cmd}\nexit {result.returncode}: {result.stderr}"
        return result.stdout.replace("\r\n", "\n")

    def match(self, where, expected_lines, actual_text):
        """Line by line; binds every id and token the README shows to what the run produced."""
        shown = [line for line in expected_lines if not line.lower().startswith("date:")]
        actual = [line for line in strip_blank_tail(actual_text.split("\n")) if not line.lower().startswith("date:")]
        assert len(shown) == len(actual), f"{where}: expected\n" + "\n".join(shown) + "\n--- got\n" + "\n".join(actual)
        for i, (want, got) in enumerate(zip(shown, actual)):
            want = self.with_real_length(want, shown[i + 1:])
            pattern, slots = line_pattern(self.substitute(want))
            m = re.fullmatch(pattern, got)
            assert m, f"{where}: expected\n{want}\n--- got\n{got}"
            for index, (kind, text) in enumerate(slots):
                value = m.group(index + 1)
                if kind == "bind":
                    bound = self.names.setdefault(text, value)
                    assert bound == value, f"{where}: {text} stood for {bound}, now {value}"


def line_pattern(line):
    """A regex for a shown output line: ids and tokens become groups to bind, times and progress wildcards."""
    parts, slots, pos = [], [], 0
    token_re = re.compile(
        rf"({TOKEN})|({HEX32})|({TIME})|(\"progress_percent\":)(\d+(?:\.\d+)?)|({OPEN_USER})"
    )
    for m in token_re.finditer(line):
        parts.append(re.escape(line[pos:m.start()]))
        if m.group(1) or m.group(2) or m.group(6):
            text = m.group(1) or m.group(2) or m.group(6)
            parts.append(f"({TOKEN})" if m.group(1) else f"({HEX32})" if m.group(2) else f"({OPEN_USER})")
            slots.append(("bind", text))
        elif m.group(3):
            parts.append(f"({TIME})")
            slots.append(("any", m.group(3)))
        else:
            parts.append(re.escape(m.group(4)) + r"(\d+(?:\.\d+)?)")
            slots.append(("any", m.group(5)))
        pos = m.end()
    parts.append(re.escape(line[pos:]))
    return "".join(parts), slots


def parse_directive(text):
    words = shlex.split(text)
    return words[0], words[1:]


def run_readme(readme_text, page="README.md"):
    configs = {"defaults": ""}
    with tempfile.TemporaryDirectory() as workdir:
        session = Session(workdir)
        try:
            checked = 0
            for directive, lang, body, line in blocks(readme_text):
                where = f"{page}:{line}"
                if directive is None:
                    assert lang not in ("console", "python"), f"{where}: a {lang} block has no readme-test directive"
                    continue
                verb, args = parse_directive(directive)
                if verb == "config":
                    configs[args[0]] = "\n".join(body) + "\n"
                    # `file=PATH`: the block is that file of the repository, as shipped.
                    for arg in args[1:]:
                        if arg.startswith("file="):
                            shipped = (ROOT / arg[len("file="):]).read_text()
                            assert shipped == configs[args[0]], f"{where}: the block differs from {arg[5:]}"
                    continue
                if verb == "skip":
                    assert args, f"{where}: skip needs a reason"
                    continue
                if verb == "file":
                    shipped = (ROOT / args[0]).read_text()
                    assert shipped == "\n".join(body) + "\n", f"{where}: the block differs from {args[0]}"
                    checked += 1
                    continue
                assert verb == "run", f"{where}: unknown directive {directive!r}"
                name, fresh = "defaults", False
                for i, arg in enumerate(args):
                    if arg.startswith("with="):
                        name = arg[5:]
                    elif arg == "fresh":
                        fresh = True
                    elif arg == "env":
                        for pair in args[i + 1:]:
                            key, _, value = pair.partition("=")
                            session.vars[key] = value
                        break
                session.start(name, configs[name], fresh)
                if lang == "python":
                    code = session.substitute("\n".join(body))
                    # The Python package from the source tree, with the binary under test.
                    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"), ROMA_EMULATOR_BIN=BINARY)
                    result = subprocess.run([os.environ.get("PYTHON_FOR_README", "python3"), "-c", code],
                                            capture_output=True, text=True, timeout=60, cwd=workdir, env=env)
                    assert result.returncode == 0, f"{where}: {result.stderr}"
                    checked += 1
                    continue
                for cmd, expected in commands(body):
                    session.match(f"{where}: $ {cmd}", expected, session.run(cmd))
                    checked += 1
            return checked
        finally:
            session.stop()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_example_runs_as_shown(page):
    checked = run_readme(page.read_text(), str(page.relative_to(ROOT)))
    minimum = {"README.md": 3, "api.md": 15, "auth.md": 5, "control-plane.md": 5, "python.md": 3}.get(page.name, 0)
    assert checked >= minimum, f"{page.name}: only {checked} examples ran"


def test_the_readme_maps_every_page_and_stays_short():
    text = README.read_text()
    for page in PAGES[1:]:
        assert f"](docs/{page.name})" in text, f"README.md does not link docs/{page.name}"
    assert len(text.splitlines()) <= 200, "README.md is over 200 lines: move the detail to docs/"


def test_an_altered_output_in_the_docs_fails_the_check():
    text = (ROOT / "docs" / "api.md").read_text()
    altered = text.replace('"status":"Finished"', '"status":"Success"', 1)
    assert altered != text
    try:
        run_readme(altered, "docs/api.md")
    except AssertionError as e:
        assert "Finished" in str(e), e
    else:
        raise AssertionError("a README showing the wrong status passed")


def test_no_page_names_a_nodejs_roma_sdk():
    """There is no Node.js ROMA SDK (the SDK reference lists Java, Python and Go): a page that implied one
    sent Node.js teams looking for it (#29). Node.js clients sign with @huaweicloud/huaweicloud-sdk-core."""
    texts = [p.read_text() for p in PAGES] + [(ROOT / "config.example.toml").read_text()]
    texts += [p.read_text() for p in sorted((ROOT / "examples").glob("*.toml"))]
    implied = re.compile(r"(?<!no )Node\.js (ROMA )?SDKs?\b|huaweicloud-sdk-roma", re.IGNORECASE)
    for text in texts:
        assert not implied.search(text), implied.search(text).group(0)
