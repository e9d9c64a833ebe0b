//! What the clients saw over time: the final outcome of every request by time bucket, for the
//! whole run. The buckets are the report's, joined in whole multiples when a long run would
//! need more than [`MAX_BUCKETS`], so the table is bounded and allocated once.

use crate::sim::{Outcome, SimConfig};
use crate::time::SimTime;

/// The most buckets the table holds.
pub const MAX_BUCKETS: usize = 1000;

/// Requests by final outcome ([`Outcome::index`]) per bucket of arrival time.
#[derive(Clone, Debug)]
pub struct OutcomeTimeline {
    bucket: SimTime,
    /// Report buckets per bucket of this table.
    join: usize,
    pub counts: Vec<[u64; Outcome::ALL.len()]>,
}

impl OutcomeTimeline {
    /// The bucket width and count for `config`: the report's bucket (`config.bucket`) times the
    /// smallest factor that fits the measured window in [`MAX_BUCKETS`].
    pub fn shape(config: &SimConfig) -> (SimTime, usize) {
        let window = config.duration.saturating_sub(config.warmup).0.max(1);
        let width = config
            .bucket
            .0
            .max(1)
            .saturating_mul(Self::join(config) as u64);
        (SimTime(width), window.div_ceil(width).max(1) as usize)
    }

    fn join(config: &SimConfig) -> usize {
        let window = config.duration.saturating_sub(config.warmup).0.max(1);
        let base = config.bucket.0.max(1);
        window.div_ceil(base).div_ceil(MAX_BUCKETS as u64).max(1) as usize
    }

    pub fn new(config: &SimConfig) -> OutcomeTimeline {
        let (bucket, n) = Self::shape(config);
        OutcomeTimeline {
            bucket,
            join: Self::join(config),
            counts: vec![[0; Outcome::ALL.len()]; n],
        }
    }

    /// Counts a request that arrived in the report's bucket `b` and ended so.
    #[inline]
    pub fn add(&mut self, b: usize, outcome: Outcome) {
        let b = self.slot(b);
        self.counts[b][outcome.index()] += 1;
    }

    /// The row of the report's bucket `b`.
    #[inline]
    pub fn slot(&self, b: usize) -> usize {
        // no division in the common case of runs within MAX_BUCKETS report buckets
        let b = if self.join == 1 { b } else { b / self.join };
        b.min(self.counts.len() - 1)
    }

    pub fn bucket(&self) -> SimTime {
        self.bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Algorithm;
    use crate::testkit;

    #[test]
    fn long_runs_join_buckets_to_stay_bounded() {
        let pool = testkit::pool(Algorithm::RoundRobin, vec![testkit::member("a")]);
        let mut c =
            testkit::sim_config(pool, testkit::backend(1, 1.0), 1.0, SimTime::from_secs(60));
        assert_eq!(OutcomeTimeline::shape(&c), (SimTime::from_secs(1), 60));
        c.duration = SimTime::from_secs(2500);
        assert_eq!(OutcomeTimeline::shape(&c), (SimTime::from_secs(3), 834));
        let mut t = OutcomeTimeline::new(&c);
        // report buckets of 1 s: 2,499 (the last) and 4
        t.add(2499, Outcome::Refused);
        t.add(4, Outcome::Ok);
        assert_eq!(t.counts[833][Outcome::Refused.index()], 1);
        assert_eq!(t.counts[1][Outcome::Ok.index()], 1);
    }
}
