//! The registry's state, the one place everything lives (so it can be snapshotted), and its
//! transitions: ending jobs, expiring them, evicting at the caps.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use super::catalog::Catalog;
use super::forgotten::{Forgotten, Gone, GoneWhy};
use super::job::{ArchiveId, Job, JobId, JobState, MAX_REASONS, Reason, Tenant};
use super::queue::TimeQueue;
use super::settings::JobSettings;
use super::snapshot::{Archive, PendingEffect, RegistrySnapshot};
use super::table::{IdMap, JobTable};
use crate::clock::Timestamp;
use crate::ids::Ids;
use crate::scope::{Scope, UserId};

/// How many entries the registry's structures hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Jobs kept.
    pub jobs: usize,
    /// Jobs with work still to do.
    pub work: usize,
    /// Users with a Running job.
    pub running_users: usize,
    /// Entries of the due queue.
    pub due: usize,
    /// Entries of the expiry queue.
    pub expiry: usize,
    /// Archives held.
    pub archives: usize,
    /// Entries of the archive order.
    pub archive_order: usize,
    /// Bytes of the archives held.
    pub archive_bytes: u64,
    /// The jobs by kind and public status.
    pub by_status: super::table::StatusCounts,
    /// Instances whose catalog holds assets.
    pub catalog_instances: usize,
}

#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// The jobs, with the archives they hold.
    pub jobs: JobTable,
    pub work: IdMap<PendingEffect>,
    /// The Running job of each user, per kind (D9). Keyed by user names, which an open-mode client
    /// picks (its token or access key): SipHash, keyed per process, against collision floods.
    pub running: HashMap<UserId, [Option<JobId>; 3]>,
    /// Running jobs by the time they are due to end, earliest first.
    pub due: BinaryHeap<Reverse<(Timestamp, JobId)>>,
    /// Ended jobs by the time they expire, earliest first (also the eviction order).
    pub expiry: TimeQueue,
    /// Archives in creation order (may hold ids already gone).
    pub archive_order: VecDeque<ArchiveId>,
    pub archive_bytes: u64,
    pub catalog: Catalog,
    /// The `seq` of the last job created.
    pub last_seq: u64,
    /// Jobs and archives recently gone, and why (diagnostics only).
    pub forgotten: Forgotten,
    /// The tenant of the last job created: the next job of the same tenant shares it instead of
    /// keeping a copy of its own (see [`Ledger::tenant`]).
    last: Option<Arc<Tenant>>,
}

impl Ledger {
    pub fn new(catalog: Catalog) -> Self {
        Self {
            catalog,
            ..Self::default()
        }
    }

    /// `owner` and `scope` as a new job keeps them: the last job's when they are equal (a
    /// tenant's jobs then share one, not a copy each).
    pub fn tenant(&mut self, owner: &UserId, scope: Scope) -> Arc<Tenant> {
        match &self.last {
            Some(last) if *last.owner == **owner && last.scope == scope => last.clone(),
            _ => {
                let tenant = Arc::new(Tenant {
                    owner: owner.clone(),
                    scope,
                });
                self.last = Some(tenant.clone());
                tenant
            }
        }
    }

    /// Applies every job change due at or before `now`, in time order.
    pub fn settle(&mut self, now: Timestamp, ids: &Ids, settings: &JobSettings) {
        loop {
            let due = self.due.peek().map(|r| r.0.0).filter(|t| *t <= now);
            let expiry = self.expiry.peek_time().filter(|t| *t <= now);
            match (due, expiry) {
                (Some(d), Some(e)) if e < d => self.expire_next(),
                (Some(_), _) => {
                    if let Some(Reverse((at, id))) = self.due.pop() {
                        self.finish(id, at, None, ids, settings);
                    }
                }
                (None, Some(_)) => self.expire_next(),
                (None, None) => break,
            }
        }
    }

