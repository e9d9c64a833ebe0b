//! Smooth weighted round robin, exactly as nginx (`ngx_http_upstream_get_peer`, commit 52327e0;
//! lb-anchors §1): every candidate adds its weight to its `current` value, the largest `current`
//! wins (the first in member order on ties) and loses the total weight. {a:5, b:1, c:1} gives
//! `a a b a c a a`.
//!
//! nginx scans every peer per pick (O(n)). Here the same process is run ahead of time:
//!
//! - **Table mode** (the normal case): on a rebuild the process is stepped through whole windows
//!   of Σw/g picks (g = gcd of the weights and the `current` values, so the scaled-down process is
//!   identical) until the state at the end of a window equals the state at its start; the picks
//!   are stored and replayed with a cursor, so a pick is one array read (O(1)). From the all-zero
//!   state (a fresh balancer, or nginx after a reload) the first window is already periodic, as
//!   nginx's `current` values all return to 0 after Σw picks; so every window of Σw consecutive
//!   picks gives each member exactly its weight.
//! - **Weight and membership changes** keep every member's `current` value (what nginx Plus does
//!   when its API changes a weight) and only restart the run-ahead from that state, so the change
//!   applies from the next pick and nobody else is reset. From such a state the process can need
//!   one transient window before it is periodic; up to [`TABLE_CAP`] entries are kept for it. If
//!   the state is not periodic within that budget (never seen in the property tests) the
//!   candidates' `current` values are zeroed and a clean window is used instead.
//! - **Live mode**: when one window exceeds [`TABLE_CAP`] picks (e.g. APIG weights up to 10000
//!   over thousands of members, or fine slow-start steps), the process is stepped per pick. Members
//!   with equal weight grow at equal rates, so within a weight class the leader is the member with
//!   the largest `current` (then lowest index), kept in a binary heap; a pick compares the leaders
//!   of the C distinct weights: O(C + log n), still nginx's exact sequence.
//!
//! Table generation uses the live stepper, so both modes produce the same picks by construction.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Candidate, MemberIdx, Picker};

/// Most picks kept in a precomputed table (4 MiB of member indices).
pub(crate) const TABLE_CAP: usize = 1 << 20;

/// nginx's process stepped one pick at a time, grouped by weight class.
struct Stepper {
    /// Picks made since the stepper was built.
    t: i64,
    total: i64,
    classes: Vec<Class>,
}

struct Class {
    weight: i64,
    /// `(base, member)` with `current = base + t · weight`: growth is implicit, a pick lowers
    /// `base` by the total. Max-heap: largest `current`, then lowest index.
    heap: BinaryHeap<(i64, Reverse<MemberIdx>)>,
}

impl Stepper {
    fn new(candidates: &[Candidate], current: &[i64]) -> Stepper {
        let mut by_weight: Vec<(u32, MemberIdx)> =
            candidates.iter().map(|c| (c.weight, c.idx)).collect();
        by_weight.sort_unstable();
        let mut classes: Vec<Class> = Vec::new();
        for (w, idx) in by_weight {
            let w = i64::from(w);
            let entry = (current[idx as usize], Reverse(idx));
            match classes.last_mut() {
                Some(class) if class.weight == w => class.heap.push(entry),
                _ => classes.push(Class {
                    weight: w,
                    heap: BinaryHeap::from(vec![entry]),
                }),
            }
        }
        Stepper {
            t: 0,
            total: candidates.iter().map(|c| i64::from(c.weight)).sum(),
            classes,
        }
    }

    /// Invariant: a stepper is built from a non-empty candidate set and a step only lowers a
    /// heap's top, so there is at least one class and no class is ever empty.
    #[allow(clippy::expect_used)]
    fn step(&mut self) -> MemberIdx {
        self.t += 1;
        let mut best: Option<(usize, i64, MemberIdx)> = None;
        for (ci, class) in self.classes.iter().enumerate() {
            let &(base, Reverse(idx)) = class.heap.peek().expect("classes are never empty");
            let value = base + self.t * class.weight;
            if best.is_none_or(|(_, bv, bi)| value > bv || (value == bv && idx < bi)) {
                best = Some((ci, value, idx));
            }
        }
        let (ci, _, idx) = best.expect("at least one candidate");
        let mut top = self.classes[ci].heap.peek_mut().expect("non-empty");
        top.0 -= self.total;
        idx
    }

