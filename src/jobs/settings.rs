//! How jobs progress and how much the registry keeps: the registry's settings, built by the
//! composition root from `[jobs]` and `[archives]`.

use std::time::Duration;

/// How jobs move from Running to their end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Progression {
    /// Running for the job duration, then done.
    #[default]
    Timed,
    /// Done when created.
    Immediate,
    /// Running until completed or failed through the control plane.
    Manual,
}

/// How jobs progress and how much is kept.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Timed, immediate or manual.
    pub progression: Progression,
    /// How long a job stays Running under timed progression.
    pub duration: Duration,
    /// How long an ended job (and its unclaimed archive) is kept.
    pub retention: Duration,
    /// At most this many jobs are kept.
    pub max_jobs: usize,
    /// Total size of unclaimed archives kept.
    pub max_archive_bytes: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            progression: Progression::Timed,
            duration: Duration::from_millis(2000),
            retention: Duration::from_secs(3600),
            max_jobs: 10_000,
            max_archive_bytes: 256 * 1024 * 1024,
        }
    }
}
