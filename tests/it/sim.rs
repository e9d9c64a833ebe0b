//! The simulator against queueing theory, its bookkeeping identities, faults and determinism.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use lbsim::metrics::Recorder;
use lbsim::model::{Algorithm, HealthCheck, Member, PoolConfig, Protocol};
use lbsim::pipeline;
use lbsim::report::{Report, TraceWriter};
use lbsim::sim::{
    run, Action, Distribution, Failure, LbZone, Limits, NoticeKind, Observer, Outcome, Popularity,
    RequestObs, RequestsPerConnection, RetryPolicy, RunOutput, SimConfig, SimError, TimedEvent,
};
use lbsim::testkit::{self, backend};
use lbsim::time::SimTime;

fn member(i: usize, zone: u16) -> Member {
    Member {
        zone: Some(zone),
        ..testkit::member(&format!("10.0.0.{}", i + 1))
    }
}

/// `n` identical members in one AZ behind one LB node, Poisson arrivals of single requests.
fn config(n: usize, rate: f64, mean_ms: f64, capacity: u32, duration_s: u64) -> SimConfig {
    let pool = PoolConfig {
        protocol: Protocol::Http,
        zones: vec!["az1".into(), "az2".into()],
        ..testkit::pool(
            Algorithm::RoundRobin,
            (0..n).map(|i| member(i, 0)).collect(),
        )
    };
    let duration = SimTime::from_secs(duration_s);
    let mut cfg = testkit::sim_config(pool, backend(capacity, mean_ms), rate, duration);
    // the queueing theory below is about the members alone
    cfg.front.forwarding_latency = SimTime::ZERO;
    cfg
}

fn simulate(cfg: &SimConfig) -> (RunOutput, Report) {
    let run = pipeline::simulate(cfg, Limits::default(), ()).expect("runs");
    let report = run.report(cfg);
    (run.output, report)
}

/// Student t quantile, two-sided 99.9 %, 9 degrees of freedom (10 replications).
const T_9: f64 = 4.781;

/// Asserts the mean of independent replication estimates matches `expected` within a 99.9 %
/// confidence interval, and that the interval is narrow enough for the test to mean something.
fn assert_matches(what: &str, estimates: &[f64], expected: f64) {
    let n = estimates.len() as f64;
    assert_eq!(estimates.len(), 10, "T_9 assumes 10 replications");
    let mean = estimates.iter().sum::<f64>() / n;
    let var = estimates.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let half = T_9 * (var / n).sqrt();
    assert!(half < 0.03 * expected, "{what}: interval ±{half} too wide");
    assert!(
        (mean - expected).abs() <= half,
        "{what}: {mean} vs theory {expected} (±{half})"
    );
}

fn replicate(cfg: &SimConfig, f: impl Fn(&Report) -> [f64; 2]) -> [Vec<f64>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    for seed in 1..=10 {
        let cfg = SimConfig {
            seed,
            ..cfg.clone()
        };
        let v = f(&simulate(&cfg).1);
        out[0].push(v[0]);
        out[1].push(v[1]);
    }
    out
}

/// M/M/1: sojourn time is exponential with rate μ − λ.
#[test]
fn mm1_matches_theory() {
    let (lambda, mu) = (600.0, 1000.0);
    let mut cfg = config(1, lambda, 1.0, 1, 600);
    cfg.warmup = SimTime::from_secs(10);
    let [mean, p99] = replicate(&cfg, |r| {
        [r.summary.latency_ms.mean, r.summary.latency_ms.p99]
    });
    assert_matches("mean", &mean, 1e3 / (mu - lambda));
    assert_matches("p99", &p99, 1e3 * 100f64.ln() / (mu - lambda));
}

/// Round robin over n identical members: each sees Erlang-n interarrivals (E_n/M/1), whose
/// sojourn is exponential with rate μ(1 − σ), σ the GI/M/1 root.
#[test]
fn round_robin_is_en_m_1() {
    let (n, lambda_m, mu) = (2usize, 700.0, 1000.0);
    let nl = n as f64 * lambda_m;
    let mut sigma: f64 = 0.5;
    for _ in 0..200 {
        sigma = (nl / (nl + mu * (1.0 - sigma))).powi(n as i32);
    }
    assert!((sigma - 0.615).abs() < 0.001, "{sigma}");
    let rate = mu * (1.0 - sigma);
    let mut cfg = config(n, nl, 1.0, 1, 600);
    cfg.warmup = SimTime::from_secs(10);
    let [mean, p99] = replicate(&cfg, |r| {
        [r.summary.latency_ms.mean, r.summary.latency_ms.p99]
    });
    assert_matches("mean", &mean, 1e3 / rate);
    assert_matches("p99", &p99, 1e3 * 100f64.ln() / rate);
}

