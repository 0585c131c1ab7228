//! The configuration model: every section and key, with its default. Plain data; loading is in
//! `load.rs`, the checks types cannot make in `validate.rs`.

use std::path::PathBuf;

use serde::Deserialize;

use crate::secret::Secret;

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
    /// `[gateway]`: the gateway's flow control (throttling).
    pub gateway: GatewayConfig,
}

/// `[gateway]`: flow control as the real gateway does it (429 `APIG.0308`), on the emulator's
/// clock. Off unless a rate is set.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Requests a second each user may make to the asset API (0: no limit).
    pub rate_per_user_per_s: u32,
    /// Requests a second each address may make without a user: IAM token requests (0: no limit).
    pub rate_per_address_per_s: u32,
    /// Requests a caller may make at once above its rate (0: one second's worth of its rate).
    pub burst: u32,
}

/// `[state]`
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateConfig {
    /// The snapshot file; none (the default) keeps everything in memory only.
    pub file: Option<PathBuf>,
    /// A repro bundle (`GET /_emulator/bundle`) to start with, read once and never written; the
    /// clock is then virtual, at the bundle's time (`--bundle`).
    pub bundle: Option<PathBuf>,
    /// How often the snapshot is written while something changed (it is also written on graceful
    /// shutdown and on `POST /_emulator/state/save`).
    pub save_interval_s: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            file: None,
            bundle: None,
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
    /// Whether entries carry what a request meant (`summary`: ids, prefixes, file names, which
    /// can be business names).
    pub summaries: bool,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            max_entries: 1000,
            summaries: true,
        }
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
    /// The one project it belongs to (D18); unset, it exists under every project, each with its
    /// own copy of these assets.
    pub project: Option<String>,
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
    /// An application's description, as CheckRomaAppDetails shows it (D26; applications only).
    pub remark: Option<String>,
    /// An application's access key (8..64 characters; its id when left out; applications only).
    pub key: Option<String>,
    /// A favourite application, listed first by ListRomaApp (applications only).
    pub favorite: bool,
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
    /// Large request bodies (ImportAsset, `PUT /_emulator/state`) read at once, and
    /// `GET /_emulator/state` answers written; a caller holds at most one of them.
    pub max_large_bodies: usize,
    /// How long a large body waits for its permit (its caller's own earlier one, or any free
    /// one) before it is answered `EMULATOR.0503`, unread.
    pub large_body_wait_ms: u64,
    /// After `min_upload_grace_ms`, a large body must keep arriving at this average rate (bytes
    /// a second, counted from the end of the grace); slower is answered `EMULATOR.0408` and its
    /// permit is freed. 0 turns the floor off.
    pub min_upload_bytes_per_s: u64,
    /// See `min_upload_bytes_per_s`.
    pub min_upload_grace_ms: u64,
    /// A second address (`HOST:PORT`) that serves only `/_emulator/health` and `/ready`, with a
    /// budget of its own: point probes there and no connection flood of `listen` delays them.
    pub probe_listen: Option<String>,
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
            large_body_wait_ms: 2_000,
            min_upload_bytes_per_s: 16 * 1024,
            min_upload_grace_ms: 5_000,
            probe_listen: None,
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
