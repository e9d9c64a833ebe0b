//! Properties of the balancer through its public API, on fixed proptest seeds.

use std::net::{IpAddr, Ipv4Addr};

use lbsim::balancer::{Balancer, Health, MemberIdx, Request};
use lbsim::model::{Algorithm, Member, PoolConfig, Protocol, Tier};
use lbsim::testkit;
use lbsim::time::SimTime;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

const T0: SimTime = SimTime::ZERO;

fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x1b5e_ed00),
        failure_persistence: None,
        ..Config::default()
    }
}

fn member(i: usize, weight: u32, tier: Tier) -> Member {
    Member {
        weight,
        tier,
        ..testkit::member_at(&format!("10.0.{}.{}", i / 250, i % 250), 80)
    }
}

fn pool(algorithm: Algorithm, members: Vec<Member>) -> PoolConfig {
    PoolConfig {
        protocol: Protocol::Http,
        health_check: Some(testkit::health_check(5, 2, 2, 3)),
        ..testkit::pool(algorithm, members)
    }
}

fn req(client: u32) -> Request<'static> {
    testkit::request(IpAddr::V4(Ipv4Addr::from(client)))
}

fn pick(b: &mut Balancer, client: u32) -> Option<MemberIdx> {
    b.pick(T0, &req(client)).map(|p| p.member)
}

const ALGORITHMS: [Algorithm; 3] = [
    Algorithm::RoundRobin,
    Algorithm::LeastConnections,
    Algorithm::SourceIp,
];

/// One state change or pick, applied to a balancer and to a plain model of member state.
#[derive(Clone, Debug)]
enum Op {
    Health(usize, u8),
    Weight(usize, u32),
    Enabled(usize, bool),
    Add(u32, bool),
    Open(u32),
    Close(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<usize>(), 0u8..4).prop_map(|(m, h)| Op::Health(m, h)),
        (any::<usize>(), 0u32..4).prop_map(|(m, w)| Op::Weight(m, w)),
        (any::<usize>(), any::<bool>()).prop_map(|(m, e)| Op::Enabled(m, e)),
        (0u32..4, any::<bool>()).prop_map(|(w, s)| Op::Add(w, s)),
        (any::<u32>()).prop_map(Op::Open),
        (any::<usize>()).prop_map(Op::Close),
    ]
}

#[derive(Clone, Copy)]
struct Model {
    weight: u32,
    health: Health,
    enabled: bool,
    standby: bool,
}

impl Model {
    fn eligible(&self) -> bool {
        self.enabled && self.weight > 0 && matches!(self.health, Health::Online | Health::NoMonitor)
    }
}

const HEALTHS: [Health; 4] = [
    Health::Online,
    Health::Offline,
    Health::Initial,
    Health::NoMonitor,
];

/// Applies `ops`, checking every pick against the model; returns the picks.
fn run(algorithm: Algorithm, init: &[(u32, bool)], ops: &[Op]) -> Vec<Option<MemberIdx>> {
    let tier = |standby: bool| {
        if standby {
            Tier::Standby
        } else {
            Tier::Primary
        }
    };
    let members = init
        .iter()
        .enumerate()
        .map(|(i, &(w, s))| member(i, w, tier(s)))
        .collect();
    let mut b = Balancer::new(&pool(algorithm, members), None, 1, T0);
    let mut model: Vec<Model> = init
        .iter()
        .map(|&(weight, standby)| Model {
            weight,
            health: Health::Online,
            enabled: true,
            standby,
        })
        .collect();
    let mut open: Vec<MemberIdx> = Vec::new();
    let mut picks = Vec::new();
    for op in ops {
        let n = model.len();
        match *op {
            Op::Health(m, h) => {
                b.set_health(T0, (m % n) as MemberIdx, HEALTHS[h as usize]);
                model[m % n].health = HEALTHS[h as usize];
            }
            Op::Weight(m, w) => {
                b.set_weight(T0, (m % n) as MemberIdx, w);
                model[m % n].weight = w;
            }
            Op::Enabled(m, e) => {
                b.set_enabled((m % n) as MemberIdx, e);
                model[m % n].enabled = e;
            }
            Op::Add(w, standby) => {
                let idx = b.add_member(T0, member(n, w, tier(standby)));
                assert_eq!(idx as usize, n, "indices are dense and never reused");
                model.push(Model {
                    weight: w,
                    health: Health::Initial,
                    enabled: true,
                    standby,
                });
            }
            Op::Open(client) => {
                let got = pick(&mut b, client);
                let any_primary = model.iter().any(|m| m.eligible() && !m.standby);
                match got {
                    Some(m) => {
                        let s = model[m as usize];
                        assert!(s.eligible(), "picked ineligible member {m}");
                        assert!(
                            !(s.standby && any_primary),
                            "standby {m} picked while a primary is eligible"
                        );
                        b.on_open(m);
                        open.push(m);
                    }
                    None => assert!(
                        !model.iter().any(Model::eligible),
                        "no pick although a member is eligible"
                    ),
                }
                picks.push(got);
            }
            Op::Close(i) => {
                if !open.is_empty() {
                    let m = open.swap_remove(i % open.len());
                    b.on_close(m);
                }
            }
        }
    }
    picks
}

