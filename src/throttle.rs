//! The gateway's flow control (429 `APIG.0308`): a token bucket a caller, refilled at its rate on
//! the emulator's clock (so a virtual clock moves it too), holding at most its burst.
//!
//! The buckets are bounded by construction: at most [`MAX_BUCKETS`] callers are kept. A bucket
//! that has refilled holds no state (a new one would be the same), so at the cap the full ones are
//! forgotten first; if none is full, the least recently used goes (which at worst hands that
//! caller a fresh burst, never a refusal it did not earn).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::clock::Timestamp;
use crate::recent::Recent;

/// The most callers whose buckets are kept.
pub const MAX_BUCKETS: usize = 10_000;

/// One caller's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests it may still make, as of `at`.
    tokens: f64,
    at: Timestamp,
}

/// The gateway's two rates: a user's requests to the asset API, and an address's requests
/// without a user (IAM token requests). `None`: that rate is off.
#[derive(Debug, Default)]
pub struct Gateway {
    /// `[gateway] rate_per_user_per_s`.
    pub per_user: Option<Throttle>,
    /// `[gateway] rate_per_address_per_s`.
    pub per_address: Option<Throttle>,
}

/// One rate: requests a second a caller, with a burst.
#[derive(Debug)]
pub struct Throttle {
    rate: f64,
    burst: f64,
    buckets: Mutex<Recent<Bucket>>,
}

impl Throttle {
    /// `rate` requests a second a caller, `burst` at once (0: `rate`); `None` when `rate` is 0.
    pub fn new(rate: u32, burst: u32) -> Option<Self> {
        (rate > 0).then(|| Self {
            rate: f64::from(rate),
            burst: f64::from(if burst == 0 { rate } else { burst }),
            buckets: Mutex::default(),
        })
    }

    /// Requests a second a caller.
    pub fn rate(&self) -> u32 {
        // Built from a u32 (see `new`).
        self.rate as u32
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, Recent<Bucket>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn refilled(&self, bucket: &Bucket, now: Timestamp) -> f64 {
        let elapsed = now.since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.rate).min(self.burst)
    }

    /// Takes one request from `caller`'s bucket at `now`; when it is empty, how long until it
    /// holds one again.
    pub fn take(&self, caller: &str, now: Timestamp) -> Result<(), Duration> {
        let mut buckets = self.buckets();
        let tokens = match buckets.get(caller) {
            Some(bucket) => self.refilled(bucket, now),
            None => {
                if buckets.len() >= MAX_BUCKETS {
                    self.make_room(&mut buckets, now);
                }
                self.burst
            }
        };
        let (left, answer) = if tokens >= 1.0 {
            (tokens - 1.0, Ok(()))
        } else {
            (tokens, Err(Duration::from_secs_f64((1.0 - tokens) / self.rate)))
        };
        buckets.touch(
            caller,
            Bucket {
                tokens: left,
                at: now,
            },
        );
        answer
    }

    /// Forgets the buckets that have refilled, or else the least recently used one.
    fn make_room(&self, buckets: &mut Recent<Bucket>, now: Timestamp) {
        let before = buckets.len();
        buckets.retain(|b| self.refilled(b, now) < self.burst);
        if buckets.len() == before {
            buckets.pop_oldest();
        }
    }

    /// Callers with a bucket now.
    pub fn callers(&self) -> usize {
        self.buckets().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Timestamp {
        Timestamp(1_700_000_000_000 + ms)
    }

    #[test]
    fn a_burst_then_the_rate_on_the_clock() {
        let t = Throttle::new(2, 3).expect("on");
        for _ in 0..3 {
            assert_eq!(t.take("a", at(0)), Ok(()));
        }
        let wait = t.take("a", at(0)).expect_err("empty");
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(t.take("b", at(0)), Ok(()), "another caller has its own bucket");
        assert_eq!(t.take("a", at(500)), Ok(()), "refilled at the rate");
        assert!(t.take("a", at(500)).is_err());
        assert!(Throttle::new(0, 5).is_none(), "a rate of 0 is no throttle");
    }

    #[test]
    fn at_most_max_buckets_callers_are_kept() {
        let t = Throttle::new(1, 1).expect("on");
        for k in 0..MAX_BUCKETS + 100 {
            let _ = t.take(&format!("c{k}"), at(0));
        }
        assert!(t.callers() <= MAX_BUCKETS);
        // Once they have refilled, a newcomer at the cap clears them.
        let _ = t.take("late", at(5_000));
        assert_eq!(t.callers(), 1);
    }
}
