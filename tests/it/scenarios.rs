//! Every scenario in `scenarios/` runs the command its README line gives and delivers the
//! outcome that line promises. Expected values come from the scenario's numbers (rates, weights,
//! probe settings), never from a previous run.

use lbsim::compare::{self, failover_s, Axis};
use lbsim::report::{MemberReport, Report};
use serde_json::{json, Value};

/// Runs `compare` on `scenarios/NAME.json` with one axis (or none) and returns one report per
/// variant, in value order.
fn variants(name: &str, path: &str, values: &[Value]) -> Vec<Report> {
    if values.is_empty() {
        grid(name, &[])
    } else {
        grid(name, &[(path, values)])
    }
}

/// Runs `compare` on `scenarios/NAME.json` over the cartesian product of the axes (the first
/// varies slowest), one report per variant.
fn grid(name: &str, axes: &[(&str, &[Value])]) -> Vec<Report> {
    let axes: Vec<Axis> = axes
        .iter()
        .map(|(path, values)| Axis {
            path: (*path).into(),
            values: values.to_vec(),
        })
        .collect();
    crate::support::compare_story(name, axes)
        .variants
        .into_iter()
        .map(|mut v| v.runs.remove(0).report)
        .collect()
}

fn run(name: &str) -> Report {
    variants(name, "", &[]).remove(0)
}

fn member<'a>(r: &'a Report, id: &str) -> &'a MemberReport {
    r.members
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("no member {id}"))
}

fn event_time(r: &Report, kind: &str, id: &str) -> Vec<f64> {
    r.events
        .iter()
        .filter(|e| e.kind == kind && e.member.as_deref() == Some(id))
        .map(|e| e.t_s)
        .collect()
}

/// Requests `id` received in the timeline buckets covering [from, to) seconds.
fn requests_between(r: &Report, id: &str, from: f64, to: f64) -> u64 {
    let series = &r.timeline.members[id].requests;
    let b = r.timeline.bucket_s;
    let (lo, hi) = ((from / b).floor() as usize, (to / b).ceil() as usize);
    series[lo.min(series.len())..hi.min(series.len())]
        .iter()
        .sum()
}

fn all_requests_between(r: &Report, from: f64, to: f64) -> u64 {
    r.members
        .iter()
        .map(|m| requests_between(r, &m.id, from, to))
        .sum()
}

fn close(what: &str, got: f64, want: f64, margin: f64) {
    assert!(
        (got - want).abs() <= margin,
        "{what}: {got} vs {want} ± {margin}"
    );
}

/// Detection of a crash (`member_down`: the port refuses, so each probe fails at once) by
/// `fall` failed probes every `delay` s: the first probe after the crash comes within one
/// interval (random phase), so the delay lies in ((fall − 1) × delay, fall × delay].
fn detection_bounds(delay: f64, fall: f64) -> (f64, f64) {
    ((fall - 1.0) * delay, fall * delay)
}

#[test]
fn slow_start_ramp_is_linear_from_first_online() {
    let r = run("slow-start-ramp");
    assert_eq!(r.summary.requests, r.summary.completed, "no failures");
    let online = event_time(&r, "health_online", "web-e")[0];
    // First ONLINE within one probe interval (5 s) of being added at 30 s.
    assert!((30.0..=35.0).contains(&online), "{online}");
    // Four members of weight 10; the new one has weight 10 × (t − online) / 120 (stepped per
    // second). Over a 10 s window its share is the mean of w/(40 + w), within a step of the ramp.
    for start in [40.0, 60.0, 90.0, 120.0, 160.0] {
        let end = start + 10.0;
        let share = |t: f64| {
            let w = (10.0 * (t - online) / 120.0).clamp(0.0, 10.0);
            w / (40.0 + w)
        };
        let want = (0..10).map(|i| share(start + i as f64 + 0.5)).sum::<f64>() / 10.0;
        let got = requests_between(&r, "web-e", start, end) as f64
            / all_requests_between(&r, start, end) as f64;
        // one 1 s step of the ramp is 10/120 of weight ≈ 0.017 of share; sampling noise of
        // ≈ 20,000 requests is below 0.003
        close(&format!("web-e share {start}..{end} s"), got, want, 0.02);
    }
    let others = member(&r, "web-a").latency_ms.p99;
    assert!(member(&r, "web-e").latency_ms.p99 <= 1.2 * others);
}