fn init_members() -> impl Strategy<Value = Vec<(u32, bool)>> {
    prop::collection::vec((0u32..5, prop::bool::weighted(0.3)), 1..12)
}

proptest! {
    #![proptest_config(config(96))]

    /// Never an ineligible member, never a standby while a primary is eligible, and the same
    /// inputs give the same picks.
    #[test]
    fn picks_respect_eligibility_and_tiers(
        init in init_members(),
        ops in prop::collection::vec(op(), 1..200),
    ) {
        for algorithm in ALGORITHMS {
            let first = run(algorithm, &init, &ops);
            prop_assert_eq!(&first, &run(algorithm, &init, &ops));
        }
    }

    /// Every window of Σw consecutive picks gives each member exactly its weight.
    #[test]
    fn wrr_windows_are_exact(weights in prop::collection::vec(1u32..12, 1..10)) {
        let members = weights.iter().enumerate().map(|(i, &w)| member(i, w, Tier::Primary)).collect();
        let mut b = Balancer::new(&pool(Algorithm::RoundRobin, members), None, 1, T0);
        let total: u32 = weights.iter().sum();
        let seq: Vec<MemberIdx> = (0..3 * total).map(|_| pick(&mut b, 0).unwrap()).collect();
        for window in seq.windows(total as usize) {
            for (m, &w) in weights.iter().enumerate() {
                prop_assert_eq!(window.iter().filter(|&&x| x as usize == m).count(), w as usize);
            }
        }
    }

    /// A weight change applies from the next pick and keeps every member's smooth-WRR state:
    /// the picks equal nginx's loop run with the same `current_weight` values.
    #[test]
    fn wrr_weight_changes_follow_nginx(
        weights in prop::collection::vec(0u32..8, 2..8),
        changes in prop::collection::vec((any::<usize>(), 0u32..8, 1usize..40), 1..8),
    ) {
        let members = weights.iter().enumerate().map(|(i, &w)| member(i, w, Tier::Primary)).collect();
        let mut b = Balancer::new(&pool(Algorithm::RoundRobin, members), None, 1, T0);
        let mut weights = weights.clone();
        let mut current = vec![0i64; weights.len()];
        for (m, w, picks) in changes {
            let m = m % weights.len();
            b.set_weight(T0, m as MemberIdx, w);
            weights[m] = w;
            for _ in 0..picks {
                prop_assert_eq!(pick(&mut b, 0), nginx_pick(&weights, &mut current));
            }
        }
    }

    /// Least connections picks the lowest active/weight exactly, under open/close churn (ties
    /// follow nginx's weighted round robin: `least_conn`'s own property test compares every
    /// pick with nginx's loop); with opens only no member is more than one connection above its
    /// weight-proportional level relative to any other.
    #[test]
    fn wlc_tracks_weighted_connection_counts(
        weights in prop::collection::vec(1u32..6, 1..10),
        ops in prop::collection::vec(prop::option::weighted(0.6, any::<usize>()), 1..300),
    ) {
        let members = weights.iter().enumerate().map(|(i, &w)| member(i, w, Tier::Primary)).collect();
        let mut b = Balancer::new(&pool(Algorithm::LeastConnections, members), None, 1, T0);
        let n = weights.len();
        let mut active = vec![0u64; n];
        let mut opens_only = true;
        for op in &ops {
            match op {
                None => {
                    let m = pick(&mut b, 0).unwrap() as usize;
                    let w = |i: usize| u64::from(weights[i]);
                    for j in 0..n {
                        let (lhs, rhs) = (active[m] * w(j), active[j] * w(m));
                        prop_assert!(lhs <= rhs, "{m} picked over less loaded {j}");
                    }
                    active[m] += 1;
                    b.on_open(m as MemberIdx);
                    if opens_only {
                        for i in 0..n {
                            for j in 0..n {
                                prop_assert!(active[i].saturating_sub(1) * w(j) <= active[j] * w(i));
                            }
                        }
                    }
                }
                Some(k) => {
                    let busy: Vec<usize> = (0..n).filter(|&i| active[i] > 0).collect();
                    if let Some(&m) = busy.get(k % busy.len().max(1)) {
                        active[m] -= 1;
                        b.on_close(m as MemberIdx);
                        opens_only = false;
                    }
                }
            }
        }
    }
}

