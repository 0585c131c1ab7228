//! State that survives a restart: the whole mutable state as one versioned JSON snapshot, written
//! atomically (a temporary file in the same directory, fsync, rename, fsync of the directory), so a
//! crash mid-write leaves the previous snapshot whole. No HTTP here.
//!
//! Versioning rule: `version` grows when the meaning of a field changes or a required field is
//! added; a snapshot of a newer version than this build knows is refused, never half-read. Older
//! versions are read as they are (fields added later have defaults).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::clock::Timestamp;
use crate::faults::Fault;
use crate::faults::Faults;
use crate::ids::Ids;
use crate::jobs::JobRegistry;
use crate::jobs::RegistrySnapshot;
use crate::journal::Journal;

pub mod bundle;
mod migrate;

/// What a snapshot saves and restores: plain references to the domain's state (the composition
/// root hands them over; persistence knows nothing else of it).
#[derive(Debug, Clone, Copy)]
pub struct Parts<'a> {
    /// Users and the token-sealing key.
    pub auth: &'a Authenticator,
    /// The emulator's time.
    pub clock: &'a Clock,
    /// The id streams.
    pub ids: &'a Ids,
    /// Jobs, archives and the catalog.
    pub jobs: &'a JobRegistry,
    /// The request journal.
    pub journal: &'a Journal,
    /// The fault rules.
    pub faults: &'a Faults,
}

/// The `format` of a snapshot.
pub const FORMAT: &str = "roma-emulator-state";
/// The snapshot version this build writes, and the newest it reads. Version 2 keys the catalog by
/// project and instance (D18); version 3 gives an application the record of the application API
/// (`info`, D26), which a version-2 snapshot reads without; a version-1 snapshot is migrated as it
/// is read.
pub const VERSION: u32 = 3;

/// The whole mutable state (`R`: the registry's form; a version-1 snapshot is read with its own).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot<R = RegistrySnapshot> {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written by this build.
    pub version: u32,
    /// The key that seals issued tokens (hex). In the state file, and in an export only when
    /// asked for (`GET /_emulator/state?include=token_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
    /// A fingerprint of that key (never the key): an import under another key says that its
    /// open-mode tenants cannot match (#27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_key_fingerprint: Option<String>,
    /// The virtual clock's time (absent under the real clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<Timestamp>,
    /// How far each seeded id stream has gone (jobs, archives, requests, draws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<[u64; 4]>,
    /// Jobs, archives not yet downloaded, the catalog.
    pub registry: R,
    /// The request journal, oldest first.
    #[serde(default)]
    pub journal: Vec<crate::journal::Shared>,
    /// The fault rules.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// The users added at run time, with their secrets (D19). Only in the state file, never
    /// exported, like `token_key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<crate::auth::UserSpec>,
    /// What a repro bundle was taken of (none for a whole snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<bundle::BundleInfo>,
}

#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
}

/// Which secrets a captured snapshot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    /// None (an export).
    None,
    /// The token-sealing key (an export asked for with `?include=token_key`).
    TokenKey,
    /// The key and the users added at run time (the state file).
    All,
}

impl Snapshot {
    /// The state of `app` now, with `secrets`.
    pub fn capture(app: &Parts<'_>, secrets: Secrets) -> Self {
        let with_secrets = secrets == Secrets::All;
        Self {
            format: FORMAT.to_owned(),
            version: VERSION,
            token_key: (secrets != Secrets::None).then(|| hex::encode(app.auth.token_key())),
            token_key_fingerprint: Some(app.auth.token_key_fingerprint()),
            clock: app.clock.is_virtual().then(|| app.clock.now()),
            ids: app.ids.seed.map(|_| app.ids.positions()),
            registry: app.jobs.snapshot(),
            journal: app.journal.all(),
            faults: app.faults.list(),
            users: if with_secrets {
                app.auth.runtime_users()
            } else {
                Vec::new()
            },
            bundle: None,
        }
    }

