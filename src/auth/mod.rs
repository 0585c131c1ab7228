//! Who is calling: turns the credentials of a request into a [`Caller`]. No HTTP here; the API
//! pipeline's authentication step hands over header values and puts the caller into the request.
//!
//! - this file: the caller, the refusals, the [`Authenticator`] and AK lockouts;
//! - `users`: the user table, configured and added at run time (D19);
//! - `token`: `X-Auth-Token` (static, issued, open mode) and issuing IAM tokens;
//! - `aksk`: SDK-HMAC-SHA256 signatures, checked in two steps around the body;
//! - `redact`: what a log line may show of a canonical request;
//! - `iam`, `signature`, `lockout`: the formats and rules those build on.
//!
//! Tokens are looked up by their SHA-256 digest, so no secret is ever compared byte by byte with
//! early exit, and no token is kept or logged in clear beyond the configuration.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::{Clock, Timestamp};
use crate::scope::UserId;
use crate::secret::Secret;

mod aksk;
pub mod iam;
pub mod lockout;
mod projects;
mod redact;
pub mod signature;
#[cfg(test)]
mod tests;
mod token;
mod users;

pub use aksk::{SignedRequest, Signer};
pub use iam::{PasswordAuth, TokenScope};
pub use projects::Project;
pub use redact::CREDENTIAL_HEADERS;
pub use token::IssuedToken;
pub use users::{MAX_RUNTIME_USERS, UserError, UserView};

/// The longest `X-Auth-Token` the documents allow.
pub const MAX_TOKEN_LEN: usize = 100_000;

/// The authenticated user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The user's name: a configured user's, or `token-<digest prefix>` for an unknown token in open mode.
    pub user: UserId,
    /// The only projects this user may use, if limited.
    pub projects: Option<Arc<[String]>>,
    /// The scope of an issued IAM token (D16); `None` for static and open-mode tokens and AK/SK.
    pub scope: Option<IssuedScope>,
}

/// What an issued IAM token serves (D16).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuedScope {
    /// Only this project.
    Project(Arc<str>),
    /// Only global services: none of the asset operations.
    Domain,
}

impl Caller {
    /// Why this caller's token may not be used on `project`, if it may not (D16).
    pub fn out_of_scope(&self, project: &str) -> Option<String> {
        match self.scope.as_ref()? {
            IssuedScope::Project(p) if **p == *project => None,
            IssuedScope::Project(p) => Some(format!(
                "the token is scoped to project {p}, not to project {project} of the path"
            )),
            IssuedScope::Domain => Some(format!(
                "the token is domain-scoped (global services only); project {project} needs a project-scoped token (auth.scope.project)"
            )),
        }
    }

    /// Whether this caller may use `project` of a path: its token's scope first (D16), then the
    /// user's project list.
    pub fn check_project(&self, project: &str) -> Result<(), AuthError> {
        if let Some(why) = self.out_of_scope(project) {
            return Err(AuthError::OutOfScope(why));
        }
        if !self.may_use(project) {
            return Err(AuthError::ProjectForbidden(project.to_owned()));
        }
        Ok(())
    }

    /// Whether this caller may use `project`.
    pub fn may_use(&self, project: &str) -> bool {
        self.projects
            .as_ref()
            .is_none_or(|p| p.iter().any(|q| q == project))
    }
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token at all.
    #[error("X-Auth-Token is missing")]
    Missing,
    /// A token that is too long for the documented limit.
    #[error("X-Auth-Token: at most 100000 characters")]
    TooLong,
    /// A token that is not accepted.
    #[error("{0}")]
    BadToken(&'static str),
    /// An issued token past its expiry.
    #[error("token expires, expires_at: {0}")]
    Expired(String),
    /// An AK/SK signature that does not verify; the text says why (never the secret).
    #[error("{0}")]
    Signature(String),
    /// The user may not use this project.
    #[error("the user may not use project {0}")]
    ProjectForbidden(String),
    /// The token's scope does not cover the project of the path (D16); the text says why.
    #[error("{0}")]
    OutOfScope(String),
    /// A token request with a malformed body; the text names the field.
    #[error("{0}")]
    IamInvalid(String),
    /// A token request for an unknown user, a wrong password or a wrong domain.
    #[error("The username or password is wrong.")]
    WrongPassword,
}

/// How unknown tokens are treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Any non-empty token is accepted and names its own user.
    #[default]
    Open,
    /// Only the tokens of the declared users are accepted; others get `ROMA.1002`.
    Strict,
}

