//! The registry's side of an archive's one download (DownloadAssetArchive), and what it remembers
//! of archives that went unclaimed (the report of `/_emulator/verify/report`).

use super::{JobRegistry, archive_not_found, forgotten};
use crate::clock::Timestamp;
use crate::jobs::archive;
use crate::jobs::error::JobError;
use crate::jobs::job::ArchiveId;
use crate::jobs::snapshot::Archive;
use crate::scope::Scope;

impl JobRegistry {
    /// Takes the archive `id` (DownloadAssetArchive): the first call gets the zip, every later one
    /// is not found, and the export job shows Finished. Another user's archive, or one of another
    /// project or instance, is not found.
    pub fn take_archive(
        &self,
        owner: &str,
        scope: &Scope,
        archive_id: ArchiveId,
        request: Option<crate::ids::Hex32>,
        keep: bool,
    ) -> Result<Vec<u8>, JobError> {
        let not_found = || archive_not_found(&archive_id.hex());
        let (archive, exported_at) = {
            let (mut state, now) = self.lock();
            state.catalog.instance_exists(scope)?;
            let holder = state.jobs.archive_job(&archive_id);
            if !holder.is_some_and(|job| **job.owner() == *owner && job.scope() == scope) {
                let live = holder.map(|job| &*job.tenant);
                let facts = self.explain("archive", owner, scope, live, &state, &archive_id);
                return Err(not_found().with_facts(facts));
            }
            if keep {
                // A fault cuts this download and keeps the archive: nothing changes.
                let archive = state.jobs.archive(&archive_id).ok_or_else(not_found)?;
                let ended = state.jobs.get(&archive.job).and_then(|job| job.end);
                drop(state);
                return build(scope, archive, ended.unwrap_or_else(|| self.inner.clock.now()));
            }
            let archive = state.drop_archive(archive_id).ok_or_else(not_found)?;
            // The manifest's time is the export's end (a restored archive's job always has one).
            let ended = state.jobs.get_mut(&archive.job).and_then(|mut job| {
                job.downloaded = true;
                job.end
            });
            if let Some(job) = state.jobs.get(&archive.job) {
                let gone = forgotten::Gone {
                    tenant: job.tenant.clone(),
                    why: forgotten::GoneWhy::Downloaded(request),
                    at: Some(now),
                    archive: true,
                };
                state.forgotten.note(archive_id, gone);
            }
            (archive, ended.unwrap_or_else(|| self.inner.clock.now()))
        };
        self.notify();
        // The zip is built outside the lock, once, for its one download.
        build(scope, archive, exported_at)
    }

    /// The archives of a namespace that expired unclaimed, as far as the registry remembers
    /// ([`forgotten::KEEP`] ids), oldest first, with when.
    pub fn expired_archives(
        &self,
        project: &str,
        instance: Option<&str>,
    ) -> Vec<(ArchiveId, Option<Timestamp>)> {
        let (state, _) = self.lock();
        state
            .forgotten
            .iter()
            .filter(|(_, gone)| {
                gone.archive
                    && gone.why == forgotten::GoneWhy::Expired
                    && *gone.tenant.scope.project == *project
                    && instance.is_none_or(|i| *gone.tenant.scope.instance == *i)
            })
            .map(|(id, gone)| (*id, gone.at))
            .collect()
    }
}

/// The zip of `archive`, exported from `scope` at `exported_at` (built outside the lock).
fn build(scope: &Scope, archive: Archive, exported_at: Timestamp) -> Result<Vec<u8>, JobError> {
    let package = archive::Package {
        source: archive::Source {
            project_id: scope.project.shared(),
            instance_id: scope.instance.shared(),
        },
        exported_at: exported_at.rfc3339_seconds(),
        job_id: archive.job.to_string(),
        assets: archive.assets.into_vec(),
    };
    archive::build(&package).map_err(|e| JobError::Internal(format!("building the archive: {e}")))
}
