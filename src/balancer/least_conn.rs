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

#[derive(Clone, Copy)]
struct Leaf {
    active: u64,
    weight: u64,
    /// Pick counter value when this member was last picked (0 = never).
    last_pick: u64,
    idx: MemberIdx,
}

#[derive(Default)]
pub(crate) struct LeastConn {
    leaves: Vec<Leaf>,
    /// `tree[1]` is the root; leaf `i` is `tree[width + i]`; entries are leaf positions.
    tree: Vec<u32>,
    width: usize,
    /// Leaf position of each member index, `NONE` when it is not a candidate.
    slot: Vec<u32>,
    /// Last-pick stamps by member index, kept across rebuilds so turns continue.
    last_pick: Vec<u64>,
    clock: u64,
}

impl LeastConn {
    /// Does leaf `a` beat leaf `b`?
    #[inline]
    fn beats(&self, a: u32, b: u32) -> bool {
        if b == NONE {
            return a != NONE;
        }
        if a == NONE {
            return false;
        }
        let (x, y) = (&self.leaves[a as usize], &self.leaves[b as usize]);
        // x.active / x.weight < y.active / y.weight, without division.
        let (lhs, rhs) = (x.active * y.weight, y.active * x.weight);
        lhs < rhs || (lhs == rhs && (x.last_pick, x.idx) < (y.last_pick, y.idx))
    }

    #[inline]
    fn replay(&mut self, leaf: usize) {
        let mut node = (self.width + leaf) / 2;
        while node >= 1 {
            let (l, r) = (self.tree[2 * node], self.tree[2 * node + 1]);
            self.tree[node] = if self.beats(r, l) { r } else { l };
            node /= 2;
        }
    }
}

impl Picker for LeastConn {
    fn rebuild(&mut self, candidates: &[Candidate], pool_size: usize) {
        for leaf in &self.leaves {
            self.last_pick[leaf.idx as usize] = leaf.last_pick;
        }
        self.last_pick.resize(pool_size, 0);
        self.slot.clear();
        self.slot.resize(pool_size, NONE);
        self.leaves.clear();
        for (i, c) in candidates.iter().enumerate() {
            self.slot[c.idx as usize] = i as u32;
            self.leaves.push(Leaf {
                active: u64::from(c.active),
                weight: u64::from(c.weight),
                last_pick: self.last_pick[c.idx as usize],
                idx: c.idx,
            });
        }
        self.width = candidates.len().next_power_of_two();
        self.tree.clear();
        self.tree.resize(2 * self.width, NONE);
        for i in 0..candidates.len() {
            self.tree[self.width + i] = i as u32;
        }
        for node in (1..self.width).rev() {
            let (l, r) = (self.tree[2 * node], self.tree[2 * node + 1]);
            self.tree[node] = if self.beats(r, l) { r } else { l };
        }
    }

    fn pick(&mut self, _key: u64) -> MemberIdx {
        let leaf = self.tree[1] as usize;
        self.clock += 1;
        self.leaves[leaf].last_pick = self.clock;
        self.replay(leaf);
        self.leaves[leaf].idx
    }

    fn on_active(&mut self, m: MemberIdx, active: u32) {
        let slot = self.slot.get(m as usize).copied().unwrap_or(NONE);
        if slot != NONE {
            self.leaves[slot as usize].active = u64::from(active);
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
