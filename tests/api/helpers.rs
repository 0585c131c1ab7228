//! `spawn_app`: a fresh emulator per test, and one method per endpoint.

use roma_emulator::{Config, Server};
use serde_json::Value;

/// A running emulator and an HTTP client for it.
pub struct TestApp {
    pub server: Server,
    pub client: reqwest::Client,
}

/// The token tests use by default (open mode: any token is a user).
pub const TOKEN: &str = "test-token";

/// Starts the emulator with `edit` applied to a test configuration (ephemeral port, 60 s jobs).
pub async fn spawn_app_with(edit: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::default();
    config.server.listen = "127.0.0.1:0".parse().expect("addr");
    config.jobs.duration_ms = 60_000;
    edit(&mut config);
    let server = Server::start(config).await.expect("server starts");
    TestApp {
        server,
        client: reqwest::Client::new(),
    }
}

/// Starts the emulator with the test defaults.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// ExportAsset with a raw JSON body.
    pub async fn export(&self, token: &str, project: &str, instance: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/v2/{project}/instances/{instance}/assets/export")))
            .header("X-Auth-Token", token)
            .header("Content-Type", "application/json;charset=UTF-8")
            .body(body.to_owned())
            .send()
            .await
            .expect("request")
    }

    /// ExportAsset of one app in project p1, instance i1.
    pub async fn export_one(&self, token: &str) -> reqwest::Response {
        self.export(token, "p1", "i1", r#"{"apps": [{"id": "app-1"}]}"#)
            .await
    }
}

/// Asserts a ROMA error body with this status and code; checks the body's shape (every field
/// 1..128 characters) and that `request_id` equals `X-Request-Id`. Returns the body.
pub async fn assert_roma_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status for {code}");
    let header_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("X-Request-Id header");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let body: Value = res.json().await.expect("JSON error body");
    assert_eq!(body["error_code"], code, "{body}");
    for field in ["error_code", "error_msg", "error_details", "request_id"] {
        let text = body[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is a string: {body}"));
        let n = text.chars().count();
        assert!((1..=128).contains(&n), "{field} has {n} characters: {body}");
    }
    assert_eq!(
        body["request_id"],
        header_id.as_str(),
        "request_id equals X-Request-Id"
    );
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(4),
        "exactly the four documented fields: {body}"
    );
    body
}

/// Asserts 200 `{"job_id": "<32 lowercase hex>"}` and returns the id.
pub async fn assert_job_created(res: reqwest::Response) -> String {
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().contains_key("x-request-id"));
    let body: Value = res.json().await.expect("JSON");
    let id = body["job_id"].as_str().expect("job_id").to_owned();
    assert!(is_hex32(&id), "job_id {id}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1));
    id
}

pub fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
