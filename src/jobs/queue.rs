//! The expiry queue: ended jobs by the time they expire, earliest first, and in the order they
//! were pushed when they expire at the same time. Jobs end in time order almost always (one
//! retention, a clock that moves forward), so an entry is nearly always pushed at the back: a
//! sorted deque makes push and pop O(1) where a binary heap of `[jobs] max_jobs` entries costs a
//! sift each (seen in the hot path's profile). An entry out of order (the virtual clock set back)
//! is inserted in its place, O(n) then.
//!
//! Ties stay in push order rather than id order: many jobs end within one millisecond, and
//! ordering those by their random ids put most of them in the middle of the deque (a memmove of
//! half of it each, seen in the second pass's profile).

use std::collections::VecDeque;

use super::job::JobId;
use crate::clock::Timestamp;

/// Entries `(time, id)` in ascending order.
#[derive(Debug, Default)]
pub struct TimeQueue(VecDeque<(Timestamp, JobId)>);

impl TimeQueue {
    /// Adds an entry in its place.
    pub fn push(&mut self, entry: (Timestamp, JobId)) {
        match self.0.back() {
            Some(last) if last.0 > entry.0 => {
                let at = self.0.partition_point(|e| e.0 <= entry.0);
                self.0.insert(at, entry);
            }
            _ => self.0.push_back(entry),
        }
    }

    /// The earliest entry's time.
    pub fn peek_time(&self) -> Option<Timestamp> {
        self.0.front().map(|e| e.0)
    }

    /// Takes the earliest entry.
    pub fn pop(&mut self) -> Option<(Timestamp, JobId)> {
        self.0.pop_front()
    }

    /// Keeps the entries `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&JobId) -> bool) {
        self.0.retain(|(_, id)| keep(id));
    }

    /// Empties it.
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Hex32;

    #[test]
    fn pops_by_time_then_in_push_order_whatever_the_push_order() {
        let mut queue = TimeQueue::default();
        let mut heap = std::collections::BinaryHeap::new();
        // Mostly ascending, with some entries set back and some ties; ids descend, so an order
        // by id would reverse every tie.
        let times = [5u64, 7, 7, 3, 9, 9, 1, 12, 12, 8, 15, 2, 20, 20, 20];
        for (n, t) in times.iter().enumerate() {
            let entry = (Timestamp(*t), Hex32::from_u128(1000 - n as u128));
            queue.push(entry);
            // A min-heap by (time, push number) is the order expected.
            heap.push(std::cmp::Reverse((Timestamp(*t), n, entry.1)));
        }
        assert_eq!(queue.len(), times.len());
        while let Some(std::cmp::Reverse((time, _, id))) = heap.pop() {
            assert_eq!(queue.peek_time(), Some(time));
            assert_eq!(queue.pop(), Some((time, id)));
        }
        assert!(queue.peek_time().is_none() && queue.pop().is_none());
    }
}
