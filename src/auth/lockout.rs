//! The gateway's AK lockout (D15): after more than 5 consecutive failed signatures of one access
//! key, that key is refused for 5 minutes, on the emulator's clock. Off unless `[auth] ak_lockout`.
//! A shared stub can list the locks and lift one key's lock through the control plane
//! (`GET`/`DELETE /_emulator/lockouts`), since anyone who has seen another tenant's access key,
//! which every signed request shows, can lock it.
//!
//! The bookkeeping is bounded by construction (#27): only keys that could sign are counted (the
//! caller counts a declared key's failures, and an undeclared open-mode key's only once its date
//! and headers passed, so its key is at most [`MAX_KEY_LEN`] long); at most [`MAX_TRACKED`] keys are
//! kept, the least recently failed evicted first; and a key's entry ages out [`LOCKED_FOR`] after
//! its last failure, locked or not, so a run of failures is "consecutive" within that window.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::clock::Timestamp;
use crate::recent::Recent;

/// Failures in a row that are still only failures; the next one locks the key.
pub const MAX_FAILURES: u32 = 5;
/// How long a locked key stays locked, and how long a run of failures is remembered.
pub const LOCKED_FOR: Duration = Duration::from_secs(5 * 60);
/// The most keys whose failures are kept; past it the least recently failed is forgotten.
pub const MAX_TRACKED: usize = 10_000;
/// The longest access key there is: a declared one is 1..128 characters, and an undeclared one
/// (D19) longer than that is refused before it is looked at.
pub const MAX_KEY_LEN: usize = 128;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// The last failure; the entry ages out [`LOCKED_FOR`] after it.
    last: Timestamp,
}

impl Entry {
    fn locked_until(&self) -> Option<Timestamp> {
        (self.failures > MAX_FAILURES).then(|| self.last.plus(LOCKED_FOR))
    }

    fn expired(&self, now: Timestamp) -> bool {
        now >= self.last.plus(LOCKED_FOR)
    }
}

/// The lockout state of the access keys that failed lately, by their last failure.
#[derive(Debug, Default)]
pub struct Lockouts {
    enabled: bool,
    keys: Mutex<Recent<Entry>>,
}

impl Lockouts {
    /// Lockouts that act only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            keys: Mutex::default(),
        }
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, Recent<Entry>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether access key `key` is locked at `now`.
    pub fn is_locked(&self, key: &str, now: Timestamp) -> bool {
        self.enabled
            && self
                .keys()
                .get(key)
                .and_then(Entry::locked_until)
                .is_some_and(|until| now < until)
    }

    /// The keys locked at `now`, with when each lock ends, by key.
    pub fn locked(&self, now: Timestamp) -> Vec<(String, Timestamp)> {
        let mut locked: Vec<(String, Timestamp)> = self
            .keys()
            .iter()
            .filter_map(|(k, e)| {
                e.locked_until()
                    .filter(|until| now < *until)
                    .map(|u| (k.to_owned(), u))
            })
            .collect();
        locked.sort();
        locked
    }

    /// Lifts the lock of `key` (and forgets its failures); false when it was not locked at `now`.
    pub fn lift(&self, key: &str, now: Timestamp) -> bool {
        self.keys()
            .remove(key)
            .and_then(|e| e.locked_until())
            .is_some_and(|until| now < until)
    }

    /// Counts a failed signature; the failure past [`MAX_FAILURES`] locks the key. A key longer
    /// than [`MAX_KEY_LEN`] is never counted (no user has one).
    pub fn failed(&self, key: &str, now: Timestamp) {
        if !self.enabled || key.len() > MAX_KEY_LEN {
            return;
        }
        let mut keys = self.keys();
        // The entries that aged out go first, oldest first.
        while keys.oldest().is_some_and(|e| e.expired(now)) {
            keys.pop_oldest();
        }
        let failures = keys
            .remove(key)
            .filter(|e| !e.expired(now))
            .map_or(0, |e| e.failures);
        while keys.len() >= MAX_TRACKED {
            keys.pop_oldest();
        }
        keys.touch(
            key,
            Entry {
                failures: failures.saturating_add(1),
                last: now,
            },
        );
    }

    /// A good signature ends the run of failures.
    pub fn succeeded(&self, key: &str) {
        if self.enabled {
            self.keys().remove(key);
        }
    }

    /// Lifts every lock (`POST /_emulator/reset`), and gives the table's memory back.
    pub fn clear(&self) {
        *self.keys() = Recent::default();
    }

    /// How many keys are counted now.
    pub fn tracked(&self) -> usize {
        self.keys().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Timestamp {
        Timestamp(1_700_000_000_000 + ms)
    }

    #[test]
    fn the_failure_past_the_fifth_locks_for_five_minutes() {
        let l = Lockouts::new(true);
        for _ in 0..MAX_FAILURES {
            l.failed("ak", at(0));
        }
        assert!(!l.is_locked("ak", at(0)));
        l.failed("ak", at(1000));
        assert!(l.is_locked("ak", at(1000)));
        assert_eq!(
            l.locked(at(1000)),
            vec![("ak".to_owned(), at(1000).plus(LOCKED_FOR))]
        );
        assert!(!l.is_locked("ak", at(1000).plus(LOCKED_FOR)));
    }

    #[test]
    fn failures_under_the_threshold_age_out_on_the_clock() {
        let l = Lockouts::new(true);
        for _ in 0..MAX_FAILURES {
            l.failed("ak", at(0));
        }
        let later = at(0).plus(LOCKED_FOR);
        l.failed("other", later);
        assert_eq!(l.tracked(), 1, "the old run of `ak` is forgotten");
        l.failed("ak", later);
        assert!(!l.is_locked("ak", later), "a new run starts at one");
    }

    #[test]
    fn the_table_holds_at_most_max_tracked_keys_evicting_the_least_recently_failed() {
        let l = Lockouts::new(true);
        for k in 0..MAX_TRACKED + 500 {
            l.failed(&format!("ak-{k}"), at(k as u64));
        }
        assert_eq!(l.tracked(), MAX_TRACKED);
        for _ in 0..MAX_FAILURES {
            l.failed("ak-100", at(20_000));
        }
        // ak-100's earlier failure was evicted; five new ones do not lock it.
        assert!(!l.is_locked("ak-100", at(20_000)));
        l.failed("ak-100", at(20_001));
        assert!(l.is_locked("ak-100", at(20_001)));
        assert_eq!(l.tracked(), MAX_TRACKED);
    }

    #[test]
    fn over_long_keys_and_a_disabled_lockout_count_nothing() {
        let l = Lockouts::new(true);
        l.failed(&"k".repeat(MAX_KEY_LEN + 1), at(0));
        assert_eq!(l.tracked(), 0);
        let off = Lockouts::new(false);
        off.failed("ak", at(0));
        assert_eq!(off.tracked(), 0);
    }
}
