//! The request journal: what clients sent to the cloud API (never a credential), newest first,
//! bounded by `[journal] max_entries`. Each entry says what the request meant ([`Summary`], with
//! `[journal] summaries`), why it was refused ([`Refusal`]) and, for a request that went nowhere,
//! the nearest route (`hint`).

pub mod report;
mod summary;
pub mod verify;

pub use summary::{MAX_ID_TEXT, MAX_IDS, Refusal, Summary, SummaryText, Transfer};

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

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
    pub project_id: Option<Arc<str>>,
    /// The instance of the path.
    pub instance_id: Option<Arc<str>>,
    /// The answer's status.
    pub status: u16,
    /// The answer's error code, if it was an error.
    pub error_code: Option<String>,
    /// The request id.
    pub request_id: Hex32,
    /// What the request meant (none with `[journal] summaries = false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<SummaryText>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Box<Refusal>>,
    /// For a path no route has, or a method its route does not take: the nearest route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// What a fault did on the wire: `reset`, `empty_response`, `stall_ms=N`, `cut_after_bytes=N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire_fault: Option<String>,
    /// The body still being sent, whose bytes the summary reports once read.
    #[serde(skip)]
    pub transfer: Option<Arc<Transfer>>,
}

/// An entry as the journal keeps and hands it out: shared, so a snapshot, a page or a
/// verification copies a pointer per entry, never the entry (an export of the whole journal costs
/// its text, not a second journal).
pub type Shared = Arc<Entry>;

impl Entry {
    /// The entry with its body's transfer read into the summary (what views and snapshots show).
    pub fn settled(&self) -> Entry {
        let mut entry = self.clone();
        if let Some(transfer) = entry.transfer.take() {
            let (sent, complete) = transfer.read();
            let mut summary = entry.summary.as_ref().map(SummaryText::read).unwrap_or_default();
            summary.bytes_sent = Some(sent);
            summary.complete = Some(complete);
            entry.summary = SummaryText::of(&summary);
        }
        entry
    }

    /// `entry` as views show it: the same entry, or a settled copy while its body is being sent.
    pub fn shared_settled(entry: &Shared) -> Shared {
        if entry.transfer.is_some() {
            Arc::new(entry.settled())
        } else {
            Arc::clone(entry)
        }
    }

    /// Whether it is of the namespace `project` (and `instance`, when given).
    pub fn in_scope(&self, project: Option<&str>, instance: Option<&str>) -> bool {
        project.is_none_or(|p| self.project_id.as_deref() == Some(p))
            && instance.is_none_or(|i| self.instance_id.as_deref() == Some(i))
    }
}

impl PartialEq for Transfer {
    fn eq(&self, other: &Self) -> bool {
        self.read() == other.read()
    }
}

/// Which entries a page of the journal selects; `None` fields select all.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    /// The project of the path.
    pub project_id: Option<String>,
    /// The instance of the path.
    pub instance_id: Option<String>,
    /// The authenticated user.
    pub user: Option<String>,
    /// The answer's status.
    pub status: Option<u16>,
}

impl EntryFilter {
    fn matches(&self, e: &Entry) -> bool {
        let same = |want: &Option<String>, got: &Option<Arc<str>>| {
            want.as_deref().is_none_or(|w| got.as_deref() == Some(w))
        };
        same(&self.project_id, &e.project_id)
            && same(&self.instance_id, &e.instance_id)
            && same(&self.user, &e.user)
            && self.status.is_none_or(|s| e.status == s)
    }
}

/// The journal.
#[derive(Debug)]
pub struct Journal {
    max: usize,
    entries: Mutex<Ring>,
}

/// The entries, a ring once full: the newest overwrites the oldest in place (no entry is moved
/// to make room, and the one it replaces is dropped after the lock is released).
#[derive(Debug, Default)]
struct Ring {
    entries: Vec<Shared>,
    /// Where the oldest entry is once the ring is full (0 until then).
    head: usize,
}

impl Ring {
    /// Oldest first.
    fn iter(&self) -> impl DoubleEndedIterator<Item = &Shared> {
        let (newer, older) = self.entries.split_at(self.head);
        older.iter().chain(newer)
    }

    /// Replaces the entries by `entries`, oldest first.
    fn set(&mut self, entries: Vec<Shared>) {
        self.entries = entries;
        self.head = 0;
    }
}

impl Journal {
    /// A journal keeping at most `max` entries (0: none).
    pub fn new(max: usize) -> Self {
        Self {
            max,
            entries: Mutex::new(Ring {
                entries: Vec::with_capacity(max.min(1024)),
                head: 0,
            }),
        }
    }

