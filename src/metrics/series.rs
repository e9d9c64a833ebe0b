//! Per-member counts per time bucket, stored bucket-major.
//!
//! Every request adds one to its member's count in the current bucket. Stored member by
//! member, those counters are one cache line per member; stored bucket by bucket, the current
//! bucket of 64 members is eight lines, which stay in cache while the run is in that bucket.

/// `buckets` × members counts, one bucket's members adjacent.
#[derive(Clone, Debug)]
pub struct MemberSeries {
    /// Members per bucket row: room for every member the run will have, so adding one does
    /// not move the table.
    stride: usize,
    buckets: usize,
    counts: Vec<u64>,
}

impl MemberSeries {
    /// Zeroed counts for `buckets` buckets and room for `members` members.
    pub fn new(buckets: usize, members: usize) -> MemberSeries {
        let stride = members.max(1);
        MemberSeries {
            stride,
            buckets,
            counts: vec![0; buckets.saturating_mul(stride)],
        }
    }

    /// Counts one for member `m` in bucket `b`.
    #[inline]
    pub fn add(&mut self, b: usize, m: usize) {
        self.counts[b * self.stride + m] += 1;
    }

    /// Makes room for member `m`: only a member beyond the room made at the start (which a
    /// run of the config it was made for never adds) moves the table.
    pub fn fit(&mut self, m: usize) {
        if m < self.stride {
            return;
        }
        let stride = m + 1;
        let mut counts = vec![0; self.buckets.saturating_mul(stride)];
        for (new, old) in counts
            .chunks_exact_mut(stride)
            .zip(self.counts.chunks_exact(self.stride))
        {
            new[..self.stride].copy_from_slice(old);
        }
        *self = MemberSeries {
            stride,
            buckets: self.buckets,
            counts,
        };
    }

    /// Member `m`'s counts, bucket by bucket.
    pub fn member(&self, m: usize) -> impl Iterator<Item = u64> + '_ {
        debug_assert!(m < self.stride, "member {m} beyond the table");
        self.counts.iter().skip(m).step_by(self.stride).copied()
    }

    /// Member `m`'s counts summed.
    pub fn total(&self, m: usize) -> u64 {
        self.member(m).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_member_reads_back_its_own_buckets() {
        let mut s = MemberSeries::new(3, 2);
        s.add(0, 1);
        s.add(2, 1);
        s.add(2, 1);
        s.add(1, 0);
        assert_eq!(s.member(0).collect::<Vec<_>>(), [0, 1, 0]);
        assert_eq!(s.member(1).collect::<Vec<_>>(), [1, 0, 2]);
        assert_eq!(s.total(1), 3);
    }

    #[test]
    fn a_member_beyond_the_room_keeps_everyones_counts() {
        let mut s = MemberSeries::new(2, 1);
        s.add(1, 0);
        s.fit(0);
        s.fit(2);
        s.add(0, 2);
        assert_eq!(s.member(0).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(s.member(1).collect::<Vec<_>>(), [0, 0]);
        assert_eq!(s.member(2).collect::<Vec<_>>(), [1, 0]);
    }
}
