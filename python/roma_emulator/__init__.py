"""roma-emulator: a local emulator of the Huawei Cloud ROMA Connect asset API, for tests.

- :func:`binary`: the path of the bundled binary;
- :class:`RomaEmulator`: runs it on a free port (a context manager), with control-plane helpers;
- :class:`RemoteEmulator`: the same helpers for one that runs elsewhere (a container, a stub);
- the pytest plugin (``roma_emulator.pytest_plugin``, loaded by pytest by itself) with the fixtures
  ``roma_emulator``, ``roma_namespace``, ``roma_client``, ``wait_for_job`` and
  ``roma_private_emulator``;
- ``roma_emulator.testcontainers.RomaEmulatorContainer`` for Testcontainers.
"""

from importlib.metadata import PackageNotFoundError, version

from ._binary import binary
from ._control import ControlPlane, EmulatorError, Namespace, RemoteEmulator
from ._process import RomaEmulator, StartupError

try:
    __version__ = version("roma-emulator")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "ControlPlane",
    "EmulatorError",
    "Namespace",
    "RemoteEmulator",
    "RomaEmulator",
    "StartupError",
    "binary",
    "__version__",
]
