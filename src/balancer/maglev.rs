//! Maglev consistent hashing (Eisenbud et al., NSDI 2016, §3.4), used for every hash algorithm:
//! ELB `SOURCE_IP`, `QUIC_CID` and the tuple hashes, APIG source and URI hashing.
//!
//! - Table size M: the smallest prime ≥ the next power of two of 100 × pool size (the paper's
//!   M > 100·N rule), and at least 65537 (the paper's and Envoy's default). The pool size counts
//!   every member index ever issued, so M changes only when the pool grows past a power of two,
//!   not on health or weight changes (a new M would remap nearly every key).
//! - Permutation of a member: `offset = XXH64(key, 0) % M`, `skip = XXH64(key, 1) % (M − 1) + 1`
//!   (Envoy `maglev_lb.cc`). Members are filled in order of their key hash, so the table depends on
//!   the set of candidates, never on their indices or insertion order.
//! - Weights are ignored by default (vendor: "the member weight is ignored" under hash
//!   algorithms; weight 0 never reaches here because eligibility removes it). With
//!   `weighted` set they are honoured as Katran's `MaglevHashV2` does: a member's k-th
//!   turn comes in pass ⌈k · W / w⌉ (W the largest weight), so it fills about `w / Σw` of the
//!   table; with equal weights every member takes every pass, which is the unweighted fill.
//! - Lookup maps the 64-bit request hash onto `[0, M)` with a multiply-shift (`(h · M) >> 64`),
//!   which is as uniform as `h % M` and avoids a 64-bit division per pick.
//!
//! - LB nodes whose candidates are equal build the same table, so they share one
//!   ([`SharedTables`]): the first node to rebuild fills it, the others find it.
//!
//! Disruption measured by `tests/it/balancer.rs` is documented in `docs/model.md`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::{Candidate, MemberIdx, Picker};

/// Paper §3.4 / §5.3 default and Envoy's `table_size` default: the floor for small pools.
const MIN_TABLE_SIZE: u64 = 65_537;

/// Table size for a pool that has issued `pool_size` member indices.
pub(crate) fn table_size(pool_size: usize) -> u64 {
    let target = (100 * pool_size.max(1) as u64).next_power_of_two();
    let mut m = target.max(MIN_TABLE_SIZE);
    while !is_prime(m) {
        m += 1;
    }
    m
}

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

/// Slot owners as a fill writes them. 16-bit entries while every candidate's index fits: a
/// 10,000-member table (M ≈ 1 M) then takes 2 MiB instead of 4, which halved the pick's time
/// with a million distinct clients (the lookup misses cache either way; half the bytes stay in
/// L3).
enum Slots {
    Narrow(Vec<u16>),
    Wide(Vec<MemberIdx>),
}

impl Slots {
    /// `size` slots wide enough for `widest`.
    fn new(size: usize, widest: MemberIdx) -> Slots {
        match u16::try_from(widest) {
            Ok(_) => Slots::Narrow(vec![0; size]),
            Err(_) => Slots::Wide(vec![0; size]),
        }
    }

    /// `idx` was checked by [`Slots::new`] to fit.
    #[inline]
    fn set(&mut self, slot: u64, idx: MemberIdx) {
        match self {
            Slots::Narrow(t) => t[slot as usize] = idx as u16,
            Slots::Wide(t) => t[slot as usize] = idx,
        }
    }

    fn into_table(self) -> Table {
        match self {
            Slots::Narrow(t) => Table::Narrow(t.into()),
            Slots::Wide(t) => Table::Wide(t.into()),
        }
    }
}

/// A filled table, held by every balancer whose candidates it was filled for.
#[derive(Clone)]
enum Table {
    Narrow(Rc<[u16]>),
    Wide(Rc<[MemberIdx]>),
}

impl Default for Table {
    fn default() -> Table {
        Table::Narrow(Rc::new([]))
    }
}

impl Table {
    #[inline]
    fn get(&self, slot: usize) -> MemberIdx {
        match self {
            Table::Narrow(t) => MemberIdx::from(t[slot]),
            Table::Wide(t) => t[slot],
        }
    }

    fn len(&self) -> usize {
        match self {
            Table::Narrow(t) => t.len(),
            Table::Wide(t) => t.len(),
        }
    }

