//! Unit tests of the pipeline stages through `Balancer`.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::testkit;

fn member(key: &str, weight: u32, zone: Option<ZoneId>, tier: Tier) -> Member {
    Member {
        weight,
        zone,
        tier,
        ..testkit::member(key)
    }
}

fn pool(algorithm: Algorithm, members: Vec<Member>) -> PoolConfig {
    PoolConfig {
        zones: vec!["az1".into(), "az2".into()],
        health_check: Some(testkit::health_check(5, 3, 3, 3)),
        ..testkit::pool(algorithm, members)
    }
}

fn req(slot: u32) -> Request<'static> {
    Request {
        client_port: 40000,
        dst_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
        dst_port: 443,
        addr_slot: slot,
        ..testkit::request(IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + slot)))
    }
}

fn picks(b: &mut Balancer, now: SimTime, n: usize) -> Vec<MemberIdx> {
    (0..n)
        .map(|_| b.pick(now, &req(0)).map_or(99, |p| p.member))
        .collect()
}

fn rr(weights: &[u32]) -> PoolConfig {
    let ms = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| member(&format!("m{i}"), w, None, Tier::Primary))
        .collect();
    pool(Algorithm::RoundRobin, ms)
}

const T0: SimTime = SimTime::ZERO;

#[test]
fn nginx_sequence_through_the_pipeline() {
    let mut b = Balancer::new(&rr(&[5, 1, 1]), None, 1, T0);
    assert_eq!(picks(&mut b, T0, 7), [0, 0, 1, 0, 2, 0, 0]);
}

#[test]
fn eligibility() {
    let mut b = Balancer::new(&rr(&[1, 1, 1, 1, 0]), None, 1, T0);
    b.set_health(T0, 0, Health::Offline);
    b.set_enabled(1, false);
    b.set_enabled(2, false);
    assert_eq!(picks(&mut b, T0, 3), [3, 3, 3]);
    b.set_weight(T0, 3, 0);
    assert_eq!(b.pick(T0, &req(0)), None);
    let added = b.add_member(T0, member("new", 1, None, Tier::Primary));
    assert_eq!(b.pick(T0, &req(0)), None, "INITIAL is not eligible");
    b.set_health(T0, added, Health::Online);
    assert_eq!(picks(&mut b, T0, 2), [added, added]);
}

#[test]
fn standby_and_master_slave_tiers() {
    let ms = vec![
        member("p", 1, None, Tier::Primary),
        member("s1", 1, None, Tier::Standby),
        member("s2", 1, None, Tier::Standby),
    ];
    let mut b = Balancer::new(&pool(Algorithm::RoundRobin, ms), None, 1, T0);
    assert_eq!(picks(&mut b, T0, 3), [0, 0, 0]);
    b.set_health(T0, 0, Health::Offline);
    assert_eq!(picks(&mut b, T0, 4), [1, 2, 1, 2]);
    b.set_health(T0, 0, Health::Online);
    assert_eq!(picks(&mut b, T0, 2), [0, 0]);

    let ms = vec![
        member("master", 1, None, Tier::Master),
        member("slave", 1, None, Tier::Slave),
    ];
    let mut b = Balancer::new(&pool(Algorithm::LeastConnections, ms), None, 1, T0);
    assert_eq!(picks(&mut b, T0, 2), [0, 0]);
    b.set_health(T0, 0, Health::Offline);
    assert_eq!(picks(&mut b, T0, 2), [1, 1]);
}

fn az_pool(pct: u8, fallback: AzFallback) -> PoolConfig {
    // Members 0..3 in az 0 (local), 3..5 in az 1.
    let ms = (0..5)
        .map(|i| {
            member(
                &format!("m{i}"),
                1,
                Some(if i < 3 { 0 } else { 1 }),
                Tier::Primary,
            )
        })
        .collect();
    let mut p = pool(Algorithm::RoundRobin, ms);
    p.az_affinity = Some(AzAffinity {
        threshold: AzThreshold::Percentage(pct),
        fallback,
    });
    p
}

