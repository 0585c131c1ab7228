//! Metrics for an operator, made with `prometheus-client` and served by `GET /_emulator/metrics`
//! in the OpenMetrics text format (which Prometheus reads). Counters and the latency histogram
//! are updated per request; the gauges are read at each scrape from counts the state keeps as it
//! changes (no scrape walks the jobs). Every label takes
//! a bounded set of values (operation ids, route templates, statuses), never an id or a user.

use std::borrow::Cow;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::clock::Timestamp;
use crate::jobs::JobRegistry;
use crate::jobs::{JobKind, PublicStatus};
use crate::operation::Operation;

/// What the gauges read at a scrape: plain views of the domain, handed over by the composition root.
#[derive(Debug, Clone, Copy)]
pub struct Gauges<'a> {
    /// Jobs by type and status, archives held.
    pub jobs: &'a JobRegistry,
    /// Journal entries kept.
    pub journal_len: usize,
    /// When the state file was last written (ms since the epoch; 0: never).
    pub saved_at_ms: u64,
}

/// Log lines dropped because stderr did not take them (the log buffer was full). Process-wide: the
/// log writer counts here, every [`Metrics`] reports it as `roma_emulator_log_lines_dropped_total`.
pub static LOG_LINES_DROPPED: std::sync::LazyLock<Counter> = std::sync::LazyLock::new(Counter::default);

/// An operation id or route template: borrowed for the operations, so counting a request of the
/// API allocates nothing.
type Label = Cow<'static, str>;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: Label,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: Label,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    r#type: &'static str,
    status: &'static str,
}

type Histograms = Family<OperationLabels, Histogram, fn() -> Histogram>;

/// The emulator's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms,
    faults_fired: Family<OperationLabels, Counter>,
    jobs: Family<JobLabels, Gauge>,
    journal_entries: Gauge,
    archives: Gauge,
    archive_bytes: Gauge,
    snapshot_age: Gauge<f64, AtomicU64>,
}

fn latency_histogram() -> Histogram {
    // 100 µs to ~1.6 s.
    Histogram::new(exponential_buckets(0.0001, 4.0, 8))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("roma_emulator");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by operation and status",
            requests.clone(),
        );
        let latency: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "request_duration_seconds",
            "Time to answer a request, by operation",
            latency.clone(),
        );
        let faults_fired = Family::<OperationLabels, Counter>::default();
        registry.register(
            "faults_fired",
            "Requests a fault rule affected, by operation",
            faults_fired.clone(),
        );
        let jobs = Family::<JobLabels, Gauge>::default();
        registry.register("jobs", "Jobs held, by type and status", jobs.clone());
        let journal_entries = Gauge::default();
        registry.register(
            "journal_entries",
            "Requests kept by the journal",
            journal_entries.clone(),
        );
        let archives = Gauge::default();
        registry.register(
            "archives",
            "Archives waiting for their one download",
            archives.clone(),
        );
        let archive_bytes = Gauge::default();
        registry.register(
            "archive_bytes",
            "Bytes of the archives held",
            archive_bytes.clone(),
        );
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because stderr did not take them in time (the log buffer was full)",
            LOG_LINES_DROPPED.clone(),
        );
        let snapshot_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "snapshot_age_seconds",
            "Seconds since the state file was last written (-1: never, or no [state] file)",
            snapshot_age.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            faults_fired,
            jobs,
            journal_entries,
            archives,
            archive_bytes,
            snapshot_age,
        }
    }
}

impl Metrics {
    /// Counts one answered request (`operation`: an operation id or a route template).
    pub fn request(&self, operation: Label, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels { operation })
            .observe(took.as_secs_f64());
    }

    /// Counts a request a fault rule affected.
    pub fn fault_fired(&self, operation: Operation) {
        self.faults_fired
            .get_or_create(&OperationLabels {
                operation: Cow::Borrowed(operation.id()),
            })
            .inc();
    }

    /// The metrics as OpenMetrics text, the gauges read from `gauges` now.
    pub fn render(&self, gauges: &Gauges<'_>) -> String {
        // Kept by the registry as jobs change: a scrape costs the same at 10 and 100 000 jobs.
        let footprint = gauges.jobs.footprint();
        for kind in JobKind::ALL {
            for status in PublicStatus::ALL {
                let count = footprint.by_status[kind.index()][status.index()];
                // Every type appears with its Running count, even with no job.
                if count == 0 && status != PublicStatus::Running {
                    self.jobs.remove(&JobLabels {
                        r#type: kind.as_str(),
                        status: status.seed_spelling(),
                    });
                    continue;
                }
                self.jobs
                    .get_or_create(&JobLabels {
                        r#type: kind.as_str(),
                        status: status.seed_spelling(),
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
        }
        self.archives
            .set(i64::try_from(footprint.archives).unwrap_or(i64::MAX));
        self.archive_bytes
            .set(i64::try_from(footprint.archive_bytes).unwrap_or(i64::MAX));
        self.journal_entries
            .set(i64::try_from(gauges.journal_len).unwrap_or(i64::MAX));
        let saved = gauges.saved_at_ms;
        let age = if saved == 0 {
            -1.0
        } else {
            Timestamp::system_now().since(Timestamp(saved)).as_secs_f64()
        };
        self.snapshot_age.set(age);
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
