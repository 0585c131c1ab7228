//! One namespace's assets: applications and tasks by id, and what they weigh.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::jobs::asset::Asset;
use crate::jobs::job::ResourceType;
use crate::jobs::selection::AppRef;

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
    /// The assets of these lists (a later asset replaces an earlier one of the same id).
    pub fn from_lists(apps: Vec<Arc<Asset>>, tasks: Vec<Arc<Asset>>) -> Self {
        let mut assets = Self::default();
        for (kind, list) in [(ResourceType::Application, apps), (ResourceType::Task, tasks)] {
            for asset in list {
                assets.insert(kind, asset);
            }
        }
        assets
    }

    pub(super) fn map(&self, kind: ResourceType) -> &BTreeMap<String, Arc<Asset>> {
        match kind {
            ResourceType::Application => &self.apps,
            ResourceType::Task => &self.tasks,
        }
    }

    pub(super) fn insert(&mut self, kind: ResourceType, asset: Arc<Asset>) {
        self.bytes += asset.weight();
        let map = match kind {
            ResourceType::Application => &mut self.apps,
            ResourceType::Task => &mut self.tasks,
        };
        if let Some(old) = map.insert(asset.id.clone(), asset) {
            self.bytes -= old.weight();
        }
    }

    pub(super) fn remove(&mut self, kind: ResourceType, id: &str) {
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

    pub(super) fn find_app(&self, r: &AppRef) -> Option<&Arc<Asset>> {
        match r {
            AppRef::Id(id) => self.apps.get(id),
            AppRef::Name(name) => self.apps.values().find(|a| &a.name == name),
        }
    }
}
