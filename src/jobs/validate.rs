//! The one check of a registry snapshot, run before a state is loaded (at startup) or imported
//! (`PUT /_emulator/state`): every invariant the registry relies on holds, or the state is refused
//! with the field that breaks it. Nothing derived is trusted: the indexes, the Running slots, the
//! queues and the archive sizes are rebuilt from the jobs afterwards.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::catalog::Catalog;
use super::job::{JobKind, JobState, MAX_REASONS};
use super::snapshot::{PendingEffect, RegistrySnapshot};
use crate::clock::Timestamp;

/// The highest `last_seq` a state may carry: far below `u64::MAX`, so sequence numbers never wrap
/// (and every one is exact as a JSON number).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// The longest duration a job may carry (a configured one is at most a day).
pub const MAX_JOB_DURATION: Duration = Duration::from_secs(366 * 86_400);

/// Checks `snapshot` against the registry's invariants and `catalog`'s rules.
pub fn check(snapshot: &RegistrySnapshot, catalog: &Catalog) -> Result<(), String> {
    if snapshot.last_seq > MAX_SEQ {
        return Err(format!("registry.last_seq: at most {MAX_SEQ}"));
    }
    let mut kinds = HashMap::new();
    let mut running = HashSet::new();
    let mut seqs = HashSet::new();
    for (i, job) in snapshot.jobs.iter().enumerate() {
        let field = |name: &str| format!("registry.jobs[{i}].{name}");
        if job.seq == 0 || job.seq > snapshot.last_seq || !seqs.insert(job.seq) {
            return Err(format!(
                "{}: {} must be 1..=last_seq ({}) and unique",
                field("seq"),
                job.seq,
                snapshot.last_seq
            ));
        }
        if kinds.insert(job.id, (job.kind, job.state)).is_some() {
            return Err(format!("{}: job {} appears twice", field("id"), job.id));
        }
        if !catalog.has_instance(job.scope()) {
            return Err(format!(
                "{}: instance {} is not configured (catalog.strict = true)",
                field("scope"),
                job.scope().instance
            ));
        }
        for (name, time) in [("begin", Some(job.begin)), ("end", job.end)] {
            if time.is_some_and(|t| t > Timestamp::MAX) {
                return Err(format!("{}: past 9999-12-31", field(name)));
            }
        }
        if job.duration.is_some_and(|d| d > MAX_JOB_DURATION) {
            return Err(format!("{}: at most 366 days", field("duration")));
        }
        let fraction = |p: f64| p.is_finite() && (0.0..=1.0).contains(&p);
        if job.fail_at.as_deref().is_some_and(|(p, _)| !fraction(*p))
            || job.end_progress.is_some_and(|p| !fraction(p))
        {
            return Err(format!(
                "{}: progress must lie in 0..=1",
                field("fail_at/end_progress")
            ));
        }
        if job.reasons.len() > MAX_REASONS
            || job.fail_at.as_deref().is_some_and(|(_, r)| r.len() > MAX_REASONS)
        {
            return Err(format!("{}: at most {MAX_REASONS} reasons", field("reasons")));
        }
        let running_now = job.state == JobState::Running;
        if running_now && (job.end.is_some() || job.archive.is_some() || job.downloaded) {
            return Err(format!(
                "{}: a Running job has no end and no archive",
                field("state")
            ));
        }
        if job.archive.is_some() && !(job.kind == JobKind::Export && job.state == JobState::Succeeded) {
            return Err(format!(
                "{}: only a successful export has an archive",
                field("archive")
            ));
        }
        // D9: one Running job per user and kind.
        if running_now && !running.insert((job.owner().clone(), job.kind)) {
            return Err(format!(
                "{}: user {} already has a Running {:?} job",
                field("state"),
                job.owner(),
                job.kind
            ));
        }
    }
    let mut worked = HashSet::new();
    for (i, (id, work)) in snapshot.work.iter().enumerate() {
        let field = format!("registry.work[{i}]");
        let Some(&(kind, state)) = kinds.get(id) else {
            return Err(format!("{field}: job {id} does not exist"));
        };
        if state != JobState::Running || !worked.insert(*id) {
            return Err(format!("{field}: job {id} is not Running, or has work twice"));
        }
        let matches = matches!(
            (kind, work),
            (JobKind::Export, PendingEffect::Export(_))
                | (JobKind::Import, PendingEffect::Import(..))
                | (JobKind::Delete, PendingEffect::Delete(_))
        );
        if !matches {
            return Err(format!(
                "{field}: the work of job {id} is not that of a {kind:?} job"
            ));
        }
    }
    let jobs: HashMap<_, _> = snapshot.jobs.iter().map(|j| (j.id, j)).collect();
    let mut archives = HashSet::new();
    for (i, (id, archive)) in snapshot.archives.iter().enumerate() {
        let field = format!("registry.archives[{i}]");
        let awaits = jobs
            .get(&archive.job)
            .is_some_and(|j| j.archive == Some(*id) && !j.downloaded);
        if !awaits {
            return Err(format!(
                "{field}: archive {id} belongs to no job that awaits its download"
            ));
        }
        if !archives.insert(*id) {
            return Err(format!("{field}: archive {id} appears twice"));
        }
    }
    Ok(())
}
