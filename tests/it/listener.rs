//! The listener (or APIG backend) in front of the pool: retries, timeouts and status codes as the
//! vendor documents them (listener-and-logs §1.2, §1.3, §4.1), and the five ways members fail.

use lbsim::model::{Algorithm, Member, Persistence, PoolConfig, Protocol};
use lbsim::sim::{
    run, Action, AttemptObs, Distribution, Failure, FrontKind, Method, Observer, Outcome,
    RequestObs, RetryPolicy, SimConfig, TimedEvent, DEFAULT_FORWARDING_LATENCY,
};
use lbsim::testkit::{self, backend};
use lbsim::time::SimTime;

#[derive(Default)]
struct Log {
    requests: Vec<RequestObs>,
    retried: Vec<AttemptObs>,
}

impl Observer for Log {
    fn request(&mut self, o: &RequestObs) {
        self.requests.push(*o);
    }

    fn attempt(&mut self, o: &AttemptObs) {
        self.retried.push(*o);
    }
}

fn members(n: usize) -> Vec<Member> {
    (0..n)
        .map(|i| testkit::member(&format!("10.0.0.{}", i + 1)))
        .collect()
}

/// `n` members behind an HTTP listener with the vendor's defaults, round robin, constant 10 ms
/// service, 200 req/s for `secs`, a client timeout of 300 s (longer than any LB timeout).
fn http(n: usize, secs: u64) -> SimConfig {
    let pool = PoolConfig {
        protocol: Protocol::Http,
        ..testkit::pool(Algorithm::RoundRobin, members(n))
    };
    let mut b = backend(64, 10.0);
    b.service_time = Distribution::Constant { value_ms: 10.0 };
    let mut cfg = testkit::sim_config(pool, b, 200.0, SimTime::from_secs(secs));
    cfg.workload.timeout = Some(SimTime::from_secs(300));
    cfg
}

fn at(secs: u64, action: Action) -> TimedEvent {
    TimedEvent {
        at: SimTime::from_secs(secs),
        action,
    }
}

fn fail(member: u32, failure: Failure) -> Action {
    Action::SetFailure { member, failure }
}

fn simulate(cfg: &SimConfig) -> Log {
    let mut log = Log::default();
    run(cfg, Default::default(), &mut log).expect("runs");
    log
}

const TRIP: SimTime = DEFAULT_FORWARDING_LATENCY;
const SERVICE: SimTime = SimTime::from_millis(10);

#[test]
fn the_vendor_defaults_are_retry_on_60_s_timeouts_and_5_s_connect() {
    let http = lbsim::sim::FrontConfig::elb_default(Protocol::Http);
    assert_eq!(http.kind, FrontKind::ElbL7);
    assert_eq!(http.retry, RetryPolicy::Elb);
    assert_eq!(http.member_timeout, Some(SimTime::from_secs(60)));
    assert_eq!(http.keepalive_timeout, Some(SimTime::from_secs(60)));
    assert_eq!(http.connect_timeout, SimTime::from_secs(5));
    let tcp = lbsim::sim::FrontConfig::elb_default(Protocol::Tcp);
    assert_eq!(
        (tcp.kind, tcp.retry),
        (FrontKind::ElbL4, RetryPolicy::Never)
    );
    assert_eq!(tcp.member_timeout, None);
    assert_eq!(tcp.keepalive_timeout, Some(SimTime::from_secs(300)));
}