#[test]
fn slow_start_shields_a_cold_server() {
    let reports = variants(
        "cold-server-no-slow-start",
        "pool.slow_start",
        &[
            json!({"enable": false}),
            json!({"enable": true, "duration": 120}),
        ],
    );
    let (cold, ramped) = (&reports[0], &reports[1]);
    // Cold: 1/5 of 2000 req/s = 400 req/s against 8 servers × 1/(6 × 4 ms) ≈ 333 req/s for 60 s.
    // The queue grows ≈ 67 req/s; once the wait exceeds the 2 s timeout (≈ 667 queued, after
    // ≈ 10 s) about the excess fails: at least (400 − 333) × 50 s of requests.
    let excess = (400.0 - 8.0 / 0.024) * 50.0;
    assert!(
        (cold.summary.failed + cold.summary.rejected) as f64 > excess,
        "{:?}",
        cold.summary
    );
    // Those ≥ 1.5 % of all requests wait up to the 2 s timeout: p99 is at least 1 s.
    assert!(cold.summary.latency_ms.p99 > 1000.0);
    // Slow start: share ≤ 5/45 ≈ 11 % while cold → ≤ 222 req/s against 333: utilisation ≤ 0.67.
    assert_eq!(ramped.summary.failed + ramped.summary.rejected, 0);
    assert!(ramped.summary.latency_ms.p99 < 100.0);
}

#[test]
fn az_fallback_strategies_route_az1_traffic_as_documented() {
    let strategies = [
        "forward_to_all_member_of_local_az",
        "forward_to_healthy_member_of_remote_az",
        "forward_to_all_healthy_member",
        "forward_to_all_member",
    ];
    let reports = variants(
        "az-outage-fallback",
        "pool.az_affinity.az_unhealthy_fallback_strategy",
        &strategies.map(Value::from),
    );
    // az1's node takes half the connections; (failed fraction, cross-AZ fraction) of the whole:
    // local AZ: round robin over a1..a3, two dead; remote: b1..b3; all healthy: a3 + b1..b3;
    // all members: six, two dead, three remote.
    let expected = [
        (0.5 * 2.0 / 3.0, 0.0),
        (0.0, 0.5),
        (0.0, 0.5 * 3.0 / 4.0),
        (0.5 * 2.0 / 6.0, 0.5 * 3.0 / 6.0),
    ];
    for ((r, (failed, cross)), name) in reports.iter().zip(expected).zip(strategies) {
        let n = r.summary.requests as f64;
        // the node split is binomial over ≈ 50,000 connections: sd ≈ 0.0022 of a fraction
        close(name, r.summary.failed as f64 / n, failed, 0.015);
        close(name, r.summary.cross_az_fraction, cross, 0.015);
        // every pick of az1's node after warmup (the AZ failed at 30 s, warmup ends at 40 s)
        // is made by the fallback strategy, and nothing else counts as one
        let fallbacks = r.summary.picks.az_fallbacks as f64 / n;
        close(name, fallbacks, 0.5, 0.015);
    }
    let (delay, fall) = (2.0, 2.0);
    let (lo, hi) = detection_bounds(delay, fall);
    let d = compare::detection_s(&reports[0]).expect("detected");
    assert!(d > lo && d <= hi, "{d}");
}

#[test]
fn standby_takes_over_only_while_both_primaries_are_offline() {
    let r = run("standby-failover");
    let standby = "192.168.1.124";
    let offline = [
        event_time(&r, "health_offline", "192.168.0.5")[0],
        event_time(&r, "health_offline", "192.168.0.6")[0],
    ];
    let failover_at = offline[0].max(offline[1]);
    let back = event_time(&r, "health_online", "192.168.0.5")[0];
    // fall 2, interval 2 s after the second crash at 31 s; the first primary (crashed at 30 s)
    // is offline by 34 s at the latest, before the second's upper bound
    let (lo, hi) = detection_bounds(2.0, 2.0);
    let f = failover_s(&r).expect("failover");
    assert!(f > lo && f <= hi, "{f}");
    close("failover instant", failover_at, 31.0 + f, 1e-9);
    // rise 2 probes after the member comes back at 60 s
    assert!(back > 60.0 && back <= 64.0, "{back}");
    assert_eq!(requests_between(&r, standby, 0.0, failover_at.floor()), 0);
    let during = (failover_at.ceil(), back.floor());
    assert_eq!(
        requests_between(&r, standby, during.0, during.1),
        all_requests_between(&r, during.0, during.1)
    );
    assert!(requests_between(&r, standby, during.0, during.1) > 0);
    assert_eq!(requests_between(&r, standby, back.ceil(), 90.0), 0);
}

