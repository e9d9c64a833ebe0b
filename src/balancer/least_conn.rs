//! Weighted least connections (ELB `LEAST_CONNECTIONS`, APIG strategy 2), as nginx's `least_conn`
//! (`ngx_http_upstream_get_least_conn_peer`; lb-anchors §1): the candidate with the lowest
//! `active / weight`, compared exactly by cross-multiplication in 64-bit integers. When several
//! candidates tie, nginx tries them "in turn using weighted round robin": each tied candidate adds
//! its weight to its `current` value, the largest `current` wins (the first in member order on
//! equal values) and loses the tied candidates' total weight. A lone best candidate leaves every
//! `current` value alone. So idle members with weights 1:2 take 1/3 and 2/3 of the picks (seed 003's
//! weighted least connections body), not turns by recency.
//!
//! nginx scans every member per pick (O(n)). Here the candidates sit in the leaves of a
//! tournament tree (an implicit binary tree in one array) whose inner nodes hold their subtree's
//! least-loaded candidate: the root gives the lowest ratio, and the tied candidates are found by
//! descending only into subtrees whose best ties it, O(t log n) for t tied candidates. A
//! connection count change replays one leaf-to-root path, O(log n). Nothing is allocated per pick.

use super::{Candidate, MemberIdx, Picker};

const NONE: u32 = u32::MAX;

/// A candidate's load, stored by value in every tree node its candidate wins so a replay reads
/// sibling pairs (adjacent in memory) instead of chasing leaf indices.
#[derive(Clone, Copy)]
struct Entry {
    active: u32,
    weight: u32,
    /// Position among the candidates (`NONE` for an empty leaf).
    slot: u32,
}

const EMPTY: Entry = Entry {
    active: 0,
    weight: 0,
    slot: NONE,
};

impl Entry {
    /// `active × other.weight` against `other.active × weight`: the load ratios compared
    /// without division.
    #[inline]
    fn load_cmp(&self, other: &Entry) -> std::cmp::Ordering {
        let lhs = u64::from(self.active) * u64::from(other.weight);
        let rhs = u64::from(other.active) * u64::from(self.weight);
        lhs.cmp(&rhs)
    }

    /// Does `self` beat `other` in the tree: a lower load ratio, then the lower position?
    #[inline]
    fn beats(&self, other: &Entry) -> bool {
        if other.slot == NONE {
            return self.slot != NONE;
        }
        if self.slot == NONE {
            return false;
        }
        self.load_cmp(other)
            .then(self.slot.cmp(&other.slot))
            .is_lt()
    }

