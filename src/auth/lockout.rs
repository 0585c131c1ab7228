//! The gateway's AK lockout (D15): after more than 5 consecutive failed signatures of one access
//! key, that key is refused for 5 minutes, on the emulator's clock. Off unless `[auth] ak_lockout`.
//! Kept per configured access key only (an unknown key is refused before it is counted), so it is
//! bounded by the configuration. A shared stub can list the locks and lift one key's lock through
//! the control plane (`GET`/`DELETE /_emulator/lockouts`), since anyone who has seen another
//! tenant's access key, which every signed request shows, can lock it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::clock::Timestamp;

/// Failures in a row that are still only failures; the next one locks the key.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked key stays locked.
pub const LOCKED_FOR: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Timestamp>,
}

/// The lockout state of every configured access key.
#[derive(Debug, Default)]
pub struct Lockouts {
    enabled: bool,
    /// Keyed by access keys as clients send them: SipHash, against collision floods.
    keys: Mutex<HashMap<String, Entry>>,
}

impl Lockouts {
    /// Lockouts that act only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            keys: Mutex::default(),
        }
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether access key `key` is locked at `now` (an expired lock is lifted).
    pub fn is_locked(&self, key: &str, now: Timestamp) -> bool {
        if !self.enabled {
            return false;
        }
        let mut keys = self.keys();
        match keys.get(key).and_then(|e| e.locked_until) {
            Some(until) if now < until => true,
            Some(_) => {
                keys.remove(key);
                false
            }
            None => false,
        }
    }

    /// The keys locked at `now`, with when each lock ends, by key.
    pub fn locked(&self, now: Timestamp) -> Vec<(String, Timestamp)> {
        let mut locked: Vec<(String, Timestamp)> = self
            .keys()
            .iter()
            .filter_map(|(k, e)| {
                e.locked_until
                    .filter(|until| now < *until)
                    .map(|u| (k.clone(), u))
            })
            .collect();
        locked.sort();
        locked
    }

    /// Lifts the lock of `key` (and forgets its failures); false when it was not locked at `now`.
    pub fn lift(&self, key: &str, now: Timestamp) -> bool {
        let mut keys = self.keys();
        let was_locked = keys
            .get(key)
            .and_then(|e| e.locked_until)
            .is_some_and(|until| now < until);
        keys.remove(key);
        was_locked
    }

    /// Counts a failed signature; the failure past [`MAX_FAILURES`] locks the key.
    pub fn failed(&self, key: &str, now: Timestamp) {
        if !self.enabled {
            return;
        }
        let mut keys = self.keys();
        let entry = match keys.get_mut(key) {
            Some(entry) => entry,
            None => keys.entry(key.to_owned()).or_default(),
        };
        entry.failures += 1;
        if entry.failures > MAX_FAILURES {
            entry.locked_until = Some(now.plus(LOCKED_FOR));
        }
    }

    /// A good signature ends the run of failures.
    pub fn succeeded(&self, key: &str) {
        if self.enabled {
            self.keys().remove(key);
        }
    }

    /// Lifts every lock (`POST /_emulator/reset`).
    pub fn clear(&self) {
        self.keys().clear();
    }
}
