//! The composition root: the state every request shares (configuration, users, the job registry,
//! the journal, faults, the clock, id streams), built from the configuration through `settings`.
//! A snapshot saves what changes: the registry (jobs, archives, the catalog), the journal, the
//! faults, a virtual clock's time, a seeded run's id positions, and the token-sealing key
//! ([`App::parts`] hands them to `persist`).

use std::sync::Arc;

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::{ClockMode, Config};
use crate::faults::Faults;
use crate::ids::Ids;
use crate::jobs::JobRegistry;
use crate::journal::Journal;
use crate::secret::Secret;

/// Shared application state: one `Arc`, so each clone a request makes is one reference count (its
/// fields read through [`Deref`](std::ops::Deref) as `app.config`, `app.jobs`, ...).
#[derive(Debug, Clone)]
pub struct App(Arc<Shared>);

impl std::ops::Deref for App {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`App`] shares.
#[derive(Debug)]
pub struct Shared {
    /// The configuration the server was started with.
    pub config: Arc<Config>,
    /// Users and tokens.
    pub auth: Arc<Authenticator>,
    /// All asset jobs, archives and the catalog.
    pub jobs: JobRegistry,
    /// What clients sent.
    pub journal: Arc<Journal>,
    /// Fault rules.
    pub faults: Arc<Faults>,
    /// The emulator's time.
    pub clock: Clock,
    /// Id streams.
    pub ids: Arc<Ids>,
    /// Turns true when the server starts shutting down (long-poll waits answer at once).
    pub shutdown: Arc<tokio::sync::watch::Sender<bool>>,
    /// What persistence remembers between saves.
    pub last_save: Arc<crate::persist::LastSave>,
    /// Counters and histograms for `/_emulator/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The status policy of the asset API (`[api] error_statuses`, D1), read once.
    pub api_statuses: crate::error::StatusPolicy,
    /// Permits to hold a large body (`[server] max_large_bodies`), at most one a caller.
    pub large_bodies: Arc<crate::permits::LargeBodies>,
    /// The gateway's flow control (`[gateway]`).
    pub gateway: Arc<crate::throttle::Gateway>,
}

impl App {
    /// Builds the state for `config` and loads `snapshot` into it. The token-sealing key is
    /// `[auth] token_key` if configured, else the snapshot's, else a random one.
    pub fn with_snapshot(config: Config, snapshot: Option<crate::persist::Snapshot>) -> Result<Self, String> {
        let saved_key = snapshot
            .as_ref()
            .map(crate::persist::Snapshot::token_key)
            .transpose()?
            .flatten();
        let app = Self::build(config, saved_key);
        if let Some(snapshot) = snapshot {
            for warning in snapshot.apply(&app.parts())? {
                tracing::warn!("state file: {warning}");
            }
        }
        Ok(app)
    }

    /// Builds the state for `config`.
    pub fn new(config: Config) -> Self {
        Self::build(config, None)
    }

    fn build(config: Config, saved_key: Option<[u8; 32]>) -> Self {
        let ids = Arc::new(config.emulator.seed.map_or_else(Ids::random, Ids::seeded));
        let clock = match config.clock.mode {
            ClockMode::Real => Clock::System,
            ClockMode::Virtual => Clock::new_virtual(),
        };
        let settings = crate::settings::jobs(&config);
        let catalog = crate::settings::catalog(&config);
        Self(Arc::new(Shared {
            auth: Arc::new(Authenticator::new(
                crate::settings::auth(&config),
                match (&config.auth.token_key, saved_key) {
                    (None, Some(saved)) => saved,
                    (configured, _) => crate::ids::token_key(configured.as_ref().map(Secret::expose)),
                },
                clock.clone(),
            )),
            jobs: JobRegistry::new(settings, clock.clone(), ids.clone(), catalog),
            journal: Arc::new(Journal::new(config.journal.max_entries)),
            faults: Arc::new(Faults::default()),
            clock,
            ids,
            shutdown: Arc::new(tokio::sync::watch::Sender::new(false)),
            last_save: Arc::default(),
            metrics: Arc::default(),
            api_statuses: crate::settings::api_statuses(&config),
            large_bodies: crate::permits::LargeBodies::new(
                config.server.max_large_bodies,
                std::time::Duration::from_millis(config.server.large_body_wait_ms),
            ),
            gateway: Arc::new(crate::throttle::Gateway {
                per_user: crate::throttle::Throttle::new(
                    config.gateway.rate_per_user_per_s,
                    config.gateway.burst,
                ),
                per_address: crate::throttle::Throttle::new(
                    config.gateway.rate_per_address_per_s,
                    config.gateway.burst,
                ),
            }),
            config: Arc::new(config),
        }))
    }
}

/// Resolves once shutdown has begun (`App::shutdown` turned true).
pub async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

impl App {
    /// The domain's state, for a snapshot.
    pub fn parts(&self) -> crate::persist::Parts<'_> {
        crate::persist::Parts {
            auth: &self.auth,
            clock: &self.clock,
            ids: &self.ids,
            jobs: &self.jobs,
            journal: &self.journal,
            faults: &self.faults,
        }
    }

    /// Saves the state to `[state] file` (see [`crate::persist::save`]).
    pub fn save(&self, force: bool) -> Result<Option<usize>, String> {
        crate::persist::save(
            &self.parts(),
            self.config.state.file.as_deref(),
            &self.last_save,
            force,
        )
    }

    /// What is on disk now (see [`crate::persist::on_disk`]).
    pub fn on_disk(&self) -> String {
        crate::persist::on_disk(self.config.state.file.as_deref(), &self.last_save)
    }

    /// The metrics as OpenMetrics text, the gauges read now.
    pub fn render_metrics(&self) -> String {
        self.metrics.render(&crate::metrics::Gauges {
            jobs: &self.jobs,
            journal_len: self.journal.len(),
            saved_at_ms: self
                .last_save
                .saved_at_ms
                .load(std::sync::atomic::Ordering::Acquire),
        })
    }
}
