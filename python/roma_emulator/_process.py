"""The bundled binary as a context manager: started on a free port, stopped gracefully."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Optional, Union

from ._binary import binary as bundled_binary
from ._control import ControlPlane

_LISTENING = "roma-emulator listening on "


class StartupError(RuntimeError):
    """The binary did not start; the message carries what it wrote to stderr."""


class RomaEmulator(ControlPlane):
    """Runs the ``roma-emulator`` binary on a free port of 127.0.0.1.

    ``config`` is a TOML file; ``config_text`` TOML given inline (one or the other). Keyword
    ``overrides`` set single keys through the binary's environment table: ``jobs_duration_ms=0``
    sets ``ROMA_EMULATOR_JOBS_DURATION_MS`` (``[jobs] duration_ms``); an unknown key stops
    startup with the binary's own "did you mean". ``ROMA_EMULATOR_*`` variables of the calling
    environment are not passed on, so the emulator is the one these arguments describe.

    Use it as a context manager (``with RomaEmulator() as emu: emu.url``), or call
    :meth:`start` and :meth:`stop`.
    """

    def __init__(self, config: Optional[Union[str, os.PathLike]] = None, *,
                 config_text: Optional[str] = None, binary: Optional[str] = None,
                 admin_token: Optional[str] = None, startup_timeout: float = 30.0,
                 **overrides: Any) -> None:
        if config is not None and config_text is not None:
            raise ValueError("give config (a file) or config_text (TOML), not both")
        self.config = config
        self.config_text = config_text
        self.binary = binary or bundled_binary()
        self.admin_token = admin_token
        self.startup_timeout = startup_timeout
        self.overrides = overrides
        self.url = ""
        self._proc: Optional[subprocess.Popen] = None
        self._dir: Optional[tempfile.TemporaryDirectory] = None

    def __repr__(self) -> str:
        return f"RomaEmulator(url={self.url!r})"

    def __enter__(self) -> "RomaEmulator":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROMA_EMULATOR_")}
        for key, value in self.overrides.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            env["ROMA_EMULATOR_" + key.upper()] = str(value)
        return env

    def start(self) -> "RomaEmulator":
        """Starts the binary and waits until it listens. Raises :class:`StartupError` with its
        stderr when it exits or does not listen within ``startup_timeout`` seconds."""
        if self._proc is not None:
            return self
        self._dir = tempfile.TemporaryDirectory(prefix="roma-emulator-")
        tmp = Path(self._dir.name)
        args = [self.binary, "--listen", "127.0.0.1:0"]
        if self.config_text is not None:
            (tmp / "config.toml").write_text(self.config_text)
            args += ["--config", str(tmp / "config.toml")]
        elif self.config is not None:
            args += ["--config", str(self.config)]
        # Files, not pipes: nobody has to keep reading them for the emulator to keep running.
        stdout = open(tmp / "stdout", "w+b")
        stderr = open(tmp / "stderr", "w+b")
        self._proc = subprocess.Popen(args, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                                      env=self._env())
        stdout.close()
        stderr.close()
        deadline = time.monotonic() + self.startup_timeout
        while True:
            text = (tmp / "stdout").read_text(errors="replace")
            if _LISTENING in text:
                self.url = text.split(_LISTENING, 1)[1].split()[0]
                return self
            code = self._proc.poll()
            if code is not None or time.monotonic() > deadline:
                if code is None:
                    self._proc.kill()
                    self._proc.wait()
                why = f"exited with {code}" if code is not None else f"did not listen in {self.startup_timeout} s"
                errors = self.stderr().strip() or "(nothing on stderr)"
                self._proc = None
                raise StartupError(f"roma-emulator {why} ({' '.join(args)}):\n{errors}")
            time.sleep(0.02)

    def stderr(self) -> str:
        """What the binary wrote to stderr so far (its log)."""
        if self._dir is None:
            return ""
        return (Path(self._dir.name) / "stderr").read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        """Stops the binary with SIGTERM (a graceful shutdown that saves state), killing it after
        ``timeout`` seconds; returns its exit code."""
        proc, self._proc = self._proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()  # SIGTERM: the graceful shutdown
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            code = proc.returncode
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
        return code
