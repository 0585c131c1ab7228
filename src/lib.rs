//! roma-emulator: a local emulator of the Huawei Cloud ROMA Connect asset API.
//!
//! Start it in-process with [`Server::start`] and talk HTTP to [`Server::base_url`], or drive
//! [`api::router`] directly. The layers, top to bottom (ARCHITECTURE.md; `tests/api/layers.rs`
//! checks them): process (`telemetry`, `probe`), transport (`server`, `transport`), HTTP (`api`),
//! app (`control`, `state` the composition root, `settings`, `persist`, `metrics`), domain (`error`
//! the catalog, `faults`, `journal`, `jobs`, `auth`) and base (`config`, `operation`, `scope`,
//! `secret`, `clock`, `ids`, `json`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod clock;
pub mod config;
pub mod control;
pub mod error;
pub mod faults;
pub mod ids;
pub mod jobs;
pub mod journal;
pub mod json;
pub mod metrics;
pub mod operation;
pub mod persist;
pub mod probe;
pub mod scope;
pub mod secret;
pub mod server;
pub mod settings;
pub mod state;
pub mod telemetry;
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
pub use server::{Server, StartError};
pub use state::AppState;
