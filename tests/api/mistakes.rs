//! The corpus of client mistakes (#30): for each, the journal's hint, its refusal or the first
//! near miss of a verification names the field or the cause. Every body stays the cloud's.

use serde_json::{Value, json};

use crate::diagnostics::{last_entry, verify};
use crate::helpers::*;
use roma_emulator::config::{AssetConfig, AuthMode, ClockMode, InstanceConfig, Secret, UserConfig};

/// The part of a journal entry (or a verification's first near miss) a mistake is named in.
fn part<'a>(v: &'a Value, pointer: &str) -> &'a Value {
    v.pointer(pointer).unwrap_or(&Value::Null)
}

/// Asserts that `pointer` of `v` holds `needle` (a string containing it, or an equal value).
#[track_caller]
fn names(mistake: &str, v: &Value, pointer: &str, needle: &str) {
    let got = part(v, pointer);
    let text = got.as_str().map_or_else(|| got.to_string(), str::to_owned);
    assert!(
        text.contains(needle),
        "{mistake}: {pointer} = {got}, wanted {needle:?} in {v}"
    );
}

async fn send(app: &TestApp, method: reqwest::Method, path: &str, token: &str) -> u16 {
    let res = app
        .client
        .request(method, app.url(path))
        .header("X-Auth-Token", token);
    res.send().await.expect("request").status().as_u16()
}

/// Jobs end as they are made; a virtual clock; ended jobs are kept 60 s; a strict catalog of
/// `i1` of `p1` (with `app-1`), `i2` of `p1` and `i3` of `p2`.
async fn diagnosed_app() -> TestApp {
    spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.jobs.retention_s = 60;
        c.clock.mode = ClockMode::Virtual;
        c.catalog.strict = true;
        c.instances = vec![InstanceConfig {
            id: "i1".into(),
            project: Some("p1".into()),
            apps: vec![AssetConfig {
                id: "app-1".into(),
                name: "orders".into(),
                ..AssetConfig::default()
            }],
            ..InstanceConfig::default()
        }];
        for (project, instance) in [("p1", "i2"), ("p2", "i3")] {
            c.instances.push(InstanceConfig {
                id: instance.into(),
                project: Some(project.into()),
                ..InstanceConfig::default()
            });
        }
    })
    .await
}

#[tokio::test]
async fn requests_that_go_nowhere_are_hinted_at_the_route_they_meant() {
    let app = diagnosed_app().await;
    let post = reqwest::Method::POST;
    let get = reqwest::Method::GET;
    let cases: [(&str, reqwest::Method, &str, &str); 8] = [
        (
            "asset for assets",
            post.clone(),
            "/v2/p1/instances/i1/asset/export",
            "`assets` for `asset`",
        ),
        (
            "instance for instances",
            post.clone(),
            "/v2/p1/instance/i1/assets/export",
            "`instances`",
        ),
        (
            "exports for export",
            post.clone(),
            "/v2/p1/instances/i1/assets/exports",
            "`export` for `exports`",
        ),
        (
            "a segment left out",
            post.clone(),
            "/v2/p1/instances/i1/export",
            "is `assets` missing",
        ),
        (
            "a trailing slash",
            post.clone(),
            "/v2/p1/instances/i1/assets/export/",
            "a `/` too many",
        ),
        (
            "a job poll without its id",
            get.clone(),
            "/v2/p1/instances/i1/assets/jobs",
            "`{job_id}` missing",
        ),
        (
            "GET for POST",
            get,
            "/v2/p1/instances/i1/assets/export",
            "takes POST (ExportAsset)",
        ),
        (
            "DELETE for GET",
            reqwest::Method::DELETE,
            "/v2/p1/instances/i1/assets/jobs/0123",
            "takes GET (CheckAssetJobStatus)",
        ),
    ];
    for (mistake, method, path, needle) in cases {
        assert_eq!(send(&app, method, path, TOKEN).await, 404, "{mistake}");
        named(&app, mistake, "/hint", needle).await;
    }
    let page = app
        .control_json("/_emulator/requests/unmatched?project_id=p1&instance_id=i1")
        .await;
    assert_eq!(
        page["requests"].as_array().map(Vec::len),
        Some(7),
        "the instance-typo has no instance: {page}"
    );
}

/// Asserts that the newest entry of `p1` names `needle` at `pointer`.
async fn named(app: &TestApp, mistake: &str, pointer: &str, needle: &str) {
    names(mistake, &last_entry(app).await, pointer, needle);
}

