//! State that survives a restart: the snapshot file across SIGTERM, refusals of damaged
//! files, and the state export/import of the control plane.

use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use crate::binary::{emulator, start_binary, stop_and_read_logs};
use crate::helpers::{TOKEN, assert_job_created, spawn_app_with};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("roma-emulator-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn start_with_state(dir: &std::path::Path) -> (std::process::Child, String) {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[state]\nfile = \"{}\"\n[jobs]\nduration_ms = 200\n[[auth.users]]\nname = \"alice\"\npassword = \"pw\"\n",
            dir.join("state.json").display()
        ),
    )
    .expect("config");
    start_binary(&config)
}

#[tokio::test]
async fn jobs_archives_and_issued_tokens_survive_a_restart() {
    let dir = temp_dir("restart");
    let client = reqwest::Client::new();
    let (mut first, url) = start_with_state(&dir);
    let token = crate::helpers::issue_token(&client, &url, "alice", "pw", "p1").await;
    let export = |url: String, token: String| {
        let client = client.clone();
        async move {
            client
                .post(format!("{url}/v2/p1/instances/i1/assets/export"))
                .header("X-Auth-Token", token)
                .header("Content-Type", "application/json")
                .body(r#"{"apps": [{"id": "app-1"}]}"#)
                .send()
                .await
                .expect("export")
        }
    };
    let job = assert_job_created(export(url.clone(), token.clone()).await).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let status: Value = client
        .get(format!("{url}/v2/p1/instances/i1/assets/jobs/{job}"))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .expect("poll")
        .json()
        .await
        .expect("json");
    let archive = status["archive_id"].as_str().expect("archive").to_owned();
    // D19: a user added at run time is kept in the state file.
    let added = client
        .post(format!("{url}/_emulator/users"))
        .json(&serde_json::json!({"name": "added", "access_key": "AK-ADDED", "secret_key": "SK-ADDED"}))
        .send()
        .await
        .expect("add a user");
    assert_eq!(added.status(), 201);
    let logs = stop_and_read_logs(&mut first);
    assert!(logs.contains("saved=true"), "{logs}");
    let file = dir.join("state.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("state file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the state file holds the token key");
    }

    let (mut second, url) = start_with_state(&dir);
    let after: Value = client
        .get(format!("{url}/v2/p1/instances/i1/assets/jobs/{job}"))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .expect("poll after restart")
        .json()
        .await
        .expect("json");
    assert_eq!(after["status"], "Success", "{after}");
    assert_eq!(after["archive_id"], archive.as_str());
    let zip = client
        .get(format!("{url}/v2/p1/instances/i1/assets/archives/{archive}"))
        .header("X-Auth-Token", &token)
        .send()
        .await
        .expect("download");
    assert_eq!(
        zip.status(),
        200,
        "the archive made before the stop downloads after it"
    );
    assert!(zip.bytes().await.expect("zip").starts_with(b"PK"));
    // The one-job rule and new ids carry on.
    assert_job_created(export(url.clone(), token.clone()).await).await;
    let users: Value = client
        .get(format!("{url}/_emulator/users"))
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("json");
    let restored = users["users"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|u| u["name"] == "added");
    assert_eq!(
        restored.map(|u| (u["origin"].clone(), u["access_key"].clone())),
        Some((Value::from("runtime"), Value::from("AK-ADDED"))),
        "{users}"
    );
    stop_and_read_logs(&mut second);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn damaged_truncated_or_newer_state_files_stop_startup_untouched() {
    let dir = temp_dir("damaged");
    let good = r#"{"format":"roma-emulator-state","version":1,"registry":{"last_seq":0,"jobs":[],"work":[],"archives":[],"catalog":{}}}"#;
    let cases = [
        ("damaged", "{not json at all".to_owned(), "not a readable snapshot"),
        ("truncated", good[..good.len() / 2].to_owned(), "not a readable snapshot"),
        ("newer", good.replace("\"version\":1", "\"version\":99"), "newer emulator"),
        ("foreign", good.replace("roma-emulator-state", "something-else"), "not a snapshot"),
        (
            "inconsistent",
            good.replace("\"archives\":[]", r#""archives":[["0123456789abcdef0123456789abcdef",{"job":"fedcba9876543210fedcba9876543210","owner":"u","scope":{"project":"p","instance":"i"},"package":{"source":{"project_id":"p","instance_id":"i"},"exported_at":"t","job_id":"j","assets":[]},"bytes":1}]]"#),
            "belongs to no job",
        ),
    ];
    for (what, text, expected) in cases {
        let file = dir.join(format!("{what}.json"));
        std::fs::write(&file, &text).expect("write");
        let output = emulator(&["--listen", "127.0.0.1:0"])
            .env("ROMA_EMULATOR_STATE_FILE", &file)
            .stdout(Stdio::piped())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(&file.display().to_string()),
            "{what} names the file: {stderr}"
        );
        assert!(stderr.contains(expected), "{what}: {stderr}");
        assert!(output.stdout.is_empty(), "{what}: the port never opened");
        assert_eq!(
            std::fs::read_to_string(&file).expect("still there"),
            text,
            "{what}: left untouched"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_state_exports_without_secrets_and_imports_elsewhere() {
    // Open-mode user names are keyed with the token key: stubs that share states share the key.
    let key = || {
        Some(roma_emulator::config::Secret::new(
            "shared-token-key-of-two-staging-stubs",
        ))
    };
    let a = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.auth.token_key = key();
    })
    .await;
    let job = assert_job_created(a.export_one(TOKEN).await).await;
    let state = a.control_json("/_emulator/state").await;
    assert_eq!(state["format"], "roma-emulator-state");
    assert!(state.get("token_key").is_none(), "no secret in the export");
    assert_eq!(state["registry"]["jobs"].as_array().map(Vec::len), Some(1));

    let b = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.auth.token_key = key();
    })
    .await;
    let put = |body: String| {
        b.control(Method::PUT, "/_emulator/state")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let bad = state.to_string().replace(&job, "not-a-job-id-at-all");
    let res = put(bad).await.expect("bad put");
    assert_eq!(res.status(), 400, "a bad snapshot is refused");
    assert_eq!(
        b.control_json("/_emulator/jobs").await["jobs"],
        serde_json::json!([]),
        "and changes nothing"
    );
    let res = put(state.to_string()).await.expect("put");
    assert_eq!(res.status(), 200);
    let status = b.job_json(TOKEN, "p1", "i1", &job).await;
    assert_eq!(status["status"], "Success", "{status}");
    let archive = status["archive_id"].as_str().expect("archive");
    assert_eq!(b.download(TOKEN, "p1", "i1", archive).await.status(), 200);
}

#[tokio::test]
async fn the_state_file_is_written_periodically_and_on_demand() {
    let dir = temp_dir("periodic");
    let file = dir.join("state.json");
    let app = spawn_app_with(|c| {
        c.state.file = Some(file.clone());
        c.state.save_interval_s = 1;
    })
    .await;
    assert_job_created(app.export_one(TOKEN).await).await;
    let mut waited = 0;
    while !file.exists() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let saved: Value =
        serde_json::from_slice(&std::fs::read(&file).expect("saved periodically")).expect("json");
    assert_eq!(saved["registry"]["jobs"].as_array().map(Vec::len), Some(1));
    assert!(saved["token_key"].is_string(), "the file keeps the key");
    let (status, body) = app
        .control_post("/_emulator/state/save", serde_json::json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let none = spawn_app_with(|_| {}).await;
    let (status, _) = none
        .control_post("/_emulator/state/save", serde_json::json!({}))
        .await;
    assert_eq!(status, 409, "no state file configured");
    let _ = std::fs::remove_dir_all(dir);
}
