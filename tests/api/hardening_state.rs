//! Hardening of the shared state: no input can overflow a time,
//! leave the registry stuck, grow a structure without bound, or smuggle a path into an id.

use reqwest::Method;
use roma_emulator::config::ClockMode;
use serde_json::json;

use std::time::Duration;

use crate::helpers::{TOKEN, assert_job_created, raw_exchange, spawn_app_with};

#[tokio::test]
async fn the_virtual_clock_cannot_pass_year_9999_and_nothing_gets_stuck() {
    let app = spawn_app_with(|c| c.clock.mode = ClockMode::Virtual).await;
    assert_job_created(app.export_one(TOKEN).await).await;
    let (status, body) = app
        .control_post("/_emulator/clock", json!({"advance_ms": u64::MAX / 2}))
        .await;
    assert_eq!(
        (status, body["error_code"].as_str()),
        (400, Some("ROMA.13000")),
        "{body}"
    );
    let (status, body) = app
        .control_post("/_emulator/clock", json!({"set": "9999-12-31T23:59:59Z"}))
        .await;
    assert_eq!(status, 200, "the last second is fine: {body}");
    // The first job ended and expired on the way without a panic; the user's slot is free, and
    // a job begun at the end of time ends there (its 60 s saturate).
    assert_eq!(app.control_json("/_emulator/jobs").await["jobs"], json!([]));
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let (status, body) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 1000}))
        .await;
    assert_eq!(status, 400, "{body}");
    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    assert_eq!(status["begin_time"], "9999-12-31T23:59:59Z", "{status}");
    let listed = app.control_json("/_emulator/jobs").await;
    assert_eq!(listed["jobs"].as_array().map(Vec::len), Some(1), "{listed}");
}

#[tokio::test]
async fn deletes_to_ever_new_instances_grow_nothing() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    for i in 0..50 {
        let res = app
            .delete(TOKEN, "p1", &format!("new-{i}"), r#"{"apps": [{"id": "a"}]}"#)
            .await;
        assert_job_created(res).await;
    }
    assert_eq!(app.server.state().jobs.footprint().catalog_instances, 0);
}

#[tokio::test]
async fn scoped_resets_leave_no_queue_entries_behind() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    for i in 0..50 {
        assert_job_created(
            app.export(&format!("t{i}"), "p1", "i1", r#"{"apps": [{"id": "a"}]}"#)
                .await,
        )
        .await;
        let res = app
            .control(Method::POST, "/_emulator/reset?project_id=p1")
            .send()
            .await
            .expect("reset");
        assert_eq!(res.status(), 200);
    }
    let footprint = app.server.state().jobs.footprint();
    assert_eq!(
        (footprint.jobs, footprint.expiry, footprint.archive_order),
        (0, 0, 0),
        "{footprint:?}"
    );
}

#[tokio::test]
async fn encoded_separators_and_nul_in_path_ids_are_refused() {
    let app = spawn_app_with(|_| {}).await;
    for bad in ["a%00b", "a%2Fb", "%2E%2E", "%2e", "a%5Cb"] {
        // Raw bytes: an HTTP client would resolve %2E%2E itself.
        let request = format!(
            "GET /v2/p1/instances/{bad}/assets/jobs/0123 HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\nConnection: close\r\n\r\n"
        );
        let (answer, _) = raw_exchange(
            app.server.local_addr(),
            request.as_bytes(),
            Duration::from_secs(5),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{bad}: {answer}");
        assert!(answer.contains(r#""error_code":"ROMA.13000""#), "{bad}: {answer}");
        assert!(
            answer.contains(r#""error_details":"instance_id"#),
            "{bad}: {answer}"
        );
    }
}
