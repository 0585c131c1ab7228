//! The bytes of an asset package are a contract: a package downloaded today imports into a later
//! version, and a test suite may keep one as a fixture. These tests pin every byte of two packages
//! (seeded ids, a set virtual clock) against files made before the hot path was optimised:
//! placeholders, configured assets with escapes, and imported content, which comes back verbatim.
//! `ROMA_EMULATOR_BLESS=1` rewrites the files (only for a deliberate change of the format).

use std::sync::Arc;

use roma_emulator::config::{AssetConfig, ClockMode, InstanceConfig};
use roma_emulator::jobs::archive::{self, Package, Source};
use roma_emulator::jobs::{Asset, Content, ResourceType};
use serde_json::json;

use crate::helpers::{TOKEN, TestApp, spawn_app_with};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/archives");

async fn seeded_app() -> TestApp {
    let app = spawn_app_with(|c| {
        c.emulator.seed = Some(20_261_128);
        c.clock.mode = ClockMode::Virtual;
        c.jobs.duration_ms = 0;
        let asset = |id: &str, name: &str, content| AssetConfig {
            id: id.into(),
            name: name.into(),
            content,
            ..Default::default()
        };
        c.instances = vec![InstanceConfig {
            id: "i1".into(),
            project: None,
            apps: vec![asset(
                "app-conf",
                "Orders \"v2\" – ü",
                json!({"routes": ["/a", "/b"], "nested": {"n": 1.5, "on": true, "none": null}}),
            )],
            tasks: vec![asset("task-conf", "", json!(null))],
        }];
    })
    .await;
    let (status, _) = app
        .control_post("/_emulator/clock", json!({"set": "2026-11-28T12:34:56.789Z"}))
        .await;
    assert_eq!(status, 200);
    app
}

fn check_against(name: &str, bytes: &[u8]) {
    let path = format!("{FIXTURES}/{name}");
    if std::env::var_os("ROMA_EMULATOR_BLESS").is_some() {
        std::fs::write(&path, bytes).expect("write the fixture");
    }
    let expected = std::fs::read(&path).expect("the fixture exists (ROMA_EMULATOR_BLESS=1 makes it)");
    assert!(
        bytes == expected.as_slice(),
        "{name}: the package differs from the fixture ({} bytes now, {} in the file)",
        bytes.len(),
        expected.len()
    );
}

#[tokio::test]
async fn an_export_of_configured_assets_and_placeholders_is_byte_for_byte_the_fixture() {
    let app = seeded_app().await;
    let body = r#"{"apps": [{"id": "app-conf"}, {"id": "ghost-app"}], "tasks": [{"id": "task-conf"}, {"id": "ghost-task"}]}"#;
    let job = crate::helpers::assert_job_created(app.export(TOKEN, "p1", "i1", body).await).await;
    // What the archive counts against [archives] max_bytes: the assets' compact JSON.
    let footprint = app.server.state().jobs.footprint();
    assert_eq!(
        (footprint.archives, footprint.archive_bytes),
        (1, 371),
        "{footprint:?}"
    );
    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    let archive_id = status["archive_id"].as_str().expect("archive_id");
    let res = app.download(TOKEN, "p1", "i1", archive_id).await;
    assert_eq!(res.status(), 200);
    check_against(
        "export-configured-and-placeholders.zip",
        &res.bytes().await.expect("bytes"),
    );
}

#[tokio::test]
async fn imported_content_is_exported_byte_for_byte_as_the_fixture() {
    let app = seeded_app().await;
    let content = |text: &str| Content::from_json(text.to_owned()).expect("valid JSON");
    let package = Package {
        source: Source {
            project_id: "elsewhere".into(),
            instance_id: "old".into(),
        },
        exported_at: "2026-01-01T00:00:00Z".into(),
        job_id: "0".repeat(32),
        assets: vec![
            (
                ResourceType::Application,
                Arc::new(Asset {
                    id: "imported-app".into(),
                    name: "Imported".into(),
                    content: content("{ \"b\" : [1, 2.50, \"\\u00e9\"],\n  \"a\": {} }"),
                    info: None,
                }),
            ),
            (
                ResourceType::Task,
                Arc::new(Asset {
                    id: "imported-task".into(),
                    name: "T".into(),
                    content: content("[]"),
                    info: None,
                }),
            ),
        ],
    };
    let zip = archive::build(&package).expect("zip");
    let res = app
        .import(TOKEN, "i2", "", "ImportAssetRequestBody", "assets.zip", zip)
        .await;
    let job = crate::helpers::assert_job_created(res).await;
    assert_eq!(app.job_json(TOKEN, "p1", "i2", &job).await["status"], "Success");
    let body = r#"{"apps": [{"id": "imported-app"}], "tasks": [{"id": "imported-task"}]}"#;
    let bytes = app.export_and_download(TOKEN, "i2", body).await;
    check_against("export-imported-content.zip", &bytes);
}