#[test]
fn master_slave_failover_time_follows_the_monitor() {
    let delays = [2, 3, 5];
    let reports = variants(
        "master-slave-failover",
        "pool.healthmonitor.delay",
        &delays.map(Value::from),
    );
    for (r, delay) in reports.iter().zip(delays.map(f64::from)) {
        let (lo, hi) = detection_bounds(delay, 3.0);
        let f = failover_s(r).expect("failover");
        assert!(f > lo && f <= hi, "delay {delay}: {f}");
        let back = event_time(r, "health_online", "master")[0];
        assert!(back > 60.0 && back <= 60.0 + 2.0 * delay, "{back}");
        assert_eq!(requests_between(r, "slave", 0.0, 30.0), 0);
        assert!(requests_between(r, "slave", (30.0 + f).ceil(), back.floor()) > 0);
        assert_eq!(requests_between(r, "slave", back.ceil(), 90.0), 0);
    }
}

#[test]
fn quic_cid_keeps_migrating_connections_round_robin_does_not() {
    let reports = variants(
        "quic-migration",
        "pool.lb_algorithm",
        &[json!("QUIC_CID"), json!("ROUND_ROBIN")],
    );
    let (cid, rr) = (&reports[0].summary, &reports[1].summary);
    assert!(cid.connections.migrations > 1000);
    assert_eq!(cid.connections.migration_resets, 0);
    assert_eq!(cid.reset, 0);
    // the new address is bound (or round-robined) to any of 4 members: it stays with p = 1/4
    let frac = rr.connections.migration_resets as f64 / rr.connections.migrations as f64;
    close("round-robin migration resets", frac, 0.75, 0.05);
}

#[test]
fn drain_saves_the_connections_a_rolling_deploy_cuts() {
    let reports = variants(
        "rolling-deploy-drain",
        "pool.connection_drain",
        &[
            json!({"enable": true, "timeout": 30}),
            json!({"enable": false}),
        ],
    );
    let (drain, cut) = (
        &reports[0].summary.connections,
        &reports[1].summary.connections,
    );
    // 100 conn/s living 25 × (200 ms think + 4 ms service) ≈ 5.1 s: ≈ 510 open, spread over the
    // four members; four removals cut ≈ 510 in all. A connection outlives the 30 s drain with
    // probability ≈ e^(−30/5.1) ≈ 0.3 %: ≈ 1.4 expected.
    let open = 100.0 * 25.0 * 0.204;
    assert_eq!(cut.drain_resets, 0);
    close("cuts without drain", cut.cuts as f64, open, 0.3 * open);
    assert_eq!(drain.cuts, 0);
    assert!(drain.drain_resets <= 10, "{drain:?}");
}

/// Σ k^−s for k = 1..=n: the Zipf normaliser.
fn zipf_h(n: u32, s: f64) -> f64 {
    (1..=n).map(|k| (k as f64).powf(-s)).sum()
}

#[test]
fn source_ip_hashing_concentrates_hot_clients() {
    let reports = variants(
        "hot-clients-source-ip",
        "pool.lb_algorithm",
        &[json!("SOURCE_IP"), json!("ROUND_ROBIN")],
    );
    let (hash, rr) = (&reports[0], &reports[1]);
    let max_share = |r: &Report| r.members.iter().map(|m| m.share).fold(0.0, f64::max);
    let top_client = 1.0 / zipf_h(200, 1.2);
    // ≈ 60,000 requests: the top client's own share is within ±0.01 of its expectation
    assert!(max_share(hash) > top_client - 0.01, "{}", max_share(hash));
    close("round robin max share", max_share(rr), 0.2, 0.001);
    // 1000 req/s × 10 ms over 5 × 4 servers: round robin runs each at 50 %; the hot member at
    // ≥ 26 % + its share of the rest runs at ≥ 65 %, and its queueing shows in the p99
    assert!(hash.summary.latency_ms.p99 > 1.2 * rr.summary.latency_ms.p99);
}

