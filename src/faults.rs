//! Fault injection: rules that make matching requests answer an error, answer late, or make the job
//! they create fail part-way. No HTTP here: the API layer asks [`Faults::check`] per request.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::ids::Hex32;
use crate::jobs::FailPlan;
use crate::jobs::job::ReasonSpec;
use crate::operation::Operation;

/// The code an error fault answers when it names none (the documents' example code).
pub const DEFAULT_FAULT_CODE: &str = "ROMA.00000101";

/// `fail_job` of a fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailJobSpec {
    /// Where the job fails, 0..1.
    pub at_progress: f64,
    /// Its reasons (one default reason when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<ReasonSpec>>,
}

/// A fault as `POST /_emulator/faults` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The operation it matches.
    pub operation: Operation,
    /// How many matching requests it affects; left out: every one, until removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// The status to answer (400..599), with `error_code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The code of the ROMA error body (default `ROMA.00000101`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Only this user's requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only requests for this project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// Only requests for this instance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    /// The chance (0..1, drawn from the seeded generator) that a matching request is affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Answer this much later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Let the request through, and make the job it creates fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_job: Option<FailJobSpec>,
    /// Close the connection with a TCP reset instead of answering.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
    /// Close the connection without answering.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_response: bool,
    /// Send the answer's head, then wait this long before its body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_ms: Option<u64>,
    /// Send this many bytes of the body, then drop the connection (its `Content-Length` is the
    /// whole body's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_after_bytes: Option<u64>,
    /// With `cut_after_bytes` on DownloadAssetArchive: the archive stays (else a cut download
    /// consumes it, as the cloud's one download does).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_archive: bool,
    /// Only requests whose summary has these fields (`apps`, `prefix`, `type`, `job_id`,
    /// `archive_id`…, as verification reads them): matched once the operation has read its
    /// request, before it acts on it.
    #[serde(
        default,
        rename = "where",
        skip_serializing_if = "std::collections::BTreeMap::is_empty"
    )]
    pub conditions: std::collections::BTreeMap<String, serde_json::Value>,
}

impl FaultSpec {
    /// A rule on `operation` with no narrowing and no effect yet (set at least one).
    pub fn new(operation: Operation) -> Self {
        Self {
            operation,
            times: None,
            status: None,
            error_code: None,
            user: None,
            project_id: None,
            instance_id: None,
            probability: None,
            delay_ms: None,
            fail_job: None,
            reset: false,
            empty_response: false,
            stall_ms: None,
            cut_after_bytes: None,
            keep_archive: false,
            conditions: std::collections::BTreeMap::new(),
        }
    }

    /// Checks the rule; the error names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.times == Some(0) {
            return Err("times: at least 1 (leave it out for every request)".into());
        }
        if self.status.is_some_and(|s| !(400..=599).contains(&s)) {
            return Err("status: 400..599".into());
        }
        if self
            .error_code
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.chars().count() > 128)
        {
            return Err("error_code: 1..128 characters".into());
        }
        if self.error_code.is_some() && self.status.is_none() {
            return Err("error_code: goes with status".into());
        }
        if self.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability: 0..1".into());
        }
        if self.delay_ms.is_some_and(|d| d > 600_000) {
            return Err("delay_ms: at most 600000".into());
        }
        if let Some(fail) = &self.fail_job {
            if !self.operation.creates_job() {
                return Err("fail_job: only for ExportAsset, ImportAsset and DeleteAsset".into());
            }
            if self.status.is_some() {
                return Err(
                    "fail_job: the request must succeed for a job to fail, so not with status".into(),
                );
            }
            if !(0.0..=1.0).contains(&fail.at_progress) {
                return Err("fail_job.at_progress: 0..1".into());
            }
            ReasonSpec::to_reasons(fail.reasons.as_deref()).map_err(|e| format!("fail_job.{e}"))?;
        }
        wire::validate(self)?;
        wire::validate_conditions(self)?;
        if self.status.is_none()
            && self.delay_ms.is_none()
            && self.fail_job.is_none()
            && !wire::has_effect(self)
        {
            return Err(
                "status, delay_ms, fail_job, reset, empty_response, stall_ms or cut_after_bytes: a fault needs at least one effect"
                    .into(),
            );
        }
        Ok(())
    }
}

/// The most fault rules kept at once.
pub const MAX_FAULTS: usize = 1000;

/// A fault as kept and listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Its id (for `DELETE /_emulator/faults/{id}`).
    pub id: Hex32,
    /// The rule.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// How many more requests it affects (`null`: unlimited).
    pub remaining: Option<u32>,
}

/// What a request is: the fields faults match on.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The operation.
    pub operation: Operation,
    /// The authenticated user, if any.
    pub user: Option<&'a str>,
    /// The project of the path.
    pub project_id: Option<&'a str>,
    /// The instance of the path.
    pub instance_id: Option<&'a str>,
    /// What the operation read of the request, at the second fault point (none at the first):
    /// rules with `where` match only there, the others only at the first.
    pub summary: Option<&'a crate::journal::Summary>,
}

