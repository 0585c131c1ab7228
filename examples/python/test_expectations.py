import roma_assets


def test_a_copy_exports_once_and_imports_once(roma_client, roma_namespace, roma_expect, tmp_path):
    roma_expect.export(apps=["app-1", "app-2"]).once()
    roma_expect.download().once()
    roma_expect.import_(instance_id="copy-target", type="AddNew").once()
    roma_expect.delete().never()
    roma_assets.copy_apps(roma_client, roma_namespace.instance_id, "copy-target", ["app-1", "app-2"], tmp_path)
