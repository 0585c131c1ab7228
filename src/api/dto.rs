//! Wire types, named and spelled as the real cloud's JSON.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::config::Dialect;
use crate::ids::Hex32;
use crate::jobs::{ArchiveId, JobId, JobView, Reason};

/// The answer of ExportAsset, ImportAsset and DeleteAsset.
#[derive(Debug, Serialize)]
pub struct JobCreated {
    /// The new job's id (32 lowercase hex characters).
    pub job_id: JobId,
}

/// `GET /_emulator/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok` (health) or `ready` (readiness).
    pub status: &'static str,
}

/// The answer of CheckAssetJobStatus (the OAS `AssetJobStatus`).
#[derive(Debug, Serialize)]
pub struct AssetJobStatus {
    /// Job id.
    pub id: JobId,
    /// `exportAsset`, `importAsset` or `deleteAsset` (D8).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Spelled per `[api] dialect` (D5).
    pub status: &'static str,
    /// 0..1.
    pub progress_percent: f64,
    /// ISO-8601 UTC (D7).
    pub begin_time: String,
    /// Only once the job has ended (D7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// A successful export's package, until it is downloaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_id: Option<ArchiveId>,
    /// Why a job failed (D6): 1..10 items, only on failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
}

impl AssetJobStatus {
    /// The wire form of `view` in `dialect`.
    pub fn new(view: &JobView, dialect: Dialect) -> Self {
        Self {
            id: view.id,
            kind: view.kind.as_str(),
            status: match dialect {
                Dialect::Seed => view.status.seed_spelling(),
                Dialect::Current => view.status.current_spelling(),
            },
            progress_percent: (view.progress * 10_000.0).round() / 10_000.0,
            begin_time: view.begin.rfc3339_seconds(),
            end_time: view.end.map(Timestamp::rfc3339_seconds),
            archive_id: view.archive_id,
            reasons: view.reasons.clone(),
        }
    }
}

/// The query of ImportAsset (D10); checked by [`crate::jobs::ImportOptions::parse`].
#[derive(Debug, Default, Deserialize)]
pub struct ImportQuery {
    /// `AddNew` or `Merge` (current documents).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `AddNew` or `Merge` (2023 documents).
    pub mode: Option<String>,
    /// Prepended to application names.
    pub prefix: Option<String>,
    /// `true` or `false`.
    pub datasource_overwrite: Option<String>,
}

/// The query of `POST /v3/auth/tokens`.
#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    /// Any non-empty value leaves `catalog` out.
    pub nocatalog: Option<String>,
}

/// `{"id", "name"}`.
#[derive(Debug, Serialize)]
pub struct IdName {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// The body of a `POST /v3/auth/tokens` answer: `{"token": {...}}`.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The token's description.
    pub token: TokenBody,
}

/// What IAM says about an issued token (section 3).
#[derive(Debug, Serialize)]
pub struct TokenBody {
    /// `["password"]`.
    pub methods: [&'static str; 1],
    /// ISO-8601 UTC with microseconds.
    pub expires_at: String,
    /// ISO-8601 UTC with microseconds.
    pub issued_at: String,
    /// The user.
    pub user: TokenUser,
    /// Project scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<TokenProject>,
    /// Domain scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<IdName>,
    /// Service catalog (empty: the emulator is the only service); left out with `?nocatalog=...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<Vec<serde_json::Value>>,
    /// Roles.
    pub roles: Vec<IdName>,
}

/// `token.user`.
#[derive(Debug, Serialize)]
pub struct TokenUser {
    /// The user's account.
    pub domain: IdName,
    /// User id.
    pub id: String,
    /// User name.
    pub name: String,
    /// When the password expires: `null`, as IAM answers for a password that does not (D17).
    pub password_expires_at: Option<String>,
}

/// `token.project`.
#[derive(Debug, Serialize)]
pub struct TokenProject {
    /// The project's account.
    pub domain: IdName,
    /// Project id.
    pub id: String,
    /// Project name.
    pub name: String,
}

/// A job as the control plane shows it: its public fields plus who and where.
#[derive(Debug, Serialize)]
pub struct ControlJob {
    /// The CheckAssetJobStatus fields.
    #[serde(flatten)]
    pub job: AssetJobStatus,
    /// Its user.
    pub user: String,
    /// Its project.
    pub project_id: String,
    /// Its instance.
    pub instance_id: String,
}

impl ControlJob {
    /// The control-plane form of `view`.
    pub fn new(view: &JobView, dialect: Dialect) -> Self {
        Self {
            job: AssetJobStatus::new(view, dialect),
            user: view.owner.to_string(),
            project_id: view.scope.project.to_string(),
            instance_id: view.scope.instance.to_string(),
        }
    }
}

/// `{"jobs": [...], "total": N, "next_cursor": "..."}`: one page.
#[derive(Debug, Serialize)]
pub struct ControlJobs {
    /// Oldest first, at most `limit`.
    pub jobs: Vec<ControlJob>,
    /// How many jobs the filters select in all.
    pub total: usize,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// The page size of a control-plane list when `limit` is left out.
pub const DEFAULT_PAGE: usize = 100;
/// The largest page a control-plane list answers.
pub const MAX_PAGE: usize = 1000;

/// The query of `GET /_emulator/state`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    /// `token_key`: the export holds the token-sealing key.
    pub include: Option<String>,
}

/// The query of `GET /_emulator/jobs`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// Owner.
    pub user: Option<String>,
    /// Project.
    pub project_id: Option<String>,
    /// Instance.
    pub instance_id: Option<String>,
    /// `exportAsset`, `importAsset` or `deleteAsset`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A status in either spelling.
    pub status: Option<String>,
    /// Jobs a page, 1..1000 (default 100).
    pub limit: Option<usize>,
    /// The `next_cursor` of the page before.
    pub cursor: Option<String>,
}

