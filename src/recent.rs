//! [`Recent`]: a map keyed by text that knows which key was touched longest ago, for bookkeeping
//! that must stay bounded by forgetting the oldest first (AK lockouts, throttle buckets). Keyed
//! with SipHash: the keys are what clients send, so nobody can aim collisions at it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Values by key, with the order in which their keys were last touched.
#[derive(Debug)]
pub struct Recent<V> {
    by_key: HashMap<Arc<str>, (V, u64)>,
    /// The keys by their last touch, oldest first.
    order: BTreeMap<u64, Arc<str>>,
    next: u64,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            order: BTreeMap::new(),
            next: 0,
        }
    }
}

impl<V> Recent<V> {
    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// `key`'s value.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.by_key.get(key).map(|(v, _)| v)
    }

    /// Takes `key` out.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let (value, stamp) = self.by_key.remove(key)?;
        self.order.remove(&stamp);
        Some(value)
    }

    /// Sets `key`'s value, as the most recently touched key.
    pub fn touch(&mut self, key: &str, value: V) {
        self.remove(key);
        let stamp = self.next;
        self.next += 1;
        let key: Arc<str> = key.into();
        self.order.insert(stamp, key.clone());
        self.by_key.insert(key, (value, stamp));
    }

    /// The value of the key touched longest ago.
    pub fn oldest(&self) -> Option<&V> {
        let key = self.order.first_key_value()?.1;
        self.get(key)
    }

    /// Takes out the key touched longest ago.
    pub fn pop_oldest(&mut self) -> Option<V> {
        let (_, key) = self.order.pop_first()?;
        self.by_key.remove(&key).map(|(v, _)| v)
    }

    /// Every key and value, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.by_key.iter().map(|(k, (v, _))| (&**k, v))
    }

    /// Keeps only the values `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        let order = &mut self.order;
        self.by_key.retain(|_, (v, stamp)| {
            let kept = keep(v);
            if !kept {
                order.remove(stamp);
            }
            kept
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;

    #[test]
    fn the_oldest_is_the_key_touched_longest_ago() {
        let mut r = Recent::default();
        r.touch("a", 1);
        r.touch("b", 2);
        r.touch("a", 3);
        assert_eq!((r.len(), r.get("a")), (2, Some(&3)));
        assert_eq!(r.oldest(), Some(&2));
        assert_eq!(r.pop_oldest(), Some(2));
        assert_eq!(r.pop_oldest(), Some(3));
        assert!(r.is_empty() && r.pop_oldest().is_none());
    }

    #[test]
    fn retain_and_remove_keep_the_order_in_step() {
        let mut r = Recent::default();
        for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
            r.touch(k, v);
        }
        r.retain(|v| *v != 1);
        assert_eq!(r.oldest(), Some(&2));
        assert_eq!(r.remove("b"), Some(2));
        assert_eq!(r.pop_oldest(), Some(3));
        assert!(r.is_empty());
    }
}
