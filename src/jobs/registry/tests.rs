//! Tests of `registry`.

use super::*;
use crate::jobs::{CatalogLimits, InstanceSeed, PublicStatus};

fn registry(duration_ms: u64) -> JobRegistry {
    let settings = JobSettings {
        duration: Duration::from_millis(duration_ms),
        ..JobSettings::default()
    };
    registry_with(settings, Catalog::default())
}

fn registry_with(settings: JobSettings, catalog: Catalog) -> JobRegistry {
    JobRegistry::new(settings, Clock::new_virtual(), Arc::new(Ids::seeded(1)), catalog)
}

fn export_done(reg: &JobRegistry, user: &str, p: &str) -> JobView {
    let id = reg.export(&user.into(), scope(p), sel(), None).expect("export");
    reg.clock().advance(reg.inner.settings.duration);
    reg.job(user, &scope(p), id).expect("job")
}

fn sel() -> AssetSelection {
    AssetSelection::from_json(br#"{"apps": [{"id": "a1"}]}"#).expect("selection")
}

fn scope(p: &str) -> Scope {
    Scope::new(p, "inst").expect("scope")
}

#[test]
fn one_running_export_per_user_until_the_duration_passes() {
    let reg = registry(2000);
    let alice: UserId = "alice".into();
    let first = reg.export(&alice, scope("p"), sel(), None).expect("first export");
    let err = reg
        .export(&alice, scope("other-project"), sel(), None)
        .expect_err("second export");
    assert_eq!(err, JobError::Running(JobKind::Export, first));

    reg.clock().advance(Duration::from_millis(1999));
    assert_eq!(
        reg.job("alice", &scope("p"), first).expect("job").status,
        PublicStatus::Running
    );
    assert!(
        reg.export(&alice, scope("p"), sel(), None).is_err(),
        "still running at 1999 ms"
    );

    reg.clock().advance(Duration::from_millis(1));
    let done = reg.job("alice", &scope("p"), first).expect("job");
    assert_eq!(done.status, PublicStatus::Success);
    assert_eq!(done.progress, 1.0);
    assert!(done.archive_id.is_some());
    assert_eq!(
        done.end.map(|e| e.since(done.begin)),
        Some(Duration::from_millis(2000))
    );
    assert!(
        reg.export(&alice, scope("p"), sel(), None).is_ok(),
        "free again once done"
    );
}

#[test]
fn users_are_independent() {
    let reg = registry(60_000);
    assert!(reg.export(&"alice".into(), scope("p"), sel(), None).is_ok());
    assert!(reg.export(&"bob".into(), scope("p"), sel(), None).is_ok());
    assert!(reg.export(&"alice".into(), scope("p"), sel(), None).is_err());
}

#[test]
fn a_job_is_visible_only_to_its_owner_in_its_scope() {
    let reg = registry(10);
    let id = reg
        .export(&"alice".into(), scope("p"), sel(), None)
        .expect("export");
    assert!(reg.job("alice", &scope("p"), id).is_ok());
    assert!(matches!(
        reg.job("bob", &scope("p"), id),
        Err(JobError::NotFound { .. })
    ));
    assert!(matches!(
        reg.job("alice", &scope("q"), id),
        Err(JobError::NotFound { .. })
    ));
    assert!(matches!(
        reg.job("alice", &scope("p"), "0".repeat(32).parse().expect("an id")),
        Err(JobError::NotFound { .. })
    ));
}

#[test]
fn concurrent_exports_of_one_user_yield_exactly_one_job() {
    let reg = registry(60_000);
    let handles: Vec<_> = (0..64)
        .map(|_| {
            let reg = reg.clone();
            std::thread::spawn(move || reg.export(&"alice".into(), scope("p"), sel(), None).is_ok())
        })
        .collect();
    let accepted = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .filter(|accepted| *accepted)
        .count();
    assert_eq!(accepted, 1, "exactly one export is accepted");
    assert_eq!(reg.jobs().len(), 1);
}

#[test]
fn one_running_job_per_kind_not_across_kinds() {
    let reg = registry(60_000);
    let alice: UserId = "alice".into();
    assert!(reg.export(&alice, scope("p"), sel(), None).is_ok());
    assert!(
        reg.delete(&alice, scope("p"), sel(), None).is_ok(),
        "a delete may run beside an export"
    );
    assert!(matches!(
        reg.delete(&alice, scope("q"), sel(), None),
        Err(JobError::Running(JobKind::Delete, _))
    ));
}

#[test]
fn an_archive_is_taken_once_and_the_job_then_shows_finished() {
    let reg = registry(10);
    let job = export_done(&reg, "alice", "p");
    let archive = job.archive_id.expect("archive");
    assert!(
        reg.take_archive("bob", &scope("p"), archive, None, false)
            .is_err(),
        "not another user's"
    );
    assert!(
        reg.take_archive("alice", &scope("q"), archive, None, false)
            .is_err(),
        "not under another project"
    );
    let zip = reg
        .take_archive("alice", &scope("p"), archive, None, false)
        .expect("first download");
    assert_eq!(archive::parse(&zip).map(|p| p.assets.len()), Ok(1));
    assert!(matches!(
        reg.take_archive("alice", &scope("p"), archive, None, false),
        Err(JobError::NotFound { .. })
    ));
    let after = reg.job("alice", &scope("p"), job.id).expect("job");
    assert_eq!((after.status, after.archive_id), (PublicStatus::Finished, None));
}

#[test]
fn ended_jobs_and_their_archives_expire_after_the_retention() {
    let settings = JobSettings {
        duration: Duration::from_secs(1),
        retention: Duration::from_secs(60),
        ..JobSettings::default()
    };
    let reg = registry_with(settings, Catalog::default());
    let job = export_done(&reg, "alice", "p");
    reg.clock().advance(Duration::from_secs(59));
    assert!(reg.job("alice", &scope("p"), job.id).is_ok());
    reg.clock().advance(Duration::from_secs(1));
    assert!(matches!(
        reg.job("alice", &scope("p"), job.id),
        Err(JobError::NotFound { .. })
    ));
    let archive = job.archive_id.expect("archive");
    assert!(
        reg.take_archive("alice", &scope("p"), archive, None, false)
            .is_err(),
        "its archive went too"
    );
    assert!(reg.jobs().is_empty());
}

#[test]
fn at_max_jobs_the_oldest_ended_job_goes_and_all_running_refuses() {
    let settings = JobSettings {
        duration: Duration::from_secs(1),
        max_jobs: 2,
        ..JobSettings::default()
    };
    let reg = registry_with(settings, Catalog::default());
    let first = export_done(&reg, "u1", "p");
    let _second = export_done(&reg, "u2", "p");
    let third = reg
        .export(&"u3".into(), scope("p"), sel(), None)
        .expect("evicts the oldest ended");
    assert!(
        reg.job("u1", &scope("p"), first.id).is_err(),
        "oldest ended job evicted"
    );
    let _fourth = reg
        .export(&"u4".into(), scope("p"), sel(), None)
        .expect("evicts the second");
    let err = reg
        .export(&"u5".into(), scope("p"), sel(), None)
        .expect_err("both running");
    assert!(matches!(err, JobError::Capacity(_)), "{err:?}");
    assert!(reg.job("u3", &scope("p"), third).is_ok());
}

#[test]
fn past_max_archive_bytes_the_oldest_unclaimed_archive_goes() {
    let settings = JobSettings {
        duration: Duration::from_millis(1),
        max_archive_bytes: 150,
        ..JobSettings::default()
    };
    let reg = registry_with(settings, Catalog::default());
    let a = export_done(&reg, "u1", "p").archive_id.expect("a");
    let b = export_done(&reg, "u2", "p").archive_id.expect("b");
    assert!(
        reg.take_archive("u1", &scope("p"), a, None, false).is_err(),
        "evicted: ~100 bytes each, cap 150"
    );
    assert!(
        reg.take_archive("u2", &scope("p"), b, None, false).is_ok(),
        "the newest is kept"
    );
}

#[test]
fn strict_catalog_fails_exports_of_missing_assets_and_refuses_unknown_instances() {
    let config = InstanceSeed {
        id: "inst".into(),
        ..Default::default()
    };
    let settings = JobSettings {
        duration: Duration::from_millis(5),
        ..JobSettings::default()
    };
    let reg = registry_with(settings, Catalog::new(true, CatalogLimits::default(), &[config]));
    let job = export_done(&reg, "alice", "p");
    assert_eq!(job.status, PublicStatus::Failed);
    assert_eq!(job.reasons.len(), 1);
    assert_eq!(job.reasons[0].resource_name, "a1");
    assert_eq!(job.archive_id, None);
    let elsewhere = Scope::new("p", "nowhere").expect("scope");
    let err = reg
        .export(&"alice".into(), elsewhere, sel(), None)
        .expect_err("unknown instance");
    assert_eq!(
        err,
        JobError::InstanceNotFound {
            project: "p".into(),
            instance: "nowhere".into()
        }
    );
}

#[test]
fn scoped_resets_leave_nothing_behind() {
    let reg = registry(0);
    for i in 0..500 {
        let project = format!("p{i}");
        reg.export(&format!("u{i}").into(), scope(&project), sel(), None)
            .expect("export");
        reg.reset_scope(Some(&project), None);
    }
    assert_eq!(
        reg.footprint(),
        Footprint::default(),
        "every structure is empty again"
    );
}

#[test]
fn a_panic_under_the_lock_leaves_no_stuck_state() {
    let reg = registry(1000);
    let first = reg
        .export(&"alice".into(), scope("p"), sel(), None)
        .expect("export");
    let poisoner = reg.clone();
    let _ = std::thread::spawn(move || {
        let mut state = poisoner.inner.state.lock().expect("lock");
        // Half an update: the job left the indexes, then the code panicked.
        state.running.clear();
        state.due.clear();
        panic!("interrupted");
    })
    .join();
    assert!(
        matches!(
            reg.export(&"alice".into(), scope("p"), sel(), None),
            Err(JobError::Running(..))
        ),
        "the Running slot was rebuilt"
    );
    reg.clock().advance(Duration::from_millis(1000));
    let done = reg.job("alice", &scope("p"), first).expect("job");
    assert_eq!(done.status, PublicStatus::Success, "the due queue was rebuilt");
    assert!(
        reg.export(&"alice".into(), scope("p"), sel(), None).is_ok(),
        "and the slot freed"
    );
}

#[test]
fn jobs_list_in_creation_order_even_within_one_millisecond() {
    let reg = registry(60_000);
    let created: Vec<JobId> = (0..20)
        .map(|i| {
            reg.export(&format!("user-{i}").into(), scope("p"), sel(), None)
                .expect("export")
        })
        .collect();
    let listed: Vec<JobId> = reg.jobs().iter().map(|j| j.id).collect();
    assert_eq!(
        listed, created,
        "the virtual clock did not move: only creation order can tell them apart"
    );
}
