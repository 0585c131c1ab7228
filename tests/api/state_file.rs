//! The state file is owned by one process: locked, written through an exclusive temp file of its
//! own, refused at startup when its directory is missing, loaded only when valid, and reported
//! truthfully at shutdown.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::binary::{emulator, start_binary};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("roma-emulator-{}-sf-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn config_for(dir: &Path, state: &Path, extra: &str) -> PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[state]\nfile = \"{}\"\n{extra}", state.display()),
    )
    .expect("config");
    config
}

/// Runs the binary with `config` until it exits; returns its exit code and stderr.
fn run_to_exit(config: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec![
        "--listen",
        "127.0.0.1:0",
        "--config",
        config.to_str().expect("utf-8"),
    ];
    all.extend_from_slice(args);
    crate::binary::exit_of(emulator(&all))
}

#[test]
fn a_second_process_on_the_same_state_file_exits_2_naming_it() {
    let dir = temp_dir("two");
    let state = dir.join("state.json");
    let config = config_for(&dir, &state, "");
    let (mut first, _) = start_binary(&config);
    let (code, stderr) = run_to_exit(&config, &[]);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&state.display().to_string()), "{stderr}");
    assert!(stderr.contains("another process holds it"), "{stderr}");
}

#[test]
fn a_state_file_in_a_missing_directory_stops_startup() {
    let dir = temp_dir("missing");
    let state = dir.join("no-such-dir").join("state.json");
    let config = config_for(&dir, &state, "");
    let (code, stderr) = run_to_exit(&config, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn a_state_file_the_registry_cannot_hold_stops_startup_with_exit_2_and_one_json_line() {
    let dir = temp_dir("endless");
    let state = dir.join("state.json");
    let job = serde_json::json!({
        "id": "0123456789abcdef0123456789abcdef", "seq": 1, "kind": "exportAsset", "owner": "u",
        "scope": {"project": "p1", "instance": "i1"}, "begin": 1_700_000_000_000u64,
        "duration": {"secs": u64::MAX, "nanos": 0}, "end": null, "state": "Running", "reasons": [],
        "archive": null, "downloaded": false, "fail_at": null, "end_progress": null
    });
    let snapshot = serde_json::json!({
        "format": "roma-emulator-state", "version": 1,
        "registry": {"last_seq": 1, "jobs": [job], "work": [], "archives": [], "catalog": {}}
    });
    std::fs::write(&state, snapshot.to_string()).expect("state");
    let config = config_for(&dir, &state, "");
    let (code, stderr) = run_to_exit(&config, &["--log-format", "json"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("registry.jobs[0].duration"), "{stderr}");
    for line in stderr.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not JSON: {line}"
        );
    }
    // A huge id-stream position is refused at once too, not stepped through.
    let snapshot = serde_json::json!({
        "format": "roma-emulator-state", "version": 1, "ids": [u64::MAX, 0, 0, 0],
        "registry": {"last_seq": 0, "jobs": [], "work": [], "archives": [], "catalog": {}}
    });
    std::fs::write(&state, snapshot.to_string()).expect("state");
    let config = config_for(&dir, &state, "[emulator]\nseed = 1\n");
    let (code, stderr) = run_to_exit(&config, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ids[0]"), "{stderr}");
}

#[test]
fn saves_use_their_own_exclusive_temp_files_and_never_follow_a_planted_link() {
    let dir = temp_dir("temp");
    let path = dir.join("state.json");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "untouched").expect("victim");
    // The name the temp file used to have: a link planted there must receive nothing.
    let planted = dir.join(format!(".state.json.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).expect("symlink");
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                (0..20)
                    .filter(|i| {
                        roma_emulator::persist::write_atomically(
                            &path,
                            format!("{{\"w\":{w},\"i\":{i}}}").as_bytes(),
                        )
                        .is_err()
                    })
                    .count()
            })
        })
        .collect();
    let failures: usize = writers.into_iter().map(|t| t.join().expect("thread")).sum();
    assert_eq!(failures, 0, "concurrent saves must not fail");
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "untouched");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).expect("state").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") && !n.ends_with(&std::process::id().to_string()))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn shutdown_says_what_is_really_on_disk_and_fails_when_nothing_was_saved() {
    let dir = temp_dir("gone");
    let state_dir = dir.join("state");
    std::fs::create_dir_all(&state_dir).expect("dir");
    let state = state_dir.join("state.json");
    let config = config_for(&dir, &state, "");
    let (mut child, _) = start_binary(&config);
    std::fs::remove_dir_all(&state_dir).expect("remove the state directory");
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut status = None;
    for _ in 0..300 {
        status = child.try_wait().expect("wait");
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = status.expect("exited");
    let mut stderr = String::new();
    let _ = child.stderr.take().expect("stderr").read_to_string(&mut stderr);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("no snapshot is on disk"), "{stderr}");
    assert!(!stderr.contains("intact"), "{stderr}");
}

