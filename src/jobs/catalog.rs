//! The asset catalog: the applications and tasks of each instance of each project (D18). Exports
//! read it, imports and deletes change it. Pure data: no time, no HTTP. Bounded: at most
//! `max_instances` namespaces hold assets, each at most `max_assets_per_instance` assets weighing
//! `max_bytes_per_instance`.

use std::collections::HashMap;
use std::sync::Arc;

use super::asset::Asset;
use super::import_options::ImportMode;
use super::job::{Reason, ResourceType};
use super::selection::AssetSelection;
use crate::scope::Scope;

/// An asset with its kind, as exported or imported.
pub use super::asset::TypedAsset;
pub use data::{CatalogSnapshot, InstanceSnapshot, LegacyCatalog, ScopedAssets};
pub use instance::InstanceAssets;

pub use apps::{AppChange, AppFilter, NewApp, Page, TaskFilter, key_of};

pub mod apps;
mod data;
mod instance;

/// How big the catalog may grow (`[catalog]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogLimits {
    /// Namespaces holding assets at once.
    pub max_instances: usize,
    /// Assets in one namespace.
    pub max_assets_per_instance: usize,
    /// What one namespace's assets weigh together.
    pub max_bytes_per_instance: u64,
}

impl Default for CatalogLimits {
    /// The defaults of `[catalog]`.
    fn default() -> Self {
        Self {
            max_instances: 64,
            max_assets_per_instance: 10_000,
            max_bytes_per_instance: 2 * 1024 * 1024,
        }
    }
}

/// An instance the catalog starts with (`[[instances]]`), and its assets.
#[derive(Debug, Clone, Default)]
pub struct InstanceSeed {
    /// The instance id.
    pub id: String,
    /// The one project it belongs to; `None`: it exists, seeded alike, under every project.
    pub project: Option<String>,
    /// Its applications.
    pub apps: Vec<Asset>,
    /// Its tasks.
    pub tasks: Vec<Asset>,
}

/// A configured instance: where it exists, and what it starts with.
#[derive(Debug, Clone, Default, PartialEq)]
struct Seed {
    project: Option<Arc<str>>,
    assets: InstanceAssets,
}

/// Every namespace's assets, keyed by (project, instance) (D18): the same instance id under
/// another project is another instance. A configured instance starts with its seed's assets under
/// each project it belongs to, copied on its first change. Under `strict`, only configured
/// instances exist (under their project, if they name one) and missing assets fail jobs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    strict: bool,
    limits: CatalogLimits,
    /// Keyed by configured instance ids (the config's author picks them): SipHash is cheap enough.
    seeds: Arc<HashMap<Arc<str>, Seed>>,
    /// Namespaces that hold assets or were changed; any other reads as its seed (or empty). Keyed
    /// by the path's project and instance, which clients pick: SipHash, against collision floods.
    namespaces: HashMap<Scope, InstanceAssets>,
    /// The placeholders made so far, by id (a placeholder is the same whatever its kind), so that
    /// every export of the same missing asset shares one: a held archive then costs a pointer per
    /// asset. At most [`MAX_PLACEHOLDERS`]; past that each export makes its own. Client-chosen
    /// keys: SipHash.
    placeholders: HashMap<Box<str>, Arc<Asset>>,
    /// Namespaces used since the start (jobs, applications), for the instance list: at most
    /// `max_instances`, not saved in snapshots.
    used: std::collections::BTreeSet<Scope>,
}

/// The most placeholders shared between exports (see `Catalog::placeholders`).
pub const MAX_PLACEHOLDERS: usize = 4096;

impl Catalog {
    /// A catalog that starts with `instances` (the configured ones).
    pub fn new(strict: bool, limits: CatalogLimits, instances: &[InstanceSeed]) -> Self {
        let seeds = instances
            .iter()
            .map(|inst| {
                let shared = |list: &[Asset]| list.iter().cloned().map(Arc::new).collect();
                let seed = Seed {
                    project: inst.project.as_deref().map(Into::into),
                    assets: InstanceAssets::from_lists(shared(&inst.apps), shared(&inst.tasks)),
                };
                (inst.id.as_str().into(), seed)
            })
            .collect();
        Self {
            strict,
            limits,
            seeds: Arc::new(seeds),
            namespaces: HashMap::new(),
            placeholders: HashMap::new(),
            used: std::collections::BTreeSet::new(),
        }
    }

    fn seed(&self, scope: &Scope) -> Option<&InstanceAssets> {
        self.seeds
            .get(scope.instance.as_str())
            .filter(|seed| {
                seed.project
                    .as_deref()
                    .is_none_or(|p| p == scope.project.as_str())
            })
            .map(|seed| &seed.assets)
    }