/// With retry on, a refused member among four costs clients nothing: every request that meets
/// it is retried on another member one round trip later. Requests it was serving at the crash
/// had been forwarded: GETs are retried, POSTs get 502 (elb_drawerhelp_720).
#[test]
fn retry_hides_a_refused_member_but_not_from_posts_it_was_serving() {
    let mut cfg = http(4, 20);
    // busy enough that member 1 serves a few requests at the instant it crashes
    cfg.workload.arrivals.rate_per_s = 2000.0;
    cfg.workload.methods = vec![(Method::Get, 0.5), (Method::Post, 0.5)];
    cfg.timeline = vec![at(5, fail(1, Failure::Refuse))];
    let log = simulate(&cfg);
    let crash = SimTime::from_secs(5);
    let errors: Vec<&RequestObs> = log
        .requests
        .iter()
        .filter(|r| r.outcome != Outcome::Ok)
        .collect();
    // only POSTs member 1 held at the crash fail, at that instant, with 502
    assert!(!errors.is_empty());
    for r in &errors {
        assert_eq!((r.method, r.status, r.member), (Method::Post, 502, Some(1)));
        assert!(r.arrival < crash && r.arrival + r.latency == crash, "{r:?}");
    }
    // the GETs it held went to another member
    assert!(log
        .requests
        .iter()
        .any(|r| r.arrival < crash && r.attempts == 2 && r.method == Method::Get));
    // after the crash: no client error, and each retried request took one extra round trip
    let after: Vec<&RequestObs> = log.requests.iter().filter(|r| r.arrival >= crash).collect();
    assert!(after.len() > 2500);
    assert!(after
        .iter()
        .all(|r| r.outcome == Outcome::Ok && r.status == 200));
    for r in after.iter().filter(|r| r.attempts == 2) {
        assert_eq!(r.latency, TRIP + SERVICE + TRIP, "{r:?}");
    }
    // every retried attempt after the crash was member 1's, refused (requests still in flight
    // when the run ends are left out: they have no outcome)
    let done = SimTime::from_secs(19);
    let retried: Vec<&AttemptObs> = log
        .retried
        .iter()
        .filter(|a| a.arrival >= crash && a.arrival < done)
        .collect();
    assert!(retried
        .iter()
        .all(|a| a.member == 1 && a.outcome == Outcome::Refused));
    let twice = after.iter().filter(|r| r.attempts == 2 && r.arrival < done);
    assert_eq!(retried.len(), twice.count());
}

/// A refused attempt uses its member's turn, as nginx's round robin does: with one of four
/// members refusing and no health check, that member is tried on every third request (the
/// sequence a b→c d | a b→c d …), against every fourth without retries.
#[test]
fn a_refused_member_is_tried_on_every_third_request() {
    let mut cfg = http(4, 30);
    cfg.timeline = vec![at(0, fail(1, Failure::Refuse))];
    let log = simulate(&cfg);
    let hits = log.retried.iter().filter(|a| a.member == 1).count() as f64;
    let share = hits / log.requests.len() as f64;
    assert!((share - 1.0 / 3.0).abs() < 0.01, "{share}");
}

/// A hung member accepts the request and never answers: the request first sent to it waits
/// exactly `member_timeout`, then is retried (a GET) and served by another member.
#[test]
fn a_hung_member_adds_exactly_member_timeout_to_each_request_sent_to_it() {
    let mut cfg = http(4, 20);
    cfg.front.member_timeout = Some(SimTime::from_secs(2));
    cfg.timeline = vec![at(5, fail(2, Failure::Hang))];
    let log = simulate(&cfg);
    let first_to_hung: Vec<&RequestObs> = log
        .requests
        .iter()
        .filter(|r| r.arrival >= SimTime::from_secs(5) && r.attempts == 2)
        .collect();
    assert!(first_to_hung.len() > 500, "{}", first_to_hung.len());
    for r in &first_to_hung {
        assert_eq!(r.outcome, Outcome::Ok);
        assert_eq!(r.latency, SimTime::from_secs(2) + SERVICE + TRIP, "{r:?}");
    }
    assert!(log
        .retried
        .iter()
        .all(|a| a.member == 2 && a.outcome == Outcome::ResponseTimeout));
}

