//! A local emulator of the Huawei Cloud ROMA Connect asset API: ExportAsset, CheckAssetJobStatus,
//! DownloadAssetArchive, ImportAsset and DeleteAsset, with IAM tokens and AK/SK signatures checked
//! as the real gateway checks them, and a control plane for tests.
//!
//! Start it inside a test on a free port and speak HTTP to it, as a client of the real service does:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = roma_emulator::Config::default();
//! config.server.listen = "127.0.0.1:0".into();
//! config.jobs.duration_ms = 0; // jobs end at once
//! let server = roma_emulator::Server::start(config).await?;
//!
//! // Any token is a user of its own in the default open mode.
//! let url = format!("{}/v2/my-project/instances/my-instance/assets/export", server.base_url());
//! let created: serde_json::Value = reqwest::Client::new()
//!     .post(url)
//!     .header("X-Auth-Token", "any-token")
//!     .header("Content-Type", "application/json")
//!     .body(r#"{"apps": [{"id": "app-1"}]}"#)
//!     .send()
//!     .await?
//!     .json()
//!     .await?;
//! let job_id = created["job_id"].as_str().expect("a job id");
//!
//! // The control plane, as typed methods (or over HTTP under /_emulator).
//! let job = server.control().job(job_id)?;
//! assert_eq!(job.status, roma_emulator::jobs::PublicStatus::Success);
//! server.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The documents in the repository's `docs/` folder cover the API, authentication, the control plane,
//! errors, configuration and deployment; `docs/decisions.md` records each choice where the ROMA
//! documents disagree or are silent.
//!
//! The layers, top to bottom (ARCHITECTURE.md; `tests/api/layers.rs` checks them): process
//! (`probe`), transport (`server`, `transport`), HTTP (`api`), app (`control`, `app` the
//! composition root, `settings`, `persist`, `telemetry` the log, `metrics`), domain (`error` the
//! catalog, `faults`, `journal`, `jobs`, `auth`) and base (`config`, `operation`, `scope`,
//! `secret`, `clock`, `ids`, `json`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod app;
pub mod auth;
pub mod client;
pub mod clock;
pub mod config;
pub mod control;
pub mod ctl;
pub mod error;
pub mod faults;
pub mod ids;
pub mod jobs;
pub mod journal;
pub mod json;
pub mod metrics;
pub mod operation;
pub mod permits;
pub mod persist;
pub mod probe;
pub mod recent;
pub mod scope;
pub mod secret;
pub mod server;
pub mod settings;
pub mod telemetry;
pub mod throttle;
pub mod transport;

pub use config::Config;

/// The README's Rust examples, compiled and run as doctests by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The control plane page's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/control-plane.md")]
pub struct ControlPlaneDoctests;
pub use app::App;
pub use server::{Server, StartError};
