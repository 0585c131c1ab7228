//! Hardening of request bodies: bodies are bounded per operation
//! before they are read, parsed without amplification, and refused when ambiguous.

use std::time::{Duration, Instant};

use crate::helpers::{TOKEN, assert_job_created, assert_roma_error, raw_exchange, spawn_app, spawn_app_with};

/// A valid export body padded with `n` bytes of tiny objects in an unknown field.
fn padded(n: usize) -> String {
    format!(
        r#"{{"apps": [{{"id": "a"}}], "pad": [{}{{}}]}}"#,
        "{},".repeat(n / 3)
    )
}

#[tokio::test]
async fn json_operations_take_at_most_64_kib() {
    let app = spawn_app().await;
    assert_job_created(app.export(TOKEN, "p1", "i1", &padded(60_000)).await).await;
    let err = assert_roma_error(
        app.export(TOKEN, "p1", "i2", &padded(1_000_000)).await,
        413,
        "APIG.0201",
    )
    .await;
    assert_eq!(err["error_msg"], "Request entity too large.", "{err}");
    let token = app
        .client
        .post(app.url("/v3/auth/tokens"))
        .header("Content-Type", "application/json")
        .body(padded(1_000_000))
        .send()
        .await
        .expect("request");
    assert_roma_error(token, 413, "APIG.0201").await;
    // Chunked, with no Content-Length: bounded all the same.
    let chunks: Vec<Result<String, std::io::Error>> = (0..40).map(|_| Ok("{},".repeat(10_000))).collect();
    let chunked = app
        .client
        .post(app.url("/v2/p1/instances/i3/assets/delete"))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("request");
    assert_roma_error(chunked, 413, "APIG.0201").await;
}

#[tokio::test]
async fn a_huge_declared_length_is_refused_at_once_without_100_continue() {
    let app = spawn_app().await;
    for expect in ["", "Expect: 100-continue\r\n"] {
        let request = format!(
            "POST /v2/p1/instances/i1/assets/export HTTP/1.1\r\nHost: x\r\nX-Auth-Token: t\r\nContent-Type: application/json\r\n{expect}Content-Length: 1000000000000\r\n\r\n"
        );
        let started = Instant::now();
        let (answer, _) = raw_exchange(
            app.server.local_addr(),
            request.as_bytes(),
            Duration::from_secs(3),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{expect:?}: {answer}");
        assert!(!answer.contains("100 Continue"), "{answer}");
        assert!(answer.contains("\"APIG.0201\""), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(2), "answered at once");
    }
}

#[tokio::test]
async fn repeated_keys_are_refused_not_silently_resolved() {
    let app = spawn_app().await;
    let body = r#"{"apps": [{"id": "a"}], "apps": "b"}"#;
    let err = assert_roma_error(app.export(TOKEN, "p1", "i1", body).await, 403, "ROMA.13000").await;
    assert!(
        err["error_details"]
            .as_str()
            .unwrap_or_default()
            .contains("duplicate"),
        "{err}"
    );
    let item = r#"{"apps": [{"id": "a", "id": "b"}]}"#;
    assert_roma_error(app.delete(TOKEN, "p1", "i1", item).await, 403, "ROMA.13000").await;
}

#[tokio::test]
async fn a_head_of_an_archive_is_no_api_and_leaves_the_archive() {
    let app = spawn_app_with(|c| c.jobs.duration_ms = 0).await;
    let job = assert_job_created(app.export_one(TOKEN).await).await;
    let status = app.job_json(TOKEN, "p1", "i1", &job).await;
    let archive = status["archive_id"].as_str().expect("archive_id").to_owned();
    let url = app.url(&format!("/v2/p1/instances/i1/assets/archives/{archive}"));
    let head = app
        .client
        .head(&url)
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(head.status(), 404);
    // Like any other wrong method: the same length as a PUT's answer (HEAD has no body to show).
    let put = app
        .client
        .put(&url)
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .expect("PUT");
    assert_eq!(head.headers()["content-length"], put.headers()["content-length"]);
    let put = assert_roma_error(put, 404, "APIG.0101").await;
    assert_eq!(put["error_msg"], "The API does not exist.");
    let journal = app.control_json("/_emulator/requests?limit=2").await;
    assert_eq!(journal["requests"][1]["error_code"], "APIG.0101", "{journal}");
    let res = app.download(TOKEN, "p1", "i1", &archive).await;
    assert_eq!(res.status(), 200, "the archive is still there after a HEAD");
}
