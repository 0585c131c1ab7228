//! The built-in expectations a namespace can ask for (`GET /_emulator/verify/report`): what a
//! test usually did not mean to do, found in the journal (and, for archives that expired
//! unclaimed, in what the registry remembers). One pass over the namespace's entries, copied out of
//! the bounded journal first.

use std::collections::HashMap;

use serde::Serialize;

use super::{Journal, SummaryText};
use crate::ids::Hex32;
use crate::jobs::job::PublicStatus;
use crate::operation::Operation;

/// The codes of a request refused by authentication.
const AUTH_CODES: &[&str] = &["ROMA.1000", "ROMA.1002", "ROMA.1006", "APIG.0301", "APIG.0307"];

/// An archive asked for again after its one download.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondDownload {
    /// The archive.
    pub archive_id: String,
    /// The refused request.
    pub request_id: Hex32,
    /// The request that consumed it, when known.
    pub consumed_by: Option<String>,
}

/// A job no request polled.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unpolled {
    /// The job.
    pub job_id: String,
    /// The operation that created it.
    pub operation: Option<Operation>,
    /// The request that created it.
    pub request_id: Hex32,
}

/// A job polled again and again after it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overpolled {
    /// The job.
    pub job_id: String,
    /// Polls that found it ended.
    pub polls_after_end: usize,
}

/// A request authentication refused.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuthRefusal {
    /// The request.
    pub request_id: Hex32,
    /// Its operation.
    pub operation: Option<Operation>,
    /// The code answered.
    pub error_code: String,
    /// What exactly was wrong.
    pub details: Option<String>,
}

/// An export whose archive expired before anyone downloaded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unclaimed {
    /// The archive.
    pub archive_id: Hex32,
    /// When it expired (RFC 3339).
    pub expired_at: Option<String>,
}

/// What the journal (and the registry's memory of expired archives) shows of a namespace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Findings {
    /// Archives asked for after their one download.
    pub archives_downloaded_twice: Vec<SecondDownload>,
    /// Exports whose archive expired before it was downloaded.
    pub exports_never_downloaded: Vec<Unclaimed>,
    /// Jobs created and never polled.
    pub jobs_never_polled: Vec<Unpolled>,
    /// Jobs polled more than the threshold after they ended.
    pub jobs_polled_after_end: Vec<Overpolled>,
    /// Requests refused by authentication.
    pub refused_by_auth: Vec<AuthRefusal>,
}

impl Findings {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.archives_downloaded_twice.is_empty()
            && self.exports_never_downloaded.is_empty()
            && self.jobs_never_polled.is_empty()
            && self.jobs_polled_after_end.is_empty()
            && self.refused_by_auth.is_empty()
    }
}

/// The findings of the namespace `project` (and `instance`), polls after the end counted over
/// `max_polls_after_end`. Oldest first.
pub fn findings(
    journal: &Journal,
    project: &str,
    instance: Option<&str>,
    max_polls_after_end: usize,
) -> Findings {
    let mut out = Findings::default();
    let mut created: Vec<(String, Option<Operation>, Hex32)> = Vec::new();
    let mut polls: HashMap<String, usize> = HashMap::new();
    let mut ended_polls: HashMap<String, usize> = HashMap::new();
    for entry in &journal.of_namespace(project, instance) {
        let summary = entry.summary.as_ref().map(SummaryText::read).unwrap_or_default();
        let refusal = entry.refusal.as_deref();
        match entry.operation {
            Some(op) if op.creates_job() && entry.status == 200 => {
                if let Some(job) = summary.job_id {
                    created.push((job, Some(op), entry.request_id));
                }
            }
            Some(Operation::CheckAssetJobStatus) => {
                if let Some(job) = summary.job_id {
                    *polls.entry(job.clone()).or_default() += 1;
                    let ended = summary
                        .status
                        .as_deref()
                        .and_then(PublicStatus::parse)
                        .is_some_and(|s| s != PublicStatus::Running);
                    if ended {
                        *ended_polls.entry(job).or_default() += 1;
                    }
                }
            }
            Some(Operation::DownloadAssetArchive) => {
                if let (Some(refusal), Some(archive)) = (refusal, summary.archive_id)
                    && refusal
                        .facts
                        .get("cause")
                        .is_some_and(|c| c.contains("already downloaded"))
                {
                    out.archives_downloaded_twice.push(SecondDownload {
                        archive_id: archive,
                        request_id: entry.request_id,
                        consumed_by: refusal.facts.get("consumed_by").cloned(),
                    });
                }
            }
            _ => {}
        }
        if let Some(refusal) = refusal
            && AUTH_CODES.contains(&refusal.error_code.as_str())
        {
            out.refused_by_auth.push(AuthRefusal {
                request_id: entry.request_id,
                operation: entry.operation,
                error_code: refusal.error_code.clone(),
                details: refusal.details.clone(),
            });
        }
    }
    // The entries come newest first: the report reads oldest first.
    out.archives_downloaded_twice.reverse();
    out.refused_by_auth.reverse();
    created.reverse();
    out.jobs_never_polled = created
        .iter()
        .filter(|(job, _, _)| !polls.contains_key(job))
        .map(|(job, operation, request_id)| Unpolled {
            job_id: job.clone(),
            operation: *operation,
            request_id: *request_id,
        })
        .collect();
    out.jobs_polled_after_end = created
        .iter()
        .filter_map(|(job, _, _)| {
            let n = ended_polls.get(job).copied().unwrap_or(0);
            (n > max_polls_after_end).then(|| Overpolled {
                job_id: job.clone(),
                polls_after_end: n,
            })
        })
        .collect();
    out
}