/// Counts finished requests after warmup and sums their latencies, whatever the outcome.
#[derive(Default)]
struct Sojourn {
    warmup: SimTime,
    count: u64,
    sum_ns: u128,
}

impl Observer for Sojourn {
    fn request(&mut self, o: &RequestObs) {
        if o.arrival >= self.warmup {
            self.count += 1;
            self.sum_ns += u128::from(o.latency.0);
        }
    }
}

/// Multi-AZ, multi-request connections with think time, timeouts, rejections and a crash.
fn busy_config() -> SimConfig {
    let mut cfg = config(4, 600.0, 4.0, 2, 120);
    cfg.warmup = SimTime::from_secs(10);
    cfg.pool.members = (0..4).map(|i| member(i, (i % 2) as u16)).collect();
    cfg.pool.health_check = Some(testkit::health_check(2, 1, 2, 3));
    cfg.lb_zones = vec![
        LbZone {
            zone: Some(0),
            weight: 2,
        },
        LbZone {
            zone: Some(1),
            weight: 1,
        },
    ];
    for b in &mut cfg.backends {
        b.queue_limit = 5;
    }
    cfg.backends[3].service_time = Distribution::LogNormal {
        mean_ms: 4.0,
        p99_ms: 30.0,
    };
    let w = &mut cfg.workload;
    w.requests_per_connection = RequestsPerConnection::Geometric { mean: 3.0 };
    w.think_time = Some(Distribution::Exponential { mean_ms: 5.0 });
    w.timeout = Some(SimTime::from_millis(20));
    w.clients.popularity = Popularity::Zipf(1.1);
    w.uris = vec!["/a".into(), "/b".into()];
    cfg.timeline = vec![
        TimedEvent {
            at: SimTime::from_secs(50),
            action: Action::SetFailure {
                member: 1,
                failure: Failure::Refuse,
            },
        },
        TimedEvent {
            at: SimTime::from_secs(70),
            action: Action::SetFailure {
                member: 1,
                failure: Failure::None,
            },
        },
        TimedEvent {
            at: SimTime::from_secs(80),
            action: Action::SetRate(500.0),
        },
    ];
    cfg
}

/// L = λW on a run with every kind of outcome.
#[test]
fn littles_law_holds() {
    let cfg = busy_config();
    let mut soj = Sojourn {
        warmup: cfg.warmup,
        ..Sojourn::default()
    };
    let run = pipeline::simulate(&cfg, Limits::default(), &mut soj).unwrap();
    let report = run.report(&cfg);
    let out = run.output;
    let s = &report.summary;
    assert!(s.failed > 0 && s.rejected > 0 && s.completed > 0, "{s:?}");
    assert!(s.cross_az_fraction > 0.2, "{}", s.cross_az_fraction);
    assert_eq!(s.requests, s.completed + s.failed + s.rejected + s.reset);
    let window = (cfg.duration - cfg.warmup).as_secs_f64();
    let lambda = soj.count as f64 / window;
    let w = soj.sum_ns as f64 / soj.count as f64 / 1e9;
    let l = out.mean_in_system;
    // only the requests straddling the window edges differ: a few W out of 110 s
    assert!(
        (l - lambda * w).abs() < 1e-3 * l,
        "L {l} vs λW {}",
        lambda * w
    );
}

fn run_bytes(cfg: &SimConfig) -> (String, Vec<u8>) {
    let trace = TraceWriter::new(Vec::new(), cfg);
    let run = pipeline::simulate(cfg, Limits::default(), trace).unwrap();
    let json = run.report(cfg).to_json();
    (json, run.observer.finish().unwrap())
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let mut cfg = busy_config();
    cfg.duration = SimTime::from_secs(60);
    let a = run_bytes(&cfg);
    let b = run_bytes(&cfg);
    assert!(a == b, "same seed, different output");
    assert!(a.0.contains("\"health_offline\""));
    assert!(a.1.starts_with(
        b"t_s,request,connection,client,az,member,outcome,latency_ms,status,attempts,method\n"
    ));
    cfg.seed = 2;
    let c = run_bytes(&cfg);
    assert_ne!(a.0, c.0);
    assert_ne!(a.1, c.1);
}

fn notices(cfg: &SimConfig) -> (Vec<(f64, NoticeKind)>, Report) {
    let run = pipeline::simulate(cfg, Limits::default(), ()).unwrap();
    let n = run
        .recorder
        .notices
        .iter()
        .map(|n| (n.at.as_secs_f64(), n.kind.clone()))
        .collect();
    (n, run.report(cfg))
}

