//! The user table: the users `[[auth.users]]` declares, and those added at run time through the
//! control plane (D19), looked up by token digest, access key and name. Guarded by one lock that
//! is held for a lookup or a change only.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

use super::{Caller, UserSpec, digest};
use crate::scope::UserId;
use crate::secret::Secret;

/// The most users added at run time (a bound on what tenants can make the emulator hold).
pub const MAX_RUNTIME_USERS: usize = 1000;

/// A known user.
#[derive(Debug)]
pub(super) struct User {
    pub(super) name: UserId,
    pub(super) password: Option<[u8; 32]>,
    pub(super) domain: Option<String>,
    pub(super) secret_key: Option<Secret>,
    pub(super) projects: Option<Arc<[String]>>,
    /// Which incarnation of the name this is (see [`super::iam::incarnation`]); 0 for a user no
    /// spec declares (it is never issued a token).
    pub(super) incarnation: u64,
}

impl User {
    pub(super) fn caller(&self) -> Caller {
        Caller {
            user: self.name.clone(),
            projects: self.projects.clone(),
            scope: None,
        }
    }
}

/// Why a user cannot be added or removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// A field is missing or wrong; the text names it.
    #[error("{0}")]
    Invalid(String),
    /// The name, access key or token is taken, or the table is full.
    #[error("{0}")]
    Conflict(String),
    /// No user added at run time has this name.
    #[error("no user added at run time is named {0}")]
    NotFound(String),
}

/// A user as listed (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserView {
    /// The name.
    pub name: String,
    /// The access key, if the user signs.
    pub access_key: Option<String>,
    /// The only projects it may use, if limited.
    pub projects: Option<Vec<String>>,
    /// `config` or `runtime`.
    pub origin: &'static str,
}

impl UserView {
    /// `spec` as listed, without its secrets.
    fn of(spec: &UserSpec, origin: &'static str) -> Self {
        Self {
            name: spec.name.clone(),
            access_key: spec.access_key.clone(),
            projects: spec.projects.clone(),
            origin,
        }
    }
}

/// The users by name, token digest and access key. Keyed by what users (and, at run time,
/// tenants) choose: SipHash, keyed per process, so nobody can aim collisions at a lookup every
/// request makes.
#[derive(Debug, Default)]
struct Table {
    by_name: HashMap<String, Arc<User>>,
    by_token: HashMap<[u8; 32], Arc<User>>,
    by_access_key: HashMap<String, Arc<User>>,
    /// The specs of the users added at run time, by name (what a snapshot saves).
    runtime: BTreeMap<String, UserSpec>,
}

/// The users, behind one lock.
#[derive(Debug, Default)]
pub(super) struct Users {
    table: RwLock<Table>,
    /// The configured users, to list them and to put them back on reset.
    configured: Vec<UserSpec>,
}

