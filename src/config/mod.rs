//! Configuration: embedded defaults < a TOML file (`--config` / `ROMA_EMULATOR_CONFIG`) < a short
//! list of `ROMA_EMULATOR_*` environment variables < command-line flags. Loaded and validated once.
//!
//! Every key is documented, at its default, in `config.example.toml` at the repository root.

pub use crate::secret::Secret;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub mod env;

/// The whole configuration. An empty file is valid; an unknown key is an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[server]`: where to listen and request limits.
    pub server: ServerConfig,
    /// `[api]`: how faithful to which ROMA documents the answers are.
    pub api: ApiConfig,
    /// `[jobs]`: how asset jobs progress.
    pub jobs: JobsConfig,
    /// `[auth]`: who may call.
    pub auth: AuthConfig,
    /// `[log]`: logging.
    pub log: LogConfig,
    /// `[archives]`: asset packages waiting to be downloaded.
    pub archives: ArchivesConfig,
    /// `[catalog]`: how unknown instances and assets are treated.
    pub catalog: CatalogConfig,
    /// `[[instances]]`: the assets each instance starts with.
    pub instances: Vec<InstanceConfig>,
    /// `[emulator]`: determinism and the control plane.
    pub emulator: EmulatorConfig,
    /// `[clock]`: real or virtual time.
    pub clock: ClockConfig,
    /// `[journal]`: the request journal.
    pub journal: JournalConfig,
    /// `[state]`: a snapshot file that survives restarts.
    pub state: StateConfig,
}

/// `[state]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// The snapshot file; none (the default) keeps everything in memory only.
    pub file: Option<PathBuf>,
    /// How often the snapshot is written while something changed (it is also written on graceful
    /// shutdown and on `POST /_emulator/state/save`).
    pub save_interval_s: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            file: None,
            save_interval_s: 30,
        }
    }
}

/// `[emulator]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Makes job, archive and request ids (and fault draws) repeat from run to run.
    pub seed: Option<u64>,
    /// When set, `/_emulator/*` (except health) needs `Authorization: Bearer <admin_token>`.
    pub admin_token: Option<Secret>,
}

/// `[clock]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClockConfig {
    /// `real` or `virtual`.
    pub mode: ClockMode,
}

/// Where job times come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockMode {
    /// The system clock.
    #[default]
    Real,
    /// Starts at the real time; moves only through `POST /_emulator/clock`.
    Virtual,
}

/// `[journal]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JournalConfig {
    /// The most requests kept (newest win); 0 turns the journal off.
    pub max_entries: usize,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self { max_entries: 1000 }
    }
}

/// `[archives]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchivesConfig {
    /// Total size of the packages kept for download; past it the oldest unclaimed ones are dropped.
    pub max_bytes: u64,
}

impl Default for ArchivesConfig {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// `[catalog]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// `false`: an export of an unknown asset exports a generated placeholder, and any instance exists.
    /// `true`: the job fails with one reason per missing asset, and unknown instances are 404.
    pub strict: bool,
    /// At most this many instances hold assets at once; an import into one more fails its job
    /// (`ROMA.10010` reason).
    pub max_instances: usize,
    /// At most this many applications and tasks in one instance; an import past it fails its job.
    pub max_assets_per_instance: usize,
    /// At most this many bytes (ids, names and content) in one instance; an import past it fails its job.
    pub max_bytes_per_instance: u64,
}

impl Default for CatalogConfig {
    fn default() -> Self {
        Self {
            strict: false,
            max_instances: 64,
            max_assets_per_instance: 10_000,
            max_bytes_per_instance: 2 * 1024 * 1024,
        }
    }
}

/// One `[[instances]]` entry: an instance and the assets it starts with.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    /// The instance id (as in the paths).
    pub id: String,
    /// Its applications (`[[instances.apps]]`).
    pub apps: Vec<AssetConfig>,
    /// Its tasks (`[[instances.tasks]]`).
    pub tasks: Vec<AssetConfig>,
}

