//! Invariants over whole runs of small random scenarios (proptest, fixed seed): outcome
//! accounting, eligibility after detection, standby tiers, Little's law, determinism.

use super::degenerate::{run_text, Log};
use lbsim::sim::{NoticeKind, Outcome, RunOutput};
use lbsim::time::SimTime;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// One member as generated: weight, standby (APIG `is_backup`).
#[derive(Clone, Debug)]
struct GenMember {
    weight: u32,
    backup: bool,
}

#[derive(Clone, Debug)]
struct Gen {
    apig: bool,
    per_connection: bool,
    algorithm: usize,
    members: Vec<GenMember>,
    capacity: u32,
    queue_limit: u32,
    mean_ms: f64,
    rate: f64,
    duration_s: u32,
    timeout_ms: u32,
    interval_s: u32,
    /// (at_s, member, action: 0 down, 1 up, 2 weight 0, 3 weight 2)
    events: Vec<(f64, usize, u8)>,
    seed: u64,
}

fn scenario() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),
        any::<bool>(),
        0usize..3,
        prop::collection::vec((0u32..4, prop::bool::weighted(0.3)), 1..5),
        (1u32..4, 0u32..20, 1.0f64..15.0),
        (50.0f64..400.0, 4u32..9, 100u32..1000, 2u32..4),
        prop::collection::vec((0.0f64..8.0, 0usize..4, 0u8..4), 0..5),
        any::<u64>(),
    )
        .prop_map(
            |(apig, per_connection, algorithm, members, backend, load, events, seed)| Gen {
                apig,
                per_connection,
                algorithm,
                members: members
                    .into_iter()
                    .map(|(weight, backup)| GenMember { weight, backup })
                    .collect(),
                capacity: backend.0,
                queue_limit: backend.1,
                mean_ms: backend.2,
                rate: load.0,
                duration_s: load.1,
                timeout_ms: load.2,
                interval_s: load.3,
                events,
                seed,
            },
        )
}

fn address(i: usize) -> String {
    format!("10.0.0.{}", i + 1)
}

impl Gen {
    fn json(&self) -> String {
        let n = self.members.len();
        let events: Vec<String> = self
            .events
            .iter()
            .map(|&(at, m, action)| {
                let a = address(m % n);
                let body = match action {
                    0 => format!(r#""member_down": "{a}""#),
                    1 => format!(r#""member_up": "{a}""#),
                    2 => format!(r#""set_weight": {{"member": "{a}", "weight": 0}}"#),
                    _ => format!(r#""set_weight": {{"member": "{a}", "weight": 2}}"#),
                };
                format!(r#"{{"at_s": {at}, {body}}}"#)
            })
            .collect();
        // each member as `object` writes it, comma-separated
        let members = |object: &dyn Fn(String, &GenMember) -> String| {
            let all: Vec<String> = (self.members.iter().enumerate())
                .map(|(i, m)| object(address(i), m))
                .collect();
            all.join(", ")
        };
        let pool = if self.apig {
            let members = members(&|a, m| {
                format!(
                    r#"{{"host": "{a}", "weight": {}, "is_backup": {}}}"#,
                    m.weight, m.backup
                )
            });
            format!(
                r#""vpc_channel": {{"name": "chan", "port": 80, "balance_strategy": {}, "member_type": "ip",
                    "members": [{}],
                    "vpc_health_config": {{"protocol": "TCP", "threshold_normal": 2, "threshold_abnormal": 2, "time_interval": {}, "timeout": 1}}}}"#,
                self.algorithm + 1,
                members,
                self.interval_s
            )
        } else {
            let members = members(&|a, m| {
                format!(
                    r#"{{"address": "{a}", "protocol_port": 80, "weight": {}}}"#,
                    m.weight
                )
            });
            let algorithm = ["ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP"][self.algorithm];
            let protocol = if self.per_connection { "TCP" } else { "HTTP" };
            format!(
                r#""pool": {{"protocol": "{protocol}", "lb_algorithm": "{algorithm}", "members": [{}],
                    "healthmonitor": {{"type": "TCP", "delay": {}, "timeout": 1, "max_retries": 2, "max_retries_down": 2}}}}"#,
                members, self.interval_s
            )
        };
        format!(
            // changes reach the balancers at once: the eligibility checked below is the
            // balancer's (propagation has its own tests)
            r#"{{"seed": {}, "duration_s": {}, {pool}, "loadbalancer": {{"propagation_s": 0}},
                "backends": {{"default": {{"capacity": {}, "queue_limit": {}, "service_time_ms": {{"exponential": {{"mean": {}}}}}}}}},
                "workload": {{"arrivals": {{"rate_per_s": {}}}, "timeout_ms": {}}},
                "events": [{}]}}"#,
            self.seed,
            self.duration_s,
            self.capacity,
            self.queue_limit,
            self.mean_ms,
            self.rate,
            self.timeout_ms,
            events.join(", ")
        )
    }
}

