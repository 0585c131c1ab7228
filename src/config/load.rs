//! Loading: a TOML text or file, then the `ROMA_EMULATOR_*` variables, then validation, with errors
//! that name the file and the key (or the variable).

use std::path::{Path, PathBuf};

use super::{Config, env};

/// A configuration problem: which file (if any), which key (empty when the file itself is the
/// problem), what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{}{}{message}",
    file.as_ref().map(|f| format!("config file {}: ", f.display())).unwrap_or_default(),
    if key.is_empty() { String::new() } else { format!("key `{key}`: ") }
)]
pub struct ConfigError {
    /// The file the problem is in; `None` for defaults and environment variables.
    pub file: Option<PathBuf>,
    /// The key, dotted (`jobs.duration_ms`), or the environment variable.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    pub(super) fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: None,
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Parses a TOML document (no file involved) and validates it.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_toml_and_env(text, Vec::new())
    }

    /// Parses a TOML document, lets the `ROMA_EMULATOR_*` variables of `env` override its keys
    /// (see [`env::ENV_KEYS`]), and validates the result.
    pub fn from_toml_and_env(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| {
            let key = e.span().map(|s| key_at(text, s.start)).unwrap_or_default();
            // toml's own text names the line and column and shows the line.
            ConfigError::new(key, e.to_string().trim().to_owned())
        })?;
        let origins = env::apply(&mut table, env)?;
        let config: Config = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let path = e.path().to_string();
            let key = origins.get(path.as_str()).cloned().unwrap_or(path);
            ConfigError::new(key, e.inner().message().trim().to_owned())
        })?;
        // A value that came from a variable is named by the variable.
        config.validate().map_err(|mut e| {
            if let Some(var) = origins.get(e.key.as_str()) {
                e.key = var.clone();
            }
            e
        })?;
        Ok(config)
    }

    /// Loads the file at `path` (defaults when `None`), then applies `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let Some(path) = path else {
            return Self::from_toml_and_env("", env);
        };
        let in_file = |mut e: ConfigError| {
            e.file = Some(path.to_owned());
            e
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| in_file(ConfigError::new("", format!("cannot read it: {e}"))))?;
        Self::from_toml_and_env(&text, env).map_err(|e| {
            if e.key.starts_with("ROMA_EMULATOR_") {
                e
            } else {
                in_file(e)
            }
        })
    }
}

/// The dotted key whose line holds byte `offset` of a TOML text (for syntax errors).
fn key_at(text: &str, offset: usize) -> String {
    let mut table = String::new();
    let mut line_key = String::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed.trim_matches(|c| c == '[' || c == ']').trim().to_owned();
            line_key.clear();
        } else if let Some((k, _)) = trimmed.split_once('=') {
            line_key = k.trim().to_owned();
        } else {
            line_key.clear();
        }
        if offset < pos + line.len() {
            break;
        }
        pos += line.len();
    }
    match (table.is_empty(), line_key.is_empty()) {
        (_, true) if !table.is_empty() => table,
        (true, _) => line_key,
        _ => format!("{table}.{line_key}"),
    }
}