/// One application or task of an instance.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssetConfig {
    /// Its id.
    pub id: String,
    /// Its name (defaults to the id).
    pub name: String,
    /// Free-form content, exported as JSON.
    pub content: serde_json::Value,
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, `HOST:PORT` (an IP or a host name such as `localhost`); port 0 takes
    /// an ephemeral port.
    pub listen: String,
    /// A request taking longer than this is answered `APIG.0201` (504), like the gateway's backend timeout.
    pub request_timeout_ms: u64,
    /// Largest request body accepted; larger ones are answered `APIG.0201` (413). The gateway's limit is 12 MiB.
    pub max_body_bytes: usize,
    /// A request head must arrive within this long after a connection opens or goes idle; else
    /// the connection is closed (so this is also the keep-alive idle timeout).
    pub header_read_timeout_ms: u64,
    /// Connections open at once. At the cap a new connection closes the oldest idle one, or is
    /// answered `EMULATOR.0503` when every connection is busy.
    pub max_connections: usize,
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    pub shutdown_grace_s: u64,
    /// The URL clients reach the emulator at, for the endpoints of an IAM token's catalog (`None`:
    /// the `Host` of the token request, over `http`).
    pub public_url: Option<String>,
    /// A request body that sends nothing for this long is ended: the request is answered
    /// `EMULATOR.0408` and the connection closed (a stalled upload frees its slot).
    pub body_read_timeout_ms: u64,
    /// A client that reads nothing of a response for this long is disconnected (a slow reader
    /// frees its slot and the response's memory).
    pub write_timeout_ms: u64,
    /// Large request bodies (ImportAsset, `PUT /_emulator/state`) read at once; one more is
    /// answered `EMULATOR.0503` before a byte of it is read.
    pub max_large_bodies: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            request_timeout_ms: 30_000,
            max_body_bytes: 12 * 1024 * 1024,
            header_read_timeout_ms: 10_000,
            max_connections: 1024,
            shutdown_grace_s: 10,
            public_url: None,
            body_read_timeout_ms: 10_000,
            write_timeout_ms: 10_000,
            max_large_bodies: 4,
        }
    }
}

/// `[api]`
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Which HTTP statuses refusals get (decision D1).
    pub error_statuses: ErrorStatuses,
    /// Which spelling job statuses use (decision D5).
    pub dialect: Dialect,
}

/// Decision D5: the spelling of job statuses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// The seed's region: `Running`, `Success`, `Failed`, `Finished`.
    #[default]
    Seed,
    /// The current documents: `RUNNING`, `SUCCEEDED`, `FAILED`.
    Current,
}

/// Decision D1: the status of a refusal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorStatuses {
    /// 403 for every refusal ROMA makes on an asset operation (`ROMA.*`), as the operation pages
    /// document (not-found stays 404); gateway errors (`APIG.*`) keep the gateway's status.
    #[default]
    Documented,
    /// The statuses of the error-code appendix and the gateway: 400, 401, 404, ...
    Catalog,
}

/// `[jobs]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// How long a job stays Running before it ends (progression `timed`).
    pub duration_ms: u64,
    /// `timed` (after duration_ms), `immediate` (done when created) or `manual` (until completed or
    /// failed through the control plane).
    pub progression: Progression,
    /// How long an ended job (and its unclaimed archive) is kept.
    pub retention_s: u64,
    /// At most this many jobs are kept; past it the oldest ended job is dropped, and when every job is
    /// still Running a new one is refused (`ROMA.10010`).
    pub max_jobs: usize,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            duration_ms: 2000,
            progression: Progression::Timed,
            retention_s: 3600,
            max_jobs: 10_000,
        }
    }
}

/// How jobs move from Running to their end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Progression {
    /// Running for `duration_ms`, then done.
    #[default]
    Timed,
    /// Done when created.
    Immediate,
    /// Running until `POST /_emulator/jobs/{id}/complete` or `/fail`.
    Manual,
}

/// `[auth]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `open`: any non-empty token names its own user. `strict`: only configured tokens are accepted.
    pub mode: AuthMode,
    /// Known users (`[[auth.users]]`).
    pub users: Vec<UserConfig>,
    /// How long an IAM token issued by `POST /v3/auth/tokens` is valid.
    pub token_ttl_s: u64,
    /// The secret that seals issued IAM tokens (at least 32 characters). Left out, a fresh random
    /// key is drawn at every start, so issued tokens do not survive a restart.
    pub token_key: Option<Secret>,
    /// The gateway's AK lockout (D15): more than 5 failed signatures in a row lock an access key
    /// for 5 minutes of the emulator's clock. Off by default, so negative tests never lock out
    /// positive ones.
    pub ak_lockout: bool,
    /// Project names, for the bodies of project-scoped IAM tokens (`[[auth.projects]]`).
    pub projects: Vec<ProjectConfig>,
}

/// `[[auth.projects]]`: a project's name (IAM names a region's default project after the region).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// The project id, as it appears in paths.
    pub id: String,
    /// Its name: a token request may scope to the project by it, and token bodies show it.
    pub name: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::default(),
            users: Vec::new(),
            token_ttl_s: 86_400,
            token_key: None,
            projects: Vec::new(),
            ak_lockout: false,
        }
    }
}

