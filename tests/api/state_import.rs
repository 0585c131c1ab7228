//! One validator guards the state: `PUT /_emulator/state` and the state file at startup refuse
//! what the registry cannot hold (naming the field), never hang, never panic, and every state the
//! emulator exports or accepts loads again.

use std::time::Duration;

use reqwest::Method;
use roma_emulator::config::{InstanceConfig, Progression};
use serde_json::{Value, json};

use crate::helpers::{TOKEN, TestApp, assert_job_created, assert_roma_error, spawn_app_with};

async fn state(app: &TestApp) -> Value {
    app.control_json("/_emulator/state").await
}

/// PUTs `state`; an answer must come within 10 s (a hang is a failure, not a wait).
async fn put_state(app: &TestApp, state: &Value) -> reqwest::Response {
    let put = app.control(Method::PUT, "/_emulator/state").json(state).send();
    tokio::time::timeout(Duration::from_secs(10), put)
        .await
        .expect("PUT /_emulator/state answers in time")
        .expect("request")
}

async fn refused(app: &TestApp, state: &Value, field: &str) {
    let err = assert_roma_error(put_state(app, state).await, 400, "ROMA.13000").await;
    let details = err["error_details"].as_str().unwrap_or_default();
    assert!(details.contains(field), "{field} not named in {details:?}");
}

/// An emulator with manual jobs and a strict catalog of `i1` and `i2`.
async fn manual_app() -> TestApp {
    spawn_app_with(|c| {
        c.jobs.progression = Progression::Manual;
        c.emulator.seed = Some(7);
        c.catalog.strict = true;
        c.instances = ["i1", "i2"]
            .map(|id| InstanceConfig {
                id: id.into(),
                project: None,
                apps: vec![],
                tasks: vec![],
            })
            .to_vec();
    })
    .await
}

#[tokio::test]
async fn an_id_stream_position_at_the_top_is_refused_at_once() {
    let app = manual_app().await;
    let mut s = state(&app).await;
    s["ids"] = json!([u64::MAX, u64::MAX, u64::MAX, u64::MAX]);
    refused(&app, &s, "ids[0]").await;
    // A large position within the bound is restored at once, and ids keep coming.
    s["ids"] = json!([1u64 << 59, 0, 0, 0]);
    assert_eq!(put_state(&app, &s).await.status(), 200);
    assert_job_created(app.export_one(TOKEN).await).await;
    assert_eq!(app.health().await, 200);
}

#[tokio::test]
async fn a_last_seq_without_room_to_grow_is_refused() {
    let app = manual_app().await;
    let mut s = state(&app).await;
    s["registry"]["last_seq"] = json!(u64::MAX);
    refused(&app, &s, "registry.last_seq").await;
}

#[tokio::test]
async fn states_the_registry_cannot_hold_are_refused_with_their_field() {
    let app = manual_app().await;
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let base = state(&app).await;
    assert_eq!(base["registry"]["jobs"][0]["id"], job.as_str());

    let mut two_running = base.clone();
    let mut twin = base["registry"]["jobs"][0].clone();
    twin["id"] = json!("0".repeat(31) + "1");
    twin["seq"] = json!(2);
    two_running["registry"]["last_seq"] = json!(2);
    two_running["registry"]["jobs"]
        .as_array_mut()
        .expect("jobs")
        .push(twin);
    refused(&app, &two_running, "registry.jobs[1].state").await;

    let mut wrong_work = base.clone();
    let work = &mut wrong_work["registry"]["work"][0][1];
    let export = work["Export"].take();
    *work = json!({ "Delete": export });
    refused(&app, &wrong_work, "registry.work[0]").await;

    let mut unknown_instance = base.clone();
    unknown_instance["registry"]["jobs"][0]["scope"]["instance"] = json!("ghost");
    refused(&app, &unknown_instance, "registry.jobs[0].scope").await;

    let mut bad_path_id = base.clone();
    bad_path_id["registry"]["jobs"][0]["scope"]["project"] = json!("a/b");
    refused(&app, &bad_path_id, "registry.jobs[0].scope.project").await;

    let mut endless = base.clone();
    endless["registry"]["jobs"][0]["duration"] = json!({"secs": u64::MAX, "nanos": 0});
    refused(&app, &endless, "registry.jobs[0].duration").await;

    // Nothing of it was applied: the job is still there, Running, its user's only one.
    assert_eq!(app.job_json(TOKEN, "p1", "i1", &job).await["status"], "Running");
    assert_roma_error(app.export_one(TOKEN).await, 403, "ROMA.10012").await;
}

