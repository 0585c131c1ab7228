//! The control plane: reset, inspection, waiting, progression, virtual time, journal, faults, seed,
//! admin token, OpenAPI and the error catalog, over HTTP and through the in-process handle.

use std::time::Duration;

use roma_emulator::config::{ClockMode, Config, InstanceConfig, Progression, Secret, UserConfig};
use roma_emulator::control::WaitFor;
use roma_emulator::faults::FaultSpec;
use roma_emulator::jobs::{JobFilter, PublicStatus};
use serde_json::{Value, json};

use crate::helpers::{TOKEN, TestApp, assert_job_created, assert_roma_error, spawn_app, spawn_app_with};

const BODY: &str = r#"{"apps": [{"id": "app-1"}]}"#;

fn virtual_clock(c: &mut Config) {
    c.clock.mode = ClockMode::Virtual;
    c.jobs.duration_ms = 60_000;
}

#[tokio::test]
async fn a_virtual_clock_advanced_60_s_finishes_a_60_s_job_without_sleeping() {
    let app = spawn_app_with(virtual_clock).await;
    let before = app.control_json("/_emulator/clock").await;
    assert_eq!(before["mode"], "virtual");
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let (status, after) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 59_999}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.job_json(TOKEN, "p1", "i1", &job).await["status"], "Running");
    let (_, now) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 1}))
        .await;
    let done = app.job_json(TOKEN, "p1", "i1", &job).await;
    assert_eq!(done["status"], "Success");
    assert_eq!(done["progress_percent"], 1.0);
    let t = |v: &Value| {
        roma_emulator::clock::Timestamp::parse_rfc3339(v.as_str().unwrap_or_default()).expect("time")
    };
    assert_eq!(t(&now["now"]).since(t(&before["now"])), Duration::from_secs(60));
    assert_eq!(
        t(&done["end_time"]).since(t(&done["begin_time"])),
        Duration::from_secs(60)
    );
    assert!(after["now"].as_str().is_some());
}

#[tokio::test]
async fn advancing_applies_each_job_change_at_its_own_due_time() {
    let app = spawn_app_with(virtual_clock).await;
    let first = assert_job_created(app.export_one("u1").await).await;
    app.control_post("/_emulator/clock", json!({"advance_ms": 30_000}))
        .await;
    let second = assert_job_created(app.export_one("u2").await).await;
    let (_, now) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 45_000}))
        .await;
    let a = app.job_json("u1", "p1", "i1", &first).await;
    let b = app.job_json("u2", "p1", "i1", &second).await;
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("Success"), Some("Running"))
    );
    let t = |v: &Value| {
        roma_emulator::clock::Timestamp::parse_rfc3339(v.as_str().unwrap_or_default()).expect("time")
    };
    assert_eq!(
        t(&a["end_time"]).since(t(&a["begin_time"])),
        Duration::from_secs(60),
        "ended at its due time"
    );
    assert!(
        (b["progress_percent"].as_f64().unwrap_or_default() - 0.75).abs() < 1e-9,
        "{b}"
    );
    // Setting the time works too: the second job is due 15 s after "now" (75 s after the first began).
    let target = t(&now["now"]).plus(Duration::from_secs(15)).rfc3339_millis();
    let (status, _) = app.control_post("/_emulator/clock", json!({"set": target})).await;
    assert_eq!(status, 200);
    assert_eq!(app.job_json("u2", "p1", "i1", &second).await["status"], "Success");
}

#[tokio::test]
async fn issued_tokens_expire_on_the_virtual_clock() {
    let app = spawn_app_with(|c| {
        virtual_clock(c);
        c.auth.token_ttl_s = 60;
        c.auth.users = vec![UserConfig {
            name: "alice".into(),
            password: Some(Secret::new("pw")),
            ..Default::default()
        }];
    })
    .await;
    let token = crate::helpers::issue_token(&app.client, &app.server.base_url(), "alice", "pw", "p1").await;
    assert_eq!(app.job(&token, "p1", "i1", "x").await.status(), 404, "valid");
    app.control_post("/_emulator/clock", json!({"advance_ms": 60_000}))
        .await;
    assert_roma_error(app.job(&token, "p1", "i1", "x").await, 401, "APIG.0307").await;
}