    /// Ends job `id` at `at`: with `forced` reasons it fails; otherwise it fails if it was set to,
    /// else does its work against the catalog.
    pub fn finish(
        &mut self,
        id: JobId,
        at: Timestamp,
        forced: Option<Vec<Reason>>,
        ids: &Ids,
        settings: &JobSettings,
    ) {
        let work = self.work.remove(&id);
        self.finish_with(id, work, at, forced, ids, settings);
    }

    /// [`Ledger::finish`] with the job's pending `work` in hand (a job that ends as it is created
    /// never puts it in `work`).
    pub fn finish_with(
        &mut self,
        id: JobId,
        work: Option<PendingEffect>,
        at: Timestamp,
        forced: Option<Vec<Reason>>,
        ids: &Ids,
        settings: &JobSettings,
    ) {
        // One lookup: the job stays borrowed from `jobs` while the catalog (another field) works.
        let Some(mut job) = self
            .jobs
            .get_mut(&id)
            .filter(|job| job.state == JobState::Running)
        else {
            return;
        };
        let tenant = job.tenant.clone();
        let planned_failure = job.fail_at.as_deref().cloned();
        // Where the job stops: a planned failure at its point, a forced one where it is, else the end.
        let end_progress = match (&forced, &planned_failure) {
            (Some(_), _) => job.progress(at),
            (None, Some((at_progress, _))) => *at_progress,
            (None, None) => 1.0,
        };
        let planned_failure = planned_failure.map(|(_, reasons)| reasons);
        let scope = &tenant.scope;
        let outcome = match (forced.or(planned_failure), work) {
            (Some(reasons), _) => Err(reasons),
            (None, Some(PendingEffect::Export(selection))) => {
                self.catalog.resolve(scope, &selection).map(Some)
            }
            (None, Some(PendingEffect::Import(assets, mode))) => {
                self.catalog.import(scope, &assets, mode).map(|()| None)
            }
            (None, Some(PendingEffect::Delete(selection))) => {
                self.catalog.delete(scope, &selection).map(|()| None)
            }
            (None, None) => Ok(None),
        };
        job.end = Some(at);
        job.end_progress = Some(end_progress);
        let kind = job.kind;
        let mut new_archive = None;
        match outcome {
            Ok(exported) => {
                job.state = JobState::Succeeded;
                if let Some(assets) = exported {
                    let archive_id = ids.archives.next_id();
                    job.archive = Some(archive_id);
                    new_archive = Some((archive_id, assets));
                }
            }
            Err(mut reasons) => {
                reasons.truncate(MAX_REASONS);
                job.state = JobState::Failed;
                job.reasons = reasons;
            }
        }
        // The change of the job ends here: its count moves to its new status.
        drop(job);
        if let Some((archive_id, assets)) = new_archive {
            let bytes = assets.iter().map(|(_, a)| a.json_len()).sum();
            let archive = Archive {
                job: id,
                assets: assets.into_boxed_slice(),
                bytes,
            };
            self.add_archive(archive_id, archive, settings.max_archive_bytes);
        }
        if let Some(slots) = self.running.get_mut(&tenant.owner) {
            if slots[kind.index()] == Some(id) {
                slots[kind.index()] = None;
            }
            if slots.iter().all(Option::is_none) {
                self.running.remove(&tenant.owner);
            }
        }
        self.expiry.push((at.plus(settings.retention), id));
    }

    fn add_archive(&mut self, id: ArchiveId, archive: Archive, max_bytes: u64) {
        let bytes = archive.bytes;
        if !self.jobs.add_archive(id, archive) {
            return;
        }
        self.archive_bytes += bytes;
        self.archive_order.push_back(id);
        // Over the cap, the oldest unclaimed archives go; the newest is always kept.
        while self.archive_bytes > max_bytes && self.archive_order.len() > 1 {
            if let Some(old) = self.archive_order.pop_front()
                && let Some(gone) = self.drop_archive(old)
                && let Some(job) = self.jobs.get(&gone.job)
            {
                let tenant = job.tenant.clone();
                self.forgotten.note(
                    old,
                    Gone {
                        tenant,
                        why: GoneWhy::Evicted,
                        at: None,
                        archive: true,
                    },
                );
            }
        }
    }