    /// Writes every candidate's `current` value into `current`.
    fn store(&self, current: &mut [i64]) {
        for class in &self.classes {
            for &(base, Reverse(idx)) in class.heap.iter() {
                current[idx as usize] = base + self.t * class.weight;
            }
        }
    }
}

enum Mode {
    Empty,
    Table {
        seq: Vec<MemberIdx>,
        pos: usize,
        loop_start: usize,
    },
    Live(Stepper),
}

/// Smooth WRR picker. `current` holds nginx's `current_weight` per member index as of the start
/// of the table (table mode) or of the last rebuild (live mode).
pub(crate) struct Wrr {
    current: Vec<i64>,
    /// Effective weight of each candidate of the last rebuild, by member index (0 = absent).
    weight: Vec<i64>,
    candidates: Vec<MemberIdx>,
    total: i64,
    mode: Mode,
}

impl Wrr {
    pub(crate) fn new() -> Wrr {
        Wrr {
            current: Vec::new(),
            weight: Vec::new(),
            candidates: Vec::new(),
            total: 0,
            mode: Mode::Empty,
        }
    }

    /// Brings `current` up to the state after the last pick.
    fn settle(&mut self) {
        match std::mem::replace(&mut self.mode, Mode::Empty) {
            Mode::Empty => {}
            Mode::Live(stepper) => stepper.store(&mut self.current),
            Mode::Table { seq, pos, .. } => {
                for &m in &self.candidates {
                    self.current[m as usize] += pos as i64 * self.weight[m as usize];
                }
                for &m in &seq[..pos] {
                    self.current[m as usize] -= self.total;
                }
            }
        }
    }

    /// Runs whole windows from the current state until one ends where it started.
    fn run_ahead(&mut self, candidates: &[Candidate], window: usize) -> Option<Mode> {
        let mut stepper = Stepper::new(candidates, &self.current);
        let mut seq = Vec::with_capacity(window);
        let mut start = self.current.clone();
        while seq.len() + window <= TABLE_CAP {
            let loop_start = seq.len();
            for _ in 0..window {
                seq.push(stepper.step());
            }
            let mut end = start.clone();
            stepper.store(&mut end);
            if end == start {
                return Some(Mode::Table {
                    seq,
                    pos: 0,
                    loop_start,
                });
            }
            start = end;
        }
        None
    }