/// A slow member is not silent: the load balancer's `member_timeout` (1 s) ends each attempt it
/// has not answered within 1 s of forwarding — in service longer than that, or waiting in its
/// queue — exactly then, and the GET is retried on the other member. An answer within the
/// timeout, or exactly at it, arrives. One server with constant service (1.5 s: every attempt
/// times out; 1 s and 0.6 s: those it takes at once are answered, while the queue behind them
/// outlasts the timeout), then enough servers for no queue and service uniform over
/// 0.6–1.5 s (about 4 in 9 answered).
#[test]
fn member_timeout_ends_attempts_a_slow_member_serves_or_queues_too_long() {
    let constant = |value_ms| Distribution::Constant { value_ms };
    let uniform = Distribution::Uniform {
        min_ms: 600.0,
        max_ms: 1500.0,
    };
    for (service, capacity, min_served) in [
        (constant(1500.0), 1, 0),
        (constant(1000.0), 1, 1),
        (constant(600.0), 1, 1),
        (uniform, 400, 500),
    ] {
        let mut cfg = http(2, 20);
        cfg.front.member_timeout = Some(SimTime::from_secs(1));
        let mut slow = backend(capacity, 1000.0);
        slow.service_time = service;
        cfg.backends[0] = slow;
        let log = simulate(&cfg);
        let timed_out: Vec<&AttemptObs> = log.retried.iter().filter(|a| a.member == 0).collect();
        assert!(timed_out.len() > 500, "{service:?}: {}", timed_out.len());
        for a in &timed_out {
            assert_eq!(a.outcome, Outcome::ResponseTimeout);
        }
        let mut served = 0;
        for r in &log.requests {
            assert_eq!(r.outcome, Outcome::Ok, "{r:?}");
            match (r.member, r.attempts) {
                (Some(1), 2) => {
                    assert_eq!(r.latency, SimTime::from_secs(1) + SERVICE + TRIP, "{r:?}");
                }
                (Some(0), 1) => {
                    served += 1;
                    assert!(r.latency <= SimTime::from_secs(1) + TRIP, "{r:?}");
                }
                (Some(1), 1) => assert_eq!(r.latency, SERVICE + TRIP),
                _ => panic!("{r:?}"),
            }
        }
        assert!(served >= min_served, "{service:?}: {served} served");
        assert_eq!(served > 0, min_served > 0, "{service:?}: {served} served");
    }
}

/// POST, PATCH and DELETE are not retried once forwarded: a hung member's POSTs time out
/// with 504 after one attempt; a refused connection was never forwarded, so it is retried.
#[test]
fn non_idempotent_requests_already_forwarded_are_never_retried() {
    for (failure, retried) in [(Failure::Hang, false), (Failure::Refuse, true)] {
        let mut cfg = http(4, 20);
        cfg.front.member_timeout = Some(SimTime::from_secs(1));
        cfg.workload.methods = vec![(Method::Post, 0.5), (Method::Delete, 0.5)];
        cfg.timeline = vec![at(5, fail(0, failure))];
        let log = simulate(&cfg);
        let to_member_0 = log
            .requests
            .iter()
            .filter(|r| r.arrival >= SimTime::from_secs(5) && r.attempts >= 1)
            .filter(|r| r.member == Some(0) || r.attempts == 2);
        let mut n = 0;
        for r in to_member_0 {
            n += 1;
            if retried {
                assert_eq!((r.outcome, r.attempts), (Outcome::Ok, 2), "{r:?}");
            } else {
                assert_eq!(
                    (r.outcome, r.status, r.attempts),
                    (Outcome::ResponseTimeout, 504, 1)
                );
                assert_eq!(r.latency, SimTime::from_secs(1));
            }
        }
        assert!(n > 500, "{failure:?}: {n}");
    }
}