#[tokio::test]
async fn refusals_name_the_field_at_fault() {
    let app = diagnosed_app().await;
    let export = |body: &'static str| app.export(TOKEN, "p1", "i1", body);
    let upload = |query: &'static str, name: &'static str, bytes: Vec<u8>| {
        app.import_in(TOKEN, "p1", "i1", query, "ImportAssetRequestBody", name, bytes)
    };
    let no_type = app
        .client
        .post(app.url("/v2/p1/instances/i1/assets/export"))
        .header("X-Auth-Token", TOKEN)
        .body(r#"{"apps": [{"id": "app-1"}]}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(no_type.status(), 403);
    named(&app, "a missing Content-Type", "/refusal/field", "Content-Type").await;
    export(r#"{"apps": [{"ids": "app-1"}]}"#).await;
    named(&app, "ids for id", "/refusal/field", "apps[0].id").await;
    let many: Vec<Value> = (0..101).map(|i| json!({"id": format!("a{i}")})).collect();
    let body = json!({"apps": many}).to_string();
    app.export(TOKEN, "p1", "i1", &body).await;
    named(
        &app,
        "101 applications",
        "/refusal/details",
        "more than 100 items",
    )
    .await;
    export("").await;
    named(
        &app,
        "an empty body",
        "/refusal/details",
        "the request body is empty",
    )
    .await;
    upload("", "pkg.tar", vec![1, 2]).await;
    named(&app, "a .tar package", "/refusal/field", "ImportAssetRequestBody").await;
    upload("", "pkg.zip", vec![1, 2]).await;
    named(
        &app,
        "a package that is no zip",
        "/refusal/field",
        "ImportAssetRequestBody",
    )
    .await;
    upload("?type=Replace", "pkg.zip", vec![1]).await;
    named(&app, "an unknown import type", "/refusal/field", "type").await;
    app.export(TOKEN, "p1", "i9", r#"{"apps": [{"id": "app-1"}]}"#)
        .await;
    assert_eq!(app.job(TOKEN, "p1", "i9", &"0".repeat(32)).await.status(), 404);
    let entry = app
        .control_json("/_emulator/requests?limit=1&instance_id=i9")
        .await;
    names(
        "an instance the strict catalog lacks",
        &entry,
        "/requests/0/refusal/field",
        "instance_id",
    );
}

#[tokio::test]
async fn refusals_of_jobs_and_archives_say_why_they_are_not_found() {
    let app = diagnosed_app().await;
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let archive = app.job_json(TOKEN, "p1", "i1", &job).await["archive_id"]
        .as_str()
        .expect("archive")
        .to_owned();
    let first = app.download(TOKEN, "p1", "i1", &archive).await;
    let consumer = first.headers()["x-request-id"].to_str().expect("id").to_owned();
    assert_roma_error(
        app.download(TOKEN, "p1", "i1", &archive).await,
        404,
        "ROMA.00110006",
    )
    .await;
    let entry = last_entry(&app).await;
    names("a second download", &entry, "/refusal/consumed_by", &consumer);
    names(
        "a second download",
        &entry,
        "/refusal/cause",
        "already downloaded",
    );
    assert!(entry["refusal"]["consumed_at"].is_string(), "{entry}");

    app.job(TOKEN, "p2", "i3", &job).await;
    let entry = app
        .control_json("/_emulator/requests?limit=1&project_id=p2")
        .await;
    names(
        "another project's job",
        &entry,
        "/requests/0/refusal/cause",
        "project p1, instance i1",
    );
    app.download(TOKEN, "p1", "i2", &archive).await;
    named(
        &app,
        "another instance's archive",
        "/refusal/cause",
        "already downloaded",
    )
    .await;
    app.job(TOKEN, "p1", "i2", &job).await;
    named(&app, "another instance's job", "/refusal/instance_id", "i1").await;
    app.job("someone-else", "p1", "i1", &job).await;
    named(&app, "another user's job", "/refusal/cause", "another user").await;

    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let archive = app.job_json(TOKEN, "p1", "i1", &job).await["archive_id"]
        .as_str()
        .expect("archive")
        .to_owned();
    let (status, _) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 61_000}))
        .await;
    assert_eq!(status, 200);
    app.job(TOKEN, "p1", "i1", &job).await;
    named(
        &app,
        "a poll after retention",
        "/refusal/cause",
        "jobs.retention_s = 60 s",
    )
    .await;
    app.download(TOKEN, "p1", "i1", &archive).await;
    named(
        &app,
        "a download after retention",
        "/refusal/cause",
        "archive expired",
    )
    .await;
}

#[tokio::test]
async fn a_second_running_export_names_the_job_that_blocks_it() {
    let app = spawn_app().await;
    let running = assert_job_created(app.export_one(TOKEN).await).await;
    assert_roma_error(app.export_one(TOKEN).await, 403, "ROMA.10012").await;
    let entry = last_entry(&app).await;
    names(
        "a second Running export",
        &entry,
        "/refusal/rule",
        "one Running export per user",
    );
    names(
        "a second Running export",
        &entry,
        "/refusal/blocking_job",
        &running,
    );
}