#[test]
fn least_connections_spares_the_slow_member() {
    let reports = variants(
        "heterogeneous-backends",
        "pool.lb_algorithm",
        &[json!("ROUND_ROBIN"), json!("LEAST_CONNECTIONS")],
    );
    let (rr, lc) = (&reports[0], &reports[1]);
    // round robin: 180 req/s to a member serving 4 / 20 ms = 200 req/s (utilisation 0.9)
    close("rr slow share", member(rr, "r4-old").share, 0.25, 0.001);
    assert!(member(lc, "r4-old").share < 0.25);
    assert!(rr.summary.latency_ms.p99 > 1.5 * lc.summary.latency_ms.p99);
}

#[test]
fn source_ip_stickiness_behind_nat_idles_a_member_cookies_do_not() {
    let reports = variants(
        "nat-sticky-sessions",
        "pool.protocol",
        &[json!("TCP"), json!("HTTP")],
    );
    let (tcp, http) = (&reports[0], &reports[1]);
    let mut shares: Vec<f64> = tcp.members.iter().map(|m| m.share).collect();
    shares.sort_by(f64::total_cmp);
    // three NAT addresses, each with a third of the 5000 users, bound to three members
    assert_eq!(shares[0], 0.0);
    for s in &shares[1..] {
        close("tcp share", *s, 1.0 / 3.0, 0.02);
    }
    for m in &http.members {
        close("cookie share", m.share, 0.25, 0.02);
    }
    assert!(tcp.summary.latency_ms.p99 > 2.0 * http.summary.latency_ms.p99);
}

#[test]
fn member_group_weight_becomes_each_members_weight() {
    let r = run("member-group-weights");
    for (id, share) in [
        ("192.168.2.10", 3.0 / 8.0),
        ("192.168.2.11", 3.0 / 8.0),
        ("192.168.2.20", 1.0 / 8.0),
        ("192.168.2.21", 1.0 / 8.0),
    ] {
        // smooth WRR gives each member its weight in every window of 8 picks
        close(id, member(&r, id).share, share, 0.001);
    }
}

#[test]
fn uri_hash_gives_each_uri_one_member() {
    let reports = variants(
        "uri-hash-cache",
        "vpc_channel.balance_strategy",
        &[json!(4), json!(1)],
    );
    let (hash, rr) = (&reports[0], &reports[1]);
    let total: u64 = hash.members.iter().map(|m| m.distinct_uris).sum();
    assert!(total <= 1000, "{total}");
    // Round robin: a member serving n requests of Zipf(0.8) over 1000 URIs sees
    // Σ 1 − (1 − p_u)^n distinct ones.
    let h = zipf_h(1000, 0.8);
    for m in &rr.members {
        let n = m.requests as f64;
        let want: f64 = (1..=1000)
            .map(|k| 1.0 - (1.0 - (k as f64).powf(-0.8) / h).powf(n))
            .sum();
        close(&m.id, m.distinct_uris as f64, want, 0.02 * want);
    }
    // every URI requested is requested under both (same random numbers): the union under
    // round robin is at least the largest member's set
    let seen = rr.members.iter().map(|m| m.distinct_uris).max().unwrap();
    assert!(total >= seen, "{total} < {seen}");
}

/// The listener retries what the crashed member refuses: no client sees an error, and each
/// request it meets costs a retry until health checks take it out. Round robin moves on
/// through its sequence on a retry, so the refused member meets every third request (a b→c d),
/// not every fourth; with retries off, the quarter sent to it fail with 502.
#[test]
fn retries_grow_with_the_probe_interval() {
    let delays = [2, 5, 10];
    let reports = grid(
        "health-check-tuning",
        &[
            ("pool.healthmonitor.delay", &delays.map(Value::from)),
            ("listener.enable_member_retry", &[json!(true), json!(false)]),
        ],
    );
    for (pair, delay) in reports.chunks(2).zip(delays.map(f64::from)) {
        let (on, off) = (&pair[0], &pair[1]);
        for r in pair {
            let (lo, hi) = detection_bounds(delay, 3.0);
            let d = compare::detection_s(r).expect("detected");
            assert!(d > lo && d <= hi, "delay {delay}: {d}");
        }
        let d = compare::detection_s(on).expect("detected");
        assert_eq!(on.summary.client_errors, 0, "delay {delay}");
        let want = 1000.0 / 3.0 * d;
        close("retries", on.summary.retries as f64, want, 0.1 * want);
        assert_eq!(on.summary.retried_ok, on.summary.retries);
        let d = compare::detection_s(off).expect("detected");
        let want = 1000.0 / 4.0 * d;
        assert_eq!(off.summary.retries, 0);
        close("failed", off.summary.failed as f64, want, 0.1 * want);
        assert_eq!(
            off.summary.status_codes.get("502"),
            Some(&off.summary.failed)
        );
    }
}

