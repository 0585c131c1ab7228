//! The job registry: every asset job, the one-Running-job-per-user-per-kind rule (D9), and job
//! progression. No HTTP and no configuration here: callers pass plain values and settings and get
//! [`JobError`]s back.
//!
//! All state sits in one [`Ledger`](ledger::Ledger) behind one mutex, held only for short,
//! non-async sections. Time comes from the [`Clock`](crate::clock::Clock) the registry is given;
//! due job changes are applied lazily, in due order, at the start of every operation, so no
//! ticker task is needed.
//!
//! The files: `registry` the handle and its operations, `ledger` what the lock guards, `job` one
//! job, `view` what callers see, `error` refusals, `snapshot` the state as data, `settings` progression and limits, `catalog`
//! each instance's assets, `selection` and `import_options` what requests ask for, `archive` the
//! package format, `validate` the checks a restored snapshot passes, `queue` the due order, `table` the jobs and archives by id.

pub mod archive;
pub mod asset;
pub mod catalog;
mod error;
pub mod forgotten;
pub mod import_options;
pub mod job;
mod ledger;
mod queue;
mod registry;
pub mod selection;
mod settings;
mod snapshot;
mod table;
pub mod validate;
mod view;

/// Where and whose: the typed path ids live in the base layer ([`crate::scope`]).
pub use crate::scope::{Scope, UserId};
pub use asset::{AppInfo, Asset, Content};
pub use catalog::{Catalog, CatalogLimits, InstanceSeed, LegacyCatalog, ScopedAssets};
pub use error::{JobError, archive_not_found, job_not_found};
pub use import_options::{ImportMode, ImportOptions};
pub use job::{ArchiveId, Job, JobId, JobKind, JobState, PublicStatus, Reason, ReasonSpec, ResourceType};
pub use ledger::Footprint;
pub use registry::JobRegistry;
pub use selection::{AppRef, AssetSelection, SelectionError};
pub use settings::{JobSettings, Progression};
pub use snapshot::{Archive, PendingEffect, RegistrySnapshot};
pub use view::{FailPlan, JobFilter, JobPage, JobView};
