//! The asset catalog: the applications and tasks of each instance. Exports read it, imports and
//! deletes change it. Pure data: no time, no HTTP. Bounded: at most `max_instances` instances
//! hold assets, each at most `max_assets_per_instance` assets weighing `max_bytes_per_instance`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::asset::Asset;
use super::import_options::ImportMode;
use super::job::{Reason, ResourceType};
use super::selection::{AppRef, AssetSelection};

/// An asset with its kind, as exported or imported.
pub use super::asset::TypedAsset;

/// The assets of one instance, by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceAssets {
    /// Applications.
    pub apps: BTreeMap<String, Arc<Asset>>,
    /// Tasks.
    pub tasks: BTreeMap<String, Arc<Asset>>,
    /// What the assets weigh together ([`Asset::weight`]).
    pub bytes: u64,
}

impl InstanceAssets {
    fn map(&self, kind: ResourceType) -> &BTreeMap<String, Arc<Asset>> {
        match kind {
            ResourceType::Application => &self.apps,
            ResourceType::Task => &self.tasks,
        }
    }

    fn insert(&mut self, kind: ResourceType, asset: Arc<Asset>) {
        self.bytes += asset.weight();
        let map = match kind {
            ResourceType::Application => &mut self.apps,
            ResourceType::Task => &mut self.tasks,
        };
        if let Some(old) = map.insert(asset.id.clone(), asset) {
            self.bytes -= old.weight();
        }
    }

    fn remove(&mut self, kind: ResourceType, id: &str) {
        let map = match kind {
            ResourceType::Application => &mut self.apps,
            ResourceType::Task => &mut self.tasks,
        };
        if let Some(old) = map.remove(id) {
            self.bytes -= old.weight();
        }
    }

    /// How many assets it holds.
    pub fn len(&self) -> usize {
        self.apps.len() + self.tasks.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn find_app(&self, r: &AppRef) -> Option<&Arc<Asset>> {
        match r {
            AppRef::Id(id) => self.apps.get(id),
            AppRef::Name(name) => self.apps.values().find(|a| &a.name == name),
        }
    }
}

/// The catalog as data: each instance's applications and tasks.
pub type CatalogSnapshot = BTreeMap<String, InstanceSnapshot>;

/// One instance's assets as data.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InstanceSnapshot {
    /// Applications.
    pub apps: Vec<Arc<Asset>>,
    /// Tasks.
    pub tasks: Vec<Arc<Asset>>,
}

/// How big the catalog may grow (`[catalog]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogLimits {
    /// Instances holding assets at once.
    pub max_instances: usize,
    /// Assets in one instance.
    pub max_assets_per_instance: usize,
    /// What one instance's assets weigh together.
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
    /// Its applications.
    pub apps: Vec<Asset>,
    /// Its tasks.
    pub tasks: Vec<Asset>,
}

/// Every instance's assets. Under `strict`, only configured instances exist and missing assets
/// fail jobs. An instance left with no assets is forgotten (unless configured, it never existed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    strict: bool,
    limits: CatalogLimits,
    configured: Arc<HashSet<Arc<str>>>,
    instances: HashMap<Arc<str>, InstanceAssets>,
}

impl Catalog {
    /// A catalog that starts with `instances` (the configured ones).
    pub fn new(strict: bool, limits: CatalogLimits, instances: &[InstanceSeed]) -> Self {
        let mut catalog = Self {
            strict,
            limits,
            configured: Arc::new(instances.iter().map(|i| i.id.as_str().into()).collect()),
            instances: HashMap::new(),
        };
        for inst in instances {
            let mut assets = InstanceAssets::default();
            let mut add = |kind, list: &[Asset]| {
                for a in list {
                    assets.insert(kind, Arc::new(a.clone()));
                }
            };
            add(ResourceType::Application, &inst.apps);
            add(ResourceType::Task, &inst.tasks);
            if !assets.is_empty() {
                catalog.instances.insert(inst.id.as_str().into(), assets);
            }
        }
        catalog
    }

    /// The assets of every instance, as data.
    pub fn snapshot(&self) -> CatalogSnapshot {
        self.instances
            .iter()
            .map(|(id, a)| {
                let snap = InstanceSnapshot {
                    apps: a.apps.values().cloned().collect(),
                    tasks: a.tasks.values().cloned().collect(),
                };
                (id.to_string(), snap)
            })
            .collect()
    }

