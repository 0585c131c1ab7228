//! `GET /openapi.json` describes every endpoint, and real responses match it.

use roma_emulator::config::{ClockMode, Progression, Secret, UserConfig};
use serde_json::{Value, json};

use crate::helpers::{TOKEN, assert_job_created, spawn_app_with};

/// Validates `body` against the document's schema for `path` `method` `status` (or `default`).
fn assert_matches(doc: &Value, path: &str, method: &str, status: u16, body: &Value) {
    let responses = &doc["paths"][path][method]["responses"];
    assert!(responses.is_object(), "{method} {path} is described");
    let response = responses.get(status.to_string()).unwrap_or(&responses["default"]);
    let schema = &response["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has a JSON schema");
    let root = json!({"components": doc["components"], "$ref": schema["$ref"]});
    let validator = jsonschema::validator_for(&root).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {body} does not match: {errors:?}"
    );
}

async fn call(req: reqwest::RequestBuilder) -> (u16, Value) {
    let res = req.send().await.expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_endpoint_is_described_and_real_responses_match_the_description() {
    let app = spawn_app_with(|c| {
        c.clock.mode = ClockMode::Virtual;
        c.jobs.progression = Progression::Manual;
        c.auth.users = vec![UserConfig {
            name: "alice".into(),
            password: Some(Secret::new("pw")),
            ..Default::default()
        }];
    })
    .await;
    let doc = app.control_json("/openapi.json").await;
    assert_eq!(doc["openapi"], "3.1.0");
    let ops: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|p| p.as_object().into_iter().flat_map(|m| m.values()))
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for op in [
        "ExportAsset",
        "ImportAsset",
        "DeleteAsset",
        "CheckAssetJobStatus",
        "DownloadAssetArchive",
        "KeystoneCreateUserTokenByPassword",
        "EmulatorReset",
        "EmulatorWaitJob",
        "EmulatorMoveClock",
        "EmulatorAddFault",
        "EmulatorListErrors",
        "EmulatorVerify",
        "EmulatorListUnmatched",
        "EmulatorVerifyReport",
    ] {
        assert!(ops.contains(&op), "{op} is described");
    }

    let asset = "/v2/{project_id}/instances/{instance_id}/assets";
    let body = r#"{"apps": [{"id": "app-1"}]}"#;
    // Asset API: success and refusal bodies.
    let res = app.export_one(TOKEN).await;
    let job_id = {
        let v: Value = res.json().await.expect("JSON");
        assert_matches(&doc, &format!("{asset}/export"), "post", 200, &v);
        v["job_id"].as_str().expect("job_id").to_owned()
    };
    let (s, v) = call(
        app.client
            .post(app.url("/v2/p1/instances/i1/assets/export"))
            .header("X-Auth-Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(body),
    )
    .await;
    assert_matches(&doc, &format!("{asset}/export"), "post", s, &v);
    let (s, v) = call(
        app.client
            .post(app.url("/v2/p1/instances/i1/assets/delete"))
            .header("X-Auth-Token", TOKEN)
            .header("Content-Type", "application/json")
            .body(body),
    )
    .await;
    assert_matches(&doc, &format!("{asset}/delete"), "post", s, &v);
    let job = app.job_json(TOKEN, "p1", "i1", &job_id).await;
    assert_matches(&doc, &format!("{asset}/jobs/{{job_id}}"), "get", 200, &job);
    let (s, v) = call(app.control(
        reqwest::Method::POST,
        &format!("/_emulator/jobs/{job_id}/complete"),
    ))
    .await;
    assert_matches(&doc, "/_emulator/jobs/{job_id}/complete", "post", s, &v);
    let done = app.job_json(TOKEN, "p1", "i1", &job_id).await;
    assert_matches(&doc, &format!("{asset}/jobs/{{job_id}}"), "get", 200, &done);
    let res = app
        .download(TOKEN, "p1", "i1", done["archive_id"].as_str().expect("archive"))
        .await;
    assert_eq!(res.status(), 200);
    let zip = res.bytes().await.expect("zip").to_vec();
    let (s, v) = call(
        app.client
            .post(app.url("/v2/p1/instances/i2/assets/import"))
            .header("X-Auth-Token", "other")
            .multipart(reqwest::multipart::Form::new().part(
                "ImportAssetRequestBody",
                reqwest::multipart::Part::bytes(zip).file_name("asset.zip"),
            )),
    )
    .await;
    assert_eq!(s, 200);
    assert_matches(&doc, &format!("{asset}/import"), "post", s, &v);
    let (s, v) = call(
        app.client
            .get(app.url("/v2/p1/instances/i1/assets/archives/nope"))
            .header("X-Auth-Token", TOKEN),
    )
    .await;
    assert_matches(&doc, &format!("{asset}/archives/{{archive_id}}"), "get", s, &v);

    // IAM.
    let token_req = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alice", "password": "pw", "domain": {"name": "acme"}}}}, "scope": {"project": {"name": "cn-north-4"}}}});
    let (s, v) = call(app.client.post(app.url("/v3/auth/tokens")).json(&token_req)).await;
    assert_eq!(s, 201);
    assert_matches(&doc, "/v3/auth/tokens", "post", s, &v);
    let (s, v) = call(app.client.post(app.url("/v3/auth/tokens")).json(&json!({}))).await;
    assert_matches(&doc, "/v3/auth/tokens", "post", s, &v);

    // A request no route has (listed by /_emulator/requests/unmatched).
    let (s, _) = call(app.client.get(app.url("/v2/p1/instances/i1/asset/export"))).await;
    assert_eq!(s, 404);

    // Control plane.
    let second = assert_job_created(app.export_one("u2").await).await;
    let (s, v) = call(
        app.control(reqwest::Method::POST, &format!("/_emulator/jobs/{second}/fail"))
            .json(&json!({"reasons": [{"resource_name": "x"}]})),
    )
    .await;
    assert_matches(&doc, "/_emulator/jobs/{job_id}/fail", "post", s, &v);
    for (path, template) in [
        ("/_emulator/health".to_owned(), "/_emulator/health"),
        ("/_emulator/ready".to_owned(), "/_emulator/ready"),
        ("/_emulator/jobs".to_owned(), "/_emulator/jobs"),
        (format!("/_emulator/jobs/{job_id}"), "/_emulator/jobs/{job_id}"),
        (
            format!("/_emulator/jobs/{job_id}/wait?timeout_ms=10"),
            "/_emulator/jobs/{job_id}/wait",
        ),
        ("/_emulator/clock".to_owned(), "/_emulator/clock"),
        ("/_emulator/requests".to_owned(), "/_emulator/requests"),
        ("/_emulator/errors".to_owned(), "/_emulator/errors"),
        (
            "/_emulator/requests/unmatched".to_owned(),
            "/_emulator/requests/unmatched",
        ),
        (
            "/_emulator/verify/report?project_id=p1".to_owned(),
            "/_emulator/verify/report",
        ),
    ] {
        let (s, v) = call(app.control(reqwest::Method::GET, &path)).await;
        assert_eq!(s, 200, "{path}");
        assert_matches(&doc, template, "get", s, &v);
    }
    let (s, v) = call(app.control(
        reqwest::Method::GET,
        &format!("/_emulator/jobs/{}/wait?timeout_ms=10&status=Failed", job_id),
    ))
    .await;
    assert_eq!(s, 408);
    assert_matches(&doc, "/_emulator/jobs/{job_id}/wait", "get", s, &v);
    for expectation in [
        json!({"project_id": "p1", "operation": "ExportAsset", "where": {"apps": ["app-1"]}}),
        json!({"project_id": "p1", "operation": "ExportAsset", "count": {"eq": 0}}),
        json!({"project_id": "p1", "operation": "ExportAsset", "where": {"nope": 1}}),
    ] {
        let (s, v) = app.control_post("/_emulator/verify", expectation).await;
        assert_matches(&doc, "/_emulator/verify", "post", s, &v);
    }
    let (s, v) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 5}))
        .await;
    assert_matches(&doc, "/_emulator/clock", "post", s, &v);
    let (s, v) = app
        .control_post(
            "/_emulator/faults",
            json!({"operation": "ExportAsset", "status": 503, "times": 1, "fail_job": null}),
        )
        .await;
    assert_matches(&doc, "/_emulator/faults", "post", s, &v);
    let (s, v) = app
        .control_post(
            "/_emulator/faults",
            json!({"operation": "ExportAsset", "times": 1, "delay_ms": 1}),
        )
        .await;
    assert_eq!(s, 201);
    assert_matches(&doc, "/_emulator/faults", "post", s, &v);
    let (s, v) = call(app.control(reqwest::Method::GET, "/_emulator/faults")).await;
    assert_matches(&doc, "/_emulator/faults", "get", s, &v);
    let (s, v) = app
        .control_post("/_emulator/reset?project_id=p1", json!(null))
        .await;
    assert_matches(&doc, "/_emulator/reset", "post", s, &v);
    let (s, v) = app.control_post("/_emulator/reset", json!(null)).await;
    assert_matches(&doc, "/_emulator/reset", "post", s, &v);
}

#[tokio::test]
async fn the_contract_check_rejects_bodies_that_break_the_description() {
    let app = spawn_app_with(|_| {}).await;
    let doc = app.control_json("/openapi.json").await;
    let path = "/v2/{project_id}/instances/{instance_id}/assets/export";
    let broken = vec![
        json!({"job_id": "not-hex"}),
        json!({"job_id": "0123456789abcdef0123456789abcdef", "extra": 1}),
        json!({"error_code": "ROMA.1000", "error_msg": "m", "error_details": "d", "request_id": "r", "extra": 1}),
    ];
    for body in broken {
        let status = if body.get("job_id").is_some() { 200 } else { 403 };
        let caught = std::panic::catch_unwind(|| assert_matches(&doc, path, "post", status, &body));
        assert!(caught.is_err(), "{body} must not match");
    }
}
