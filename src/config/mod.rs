//! Configuration: embedded defaults < a TOML file (`--config` / `ROMA_EMULATOR_CONFIG`) < a short
//! list of `ROMA_EMULATOR_*` environment variables < command-line flags. Loaded and validated once.
//!
//! Every key is documented, at its default, in `config.example.toml` at the repository root.
//!
//! The files: `model` the sections and keys, `load` reading TOML and the variables, `env` the table
//! of variables, `validate` the checks types cannot make.

pub mod env;
mod load;
mod model;
#[cfg(test)]
mod tests;
mod validate;

pub use crate::secret::Secret;
pub use load::ConfigError;
pub use model::*;
