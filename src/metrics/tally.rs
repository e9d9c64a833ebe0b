//! Latencies counted in a histogram's own buckets, 16 bits each, and carried into it.
//!
//! A run's latency histograms are the largest tables it keeps reaching into: at two
//! significant digits, 14 KB of 32-bit counters per member, of which a few kilobytes are hot,
//! for every member at once. [`Tally`] counts in the same buckets in two bytes, half the cache
//! a run needs for them (`docs/performance.md`), and carries the counts into the histogram in
//! bulk. Every figure a histogram gives (counts, total, minimum, maximum, mean, quantiles)
//! depends only on its buckets' counts, plus, for the maximum, on whether the first bucket
//! held a value above 0; the histogram ends as if every value had been recorded in it.

use hdrhistogram::{Counter, Histogram};

/// Counts waiting to be carried into one histogram, bucketed as it buckets them.
#[derive(Clone, Debug)]
pub struct Tally {
    counts: Vec<u16>,
    /// The histogram's bucketing: `unit_magnitude` (log2 of its lowest discernible value),
    /// `half_magnitude` (log2 of half a bucket's sub-buckets), `mask` (a bucket 0 value's bits)
    /// and `lz_base` (leading zeros of bucket 0's largest value).
    unit_magnitude: u32,
    half_magnitude: u32,
    mask: u64,
    lz_base: u32,
    /// The largest value counted (0 when none): its bucket carries it.
    max: u64,
}

impl Tally {
    /// An empty tally for `hist`, whose counts it will carry (`hist` itself is not kept).
    pub fn new<C: Counter>(hist: &Histogram<C>) -> Tally {
        // as `Histogram::new_with_bounds` derives them
        let unit_magnitude = hist.low().ilog2();
        let largest_unit_resolution = 2 * 10_u32.pow(u32::from(hist.sigfig()));
        let count_magnitude = u32::BITS - (largest_unit_resolution - 1).leading_zeros();
        Tally {
            counts: vec![0; hist.distinct_values()],
            unit_magnitude,
            half_magnitude: count_magnitude - 1,
            mask: ((1 << count_magnitude) - 1) << unit_magnitude,
            lz_base: 64 - unit_magnitude - count_magnitude,
            max: 0,
        }
    }

    /// The histogram's index of value `v` (`Histogram::index_for`: bucket × half + sub-bucket).
    #[inline]
    fn index(&self, v: u64) -> usize {
        let bucket = self.lz_base - (v | self.mask).leading_zeros();
        ((bucket as usize) << self.half_magnitude) + (v >> (bucket + self.unit_magnitude)) as usize
    }

    /// The lowest value of index `i`'s bucket (`Histogram::value_for`).
    fn lowest(&self, i: usize) -> u64 {
        let half = 1_u64 << self.half_magnitude;
        let sub = (i as u64 & (half - 1)) + half;
        match (i >> self.half_magnitude).checked_sub(1) {
            Some(bucket) => sub << (bucket as u32 + self.unit_magnitude),
            None => (sub - half) << self.unit_magnitude,
        }
    }

    /// Counts `v`, as `hist.saturating_record(v)` would record it.
    #[inline]
    pub fn record<C: Counter>(&mut self, v: u64, hist: &mut Histogram<C>) {
        self.max = self.max.max(v);
        let i = self.index(v);
        let Some(c) = self.counts.get_mut(i) else {
            // beyond the last bucket: the histogram clamps it
            return hist.saturating_record(v);
        };
        *c += 1;
        if *c == u16::MAX {
            *c = 0;
            hist.saturating_record_n(v, count(u64::from(u16::MAX)));
        }
    }

    /// Carries every count into `hist`, each with a value of its bucket (the largest value's
    /// bucket with that value: in the first bucket, 0 and the values just above it differ in
    /// the maximum they leave). The tally starts again empty.
    pub fn carry<C: Counter>(&mut self, hist: &mut Histogram<C>) {
        let max = std::mem::take(&mut self.max);
        let top = self.index(max);
        for i in 0..self.counts.len() {
            let n = std::mem::take(&mut self.counts[i]);
            if n > 0 {
                let v = if i == top { max } else { self.lowest(i) };
                hist.saturating_record_n(v, count(u64::from(n)));
            }
        }
    }
}

