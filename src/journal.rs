//! The request journal: what clients sent to the cloud API (never a credential), newest first,
//! bounded by `[journal] max_entries`.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use crate::clock::Timestamp;
use crate::ids::Hex32;
use crate::operation::Operation;
use crate::scope::UserId;

/// One request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// When it was answered (the emulator's clock).
    pub time: Timestamp,
    /// HTTP method (borrowed for the standard ones: no allocation a request).
    pub method: Cow<'static, str>,
    /// The path as sent (no query: queries carry no credentials here, but may carry anything).
    pub path: String,
    /// The cloud's operation id, if the route is one.
    pub operation: Option<Operation>,
    /// The authenticated user, if any.
    pub user: Option<UserId>,
    /// The project of the path.
    pub project_id: Option<String>,
    /// The instance of the path.
    pub instance_id: Option<String>,
    /// The answer's status.
    pub status: u16,
    /// The answer's error code, if it was an error.
    pub error_code: Option<String>,
    /// The request id.
    pub request_id: Hex32,
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    max: usize,
    entries: Mutex<VecDeque<Entry>>,
}

impl Journal {
    /// A journal keeping at most `max` entries (0: none).
    pub fn new(max: usize) -> Self {
        Self {
            max,
            entries: Mutex::new(VecDeque::with_capacity(max.min(1024))),
        }
    }

    /// Whether entries are kept at all.
    pub fn enabled(&self) -> bool {
        self.max > 0
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, VecDeque<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one request, dropping the oldest past the bound.
    pub fn record(&self, entry: Entry) {
        if self.max == 0 {
            return;
        }
        let mut entries = self.entries();
        if entries.len() == self.max {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The newest `limit` entries, newest first.
    pub fn newest(&self, limit: usize) -> Vec<Entry> {
        self.entries().iter().rev().take(limit).cloned().collect()
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, oldest first (for a snapshot).
    pub fn all(&self) -> Vec<Entry> {
        self.entries().iter().cloned().collect()
    }

    /// Replaces every entry by `entries` (oldest first), keeping the newest within the bound.
    pub fn replace(&self, entries: Vec<Entry>) {
        let skip = entries.len().saturating_sub(self.max);
        *self.entries() = entries.into_iter().skip(skip).collect();
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries().clear();
    }

    /// Forgets the entries of a namespace (a scoped reset).
    pub fn clear_scope(&self, project: Option<&str>, instance: Option<&str>) {
        self.entries().retain(|e| {
            let in_scope = project.is_none_or(|p| e.project_id.as_deref() == Some(p))
                && instance.is_none_or(|i| e.instance_id.as_deref() == Some(i));
            !in_scope
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, project: &str) -> Entry {
        Entry {
            time: Timestamp(0),
            method: "GET".into(),
            path: "/".into(),
            operation: None,
            user: None,
            project_id: Some(project.into()),
            instance_id: None,
            status: 200,
            error_code: None,
            request_id: Hex32::from_u128(n),
        }
    }

    #[test]
    fn bounded_newest_first_and_scoped_clearing() {
        let j = Journal::new(3);
        for n in 0..5 {
            j.record(entry(n, if n % 2 == 0 { "p" } else { "q" }));
        }
        let ids: Vec<u128> = j
            .newest(10)
            .iter()
            .map(|e| u128::from_str_radix(&e.request_id.hex(), 16).unwrap_or(99))
            .collect();
        assert_eq!(ids, vec![4, 3, 2]);
        assert_eq!(j.newest(1).len(), 1);
        j.clear_scope(Some("q"), None);
        assert_eq!(j.newest(10).len(), 2);
        j.clear();
        assert!(j.newest(10).is_empty());
        let off = Journal::new(0);
        off.record(entry(1, "p"));
        assert!(off.newest(10).is_empty());
    }
}
