//! Black-box tests: each starts the emulator in-process on an ephemeral port and speaks HTTP to it.

mod binary;
mod errors;
mod export_asset;
mod helpers;
