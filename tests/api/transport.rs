//! The connection layer holds against careless tenants of a shared stub: a download is never cut
//! by a flood, stalled uploads cannot lock out probes, a client that stops reading is closed, and
//! no response byte is ever rewritten.

use std::sync::Arc;
use std::time::Duration;

use roma_emulator::config::{AssetConfig, InstanceConfig};
use roma_emulator::jobs::archive::{self, Package, Source};
use roma_emulator::jobs::{Asset, Content, ResourceType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TOKEN, TestApp, assert_job_created, raw_exchange, spawn_app_with};

/// Text that does not compress much: `n` bytes of pseudo-random hex digits.
fn noise(n: usize) -> String {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b"0123456789abcdef"[(x & 15) as usize])
        })
        .collect()
}

/// An emulator whose instance `i1` holds one app of about `bytes` of content, jobs ending at once.
async fn app_with_big_asset(bytes: usize, edit: impl FnOnce(&mut roma_emulator::Config)) -> TestApp {
    spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.catalog.max_bytes_per_instance = 64 * 1024 * 1024;
        c.instances = vec![InstanceConfig {
            id: "i1".into(),
            apps: vec![AssetConfig {
                id: "big".into(),
                name: "big".into(),
                content: serde_json::Value::String(noise(bytes)),
            }],
            tasks: vec![],
        }];
        edit(c);
    })
    .await
}

