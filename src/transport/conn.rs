//! One connection's phase, shared by its stream ([`super::io::ConnIo`]), its service and the
//! response body, so that what the connection is doing is known from state, never guessed from
//! the bytes it carries.
//!
//! ```text
//!   New ──first read, nothing──▶ Idle;  New ──first byte read──▶ Head
//!   Idle ──first byte read──▶ Head ──service called──▶ Serving ──body ended or dropped──▶ Finishing
//!    ▲                                                                                   │
//!    └──────────────────────── flushed (the response's last byte is written) ◀───────────┘
//!   Idle ──taken by the table──▶ Evicted (reads see the end; nothing can begin)
//! ```
//!
//! - Busy means Head, Serving or Finishing: from the first byte of a request head until the last
//!   byte of its response is written. Only an Idle connection can be evicted, and the step to
//!   Evicted is one compare-and-swap, so a request that begins at that moment is never cut.
//! - hyper writes on its own only when it cannot parse a request, and only then is a write made
//!   while no request is being served (Idle or Head): that is how its refusals are recognised.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

const IDLE: u8 = 0;
const HEAD: u8 = 1;
const SERVING: u8 = 2;
const FINISHING: u8 = 3;
const EVICTED: u8 = 4;
const NEW: u8 = 5;

/// What a connection is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepted, and not yet read at all: whatever it sent is still unseen, so it is never
    /// evicted (a probe is read before anything can push it out).
    New,
    /// Between requests: nothing read since the last response was written.
    Idle,
    /// Bytes of a request head arrived; the request is not yet being served.
    Head,
    /// A request is being served (its body read, its response written).
    Serving,
    /// The response's body has ended; its last bytes may still be in hyper's buffer.
    Finishing,
    /// Taken by the table to admit another connection; it closes.
    Evicted,
}

/// How long a new connection is safe from eviction: time for its first request's head to arrive
/// and be read, however many connections arrive meanwhile (a flood's newest connection would
/// otherwise evict the one before it, a probe included, before it was ever read).
pub const GRACE: Duration = Duration::from_millis(50);

/// The shared state of one connection.
#[derive(Debug)]
pub struct ConnState {
    phase: AtomicU8,
    /// In a slot kept for health probes: it serves one probe, nothing else (unless it is moved to
    /// a regular slot, [`super::table::Slot::promote_within`]).
    probe_only: AtomicBool,
    admitted: Instant,
    evicted: Notify,
    /// A wire fault asked for a TCP reset when the connection closes.
    reset: AtomicBool,
}

impl ConnState {
    /// A new connection, Idle.
    pub fn new(probe_only: bool) -> Self {
        Self {
            phase: AtomicU8::new(NEW),
            probe_only: AtomicBool::new(probe_only),
            admitted: Instant::now(),
            evicted: Notify::new(),
            reset: AtomicBool::new(false),
        }
    }

    /// The connection is to close with a TCP reset (a wire fault's `reset`).
    pub fn reset_on_close(&self) {
        self.reset.store(true, Ordering::Release);
    }

    /// Whether it is.
    pub fn resets_on_close(&self) -> bool {
        self.reset.load(Ordering::Acquire)
    }

    /// Whether it was admitted into a probe slot.
    pub fn probe_only(&self) -> bool {
        self.probe_only.load(Ordering::Acquire)
    }

    /// It moved from a probe slot to a regular one (the table does this under its lock).
    pub(super) fn promoted(&self) {
        self.probe_only.store(false, Ordering::Release);
    }

    /// What it is doing now.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            NEW => Phase::New,
            IDLE => Phase::Idle,
            HEAD => Phase::Head,
            SERVING => Phase::Serving,
            FINISHING => Phase::Finishing,
            _ => Phase::Evicted,
        }
    }

    fn step(&self, from: u8, to: u8) -> bool {
        self.phase
            .compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Bytes arrived: an Idle connection starts a request head.
    pub fn bytes_read(&self) {
        if !self.step(IDLE, HEAD) {
            self.step(NEW, HEAD);
        }
    }

    /// The first read found nothing yet: a New connection is Idle (silent so far).
    pub fn read_nothing(&self) {
        self.step(NEW, IDLE);
    }

    /// The service was called with a request.
    pub fn serving(&self) {
        self.phase.store(SERVING, Ordering::Release);
    }

    /// The response body ended, or was dropped.
    pub fn body_done(&self) {
        self.step(SERVING, FINISHING);
    }

    /// Everything written so far is out: a Finishing connection is Idle again.
    pub fn flushed(&self) {
        self.step(FINISHING, IDLE);
    }

    /// Whether no request is being served, so a write can only be hyper's own refusal.
    pub fn between_requests(&self) -> bool {
        matches!(self.phase(), Phase::New | Phase::Idle | Phase::Head)
    }

    /// Evicts it if it is Idle (atomically) and past its [`GRACE`]; true when it was.
    pub fn evict_if_idle(&self) -> bool {
        if self.admitted.elapsed() < GRACE {
            return false;
        }
        let evicted = self.step(IDLE, EVICTED);
        if evicted {
            self.evicted.notify_one();
        }
        evicted
    }

    /// Evicts it unless a request is being served or it is within its [`GRACE`] (probe slots: a
    /// head slower than that is no probe).
    pub fn evict_unless_serving(&self) -> bool {
        if self.admitted.elapsed() < GRACE {
            return false;
        }
        self.evict_if_idle() || {
            let evicted = self.step(HEAD, EVICTED);
            if evicted {
                self.evicted.notify_one();
            }
            evicted
        }
    }

    /// Whether it has been evicted.
    pub fn is_evicted(&self) -> bool {
        self.phase() == Phase::Evicted
    }

    /// Resolves once it is evicted.
    pub async fn wait_evicted(&self) {
        self.evicted.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_busy_from_its_first_byte_until_its_response_is_flushed() {
        let mut c = ConnState::new(false);
        c.admitted -= GRACE;
        assert_eq!(c.phase(), Phase::New);
        assert!(!c.evict_if_idle(), "a connection not yet read is never evicted");
        c.read_nothing();
        assert_eq!(c.phase(), Phase::Idle);
        let young = ConnState::new(false);
        young.read_nothing();
        assert!(!young.evict_if_idle(), "nor one within its grace");
        c.bytes_read();
        assert_eq!(c.phase(), Phase::Head);
        assert!(!c.evict_if_idle(), "a head in progress is busy");
        c.serving();
        c.bytes_read();
        assert_eq!(c.phase(), Phase::Serving, "body bytes change nothing");
        c.flushed();
        assert_eq!(
            c.phase(),
            Phase::Serving,
            "a flush before the body ended changes nothing"
        );
        c.body_done();
        assert!(!c.evict_if_idle(), "bytes may still be in hyper's buffer");
        c.flushed();
        assert_eq!(c.phase(), Phase::Idle);
        assert!(c.evict_if_idle());
        c.bytes_read();
        assert_eq!(
            c.phase(),
            Phase::Evicted,
            "nothing begins on an evicted connection"
        );
    }

    #[test]
    fn probe_slots_give_up_a_slow_head_but_not_a_probe_being_served_or_a_new_one() {
        let mut c = ConnState::new(true);
        c.bytes_read();
        assert!(!c.evict_unless_serving(), "a head gets its grace");
        c.admitted -= GRACE;
        assert!(c.evict_unless_serving());
        let mut d = ConnState::new(true);
        d.admitted -= GRACE;
        d.serving();
        assert!(!d.evict_unless_serving());
    }
}
