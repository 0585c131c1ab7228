"""What the SDK tests share: starting the emulator binary with a config, on a free port."""

import contextlib
import json
import os
import pathlib
import subprocess
import tempfile
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def emulator_with(config_text):
    """Runs the binary (ROMA_EMULATOR_BIN, else target/debug) with `config_text`; yields its URL.
    On exit it stops the binary with SIGTERM and checks it exits 0."""
    binary = os.environ.get("ROMA_EMULATOR_BIN", str(ROOT / "target" / "debug" / "roma-emulator"))
    with tempfile.TemporaryDirectory() as tmp:
        config = pathlib.Path(tmp) / "roma.toml"
        config.write_text(config_text)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROMA_EMULATOR_")}
        proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        try:
            line = proc.stdout.readline()
            assert line.startswith("roma-emulator listening on http://"), line
            yield line.split()[-1]
        finally:
            proc.terminate()
            assert proc.wait(timeout=15) == 0, "graceful exit on SIGTERM"


def iam_token(url, scope, user="sdk-user", password="sdk-user-password", domain="acme"):
    """A password token of `user` for `scope` from the emulator at `url` (POST /v3/auth/tokens)."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": domain}}}}, "scope": scope}}
    answer = urllib.request.urlopen(urllib.request.Request(
        f"{url}/v3/auth/tokens", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}))
    return answer.headers["X-Subject-Token"]


def control(url, method, path, body=None):
    """A control-plane request; the JSON answer (None for an empty one)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        text = answer.read()
    return json.loads(text) if text else None