    /// Removes an archive (downloaded, expired or evicted); returns it.
    pub fn drop_archive(&mut self, id: ArchiveId) -> Option<Archive> {
        let archive = self.jobs.take_archive(&id)?;
        self.forget_archive(id, archive.bytes);
        Some(archive)
    }

    /// Accounts for archive `id` (of `bytes`) gone from the table.
    fn forget_archive(&mut self, id: ArchiveId, bytes: u64) {
        self.archive_bytes -= bytes;
        // Archives mostly go in the order they came (jobs expire and are evicted in the order they
        // ended): then the oldest entry is this one. Otherwise keep the order list from filling
        // with ids already gone (amortised O(1), but a lookup per entry).
        if self.archive_order.front() == Some(&id) {
            self.archive_order.pop_front();
        } else if self.archive_order.len() > 2 * self.jobs.archive_count() + 16 {
            let jobs = &self.jobs;
            self.archive_order.retain(|a| jobs.contains_archive(a));
        }
    }

    /// Expires the ended job that expires first (and its unclaimed archive).
    fn expire_next(&mut self) {
        if let Some((at, id)) = self.expiry.pop() {
            self.take_job(id, Some((GoneWhy::Expired, Some(at))));
        }
    }

    /// Drops the ended job that ended first, to make room; false if every job is still running.
    pub fn evict_oldest_ended(&mut self) -> bool {
        while let Some((_, id)) = self.expiry.pop() {
            if self.take_job(id, Some((GoneWhy::Evicted, None))) {
                return true;
            }
        }
        false
    }

    /// Removes every job `matches` selects (with its archive, work and Running slot).
    pub fn remove_jobs_where(&mut self, matches: impl Fn(&Job) -> bool) {
        let doomed: Vec<JobId> = self.jobs.values().filter(|j| matches(j)).map(|j| j.id).collect();
        for id in doomed {
            if let Some(job) = self.jobs.get(&id)
                && let Some(slots) = self.running.get_mut(job.owner())
            {
                let slot = &mut slots[job.kind.index()];
                if *slot == Some(id) {
                    *slot = None;
                }
            }
            self.remove_job(id);
        }
        self.running.retain(|_, slots| slots.iter().any(Option::is_some));
        // The heaps would otherwise keep the removed jobs until they fall due.
        let jobs = &self.jobs;
        self.due.retain(|Reverse((_, id))| jobs.contains_key(id));
        self.expiry.retain(|id| jobs.contains_key(id));
        self.archive_order.retain(|a| jobs.contains_archive(a));
    }

    /// Rebuilds everything derived from the jobs and archives (Running slots, due and expiry
    /// queues, archive order and bytes), after a panic left the state half-updated.
    pub fn repair(&mut self, settings: &JobSettings) {
        self.running.clear();
        self.due.clear();
        self.expiry.clear();
        let mut jobs: Vec<&Job> = self.jobs.values().collect();
        jobs.sort_by_key(|j| j.seq);
        for job in jobs {
            match (job.state, job.due(), job.end) {
                (JobState::Running, due, _) => {
                    self.running.entry(job.owner().clone()).or_default()[job.kind.index()] = Some(job.id);
                    if let Some(due) = due {
                        self.due.push(Reverse((due, job.id)));
                    }
                }
                (_, _, end) => {
                    let at = end.unwrap_or(job.begin).plus(settings.retention);
                    self.expiry.push((at, job.id));
                }
            }
        }
        let jobs = &self.jobs;
        self.archive_order.retain(|a| jobs.contains_archive(a));
        self.archive_bytes = self.jobs.archive_bytes();
    }

