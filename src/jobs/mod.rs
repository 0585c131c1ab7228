//! The job registry: every asset job, the one-Running-job-per-user-per-kind rule (D9), and job
//! progression. No HTTP here: callers pass plain values and get [`JobError`]s back.
//!
//! All state sits behind one mutex, held only for short, non-async sections. Time comes from the
//! [`Clock`] the registry is given; due job changes are applied lazily, in due order, by
//! [`State::settle`] at the start of every operation, so no ticker task is needed.

pub mod job;
pub mod selection;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub use job::{ArchiveId, Job, JobId, JobKind, JobState, PublicStatus, Reason, ResourceType, Scope, UserId};
pub use selection::{AppRef, AssetSelection, SelectionError};

use crate::clock::{Clock, Timestamp};
use crate::ids::Ids;

/// Why a job operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// A parameter is invalid; the text names it.
    #[error("{0}")]
    Invalid(String),
    /// Nothing to operate on.
    #[error("{0}")]
    Nothing(&'static str),
    /// The user already has a Running job of this kind (D9).
    #[error("the user already has a Running {kind} job: {id}", kind = .0.as_str(), id = .1)]
    Running(JobKind, JobId),
    /// No such job or archive for this user, project and instance.
    #[error("{0}")]
    NotFound(String),
}

impl From<SelectionError> for JobError {
    fn from(e: SelectionError) -> Self {
        match e {
            SelectionError::Invalid(s) => JobError::Invalid(s),
            SelectionError::Nothing(s) => JobError::Nothing(s),
        }
    }
}

/// How jobs progress.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// How long a job stays Running.
    pub duration: Duration,
}

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
}

/// What a job does when it ends.
#[derive(Debug, Clone)]
enum Work {
    Export(AssetSelection),
}

/// The registry handle: cheap to clone, shared by all requests.
#[derive(Debug, Clone)]
pub struct JobRegistry {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    clock: Clock,
    ids: Arc<Ids>,
    settings: JobSettings,
}

/// Everything the registry knows: the one place to snapshot.
#[derive(Debug, Default)]
struct State {
    jobs: HashMap<JobId, Job>,
    work: HashMap<JobId, Work>,
    /// The Running job of each user, per kind (D9).
    running: HashMap<UserId, [Option<JobId>; 3]>,
    /// Running jobs by the time they are due to change, earliest first.
    due: BinaryHeap<Reverse<(Timestamp, JobId)>>,
}

impl JobRegistry {
    /// An empty registry.
    pub fn new(settings: JobSettings, clock: Clock, ids: Arc<Ids>) -> Self {
        let state = Mutex::new(State::default());
        Self {
            inner: Arc::new(Inner {
                state,
                clock,
                ids,
                settings,
            }),
        }
    }

    /// The clock this registry reads.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    fn lock(&self) -> (MutexGuard<'_, State>, Timestamp) {
        let mut state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.inner.clock.now();
        state.settle(now, &self.inner.ids);
        (state, now)
    }

    /// Starts an export job of `selection` for `owner` (ExportAsset).
    pub fn export(&self, owner: &UserId, scope: Scope, selection: AssetSelection) -> Result<JobId, JobError> {
        self.create(owner, scope, JobKind::Export, Work::Export(selection))
    }

    fn create(&self, owner: &UserId, scope: Scope, kind: JobKind, work: Work) -> Result<JobId, JobError> {
        let (mut state, now) = self.lock();
        let slots = state.running.entry(owner.clone()).or_default();
        if let Some(running) = slots[kind.index()] {
            return Err(JobError::Running(kind, running));
        }
        let id = self.inner.ids.jobs.next_id();
        slots[kind.index()] = Some(id);
        let job = Job {
            id,
            kind,
            owner: owner.clone(),
            scope,
            begin: now,
            duration: Some(self.inner.settings.duration),
            end: None,
            state: JobState::Running,
            reasons: Vec::new(),
            archive: None,
            downloaded: false,
            fail_at: None,
        };
        if let Some(due) = job.due() {
            state.due.push(Reverse((due, id)));
        }
        state.jobs.insert(id, job);
        state.work.insert(id, work);
        // A zero-duration job is done by the time anyone can ask.
        state.settle(now, &self.inner.ids);
        Ok(id)
    }

    /// The job `id` as its owner sees it under `scope` (CheckAssetJobStatus). Another user's job, or
    /// a job of another project or instance, is not found.
    pub fn job(&self, owner: &str, scope: &Scope, id: &str) -> Result<JobView, JobError> {
        let (state, now) = self.lock();
        let job = id
            .parse::<JobId>()
            .ok()
            .and_then(|id| state.jobs.get(&id))
            .filter(|job| &*job.owner == owner && job.scope == *scope)
            .ok_or_else(|| JobError::NotFound(format!("job {id} does not exist")))?;
        Ok(view(job, now))
    }

    /// Every job, for inspection (the control plane), oldest first.
    pub fn jobs(&self) -> Vec<JobView> {
        let (state, now) = self.lock();
        let mut all: Vec<JobView> = state.jobs.values().map(|j| view(j, now)).collect();
        all.sort_by_key(|j| (j.begin, j.id));
        all
    }
}

