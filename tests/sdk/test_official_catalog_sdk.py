"""The cloud's catalog operations through the official SDKs, unchanged (#29): ROMA applications,
instances and FDI tasks (huaweicloudsdkroma), IAM projects and token validation (huaweicloudsdkiam),
each AK/SK-signed and with an IAM token; and a migration test that uses the cloud's API only."""

import json
import time

import pytest
from conftest import emulator_with, iam_token
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.formdata import FormFile
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkiam.v3 import (
    IamClient,
    KeystoneListAuthProjectsRequest,
    KeystoneListProjectsRequest,
    KeystoneValidateTokenRequest,
)
from huaweicloudsdkroma.v2 import (
    AssetExportRequest,
    AssetExportRequestApps,
    CheckAssetJobStatusRequest,
    CheckRomaAppDetailsRequest,
    CheckRomaInstanceListV2Request,
    CreateAppReq,
    CreateRomaAppRequest,
    DeleteRomaAppRequest,
    DeleteTaskRequest,
    DownloadAssetArchiveRequest,
    ExportAssetRequest,
    ImportAssetRequest,
    ImportAssetRequestBody,
    ListRomaAppRequest,
    ListTasksRequest,
    RomaClient,
    ShowTaskRequest,
    UpdateAppReq,
    UpdateRomaAppRequest,
    ValidateRomaAppRequest,
)

AK = "HPUAEXAMPLEAK1234567"
SK = "ExampleSecretKey0123456789abcdefghijklmnop"
PROJECT = "0123456789abcdef0123456789abcdef"
REGION = "ae-ad-1"

CONFIG = f"""
[jobs]
duration_ms = 200

[catalog]
strict = true

[[auth.users]]
name = "sdk-user"
password = "sdk-user-password"
domain = "acme"
access_key = "{AK}"
secret_key = "{SK}"

[[auth.projects]]
id = "{PROJECT}"
name = "{REGION}"

[[instances]]
id = "source"
project = "{PROJECT}"
[[instances.tasks]]
id = "task-1"
name = "nightly-sync"
content = {{ cron = "0 0 * * *" }}
[[instances.tasks]]
id = "task-2"
name = "weekly-report"

[[instances]]
id = "target"
project = "{PROJECT}"
"""


@pytest.fixture(scope="module")
def emulator():
    with emulator_with(CONFIG) as url:
        yield url


def token_handler(token):
    def use_token(request, **_):
        request.header_params.pop("Authorization", None)
        request.header_params["X-Auth-Token"] = token
    return HttpHandler().add_request_handler(use_token)


def roma_signed(url):
    return RomaClient.new_builder().with_credentials(BasicCredentials(AK, SK, PROJECT)).with_endpoints([url]).build()


def roma_by_token(url):
    token = iam_token(url, {"project": {"id": PROJECT}})
    return (RomaClient.new_builder().with_credentials(BasicCredentials("unused-ak", "unused-sk", PROJECT))
            .with_endpoints([url]).with_http_handler(token_handler(token)).build())


def iam_signed(url):
    credentials = GlobalCredentials(AK, SK, "acme-domain-id")
    return IamClient.new_builder().with_credentials(credentials).with_endpoints([url]).build()


def iam_by_token(url):
    token = iam_token(url, {"domain": {"name": "acme"}})
    credentials = GlobalCredentials("unused-ak", "unused-sk", "acme-domain-id")
    return (IamClient.new_builder().with_credentials(credentials).with_endpoints([url])
            .with_http_handler(token_handler(token)).build())


@pytest.mark.parametrize("make", [roma_signed, roma_by_token], ids=["aksk", "token"])
def test_applications_through_the_roma_sdk(emulator, make):
    roma = make(emulator)
    name = f"orders-{make.__name__}"
    made = roma.create_roma_app(CreateRomaAppRequest(
        instance_id="source", body=CreateAppReq(name=name, remark="to move", key=f"{name}-key")))
    assert (made.name, made.remark, made.key, made.owner) == (name, "to move", f"{name}-key", True)
    assert len(made.id) == 36 and made.create_time.endswith("Z")
    assert made.created_user.user_name == "sdk-user"

    listed = roma.list_roma_app(ListRomaAppRequest(instance_id="source", name=name))
    assert (listed.total, listed.size, [a.id for a in listed.apps]) == (1, 1, [made.id])
    details = roma.check_roma_app_details(CheckRomaAppDetailsRequest(instance_id="source", app_id=made.id))
    assert details.to_json_object() == made.to_json_object()
    changed = roma.update_roma_app(UpdateRomaAppRequest(
        instance_id="source", app_id=made.id, body=UpdateAppReq(name=name, remark="changed", favorite=True)))
    assert (changed.remark, changed.favorite) == ("changed", True)
    found = roma.validate_roma_app(ValidateRomaAppRequest(instance_id="source", key=f"{name}-key"))
    assert (found.id, found.name, found.remark) == (made.id, name, "changed")

    with pytest.raises(ClientRequestException) as caught:
        roma.create_roma_app(CreateRomaAppRequest(instance_id="source", body=CreateAppReq(name=name)))
    assert (caught.value.status_code, caught.value.error_code) == (403, "ROMA.13000")

    roma.delete_roma_app(DeleteRomaAppRequest(instance_id="source", app_id=made.id))
    with pytest.raises(ClientRequestException) as caught:
        roma.check_roma_app_details(CheckRomaAppDetailsRequest(instance_id="source", app_id=made.id))
    assert (caught.value.status_code, caught.value.error_code) == (404, "ROMA.00110006")


