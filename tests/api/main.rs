//! Black-box tests: each starts the emulator in-process on an ephemeral port and speaks HTTP to it.

mod archive_bytes;
mod auth;
mod binary;
mod catalog_ops;
mod check_asset_job_status;
mod control;
mod delete_asset;
mod download_asset_archive;
mod errors;
mod export_asset;
mod helpers;
mod iam_queries;
mod import_asset;
mod layers;
mod metrics;
mod openapi;
mod persistence;
mod process;
mod races;
mod standalone;
mod state_file;
mod state_import;
mod tenancy;
mod throttle;
mod transport;
mod uploads;
