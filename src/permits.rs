//! Permits to hold a large body in memory (`[server] max_large_bodies`): an upload being read or
//! a state export being written. Memory stays within `max_large_bodies × max_body_bytes` whatever
//! the tenants send, and no tenant can take every permit (#27): a caller holds at most one at a
//! time, its next one waits for it, and a permit waits at most `large_body_wait_ms` (FIFO, the
//! semaphores are fair) before the request is refused unread.
//!
//! A caller's entry lives only while one of its bodies holds or awaits a permit, so the table is
//! bounded by the requests in flight.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why no permit was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// The caller's earlier large body did not end within the wait.
    Caller,
    /// Every permit stayed held for the whole wait.
    All,
}

/// The permits, and who holds or awaits one.
#[derive(Debug)]
pub struct LargeBodies {
    all: Arc<Semaphore>,
    callers: Mutex<HashMap<String, Arc<Semaphore>>>,
    wait: Duration,
}

/// One permit, held until dropped; it frees the caller's turn too.
#[derive(Debug)]
pub struct LargeBodyPermit {
    _all: OwnedSemaphorePermit,
    own: Option<OwnedSemaphorePermit>,
    caller: String,
    owner: Arc<LargeBodies>,
}

impl LargeBodies {
    /// `permits` permits, each waited for at most `wait`.
    pub fn new(permits: usize, wait: Duration) -> Arc<Self> {
        Arc::new(Self {
            all: Arc::new(Semaphore::new(permits)),
            callers: Mutex::default(),
            wait,
        })
    }

    fn callers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
        self.callers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A permit for `caller` (a user, or an address: whatever one tenant cannot multiply).
    pub async fn acquire(self: &Arc<Self>, caller: &str) -> Result<LargeBodyPermit, Busy> {
        let turn = self
            .callers()
            .entry(caller.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(1)))
            .clone();
        let deadline = tokio::time::Instant::now() + self.wait;
        let own = tokio::time::timeout_at(deadline, turn.acquire_owned()).await;
        let Ok(Ok(own)) = own else {
            self.forget(caller);
            return Err(Busy::Caller);
        };
        let Ok(Ok(all)) = tokio::time::timeout_at(deadline, self.all.clone().acquire_owned()).await else {
            drop(own);
            self.forget(caller);
            return Err(Busy::All);
        };
        Ok(LargeBodyPermit {
            _all: all,
            own: Some(own),
            caller: caller.to_owned(),
            owner: self.clone(),
        })
    }

    /// Drops `caller`'s entry when nobody holds or awaits its turn any more.
    fn forget(&self, caller: &str) {
        let mut callers = self.callers();
        if callers
            .get(caller)
            .is_some_and(|turn| Arc::strong_count(turn) == 1)
        {
            callers.remove(caller);
        }
    }

    /// Permits free now.
    pub fn available(&self) -> usize {
        self.all.available_permits()
    }

    /// Callers holding or awaiting a permit now.
    pub fn callers_waiting_or_holding(&self) -> usize {
        self.callers().len()
    }
}

impl Drop for LargeBodyPermit {
    fn drop(&mut self) {
        drop(self.own.take());
        self.owner.forget(&self.caller);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_caller_holds_one_permit_and_its_next_waits_for_it() {
        let bodies = LargeBodies::new(4, Duration::from_millis(50));
        let first = bodies.acquire("user:a").await.expect("first");
        assert_eq!(bodies.acquire("user:a").await.err(), Some(Busy::Caller));
        assert_eq!(bodies.available(), 3, "a's second took nothing");
        let other = bodies.acquire("user:b").await.expect("b is not held up by a");
        let waiting = {
            let bodies = bodies.clone();
            tokio::spawn(async move { bodies.acquire("user:a").await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(first);
        assert_eq!(
            waiting.await.expect("task"),
            Ok(()),
            "a's next got the turn a freed"
        );
        drop(other);
        assert_eq!(bodies.available(), 4);
        assert_eq!(
            bodies.callers_waiting_or_holding(),
            0,
            "no entry outlives its bodies"
        );
    }

    #[tokio::test]
    async fn with_every_permit_held_a_newcomer_waits_then_is_refused() {
        let bodies = LargeBodies::new(2, Duration::from_millis(30));
        let held: Vec<_> = futures_util::future::join_all(["x", "y"].map(|c| bodies.acquire(c)))
            .await
            .into_iter()
            .map(|p| p.expect("permit"))
            .collect();
        assert_eq!(bodies.acquire("z").await.err(), Some(Busy::All));
        assert_eq!(
            bodies.callers_waiting_or_holding(),
            2,
            "z's entry went with its refusal"
        );
        drop(held);
        assert!(bodies.acquire("z").await.is_ok());
    }
}
