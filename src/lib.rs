//! roma-emulator: a local emulator of the Huawei Cloud ROMA Connect asset API.
//!
//! Start it in-process with [`Server::start`] and talk HTTP to [`Server::base_url`], or drive
//! [`api::router`] directly. The layout: `api/` is HTTP (the route table in `api/mod.rs`, one file
//! per operation); everything else knows no HTTP: `jobs/` the rules and the one state, `auth/` who
//! is calling, `control` the control plane as methods, `faults` and `journal` their state, `config`
//! every setting, `error` the error-code catalog, `clock` time, `ids` identifiers.
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
pub use server::{Server, StartError};
pub use state::AppState;