    /// How many hold the table.
    fn holders(&self) -> usize {
        match self {
            Table::Narrow(t) => Rc::strong_count(t),
            Table::Wide(t) => Rc::strong_count(t),
        }
    }
}

/// Whose turn it is to take a slot, in the order the fill asks.
trait Turns {
    fn next(&mut self) -> usize;
}

/// Listing 1: every candidate in key-hash order, over and over.
struct EveryCandidate {
    next: usize,
    count: usize,
}

impl Turns for EveryCandidate {
    #[inline]
    fn next(&mut self) -> usize {
        let turn = self.next;
        // no division: the fill takes M turns
        self.next = if turn + 1 == self.count { 0 } else { turn + 1 };
        turn
    }
}

/// Weighted turns: candidate `i` of weight `w` takes its k-th turn in pass ⌈k · W / w⌉, and the
/// candidates of one pass go in key-hash order (Katran `MaglevHashV2::generateHashRing`: each
/// pass adds `w` to a counter and takes a turn once it reaches `W`). Candidates of one weight
/// share a schedule, so each pass lists the candidates of the weights due in it, and the passes
/// nobody is due in cost nothing.
struct ByWeight {
    classes: Vec<WeightClass>,
    /// Class of each candidate, in key-hash order.
    class_of: Vec<usize>,
    /// The largest weight, W.
    max: u64,
    /// The current pass's candidates in key-hash order, and how many have had their turn.
    pass: Vec<usize>,
    given: usize,
}

/// The candidates of one weight, in key-hash order, and their shared schedule.
struct WeightClass {
    weight: u64,
    candidates: Vec<usize>,
    /// Turns each candidate has been given.
    taken: u64,
    /// Pass of the next turn.
    next_pass: u64,
    due: bool,
}

impl ByWeight {
    fn new(weights: impl Iterator<Item = u64>) -> ByWeight {
        let mut by_weight: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        let mut count = 0;
        for (i, w) in weights.enumerate() {
            by_weight.entry(w).or_default().push(i);
            count += 1;
        }
        let max = by_weight.keys().next_back().copied().unwrap_or(1);
        let mut class_of = vec![0; count];
        let classes = by_weight
            .into_iter()
            .enumerate()
            .map(|(k, (weight, candidates))| {
                for &i in &candidates {
                    class_of[i] = k;
                }
                WeightClass {
                    weight,
                    candidates,
                    taken: 0,
                    next_pass: max.div_ceil(weight),
                    due: false,
                }
            })
            .collect();
        ByWeight {
            classes,
            class_of,
            max,
            pass: Vec::with_capacity(count),
            given: 0,
        }
    }

    /// Lists the candidates due in the next pass, in key-hash order: by one scan over every
    /// candidate when many are due, by sorting the due classes' lists when few are (weights far
    /// apart), so a pass costs O(min(N, d log d)) for d candidates due.
    fn start_pass(&mut self) {
        let pass = self.classes.iter().map(|c| c.next_pass).min().unwrap_or(0);
        let mut due = 0;
        for c in &mut self.classes {
            c.due = c.next_pass == pass;
            if c.due {
                due += c.candidates.len();
                c.taken += 1;
                c.next_pass = ((c.taken + 1) * self.max).div_ceil(c.weight);
            }
        }
        self.pass.clear();
        self.given = 0;
        if due * (usize::BITS - due.leading_zeros()) as usize >= self.class_of.len() {
            let classes = &self.classes;
            self.pass
                .extend((0..self.class_of.len()).filter(|&i| classes[self.class_of[i]].due));
        } else {
            for c in self.classes.iter().filter(|c| c.due) {
                self.pass.extend_from_slice(&c.candidates);
            }
            self.pass.sort_unstable();
        }
    }
}

impl Turns for ByWeight {
    fn next(&mut self) -> usize {
        if self.given == self.pass.len() {
            // never empty: the heaviest class is due in every pass
            self.start_pass();
        }
        self.given += 1;
        self.pass.get(self.given - 1).copied().unwrap_or(0)
    }
}

/// A candidate as the fill sees it: key hashes, index and weight, in key-hash order.
type Entry = (u64, u64, MemberIdx, u32);

