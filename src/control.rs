//! The control plane for test authors, as typed methods: reset, inspection, waiting, manual
//! progression, the clock, the journal and faults. The `/_emulator` HTTP endpoints and
//! [`crate::Server::control`] both call these; nothing here knows about HTTP.

use std::time::Duration;

use crate::app::App;
use crate::clock::Timestamp;
use crate::error::{ApiError, ErrorCode};
use crate::faults::{Fault, FaultSpec};
use crate::jobs::{JobFilter, JobView, PublicStatus, Reason};
use crate::journal::Shared;

/// The control plane of one emulator.
#[derive(Debug, Clone)]
pub struct Control {
    app: App,
}

/// What a wait waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// Any end (Success, Failed or Finished).
    Ended,
    /// This status; `Success` is also met by `Finished` (a Success whose archive was downloaded).
    Status(PublicStatus),
}

impl Control {
    /// The control plane over `app`.
    pub fn new(app: App) -> Self {
        Self { app }
    }

    /// Clears all jobs, archives, the journal, faults and the users added at run time; the catalog
    /// goes back to the configuration.
    pub fn reset(&self) {
        self.app.auth.clear_lockouts();
        self.app.auth.replace_runtime_users(&[]);
        self.app.jobs.reset();
        self.app.journal.clear();
        self.app.faults.clear();
    }

    /// Resets one namespace (a project, an instance, or both): its jobs and archives, its journal
    /// entries and the faults narrowed to it; with an instance, that instance's catalog.
    pub fn reset_namespace(&self, project: Option<&str>, instance: Option<&str>) {
        self.app.jobs.reset_scope(project, instance);
        self.app.journal.clear_scope(project, instance);
        self.app.faults.clear_scope(project, instance);
    }

    /// The jobs `filter` selects, oldest first.
    pub fn jobs(&self, filter: &JobFilter) -> Vec<JobView> {
        self.app.jobs.query(filter)
    }

    /// One page of the jobs `filter` selects, oldest first (see [`crate::jobs::JobRegistry::page`]).
    pub fn jobs_page(&self, filter: &JobFilter, after: Option<u64>, limit: usize) -> crate::jobs::JobPage {
        self.app.jobs.page(filter, after, limit)
    }

    /// Any user's job.
    pub fn job(&self, id: &str) -> Result<JobView, ApiError> {
        Ok(self.app.jobs.find(id)?)
    }

