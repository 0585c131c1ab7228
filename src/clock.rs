//! Time as the emulator sees it. Every job time comes from a [`Clock`], never from the system
//! directly, so a virtual clock can stand in for the real one.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: milliseconds since the Unix epoch, UTC. Cheap to copy and to snapshot.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The latest time the emulator can hold: 9999-12-31T23:59:59.999Z (the last instant RFC 3339
    /// can write). Clocks refuse to move past it and sums saturate at it.
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999);

    /// The system's wall-clock time.
    pub fn system_now() -> Self {
        Self::from_system(SystemTime::now())
    }

    /// Converts a `SystemTime` (times before 1970 become the epoch).
    pub fn from_system(t: SystemTime) -> Self {
        let ms = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        Self(u64::try_from(ms).unwrap_or(u64::MAX).min(Self::MAX.0))
    }

    /// This time as a `SystemTime`.
    pub fn to_system(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.min(Self::MAX.0))
    }

    /// This time plus `d`, saturating at [`Timestamp::MAX`].
    pub fn plus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .min(Self::MAX.0),
        )
    }

    /// This time plus `d`, or `None` past [`Timestamp::MAX`].
    pub fn checked_plus(self, d: Duration) -> Option<Self> {
        let ms = u64::try_from(d.as_millis()).ok()?;
        self.0.checked_add(ms).filter(|t| *t <= Self::MAX.0).map(Self)
    }

    /// How long after `earlier` this time is (zero if it is not later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// ISO-8601 UTC to the second with `Z`, as ROMA writes job times: `2019-12-06T06:49:04Z`.
    pub fn rfc3339_seconds(self) -> String {
        humantime::format_rfc3339_seconds(self.to_system()).to_string()
    }

    /// ISO-8601 UTC with milliseconds: `2019-12-06T06:49:04.527Z` (the control plane's clock).
    pub fn rfc3339_millis(self) -> String {
        humantime::format_rfc3339_millis(self.to_system()).to_string()
    }

    /// ISO-8601 UTC with microseconds, as IAM writes token times: `2015-11-09T01:42:57.527363Z`.
    pub fn rfc3339_micros(self) -> String {
        humantime::format_rfc3339_micros(self.to_system()).to_string()
    }

    /// Parses an RFC 3339 time (`2024-01-01T12:00:00Z`, fractions allowed).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        humantime::parse_rfc3339_weak(s).ok().map(Self::from_system)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339_seconds())
    }
}

/// Where "now" comes from: the system clock, or a virtual clock that only moves when told to.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system's wall clock.
    #[default]
    System,
    /// A clock that starts at the real time and moves only through [`Clock::advance`] / [`Clock::set`].
    Virtual(Arc<AtomicU64>),
}

impl Clock {
    /// A virtual clock starting at the current real time.
    pub fn new_virtual() -> Self {
        Self::Virtual(Arc::new(AtomicU64::new(Timestamp::system_now().0)))
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::system_now(),
            Clock::Virtual(ms) => Timestamp(ms.load(Ordering::Acquire)),
        }
    }

    /// Whether this clock only moves when told to.
    pub fn is_virtual(&self) -> bool {
        matches!(self, Clock::Virtual(_))
    }

    /// Moves a virtual clock forward; returns the new time, or `None` for the system clock. The
    /// clock stops at [`Timestamp::MAX`] (the control plane refuses moves past it beforehand).
    pub fn advance(&self, d: Duration) -> Option<Timestamp> {
        match self {
            Clock::System => None,
            Clock::Virtual(ms) => {
                let add = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
                let prev = ms
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                        Some(v.saturating_add(add).min(Timestamp::MAX.0))
                    })
                    .unwrap_or_else(|v| v);
                Some(Timestamp(prev.saturating_add(add).min(Timestamp::MAX.0)))
            }
        }
    }

    /// Sets a virtual clock to `t` (backwards too); returns `None` for the system clock.
    pub fn set(&self, t: Timestamp) -> Option<Timestamp> {
        match self {
            Clock::System => None,
            Clock::Virtual(ms) => {
                let t = Timestamp(t.0.min(Timestamp::MAX.0));
                ms.store(t.0, Ordering::Release);
                Some(t)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_as_roma_and_iam_do() {
        let t = Timestamp(1_575_614_944_527);
        assert_eq!(t.rfc3339_seconds(), "2019-12-06T06:49:04Z");
        assert_eq!(t.rfc3339_micros(), "2019-12-06T06:49:04.527000Z");
        assert_eq!(
            Timestamp::parse_rfc3339("2019-12-06T06:49:04Z"),
            Some(Timestamp(1_575_614_944_000))
        );
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
        // Nothing past year 9999 exists: sums saturate, formatting never panics.
        let far = Timestamp(u64::MAX);
        assert_eq!(far.rfc3339_seconds(), "9999-12-31T23:59:59Z");
        assert_eq!(Timestamp::MAX.plus(Duration::from_secs(1)), Timestamp::MAX);
        assert_eq!(Timestamp::MAX.checked_plus(Duration::from_millis(1)), None);
    }

    #[test]
    fn virtual_clock_moves_only_when_told() {
        let clock = Clock::new_virtual();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        assert_eq!(
            clock.advance(Duration::from_secs(60)),
            Some(start.plus(Duration::from_secs(60)))
        );
        assert_eq!(clock.now().since(start), Duration::from_secs(60));
        assert_eq!(clock.set(Timestamp(5)), Some(Timestamp(5)));
        assert_eq!(clock.now(), Timestamp(5));
        assert_eq!(Clock::System.advance(Duration::from_secs(1)), None);
    }
}