/// How unknown tokens are treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Any non-empty token is accepted and names its own user.
    #[default]
    Open,
    /// Only the tokens of `[[auth.users]]` are accepted; others get `ROMA.1002`.
    Strict,
}

/// One `[[auth.users]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserConfig {
    /// The user's name (unique).
    pub name: String,
    /// A static token that authenticates as this user (sent as `X-Auth-Token`).
    pub token: Option<Secret>,
    /// The password for `POST /v3/auth/tokens`.
    pub password: Option<Secret>,
    /// The account (IAM domain) the user belongs to; when set, token requests must name it.
    pub domain: Option<String>,
    /// The access key of AK/SK signing.
    pub access_key: Option<String>,
    /// The secret key of AK/SK signing.
    pub secret_key: Option<Secret>,
    /// When set, the only projects this user may use; others get `ROMA.1006`.
    pub projects: Option<Vec<String>>,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter (`info`, `debug`, `roma_emulator=debug`). `RUST_LOG` wins over it.
    pub level: String,
    /// `text` (for people) or `json` (one object a line, for log shippers).
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

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
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
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

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.request_timeout_ms == 0 {
            return Err(ConfigError::new(
                "server.request_timeout_ms",
                "must be at least 1",
            ));
        }
        let port = self
            .server
            .listen
            .rsplit_once(':')
            .map(|(host, port)| (host, port.parse::<u16>()));
        if !matches!(port, Some((host, Ok(_))) if !host.is_empty()) {
            return Err(ConfigError::new(
                "server.listen",
                format!(
                    "expected HOST:PORT (an IP or a host name), got {:?}",
                    self.server.listen
                ),
            ));
        }
        if self.server.header_read_timeout_ms == 0 || self.server.header_read_timeout_ms > 3_600_000 {
            return Err(ConfigError::new(
                "server.header_read_timeout_ms",
                "must be 1..3600000 (an hour)",
            ));
        }
        for (key, value) in [
            ("server.body_read_timeout_ms", self.server.body_read_timeout_ms),
            ("server.write_timeout_ms", self.server.write_timeout_ms),
        ] {
            if value == 0 || value > 3_600_000 {
                return Err(ConfigError::new(key, "must be 1..3600000 (an hour)"));
            }
        }
        if self.server.max_large_bodies == 0 || self.server.max_large_bodies > 1024 {
            return Err(ConfigError::new("server.max_large_bodies", "must be 1..1024"));
        }
        if self.server.max_connections == 0 {
            return Err(ConfigError::new("server.max_connections", "must be at least 1"));
        }
        if self.server.shutdown_grace_s > 3600 {
            return Err(ConfigError::new(
                "server.shutdown_grace_s",
                "must be at most 3600",
            ));
        }
        if self.server.request_timeout_ms > 3_600_000 {
            return Err(ConfigError::new(
                "server.request_timeout_ms",
                "must be at most 3600000 (an hour)",
            ));
        }
        if self.server.max_body_bytes == 0 {
            return Err(ConfigError::new("server.max_body_bytes", "must be at least 1"));
        }
        const DAY_MS: u64 = 86_400_000;
        if self.jobs.duration_ms > DAY_MS {
            return Err(ConfigError::new(
                "jobs.duration_ms",
                "must be at most 86400000 (a day)",
            ));
        }
        if self
            .emulator
            .admin_token
            .as_ref()
            .is_some_and(|t| t.expose().is_empty())
        {
            return Err(ConfigError::new(
                "emulator.admin_token",
                "must not be empty (leave it out to disable)",
            ));
        }
        const YEAR_S: u64 = 365 * 86_400;
        if self.auth.token_ttl_s == 0 || self.auth.token_ttl_s > YEAR_S {
            return Err(ConfigError::new(
                "auth.token_ttl_s",
                "must be 1..31536000 (a year)",
            ));
        }
        if self.jobs.retention_s > YEAR_S {
            return Err(ConfigError::new(
                "jobs.retention_s",
                "must be at most 31536000 (a year)",
            ));
        }
        if self
            .auth
            .token_key
            .as_ref()
            .is_some_and(|k| k.expose().chars().count() < 32)
        {
            return Err(ConfigError::new(
                "auth.token_key",
                "must be at least 32 characters (leave it out for a random key per start)",
            ));
        }
        if self.state.save_interval_s == 0 || self.state.save_interval_s > 86_400 {
            return Err(ConfigError::new(
                "state.save_interval_s",
                "must be 1..86400 (a day)",
            ));
        }
        if self.catalog.max_instances == 0
            || self.catalog.max_assets_per_instance == 0
            || self.catalog.max_bytes_per_instance == 0
        {
            return Err(ConfigError::new(
                "catalog",
                "max_instances, max_assets_per_instance and max_bytes_per_instance must be at least 1",
            ));
        }
        if self.jobs.max_jobs == 0 {
            return Err(ConfigError::new("jobs.max_jobs", "must be at least 1"));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, inst) in self.instances.iter().enumerate() {
            crate::scope::check_path_id("id", &inst.id)
                .map_err(|m| ConfigError::new(format!("instances[{i}].id"), m))?;
            if !ids.insert(inst.id.as_str()) {
                return Err(ConfigError::new(
                    format!("instances[{i}].id"),
                    format!("duplicate instance {:?}", inst.id),
                ));
            }
            for (field, assets) in [("apps", &inst.apps), ("tasks", &inst.tasks)] {
                let mut seen = std::collections::HashSet::new();
                for (j, asset) in assets.iter().enumerate() {
                    if asset.id.is_empty() || asset.id.len() > 128 || !seen.insert(asset.id.as_str()) {
                        return Err(ConfigError::new(
                            format!("instances[{i}].{field}[{j}].id"),
                            "must be 1..128 characters and unique in the instance",
                        ));
                    }
                }
            }
        }
        if let Some(url) = &self.server.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::new(
                "server.public_url",
                format!("expected an http:// or https:// URL, got {url:?}"),
            ));
        }
        let mut project_ids = std::collections::HashSet::new();
        for (i, project) in self.auth.projects.iter().enumerate() {
            crate::scope::check_path_id("id", &project.id)
                .map_err(|m| ConfigError::new(format!("auth.projects[{i}].id"), m))?;
            if !project_ids.insert(project.id.as_str()) {
                return Err(ConfigError::new(
                    format!("auth.projects[{i}].id"),
                    "duplicate project",
                ));
            }
            if project.name.is_empty() || project.name.len() > 64 {
                return Err(ConfigError::new(
                    format!("auth.projects[{i}].name"),
                    "must be 1..64 characters",
                ));
            }
        }
        let mut names = std::collections::HashSet::new();
        let mut tokens = std::collections::HashSet::new();
        let mut access_keys = std::collections::HashSet::new();
        for (i, user) in self.auth.users.iter().enumerate() {
            let key = |field: &str| format!("auth.users[{i}].{field}");
            if user.name.is_empty() || user.name.len() > 64 {
                return Err(ConfigError::new(key("name"), "must be 1..64 characters"));
            }
            if !names.insert(user.name.as_str()) {
                return Err(ConfigError::new(
                    key("name"),
                    format!("duplicate user {:?}", user.name),
                ));
            }
            if user.access_key.is_some() != user.secret_key.is_some() {
                return Err(ConfigError::new(
                    key("secret_key"),
                    "access_key and secret_key go together",
                ));
            }
            if let Some(ak) = &user.access_key
                && (ak.is_empty() || !access_keys.insert(ak.as_str()))
            {
                return Err(ConfigError::new(
                    key("access_key"),
                    "must be non-empty and unique",
                ));
            }
            if user.password.as_ref().is_some_and(|p| p.expose().is_empty()) {
                return Err(ConfigError::new(key("password"), "must not be empty"));
            }
            if let Some(token) = &user.token {
                if token.expose().is_empty() || token.expose().len() > 100_000 {
                    return Err(ConfigError::new(key("token"), "must be 1..100000 characters"));
                }
                if !tokens.insert(token.expose()) {
                    return Err(ConfigError::new(
                        key("token"),
                        "the same token is given to two users",
                    ));
                }
            }
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_defaults() {
        let c = Config::from_toml("").expect("empty config");
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.jobs.duration_ms, 2000);
        assert_eq!(c.auth.mode, AuthMode::Open);
        assert_eq!(c.api.error_statuses, ErrorStatuses::Documented);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = vec![
            (
                "[jobs]\nduration_ms = \"slow\"\n",
                "jobs.duration_ms",
                "wrong type",
            ),
            ("[jobs]\nduraton_ms = 5\n", "jobs.duraton_ms", "unknown key"),
            (
                "[api]\nerror_statuses = \"loud\"\n",
                "api.error_statuses",
                "unknown variant",
            ),
            ("[jobs]\nduration_ms = = 5\n", "jobs.duration_ms", "syntax"),
            (
                "[[auth.users]]\nname = \"\"\n",
                "auth.users[0].name",
                "validation",
            ),
            ("[jobs]\nduration_ms = 99999999999\n", "jobs.duration_ms", "range"),
            (
                "[auth]\ntoken_ttl_s = 300000000000\n",
                "auth.token_ttl_s",
                "overflowing ttl",
            ),
            (
                "[jobs]\nretention_s = 300000000000\n",
                "jobs.retention_s",
                "overflowing retention",
            ),
            ("[auth]\ntoken_key = \"short\"\n", "auth.token_key", "weak key"),
        ];
        for (text, key, what) in cases {
            let err = Config::from_toml(text).expect_err(what);
            assert_eq!(err.key, key, "{what}: {err}");
        }
        let unknown = Config::from_toml("[jobs]\nduraton_ms = 5\n").expect_err("unknown");
        assert!(unknown.message.contains("duraton_ms"), "{unknown}");
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn env_overrides_the_file_and_is_checked() {
        let c = Config::from_toml_and_env(
            "[jobs]\nduration_ms = 5\n",
            vars(&[
                ("ROMA_EMULATOR_JOBS_DURATION_MS", "7"),
                ("ROMA_EMULATOR_LISTEN", "0.0.0.0:9000"),
                ("UNRELATED", "x"),
            ]),
        )
        .expect("env");
        assert_eq!(c.jobs.duration_ms, 7);
        assert_eq!(c.server.listen, "0.0.0.0:9000");
        let err = Config::from_toml_and_env("", vars(&[("ROMA_EMULATOR_AUTH_MODE", "loose")]))
            .expect_err("bad mode");
        assert_eq!(err.key, "ROMA_EMULATOR_AUTH_MODE");
        let err = Config::from_toml_and_env("", vars(&[("ROMA_EMULATOR_JOBS_MAX_JOBS", "many")]))
            .expect_err("bad number");
        assert_eq!(err.key, "ROMA_EMULATOR_JOBS_MAX_JOBS");
        let both = vars(&[
            ("ROMA_EMULATOR_LOG", "warn"),
            ("ROMA_EMULATOR_LOG_LEVEL", "debug"),
        ]);
        assert_eq!(
            Config::from_toml_and_env("", both).expect("both").log.level,
            "debug",
            "the full name wins"
        );
    }

    #[test]
    fn every_key_of_the_env_table_is_set_by_its_variable() {
        let sample = |entry: &env::EnvKey| match (entry.key, entry.kind) {
            ("server.listen", _) => "127.0.0.1:9999",
            ("server.public_url", _) => "https://roma.example.test",
            ("api.error_statuses", _) => "catalog",
            ("api.dialect", _) => "current",
            ("jobs.progression", _) => "manual",
            ("auth.mode", _) => "strict",
            ("auth.token_key", _) => "a-token-key-of-at-least-32-characters",
            ("log.level", _) => "debug",
            ("log.format", _) => "json",
            ("state.file", _) => "/tmp/state.json",
            ("emulator.admin_token", _) => "admin",
            ("clock.mode", _) => "virtual",
            (_, env::Kind::Integer) => "3",
            (_, env::Kind::Boolean) => "true",
            (_, env::Kind::Text) => "x",
        };
        for entry in env::ENV_KEYS {
            let var = entry.var();
            let config = Config::from_toml_and_env("", vars(&[(var.as_str(), sample(entry))]))
                .unwrap_or_else(|e| panic!("{var}: {e}"));
            assert_ne!(config, Config::default(), "{var} changes {}", entry.key);
            if let Some(alias) = entry.alias {
                let by_alias = Config::from_toml_and_env("", vars(&[(alias, sample(entry))])).expect("alias");
                assert_eq!(by_alias, config, "{alias} sets {}", entry.key);
            }
        }
    }

    #[test]
    fn syntax_errors_name_the_line_and_column_and_show_it() {
        let err = Config::from_toml("[jobs]\nduration_ms = = 5\n").expect_err("syntax");
        assert!(err.message.contains("line 2, column"), "{err}");
        assert!(err.message.contains("duration_ms = = 5"), "{err}");
        let missing =
            Config::load(Some(Path::new("/nonexistent/roma.toml")), Vec::new()).expect_err("missing");
        assert_eq!(
            missing.to_string().lines().next(),
            Some(
                "config file /nonexistent/roma.toml: cannot read it: No such file or directory (os error 2)"
            )
        );
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let c = Config::from_toml("[[auth.users]]\nname = \"alice\"\ntoken = \"hunter2\"\n").expect("config");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn load_names_the_file() {
        let err = Config::load(Some(Path::new("/nonexistent/roma.toml")), Vec::new()).expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/roma.toml"), "{err}");
    }
}
