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

    /// DeleteAsset with a raw JSON body.
    pub async fn delete(&self, token: &str, project: &str, instance: &str, body: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/v2/{project}/instances/{instance}/assets/delete")))
            .header("X-Auth-Token", token)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request")
    }

    /// CheckAssetJobStatus.
    pub async fn job(&self, token: &str, project: &str, instance: &str, job_id: &str) -> reqwest::Response {
        self.client
            .get(self.url(&format!(
                "/v2/{project}/instances/{instance}/assets/jobs/{job_id}"
            )))
            .header("X-Auth-Token", token)
            .send()
            .await
            .expect("request")
    }

    /// CheckAssetJobStatus, expecting 200, as JSON.
    pub async fn job_json(&self, token: &str, project: &str, instance: &str, job_id: &str) -> Value {
        let res = self.job(token, project, instance, job_id).await;
        assert_eq!(res.status(), 200, "job {job_id}");
        res.json().await.expect("JSON")
    }

    /// DownloadAssetArchive.
    pub async fn download(
        &self,
        token: &str,
        project: &str,
        instance: &str,
        archive_id: &str,
    ) -> reqwest::Response {
        self.client
            .get(self.url(&format!(
                "/v2/{project}/instances/{instance}/assets/archives/{archive_id}"
            )))
            .header("X-Auth-Token", token)
            .send()
            .await
            .expect("request")
    }

    /// ImportAsset: `bytes` as multipart part `part` with `file_name`, and `query` (e.g. `?type=Merge`).
    pub async fn import(
        &self,
        token: &str,
        instance: &str,
        query: &str,
        part: &'static str,
        file_name: &'static str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        self.import_in(token, "p1", instance, query, part, file_name, bytes)
            .await
    }

    /// ImportAsset under `project` (see [`TestApp::import`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn import_in(
        &self,
        token: &str,
        project: &str,
        instance: &str,
        query: &str,
        part: &'static str,
        file_name: &'static str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let form = reqwest::multipart::Form::new()
            .part(part, reqwest::multipart::Part::bytes(bytes).file_name(file_name));
        self.client
            .post(self.url(&format!(
                "/v2/{project}/instances/{instance}/assets/import{query}"
            )))
            .header("X-Auth-Token", token)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    /// Exports `body` from `instance` (jobs must be configured to end at once) and downloads the package.
    pub async fn export_and_download(&self, token: &str, instance: &str, body: &str) -> Vec<u8> {
        let job = assert_job_created(self.export(token, "p1", instance, body).await).await;
        let status = self.job_json(token, "p1", instance, &job).await;
        assert_eq!(status["status"], "Success", "{status}");
        let archive = status["archive_id"].as_str().expect("archive_id").to_owned();
        let res = self.download(token, "p1", instance, &archive).await;
        assert_eq!(res.status(), 200);
        res.bytes().await.expect("bytes").to_vec()
    }

    /// `PUT /_emulator/state` with `state`.
    pub async fn put_state(&self, state: &Value) -> reqwest::Response {
        self.control(reqwest::Method::PUT, "/_emulator/state")
            .json(state)
            .send()
            .await
            .expect("PUT /_emulator/state")
    }

    /// The status of `GET /_emulator/health`.
    pub async fn health(&self) -> u16 {
        let res = self.client.get(self.url("/_emulator/health")).send().await;
        res.expect("health").status().as_u16()
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
    // The gateway's body has three fields (D13); ROMA's four.
    let gateway = code.starts_with("APIG.");
    let fields: &[&str] = if gateway {
        &["error_code", "error_msg", "request_id"]
    } else {
        &["error_code", "error_msg", "error_details", "request_id"]
    };
    for field in fields {
        let text = body[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} is a string: {body}"));
        let n = text.chars().count();
        // Only ROMA.10013's official error_msg is longer than the documented 128.
        let max = if *field == "error_msg" { 256 } else { 128 };
        assert!((1..=max).contains(&n), "{field} has {n} characters: {body}");
    }
    assert_eq!(
        body["request_id"],
        header_id.as_str(),
        "request_id equals X-Request-Id"
    );
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(fields.len()),
        "exactly the documented fields: {body}"
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

/// The current time as `X-Sdk-Date` (`20240101T120000Z`), shifted by `offset_s`.
pub fn sdk_date(offset_s: i64) -> String {
    let now = roma_emulator::clock::Timestamp::system_now();
    let shifted = if offset_s >= 0 {
        now.plus(std::time::Duration::from_secs(offset_s.unsigned_abs()))
    } else {
        roma_emulator::clock::Timestamp(now.0 - offset_s.unsigned_abs() * 1000)
    };
    shifted.rfc3339_seconds().replace(['-', ':'], "")
}

/// Signs a request as the SDK does: `headers` (lower-case names, `host` included) are all signed.
/// Returns the `Authorization` value.
pub fn sign(
    ak: &str,
    sk: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    payload_hash: &str,
) -> String {
    use roma_emulator::auth::signature;
    let mut names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    let signed = names.join(";");
    let lookup = |name: &str| headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let canonical =
        signature::canonical_request(method, path, query, &signed, lookup, payload_hash).expect("canonical");
    let date = lookup("x-sdk-date").expect("x-sdk-date");
    format!(
        "SDK-HMAC-SHA256 Access={ak}, SignedHeaders={signed}, Signature={}",
        signature::sign(sk, date, &canonical)
    )
}

impl TestApp {
    /// A control-plane request.
    pub fn control(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A control-plane GET, expecting 200, as JSON.
    pub async fn control_json(&self, path: &str) -> Value {
        let res = self
            .control(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("JSON")
    }

    /// A control-plane POST with a JSON body, as (status, JSON).
    pub async fn control_post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .control(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// Sends `request` as raw bytes on a new connection and reads what comes back until the server
/// closes the connection or `wait` passes; returns the text read and whether the server closed.
pub async fn raw_exchange(
    addr: std::net::SocketAddr,
    request: &[u8],
    wait: std::time::Duration,
) -> (String, bool) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    let closed = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

/// Asks `POST {base}/v3/auth/tokens` for `user`'s token (password method, no scope), expects 201,
/// and returns the `X-Subject-Token`.
/// An IAM token of `user`, scoped to `project` (D16: it serves that project only).
pub async fn issue_token(
    client: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
    project: &str,
) -> String {
    let body = serde_json::json!({"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"name": user, "password": password, "domain": {"name": user}}}},
        "scope": {"project": {"id": project}}}});
    let res = client
        .post(format!("{base}/v3/auth/tokens"))
        .json(&body)
        .send()
        .await
        .expect("token request");
    assert_eq!(res.status(), 201, "a token for {user}");
    res.headers()["x-subject-token"]
        .to_str()
        .expect("ascii token")
        .to_owned()
}
