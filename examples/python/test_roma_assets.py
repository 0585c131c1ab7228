"""The module's tests: only the plugin's fixtures, no set-up of their own. They run in parallel
(pytest -n 2) against one shared emulator, or against a container (--roma-emulator-url)."""

import io
import json
import zipfile

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkroma.v2 import CheckAssetJobStatusRequest

import roma_assets


def test_apps_are_copied_between_instances(roma_client, roma_namespace, tmp_path):
    job = roma_assets.copy_apps(roma_client, roma_namespace.instance_id, "target", ["app-1", "app-2"], tmp_path)
    assert job.type == "importAsset"
    package = roma_assets.export_package(roma_client, "target", ["app-1"])
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        assert [a["id"] for a in json.loads(z.read("manifest.json"))["assets"]] == ["app-1"]


@pytest.mark.parametrize("round", range(4))
def test_parallel_tests_never_see_each_other(roma_client, roma_namespace, roma_emulator, tmp_path, round):
    # The same instance ids in every test, the default import mode (AddNew refuses assets that
    # exist): only a namespace of one's own (D18) keeps these from clashing under xdist.
    roma_assets.copy_apps(roma_client, roma_namespace.instance_id, "shared-target", ["app-1"], tmp_path)
    mine = roma_emulator.jobs(project_id=roma_namespace.project_id)
    assert len(mine) == 2 and {j["user"] for j in mine} == {roma_namespace.user}


def test_a_failed_job_reaches_the_caller(roma_client, roma_namespace, roma_emulator):
    roma_emulator.add_fault("ExportAsset", project_id=roma_namespace.project_id,
                            fail_job={"at_progress": 0.5}, times=1)
    with pytest.raises(roma_assets.CopyFailed) as caught:
        roma_assets.export_package(roma_client, roma_namespace.instance_id, ["app-1"])
    job = caught.value.args[0]
    assert job.status in ("Failed", "FAILED") and job.reasons


def test_an_unknown_job_is_a_client_request_exception(roma_client, roma_namespace):
    with pytest.raises(ClientRequestException) as caught:
        roma_client.check_asset_job_status(
            CheckAssetJobStatusRequest(instance_id=roma_namespace.instance_id, job_id="0" * 32))
    assert (caught.value.status_code, caught.value.error_code) == (404, "ROMA.00110006")
    assert len(caught.value.request_id) == 32


def test_a_job_waits_for_the_virtual_clock(roma_private_emulator):
    # Moving the clock moves every job of an emulator: this test has one of its own.
    ns = roma_private_emulator.new_namespace()
    client = roma_private_emulator.roma_client(ns.project_id, ns.access_key, ns.secret_key)
    from huaweicloudsdkroma.v2 import AssetExportRequest, AssetExportRequestApps, ExportAssetRequest
    body = AssetExportRequest(apps=[AssetExportRequestApps(id="app-1")])
    job_id = client.export_asset(ExportAssetRequest(instance_id=ns.instance_id, body=body)).job_id
    assert roma_private_emulator.job(job_id)["status"] == "Running"
    roma_private_emulator.advance_clock(60_000)
    assert roma_private_emulator.job(job_id)["status"] == "Success"