/// The tables the balancers of one run have filled and still hold, for the others to share. A
/// table is a pure function of its size, the weighting and the candidates, so balancers whose
/// candidates are equal (LB nodes after the same change) take the first one's instead of filling
/// their own: at 10,000 members a fill costs about 25 ms, finding it a comparison of the lists.
#[derive(Default)]
pub struct SharedTables(RefCell<Vec<Built>>);

struct Built {
    m: u64,
    weighted: bool,
    order: Vec<Entry>,
    table: Table,
}

impl SharedTables {
    /// The table of these candidates, if a balancer holds one; tables no balancer holds any
    /// more are let go.
    fn find(&self, m: u64, weighted: bool, order: &[Entry]) -> Option<Table> {
        let mut built = self.0.borrow_mut();
        built.retain(|b| b.table.holders() > 1);
        built
            .iter()
            .find(|b| b.m == m && b.weighted == weighted && b.order == order)
            .map(|b| b.table.clone())
    }

    fn add(&self, m: u64, weighted: bool, order: &[Entry], table: &Table) {
        self.0.borrow_mut().push(Built {
            m,
            weighted,
            order: order.to_vec(),
            table: table.clone(),
        });
    }
}

/// A Maglev lookup table over the current candidates.
#[derive(Default)]
pub(crate) struct Maglev {
    /// Honour candidate weights (an lbsim option; the vendor ignores them).
    weighted: bool,
    table: Table,
    shared: Rc<SharedTables>,
    /// Reused between rebuilds: candidates in key-hash order with their weights, and per
    /// candidate its permutation cursor and skip, and the occupancy bit of each slot (M/8 bytes,
    /// so it stays in cache).
    order: Vec<Entry>,
    next: Vec<u64>,
    skip: Vec<u64>,
    occupied: Vec<u64>,
}

impl Maglev {
    /// A picker sharing its tables through `shared`.
    pub(crate) fn new(weighted: bool, shared: Rc<SharedTables>) -> Maglev {
        Maglev {
            weighted,
            shared,
            ..Maglev::default()
        }
    }

    /// Member owning each slot, for tests that measure disruption.
    #[cfg(test)]
    pub(crate) fn table(&self) -> Vec<MemberIdx> {
        (0..self.table.len()).map(|s| self.table.get(s)).collect()
    }

    /// Paper §3.4, listing 1: members take turns, each taking the next free slot along its
    /// permutation, until the table is full. The result is exactly the listing's (a unit test
    /// compares them), but the last ½√M free slots, which cost the listing about half of its
    /// ≈ M ln M probes (M/E per turn with E slots free), are found by inverting the permutation
    /// instead: slot `s` sits at position `(s − offset) · skip⁻¹ mod M`, and a member's next
    /// free slot is the free one with the smallest position (every free slot lies ahead of its
    /// cursor: the cursor only passed occupied slots, and slots never empty). That costs E
    /// products per turn, fewer than M/E probes while E < √M; ½√M measured best.
    fn fill(&mut self, m: u64, turns: &mut impl Turns) -> Table {
        let size = m as usize;
        debug_assert!(m < 1 << 32, "positions are multiplied in 64 bits");
        let widest = self.order.iter().map(|o| o.2).max().unwrap_or(0);
        let mut table = Slots::new(size, widest);
        self.occupied.clear();
        self.occupied.resize(size.div_ceil(64), 0);
        // A cursor is a member's current position along its permutation; advancing by `skip`
        // modulo M walks (offset + j·skip) mod M without multiplying or dividing.
        self.next.clear();
        self.next.extend(self.order.iter().map(|&(h0, ..)| h0 % m));
        self.skip.clear();
        self.skip
            .extend(self.order.iter().map(|&(_, h1, ..)| h1 % (m - 1) + 1));
        let endgame = m.isqrt() as usize / 2;
        let mut free = size;
        while free > endgame {
            let turn = turns.next();
            let slot = self.probe(turn, m);
            table.set(slot, self.order[turn].2);
            free -= 1;
        }
        let mut empty: Vec<u64> = (0..m)
            .filter(|&s| self.occupied[(s >> 6) as usize] & (1 << (s & 63)) == 0)
            .collect();
        let modulus = Modulus::new(m);
        while !empty.is_empty() {
            let turn = turns.next();
            let (h0, _, idx, _) = self.order[turn];
            let offset = h0 % m;
            let inverse = modulus.inverse(self.skip[turn]);
            let position = |s: u64| modulus.mul(modulus.sub(s, offset), inverse);
            let mut best = 0;
            let mut best_position = u64::MAX;
            for (k, &s) in empty.iter().enumerate() {
                let p = position(s);
                if p < best_position {
                    (best, best_position) = (k, p);
                }
            }
            table.set(empty.swap_remove(best), idx);
        }
        table.into_table()
    }

