//! What an operation notes of its request for the journal while it runs ([`Notes`]): its
//! summary, its body's transfer, and what a fault of the second fault point does on the wire.

use std::sync::{Mutex, PoisonError};

use crate::journal::{Summary, Transfer};

/// What an operation notes of its request while it runs, for the journal: its summary, and the
/// transfer of its body. One per request, in its record; uncontended.
#[derive(Debug, Default)]
pub struct Notes {
    inner: Mutex<NotesInner>,
}

#[derive(Debug, Default)]
struct NotesInner {
    summary: Option<Summary>,
    transfer: Option<std::sync::Arc<Transfer>>,
    wire: Option<crate::faults::Wire>,
}

impl Notes {
    /// Changes the summary (created empty on first use).
    pub fn summary(&self, change: impl FnOnce(&mut Summary)) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        change(inner.summary.get_or_insert_with(Summary::default));
    }

    /// The body's transfer, to count what it sends.
    pub fn transfer(&self) -> std::sync::Arc<Transfer> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.transfer.get_or_insert_with(Default::default).clone()
    }

    /// The summary noted so far.
    pub fn summary_now(&self) -> Option<Summary> {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .summary
            .clone()
    }

    /// What a fault of the second fault point does on the wire.
    pub fn set_wire(&self, wire: crate::faults::Wire) {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).wire = Some(wire);
    }

    /// That, if a fault set it.
    pub fn wire(&self) -> Option<crate::faults::Wire> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).wire
    }

    /// The transfer a body is to be counted into, if the operation asked for one.
    pub fn metered(&self) -> Option<std::sync::Arc<Transfer>> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.transfer.clone()
    }

    /// What was noted.
    pub fn take(&self) -> (Option<Summary>, Option<std::sync::Arc<Transfer>>) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        (inner.summary.take(), inner.transfer.take())
    }
}
