//! The process as a tenant of a shared machine sees it: a blocked stderr freezes nothing,
//! configuration from the environment is as strict as from the file, and `healthcheck` asks the
//! address the server listens on, within one deadline.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use roma_emulator::Config;

use crate::binary::{emulator, listening_url};

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Runs the binary with `env` until it exits; returns its exit code and stderr.
fn exit_of(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = emulator(&["--listen", "127.0.0.1:0"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    crate::binary::exit_of(cmd)
}

#[test]
fn a_misspelled_variable_stops_startup_naming_it() {
    let (code, stderr) = exit_of(&[("ROMA_EMULATOR_ADMINTOKEN", "secret")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ROMA_EMULATOR_ADMINTOKEN"), "{stderr}");
    assert!(
        stderr.contains("ROMA_EMULATOR_EMULATOR_ADMIN_TOKEN") || stderr.contains("ROMA_EMULATOR_ADMIN_TOKEN"),
        "a hint: {stderr}"
    );
}

#[test]
fn an_invalid_log_level_stops_startup() {
    let (code, stderr) = exit_of(&[("ROMA_EMULATOR_LOG_LEVEL", "verbose")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("verbose"), "{stderr}");
}

#[test]
fn a_range_error_names_the_variable_the_value_came_from() {
    let env = vec![("ROMA_EMULATOR_SERVER_MAX_CONNECTIONS".to_owned(), "0".to_owned())];
    let err = Config::from_toml_and_env("", env).expect_err("0 connections");
    assert_eq!(err.key, "ROMA_EMULATOR_SERVER_MAX_CONNECTIONS", "{err}");
    let err = Config::from_toml("[server]\nmax_connections = 0\n").expect_err("0 connections");
    assert_eq!(err.key, "server.max_connections", "{err}");
}

#[test]
fn healthcheck_asks_the_address_the_server_listens_on() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = emulator(&[])
        .env("ROMA_EMULATOR_SERVER_LISTEN", &listen)
        .spawn()
        .expect("spawn");
    listening_url(&mut server);
    let check = emulator(&["healthcheck"])
        .env("ROMA_EMULATOR_SERVER_LISTEN", &listen)
        .output()
        .expect("healthcheck");
    let by_flag = emulator(&["healthcheck", "--listen", &listen])
        .output()
        .expect("healthcheck");
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        by_flag.status.success(),
        "{}",
        String::from_utf8_lossy(&by_flag.stderr)
    );
}

#[test]
fn healthcheck_has_one_deadline_for_the_whole_exchange() {
    // A server that answers one byte every 1.5 s: each read is quick enough, the whole is not.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            for b in b"HTTP/1.1 200 OK\r\n\r\n" {
                std::thread::sleep(Duration::from_millis(1500));
                if stream.write_all(&[*b]).is_err() {
                    return;
                }
            }
        }
    });
    let started = Instant::now();
    let out = emulator(&["healthcheck", "--url", &format!("http://{addr}/_emulator/health")])
        .output()
        .expect("healthcheck");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_blocked_stderr_freezes_neither_requests_nor_shutdown() {
    let dir = std::env::temp_dir().join(format!("roma-emulator-{}-stderr", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let state = dir.join("state.json");
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[state]\nfile = \"{}\"\n", state.display())).expect("config");
    // stderr is a pipe nobody reads: a stuck log shipper.
    let mut child = emulator(&[
        "--listen",
        "127.0.0.1:0",
        "--config",
        config.to_str().expect("utf-8"),
    ])
    .stderr(Stdio::piped())
    .spawn()
    .expect("spawn");
    let url = listening_url(&mut child);
    let addr = url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    // Each request logs a line (about 250 bytes): far more than the pipe and the log buffer hold.
    let mut buf = [0u8; 4096];
    for i in 0..8000 {
        stream
            .write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
        let n = stream
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("request {i} got no answer: {e}"));
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "request {i}");
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "SIGTERM did not stop it"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(state.is_file(), "the state was saved at shutdown");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_connection_cap_is_kept_under_the_open_file_limit_and_health_answers_a_flood() {
    let binary = env!("CARGO_BIN_EXE_roma-emulator");
    let mut child = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -n 256 && exec '{binary}' --listen 127.0.0.1:0"),
        ])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let url = listening_url(&mut child);
    let addr = url.trim_start_matches("http://").to_owned();
    // More silent connections than descriptors: accept must never fail for want of one.
    let flood: Vec<std::net::TcpStream> = (0..400)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    let mut probe = std::net::TcpStream::connect(&addr).expect("connect");
    probe
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    probe
        .write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut answer = [0u8; 12];
    let read = probe.read_exact(&mut answer);
    drop(flood);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let mut stderr = String::new();
    let _ = child.stderr.take().expect("stderr").read_to_string(&mut stderr);
    assert!(
        read.is_ok(),
        "health unanswered under the flood: {read:?}\n{stderr}"
    );
    assert_eq!(&answer, b"HTTP/1.1 200", "{stderr}");
    let cap = roma_emulator::transport::fd::connection_cap(1024, Some(256));
    assert!(cap < 256 - roma_emulator::transport::table::PROBE_SLOTS, "{cap}");
    assert!(stderr.contains(&format!("max_connections={cap}")), "{stderr}");
    assert!(stderr.contains("fd_limit=256"), "{stderr}");
    assert!(!stderr.contains("accepting a connection failed"), "{stderr}");
}

#[tokio::test]
async fn the_startup_line_names_the_dialect_in_force() {
    for (dialect, shown) in [("seed", "Running, Success"), ("current", "RUNNING, SUCCEEDED")] {
        let mut child = emulator(&["--listen", "127.0.0.1:0"])
            .env("ROMA_EMULATOR_API_DIALECT", dialect)
            .spawn()
            .expect("spawn");
        listening_url(&mut child);
        let logs = crate::binary::stop_and_read_logs(&mut child);
        let started = logs
            .lines()
            .find(|l| l.contains("roma-emulator started"))
            .unwrap_or_default();
        assert!(
            started.contains(&format!("dialect=\"{dialect} ({shown}")),
            "{started}"
        );
    }
}
