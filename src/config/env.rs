//! Every config key that an environment variable can set, in one table. A key `section.name` is set
//! by `ROMA_EMULATOR_SECTION_NAME`; a few keys also keep the short name they had first (the alias).
//! Lists (`[[auth.users]]`, `[[instances]]`) come from the file only.

use std::collections::HashMap;

use super::ConfigError;

/// How a variable's text becomes a TOML value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Taken as it is.
    Text,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
}

/// One key an environment variable can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvKey {
    /// The dotted key (`jobs.duration_ms`).
    pub key: &'static str,
    /// How its value is read.
    pub kind: Kind,
    /// An older, shorter variable name that sets it too.
    pub alias: Option<&'static str>,
}

const fn key(key: &'static str, kind: Kind) -> EnvKey {
    EnvKey {
        key,
        kind,
        alias: None,
    }
}

const fn aliased(key: &'static str, kind: Kind, alias: &'static str) -> EnvKey {
    EnvKey {
        key,
        kind,
        alias: Some(alias),
    }
}

/// The table.
pub const ENV_KEYS: &[EnvKey] = &[
    aliased("server.listen", Kind::Text, "ROMA_EMULATOR_LISTEN"),
    key("server.request_timeout_ms", Kind::Integer),
    key("server.max_body_bytes", Kind::Integer),
    key("server.header_read_timeout_ms", Kind::Integer),
    key("server.max_connections", Kind::Integer),
    key("server.shutdown_grace_s", Kind::Integer),
    key("server.public_url", Kind::Text),
    key("server.body_read_timeout_ms", Kind::Integer),
    key("server.write_timeout_ms", Kind::Integer),
    key("server.max_large_bodies", Kind::Integer),
    key("server.large_body_wait_ms", Kind::Integer),
    key("server.min_upload_bytes_per_s", Kind::Integer),
    key("server.min_upload_grace_ms", Kind::Integer),
    key("server.probe_listen", Kind::Text),
    key("gateway.rate_per_user_per_s", Kind::Integer),
    key("gateway.rate_per_address_per_s", Kind::Integer),
    key("gateway.burst", Kind::Integer),
    aliased("api.error_statuses", Kind::Text, "ROMA_EMULATOR_ERROR_STATUSES"),
    aliased("api.dialect", Kind::Text, "ROMA_EMULATOR_DIALECT"),
    key("jobs.duration_ms", Kind::Integer),
    key("jobs.progression", Kind::Text),
    key("jobs.retention_s", Kind::Integer),
    key("jobs.max_jobs", Kind::Integer),
    key("archives.max_bytes", Kind::Integer),
    key("catalog.strict", Kind::Boolean),
    key("catalog.max_instances", Kind::Integer),
    key("catalog.max_assets_per_instance", Kind::Integer),
    key("catalog.max_bytes_per_instance", Kind::Integer),
    key("auth.mode", Kind::Text),
    key("auth.token_ttl_s", Kind::Integer),
    key("auth.token_key", Kind::Text),
    key("auth.ak_lockout", Kind::Boolean),
    aliased("log.level", Kind::Text, "ROMA_EMULATOR_LOG"),
    key("log.format", Kind::Text),
    aliased("emulator.seed", Kind::Integer, "ROMA_EMULATOR_SEED"),
    aliased("emulator.admin_token", Kind::Text, "ROMA_EMULATOR_ADMIN_TOKEN"),
    key("clock.mode", Kind::Text),
    key("journal.max_entries", Kind::Integer),
    key("journal.summaries", Kind::Boolean),
    key("state.file", Kind::Text),
    key("state.bundle", Kind::Text),
    key("state.save_interval_s", Kind::Integer),
];

/// `ROMA_EMULATOR_*` variables that set no config key but are read by the project's own tools:
/// the binary's `--config` flag, the test harnesses and the Python plugin. Any other
/// `ROMA_EMULATOR_*` variable is a mistake (`ROMA_EMULATOR_ADMINTOKEN` for `..._ADMIN_TOKEN`) and
/// stops startup, so that a misspelled setting is never silently ignored.
pub const TOOL_VARS: &[&str] = &[
    "ROMA_EMULATOR_CONFIG",
    "ROMA_EMULATOR_BIN",
    "ROMA_EMULATOR_BLESS",
    "ROMA_EMULATOR_URL",
];

impl EnvKey {
    /// `ROMA_EMULATOR_` and the key, upper case, `.` as `_`.
    pub fn var(&self) -> String {
        format!(
            "ROMA_EMULATOR_{}",
            self.key.replace('.', "_").to_ascii_uppercase()
        )
    }
}

/// Puts the values of the table's variables found in `env` into `table` (a parsed config file).
/// Returns which key each variable set, so that an error can name the variable.
pub fn apply(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<HashMap<&'static str, String>, ConfigError> {
    let env: HashMap<String, String> = env.into_iter().collect();
    let mut unknown: Vec<&String> = env
        .keys()
        .filter(|name| name.starts_with("ROMA_EMULATOR_"))
        .filter(|name| {
            !TOOL_VARS.contains(&name.as_str())
                && !ENV_KEYS
                    .iter()
                    .any(|k| k.var() == **name || k.alias == Some(name.as_str()))
        })
        .collect();
    unknown.sort();
    if let Some(name) = unknown.first() {
        let hint = ENV_KEYS
            .iter()
            .flat_map(|k| [Some(k.var()), k.alias.map(str::to_owned)])
            .flatten()
            .find(|known| known.replace('_', "") == name.replace('_', ""))
            .map(|known| format!(" (did you mean {known}?)"))
            .unwrap_or_default();
        return Err(ConfigError::new(
            name.as_str(),
            format!("no config key has this variable{hint}; see config.example.toml for the variables"),
        ));
    }
    let mut origins = HashMap::new();
    for entry in ENV_KEYS {
        // The canonical name wins over the alias when both are set.
        let found = [Some(entry.var()), entry.alias.map(str::to_owned)]
            .into_iter()
            .flatten()
            .find_map(|name| env.get(&name).map(|value| (name, value)));
        let Some((name, text)) = found else {
            continue;
        };
        let value = match entry.kind {
            Kind::Text => toml::Value::String(text.clone()),
            Kind::Integer => text
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .map_err(|_| ConfigError::new(&name, format!("expected a whole number, got {text:?}")))?,
            Kind::Boolean => match text.trim() {
                "true" => toml::Value::Boolean(true),
                "false" => toml::Value::Boolean(false),
                _ => {
                    return Err(ConfigError::new(
                        &name,
                        format!("expected true or false, got {text:?}"),
                    ));
                }
            },
        };
        let (section, field) = entry.key.split_once('.').unwrap_or(("", entry.key));
        let section = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(section) = section {
            section.insert(field.to_owned(), value);
        }
        origins.insert(entry.key, name);
    }
    Ok(origins)
}
