//! The event queue: a binary min-heap keyed by `(time, seq)`.
//!
//! `seq` is an insertion counter, so events scheduled for the same instant pop in the order they
//! were pushed (the same rule as nexosim's priority queue). That makes same-time ordering part of
//! the model rather than an accident of the heap layout, which determinism depends on.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::SimTime;

/// `key` is `time << 64 | seq`: one integer comparison orders by time, then insertion.
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    // reversed: `BinaryHeap` is a max-heap and we want the earliest (time, seq) on top
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// Pending events in time order, FIFO among equal times. Pushing reuses the heap's storage, so a
/// queue that has reached its steady-state size allocates nothing.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
}

impl<E> EventQueue<E> {
    pub fn with_capacity(capacity: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(capacity),
            seq: 0,
        }
    }

    pub fn push(&mut self, time: SimTime, event: E) {
        self.seq += 1;
        self.heap.push(Entry {
            key: u128::from(time.0) << 64 | u128::from(self.seq),
            event,
        });
    }

    /// Time of the earliest event, `SimTime::MAX` when empty.
    pub fn peek_time(&self) -> SimTime {
        self.heap
            .peek()
            .map_or(SimTime::MAX, |e| SimTime((e.key >> 64) as u64))
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap
            .pop()
            .map(|e| (SimTime((e.key >> 64) as u64), e.event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Push(u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        // few distinct times so that ties are common
        prop_oneof![(0u64..8).prop_map(Op::Push), Just(Op::Pop)]
    }

    proptest! {
        /// The heap must behave exactly like an ordered map keyed by (time, insertion number).
        #[test]
        fn matches_btreemap_model(ops in proptest::collection::vec(op(), 0..400)) {
            let mut q = EventQueue::with_capacity(4);
            let mut model = BTreeMap::new();
            let mut n = 0u32;
            for op in ops {
                match op {
                    Op::Push(t) => {
                        n += 1;
                        q.push(SimTime(t), n);
                        model.insert((t, n), n);
                    }
                    Op::Pop => {
                        let expected = model.pop_first().map(|((t, _), v)| (SimTime(t), v));
                        prop_assert_eq!(q.pop(), expected);
                    }
                }
                prop_assert_eq!(q.len(), model.len());
                let first = model.keys().next().map_or(SimTime::MAX, |&(t, _)| SimTime(t));
                prop_assert_eq!(q.peek_time(), first);
            }
        }
    }
}
