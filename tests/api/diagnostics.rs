//! When a test fails, the emulator says why (#30): the journal's summaries and refusals,
//! verification with near misses, the requests that went nowhere.

use serde_json::{Value, json};

use crate::helpers::*;

/// The newest journal entry of project `p1`.
pub async fn last_entry(app: &TestApp) -> Value {
    let page = app
        .control_json("/_emulator/requests?limit=1&project_id=p1")
        .await;
    page["requests"][0].clone()
}

/// `POST /_emulator/verify` with `body`, as (status, JSON).
pub async fn verify(app: &TestApp, body: Value) -> (u16, Value) {
    app.control_post("/_emulator/verify", body).await
}

fn zip_of(app_id: &str) -> Vec<u8> {
    use roma_emulator::jobs::archive;
    let asset = roma_emulator::jobs::Asset::new(app_id, app_id, &json!({}));
    let package = archive::Package {
        source: archive::Source {
            project_id: "p0".into(),
            instance_id: "i0".into(),
        },
        exported_at: "2026-01-01T00:00:00Z".into(),
        job_id: "0".repeat(32),
        assets: vec![(
            roma_emulator::jobs::job::ResourceType::Application,
            std::sync::Arc::new(asset),
        )],
    };
    archive::build(&package).expect("zip")
}

#[tokio::test]
async fn each_operation_summarises_what_it_was_asked_without_a_body_or_secret() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let body = r#"{"apps": [{"id": "app-1"}, {"id": "app-2"}], "tasks": [{"task_id": "t-9"}]}"#;
    let job = assert_job_created(app.export(TOKEN, "p1", "i1", body).await).await;
    let entry = last_entry(&app).await;
    assert_eq!(
        entry["summary"],
        json!({"dialect": "id", "apps": ["app-1", "app-2"], "app_count": 2, "tasks": ["t-9"],
            "task_count": 1, "job_id": job}),
        "{entry}"
    );
    assert!(entry.get("refusal").is_none(), "{entry}");

    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    let entry = last_entry(&app).await;
    assert_eq!(entry["summary"], json!({"job_id": job, "status": "Success"}));

    let archive = status["archive_id"].as_str().expect("archive").to_owned();
    let bytes = app
        .download(TOKEN, "p1", "i1", &archive)
        .await
        .bytes()
        .await
        .expect("zip");
    let entry = last_entry(&app).await;
    assert_eq!(
        entry["summary"],
        json!({"archive_id": archive, "bytes_sent": bytes.len(), "complete": true})
    );

    let zip = zip_of("app-7");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&zip));
    let size = zip.len();
    let res = app
        .import(
            TOKEN,
            "i2",
            "?prefix=copy-",
            "ImportAssetRequestBody",
            "pkg.zip",
            zip,
        )
        .await;
    let job = assert_job_created(res).await;
    let entry = last_entry(&app).await;
    assert_eq!(
        entry["summary"],
        json!({"type": "AddNew", "prefix": "copy-", "file_name": "pkg.zip", "file_size": size,
            "file_sha256": sha, "job_id": job})
    );

    app.delete(TOKEN, "p1", "i1", r#"{"apps": "orders"}"#).await;
    let entry = last_entry(&app).await;
    assert_eq!(entry["summary"]["dialect"], "name");
    assert_eq!(entry["summary"]["apps"], json!(["orders"]));
}

#[tokio::test]
async fn a_token_request_is_summarised_by_user_and_scope_never_the_password() {
    let app = spawn_app().await;
    let body = json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": "ci-bot", "password": "hunter2-secret", "domain": {"name": "acme"}}}},
        "scope": {"project": {"name": "cn-north-4"}}}});
    app.client
        .post(app.url("/v3/auth/tokens"))
        .json(&body)
        .send()
        .await
        .expect("token");
    let page = app.control_json("/_emulator/requests?limit=1").await;
    let entry = &page["requests"][0];
    assert_eq!(
        entry["summary"],
        json!({"user": "ci-bot", "scope": "project:cn-north-4"}),
        "{entry}"
    );
    assert!(!page.to_string().contains("hunter2"), "{page}");
}

#[tokio::test]
async fn summaries_can_be_turned_off_and_refusals_stay() {
    let app = spawn_app_with(|c| c.journal.summaries = false).await;
    assert_job_created(app.export_one(TOKEN).await).await;
    let entry = last_entry(&app).await;
    assert!(entry.get("summary").is_none(), "{entry}");
    app.export_one(TOKEN).await;
    let entry = last_entry(&app).await;
    assert_eq!(entry["refusal"]["rule"], "one Running export per user", "{entry}");
}

