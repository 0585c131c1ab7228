from huaweicloudsdkroma.v2 import AssetExportRequest, AssetExportRequestApps, ExportAssetRequest


def test_an_export_succeeds(roma_client, roma_namespace, wait_for_job):
    body = AssetExportRequest(apps=[AssetExportRequestApps(id="app-1")])
    request = ExportAssetRequest(instance_id=roma_namespace.instance_id, body=body)
    job_id = roma_client.export_asset(request).job_id
    assert wait_for_job(job_id)["status"] in ("Success", "SUCCEEDED")
