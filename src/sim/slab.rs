//! Generation-checked slabs and the list of waiting requests.
//!
//! Requests and connections live in slabs indexed by `u32`. Freed slots are reused through a
//! free list, so memory follows the requests in flight; a slot's generation changes when it is
//! freed, so an event naming a slot that was freed since is recognised as stale.

use std::num::NonZeroU32;
use std::ops::{Index, IndexMut};

/// A slot or member index whose `Option` is four bytes, as the bare `u32` was (`Option<u32>`
/// takes eight and would grow every request and connection). It stores `!index`, so the niche
/// is index `u32::MAX`, which no slab or pool reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ix(NonZeroU32);

impl Ix {
    #[inline]
    pub(super) fn new(i: u32) -> Ix {
        match NonZeroU32::new(!i) {
            Some(n) => Ix(n),
            None => panic!("index u32::MAX"),
        }
    }

    #[inline]
    pub(super) fn get(self) -> u32 {
        !self.0.get()
    }
}

struct Slot<T> {
    gen: u32,
    live: bool,
    item: T,
}

pub(super) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

impl<T: Default> Slab<T> {
    pub(super) fn with_capacity(capacity: usize) -> Self {
        Slab {
            slots: Vec::with_capacity(capacity),
            free: Vec::with_capacity(capacity),
        }
    }

    /// Takes a slot: a freed one if any, still holding its last item for the caller to
    /// overwrite, else a new one holding `T::default()`.
    #[inline]
    pub(super) fn alloc(&mut self) -> u32 {
        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    gen: 0,
                    live: false,
                    item: T::default(),
                });
                self.slots.len() as u32 - 1
            }
        };
        self.slots[i as usize].live = true;
        i
    }
}

impl<T> Slab<T> {
    /// Frees slot `i`; its item stays readable until the slot is taken again.
    #[inline]
    pub(super) fn free(&mut self, i: u32) {
        let slot = &mut self.slots[i as usize];
        slot.live = false;
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(i);
    }

    #[inline]
    pub(super) fn gen(&self, i: u32) -> u32 {
        self.slots[i as usize].gen
    }

    /// Slots ever taken (live or free): scans run over `0..len()`.
    #[inline]
    pub(super) fn len(&self) -> u32 {
        self.slots.len() as u32
    }

    /// The item of slot `i` if the slot is taken.
    #[inline]
    pub(super) fn live(&self, i: u32) -> Option<&T> {
        let slot = &self.slots[i as usize];
        slot.live.then_some(&slot.item)
    }
}

impl<T> Index<u32> for Slab<T> {
    type Output = T;

    #[inline]
    fn index(&self, i: u32) -> &T {
        &self.slots[i as usize].item
    }
}

impl<T> IndexMut<u32> for Slab<T> {
    #[inline]
    fn index_mut(&mut self, i: u32) -> &mut T {
        &mut self.slots[i as usize].item
    }
}

/// An item's place in a [`WaitList`].
#[derive(Clone, Copy, Default)]
pub(super) struct Links {
    on: bool,
    older: Option<Ix>,
    newer: Option<Ix>,
}

impl Links {
    #[inline]
    pub(super) fn listed(&self) -> bool {
        self.on
    }
}

/// The requests whose clients wait, oldest first: a doubly linked list through the slab.
/// Every request has the same client timeout, so the oldest is always the next to time out: no
/// timer per request, no heap entry, and memory in proportion to the requests in flight (a
/// per-request timer queue at 50 k req/s and 30 s held 1.5 M mostly stale deadlines).
#[derive(Default)]
pub(super) struct WaitList {
    oldest: Option<Ix>,
    newest: Option<Ix>,
}

impl WaitList {
    #[inline]
    pub(super) fn oldest(&self) -> Option<u32> {
        self.oldest.map(Ix::get)
    }

    /// Appends slot `r` as the newest.
    #[inline]
    pub(super) fn push<T: AsMut<Links>>(&mut self, slab: &mut Slab<T>, r: u32) {
        let newest = self.newest;
        *slab[r].as_mut() = Links {
            on: true,
            older: newest,
            newer: None,
        };
        match newest {
            None => self.oldest = Some(Ix::new(r)),
            Some(n) => slab[n.get()].as_mut().newer = Some(Ix::new(r)),
        }
        self.newest = Some(Ix::new(r));
    }

    /// Takes slot `r` out of the list.
    #[inline]
    pub(super) fn remove<T: AsMut<Links>>(&mut self, slab: &mut Slab<T>, r: u32) {
        let links = slab[r].as_mut();
        links.on = false;
        let (older, newer) = (links.older, links.newer);
        match older {
            None => self.oldest = newer,
            Some(o) => slab[o.get()].as_mut().newer = newer,
        }
        match newer {
            None => self.newest = older,
            Some(n) => slab[n.get()].as_mut().older = older,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Item(Links);

    impl AsMut<Links> for Item {
        fn as_mut(&mut self) -> &mut Links {
            &mut self.0
        }
    }

    #[test]
    fn ix_round_trips_in_four_bytes() {
        assert_eq!(size_of::<Option<Ix>>(), 4);
        for i in [0, 1, 7, u32::MAX - 1] {
            assert_eq!(Ix::new(i).get(), i);
        }
    }

    #[test]
    fn freed_slots_are_reused_with_a_new_generation() {
        let mut s: Slab<Item> = Slab::with_capacity(2);
        let (a, b) = (s.alloc(), s.alloc());
        assert_eq!((a, b, s.gen(a)), (0, 1, 0));
        s.free(a);
        assert!(s.live(a).is_none() && s.live(b).is_some());
        assert_eq!((s.alloc(), s.gen(a), s.len()), (a, 1, 2));
    }

    #[test]
    fn wait_list_keeps_issue_order_across_removals() {
        let mut s: Slab<Item> = Slab::with_capacity(4);
        let mut w = WaitList::default();
        let r: Vec<u32> = (0..4).map(|_| s.alloc()).collect();
        for &i in &r {
            w.push(&mut s, i);
        }
        w.remove(&mut s, r[1]);
        w.remove(&mut s, r[0]);
        assert!(!s[r[0]].0.listed() && s[r[2]].0.listed());
        assert_eq!(w.oldest(), Some(r[2]));
        w.remove(&mut s, r[3]);
        w.remove(&mut s, r[2]);
        assert_eq!(w.oldest(), None);
        w.push(&mut s, r[1]);
        assert_eq!(w.oldest(), Some(r[1]));
    }
}
