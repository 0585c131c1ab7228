//! One asset job: its kind, owner, scope, state and times. Progress is a pure function of time.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::Hex32;

/// A job's id (D11).
pub type JobId = Hex32;
/// An archive's id (D11).
pub type ArchiveId = Hex32;
use crate::scope::{Scope, UserId};

/// The kind of job (D8). One Running job per user per kind (D9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub enum JobKind {
    /// ExportAsset.
    #[serde(rename = "exportAsset")]
    Export,
    /// ImportAsset.
    #[serde(rename = "importAsset")]
    Import,
    /// DeleteAsset (its `type` value is not documented; `deleteAsset` is our choice).
    #[serde(rename = "deleteAsset")]
    Delete,
}

impl JobKind {
    /// All kinds.
    pub const ALL: [JobKind; 3] = [JobKind::Export, JobKind::Import, JobKind::Delete];

    /// The `type` field value.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Export => "exportAsset",
            JobKind::Import => "importAsset",
            JobKind::Delete => "deleteAsset",
        }
    }

    /// Parses a `type` value.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// A small index (for per-kind slots).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum JobState {
    /// Still running.
    Running,
    /// Ended well.
    Succeeded,
    /// Ended with reasons.
    Failed,
}

/// The status a client sees (D5): `Finished` is a successful export whose archive was downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicStatus {
    /// Running.
    Running,
    /// Success / SUCCEEDED.
    Success,
    /// Failed / FAILED.
    Failed,
    /// Finished (seed dialect): the archive was downloaded.
    Finished,
}

impl PublicStatus {
    /// Every status, in the order of [`PublicStatus::index`].
    pub const ALL: [PublicStatus; 4] = [
        PublicStatus::Running,
        PublicStatus::Success,
        PublicStatus::Failed,
        PublicStatus::Finished,
    ];

    /// Its place in [`PublicStatus::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Spelling of the seed's region (D5).
    pub fn seed_spelling(self) -> &'static str {
        match self {
            PublicStatus::Running => "Running",
            PublicStatus::Success => "Success",
            PublicStatus::Failed => "Failed",
            PublicStatus::Finished => "Finished",
        }
    }

    /// Spelling of the current documents and the OAS (D5); Finished has none and stays SUCCEEDED.
    pub fn current_spelling(self) -> &'static str {
        match self {
            PublicStatus::Running => "RUNNING",
            PublicStatus::Success | PublicStatus::Finished => "SUCCEEDED",
            PublicStatus::Failed => "FAILED",
        }
    }

    /// Parses either spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Running, Self::Success, Self::Failed, Self::Finished]
            .into_iter()
            .find(|st| {
                st.seed_spelling().eq_ignore_ascii_case(s) || st.current_spelling().eq_ignore_ascii_case(s)
            })
    }
}

/// What a failure reason is about (D6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceType {
    /// An application.
    Application,
    /// A task.
    Task,
}

impl ResourceType {
    /// `application` or `task`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Application => "application",
            ResourceType::Task => "task",
        }
    }
}

/// One entry of a failed job's `reasons` (D6); each text field is at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Reason {
    /// application or task.
    pub resource_type: ResourceType,
    /// The asset's id or name.
    pub resource_name: String,
    /// A ROMA code.
    pub error_code: String,
    /// What went wrong.
    pub error_msg: String,
}

/// A failure reason as a test author writes it (`POST /_emulator/jobs/{id}/fail`, a fault's
/// `fail_job`): every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReasonSpec {
    /// `application` (default) or `task`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<ResourceType>,
    /// Default `-`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// Default `ROMA.00000101`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Default `failed through the emulator's control plane`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
}

impl ReasonSpec {
    /// The reason, with defaults filled in and fields clipped to 64 characters.
    pub fn to_reason(&self) -> Reason {
        Reason::new(
            self.resource_type.unwrap_or(ResourceType::Application),
            self.resource_name.as_deref().unwrap_or("-"),
            self.error_code.as_deref().unwrap_or("ROMA.00000101"),
            self.error_msg
                .as_deref()
                .unwrap_or("failed through the emulator's control plane"),
        )
    }