#[tokio::test]
async fn what_a_request_meant_is_the_first_near_miss_of_what_the_test_expected() {
    let app = diagnosed_app().await;
    // A typo in an application id under a strict catalog: the job fails, the verification says
    // which id was asked for.
    app.export(TOKEN, "p1", "i1", r#"{"apps": [{"id": "app-l"}]}"#)
        .await;
    let (status, body) = verify(
        &app,
        json!({"project_id": "p1", "operation": "ExportAsset",
        "where": {"apps": ["app-1"]}}),
    )
    .await;
    assert_eq!(status, 409);
    names(
        "a typo in an app id",
        &body,
        "/near_misses/0/differences/0/field",
        "apps",
    );
    names(
        "a typo in an app id",
        &body,
        "/near_misses/0/differences/0/actual",
        "app-l",
    );

    let zip = app
        .export_and_download(TOKEN, "i1", r#"{"apps": [{"id": "app-1"}]}"#)
        .await;
    app.import_in(
        TOKEN,
        "p1",
        "i1",
        "?prefix=copy_",
        "ImportAssetRequestBody",
        "pkg.zip",
        zip.clone(),
    )
    .await;
    let import = |filter: Value| json!({"project_id": "p1", "instance_id": "i1", "operation": "ImportAsset", "where": filter});
    let (_, body) = verify(&app, import(json!({"prefix": "copy-"}))).await;
    names(
        "the wrong prefix",
        &body,
        "/near_misses/0/differences/0/field",
        "prefix",
    );
    let (_, body) = verify(&app, import(json!({"type": "Merge"}))).await;
    names(
        "AddNew for Merge",
        &body,
        "/near_misses/0/differences/0/field",
        "type",
    );
    // Polled under the wrong instance: the near miss of the poll the test expected.
    app.job(TOKEN, "p1", "i2", &"0".repeat(32)).await;
    let (_, body) = verify(
        &app,
        json!({"project_id": "p1", "instance_id": "i1",
        "operation": "CheckAssetJobStatus", "where": {"status": "Success"}}),
    )
    .await;
    assert_eq!(body["matched"], 1, "the export_and_download poll: {body}");
}

/// A strict emulator with `alice` (password `pw`), whose tokens live `ttl_s`.
async fn alice_app(ttl_s: u64) -> TestApp {
    spawn_app_with(|c| {
        c.auth.mode = AuthMode::Strict;
        c.auth.token_ttl_s = ttl_s;
        c.auth.users = vec![UserConfig {
            name: "alice".into(),
            password: Some(Secret::new("pw")),
            domain: Some("acme".into()),
            access_key: Some("AK-ALICE".into()),
            secret_key: Some(Secret::new("alice-secret-key-0123456789")),
            ..Default::default()
        }];
    })
    .await
}

/// A domain-scoped token of `alice`.
async fn domain_token(app: &TestApp) -> String {
    let body = json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": "alice", "password": "pw", "domain": {"name": "acme"}}}},
        "scope": {"domain": {"name": "acme"}}}});
    let res = app
        .client
        .post(app.url("/v3/auth/tokens"))
        .json(&body)
        .send()
        .await
        .expect("token");
    assert_eq!(res.status(), 201);
    res.headers()["x-subject-token"]
        .to_str()
        .expect("token")
        .to_owned()
}

#[tokio::test]
async fn credentials_mistakes_name_their_cause() {
    let app = alice_app(0).await;
    let token = domain_token(&app).await;
    app.export_one(&token).await;
    named(&app, "an expired token", "/refusal/rule", "has expired").await;
    app.export_one("no-such-token").await;
    named(
        &app,
        "an unknown token",
        "/refusal/rule",
        "not a configured or issued token",
    )
    .await;

    let app = alice_app(3600).await;
    let token = domain_token(&app).await;
    app.export_one(&token).await;
    named(&app, "a domain-scoped token", "/refusal/details", "domain-scoped").await;
    let date = sdk_date(0);
    let path = "/v2/p1/instances/i1/assets/export";
    let host = app.server.base_url().trim_start_matches("http://").to_owned();
    let headers = [("host", host.as_str()), ("x-sdk-date", date.as_str())];
    let auth = sign(
        "AK-ALICE",
        "a-wrong-secret-key",
        "POST",
        path,
        "",
        &headers,
        &hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"{}")),
    );
    app.client
        .post(app.url(path))
        .header("X-Sdk-Date", &date)
        .header("Authorization", auth)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("signed");
    named(&app, "a wrong secret key", "/refusal/details", "signature").await;
}