    /// The namespaces that hold assets or were changed, as data.
    pub fn snapshot(&self) -> CatalogSnapshot {
        let mut list: Vec<ScopedAssets> = self
            .namespaces
            .iter()
            .map(|(scope, a)| ScopedAssets {
                scope: scope.clone(),
                apps: a.apps.values().cloned().collect(),
                tasks: a.tasks.values().cloned().collect(),
            })
            .collect();
        list.sort_by(|a, b| a.scope.cmp(&b.scope));
        list
    }

    /// This catalog's rules (strict, limits, configured instances) with the assets of `snapshot`,
    /// which must respect the limits.
    pub fn restored(&self, snapshot: CatalogSnapshot) -> Result<Self, String> {
        let mut catalog = Self {
            namespaces: HashMap::new(),
            ..self.clone()
        };
        for entry in snapshot {
            let scope = entry.scope;
            if !catalog.has_instance(&scope) {
                return Err(format!(
                    "catalog: instance {} of project {} is not configured (catalog.strict = true)",
                    scope.instance, scope.project
                ));
            }
            let assets = InstanceAssets::from_lists(entry.apps, entry.tasks);
            if assets.len() > self.limits.max_assets_per_instance
                || assets.bytes > self.limits.max_bytes_per_instance
            {
                return Err(format!(
                    "catalog: instance {} of project {} is over the catalog limits",
                    scope.instance, scope.project
                ));
            }
            if catalog.namespaces.insert(scope.clone(), assets).is_some() {
                return Err(format!(
                    "catalog: instance {} of project {} is listed twice",
                    scope.instance, scope.project
                ));
            }
        }
        if catalog.instance_count() > self.limits.max_instances {
            return Err(format!(
                "catalog: more than catalog.max_instances ({}) instances",
                self.limits.max_instances
            ));
        }
        Ok(catalog)
    }

    /// Whether operations on `scope` are allowed: always, unless strict; then only on configured
    /// instances, under their own project if they name one.
    pub fn has_instance(&self, scope: &Scope) -> bool {
        !self.strict || self.seed(scope).is_some()
    }

    /// The assets of `scope` (`None` if it has none).
    pub fn instance(&self, scope: &Scope) -> Option<&InstanceAssets> {
        Some(self.assets(scope)).filter(|a| !a.is_empty())
    }

    /// How many namespaces hold assets.
    pub fn instance_count(&self) -> usize {
        self.namespaces.values().filter(|a| !a.is_empty()).count()
    }

    /// Puts every namespace matching `project` and `instance` (`None`: any) back to its seed.
    pub fn reset(&mut self, project: Option<&str>, instance: Option<&str>) {
        let outside = |scope: &Scope| {
            !(project.is_none_or(|p| p == scope.project.as_str())
                && instance.is_none_or(|i| i == scope.instance.as_str()))
        };
        self.namespaces.retain(|scope, _| outside(scope));
        self.used.retain(|scope| outside(scope));
    }

    fn assets(&self, scope: &Scope) -> &InstanceAssets {
        static EMPTY: std::sync::LazyLock<InstanceAssets> = std::sync::LazyLock::new(InstanceAssets::default);
        self.namespaces
            .get(scope)
            .or_else(|| self.seed(scope))
            .unwrap_or(&EMPTY)
    }

    /// The assets of `scope` to change, copied from its seed on the first change.
    fn assets_mut(&mut self, scope: &Scope) -> &mut InstanceAssets {
        if !self.namespaces.contains_key(scope) {
            let start = self.seed(scope).cloned().unwrap_or_default();
            self.namespaces.insert(scope.clone(), start);
        }
        self.namespaces.get_mut(scope).expect("inserted above")
    }

    /// Forgets `scope` when it is empty and its seed would give it nothing either.
    fn forget_if_empty(&mut self, scope: &Scope) {
        let seeded = self.seed(scope).is_some_and(|s| !s.is_empty());
        if !seeded && self.namespaces.get(scope).is_some_and(InstanceAssets::is_empty) {
            self.namespaces.remove(scope);
        }
    }

    /// The assets an export of `selection` from `instance` packs, or the reasons it fails.
    /// Strict: every asset must exist. Lax: what the catalog lacks exports as a placeholder.
    pub fn resolve(
        &mut self,
        scope: &Scope,
        selection: &AssetSelection,
    ) -> Result<Vec<TypedAsset>, Vec<Reason>> {
        let assets = self.assets(scope);
        let apps = selection.apps.iter().map(|app| {
            (
                ResourceType::Application,
                app.as_str(),
                assets.find_app(app).cloned(),
            )
        });
        let tasks = selection
            .tasks
            .iter()
            .map(|task| (ResourceType::Task, task.as_str(), assets.tasks.get(task).cloned()));
        let looked_up: Vec<_> = apps.chain(tasks).collect();
        if self.strict {
            let reasons: Vec<Reason> = looked_up
                .iter()
                .filter(|(_, _, found)| found.is_none())
                .map(|(kind, id, _)| missing(*kind, id))
                .collect();
            if !reasons.is_empty() {
                return Err(reasons);
            }
        }
        Ok(looked_up
            .into_iter()
            .map(|(kind, id, found)| (kind, found.unwrap_or_else(|| self.placeholder(id))))
            .collect())
    }