/// What a matching fault does to a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    /// Wait this long first.
    pub delay: Option<Duration>,
    /// Answer this status and code.
    pub error: Option<(u16, String)>,
    /// Let the request through; its job fails so.
    pub fail_job: Option<FailPlan>,
    /// What happens on the wire.
    pub wire: Option<Wire>,
}

/// The fault rules. Requests pay for a lock only while at least one rule exists.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<Fault>>,
    any: AtomicBool,
}

impl Faults {
    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.rules.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sync_flag(&self, rules: &[Fault]) {
        self.any.store(!rules.is_empty(), Ordering::Release);
    }

    /// Whether there is no rule at all (a lock-free check for the request path).
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    /// Adds a checked rule under `id`.
    pub fn add(&self, id: Hex32, spec: FaultSpec) -> Result<Fault, String> {
        spec.validate()?;
        if self.rules().len() >= MAX_FAULTS {
            return Err(format!("faults: at most {MAX_FAULTS} at once; remove some first"));
        }
        let fault = Fault {
            id,
            remaining: spec.times,
            spec,
        };
        let mut rules = self.rules();
        rules.push(fault.clone());
        self.sync_flag(&rules);
        Ok(fault)
    }

    /// Every rule, oldest first.
    pub fn list(&self) -> Vec<Fault> {
        self.rules().clone()
    }

    /// Removes one rule; false if there was none.
    pub fn remove(&self, id: &str) -> bool {
        let mut rules = self.rules();
        let before = rules.len();
        rules.retain(|f| *f.id.hex() != *id);
        self.sync_flag(&rules);
        rules.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        let mut rules = self.rules();
        rules.clear();
        self.sync_flag(&rules);
    }

    /// Replaces every rule (a restored snapshot); each is checked first.
    pub fn replace(&self, faults: Vec<Fault>) -> Result<(), String> {
        if faults.len() > MAX_FAULTS {
            return Err(format!("faults: at most {MAX_FAULTS}"));
        }
        for fault in &faults {
            fault
                .spec
                .validate()
                .map_err(|e| format!("fault {}: {e}", fault.id))?;
        }
        let mut rules = self.rules();
        *rules = faults;
        self.sync_flag(&rules);
        Ok(())
    }

    /// Removes the rules narrowed to a namespace (a scoped reset).
    pub fn clear_scope(&self, project: Option<&str>, instance: Option<&str>) {
        let mut rules = self.rules();
        rules.retain(|f| {
            let in_scope = project.is_none_or(|p| f.spec.project_id.as_deref() == Some(p))
                && instance.is_none_or(|i| f.spec.instance_id.as_deref() == Some(i));
            !in_scope
        });
        self.sync_flag(&rules);
    }

    /// The first rule that matches `target` and whose draw succeeds (using up one of its `times`).
    pub fn check(&self, target: &Request<'_>, mut draw: impl FnMut() -> f64) -> Option<Effect> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let mut rules = self.rules();
        let matches = |f: &Fault| {
            f.spec.operation == target.operation
                && f.spec.user.as_deref().is_none_or(|u| target.user == Some(u))
                && f.spec
                    .project_id
                    .as_deref()
                    .is_none_or(|p| target.project_id == Some(p))
                && f.spec
                    .instance_id
                    .as_deref()
                    .is_none_or(|i| target.instance_id == Some(i))
                && conditions_hold(&f.spec, target.summary)
        };
        let index = rules
            .iter()
            .position(|f| matches(f) && f.spec.probability.is_none_or(|p| draw() < p))?;
        let fault = &mut rules[index];
        let effect = Effect {
            delay: fault.spec.delay_ms.map(Duration::from_millis),
            error: fault.spec.status.map(|s| {
                (
                    s,
                    fault
                        .spec
                        .error_code
                        .clone()
                        .unwrap_or_else(|| DEFAULT_FAULT_CODE.to_owned()),
                )
            }),
            fail_job: fault.spec.fail_job.as_ref().map(|f| FailPlan {
                at_progress: f.at_progress,
                reasons: ReasonSpec::to_reasons(f.reasons.as_deref()).unwrap_or_default(),
            }),
            wire: Wire::of(&fault.spec),
        };
        if let Some(remaining) = &mut fault.remaining {
            *remaining -= 1;
            if *remaining == 0 {
                rules.remove(index);
            }
        }
        self.sync_flag(&rules);
        Some(effect)
    }
}

pub mod wire;
pub use wire::Wire;

/// Whether `spec`'s `where` holds for `summary`: a rule without one matches at the first fault
/// point only (no summary yet), a rule with one at the second only.
fn conditions_hold(spec: &FaultSpec, summary: Option<&crate::journal::Summary>) -> bool {
    match summary {
        None => spec.conditions.is_empty(),
        Some(summary) => {
            !spec.conditions.is_empty()
                && spec.conditions.iter().all(|(name, want)| {
                    let got = summary.field(name).unwrap_or(serde_json::Value::Null);
                    crate::journal::verify::satisfies(&got, want)
                })
        }
    }
}

#[cfg(test)]
mod tests;
