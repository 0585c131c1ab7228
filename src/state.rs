//! The state every request shares: configuration, users, the job registry, id streams.

use std::sync::Arc;
use std::time::Duration;

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::Config;
use crate::ids::Ids;
use crate::jobs::{Catalog, JobRegistry, JobSettings};

/// Shared application state; cloning is cheap (all `Arc`s).
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration the server was started with.
    pub config: Arc<Config>,
    /// Users and tokens.
    pub auth: Arc<Authenticator>,
    /// All asset jobs.
    pub jobs: JobRegistry,
    /// Id streams.
    pub ids: Arc<Ids>,
}

impl AppState {
    /// Builds the state for `config`.
    pub fn new(config: Config) -> Self {
        let ids = Arc::new(Ids::random());
        let clock = Clock::System;
        let settings = JobSettings {
            duration: Duration::from_millis(config.jobs.duration_ms),
            retention: Duration::from_secs(config.jobs.retention_s),
            max_jobs: config.jobs.max_jobs,
            max_archive_bytes: config.archives.max_bytes,
        };
        let catalog = Catalog::from_config(config.catalog.strict, &config.instances);
        Self {
            auth: Arc::new(Authenticator::new(&config.auth, ids.secret_key(), clock.clone())),
            jobs: JobRegistry::new(settings, clock, ids.clone(), catalog),
            ids,
            config: Arc::new(config),
        }
    }
}
