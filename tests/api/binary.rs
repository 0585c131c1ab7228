//! The real binary: config file, `listening on` line, health, logs, bad config, SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use roma_emulator::Config;

use crate::helpers::{assert_job_created, assert_roma_error};

fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("roma-emulator-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("write temp file");
    path
}

pub fn emulator(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roma-emulator"));
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("ROMA_EMULATOR_CONFIG")
        .env_remove("ROMA_EMULATOR_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Reads the first stdout line (`roma-emulator listening on http://...`) and returns the URL.
pub fn listening_url(child: &mut Child) -> String {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a first line within 30 s");
    assert!(
        line.starts_with("roma-emulator listening on http://"),
        "first line: {line:?}"
    );
    line.trim().rsplit(' ').next().expect("url").to_owned()
}

/// Spawns `cmd` and waits for it to exit (at most 15 s, else the test fails: whatever it was
/// meant to refuse was accepted); returns its exit code and stderr.
pub fn exit_of(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd.spawn().expect("spawn");
    for _ in 0..300 {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            let _ = child.stderr.take().expect("stderr").read_to_string(&mut stderr);
            return (status.code(), stderr);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("still running after 15 s");
}

/// Starts the binary with `config` on a free port; returns it and its URL.
pub fn start_binary(config: &std::path::Path) -> (Child, String) {
    let mut child = emulator(&[
        "--listen",
        "127.0.0.1:0",
        "--config",
        config.to_str().expect("utf-8"),
    ])
    .spawn()
    .expect("spawn");
    let url = listening_url(&mut child);
    (child, url)
}

/// Stops the binary with SIGTERM, checks it exits cleanly, and returns what it logged.
pub fn stop_and_read_logs(child: &mut Child) -> String {
    let status = terminate(child);
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
    let mut logs = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("logs");
    logs
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    signal(child, "-TERM")
}

/// Sends `sig` (`-TERM`, `-INT`) and waits at most 10 s for the process to exit.
fn signal(child: &mut Child, sig: &str) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    for _ in 0..200 {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the emulator did not stop within 10 s of {sig}");
}

#[tokio::test]
async fn the_binary_serves_with_a_config_file_logs_requests_and_stops_on_sigterm() {
    let config = temp_file(
        "smoke.toml",
        "[auth]\nmode = \"strict\"\n[[auth.users]]\nname = \"alice\"\ntoken = \"secret-token-123\"\n[jobs]\nduration_ms = 60000\n",
    );
    let (mut child, url) = start_binary(&config);
    let client = reqwest::Client::new();

    let health = client
        .get(format!("{url}/_emulator/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    let export = |token: &'static str| {
        client
            .post(format!("{url}/v2/p/instances/i/assets/export"))
            .header("X-Auth-Token", token)
            .header("Content-Type", "application/json")
            .body(r#"{"apps": [{"id": "a"}]}"#)
            .send()
    };
    let ok = export("secret-token-123").await.expect("export");
    let request_id = ok.headers()["x-request-id"].to_str().expect("ascii").to_owned();
    assert_job_created(ok).await;
    assert_roma_error(export("not-configured").await.expect("export"), 403, "ROMA.1002").await;

    let logs = stop_and_read_logs(&mut child);
    let line = logs
        .lines()
        .find(|l| l.contains(&request_id))
        .unwrap_or_else(|| panic!("a log line for {request_id}: {logs}"));
    for field in [
        "POST",
        "/v2/{project_id}/instances/{instance_id}/assets/export",
        "status=200",
        "latency_us=",
    ] {
        assert!(line.contains(field), "log line has {field}: {line}");
    }
    assert_eq!(
        logs.lines().filter(|l| l.contains("request_id=")).count(),
        3,
        "one line per request: {logs}"
    );
    assert!(
        !logs.contains("secret-token-123") && !logs.contains("not-configured"),
        "no token in logs: {logs}"
    );
    let _ = std::fs::remove_file(config);
}

#[test]
fn a_bad_config_file_stops_startup_naming_the_file_and_the_key() {
    let cases = vec![
        ("typo.toml", "[jobs]\nduraton_ms = 5\n", "jobs.duraton_ms"),
        (
            "type.toml",
            "[jobs]\nduration_ms = \"soon\"\n",
            "jobs.duration_ms",
        ),
        ("syntax.toml", "[server]\nlisten = \n", "server.listen"),
    ];
    for (name, text, key) in cases {
        let path = temp_file(name, text);
        let out = emulator(&[
            "--config",
            path.to_str().expect("utf-8"),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(path.to_str().expect("utf-8")),
            "{name} names the file: {stderr}"
        );
        assert!(stderr.contains(key), "{name} names {key}: {stderr}");
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn the_env_var_names_the_config_file_too() {
    let path = temp_file("env.toml", "[log]\nlevl = \"x\"\n");
    let out = emulator(&["--listen", "127.0.0.1:0"])
        .env("ROMA_EMULATOR_CONFIG", &path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("log.levl"));
    let _ = std::fs::remove_file(path);
}

#[test]
fn config_example_documents_every_key_at_its_default() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let text = std::fs::read_to_string(path).expect("config.example.toml");
    let example = Config::from_toml(&text).expect("config.example.toml loads");
    assert_eq!(example, Config::default(), "the example is the defaults");
    // Every key of every section appears in the example (uncommented), so nothing is undocumented.
    let table: toml::Table = toml::from_str(&text).expect("toml");
    for (section, keys) in [
        (
            "server",
            &[
                "listen",
                "request_timeout_ms",
                "max_body_bytes",
                "header_read_timeout_ms",
                "max_connections",
                "shutdown_grace_s",
                "max_large_bodies",
                "large_body_wait_ms",
                "min_upload_bytes_per_s",
                "min_upload_grace_ms",
            ][..],
        ),
        ("api", &["error_statuses", "dialect"][..]),
        (
            "jobs",
            &["duration_ms", "progression", "retention_s", "max_jobs"][..],
        ),
        ("clock", &["mode"][..]),
        ("journal", &["max_entries", "summaries"][..]),
        ("archives", &["max_bytes"][..]),
        (
            "catalog",
            &[
                "strict",
                "max_instances",
                "max_assets_per_instance",
                "max_bytes_per_instance",
            ][..],
        ),
        ("auth", &["mode", "token_ttl_s", "ak_lockout"][..]),
        ("log", &["level", "format"][..]),
        ("state", &["save_interval_s"][..]),
        (
            "gateway",
            &["rate_per_user_per_s", "rate_per_address_per_s", "burst"][..],
        ),
    ] {
        for key in keys {
            assert!(
                table.get(section).and_then(|s| s.get(key)).is_some(),
                "{section}.{key} is documented"
            );
        }
    }
    assert!(
        text.contains("[[auth.users]]"),
        "the users table is documented (commented out)"
    );
}

#[tokio::test]
async fn at_debug_level_a_signature_mismatch_logs_the_canonical_request_and_never_a_secret() {
    let config = temp_file(
        "debug.toml",
        r#"[log]
level = "debug"
[[auth.users]]
name = "alice"
token = "static-token-value-1"
password = "password-value-2"
access_key = "AKDEBUG"
secret_key = "secret-key-value-3"
"#,
    );
    let (mut child, url) = start_binary(&config);
    let client = reqwest::Client::new();
    let issued = crate::helpers::issue_token(&client, &url, "alice", "password-value-2", "p").await;
    for token in ["static-token-value-1", issued.as_str()] {
        let res = client
            .get(format!("{url}/v2/p/instances/i/assets/jobs/x"))
            .header("X-Auth-Token", token);
        assert_eq!(res.send().await.expect("job").status(), 404);
    }
    let date = crate::helpers::sdk_date(0);
    let bad = client
        .get(format!("{url}/v2/p/instances/i/assets/jobs/x"))
        .header("X-Sdk-Date", &date)
        // Credentials in signed headers, named in capitals: redacted whatever their case.
        .header("X-Auth-Token", "static-token-value-1")
        .header("X-Security-Token", "security-token-value-4")
        .header(
            "Authorization",
            "SDK-HMAC-SHA256 Access=AKDEBUG, SignedHeaders=host;X-Auth-Token;X-Security-Token;x-sdk-date, Signature=00",
        )
        .send()
        .await
        .expect("signed");
    assert_roma_error(bad, 401, "APIG.0301").await;

    let logs = stop_and_read_logs(&mut child);
    let mismatch = logs
        .lines()
        .find(|l| l.contains("canonical_request"))
        .unwrap_or_else(|| panic!("{logs}"));
    assert!(
        mismatch.contains("GET\\n/v2/p/instances/i/assets/jobs/x/\\n"),
        "{mismatch}"
    );
    assert!(mismatch.contains(&format!("x-sdk-date:{date}")), "{mismatch}");
    for secret in [
        "static-token-value-1",
        "password-value-2",
        "secret-key-value-3",
        "security-token-value-4",
        issued.as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret reached the logs: {logs}");
    }
    let _ = std::fs::remove_file(config);
}

#[tokio::test]
async fn sigint_stops_it_gracefully_too() {
    let config = temp_file("sigint.toml", "");
    let (mut child, url) = start_binary(&config);
    let health = reqwest::get(format!("{url}/_emulator/health"))
        .await
        .expect("health");
    assert_eq!(health.status(), 200);
    let status = signal(&mut child, "-INT");
    assert!(status.success(), "graceful exit on SIGINT: {status:?}");
    let _ = std::fs::remove_file(config);
}

#[test]
fn sigterm_right_after_the_listening_line_always_exits_cleanly() {
    // The handlers are installed before the line is printed: no start-then-stop race.
    for run in 0..50 {
        let mut child = emulator(&["--listen", "127.0.0.1:0"]).spawn().expect("spawn");
        let _ = listening_url(&mut child);
        let status = terminate(&mut child);
        assert!(status.success(), "run {run}: {status:?}");
    }
}

#[test]
fn config_example_names_the_variable_of_every_key_beside_it() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml");
    let text = std::fs::read_to_string(path).expect("config.example.toml");
    let lines: Vec<&str> = text.lines().collect();
    for entry in roma_emulator::config::env::ENV_KEYS {
        let (section, field) = entry.key.split_once('.').expect("dotted");
        let var = entry.var();
        let start = lines
            .iter()
            .position(|l| *l == format!("[{section}]"))
            .unwrap_or_else(|| panic!("[{section}] in the example"));
        let at = lines[start..]
            .iter()
            .position(|l| l.starts_with(&format!("{field} = ")) || l.starts_with(&format!("# {field} = ")))
            .unwrap_or_else(|| panic!("{} in the example", entry.key))
            + start;
        let comment: Vec<&str> = lines[..at]
            .iter()
            .rev()
            .take_while(|l| l.starts_with('#'))
            .copied()
            .collect();
        assert!(
            comment.iter().any(|l| l.contains(&var)),
            "{var} is named beside {} in config.example.toml",
            entry.key
        );
    }
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_request_start_and_stop_fields() {
    let mut child = emulator(&["--listen", "127.0.0.1:0", "--log-format", "json"])
        .spawn()
        .expect("spawn");
    let url = listening_url(&mut child);
    let client = reqwest::Client::new();
    let res = client
        .get(format!("{url}/v2/p/instances/i/assets/jobs/0123"))
        .header("X-Auth-Token", "t")
        .send()
        .await
        .expect("job");
    let request_id = res.headers()["x-request-id"].to_str().expect("id").to_owned();
    assert_eq!(res.status(), 404);
    let logs = stop_and_read_logs(&mut child);
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let find = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} line in {logs}"))
    };
    let request = find("request");
    assert_eq!(request["request_id"], request_id.as_str());
    assert_eq!(request["operation"], "CheckAssetJobStatus");
    assert_eq!(request["status"], 404);
    assert_eq!(request["error_code"], "ROMA.00110006");
    assert!(request["latency_us"].is_u64(), "{request}");
    let started = find("roma-emulator started");
    for field in ["version", "listen", "config_file", "auth_mode", "clock_mode"] {
        assert!(started.get(field).is_some(), "{field} in {started}");
    }
    let stopped = find("roma-emulator stopped");
    assert!(
        stopped["jobs"].is_u64() && stopped["drain_ms"].is_u64(),
        "{stopped}"
    );
}

#[tokio::test]
async fn the_healthcheck_subcommand_tells_a_live_port_from_a_dead_one() {
    let mut child = emulator(&["--listen", "127.0.0.1:0"]).spawn().expect("spawn");
    let url = listening_url(&mut child);
    let check = |url: String| {
        emulator(&["healthcheck", "--url", &url])
            .output()
            .expect("healthcheck")
    };
    let live = tokio::task::spawn_blocking({
        let url = format!("{url}/_emulator/health");
        move || check(url)
    })
    .await
    .expect("task");
    assert!(live.status.success(), "{}", String::from_utf8_lossy(&live.stderr));
    stop_and_read_logs(&mut child);
    let dead = tokio::task::spawn_blocking(move || check(format!("{url}/_emulator/health")))
        .await
        .expect("task");
    assert_eq!(dead.status.code(), Some(1), "a dead port is unhealthy");
    assert!(String::from_utf8_lossy(&dead.stderr).contains("healthcheck"));
}

#[tokio::test]
async fn listen_takes_host_names_and_the_first_line_names_a_callable_address() {
    for (listen, bound_ip) in [("localhost:0", "127.0.0.1"), ("0.0.0.0:0", "0.0.0.0")] {
        let mut child = emulator(&["--listen", listen]).spawn().expect("spawn");
        let url = listening_url(&mut child);
        assert!(url.starts_with("http://127.0.0.1:"), "{listen}: {url}");
        let health = reqwest::get(format!("{url}/_emulator/health"))
            .await
            .expect("health");
        assert_eq!(health.status(), 200, "{listen}: the URL connects");
        let logs = stop_and_read_logs(&mut child);
        let started = logs
            .lines()
            .find(|l| l.contains("roma-emulator started"))
            .expect("startup line");
        assert!(
            started.contains(&format!("listen={bound_ip}:")),
            "{listen}: the bound address is logged: {started}"
        );
    }
}