    /// The reasons of `specs` (one default reason when there are none); more than 10 is an error.
    pub fn to_reasons(specs: Option<&[ReasonSpec]>) -> Result<Vec<Reason>, String> {
        let specs = specs.unwrap_or_default();
        if specs.len() > MAX_REASONS {
            return Err(format!("reasons: at most {MAX_REASONS}"));
        }
        if specs.is_empty() {
            return Ok(vec![ReasonSpec::default().to_reason()]);
        }
        Ok(specs.iter().map(ReasonSpec::to_reason).collect())
    }
}

/// At most this many reasons are kept (D6).
pub const MAX_REASONS: usize = 10;

impl Reason {
    /// A reason, with each field clipped to the documented 64 characters.
    pub fn new(resource_type: ResourceType, name: &str, code: &str, msg: &str) -> Self {
        let clip = |s: &str| s.chars().take(64).collect::<String>();
        Self {
            resource_type,
            resource_name: clip(if name.is_empty() { "-" } else { name }),
            error_code: clip(code),
            error_msg: clip(msg),
        }
    }
}

/// How far a running job is: grows from 0 towards 1 over `duration`, and never reaches 1 while
/// running (1 means ended).
pub fn progress(begin: Timestamp, now: Timestamp, duration: Duration) -> f64 {
    if duration.is_zero() {
        return 0.99;
    }
    let frac = now.since(begin).as_secs_f64() / duration.as_secs_f64();
    frac.clamp(0.0, 0.99)
}

/// Whose a job is and where it lives. A tenant's consecutive jobs share one (a held job is kept
/// small: one pointer instead of a name and a namespace of its own).
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct Tenant {
    /// The user.
    pub owner: UserId,
    /// Project and instance.
    pub scope: Scope,
}

/// A job as the registry keeps it. In a snapshot its tenant's fields are the job's own (`owner`,
/// `scope`), and it is read through [`JobRecord`] so a wrong value is named by its path.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(from = "JobRecord")]
pub struct Job {
    /// Its id.
    pub id: JobId,
    /// Creation order (ids are random; times tie within a millisecond).
    pub seq: u64,
    /// Export, import or delete.
    pub kind: JobKind,
    /// Its user, project and instance (shared by a tenant's consecutive jobs).
    #[serde(flatten)]
    pub tenant: Arc<Tenant>,
    /// When it was created.
    pub begin: Timestamp,
    /// How long it runs (None: until told, in manual progression).
    pub duration: Option<Duration>,
    /// When it ended.
    pub end: Option<Timestamp>,
    /// Running, Succeeded or Failed.
    pub state: JobState,
    /// Why it failed.
    pub reasons: Vec<Reason>,
    /// The archive of a successful export.
    pub archive: Option<ArchiveId>,
    /// Whether that archive was downloaded (status Finished).
    pub downloaded: bool,
    /// Progress at which the job fails, if it is set to fail (a fault's `fail_job`).
    /// (Boxed: rare, and a held job is kept small.)
    pub fail_at: Option<Box<(f64, Vec<Reason>)>>,
    /// Progress when it ended.
    pub end_progress: Option<f64>,
}

/// A job as a snapshot spells it: [`Job`] with its tenant's fields in place.
#[derive(serde::Deserialize)]
struct JobRecord {
    id: JobId,
    seq: u64,
    kind: JobKind,
    owner: UserId,
    scope: Scope,
    begin: Timestamp,
    duration: Option<Duration>,
    end: Option<Timestamp>,
    state: JobState,
    reasons: Vec<Reason>,
    archive: Option<ArchiveId>,
    downloaded: bool,
    fail_at: Option<Box<(f64, Vec<Reason>)>>,
    end_progress: Option<f64>,
}

