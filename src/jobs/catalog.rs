//! The asset catalog: the applications and tasks of each instance. Exports read it, imports and
//! deletes change it. Pure data: no time, no HTTP.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::job::{Reason, ResourceType};
use super::selection::{AppRef, AssetSelection};
use crate::config::{AssetConfig, InstanceConfig};

/// One application or task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Free-form content.
    pub content: serde_json::Value,
}

impl Asset {
    fn from_config(c: &AssetConfig) -> Self {
        let name = if c.name.is_empty() {
            c.id.clone()
        } else {
            c.name.clone()
        };
        let content = if c.content.is_null() {
            serde_json::json!({})
        } else {
            c.content.clone()
        };
        Self {
            id: c.id.clone(),
            name,
            content,
        }
    }

    /// A stand-in for an asset the catalog lacks (non-strict catalogs).
    pub fn placeholder(id: &str, name: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            content: serde_json::json!({"placeholder": true, "generated_by": "roma-emulator"}),
        }
    }
}

/// An asset with its kind, as exported or imported.
pub type TypedAsset = (ResourceType, Arc<Asset>);

/// The assets of one instance, by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceAssets {
    /// Applications.
    pub apps: BTreeMap<String, Arc<Asset>>,
    /// Tasks.
    pub tasks: BTreeMap<String, Arc<Asset>>,
}

impl InstanceAssets {
    fn map(&self, kind: ResourceType) -> &BTreeMap<String, Arc<Asset>> {
        match kind {
            ResourceType::Application => &self.apps,
            ResourceType::Task => &self.tasks,
        }
    }

    fn map_mut(&mut self, kind: ResourceType) -> &mut BTreeMap<String, Arc<Asset>> {
        match kind {
            ResourceType::Application => &mut self.apps,
            ResourceType::Task => &mut self.tasks,
        }
    }

    fn find_app(&self, r: &AppRef) -> Option<&Arc<Asset>> {
        match r {
            AppRef::Id(id) => self.apps.get(id),
            AppRef::Name(name) => self.apps.values().find(|a| &a.name == name),
        }
    }
}

/// How an import treats assets that already exist (D10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// New assets only: an asset whose id exists already fails the job (nothing is changed).
    #[default]
    AddNew,
    /// New assets are added and existing ones replaced.
    Merge,
}

/// The options of an import (D10).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// AddNew or Merge.
    pub mode: ImportMode,
    /// Prepended to each application's name.
    pub prefix: String,
    /// Accepted and recorded; the emulator keeps no data sources, so it changes nothing.
    pub datasource_overwrite: bool,
}

impl ImportOptions {
    /// Parses the query of ImportAsset: `type` or `mode`, `prefix`, `datasource_overwrite`.
    pub fn parse(
        kind: Option<&str>,
        mode: Option<&str>,
        prefix: Option<&str>,
        datasource_overwrite: Option<&str>,
    ) -> Result<Self, String> {
        let mode = match (kind, mode) {
            (Some(a), Some(b)) if a != b => return Err("type, mode: give one, or the same value".into()),
            (Some(v), _) | (None, Some(v)) => match v {
                "AddNew" => ImportMode::AddNew,
                "Merge" => ImportMode::Merge,
                _ => return Err(format!("type: expected AddNew or Merge, got {v:?}")),
            },
            (None, None) => ImportMode::AddNew,
        };
        let prefix = prefix.unwrap_or_default();
        if prefix.chars().count() > 64 || !prefix.chars().all(|c| c.is_alphanumeric() || "-_. ".contains(c)) {
            return Err("prefix: at most 64 letters, digits, spaces and - _ .".into());
        }
        let datasource_overwrite = match datasource_overwrite {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => return Err(format!("datasource_overwrite: expected true or false, got {v:?}")),
        };
        Ok(Self {
            mode,
            prefix: prefix.to_owned(),
            datasource_overwrite,
        })
    }
}

/// Every instance's assets. Under `strict`, only configured instances exist and missing assets fail jobs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    strict: bool,
    instances: HashMap<Arc<str>, InstanceAssets>,
}

impl Catalog {
    /// The catalog the configuration describes.
    pub fn from_config(strict: bool, instances: &[InstanceConfig]) -> Self {
        let instances = instances
            .iter()
            .map(|inst| {
                let collect = |assets: &[AssetConfig]| {
                    assets
                        .iter()
                        .map(|a| (a.id.clone(), Arc::new(Asset::from_config(a))))
                        .collect()
                };
                (
                    inst.id.as_str().into(),
                    InstanceAssets {
                        apps: collect(&inst.apps),
                        tasks: collect(&inst.tasks),
                    },
                )
            })
            .collect();
        Self { strict, instances }
    }

    /// Whether operations on `instance` are allowed (always, unless strict).
    pub fn has_instance(&self, instance: &str) -> bool {
        !self.strict || self.instances.contains_key(instance)
    }

