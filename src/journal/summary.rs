//! What a journal entry says a request meant ([`Summary`]), why it was refused ([`Refusal`]),
//! and how much of a download's body went out ([`Transfer`]). None of them holds a body, a
//! password, a token or a signature.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// At most this many ids of each list are kept (the count is always kept).
pub const MAX_IDS: usize = 100;
/// At most this much id text of each list is kept (100 ids of 128 characters would be 12.8 KB
/// an entry; the journal's bound times this bounds its memory).
pub const MAX_ID_TEXT: usize = 4096;

/// A request's meaning, as its operation read it. Every field is optional: an operation fills
/// what it knows, a refusal before the body was read leaves the body's fields out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    /// How the body named the assets (D3): `name`, `id`, `app_id` or `ids`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
    /// The applications asked for (the first [`MAX_IDS`], within [`MAX_ID_TEXT`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apps: Option<Vec<String>>,
    /// How many applications were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_count: Option<usize>,
    /// The tasks asked for (bounded as `apps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<String>>,
    /// How many tasks were asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_count: Option<usize>,
    /// ImportAsset's `type` (`AddNew` or `Merge`).
    #[serde(skip_serializing_if = "Option::is_none", rename = "type")]
    pub kind: Option<String>,
    /// ImportAsset's `prefix`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The uploaded file's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The uploaded file's size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    /// The uploaded file's SHA-256, in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    /// The job asked about, or the one a request created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The job status answered (in the configured spelling).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The archive asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_id: Option<String>,
    /// Bytes of the archive's body sent (filled when the body ends or is dropped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    /// Whether the archive's whole body was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    /// The user a token was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The scope a token was asked for: `project:<name or id>` or `domain:<name>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl Summary {
    /// The first ids of `all`, within [`MAX_IDS`] and [`MAX_ID_TEXT`], and their count.
    pub fn ids<'a>(all: impl ExactSizeIterator<Item = &'a str>) -> (Vec<String>, usize) {
        let count = all.len();
        let mut text = 0;
        let kept = all
            .take(MAX_IDS)
            .take_while(|id| {
                text += id.len();
                text <= MAX_ID_TEXT
            })
            .map(str::to_owned)
            .collect();
        (kept, count)
    }

    /// The value of a summary field by its wire name, as JSON (what verification compares);
    /// `None` when the field is unset or no summary field has the name.
    pub fn field(&self, name: &str) -> Option<serde_json::Value> {
        use serde_json::Value;
        let text = |v: &Option<String>| v.clone().map(Value::String);
        let list = |v: &Option<Vec<String>>| v.clone().map(Value::from);
        match name {
            "dialect" => text(&self.dialect),
            "apps" => list(&self.apps),
            "app_count" => self.app_count.map(Value::from),
            "tasks" => list(&self.tasks),
            "task_count" => self.task_count.map(Value::from),
            "type" => text(&self.kind),
            "prefix" => text(&self.prefix),
            "file_name" => text(&self.file_name),
            "file_size" => self.file_size.map(Value::from),
            "file_sha256" => text(&self.file_sha256),
            "job_id" => text(&self.job_id),
            "status" => text(&self.status),
            "archive_id" => text(&self.archive_id),
            "bytes_sent" => self.bytes_sent.map(Value::from),
            "complete" => self.complete.map(Value::from),
            "user" => text(&self.user),
            "scope" => text(&self.scope),
            _ => None,
        }
    }

    /// The fields that say how a request was answered, not what it asked (a fault's `where`
    /// cannot name them: they come after its fault point).
    pub const ANSWERED: &'static [&'static str] = &["status", "bytes_sent", "complete"];

    /// The wire names of the fields a summary can have.
    pub const FIELDS: &'static [&'static str] = &[
        "dialect",
        "apps",
        "app_count",
        "tasks",
        "task_count",
        "type",
        "prefix",
        "file_name",
        "file_size",
        "file_sha256",
        "job_id",
        "status",
        "archive_id",
        "bytes_sent",
        "complete",
        "user",
        "scope",
    ];
}

/// A summary as the journal keeps it: its JSON text, a few dozen bytes (the struct would be
/// hundreds, most of them empty options), copied as it is into views and snapshots.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SummaryText(Box<serde_json::value::RawValue>);

impl SummaryText {
    /// The text of `summary`.
    pub fn of(summary: &Summary) -> Option<Self> {
        serde_json::value::to_raw_value(summary).ok().map(Self)
    }

    /// The summary it holds (a text that is none reads as an empty one).
    pub fn read(&self) -> Summary {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }
}

impl PartialEq for SummaryText {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// Why a request was refused: the rule it broke, the field that broke it, the code answered and
/// what else is known of the cause (the job that blocks, the request that consumed an archive…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Refusal {
    /// The rule, in words.
    pub rule: String,
    /// The parameter the details name, when they name one.
    pub field: Option<String>,
    /// The code answered.
    pub error_code: String,
    /// What exactly was wrong (the `error_details`, or for a gateway code the log line's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The facts of the cause, by name (`blocking_job`, `consumed_by`, `consumed_at`, …).
    #[serde(flatten)]
    pub facts: BTreeMap<String, String>,
}

/// How much of a response body went out: written by the body as it is sent, read by the
/// journal's views.
#[derive(Debug, Default)]
pub struct Transfer {
    sent: AtomicU64,
    complete: AtomicBool,
}

impl Transfer {
    /// `n` more bytes were handed to the connection.
    pub fn sent(&self, n: usize) {
        self.sent
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The body ended.
    pub fn completed(&self) {
        self.complete.store(true, Ordering::Relaxed);
    }

    /// Bytes sent so far, and whether the body ended.
    pub fn read(&self) -> (u64, bool) {
        (
            self.sent.load(Ordering::Relaxed),
            self.complete.load(Ordering::Relaxed),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_the_count_and_stop_at_either_bound() {
        let many: Vec<String> = (0..150).map(|i| format!("app-{i}")).collect();
        let (kept, count) = Summary::ids(many.iter().map(String::as_str));
        assert_eq!((kept.len(), count), (MAX_IDS, 150));
        let long: Vec<String> = (0..100).map(|i| format!("{i:0>128}")).collect();
        let (kept, count) = Summary::ids(long.iter().map(String::as_str));
        assert_eq!((kept.len(), count), (MAX_ID_TEXT / 128, 100));
    }

    #[test]
    fn every_field_name_is_a_wire_name() {
        let full = Summary {
            dialect: Some("id".into()),
            apps: Some(vec![]),
            app_count: Some(0),
            tasks: Some(vec![]),
            task_count: Some(0),
            kind: Some("AddNew".into()),
            prefix: Some(String::new()),
            file_name: Some(String::new()),
            file_size: Some(0),
            file_sha256: Some(String::new()),
            job_id: Some(String::new()),
            status: Some(String::new()),
            archive_id: Some(String::new()),
            bytes_sent: Some(0),
            complete: Some(true),
            user: Some(String::new()),
            scope: Some(String::new()),
        };
        let value = serde_json::to_value(&full).expect("JSON");
        let names: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = Summary::FIELDS.to_vec();
        expected.sort_unstable();
        assert_eq!(names, expected);
        for name in Summary::FIELDS {
            assert_eq!(full.field(name).as_ref(), value.get(name), "{name}");
        }
    }
}