/// A crashed member (its port refuses connections, so each probe fails at once) is marked down
/// between (fall − 1)Δ and fallΔ after it dies, and up between (rise − 1)Δ and riseΔ after it
/// returns; without retries, requests sent to it meanwhile fail.
#[test]
fn health_check_detection_delay() {
    let mut cfg = busy_config();
    cfg.workload.timeout = None;
    cfg.front.retry = RetryPolicy::Never;
    cfg.backends = vec![backend(8, 4.0); 4];
    cfg.timeline.truncate(2);
    let (n, report) = notices(&cfg);
    let at = |k: NoticeKind| n.iter().find(|(_, x)| *x == k).expect("notice").0;
    let offline = at(NoticeKind::HealthOffline) - 50.0;
    assert!(offline > 4.0 && offline <= 6.0, "{offline}");
    let online = at(NoticeKind::HealthOnline) - 70.0;
    assert!((2.0..=4.0).contains(&online), "{online}");
    // a quarter of the requests go to member 1 until it is marked down
    let m = &report.members[1];
    let expected = report.summary.requests as f64 / 110.0 / 4.0 * offline;
    let failed = m.failed as f64;
    assert!(
        (failed - expected).abs() < 0.1 * expected,
        "{failed} vs {expected}"
    );
    let others: u64 = report.members.iter().map(|m| m.failed).sum::<u64>() - m.failed;
    assert_eq!(others, 0);
}

/// Long-lived TCP connections on a member whose weight drops to 0: drained, then reset at the
/// drain timeout; without drain, cut at once. HTTP pools have nothing to drain.
#[test]
fn connection_drain_and_cut() {
    let mut cfg = config(2, 20.0, 1.0, 8, 40);
    cfg.pool.protocol = Protocol::Tcp;
    cfg.workload.protocol = Protocol::Tcp;
    cfg.workload.requests_per_connection = RequestsPerConnection::Fixed(100_000);
    cfg.workload.think_time = Some(Distribution::Constant { value_ms: 10.0 });
    cfg.timeline = vec![TimedEvent {
        at: SimTime::from_secs(10),
        action: Action::SetWeight {
            member: 0,
            weight: 0,
        },
    }];
    cfg.pool.drain_timeout = Some(SimTime::from_secs(5));
    let (n, report) = notices(&cfg);
    let started = n.iter().find_map(|(t, k)| match k {
        NoticeKind::DrainStarted(c) => Some((*t, *c)),
        _ => None,
    });
    let reset = n.iter().find_map(|(t, k)| match k {
        NoticeKind::DrainReset(c) => Some((*t, *c)),
        _ => None,
    });
    let (t0, c0) = started.expect("drain started");
    let (t1, c1) = reset.expect("drain reset");
    assert_eq!((t0, t1), (10.0, 15.0));
    // 10 s of 20 conn/s, half to member 0; none of them ends on its own
    assert!(c0 > 50 && c1 == c0, "{c0} {c1}");
    assert_eq!(report.summary.connections.drain_resets, u64::from(c1));
    assert!(report.summary.reset > 0 && report.summary.reset <= u64::from(c1));

    cfg.pool.drain_timeout = None;
    let (n, report) = notices(&cfg);
    let cut = n.iter().find_map(|(t, k)| match k {
        NoticeKind::Cut(c) => Some((*t, *c)),
        _ => None,
    });
    assert_eq!(cut.map(|c| c.0), Some(10.0));
    assert_eq!(report.summary.connections.cuts, u64::from(cut.unwrap().1));

    cfg.pool.protocol = Protocol::Http;
    cfg.workload.protocol = Protocol::Http;
    let (n, report) = notices(&cfg);
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(report.summary.reset, 0);
}

#[test]
fn added_member_goes_online_after_one_probe_and_removal_respects_protection() {
    let mut cfg = config(2, 1000.0, 1.0, 8, 30);
    cfg.pool.health_check = Some(HealthCheck {
        interval: SimTime::from_secs(1),
        timeout: SimTime::from_millis(500),
        rise: 3,
        fall: 3,
        reads_response: false,
    });
    cfg.pool.deletion_protection = true;
    cfg.timeline = vec![
        TimedEvent {
            at: SimTime::from_secs(10),
            action: Action::AddMembers(vec![(member(2, 0), backend(8, 1.0))]),
        },
        TimedEvent {
            at: SimTime::from_secs(20),
            action: Action::RemoveMember(0),
        },
    ];
    let (n, report) = notices(&cfg);
    let kinds: Vec<&NoticeKind> = n.iter().map(|(_, k)| k).collect();
    assert_eq!(
        kinds,
        [
            &NoticeKind::MemberAdded,
            &NoticeKind::HealthOnline,
            &NoticeKind::RemoveRefused
        ]
    );
    assert!(n[1].0 - 10.0 <= 1.0);
    assert_eq!(report.members.len(), 3);
    assert!(report.members[2].requests > 5000);
    assert!(report.members[0].requests > report.members[2].requests);
    assert_eq!(report.summary.failed, 0);
}

