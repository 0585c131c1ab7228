"""``roma_expect``: what a test expects its namespace to have been asked, checked at teardown with
the emulator's near misses in the failure message."""

from __future__ import annotations

import json
from typing import Any, List, Optional

from ._control import ControlPlane

#: The short names of the operations, and the cloud's operation ids.
OPERATIONS = {
    "export": "ExportAsset",
    "import_": "ImportAsset",
    "delete": "DeleteAsset",
    "poll": "CheckAssetJobStatus",
    "download": "DownloadAssetArchive",
    "token": "KeystoneCreateUserTokenByPassword",
}


class Expectation:
    """One expectation: an operation, the summary fields its request must have (``where``) and how
    many such requests there must be. Made by :class:`Expectations`; finish it with a count."""

    def __init__(self, operation: str, where: dict, instance_id: Optional[str]) -> None:
        self.operation = operation
        self.where = where
        self.instance_id = instance_id
        self.count: dict = {"min": 1}

    def once(self) -> "Expectation":
        """Exactly one matching request."""
        return self.times(1)

    def times(self, n: int) -> "Expectation":
        """Exactly ``n`` matching requests."""
        self.count = {"eq": n}
        return self

    def at_least(self, n: int) -> "Expectation":
        """``n`` or more."""
        self.count = {"min": n}
        return self

    def at_most(self, n: int) -> "Expectation":
        """``n`` or fewer."""
        self.count = {"max": n}
        return self

    def never(self) -> "Expectation":
        """None."""
        return self.times(0)

    def describe(self) -> str:
        where = ", ".join(f"{k}={v!r}" for k, v in self.where.items())
        return f"{self.operation}({where}) {self.count}"


class Expectations:
    """The ``roma_expect`` fixture: ``roma_expect.export(apps=["app-1"]).at_least(1)``,
    ``roma_expect.import_(prefix="copy-").once()``, ``roma_expect.operation("ListRomaApp").never()``.
    Every expectation is checked when the test's namespace is torn down."""

    def __init__(self, control: ControlPlane, project_id: str) -> None:
        self._control = control
        self._project_id = project_id
        self._expected: List[Expectation] = []

    def operation(self, operation_id: str, instance_id: Optional[str] = None, **where: Any) -> Expectation:
        """An expectation of any operation, by the cloud's operation id."""
        expectation = Expectation(operation_id, where, instance_id)
        self._expected.append(expectation)
        return expectation

    def __getattr__(self, name: str):
        if name in OPERATIONS:
            return lambda instance_id=None, **where: self.operation(OPERATIONS[name], instance_id, **where)
        raise AttributeError(name)

    def failures(self) -> List[str]:
        """What did not hold, each with its near misses."""
        out = []
        for expectation in self._expected:
            verdict = self._control.verify(self._project_id, expectation.operation, where=expectation.where,
                                           count=expectation.count, instance_id=expectation.instance_id)
            if verdict["holds"]:
                continue
            lines = [f"expected {expectation.describe()}, matched {verdict['matched']}"]
            for miss in verdict.get("near_misses", []):
                diffs = "; ".join(f"{d['field']}: expected {json.dumps(d['expected'])}, got {json.dumps(d['actual'])}"
                                  for d in miss["differences"])
                lines.append(f"  near miss {miss['request']} (HTTP {miss['http_status']}, request {miss['request_id']}): {diffs}")
                if miss.get("hint"):
                    lines.append(f"    hint: {miss['hint']}")
            out.append("\n".join(lines))
        return out


def journal_text(control: ControlPlane, project_id: str, limit: int = 50) -> str:
    """The namespace's newest journal entries, one a line with their summary, refusal and hint."""
    lines = []
    for entry in reversed(control.requests(limit=limit, project_id=project_id)):
        line = f"{entry['time']} {entry['method']} {entry['path']} -> {entry['status']}"
        if entry.get("error_code"):
            line += f" {entry['error_code']}"
        for key in ("summary", "refusal", "hint", "wire_fault"):
            if entry.get(key):
                line += f"\n    {key}: {json.dumps(entry[key], sort_keys=True)}"
        lines.append(line)
    return "\n".join(lines) or "(no request of this namespace was journaled)"