fn sorted_set(b: &mut Balancer) -> Vec<MemberIdx> {
    let mut v = picks(b, T0, 30);
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn az_affinity_and_fallbacks() {
    // 66 %: two healthy local members keep affinity; 67 % needs all three.
    let mut b = Balancer::new(&az_pool(66, AzFallback::AllMembers), Some(0), 1, T0);
    b.set_health(T0, 0, Health::Offline);
    assert_eq!(sorted_set(&mut b), [1, 2]);
    assert_eq!(b.counters().az_fallbacks, 0);
    for (fallback, want) in [
        (AzFallback::AllMembersOfLocalAz, vec![0, 1, 2]),
        (AzFallback::HealthyMembersOfRemoteAz, vec![3, 4]),
        (AzFallback::AllHealthyMembers, vec![1, 2, 3, 4]),
        (AzFallback::AllMembers, vec![0, 1, 2, 3, 4]),
    ] {
        let mut b = Balancer::new(&az_pool(67, fallback), Some(0), 1, T0);
        b.set_health(T0, 0, Health::Offline);
        assert_eq!(sorted_set(&mut b), want, "{fallback:?}");
        assert_eq!(b.counters().az_fallbacks, 30);
    }
}

#[test]
fn all_offline_forwarding() {
    let mut p = rr(&[1, 1, 0]);
    p.all_offline_forwarding = true;
    let mut b = Balancer::new(&p, None, 1, T0);
    for m in 0..3 {
        b.set_health(T0, m, Health::Offline);
    }
    assert_eq!(sorted_set(&mut b), [0, 1], "weight 0 still excluded");
    assert_eq!(b.counters().fail_open_picks, 30);
    b.set_health(T0, 1, Health::Online);
    assert_eq!(sorted_set(&mut b), [1]);
    // Ignored under AZ affinity.
    let mut p = az_pool(0, AzFallback::AllHealthyMembers);
    p.all_offline_forwarding = true;
    let mut b = Balancer::new(&p, Some(0), 1, T0);
    for m in 0..5 {
        b.set_health(T0, m, Health::Offline);
    }
    assert_eq!(b.pick(T0, &req(0)), None);
}

#[test]
fn source_ip_persistence_times_out_and_rebinds() {
    let mut p = rr(&[1, 1, 1]);
    let minute = SimTime::from_secs(60);
    p.persistence = Some(Persistence::SourceIp { timeout: minute });
    let mut b = Balancer::new(&p, None, 4, T0);
    let first = b.pick(T0, &req(1)).unwrap();
    assert!(!first.persisted);
    // Another client moves the round robin on; client 1 stays bound.
    b.pick(T0, &req(2)).unwrap();
    let again = b.pick(SimTime::from_secs(59), &req(1)).unwrap();
    assert_eq!((again.member, again.persisted), (first.member, true));
    // Refreshed on use: still bound 59 s after the last use, expired after 60 s.
    assert!(b.pick(SimTime::from_secs(118), &req(1)).unwrap().persisted);
    assert!(!b.pick(SimTime::from_secs(178), &req(1)).unwrap().persisted);
    let bound = b.pick(SimTime::from_secs(179), &req(1)).unwrap().member;
    b.set_health(T0, bound, Health::Offline);
    let moved = b.pick(SimTime::from_secs(180), &req(1)).unwrap();
    assert_ne!(moved.member, bound);
    assert!(!moved.persisted);
    let c = b.counters();
    assert_eq!((c.persistence_hits, c.persistence_rebinds), (3, 1));
}

#[test]
fn cookie_persistence_and_slow_start_override() {
    let mut p = rr(&[1, 1]);
    p.persistence = Some(Persistence::HttpCookie {
        timeout: SimTime::from_secs(60),
    });
    let mut b = Balancer::new(&p, None, 1, T0);
    let fresh = b.pick(T0, &req(0)).unwrap();
    let until = Some(SimTime::from_secs(60));
    assert_eq!((fresh.cookie_until, fresh.persisted), (until, false));
    let with_cookie = Request {
        cookie: Some(1),
        ..req(0)
    };
    for _ in 0..3 {
        assert_eq!(
            b.pick(T0, &with_cookie),
            Some(Pick {
                member: 1,
                cookie_until: until,
                persisted: true
            })
        );
    }
    b.set_health(T0, 1, Health::Offline);
    assert_eq!(
        b.pick(T0, &with_cookie),
        Some(Pick {
            member: 0,
            cookie_until: until,
            persisted: false
        })
    );
    assert_eq!(b.counters().persistence_rebinds, 1);
    // With slow start on, persistence is ignored (huawei-semantics §2).
    p.slow_start = Some(SimTime::from_secs(30));
    b.update_pool(T0, &p);
    b.set_health(T0, 1, Health::Online);
    assert!(!b.pick(T0, &with_cookie).unwrap().persisted);
}

#[test]
fn slow_start_ramps_linearly_once() {
    let mut p = rr(&[1, 1]);
    p.slow_start = Some(SimTime::from_secs(100));
    let mut b = Balancer::new(&p, None, 1, T0);
    let new = b.add_member(T0, member("new", 1, None, Tier::Primary));
    let share = |b: &mut Balancer, t: u64| {
        let now = SimTime::from_secs(t);
        let got = picks(b, now, 2100);
        got.iter().filter(|&&m| m == new).count()
    };
    assert_eq!(share(&mut b, 5), 0, "waits for the first ONLINE");
    b.set_health(SimTime::from_secs(10), new, Health::Online);
    assert_eq!(share(&mut b, 10), 0, "ramp starts at 0");
    // 50 s into the ramp: weight 0.5 against 1 + 1 → 1/5 of 2100 picks.
    assert_eq!(share(&mut b, 60), 420);
    b.set_health(SimTime::from_secs(61), new, Health::Offline);
    b.set_health(SimTime::from_secs(62), new, Health::Online);
    assert_eq!(
        share(&mut b, 62),
        700,
        "an unhealthy member leaves the ramp for good"
    );
    // Initial members never ramp, nor do members added to an empty pool.
    let mut b = Balancer::new(&rr(&[]), None, 1, T0);
    let mut p2 = rr(&[]);
    p2.slow_start = Some(SimTime::from_secs(100));
    b.update_pool(T0, &p2);
    let first = b.add_member(T0, member("first", 1, None, Tier::Primary));
    b.set_health(T0, first, Health::Online);
    assert_eq!(picks(&mut b, SimTime::from_secs(1), 2), [first, first]);
}

#[test]
fn quic_cid_hash_and_fallback() {
    let ms = (0..8)
        .map(|i| member(&format!("m{i}"), 1, None, Tier::Primary))
        .collect();
    let mut b = Balancer::new(
        &pool(Algorithm::QuicCid { offset: 1, len: 3 }, ms),
        None,
        1,
        T0,
    );
    let initial = [
        0xc3, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0,
    ];
    let short = [0x41, 0x00, 0x94, 0xc8, 0xf0, 0xff, 0xff, 0xff, 0xff, 0x01];
    let r = |p: &'static [u8]| Request {
        quic_packet: Some(p),
        ..req(0)
    };
    // Same DCID bytes 1..4 → same member, whatever the header form.
    let a = b.pick(T0, &r(Box::leak(Box::new(initial)))).unwrap().member;
    let s = b.pick(T0, &r(Box::leak(Box::new(short)))).unwrap().member;
    assert_eq!(a, s);
    assert_eq!(b.counters().quic_cid_fallbacks, 0);
    let by_ip = b.pick(T0, &req(0)).unwrap().member;
    let truncated = r(Box::leak(Box::new([0xc3, 0, 0, 0, 1, 2, 0x83, 0x94])));
    assert_eq!(b.pick(T0, &truncated).unwrap().member, by_ip);
    assert_eq!(b.counters().quic_cid_fallbacks, 2);
}

