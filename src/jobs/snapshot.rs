//! The registry's state as data: what a snapshot saves and restores (every index is rebuilt).

use super::archive::Package;
use super::asset::TypedAsset;
use super::catalog::CatalogSnapshot;
use super::import_options::ImportMode;
use super::job::{ArchiveId, Job, JobId};
use super::selection::AssetSelection;
use crate::scope::{Scope, UserId};

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

/// A package waiting for its one download.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Archive {
    /// The export job it belongs to.
    pub job: JobId,
    /// Its user.
    pub owner: UserId,
    /// Its project and instance.
    pub scope: Scope,
    /// What it packs.
    pub package: Package,
    /// Approximate size (the assets' JSON), counted against `[archives] max_bytes`.
    pub bytes: u64,
}