#[tokio::test]
async fn archives_are_held_by_their_jobs_owner_and_counted_from_their_content() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let base = state(&app).await;
    // An archive has no owner of its own: it is its job's, so naming another changes nothing.
    assert!(
        base["registry"]["archives"][0][1].get("owner").is_none(),
        "{base}"
    );
    let mut stolen = base.clone();
    stolen["registry"]["archives"][0][1]["owner"] = json!("someone-else");
    assert_eq!(put_state(&app, &stolen).await.status(), 200);
    let mut orphan = base.clone();
    orphan["registry"]["archives"][0][1]["job"] = json!("0".repeat(32));
    refused(&app, &orphan, "registry.archives[0]").await;
    let mut inflated = base.clone();
    inflated["registry"]["archives"][0][1]["bytes"] = json!(u64::MAX);
    assert_eq!(put_state(&app, &inflated).await.status(), 200);
    let footprint = app.server.state().jobs.footprint();
    assert!(footprint.archive_bytes < 10_000, "{footprint:?}");
    let archive = app.job_json(TOKEN, "p1", "i1", &job).await["archive_id"]
        .as_str()
        .expect("archive")
        .to_owned();
    assert_eq!(app.download(TOKEN, "p1", "i1", &archive).await.status(), 200);
}

#[tokio::test]
async fn more_jobs_than_max_jobs_are_trimmed_by_the_live_rules() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.jobs.max_jobs = 100;
    })
    .await;
    assert_job_created(app.export_one(TOKEN).await).await;
    let mut s = state(&app).await;
    let template = s["registry"]["jobs"][0].clone();
    let jobs: Vec<Value> = (1..=5500u64)
        .map(|seq| {
            let mut job = template.clone();
            job["id"] = json!(format!("{seq:032x}"));
            job["seq"] = json!(seq);
            job["archive"] = Value::Null;
            job
        })
        .collect();
    s["registry"]["jobs"] = json!(jobs);
    s["registry"]["last_seq"] = json!(5500);
    s["registry"]["archives"] = json!([]);
    assert_eq!(put_state(&app, &s).await.status(), 200);
    assert!(app.server.state().jobs.footprint().jobs <= 100);
    assert_job_created(app.export_one(TOKEN).await).await;
    assert!(app.server.state().jobs.footprint().jobs <= 100);
}

