//! Reading older snapshot versions: each step turns one version into the next, on the JSON, before
//! the snapshot is read.

/// Version 1 to 2:
/// - an archive kept its whole package; now it keeps the assets, and the manifest's `source`,
///   `exported_at` and `job_id` come from its job when it is downloaded;
/// - the catalog was keyed by instance alone, and each instance's assets were seen from every
///   project. They go to every project whose jobs or archives name that instance; an instance no
///   job names cannot be placed, and is dropped with a warning naming it.
pub(super) fn v1_to_v2(value: &mut serde_json::Value) -> Result<(), String> {
    use std::collections::{BTreeMap, BTreeSet};
    // Only objects are migrated: anything else is left for the reader to refuse by its path.
    let Some(registry) = value
        .get_mut("registry")
        .and_then(serde_json::Value::as_object_mut)
    else {
        return Ok(());
    };
    let archives = registry
        .get_mut("archives")
        .and_then(serde_json::Value::as_array_mut)
        .into_iter()
        .flatten();
    for archive in archives
        .filter_map(|pair| pair.get_mut(1))
        .filter_map(serde_json::Value::as_object_mut)
    {
        if let Some(mut package) = archive.remove("package") {
            archive.insert(
                "assets".into(),
                package
                    .get_mut("assets")
                    .map(serde_json::Value::take)
                    .unwrap_or_default(),
            );
        }
    }
    let legacy: crate::jobs::LegacyCatalog = match registry.get_mut("catalog") {
        Some(catalog) => serde_json::from_value(catalog.take())
            .map_err(|e| format!("the snapshot is damaged: registry.catalog: {e}"))?,
        None => BTreeMap::new(),
    };
    let mut projects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let scopes = registry
        .get("jobs")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .map(|job| job.get("scope"))
        .chain(
            registry
                .get("archives")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .map(|pair| pair.get(1).and_then(|a| a.get("scope"))),
        );
    for scope in scopes.flatten() {
        if let (Some(p), Some(i)) = (
            scope.get("project").and_then(serde_json::Value::as_str),
            scope.get("instance").and_then(serde_json::Value::as_str),
        ) {
            projects.entry(i.to_owned()).or_default().insert(p.to_owned());
        }
    }
    let owners = |instance: &str| {
        projects
            .get(instance)
            .into_iter()
            .flatten()
            .filter_map(|p| crate::scope::ProjectId::parse(p).ok())
            .collect()
    };
    let (catalog, unplaced) = crate::jobs::Catalog::migrate_legacy(legacy, &owners);
    if !unplaced.is_empty() {
        tracing::warn!(
            instances = %unplaced.join(", "),
            "a version-1 snapshot's catalog names instances no job or archive places in a project (D18); their assets are dropped"
        );
    }
    let catalog = serde_json::to_value(catalog).map_err(|e| format!("migrating the catalog: {e}"))?;
    registry.insert("catalog".into(), catalog);
    if let Some(snapshot) = value.as_object_mut() {
        snapshot.insert("version".into(), super::VERSION.into());
    }
    Ok(())
}