/// `n` as a histogram count; a 16-bit count fits every counter type.
#[allow(clippy::expect_used)]
fn count<C: Counter>(n: u64) -> C {
    C::from_u64(n).expect("a 16-bit count fits every counter type")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{new_histogram, LATENCY_HIGH, LATENCY_SIGFIG, MEMBER_LATENCY_SIGFIG};
    use proptest::prelude::*;

    /// Records `values` directly and through a tally; the histograms must be equal
    /// (`PartialEq` compares counts, total, min and max) and agree on what reports read.
    fn same_as_direct(values: &[u64], sigfig: u8) {
        let mut direct: Histogram<u64> = new_histogram(sigfig);
        let mut carried: Histogram<u64> = new_histogram(sigfig);
        let mut tally = Tally::new(&carried);
        for &v in values {
            direct.saturating_record(v);
            tally.record(v, &mut carried);
        }
        tally.carry(&mut carried);
        assert!(direct == carried, "{values:?}");
        assert_eq!(direct.len(), carried.len());
        assert_eq!((direct.min(), direct.max()), (carried.min(), carried.max()));
        assert_eq!(direct.mean().to_bits(), carried.mean().to_bits());
        for q in [0.0, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(direct.value_at_quantile(q), carried.value_at_quantile(q));
        }
    }

    #[test]
    fn indexes_and_lowest_values_are_the_histograms() {
        for sigfig in [LATENCY_SIGFIG, MEMBER_LATENCY_SIGFIG] {
            let h: Histogram<u64> = new_histogram(sigfig);
            let t = Tally::new(&h);
            for i in 0..h.distinct_values() {
                let v = t.lowest(i);
                assert_eq!(t.index(v), i, "sigfig {sigfig} index {i}");
                assert_eq!(h.lowest_equivalent(v), v, "sigfig {sigfig} index {i}");
                if i > 0 {
                    assert_eq!(t.index(v - 1), i - 1, "sigfig {sigfig} index {i}");
                }
            }
        }
    }

    #[test]
    fn zero_sub_unit_lone_and_clamped_values_match_direct_recording() {
        // 0, values below one unit (1 µs), one wide bucket holding both extremes, a lone value,
        // values beyond the last bucket
        same_as_direct(&[], LATENCY_SIGFIG);
        same_as_direct(&[0], LATENCY_SIGFIG);
        same_as_direct(&[0, 5, 3, 0], LATENCY_SIGFIG);
        same_as_direct(&[7], LATENCY_SIGFIG);
        same_as_direct(
            &[3_000_000_001, 3_000_000_900, 3_000_000_512],
            LATENCY_SIGFIG,
        );
        same_as_direct(
            &[LATENCY_HIGH, LATENCY_HIGH + 1, u64::MAX, 1_000],
            LATENCY_SIGFIG,
        );
    }

    #[test]
    fn counts_carried_mid_run_match_direct_recording() {
        // one bucket passes 65,535 several times; its first value is the smallest, its last
        // the largest; and the first bucket with values above 0
        let mut values: Vec<u64> = (0..200_000).map(|k| 4_000_000 + k % 3).collect();
        values.insert(0, 3_999_999);
        values.push(4_000_003);
        same_as_direct(&values, LATENCY_SIGFIG);
        same_as_direct(&values, MEMBER_LATENCY_SIGFIG);
        let small: Vec<u64> = (0..140_000).map(|k| k % 2).collect();
        same_as_direct(&small, LATENCY_SIGFIG);
    }

    proptest! {
        #[test]
        fn carried_counts_equal_direct_recording(
            values in prop::collection::vec(
                prop_oneof![0..4_096_u64, 0..100_000_000_u64, any::<u64>()],
                0..300,
            ),
            sigfig in prop_oneof![Just(LATENCY_SIGFIG), Just(MEMBER_LATENCY_SIGFIG)],
        ) {
            same_as_direct(&values, sigfig);
        }
    }
}