fn nginx_pick(weights: &[u32], current: &mut [i64]) -> Option<MemberIdx> {
    let total: i64 = weights.iter().map(|&w| i64::from(w)).sum();
    let mut best: Option<usize> = None;
    for (i, &w) in weights.iter().enumerate() {
        if w == 0 {
            continue;
        }
        current[i] += i64::from(w);
        if best.is_none_or(|b| current[i] > current[b]) {
            best = Some(i);
        }
    }
    let b = best?;
    current[b] -= total;
    Some(b as MemberIdx)
}

/// Owner of each of `keys` client addresses.
fn owners(b: &mut Balancer, keys: u32) -> Vec<MemberIdx> {
    (0..keys)
        .map(|k| pick(b, 0x6400_0000 + k).unwrap())
        .collect()
}

fn hash_pool(n: usize) -> Balancer {
    let members = (0..n).map(|i| member(i, 1, Tier::Primary)).collect();
    Balancer::new(&pool(Algorithm::SourceIp, members), None, 1, T0)
}

/// Share of keys that moved off a surviving member when member `gone` was removed.
fn extra_moves(before: &[MemberIdx], after: &[MemberIdx], gone: MemberIdx) -> f64 {
    let extra = before
        .iter()
        .zip(after)
        .filter(|(b, a)| **b != gone && a != b)
        .count();
    extra as f64 / before.len() as f64
}

#[test]
fn maglev_removal_moves_the_removed_members_keys_and_little_else() {
    const KEYS: u32 = 200_000;
    for n in [10usize, 50, 200] {
        let mut b = hash_pool(n);
        let before = owners(&mut b, KEYS);
        let gone = (n / 3) as MemberIdx;
        b.set_enabled(gone, false);
        let after = owners(&mut b, KEYS);
        let on_gone = before.iter().filter(|&&m| m == gone).count() as f64 / KEYS as f64;
        // Every key of the removed member moves, and it held about 1/N of them.
        assert!(after.iter().all(|&m| m != gone));
        assert!(
            (on_gone - 1.0 / n as f64).abs() < 0.25 / n as f64,
            "n {n}: {on_gone}"
        );
        // Keys of surviving members move only by Maglev's extra disruption, which the paper
        // (§3.4) trades for balance and calls small; with M ≥ 100·N it stays under 1 % of keys
        // (measured 0.2–0.9 %, see docs/model.md).
        let extra = extra_moves(&before, &after, gone);
        assert!(extra < 0.01, "n {n}: extra {extra}");
        // The table depends only on the candidate set: restoring the member restores it.
        b.set_enabled(gone, true);
        assert_eq!(owners(&mut b, KEYS), before);
    }
}

#[test]
fn maglev_load_is_within_a_few_percent_of_the_mean() {
    const N: usize = 20;
    const KEYS: u32 = 1_000_000;
    let mut b = hash_pool(N);
    let mut load = [0u32; N];
    for m in owners(&mut b, KEYS) {
        load[m as usize] += 1;
    }
    let mean = f64::from(KEYS) / N as f64;
    for (m, &l) in load.iter().enumerate() {
        // Table shares differ by at most one slot in 65537; key sampling adds ≈ 0.45 % (1σ).
        assert!(
            (f64::from(l) / mean - 1.0).abs() < 0.03,
            "member {m}: {l} vs {mean}"
        );
    }
}

#[test]
fn hash_algorithms_ignore_weights_but_exclude_weight_zero() {
    let mut b = hash_pool(8);
    let before = owners(&mut b, 20_000);
    b.set_weight(T0, 2, 5);
    assert_eq!(
        owners(&mut b, 20_000),
        before,
        "a weight change moves nothing"
    );
    b.set_weight(T0, 3, 0);
    let after = owners(&mut b, 20_000);
    assert!(after.iter().all(|&m| m != 3));
}

#[test]
#[ignore = "measurement for docs/model.md; run with --ignored --nocapture"]
fn measure_maglev_disruption() {
    const KEYS: u32 = 400_000;
    for weighted in [false, true] {
        for n in [10usize, 50, 100, 200, 500, 1000] {
            let mut b = if weighted {
                weighted_hash_pool(n, true)
            } else {
                hash_pool(n)
            };
            let before = owners(&mut b, KEYS);
            let mut sum = 0.0;
            let mut worst: f64 = 0.0;
            let trials = 5;
            for t in 0..trials {
                let gone = (t * n / trials) as MemberIdx;
                b.set_enabled(gone, false);
                let e = extra_moves(&before, &owners(&mut b, KEYS), gone);
                b.set_enabled(gone, true);
                sum += e;
                worst = worst.max(e);
            }
            let mean = sum / trials as f64;
            println!(
                "weighted {weighted}, n {n:5}: extra mean {:.4}% ({:.2}/N), worst {:.4}% ({:.2}/N)",
                mean * 100.0,
                mean * n as f64,
                worst * 100.0,
                worst * n as f64
            );
        }
    }
}

