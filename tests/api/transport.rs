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
            project: None,
            apps: vec![AssetConfig {
                id: "big".into(),
                name: "big".into(),
                content: serde_json::Value::String(noise(bytes)),
                ..Default::default()
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
                    info: None,
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

mod attacks {
    //! Hardening of connections: no client can hold the server open,
    //! lock others out, get a bare framework answer, or stall a shutdown.

    use std::time::{Duration, Instant};

    use roma_emulator::config::Progression;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use crate::helpers::{TOKEN, assert_job_created, raw_exchange, spawn_app_with};

    /// Whether the server closed `stream` within `wait` (reading nothing but the end).
    async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
        let mut buf = [0u8; 1024];
        let deadline = Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
                Err(_) => return false,
            }
        }
    }

    #[tokio::test]
    async fn silent_slow_and_idle_connections_are_closed_after_the_header_timeout() {
        let app = spawn_app_with(|c| c.server.header_read_timeout_ms = 300).await;
        let addr = app.server.local_addr();
        let mut silent = TcpStream::connect(addr).await.expect("connect");
        let mut slow = TcpStream::connect(addr).await.expect("connect");
        slow.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        let mut idle = TcpStream::connect(addr).await.expect("connect");
        idle.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
        let mut first = [0u8; 512];
        let n = idle.read(&mut first).await.expect("response");
        assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
        for (what, stream) in [("silent", &mut silent), ("slow", &mut slow), ("idle", &mut idle)] {
            assert!(
                closed_within(stream, Duration::from_secs(3)).await,
                "{what} connection still open"
            );
        }
    }

    #[tokio::test]
    async fn a_flood_of_silent_connections_cannot_lock_out_health() {
        let app = spawn_app_with(|c| c.server.max_connections = 20).await;
        let addr = app.server.local_addr();
        let mut flood = Vec::new();
        for _ in 0..60 {
            flood.push(TcpStream::connect(addr).await.expect("connect"));
        }
        let started = Instant::now();
        assert_eq!(app.health().await, 200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "health answered at once"
        );
        let mut closed = 0;
        for stream in &mut flood {
            if closed_within(stream, Duration::from_millis(50)).await {
                closed += 1;
            }
        }
        // At most max_connections stay open, and the probe slots (held by silent connections
        // until their one-second head timeout).
        let may_stay = 20 + roma_emulator::transport::table::PROBE_SLOTS;
        assert!(
            closed >= 60 - may_stay,
            "at most {may_stay} connections stay open, {closed} of 60 closed"
        );
    }

    #[tokio::test]
    async fn at_the_cap_with_every_connection_busy_a_new_one_gets_503_unless_it_is_a_probe() {
        let app = spawn_app_with(|c| {
            c.server.max_connections = 2;
            c.jobs.progression = Progression::Manual;
        })
        .await;
        let job = assert_job_created(app.export_one(TOKEN).await).await;
        // The export's keep-alive connection stays idle: past its grace, a wait may evict it.
        tokio::time::sleep(roma_emulator::transport::conn::GRACE).await;
        let wait_url = app.url(&format!("/_emulator/jobs/{job}/wait?timeout_ms=3000"));
        let waits: Vec<_> = (0..2)
            .map(|_| {
                let url = wait_url.clone();
                tokio::spawn(async move { reqwest::Client::new().get(url).send().await.map(|r| r.status()) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let request = b"GET /_emulator/jobs HTTP/1.1\r\nHost: x\r\n\r\n";
        let (answer, closed) = raw_exchange(app.server.local_addr(), request, Duration::from_secs(2)).await;
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains(r#""error_code":"EMULATOR.0503""#), "{answer}");
        assert!(closed, "the refused connection is closed");
        // A probe still answers: it takes one of the slots kept for probes.
        let probe = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n";
        let (answer, closed) = raw_exchange(app.server.local_addr(), probe, Duration::from_secs(2)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(closed, "a probe slot serves one probe, then closes");
        for wait in waits {
            assert_eq!(wait.await.expect("task").expect("wait").as_u16(), 408);
        }
    }

    #[tokio::test]
    async fn oversized_heads_get_the_gateways_answers_and_garbage_the_error_body() {
        let app = spawn_app_with(|_| {}).await;
        let addr = app.server.local_addr();
        let uri = |n: usize| {
            format!(
                "GET /_emulator/health?{} HTTP/1.1\r\nHost: x\r\n\r\n",
                "a".repeat(n)
            )
        };
        let headers = |n: usize, size: usize| {
            format!(
                "GET /_emulator/health HTTP/1.1\r\nHost: x\r\n{}\r\n",
                (0..n)
                    .map(|i| format!("X-H{i}: {}\r\n", "v".repeat(size)))
                    .collect::<String>()
            )
        };
        let cases: Vec<(String, &str, &str, &str)> = vec![
            (
                "\u{1}\u{2} garbage\r\n\r\n".to_owned(),
                "HTTP/1.1 400",
                "EMULATOR.0400",
                "The request is not valid HTTP/1.1",
            ),
            // Over the gateway's 32 KB: answered by the API layer; over 64 KiB: by hyper, replaced.
            (uri(40_000), "HTTP/1.1 414", "APIG.0201", "Request URI too large."),
            (uri(70_000), "HTTP/1.1 414", "APIG.0201", "Request URI too large."),
            // One header over 32 KB; headers over 128 KB in all; more headers than hyper takes.
            (
                headers(1, 33_000),
                "HTTP/1.1 494",
                "APIG.0201",
                "Request headers too large.",
            ),
            (
                headers(10, 14_000),
                "HTTP/1.1 494",
                "APIG.0201",
                "Request headers too large.",
            ),
            (
                headers(1200, 1),
                "HTTP/1.1 494",
                "APIG.0201",
                "Request headers too large.",
            ),
        ];
        for (request, status, code, message) in cases {
            let (answer, _) = raw_exchange(addr, request.as_bytes(), Duration::from_secs(3)).await;
            assert!(answer.starts_with(status), "{status}: {answer}");
            let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
            let json: serde_json::Value =
                serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
            assert_eq!(json["error_code"], code, "{answer}");
            assert_eq!(json["error_msg"], message, "{answer}");
            assert!(answer.to_ascii_lowercase().contains("x-request-id:"), "{answer}");
        }
        // Within the limits, 200 headers are fine (the gateway counts bytes, not headers).
        let (answer, _) = raw_exchange(addr, headers(200, 10).as_bytes(), Duration::from_secs(3)).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn shutdown_answers_long_polls_and_is_not_held_by_slow_connections() {
        let app = spawn_app_with(|c| {
            c.server.header_read_timeout_ms = 500;
            c.jobs.progression = Progression::Manual;
        })
        .await;
        let job = assert_job_created(app.export_one(TOKEN).await).await;
        let url = app.url(&format!("/_emulator/jobs/{job}/wait?timeout_ms=20000"));
        let wait = tokio::spawn(async move {
            let res = reqwest::Client::new().get(url).send().await.expect("wait");
            (res.status().as_u16(), res.text().await.unwrap_or_default())
        });
        let mut slow = TcpStream::connect(app.server.local_addr())
            .await
            .expect("connect");
        slow.write_all(b"GET /_emulator/health HTTP/1.1\r\nHost:")
            .await
            .expect("write");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        app.server.shutdown().await.expect("shutdown");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
        let (status, body) = wait.await.expect("task");
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("EMULATOR.0503"), "{body}");
    }

    #[tokio::test]
    async fn readiness_is_open_and_flips_to_503_when_shutdown_begins() {
        use roma_emulator::config::Secret;
        let app = spawn_app_with(|c| c.emulator.admin_token = Some(Secret::new("admin"))).await;
        let res = app
            .client
            .get(app.url("/_emulator/ready"))
            .send()
            .await
            .expect("ready");
        assert_eq!(res.status(), 200, "no admin token needed");
        // What a keep-alive client (a probe) sees once draining begins, asked of the router itself.
        let state = app.server.state().clone();
        let router = roma_emulator::api::router(state.clone());
        state.shutdown.send_replace(true);
        let req = axum::http::Request::get("/_emulator/ready")
            .body(axum::body::Body::empty())
            .expect("request");
        let res = tower::ServiceExt::oneshot(router, req).await.expect("response");
        assert_eq!(res.status(), 503);
        let body = axum::body::to_bytes(res.into_body(), 4096).await.expect("body");
        assert!(String::from_utf8_lossy(&body).contains("EMULATOR.0503"));
    }
}

/// #27 finding 6: a flood of silent connections fills the main port's slots and socket budget,
/// and newcomers wait in the kernel's backlog. The probe port (`[server] probe_listen`) has a
/// budget of its own: health answers there at once, and nothing but the probes is served on it.
#[tokio::test]
async fn the_probe_port_answers_health_while_the_main_port_is_flooded() {
    let app = spawn_app_with(|c| {
        c.server.max_connections = 4;
        c.server.probe_listen = Some("127.0.0.1:0".into());
    })
    .await;
    let probes = app.server.probe_url().expect("a probe port");
    let mut flood = Vec::new();
    for _ in 0..400 {
        match tokio::net::TcpStream::connect(app.server.local_addr()).await {
            Ok(mut s) => {
                let _ = tokio::io::AsyncWriteExt::write_all(
                    &mut s,
                    b"GET /v2/p/instances/i/assets/jobs/x HTTP/1.1\r\n",
                )
                .await;
                flood.push(s);
            }
            Err(_) => break,
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("client");
    for _ in 0..5 {
        let res = client
            .get(format!("{probes}/_emulator/health"))
            .send()
            .await
            .expect("the probe port answers during the flood");
        assert_eq!(res.status(), 200);
    }
    let ready = client
        .get(format!("{probes}/_emulator/ready"))
        .send()
        .await
        .expect("ready");
    assert_eq!(ready.status(), 200);
    let other = client
        .get(format!("{probes}/_emulator/jobs"))
        .send()
        .await
        .expect("answer");
    crate::helpers::assert_roma_error(other, 503, "EMULATOR.0503").await;
    drop(flood);
}
