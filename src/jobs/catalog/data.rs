//! The catalog as data: what a snapshot saves, and the version-1 form it migrates from.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Catalog;
use crate::jobs::asset::Asset;
use crate::scope::Scope;

/// The catalog as data: the assets of each namespace that holds assets or was changed (a
/// configured instance emptied by deletes is kept, empty, so its seed does not come back).
pub type CatalogSnapshot = Vec<ScopedAssets>;

/// One namespace's assets as data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScopedAssets {
    /// The project and instance.
    #[serde(flatten)]
    pub scope: Scope,
    /// Applications.
    pub apps: Vec<Arc<Asset>>,
    /// Tasks.
    pub tasks: Vec<Arc<Asset>>,
}

/// The catalog of a version-1 snapshot: keyed by instance alone (before D18).
pub type LegacyCatalog = BTreeMap<String, InstanceSnapshot>;

/// One instance's assets in a version-1 snapshot.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstanceSnapshot {
    /// Applications.
    pub apps: Vec<Arc<Asset>>,
    /// Tasks.
    pub tasks: Vec<Arc<Asset>>,
}

impl Catalog {
    /// A version-1 catalog (keyed by instance alone) as this version's: each instance's assets go
    /// to every project that `projects` names for it (the projects of its jobs and archives), as
    /// they were visible there. Returns the instances no project names, which cannot be placed.
    pub fn migrate_legacy(
        legacy: LegacyCatalog,
        projects: &dyn Fn(&str) -> Vec<crate::scope::ProjectId>,
    ) -> (CatalogSnapshot, Vec<String>) {
        let mut out = Vec::new();
        let mut unplaced = Vec::new();
        for (instance, assets) in legacy {
            let Ok(instance_id) = crate::scope::InstanceId::parse(&instance) else {
                unplaced.push(instance);
                continue;
            };
            let owners = projects(&instance);
            if owners.is_empty() {
                unplaced.push(instance);
            }
            for project in owners {
                out.push(ScopedAssets {
                    scope: Scope {
                        project,
                        instance: instance_id.clone(),
                    },
                    apps: assets.apps.clone(),
                    tasks: assets.tasks.clone(),
                });
            }
        }
        (out, unplaced)
    }
}