/// A state file written by version 1 (`tests/fixtures/state/v1.json`, made by the emulator before
/// D18: a download, an import into `inst-b`, an export from it whose archive waits) loads through
/// the migration: the waiting archive downloads byte for byte as version 1 built it
/// (`v1-archive.zip`, downloaded from a copy by that version), and the catalog is `inst-b`'s
/// under the project of its jobs (D18).
#[tokio::test]
async fn a_version_1_state_file_loads_and_its_archive_downloads_as_before() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/state");
    let mut v1: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures.join("v1.json")).expect("v1.json")).expect("JSON");
    assert_eq!(v1["version"], 1);
    // Under the virtual clock at the export's end, retention does not expire the jobs however old
    // the fixture gets.
    let end = v1["registry"]["jobs"][2]["end"].clone();
    v1["clock"] = end;
    let dir = temp_dir("v1");
    let state = dir.join("state.json");
    std::fs::write(&state, v1.to_string()).expect("state");
    let config = config_for(&dir, &state, "[clock]\nmode = \"virtual\"\n");
    let (mut child, url) = start_binary(&config);
    let client = reqwest::Client::new();
    let get = |path: String| {
        client
            .get(format!("{url}{path}"))
            .header("X-Auth-Token", "v1-tenant")
            .send()
    };
    let job: serde_json::Value =
        get("/v2/p1/instances/inst-b/assets/jobs/c7ff061e6d2948919575eb6dbc05901a".into())
            .await
            .expect("job")
            .json()
            .await
            .expect("JSON");
    assert_eq!(job["status"], "Success", "{job}");
    let archive = job["archive_id"].as_str().expect("archive_id").to_owned();
    let zip = get(format!("/v2/p1/instances/inst-b/assets/archives/{archive}"))
        .await
        .expect("download");
    assert_eq!(zip.status(), 200);
    let bytes = zip.bytes().await.expect("bytes");
    let golden = std::fs::read(fixtures.join("v1-archive.zip")).expect("v1-archive.zip");
    assert!(bytes[..] == golden[..], "the archive's bytes are version 1's");
    let exported: serde_json::Value = client
        .get(format!("{url}/_emulator/state"))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("JSON");
    assert_eq!(exported["version"], roma_emulator::persist::VERSION);
    let catalog = &exported["registry"]["catalog"];
    assert_eq!(catalog.as_array().map(Vec::len), Some(1), "{catalog}");
    assert_eq!(
        (catalog[0]["project"].as_str(), catalog[0]["instance"].as_str()),
        (Some("p1"), Some("inst-b"))
    );
    crate::binary::stop_and_read_logs(&mut child);
    let _ = std::fs::remove_dir_all(dir);
}

/// #27 finding 4: a runtime user that the config later also declares (by name, access key or
/// token) is dropped at load with one warning line naming it; the start goes on and the config's
/// user is the one that answers.
#[tokio::test]
async fn a_runtime_user_the_config_now_declares_is_dropped_at_load_with_a_warning() {
    let dir = temp_dir("clash");
    let state = dir.join("state.json");
    let config = config_for(&dir, &state, "");
    let (mut child, url) = start_binary(&config);
    let client = reqwest::Client::new();
    for user in [
        serde_json::json!({"name": "bob", "token": "bob-runtime"}),
        serde_json::json!({"name": "carol", "access_key": "AK-CAROL", "secret_key": "s1"}),
        serde_json::json!({"name": "dave", "token": "dave-runtime"}),
    ] {
        let res = client
            .post(format!("{url}/_emulator/users"))
            .json(&user)
            .send()
            .await
            .expect("add");
        assert_eq!(res.status(), 201);
    }
    crate::binary::stop_and_read_logs(&mut child);

    let declared = "[auth]\nmode = \"strict\"\n\
        [[auth.users]]\nname = \"bob\"\ntoken = \"bob-config\"\n\
        [[auth.users]]\nname = \"erin\"\naccess_key = \"AK-CAROL\"\nsecret_key = \"s2\"\n";
    let config = config_for(&dir, &state, declared);
    let (mut child, url) = start_binary(&config);
    let users: serde_json::Value = client
        .get(format!("{url}/_emulator/users"))
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("JSON");
    let listed: Vec<(String, String)> = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap_or_default().to_owned(),
                u["origin"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want = [("bob", "config"), ("erin", "config"), ("dave", "runtime")];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, o)| ((*n).to_owned(), (*o).to_owned()))
        .collect();
    assert_eq!(listed, want, "{users}");
    let job = |token: &str| {
        client
            .post(format!("{url}/v2/p1/instances/i1/assets/export"))
            .header("X-Auth-Token", token)
            .header("Content-Type", "application/json")
            .body(r#"{"apps":[{"id":"a"}]}"#)
            .send()
    };
    assert_eq!(job("bob-runtime").await.expect("export").status(), 403);
    assert_eq!(job("bob-config").await.expect("export").status(), 200);
    assert_eq!(job("dave-runtime").await.expect("export").status(), 200);
    let logs = crate::binary::stop_and_read_logs(&mut child);
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("dropped"))
        .collect();
    assert_eq!(warnings.len(), 2, "{logs}");
    assert!(warnings[0].contains("bob"), "{logs}");
    assert!(
        warnings[1].contains("carol") && warnings[1].contains("AK-CAROL"),
        "{logs}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