    /// Reads a snapshot from JSON, refusing another format or a newer version by name. The JSON is
    /// read straight into its typed form (no tree of it is built), so reading costs about what the
    /// text weighs. `max_instances` is the live `[catalog] max_instances`: a version-1 catalog that
    /// would place more namespaces is refused before any is made.
    pub fn from_json(bytes: &[u8], max_instances: usize) -> Result<Self, String> {
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| format!("not a readable snapshot: {e}"))?;
        if header.format.as_deref() != Some(FORMAT) {
            return Err(format!(
                "not a snapshot: format is {:?}, expected {FORMAT:?}",
                header.format
            ));
        }
        match header.version {
            Some(v) if v > VERSION => Err(format!(
                "snapshot version {v} was written by a newer emulator; this one reads up to {VERSION}"
            )),
            None | Some(0) => Err("the snapshot has no valid version".into()),
            Some(1) => {
                let v1: Snapshot<migrate::V1Registry> = typed(bytes)?;
                let registry = migrate::v1_to_v2(v1.registry, max_instances)?;
                Ok(Snapshot {
                    format: v1.format,
                    version: VERSION,
                    token_key: v1.token_key,
                    token_key_fingerprint: v1.token_key_fingerprint,
                    clock: v1.clock,
                    ids: v1.ids,
                    registry,
                    journal: v1.journal,
                    faults: v1.faults,
                    users: v1.users,
                    bundle: None,
                })
            }
            Some(_) => typed(bytes),
        }
    }

    /// The token-sealing key it carries, if any.
    pub fn token_key(&self) -> Result<Option<[u8; 32]>, String> {
        self.token_key
            .as_deref()
            .map(|k| {
                hex::decode(k)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| "token_key: expected 64 hex digits".to_owned())
            })
            .transpose()
    }

    /// Replaces the running state of `app` by this one, checked first: a bad snapshot changes
    /// nothing. The running token-sealing key stays. The answer holds a warning a line for what
    /// was left out (a runtime user that clashes with the configuration, which wins).
    pub fn apply(self, app: &Parts<'_>) -> Result<Vec<String>, String> {
        for fault in &self.faults {
            fault
                .spec
                .validate()
                .map_err(|e| format!("fault {}: {e}", fault.id))?;
        }
        if self.faults.len() > crate::faults::MAX_FAULTS {
            return Err(format!("faults: at most {}", crate::faults::MAX_FAULTS));
        }
        if let Some(t) = self.clock.filter(|t| *t > Timestamp::MAX) {
            return Err(format!("clock: {} is past 9999", t.0));
        }
        if let Some(k) = self
            .ids
            .and_then(|ids| ids.iter().position(|p| *p > crate::ids::MAX_POSITION))
        {
            return Err(format!("ids[{k}]: a position is at most 2^60"));
        }
        app.jobs.restore(self.registry)?;
        app.faults.replace(self.faults)?;
        app.journal.replace(self.journal);
        // Users added at run time are only in a state file: a snapshot without them (an export)
        // leaves the running ones as they are.
        let mut warnings = Vec::new();
        if !self.users.is_empty() {
            warnings = app.auth.replace_runtime_users(&self.users);
        }
        let running = app.auth.token_key_fingerprint();
        if let Some(theirs) = self.token_key_fingerprint.filter(|f| *f != running) {
            warnings.push(format!(
                "the state was exported under another [auth] token_key (fingerprint {theirs}; this emulator's is {running}): open-mode and undeclared access-key users are named with that key, so their jobs and archives are not found here, and IAM tokens issued there are refused. To move a stub whole, start the new one on a state file exported with GET /_emulator/state?include=token_key, or configure the same [auth] token_key"
            ));
        }
        if let Some(t) = self.clock {
            app.clock.set(t);
        }
        if let (Some(positions), Some(_)) = (self.ids, app.ids.seed) {
            app.ids.advance_to(positions);
        }
        app.jobs.settle();
        Ok(warnings)
    }
}

/// Reads JSON into `T`; the error names the path of the wrong value
/// (`registry.jobs[0].scope.project`), as the validator's own refusals do.
fn typed<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(bytes))
        .map_err(|e| format!("the snapshot is damaged: {}: {}", e.path(), e.inner()))
}