#[test]
fn weight_zero_drains_or_cuts() {
    let reports = variants(
        "weight-zero-drain",
        "pool.connection_drain",
        &[
            json!({"enable": true, "timeout": 20}),
            json!({"enable": false}),
        ],
    );
    let (drain, cut) = (&reports[0], &reports[1]);
    // 60 conn/s × 50 × 204 ms ≈ 10.2 s each: ≈ 204 open per member of three
    let lifetime = 50.0 * 0.204;
    let open = 60.0 * lifetime / 3.0;
    close(
        "cut",
        cut.summary.connections.cuts as f64,
        open,
        0.25 * open,
    );
    // geometric request counts are memoryless: a fraction e^(−20/10.2) is still open at 20 s
    let started: f64 = drain
        .events
        .iter()
        .find(|e| e.kind == "drain_started")
        .and_then(|e| e.detail.split(' ').next()?.parse().ok())
        .expect("drain started");
    let want = started * (-20.0 / lifetime).exp();
    let got = drain.summary.connections.drain_resets as f64;
    close("drain resets", got, want, 3.0 * want.sqrt() + 2.0);
    // the change reaches the last LB node within 5 s of the call at 30 s (elb_faq_0125), and
    // then no new connection reaches ws-2: with drain its old ones end at the deadline,
    // without at once
    let (drained, cut_at) = (
        event_time(drain, "drain_started", "ws-2")[0],
        event_time(cut, "connections_cut", "ws-2")[0],
    );
    for t in [drained, cut_at] {
        assert!(t > 30.0 && t <= 35.0, "{t}");
    }
    assert_eq!(requests_between(drain, "ws-2", drained + 21.0, 90.0), 0);
    assert_eq!(requests_between(cut, "ws-2", cut_at + 1.0, 90.0), 0);
}

#[test]
fn weighted_hashing_sizes_source_ip_traffic_to_the_fleet() {
    let reports = variants(
        "mixed-fleet-source-ip",
        "loadbalancer.weighted_hashing",
        &[json!(false), json!(true)],
    );
    let (vendor, weighted) = (&reports[0], &reports[1]);
    // 2000 req/s × 10 ms: a small member serves 4 / 10 ms = 400 req/s, a large one 1600
    for (id, weight) in [
        ("big-1", 4.0),
        ("big-2", 4.0),
        ("small-1", 1.0),
        ("small-2", 1.0),
    ] {
        // weights ignored: a quarter each (20,000 clients: ±0.02 covers the hash's spread)
        close(id, member(vendor, id).share, 0.25, 0.02);
        // honoured: w / 10
        close(id, member(weighted, id).share, weight / 10.0, 0.02);
    }
    // a quarter of 2000 req/s is 500 req/s for a small member: it overflows and refuses work;
    // a tenth (200 req/s) runs it at half load like the large ones
    for id in ["small-1", "small-2"] {
        assert!(
            member(vendor, id).rejected + member(vendor, id).failed > 1000,
            "{id}"
        );
    }
    assert_eq!(weighted.summary.rejected + weighted.summary.failed, 0);
    assert!(vendor.summary.latency_ms.p99 > 10.0 * weighted.summary.latency_ms.p99);
}

