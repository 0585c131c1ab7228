"""The pytest plugin (entry point ``pytest11``), loaded by pytest once the package is installed.

Fixtures:

- ``roma_emulator`` (session): the emulator the tests share. Started from the bundled binary, or
  the one at ``--roma-emulator-url`` / ``ROMA_EMULATOR_URL`` (a container, a staging stub). Under
  pytest-xdist the controller starts one binary and every worker uses it.
- ``roma_namespace``: a fresh ``project_id``/``instance_id`` with a user and access key of its own,
  reset (project-scoped) and removed at teardown, so tests in parallel never see each other.
- ``roma_client``: an official SDK ``RomaClient`` signed as that namespace's user.
- ``wait_for_job``: ``wait_for_job(job_id, timeout=30)`` polls until the job ends (either dialect).
- ``roma_private_emulator``: an emulator of the test's own, for a test that moves the virtual
  clock (the clock is global: moving a shared one moves every test's jobs).
- ``roma_expect``: expectations of what the namespace is asked
  (``roma_expect.import_(prefix="copy-").once()``), checked at its teardown; a failure lists the
  emulator's near misses.

A failing test that used ``roma_namespace`` gets the namespace's journal (summaries, refusals,
hints) as a section of its report, and with ``--roma-emulator-bundles DIR`` the namespace's repro
bundle is written to ``DIR/<test>.json`` (``roma-emulator --bundle`` replays it).

Options: ``--roma-emulator-url`` (env ``ROMA_EMULATOR_URL``), ``--roma-emulator-config`` (a TOML
file for the bundled binary), ``--roma-emulator-admin-token`` (when the emulator has one),
``--roma-emulator-bundles DIR``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

from ._control import ControlPlane, Namespace, RemoteEmulator
from ._expect import Expectations, journal_text
from ._process import RomaEmulator

_WORKER_KEY = "roma_emulator_url"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("roma-emulator")
    group.addoption("--roma-emulator-url", default=os.environ.get("ROMA_EMULATOR_URL"),
                    help="use the emulator running at this URL instead of starting the bundled binary "
                         "(default: $ROMA_EMULATOR_URL)")
    group.addoption("--roma-emulator-config", default=None,
                    help="the TOML config the bundled binary starts with")
    group.addoption("--roma-emulator-admin-token", default=None,
                    help="the emulator's [emulator] admin_token, for the control plane")
    group.addoption("--roma-emulator-bundles", default=None, metavar="DIR",
                    help="write the repro bundle of a failing test's namespace to DIR/<test>.json")


def _options(config: pytest.Config) -> tuple:
    return (config.getoption("roma_emulator_url"), config.getoption("roma_emulator_config"),
            config.getoption("roma_emulator_admin_token"))


class _XdistController:
    """With pytest-xdist, the controller starts one emulator and hands its URL to the workers."""

    def __init__(self, url: str) -> None:
        self.url = url

    def pytest_configure_node(self, node) -> None:  # an xdist hook
        node.workerinput[_WORKER_KEY] = self.url


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    url, cfg, token = _options(config)
    parallel = config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None)
    if parallel and not url:
        emulator = RomaEmulator(cfg, admin_token=token).start()
        config._roma_shared_emulator = emulator  # type: ignore[attr-defined]
        url = emulator.url
    if parallel:
        config.pluginmanager.register(_XdistController(url), "roma-emulator-xdist")


def pytest_unconfigure(config: pytest.Config) -> None:
    emulator = getattr(config, "_roma_shared_emulator", None)
    if emulator is not None:
        emulator.stop()


@pytest.fixture(scope="session")
def roma_emulator(pytestconfig: pytest.Config) -> Iterator[ControlPlane]:
    """The emulator this session's tests share (see the module documentation)."""
    url, cfg, token = _options(pytestconfig)
    shared = getattr(pytestconfig, "workerinput", {}).get(_WORKER_KEY) or url
    if shared:
        remote = RemoteEmulator(shared, admin_token=token)
        if not remote.health():
            pytest.fail(f"no roma-emulator answers at {shared}/_emulator/health", pytrace=False)
        yield remote
        return
    with RomaEmulator(cfg, admin_token=token) as emulator:
        yield emulator


@pytest.fixture
def roma_namespace(roma_emulator: ControlPlane) -> Iterator[Namespace]:
    """A fresh project, instance and user, dropped (scoped reset, user removed) at teardown."""
    ns = roma_emulator.new_namespace()
    try:
        yield ns
    finally:
        roma_emulator.drop_namespace(ns)


@pytest.fixture
def roma_expect(request: pytest.FixtureRequest, roma_emulator: ControlPlane,
                roma_namespace: Namespace) -> Iterator[Expectations]:
    """Expectations of what ``roma_namespace`` is asked, checked at teardown (see the module)."""
    expectations = Expectations(roma_emulator, roma_namespace.project_id)
    yield expectations
    failures = expectations.failures()
    if failures:
        # Torn down before the namespace: its evidence is taken now, for the teardown's report.
        request.node._roma_evidence = _evidence(request.node, roma_emulator, roma_namespace)
        pytest.fail("roma_expect:\n" + "\n".join(failures), pytrace=False)


def _evidence(item: pytest.Item, control: ControlPlane, ns: Namespace) -> list:
    """The report sections of a failing test's namespace: its journal, and its bundle's path when
    ``--roma-emulator-bundles`` asks for one."""
    sections = [("roma-emulator journal", journal_text(control, ns.project_id))]
    directory = item.config.getoption("roma_emulator_bundles")
    if directory:
        path = Path(directory) / (re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid) + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(control.bundle(ns.project_id)))
        sections.append(("roma-emulator bundle", f"{path} (replay: roma-emulator --config ... --bundle {path})"))
    return sections


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    if report.when == "call" and "roma_namespace" in funcargs and "roma_emulator" in funcargs:
        # The namespace is still there: its teardown comes after this report.
        try:
            report.sections.extend(_evidence(item, funcargs["roma_emulator"], funcargs["roma_namespace"]))
        except Exception as err:  # the evidence must never hide the failure itself
            report.sections.append(("roma-emulator journal", f"(could not be read: {err})"))
    elif report.when == "teardown":
        report.sections.extend(getattr(item, "_roma_evidence", []))


@pytest.fixture
def roma_client(roma_emulator: ControlPlane, roma_namespace: Namespace):
    """An official ``huaweicloudsdkroma`` client signed as ``roma_namespace``'s user."""
    return roma_emulator.roma_client(roma_namespace.project_id, roma_namespace.access_key,
                                     roma_namespace.secret_key)


@pytest.fixture
def wait_for_job(roma_emulator: ControlPlane) -> Callable[..., dict]:
    """``wait_for_job(job_id, timeout=30)``: the job (as the control plane shows it) once it has
    ended: Success/SUCCEEDED, Failed/FAILED or Finished."""
    def wait(job_id: str, timeout: float = 30.0) -> dict:
        return roma_emulator.wait_until_ended(job_id, timeout=timeout)
    return wait


@pytest.fixture
def roma_private_emulator(pytestconfig: pytest.Config) -> Iterator[RomaEmulator]:
    """An emulator of this test's own, started from the bundled binary with the session's config
    and a virtual clock, for a test that moves the clock."""
    _, cfg, token = _options(pytestconfig)
    with RomaEmulator(cfg, admin_token=token, clock_mode="virtual") as emulator:
        yield emulator
