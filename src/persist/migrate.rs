//! Reading older snapshot versions: a version-1 snapshot is read into its own typed form (no JSON
//! tree of the document is built) and turned into this version's.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::jobs::asset::TypedAsset;
use crate::jobs::{Archive, ArchiveId, Job, JobId, LegacyCatalog, PendingEffect, RegistrySnapshot};

/// The registry of a version-1 snapshot.
#[derive(Debug, Deserialize)]
pub(super) struct V1Registry {
    last_seq: u64,
    jobs: Vec<Job>,
    work: Vec<(JobId, PendingEffect)>,
    archives: Vec<(ArchiveId, V1Archive)>,
    #[serde(default)]
    catalog: LegacyCatalog,
}

/// An archive of a version-1 snapshot: it kept its whole package (its owner and scope, also
/// there, are its job's).
#[derive(Debug, Deserialize)]
struct V1Archive {
    job: JobId,
    package: V1Package,
    bytes: u64,
}

/// What is kept of a version-1 package: the assets (`source`, `exported_at` and `job_id` now come
/// from its job when it is downloaded).
#[derive(Debug, Deserialize)]
struct V1Package {
    assets: Box<[TypedAsset]>,
}

/// Version 1 to 2:
/// - an archive kept its whole package; now it keeps the assets;
/// - the catalog was keyed by instance alone, and each instance's assets were seen from every
///   project. They go to every project whose jobs name that instance; an instance no job names
///   cannot be placed, and is dropped with a warning naming it.
///
/// The namespaces this places are counted before any is made: more than `max_instances` (the
/// live `[catalog] max_instances`) is refused, so the work is bounded by the live caps, not by
/// what the snapshot claims. The copies share their assets (no content is copied).
pub(super) fn v1_to_v2(registry: V1Registry, max_instances: usize) -> Result<RegistrySnapshot, String> {
    let mut projects: BTreeMap<&str, BTreeSet<&crate::scope::ProjectId>> = BTreeMap::new();
    for job in &registry.jobs {
        let scope = job.scope();
        projects
            .entry(scope.instance.as_str())
            .or_default()
            .insert(&scope.project);
    }
    let placed: usize = registry
        .catalog
        .keys()
        .map(|instance| projects.get(instance.as_str()).map_or(0, BTreeSet::len))
        .sum();
    if placed > max_instances {
        return Err(format!(
            "registry.catalog: the version-1 catalog would place {placed} namespaces (each instance in every project its jobs name), more than catalog.max_instances ({max_instances})"
        ));
    }
    let owners = |instance: &str| {
        projects
            .get(instance)
            .into_iter()
            .flatten()
            .map(|p| (*p).clone())
            .collect()
    };
    let (catalog, unplaced) = crate::jobs::Catalog::migrate_legacy(registry.catalog, &owners);
    if !unplaced.is_empty() {
        tracing::warn!(
            instances = %unplaced.join(", "),
            "a version-1 snapshot's catalog names instances no job or archive places in a project (D18); their assets are dropped"
        );
    }
    Ok(RegistrySnapshot {
        last_seq: registry.last_seq,
        jobs: registry.jobs,
        work: registry.work,
        archives: registry
            .archives
            .into_iter()
            .map(|(id, a)| {
                (
                    id,
                    Archive {
                        job: a.job,
                        assets: a.package.assets,
                        bytes: a.bytes,
                    },
                )
            })
            .collect(),
        catalog,
    })
}
