"""The installed wheel as a user meets it: the bundled binary, RomaEmulator's start and stop, its
errors. Run by scripts/test-python-package.sh in a fresh venv with no cargo on PATH."""

import json
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


EXPECTING = '''
from huaweicloudsdkroma.v2 import AssetExportRequest, AssetExportRequestApps, ExportAssetRequest

def export(client, ns, app):
    body = AssetExportRequest(apps=[AssetExportRequestApps(id=app)])
    client.export_asset(ExportAssetRequest(instance_id=ns.instance_id, body=body))

def test_an_expectation_that_holds(roma_client, roma_namespace, roma_expect):
    roma_expect.export(apps=["app-1"]).once()
    roma_expect.import_().never()
    export(roma_client, roma_namespace, "app-1")

def test_an_expectation_that_fails(roma_client, roma_namespace, roma_expect):
    roma_expect.export(apps=["app-1"]).once()
    export(roma_client, roma_namespace, "app-2")

def test_a_failing_call(roma_client, roma_namespace):
    export(roma_client, roma_namespace, "app-9")
    assert False, "the test's own failure"
'''


def test_roma_expect_passes_and_fails_as_written_and_a_failing_test_carries_the_journal(tmp_path):
    (tmp_path / "test_expecting.py").write_text(EXPECTING)
    bundles = tmp_path / "bundles"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"--roma-emulator-bundles={bundles}", str(tmp_path / "test_expecting.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "2 passed" in out and "1 failed" in out and "1 error" in out, out
    # The expectation's failure names the near miss and how it differs.
    assert 'expected ExportAsset(apps=[\'app-1\']) {\'eq\': 1}, matched 0' in out, out
    assert 'apps: expected ["app-1"], got ["app-2"]' in out, out
    # Both failing tests carry their namespace's journal, and their bundles were written.
    assert out.count("roma-emulator journal") == 2, out
    assert '"apps": ["app-9"]' in out, out
    written = sorted(p.name for p in bundles.iterdir())
    assert len(written) == 2 and all(name.endswith(".json") for name in written), written
    bundle = json.loads((bundles / written[0]).read_text())
    assert bundle["format"] == "roma-emulator-state" and bundle["bundle"]["project_id"], bundle