    /// Takes the next free slot along candidate `i`'s permutation and advances its cursor.
    #[inline]
    fn probe(&mut self, i: usize, m: u64) -> u64 {
        let skip = self.skip[i];
        let mut c = self.next[i];
        loop {
            let (word, bit) = ((c >> 6) as usize, 1u64 << (c & 63));
            let slot = c;
            c += skip;
            if c >= m {
                c -= m;
            }
            if self.occupied[word] & bit == 0 {
                self.occupied[word] |= bit;
                self.next[i] = c;
                return slot;
            }
        }
    }
}

/// Arithmetic modulo a prime M < 2³², with products reduced by Barrett's method (a multiply
/// instead of a 64-bit division, which the endgame would otherwise do √M times per turn).
struct Modulus {
    m: u64,
    /// ⌊2⁶⁴ / M⌋.
    reciprocal: u64,
}

impl Modulus {
    fn new(m: u64) -> Modulus {
        Modulus {
            m,
            reciprocal: (u128::from(u64::MAX) / u128::from(m)) as u64,
        }
    }

    fn sub(&self, a: u64, b: u64) -> u64 {
        if a >= b {
            a - b
        } else {
            a + self.m - b
        }
    }

    /// `a · b mod M` for `a, b < M`.
    #[inline]
    fn mul(&self, a: u64, b: u64) -> u64 {
        let x = a * b;
        let q = ((u128::from(x) * u128::from(self.reciprocal)) >> 64) as u64;
        let r = x - q * self.m;
        if r >= self.m {
            r - self.m
        } else {
            r
        }
    }

    /// `a⁻¹ mod M` for `0 < a < M` (extended Euclid; M is prime).
    fn inverse(&self, a: u64) -> u64 {
        let (mut r0, mut r1) = (self.m as i64, a as i64);
        let (mut t0, mut t1) = (0i64, 1i64);
        while r1 != 0 {
            let q = r0 / r1;
            (r0, r1) = (r1, r0 - q * r1);
            (t0, t1) = (t1, t0 - q * t1);
        }
        t0.rem_euclid(self.m as i64) as u64
    }
}

impl Picker for Maglev {
    fn rebuild(&mut self, candidates: &[Candidate], pool_size: usize) {
        self.order.clear();
        self.order.extend(
            candidates
                .iter()
                .map(|c| (c.key_hash.0, c.key_hash.1, c.idx, c.weight)),
        );
        // let go of the old table first: one no other balancer holds is freed before the fill
        self.table = Table::default();
        if self.order.is_empty() {
            return;
        }
        self.order.sort_unstable();
        let m = table_size(pool_size);
        if let Some(table) = self.shared.find(m, self.weighted, &self.order) {
            self.table = table;
            return;
        }
        let first = self.order[0].3;
        self.table = if self.weighted && self.order.iter().any(|o| o.3 != first) {
            let mut turns = ByWeight::new(self.order.iter().map(|o| u64::from(o.3)));
            self.fill(m, &mut turns)
        } else {
            let count = self.order.len();
            self.fill(m, &mut EveryCandidate { next: 0, count })
        };
        self.shared.add(m, self.weighted, &self.order, &self.table);
    }

