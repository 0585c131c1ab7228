//! What is known of an error's cause beyond its code: the rule it enforces, the field at fault
//! and facts (the job that blocks, the request that consumed an archive). The journal's refusal
//! is made of it (`pipeline::respond`); the error body never carries it.

use std::borrow::Cow;

use super::{ApiError, ErrorCode};
use crate::jobs::{JobError, JobKind};

/// An error's cause, where more is known than its code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause {
    /// The rule broken, in words (else the code's meaning is the rule).
    pub rule: Option<&'static str>,
    /// The field at fault (else the field the details start with).
    pub field: Option<Cow<'static, str>>,
    /// Facts, by name.
    pub facts: Vec<(&'static str, String)>,
}

impl ApiError {
    /// The error with its cause's rule set.
    #[must_use]
    pub fn rule(mut self, rule: &'static str) -> Self {
        self.cause.get_or_insert_with(Box::default).rule = Some(rule);
        self
    }

    /// The error with the field at fault named.
    #[must_use]
    pub fn field(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.cause.get_or_insert_with(Box::default).field = Some(field.into());
        self
    }

    /// The error with one more fact of its cause.
    #[must_use]
    pub fn fact(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.cause
            .get_or_insert_with(Box::default)
            .facts
            .push((name, value.into()));
        self
    }

    /// The field an error is about: the cause's, else the one its details start with
    /// (`apps[0].id: required`, `ImportAssetRequestBody: …`, `X-Sdk-Date: …`).
    pub fn field_at_fault(&self) -> Option<Cow<'static, str>> {
        if let Some(field) = self.cause.as_ref().and_then(|c| c.field.clone()) {
            return Some(field);
        }
        if !matches!(
            self.code,
            ErrorCode::InvalidParameter
                | ErrorCode::IamInvalidParameter
                | ErrorCode::IamBodyInvalid
                | ErrorCode::NotAZip
                | ErrorCode::NothingToOperate
        ) {
            return None;
        }
        let (head, _) = self.details.split_once(": ")?;
        let plain = |c: char| c.is_alphanumeric() || "_-.[], {}".contains(c);
        (head.len() <= 64 && head.chars().all(plain)).then(|| Cow::Owned(head.to_owned()))
    }
}

/// The cause of a job error, where its variant knows more than its code.
pub(super) fn of_job(e: &JobError) -> Option<Cause> {
    let cause = match e {
        JobError::Running(kind, blocking) => Cause {
            rule: Some(match kind {
                JobKind::Export => "one Running export per user",
                JobKind::Import => "one Running import per user",
                JobKind::Delete => "one Running delete per user",
            }),
            field: None,
            facts: vec![("blocking_job", blocking.to_string())],
        },
        JobError::NotFound { facts, .. } => Cause {
            rule: Some(
                "a job or archive is seen by its user under the project and instance that created it, until jobs.retention_s after it ends; an archive is downloaded once",
            ),
            field: None,
            facts: facts.clone(),
        },
        JobError::InstanceNotFound { .. } => Cause {
            rule: Some("catalog.strict = true: only the configured instances exist"),
            field: Some("instance_id".into()),
            facts: Vec::new(),
        },
        JobError::Capacity(_) => Cause {
            rule: Some("at most jobs.max_jobs jobs, and room is made only by dropping ended ones"),
            ..Cause::default()
        },
        JobError::BadPackageName(_) => Cause {
            rule: Some(
                "the package's file name ends in .zip, starts with a letter or digit and has only + - _ besides",
            ),
            field: Some("ImportAssetRequestBody".into()),
            facts: Vec::new(),
        },
        _ => return None,
    };
    Some(cause)
}
