//! Large bodies on a shared stub (#27 finding 2): a permit goes to a caller only once it is
//! authenticated, a caller holds at most one, and a trickled upload loses its permit to the
//! upload floor instead of holding it until the request timeout.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;
use roma_emulator::config::{AuthMode, Secret, UserConfig};

const IMPORT: &str = "/v2/p1/instances/i1/assets/import";

/// Opens a connection that sends an ImportAsset head declaring 12 MB with `auth` (header lines),
/// then a few bytes of the body, and no more: a trickle that has not been refused yet.
async fn trickle(app: &TestApp, auth: &str) -> TcpStream {
    let mut s = TcpStream::connect(app.server.local_addr())
        .await
        .expect("connect");
    let head = format!(
        "POST {IMPORT} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 12000000\r\n\r\n--b\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write");
    s
}

/// What `s` answers within `wait` (empty when nothing came).
async fn answer_of(s: &mut TcpStream, wait: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A package to import: `token` exports app-1 of i1 and downloads it.
async fn package(app: &TestApp, token: &str) -> Vec<u8> {
    app.export_and_download(token, "i1", r#"{"apps":[{"id":"app-1"}]}"#)
        .await
}

fn user(name: &str, edit: impl FnOnce(&mut UserConfig)) -> UserConfig {
    let mut user = UserConfig {
        name: name.into(),
        ..Default::default()
    };
    edit(&mut user);
    user
}

/// The attack of finding 2: four connections sign with a known access key and a garbage
/// signature, declare 12 MB and trickle. They are anonymous until their signature is checked, so
/// they count against their address: one holds a permit, the others are refused, and another
/// tenant's import goes through.
#[tokio::test]
async fn garbage_signatures_cannot_take_every_upload_permit() {
    let app = spawn_app_with(|c| {
        c.auth.mode = AuthMode::Strict;
        c.jobs.duration_ms = 0;
        c.server.large_body_wait_ms = 300;
        c.auth.users = vec![
            user("victim", |u| u.token = Some(Secret::new("victim-token"))),
            user("known", |u| {
                u.access_key = Some("AK-KNOWN".into());
                u.secret_key = Some(Secret::new("sk"));
            }),
        ];
    })
    .await;
    let zip = package(&app, "victim-token").await;
    let auth = format!(
        "Authorization: SDK-HMAC-SHA256 Access=AK-KNOWN, SignedHeaders=host;x-sdk-date, Signature=00\r\nX-Sdk-Date: {}\r\n",
        sdk_date(0)
    );
    let mut attackers = Vec::new();
    for _ in 0..4 {
        attackers.push(trickle(&app, &auth).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        let res = app
            .import("victim-token", "i1", "", "file", "a.zip", zip.clone())
            .await;
        assert_job_created(res).await;
    }
    let mut refused = 0;
    for a in &mut attackers {
        if answer_of(a, Duration::from_millis(600))
            .await
            .contains("EMULATOR.0503")
        {
            refused += 1;
        }
    }
    assert_eq!(refused, 3, "one address holds one permit");
}

/// A trickle loses its permit after the grace: 408 naming the floor, long before the request
/// timeout; the permit is free again at once.
#[tokio::test]
async fn a_trickled_upload_is_ended_by_the_floor_and_frees_its_permit() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.server.max_large_bodies = 1;
        c.server.min_upload_grace_ms = 300;
        c.server.min_upload_bytes_per_s = 64 * 1024;
        c.server.request_timeout_ms = 20_000;
    })
    .await;
    let zip = package(&app, TOKEN).await;
    let mut slow = trickle(&app, "X-Auth-Token: slow\r\n").await;
    let started = std::time::Instant::now();
    let answer = answer_of(&mut slow, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("EMULATOR.0408") && answer.contains("min_upload_bytes_per_s"),
        "{answer}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "ended by the floor, not a timeout"
    );
    let res = app.import(TOKEN, "i1", "", "file", "a.zip", zip).await;
    assert_job_created(res).await;
}

/// One caller holds one permit: its second large body waits for the first, and is refused
/// unread when the first does not end in time; another caller is not held up.
#[tokio::test]
async fn a_caller_holds_at_most_one_permit_and_others_are_not_held_up() {
    let app = spawn_app_with(|c| {
        c.jobs.duration_ms = 0;
        c.server.large_body_wait_ms = 300;
    })
    .await;
    let zip = package(&app, "bee").await;
    let _first = trickle(&app, "X-Auth-Token: ant\r\n").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = app.import("ant", "i1", "", "file", "a.zip", zip.clone()).await;
    let body = assert_roma_error(second, 503, "EMULATOR.0503").await;
    let details = body["error_details"].as_str().unwrap_or_default();
    assert!(
        details.contains("user ") && details.contains("one a caller"),
        "{body}"
    );
    let other = app.import("bee", "i1", "", "file", "a.zip", zip).await;
    assert_job_created(other).await;
}
