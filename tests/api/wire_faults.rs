//! Faults on the wire (#30): a reset, an empty response, a stall after the head, a body cut after
//! N bytes; what a client's retry logic meets.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::diagnostics::last_entry;
use crate::helpers::*;

/// A finished export's archive id (jobs end as they are made).
async fn archive(app: &TestApp) -> String {
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    status["archive_id"].as_str().expect("archive").to_owned()
}

async fn fault(app: &TestApp, spec: Value) {
    let (status, body) = app.control_post("/_emulator/faults", spec).await;
    assert_eq!(status, 201, "{body}");
}

/// Reads a body to its end or its error: the bytes that came, and whether it ended cleanly.
async fn read_all(mut res: reqwest::Response) -> (usize, bool) {
    let mut got = 0;
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) => got += chunk.len(),
            Ok(None) => return (got, true),
            Err(_) => return (got, false),
        }
    }
}

#[tokio::test]
async fn a_cut_download_brings_exactly_n_bytes_and_consumes_the_archive() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let id = archive(&app).await;
    fault(
        &app,
        json!({"operation": "DownloadAssetArchive", "cut_after_bytes": 100, "times": 1}),
    )
    .await;
    let res = app.download(TOKEN, "p1", "i1", &id).await;
    assert_eq!(res.status(), 200);
    let full: usize = res
        .content_length()
        .expect("Content-Length")
        .try_into()
        .expect("size");
    assert!(full > 100, "the package is larger than the cut ({full})");
    assert_eq!(
        read_all(res).await,
        (100, false),
        "exactly 100 bytes, then the connection drops"
    );
    let entry = last_entry(&app).await;
    assert_eq!(entry["summary"]["bytes_sent"], 100, "{entry}");
    assert_eq!(entry["summary"]["complete"], false, "{entry}");
    assert_eq!(entry["wire_fault"], "cut_after_bytes=100", "{entry}");
    // As the cloud's one download: the archive is gone.
    assert_roma_error(app.download(TOKEN, "p1", "i1", &id).await, 404, "ROMA.00110006").await;
}

#[tokio::test]
async fn with_keep_archive_a_cut_download_can_be_retried() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let id = archive(&app).await;
    fault(
        &app,
        json!({"operation": "DownloadAssetArchive", "cut_after_bytes": 10,
        "keep_archive": true, "times": 1}),
    )
    .await;
    assert_eq!(
        read_all(app.download(TOKEN, "p1", "i1", &id).await).await,
        (10, false)
    );
    let res = app.download(TOKEN, "p1", "i1", &id).await;
    assert_eq!(res.status(), 200);
    let full = res.content_length().expect("length") as usize;
    assert_eq!(
        read_all(res).await,
        (full, true),
        "the retry gets the whole package"
    );
    assert_roma_error(app.download(TOKEN, "p1", "i1", &id).await, 404, "ROMA.00110006").await;
}

/// Sends one export on a raw connection: what the first read returns.
async fn raw_export(app: &TestApp) -> std::io::Result<usize> {
    let addr = app.server.local_addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let body = r#"{"apps": [{"id": "app-1"}]}"#;
    let head = format!(
        "POST /v2/p1/instances/i1/assets/export HTTP/1.1\r\nHost: {addr}\r\nX-Auth-Token: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    let mut buf = [0u8; 1024];
    tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .map_err(|_| std::io::Error::other("no answer in 10 s"))?
}

#[tokio::test]
async fn reset_and_empty_response_close_the_connection_unanswered() {
    let app = spawn_app().await;
    fault(
        &app,
        json!({"operation": "ExportAsset", "reset": true, "times": 1}),
    )
    .await;
    let read = raw_export(&app).await;
    assert_eq!(
        read.as_ref().map_err(std::io::Error::kind).err(),
        Some(std::io::ErrorKind::ConnectionReset),
        "{read:?}"
    );
    fault(
        &app,
        json!({"operation": "ExportAsset", "empty_response": true, "times": 1}),
    )
    .await;
    assert_eq!(
        raw_export(&app).await.expect("a clean close"),
        0,
        "nothing is sent"
    );
    let entry = last_entry(&app).await;
    assert_eq!(entry["wire_fault"], "empty_response", "{entry}");
    // Both faults are used up: the next export is answered.
    assert_job_created(app.export_one(TOKEN).await).await;
}

#[tokio::test]
async fn a_stall_sends_the_head_then_waits_before_the_body() {
    let app = spawn_app().await;
    fault(
        &app,
        json!({"operation": "ExportAsset", "stall_ms": 300, "times": 1}),
    )
    .await;
    let started = Instant::now();
    let res = app.export_one(TOKEN).await;
    assert_eq!(res.status(), 200, "the head arrives");
    let body: Value = res.json().await.expect("the body arrives after the stall");
    assert!(body["job_id"].as_str().is_some_and(is_hex32), "{body}");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the body waited the stall"
    );
}

