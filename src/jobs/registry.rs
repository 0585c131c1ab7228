//! The registry handle: every operation on jobs, each one short section under the one lock.

use std::cmp::Reverse;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::{Clock, Timestamp};
use crate::ids::Ids;

mod archives;
mod catalog;

use super::archive;
use super::error::{archive_not_found, job_not_found};
use super::forgotten;
use super::ledger::Ledger;
use super::view::{JobPage, view};
use super::{
    AssetSelection, Catalog, FailPlan, Footprint, ImportOptions, Job, JobError, JobFilter, JobId, JobKind,
    JobSettings, JobState, JobView, PendingEffect, Progression, Reason, RegistrySnapshot, Scope, UserId,
};

/// The registry handle: cheap to clone, shared by all requests.
#[derive(Debug, Clone)]
pub struct JobRegistry {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<Ledger>,
    clock: Clock,
    ids: Arc<Ids>,
    settings: JobSettings,
    /// The catalog as configured, for resets.
    seed_catalog: Catalog,
    /// Woken on every change, for waiters.
    changed: tokio::sync::Notify,
}

impl JobRegistry {
    /// A registry whose instances start with `catalog`.
    pub fn new(settings: JobSettings, clock: Clock, ids: Arc<Ids>, catalog: Catalog) -> Self {
        let state = Mutex::new(Ledger::new(catalog.clone()));
        let changed = tokio::sync::Notify::new();
        Self {
            inner: Arc::new(Inner {
                state,
                clock,
                ids,
                settings,
                seed_catalog: catalog,
                changed,
            }),
        }
    }

