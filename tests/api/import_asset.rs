//! ImportAsset: multipart as the SDK sends it, options (D10), refusals, and the A→B round trip.

use std::io::{Cursor, Write};

use roma_emulator::config::{AssetConfig, Config, InstanceConfig};
use roma_emulator::jobs::archive;
use serde_json::json;

use crate::helpers::{TOKEN, TestApp, assert_job_created, assert_roma_error, spawn_app_with};

const BOTH: &str = r#"{"apps": [{"id": "app-1"}, {"id": "app-2"}], "tasks": [{"id": "task-1"}]}"#;

/// Instance A holds two apps and a task; B and C exist, empty. Strict catalog, jobs end at once.
fn two_instances(c: &mut Config) {
    c.jobs.duration_ms = 0;
    c.catalog.strict = true;
    let asset = |id: &str, name: &str, content| AssetConfig {
        id: id.into(),
        name: name.into(),
        content,
        ..Default::default()
    };
    c.instances = vec![
        InstanceConfig {
            id: "A".into(),
            project: None,
            apps: vec![
                asset(
                    "app-1",
                    "orders",
                    json!({"endpoint": "https://orders.invalid", "retries": 3}),
                ),
                asset("app-2", "billing", json!(["x", 1, null])),
            ],
            tasks: vec![asset("task-1", "nightly", json!({"cron": "0 3 * * *"}))],
        },
        InstanceConfig {
            id: "B".into(),
            project: None,
            ..Default::default()
        },
        InstanceConfig {
            id: "C".into(),
            project: None,
            ..Default::default()
        },
    ];
}

async fn job_status(app: &TestApp, instance: &str, res: reqwest::Response) -> serde_json::Value {
    let id = assert_job_created(res).await;
    app.job_json(TOKEN, "p1", instance, &id).await
}

#[tokio::test]
async fn an_export_from_a_imported_into_b_exports_the_same_assets_from_b() {
    let app = spawn_app_with(two_instances).await;
    let from_a = app.export_and_download(TOKEN, "A", BOTH).await;

    let status = job_status(
        &app,
        "B",
        app.import(
            TOKEN,
            "B",
            "",
            "ImportAssetRequestBody",
            "asset.zip",
            from_a.clone(),
        )
        .await,
    )
    .await;
    assert_eq!(status["status"], "Success", "{status}");
    assert_eq!(status["type"], "importAsset");

    let from_b = app.export_and_download(TOKEN, "B", BOTH).await;
    let (a, b) = (
        archive::parse(&from_a).expect("A"),
        archive::parse(&from_b).expect("B"),
    );
    assert_eq!(a.assets, b.assets, "the same assets, names and contents");
    assert_eq!(&*b.source.instance_id, "B");
    assert_eq!(a.assets.len(), 3);
}