/// With session persistence on, a response timeout is not retried: straight 504
/// (elb_drawerhelp_7123). A refused connection still is.
#[test]
fn with_session_persistence_a_response_timeout_is_not_retried() {
    let mut cfg = http(4, 20);
    cfg.pool.persistence = Some(Persistence::HttpCookie {
        timeout: SimTime::from_secs(60),
    });
    cfg.front.member_timeout = Some(SimTime::from_secs(1));
    cfg.timeline = vec![at(5, fail(3, Failure::Hang))];
    let log = simulate(&cfg);
    let timed_out: Vec<&RequestObs> = log
        .requests
        .iter()
        .filter(|r| r.outcome == Outcome::ResponseTimeout)
        .collect();
    assert!(timed_out.len() > 100, "{}", timed_out.len());
    assert!(timed_out
        .iter()
        .all(|r| r.status == 504 && r.attempts == 1 && r.member == Some(3)));
    assert!(log.retried.is_empty());
}

/// A blackholed member never accepts: each attempt waits the 5 s connect timeout, then goes
/// elsewhere; the retry bound (4) and 504 show when every member is blackholed.
#[test]
fn a_blackholed_member_costs_the_connect_timeout_and_all_blackholed_is_504_after_5_attempts() {
    let mut cfg = http(6, 30);
    cfg.timeline = vec![at(5, fail(0, Failure::Blackhole))];
    let log = simulate(&cfg);
    let slow: Vec<&RequestObs> = log.requests.iter().filter(|r| r.attempts == 2).collect();
    assert!(slow.len() > 100);
    for r in &slow {
        assert_eq!(r.outcome, Outcome::Ok);
        assert_eq!(r.latency, SimTime::from_secs(5) + SERVICE + TRIP, "{r:?}");
    }
    let mut cfg = http(6, 40);
    cfg.timeline = (0..6).map(|m| at(5, fail(m, Failure::Blackhole))).collect();
    let log = simulate(&cfg);
    let late: Vec<&RequestObs> = log
        .requests
        .iter()
        .filter(|r| r.arrival >= SimTime::from_secs(5))
        .collect();
    assert!(late.len() > 1000);
    for r in &late {
        assert_eq!(
            (r.outcome, r.status, r.attempts),
            (Outcome::ConnectTimeout, 504, 5)
        );
        assert_eq!(r.latency, SimTime::from_secs(25), "{r:?}");
    }
}

/// APIG `retry_count`: −1 retries idempotent methods once and POST never; n retries n times.
#[test]
fn apig_retry_count_bounds_the_attempts() {
    let cases = [
        (-1, Method::Get, 2),
        (-1, Method::Delete, 2),
        (-1, Method::Post, 1),
        (0, Method::Get, 1),
        (3, Method::Post, 4),
    ];
    for (count, method, attempts) in cases {
        let mut cfg = http(6, 10);
        cfg.front = lbsim::sim::FrontConfig::apig_default();
        cfg.front.retry = RetryPolicy::Apig(count);
        cfg.workload.methods = vec![(method, 1.0)];
        cfg.timeline = (0..6).map(|m| at(1, fail(m, Failure::Refuse))).collect();
        let log = simulate(&cfg);
        let late: Vec<&RequestObs> = log
            .requests
            .iter()
            .filter(|r| r.arrival >= SimTime::from_secs(1))
            .collect();
        assert!(late.len() > 1000);
        for r in late {
            // APIG.0202: backend unavailable, 502
            assert_eq!(
                (r.outcome, r.status, r.attempts),
                (Outcome::Refused, 502, attempts),
                "retry_count {count} {method:?}"
            );
        }
    }
}

/// A member's own 5xx is its response: passed through to the client, never retried.
#[test]
fn server_errors_are_passed_through_not_retried() {
    let mut cfg = http(4, 20);
    cfg.backends[1].failure = Failure::ErrorRate(1.0);
    cfg.pool.health_check = Some(testkit::health_check(1, 1, 2, 2));
    let log = simulate(&cfg);
    let from_1: Vec<&RequestObs> = log
        .requests
        .iter()
        .filter(|r| r.member == Some(1))
        .collect();
    assert!(from_1.len() > 900, "health checks pass: it keeps its share");
    assert!(from_1
        .iter()
        .all(|r| r.outcome == Outcome::ServerError && r.status == 500 && r.attempts == 1));
    assert!(log.retried.is_empty());
}

