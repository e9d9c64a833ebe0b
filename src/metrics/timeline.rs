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
    start: SimTime,
    bucket: SimTime,
    pub counts: Vec<[u64; Outcome::ALL.len()]>,
}

impl OutcomeTimeline {
    /// The bucket width and count for `config`: the report's bucket (`config.bucket`) times the
    /// smallest factor that fits the measured window in [`MAX_BUCKETS`].
    pub fn shape(config: &SimConfig) -> (SimTime, usize) {
        let window = config.duration.saturating_sub(config.warmup).0.max(1);
        let base = config.bucket.0.max(1);
        let factor = window.div_ceil(base).div_ceil(MAX_BUCKETS as u64).max(1);
        let width = base.saturating_mul(factor);
        (SimTime(width), window.div_ceil(width).max(1) as usize)
    }

    pub fn new(config: &SimConfig) -> OutcomeTimeline {
        let (bucket, n) = Self::shape(config);
        OutcomeTimeline {
            start: config.warmup,
            bucket,
            counts: vec![[0; Outcome::ALL.len()]; n],
        }
    }

    /// Counts a request that arrived at `arrival` (not before the start) and ended so.
    #[inline]
    pub fn add(&mut self, arrival: SimTime, outcome: Outcome) {
        let b = ((arrival - self.start).0 / self.bucket.0) as usize;
        // an arrival exactly at the end of the run falls just past the last bucket
        let b = b.min(self.counts.len() - 1);
        self.counts[b][outcome.index()] += 1;
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
        t.add(SimTime::from_secs(2500), Outcome::Refused);
        t.add(SimTime::from_secs(4), Outcome::Ok);
        assert_eq!(t.counts[833][Outcome::Refused.index()], 1);
        assert_eq!(t.counts[1][Outcome::Ok.index()], 1);
    }
}
