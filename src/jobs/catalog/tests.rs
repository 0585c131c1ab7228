//! Tests of `catalog`.

use super::*;
use crate::jobs::asset::Content;
use crate::jobs::import_options::ImportOptions;
use crate::scope::Scope;

fn catalog(strict: bool) -> Catalog {
    let app = Asset::new("a1", "orders", &serde_json::json!({"v": 1}));
    let task = Asset::new("t1", "", &serde_json::Value::Null);
    let inst = InstanceSeed {
        id: "A".into(),
        project: None,
        apps: vec![app],
        tasks: vec![task],
    };
    Catalog::new(strict, CatalogLimits::default(), &[inst])
}

fn ns(instance: &str) -> Scope {
    Scope::new("p", instance).expect("scope")
}

fn sel(body: &str) -> AssetSelection {
    AssetSelection::from_json(body.as_bytes()).expect("selection")
}

#[test]
fn resolve_finds_by_id_and_name_and_makes_placeholders_unless_strict() {
    let mut lax = catalog(false);
    let found = lax
        .resolve(
            &ns("A"),
            &sel(r#"{"apps": "orders", "tasks": [{"id": "t1"}, {"id": "zz"}]}"#),
        )
        .expect("ok");
    assert_eq!(found.len(), 3);
    assert_eq!(found[0].1.id, "a1");
    assert_eq!(found[1].1.name, "t1", "name defaults to the id");
    assert!(found[2].1.content.get().contains(r#""placeholder":true"#));
    assert!(lax.has_instance(&ns("anything")));

    let mut strict = catalog(true);
    let reasons = strict
        .resolve(
            &ns("A"),
            &sel(r#"{"apps": [{"id": "nope"}], "tasks": [{"id": "zz"}]}"#),
        )
        .expect_err("missing");
    assert_eq!(reasons.len(), 2);
    assert_eq!(reasons[0].resource_type, ResourceType::Application);
    assert_eq!(reasons[1].resource_name, "zz");
    assert!(!strict.has_instance(&ns("B")));
}

#[test]
fn import_adds_new_refuses_duplicates_merges_and_prefixes_names() {
    let mut c = catalog(false);
    let pkg = c
        .resolve(
            &ns("A"),
            &sel(r#"{"apps": [{"id": "a1"}], "tasks": [{"id": "t1"}]}"#),
        )
        .expect("ok");
    let opts = ImportOptions {
        prefix: "copy-".into(),
        ..Default::default()
    };
    c.import(&ns("B"), &opts.apply_prefix(pkg.clone()), ImportMode::AddNew)
        .expect("into empty B");
    let b = c.instance(&ns("B")).expect("B");
    assert_eq!(b.apps["a1"].name, "copy-orders");
    assert_eq!(b.tasks["t1"].name, "t1", "prefix applies to applications only");
    assert_eq!(
        c.import(&ns("B"), &pkg, ImportMode::AddNew)
            .expect_err("dup")
            .len(),
        2
    );
    c.import(&ns("B"), &pkg, ImportMode::Merge)
        .expect("merge replaces");
    let b = c.instance(&ns("B")).expect("B");
    assert_eq!(b.apps["a1"].name, "orders");
    assert_eq!(
        b.bytes,
        pkg.iter().map(|(_, a)| a.weight()).sum::<u64>(),
        "weights follow replacements"
    );
}

#[test]
fn the_catalog_stays_within_its_limits() {
    let limits = CatalogLimits {
        max_instances: 2,
        max_assets_per_instance: 3,
        max_bytes_per_instance: 200,
    };
    let mut c = Catalog::new(false, limits, &[]);
    let asset = |id: &str, size: usize| {
        let content = Content::from_json(format!("\"{}\"", "x".repeat(size))).expect("json");
        let a = Asset {
            id: id.into(),
            name: id.into(),
            content,
            info: None,
        };
        (ResourceType::Task, Arc::new(a))
    };
    c.import(&ns("i1"), &[asset("a", 10), asset("b", 10)], ImportMode::Merge)
        .expect("fits");
    let too_many = c.import(&ns("i1"), &[asset("c", 1), asset("d", 1)], ImportMode::Merge);
    assert!(
        too_many.expect_err("4 > 3")[0]
            .error_msg
            .contains("max_assets_per_instance")
    );
    let too_big = c.import(&ns("i1"), &[asset("c", 300)], ImportMode::Merge);
    assert!(
        too_big.expect_err("bytes")[0]
            .error_msg
            .contains("max_bytes_per_instance")
    );
    c.import(&ns("i2"), &[asset("a", 1)], ImportMode::Merge)
        .expect("second instance");
    let third = c.import(&ns("i3"), &[asset("a", 1)], ImportMode::Merge);
    assert!(
        third.expect_err("instances")[0]
            .error_msg
            .contains("max_instances")
    );
    // Deleting from unknown instances adds nothing; emptying one frees its place.
    for i in 0..100 {
        c.delete(&ns(&format!("new-{i}")), &sel(r#"{"apps": [{"id": "x"}]}"#))
            .expect("lax delete");
    }
    assert_eq!(c.instance_count(), 2);
    c.delete(&ns("i2"), &sel(r#"{"apps": [], "tasks": [{"id": "a"}]}"#))
        .expect("delete");
    assert_eq!(c.instance_count(), 1);
    c.import(&ns("i3"), &[asset("a", 1)], ImportMode::Merge)
        .expect("room again");
}

#[test]
fn delete_removes_and_strict_refuses_missing() {
    let mut c = catalog(true);
    let reasons = c
        .delete(
            &ns("A"),
            &sel(r#"{"apps": [{"id": "a1"}], "tasks": [{"id": "nope"}]}"#),
        )
        .expect_err("strict");
    assert_eq!(reasons.len(), 1);
    assert!(
        c.instance(&ns("A")).expect("A").apps.contains_key("a1"),
        "nothing changed"
    );
    c.delete(&ns("A"), &sel(r#"{"apps": "orders", "tasks": [{"id": "t1"}]}"#))
        .expect("delete");
    assert!(
        c.instance(&ns("A")).is_none(),
        "an emptied instance holds nothing"
    );
    assert!(
        c.has_instance(&ns("A")),
        "a configured instance still exists once emptied"
    );
}

#[test]
fn an_instance_belongs_to_its_project_catalog_included() {
    let in_project = |p: &str, i: &str| Scope::new(p, i).expect("scope");
    let mut lax = catalog(false);
    let pkg = lax
        .resolve(&ns("A"), &sel(r#"{"apps": [{"id": "a1"}]}"#))
        .expect("ok");
    lax.import(&in_project("p1", "shared"), &pkg, ImportMode::AddNew)
        .expect("into p1");
    lax.import(&in_project("p2", "shared"), &pkg, ImportMode::AddNew)
        .expect("the same instance id under another project is another instance");
    lax.delete(
        &in_project("p1", "A"),
        &sel(r#"{"apps": [{"id": "a1"}], "tasks": [{"id": "t1"}]}"#),
    )
    .expect("delete in p1");
    assert!(lax.instance(&in_project("p1", "A")).is_none(), "emptied in p1");
    assert!(
        lax.instance(&in_project("p2", "A"))
            .is_some_and(|a| a.apps.contains_key("a1")),
        "the seed is untouched under p2"
    );
    let restored = lax.restored(lax.snapshot()).expect("restores");
    assert!(
        restored.instance(&in_project("p1", "A")).is_none(),
        "an emptied seeded instance stays empty across a snapshot"
    );
    lax.reset(Some("p1"), None);
    assert!(
        lax.instance(&in_project("p1", "shared")).is_none(),
        "a project's reset clears its catalog"
    );
    assert!(
        lax.instance(&in_project("p1", "A")).is_some(),
        "and puts its seeds back"
    );
    assert!(
        lax.instance(&in_project("p2", "shared")).is_some(),
        "other projects keep theirs"
    );

    let bound = InstanceSeed {
        id: "B".into(),
        project: Some("p1".into()),
        ..InstanceSeed::default()
    };
    let strict = Catalog::new(true, CatalogLimits::default(), &[bound]);
    assert!(strict.has_instance(&in_project("p1", "B")));
    assert!(
        !strict.has_instance(&in_project("p2", "B")),
        "strict: B lives in p1 only"
    );
}

#[test]
fn a_version_1_catalog_goes_to_the_projects_its_jobs_name() {
    let mut legacy = LegacyCatalog::new();
    let asset = Arc::new(Asset::new("a1", "orders", &serde_json::Value::Null));
    for instance in ["used", "orphan"] {
        let assets = InstanceSnapshot {
            apps: vec![asset.clone()],
            tasks: vec![],
        };
        legacy.insert(instance.to_owned(), assets);
    }
    let projects = |instance: &str| match instance {
        "used" => vec![
            crate::scope::ProjectId::parse("p1").expect("id"),
            crate::scope::ProjectId::parse("p2").expect("id"),
        ],
        _ => vec![],
    };
    let (list, unplaced) = Catalog::migrate_legacy(legacy, &projects);
    let scopes: Vec<String> = list
        .iter()
        .map(|e| format!("{}/{}", e.scope.project, e.scope.instance))
        .collect();
    assert_eq!(scopes, ["p1/used", "p2/used"]);
    assert_eq!(unplaced, ["orphan"]);
}

#[test]
fn exports_of_the_same_missing_asset_share_one_placeholder_up_to_the_cap() {
    let mut lax = catalog(false);
    let body = sel(r#"{"apps": [{"id": "nope"}], "tasks": [{"id": "nope"}]}"#);
    let first = lax.resolve(&ns("A"), &body).expect("lax");
    let second = lax.resolve(&ns("B"), &body).expect("lax");
    assert!(
        Arc::ptr_eq(&first[0].1, &second[0].1),
        "one placeholder for every export of it"
    );
    assert!(Arc::ptr_eq(&first[0].1, &first[1].1), "whatever its kind");
    assert_eq!(
        (first[1].0, first[1].1.name.as_str()),
        (ResourceType::Task, "nope")
    );
    for i in 0..MAX_PLACEHOLDERS + 10 {
        lax.resolve(&ns("A"), &sel(&format!(r#"{{"apps": [{{"id": "p{i}"}}]}}"#)))
            .expect("lax");
    }
    assert_eq!(lax.placeholders.len(), MAX_PLACEHOLDERS, "bounded");
}