/// The load balancer's view of each member over time, rebuilt from the notices: health-check
/// OFFLINE/ONLINE and weight changes. `state(m, t)` is the view just before `t`.
struct View {
    /// Per member: (time, eligible-after) in time order.
    changes: Vec<Vec<(SimTime, bool)>>,
    initial: Vec<bool>,
    /// Instants at which some notice happened (order within an instant is not observable).
    instants: Vec<SimTime>,
}

impl View {
    fn new(log: &Log, initial_weights: &[u32]) -> View {
        let n = initial_weights.len();
        let mut changes = vec![Vec::new(); n];
        let mut online = vec![true; n];
        let mut weighted: Vec<bool> = initial_weights.iter().map(|w| *w > 0).collect();
        let mut instants = Vec::new();
        for notice in &log.notices {
            instants.push(notice.at);
            let Some(m) = notice.member.map(|m| m as usize).filter(|m| *m < n) else {
                continue;
            };
            match notice.kind {
                NoticeKind::HealthOffline => online[m] = false,
                NoticeKind::HealthOnline => online[m] = true,
                NoticeKind::SetWeight(w) => weighted[m] = w > 0,
                _ => continue,
            }
            changes[m].push((notice.at, online[m] && weighted[m]));
        }
        View {
            changes,
            initial: initial_weights.iter().map(|w| *w > 0).collect(),
            instants,
        }
    }

    fn eligible(&self, m: usize, t: SimTime) -> bool {
        self.changes[m]
            .iter()
            .take_while(|(at, _)| *at < t)
            .last()
            .map_or(self.initial[m], |(_, e)| *e)
    }

    fn ambiguous(&self, t: SimTime) -> bool {
        self.instants.binary_search(&t).is_ok()
    }
}

fn check(g: &Gen, out: &RunOutput, log: &Log) -> Result<(), TestCaseError> {
    let end = SimTime::from_secs(u64::from(g.duration_s));
    let timeout = SimTime::from_millis(u64::from(g.timeout_ms));
    // 1. every arrival ends exactly once, or is still in flight at the end (only possible for
    //    requests that arrived within one client timeout of the end)
    let mut by_id: Vec<Option<SimTime>> = Vec::new();
    for r in &log.requests {
        let i = r.request as usize;
        if by_id.len() <= i {
            by_id.resize(i + 1, None);
        }
        prop_assert!(by_id[i].is_none(), "request {} ended twice", r.request);
        by_id[i] = Some(r.arrival);
    }
    let mut next_arrival: Option<SimTime> = None;
    let mut in_flight = 0u64;
    for slot in by_id.iter().rev() {
        match slot {
            Some(at) => next_arrival = Some(*at),
            None => {
                in_flight += 1;
                // it arrived no later than the next request that did end
                if let Some(next) = next_arrival {
                    prop_assert!(
                        next + timeout >= end,
                        "a request arriving before {next} never ended (timeout {timeout}, end {end})"
                    );
                }
            }
        }
    }
    // 2. no ok request reaches a member the load balancer sees as ineligible
    let weights: Vec<u32> = g.members.iter().map(|m| m.weight).collect();
    let view = View::new(log, &weights);
    for r in &log.requests {
        let Some(m) = r.member.map(|m| m as usize) else {
            continue;
        };
        if r.outcome == Outcome::Ok && !view.ambiguous(r.arrival) {
            prop_assert!(
                view.eligible(m, r.arrival),
                "ok request {} at {} reached member {m}, ineligible then",
                r.request,
                r.arrival
            );
        }
        // 3. standby members get nothing while a primary is eligible
        if g.apig && g.members[m].backup && !view.ambiguous(r.arrival) {
            let primary =
                (0..g.members.len()).find(|&p| !g.members[p].backup && view.eligible(p, r.arrival));
            prop_assert!(
                primary.is_none(),
                "request {} at {} reached standby {m} while primary {primary:?} was eligible",
                r.request,
                r.arrival
            );
        }
    }
    // 4. Little's law: the time-average number in the system times the run length is the total
    //    time spent in it. Requests still in flight at the end add to L·T only: at most one
    //    timeout each for the gaps counted above, and a small share for those that arrived after
    //    the last request that ended (uncounted here), hence the 1 % tolerance above.
    let total: f64 = log.requests.iter().map(|r| r.latency.as_secs_f64()).sum();
    let lt = out.mean_in_system * end.as_secs_f64();
    let slack = in_flight as f64 * timeout.as_secs_f64();
    prop_assert!(
        lt >= total * (1.0 - 1e-9) - 1e-6 && lt <= 1.01 * total + slack + 1e-3,
        "L·T {lt} vs Σ time in system {total} (+ at most {slack} in flight)"
    );
    Ok(())
}

fn config() -> Config {
    Config {
        cases: 48,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(15),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn whole_runs_keep_their_invariants(g in scenario()) {
        let text = g.json();
        let (out, log) = run_text(&text);
        check(&g, &out, &log)?;
        // 5. the same scenario and seed give the same observations
        let (out2, log2) = run_text(&text);
        prop_assert_eq!(&out, &out2);
        prop_assert_eq!(&log.requests, &log2.requests);
        prop_assert_eq!(&log.notices, &log2.notices);
    }
}