@pytest.mark.parametrize("make", [roma_signed, roma_by_token], ids=["aksk", "token"])
def test_instances_and_tasks_through_the_roma_sdk(emulator, make):
    roma = make(emulator)
    instances = roma.check_roma_instance_list_v2(CheckRomaInstanceListV2Request())
    assert [i.id for i in instances.instances] == ["source", "target"]
    assert {(i.status, i.project_id) for i in instances.instances} == {("RUNNING", PROJECT)}
    assert instances.total == 2

    tasks = roma.list_tasks(ListTasksRequest(instance_id="source", name="nightly"))
    assert [(t.task_id, t.task_name) for t in tasks.entities] == [("task-1", "nightly-sync")]
    shown = roma.show_task(ShowTaskRequest(instance_id="source", task_id="task-1"))
    assert shown.task.task_name == "nightly-sync"
    assert json.loads(shown.task_detail) == {"cron": "0 0 * * *"}
    with pytest.raises(ClientRequestException) as caught:
        roma.show_task(ShowTaskRequest(instance_id="nowhere", task_id="task-1"))
    assert (caught.value.status_code, caught.value.error_code) == (404, "ROMA.00110002")


def test_deleting_a_task_through_the_roma_sdk(emulator):
    roma = roma_signed(emulator)
    roma.delete_task(DeleteTaskRequest(instance_id="source", task_id="task-2"))
    left = roma.list_tasks(ListTasksRequest(instance_id="source"))
    assert [t.task_id for t in left.entities] == ["task-1"]
    with pytest.raises(ClientRequestException) as caught:
        roma.delete_task(DeleteTaskRequest(instance_id="target", task_id="no-such-task"))
    assert (caught.value.status_code, caught.value.error_code) == (404, "ROMA.00110006")


@pytest.mark.parametrize("make", [iam_signed, iam_by_token], ids=["aksk", "token"])
def test_projects_through_the_iam_sdk(emulator, make):
    iam = make(emulator)
    projects = iam.keystone_list_projects(KeystoneListProjectsRequest(name=REGION))
    assert [(p.id, p.name, p.enabled) for p in projects.projects] == [(PROJECT, REGION, True)]
    assert projects.projects[0].links._self.endswith(f"/v3/projects/{PROJECT}")
    mine = iam.keystone_list_auth_projects(KeystoneListAuthProjectsRequest())
    assert [p.id for p in mine.projects] == [PROJECT]


@pytest.mark.parametrize("make", [iam_signed, iam_by_token], ids=["aksk", "token"])
def test_token_validation_through_the_iam_sdk(emulator, make):
    iam = make(emulator)
    subject = iam_token(emulator, {"project": {"id": PROJECT}})
    valid = iam.keystone_validate_token(KeystoneValidateTokenRequest(x_subject_token=subject, nocatalog="true"))
    assert valid.x_subject_token == subject
    assert (valid.token.user.name, valid.token.project.id) == ("sdk-user", PROJECT)
    assert valid.token.catalog is None
    with pytest.raises(ClientRequestException) as caught:
        iam.keystone_validate_token(KeystoneValidateTokenRequest(x_subject_token="MIIEMUforged.token"))
    assert caught.value.status_code == 404


def wait_until_ended(roma, instance, job_id):
    deadline = time.monotonic() + 10
    while True:
        job = roma.check_asset_job_status(CheckAssetJobStatusRequest(instance_id=instance, job_id=job_id))
        if job.status != "Running":
            return job
        assert time.monotonic() < deadline, f"job {job_id} still running after 10 s"
        time.sleep(0.05)


def test_a_migration_through_the_cloud_api_only(emulator, tmp_path):
    """Find the project by its region's name, the instances, make and find the applications,
    export them, import the package into the other instance, check and clean up what it made:
    every call is the cloud's, none is /_emulator."""
    credentials = BasicCredentials(AK, SK).with_iam_endpoint(emulator)  # no project id: IAM finds it
    roma = RomaClient.new_builder().with_credentials(credentials).with_region(Region(REGION, emulator)).build()

    ids = [i.id for i in roma.check_roma_instance_list_v2(CheckRomaInstanceListV2Request()).instances]
    assert {"source", "target"} <= set(ids)
    apps = [roma.create_roma_app(CreateRomaAppRequest(instance_id="source", body=CreateAppReq(name=n)))
            for n in ("mig-orders", "mig-billing")]
    assert roma.validate_roma_app(ValidateRomaAppRequest(instance_id="source", name="mig-orders")).id == apps[0].id

    body = AssetExportRequest(apps=[AssetExportRequestApps(id=a.id) for a in apps])
    job = wait_until_ended(roma, "source", roma.export_asset(ExportAssetRequest(instance_id="source", body=body)).job_id)
    assert job.status == "Success", job
    download = roma.download_asset_archive(DownloadAssetArchiveRequest(instance_id="source", archive_id=job.archive_id))
    chunks = []
    download.consume_download_stream(lambda s: chunks.append(s.read() if hasattr(s, "read") else s.content))
    package = tmp_path / "migration.zip"
    package.write_bytes(b"".join(chunks))
    with open(package, "rb") as f:
        imported = roma.import_asset(ImportAssetRequest(
            instance_id="target", body=ImportAssetRequestBody(import_asset_request_body=FormFile(f))))
    assert wait_until_ended(roma, "target", imported.job_id).status == "Success"

    made = roma.list_roma_app(ListRomaAppRequest(instance_id="target", name="mig-"))
    assert sorted(a.name for a in made.apps) == ["mig-billing", "mig-orders"]
    assert roma.check_roma_app_details(CheckRomaAppDetailsRequest(instance_id="target", app_id=apps[0].id)).name == "mig-orders"
    for a in made.apps:
        roma.delete_roma_app(DeleteRomaAppRequest(instance_id="target", app_id=a.id))
    assert roma.list_roma_app(ListRomaAppRequest(instance_id="target", name="mig-")).total == 0
