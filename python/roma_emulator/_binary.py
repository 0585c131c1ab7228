"""Where the bundled ``roma-emulator`` binary is."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

_NAME = "roma-emulator.exe" if sys.platform == "win32" else "roma-emulator"


def binary() -> str:
    """The path of the ``roma-emulator`` binary.

    Looked up in this order: the ``ROMA_EMULATOR_BIN`` environment variable; the scripts directory
    of the Python environment this package is installed in (where the wheel puts it, also for a
    ``--user`` install); then ``PATH``. Raises ``FileNotFoundError`` naming the places tried.
    """
    override = os.environ.get("ROMA_EMULATOR_BIN")
    if override:
        if not Path(override).is_file():
            raise FileNotFoundError(f"ROMA_EMULATOR_BIN={override} is not a file")
        return override
    tried = []
    schemes = [sysconfig.get_default_scheme()]
    user = f"{os.name}_user"
    if user in sysconfig.get_scheme_names():
        schemes.append(user)
    for scheme in schemes:
        scripts = Path(sysconfig.get_path("scripts", scheme=scheme))
        candidate = scripts / _NAME
        tried.append(str(candidate))
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(_NAME)
    if found:
        return found
    raise FileNotFoundError(
        f"the roma-emulator binary is not installed (tried {', '.join(tried)} and PATH); "
        "reinstall the roma-emulator wheel or set ROMA_EMULATOR_BIN"
    )