/// 1,000 weight toggles on a 10,000-member source-IP pool rebuilt the Maglev table each time;
/// a weight change between non-zero values cannot change an unweighted hash table.
#[test]
fn weight_changes_rebuild_only_what_they_change() {
    let members = (0..4)
        .map(|i| member(&format!("m{i}"), 1, None, Tier::Primary))
        .collect::<Vec<_>>();
    let t = SimTime::ZERO;
    let mut hash = Balancer::new(&pool(Algorithm::SourceIp, members.clone()), None, 16, t);
    let before: Vec<_> = (0..16)
        .map(|s| hash.pick(t, &req(s)).map(|p| p.member))
        .collect();
    let built = hash.counters().rebuilds;
    hash.set_weight(t, 1, 7);
    let after: Vec<_> = (0..16)
        .map(|s| hash.pick(t, &req(s)).map(|p| p.member))
        .collect();
    assert_eq!(before, after);
    assert_eq!(hash.counters().rebuilds, built, "no rebuild for 1 → 7");
    hash.set_weight(t, 1, 0);
    hash.pick(t, &req(0));
    assert_eq!(
        hash.counters().rebuilds,
        built + 1,
        "weight 0 removes a candidate"
    );
    let mut rr = Balancer::new(&pool(Algorithm::RoundRobin, members), None, 16, t);
    rr.pick(t, &req(0));
    let built = rr.counters().rebuilds;
    rr.set_weight(t, 1, 7);
    rr.pick(t, &req(0));
    assert_eq!(
        rr.counters().rebuilds,
        built + 1,
        "round robin follows weights"
    );
}

/// A retry's pick takes a member not yet tried, and sets a cookie only where a first pick
/// would: never while slow start is on (persistence stops working then, huawei-semantics §2).
#[test]
fn a_retry_picks_an_untried_member_and_follows_the_persistence_in_force() {
    let cookie = Some(Persistence::HttpCookie {
        timeout: SimTime::from_secs(60),
    });
    for (slow_start, sets_cookie) in [(None, true), (Some(SimTime::from_secs(30)), false)] {
        let mut b = Balancer::new(
            &PoolConfig {
                persistence: cookie.clone(),
                slow_start,
                ..rr(&[1, 1, 1])
            },
            None,
            1,
            T0,
        );
        let first = b.pick(T0, &req(0)).expect("a member");
        assert_eq!(first.cookie_until.is_some(), sets_cookie);
        let retry = b
            .pick_other(T0, &req(0), &[first.member])
            .expect("an untried member");
        assert_ne!(retry.member, first.member);
        assert_eq!(retry.cookie_until.is_some(), sets_cookie, "{slow_start:?}");
        assert!(b.pick_other(T0, &req(0), &[0, 1, 2]).is_none());
    }
}
