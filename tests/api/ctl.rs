//! `roma-emulator ctl` against a live binary: every subcommand, as a table and as `--json`, and
//! its exit codes (0 done, 1 refused, 2 a usage error).

use std::process::Output;

use serde_json::Value;

use crate::binary::{emulator, start_binary, stop_and_read_logs};

const TOKEN: &str = "ctl-admin-token";

/// `roma-emulator ctl --url URL [--admin-token TOKEN] ARGS`, run to its end.
fn ctl(url: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut full = vec!["ctl", "--url", url];
    if let Some(token) = token {
        full.extend(["--admin-token", token]);
    }
    full.extend(args);
    let mut cmd = emulator(&full);
    cmd.env_remove("ROMA_EMULATOR_URL")
        .env_remove("ROMA_EMULATOR_EMULATOR_ADMIN_TOKEN");
    cmd.output().expect("ctl runs")
}

/// The table `ctl` prints for `args`, checking it exited 0.
fn table(url: &str, args: &[&str]) -> String {
    let out = ctl(url, Some(TOKEN), args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// What `ctl --json` prints for `args`, checking it exited 0.
fn json(url: &str, args: &[&str]) -> Value {
    let mut full = vec!["--json"];
    full.extend(args);
    serde_json::from_str(&table(url, &full)).expect("--json prints one JSON document")
}

async fn export(url: &str, project: &str, user: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{url}/v2/{project}/instances/i1/assets/export"))
        .header("X-Auth-Token", user)
        .header("Content-Type", "application/json")
        .body(r#"{"apps":[{"id":"app-1"}]}"#)
        .send()
        .await
        .expect("export");
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.expect("JSON")["job_id"]
        .as_str()
        .expect("job_id")
        .to_owned()
}

/// A directory of this test's own.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("roma-emulator-ctl-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// The binary with jobs that stay Running, the admin token and `extra` config, in a directory of
/// its own: the directory, the process and its URL.
fn stub(name: &str, extra: &str) -> (std::path::PathBuf, std::process::Child, String) {
    let dir = scratch(name);
    let config = dir.join("ctl.toml");
    let text = format!("[jobs]\nduration_ms = 600000\n[emulator]\nadmin_token = \"{TOKEN}\"\n{extra}");
    std::fs::write(&config, text).expect("config");
    let (child, url) = start_binary(&config);
    (dir, child, url)
}

/// The ids of the jobs of a `jobs` answer.
fn ids(page: &Value) -> Vec<&str> {
    page["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["id"].as_str().expect("id"))
        .collect()
}

#[tokio::test]
async fn every_subcommand_as_a_table_and_as_json() {
    let (dir, mut child, url) = stub("all", "[clock]\nmode = \"virtual\"\n");
    let a = export(&url, "p1", "alice").await;
    let b = export(&url, "p2", "bob").await;

    // jobs: all, then one project's; the table shows each row, --json is the control plane's page.
    let all = json(&url, &["jobs"]);
    assert_eq!(
        (ids(&all), all["total"].as_u64()),
        (vec![a.as_str(), b.as_str()], Some(2))
    );
    let p1 = json(&url, &["jobs", "--project", "p1", "--status", "Running"]);
    assert_eq!(ids(&p1), vec![a.as_str()]);
    let text = table(&url, &["jobs", "--project", "p1"]);
    assert!(
        text.starts_with("ID ") && text.contains(&a) && !text.contains(&b),
        "{text}"
    );
    assert!(text.contains("Running") && text.contains("1 of 1 jobs"), "{text}");

    // job, complete, wait, fail.
    assert_eq!(json(&url, &["job", &a])["status"], "Running");
    assert!(table(&url, &["job", &a]).contains("exportAsset"));
    let done = json(&url, &["complete", &a]);
    assert_eq!(done["status"], "Success");
    assert!(done["archive_id"].is_string(), "{done}");
    // --json prints what the control plane answers, field for field.
    let get = |path: String| async move {
        reqwest::Client::new()
            .get(path)
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("GET")
            .json::<Value>()
            .await
            .expect("JSON")
    };
    assert_eq!(
        json(&url, &["job", &a]),
        get(format!("{url}/_emulator/jobs/{a}")).await
    );
    assert_eq!(json(&url, &["jobs"]), get(format!("{url}/_emulator/jobs")).await);
    // The flags go before or after the command.
    let after: Value = serde_json::from_str(&table(&url, &["job", &a, "--json"])).expect("JSON");
    assert_eq!(after, get(format!("{url}/_emulator/jobs/{a}")).await);
    assert!(table(&url, &["wait", &a, "--status", "Success"]).contains("Success"));
    assert_eq!(json(&url, &["wait", &a])["status"], "Success");
    let failed = json(&url, &["fail", &b]);
    assert_eq!(failed["status"], "Failed");
    assert!(
        !failed["reasons"].as_array().expect("reasons").is_empty(),
        "{failed}"
    );
    let c = export(&url, "p1", "carol").await;
    assert!(table(&url, &["fail", &c]).contains("Failed"));
    let d = export(&url, "p1", "dave").await;
    assert!(table(&url, &["complete", &d]).contains("100%"));

    // requests: the newest first.
    let requests = json(&url, &["requests", "--limit", "2"]);
    let listed = requests["requests"].as_array().expect("requests");
    assert_eq!(listed.len(), 2, "{requests}");
    assert_eq!(listed[0]["path"], "/v2/p1/instances/i1/assets/export");
    assert_eq!(requests, get(format!("{url}/_emulator/requests?limit=2")).await);
    let text = table(&url, &["requests", "--limit", "1"]);
    assert!(
        text.contains("POST") && text.contains("1 of 4 requests"),
        "{text}"
    );

    // faults: one added over HTTP is listed with what is left of it.
    let added = reqwest::Client::new()
        .post(format!("{url}/_emulator/faults"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"operation": "ExportAsset", "status": 503, "times": 2}))
        .send()
        .await
        .expect("add fault");
    assert_eq!(added.status(), 201);
    let faults = json(&url, &["faults"]);
    assert_eq!(faults["faults"][0]["remaining"], 2, "{faults}");
    let text = table(&url, &["faults"]);
    assert!(
        text.contains("ExportAsset") && text.contains("\"status\":503") && text.contains("1 fault\n"),
        "{text}"
    );

    // clock: read, then moved 5 s.
    let before = json(&url, &["clock"]);
    assert_eq!(before["mode"], "virtual");
    let after = json(&url, &["clock", "--advance", "5s"]);
    let ms = |v: &Value| {
        roma_emulator::clock::Timestamp::parse_rfc3339(v["now"].as_str().expect("now"))
            .expect("RFC 3339")
            .0
    };
    assert_eq!(ms(&after) - ms(&before), 5000, "{before} {after}");
    assert!(table(&url, &["clock", "--advance", "1s"]).contains("(virtual clock)"));

    // state export, reset (one project, then all), state import.
    let file = dir.join("state.json");
    let file = file.to_str().expect("utf-8");
    let wrote = json(&url, &["state", "export", file]);
    assert!(wrote["bytes"].as_u64().unwrap_or(0) > 100, "{wrote}");
    assert!(table(&url, &["reset", "--project", "p1"]).contains("project p1"));
    assert_eq!(ids(&json(&url, &["jobs"])), vec![b.as_str()]);
    assert_eq!(json(&url, &["reset"])["reset"], "all");
    assert_eq!(json(&url, &["jobs"])["total"], 0);
    let loaded = json(&url, &["state", "import", file]);
    assert_eq!(loaded["restored"]["jobs"], 4, "{loaded}");
    assert_eq!(json(&url, &["jobs"])["total"], 4);
    assert!(table(&url, &["state", "export", file]).starts_with("wrote "));
    assert!(table(&url, &["state", "import", file]).starts_with("loaded "));
    assert!(table(&url, &["reset"]).contains("everything"));
    stop_and_read_logs(&mut child);
}

#[tokio::test]
async fn exit_codes_say_done_refused_or_misused() {
    let (_dir, mut child, url) = stub("codes", "");
    let job = export(&url, "p1", "alice").await;
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();

    // Refusals: 1, with the emulator's code and text on stderr and nothing on stdout.
    let no_token = ctl(&url, None, &["jobs"]);
    assert_eq!(no_token.status.code(), Some(1), "{}", stderr(&no_token));
    assert!(
        stderr(&no_token).contains("401") && no_token.stdout.is_empty(),
        "{}",
        stderr(&no_token)
    );
    let unknown = ctl(&url, Some(TOKEN), &["job", "0123456789abcdef0123456789abcdef"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("ROMA.00110006"), "{}", stderr(&unknown));
    let late = ctl(
        &url,
        Some(TOKEN),
        &["wait", &job, "--status", "Success", "--timeout", "300ms"],
    );
    assert_eq!(late.status.code(), Some(1));
    assert!(stderr(&late).contains("EMULATOR.0408"), "{}", stderr(&late));
    let real_clock = ctl(&url, Some(TOKEN), &["clock", "--advance", "5s"]);
    assert_eq!(real_clock.status.code(), Some(1), "a real clock is not moved");
    let missing = ctl(&url, Some(TOKEN), &["state", "import", "/nonexistent/state.json"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("/nonexistent/state.json"),
        "{}",
        stderr(&missing)
    );
    let nobody = ctl("http://127.0.0.1:9", Some(TOKEN), &["jobs"]);
    assert_eq!(
        nobody.status.code(),
        Some(1),
        "nothing listens: {}",
        stderr(&nobody)
    );

    // Usage errors: 2.
    for args in [
        &["bogus"][..],
        &["job"],
        &["clock", "--advance", "soon"],
        &["jobs", "--limit", "x"],
    ] {
        let out = ctl(&url, Some(TOKEN), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    let bad_url = ctl("https://127.0.0.1:1", Some(TOKEN), &["jobs"]);
    assert_eq!(bad_url.status.code(), Some(2), "{}", stderr(&bad_url));

    // The variables stand for the flags.
    let mut cmd = emulator(&["ctl", "jobs"]);
    cmd.env("ROMA_EMULATOR_URL", &url)
        .env("ROMA_EMULATOR_EMULATOR_ADMIN_TOKEN", TOKEN);
    let out = cmd.output().expect("ctl runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&job));
    stop_and_read_logs(&mut child);
}
