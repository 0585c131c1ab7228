//! What callers see of jobs: a job at one moment, a planned failure, and query filters.

use crate::clock::Timestamp;

use super::job::{ArchiveId, Job, JobId, JobKind, PublicStatus, Reason};
use crate::scope::{Scope, UserId};

/// A job as a caller sees it at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    /// Its id.
    pub id: JobId,
    /// Export, import or delete.
    pub kind: JobKind,
    /// Running, Success, Failed or Finished.
    pub status: PublicStatus,
    /// 0..1.
    pub progress: f64,
    /// When it began.
    pub begin: Timestamp,
    /// When it ended.
    pub end: Option<Timestamp>,
    /// The archive to download (a successful export not yet downloaded).
    pub archive_id: Option<ArchiveId>,
    /// Why it failed.
    pub reasons: Vec<Reason>,
    /// Its user.
    pub owner: UserId,
    /// Its project and instance.
    pub scope: Scope,
    /// When it is due to change by itself (timed progression), if Running.
    pub due: Option<Timestamp>,
    /// Creation order.
    pub seq: u64,
}

/// A planned failure: the job fails when it reaches `at_progress` (a fault's `fail_job`).
#[derive(Debug, Clone, PartialEq)]
pub struct FailPlan {
    /// 0..1.
    pub at_progress: f64,
    /// The reasons it fails with (1..10).
    pub reasons: Vec<Reason>,
}

/// One page of the jobs a filter selects, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPage {
    /// At most the limit asked for.
    pub jobs: Vec<JobView>,
    /// How many jobs the filter selects in all.
    pub total: usize,
    /// The cursor of the next page (the `seq` of this page's last job), if there are more.
    pub next: Option<u64>,
}

/// Which jobs a query selects; `None` fields select all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    /// The owner.
    pub user: Option<String>,
    /// The project.
    pub project: Option<String>,
    /// The instance.
    pub instance: Option<String>,
    /// The kind.
    pub kind: Option<JobKind>,
    /// The public status.
    pub status: Option<PublicStatus>,
}

impl JobFilter {
    /// Whether it selects `job` (read in place: no view is made of a job it passes over).
    pub(super) fn matches(&self, job: &Job) -> bool {
        let scope = job.scope();
        self.user.as_deref().is_none_or(|u| **job.owner() == *u)
            && self.project.as_deref().is_none_or(|p| *scope.project == *p)
            && self.instance.as_deref().is_none_or(|i| *scope.instance == *i)
            && self.kind.is_none_or(|k| job.kind == k)
            && self.status.is_none_or(|s| job.public_status() == s)
    }
}

pub(super) fn view(job: &Job, now: Timestamp) -> JobView {
    JobView {
        id: job.id,
        kind: job.kind,
        status: job.public_status(),
        progress: job.progress(now),
        begin: job.begin,
        end: job.end,
        archive_id: if job.downloaded { None } else { job.archive },
        reasons: job.reasons.clone(),
        owner: job.owner().clone(),
        scope: job.scope().clone(),
        due: job.due(),
        seq: job.seq,
    }
}