    /// The assets of `instance` (empty if it has none).
    pub fn instance(&self, instance: &str) -> Option<&InstanceAssets> {
        self.instances.get(instance)
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

    /// Removes the selected assets from `instance`. Strict: any missing asset fails the whole delete.
    pub fn delete(&mut self, instance: &str, selection: &AssetSelection) -> Result<(), Vec<Reason>> {
        let assets = self.instances.entry(instance.into()).or_default();
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
        for id in app_ids.into_iter().flatten() {
            assets.apps.remove(&id);
        }
        for task in &selection.tasks {
            assets.tasks.remove(task);
        }
        Ok(())
    }

    /// Adds a package's assets to `instance` as `options` say.
    pub fn import(
        &mut self,
        instance: &str,
        package: &[TypedAsset],
        options: &ImportOptions,
    ) -> Result<(), Vec<Reason>> {
        let assets = self.instances.entry(instance.into()).or_default();
        if options.mode == ImportMode::AddNew {
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
        for (kind, asset) in package {
            let mut asset = Asset::clone(asset);
            if *kind == ResourceType::Application {
                asset.name = format!("{}{}", options.prefix, asset.name);
            }
            assets.map_mut(*kind).insert(asset.id.clone(), Arc::new(asset));
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
mod tests {
    use super::*;

    fn catalog(strict: bool) -> Catalog {
        let app = AssetConfig {
            id: "a1".into(),
            name: "orders".into(),
            content: serde_json::json!({"v": 1}),
        };
        let task = AssetConfig {
            id: "t1".into(),
            name: String::new(),
            content: serde_json::Value::Null,
        };
        let inst = InstanceConfig {
            id: "A".into(),
            apps: vec![app],
            tasks: vec![task],
        };
        Catalog::from_config(strict, &[inst])
    }

    fn sel(body: &str) -> AssetSelection {
        AssetSelection::from_json(body.as_bytes()).expect("selection")
    }

    #[test]
    fn resolve_finds_by_id_and_name_and_makes_placeholders_unless_strict() {
        let lax = catalog(false);
        let found = lax
            .resolve(
                "A",
                &sel(r#"{"apps": "orders", "tasks": [{"id": "t1"}, {"id": "zz"}]}"#),
            )
            .expect("ok");
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].1.id, "a1");
        assert_eq!(found[1].1.name, "t1", "name defaults to the id");
        assert_eq!(found[2].1.content["placeholder"], true);
        assert!(lax.has_instance("anything"));

        let strict = catalog(true);
        let reasons = strict
            .resolve(
                "A",
                &sel(r#"{"apps": [{"id": "nope"}], "tasks": [{"id": "zz"}]}"#),
            )
            .expect_err("missing");
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[0].resource_type, ResourceType::Application);
        assert_eq!(reasons[1].resource_name, "zz");
        assert!(!strict.has_instance("B"));
    }

    #[test]
    fn import_adds_new_refuses_duplicates_merges_and_prefixes_names() {
        let mut c = catalog(false);
        let pkg = c
            .resolve("A", &sel(r#"{"apps": [{"id": "a1"}], "tasks": [{"id": "t1"}]}"#))
            .expect("ok");
        let opts = ImportOptions {
            prefix: "copy-".into(),
            ..Default::default()
        };
        c.import("B", &pkg, &opts).expect("into empty B");
        let b = c.instance("B").expect("B");
        assert_eq!(b.apps["a1"].name, "copy-orders");
        assert_eq!(b.tasks["t1"].name, "t1", "prefix applies to applications only");
        assert_eq!(
            c.import("B", &pkg, &ImportOptions::default())
                .expect_err("dup")
                .len(),
            2
        );
        let merge = ImportOptions {
            mode: ImportMode::Merge,
            ..Default::default()
        };
        c.import("B", &pkg, &merge).expect("merge replaces");
        assert_eq!(c.instance("B").expect("B").apps["a1"].name, "orders");
    }

    #[test]
    fn delete_removes_and_strict_refuses_missing() {
        let mut c = catalog(true);
        let reasons = c
            .delete(
                "A",
                &sel(r#"{"apps": [{"id": "a1"}], "tasks": [{"id": "nope"}]}"#),
            )
            .expect_err("strict");
        assert_eq!(reasons.len(), 1);
        assert!(
            c.instance("A").expect("A").apps.contains_key("a1"),
            "nothing changed"
        );
        c.delete("A", &sel(r#"{"apps": "orders", "tasks": [{"id": "t1"}]}"#))
            .expect("delete");
        assert!(c.instance("A").expect("A").apps.is_empty() && c.instance("A").expect("A").tasks.is_empty());
    }

    #[test]
    fn import_options_parse_both_dialects() {
        assert_eq!(
            ImportOptions::parse(None, None, None, None),
            Ok(ImportOptions::default())
        );
        let m = ImportOptions::parse(Some("Merge"), None, Some("x-"), Some("true")).expect("cur");
        assert_eq!(
            (m.mode, m.prefix.as_str(), m.datasource_overwrite),
            (ImportMode::Merge, "x-", true)
        );
        assert_eq!(
            ImportOptions::parse(None, Some("Merge"), None, None).map(|o| o.mode),
            Ok(ImportMode::Merge)
        );
        for bad in [
            ImportOptions::parse(Some("Replace"), None, None, None),
            ImportOptions::parse(Some("Merge"), Some("AddNew"), None, None),
            ImportOptions::parse(None, None, Some("../x"), None),
            ImportOptions::parse(None, None, None, Some("yes")),
        ] {
            assert!(bad.is_err());
        }
    }
}
