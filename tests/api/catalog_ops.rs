//! The cloud's catalog operations (#29): ROMA applications, instances and FDI tasks, over the one
//! catalog the asset jobs use (D26).

use crate::helpers::*;
use roma_emulator::config::{AssetConfig, ErrorStatuses, InstanceConfig};
use serde_json::{Value, json};

const APPS: &str = "/v2/p1/instances/i1/apps";

async fn send(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = app
        .client
        .request(method, app.url(path))
        .header("X-Auth-Token", TOKEN);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.expect("request")
}

async fn ok_json(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn create(app: &TestApp, path: &str, body: Value) -> Value {
    ok_json(send(app, reqwest::Method::POST, path, Some(body)).await, 201).await
}

/// Jobs end as they are made, under a strict catalog with one configured instance (`i1` of `p1`,
/// one task) and `i2` of `p1` (empty).
async fn strict_app() -> TestApp {
    spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.catalog.strict = true;
        let task = AssetConfig {
            id: "t1".into(),
            name: "nightly sync".into(),
            content: json!({"cron": "0 0 * * *"}),
            ..Default::default()
        };
        c.instances = vec![
            InstanceConfig {
                id: "i1".into(),
                project: Some("p1".into()),
                apps: Vec::new(),
                tasks: vec![task],
            },
            InstanceConfig {
                id: "i2".into(),
                project: Some("p1".into()),
                ..InstanceConfig::default()
            },
        ];
    })
    .await
}

