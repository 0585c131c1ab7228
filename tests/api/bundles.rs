//! Repro bundles (#30): one namespace's state, taken after a failing sequence, loaded with
//! `--bundle` in a fresh process, answers the same job views byte for byte.

use std::process::Child;

use serde_json::Value;

use crate::binary::{emulator, listening_url, start_binary, stop_and_read_logs};

const CONFIG: &str = r#"
[emulator]
seed = 7
[clock]
mode = "virtual"
[jobs]
duration_ms = 60000
[catalog]
strict = true
[auth]
mode = "strict"
[[auth.users]]
name = "alice"
token = "alice-secret-token"
[[instances]]
id = "i1"
project = "p1"
[[instances.apps]]
id = "app-1"
name = "orders"
[[instances]]
id = "i2"
project = "p2"
"#;

struct Stub {
    child: Child,
    url: String,
    client: reqwest::Client,
}

impl Stub {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&str>) -> (u16, String) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("X-Auth-Token", "alice-secret-token");
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_owned());
        }
        let res = req.send().await.expect("request");
        (res.status().as_u16(), res.text().await.expect("body"))
    }

    async fn export(&self, project: &str) -> (u16, String) {
        let instance = if project == "p2" { "i2" } else { "i1" };
        let path = format!("/v2/{project}/instances/{instance}/assets/export");
        self.send(
            reqwest::Method::POST,
            &path,
            Some(r#"{"apps": [{"id": "app-1"}]}"#),
        )
        .await
    }

    async fn poll(&self, project: &str, job: &str) -> (u16, String) {
        let path = format!("/v2/{project}/instances/i1/assets/jobs/{job}");
        self.send(reqwest::Method::GET, &path, None).await
    }
}

fn job_id(body: &str) -> String {
    let v: Value = serde_json::from_str(body).expect("JSON");
    v["job_id"].as_str().expect("job_id").to_owned()
}

/// The body without its request id (each process numbers its own requests).
fn without_request_id(body: &str) -> Value {
    let mut v: Value = serde_json::from_str(body).expect("JSON");
    if let Some(o) = v.as_object_mut() {
        o.remove("request_id");
    }
    v
}

#[tokio::test]
async fn a_bundle_replays_a_failing_sequence_in_a_fresh_process() {
    let dir = std::env::temp_dir().join(format!("roma-bundle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("roma.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let (child, url) = start_binary(&config);
    let a = Stub {
        child,
        url,
        client: reqwest::Client::new(),
    };
    // The failing sequence: an export, a second one refused while it runs, a poll half-way.
    let (status, body) = a.export("p1").await;
    assert_eq!(status, 200, "{body}");
    let job = job_id(&body);
    let refused = a.export("p1").await;
    assert_eq!(refused.0, 403, "{refused:?}");
    let (status, _) = a
        .client
        .post(format!("{}/_emulator/clock", a.url))
        .json(&serde_json::json!({"advance_ms": 30_000}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("clock");
    assert_eq!(status, 200);
    let (status, other) = a.export("p2").await;
    assert_eq!(
        status, 403,
        "alice's one Running export holds in every project: {other}"
    );

    let bundle = a
        .client
        .get(format!("{}/_emulator/bundle?project_id=p1&instance_id=i1", a.url))
        .send()
        .await
        .expect("bundle")
        .text()
        .await
        .expect("text");
    assert!(!bundle.contains("alice-secret-token"), "no secret in a bundle");
    let parsed: Value = serde_json::from_str(&bundle).expect("JSON");
    assert_eq!(parsed["format"], "roma-emulator-state", "a bundle is a snapshot");
    assert_eq!(parsed["bundle"]["project_id"], "p1");
    assert_eq!(parsed["bundle"]["seed"], 7);
    let journal = parsed["journal"].as_array().expect("journal");
    assert!(
        journal.iter().all(|e| e["project_id"] == "p1"),
        "only p1's requests: {journal:?}"
    );
    let file = dir.join("repro.json");
    std::fs::write(&file, &bundle).expect("bundle file");

    let mut cmd = emulator(&[
        "--listen",
        "127.0.0.1:0",
        "--config",
        config.to_str().expect("utf-8"),
        "--bundle",
        file.to_str().expect("utf-8"),
    ]);
    let mut child = cmd.spawn().expect("spawn");
    let url = listening_url(&mut child);
    let b = Stub {
        child,
        url,
        client: reqwest::Client::new(),
    };
    // The same job view, byte for byte: the replay's clock stands at the bundle's time.
    let (sa, va) = a.poll("p1", &job).await;
    let (sb, vb) = b.poll("p1", &job).await;
    assert_eq!((sa, &va), (sb, &vb), "the job as the cloud answers it");
    assert!(va.contains("\"progress_percent\":0.5"), "{va}");
    let control = format!("/_emulator/jobs/{job}");
    let (ca, cb) = (
        a.send(reqwest::Method::GET, &control, None).await,
        b.send(reqwest::Method::GET, &control, None).await,
    );
    assert_eq!(ca, cb, "the job as the control plane shows it");
    // The same refusal, and the seeded ids continue: the next job is the same in both.
    let (ra, rb) = (a.export("p1").await, b.export("p1").await);
    assert_eq!(
        (ra.0, without_request_id(&ra.1)),
        (rb.0, without_request_id(&rb.1))
    );
    let delete = r#"{"apps": [{"id": "app-1"}]}"#;
    let path = "/v2/p1/instances/i1/assets/delete";
    let (da, db) = (
        a.send(reqwest::Method::POST, path, Some(delete)).await,
        b.send(reqwest::Method::POST, path, Some(delete)).await,
    );
    assert_eq!(da.0, 200, "{da:?}");
    assert_eq!(da, db, "the next job id is the same");
    // Nothing of p2 came along.
    let journal = b
        .send(reqwest::Method::GET, "/_emulator/requests?project_id=p2", None)
        .await;
    assert!(journal.1.contains("\"total\":0"), "{journal:?}");

    for mut stub in [a, b] {
        stop_and_read_logs(&mut stub.child);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