#[tokio::test]
async fn wire_faults_that_cannot_happen_together_are_refused_naming_the_field() {
    let app = spawn_app().await;
    for (spec, field) in [
        (
            json!({"operation": "ExportAsset", "reset": true, "empty_response": true}),
            "reset, empty_response",
        ),
        (
            json!({"operation": "ExportAsset", "reset": true, "status": 500}),
            "reset, empty_response",
        ),
        (
            json!({"operation": "ExportAsset", "cut_after_bytes": 5, "keep_archive": true}),
            "keep_archive",
        ),
        (
            json!({"operation": "ExportAsset", "stall_ms": 600_001}),
            "stall_ms",
        ),
        (
            json!({"operation": "ExportAsset", "keep_archive": true}),
            "keep_archive",
        ),
    ] {
        let (status, body) = app.control_post("/_emulator/faults", spec.clone()).await;
        assert_eq!(status, 400, "{spec}: {body}");
        let details = body["error_details"].as_str().unwrap_or_default();
        assert!(details.starts_with(field), "{spec}: {details}");
    }
}

#[tokio::test]
async fn a_fault_with_where_matches_what_the_request_asks() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    fault(
        &app,
        json!({"operation": "ExportAsset", "where": {"apps": ["app-2"]}, "status": 503}),
    )
    .await;
    assert_job_created(
        app.export(TOKEN, "p1", "i1", r#"{"apps": [{"id": "app-1"}]}"#)
            .await,
    )
    .await;
    let body = r#"{"apps": [{"id": "app-2"}, {"id": "app-3"}]}"#;
    assert_roma_error(app.export(TOKEN, "p1", "i1", body).await, 503, "ROMA.00000101").await;
    let entry = last_entry(&app).await;
    assert_eq!(
        entry["summary"]["apps"],
        json!(["app-2", "app-3"]),
        "the summary stays: {entry}"
    );
    app.control(reqwest::Method::DELETE, "/_emulator/faults")
        .send()
        .await
        .expect("clear");

    // One archive's download is cut (and kept); another's is whole; one job's poll fails.
    let (first, second) = (archive(&app).await, archive(&app).await);
    fault(
        &app,
        json!({"operation": "DownloadAssetArchive", "where": {"archive_id": first},
        "cut_after_bytes": 10, "keep_archive": true, "times": 1}),
    )
    .await;
    let whole = app.download(TOKEN, "p1", "i1", &second).await;
    let length = whole.content_length().expect("length") as usize;
    assert_eq!(
        read_all(whole).await,
        (length, true),
        "another archive is not cut"
    );
    assert_eq!(
        read_all(app.download(TOKEN, "p1", "i1", &first).await).await,
        (10, false)
    );
    assert_eq!(
        app.download(TOKEN, "p1", "i1", &first).await.status(),
        200,
        "kept, and the fault is used up"
    );
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    fault(
        &app,
        json!({"operation": "CheckAssetJobStatus", "where": {"job_id": job}, "status": 500, "times": 1}),
    )
    .await;
    let other = assert_job_created(app.export_one(TOKEN).await).await;
    assert_eq!(app.job(TOKEN, "p1", "i1", &other).await.status(), 200);
    assert_roma_error(app.job(TOKEN, "p1", "i1", &job).await, 500, "ROMA.00000101").await;
}

#[tokio::test]
async fn a_where_that_cannot_match_is_refused_naming_the_field() {
    let app = spawn_app().await;
    for (spec, field) in [
        (
            json!({"operation": "ExportAsset", "where": {"status": "Success"}, "status": 500}),
            "where.status",
        ),
        (
            json!({"operation": "ExportAsset", "where": {"job_id": "x"}, "status": 500}),
            "where.job_id",
        ),
        (
            json!({"operation": "ListRomaApp", "where": {"apps": ["a"]}, "status": 500}),
            "where",
        ),
    ] {
        let (status, body) = app.control_post("/_emulator/faults", spec.clone()).await;
        assert_eq!(status, 400, "{spec}: {body}");
        let details = body["error_details"].as_str().unwrap_or_default();
        assert!(details.starts_with(field), "{spec}: {details}");
    }
}