/// Exports the big app and returns the archive id.
async fn big_archive(app: &TestApp) -> String {
    let job = assert_job_created(
        app.export(TOKEN, "p1", "i1", r#"{"apps": [{"id": "big"}]}"#)
            .await,
    )
    .await;
    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    status["archive_id"].as_str().expect("archive_id").to_owned()
}

/// Sends `request` on a new connection and returns the stream, with the response head read and
/// parsed: (stream, content-length, body bytes already read).
async fn start_exchange(app: &TestApp, request: &str) -> (TcpStream, usize, Vec<u8>) {
    start_exchange_buffered(app, request, None).await
}

/// [`start_exchange`] on a socket with a receive buffer of `rcvbuf` bytes (small: the server's
/// writes are cut at many places).
async fn start_exchange_buffered(
    app: &TestApp,
    request: &str,
    rcvbuf: Option<u32>,
) -> (TcpStream, usize, Vec<u8>) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    if let Some(size) = rcvbuf {
        socket.set_recv_buffer_size(size).expect("SO_RCVBUF");
    }
    let mut stream = socket.connect(app.server.local_addr()).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await.expect("read the head");
        assert!(n > 0, "closed before the head: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .expect("content-length");
    (stream, length, got[head_end..].to_vec())
}

/// Reads until the end or `wait` passes without a byte; returns what was read.
async fn read_rest(stream: &mut TcpStream, mut got: Vec<u8>, wait: Duration) -> Vec<u8> {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(Ok(n)) = tokio::time::timeout(wait, stream.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn download_request(archive: &str) -> String {
    format!(
        "GET /v2/p1/instances/i1/assets/archives/{archive} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\n\r\n"
    )
}

#[tokio::test]
async fn a_connection_flood_does_not_cut_a_download_in_progress() {
    // About 12 MB of archive: more than the loopback socket buffers hold, so the server is still
    // writing it while the flood arrives.
    let app = app_with_big_asset(24 * 1024 * 1024, |c| c.server.max_connections = 4).await;
    let archive = big_archive(&app).await;
    let (mut victim, length, got) = start_exchange(&app, &download_request(&archive)).await;
    assert!(length > 8 * 1024 * 1024, "archive of {length} bytes");
    // The victim stops reading; silent connections arrive, each evicting an idle one.
    let mut flood = Vec::new();
    for _ in 0..12 {
        flood.push(
            TcpStream::connect(app.server.local_addr())
                .await
                .expect("connect"),
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = read_rest(&mut victim, got, Duration::from_secs(5)).await;
    assert_eq!(
        got.len(),
        length,
        "the download was cut at {} of {length} bytes",
        got.len()
    );
}

#[tokio::test]
async fn stalled_uploads_at_the_cap_lock_out_neither_probes_nor_for_long() {
    let app = spawn_app_with(|c| {
        c.server.max_connections = 8;
        c.server.body_read_timeout_ms = 1500;
    })
    .await;
    let addr = app.server.local_addr();
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(
            format!(
                "POST /v2/p1/instances/i1/assets/export HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
        stalled.push(s);
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    for probe in ["/_emulator/health", "/_emulator/ready"] {
        let request = format!("GET {probe} HTTP/1.1\r\nHost: x\r\n\r\n");
        let (answer, _) = raw_exchange(addr, request.as_bytes(), Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{probe}: {answer}");
    }
    // Anything else finds every regular slot busy: it waits half a second for one, then gets a
    // clear answer, not a hang.
    let export = format!(
        "POST /v2/p1/instances/i1/assets/export HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    let (answer, closed) = raw_exchange(addr, export.as_bytes(), Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("EMULATOR.0503"), "{answer}");
    assert!(closed);
    // The stalled bodies are ended by body_read_timeout_ms with a ROMA-style answer.
    for s in &mut stalled {
        let answer =
            String::from_utf8_lossy(&read_rest(s, Vec::new(), Duration::from_secs(5)).await).into_owned();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("EMULATOR.0408"), "{answer}");
    }
    assert_eq!(app.health().await, 200);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_by_the_write_timeout() {
    let app = app_with_big_asset(24 * 1024 * 1024, |c| c.server.write_timeout_ms = 300).await;
    let archive = big_archive(&app).await;
    let (mut reader, length, got) = start_exchange(&app, &download_request(&archive)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = read_rest(&mut reader, got, Duration::from_secs(5)).await;
    assert!(
        got.len() < length,
        "the server kept writing to a client that did not read for 1.5 s ({} of {length} bytes)",
        got.len()
    );
}

#[tokio::test]
async fn content_that_looks_like_a_status_line_is_never_rewritten() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.catalog.max_bytes_per_instance = 64 * 1024 * 1024;
    })
    .await;
    // Raw JSON whose whitespace and strings spell HTTP error heads, kept verbatim by the emulator.
    // The server's writes are cut by the socket at places the test cannot choose; shifting the
    // text by one byte a round puts an error head at each cut in one of the rounds.
    let unit = "\"HTTP/1.1 400 x\"\r\n\r\n,";
    for shift in 0..unit.len() {
        let raw = format!("[{}{}\"end\"]", " ".repeat(shift), unit.repeat(300_000));
        let package = Package {
            source: Source {
                project_id: "p0".into(),
                instance_id: "i0".into(),
            },
            exported_at: "2026-01-01T00:00:00Z".into(),
            job_id: "0".repeat(32),
            assets: vec![(
                ResourceType::Application,
                Arc::new(Asset {
                    id: "lookalike".into(),
                    name: "lookalike".into(),
                    content: Content::from_json(raw.clone()).expect("valid JSON"),
                }),
            )],
        };
        let zip = archive::build(&package).expect("zip");
        let res = app
            .import(TOKEN, "i1", "", "ImportAssetRequestBody", "assets.zip", zip)
            .await;
        assert_job_created(res).await;
        let request = "GET /_emulator/state HTTP/1.1\r\nHost: x\r\n\r\n";
        let (mut stream, length, mut got) = start_exchange_buffered(&app, request, Some(4096)).await;
        let mut buf = vec![0u8; 16 * 1024];
        while got.len() < length {
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
                .await
                .expect("the rest of the response never came: bytes were lost or replaced")
                .expect("read");
            assert!(n > 0, "closed early (shift {shift})");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got.len(), length);
        assert!(
            !String::from_utf8_lossy(&got).contains("EMULATOR.0400"),
            "shift {shift}: a response was spliced in"
        );
        let state: serde_json::Value = serde_json::from_slice(&got).expect("the state is whole JSON");
        let catalog = state["registry"]["catalog"].to_string();
        assert!(
            catalog.contains("lookalike"),
            "the imported asset is in the state"
        );
    }
}

#[tokio::test]
async fn a_request_amid_a_burst_of_silent_connections_is_served_not_refused() {
    let app = spawn_app_with(|c| c.server.max_connections = 8).await;
    let addr = app.server.local_addr();
    for _ in 0..5 {
        // A burst: every regular slot and every probe slot is taken by a connection too young
        // to evict; the request lands in a probe slot and waits there for a regular one.
        let mut flood = Vec::new();
        for _ in 0..40 {
            flood.push(TcpStream::connect(addr).await.expect("connect"));
        }
        let export = format!(
            "POST /v2/p1/instances/i1/assets/export HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r\n{{\"apps\": [{{\"id\": \"a\"}}]}}"
        );
        let (answer, _) = raw_exchange(addr, export.as_bytes(), Duration::from_secs(5)).await;
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.contains("ROMA.10012"),
            "{answer}"
        );
        drop(flood);
    }
}