    /// Whether entries are kept at all.
    pub fn enabled(&self) -> bool {
        self.max > 0
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one request, dropping the oldest past the bound.
    pub fn record(&self, entry: Entry) {
        if self.max == 0 {
            return;
        }
        let entry = Arc::new(entry);
        let mut ring = self.entries();
        if ring.entries.len() < self.max {
            ring.entries.push(entry);
            return;
        }
        let head = ring.head;
        let oldest = std::mem::replace(&mut ring.entries[head], entry);
        ring.head = (head + 1) % ring.entries.len();
        drop(ring);
        drop(oldest);
    }

    /// The newest `limit` entries, newest first.
    pub fn newest(&self, limit: usize) -> Vec<Shared> {
        self.entries()
            .iter()
            .rev()
            .take(limit)
            .map(Entry::shared_settled)
            .collect()
    }

    /// The entries `filter` selects, newest first: `limit` of them after skipping `offset`, and
    /// how many it selects in all. Only the page's entries are copied.
    pub fn page(&self, filter: &EntryFilter, offset: usize, limit: usize) -> (Vec<Shared>, usize) {
        let ring = self.entries();
        let mut total = 0;
        let mut page = Vec::with_capacity(limit.min(1024));
        for entry in ring.iter().rev().filter(|e| filter.matches(e)) {
            if total >= offset && page.len() < limit {
                page.push(Entry::shared_settled(entry));
            }
            total += 1;
        }
        (page, total)
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries().entries.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry, oldest first (for a snapshot): a pointer each, the entries are shared.
    pub fn all(&self) -> Vec<Shared> {
        self.entries().iter().map(Entry::shared_settled).collect()
    }

    /// The newest `limit` entries `pick` selects, newest first, settled (a near-miss search or
    /// an unmatched page: a scan of the bounded ring, copying only what it returns).
    pub fn select(&self, limit: usize, mut pick: impl FnMut(&Entry) -> bool) -> Vec<Shared> {
        let ring = self.entries();
        ring.iter()
            .rev()
            .filter(|e| pick(e))
            .take(limit)
            .map(Entry::shared_settled)
            .collect()
    }

    /// The entries of the namespace `project` (and `instance`), newest first, settled: their
    /// pointers are taken under the lock, so verification and reports read them (and parse their
    /// summaries) while requests go on recording.
    pub fn of_namespace(&self, project: &str, instance: Option<&str>) -> Vec<Shared> {
        let entries: Vec<Shared> = {
            let ring = self.entries();
            let ours = ring.iter().rev().filter(|e| e.in_scope(Some(project), instance));
            ours.cloned().collect()
        };
        entries.iter().map(Entry::shared_settled).collect()
    }

    /// Replaces every entry by `entries` (oldest first), keeping the newest within the bound.
    pub fn replace(&self, entries: Vec<Shared>) {
        let skip = entries.len().saturating_sub(self.max);
        self.entries().set(entries.into_iter().skip(skip).collect());
    }

    /// Forgets everything.
    pub fn clear(&self) {
        self.entries().set(Vec::new());
    }

    /// Forgets the entries of a namespace (a scoped reset).
    pub fn clear_scope(&self, project: Option<&str>, instance: Option<&str>) {
        let mut ring = self.entries();
        let kept = ring
            .iter()
            .filter(|e| !e.in_scope(project, instance))
            .cloned()
            .collect();
        ring.set(kept);
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
            summary: None,
            refusal: None,
            hint: None,
            wire_fault: None,
            transfer: None,
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

    fn ids(entries: &[Shared]) -> Vec<u128> {
        entries
            .iter()
            .map(|e| u128::from_str_radix(&e.request_id.hex(), 16).unwrap_or(99))
            .collect()
    }

    #[test]
    fn the_ring_keeps_the_newest_in_order_across_wraps_clears_and_replaces() {
        let j = Journal::new(4);
        for n in 0..11 {
            j.record(entry(n, if n % 3 == 0 { "p" } else { "q" }));
        }
        assert_eq!(ids(&j.all()), vec![7, 8, 9, 10], "oldest first after wrapping");
        assert_eq!(ids(&j.newest(3)), vec![10, 9, 8]);
        j.clear_scope(Some("p"), None);
        assert_eq!(ids(&j.all()), vec![7, 8, 10]);
        for n in 11..14 {
            j.record(entry(n, "q"));
        }
        assert_eq!(ids(&j.all()), vec![10, 11, 12, 13]);
        j.replace((20..26).map(|n| Arc::new(entry(n, "q"))).collect());
        assert_eq!(ids(&j.all()), vec![22, 23, 24, 25], "the newest within the bound");
        j.record(entry(26, "q"));
        assert_eq!(ids(&j.all()), vec![23, 24, 25, 26]);
        assert_eq!(j.len(), 4);
    }

    #[test]
    fn views_and_snapshots_share_the_entries_instead_of_copying_them() {
        let j = Journal::new(4);
        j.record(entry(1, "p"));
        let (first, second) = (j.all(), j.newest(1));
        assert!(Arc::ptr_eq(&first[0], &second[0]), "one entry, shared");
        assert!(Arc::ptr_eq(&first[0], &j.of_namespace("p", None)[0]));
        // One being sent is settled into a copy of its own, leaving the kept entry as it was.
        let mut sending = entry(2, "p");
        sending.transfer = Some(Arc::new(Transfer::default()));
        j.record(sending);
        let settled = j.newest(1);
        assert!(settled[0].transfer.is_none(), "the view's copy is settled");
        assert!(
            j.entries().iter().last().is_some_and(|e| e.transfer.is_some()),
            "the kept one is not"
        );
    }
}