    #[inline]
    fn ties(&self, other: &Entry) -> bool {
        self.slot != NONE && self.load_cmp(other).is_eq()
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
    /// nginx's `current_weight` by candidate position (next to each other for the tie scan).
    current: Vec<i64>,
    /// `current` by member index as of the last rebuild, so turns continue across rebuilds.
    saved: Vec<i64>,
    /// Positions of the candidates tied for the lowest load, in member order (capacity reserved
    /// at each rebuild, so a pick never grows it).
    tied: Vec<u32>,
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

    /// Appends the positions of the leaves under `node` whose load ties `best`, left to right.
    /// A node holds its subtree's lowest load, so a subtree whose node does not tie has none.
    fn collect_ties(&mut self, node: usize, best: &Entry) {
        let e = self.tree[node];
        if !e.ties(best) {
            return;
        }
        if node >= self.width {
            self.tied.push(e.slot);
        } else {
            self.collect_ties(2 * node, best);
            self.collect_ties(2 * node + 1, best);
        }
    }

    /// nginx's weighted round robin among `self.tied` (non-empty): the winner's position.
    fn take_turn(&mut self) -> usize {
        if let [only] = self.tied[..] {
            return only as usize;
        }
        let mut total = 0;
        let mut best: Option<usize> = None;
        for &slot in &self.tied {
            let slot = slot as usize;
            let w = i64::from(self.tree[self.width + slot].weight);
            self.current[slot] += w;
            total += w;
            if best.is_none_or(|b| self.current[slot] > self.current[b]) {
                best = Some(slot);
            }
        }
        let slot = best.unwrap_or_default();
        self.current[slot] -= total;
        slot
    }
}

impl Picker for LeastConn {
    fn rebuild(&mut self, candidates: &[Candidate], pool_size: usize) {
        for (&m, &current) in self.members.iter().zip(&self.current) {
            self.saved[m as usize] = current;
        }
        self.saved.resize(pool_size, 0);
        self.current.clear();
        self.slot.clear();
        self.slot.resize(pool_size, NONE);
        self.members.clear();
        self.tied.clear();
        self.tied.reserve(candidates.len());
        self.width = candidates.len().next_power_of_two();
        self.tree.clear();
        self.tree.resize(2 * self.width, EMPTY);
        for (i, c) in candidates.iter().enumerate() {
            self.slot[c.idx as usize] = i as u32;
            self.members.push(c.idx);
            self.current.push(self.saved[c.idx as usize]);
            self.tree[self.width + i] = Entry {
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
        let best = self.tree[1];
        self.tied.clear();
        self.collect_ties(1, &best);
        let slot = self.take_turn();
        self.members[slot]
    }

    /// The same choice among the candidates not tried, found by a scan of the leaves, as nginx
    /// skips tried peers in both of its passes (retries are rare).
    fn pick_excluding(&mut self, _key: u64, tried: &[MemberIdx]) -> Option<MemberIdx> {
        let untried = |e: &&Entry| !tried.contains(&self.members[e.slot as usize]);
        let leaves = &self.tree[self.width..self.width + self.members.len()];
        let best = leaves
            .iter()
            .filter(untried)
            .fold(None::<Entry>, |best, e| match best {
                Some(b) if !e.beats(&b) => Some(b),
                _ => Some(*e),
            })?;
        self.tied.clear();
        self.tied.extend(
            leaves
                .iter()
                .filter(untried)
                .filter(|e| e.ties(&best))
                .map(|e| e.slot),
        );
        let slot = self.take_turn();
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
    fn equal_ties_take_turns() {
        let mut lc = build(&[2, 2, 2], &[0, 0, 0]);
        let picks: Vec<MemberIdx> = (0..6).map(|_| lc.pick(0)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    /// Seed 003's weighted least connections body (weights 1 and 2) with idle members: nginx's
    /// tie-break is weighted round robin, {a:1, b:2} → b a b, so 1/3 and 2/3 of the picks.
    #[test]
    fn weighted_ties_follow_the_weights() {
        let mut lc = build(&[1, 2], &[0, 0]);
        let picks: Vec<MemberIdx> = (0..6).map(|_| lc.pick(0)).collect();
        assert_eq!(picks, [1, 0, 1, 1, 0, 1]);
    }

    /// `ngx_http_upstream_get_least_conn_peer`, one O(n) pass to find the best ratio and a
    /// second over the tied peers, skipping tried ones.
    struct Nginx {
        weight: Vec<u64>,
        conns: Vec<u64>,
        current: Vec<i64>,
    }

    impl Nginx {
        fn pick(&mut self, tried: &[MemberIdx]) -> Option<usize> {
            let ok = |i: usize| !tried.contains(&(i as MemberIdx));
            let mut best: Option<usize> = None;
            let mut many = false;
            for i in (0..self.weight.len()).filter(|&i| ok(i)) {
                match best {
                    Some(b) if self.conns[i] * self.weight[b] < self.conns[b] * self.weight[i] => {
                        (best, many) = (Some(i), false)
                    }
                    Some(b) if self.conns[i] * self.weight[b] == self.conns[b] * self.weight[i] => {
                        many = true
                    }
                    Some(_) => {}
                    None => best = Some(i),
                }
            }
            let first = best?;
            if !many {
                return best;
            }
            let (mut best, mut total) = (first, 0);
            for i in (first..self.weight.len()).filter(|&i| ok(i)) {
                if self.conns[i] * self.weight[first] != self.conns[first] * self.weight[i] {
                    continue;
                }
                self.current[i] += self.weight[i] as i64;
                total += self.weight[i] as i64;
                if self.current[i] > self.current[best] {
                    best = i;
                }
            }
            self.current[best] -= total;
            Some(best)
        }
    }

    proptest::proptest! {
        /// Every pick, retry and connection change gives nginx's choice.
        #[test]
        fn same_picks_as_nginx(
            weights in proptest::collection::vec(1u32..6, 1..12),
            ops in proptest::collection::vec((0u8..5, 0usize..12), 1..300),
        ) {
            let n = weights.len();
            let mut lc = build(&weights, &vec![0; n]);
            let mut nginx = Nginx {
                weight: weights.iter().map(|&w| u64::from(w)).collect(),
                conns: vec![0; n],
                current: vec![0; n],
            };
            for (op, i) in ops {
                let i = i % n;
                match op {
                    0 | 1 => {
                        let m = lc.pick(0) as usize;
                        proptest::prop_assert_eq!(Some(m), nginx.pick(&[]));
                        nginx.conns[m] += 1;
                        lc.on_active(m as MemberIdx, nginx.conns[m] as u32);
                    }
                    2 => {
                        let tried = [i as MemberIdx];
                        let m = lc.pick_excluding(0, &tried).map(|m| m as usize);
                        proptest::prop_assert_eq!(m, nginx.pick(&tried));
                    }
                    3 => {
                        // a rebuild (as on any weight or membership change) keeps the turns
                        let cands: Vec<Candidate> = (0..n)
                            .map(|j| Candidate::new(j as MemberIdx, weights[j], nginx.conns[j] as u32, (0, 0)))
                            .collect();
                        lc.rebuild(&cands, n);
                    }
                    _ => {
                        nginx.conns[i] = nginx.conns[i].saturating_sub(1);
                        lc.on_active(i as MemberIdx, nginx.conns[i] as u32);
                    }
                }
            }
        }
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