    /// Waits (without holding any lock) until job `id` meets `what`, for at most `timeout`.
    pub async fn wait(&self, id: &str, what: WaitFor, timeout: Duration) -> Result<JobView, ApiError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut shutdown = self.app.shutdown.subscribe();
        loop {
            let changed = self.app.jobs.changed();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let job = self.app.jobs.find(id)?;
            let met = match what {
                WaitFor::Ended => job.status != PublicStatus::Running,
                WaitFor::Status(PublicStatus::Success) => {
                    matches!(job.status, PublicStatus::Success | PublicStatus::Finished)
                }
                WaitFor::Status(s) => job.status == s,
            };
            if met {
                return Ok(job);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                let details = format!(
                    "job {id} is {} after {} ms",
                    job.status.seed_spelling(),
                    timeout.as_millis()
                );
                return Err(ApiError::new(ErrorCode::WaitTimeout, details));
            }
            let mut nap = deadline - now;
            // Under the real clock a timed job changes by itself at its due time: look again then.
            if let (false, Some(due)) = (self.app.clock.is_virtual(), job.due) {
                nap = nap.min(due.since(self.app.clock.now()) + Duration::from_millis(1));
            }
            tokio::select! {
                () = &mut changed => {}
                () = tokio::time::sleep(nap) => {}
                () = crate::app::stopped(&mut shutdown) => {
                    return Err(ApiError::new(
                        ErrorCode::Unavailable,
                        format!("the emulator is shutting down; job {id} is {}", job.status.seed_spelling()),
                    ));
                }
            }
        }
    }

    /// Ends a Running job successfully, doing its work (manual progression, or any Running job).
    pub fn complete(&self, id: &str) -> Result<JobView, ApiError> {
        Ok(self.app.jobs.end(id, None)?)
    }

    /// Fails a Running job with `reasons`.
    pub fn fail(&self, id: &str, reasons: Vec<Reason>) -> Result<JobView, ApiError> {
        Ok(self.app.jobs.end(id, Some(reasons))?)
    }

    /// The emulator's time.
    pub fn now(&self) -> Timestamp {
        self.app.clock.now()
    }

    /// Whether the clock is virtual.
    pub fn clock_is_virtual(&self) -> bool {
        self.app.clock.is_virtual()
    }

    /// Moves the virtual clock forward, applying every job change that falls due, in order.
    pub fn advance(&self, by: Duration) -> Result<Timestamp, ApiError> {
        if !self.app.clock.is_virtual() {
            return Err(real_clock());
        }
        if self.app.clock.now().checked_plus(by).is_none() {
            return Err(past_the_end());
        }
        self.app.clock.advance(by).ok_or_else(real_clock)?;
        Ok(self.app.jobs.settle())
    }

    /// Sets the virtual clock, applying every job change that falls due, in order.
    pub fn set_time(&self, to: Timestamp) -> Result<Timestamp, ApiError> {
        if to > Timestamp::MAX {
            return Err(past_the_end());
        }
        self.app.clock.set(to).ok_or_else(real_clock)?;
        Ok(self.app.jobs.settle())
    }

    /// The newest `limit` journal entries, newest first.
    pub fn requests(&self, limit: usize) -> Vec<Shared> {
        self.app.journal.newest(limit)
    }

    /// One page of the journal entries `filter` selects, newest first, and how many it selects.
    pub fn requests_page(
        &self,
        filter: &crate::journal::EntryFilter,
        offset: usize,
        limit: usize,
    ) -> (Vec<Shared>, usize) {
        self.app.journal.page(filter, offset, limit)
    }

    /// Verifies `expectation` against the journal (see [`crate::journal::verify`]).
    pub fn verify(
        &self,
        expectation: &crate::journal::verify::Expectation,
    ) -> crate::journal::verify::Verdict {
        crate::journal::verify::verify(&self.app.journal, expectation)
    }

    /// The newest `limit` requests no route answered, of a namespace when given, newest first.
    pub fn unmatched(&self, project: Option<&str>, instance: Option<&str>, limit: usize) -> Vec<Shared> {
        self.app
            .journal
            .select(limit, |e| e.hint.is_some() && e.in_scope(project, instance))
    }

    /// The built-in expectations of a namespace (see [`crate::journal::report`]).
    pub fn report(
        &self,
        project: &str,
        instance: Option<&str>,
        max_polls_after_end: usize,
    ) -> crate::journal::report::Findings {
        let mut findings =
            crate::journal::report::findings(&self.app.journal, project, instance, max_polls_after_end);
        findings.exports_never_downloaded = self
            .app
            .jobs
            .expired_archives(project, instance)
            .into_iter()
            .map(|(archive_id, at)| crate::journal::report::Unclaimed {
                archive_id,
                expired_at: at.map(crate::clock::Timestamp::rfc3339_millis),
            })
            .collect();
        findings
    }

    /// The repro bundle of the namespace `project` (and `instance`): see [`crate::persist::bundle`].
    pub fn bundle(&self, project: &str, instance: Option<&str>) -> crate::persist::Snapshot {
        crate::persist::Snapshot::bundle(&self.app.parts(), &self.app.config, project, instance)
    }

    /// Empties the journal.
    pub fn clear_requests(&self) {
        self.app.journal.clear();
    }

    /// Adds a fault.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<Fault, ApiError> {
        self.app
            .faults
            .add(self.app.ids.draws.next_id(), spec)
            .map_err(ApiError::invalid)
    }

    /// Every fault, oldest first.
    pub fn faults(&self) -> Vec<Fault> {
        self.app.faults.list()
    }

    /// Removes one fault.
    pub fn remove_fault(&self, id: &str) -> Result<(), ApiError> {
        if self.app.faults.remove(id) {
            Ok(())
        } else {
            Err(ApiError::not_found(id, format!("fault {id} does not exist")))
        }
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.app.faults.clear();
    }

    /// Adds a user at run time (D19); the user as listed.
    pub fn add_user(&self, spec: crate::auth::UserSpec) -> Result<crate::auth::UserView, ApiError> {
        Ok(self.app.auth.add_user(spec)?)
    }

    /// Removes a user added at run time; its jobs stay.
    pub fn remove_user(&self, name: &str) -> Result<(), ApiError> {
        Ok(self.app.auth.remove_user(name)?)
    }

    /// Every user, without secrets.
    pub fn users(&self) -> Vec<crate::auth::UserView> {
        self.app.auth.users()
    }

    /// The access keys locked now (D15), with when each lock ends.
    pub fn lockouts(&self) -> Vec<(String, Timestamp)> {
        self.app.auth.lockouts()
    }

    /// Lifts one access key's lock, leaving every other key, job and archive as it is.
    pub fn lift_lockout(&self, access_key: &str) -> Result<(), ApiError> {
        if self.app.auth.lift_lockout(access_key) {
            Ok(())
        } else {
            Err(ApiError::not_found(
                access_key,
                format!("access key {access_key} is not locked"),
            ))
        }
    }
}

fn past_the_end() -> ApiError {
    ApiError::invalid("advance_ms, set: the clock cannot pass 9999-12-31T23:59:59.999Z")
}

fn real_clock() -> ApiError {
    ApiError::new(
        ErrorCode::Conflict,
        "the clock is real; set [clock] mode = \"virtual\" to move it",
    )
}
