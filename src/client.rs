//! A typed client of a running emulator's control plane (`/_emulator/*`) over plain HTTP:
//! what `roma-emulator ctl` speaks, and what a Rust test can use against a shared stub it did not
//! start. Each call is one HTTP/1.1 exchange bounded by the client's timeout; an answer that is
//! not 2xx comes back as [`ClientError::Refused`] with the emulator's code and text.

mod types;

use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;

pub use types::{Clock, ErrorBody, Faults, Job, JobPage, Request, RequestPage};

/// What a query value keeps unescaped.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a call did not give what it asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The emulator answered with an error.
    #[error("{status} {code}: {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// `error_code` of the body (empty when the body was not a ROMA error).
        code: String,
        /// `error_msg` of the body, or the body itself.
        message: String,
    },
    /// No answer: not reachable, cut off, or later than the timeout.
    #[error("{0}")]
    Unreachable(String),
    /// An answer this client cannot read.
    #[error("{0}")]
    Unreadable(String),
}

/// Which jobs a listing selects.
#[derive(Debug, Clone, Default)]
pub struct JobQuery {
    /// Project.
    pub project_id: Option<String>,
    /// Instance.
    pub instance_id: Option<String>,
    /// A status in either spelling.
    pub status: Option<String>,
    /// Owner.
    pub user: Option<String>,
    /// Jobs a page (1..1000).
    pub limit: Option<usize>,
}

/// The client: a base URL (`http://HOST:PORT`) and the admin token, if the stub has one.
#[derive(Debug, Clone)]
pub struct ControlClient {
    authority: String,
    admin_token: Option<String>,
    timeout: Duration,
}