    /// The placeholder of `id`, shared while there is room (see `placeholders`).
    fn placeholder(&mut self, id: &str) -> Arc<Asset> {
        if let Some(shared) = self.placeholders.get(id) {
            return shared.clone();
        }
        let made = Arc::new(Asset::placeholder(id, id));
        if self.placeholders.len() < MAX_PLACEHOLDERS {
            self.placeholders.insert(id.into(), made.clone());
        }
        made
    }

    /// Removes the selected assets from `scope`. Strict: any missing asset fails the whole
    /// delete. Never adds an instance.
    pub fn delete(&mut self, scope: &Scope, selection: &AssetSelection) -> Result<(), Vec<Reason>> {
        let assets = self.assets(scope);
        let app_ids: Vec<Option<String>> = selection
            .apps
            .iter()
            .map(|r| assets.find_app(r).map(|a| a.id.clone()))
            .collect();
        if self.strict {
            let mut reasons: Vec<Reason> = selection
                .apps
                .iter()
                .zip(&app_ids)
                .filter(|(_, id)| id.is_none())
                .map(|(r, _)| missing(ResourceType::Application, r.as_str()))
                .collect();
            let missing_tasks = selection.tasks.iter().filter(|t| !assets.tasks.contains_key(*t));
            reasons.extend(missing_tasks.map(|t| missing(ResourceType::Task, t)));
            if !reasons.is_empty() {
                return Err(reasons);
            }
        }
        if assets.is_empty() {
            return Ok(());
        }
        let assets = self.assets_mut(scope);
        for id in app_ids.into_iter().flatten() {
            assets.remove(ResourceType::Application, &id);
        }
        for task in &selection.tasks {
            assets.remove(ResourceType::Task, task);
        }
        self.forget_if_empty(scope);
        Ok(())
    }

    /// Adds a package's assets (already renamed, see [`super::ImportOptions::apply_prefix`]) to
    /// `scope`. AddNew refuses assets that exist; any import that would pass a limit of
    /// `[catalog]` fails whole, with one reason. Only shared pointers are copied here.
    pub fn import(
        &mut self,
        scope: &Scope,
        package: &[TypedAsset],
        mode: ImportMode,
    ) -> Result<(), Vec<Reason>> {
        let assets = self.assets(scope);
        if mode == ImportMode::AddNew {
            let reasons: Vec<Reason> = package
                .iter()
                .filter(|(kind, a)| assets.map(*kind).contains_key(&a.id))
                .map(|(kind, a)| {
                    Reason::new(
                        *kind,
                        &a.name,
                        "ROMA.10010",
                        "the asset already exists: delete it (DeleteAsset) and import again, or add ?type=Merge to the URL (no SDK sends it, D10)",
                    )
                })
                .collect();
            if !reasons.is_empty() {
                return Err(reasons);
            }
        }
        // The instance as it would be, counted without copying it (the package has unique ids).
        let (mut count, mut bytes) = (assets.len(), assets.bytes);
        for (kind, asset) in package {
            match assets.map(*kind).get(&asset.id) {
                Some(old) => bytes = bytes - old.weight() + asset.weight(),
                None => (count, bytes) = (count + 1, bytes + asset.weight()),
            }
        }
        let limits = self.limits;
        let new_instance = assets.is_empty();
        let over = if new_instance && self.instance_count() >= limits.max_instances {
            Some(format!(
                "catalog.max_instances ({}) reached",
                limits.max_instances
            ))
        } else if count > limits.max_assets_per_instance {
            Some(format!(
                "over catalog.max_assets_per_instance ({})",
                limits.max_assets_per_instance
            ))
        } else if bytes > limits.max_bytes_per_instance {
            Some(format!(
                "over catalog.max_bytes_per_instance ({})",
                limits.max_bytes_per_instance
            ))
        } else {
            None
        };
        if let Some(what) = over {
            let (kind, first) = package
                .first()
                .map_or((ResourceType::Application, "-"), |(k, a)| (*k, a.name.as_str()));
            return Err(vec![Reason::new(kind, first, "ROMA.10010", &what)]);
        }
        if package.is_empty() {
            return Ok(());
        }
        let assets = self.assets_mut(scope);
        for (kind, asset) in package {
            assets.insert(*kind, asset.clone());
        }
        Ok(())
    }
}

fn missing(kind: ResourceType, name: &str) -> Reason {
    let what = match kind {
        ResourceType::Application => "the application does not exist in this instance",
        ResourceType::Task => "the task does not exist in this instance",
    };
    Reason::new(kind, name, "ROMA.00110006", what)
}

#[cfg(test)]
mod tests;
