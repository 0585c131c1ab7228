//! The table of open connections: admission at the cap, eviction of idle ones, and the slots kept
//! for health probes.
//!
//! Invariants:
//! - at most `max` regular connections and [`PROBE_SLOTS`] probe connections are open;
//! - a regular connection is evicted only when it is Idle (between requests), so a request in
//!   flight, a response being written and a head being read are never cut by a newcomer;
//! - when every regular connection is busy, a newcomer takes a probe slot: it is served
//!   `/_emulator/health` and `/_emulator/ready` at once; any other request waits briefly to move to
//!   a regular slot ([`Slot::promote_within`]), else is refused. A probe slot gives way to the next newcomer
//!   unless it is serving its probe (microseconds);
//! - no connection is evicted within [`super::conn::GRACE`] of its admission (time for its head
//!   to arrive), so a flood of newcomers cannot push a probe out before it is read;
//! - a newcomer that finds no slot waits (a few at a time, briefly) for one to free: probe slots
//!   free within microseconds of their probe.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use super::conn::ConnState;

/// Connections admitted beyond the cap for health and readiness probes.
pub const PROBE_SLOTS: usize = 16;

/// How often a newcomer waiting for a slot looks again when none was freed.
const RETRY: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
struct Slots {
    next_id: u64,
    regular: BTreeMap<u64, Arc<ConnState>>,
    probes: BTreeMap<u64, Arc<ConnState>>,
}

/// The open connections.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    slots: Mutex<Slots>,
    /// A slot was freed.
    freed: Notify,
}

/// A connection's place in the table; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    id: u64,
    table: Arc<Connections>,
    /// The connection's state.
    pub conn: Arc<ConnState>,
}

impl Slot {
    /// For a connection in a probe slot whose request is no probe: waits at most `wait` for a
    /// regular slot (idle connections pass their grace, busy ones end) and moves there; true when
    /// the connection is in a regular slot, false when it stayed a probe slot.
    pub async fn promote_within(&self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let freed = self.table.freed.notified();
            if self.table.promote(self.id, &self.conn) {
                return true;
            }
            let retry = (tokio::time::Instant::now() + RETRY).min(deadline);
            if tokio::time::timeout_at(retry, freed).await.is_err() && retry >= deadline {
                return self.table.promote(self.id, &self.conn);
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut slots = self.table.lock();
        let map = if self.conn.probe_only() {
            &mut slots.probes
        } else {
            &mut slots.regular
        };
        map.remove(&self.id);
        drop(slots);
        self.table.freed.notify_waiters();
    }
}

impl Connections {
    /// A table of at most `max` regular connections.
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            slots: Mutex::default(),
            freed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Admits a new connection: a regular slot (evicting the oldest Idle connection at the cap),
    /// else a probe slot, else `None` (every slot busy).
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let mut slots = self.lock();
        if slots.regular.len() >= self.max {
            evict_first(&mut slots.regular, ConnState::evict_if_idle);
        }
        let probe_only = slots.regular.len() >= self.max;
        if probe_only && slots.probes.len() >= PROBE_SLOTS {
            evict_first(&mut slots.probes, ConnState::evict_unless_serving);
            if slots.probes.len() >= PROBE_SLOTS {
                return None;
            }
        }
        slots.next_id += 1;
        let id = slots.next_id;
        let conn = Arc::new(ConnState::new(probe_only));
        let map = if probe_only {
            &mut slots.probes
        } else {
            &mut slots.regular
        };
        map.insert(id, conn.clone());
        Some(Slot {
            id,
            table: self.clone(),
            conn,
        })
    }

    /// Moves the probe-slot connection `id` to a regular slot if one is to be had now (evicting an
    /// idle one past its grace); true when it is regular.
    fn promote(&self, id: u64, conn: &ConnState) -> bool {
        let mut slots = self.lock();
        if !conn.probe_only() {
            return true;
        }
        if slots.regular.len() >= self.max {
            evict_first(&mut slots.regular, ConnState::evict_if_idle);
        }
        if slots.regular.len() >= self.max {
            return false;
        }
        if let Some(conn) = slots.probes.remove(&id) {
            conn.promoted();
            slots.regular.insert(id, conn);
        }
        drop(slots);
        self.freed.notify_waiters();
        true
    }

    /// [`Self::admit`], waiting at most `wait` for a slot to free when none is to be had now.
    pub async fn admit_within(self: &Arc<Self>, wait: Duration) -> Option<Slot> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let freed = self.freed.notified();
            if let Some(slot) = self.admit() {
                return Some(slot);
            }
            // A slot frees, or a connection passes its grace (not signalled: checked again soon).
            let retry = (tokio::time::Instant::now() + RETRY).min(deadline);
            if tokio::time::timeout_at(retry, freed).await.is_err() && retry >= deadline {
                return self.admit();
            }
        }
    }

    /// How many regular and probe connections are open.
    pub fn open(&self) -> (usize, usize) {
        let slots = self.lock();
        (slots.regular.len(), slots.probes.len())
    }
}

/// Evicts the oldest connection `evict` accepts, and removes it from `map`.
fn evict_first(map: &mut BTreeMap<u64, Arc<ConnState>>, evict: fn(&ConnState) -> bool) {
    let victim = map.iter().find(|(_, c)| evict(c)).map(|(id, _)| *id);
    if let Some(id) = victim {
        map.remove(&id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_probe_slot_connection_moves_to_a_regular_slot_once_one_is_free() {
        let table = Connections::new(1);
        let a = table.admit().expect("a");
        a.conn.bytes_read();
        let p = table.admit().expect("a probe slot");
        assert!(p.conn.probe_only());
        assert!(!p.promote_within(Duration::from_millis(30)).await, "a is busy");
        drop(a);
        assert!(p.promote_within(Duration::from_millis(30)).await);
        assert!(!p.conn.probe_only());
        assert_eq!(table.open(), (1, 0));
        drop(p);
        assert_eq!(table.open(), (0, 0));
    }

    #[test]
    fn at_the_cap_only_idle_connections_give_way_then_probe_slots_then_none() {
        let table = Connections::new(2);
        let a = table.admit().expect("a");
        let b = table.admit().expect("b");
        a.conn.bytes_read();
        a.conn.serving();
        b.conn.read_nothing();
        std::thread::sleep(super::super::conn::GRACE);
        let c = table.admit().expect("c evicts the idle b, past its grace");
        assert!(b.conn.is_evicted() && !a.conn.is_evicted());
        drop(b);
        assert_eq!(table.open(), (2, 0));
        c.conn.bytes_read();
        let probes: Vec<Slot> = (0..PROBE_SLOTS)
            .map(|_| table.admit().expect("probe slot"))
            .collect();
        assert!(table.admit().is_none(), "young probe slots keep their grace");
        assert!(probes.iter().all(|p| p.conn.probe_only()));
        for p in &probes {
            p.conn.serving();
        }
        assert!(table.admit().is_none(), "every slot is busy");
        probes[0].conn.body_done();
        probes[0].conn.flushed();
        std::thread::sleep(super::super::conn::GRACE);
        assert!(table.admit().is_some(), "a probe slot that finished gives way");
    }
}
