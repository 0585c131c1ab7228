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