#[tokio::test]
async fn clock_requests_are_checked() {
    let real = spawn_app().await;
    let (status, body) = real
        .control_post("/_emulator/clock", json!({"advance_ms": 1}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (409, Some("EMULATOR.0409"))
    );
    assert_eq!(real.control_json("/_emulator/clock").await["mode"], "real");
    let app = spawn_app_with(virtual_clock).await;
    for bad in [
        json!({}),
        json!({"advance_ms": 1, "set": "2024-01-01T00:00:00Z"}),
        json!({"set": "soon"}),
        json!({"advance_ms": -1}),
    ] {
        let (status, body) = app.control_post("/_emulator/clock", bad.clone()).await;
        assert_eq!(
            (status, body["error_code"].as_str()),
            (400, Some("ROMA.13000")),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn immediate_progression_ends_jobs_when_created() {
    let app = spawn_app_with(|c| {
        c.jobs.progression = Progression::Immediate;
        c.jobs.duration_ms = 60_000;
    })
    .await;
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    assert_eq!(app.job_json(TOKEN, "p1", "i1", &job).await["status"], "Success");
}

#[tokio::test]
async fn manual_jobs_run_until_completed_or_failed() {
    let app = spawn_app_with(|c| c.jobs.progression = Progression::Manual).await;
    let done = assert_job_created(app.export_one("u1").await).await;
    let failed = assert_job_created(app.export_one("u2").await).await;
    let running = app.job_json("u1", "p1", "i1", &done).await;
    assert_eq!(
        (running["status"].as_str(), running["progress_percent"].as_f64()),
        (Some("Running"), Some(0.0))
    );

    let (status, completed) = app
        .control_post(&format!("/_emulator/jobs/{done}/complete"), json!(null))
        .await;
    assert_eq!(status, 200);
    assert_eq!(completed["status"], "Success");
    assert!(completed["archive_id"].is_string());
    assert!(
        completed["user"]
            .as_str()
            .is_some_and(|u| u.starts_with("token-")),
        "{completed}"
    );
    assert_eq!(
        (
            completed["project_id"].as_str(),
            completed["instance_id"].as_str()
        ),
        (Some("p1"), Some("i1"))
    );

    let reasons = json!({"reasons": [{"resource_type": "task", "resource_name": "t9", "error_code": "ROMA.10010", "error_msg": "boom"}]});
    let (status, f) = app
        .control_post(&format!("/_emulator/jobs/{failed}/fail"), reasons)
        .await;
    assert_eq!(status, 200);
    assert_eq!(f["status"], "Failed");
    assert_eq!(
        f["reasons"],
        json!([{"resource_type": "task", "resource_name": "t9", "error_code": "ROMA.10010", "error_msg": "boom"}])
    );
    assert_eq!(app.job_json("u2", "p1", "i1", &failed).await["status"], "Failed");

    let (status, again) = app
        .control_post(&format!("/_emulator/jobs/{done}/complete"), json!(null))
        .await;
    assert_eq!(
        (status, again["error_code"].as_str()),
        (409, Some("EMULATOR.0409"))
    );
    let res = app
        .control(
            reqwest::Method::POST,
            &format!("/_emulator/jobs/{}/fail", "0".repeat(32)),
        )
        .send()
        .await;
    assert_roma_error(res.expect("request"), 404, "ROMA.00110006").await;
    // A fail with no body gets one default reason.
    let third = assert_job_created(app.export_one("u3").await).await;
    let res = app
        .control(reqwest::Method::POST, &format!("/_emulator/jobs/{third}/fail"))
        .send()
        .await
        .expect("fail");
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["reasons"][0]["error_code"], "ROMA.00000101");
}

#[tokio::test]
async fn jobs_are_listed_with_filters_and_found_by_id() {
    let app = spawn_app_with(|c| c.jobs.progression = Progression::Manual).await;
    let a = assert_job_created(app.export("alice", "p1", "i1", BODY).await).await;
    let b = assert_job_created(app.delete("alice", "p2", "i2", BODY).await).await;
    let c = assert_job_created(app.export("bob", "p1", "i2", BODY).await).await;
    app.control_post(&format!("/_emulator/jobs/{c}/complete"), json!(null))
        .await;
    let ids = |v: Value| -> Vec<String> {
        v["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .map(|j| j["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(ids(app.control_json("/_emulator/jobs").await).len(), 3);
    assert_eq!(
        ids(app.control_json("/_emulator/jobs?project_id=p1").await),
        vec![a.clone(), c.clone()]
    );
    assert_eq!(
        ids(app.control_json("/_emulator/jobs?type=deleteAsset").await),
        vec![b.clone()]
    );
    assert_eq!(
        ids(app
            .control_json("/_emulator/jobs?instance_id=i2&status=Success")
            .await),
        vec![c.clone()]
    );
    assert_eq!(
        ids(app
            .control_json("/_emulator/jobs?status=RUNNING&project_id=p1")
            .await),
        vec![a.clone()]
    );
    let alice_user = app.control_json(&format!("/_emulator/jobs/{a}")).await["user"]
        .as_str()
        .map(str::to_owned);
    let by_user = app
        .control_json(&format!(
            "/_emulator/jobs?user={}",
            alice_user.unwrap_or_default()
        ))
        .await;
    assert_eq!(ids(by_user), vec![a.clone(), b.clone()]);
    let one = app.control_json(&format!("/_emulator/jobs/{b}")).await;
    assert_eq!(
        (
            one["type"].as_str(),
            one["project_id"].as_str(),
            one["instance_id"].as_str()
        ),
        (Some("deleteAsset"), Some("p2"), Some("i2"))
    );
    for bad in [
        "/_emulator/jobs?type=copyAsset",
        "/_emulator/jobs?status=Done",
        "/_emulator/jobs?colour=red",
    ] {
        let res = app
            .control(reqwest::Method::GET, bad)
            .send()
            .await
            .expect("request");
        assert_roma_error(res, 400, "ROMA.13000").await;
    }
}

#[tokio::test]
async fn wait_returns_once_the_job_gets_there_or_408() {
    let app = spawn_app_with(|c| c.jobs.progression = Progression::Manual).await;
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let res = app
        .control(
            reqwest::Method::GET,
            &format!("/_emulator/jobs/{job}/wait?status=Success&timeout_ms=50"),
        )
        .send()
        .await;
    let err = assert_roma_error(res.expect("request"), 408, "EMULATOR.0408").await;
    assert!(
        err["error_details"]
            .as_str()
            .unwrap_or_default()
            .contains("Running")
    );

    let waiter = app
        .control(
            reqwest::Method::GET,
            &format!("/_emulator/jobs/{job}/wait?status=Success&timeout_ms=10000"),
        )
        .send();
    let completer = async {
        // The wait is registered by the time the completion lands, or it sees Success at once.
        tokio::task::yield_now().await;
        app.control_post(&format!("/_emulator/jobs/{job}/complete"), json!(null))
            .await
    };
    let (waited, (status, _)) = tokio::join!(waiter, completer);
    assert_eq!(status, 200);
    let waited: Value = waited.expect("wait").json().await.expect("JSON");
    assert_eq!(waited["status"], "Success");

    let real = spawn_app_with(|c| c.jobs.duration_ms = 150).await;
    let timed = assert_job_created(real.export_one(TOKEN).await).await;
    let done = real
        .control_json(&format!("/_emulator/jobs/{timed}/wait?timeout_ms=5000"))
        .await;
    assert_eq!(
        done["status"], "Success",
        "a timed job is seen at its due time, no client polling"
    );
    let res = real
        .control(
            reqwest::Method::GET,
            &format!("/_emulator/jobs/{timed}/wait?timeout_ms=999999"),
        )
        .send()
        .await;
    assert_roma_error(res.expect("request"), 400, "ROMA.13000").await;
}

/// One tenant of a shared emulator: creates jobs in its own project, resets only its namespace,
/// and checks the other tenant's work is untouched.
async fn tenant(app: &TestApp, project: &str) {
    let token = format!("token-of-{project}");
    let mine = assert_job_created(app.export(&token, project, "shared-instance", BODY).await).await;
    let jobs = app
        .control_json(&format!("/_emulator/jobs?project_id={project}"))
        .await;
    assert_eq!(jobs["jobs"].as_array().map(Vec::len), Some(1));
    let (status, body) = app
        .control_post(&format!("/_emulator/reset?project_id={project}"), json!(null))
        .await;
    assert_eq!(
        (status, body["reset"]["project_id"].as_str()),
        (200, Some(project))
    );
    assert_roma_error(
        app.job(&token, project, "shared-instance", &mine).await,
        404,
        "ROMA.00110006",
    )
    .await;
    let again = assert_job_created(app.export(&token, project, "shared-instance", BODY).await).await;
    assert_eq!(
        app.job_json(&token, project, "shared-instance", &again).await["status"],
        "Running"
    );
}

#[tokio::test]
async fn parallel_tests_in_different_namespaces_with_a_scoped_reset_do_not_clobber_each_other() {
    let app = spawn_app().await;
    let b_token = "token-of-team-b";
    let b_first = assert_job_created(app.export(b_token, "team-b", "shared-instance", BODY).await).await;
    tokio::join!(tenant(&app, "team-a"), async {
        // Team B keeps working while team A resets its namespace.
        for _ in 0..5 {
            assert_eq!(
                app.job_json(b_token, "team-b", "shared-instance", &b_first).await["status"],
                "Running"
            );
            tokio::task::yield_now().await;
        }
    });
    assert_eq!(
        app.job_json(b_token, "team-b", "shared-instance", &b_first).await["status"],
        "Running"
    );
    let journal = app.control_json("/_emulator/requests").await;
    let projects: Vec<&str> = journal["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["project_id"].as_str())
        .collect();
    assert!(
        projects.contains(&"team-b"),
        "team B's journal survives team A's reset"
    );
    let a_jobs = app.control_json("/_emulator/jobs?project_id=team-a").await;
    assert_eq!(
        a_jobs["jobs"].as_array().map(Vec::len),
        Some(1),
        "only the job made after the reset"
    );
}

#[tokio::test]
async fn a_full_reset_clears_jobs_archives_journal_and_faults_and_restores_the_catalog() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.catalog.strict = true;
        c.instances = vec![InstanceConfig {
            id: "A".into(),
            project: None,
            apps: vec![roma_emulator::config::AssetConfig {
                id: "app-1".into(),
                ..Default::default()
            }],
            ..Default::default()
        }];
    })
    .await;
    let job = assert_job_created(app.delete(TOKEN, "p1", "A", BODY).await).await;
    let gone = assert_job_created(app.export(TOKEN, "p1", "A", BODY).await).await;
    assert_eq!(
        app.job_json(TOKEN, "p1", "A", &gone).await["status"],
        "Failed",
        "deleted from the catalog"
    );
    app.control_post(
        "/_emulator/faults",
        json!({"operation": "DeleteAsset", "status": 503}),
    )
    .await;
    let (status, body) = app.control_post("/_emulator/reset", json!(null)).await;
    assert_eq!((status, body), (200, json!({"reset": "all"})));
    assert_roma_error(app.job(TOKEN, "p1", "A", &job).await, 404, "ROMA.00110006").await;
    assert_eq!(app.control_json("/_emulator/faults").await, json!({"faults": []}));
    let journal = app.control_json("/_emulator/requests").await;
    assert_eq!(
        journal["requests"].as_array().map(Vec::len),
        Some(1),
        "only the job lookup after the reset"
    );
    let back = assert_job_created(app.export(TOKEN, "p1", "A", BODY).await).await;
    assert_eq!(
        app.job_json(TOKEN, "p1", "A", &back).await["status"],
        "Success",
        "the catalog is back to the config"
    );
}

#[tokio::test]
async fn the_journal_lists_requests_newest_first_without_credentials() {
    let app = spawn_app_with(|c| c.journal.max_entries = 3).await;
    let job = assert_job_created(app.export("secret-token-123", "p1", "i1", BODY).await).await;
    assert_roma_error(app.export("", "p1", "i1", BODY).await, 403, "ROMA.1000").await;
    app.job("secret-token-123", "p1", "i1", &job).await;
    app.control_json("/_emulator/jobs").await; // control requests are not journaled
    let all = app.control_json("/_emulator/requests").await;
    let requests = all["requests"].as_array().expect("requests").clone();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[0]["operation"], "CheckAssetJobStatus");
    assert_eq!(requests[1]["error_code"], "ROMA.1000");
    assert_eq!(requests[1]["user"], Value::Null);
    assert_eq!(requests[2]["operation"], "ExportAsset");
    assert_eq!(requests[2]["method"], "POST");
    assert_eq!(requests[2]["path"], "/v2/p1/instances/i1/assets/export");
    assert_eq!(
        (
            requests[2]["project_id"].as_str(),
            requests[2]["instance_id"].as_str()
        ),
        (Some("p1"), Some("i1"))
    );
    assert_eq!(requests[2]["status"], 200);
    assert!(
        requests[2]["user"]
            .as_str()
            .is_some_and(|u| u.starts_with("token-"))
    );
    assert!(
        !all.to_string().contains("secret-token-123"),
        "no token in the journal"
    );
    assert_eq!(
        app.control_json("/_emulator/requests?limit=1").await["requests"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    app.export(TOKEN, "p1", "i1", BODY).await;
    let bounded = app.control_json("/_emulator/requests").await;
    assert_eq!(
        bounded["requests"].as_array().map(Vec::len),
        Some(3),
        "max_entries"
    );
    let res = app
        .control(reqwest::Method::DELETE, "/_emulator/requests")
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.control_json("/_emulator/requests").await,
        json!({"requests": [], "total": 0, "next_offset": null})
    );
}

#[tokio::test]
async fn a_fault_answers_its_status_and_code_the_given_number_of_times() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let spec = json!({"operation": "ExportAsset", "times": 2, "status": 503, "error_code": "ROMA.00000101"});
    let (status, fault) = app.control_post("/_emulator/faults", spec).await;
    assert_eq!(status, 201);
    assert!(crate::helpers::is_hex32(fault["id"].as_str().unwrap_or_default()));
    assert_eq!(fault["remaining"], 2);
    assert_roma_error(app.export_one(TOKEN).await, 503, "ROMA.00000101").await;
    assert_eq!(
        app.control_json("/_emulator/faults").await["faults"][0]["remaining"],
        1
    );
    assert_roma_error(app.export_one(TOKEN).await, 503, "ROMA.00000101").await;
    assert_job_created(app.export_one(TOKEN).await).await;
    assert_eq!(app.control_json("/_emulator/faults").await, json!({"faults": []}));
    let journal = app.control_json("/_emulator/requests?limit=2").await;
    let faulted = &journal["requests"][1];
    assert_eq!(faulted["error_code"], "ROMA.00000101", "faults are journaled");
    assert!(
        faulted["user"].as_str().is_some_and(|u| u.starts_with("token-")),
        "with their user: {faulted}"
    );
}

#[tokio::test]
async fn faults_narrow_by_user_project_and_instance_and_can_be_removed() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let user = {
        let job = assert_job_created(app.export_one("target-user").await).await;
        app.control_json(&format!("/_emulator/jobs/{job}")).await["user"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (_, fault) = app
        .control_post("/_emulator/faults", json!({"operation": "ExportAsset", "status": 500, "user": user, "project_id": "p1", "instance_id": "i1"}))
        .await;
    assert_job_created(app.export_one("someone-else").await).await;
    assert_job_created(app.export("target-user", "p2", "i1", BODY).await).await;
    assert_job_created(app.export("target-user", "p1", "i2", BODY).await).await;
    assert_roma_error(app.export_one("target-user").await, 500, "ROMA.00000101").await;
    assert_roma_error(app.export_one("target-user").await, 500, "ROMA.00000101").await;
    let id = fault["id"].as_str().expect("id");
    let res = app
        .control(reqwest::Method::DELETE, &format!("/_emulator/faults/{id}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(res.status(), 204);
    assert_job_created(app.export_one("target-user").await).await;
    let res = app
        .control(reqwest::Method::DELETE, &format!("/_emulator/faults/{id}"))
        .send()
        .await
        .expect("delete");
    assert_roma_error(res, 404, "ROMA.00110006").await;
    app.control_post(
        "/_emulator/faults",
        json!({"operation": "CheckAssetJobStatus", "status": 502}),
    )
    .await;
    let res = app
        .control(reqwest::Method::DELETE, "/_emulator/faults")
        .send()
        .await
        .expect("delete all");
    assert_eq!(res.status(), 204);
    assert_eq!(app.control_json("/_emulator/faults").await, json!({"faults": []}));
    let (status, err) = app
        .control_post("/_emulator/faults", json!({"operation": "ExportAsset"}))
        .await;
    assert_eq!((status, err["error_code"].as_str()), (400, Some("ROMA.13000")));
    let (status, _) = app
        .control_post(
            "/_emulator/faults",
            json!({"operation": "ExportAsset", "status": 500, "colour": 1}),
        )
        .await;
    assert_eq!(status, 400, "unknown fields are refused");
}

#[tokio::test]
async fn a_fault_can_delay_an_answer() {
    let app = spawn_app().await;
    app.control_post(
        "/_emulator/faults",
        json!({"operation": "CheckAssetJobStatus", "delay_ms": 200, "times": 1}),
    )
    .await;
    let started = std::time::Instant::now();
    assert_eq!(
        app.job(TOKEN, "p1", "i1", "x").await.status(),
        404,
        "answered normally, late"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn fail_job_makes_the_created_job_fail_at_its_progress() {
    let app = spawn_app_with(virtual_clock).await;
    let spec = json!({"operation": "ExportAsset", "times": 1,
        "fail_job": {"at_progress": 0.5, "reasons": [{"resource_name": "app-1", "error_msg": "injected"}]}});
    assert_eq!(app.control_post("/_emulator/faults", spec).await.0, 201);
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    app.control_post("/_emulator/clock", json!({"advance_ms": 29_999}))
        .await;
    assert_eq!(app.job_json(TOKEN, "p1", "i1", &job).await["status"], "Running");
    app.control_post("/_emulator/clock", json!({"advance_ms": 1}))
        .await;
    let failed = app.job_json(TOKEN, "p1", "i1", &job).await;
    assert_eq!(failed["status"], "Failed");
    assert_eq!(failed["progress_percent"], 0.5);
    assert_eq!(failed["reasons"][0]["resource_name"], "app-1");
    assert_eq!(failed["reasons"][0]["error_msg"], "injected");
    assert!(failed.get("archive_id").is_none());
}

#[tokio::test]
async fn probabilities_draw_from_the_seeded_generator() {
    let outcomes = |seed: u64| async move {
        let app = spawn_app_with(move |c| {
            c.jobs.duration_ms = 0;
            c.emulator.seed = Some(seed);
        })
        .await;
        app.control_post(
            "/_emulator/faults",
            json!({"operation": "CheckAssetJobStatus", "status": 503, "probability": 0.5}),
        )
        .await;
        let mut out = Vec::new();
        for _ in 0..32 {
            out.push(app.job(TOKEN, "p1", "i1", "x").await.status().as_u16());
        }
        out
    };
    let (a, b, c) = (outcomes(7).await, outcomes(7).await, outcomes(8).await);
    assert_eq!(a, b, "the same seed draws the same");
    assert_ne!(a, c, "another seed draws otherwise");
    assert!(a.contains(&503) && a.contains(&404), "about half: {a:?}");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids_run_after_run() {
    let first_ids = |seed: Option<u64>| async move {
        let app = spawn_app_with(move |c| c.emulator.seed = seed).await;
        let res = app.export_one(TOKEN).await;
        let request_id = res.headers()["x-request-id"].to_str().expect("ascii").to_owned();
        (assert_job_created(res).await, request_id)
    };
    let (a, b) = (first_ids(Some(42)).await, first_ids(Some(42)).await);
    assert_eq!(a, b, "job_id and request_id repeat");
    assert_ne!(a.0, first_ids(Some(43)).await.0);
    assert_ne!(
        first_ids(None).await.0,
        first_ids(None).await.0,
        "unseeded runs differ"
    );
}

#[tokio::test]
async fn the_admin_token_closes_the_control_plane_but_not_health() {
    let app = spawn_app_with(|c| c.emulator.admin_token = Some(Secret::new("let-me-in"))).await;
    for path in [
        "/_emulator/jobs",
        "/_emulator/requests",
        "/_emulator/clock",
        "/_emulator/errors",
    ] {
        let res = app
            .control(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request");
        assert_roma_error(res, 401, "EMULATOR.0401").await;
        let wrong = app
            .control(reqwest::Method::GET, path)
            .bearer_auth("nope")
            .send()
            .await
            .expect("request");
        assert_roma_error(wrong, 401, "EMULATOR.0401").await;
        let ok = app
            .control(reqwest::Method::GET, path)
            .bearer_auth("let-me-in")
            .send()
            .await
            .expect("request");
        assert_eq!(ok.status(), 200, "{path}");
    }
    let reset = app
        .control(reqwest::Method::POST, "/_emulator/reset")
        .send()
        .await
        .expect("request");
    assert_roma_error(reset, 401, "EMULATOR.0401").await;
    assert_eq!(
        app.client
            .get(app.url("/_emulator/health"))
            .send()
            .await
            .expect("health")
            .status(),
        200
    );
    assert_job_created(app.export_one(TOKEN).await).await;
}

#[tokio::test]
async fn the_error_catalog_lists_every_code() {
    let app = spawn_app().await;
    let errors = app.control_json("/_emulator/errors").await;
    let listed = errors["errors"].as_array().expect("errors");
    assert_eq!(listed.len(), roma_emulator::error::ErrorCode::ALL.len());
    let codes: Vec<&str> = listed.iter().filter_map(|e| e["error_code"].as_str()).collect();
    for code in [
        "ROMA.1000",
        "ROMA.13000",
        "ROMA.10012",
        "ROMA.00110006",
        "APIG.0301",
        "APIG.0307",
        "IAM.0007",
        "EMULATOR.0408",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
    // A wrong password answers Keystone's body, which has no code (IAM.0004 is IAM's 404).
    assert!(!codes.contains(&"IAM.0004"));
    let keystone = listed
        .iter()
        .find(|e| e["error_code"] == "")
        .expect("the Keystone answer");
    assert_eq!(keystone["status_catalog"], 401);
    let running = listed
        .iter()
        .find(|e| e["error_code"] == "ROMA.10012")
        .expect("ROMA.10012");
    assert_eq!(
        (
            running["status_documented"].as_u64(),
            running["status_catalog"].as_u64()
        ),
        (Some(403), Some(400))
    );
}

#[tokio::test]
async fn the_in_process_handle_offers_the_control_plane_as_typed_methods() {
    let app = spawn_app_with(virtual_clock).await;
    let control = app.server.control();
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    assert_eq!(
        control
            .jobs(&JobFilter {
                status: Some(PublicStatus::Running),
                ..Default::default()
            })
            .len(),
        1
    );
    let waiter = control.wait(
        &job,
        WaitFor::Status(PublicStatus::Success),
        Duration::from_secs(10),
    );
    let mover = async {
        tokio::task::yield_now().await;
        control.advance(Duration::from_secs(60)).expect("virtual clock")
    };
    let (waited, _) = tokio::join!(waiter, mover);
    assert_eq!(waited.expect("reached Success").status, PublicStatus::Success);
    let fault = control
        .add_fault(FaultSpec {
            status: Some(429),
            times: Some(1),
            ..FaultSpec::new(roma_emulator::operation::Operation::ExportAsset)
        })
        .expect("fault");
    assert_eq!(control.faults(), vec![fault]);
    assert_roma_error(app.export_one(TOKEN).await, 429, "ROMA.00000101").await;
    assert_eq!(control.requests(1)[0].status, 429);
    control.reset();
    assert!(control.jobs(&JobFilter::default()).is_empty() && control.requests(10).is_empty());
    assert!(control.job(&job).is_err());
}

#[tokio::test]
async fn the_admin_tokens_scheme_is_read_without_regard_to_case() {
    let app = spawn_app_with(|c| c.emulator.admin_token = Some(Secret::new("admin-secret"))).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let res = app
            .client
            .get(app.url("/_emulator/jobs"))
            .header("Authorization", format!("{scheme} admin-secret"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "{scheme}");
    }
    let res = app
        .client
        .get(app.url("/_emulator/jobs"))
        .header("Authorization", "Basic admin-secret")
        .send()
        .await
        .expect("request");
    assert_roma_error(res, 401, "EMULATOR.0401").await;
}

/// #27 finding 7: the job list pages (`limit`, default 100, at most 1000; `cursor`), says its
/// total, and filters before it pages; the journal pages with `offset` and filters.
#[tokio::test]
async fn the_job_list_and_the_journal_page_and_say_their_total() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.jobs.max_jobs = 1000;
    })
    .await;
    for k in 0..250 {
        let project = if k % 5 == 0 { "p5" } else { "p1" };
        let res = app
            .export(
                &format!("user-{k}"),
                project,
                "i1",
                r#"{"apps":[{"id":"app-1"}]}"#,
            )
            .await;
        assert_job_created(res).await;
    }
    let mut seen = Vec::new();
    let mut path = "/_emulator/jobs".to_owned();
    let mut sizes = Vec::new();
    loop {
        let page = app.control_json(&path).await;
        assert_eq!(page["total"], 250, "{path}");
        let jobs = page["jobs"].as_array().expect("jobs");
        sizes.push(jobs.len());
        seen.extend(
            jobs.iter()
                .map(|j| j["id"].as_str().unwrap_or_default().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/_emulator/jobs?cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 250, "every job once");

    let p5 = app.control_json("/_emulator/jobs?project_id=p5&limit=20").await;
    assert_eq!(p5["total"], 50);
    assert_eq!(p5["jobs"].as_array().map(Vec::len), Some(20));
    assert!(
        p5["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|j| j["project_id"] == "p5"),
        "{p5}"
    );
    let last = app
        .control_json(&format!(
            "/_emulator/jobs?project_id=p5&limit=40&cursor={}",
            p5["next_cursor"].as_str().expect("more")
        ))
        .await;
    assert_eq!(last["jobs"].as_array().map(Vec::len), Some(30));
    assert_eq!(last["next_cursor"], json!(null));

    for bad in ["limit=0", "limit=1001", "cursor=abc"] {
        let res = app
            .control(reqwest::Method::GET, &format!("/_emulator/jobs?{bad}"))
            .send()
            .await
            .expect("GET");
        assert_roma_error(res, 400, "ROMA.13000").await;
    }

    let journal = app
        .control_json("/_emulator/requests?project_id=p5&limit=30")
        .await;
    assert_eq!(journal["total"], 50);
    assert_eq!(journal["requests"].as_array().map(Vec::len), Some(30));
    assert_eq!(journal["next_offset"], 30);
    let rest = app
        .control_json("/_emulator/requests?project_id=p5&limit=30&offset=30")
        .await;
    assert_eq!(rest["requests"].as_array().map(Vec::len), Some(20));
    assert_eq!(rest["next_offset"], json!(null));
    let user = app.control_json("/_emulator/requests?user=nobody").await;
    assert_eq!(user["total"], 0);
    let ok = app.control_json("/_emulator/requests?status=200").await;
    assert_eq!(
        ok["requests"].as_array().map(Vec::len),
        Some(100),
        "the default page"
    );
}
