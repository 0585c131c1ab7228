//! Wire types, named and spelled as the real cloud's JSON.

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::config::Dialect;
use crate::jobs::{ArchiveId, JobId, JobView, Reason};

/// `{project_id}/instances/{instance_id}` of the asset API paths.
#[derive(Debug, Deserialize)]
pub struct InstancePath {
    /// Project id (1..64 characters, checked by the domain).
    pub project_id: String,
    /// Instance id (1..64 characters).
    pub instance_id: String,
}

/// The answer of ExportAsset, ImportAsset and DeleteAsset.
#[derive(Debug, Serialize)]
pub struct JobCreated {
    /// The new job's id (32 lowercase hex characters).
    pub job_id: JobId,
}

/// `GET /_emulator/health`.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok` once requests are served.
    pub status: &'static str,
}

/// `{project_id}/instances/{instance_id}/assets/jobs/{job_id}`.
#[derive(Debug, Deserialize)]
pub struct JobPath {
    /// Project id.
    pub project_id: String,
    /// Instance id.
    pub instance_id: String,
    /// Job id.
    pub job_id: String,
}

/// `{project_id}/instances/{instance_id}/assets/archives/{archive_id}`.
#[derive(Debug, Deserialize)]
pub struct ArchivePath {
    /// Project id.
    pub project_id: String,
    /// Instance id.
    pub instance_id: String,
    /// Archive id.
    pub archive_id: String,
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
                Dialect::Seed => view.status.seed(),
                Dialect::Current => view.status.current(),
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
    /// Not tracked: empty.
    pub password_expires_at: String,
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
