//! Turns the engine's observations into counters, latency histograms and timelines.
//!
//! [`Recorder`] is the standard [`Observer`]. Everything it needs is allocated up front (one
//! fixed-bounds hdrhistogram per member, the members' counts per time bucket for every member
//! the run will have, the bounded outcome timeline),
//! and counts by outcome and status are fixed arrays, so recording a request or an attempt never
//! allocates; only members added mid-run grow the tables, once each. Requests (and attempts of
//! requests) that arrived before the warmup ends are ignored; notices are all kept (they are a
//! log, not a metric).

mod series;
pub mod status;
mod tally;
mod timeline;

use hdrhistogram::Histogram;
use tally::Tally;

pub use series::MemberSeries;
pub use timeline::{OutcomeTimeline, MAX_BUCKETS};

use crate::balancer::MemberIdx;
use crate::model::Member;
use crate::sim::{AttemptObs, FrontKind, Notice, Observer, Outcome, RequestObs, SimConfig};
use crate::time::SimTime;

/// Lowest latency the histograms tell apart: 1 µs (values below land in the first bucket).
pub const LATENCY_LOW: u64 = 1_000;
/// Highest latency recorded exactly: one hour. Larger values are clamped and counted in
/// [`Recorder::overflows`].
pub const LATENCY_HIGH: u64 = 3_600_000_000_000;
/// Three significant digits for the run's histogram: quantiles within 0.1 %.
pub const LATENCY_SIGFIG: u8 = 3;
/// Two significant digits (1 %) per member: a tenth of the counters, so the member histograms
/// of a large pool stay in cache while recording (at 3 digits, 64 of them made recording half
/// of the engine's time).
pub const MEMBER_LATENCY_SIGFIG: u8 = 2;

/// Requests by final outcome. `failed` counts every failing outcome but `rejected` (the
/// member's own 503 when its queue is full) and `reset`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// All finished requests; the sum of the four outcomes (for a member's, once the run has
    /// ended: [`MemberRecord::counts`]).
    pub requests: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    pub reset: u64,
    /// The failing ones by [`Outcome::index`] (the `ok` slot stays 0: `completed` has them,
    /// and the common case then touches one line less).
    failures_by: [u64; Outcome::ALL.len()],
}

impl Counts {
    #[inline]
    fn add(&mut self, outcome: Outcome) {
        self.requests += 1;
        if outcome == Outcome::Ok {
            self.completed += 1;
            return;
        }
        match outcome {
            Outcome::Rejected => self.rejected += 1,
            Outcome::Reset => self.reset += 1,
            _ => self.failed += 1,
        }
        self.failures_by[outcome.index()] += 1;
    }

    /// Sets the finished requests to `all`: those not counted as failing completed.
    fn finished(&mut self, all: u64) {
        self.requests = all;
        self.completed = all - (self.failed + self.rejected + self.reset);
    }

    /// Requests by [`Outcome::index`].
    pub fn by_outcome(&self) -> [u64; Outcome::ALL.len()] {
        let mut n = self.failures_by;
        n[Outcome::Ok.index()] = self.completed;
        n
    }

    /// Requests whose final outcome was not a response in time: what the clients saw as errors.
    pub fn client_errors(&self) -> u64 {
        self.requests - self.completed
    }
}

/// The run's attempts on members, from the requests' final observations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    /// Attempts made on members by all requests (a request no member took made none).
    pub attempts: u64,
    /// Attempts beyond each request's first.
    pub retries: u64,
    /// Requests that completed after more than one attempt.
    pub retried_ok: u64,
}

impl Attempts {
    /// A request that made other than one attempt: none (no member) or retries.
    /// (Given the two fields rather than the observation: a reference would make the
    /// recording of every request build the whole observation in memory.)
    #[cold]
    fn add(&mut self, attempts: u8, outcome: Outcome) {
        let tries = u64::from(attempts);
        self.attempts += tries;
        self.retries += tries.saturating_sub(1);
        self.retried_ok += u64::from(tries > 1 && outcome == Outcome::Ok);
    }
}