/// Reads the snapshot at `path`; `Ok(None)` when there is no file yet. `max_instances`: as
/// [`Snapshot::from_json`].
pub fn read(path: &Path, max_instances: usize) -> Result<Option<Snapshot>, String> {
    match std::fs::read(path) {
        Ok(bytes) => Snapshot::from_json(&bytes, max_instances).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read it: {e}")),
    }
}

/// Reads the repro bundle at `path` for a start, and sets what it needs of `config`: a virtual
/// clock (the bundle sets its time), and the bundle's seed when the config has none (its ids then
/// continue from the bundle's positions).
pub fn load_bundle(path: &Path, config: &mut crate::config::Config) -> Result<Snapshot, String> {
    let snapshot = read(path, config.catalog.max_instances)?.ok_or_else(|| "no such file".to_owned())?;
    config.clock.mode = crate::config::ClockMode::Virtual;
    if config.emulator.seed.is_none() {
        config.emulator.seed = snapshot.bundle.as_ref().and_then(|b| b.seed);
    }
    Ok(snapshot)
}

/// Takes the state file `path` for this process: `<file>.lock` beside it is created (so the
/// directory must exist and be writable) and locked for as long as the returned file is held. A
/// second emulator on the same file (two containers on one volume) is refused here.
pub fn claim(path: &Path) -> Result<std::fs::File, String> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(format!("its directory {} does not exist", dir.display()));
    }
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push(".lock");
    let lock_path = PathBuf::from(lock_path);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let lock = options.open(&lock_path).map_err(|e| {
        format!(
            "cannot create {} (is the directory writable?): {e}",
            lock_path.display()
        )
    })?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "another process holds it (lock file {}); two emulators cannot share one state file",
            lock_path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", lock_path.display())),
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` to `path` atomically, readable by its owner only (it holds the token key). The
/// temporary file beside it has a name no other writer uses, and is created exclusively: a file
/// or symbolic link already there is never followed or written.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = hex::encode(&crate::ids::os_random_key()[..8]);
    let temp = dir.join(format!(".{name}.tmp-{}-{unique}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        std::fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Saves the state of `app` to `file` (the `[state] file`) now, if one is configured and the state
/// changed since the last save (or `force`). Returns the bytes written, `None` when nothing was written.
pub fn save(
    app: &Parts<'_>,
    file: Option<&Path>,
    last_save: &LastSave,
    force: bool,
) -> Result<Option<usize>, String> {
    let Some(path) = file else {
        return Err("no [state] file is configured".into());
    };
    let snapshot = Snapshot::capture(app, Secrets::All);
    let bytes = serde_json::to_vec(&snapshot).map_err(|e| e.to_string())?;
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    let mut last = last_save
        .last_digest
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !force && *last == digest {
        return Ok(None);
    }
    write_atomically(path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    *last = digest;
    last_save
        .saved_at_ms
        .store(Timestamp::system_now().0, Ordering::Release);
    Ok(Some(bytes.len()))
}

/// What is on disk now, for a log line: when this process last wrote the file, else whether a
/// file from before is there.
pub fn on_disk(file: Option<&Path>, last_save: &LastSave) -> String {
    let saved_at = last_save.saved_at_ms.load(Ordering::Acquire);
    match file {
        None => "no state file is configured".into(),
        Some(_) if saved_at > 0 => format!(
            "the snapshot saved at {} is on disk",
            Timestamp(saved_at).rfc3339_millis()
        ),
        Some(path) if path.is_file() => format!("{} is the file found at startup, unchanged", path.display()),
        Some(path) => format!("no snapshot is on disk at {}", path.display()),
    }
}

/// The last save of a running emulator: the digest of the last snapshot written
/// (to skip unchanged saves) and when it was written.
#[derive(Debug, Default)]
pub struct LastSave {
    /// SHA-256 of the last snapshot written.
    pub last_digest: std::sync::Mutex<String>,
    /// When it was written (ms since the epoch; 0: never).
    pub saved_at_ms: std::sync::atomic::AtomicU64,
}

#[cfg(test)]
mod tests;