#[tokio::test]
async fn slow_readers_of_the_state_hold_at_most_max_large_bodies_copies() {
    // A state of about 16 MB (an unclaimed archive of a big asset): more than socket buffers hold.
    let app = spawn_app_with(|c| {
        c.server.max_large_bodies = 2;
        c.jobs.duration_ms = 0;
        c.catalog.max_bytes_per_instance = 64 * 1024 * 1024;
        c.instances = vec![InstanceConfig {
            id: "i1".into(),
            project: None,
            apps: vec![roma_emulator::config::AssetConfig {
                id: "app-1".into(),
                name: "big".into(),
                content: json!("x".repeat(16 * 1024 * 1024)),
                ..Default::default()
            }],
            tasks: vec![],
        }];
    })
    .await;
    assert_job_created(app.export_one(TOKEN).await).await;
    let addr = app.server.local_addr();
    let mut readers = Vec::new();
    for _ in 0..2 {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tokio::io::AsyncWriteExt::write_all(&mut s, b"GET /_emulator/state HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        readers.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The two answers above are held (never read) by their clients; a third waits its turn.
    let res = app
        .control(Method::GET, "/_emulator/state")
        .send()
        .await
        .expect("state");
    assert_roma_error(res, 503, "EMULATOR.0503").await;
    drop(readers);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.control(Method::GET, "/_emulator/state")
            .send()
            .await
            .expect("state")
            .status(),
        200
    );
}

/// A tiny deterministic generator for the property tests.
struct Draws(u64);

impl Draws {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Drives `app` through `steps` random operations of every kind.
async fn random_history(app: &TestApp, draws: &mut Draws, steps: usize) {
    let tokens = ["t-a", "t-b", "t-c"];
    for _ in 0..steps {
        let token = tokens[draws.below(3) as usize];
        let instance = ["i1", "i2"][draws.below(2) as usize];
        match draws.below(6) {
            0 => {
                app.export(
                    token,
                    "p1",
                    instance,
                    r#"{"apps": [{"id": "a1"}], "tasks": [{"id": "t1"}]}"#,
                )
                .await;
            }
            1 => {
                app.delete(token, "p1", instance, r#"{"apps": [{"id": "a1"}]}"#)
                    .await;
            }
            2 => {
                let jobs = app.control_json("/_emulator/jobs").await;
                let running: Vec<String> = jobs["jobs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|j| j["status"] == "Running")
                    .filter_map(|j| j["id"].as_str().map(str::to_owned))
                    .collect();
                if let Some(id) = running.first() {
                    let action = if draws.below(2) == 0 { "complete" } else { "fail" };
                    app.control_post(&format!("/_emulator/jobs/{id}/{action}"), json!({}))
                        .await;
                }
            }
            3 => {
                app.control_post("/_emulator/clock", json!({"advance_ms": draws.below(120_000)}))
                    .await;
            }
            4 => {
                let jobs = app.control_json("/_emulator/jobs").await;
                for job in jobs["jobs"].as_array().into_iter().flatten() {
                    if let (Some(archive), Some(user)) = (job["archive_id"].as_str(), job["user"].as_str())
                        && job["status"] == "Success"
                        && tokens.iter().any(|t| {
                            app.server
                                .state()
                                .auth
                                .token(Some(t.as_bytes()))
                                .is_ok_and(|c| *c.user == *user)
                        })
                    {
                        let token = tokens
                            .iter()
                            .find(|t| {
                                app.server
                                    .state()
                                    .auth
                                    .token(Some(t.as_bytes()))
                                    .is_ok_and(|c| *c.user == *user)
                            })
                            .expect("token");
                        let instance = job["instance_id"].as_str().unwrap_or("i1");
                        app.download(token, "p1", instance, archive).await;
                        break;
                    }
                }
            }
            _ => {
                let fault = json!({"operation": "ExportAsset", "fail_job": {"at_progress": 0.5}, "times": 1});
                app.control_post("/_emulator/faults", fault).await;
            }
        }
    }
}

fn state_config(c: &mut roma_emulator::Config) {
    c.jobs.duration_ms = 30_000;
    c.jobs.max_jobs = 12;
    c.clock.mode = roma_emulator::config::ClockMode::Virtual;
    c.emulator.seed = Some(11);
    c.auth.token_key = Some(roma_emulator::config::Secret::new("k".repeat(32)));
}

/// Loads `state` from a file into a fresh in-process emulator (the startup path) and returns
/// what it then exports.
async fn loaded_from_file(state: &Value, name: &str) -> Value {
    let dir = std::env::temp_dir().join(format!("roma-emulator-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("state.json");
    std::fs::write(&file, serde_json::to_vec(state).expect("json")).expect("write");
    let app = spawn_app_with(|c| {
        state_config(c);
        c.state.file = Some(file.clone());
    })
    .await;
    let loaded = app.control_json("/_emulator/state").await;
    drop(app);
    let _ = std::fs::remove_dir_all(&dir);
    loaded
}

/// `got` holds what `want` holds: the same registry, journal, faults and clock; each id stream at
/// or past its position (requests since then drew more ids).
fn same_state(got: &Value, want: &Value, what: &str) {
    for key in ["registry", "journal", "faults", "clock"] {
        assert!(got[key] == want[key], "{what}: {key} differs");
    }
    let positions = |s: &Value| -> Vec<u64> {
        s["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_u64)
            .collect()
    };
    let (g, w) = (positions(got), positions(want));
    assert_eq!(g.len(), w.len(), "{what}: ids");
    assert!(
        g.iter().zip(&w).all(|(g, w)| g >= w),
        "{what}: ids {g:?} behind {w:?}"
    );
}

#[tokio::test]
async fn every_exported_state_imports_again_and_loads_after_a_restart() {
    for seed in 1..=6u64 {
        let app = spawn_app_with(state_config).await;
        let mut draws = Draws(seed * 0x9e37_79b9);
        random_history(&app, &mut draws, 40).await;
        let exported = state(&app).await;
        let fresh = spawn_app_with(state_config).await;
        let res = put_state(&fresh, &exported).await;
        assert_eq!(
            res.status(),
            200,
            "seed {seed}: {}",
            res.text().await.unwrap_or_default()
        );
        same_state(&state(&fresh).await, &exported, &format!("seed {seed}: PUT"));
        let loaded = loaded_from_file(&exported, &format!("prop-{seed}")).await;
        same_state(&loaded, &exported, &format!("seed {seed}: load"));
    }
}

#[tokio::test]
async fn every_state_a_put_accepts_exports_and_loads_again() {
    let app = spawn_app_with(state_config).await;
    let mut draws = Draws(0x5eed);
    random_history(&app, &mut draws, 30).await;
    let base = state(&app).await;
    // Perturb one field at a time at random; whatever is accepted must round-trip.
    let mut accepted = 0;
    for round in 0..60 {
        let mut s = base.clone();
        let jobs = s["registry"]["jobs"].as_array().map_or(0, Vec::len) as u64;
        if jobs == 0 {
            break;
        }
        let job = &mut s["registry"]["jobs"][draws.below(jobs) as usize];
        let values = [
            json!(0),
            json!(1),
            json!(u64::MAX),
            json!(1u64 << 53),
            json!("x"),
            json!(null),
            json!(-1),
        ];
        let value = values[draws.below(values.len() as u64) as usize].clone();
        match draws.below(6) {
            0 => job["seq"] = value,
            1 => job["begin"] = value,
            2 => job["duration"] = json!({"secs": value, "nanos": 0}),
            3 => job["state"] = json!(["Running", "Succeeded", "Failed"][draws.below(3) as usize]),
            4 => job["end"] = value,
            _ => s["registry"]["last_seq"] = value,
        }
        let fresh = spawn_app_with(state_config).await;
        let res = put_state(&fresh, &s).await;
        let status = res.status().as_u16();
        assert!(status == 200 || status == 400, "round {round}: {status}");
        if status != 200 {
            continue;
        }
        accepted += 1;
        let exported = state(&fresh).await;
        let again = spawn_app_with(state_config).await;
        assert_eq!(put_state(&again, &exported).await.status(), 200, "round {round}");
        let loaded = loaded_from_file(&exported, &format!("accepted-{round}")).await;
        same_state(&loaded, &exported, &format!("round {round}"));
    }
    assert!(accepted > 0, "some perturbations are harmless and accepted");
}

mod attacks {
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
}

/// A version-1 state whose parts are not objects is refused naming what is wrong, never a panic
/// inside the migration (schemathesis found this one).
#[tokio::test]
async fn a_malformed_version_1_state_is_refused_not_a_500() {
    let app = manual_app().await;
    for registry in [
        json!([null, null]),
        json!({"archives": [[1, 2]], "catalog": [1]}),
        json!(3),
    ] {
        let state = json!({"format": "roma-emulator-state", "version": 1, "registry": registry, "journal": [], "faults": []});
        let res = put_state(&app, &state).await;
        assert_roma_error(res, 400, "ROMA.13000").await;
    }
}