/// What was recorded for one member (its requests over time are [`Recorder::requests`] and
/// [`Recorder::failed`]).
#[derive(Clone, Debug)]
pub struct MemberRecord {
    /// Complete once the run has ended: while it runs, only the failing outcomes are counted
    /// here (the requests are in [`Recorder::requests`]; the rest completed).
    pub counts: Counts,
    /// Latency in nanoseconds of completed requests ([`MEMBER_LATENCY_SIGFIG`] digits),
    /// complete once the run has ended (counted in `pending` while it runs). 32-bit counters
    /// halve what recording keeps in cache (3 % of the engine benchmark); a counter saturates
    /// after 4,294,967,295 requests of one member in one 1 %-wide latency bucket, beyond four
    /// times the default event limit ([`crate::sim::DEFAULT_MAX_EVENTS`]).
    pub latency: Histogram<u32>,
    pending: Tally,
    /// Exact sum of those latencies, for an exact mean.
    pub latency_sum: u128,
    /// Bit set of the URIs (indices into the workload's URI set) this member was asked for: a
    /// cache behind the member has to hold that many objects.
    pub uris_seen: Vec<u64>,
    /// Attempts retried away from this member, and their causes by [`Outcome::index`] (its
    /// final attempts are `counts`).
    pub retried_away: u64,
    pub retried_away_by: [u64; Outcome::ALL.len()],
}

impl MemberRecord {
    /// Attempts made on this member: the final attempts of the requests it ended and the
    /// attempts retried away from it.
    pub fn attempts(&self) -> u64 {
        self.counts.requests + self.retried_away
    }

    /// Its failed attempts by [`Outcome::index`], final and retried away.
    pub fn attempt_failures(&self) -> [u64; Outcome::ALL.len()] {
        let mut f = self.retried_away_by;
        for (f, n) in f.iter_mut().zip(self.counts.failures_by) {
            *f += n;
        }
        f
    }
}

impl MemberRecord {
    fn new(uris: usize) -> MemberRecord {
        let latency = new_histogram(MEMBER_LATENCY_SIGFIG);
        MemberRecord {
            uris_seen: vec![0; uris.div_ceil(64)],
            counts: Counts::default(),
            pending: Tally::new(&latency),
            latency,
            latency_sum: 0,
            retried_away: 0,
            retried_away_by: [0; Outcome::ALL.len()],
        }
    }
}

/// An empty latency histogram with the fixed bounds above (recording never resizes it).
/// `sigfig` is one of the constants here (2 or 3): with the constant bounds, creation cannot fail
/// (`histogram_bounds_are_valid` checks every precision used).
#[allow(clippy::expect_used)]
pub fn new_histogram<C: hdrhistogram::Counter>(sigfig: u8) -> Histogram<C> {
    Histogram::new_with_bounds(LATENCY_LOW, LATENCY_HIGH, sigfig)
        .expect("constant bounds are valid")
}

/// The standard observer: aggregates everything the report needs.
#[derive(Clone, Debug)]
pub struct Recorder {
    warmup: SimTime,
    bucket: SimTime,
    buckets: usize,
    uris: usize,
    /// All requests after warmup, with or without a member.
    pub total: Counts,
    /// The front end, whose status codes the clients saw.
    front: FrontKind,
    pub attempts: Attempts,
    /// Final outcomes of all requests over time.
    pub outcomes: OutcomeTimeline,
    /// Requests whose LB node and member are in different AZs.
    pub cross_az: u64,
    /// Latency in nanoseconds of all completed requests (complete once the run has ended).
    pub latency: Histogram<u64>,
    pending: Tally,
    /// Latencies above [`LATENCY_HIGH`] (recorded as that value).
    pub overflows: u64,
    /// Indexed by member index.
    pub members: Vec<MemberRecord>,
    /// Requests per member and timeline bucket (by arrival time).
    pub requests: MemberSeries,
    /// Failed, rejected or reset requests per member and timeline bucket.
    pub failed: MemberSeries,
    pub notices: Vec<Notice>,
}

impl Recorder {
    pub fn new(config: &SimConfig) -> Recorder {
        let window = config.duration.saturating_sub(config.warmup).0;
        let bucket = config.bucket.0.max(1);
        let buckets = window.div_ceil(bucket).max(1) as usize;
        let uris = config.workload.uri_table().len();
        let members_ever = usize::try_from(config.members_ever()).unwrap_or(usize::MAX);
        let latency = new_histogram(LATENCY_SIGFIG);
        Recorder {
            uris,
            warmup: config.warmup,
            bucket: SimTime(bucket),
            buckets,
            total: Counts::default(),
            front: config.front.kind,
            attempts: Attempts::default(),
            outcomes: OutcomeTimeline::new(config),
            cross_az: 0,
            pending: Tally::new(&latency),
            latency,
            overflows: 0,
            members: (0..config.pool.members.len())
                .map(|_| MemberRecord::new(uris))
                .collect(),
            requests: MemberSeries::new(buckets, members_ever),
            failed: MemberSeries::new(buckets, members_ever),
            notices: Vec::new(),
        }
    }

