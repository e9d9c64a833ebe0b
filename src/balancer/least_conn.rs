//! Weighted least connections (ELB `LEAST_CONNECTIONS`, APIG strategy 2): the candidate with the
//! lowest `active / weight`, compared exactly by cross-multiplication in 64-bit integers as IPVS
//! `ip_vs_wlc.c` and nginx `least_conn` do (lb-anchors §1, §4.2). Ties go to the candidate picked
//! least recently (then the lowest index), so equally loaded members take turns round-robin
//! instead of the lowest index always winning.
//!
//! IPVS and nginx scan every member per pick (O(n)). Here the candidates sit in the leaves of a
//! tournament tree (an implicit binary tree in one array) whose inner nodes hold the winner of
//! their subtree: a pick reads the root, and a pick or a connection count change replays one
//! leaf-to-root path, O(log n) comparisons with no allocation.

use super::{Candidate, MemberIdx, Picker};

const NONE: u32 = u32::MAX;

/// A candidate's sort key, stored by value in every tree node its candidate wins so a replay
/// reads sibling pairs (adjacent in memory) instead of chasing leaf indices.
#[derive(Clone, Copy)]
struct Entry {
    /// Pick counter value when this candidate was last picked (0 = never).
    last_pick: u64,
    active: u32,
    weight: u32,
    /// Position among the candidates (`NONE` for an empty leaf).
    slot: u32,
}

const EMPTY: Entry = Entry {
    last_pick: u64::MAX,
    active: 0,
    weight: 0,
    slot: NONE,
};

impl Entry {
    /// Does `self` beat `other`: lower active/weight (cross-multiplied), then the earlier last
    /// pick, then the lower position (= lower member index)?
    #[inline]
    fn beats(&self, other: &Entry) -> bool {
        if other.slot == NONE {
            return self.slot != NONE;
        }
        if self.slot == NONE {
            return false;
        }
        let lhs = u64::from(self.active) * u64::from(other.weight);
        let rhs = u64::from(other.active) * u64::from(self.weight);
        lhs < rhs || (lhs == rhs && (self.last_pick, self.slot) < (other.last_pick, other.slot))
    }
}

#[derive(Default)]
pub(crate) struct LeastConn {
    /// Member index of each candidate position.
    members: Vec<MemberIdx>,
    /// `tree[1]` is the root; leaf `i` is `tree[width + i]`; each node holds its subtree's winner.
    tree: Vec<Entry>,
    width: usize,
    /// Candidate position of each member index, `NONE` when it is not a candidate.
    slot: Vec<u32>,
    /// Last-pick stamps by member index, kept across rebuilds so turns continue.
    last_pick: Vec<u64>,
    clock: u64,
}

impl LeastConn {
    #[inline]
    fn replay(&mut self, slot: usize) {
        let mut node = (self.width + slot) / 2;
        while node >= 1 {
            let (l, r) = (self.tree[2 * node], self.tree[2 * node + 1]);
            self.tree[node] = if r.beats(&l) { r } else { l };
            node /= 2;
        }
    }
}

impl Picker for LeastConn {
    fn rebuild(&mut self, candidates: &[Candidate], pool_size: usize) {
        for (i, &m) in self.members.iter().enumerate() {
            self.last_pick[m as usize] = self.tree[self.width + i].last_pick;
        }
        self.last_pick.resize(pool_size, 0);
        self.slot.clear();
        self.slot.resize(pool_size, NONE);
        self.members.clear();
        self.width = candidates.len().next_power_of_two();
        self.tree.clear();
        self.tree.resize(2 * self.width, EMPTY);
        for (i, c) in candidates.iter().enumerate() {
            self.slot[c.idx as usize] = i as u32;
            self.members.push(c.idx);
            self.tree[self.width + i] = Entry {
                last_pick: self.last_pick[c.idx as usize],
                active: c.active,
                weight: c.weight,
                slot: i as u32,
            };
        }
        for node in (1..self.width).rev() {
            let (l, r) = (self.tree[2 * node], self.tree[2 * node + 1]);
            self.tree[node] = if r.beats(&l) { r } else { l };
        }
    }

    fn pick(&mut self, _key: u64) -> MemberIdx {
        let slot = self.tree[1].slot as usize;
        self.clock += 1;
        self.tree[self.width + slot].last_pick = self.clock;
        self.replay(slot);
        self.members[slot]
    }

    /// The best candidate not tried, by the same order as a pick: a scan of the leaves, as
    /// nginx's `least_conn` scans its peers skipping tried ones (retries are rare).
    fn pick_excluding(&mut self, _key: u64, tried: &[MemberIdx]) -> Option<MemberIdx> {
        let leaves = &self.tree[self.width..self.width + self.members.len()];
        let best = leaves
            .iter()
            .filter(|e| !tried.contains(&self.members[e.slot as usize]))
            .fold(None::<Entry>, |best, e| match best {
                Some(b) if !e.beats(&b) => Some(b),
                _ => Some(*e),
            })?;
        let slot = best.slot as usize;
        self.clock += 1;
        self.tree[self.width + slot].last_pick = self.clock;
        self.replay(slot);
        Some(self.members[slot])
    }

    fn on_active(&mut self, m: MemberIdx, active: u32) {
        let slot = self.slot.get(m as usize).copied().unwrap_or(NONE);
        if slot != NONE {
            self.tree[self.width + slot as usize].active = active;
            self.replay(slot as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(weights: &[u32], active: &[u32]) -> LeastConn {
        let cands: Vec<Candidate> = weights
            .iter()
            .zip(active)
            .enumerate()
            .map(|(i, (&w, &a))| Candidate::new(i as MemberIdx, w, a, (0, 0)))
            .collect();
        let mut lc = LeastConn::default();
        lc.rebuild(&cands, weights.len());
        lc
    }

    #[test]
    fn ipvs_wlc_vector() {
        // lb-anchors §4.2: A (w 1, 1 active) against B (w 3, 2 active): B wins.
        assert_eq!(build(&[1, 3], &[1, 2]).pick(0), 1);
    }

    #[test]
    fn ties_take_turns() {
        let mut lc = build(&[2, 2, 2], &[0, 0, 0]);
        let picks: Vec<MemberIdx> = (0..6).map(|_| lc.pick(0)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn follows_connection_counts() {
        let mut lc = build(&[1, 2, 1], &[0, 0, 0]);
        let mut active = [0u32; 3];
        for _ in 0..8 {
            let m = lc.pick(0) as usize;
            active[m] += 1;
            lc.on_active(m as MemberIdx, active[m]);
        }
        // 8 connections over weights 1:2:1 → 2:4:2.
        assert_eq!(active, [2, 4, 2]);
        active[1] -= 3;
        lc.on_active(1, active[1]);
        assert_eq!(lc.pick(0), 1);
    }
}
