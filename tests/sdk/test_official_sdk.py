"""The official Huawei Cloud Python SDK, unchanged, against the emulator binary.

Run by scripts/test.sh inside the venv it creates (.venv, with requirements.txt). The emulator
binary comes from ROMA_EMULATOR_BIN (scripts/test.sh builds it), else target/debug/roma-emulator.
"""

import io
import json
import pathlib
import tempfile
import time
import zipfile

import pytest
from conftest import control, emulator_with, iam_token
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, ConnectionException
from huaweicloudsdkcore.http.formdata import FormFile
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkroma.v2 import (
    AssetExportRequest,
    AssetExportRequestApps,
    AssetExportRequestTasks,
    AssetOperateRequest,
    CheckAssetJobStatusRequest,
    DeleteAssetRequest,
    DownloadAssetArchiveRequest,
    ExportAssetRequest,
    ImportAssetRequest,
    ImportAssetRequestBody,
    RomaClient,
)

AK = "HPUAEXAMPLEAK1234567"
SK = "ExampleSecretKey0123456789abcdefghijklmnop"
PROJECT = "0123456789abcdef0123456789abcdef"

CONFIG = f"""
[jobs]
duration_ms = 300

[catalog]
strict = true

[[auth.users]]
name = "sdk-user"
token = "sdk-user-static-token"
password = "sdk-user-password"
domain = "acme"
access_key = "{AK}"
secret_key = "{SK}"

[[auth.projects]]
id = "{PROJECT}"
name = "cn-north-4"

[[instances]]
id = "inst-a"
[[instances.apps]]
id = "app-1"
name = "orders"
content = {{ endpoint = "https://orders.example", retries = 3 }}
[[instances.tasks]]
id = "task-1"
name = "nightly-sync"

[[instances]]
id = "inst-b"
"""


@pytest.fixture(scope="module")
def emulator():
    with emulator_with(CONFIG) as url:
        yield url


def client(url, sk=SK):
    credentials = BasicCredentials(AK, sk, PROJECT)
    return RomaClient.new_builder().with_credentials(credentials).with_endpoints([url]).build()


def wait_until_ended(roma, instance, job_id):
    deadline = time.monotonic() + 10
    while True:
        job = roma.check_asset_job_status(CheckAssetJobStatusRequest(instance_id=instance, job_id=job_id))
        if job.status != "Running":
            return job
        assert time.monotonic() < deadline, f"job {job_id} still running after 10 s"
        time.sleep(0.05)


def selection(cls):
    return cls(apps=[AssetExportRequestApps(id="app-1")], tasks=[AssetExportRequestTasks(id="task-1")])


def token_client(url, scope):
    """A client that sends an IAM token of `scope` instead of its signature (the README's hook)."""
    token = iam_token(url, scope)

    def use_token(request, **_):
        request.header_params.pop("Authorization", None)
        request.header_params["X-Auth-Token"] = token

    return (RomaClient.new_builder()
            .with_credentials(BasicCredentials("unused-ak", "unused-sk", PROJECT))
            .with_endpoints([url])
            .with_http_handler(HttpHandler().add_request_handler(use_token))
            .build())


def test_the_whole_lifecycle_through_the_official_sdk(emulator):
    lifecycle(client(emulator))


def test_the_whole_lifecycle_with_a_project_scoped_iam_token(emulator):
    lifecycle(token_client(emulator, {"project": {"name": "cn-north-4"}}))


def test_a_domain_scoped_token_serves_no_asset_operation(emulator):
    roma = token_client(emulator, {"domain": {"name": "acme"}})
    with pytest.raises(ClientRequestException) as caught:
        roma.export_asset(ExportAssetRequest(instance_id="inst-a", body=selection(AssetExportRequest)))
    assert (caught.value.status_code, caught.value.error_code) == (403, "ROMA.1006")


def lifecycle(roma):
    """All five operations, in the order a client uses them."""
    exported = roma.export_asset(ExportAssetRequest(instance_id="inst-a", body=selection(AssetExportRequest)))
    assert len(exported.job_id) == 32
    job = wait_until_ended(roma, "inst-a", exported.job_id)
    assert (job.type, job.status, job.progress_percent) == ("exportAsset", "Success", 1.0)
    assert job.begin_time.endswith("Z") and job.end_time.endswith("Z")

    download = roma.download_asset_archive(DownloadAssetArchiveRequest(instance_id="inst-a", archive_id=job.archive_id))
    chunks = []
    download.consume_download_stream(lambda stream: chunks.append(stream.read() if hasattr(stream, "read") else stream.content))
    package = b"".join(chunks)
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        manifest = json.loads(z.read("manifest.json"))
    assert [a["id"] for a in manifest["assets"]] == ["app-1", "task-1"]
    assert roma.check_asset_job_status(CheckAssetJobStatusRequest(instance_id="inst-a", job_id=exported.job_id)).status == "Finished"

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "asset.zip"
        path.write_bytes(package)
        with open(path, "rb") as f:
            body = ImportAssetRequestBody(import_asset_request_body=FormFile(f))
            imported = roma.import_asset(ImportAssetRequest(instance_id="inst-b", body=body))
    job = wait_until_ended(roma, "inst-b", imported.job_id)
    assert (job.type, job.status) == ("importAsset", "Success"), job

    deleted = roma.delete_asset(DeleteAssetRequest(instance_id="inst-b", body=selection(AssetOperateRequest)))
    job = wait_until_ended(roma, "inst-b", deleted.job_id)
    assert (job.type, job.status) == ("deleteAsset", "Success"), job

    # Deleted from inst-b: a strict-catalog export of them now fails, with the SDK's `reasons`.
    again = roma.export_asset(ExportAssetRequest(instance_id="inst-b", body=selection(AssetExportRequest)))
    job = wait_until_ended(roma, "inst-b", again.job_id)
    assert job.status == "Failed"
    assert sorted(r.resource_name for r in job.reasons) == ["app-1", "task-1"]


def test_a_wrong_secret_key_raises_client_request_exception_with_our_code(emulator):
    with pytest.raises(ClientRequestException) as caught:
        client(emulator, sk="not-the-secret").export_asset(
            ExportAssetRequest(instance_id="inst-a", body=selection(AssetExportRequest))
        )
    e = caught.value
    assert e.status_code == 401, "the gateway's status, in every mode (D1)"
    assert e.error_code == "APIG.0301"
    assert "verify aksk signature fail" in e.error_msg, e.error_msg
    assert len(e.request_id) == 32, "the SDK reads X-Request-Id"


def test_roma_errors_reach_the_sdk_with_code_and_request_id(emulator):
    roma = client(emulator)
    with pytest.raises(ClientRequestException) as caught:
        roma.check_asset_job_status(CheckAssetJobStatusRequest(instance_id="inst-a", job_id="0" * 32))
    assert (caught.value.status_code, caught.value.error_code) == (404, "ROMA.00110006")
    assert len(caught.value.request_id) == 32


@pytest.mark.parametrize("effect", ["reset", "empty_response"])
def test_a_connection_closed_unanswered_reaches_the_sdk_as_a_connection_error(emulator, effect):
    fault = control(emulator, "POST", "/_emulator/faults", {"operation": "ExportAsset", effect: True})
    try:
        with pytest.raises(ConnectionException):
            client(emulator).export_asset(ExportAssetRequest(instance_id="inst-a", body=selection(AssetExportRequest)))
    finally:
        control(emulator, "DELETE", f"/_emulator/faults/{fault['id']}")
    journal = control(emulator, "GET", "/_emulator/requests?limit=1")
    assert journal["requests"][0]["wire_fault"] == effect, journal
