//! The registry's state as data: what a snapshot saves and restores (every index is rebuilt).

use super::asset::TypedAsset;
use super::catalog::CatalogSnapshot;
use super::import_options::ImportMode;
use super::job::{ArchiveId, Job, JobId};
use super::selection::AssetSelection;

/// The registry's state as data: what a snapshot saves (every index is rebuilt on restore).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RegistrySnapshot {
    /// The `seq` of the last job created.
    pub last_seq: u64,
    /// Every job, oldest first.
    pub jobs: Vec<Job>,
    /// The work of the jobs still Running.
    pub work: Vec<(JobId, PendingEffect)>,
    /// The archives not yet downloaded, oldest first.
    pub archives: Vec<(ArchiveId, Archive)>,
    /// The catalog's instances with their assets.
    pub catalog: CatalogSnapshot,
}

impl RegistrySnapshot {
    /// Only what belongs to the namespace `project` (and `instance`): its jobs with their work and
    /// archives, and its catalog (a repro bundle).
    #[must_use]
    pub fn narrowed(mut self, project: &str, instance: Option<&str>) -> Self {
        let ours = |scope: &crate::scope::Scope| {
            *scope.project == *project && instance.is_none_or(|i| *scope.instance == *i)
        };
        self.jobs.retain(|job| ours(job.scope()));
        let kept: std::collections::HashSet<JobId> = self.jobs.iter().map(|j| j.id).collect();
        self.work.retain(|(id, _)| kept.contains(id));
        self.archives.retain(|(_, archive)| kept.contains(&archive.job));
        self.catalog.retain(|assets| ours(&assets.scope));
        self
    }
}

/// What a job does when it ends.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum PendingEffect {
    /// Export these assets.
    Export(AssetSelection),
    /// Import these assets (already renamed) this way.
    Import(Vec<TypedAsset>, ImportMode),
    /// Delete these assets.
    Delete(AssetSelection),
}

/// An export's assets waiting for their one download. The package's bytes are built when it is
/// downloaded; its `source`, `exported_at` and `job_id` come from the job, and so do its owner
/// and namespace (one copy: an archive cannot belong to anyone but its job's user).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Archive {
    /// The export job it belongs to.
    pub job: JobId,
    /// What it packs, in manifest order (shared with the catalog; a placeholder is made once).
    pub assets: Box<[TypedAsset]>,
    /// Approximate size (the assets' JSON), counted against `[archives] max_bytes`.
    pub bytes: u64,
}
