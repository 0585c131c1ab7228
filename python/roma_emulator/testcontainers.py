"""A Testcontainers module: ``RomaEmulatorContainer``, the emulator's image as a ``DockerContainer``.

Needs ``pip install 'roma-emulator[testcontainers]'``. Usage::

    from roma_emulator.testcontainers import RomaEmulatorContainer

    with RomaEmulatorContainer("roma-emulator:latest") as emu:
        client = emu.roma_client("my-project")
        ...

The container is started, its port 8080 published, and ``start()`` returns once
``/_emulator/health`` answers. ``url`` is the base URL; the control-plane helpers of
:class:`roma_emulator.RomaEmulator` are there too.
"""

from __future__ import annotations

import time
from typing import Any, Optional

try:
    from testcontainers.core.container import DockerContainer
except ImportError as err:  # pragma: no cover - depends on the extra
    raise ImportError(
        "roma_emulator.testcontainers needs testcontainers: pip install 'roma-emulator[testcontainers]'"
    ) from err

from ._control import ControlPlane

PORT = 8080


class RomaEmulatorContainer(ControlPlane, DockerContainer):
    """The emulator's container image, ready once ``/_emulator/health`` answers.

    ``env`` sets ``ROMA_EMULATOR_*`` variables (e.g. ``{"ROMA_EMULATOR_JOBS_DURATION_MS": "0"}``);
    ``admin_token`` is sent to the control plane when the image's config sets one.
    """

    def __init__(self, image: str = "roma-emulator:latest", *, env: Optional[dict] = None,
                 admin_token: Optional[str] = None, startup_timeout: float = 60.0,
                 **kwargs: Any) -> None:
        DockerContainer.__init__(self, image, **kwargs)
        self.with_exposed_ports(PORT)
        for key, value in (env or {}).items():
            self.with_env(key, str(value))
        self.admin_token = admin_token
        self.startup_timeout = startup_timeout

    @property
    def url(self) -> str:  # type: ignore[override]
        """The base URL of the published port."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    def start(self) -> "RomaEmulatorContainer":
        DockerContainer.start(self)
        deadline = time.monotonic() + self.startup_timeout
        while not self.health():
            if time.monotonic() > deadline:
                logs = self.get_logs()
                self.stop()
                raise TimeoutError(
                    f"the roma-emulator container did not answer /_emulator/health in "
                    f"{self.startup_timeout} s; its log:\n{logs}")
            time.sleep(0.1)
        return self
