"""Typed helpers for the emulator's control plane (``/_emulator``), shared by every way of running it."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Optional

class EmulatorError(Exception):
    """A control-plane request was refused; carries the status and the ROMA error body."""

    def __init__(self, status: int, body: Any, what: str) -> None:
        self.status = status
        self.body = body
        code = body.get("error_code") if isinstance(body, dict) else None
        super().__init__(f"{what}: HTTP {status} {code or ''} {body}".strip())


@dataclass(frozen=True)
class Namespace:
    """A project and instance of one's own, with a user of one's own that signs with AK/SK."""

    project_id: str
    instance_id: str
    access_key: str
    secret_key: str
    user: str


class ControlPlane:
    """The control-plane helpers. Subclasses set ``url`` (the base URL) and may set ``admin_token``."""

    url: str
    admin_token: Optional[str] = None

    @property
    def endpoint(self) -> str:
        """The endpoint to give an SDK client (the base URL)."""
        return self.url

    def _request(self, method: str, path: str, body: Any = None, query: Optional[dict] = None,
                 timeout: float = 30) -> Any:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                text = res.read()
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise EmulatorError(err.code, parsed, f"{method} {path}") from None
        return json.loads(text) if text else None

    def health(self) -> bool:
        """Whether ``GET /_emulator/health`` answers 200."""
        try:
            self._request("GET", "/_emulator/health", timeout=3)
            return True
        except (OSError, EmulatorError):
            return False

    def reset(self, project: Optional[str] = None, instance: Optional[str] = None) -> None:
        """Resets everything, or (with ``project`` and/or ``instance``) one namespace only: its jobs,
        archives, assets, journal entries and faults."""
        self._request("POST", "/_emulator/reset", query={"project_id": project, "instance_id": instance})

    def jobs(self, **filters: Any) -> list:
        """Every job the filters select, oldest first (read a page of up to 1000 at a time); filters:
        ``user``, ``project_id``, ``instance_id``, ``type``, ``status``."""
        jobs: list = []
        cursor = None
        while True:
            page = self._request("GET", "/_emulator/jobs", query={**filters, "limit": 1000, "cursor": cursor})
            jobs.extend(page["jobs"])
            cursor = page["next_cursor"]
            if cursor is None:
                return jobs

    def job(self, job_id: str) -> dict:
        """Any user's job, by id."""
        return self._request("GET", f"/_emulator/jobs/{job_id}")

    def wait(self, job_id: str, status: Optional[str] = None, timeout_ms: int = 5000) -> dict:
        """The job once it has ``status`` (either dialect; ``None``: once it ends). Raises
        :class:`EmulatorError` (408) when it does not get there in ``timeout_ms``."""
        query = {"status": status, "timeout_ms": timeout_ms}
        return self._request("GET", f"/_emulator/jobs/{job_id}/wait", query=query,
                             timeout=timeout_ms / 1000 + 10)

    def wait_until_ended(self, job_id: str, timeout: float = 30.0) -> dict:
        """The job once it has ended (Success/SUCCEEDED, Failed/FAILED or Finished), through the
        control plane's long-poll wait, at most a second a request (an emulator whose
        ``server.request_timeout_ms`` is shorter than that is polled instead)."""
        deadline = time.monotonic() + timeout
        long_poll = True
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                job = self.job(job_id)
                raise TimeoutError(f"job {job_id} is still {job.get('status')} after {timeout} s")
            if not long_poll:
                job = self.job(job_id)
                if job.get("status") not in ("Running", "RUNNING"):
                    return job
                time.sleep(0.05)
                continue
            try:
                return self.wait(job_id, timeout_ms=min(left_ms, 1000))
            except EmulatorError as err:
                if err.status == 400:  # timeout_ms over the emulator's request timeout
                    long_poll = False
                elif err.status != 408:
                    raise

    def complete(self, job_id: str) -> dict:
        """Ends a Running job successfully (manual progression)."""
        return self._request("POST", f"/_emulator/jobs/{job_id}/complete")

    def fail(self, job_id: str, reasons: Optional[list] = None) -> dict:
        """Fails a Running job, with optional reasons."""
        return self._request("POST", f"/_emulator/jobs/{job_id}/fail",
                             body={"reasons": reasons} if reasons else None)

    def clock(self) -> dict:
        """``{"now", "mode"}``."""
        return self._request("GET", "/_emulator/clock")

    def advance_clock(self, ms: int) -> dict:
        """Moves a virtual clock forward. The clock is global: it moves every test's jobs."""
        return self._request("POST", "/_emulator/clock", body={"advance_ms": ms})

    def add_fault(self, operation: str, **fields: Any) -> dict:
        """Adds a fault rule for ``operation`` (e.g. ``error_code="ROMA.00000101"``, ``status=500``,
        ``times=1``, ``delay_ms=...``, ``project_id=...``); returns it with its ``id``."""
        return self._request("POST", "/_emulator/faults", body={"operation": operation, **fields})

    def clear_faults(self) -> None:
        """Removes every fault rule."""
        self._request("DELETE", "/_emulator/faults")

    def requests(self, limit: Optional[int] = None, **filters: Any) -> list:
        """The request journal, newest first: all of it, or the newest ``limit`` entries (read a page
        of up to 1000 at a time); filters: ``user``, ``project_id``, ``instance_id``, ``status``."""
        entries: list = []
        offset = 0
        while limit is None or len(entries) < limit:
            size = 1000 if limit is None else min(1000, limit - len(entries))
            page = self._request("GET", "/_emulator/requests", query={**filters, "limit": size, "offset": offset})
            entries.extend(page["requests"])
            if page["next_offset"] is None:
                break
            offset = page["next_offset"]
        return entries

    def verify(self, project_id: str, operation: str, where: Optional[dict] = None,
               count: Optional[dict] = None, instance_id: Optional[str] = None) -> dict:
        """``POST /_emulator/verify``: ``{"matched": N}`` when the count holds (``count`` like
        ``{"eq": 1}``, ``{"min": 1}``; default at least one), else also ``near_misses``, the nearest
        requests of the namespace with their ``differences``. Adds ``holds``."""
        body = {"project_id": project_id, "operation": operation, "where": where or {}}
        if instance_id is not None:
            body["instance_id"] = instance_id
        if count is not None:
            body["count"] = count
        try:
            verdict = self._request("POST", "/_emulator/verify", body=body)
            return {**verdict, "holds": True}
        except EmulatorError as err:
            if err.status == 409 and isinstance(err.body, dict) and "matched" in err.body:
                return {**err.body, "holds": False}
            raise

    def unmatched(self, project_id: Optional[str] = None, instance_id: Optional[str] = None,
                  limit: Optional[int] = None) -> list:
        """The newest requests no route answered, each with its ``hint``."""
        query = {"project_id": project_id, "instance_id": instance_id, "limit": limit}
        return self._request("GET", "/_emulator/requests/unmatched", query=query)["requests"]

    def report(self, project_id: str, instance_id: Optional[str] = None,
               max_polls_after_end: Optional[int] = None) -> dict:
        """``GET /_emulator/verify/report``: the namespace's built-in expectations and ``clean``."""
        query = {"project_id": project_id, "instance_id": instance_id,
                 "max_polls_after_end": max_polls_after_end}
        return self._request("GET", "/_emulator/verify/report", query=query)

    def bundle(self, project_id: str, instance_id: Optional[str] = None) -> dict:
        """``GET /_emulator/bundle``: the repro bundle of one namespace (``roma-emulator --bundle``
        starts with it)."""
        return self._request("GET", "/_emulator/bundle",
                             query={"project_id": project_id, "instance_id": instance_id})

    def add_user(self, name: str, *, access_key: Optional[str] = None, secret_key: Optional[str] = None,
                 token: Optional[str] = None, projects: Optional[list] = None) -> dict:
        """Adds a user at run time (kept until removed or a full reset)."""
        body = {"name": name, "access_key": access_key, "secret_key": secret_key,
                "token": token, "projects": projects}
        return self._request("POST", "/_emulator/users", body={k: v for k, v in body.items() if v is not None})

    def remove_user(self, name: str) -> None:
        """Removes a user added at run time."""
        self._request("DELETE", f"/_emulator/users/{urllib.parse.quote(name, safe='')}")

    def new_namespace(self) -> Namespace:
        """A fresh project and instance with a user of their own (added through the control plane, so
        it works in strict mode too). Undo it with :meth:`drop_namespace`."""
        tag = secrets.token_hex(16)
        ns = Namespace(project_id=tag, instance_id=f"instance-{tag[:12]}",
                       access_key=f"AK-{tag[:20].upper()}", secret_key=secrets.token_hex(20),
                       user=f"pytest-{tag[:12]}")
        self.add_user(ns.user, access_key=ns.access_key, secret_key=ns.secret_key)
        return ns

    def drop_namespace(self, ns: Namespace) -> None:
        """Resets the namespace's project and removes its user."""
        self.reset(project=ns.project_id)
        try:
            self.remove_user(ns.user)
        except EmulatorError as err:
            if err.status != 404:
                raise

    def roma_client(self, project_id: str, access_key: Optional[str] = None,
                    secret_key: Optional[str] = None):
        """An official ``huaweicloudsdkroma`` ``RomaClient`` signed with AK/SK and pointed at the
        emulator. Without keys, a fresh access key signs with itself as the secret key, which the
        emulator's open mode accepts as a user of its own (D19). Needs ``pip install
        roma-emulator[sdk]``."""
        try:
            from huaweicloudsdkcore.auth.credentials import BasicCredentials
            from huaweicloudsdkroma.v2 import RomaClient
        except ImportError as err:
            raise ImportError(
                "roma_client needs the official SDK: pip install 'roma-emulator[sdk]' "
                "(huaweicloudsdkroma)") from err
        if access_key is None:
            access_key = secret_key = f"AK-{secrets.token_hex(10).upper()}"
        credentials = BasicCredentials(access_key, secret_key, project_id)
        return RomaClient.new_builder().with_credentials(credentials).with_endpoints([self.url]).build()


class RemoteEmulator(ControlPlane):
    """An emulator that runs elsewhere (a container, a shared stub), reached at ``url``."""

    def __init__(self, url: str, admin_token: Optional[str] = None) -> None:
        self.url = url.rstrip("/")
        self.admin_token = admin_token

    def __repr__(self) -> str:
        return f"RemoteEmulator({self.url!r})"