fn view(job: &Job, now: Timestamp) -> JobView {
    JobView {
        id: job.id,
        kind: job.kind,
        status: job.public_status(),
        progress: job.progress(now),
        begin: job.begin,
        end: job.end,
        archive_id: if job.downloaded { None } else { job.archive },
        reasons: job.reasons.clone(),
        owner: job.owner.clone(),
        scope: job.scope.clone(),
    }
}

impl State {
    /// Applies every job change due at or before `now`, in due order.
    fn settle(&mut self, now: Timestamp, ids: &Ids) {
        while let Some(&Reverse((due, id))) = self.due.peek() {
            if due > now {
                break;
            }
            self.due.pop();
            self.finish(id, due, ids);
        }
    }

    /// Ends job `id` at `at`: fails it if it is set to fail, else does its work.
    fn finish(&mut self, id: JobId, at: Timestamp, ids: &Ids) {
        let Some(job) = self.jobs.get_mut(&id) else { return };
        if job.state != JobState::Running {
            return;
        }
        job.end = Some(at);
        if let Some((_, reasons)) = job.fail_at.take() {
            job.state = JobState::Failed;
            job.reasons = reasons;
        } else {
            match self.work.remove(&id) {
                Some(Work::Export(_selection)) => {
                    job.archive = Some(ids.archives.next_id());
                    job.state = JobState::Succeeded;
                }
                None => job.state = JobState::Succeeded,
            }
        }
        self.work.remove(&id);
        if let Some(slots) = self.running.get_mut(&job.owner) {
            if slots[job.kind.index()] == Some(id) {
                slots[job.kind.index()] = None;
            }
            if slots.iter().all(Option::is_none) {
                self.running.remove(&job.owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(duration_ms: u64) -> JobRegistry {
        let settings = JobSettings {
            duration: Duration::from_millis(duration_ms),
        };
        JobRegistry::new(settings, Clock::new_virtual(), Arc::new(Ids::seeded(1)))
    }

    fn sel() -> AssetSelection {
        AssetSelection::from_json(br#"{"apps": [{"id": "a1"}]}"#).expect("selection")
    }

    fn scope(p: &str) -> Scope {
        Scope::new(p, "inst").expect("scope")
    }

    #[test]
    fn one_running_export_per_user_until_the_duration_passes() {
        let reg = registry(2000);
        let alice: UserId = "alice".into();
        let first = reg.export(&alice, scope("p"), sel()).expect("first export");
        let err = reg
            .export(&alice, scope("other-project"), sel())
            .expect_err("second export");
        assert_eq!(err, JobError::Running(JobKind::Export, first));

        reg.clock().advance(Duration::from_millis(1999));
        assert_eq!(
            reg.job("alice", &scope("p"), first.as_str()).expect("job").status,
            PublicStatus::Running
        );
        assert!(
            reg.export(&alice, scope("p"), sel()).is_err(),
            "still running at 1999 ms"
        );

        reg.clock().advance(Duration::from_millis(1));
        let done = reg.job("alice", &scope("p"), first.as_str()).expect("job");
        assert_eq!(done.status, PublicStatus::Success);
        assert_eq!(done.progress, 1.0);
        assert!(done.archive_id.is_some());
        assert_eq!(
            done.end.map(|e| e.since(done.begin)),
            Some(Duration::from_millis(2000))
        );
        assert!(
            reg.export(&alice, scope("p"), sel()).is_ok(),
            "free again once done"
        );
    }

    #[test]
    fn users_are_independent() {
        let reg = registry(60_000);
        assert!(reg.export(&"alice".into(), scope("p"), sel()).is_ok());
        assert!(reg.export(&"bob".into(), scope("p"), sel()).is_ok());
        assert!(reg.export(&"alice".into(), scope("p"), sel()).is_err());
    }

    #[test]
    fn a_job_is_visible_only_to_its_owner_in_its_scope() {
        let reg = registry(10);
        let id = reg.export(&"alice".into(), scope("p"), sel()).expect("export");
        assert!(reg.job("alice", &scope("p"), id.as_str()).is_ok());
        assert!(matches!(
            reg.job("bob", &scope("p"), id.as_str()),
            Err(JobError::NotFound(_))
        ));
        assert!(matches!(
            reg.job("alice", &scope("q"), id.as_str()),
            Err(JobError::NotFound(_))
        ));
        assert!(matches!(
            reg.job("alice", &scope("p"), "nope"),
            Err(JobError::NotFound(_))
        ));
    }

    #[test]
    fn concurrent_exports_of_one_user_yield_exactly_one_job() {
        let reg = registry(60_000);
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let reg = reg.clone();
                std::thread::spawn(move || reg.export(&"alice".into(), scope("p"), sel()).is_ok())
            })
            .collect();
        let accepted = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .filter(|accepted| *accepted)
            .count();
        assert_eq!(accepted, 1, "exactly one export is accepted");
        assert_eq!(reg.jobs().len(), 1);
    }
}