    /// Resolves at the next change of any job (creation, end, download, reset, clock move).
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.inner.changed.notified()
    }

    fn notify(&self) {
        self.inner.changed.notify_waiters();
    }

    /// The clock this registry reads.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Locks the state and brings it up to the current time. Should a panic ever have left the
    /// state half-updated, what derives from the jobs is rebuilt first.
    fn lock(&self) -> (MutexGuard<'_, Ledger>, Timestamp) {
        let mut state = self.inner.state.lock().unwrap_or_else(|poisoned| {
            let mut state = poisoned.into_inner();
            tracing::error!("a panic interrupted a change of the job registry; rebuilding its indexes");
            state.repair(&self.inner.settings);
            self.inner.state.clear_poison();
            state
        });
        let now = self.inner.clock.now();
        state.settle(now, &self.inner.ids, &self.inner.settings);
        (state, now)
    }

    /// Starts an export job of `selection` (ExportAsset).
    pub fn export(
        &self,
        owner: &UserId,
        scope: Scope,
        selection: AssetSelection,
        plan: Option<FailPlan>,
    ) -> Result<JobId, JobError> {
        self.create(
            owner,
            scope,
            JobKind::Export,
            PendingEffect::Export(selection),
            plan,
        )
    }

    /// Starts a delete job of `selection` (DeleteAsset).
    pub fn delete(
        &self,
        owner: &UserId,
        scope: Scope,
        selection: AssetSelection,
        plan: Option<FailPlan>,
    ) -> Result<JobId, JobError> {
        self.create(
            owner,
            scope,
            JobKind::Delete,
            PendingEffect::Delete(selection),
            plan,
        )
    }

    /// Checks an uploaded package and starts an import job of it (ImportAsset).
    pub fn import(
        &self,
        owner: &UserId,
        scope: Scope,
        file_name: &str,
        bytes: &[u8],
        options: ImportOptions,
        plan: Option<FailPlan>,
    ) -> Result<JobId, JobError> {
        archive::check_file_name(file_name).map_err(JobError::BadPackageName)?;
        // Unpacking and renaming happen before the lock is taken: the lock never waits on them.
        let package = archive::parse(bytes)?;
        let assets = options.apply_prefix(package.assets);
        self.create(
            owner,
            scope,
            JobKind::Import,
            PendingEffect::Import(assets, options.mode),
            plan,
        )
    }

    fn create(
        &self,
        owner: &UserId,
        scope: Scope,
        kind: JobKind,
        work: PendingEffect,
        plan: Option<FailPlan>,
    ) -> Result<JobId, JobError> {
        let (mut state, now) = self.lock();
        state.catalog.instance_exists(&scope)?;
        state.catalog.touch(&scope);
        if let Some(running) = state.running.get(owner).and_then(|slots| slots[kind.index()]) {
            return Err(JobError::Running(kind, running));
        }
        if state.jobs.len() >= self.inner.settings.max_jobs && !state.evict_oldest_ended() {
            return Err(JobError::Capacity(format!(
                "{} jobs are running, the most jobs.max_jobs allows",
                state.jobs.len()
            )));
        }
        let id = self.inner.ids.jobs.next_id();
        let immediate = self.inner.settings.progression == Progression::Immediate;
        // A job that ends at once never holds the user's Running slot or a place in the due queue.
        if !immediate {
            state.running.entry(owner.clone()).or_default()[kind.index()] = Some(id);
        }
        state.last_seq += 1;
        let job = Job {
            id,
            seq: state.last_seq,
            kind,
            tenant: state.tenant(owner, scope),
            begin: now,
            duration: match self.inner.settings.progression {
                Progression::Timed => Some(self.inner.settings.duration),
                Progression::Immediate => Some(Duration::ZERO),
                Progression::Manual => None,
            },
            end: None,
            state: JobState::Running,
            reasons: Vec::new(),
            archive: None,
            downloaded: false,
            fail_at: plan.map(|p| Box::new((p.at_progress.clamp(0.0, 1.0), p.reasons))),
            end_progress: None,
        };
        let due = job.due().filter(|_| !immediate);
        if let Some(due) = due {
            state.due.push(Reverse((due, id)));
        }
        state.jobs.insert(job);
        // A zero-duration job is done by the time anyone can ask (its work never waits in `work`).
        if immediate {
            state.finish_with(id, Some(work), now, None, &self.inner.ids, &self.inner.settings);
        } else {
            state.work.insert(id, work);
            state.settle(now, &self.inner.ids, &self.inner.settings);
        }
        drop(state);
        self.notify();
        Ok(id)
    }

    /// The job `id` as its owner sees it under `scope` (CheckAssetJobStatus). Another user's job, or
    /// a job of another project or instance, is not found.
    pub fn job(&self, owner: &str, scope: &Scope, id: JobId) -> Result<JobView, JobError> {
        let (state, now) = self.lock();
        state.catalog.instance_exists(scope)?;
        let found = state.jobs.get(&id);
        match found.filter(|job| **job.owner() == *owner && job.scope() == scope) {
            Some(job) => Ok(view(job, now)),
            None => {
                let live = found.map(|job| &*job.tenant);
                let facts = self.explain("job", owner, scope, live, &state, &id);
                Err(job_not_found(&id.hex()).with_facts(facts))
            }
        }
    }

    /// Why `owner` under `scope` finds no `what` `id` (see [`forgotten::explain`]).
    fn explain(
        &self,
        what: &str,
        owner: &str,
        scope: &Scope,
        live: Option<&super::job::Tenant>,
        state: &Ledger,
        id: &crate::ids::Hex32,
    ) -> Vec<(&'static str, String)> {
        let retention = self.inner.settings.retention.as_secs();
        forgotten::explain(what, owner, scope, live, &state.forgotten, id, retention)
    }

    /// The whole state as data (taken under the lock; serialising it is the caller's, outside).
    pub fn snapshot(&self) -> RegistrySnapshot {
        self.lock().0.snapshot()
    }

    /// Replaces the whole state by `snapshot`, checked first: a bad one changes nothing.
    pub fn restore(&self, snapshot: RegistrySnapshot) -> Result<(), String> {
        let state = Ledger::restore(snapshot, &self.inner.seed_catalog, &self.inner.settings)?;
        *self.inner.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
        self.notify();
        Ok(())
    }

    /// How many entries each of the registry's structures holds.
    pub fn footprint(&self) -> Footprint {
        self.lock().0.footprint()
    }

    /// Every job, for inspection (the control plane), oldest first.
    pub fn jobs(&self) -> Vec<JobView> {
        self.query(&JobFilter::default())
    }

    /// The jobs `filter` selects, oldest first.
    pub fn query(&self, filter: &JobFilter) -> Vec<JobView> {
        let (state, now) = self.lock();
        let mut all: Vec<JobView> = state
            .jobs
            .values()
            .filter(|j| filter.matches(j))
            .map(|j| view(j, now))
            .collect();
        all.sort_by_key(|j| j.seq);
        all
    }

    /// The first `limit` jobs `filter` selects after cursor `after` (a `seq`), oldest first, and
    /// how many it selects in all. Memory is what the page holds: the jobs are walked once under
    /// the lock, keeping the `limit` oldest in a bounded heap, and only those become views.
    pub fn page(&self, filter: &JobFilter, after: Option<u64>, limit: usize) -> JobPage {
        use std::collections::BinaryHeap;
        let (state, now) = self.lock();
        let mut total = 0;
        let mut more = false;
        // The newest of the kept on top, so a older one replaces it.
        let mut kept: BinaryHeap<(u64, JobId)> = BinaryHeap::with_capacity(limit.min(1024) + 1);
        for job in state.jobs.values().filter(|j| filter.matches(j)) {
            total += 1;
            if after.is_some_and(|a| job.seq <= a) {
                continue;
            }
            kept.push((job.seq, job.id));
            if kept.len() > limit {
                kept.pop();
                more = true;
            }
        }
        let jobs: Vec<JobView> = kept
            .into_sorted_vec()
            .iter()
            .filter_map(|(_, id)| state.jobs.get(id))
            .map(|j| view(j, now))
            .collect();
        let next = if more { jobs.last().map(|j| j.seq) } else { None };
        JobPage { jobs, total, next }
    }

    /// Any user's job by id (the control plane).
    pub fn find(&self, id: &str) -> Result<JobView, JobError> {
        let (state, now) = self.lock();
        id.parse::<JobId>()
            .ok()
            .and_then(|id| state.jobs.get(&id))
            .map(|job| view(job, now))
            .ok_or_else(|| job_not_found(id))
    }

    /// Ends a Running job now: successfully (doing its work), or failed with `reasons`.
    pub fn end(&self, id: &str, failure: Option<Vec<Reason>>) -> Result<JobView, JobError> {
        let (mut state, now) = self.lock();
        let job_id = id.parse::<JobId>().map_err(|()| job_not_found(id))?;
        let job = state.jobs.get(&job_id).ok_or_else(|| job_not_found(id))?;
        if job.state != JobState::Running {
            return Err(JobError::NotRunning(job_id));
        }
        state.finish(job_id, now, failure, &self.inner.ids, &self.inner.settings);
        let view = state.jobs.get(&job_id).map(|j| view(j, now));
        drop(state);
        self.notify();
        view.ok_or_else(|| job_not_found(id))
    }

    /// Applies every job change due by now (after the clock moved); returns the time.
    pub fn settle(&self) -> Timestamp {
        let (state, now) = self.lock();
        drop(state);
        self.notify();
        now
    }

    /// Forgets every job and archive and puts the catalog back to the configuration.
    pub fn reset(&self) {
        let mut state = self.inner.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = Ledger::new(self.inner.seed_catalog.clone());
        drop(state);
        self.notify();
    }

    /// Forgets the jobs and archives of one namespace (a project, an instance, or both) and puts
    /// its catalog back to the configuration (D18).
    pub fn reset_scope(&self, project: Option<&str>, instance: Option<&str>) {
        let (mut state, _) = self.lock();
        state.remove_jobs_where(|job| {
            project.is_none_or(|p| *job.scope().project == *p)
                && instance.is_none_or(|i| *job.scope().instance == *i)
        });
        state.catalog.reset(project, instance);
        drop(state);
        self.notify();
    }
}

#[cfg(test)]
mod tests;