#[tokio::test]
async fn applications_are_made_listed_found_changed_and_deleted_as_the_sdk_models_say() {
    let app = strict_app().await;
    let made = create(
        &app,
        APPS,
        json!({"name": "orders (v2)", "remark": "first", "favorite": false}),
    )
    .await;
    let id = made["id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 36, "a UUID: {made}");
    assert_eq!(
        (made["name"].as_str(), made["remark"].as_str()),
        (Some("orders (v2)"), Some("first"))
    );
    assert_eq!(
        made["key"].as_str().map(str::len),
        Some(32),
        "a drawn key: {made}"
    );
    assert_eq!(made["owner"], true);
    assert!(made["created_user"]["user_name"].is_string(), "{made}");
    assert!(
        made["create_time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{made}"
    );
    let fav = create(
        &app,
        APPS,
        json!({"name": "billing", "key": "billing-key-1", "favorite": true}),
    )
    .await;

    // Unique names and keys; the pages' characters and lengths.
    for (body, field) in [
        (json!({"name": "orders (v2)"}), "name"),
        (json!({"name": "other", "key": "billing-key-1"}), "key"),
        (json!({"name": "bad/name"}), "name"),
        (json!({"name": ""}), "name"),
        (json!({"name": "n".repeat(65)}), "name"),
        (json!({"name": "ok", "key": "short"}), "key"),
        (json!({"name": "ok", "secret": "has space 123"}), "secret"),
        (json!({"remark": "no name"}), "name"),
        (json!({"name": 7}), "body"),
    ] {
        let res = send(&app, reqwest::Method::POST, APPS, Some(body.clone())).await;
        let err = assert_roma_error(res, 403, "ROMA.13000").await;
        assert!(
            err["error_details"].as_str().is_some_and(|d| d.contains(field)),
            "{body}: {err}"
        );
    }

    let list = ok_json(send(&app, reqwest::Method::GET, APPS, None).await, 200).await;
    assert_eq!(
        (list["total"].as_u64(), list["size"].as_u64()),
        (Some(2), Some(2)),
        "{list}"
    );
    assert_eq!(list["apps"][0]["name"], "billing", "favourites first: {list}");
    let page = ok_json(
        send(
            &app,
            reqwest::Method::GET,
            &format!("{APPS}?offset=1&limit=1"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (page["total"].as_u64(), page["size"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(page["apps"][0]["name"], "orders (v2)");
    let named = ok_json(
        send(&app, reqwest::Method::GET, &format!("{APPS}?name=ORDER"), None).await,
        200,
    )
    .await;
    assert_eq!(named["total"], 1, "fuzzy, any case: {named}");
    let favs = ok_json(
        send(
            &app,
            reqwest::Method::GET,
            &format!("{APPS}?favorite=false"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(favs["apps"][0]["name"], "orders (v2)");
    for bad in ["limit=0", "limit=x", "offset=-1", "favorite=maybe"] {
        let res = send(&app, reqwest::Method::GET, &format!("{APPS}?{bad}"), None).await;
        assert_roma_error(res, 403, "ROMA.13000").await;
    }

    let one = ok_json(
        send(&app, reqwest::Method::GET, &format!("{APPS}/{id}"), None).await,
        200,
    )
    .await;
    assert_eq!(one, made);
    let changed = ok_json(
        send(
            &app,
            reqwest::Method::PUT,
            &format!("{APPS}/{id}"),
            Some(json!({"remark": "second", "favorite": true})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (changed["remark"].as_str(), changed["favorite"].as_bool()),
        (Some("second"), Some(true))
    );
    assert_eq!(changed["name"], made["name"], "what is not given stays");
    let clash = send(
        &app,
        reqwest::Method::PUT,
        &format!("{APPS}/{id}"),
        Some(json!({"name": "billing"})),
    )
    .await;
    assert_roma_error(clash, 403, "ROMA.13000").await;

    let v = "/v2/p1/instances/i1/validate-apps";
    let by_key = ok_json(
        send(
            &app,
            reqwest::Method::GET,
            &format!("{v}?key=billing-key-1"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_key, json!({"id": fav["id"], "name": "billing", "remark": ""}));
    let by_name = ok_json(
        send(
            &app,
            reqwest::Method::GET,
            &format!("{v}?name=orders%20(v2)"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_name["id"], id.as_str());
    let none = send(&app, reqwest::Method::GET, &format!("{v}?name=orders"), None).await;
    assert_roma_error(none, 404, "ROMA.00110006").await;
    assert_roma_error(send(&app, reqwest::Method::GET, v, None).await, 403, "ROMA.13000").await;

    let gone = send(&app, reqwest::Method::DELETE, &format!("{APPS}/{id}"), None).await;
    assert_eq!(gone.status(), 204);
    let again = send(&app, reqwest::Method::GET, &format!("{APPS}/{id}"), None).await;
    assert_roma_error(again, 404, "ROMA.00110006").await;
    let twice = send(&app, reqwest::Method::DELETE, &format!("{APPS}/{id}"), None).await;
    assert_roma_error(twice, 404, "ROMA.00110006").await;
}

#[tokio::test]
async fn one_catalog_serves_the_asset_jobs_and_the_application_api() {
    let app = strict_app().await;
    let made = create(
        &app,
        APPS,
        json!({"name": "orders", "remark": "to move", "key": "orders-key"}),
    )
    .await;
    let id = made["id"].as_str().expect("id");
    // A strict export takes the application made by the API, and its package carries the record.
    let package = app
        .export_and_download(TOKEN, "i1", &format!(r#"{{"apps":[{{"id":"{id}"}}]}}"#))
        .await;
    let imported = app
        .import_in(TOKEN, "p1", "i2", "?prefix=dev_", "file", "pkg.zip", package)
        .await;
    let job = assert_job_created(imported).await;
    assert_eq!(app.job_json(TOKEN, "p1", "i2", &job).await["status"], "Success");
    let target = "/v2/p1/instances/i2/apps";
    let listed = ok_json(send(&app, reqwest::Method::GET, target, None).await, 200).await;
    assert_eq!(listed["total"], 1, "{listed}");
    let moved = &listed["apps"][0];
    assert_eq!(
        (moved["id"].as_str(), moved["name"].as_str()),
        (Some(id), Some("dev_orders"))
    );
    assert_eq!(
        (moved["remark"].as_str(), moved["key"].as_str()),
        (Some("to move"), Some("orders-key"))
    );
    let found = send(
        &app,
        reqwest::Method::GET,
        "/v2/p1/instances/i2/validate-apps?name=dev_orders",
        None,
    )
    .await;
    assert_eq!(ok_json(found, 200).await["id"], id);
    // DeleteAsset removes what CreateRomaApp made.
    let deleted = app
        .delete(TOKEN, "p1", "i1", &format!(r#"{{"apps":[{{"id":"{id}"}}]}}"#))
        .await;
    let job = assert_job_created(deleted).await;
    assert_eq!(app.job_json(TOKEN, "p1", "i1", &job).await["status"], "Success");
    let gone = send(&app, reqwest::Method::GET, &format!("{APPS}/{id}"), None).await;
    assert_roma_error(gone, 404, "ROMA.00110006").await;
}

#[tokio::test]
async fn applications_made_by_the_api_count_against_the_catalog_limits() {
    let app = spawn_app_with(|c| c.catalog.max_assets_per_instance = 2).await;
    create(&app, APPS, json!({"name": "a"})).await;
    create(&app, APPS, json!({"name": "b"})).await;
    let over = send(&app, reqwest::Method::POST, APPS, Some(json!({"name": "c"}))).await;
    let err = assert_roma_error(over, 403, "ROMA.10010").await;
    assert!(
        err["error_details"]
            .as_str()
            .is_some_and(|d| d.contains("max_assets_per_instance")),
        "{err}"
    );
}

#[tokio::test]
async fn tasks_are_listed_shown_and_deleted() {
    let app = strict_app().await;
    let tasks = "/v2/p1/fdi/instances/i1/tasks";
    let list = ok_json(send(&app, reqwest::Method::GET, tasks, None).await, 200).await;
    assert_eq!(
        (list["total"].as_u64(), list["size"].as_u64()),
        (Some(1), Some(1)),
        "{list}"
    );
    assert_eq!(
        (
            list["entities"][0]["task_id"].as_str(),
            list["entities"][0]["task_name"].as_str()
        ),
        (Some("t1"), Some("nightly sync"))
    );
    let filtered = ok_json(
        send(&app, reqwest::Method::GET, &format!("{tasks}?name=weekly"), None).await,
        200,
    )
    .await;
    assert_eq!(filtered["total"], 0);
    let by_id = ok_json(
        send(&app, reqwest::Method::GET, &format!("{tasks}?task_id=t1"), None).await,
        200,
    )
    .await;
    assert_eq!(by_id["total"], 1);
    let shown = ok_json(
        send(&app, reqwest::Method::GET, &format!("{tasks}/t1"), None).await,
        200,
    )
    .await;
    assert_eq!(shown["task"]["task_name"], "nightly sync");
    assert_eq!(shown["task_detail"], r#"{"cron":"0 0 * * *"}"#);
    assert_eq!(
        send(&app, reqwest::Method::DELETE, &format!("{tasks}/t1"), None)
            .await
            .status(),
        204
    );
    let gone = send(&app, reqwest::Method::GET, &format!("{tasks}/t1"), None).await;
    assert_roma_error(gone, 404, "ROMA.00110006").await;
}

#[tokio::test]
async fn a_project_lists_its_configured_and_used_instances() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.instances = vec![InstanceConfig {
            id: "configured".into(),
            project: Some("p1".into()),
            ..InstanceConfig::default()
        }];
    })
    .await;
    assert_job_created(app.export(TOKEN, "p1", "used", r#"{"apps":["x"]}"#).await).await;
    assert_job_created(app.export(TOKEN, "p2", "elsewhere", r#"{"apps":["x"]}"#).await).await;
    let list = ok_json(
        send(&app, reqwest::Method::GET, "/v2/p1/instances", None).await,
        200,
    )
    .await;
    let ids: Vec<&str> = list["instances"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, ["configured", "used"], "{list}");
    assert_eq!(list["instances"][0]["status"], "RUNNING");
    assert_eq!(list["instances"][0]["project_id"], "p1");
    let paged = ok_json(
        send(
            &app,
            reqwest::Method::GET,
            "/v2/p1/instances?offset=-5&limit=1",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (paged["total"].as_u64(), paged["size"].as_u64()),
        (Some(2), Some(1)),
        "a negative offset reads as 0"
    );
    let stopped = ok_json(
        send(
            &app,
            reqwest::Method::GET,
            "/v2/p1/instances?status=STOPPED",
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(stopped["total"], 0);
}

/// D2: under a strict catalog an unknown instance is ROMA.00110002 on every operation, the job
/// and archive GETs included (they answered ROMA.00110006 before #29).
#[tokio::test]
async fn an_unknown_instance_is_roma_00110002_on_every_operation() {
    let app = strict_app().await;
    let job = assert_job_created(app.export(TOKEN, "p1", "i1", r#"{"apps":["x"]}"#).await).await;
    let status = app.job(TOKEN, "p1", "ghost", &job).await;
    assert_roma_error(status, 404, "ROMA.00110002").await;
    let archive = app.download(TOKEN, "p1", "ghost", &job).await;
    assert_roma_error(archive, 404, "ROMA.00110002").await;
    for path in [
        "/v2/p1/instances/ghost/apps",
        "/v2/p1/fdi/instances/ghost/tasks",
        "/v2/p2/instances/i1/apps",
    ] {
        let res = send(&app, reqwest::Method::GET, path, None).await;
        assert_roma_error(res, 404, "ROMA.00110002").await;
    }
}

/// D2: the error-code examples answer ROMA.00110002 with 500; `[api] error_statuses = "catalog"` does.
#[tokio::test]
async fn roma_00110002_is_500_under_catalog_statuses() {
    let app = spawn_app_with(|c| {
        c.catalog.strict = true;
        c.api.error_statuses = ErrorStatuses::Catalog;
    })
    .await;
    let res = send(&app, reqwest::Method::GET, "/v2/p1/instances/ghost/apps", None).await;
    assert_roma_error(res, 500, "ROMA.00110002").await;
}

#[tokio::test]
async fn applications_made_by_the_api_survive_a_state_round_trip() {
    let app = spawn_app().await;
    let made = create(
        &app,
        APPS,
        json!({"name": "kept", "remark": "r", "key": "kept-key-1", "secret": "Sec-ret-7788"}),
    )
    .await;
    let state = app.control_json("/_emulator/state").await;
    assert!(!state.to_string().contains("Sec-ret-7788"), "no secret is kept");
    let other = spawn_app().await;
    assert_eq!(other.put_state(&state).await.status(), 200);
    let mut back = ok_json(
        send(
            &other,
            reqwest::Method::GET,
            &format!("{APPS}/{}", made["id"].as_str().expect("id")),
            None,
        )
        .await,
        200,
    )
    .await;
    // `owner` is whether the caller made it: an open-mode name is keyed per emulator.
    let (mut made, _) = (made, back["owner"].take());
    made["owner"].take();
    assert_eq!(back, made);
}

/// A state written by version 2 (`tests/fixtures/state/v2.json`, made by the emulator before #29:
/// an export of `i1` downloaded and imported into `i2` with `prefix=v2_`, a second export whose
/// archive waits) loads as it is: its application is listed without a record, its archive waits,
/// and the state is written back as this version's.
#[tokio::test]
async fn a_version_2_state_loads_and_its_applications_are_listed() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state/v2.json");
    let mut v2: Value = serde_json::from_slice(&std::fs::read(path).expect("v2.json")).expect("JSON");
    assert_eq!(v2["version"], 2);
    v2["clock"] = v2["registry"]["jobs"][2]["end"].clone();
    let app = spawn_app_with(|c| c.clock.mode = roma_emulator::config::ClockMode::Virtual).await;
    let put = app.put_state(&v2).await;
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap_or_default());
    let list = ok_json(
        send(&app, reqwest::Method::GET, "/v2/p1/instances/i2/apps", None).await,
        200,
    )
    .await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(
        (list["apps"][0]["name"].as_str(), list["apps"][0]["key"].as_str()),
        (Some("v2_app-1"), Some("app-1"))
    );
    let jobs = app.control_json("/_emulator/jobs").await;
    assert_eq!(jobs["total"], 3, "{jobs}");
    assert!(
        jobs["jobs"][2]["archive_id"].is_string(),
        "the waiting archive: {jobs}"
    );
    assert_eq!(
        app.control_json("/_emulator/state").await["version"],
        roma_emulator::persist::VERSION
    );
}

/// A catalog operation is a first-class one: a fault names it, the journal records it, the metrics
/// count it under its name.
#[tokio::test]
async fn a_catalog_operation_is_faultable_journaled_and_counted() {
    let app = spawn_app().await;
    let (status, _) = app
        .control_post(
            "/_emulator/faults",
            json!({"operation": "ListRomaApp", "status": 503, "times": 1}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(send(&app, reqwest::Method::GET, APPS, None).await.status(), 503);
    assert_eq!(send(&app, reqwest::Method::GET, APPS, None).await.status(), 200);
    let journal = app.control_json("/_emulator/requests?limit=5").await;
    let ops: Vec<&str> = journal["requests"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["operation"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ops, ["ListRomaApp", "ListRomaApp"], "{journal}");
    let metrics = app
        .client
        .get(app.url("/_emulator/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("roma_emulator_requests_total")
                && l.contains("operation=\"ListRomaApp\"")
                && l.contains("status=\"503\"")),
        "{metrics}"
    );
}

/// `[[instances.apps]]` may give an application's record (D26): ListRomaApp and ValidateRomaApp show it.
#[tokio::test]
async fn a_configured_application_shows_its_remark_key_and_favourite() {
    let app = spawn_app_with(|c| {
        let app = |id: &str, remark: Option<&str>, key: Option<&str>, favorite| AssetConfig {
            id: id.into(),
            remark: remark.map(Into::into),
            key: key.map(Into::into),
            favorite,
            ..Default::default()
        };
        c.instances = vec![InstanceConfig {
            id: "i1".into(),
            apps: vec![
                app("a-plain", None, None, false),
                app("b-fav", Some("kept"), Some("fav-key-01"), true),
            ],
            ..InstanceConfig::default()
        }];
    })
    .await;
    let list = ok_json(send(&app, reqwest::Method::GET, APPS, None).await, 200).await;
    let names: Vec<(&str, &str, &str)> = list["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| Some((a["id"].as_str()?, a["key"].as_str()?, a["remark"].as_str()?)))
        .collect();
    assert_eq!(
        names,
        [("b-fav", "fav-key-01", "kept"), ("a-plain", "a-plain", "")],
        "{list}"
    );
    assert_eq!(list["apps"][1]["create_time"], "1970-01-01T00:00:00Z");
    let found = send(
        &app,
        reqwest::Method::GET,
        "/v2/p1/instances/i1/validate-apps?key=fav-key-01",
        None,
    )
    .await;
    assert_eq!(ok_json(found, 200).await["id"], "b-fav");
}
