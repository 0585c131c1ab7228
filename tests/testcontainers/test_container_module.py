"""roma_emulator.testcontainers.RomaEmulatorContainer, driven through a Docker-compatible API
(podman's, here). Run by scripts/test-python-package.sh with DOCKER_HOST set and ROMA_TEST_IMAGE
naming the image the container test built."""

import os

from huaweicloudsdkroma.v2 import AssetExportRequest, AssetExportRequestApps, ExportAssetRequest

from roma_emulator.testcontainers import RomaEmulatorContainer


def test_the_container_answers_the_sdk_and_the_control_plane():
    image = os.environ["ROMA_TEST_IMAGE"]
    with RomaEmulatorContainer(image, env={"ROMA_EMULATOR_JOBS_DURATION_MS": "0"}) as emu:
        assert emu.health()
        ns = emu.new_namespace()
        client = emu.roma_client(ns.project_id, ns.access_key, ns.secret_key)
        body = AssetExportRequest(apps=[AssetExportRequestApps(id="app-1")])
        job_id = client.export_asset(ExportAssetRequest(instance_id=ns.instance_id, body=body)).job_id
        assert emu.wait_until_ended(job_id)["status"] == "Success"
        emu.drop_namespace(ns)
        assert emu.jobs(project_id=ns.project_id) == []