/// An L4 listener has no retries and no status codes: a refused connection fails the client.
#[test]
fn a_tcp_listener_does_not_retry() {
    let mut cfg = http(4, 20);
    cfg.pool.protocol = Protocol::Tcp;
    cfg.workload.protocol = Protocol::Tcp;
    cfg.front = lbsim::sim::FrontConfig::elb_default(Protocol::Tcp);
    cfg.timeline = vec![at(5, fail(1, Failure::Refuse))];
    let log = simulate(&cfg);
    let refused: Vec<&RequestObs> = log
        .requests
        .iter()
        .filter(|r| r.outcome == Outcome::Refused)
        .collect();
    assert!(refused.len() > 500);
    assert!(refused.iter().all(|r| r.status == 0 && r.attempts == 1));
}

/// Probes meet the failure: refused probes fail at once, detection in ((fall−1)Δ, fallΔ];
/// unanswered ones at the timeout, in ((fall−1)Δ + τ, fallΔ + τ]; a hung member passes a TCP
/// probe; a member whose health endpoint fails is marked down while serving every request.
#[test]
fn probes_meet_the_members_failure() {
    use lbsim::pipeline;
    use lbsim::sim::{Limits, NoticeKind};
    let detection = |failure: Failure, reads_response: bool| {
        let mut cfg = http(4, 40);
        let mut h = testkit::health_check(2, 1, 2, 3);
        h.reads_response = reads_response;
        cfg.pool.health_check = Some(h);
        cfg.timeline = vec![at(10, fail(0, failure))];
        let run = pipeline::simulate(&cfg, Limits::default(), Log::default()).expect("runs");
        let offline = run
            .recorder
            .notices
            .iter()
            .find(|n| n.kind == NoticeKind::HealthOffline)
            .map(|n| n.at.as_secs_f64() - 10.0);
        (offline, run.observer)
    };
    for seed_failure in [Failure::Refuse, Failure::HealthOnly] {
        let (offline, _) = detection(seed_failure, false);
        let d = offline.expect("detected");
        assert!(d > 4.0 && d <= 6.0, "{seed_failure:?}: {d}");
    }
    let (offline, _) = detection(Failure::Blackhole, false);
    let d = offline.expect("detected");
    assert!(d > 5.0 && d <= 7.0, "blackhole: {d}");
    assert_eq!(detection(Failure::Hang, false).0, None, "TCP probes pass");
    let d = detection(Failure::Hang, true)
        .0
        .expect("HTTP probes time out");
    assert!(d > 5.0 && d <= 7.0, "hang: {d}");
    let (_, log) = detection(Failure::HealthOnly, false);
    assert!(log.requests.iter().all(|r| r.outcome == Outcome::Ok));
}

/// `keepalive_timeout`: a connection idle longer is closed by the load balancer, and the
/// client's next request opens a new one; 0 on HTTP means every request opens a connection.
#[test]
fn idle_connections_close_at_the_keepalive_timeout() {
    use lbsim::sim::RequestsPerConnection;
    use std::collections::BTreeSet;
    for (keepalive, think_s, reopens) in [(1, 2, true), (0, 0, true), (60, 2, false)] {
        let mut cfg = http(4, 60);
        cfg.workload.arrivals.rate_per_s = 10.0;
        cfg.workload.requests_per_connection = RequestsPerConnection::Fixed(5);
        cfg.workload.think_time = (think_s > 0).then_some(Distribution::Constant {
            value_ms: think_s as f64 * 1000.0,
        });
        cfg.front.keepalive_timeout = Some(SimTime::from_secs(keepalive));
        let mut log = Log::default();
        let out = run(&cfg, Default::default(), &mut log).expect("runs");
        let n = log.requests.len();
        assert!(n > 2000, "{n}");
        let ids: BTreeSet<u64> = log.requests.iter().map(|r| r.connection).collect();
        if reopens {
            // each request on a connection of its own, each reopening counted as a connection
            assert_eq!(ids.len(), n, "keepalive {keepalive}");
            assert!(out.idle_closes as usize >= n * 4 / 5 - 50, "{out:?}");
            assert!(out.connections >= out.idle_closes);
        } else {
            // five requests on each client connection, none reopened
            assert_eq!(out.idle_closes, 0);
            assert_eq!(ids.len() as u64, out.connections);
            // (connections opened in the last 8 s, 80 of them, are still going at the end)
            assert!(n >= (ids.len() - 80) * 5, "{n} on {}", ids.len());
        }
    }
}

