//! What the control plane answers, as the client reads it (owned, and tolerant of fields a newer
//! emulator adds).

use serde::{Deserialize, Serialize};

/// A job as `GET /_emulator/jobs/{id}` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// `exportAsset`, `importAsset` or `deleteAsset`.
    #[serde(rename = "type")]
    pub kind: String,
    /// In the emulator's configured spelling (`[api] dialect`).
    pub status: String,
    /// 0..1.
    pub progress_percent: f64,
    /// RFC 3339.
    pub begin_time: String,
    /// Once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// A successful export's package, until it is downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_id: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<serde_json::Value>,
    /// Its user.
    pub user: String,
    /// Its project.
    pub project_id: String,
    /// Its instance.
    pub instance_id: String,
}

/// One page of `GET /_emulator/jobs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    /// Oldest first.
    pub jobs: Vec<Job>,
    /// How many the filters select in all.
    pub total: usize,
    /// The next page's cursor.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// One journal entry of `GET /_emulator/requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// RFC 3339.
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// The cloud's operation id.
    #[serde(default)]
    pub operation: Option<String>,
    /// The user.
    #[serde(default)]
    pub user: Option<String>,
    /// Project of the path.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Instance of the path.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// Status answered.
    pub status: u16,
    /// Error code answered.
    #[serde(default)]
    pub error_code: Option<String>,
    /// Request id.
    pub request_id: String,
    /// What the request meant (`[journal] summaries`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<serde_json::Value>,
    /// The nearest route of a request no route took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What a fault did on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_fault: Option<String>,
}

/// One page of `GET /_emulator/requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestPage {
    /// Newest first.
    pub requests: Vec<Request>,
    /// How many the filters select in all.
    pub total: usize,
    /// The next page's offset.
    #[serde(default)]
    pub next_offset: Option<usize>,
}

/// `GET /_emulator/faults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Oldest first.
    pub faults: Vec<crate::faults::Fault>,
}

/// `GET /_emulator/clock`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    /// RFC 3339 with milliseconds.
    pub now: String,
    /// `real` or `virtual`.
    pub mode: String,
}

/// A ROMA-style error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The code.
    pub error_code: String,
    /// The text.
    pub error_msg: String,
}