#[tokio::test]
async fn add_new_refuses_existing_assets_merge_replaces_and_prefix_renames_apps() {
    let app = spawn_app_with(two_instances).await;
    let pkg = app.export_and_download(TOKEN, "A", BOTH).await;
    let into = |query: &'static str| app.import(TOKEN, "C", query, "file", "asset.zip", pkg.clone());

    assert_eq!(
        job_status(&app, "C", into("?type=AddNew&prefix=copy-").await).await["status"],
        "Success"
    );
    let again = job_status(&app, "C", into("").await).await;
    assert_eq!(again["status"], "Failed", "AddNew over existing ids: {again}");
    assert_eq!(again["reasons"].as_array().map(Vec::len), Some(3));
    assert_eq!(again["reasons"][0]["error_code"], "ROMA.10010");
    assert_eq!(
        job_status(&app, "C", into("?mode=Merge&datasource_overwrite=true").await).await["status"],
        "Success"
    );

    let c = archive::parse(&app.export_and_download(TOKEN, "C", BOTH).await).expect("C");
    assert_eq!(
        c.assets[0].1.name, "orders",
        "Merge without prefix replaced copy-orders"
    );
    let pkg2 = app
        .export_and_download(TOKEN, "A", r#"{"apps": "billing"}"#)
        .await;
    let prefixed = app
        .import(TOKEN, "B", "?type=Merge&prefix=dev_", "file", "a.zip", pkg2)
        .await;
    assert_eq!(job_status(&app, "B", prefixed).await["status"], "Success");
    let b = archive::parse(
        &app.export_and_download(TOKEN, "B", r#"{"apps": "dev_billing"}"#)
            .await,
    )
    .expect("B");
    assert_eq!(b.assets[0].1.id, "app-2", "found by its prefixed name");
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

#[tokio::test]
async fn bad_uploads_are_refused_with_clear_codes() {
    let app = spawn_app_with(|c| {
        two_instances(c);
        c.server.max_body_bytes = 64 * 1024;
    })
    .await;
    let escaping = zip_of(&[
        ("manifest.json", br#"{"format":"roma-emulator-asset-package","version":1,"source":{"project_id":"p","instance_id":"i"},"exported_at":"t","job_id":"j","assets":[]}"#),
        ("../../etc/passwd", b"x"),
    ]);
    // (part, file name, bytes, status, code, what)
    type Case = (
        &'static str,
        &'static str,
        Vec<u8>,
        u16,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "ImportAssetRequestBody",
            "asset.zip",
            b"this is not a zip".to_vec(),
            403,
            "ROMA.10011",
            "not a zip",
        ),
        (
            "ImportAssetRequestBody",
            "asset.zip",
            Vec::new(),
            403,
            "ROMA.10011",
            "empty file",
        ),
        (
            "ImportAssetRequestBody",
            "asset.tar",
            zip_of(&[("a", b"b")]),
            403,
            "ROMA.10013",
            "wrong extension",
        ),
        (
            "ImportAssetRequestBody",
            "-asset.zip",
            zip_of(&[("a", b"b")]),
            403,
            "ROMA.10013",
            "starts with -",
        ),
        (
            "ImportAssetRequestBody",
            "my asset.zip",
            zip_of(&[("a", b"b")]),
            403,
            "ROMA.10013",
            "space",
        ),
        (
            "ImportAssetRequestBody",
            "asset.zip",
            zip_of(&[("readme.txt", b"hi")]),
            403,
            "ROMA.13000",
            "no manifest",
        ),
        (
            "ImportAssetRequestBody",
            "asset.zip",
            escaping,
            403,
            "ROMA.13000",
            "entry escapes",
        ),
        (
            "other",
            "asset.zip",
            zip_of(&[("a", b"b")]),
            403,
            "ROMA.13001",
            "no ImportAssetRequestBody part",
        ),
        (
            "ImportAssetRequestBody",
            "asset.zip",
            vec![7u8; 128 * 1024],
            413,
            "APIG.0201",
            "oversize",
        ),
    ];
    for (part, name, bytes, status, code, what) in cases {
        let res = app.import(TOKEN, "B", "", part, name, bytes).await;
        let err = assert_roma_error(res, status, code).await;
        eprintln!("{what}: {}", err["error_details"]);
    }
    let bad_option = app
        .import(
            TOKEN,
            "B",
            "?type=Replace",
            "file",
            "a.zip",
            zip_of(&[("a", b"b")]),
        )
        .await;
    assert_roma_error(bad_option, 403, "ROMA.13000").await;
    let not_multipart = app
        .client
        .post(app.url("/v2/p1/instances/B/assets/import"))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_roma_error(not_multipart, 403, "ROMA.13000").await;
    let pkg = archive::build(&archive::parse(&app.export_and_download(TOKEN, "A", BOTH).await).expect("pkg"))
        .expect("zip");
    let unknown = app.import(TOKEN, "Z", "", "file", "a.zip", pkg).await;
    assert_roma_error(unknown, 404, "ROMA.00110002").await;
}

/// D18: an instance belongs to its project, catalog included: the same instance id under two
/// projects holds two sets of assets, and a project's reset clears its catalog only.
#[tokio::test]
async fn the_same_instance_under_two_projects_holds_two_catalogs() {
    let app = spawn_app_with(two_instances).await;
    let package = app.export_and_download(TOKEN, "A", BOTH).await;
    for project in ["p1", "p2"] {
        let res = app
            .import_in(
                TOKEN,
                project,
                "B",
                "",
                "ImportAssetRequestBody",
                "a.zip",
                package.clone(),
            )
            .await;
        let id = assert_job_created(res).await;
        let status = app.job_json(TOKEN, project, "B", &id).await;
        assert_eq!(status["status"], "Success", "AddNew into {project}/B: {status}");
    }
    let (code, _) = app
        .control_post("/_emulator/reset?project_id=p2", serde_json::Value::Null)
        .await;
    assert_eq!(code, 200);
    let export_from = |project: &'static str| {
        let app = &app;
        async move {
            let id = assert_job_created(app.export(TOKEN, project, "B", BOTH).await).await;
            app.job_json(TOKEN, project, "B", &id).await["status"].clone()
        }
    };
    assert_eq!(export_from("p1").await, "Success", "p1/B keeps its import");
    assert_eq!(
        export_from("p2").await,
        "Failed",
        "p2's reset cleared p2/B's catalog (strict: the assets are missing)"
    );
}