/// `cps` and `connection` are per LB node; connections over them are dropped (no status).
#[test]
fn connections_over_the_listeners_limits_are_dropped() {
    use lbsim::sim::ArrivalProcess;
    let mut cfg = http(4, 20);
    cfg.workload.arrivals.process = ArrivalProcess::Constant;
    cfg.workload.arrivals.rate_per_s = 200.0;
    cfg.front.cps = 50;
    let mut log = Log::default();
    let out = run(&cfg, Default::default(), &mut log).expect("runs");
    let dropped = log
        .requests
        .iter()
        .filter(|r| r.outcome == Outcome::Dropped)
        .count() as u64;
    // 150 of every 200 connections a second
    assert!(dropped.abs_diff(150 * 20) <= 150, "{dropped}");
    assert_eq!(out.dropped, dropped);
    assert!(log
        .requests
        .iter()
        .filter(|r| r.outcome == Outcome::Dropped)
        .all(|r| r.status == 0 && r.attempts == 0 && r.member.is_none()));

    // at most 3 open at once: Poisson arrivals of one-request connections held 10 ms are an
    // M/D/3/3 loss system, whose blocking is Erlang's B(3, A) at A = 200/s × 10 ms = 2
    let mut cfg = http(4, 60);
    cfg.front.max_connections = 3;
    let out = run(&cfg, Default::default(), ()).expect("runs");
    let a: f64 = 2.0;
    let erlang_b = (a.powi(3) / 6.0) / (1.0 + a + a * a / 2.0 + a.powi(3) / 6.0);
    let share = out.dropped as f64 / out.connections as f64;
    assert!((share - erlang_b).abs() < 0.015, "{share} vs {erlang_b}");
}

/// Without drain, a weight-0 member's connections are cut at once (the newer text, default);
/// the older reading lets them run on.
#[test]
fn undrained_connections_follow_the_chosen_reading() {
    use lbsim::sim::{RequestsPerConnection, Undrained};
    for (undrained, cut) in [(Undrained::Cut, true), (Undrained::UntilIdle, false)] {
        let mut cfg = http(3, 20);
        cfg.pool.protocol = Protocol::Tcp;
        cfg.workload.protocol = Protocol::Tcp;
        cfg.front = lbsim::sim::FrontConfig::elb_default(Protocol::Tcp);
        cfg.front.undrained = undrained;
        cfg.workload.requests_per_connection = RequestsPerConnection::Fixed(50);
        cfg.workload.think_time = Some(Distribution::Constant { value_ms: 100.0 });
        cfg.timeline = vec![at(
            10,
            Action::SetWeight {
                member: 0,
                weight: 0,
            },
        )];
        let mut log = Log::default();
        let out = run(&cfg, Default::default(), &mut log).expect("runs");
        assert_eq!(out.cuts > 0, cut, "{undrained:?}: {out:?}");
        let reset = log.requests.iter().filter(|r| r.outcome == Outcome::Reset);
        assert_eq!(reset.count() as u64 > 0, cut);
        // uncut, its connections keep being served; either way no new one reaches it, so a
        // connection (5 s long) opened before the change is its last
        let served_after = |t: u64| {
            log.requests.iter().any(|r| {
                r.member == Some(0) && r.outcome == Outcome::Ok && r.arrival > SimTime::from_secs(t)
            })
        };
        assert_eq!(served_after(10), !cut, "{undrained:?}");
        assert!(!served_after(16));
    }
}