impl From<JobRecord> for Job {
    fn from(r: JobRecord) -> Self {
        Self {
            id: r.id,
            seq: r.seq,
            kind: r.kind,
            tenant: Arc::new(Tenant {
                owner: r.owner,
                scope: r.scope,
            }),
            begin: r.begin,
            duration: r.duration,
            end: r.end,
            state: r.state,
            reasons: r.reasons,
            archive: r.archive,
            downloaded: r.downloaded,
            fail_at: r.fail_at,
            end_progress: r.end_progress,
        }
    }
}

impl Job {
    /// Its user.
    pub fn owner(&self) -> &UserId {
        &self.tenant.owner
    }

    /// Its project and instance.
    pub fn scope(&self) -> &Scope {
        &self.tenant.scope
    }

    /// The status the client sees.
    pub fn public_status(&self) -> PublicStatus {
        match self.state {
            JobState::Running => PublicStatus::Running,
            JobState::Failed => PublicStatus::Failed,
            JobState::Succeeded if self.downloaded => PublicStatus::Finished,
            JobState::Succeeded => PublicStatus::Success,
        }
    }

    /// Progress at `now`: growing while running, 1 once succeeded, where it stopped once failed.
    pub fn progress(&self, now: Timestamp) -> f64 {
        match (self.state, self.duration) {
            (JobState::Succeeded, _) => 1.0,
            (JobState::Failed, Some(d)) => progress(self.begin, self.end.unwrap_or(now), d)
                .max(self.fail_at.as_ref().map_or(0.0, |f| f.0)),
            (JobState::Failed, None) => self.fail_at.as_ref().map_or(0.0, |f| f.0),
            (JobState::Running, Some(d)) => progress(self.begin, now, d),
            (JobState::Running, None) => 0.0,
        }
    }

    /// When a running job is due to change state (end, or fail part-way); None if only told to.
    pub fn due(&self) -> Option<Timestamp> {
        if self.state != JobState::Running {
            return None;
        }
        let d = self.duration?;
        let frac = self.fail_at.as_ref().map_or(1.0, |f| f.0.clamp(0.0, 1.0));
        Some(self.begin.plus(d.mul_f64(frac)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_grows_over_the_duration_and_stays_below_one() {
        let d = Duration::from_secs(10);
        let t0 = Timestamp(1_000_000);
        let cases = vec![
            (0, 0.0),
            (2_500, 0.25),
            (5_000, 0.5),
            (9_990, 0.99),
            (20_000, 0.99),
        ];
        for (after_ms, expected) in cases {
            let p = progress(t0, Timestamp(t0.0 + after_ms), d);
            assert!(
                (p - expected).abs() < 1e-9,
                "after {after_ms} ms: {p} != {expected}"
            );
        }
        assert_eq!(progress(t0, Timestamp(0), d), 0.0, "clock before begin");
    }

    #[test]
    fn scope_enforces_the_documented_lengths() {
        assert!(Scope::new("p", "i").is_ok());
        assert!(Scope::new(&"p".repeat(64), "i").is_ok());
        let err = Scope::new(&"p".repeat(65), "i").expect_err("too long");
        assert!(err.starts_with("project_id"), "{err}");
        assert!(Scope::new("p", "").expect_err("empty").starts_with("instance_id"));
        for bad in ["a\0b", "a/b", "a\\b", "..", ".", "a\nb"] {
            assert!(Scope::new("p", bad).is_err(), "{bad:?}");
        }
        assert!(Scope::new("p", "a.b..c").is_ok());
    }

    #[test]
    fn statuses_parse_in_both_spellings() {
        assert_eq!(PublicStatus::parse("SUCCEEDED"), Some(PublicStatus::Success));
        assert_eq!(PublicStatus::parse("Finished"), Some(PublicStatus::Finished));
        assert_eq!(PublicStatus::parse("running"), Some(PublicStatus::Running));
        assert_eq!(PublicStatus::parse("Done"), None);
        assert_eq!(JobKind::parse("deleteAsset"), Some(JobKind::Delete));
    }
}