    /// The state as data.
    pub fn snapshot(&self) -> RegistrySnapshot {
        let mut jobs: Vec<Job> = self.jobs.values().cloned().collect();
        jobs.sort_by_key(|j| j.seq);
        // In job order, so the same state always gives the same snapshot.
        let work = jobs
            .iter()
            .filter_map(|j| self.work.get(&j.id).map(|w| (j.id, w.clone())))
            .collect();
        RegistrySnapshot {
            last_seq: self.last_seq,
            jobs,
            work,
            archives: self
                .archive_order
                .iter()
                .filter_map(|id| self.jobs.archive(id).map(|a| (*id, a)))
                .collect(),
            catalog: self.catalog.snapshot(),
        }
    }

    /// A state from `snapshot`, checked by [`super::validate::check`] first, its catalog bounded
    /// as `base` is (the configuration's). The indexes are rebuilt from the jobs, archive sizes are
    /// counted again from the packages, and counts over the caps are trimmed by the live rules
    /// (the oldest ended jobs and the oldest unclaimed archives go first).
    pub fn restore(
        snapshot: RegistrySnapshot,
        base: &Catalog,
        settings: &JobSettings,
    ) -> Result<Self, String> {
        super::validate::check(&snapshot, base)?;
        let mut state = Ledger::new(base.restored(snapshot.catalog)?);
        state.last_seq = snapshot.last_seq;
        for job in snapshot.jobs {
            state.jobs.insert(job);
        }
        state.work.extend(snapshot.work);
        state.repair(settings);
        for (id, mut archive) in snapshot.archives {
            archive.bytes = archive.assets.iter().map(|(_, a)| a.json_len()).sum();
            state.add_archive(id, archive, settings.max_archive_bytes);
        }
        while state.jobs.len() > settings.max_jobs && state.evict_oldest_ended() {}
        if state.jobs.len() > settings.max_jobs {
            return Err(format!(
                "registry.jobs: {} Running jobs, more than jobs.max_jobs ({}) allows",
                state.jobs.len(),
                settings.max_jobs
            ));
        }
        Ok(state)
    }

    /// How many entries each structure holds (every one is bounded: see the README's limits).
    pub fn footprint(&self) -> Footprint {
        Footprint {
            jobs: self.jobs.len(),
            work: self.work.len(),
            running_users: self.running.len(),
            due: self.due.len(),
            expiry: self.expiry.len(),
            archives: self.jobs.archive_count(),
            archive_order: self.archive_order.len(),
            archive_bytes: self.archive_bytes,
            by_status: self.jobs.counts(),
            catalog_instances: self.catalog.instance_count(),
        }
    }

    /// Removes job `id` with its archive and work; false if there is no such job.
    pub fn remove_job(&mut self, id: JobId) -> bool {
        self.take_job(id, None)
    }

    /// [`Ledger::remove_job`], remembering in `forgotten` why the job (and its unclaimed archive)
    /// went when `why` says: one lookup, from the job as it is removed (the hot path of every
    /// export at the `max_jobs` cap, which evicts one job a request).
    fn take_job(&mut self, id: JobId, why: Option<(GoneWhy, Option<Timestamp>)>) -> bool {
        let Some((job, archive)) = self.jobs.remove(&id) else {
            return false;
        };
        let archive = job.archive.zip(archive);
        if let Some((why, at)) = why {
            let gone = Gone {
                tenant: job.tenant,
                why,
                at,
                archive: false,
            };
            if let Some((archive_id, _)) = &archive {
                let unclaimed = Gone {
                    archive: true,
                    ..gone.clone()
                };
                self.forgotten.note(*archive_id, unclaimed);
            }
            self.forgotten.note(id, gone);
        }
        if let Some((archive_id, archive)) = archive {
            self.forget_archive(archive_id, archive.bytes);
        }
        if !self.work.is_empty() {
            self.work.remove(&id);
        }
        true
    }
}