/// A declared user, as the authenticator is given it (from `[[auth.users]]`, or added at run time
/// through the control plane, whose JSON body it reads).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserSpec {
    /// The user's name (unique).
    pub name: String,
    /// A static token that authenticates as this user.
    pub token: Option<Secret>,
    /// The password of password tokens.
    pub password: Option<Secret>,
    /// The account (IAM domain) the user belongs to.
    pub domain: Option<String>,
    /// The access key of AK/SK signing.
    pub access_key: Option<String>,
    /// The secret key of AK/SK signing.
    pub secret_key: Option<Secret>,
    /// When set, the only projects this user may use.
    pub projects: Option<Vec<String>>,
}

/// Written with its secrets: only the state file holds users added at run time.
impl serde::Serialize for UserSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("UserSpec", 7)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("token", &self.token.as_ref().map(Secret::expose))?;
        out.serialize_field("password", &self.password.as_ref().map(Secret::expose))?;
        out.serialize_field("domain", &self.domain)?;
        out.serialize_field("access_key", &self.access_key)?;
        out.serialize_field("secret_key", &self.secret_key.as_ref().map(Secret::expose))?;
        out.serialize_field("projects", &self.projects)?;
        out.end()
    }
}

/// What the authenticator is built from (the composition root derives it from `[auth]`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// How unknown tokens are treated.
    pub mode: Mode,
    /// The declared users.
    pub users: Vec<UserSpec>,
    /// How long an issued IAM token is valid.
    pub token_ttl: Duration,
    /// Whether failed signatures lock an access key (D15).
    pub ak_lockout: bool,
    /// Project names by id, for project-scoped token bodies.
    pub project_names: HashMap<String, String>,
}

/// The users the emulator knows, and how it treats credentials.
#[derive(Debug)]
pub struct Authenticator {
    mode: Mode,
    users: users::Users,
    token_ttl: Duration,
    token_key: [u8; 32],
    clock: Clock,
    lockouts: lockout::Lockouts,
    /// Open-mode user names, keyed with the token key.
    open_names: token::OpenNames,
    /// Project names by id (`[[auth.projects]]`).
    project_names: HashMap<String, String>,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl Authenticator {
    /// Builds the user table from `settings`. Issued tokens are sealed with `token_key` and expire by `clock`.
    pub fn new(config: Settings, token_key: [u8; 32], clock: Clock) -> Self {
        let token_ttl = config.token_ttl;
        Self {
            mode: config.mode,
            users: users::Users::new(config.users),
            token_ttl,
            token_key,
            clock,
            lockouts: lockout::Lockouts::new(config.ak_lockout),
            open_names: token::OpenNames::new(&token_key),
            project_names: config.project_names,
        }
    }

    /// The key that seals issued tokens (saved in the state file so tokens survive a restart).
    pub fn token_key(&self) -> [u8; 32] {
        self.token_key
    }

    /// A fingerprint of the token key that does not give it away: 16 hex digits of a SHA-256 of
    /// it under a label of its own.
    pub fn token_key_fingerprint(&self) -> String {
        let mut labelled = b"roma-emulator token key fingerprint\n".to_vec();
        labelled.extend_from_slice(&self.token_key);
        hex::encode(&digest(&labelled)[..8])
    }

    /// Lifts every AK lockout.
    pub fn clear_lockouts(&self) {
        self.lockouts.clear();
    }

    /// The access keys locked now, with when each lock ends.
    pub fn lockouts(&self) -> Vec<(String, Timestamp)> {
        self.lockouts.locked(self.clock.now())
    }

    /// Adds a user at run time (D19): checked as `[[auth.users]]` entries are, unique in name,
    /// access key and token.
    pub fn add_user(&self, spec: UserSpec) -> Result<UserView, UserError> {
        self.users.add(spec)
    }

    /// Removes a user added at run time.
    pub fn remove_user(&self, name: &str) -> Result<(), UserError> {
        self.users.remove(name)
    }

    /// Every user (never a secret).
    pub fn users(&self) -> Vec<UserView> {
        self.users.list()
    }

    /// The users added at run time, with their secrets (for the state file only).
    pub fn runtime_users(&self) -> Vec<UserSpec> {
        self.users.runtime()
    }

    /// Replaces the users added at run time (a restored snapshot, or none on reset); those that
    /// clash with a configured user or an earlier spec are dropped, one line each in the answer.
    pub fn replace_runtime_users(&self, specs: &[UserSpec]) -> Vec<String> {
        self.users.replace_runtime(specs)
    }

    /// Lifts the lock of one access key; false when it was not locked.
    pub fn lift_lockout(&self, access_key: &str) -> bool {
        self.lockouts.lift(access_key, self.clock.now())
    }
}

/// Whether `given` equals the secret `expected`, compared in constant time (on digests, so the
/// length of the secret does not show either).
pub fn same_secret(given: &[u8], expected: &str) -> bool {
    digest(given).ct_eq(&digest(expected.as_bytes())).into()
}