    #[cfg(test)]
    fn is_table(&self) -> bool {
        matches!(self.mode, Mode::Table { .. })
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Picker for Wrr {
    fn rebuild(&mut self, candidates: &[Candidate], pool_size: usize) {
        self.settle();
        self.current.resize(pool_size, 0);
        self.weight.clear();
        self.weight.resize(pool_size, 0);
        self.candidates.clear();
        self.candidates.extend(candidates.iter().map(|c| c.idx));
        self.total = candidates.iter().map(|c| i64::from(c.weight)).sum();
        if candidates.is_empty() {
            return;
        }
        let mut g = 0;
        for c in candidates {
            self.weight[c.idx as usize] = i64::from(c.weight);
            g = gcd(g, u64::from(c.weight));
            g = gcd(g, self.current[c.idx as usize].unsigned_abs());
        }
        let window = (self.total as u64 / g) as usize;
        if window > TABLE_CAP {
            self.mode = Mode::Live(Stepper::new(candidates, &self.current));
            return;
        }
        self.mode = match self.run_ahead(candidates, window) {
            Some(mode) => mode,
            None => {
                for c in candidates {
                    self.current[c.idx as usize] = 0;
                }
                let window = (self.total as u64
                    / candidates
                        .iter()
                        .fold(0, |g, c| gcd(g, u64::from(c.weight))))
                    as usize;
                // From all-zero `current` values nginx's sequence returns to all zeros after
                // exactly one window of Σw/g picks (every member is picked w/g times and each pick
                // lowers the total by Σw), so this run-ahead always finds its period.
                #[allow(clippy::expect_used)]
                self.run_ahead(candidates, window)
                    .expect("from the zero state the first window is periodic")
            }
        };
    }

    fn pick(&mut self, _key: u64) -> MemberIdx {
        match &mut self.mode {
            Mode::Table {
                seq,
                pos,
                loop_start,
            } => {
                let m = seq[*pos];
                *pos += 1;
                if *pos == seq.len() {
                    // The state after the last entry equals the state at `loop_start`, so
                    // `current` (the state at entry 0) stays valid.
                    *pos = *loop_start;
                }
                m
            }
            Mode::Live(stepper) => stepper.step(),
            Mode::Empty => panic!("pick without candidates"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(weights: &[u32]) -> Vec<Candidate> {
        weights
            .iter()
            .enumerate()
            .filter(|(_, &w)| w > 0)
            .map(|(i, &w)| Candidate::new(i as MemberIdx, w, 0, (i as u64, 0)))
            .collect()
    }

    fn names(wrr: &mut Wrr, n: usize) -> String {
        (0..n)
            .map(|_| ((b'a' + wrr.pick(0) as u8) as char).to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// nginx's O(n) loop, with `current` kept across weight changes.
    struct Naive {
        current: Vec<i64>,
    }

    impl Naive {
        fn pick(&mut self, weights: &[u32]) -> MemberIdx {
            let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
            let mut best: Option<usize> = None;
            for (i, &w) in weights.iter().enumerate() {
                if w == 0 {
                    continue;
                }
                self.current[i] += i64::from(w);
                if best.is_none_or(|b| self.current[i] > self.current[b]) {
                    best = Some(i);
                }
            }
            let b = best.expect("a positive weight");
            self.current[b] -= total;
            b as MemberIdx
        }
    }

    #[test]
    fn nginx_vectors() {
        // lb-anchors §1: commit 52327e0 message and derived runs.
        for (w, want) in [
            (&[5, 1, 1][..], "a a b a c a a a a b a c a a"),
            (&[4, 2, 1][..], "a b a c a b a"),
            (&[2, 1][..], "a b a a b a"),
            (&[1, 1, 1][..], "a b c a b c"),
        ] {
            let mut wrr = Wrr::new();
            wrr.rebuild(&cands(w), w.len());
            assert!(wrr.is_table());
            assert_eq!(names(&mut wrr, want.split(' ').count()), want, "{w:?}");
        }
    }

    #[test]
    fn weight_zero_gets_nothing() {
        let mut wrr = Wrr::new();
        wrr.rebuild(&cands(&[3, 0, 2]), 3);
        assert_eq!(names(&mut wrr, 10), "a c a c a a c a c a");
    }

    #[test]
    fn matches_nginx_across_changes() {
        let plans: [&[u32]; 6] = [
            &[5, 1, 1],
            &[5, 3, 1],
            &[0, 3, 1],
            &[2, 3, 7],
            &[2, 3, 7, 4],
            &[9, 0, 7, 4],
        ];
        let mut wrr = Wrr::new();
        let mut naive = Naive {
            current: vec![0; 4],
        };
        for (round, w) in plans.iter().enumerate() {
            wrr.rebuild(&cands(w), 4);
            for step in 0..(5 + round * 7) {
                assert_eq!(wrr.pick(0), naive.pick(w), "plan {w:?} step {step}");
            }
        }
    }

    #[test]
    fn live_mode_matches_nginx() {
        let w = [700_000, 699_999, 3, 3];
        let mut wrr = Wrr::new();
        wrr.rebuild(&cands(&w), 4);
        assert!(!wrr.is_table());
        let mut naive = Naive {
            current: vec![0; 4],
        };
        for _ in 0..5000 {
            assert_eq!(wrr.pick(0), naive.pick(&w));
        }
        // A weight change in live mode keeps every member's state.
        let w2 = [700_000, 5, 3, 699_999];
        wrr.rebuild(&cands(&w2), 4);
        assert!(!wrr.is_table());
        for _ in 0..5000 {
            assert_eq!(wrr.pick(0), naive.pick(&w2));
        }
    }
}
