//! The gateway's flow control (#27, `[gateway]`): 429 `APIG.0308` with the gateway's message and a
//! `Retry-After`, a bucket per user (and per address without one), on the emulator's clock.

use crate::helpers::*;
use roma_emulator::config::ClockMode;
use serde_json::json;

async fn throttled_app() -> TestApp {
    spawn_app_with(|c| {
        c.clock.mode = ClockMode::Virtual;
        c.jobs.duration_ms = 0;
        c.gateway.rate_per_user_per_s = 2;
        c.gateway.rate_per_address_per_s = 1;
    })
    .await
}

#[tokio::test]
async fn a_user_past_its_rate_gets_the_gateways_429_and_another_user_does_not() {
    let app = throttled_app().await;
    let job = assert_job_created(app.export_one("alice").await).await;
    assert_eq!(app.job("alice", "p1", "i1", &job).await.status(), 200);
    let res = app.job("alice", "p1", "i1", &job).await;
    assert_eq!(res.headers()["retry-after"], "1");
    let body = assert_roma_error(res, 429, "APIG.0308").await;
    assert_eq!(
        body["error_msg"],
        "The throttling threshold has been reached: policy user over ratelimit,limit:2,time:1 second"
    );
    assert_job_created(app.export_one("bob").await).await;
    // The control plane is never throttled.
    for _ in 0..5 {
        assert_eq!(app.control_json("/_emulator/clock").await["mode"], "virtual");
    }
    let (status, _) = app
        .control_post("/_emulator/clock", json!({"advance_ms": 1000}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.job("alice", "p1", "i1", &job).await.status(),
        200,
        "refilled on the clock"
    );
}

#[tokio::test]
async fn token_requests_are_throttled_per_address() {
    let app = throttled_app().await;
    let ask = || {
        app.client
            .post(app.url("/v3/auth/tokens"))
            .json(&json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "x", "password": "y"}}}}}))
            .send()
    };
    assert_ne!(ask().await.expect("first").status(), 429);
    let res = ask().await.expect("second");
    assert_eq!(res.status(), 429);
    let body: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(body["error_code"], "APIG.0308");
    assert!(
        body["error_msg"]
            .as_str()
            .is_some_and(|m| m.contains("policy ip")),
        "{body}"
    );
}

#[tokio::test]
async fn off_by_default() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let job = assert_job_created(app.export_one("alice").await).await;
    for _ in 0..50 {
        assert_eq!(app.job("alice", "p1", "i1", &job).await.status(), 200);
    }
}
