//! A repro bundle: one namespace's state as a snapshot (its jobs, archives and catalog, its
//! journal entries, the faults that reach it, the clock, the id positions) with what it was taken
//! under (`bundle`: the namespace, the time, the seed, the config without secrets). It is a
//! snapshot of the same format and version, so `PUT /_emulator/state` and the validator of state
//! imports take it as they take any; `roma-emulator --bundle FILE` starts with it loaded, on a
//! virtual clock at the bundle's time, so the failing sequence answers the same.

use serde::{Deserialize, Serialize};

use super::{Parts, Secrets, Snapshot};
use crate::config::Config;

/// What a bundle was taken of, and under what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleInfo {
    /// The namespace's project.
    pub project_id: String,
    /// Its instance (none: every instance of the project).
    pub instance_id: Option<String>,
    /// When it was taken (the emulator's clock, RFC 3339).
    pub taken_at: String,
    /// The `[emulator] seed` (a replay continues its id streams from `ids`).
    pub seed: Option<u64>,
    /// The settings that shape answers, without any secret (start the replay with the same).
    pub config: serde_json::Value,
}

impl Snapshot {
    /// The bundle of the namespace `project` (and `instance`) of `app` now.
    pub fn bundle(app: &Parts<'_>, config: &Config, project: &str, instance: Option<&str>) -> Self {
        let mut snapshot = Self::capture(app, Secrets::None);
        let now = app.clock.now();
        // Always the time: the replay's virtual clock starts there.
        snapshot.clock = Some(now);
        snapshot.registry = snapshot.registry.narrowed(project, instance);
        snapshot.journal.retain(|e| e.in_scope(Some(project), instance));
        snapshot.faults.retain(|f| {
            f.spec.project_id.as_deref().is_none_or(|p| p == project)
                && f.spec
                    .instance_id
                    .as_deref()
                    .is_none_or(|i| instance.is_none_or(|want| want == i))
        });
        snapshot.bundle = Some(BundleInfo {
            project_id: project.to_owned(),
            instance_id: instance.map(str::to_owned),
            taken_at: now.rfc3339_millis(),
            seed: config.emulator.seed,
            config: settings(config),
        });
        snapshot
    }
}

/// The settings that shape answers, with no secret: no token, password, key or admin token.
fn settings(c: &Config) -> serde_json::Value {
    let users: Vec<&str> = c.auth.users.iter().map(|u| u.name.as_str()).collect();
    serde_json::json!({
        "api": {"dialect": format!("{:?}", c.api.dialect).to_lowercase(),
            "error_statuses": format!("{:?}", c.api.error_statuses).to_lowercase()},
        "jobs": {"duration_ms": c.jobs.duration_ms, "progression": format!("{:?}", c.jobs.progression).to_lowercase(),
            "retention_s": c.jobs.retention_s, "max_jobs": c.jobs.max_jobs},
        "clock": {"mode": format!("{:?}", c.clock.mode).to_lowercase()},
        "catalog": {"strict": c.catalog.strict},
        "auth": {"mode": format!("{:?}", c.auth.mode).to_lowercase(), "token_ttl_s": c.auth.token_ttl_s, "users": users},
        "journal": {"max_entries": c.journal.max_entries, "summaries": c.journal.summaries},
        "emulator": {"seed": c.emulator.seed},
    })
}