    /// All requests by the status the client saw, indexed by [`status::slot`]: each outcome has
    /// one status behind the run's front end.
    pub fn statuses(&self) -> [u64; status::SLOTS] {
        let mut by = [0; status::SLOTS];
        for (o, n) in Outcome::ALL.into_iter().zip(self.total.by_outcome()) {
            by[status::slot(o.status(self.front).unwrap_or(0))] += n;
        }
        by
    }

    /// Final outcomes by time bucket ([`OutcomeTimeline`]), `ok` included: the table counts
    /// failures only, and a request that ended well always had a member, whose series say how
    /// many did per bucket.
    pub fn outcomes_over_time(&self) -> Vec<[u64; Outcome::ALL.len()]> {
        let mut t = self.outcomes.counts.clone();
        for m in 0..self.members.len() {
            let buckets = self.requests.member(m).zip(self.failed.member(m));
            for (b, (n, f)) in buckets.enumerate() {
                t[self.outcomes.slot(b)][Outcome::Ok.index()] += n - f;
            }
        }
        t
    }

    /// Distinct URIs member `m` was asked for.
    pub fn distinct_uris(&self, m: usize) -> u64 {
        self.members[m]
            .uris_seen
            .iter()
            .map(|w| u64::from(w.count_ones()))
            .sum()
    }

    /// Exact sum of all completed requests' latencies (ns).
    pub fn latency_sum(&self) -> u128 {
        self.members.iter().map(|m| m.latency_sum).sum()
    }
}

impl Observer for Recorder {
    #[inline]
    fn request(&mut self, o: &RequestObs) {
        if o.arrival < self.warmup {
            return;
        }
        self.total.add(o.outcome);
        if o.attempts == 1 {
            self.attempts.attempts += 1;
        } else {
            self.attempts.add(o.attempts, o.outcome);
        }
        // an arrival exactly at the end of the run falls just past the last bucket
        let b = (((o.arrival - self.warmup).0 / self.bucket.0) as usize).min(self.buckets - 1);
        if o.outcome != Outcome::Ok {
            self.outcomes.add(b, o.outcome);
        }
        self.cross_az += u64::from(o.cross_az);
        let Some(m) = o.member else { return };
        self.requests.add(b, m as usize);
        let rec = &mut self.members[m as usize];
        if let Some(u) = o.uri {
            rec.uris_seen[u as usize / 64] |= 1 << (u % 64);
        }
        if o.outcome == Outcome::Ok {
            let v = o.latency.0;
            self.overflows += u64::from(v > LATENCY_HIGH);
            rec.latency_sum += u128::from(v);
            rec.pending.record(v, &mut rec.latency);
            self.pending.record(v, &mut self.latency);
        } else {
            rec.counts.add(o.outcome);
            self.failed.add(b, m as usize);
        }
    }

    #[inline]
    fn attempt(&mut self, o: &AttemptObs) {
        if o.arrival < self.warmup {
            return;
        }
        let rec = &mut self.members[o.member as usize];
        rec.retried_away += 1;
        rec.retried_away_by[o.outcome.index()] += 1;
    }

    fn notice(&mut self, notice: &Notice) {
        self.notices.push(notice.clone());
    }

    fn end(&mut self) {
        self.pending.carry(&mut self.latency);
        for (m, rec) in self.members.iter_mut().enumerate() {
            rec.pending.carry(&mut rec.latency);
            rec.counts.finished(self.requests.total(m));
        }
    }

    fn member_added(&mut self, idx: MemberIdx, _member: &Member) {
        debug_assert_eq!(idx as usize, self.members.len());
        self.members.push(MemberRecord::new(self.uris));
        self.requests.fit(idx as usize);
        self.failed.fit(idx as usize);
    }
}

#[cfg(test)]
mod tests;