impl ControlClient {
    /// A client of the emulator at `url` (`http://HOST:PORT`, a trailing `/` allowed), each call
    /// bounded by 30 s.
    pub fn new(url: &str, admin_token: Option<String>) -> Result<Self, ClientError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            ClientError::Unreachable(format!(
                "{url}: only http:// URLs (the emulator serves plain HTTP)"
            ))
        })?;
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(ClientError::Unreachable(format!(
                "{url}: give the emulator's base URL, http://HOST:PORT"
            )));
        }
        Ok(Self {
            authority: authority.to_owned(),
            admin_token: admin_token.filter(|t| !t.is_empty()),
            timeout: Duration::from_secs(30),
        })
    }

    /// The same client with each call bounded by `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// One page of the jobs `query` selects, oldest first.
    pub async fn jobs(&self, query: &JobQuery) -> Result<JobPage, ClientError> {
        let limit = query.limit.map(|n| n.to_string());
        let path = with_query(
            "/_emulator/jobs",
            &[
                ("project_id", query.project_id.as_deref()),
                ("instance_id", query.instance_id.as_deref()),
                ("status", query.status.as_deref()),
                ("user", query.user.as_deref()),
                ("limit", limit.as_deref()),
            ],
        );
        self.json("GET", &path, None).await
    }

    /// One job, any user's.
    pub async fn job(&self, id: &str) -> Result<Job, ClientError> {
        self.json("GET", &format!("/_emulator/jobs/{}", segment(id)), None)
            .await
    }

    /// The job once it has `status` (any end when `None`), asking again until `timeout` passes;
    /// `Refused` with `EMULATOR.0408` when it does not get there in time.
    pub async fn wait(&self, id: &str, status: Option<&str>, timeout: Duration) -> Result<Job, ClientError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Within the server's own bound of a wait (request_timeout_ms - 100 by default).
            let ms = left.as_millis().clamp(1, 5000).to_string();
            let path = with_query(
                &format!("/_emulator/jobs/{}/wait", segment(id)),
                &[("status", status), ("timeout_ms", Some(&ms))],
            );
            match self.json("GET", &path, None).await {
                Err(ClientError::Refused { status: 408, .. }) if Instant::now() < deadline => {}
                other => return other,
            }
        }
    }

    /// Ends a Running job successfully now.
    pub async fn complete(&self, id: &str) -> Result<Job, ClientError> {
        let path = format!("/_emulator/jobs/{}/complete", segment(id));
        self.json("POST", &path, None).await
    }

    /// Fails a Running job now, with the default reason.
    pub async fn fail(&self, id: &str) -> Result<Job, ClientError> {
        let path = format!("/_emulator/jobs/{}/fail", segment(id));
        self.json("POST", &path, None).await
    }

    /// The newest `limit` journal entries, newest first.
    pub async fn requests(&self, limit: usize) -> Result<RequestPage, ClientError> {
        let limit = limit.to_string();
        self.json(
            "GET",
            &with_query("/_emulator/requests", &[("limit", Some(&limit))]),
            None,
        )
        .await
    }

    /// The fault rules, oldest first.
    pub async fn faults(&self) -> Result<Faults, ClientError> {
        self.json("GET", "/_emulator/faults", None).await
    }

    /// The emulator's time and clock mode.
    pub async fn clock(&self) -> Result<Clock, ClientError> {
        self.json("GET", "/_emulator/clock", None).await
    }

    /// Moves the virtual clock forward by `by`.
    pub async fn advance(&self, by: Duration) -> Result<Clock, ClientError> {
        let body = serde_json::json!({"advance_ms": u64::try_from(by.as_millis()).unwrap_or(u64::MAX)});
        self.json("POST", "/_emulator/clock", Some(body.to_string().into_bytes()))
            .await
    }

    /// Resets everything, or one project (and instance).
    pub async fn reset(
        &self,
        project: Option<&str>,
        instance: Option<&str>,
    ) -> Result<serde_json::Value, ClientError> {
        let path = with_query(
            "/_emulator/reset",
            &[("project_id", project), ("instance_id", instance)],
        );
        self.json("POST", &path, None).await
    }

    /// The whole state in the snapshot format, as bytes.
    pub async fn export_state(&self) -> Result<Bytes, ClientError> {
        self.call("GET", "/_emulator/state", None).await
    }

    /// Replaces the state by `snapshot` (what [`Self::export_state`] gives).
    pub async fn import_state(&self, snapshot: Vec<u8>) -> Result<serde_json::Value, ClientError> {
        self.json("PUT", "/_emulator/state", Some(snapshot)).await
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ClientError> {
        let bytes = self.call(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            ClientError::Unreadable(format!("{method} {path}: an answer this client cannot read: {e}"))
        })
    }

    /// One exchange, within the timeout; the body of a 2xx answer.
    async fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<Bytes, ClientError> {
        let exchange = self.exchange(method, path, body);
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(ClientError::Unreachable(format!(
                "{method} {path}: no answer from {} within {} ms",
                self.authority,
                self.timeout.as_millis()
            ))),
        }
    }

    async fn exchange(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Result<Bytes, ClientError> {
        let unreachable =
            |e: &dyn std::fmt::Display| ClientError::Unreachable(format!("{}: {e}", self.authority));
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| unreachable(&e))?;
        tokio::spawn(connection);
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.authority);
        if body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        if let Some(token) = &self.admin_token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Unreachable(format!("{method} {path}: {e}")))?;
        let answer = sender.send_request(request).await.map_err(|e| unreachable(&e))?;
        let status = answer.status().as_u16();
        let bytes = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(&e))?
            .to_bytes();
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => ClientError::Refused {
                status,
                code: e.error_code,
                message: e.error_msg,
            },
            Err(_) => ClientError::Refused {
                status,
                code: String::new(),
                message: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            },
        })
    }
}

/// `path` with the given query values, escaped, leaving out the absent ones.
fn with_query(path: &str, pairs: &[(&str, Option<&str>)]) -> String {
    let mut out = path.to_owned();
    for (k, (name, value)) in pairs.iter().filter_map(|(n, v)| v.map(|v| (n, v))).enumerate() {
        out.push(if k == 0 { '?' } else { '&' });
        out.push_str(name);
        out.push('=');
        out.extend(utf8_percent_encode(value, QUERY));
    }
    out
}

/// `id` as one path segment.
fn segment(id: &str) -> String {
    utf8_percent_encode(id, QUERY).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_escaped_and_absent_values_left_out() {
        assert_eq!(
            with_query("/j", &[("a", None), ("b", Some("x y&z")), ("c", Some("1"))]),
            "/j?b=x%20y%26z&c=1"
        );
        assert_eq!(with_query("/j", &[("a", None)]), "/j");
        assert_eq!(segment("../x"), "..%2Fx");
    }

    #[test]
    fn only_a_plain_http_base_url_is_taken() {
        assert!(ControlClient::new("http://127.0.0.1:8080/", None).is_ok());
        for bad in ["https://h:1", "127.0.0.1:8080", "http://h:1/_emulator", "http://"] {
            assert!(ControlClient::new(bad, None).is_err(), "{bad}");
        }
    }
}