    fn pick(&mut self, key: u64) -> MemberIdx {
        let slot = (u128::from(key) * self.table.len() as u128) >> 64;
        self.table.get(slot as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes_are_primes_above_100_per_member() {
        assert_eq!(table_size(1), 65_537);
        for n in [1usize, 8, 100, 655, 656, 1000, 10_000] {
            let m = table_size(n);
            assert!(is_prime(m), "{m}");
            assert!(m >= 100 * n as u64, "{n} → {m}");
        }
        assert_eq!(table_size(10_000), 1_048_583);
    }

    #[test]
    fn every_slot_is_owned_and_balanced() {
        let cands: Vec<Candidate> = (0..7)
            .map(|i| Candidate::new(i, 1, 0, super::super::hash::member_hashes(&format!("m{i}"))))
            .collect();
        let mut mg = Maglev::default();
        mg.rebuild(&cands, 7);
        let m = mg.table().len();
        let mut counts = [0usize; 7];
        for owner in mg.table() {
            counts[owner as usize] += 1;
        }
        // Paper §3.4: the round-robin fill gives each backend ⌊M/N⌋ or ⌈M/N⌉ entries.
        for c in counts {
            assert!(c == m / 7 || c == m.div_ceil(7), "{counts:?}");
        }
    }

    /// Paper §3.4, listing 1, as written, with Katran's `MaglevHashV2` weights (a candidate
    /// takes a turn in a pass once its counter, raised by its weight each pass, reaches the
    /// largest weight): the reference the fast fill must match exactly. Equal weights give
    /// listing 1 itself.
    fn listing_1(order: &[(u64, u64, MemberIdx, u32)], m: u64) -> Vec<MemberIdx> {
        let max = order.iter().map(|o| o.3).max().unwrap();
        let mut table = vec![None; m as usize];
        let mut next: Vec<u64> = vec![0; order.len()];
        let mut counter: Vec<u32> = vec![0; order.len()];
        let mut filled = 0;
        loop {
            for (i, &(h0, h1, idx, weight)) in order.iter().enumerate() {
                counter[i] += weight;
                if counter[i] < max {
                    continue;
                }
                counter[i] -= max;
                let (offset, skip) = (h0 % m, h1 % (m - 1) + 1);
                let mut c = (offset + next[i] * skip) % m;
                while table[c as usize].is_some() {
                    next[i] += 1;
                    c = (offset + next[i] * skip) % m;
                }
                table[c as usize] = Some(idx);
                next[i] += 1;
                filled += 1;
                if filled == m {
                    return table.into_iter().flatten().collect();
                }
            }
        }
    }

    /// Candidates `first..first + n` with keys named after the case, and the fill's order.
    fn ordered(m: u64, n: u32, first: u32, weight: impl Fn(u32) -> u32) -> Vec<Candidate> {
        (first..first + n)
            .map(|i| {
                let key = format!("{m}/{n}/{i}");
                Candidate::new(i, weight(i), 0, super::super::hash::member_hashes(&key))
            })
            .collect()
    }

    /// Fills with the weighted schedule whenever `weighted`, even for equal weights (which
    /// `rebuild` sends to the unweighted one), so tests can compare the two.
    fn filled(cands: &[Candidate], m: u64, weighted: bool) -> Maglev {
        let mut order: Vec<_> = cands
            .iter()
            .map(|c| (c.key_hash.0, c.key_hash.1, c.idx, c.weight))
            .collect();
        order.sort_unstable();
        let mut mg = Maglev {
            order,
            weighted,
            ..Maglev::default()
        };
        mg.table = if weighted {
            let mut turns = ByWeight::new(mg.order.iter().map(|o| u64::from(o.3)));
            mg.fill(m, &mut turns)
        } else {
            let count = mg.order.len();
            mg.fill(m, &mut EveryCandidate { next: 0, count })
        };
        mg
    }

    #[test]
    fn fill_matches_the_papers_listing() {
        // member indices from 0 use 16-bit slots, from 100,000 32-bit ones
        for (m, first) in [(101, 0), (1009, 0), (65_537, 0), (1009, 100_000)] {
            for n in [1, 2, 3, 7, 50, 100] {
                let mg = filled(&ordered(m, n, first, |_| 100), m, false);
                assert!(mg.table() == listing_1(&mg.order, m), "M = {m}, N = {n}");
            }
        }
    }

    #[test]
    fn weighted_fill_matches_katrans_weighted_listing() {
        // ELB weights 1–100 (× 100 as the balancer scales them), an APIG-sized spread, and
        // equal weights, which must give the unweighted table
        for name in ["1..4", "1..10000", "equal"] {
            let weight = |i: u32| match name {
                "1..4" => (i % 4 + 1) * 100,
                "1..10000" => (i * 7919 % 10_000 + 1) * 100,
                _ => 300,
            };
            for (m, n) in [(101, 7), (1009, 50), (65_537, 100)] {
                let cands = ordered(m, n, 0, weight);
                let mg = filled(&cands, m, true);
                assert!(
                    mg.table() == listing_1(&mg.order, m),
                    "{name}: M = {m}, N = {n}"
                );
                if name == "equal" {
                    assert!(mg.table() == filled(&cands, m, false).table(), "{name}");
                }
            }
        }
    }

    #[test]
    fn weighted_shares_follow_weights() {
        // weights 1, 2, 3, 4 repeating over 40 members: shares w / Σw of M = 65,537 slots
        let cands = ordered(65_537, 40, 0, |i| (i % 4 + 1) * 100);
        let mut mg = Maglev::new(true, Rc::default());
        mg.rebuild(&cands, 40);
        let mut counts = [0f64; 40];
        for owner in mg.table() {
            counts[owner as usize] += 1.0;
        }
        for (i, c) in counts.iter().enumerate() {
            let expected = 65_537.0 * f64::from(i as u32 % 4 + 1) / 100.0;
            // turns are whole: a share is off by less than one pass's worth of slots
            assert!(
                (c - expected).abs() <= 1.0 + expected * 0.01,
                "{i}: {c} vs {expected}"
            );
        }
    }

    #[test]
    fn modular_inverse_and_product() {
        let md = Modulus::new(1_048_583);
        for a in [1, 2, 3, 65_537, 1_048_582] {
            let inv = md.inverse(a);
            assert_eq!(md.mul(a, inv), 1, "{a}");
            assert_eq!(md.mul(a, 1_048_582), (a * 1_048_582) % 1_048_583);
        }
    }

    /// Candidate `i` of weight 1, keyed `k{i}`.
    fn mk(i: u32) -> Candidate {
        Candidate::new(i, 1, 0, super::super::hash::member_hashes(&format!("k{i}")))
    }

    #[test]
    fn table_ignores_candidate_order() {
        let a: Vec<Candidate> = (0..5).map(mk).collect();
        let b: Vec<Candidate> = (0..5).rev().map(mk).collect();
        let (mut x, mut y) = (Maglev::default(), Maglev::default());
        x.rebuild(&a, 5);
        y.rebuild(&b, 5);
        assert!(x.table() == y.table());
    }

    /// Balancers sharing tables take one table for equal candidates (in any order), fill their
    /// own for others, and a table nobody holds any more is let go.
    #[test]
    fn equal_candidates_share_one_table() {
        let all: Vec<Candidate> = (0..5).map(mk).collect();
        let reversed: Vec<Candidate> = (0..5).rev().map(mk).collect();
        let fewer: Vec<Candidate> = (0..4).map(mk).collect();
        let shared = Rc::<SharedTables>::default();
        let mut nodes: Vec<Maglev> = (0..3).map(|_| Maglev::new(false, shared.clone())).collect();
        nodes[0].rebuild(&all, 5);
        nodes[1].rebuild(&reversed, 5);
        nodes[2].rebuild(&fewer, 5);
        let (Table::Narrow(a), Table::Narrow(b), Table::Narrow(c)) =
            (&nodes[0].table, &nodes[1].table, &nodes[2].table)
        else {
            panic!("narrow tables");
        };
        assert!(Rc::ptr_eq(a, b), "equal candidates: one table");
        assert!(!Rc::ptr_eq(a, c), "other candidates: their own");
        let mut alone = Maglev::new(false, Rc::default());
        alone.rebuild(&fewer, 5);
        assert!(
            alone.table() == nodes[2].table(),
            "the shared table is the one a fill makes"
        );
        assert_eq!(nodes[0].table.holders(), 3, "two balancers and the list");
        nodes[2].rebuild(&all, 5);
        assert_eq!(nodes[0].table.holders(), 4);
        nodes[0].rebuild(&fewer, 5);
        assert_eq!(
            shared.0.borrow().len(),
            2,
            "the 4-candidate table was let go and refilled"
        );
    }
}