#[tokio::test]
async fn verify_counts_matches_and_lists_the_nearest_misses_with_their_differences() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    app.export(TOKEN, "p1", "i1", r#"{"apps": [{"id": "app-1"}]}"#)
        .await;
    app.export(TOKEN, "p1", "i1", r#"{"apps": [{"id": "app-2"}]}"#)
        .await;
    // The same request in another project never counts, and is never a near miss.
    app.export(TOKEN, "p2", "i1", r#"{"apps": [{"id": "app-3"}]}"#)
        .await;
    let export = |apps: Value, count: Value| {
        json!({"project_id": "p1", "instance_id": "i1", "operation": "ExportAsset",
            "where": {"apps": apps}, "count": count})
    };
    assert_eq!(
        verify(&app, export(json!(["app-1"]), json!({"eq": 1}))).await,
        (200, json!({"matched": 1}))
    );
    assert_eq!(
        verify(&app, export(json!([]), json!({"min": 2}))).await,
        (200, json!({"matched": 2}))
    );
    let (status, body) = verify(&app, export(json!(["app-3"]), json!({"min": 1}))).await;
    assert_eq!((status, &body["matched"]), (409, &json!(0)), "{body}");
    let misses = body["near_misses"].as_array().expect("near misses");
    assert_eq!(misses.len(), 2, "only p1's requests: {body}");
    assert_eq!(
        misses[0]["differences"],
        json!([{"field": "apps", "expected": ["app-3"], "actual": ["app-2"]}]),
        "the newest first among equals: {body}"
    );
    assert!(misses[0]["request_id"].as_str().is_some_and(is_hex32), "{body}");
    let (status, body) = verify(&app, export(json!(["app-1"]), json!({"max": 0}))).await;
    assert_eq!((status, &body["matched"]), (409, &json!(1)), "{body}");
    // A verification that names no field a request has is refused, naming it.
    let (status, body) = verify(
        &app,
        json!({"project_id": "p1", "operation": "ExportAsset",
        "where": {"app_ids": ["app-1"]}}),
    )
    .await;
    assert_eq!(
        (status, &body["error_code"]),
        (400, &json!("ROMA.13000")),
        "{body}"
    );
    assert!(
        body["error_details"]
            .as_str()
            .is_some_and(|d| d.starts_with("where.app_ids")),
        "{body}"
    );
}

#[tokio::test]
async fn a_request_no_route_answers_keeps_the_gateways_body_and_is_listed_with_its_hint() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v2/p1/instances/i1/asset/export"))
        .header("X-Auth-Token", TOKEN)
        .json(&json!({"apps": [{"id": "app-1"}]}))
        .send()
        .await
        .expect("request");
    let body = assert_roma_error(res, 404, "APIG.0101").await;
    assert!(body.get("hint").is_none(), "the body is the cloud's: {body}");
    app.client
        .get(app.url("/v2/p2/instances/i1/assets/export"))
        .send()
        .await
        .expect("request");
    let page = app
        .control_json("/_emulator/requests/unmatched?project_id=p1")
        .await;
    let listed = page["requests"].as_array().expect("requests");
    assert_eq!(listed.len(), 1, "{page}");
    let hint = listed[0]["hint"].as_str().expect("hint");
    assert!(hint.contains("did you mean `assets` for `asset`"), "{hint}");
    assert!(hint.contains("POST (ExportAsset)"), "{hint}");
    // Verification sees the typo as the near miss of the export it meant.
    let (status, body) = verify(&app, json!({"project_id": "p1", "operation": "ExportAsset"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["near_misses"][0]["hint"], hint, "{body}");
}

#[tokio::test]
async fn the_report_of_a_namespace_finds_what_a_test_did_not_mean_to_do() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.jobs.retention_s = 60;
        c.clock.mode = roma_emulator::config::ClockMode::Virtual;
    })
    .await;
    let twice = assert_job_created(app.export_one(TOKEN).await).await;
    let archive = app.job_json(TOKEN, "p1", "i1", &twice).await["archive_id"]
        .as_str()
        .expect("archive")
        .to_owned();
    app.download(TOKEN, "p1", "i1", &archive).await;
    app.download(TOKEN, "p1", "i1", &archive).await;
    let unpolled = assert_job_created(app.export_one(TOKEN).await).await;
    let overpolled = assert_job_created(app.delete(TOKEN, "p1", "i1", r#"{"apps": "x"}"#).await).await;
    for _ in 0..5 {
        app.job_json(TOKEN, "p1", "i1", &overpolled).await;
    }
    let unauthenticated = app
        .client
        .get(app.url(&format!("/v2/p1/instances/i1/assets/jobs/{twice}")))
        .send()
        .await;
    assert_eq!(unauthenticated.expect("request").status(), 403);
    assert_job_created(app.export(TOKEN, "p2", "i1", r#"{"apps": "x"}"#).await).await;
    let (status, _) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 61_000}))
        .await;
    assert_eq!(status, 200);

    let report = app
        .control_json("/_emulator/verify/report?project_id=p1&instance_id=i1")
        .await;
    let findings = &report["findings"];
    assert_eq!(report["clean"], false, "{report}");
    assert_eq!(
        findings["archives_downloaded_twice"][0]["archive_id"],
        archive.as_str(),
        "{report}"
    );
    assert!(
        findings["archives_downloaded_twice"][0]["consumed_by"].is_string(),
        "{report}"
    );
    let never: Vec<&Value> = findings["jobs_never_polled"]
        .as_array()
        .expect("list")
        .iter()
        .collect();
    assert_eq!(never.len(), 1, "{report}");
    assert_eq!(never[0]["job_id"], unpolled.as_str());
    assert_eq!(
        findings["jobs_polled_after_end"],
        json!([{"job_id": overpolled, "polls_after_end": 5}])
    );
    assert_eq!(
        findings["exports_never_downloaded"].as_array().map(Vec::len),
        Some(1),
        "the unpolled export's archive: {report}"
    );
    assert_eq!(
        findings["refused_by_auth"][0]["error_code"], "ROMA.1000",
        "{report}"
    );
    // The threshold is the caller's; another namespace is clean but for what it did.
    let lenient = app
        .control_json("/_emulator/verify/report?project_id=p1&max_polls_after_end=5")
        .await;
    assert_eq!(lenient["findings"]["jobs_polled_after_end"], json!([]));
    let other = app.control_json("/_emulator/verify/report?project_id=p2").await;
    assert_eq!(
        other["findings"]["jobs_never_polled"].as_array().map(Vec::len),
        Some(1),
        "{other}"
    );
    assert_eq!(
        other["findings"]["archives_downloaded_twice"],
        json!([]),
        "{other}"
    );
}
