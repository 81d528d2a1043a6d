//! Remembering message ids, to drop what Twitch delivers twice.

use std::collections::{HashSet, VecDeque};

/// Remembers recent message ids, oldest forgotten first.
#[derive(Debug)]
pub struct SeenIds {
    order: VecDeque<String>,
    set: HashSet<String>,
    capacity: usize,
}

impl SeenIds {
    /// Remember at most `capacity` ids.
    pub fn new(capacity: usize) -> Self {
        Self { order: VecDeque::new(), set: HashSet::new(), capacity: capacity.max(1) }
    }

    /// Was `id` recorded (and not forgotten yet)?
    #[cfg(feature = "webhook")]
    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// Record `id`; false if it was already there.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.order.push_back(id.to_owned());
        self.set.insert(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_ids_forget_the_oldest() {
        let mut s = SeenIds::new(2);
        assert!(s.insert("a") && s.insert("b") && !s.insert("a"));
        assert!(s.insert("c"));
        assert!(s.insert("a"), "a was forgotten when c came");
    }
}
