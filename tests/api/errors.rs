//! No plain-text framework rejection ever reaches a client.

use roma_emulator::config::ErrorStatuses;

use crate::helpers::{TOKEN, assert_roma_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_routes_and_methods_get_apig_0101_bodies() {
    let app = spawn_app().await;
    let cases = vec![
        (reqwest::Method::GET, "/nowhere", 404),
        (reqwest::Method::POST, "/v2/p1/instances/i1/assets/exports", 404),
        // A wrong method is no API either (D2): 404, no 405, no Allow header.
        (reqwest::Method::GET, "/v2/p1/instances/i1/assets/export", 404),
        (reqwest::Method::DELETE, "/v2/p1/instances/i1/assets/export", 404),
        (reqwest::Method::POST, "/_emulator/health", 404),
    ];
    for (method, path, status) in cases {
        let res = app
            .client
            .request(method.clone(), app.url(path))
            .header("X-Auth-Token", TOKEN)
            .send()
            .await
            .expect("request");
        assert!(
            res.headers().get("allow").is_none(),
            "{method} {path}: no Allow header"
        );
        let body = assert_roma_error(res, status, "APIG.0101").await;
        let expected = if path.ends_with("exports") || path == "/nowhere" {
            "The API does not exist or has not been published in the environment."
        } else {
            "The API does not exist."
        };
        assert_eq!(body["error_msg"], expected, "{method} {path}");
        assert!(
            body.get("error_details").is_none(),
            "the gateway's body (D13): {body}"
        );
    }
}

#[tokio::test]
async fn gateway_statuses_stay_in_catalog_mode_too() {
    let app = spawn_app_with(|c| c.api.error_statuses = ErrorStatuses::Catalog).await;
    let res = app.client.get(app.url("/nowhere")).send().await.expect("request");
    assert_roma_error(res, 404, "APIG.0101").await;
}

#[tokio::test]
async fn an_oversized_body_gets_apig_0201_413() {
    let app = spawn_app_with(|c| c.server.max_body_bytes = 1024).await;
    let body = format!(r#"{{"apps": "{}"}}"#, "a".repeat(2048));
    assert_roma_error(app.export(TOKEN, "p1", "i1", &body).await, 413, "APIG.0201").await;
}

#[tokio::test]
async fn a_bad_percent_encoding_in_the_path_is_a_roma_error() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v2/%FF%FE/instances/i1/assets/export"))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(r#"{"apps": "a"}"#)
        .send()
        .await
        .expect("request");
    let err = assert_roma_error(res, 403, "ROMA.13000").await;
    assert!(
        err["error_details"]
            .as_str()
            .unwrap_or_default()
            .starts_with("path"),
        "{err}"
    );
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let res = app
            .client
            .get(app.url("/_emulator/health"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        let id = res.headers()["x-request-id"].to_str().expect("ascii").to_owned();
        assert!(crate::helpers::is_hex32(&id), "{id}");
        assert!(seen.insert(id), "request ids differ");
        assert_eq!(
            res.json::<serde_json::Value>().await.expect("json"),
            serde_json::json!({"status": "ok"})
        );
    }
}

#[test]
fn the_documented_error_table_is_the_catalog() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md"))
        .expect("docs/errors.md");
    let table = roma_emulator::error::markdown_table();
    let current = concat!(env!("CARGO_MANIFEST_DIR"), "/target/error-table.md");
    let _ = std::fs::write(current, &table);
    assert!(
        readme.contains(&table),
        "docs/errors.md's error table is stale; scripts/update-error-table.sh puts in the current one ({current})"
    );
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_gets_apig_0201_504() {
    let app = spawn_app_with(|c| c.server.request_timeout_ms = 50).await;
    let (status, _) = app
        .control_post(
            "/_emulator/faults",
            serde_json::json!({"operation": "CheckAssetJobStatus", "delay_ms": 200}),
        )
        .await;
    assert_eq!(status, 201);
    let res = app.job(TOKEN, "p1", "i1", "x").await;
    let err = assert_roma_error(res, 504, "APIG.0201").await;
    assert!(
        err["error_msg"]
            .as_str()
            .unwrap_or_default()
            .contains("Backend timeout.")
    );
}

#[tokio::test]
async fn not_found_texts_name_the_ids_as_romas_pages_write_them() {
    let app = spawn_app_with(|c| {
        c.catalog.strict = true;
        c.instances = vec![roma_emulator::config::InstanceConfig {
            id: "i1".into(),
            apps: vec![],
            tasks: vec![],
        }];
    })
    .await;
    let err = assert_roma_error(
        app.job(TOKEN, "p1", "i1", "no-such-job").await,
        404,
        "ROMA.00110006",
    )
    .await;
    assert_eq!(
        err["error_msg"],
        "The resource does not exist. Check whether the resource ID no-such-job is correct."
    );
    let err = assert_roma_error(
        app.export(TOKEN, "p1", "ghost", r#"{"apps": [{"id": "a"}]}"#)
            .await,
        404,
        "ROMA.00110002",
    )
    .await;
    assert_eq!(
        err["error_msg"],
        "The instance does not exist. project_id: p1, instance_id: ghost"
    );
}