    /// This catalog's rules (strict, limits, configured instances) with the assets of `snapshot`,
    /// which must respect the limits.
    pub fn restored(&self, snapshot: CatalogSnapshot) -> Result<Self, String> {
        let mut catalog = Self {
            instances: HashMap::new(),
            ..self.clone()
        };
        if snapshot.len() > self.limits.max_instances {
            return Err(format!(
                "catalog: more than catalog.max_instances ({}) instances",
                self.limits.max_instances
            ));
        }
        for (id, snap) in snapshot {
            let mut assets = InstanceAssets::default();
            for (kind, list) in [
                (ResourceType::Application, snap.apps),
                (ResourceType::Task, snap.tasks),
            ] {
                for asset in list {
                    assets.insert(kind, asset);
                }
            }
            if assets.len() > self.limits.max_assets_per_instance
                || assets.bytes > self.limits.max_bytes_per_instance
            {
                return Err(format!("catalog: instance {id} is over the catalog limits"));
            }
            if !assets.is_empty() {
                catalog.instances.insert(id.as_str().into(), assets);
            }
        }
        Ok(catalog)
    }

    /// Whether operations on `instance` are allowed (always, unless strict).
    pub fn has_instance(&self, instance: &str) -> bool {
        !self.strict || self.configured.contains(instance)
    }

    /// The assets of `instance` (`None` if it has none).
    pub fn instance(&self, instance: &str) -> Option<&InstanceAssets> {
        self.instances.get(instance)
    }

    /// How many instances hold assets.
    pub fn instance_count(&self) -> usize {
        self.instances.len()
    }

    /// Replaces one instance's assets by those the configuration gives (or none).
    pub fn reset_instance(&mut self, instance: &str, from: &Catalog) {
        match from.instances.get(instance) {
            Some(assets) => {
                self.instances.insert(instance.into(), assets.clone());
            }
            None => {
                self.instances.remove(instance);
            }
        }
    }

    /// The assets an export of `selection` from `instance` packs, or the reasons it fails.
    pub fn resolve(
        &self,
        instance: &str,
        selection: &AssetSelection,
    ) -> Result<Vec<TypedAsset>, Vec<Reason>> {
        let empty = InstanceAssets::default();
        let assets = self.instances.get(instance).unwrap_or(&empty);
        let mut found = Vec::with_capacity(selection.len());
        let mut reasons = Vec::new();
        for app in &selection.apps {
            match (assets.find_app(app), self.strict) {
                (Some(a), _) => found.push((ResourceType::Application, a.clone())),
                (None, false) => {
                    let asset = Asset::placeholder(app.as_str(), app.as_str());
                    found.push((ResourceType::Application, Arc::new(asset)));
                }
                (None, true) => reasons.push(missing(ResourceType::Application, app.as_str())),
            }
        }
        for task in &selection.tasks {
            match (assets.tasks.get(task), self.strict) {
                (Some(a), _) => found.push((ResourceType::Task, a.clone())),
                (None, false) => found.push((ResourceType::Task, Arc::new(Asset::placeholder(task, task)))),
                (None, true) => reasons.push(missing(ResourceType::Task, task)),
            }
        }
        if reasons.is_empty() {
            Ok(found)
        } else {
            Err(reasons)
        }
    }

    /// Removes the selected assets from `instance`. Strict: any missing asset fails the whole
    /// delete. Never adds an instance.
    pub fn delete(&mut self, instance: &str, selection: &AssetSelection) -> Result<(), Vec<Reason>> {
        let empty = InstanceAssets::default();
        let assets = self.instances.get(instance).unwrap_or(&empty);
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
        let Some(assets) = self.instances.get_mut(instance) else {
            return Ok(());
        };
        for id in app_ids.into_iter().flatten() {
            assets.remove(ResourceType::Application, &id);
        }
        for task in &selection.tasks {
            assets.remove(ResourceType::Task, task);
        }
        if assets.is_empty() {
            self.instances.remove(instance);
        }
        Ok(())
    }

    /// Adds a package's assets (already renamed, see [`super::ImportOptions::apply_prefix`]) to
    /// `instance`. AddNew refuses assets that exist; any import that would pass a limit of
    /// `[catalog]` fails whole, with one reason. Only shared pointers are copied here.
    pub fn import(
        &mut self,
        instance: &str,
        package: &[TypedAsset],
        mode: ImportMode,
    ) -> Result<(), Vec<Reason>> {
        let empty = InstanceAssets::default();
        let assets = self.instances.get(instance).unwrap_or(&empty);
        if mode == ImportMode::AddNew {
            let reasons: Vec<Reason> = package
                .iter()
                .filter(|(kind, a)| assets.map(*kind).contains_key(&a.id))
                .map(|(kind, a)| {
                    Reason::new(
                        *kind,
                        &a.name,
                        "ROMA.10010",
                        "the asset already exists (use type=Merge to replace it)",
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
        let new_instance = !self.instances.contains_key(instance);
        let over = if new_instance && self.instances.len() >= limits.max_instances {
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
        let assets = self.instances.entry(instance.into()).or_default();
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