/// The same member failure three ways, retries on and off: retries hide a crash, a vanished
/// host or a hang from clients' status codes, but the last two cost each request that meets
/// the member a full timeout first.
#[test]
fn retry_hides_a_crash_but_not_a_hang() {
    let modes = ["refuse", "blackhole", "hang"];
    let reports = grid(
        "retry-crash-vs-hang",
        &[
            ("events[0].member_fail.failure", &modes.map(Value::from)),
            ("listener.enable_member_retry", &[json!(true), json!(false)]),
        ],
    );
    let rate = 200.0;
    for (pair, mode) in reports.chunks(2).zip(modes) {
        let (on, off) = (&pair[0], &pair[1]);
        let d = compare::detection_s(on).expect("detected");
        // refused probes fail at once; blackholed and hung ones (HTTP) after the 1 s timeout
        let (lo, hi) = match mode {
            "refuse" => (4.0, 6.0),
            _ => (5.0, 7.0),
        };
        assert!(d > lo && d <= hi, "{mode}: {d}");
        assert_eq!(on.summary.client_errors, 0, "{mode}");
        // a refused attempt ends at once and round robin moves on: every third request meets
        // it; a silent one holds its attempt while the sequence goes on: every fourth
        let share = if mode == "refuse" { 1.0 / 3.0 } else { 0.25 };
        let want = rate * share * d;
        close(mode, on.summary.retries as f64, want, 0.15 * want);
        // about 2 % of the requests wait the connect (5 s) or response (3 s) timeout first
        let p99 = on.summary.latency_ms.p99;
        match mode {
            "refuse" => assert!(p99 < 100.0, "{p99}"),
            "blackhole" => assert!((5000.0..5100.0).contains(&p99), "{p99}"),
            _ => assert!((3000.0..3100.0).contains(&p99), "{p99}"),
        }
        let want = rate * 0.25 * d;
        close(mode, off.summary.failed as f64, want, 0.15 * want);
        let code = if mode == "refuse" { "502" } else { "504" };
        assert_eq!(
            off.summary.status_codes.get(code),
            Some(&off.summary.failed)
        );
    }
}

/// A rolling restart under half-POST traffic: with retries, only the POSTs a member was serving
/// when its process died fail (forwarded, so not retried); refused connects are retried for
/// every method.
#[test]
fn posts_in_service_at_a_restart_are_the_only_errors() {
    let reports = grid(
        "post-rolling-deploy",
        &[
            (
                "workload.methods",
                &[json!({"GET": 1}), json!({"GET": 0.5, "POST": 0.5})],
            ),
            ("listener.enable_member_retry", &[json!(true), json!(false)]),
        ],
    );
    let (get_on, get_off, post_on, post_off) = (&reports[0], &reports[1], &reports[2], &reports[3]);
    assert_eq!(get_on.summary.client_errors, 0);
    assert!(get_on.summary.retries > 1000);
    // Little: each member serves 250 req/s × 50 ms = 12.5 at once; half are POSTs; 4 restarts.
    // The count is Poisson: mean 25, sd 5.
    let errors = post_on.summary.client_errors as f64;
    assert!((10.0..=40.0).contains(&errors), "{errors}");
    assert_eq!(
        post_on.summary.status_codes.get("502").copied(),
        Some(errors as u64)
    );
    // retries off: a quarter of 1000 req/s fails for each detection time (2–4 s), four times
    for off in [get_off, post_off] {
        let d = compare::detection_s(off).expect("detected");
        let want = 4.0 * 250.0 * d;
        close("failed", off.summary.failed as f64, want, 0.1 * want);
    }
}

/// A member answering 20 % of its requests with 500 passes every probe and is never retried;
/// a health endpoint broken on every member takes the whole pool OFFLINE, which only fail-open
/// (`pool_health.minimum_healthy_member_count` 1) survives.
#[test]
fn gray_failures_and_a_broken_health_endpoint() {
    let reports = variants(
        "gray-failure",
        "pool.pool_health.minimum_healthy_member_count",
        &[json!(0), json!(1)],
    );
    let (closed, open) = (&reports[0], &reports[1]);
    for r in [closed, open] {
        // 30 s × 125 req/s to catalog-1, a fifth of them 500 (sd ≈ 27)
        let errors = r.summary.status_codes["500"] as f64;
        close("500", errors, 750.0, 100.0);
        assert_eq!(r.summary.retries, 0);
        let first_offline = event_time(r, "health_offline", "catalog-1");
        assert!(first_offline.iter().all(|&t| t > 50.0), "{first_offline:?}");
    }
    // every member OFFLINE within (2, 4] s of 50 s: 503 for 500 req/s until 80 s
    let no_member = closed.summary.status_codes["503"] as f64;
    assert!(
        (500.0 * 26.0..=500.0 * 28.0 + 300.0).contains(&no_member),
        "{no_member}"
    );
    assert_eq!(open.summary.status_codes.get("503"), None);
    assert_eq!(open.summary.client_errors, open.summary.status_codes["500"]);
}
