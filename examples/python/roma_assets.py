"""A small module under test: it copies ROMA assets from one instance to another through the official
SDK, the way an integration does (export, poll, download once, import)."""

import time

from huaweicloudsdkcore.http.formdata import FormFile
from huaweicloudsdkroma.v2 import (
    AssetExportRequest,
    AssetExportRequestApps,
    CheckAssetJobStatusRequest,
    DownloadAssetArchiveRequest,
    ExportAssetRequest,
    ImportAssetRequest,
    ImportAssetRequestBody,
)

ENDED = {"Success", "SUCCEEDED", "Failed", "FAILED", "Finished"}


class CopyFailed(Exception):
    """A job of the copy ended Failed; carries the job."""


def wait(client, instance_id, job_id, timeout=30.0):
    """Polls CheckAssetJobStatus until the job ends; either status spelling."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.check_asset_job_status(CheckAssetJobStatusRequest(instance_id=instance_id, job_id=job_id))
        if job.status in ENDED:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.status}")
        time.sleep(0.1)


def export_package(client, instance_id, app_ids):
    """Exports the apps and downloads the asset package (once: a second download is 404)."""
    body = AssetExportRequest(apps=[AssetExportRequestApps(id=a) for a in app_ids])
    job = wait(client, instance_id, client.export_asset(ExportAssetRequest(instance_id=instance_id, body=body)).job_id)
    if job.status not in ("Success", "SUCCEEDED"):
        raise CopyFailed(job)
    download = client.download_asset_archive(
        DownloadAssetArchiveRequest(instance_id=instance_id, archive_id=job.archive_id))
    chunks = []
    download.consume_download_stream(lambda s: chunks.append(s.read() if hasattr(s, "read") else s.content))
    return b"".join(chunks)


def import_package(client, instance_id, path):
    """Imports the package at `path` (a multipart upload with FormFile); returns the ended job."""
    with open(path, "rb") as f:
        body = ImportAssetRequestBody(import_asset_request_body=FormFile(f))
        created = client.import_asset(ImportAssetRequest(instance_id=instance_id, body=body))
    job = wait(client, instance_id, created.job_id)
    if job.status not in ("Success", "SUCCEEDED"):
        raise CopyFailed(job)
    return job


def copy_apps(client, source, target, app_ids, workdir):
    """Copies the apps from instance `source` to instance `target`; returns the import job."""
    path = workdir / "package.zip"
    path.write_bytes(export_package(client, source, app_ids))
    return import_package(client, target, path)
