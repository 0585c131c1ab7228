//! Version-1 snapshots, generated: whatever their shape, reading one is refused or places each
//! legacy instance in the projects its jobs name, never more namespaces than the live cap.

use proptest::prelude::*;

use super::Snapshot;

/// A version-1 snapshot: `jobs[k] = (project, instance)`, and each legacy instance's app ids.
fn v1(jobs: &[(u8, u8)], instances: &[Vec<u8>]) -> String {
    let jobs: Vec<String> = jobs
        .iter()
        .enumerate()
        .map(|(k, (p, i))| {
            format!(
                r#"{{"id":"{:032x}","seq":{},"kind":"importAsset","owner":"token-x","scope":{{"project":"p{p}","instance":"i{i}"}},"begin":1795948216417,"duration":{{"secs":0,"nanos":0}},"end":1795948216417,"state":"Succeeded","reasons":[],"archive":null,"downloaded":false,"fail_at":null,"end_progress":1.0}}"#,
                k + 1,
                k + 1
            )
        })
        .collect();
    let catalog: Vec<String> = instances
        .iter()
        .enumerate()
        .map(|(i, apps)| {
            let apps: Vec<String> = apps
                .iter()
                .map(|a| format!(r#"{{"id":"a{a}","name":"a{a}","content":{{"n":{a}}}}}"#))
                .collect();
            format!(r#""i{i}":{{"apps":[{}],"tasks":[]}}"#, apps.join(","))
        })
        .collect();
    format!(
        r#"{{"format":"roma-emulator-state","version":1,"registry":{{"last_seq":{},"jobs":[{}],"work":[],"archives":[],"catalog":{{{}}}}}}}"#,
        jobs.len(),
        jobs.join(","),
        catalog.join(",")
    )
}

proptest! {
    #[test]
    fn a_v1_catalog_is_placed_where_its_jobs_are_and_never_past_the_cap(
        jobs in prop::collection::vec((0u8..40, 0u8..4), 0..80),
        instances in prop::collection::vec(prop::collection::vec(0u8..5, 0..3), 0..4),
        max_instances in 1usize..64,
    ) {
        let text = v1(&jobs, &instances);
        let placed: std::collections::BTreeSet<(u8, u8)> = jobs
            .iter()
            .copied()
            .filter(|(_, i)| usize::from(*i) < instances.len())
            .collect();
        match Snapshot::from_json(text.as_bytes(), max_instances) {
            Err(e) => {
                prop_assert!(placed.len() > max_instances, "refused within the cap: {e}");
                prop_assert!(e.contains("catalog.max_instances"), "{e}");
            }
            Ok(snapshot) => {
                prop_assert!(placed.len() <= max_instances);
                prop_assert_eq!(snapshot.version, super::VERSION);
                prop_assert_eq!(snapshot.registry.jobs.len(), jobs.len());
                let got: std::collections::BTreeSet<(String, String)> = snapshot
                    .registry
                    .catalog
                    .iter()
                    .map(|s| (s.scope.project.to_string(), s.scope.instance.to_string()))
                    .collect();
                let want: std::collections::BTreeSet<(String, String)> =
                    placed.iter().map(|(p, i)| (format!("p{p}"), format!("i{i}"))).collect();
                prop_assert_eq!(got, want);
                for scoped in &snapshot.registry.catalog {
                    let i: usize = scoped.scope.instance.to_string()[1..].parse().expect("i<n>");
                    let ids: Vec<String> = scoped.apps.iter().map(|a| a.id.clone()).collect();
                    let want: Vec<String> = instances[i].iter().map(|a| format!("a{a}")).collect();
                    prop_assert_eq!(ids, want);
                }
            }
        }
    }
}