#[test]
fn work_estimate_is_enforced() {
    let cfg = config(1, 1e9, 1.0, 1, 3600);
    match pipeline::simulate(&cfg, Limits::default(), ()).err() {
        Some(SimError::TooMuchWork { estimated, limit }) => assert!(estimated > limit),
        other => panic!("{other:?}"),
    }
    let cfg = config(1, 100.0, 1.0, 1, 10);
    let tight = Limits {
        max_events: Some(100),
    };
    assert!(matches!(
        pipeline::simulate(&cfg, tight, ()),
        Err(SimError::TooMuchWork { .. })
    ));
    let raised = Limits {
        max_events: Some(10_000),
    };
    assert!(pipeline::simulate(&cfg, raised, ()).is_ok());
}

#[test]
fn quic_migration_keeps_or_loses_affinity() {
    let mut cfg = config(4, 200.0, 1.0, 8, 20);
    cfg.pool.protocol = Protocol::Quic;
    cfg.workload.protocol = Protocol::Quic;
    cfg.workload.requests_per_connection = RequestsPerConnection::Fixed(5);
    cfg.workload.quic.migration_probability = 0.5;
    let (_, report) = notices(&cfg);
    let c = &report.summary.connections;
    assert!(c.migrations > 1000, "{c:?}");
    assert!(c.migration_resets <= c.migrations);
    assert_eq!(report.summary.reset, c.migration_resets);
}

// Counts this thread's allocations, so parallel tests do not disturb the count.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Steady state allocates nothing per request: doubling the run length adds no allocations
/// beyond a few more doublings of queues reaching new peaks. Also with failing members, retries
/// and the load balancer's response timeouts.
#[test]
fn steady_state_does_not_allocate() {
    let failing = |cfg: &mut SimConfig| {
        cfg.backends[1].failure = Failure::Refuse;
        cfg.backends[2].failure = Failure::Hang;
        cfg.backends[3].failure = Failure::Blackhole;
        cfg.backends[4].failure = Failure::ErrorRate(0.3);
        cfg.front.member_timeout = Some(SimTime::from_millis(50));
        cfg.workload.timeout = None;
        cfg.workload.methods = vec![
            (lbsim::sim::Method::Get, 0.8),
            (lbsim::sim::Method::Post, 0.2),
        ];
    };
    for with_failures in [false, true] {
        let count = |secs| {
            let mut cfg = config(8, 1500.0, 4.0, 1, secs);
            if with_failures {
                failing(&mut cfg);
            }
            let rec = Recorder::new(&cfg);
            let before = ALLOCATIONS.with(Cell::get);
            run(&cfg, Limits::default(), rec).unwrap();
            ALLOCATIONS.with(Cell::get) - before
        };
        let (short, long) = (count(20), count(40));
        assert!(
            long <= short + 8,
            "failures {with_failures}: {short} allocations for 20 s, {long} for 40 s"
        );
    }
}

#[test]
fn outcomes_have_names() {
    assert_eq!(Outcome::Rejected.as_str(), "rejected");
}

/// `loadbalancer.weighted_hashing` reaches every node: under SOURCE_IP, members weighted 1 and 3
/// take about 1/4 and 3/4 of 5,000 clients' requests, against about half each by default.
#[test]
fn weighted_hashing_is_a_scenario_option() {
    let text = |weighted: bool| {
        format!(
            r#"{{"duration_s": 20, "loadbalancer": {{"availability_zones": ["az1", "az2"], "weighted_hashing": {weighted}}},
                "pool": {{"protocol": "TCP", "lb_algorithm": "SOURCE_IP", "members": [
                  {{"address": "10.0.0.1", "protocol_port": 80, "weight": 1}},
                  {{"address": "10.0.0.2", "protocol_port": 80, "weight": 3}}]}},
                "workload": {{"clients": {{"count": 5000}}, "arrivals": {{"rate_per_s": 2000}}}}}}"#
        )
    };
    for (weighted, heavy_share) in [(false, 0.5), (true, 0.75)] {
        let (_, log) = super::degenerate::run_text(&text(weighted));
        let heavy = log.requests.iter().filter(|r| r.member == Some(1)).count();
        let share = heavy as f64 / log.requests.len() as f64;
        assert!(
            (share - heavy_share).abs() < 0.03,
            "weighted {weighted}: {share}"
        );
    }
}