impl Users {
    /// The table of the configured users (already validated by the configuration).
    pub(super) fn new(configured: Vec<UserSpec>) -> Self {
        let mut table = Table::default();
        for spec in &configured {
            table.insert(spec);
        }
        Self {
            table: RwLock::new(table),
            configured,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn by_token(&self, token_digest: &[u8; 32]) -> Option<Arc<User>> {
        self.read().by_token.get(token_digest).cloned()
    }

    pub(super) fn by_access_key(&self, access_key: &str) -> Option<Arc<User>> {
        self.read().by_access_key.get(access_key).cloned()
    }

    pub(super) fn by_name(&self, name: &str) -> Option<Arc<User>> {
        self.read().by_name.get(name).cloned()
    }

    /// Adds a user at run time: checked as `[[auth.users]]` entries are, and unique in name,
    /// access key and token among all users.
    pub(super) fn add(&self, spec: UserSpec) -> Result<UserView, UserError> {
        check(&spec)?;
        let mut table = self.write();
        if table.runtime.len() >= MAX_RUNTIME_USERS {
            return Err(UserError::Conflict(format!(
                "at most {MAX_RUNTIME_USERS} users may be added at run time"
            )));
        }
        if table.by_name.contains_key(&spec.name) {
            return Err(UserError::Conflict(format!(
                "a user is already named {}",
                spec.name
            )));
        }
        if let Some(ak) = spec
            .access_key
            .as_ref()
            .filter(|ak| table.by_access_key.contains_key(*ak))
        {
            return Err(UserError::Conflict(format!("access key {ak} is already taken")));
        }
        let token_taken = spec
            .token
            .as_ref()
            .is_some_and(|t| table.by_token.contains_key(&digest(t.expose().as_bytes())));
        if token_taken {
            return Err(UserError::Conflict("the token is already another user's".into()));
        }
        table.insert(&spec);
        let added = UserView::of(&spec, "runtime");
        table.runtime.insert(spec.name.clone(), spec);
        Ok(added)
    }

    /// Removes a user added at run time (configured users stay).
    pub(super) fn remove(&self, name: &str) -> Result<(), UserError> {
        let mut table = self.write();
        let spec = table
            .runtime
            .remove(name)
            .ok_or_else(|| UserError::NotFound(name.to_owned()))?;
        table.by_name.remove(name);
        if let Some(ak) = &spec.access_key {
            table.by_access_key.remove(ak);
        }
        if let Some(token) = &spec.token {
            table.by_token.remove(&digest(token.expose().as_bytes()));
        }
        Ok(())
    }

    /// Every user, configured first, then those added at run time, by name.
    pub(super) fn list(&self) -> Vec<UserView> {
        let table = self.read();
        let configured = self.configured.iter().map(|s| UserView::of(s, "config"));
        configured
            .chain(table.runtime.values().map(|s| UserView::of(s, "runtime")))
            .collect()
    }

    /// The users added at run time, with their secrets (for the state file).
    pub(super) fn runtime(&self) -> Vec<UserSpec> {
        self.read().runtime.values().cloned().collect()
    }

    /// Replaces the users added at run time by `specs`. The configuration wins: a spec that does
    /// not fit beside the configured users (and the specs before it) is dropped; the answer says
    /// which and why, one line each, so a past `PUT` or `POST /_emulator/users` can never stop a
    /// start.
    pub(super) fn replace_runtime(&self, specs: &[UserSpec]) -> Vec<String> {
        let fresh = Users::new(self.configured.clone());
        let dropped = specs
            .iter()
            .filter_map(|spec| {
                let why = fresh.add(spec.clone()).err()?;
                let key = spec.access_key.as_deref().map(|ak| format!(" (access key {ak})"));
                Some(format!(
                    "runtime user {}{} dropped: {why}",
                    spec.name,
                    key.unwrap_or_default()
                ))
            })
            .collect();
        *self.write() = fresh.table.into_inner().unwrap_or_else(PoisonError::into_inner);
        dropped
    }
}

impl Table {
    fn insert(&mut self, spec: &UserSpec) {
        let user = Arc::new(User {
            name: spec.name.as_str().into(),
            password: spec.password.as_ref().map(|p| digest(p.expose().as_bytes())),
            domain: spec.domain.clone(),
            secret_key: spec.secret_key.clone(),
            projects: spec.projects.as_ref().map(|p| p.clone().into()),
            incarnation: super::iam::incarnation(spec),
        });
        if let Some(token) = &spec.token {
            self.by_token
                .insert(digest(token.expose().as_bytes()), user.clone());
        }
        if let Some(ak) = &spec.access_key {
            self.by_access_key.insert(ak.clone(), user.clone());
        }
        self.by_name.insert(spec.name.clone(), user);
    }
}

/// The rules of one user's fields (those of `[[auth.users]]`).
fn check(spec: &UserSpec) -> Result<(), UserError> {
    let invalid = |m: &str| Err(UserError::Invalid(m.to_owned()));
    if spec.name.is_empty() || spec.name.chars().count() > 64 {
        return invalid("name: must be 1..64 characters");
    }
    if spec.access_key.is_some() != spec.secret_key.is_some() {
        return invalid("secret_key: access_key and secret_key go together");
    }
    if spec
        .access_key
        .as_ref()
        .is_some_and(|ak| ak.is_empty() || ak.len() > 128)
    {
        return invalid("access_key: must be 1..128 characters");
    }
    if spec
        .secret_key
        .as_ref()
        .is_some_and(|sk| sk.expose().is_empty() || sk.expose().len() > 128)
    {
        return invalid("secret_key: must be 1..128 characters");
    }
    if spec.password.as_ref().is_some_and(|p| p.expose().is_empty()) {
        return invalid("password: must not be empty");
    }
    if spec
        .token
        .as_ref()
        .is_some_and(|t| t.expose().is_empty() || t.expose().len() > super::MAX_TOKEN_LEN)
    {
        return invalid("token: must be 1..100000 characters");
    }
    if spec.projects.as_ref().is_some_and(|p| p.len() > 1000) {
        return invalid("projects: at most 1000");
    }
    if spec.token.is_none() && spec.access_key.is_none() && spec.password.is_none() {
        return invalid("give the user a token, an access_key and secret_key, or a password");
    }
    Ok(())
}