/// A hash pool of `n` members weighted 1, 2, 3, 4 repeating.
fn weighted_hash_pool(n: usize, weighted_hashing: bool) -> Balancer {
    let members = (0..n)
        .map(|i| member(i, (i % 4 + 1) as u32, Tier::Primary))
        .collect();
    let mut b = Balancer::new(&pool(Algorithm::SourceIp, members), None, 1, T0);
    b.set_weighted_hashing(weighted_hashing);
    b
}

fn shares(owners: &[MemberIdx], n: usize) -> Vec<f64> {
    let mut count = vec![0usize; n];
    for &m in owners {
        count[m as usize] += 1;
    }
    count
        .iter()
        .map(|&c| c as f64 / owners.len() as f64)
        .collect()
}

#[test]
fn weighted_hashing_follows_weights_the_vendor_default_ignores_them() {
    const N: usize = 20;
    const KEYS: u32 = 500_000;
    // vendor: "the member weight is ignored" under hashing
    for s in shares(&owners(&mut weighted_hash_pool(N, false), KEYS), N) {
        assert!((s * N as f64 - 1.0).abs() < 0.05, "{s}");
    }
    // weighted: w / Σw, Σw = 50
    let mut b = weighted_hash_pool(N, true);
    let before = owners(&mut b, KEYS);
    for (i, s) in shares(&before, N).into_iter().enumerate() {
        let expected = (i % 4 + 1) as f64 / 50.0;
        assert!(
            (s / expected - 1.0).abs() < 0.05,
            "member {i}: {s} vs {expected}"
        );
    }
    // a weight change moves traffic to the heavier member; restoring it restores the table
    b.set_weight(T0, 0, 4);
    let heavier = shares(&owners(&mut b, KEYS), N)[0];
    assert!((heavier / (4.0 / 53.0) - 1.0).abs() < 0.05, "{heavier}");
    b.set_weight(T0, 0, 1);
    assert_eq!(owners(&mut b, KEYS), before);
}

#[test]
fn weighted_hashing_removal_moves_the_removed_members_keys_and_little_else() {
    const KEYS: u32 = 200_000;
    for n in [10usize, 50, 200] {
        let mut b = weighted_hash_pool(n, true);
        let before = owners(&mut b, KEYS);
        let gone = (n / 3) as MemberIdx;
        b.set_enabled(gone, false);
        let after = owners(&mut b, KEYS);
        assert!(after.iter().all(|&m| m != gone));
        // as unweighted (measured 0.17–0.88 %, see docs/model.md)
        let extra = extra_moves(&before, &after, gone);
        assert!(extra < 0.01, "n {n}: extra {extra}");
        b.set_enabled(gone, true);
        assert_eq!(owners(&mut b, KEYS), before);
    }
}

proptest! {
    #![proptest_config(config(48))]

    /// Removing any one member of any hash pool, weighted or not, moves every key it held and
    /// otherwise only Maglev's small extra; the member held about its share (1/N, or w/Σw with
    /// weighted hashing); restoring it restores the table.
    #[test]
    fn maglev_removal_is_consistent(
        weights in prop::collection::vec(1u32..5, 2..200),
        gone in any::<prop::sample::Index>(),
        weighted in any::<bool>(),
    ) {
        const KEYS: u32 = 50_000;
        let n = weights.len();
        let members = weights.iter().enumerate().map(|(i, &w)| member(i, w, Tier::Primary)).collect();
        let mut b = Balancer::new(&pool(Algorithm::SourceIp, members), None, 1, T0);
        b.set_weighted_hashing(weighted);
        let gone = gone.index(n);
        let before = owners(&mut b, KEYS);
        b.set_enabled(gone as MemberIdx, false);
        let after = owners(&mut b, KEYS);
        prop_assert!(after.iter().all(|&m| m as usize != gone));
        let share = if weighted {
            f64::from(weights[gone]) / f64::from(weights.iter().sum::<u32>())
        } else {
            1.0 / n as f64
        };
        let held = before.iter().filter(|&&m| m as usize == gone).count() as f64 / f64::from(KEYS);
        // key sampling: 4 standard deviations of a binomial share, plus 10 % of the share
        let margin = 4.0 * (share / f64::from(KEYS)).sqrt() + 0.1 * share;
        prop_assert!((held - share).abs() < margin, "held {} vs {}", held, share);
        let extra = extra_moves(&before, &after, gone as MemberIdx);
        prop_assert!(extra < 0.01, "n {}: extra {}", n, extra);
        b.set_enabled(gone as MemberIdx, true);
        prop_assert_eq!(owners(&mut b, KEYS), before);
    }
}