/// The query of `GET /_emulator/jobs/{id}/wait`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// The status to wait for (either spelling); left out: any end.
    pub status: Option<String>,
    /// How long to wait (default 5000, at most server.request_timeout_ms).
    pub timeout_ms: Option<u64>,
}

/// The query of `POST /_emulator/reset`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetQuery {
    /// Only this project.
    pub project_id: Option<String>,
    /// Only this instance.
    pub instance_id: Option<String>,
}

/// The body of `POST /_emulator/jobs/{id}/fail`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailBody {
    /// 1..10 reasons; left out: one default reason.
    pub reasons: Option<Vec<crate::jobs::ReasonSpec>>,
}

/// The body of `POST /_emulator/clock`: exactly one of the two.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockBody {
    /// Move forward this many milliseconds.
    pub advance_ms: Option<u64>,
    /// Set to this RFC 3339 time.
    pub set: Option<String>,
}

/// `{"now": ..., "mode": ...}`.
#[derive(Debug, Serialize)]
pub struct ClockView {
    /// The emulator's time, RFC 3339 with milliseconds.
    pub now: String,
    /// `real` or `virtual`.
    pub mode: &'static str,
}

/// The query of `GET /_emulator/requests`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsQuery {
    /// Entries a page, 1..1000 (default 100).
    pub limit: Option<usize>,
    /// Entries of the selection to skip first (newest first).
    pub offset: Option<usize>,
    /// Only this project's.
    pub project_id: Option<String>,
    /// Only this instance's.
    pub instance_id: Option<String>,
    /// Only this user's.
    pub user: Option<String>,
    /// Only answers of this HTTP status.
    pub status: Option<u16>,
}

/// One journal entry.
#[derive(Debug, Serialize)]
pub struct RequestView {
    /// RFC 3339 with milliseconds.
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// The cloud's operation id.
    pub operation: Option<crate::operation::Operation>,
    /// The authenticated user.
    pub user: Option<String>,
    /// Project of the path.
    pub project_id: Option<String>,
    /// Instance of the path.
    pub instance_id: Option<String>,
    /// Status answered.
    pub status: u16,
    /// Error code answered.
    pub error_code: Option<String>,
    /// Request id.
    pub request_id: Hex32,
    /// What the request meant (`[journal] summaries`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<crate::journal::SummaryText>,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<crate::journal::Refusal>,
    /// The nearest route of a request that matched none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What a fault did on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire_fault: Option<String>,
}

impl From<&crate::journal::Entry> for RequestView {
    fn from(e: &crate::journal::Entry) -> Self {
        Self {
            time: e.time.rfc3339_millis(),
            method: e.method.to_string(),
            path: e.path.clone(),
            operation: e.operation,
            user: e.user.as_deref().map(str::to_owned),
            project_id: e.project_id.as_deref().map(str::to_owned),
            instance_id: e.instance_id.as_deref().map(str::to_owned),
            status: e.status,
            error_code: e.error_code.clone(),
            request_id: e.request_id,
            summary: e.summary.clone(),
            refusal: e.refusal.as_deref().cloned(),
            hint: e.hint.clone(),
            wire_fault: e.wire_fault.clone(),
        }
    }
}

/// `{"requests": [...]}`, newest first.
#[derive(Debug, Serialize)]
pub struct RequestsView {
    /// Newest first, at most `limit`.
    pub requests: Vec<RequestView>,
    /// How many entries the filters select in all.
    pub total: usize,
    /// Pass as `offset` for the next page; `null` on the last.
    pub next_offset: Option<usize>,
}

/// `{"faults": [...]}`.
#[derive(Debug, Serialize)]
pub struct FaultsView {
    /// Oldest first.
    pub faults: Vec<crate::faults::Fault>,
}

/// One catalog entry of `GET /_emulator/errors`.
#[derive(Debug, Serialize)]
pub struct ErrorView {
    /// Code.
    pub error_code: &'static str,
    /// Status under `error_statuses = "documented"` (asset operations).
    pub status_documented: u16,
    /// Status under `error_statuses = "catalog"`, and on IAM and the control plane.
    pub status_catalog: u16,
    /// The error_msg.
    pub error_msg: &'static str,
    /// When it is answered.
    pub meaning: &'static str,
}

/// `{"errors": [...]}`.
#[derive(Debug, Serialize)]
pub struct ErrorsView {
    /// The whole catalog.
    pub errors: Vec<ErrorView>,
}
