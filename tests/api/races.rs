//! Races on the one-Running-job rule (D9, #27): exports, completions and failures, clock moves,
//! resets and state imports at once, from many tasks. No user may ever hold two Running exports,
//! the registry's running index must agree with its jobs, and the metrics' counts with the list.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::helpers::*;
use roma_emulator::config::{ClockMode, Progression};
use serde_json::{Value, json};

const USERS: usize = 6;

/// Every Running export, by user; fails when a user holds two.
async fn running_exports(app: &TestApp) -> Vec<(String, String)> {
    let page = app
        .control_json("/_emulator/jobs?type=exportAsset&status=Running&limit=1000")
        .await;
    let jobs: Vec<(String, String)> = page["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| {
            (
                j["user"].as_str().unwrap_or_default().to_owned(),
                j["id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut users: Vec<&String> = jobs.iter().map(|(u, _)| u).collect();
    users.sort();
    let before = users.len();
    users.dedup();
    assert_eq!(users.len(), before, "a user holds two Running exports: {page}");
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_user_ever_holds_two_running_exports_under_concurrent_control() {
    let app = Arc::new(
        spawn_app_with(|c| {
            c.jobs.progression = Progression::Manual;
            c.clock.mode = ClockMode::Virtual;
            c.jobs.max_jobs = 500;
        })
        .await,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for u in 0..USERS {
        let (app, stop) = (app.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let res = app
                    .export(&format!("racer-{u}"), "p1", "i1", r#"{"apps":[{"id":"app-1"}]}"#)
                    .await;
                assert!(
                    matches!(res.status().as_u16(), 200 | 403 | 400),
                    "export: {}",
                    res.status()
                );
            }
        }));
    }
    {
        let (app, stop) = (app.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = 0u32;
            while !stop.load(Ordering::Relaxed) {
                for (_, id) in running_exports(&app).await {
                    let action = if k.is_multiple_of(2) { "complete" } else { "fail" };
                    let (status, _) = app
                        .control_post(&format!("/_emulator/jobs/{id}/{action}"), json!({}))
                        .await;
                    // Another task may have ended it, or a reset removed it, first.
                    assert!(matches!(status, 200 | 404 | 409), "{action}: {status}");
                    k += 1;
                }
            }
        }));
    }
    {
        let (app, stop) = (app.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut k = 0u32;
            while !stop.load(Ordering::Relaxed) {
                match k % 4 {
                    0 => {
                        let (status, _) = app
                            .control_post("/_emulator/clock", json!({"advance_ms": 250}))
                            .await;
                        assert_eq!(status, 200);
                    }
                    1 => {
                        let (status, _) = app
                            .control_post("/_emulator/reset?project_id=p1", json!(null))
                            .await;
                        assert_eq!(status, 200);
                    }
                    _ => {
                        let state: Value = app.control_json("/_emulator/state").await;
                        let res = app.put_state(&state).await;
                        // A state taken a moment ago may no longer fit beside what happened since:
                        // refused whole (400), never half-applied.
                        assert!(
                            matches!(res.status().as_u16(), 200 | 400),
                            "PUT: {}",
                            res.status()
                        );
                    }
                }
                k += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let mut seen = 0;
    for _ in 0..40 {
        seen += running_exports(&app).await.len();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen > 0, "the storm had Running exports to race on");
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("a task panicked");
    }
    // At rest: the registry's own indexes agree with its jobs, and the metrics with the list.
    let running = running_exports(&app).await;
    let footprint = app.server.state().jobs.footprint();
    let all = app
        .control_json("/_emulator/jobs?status=Running&limit=1000")
        .await;
    let mut owners: Vec<&str> = all["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["user"].as_str())
        .collect();
    owners.sort_unstable();
    owners.dedup();
    assert_eq!(
        footprint.running_users,
        owners.len(),
        "the running index matches the Running jobs"
    );
    let metrics = app
        .client
        .get(app.url("/_emulator/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let gauge = metrics
        .lines()
        .find(|l| {
            l.starts_with("roma_emulator_jobs{")
                && l.contains("type=\"exportAsset\"")
                && l.contains("status=\"Running\"")
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<usize>().ok())
        .expect("the Running exports gauge");
    assert_eq!(gauge, running.len(), "{metrics}");
    // And the rule still holds for new work: each user gets one export, then ROMA.10010's refusal.
    for u in 0..USERS {
        let user = format!("after-{u}");
        assert_job_created(
            app.export(&user, "p2", "i1", r#"{"apps":[{"id":"app-1"}]}"#)
                .await,
        )
        .await;
        let second = app
            .export(&user, "p2", "i1", r#"{"apps":[{"id":"app-1"}]}"#)
            .await;
        assert_ne!(second.status(), 200, "a second Running export is refused");
    }
}
