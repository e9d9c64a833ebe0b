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
//! - Weights are ignored (vendor: "the member weight is ignored" under hash algorithms; weight 0
//!   never reaches here because eligibility removes it).
//! - Lookup maps the 64-bit request hash onto `[0, M)` with a multiply-shift (`(h · M) >> 64`),
//!   which is as uniform as `h % M` and avoids a 64-bit division per pick.
//!
//! Disruption measured by `tests/it/balancer.rs` is documented in `ARCHITECTURE.md`.

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

/// A Maglev lookup table over the current candidates.
#[derive(Default)]
pub(crate) struct Maglev {
    table: Vec<MemberIdx>,
    /// Reused between rebuilds: candidates in key-hash order, and per candidate its permutation
    /// cursor and skip, and the occupancy bit of each slot (M/8 bytes, so it stays in cache).
    order: Vec<(u64, u64, MemberIdx)>,
    next: Vec<u64>,
    skip: Vec<u64>,
    occupied: Vec<u64>,
}

impl Maglev {
    /// Member owning each slot, for tests that measure disruption.
    #[cfg(test)]
    pub(crate) fn table(&self) -> &[MemberIdx] {
        &self.table
    }

    /// Paper §3.4, listing 1: members take turns, each taking the next free slot along its
    /// permutation, until the table is full.
    fn fill(&mut self, m: u64) {
        let size = m as usize;
        self.table.clear();
        self.table.resize(size, 0);
        self.occupied.clear();
        self.occupied.resize(size.div_ceil(64), 0);
        // A cursor is a member's current position along its permutation; advancing by `skip`
        // modulo M walks (offset + j·skip) mod M without multiplying or dividing.
        self.next.clear();
        self.next
            .extend(self.order.iter().map(|&(h0, _, _)| h0 % m));
        self.skip.clear();
        self.skip
            .extend(self.order.iter().map(|&(_, h1, _)| h1 % (m - 1) + 1));
        let mut filled = 0;
        loop {
            for (i, &(_, _, idx)) in self.order.iter().enumerate() {
                let skip = self.skip[i];
                let mut c = self.next[i];
                loop {
                    let (word, bit) = ((c >> 6) as usize, 1u64 << (c & 63));
                    let pos = c as usize;
                    c += skip;
                    if c >= m {
                        c -= m;
                    }
                    if self.occupied[word] & bit == 0 {
                        self.occupied[word] |= bit;
                        self.table[pos] = idx;
                        break;
                    }
                }
                self.next[i] = c;
                filled += 1;
                if filled == size {
                    return;
                }
            }
        }
    }
}

impl Picker for Maglev {
    fn rebuild(&mut self, candidates: &[Candidate], pool_size: usize) {
        self.order.clear();
        self.order.extend(
            candidates
                .iter()
                .map(|c| (c.key_hash.0, c.key_hash.1, c.idx)),
        );
        if self.order.is_empty() {
            self.table.clear();
            return;
        }
        self.order.sort_unstable();
        self.fill(table_size(pool_size));
    }

    fn pick(&mut self, key: u64) -> MemberIdx {
        let slot = (u128::from(key) * self.table.len() as u128) >> 64;
        self.table[slot as usize]
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
        for &owner in mg.table() {
            counts[owner as usize] += 1;
        }
        // Paper §3.4: the round-robin fill gives each backend ⌊M/N⌋ or ⌈M/N⌉ entries.
        for c in counts {
            assert!(c == m / 7 || c == m.div_ceil(7), "{counts:?}");
        }
    }

    #[test]
    fn table_ignores_candidate_order() {
        let mk =
            |i: u32| Candidate::new(i, 1, 0, super::super::hash::member_hashes(&format!("k{i}")));
        let a: Vec<Candidate> = (0..5).map(mk).collect();
        let b: Vec<Candidate> = (0..5).rev().map(mk).collect();
        let (mut x, mut y) = (Maglev::default(), Maglev::default());
        x.rebuild(&a, 5);
        y.rebuild(&b, 5);
        assert!(x.table() == y.table());
    }
}
