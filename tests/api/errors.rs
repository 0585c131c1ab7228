//! No plain-text framework rejection ever reaches a client.

use roma_emulator::config::ErrorStatuses;

use crate::helpers::{TOKEN, assert_roma_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn unknown_routes_and_methods_get_apig_0101_bodies() {
    let app = spawn_app().await;
    let cases = vec![
        (reqwest::Method::GET, "/nowhere", 404),
        (reqwest::Method::POST, "/v2/p1/instances/i1/assets/exports", 404),
        // A wrong method is no API either (D2): 404, no 405, no Allow header.
        (reqwest::Method::GET, "/v2/p1/instances/i1/assets/export", 404),
        (reqwest::Method::DELETE, "/v2/p1/instances/i1/assets/export", 404),
        (reqwest::Method::POST, "/_emulator/health", 404),
        // The operations the pipeline calls itself, and IAM's, answer a wrong method the same way.
        (reqwest::Method::POST, "/v2/p1/instances/i1/assets/jobs/0123", 404),
        (
            reqwest::Method::PUT,
            "/v2/p1/instances/i1/assets/archives/0123",
            404,
        ),
        // GET is KeystoneValidateToken (#29); PUT is no API.
        (reqwest::Method::PUT, "/v3/auth/tokens", 404),
    ];
    for (method, path, status) in cases {
        let res = app
            .client
            .request(method.clone(), app.url(path))
            .header("X-Auth-Token", TOKEN)
            .send()
            .await
            .expect("request");
        assert!(
            res.headers().get("allow").is_none(),
            "{method} {path}: no Allow header"
        );
        let body = assert_roma_error(res, status, "APIG.0101").await;
        let expected = if path.ends_with("exports") || path == "/nowhere" {
            "The API does not exist or has not been published in the environment."
        } else {
            "The API does not exist."
        };
        assert_eq!(body["error_msg"], expected, "{method} {path}");
        assert!(
            body.get("error_details").is_none(),
            "the gateway's body (D13): {body}"
        );
    }
}

#[tokio::test]
async fn gateway_statuses_stay_in_catalog_mode_too() {
    let app = spawn_app_with(|c| c.api.error_statuses = ErrorStatuses::Catalog).await;
    let res = app.client.get(app.url("/nowhere")).send().await.expect("request");
    assert_roma_error(res, 404, "APIG.0101").await;
}

#[tokio::test]
async fn an_oversized_body_gets_apig_0201_413() {
    let app = spawn_app_with(|c| c.server.max_body_bytes = 1024).await;
    let body = format!(r#"{{"apps": "{}"}}"#, "a".repeat(2048));
    assert_roma_error(app.export(TOKEN, "p1", "i1", &body).await, 413, "APIG.0201").await;
}

#[tokio::test]
async fn a_bad_percent_encoding_in_the_path_is_a_roma_error() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v2/%FF%FE/instances/i1/assets/export"))
        .header("X-Auth-Token", TOKEN)
        .header("Content-Type", "application/json")
        .body(r#"{"apps": "a"}"#)
        .send()
        .await
        .expect("request");
    let err = assert_roma_error(res, 403, "ROMA.13000").await;
    assert_details_start(&err, "path");
}

/// The error body's `error_details` starts with `prefix`.
fn assert_details_start(err: &serde_json::Value, prefix: &str) {
    let details = err["error_details"].as_str().unwrap_or_default();
    assert!(details.starts_with(prefix), "{err}");
}

#[tokio::test]
async fn a_path_id_is_percent_decoded_before_it_is_checked() {
    let app = spawn_app().await;
    let get = |path: &'static str| app.client.get(app.url(path)).header("X-Auth-Token", TOKEN).send();
    let res = get("/v2/p1/instances/i1/assets/jobs/%FF").await.expect("request");
    let err = assert_roma_error(res, 403, "ROMA.13000").await;
    assert_eq!(err["error_details"], "path: Invalid UTF-8 in `job_id`", "{err}");
    // Decoded, a slash is no character an id may have.
    let res = get("/v2/p1/instances/i1/assets/archives/a%2Fb")
        .await
        .expect("request");
    let err = assert_roma_error(res, 403, "ROMA.13000").await;
    assert_details_start(&err, "archive_id");
    // An id spelled with escapes is the id.
    let created = app
        .export(TOKEN, "p1", "i1", r#"{"apps": [{"id": "app-1"}]}"#)
        .await;
    let job: serde_json::Value = created.json().await.expect("JSON");
    let id = job["job_id"].as_str().expect("job_id");
    let escaped: String = id.chars().map(|c| format!("%{:02X}", c as u32)).collect();
    let res = app
        .client
        .get(app.url(&format!("/v2/p1/instances/i1/assets/jobs/{escaped}")))
        .header("X-Auth-Token", TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..5 {
        let res = app
            .client
            .get(app.url("/_emulator/health"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        let id = res.headers()["x-request-id"].to_str().expect("ascii").to_owned();
        assert!(crate::helpers::is_hex32(&id), "{id}");
        assert!(seen.insert(id), "request ids differ");
        assert_eq!(
            res.json::<serde_json::Value>().await.expect("json"),
            serde_json::json!({"status": "ok"})
        );
    }
}

#[test]
fn the_documented_error_table_is_the_catalog() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/errors.md"))
        .expect("docs/errors.md");
    let table = roma_emulator::error::markdown_table();
    let current = concat!(env!("CARGO_MANIFEST_DIR"), "/target/error-table.md");
    let _ = std::fs::write(current, &table);
    assert!(
        readme.contains(&table),
        "docs/errors.md's error table is stale; scripts/update-error-table.sh puts in the current one ({current})"
    );
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_gets_apig_0201_504() {
    let app = spawn_app_with(|c| c.server.request_timeout_ms = 50).await;
    let (status, _) = app
        .control_post(
            "/_emulator/faults",
            serde_json::json!({"operation": "CheckAssetJobStatus", "delay_ms": 200}),
        )
        .await;
    assert_eq!(status, 201);
    let res = app.job(TOKEN, "p1", "i1", "x").await;
    let err = assert_roma_error(res, 504, "APIG.0201").await;
    assert!(
        err["error_msg"]
            .as_str()
            .unwrap_or_default()
            .contains("Backend timeout.")
    );
}

#[tokio::test]
async fn not_found_texts_name_the_ids_as_romas_pages_write_them() {
    let app = spawn_app_with(|c| {
        c.catalog.strict = true;
        c.instances = vec![roma_emulator::config::InstanceConfig {
            id: "i1".into(),
            project: None,
            apps: vec![],
            tasks: vec![],
        }];
    })
    .await;
    let err = assert_roma_error(
        app.job(TOKEN, "p1", "i1", "no-such-job").await,
        404,
        "ROMA.00110006",
    )
    .await;
    assert_eq!(
        err["error_msg"],
        "The resource does not exist. Check whether the resource ID no-such-job is correct."
    );
    let err = assert_roma_error(
        app.export(TOKEN, "p1", "ghost", r#"{"apps": [{"id": "a"}]}"#)
            .await,
        404,
        "ROMA.00110002",
    )
    .await;
    assert_eq!(
        err["error_msg"],
        "The instance does not exist. project_id: p1, instance_id: ghost"
    );
}

mod bodies {
    //! Hardening of request bodies: bodies are bounded per operation
    //! before they are read, parsed without amplification, and refused when ambiguous.

    use std::time::{Duration, Instant};

    use crate::helpers::{
        TOKEN, assert_job_created, assert_roma_error, raw_exchange, spawn_app, spawn_app_with,
    };

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
}
