"""The installed wheel as a user meets it: the bundled binary, RomaEmulator's start and stop, its
errors. Run by scripts/test-python-package.sh in a fresh venv with no cargo on PATH."""

import os
import shutil
import sys
import subprocess

import pytest

import roma_emulator
from roma_emulator import EmulatorError, RomaEmulator, StartupError


def test_the_binary_comes_with_the_wheel_and_no_rust_is_needed():
    path = roma_emulator.binary()
    assert os.access(path, os.X_OK), path
    assert shutil.which("cargo") is None, "the suite runs with no cargo on PATH"
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    assert roma_emulator.__version__ in out, out


def test_a_failed_start_names_what_the_binary_said():
    with pytest.raises(StartupError) as caught:
        RomaEmulator(jobs_duration_msec=1).start()
    assert "ROMA_EMULATOR_JOBS_DURATION_MSEC" in str(caught.value)
    with pytest.raises(StartupError) as caught:
        RomaEmulator(config_text="[jobs]\nduration_ms = -1\n").start()
    assert "duration_ms" in str(caught.value)


def test_overrides_reach_the_binary_and_stop_is_graceful():
    emulator = RomaEmulator(jobs_progression="manual", emulator_admin_token="s3cret", admin_token="s3cret")
    with emulator:
        ns = emulator.new_namespace()
        client = emulator.roma_client(ns.project_id, ns.access_key, ns.secret_key)
        from huaweicloudsdkroma.v2 import AssetExportRequest, AssetExportRequestApps, ExportAssetRequest
        body = AssetExportRequest(apps=[AssetExportRequestApps(id="a")])
        job_id = client.export_asset(ExportAssetRequest(instance_id=ns.instance_id, body=body)).job_id
        assert emulator.job(job_id)["status"] == "Running", "manual progression"
        assert emulator.complete(job_id)["status"] == "Success"
        assert emulator.wait(job_id, status="SUCCEEDED")["id"] == job_id
        emulator.admin_token = "wrong"
        with pytest.raises(EmulatorError) as caught:
            emulator.jobs()
        assert caught.value.status == 401
        emulator.admin_token = "s3cret"
    assert emulator.stop() is None, "stopped once, by the with block"


def test_a_client_without_keys_signs_with_a_key_of_its_own():
    with RomaEmulator(jobs_duration_ms=0) as emulator:
        from huaweicloudsdkroma.v2 import AssetExportRequest, AssetExportRequestApps, ExportAssetRequest
        body = AssetExportRequest(apps=[AssetExportRequestApps(id="a")])
        for _ in range(2):  # two clients, two users: no one-Running-job clash
            client = emulator.roma_client("my-project")
            client.export_asset(ExportAssetRequest(instance_id="i", body=body))
        assert len({j["user"] for j in emulator.jobs()}) == 2


def test_xdist_workers_share_the_controllers_emulator(tmp_path):
    out = tmp_path / "urls"
    out.mkdir()
    (tmp_path / "test_shared.py").write_text(
        "def test_record(roma_emulator, worker_id):\n"
        f"    open(r'{out}/' + worker_id, 'w').write(roma_emulator.url)\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
                          "--dist", "each", str(tmp_path / "test_shared.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    urls = {p.name: p.read_text() for p in out.iterdir()}
    assert sorted(urls) == ["gw0", "gw1"], urls
    assert len(set(urls.values())) == 1, f"one emulator for both workers: {urls}"
