//! Why a job operation was refused.

use super::archive::PackageError;
use super::job::{JobId, JobKind};
use super::selection::SelectionError;

/// Why a job operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// A parameter is invalid; the text names it.
    #[error("{0}")]
    Invalid(String),
    /// Nothing to operate on.
    #[error("{0}")]
    NothingToOperate(&'static str),
    /// The user already has a Running job of this kind (D9).
    #[error("the user already has a Running {kind} job: {id}", kind = .0.as_str(), id = .1)]
    Running(JobKind, JobId),
    /// No such job or archive for this user, project and instance.
    #[error("{details}")]
    NotFound {
        /// The id that was asked for.
        id: String,
        /// What was not found.
        details: String,
        /// What is known of why (diagnostics: the journal's refusal, never the body).
        facts: Vec<(&'static str, String)>,
    },
    /// The instance is not in the (strict) catalog.
    #[error("instance {instance} does not exist")]
    InstanceNotFound {
        /// The project of the path.
        project: String,
        /// The instance of the path.
        instance: String,
    },
    /// `[jobs] max_jobs` jobs exist and all are still Running.
    #[error("{0}")]
    Capacity(String),
    /// An uploaded file is not a zip (or unpacks to too much).
    #[error("ImportAssetRequestBody: {0}")]
    NotAZip(String),
    /// The uploaded file's name breaks the package name rule.
    #[error("ImportAssetRequestBody: {0} breaks the package name rule")]
    BadPackageName(String),
    /// The job has already ended (complete / fail of the control plane).
    #[error("job {0} is not Running")]
    NotRunning(JobId),
    /// Something that cannot happen did.
    #[error("{0}")]
    Internal(String),
}

impl From<PackageError> for JobError {
    fn from(e: PackageError) -> Self {
        match e {
            PackageError::NotAZip(m) => JobError::NotAZip(m),
            PackageError::Invalid(m) => JobError::Invalid(format!("ImportAssetRequestBody: {m}")),
            PackageError::Empty => {
                JobError::NothingToOperate("ImportAssetRequestBody: the package holds no asset")
            }
        }
    }
}

impl From<SelectionError> for JobError {
    fn from(e: SelectionError) -> Self {
        match e {
            SelectionError::Invalid(s) => JobError::Invalid(s),
            SelectionError::NothingToOperate(s) => JobError::NothingToOperate(s),
        }
    }
}

/// The refusal of a job id that names no job the caller may see.
pub fn job_not_found(id: &str) -> JobError {
    JobError::NotFound {
        id: id.to_owned(),
        details: format!("job {id} does not exist"),
        facts: Vec::new(),
    }
}

impl JobError {
    /// The error with `facts` of its cause (a not-found only).
    #[must_use]
    pub fn with_facts(mut self, known: Vec<(&'static str, String)>) -> Self {
        if let JobError::NotFound { facts, .. } = &mut self {
            *facts = known;
        }
        self
    }
}

/// The refusal of an archive id that names no archive the caller may take.
pub fn archive_not_found(id: &str) -> JobError {
    JobError::NotFound {
        id: id.to_owned(),
        details: format!("archive {id} does not exist or was already downloaded"),
        facts: Vec::new(),
    }
}
