use super::*;
use crate::model::Algorithm;
use crate::testkit;

#[test]
fn histogram_bounds_are_valid() {
    for sigfig in [LATENCY_SIGFIG, MEMBER_LATENCY_SIGFIG] {
        assert!(Histogram::<u64>::new_with_bounds(LATENCY_LOW, LATENCY_HIGH, sigfig).is_ok());
        assert!(Histogram::<u32>::new_with_bounds(LATENCY_LOW, LATENCY_HIGH, sigfig).is_ok());
    }
}

/// Three members behind an HTTP listener, 10 s in 1 s buckets, a 1 s warmup.
fn recorder() -> Recorder {
    let members = ["a", "b", "c"].map(testkit::member).to_vec();
    let pool = testkit::pool(Algorithm::RoundRobin, members);
    let mut c = testkit::sim_config(pool, testkit::backend(1, 1.0), 1.0, SimTime::from_secs(11));
    c.front = crate::sim::FrontConfig::elb_default(crate::model::Protocol::Http);
    c.warmup = SimTime::from_secs(1);
    Recorder::new(&c)
}

/// A request arriving at `at_s` that ended on `member` after `attempts` attempts.
fn req(at_s: u64, member: Option<MemberIdx>, outcome: Outcome, attempts: u8) -> RequestObs {
    testkit::request_obs(SimTime::from_secs(at_s), member, outcome, attempts)
}

fn retried(at_s: u64, member: MemberIdx, outcome: Outcome) -> AttemptObs {
    AttemptObs {
        arrival: SimTime::from_secs(at_s),
        request: 0,
        member,
        outcome,
        ended: SimTime::from_secs(at_s + 5),
    }
}

#[test]
fn counts_statuses_attempts_and_retries() {
    let mut r = recorder();
    // warmup: nothing counts
    r.attempt(&retried(0, 0, Outcome::Refused));
    r.request(&req(0, Some(1), Outcome::Ok, 2));
    // refused on a, then ok on b
    r.attempt(&retried(2, 0, Outcome::Refused));
    r.request(&req(2, Some(1), Outcome::Ok, 2));
    // a connect timeout on a and a response timeout on c, then a 504 on b
    r.attempt(&retried(3, 0, Outcome::ConnectTimeout));
    r.attempt(&retried(3, 2, Outcome::ResponseTimeout));
    r.request(&req(3, Some(1), Outcome::ResponseTimeout, 3));
    // served at once, a 500 passed through, no member
    r.request(&req(4, Some(2), Outcome::Ok, 1));
    r.request(&req(4, Some(2), Outcome::ServerError, 1));
    r.request(&req(5, None, Outcome::NoMember, 0));

    let t = &r.total;
    assert_eq!((t.requests, t.completed, t.client_errors()), (5, 2, 3));
    let by_status: Vec<(&str, u64)> = status::NAMES
        .iter()
        .zip(r.statuses())
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| (*s, n))
        .collect();
    assert_eq!(by_status, [("200", 2), ("500", 1), ("503", 1), ("504", 1)]);
    assert_eq!(
        r.attempts,
        Attempts {
            attempts: 7,
            retries: 3,
            retried_ok: 1
        }
    );
    r.end();
    let fails = |m: usize, o: Outcome| r.members[m].attempt_failures()[o.index()];
    assert_eq!(
        r.members.iter().map(|m| m.attempts()).collect::<Vec<_>>(),
        [2, 2, 3]
    );
    assert_eq!(
        r.members.iter().map(|m| m.attempts()).sum::<u64>(),
        r.attempts.attempts
    );
    assert_eq!(fails(0, Outcome::Refused), 1);
    assert_eq!(fails(0, Outcome::ConnectTimeout), 1);
    assert_eq!(fails(1, Outcome::ResponseTimeout), 1);
    assert_eq!(fails(1, Outcome::Ok), 0);
    assert_eq!(fails(2, Outcome::ResponseTimeout), 1);
    assert_eq!(fails(2, Outcome::ServerError), 1);
    assert_eq!(
        r.members[0].counts.requests, 0,
        "a retried-away attempt is no request"
    );
    let counts = |c: &Counts| (c.requests, c.completed, c.failed);
    assert_eq!(
        r.members
            .iter()
            .map(|m| counts(&m.counts))
            .collect::<Vec<_>>(),
        [(0, 0, 0), (2, 1, 1), (2, 1, 1)]
    );
    assert_eq!(
        (
            r.requests.total(1),
            r.failed.total(1),
            r.failed.member(2).nth(3)
        ),
        (2, 1, Some(1)),
        "the 500 arrived at 4 s: bucket 3 after the 1 s warmup"
    );
}

#[test]
fn outcomes_over_time_are_bucketed_by_arrival() {
    let mut r = recorder();
    r.request(&req(2, Some(0), Outcome::Ok, 1));
    r.request(&req(2, Some(0), Outcome::Refused, 1));
    r.request(&req(11, None, Outcome::Dropped, 0));
    let c = &r.outcomes_over_time();
    assert_eq!(c.len(), 10);
    assert_eq!(c[1][Outcome::Ok.index()], 1);
    assert_eq!(c[1][Outcome::Refused.index()], 1);
    assert_eq!(
        c[9][Outcome::Dropped.index()],
        1,
        "the run's end is in the last bucket"
    );
    assert_eq!(c.iter().flatten().sum::<u64>(), r.total.requests);
}

#[test]
fn latencies_reach_the_histograms_exactly_when_the_run_ends() {
    let mut r = recorder();
    let mut direct: Histogram<u64> = new_histogram(LATENCY_SIGFIG);
    let mut direct_b: Histogram<u32> = new_histogram(MEMBER_LATENCY_SIGFIG);
    for (i, ms) in [2.0, 0.0004, 3_700_000_000.0, 2.0, 17.25, 2.001]
        .into_iter()
        .enumerate()
    {
        let mut o = req(2 + i as u64, Some(1), Outcome::Ok, 1);
        o.latency = SimTime((ms * 1e6) as u64);
        r.request(&o);
        direct.saturating_record(o.latency.0);
        direct_b.saturating_record(o.latency.0);
    }
    // counted aside while the run goes on
    assert_eq!(
        (r.latency.len(), r.members[1].latency.len()),
        (1, 1),
        "the overflow only"
    );
    r.end();
    assert!(r.latency == direct);
    assert!(r.members[1].latency == direct_b);
    assert_eq!(r.overflows, 1);
}
