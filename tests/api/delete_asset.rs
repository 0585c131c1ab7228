//! DeleteAsset: every body dialect, the job removes the assets, one Running delete per user.

use roma_emulator::config::{AssetConfig, InstanceConfig};
use serde_json::Value;

use crate::helpers::{TOKEN, assert_job_created, assert_roma_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_delete_job_removes_the_assets_from_the_instance() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.catalog.strict = true;
        let asset = |id: &str, name: &str| AssetConfig {
            id: id.into(),
            name: name.into(),
            ..Default::default()
        };
        c.instances = vec![InstanceConfig {
            id: "A".into(),
            project: None,
            apps: vec![asset("app-1", "orders"), asset("app-2", "billing")],
            tasks: vec![asset("task-1", "nightly")],
        }];
    })
    .await;
    let id = assert_job_created(
        app.delete(
            TOKEN,
            "p1",
            "A",
            r#"{"apps": "orders", "tasks": [{"task_id": "task-1"}]}"#,
        )
        .await,
    )
    .await;
    let job = app.job_json(TOKEN, "p1", "A", &id).await;
    assert_eq!(
        (job["type"].as_str(), job["status"].as_str()),
        (Some("deleteAsset"), Some("Success"))
    );

    // Exporting what was deleted now fails (strict catalog), what was kept still exports.
    let gone = assert_job_created(
        app.export(
            TOKEN,
            "p1",
            "A",
            r#"{"apps": [{"id": "app-1"}], "tasks": [{"id": "task-1"}]}"#,
        )
        .await,
    )
    .await;
    let gone = app.job_json(TOKEN, "p1", "A", &gone).await;
    assert_eq!(gone["status"], "Failed");
    assert_eq!(gone["reasons"].as_array().map(Vec::len), Some(2));
    let kept = app
        .export_and_download(TOKEN, "A", r#"{"apps": [{"app_id": "app-2"}]}"#)
        .await;
    assert!(!kept.is_empty());

    // Deleting what is not there fails in a strict catalog, with a reason per asset.
    let again = assert_job_created(
        app.delete(TOKEN, "p1", "A", r#"{"apps": [{"id": "app-1"}]}"#)
            .await,
    )
    .await;
    assert_eq!(app.job_json(TOKEN, "p1", "A", &again).await["status"], "Failed");
}

#[tokio::test]
async fn delete_validates_bodies_like_export() {
    let app = spawn_app().await;
    assert_roma_error(app.delete(TOKEN, "p1", "i1", "").await, 403, "ROMA.13001").await;
    assert_roma_error(
        app.delete(TOKEN, "p1", "i1", r#"{"apps": [{"id": 1}]}"#).await,
        403,
        "ROMA.13000",
    )
    .await;
    assert_roma_error(
        app.delete(TOKEN, "p1", "i1", r#"{"tasks": []}"#).await,
        403,
        "ROMA.13000",
    )
    .await;
}

#[tokio::test]
async fn one_running_job_per_user_per_kind() {
    let app = spawn_app().await;
    let body = r#"{"apps": [{"id": "a"}]}"#;
    assert_job_created(app.export(TOKEN, "p1", "i1", body).await).await;
    assert_job_created(app.delete(TOKEN, "p1", "i1", body).await).await;
    assert_roma_error(app.delete(TOKEN, "p2", "i2", body).await, 403, "ROMA.10012").await;
    assert_roma_error(app.export(TOKEN, "p2", "i2", body).await, 403, "ROMA.10012").await;
    let pkg_app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let pkg = pkg_app.export_and_download(TOKEN, "i1", body).await;
    assert_job_created(
        app.import(
            TOKEN,
            "i1",
            "",
            "ImportAssetRequestBody",
            "asset.zip",
            pkg.clone(),
        )
        .await,
    )
    .await;
    let second = app
        .import(TOKEN, "i2", "", "ImportAssetRequestBody", "asset.zip", pkg)
        .await;
    assert_roma_error(second, 403, "ROMA.10012").await;
    assert_job_created(app.delete("another-user", "p1", "i1", body).await).await;
}

#[tokio::test]
async fn at_max_jobs_with_all_running_a_new_job_is_refused() {
    let app = spawn_app_with(|c| c.jobs.max_jobs = 1).await;
    assert_job_created(app.export_one("u1").await).await;
    let err = assert_roma_error(app.export_one("u2").await, 403, "ROMA.10010").await;
    assert!(
        err["error_details"]
            .as_str()
            .unwrap_or_default()
            .contains("max_jobs")
    );
}

#[tokio::test]
async fn a_strict_catalog_refuses_unknown_instances() {
    let app = spawn_app_with(|c| c.catalog.strict = true).await;
    assert_roma_error(app.export_one(TOKEN).await, 404, "ROMA.00110002").await;
    assert_roma_error(
        app.delete(TOKEN, "p1", "i1", r#"{"apps": "x"}"#).await,
        404,
        "ROMA.00110002",
    )
    .await;
}

/// The official DeleteAsset request schema (API Explorer), from the repository's fixtures.
fn official_request_schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/apiexplorer/DeleteAsset.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
    serde_json::json!({"definitions": doc["definitions"], "$ref": "#/definitions/AssetOperateRequest"})
}

#[tokio::test]
async fn bodies_of_the_official_request_schema_are_accepted_and_ours_match_it() {
    let schema = official_request_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let app = spawn_app().await;
    let bodies = [
        r#"{"apps": [{"id": "b2e6b145-4f3f-4a80-aa45-f4b8029f95a3"}], "tasks": [{"id": "t1"}]}"#,
        r#"{"apps": [], "tasks": [{"id": "t2"}]}"#,
    ];
    for (i, body) in bodies.iter().enumerate() {
        let value: Value = serde_json::from_str(body).expect("json");
        assert!(validator.is_valid(&value), "{body} matches the official schema");
        let token = format!("schema-user-{i}");
        assert_job_created(app.delete(&token, "p1", "i1", body).await).await;
    }
    // The Explorer's own example sends app ids as plain strings (D3): accepted too.
    let example = &schema["definitions"]["AssetOperateRequest"]["properties"]["apps"]["example"];
    let body = serde_json::json!({"apps": example["apps"], "tasks": []}).to_string();
    assert_job_created(app.delete("schema-user-x", "p1", "i1", &body).await).await;
}
