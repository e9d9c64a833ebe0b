//! Inputs that once crashed the library or were simulated wrongly: the fuzzers' finds,
//! minimized, must now load (and run when valid) without a panic.

use lbsim::pipeline::{self, Overrides, Refusal, Source};
use lbsim::scenario::{self, EventAction, Severity};
use lbsim::sim::{Action, Failure, Limits, SimConfig};
use lbsim::time::SimTime;

/// `text` as a scenario file named `name`.
fn source<'a>(name: &'a str, text: &'a str) -> Source<'a> {
    Source::Text {
        file: name,
        text,
        trace: None,
    }
}

/// A valid scenario's config.
fn config(name: &str, text: &str) -> SimConfig {
    pipeline::prepare(&source(name, text), &[], Overrides::default())
        .expect("valid and runnable")
        .config
}

/// A valid scenario's timeline actions, in time order.
fn actions(text: &str) -> Vec<Action> {
    let timeline = config("r.json", text).timeline;
    timeline.into_iter().map(|e| e.action).collect()
}

/// Prepares and briefly runs `text` as the `scenario` fuzz target does; its findings.
fn survives(text: &str) -> Vec<String> {
    let findings = match pipeline::prepare(&source("r.json", text), &[], Overrides::default()) {
        Ok(prepared) => {
            let limits = Limits {
                max_events: Some(20_000),
            };
            let _ = pipeline::simulate(&prepared.config, limits, ());
            prepared.findings
        }
        Err(Refusal::Unreadable(findings) | Refusal::Invalid(findings)) => findings,
        Err(Refusal::NotRunnable { findings, .. }) => findings,
    };
    findings.iter().map(ToString::to_string).collect()
}

/// A pool member without an address has no key; `add_members` sliced the merged key list at
/// the member count, past its end.
#[test]
fn add_members_to_a_pool_with_an_addressless_member() {
    let findings = survives(
        r#"{"pool": {"protocol": "TCP", "members": [
              {"address": "10.0.0.1", "protocol_port": 80}, {"name": "by-id-only"}]},
            "events": [{"at_s": 1, "add_members": {"members": [{"address": "10.0.0.2", "protocol_port": 80}]}},
                       {"at_s": 2, "member_down": "10.0.0.2"}]}"#,
    );
    assert_eq!(
        findings,
        ["r.json: warning: pool.members[1]: has no address (a GET reference by id?); it is not simulated"]
    );
}

/// The same for a VPC channel whose added member repeats an existing address.
#[test]
fn add_members_to_a_channel_repeating_an_address() {
    let findings = survives(
        r#"{"vpc_channel": {"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip",
              "members": [{"host": "10.0.0.1"}, {"host": "10.0.0.1"}]},
            "events": [{"at_s": 1, "add_members": {"members": [{"host": "10.0.0.1"}]}}]}"#,
    );
    assert!(
        findings
            .iter()
            .all(|f| f.contains(": warning: ") || f.contains(": note: ")),
        "{findings:?}"
    );
}

/// An added member's key depends on the pool's own members (`10.0.0.1` is ambiguous once a
/// second one on another port joins). Validation keyed it `10.0.0.1:81` against the whole pool
/// while the run keyed the added members alone (`10.0.0.1`), dropped the key it did not find,
/// and sent the later `member_down` to member 0.
#[test]
fn added_member_keys_match_validation() {
    let text = r#"{"pool": {"protocol": "TCP", "members": [
          {"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.2", "protocol_port": 80}]},
        "events": [{"at_s": 5, "add_members": {"members": [{"address": "10.0.0.1", "protocol_port": 81}]}},
                   {"at_s": 10, "member_down": "10.0.0.1:81"}]}"#;
    let config = config("r.json", text);
    let actions: Vec<&Action> = config.timeline.iter().map(|e| &e.action).collect();
    let [Action::AddMembers(added), Action::SetFailure { member: down, .. }] = actions[..] else {
        panic!("{actions:?}");
    };
    let keys: Vec<&str> = added.iter().map(|(m, _)| m.key.as_str()).collect();
    assert_eq!(keys, ["10.0.0.1:81"]);
    assert_eq!(*down, 2, "the added member takes index 2");
}

/// Short-header QUIC packets do not carry their DCID's length: the balancer read 8 bytes (its
/// default) whatever length the servers issued, so with 4-byte CIDs every packet after the
/// Initial fell back to the source-IP hash and most migrated connections were reset, although
/// the hashed bytes `[1, 4)` lie inside the CID.
#[test]
fn quic_short_headers_use_the_workloads_cid_length() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/quic-migration.json"
    ))
    .expect("shipped scenario");
    for len in [4, 8, 16] {
        let text = text.replace(r#""dcid_len": 8"#, &format!(r#""dcid_len": {len}"#));
        let config = config("q.json", &text);
        assert_eq!(config.workload.quic.dcid_len, len);
        let out = pipeline::simulate(&config, Limits::default(), ())
            .expect("runs")
            .output;
        assert!(
            out.migrations > 1000,
            "len {len}: {} migrations",
            out.migrations
        );
        assert_eq!(out.migration_resets, 0, "len {len}");
    }
}

/// The HTTP_COOKIE `persistence_timeout` was read and never used: a client kept its cookie
/// forever. One client returning every 100 s with a 1-minute cookie gets a fresh round-robin
/// pick each time; with a 24-hour cookie it stays on one member; 50 s apart, the 1-minute cookie
/// holds (it is renewed with every response).
#[test]
fn http_cookies_expire_after_the_persistence_timeout() {
    let spread = |timeout_min: u32, rate_per_s: f64| {
        let text = format!(
            r#"{{"seed": 1, "duration_s": 1200,
                "pool": {{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                  "session_persistence": {{"type": "HTTP_COOKIE", "persistence_timeout": {timeout_min}}},
                  "members": [{{"address": "10.0.0.1", "protocol_port": 80}},
                              {{"address": "10.0.0.2", "protocol_port": 80}}]}},
                "workload": {{"clients": {{"count": 1}},
                              "arrivals": {{"process": "constant", "rate_per_s": {rate_per_s}}}}}}}"#
        );
        let (_, log) = super::degenerate::run_text(&text);
        let second = log.requests.iter().filter(|r| r.member == Some(1)).count();
        (log.requests.len() - second, second)
    };
    let (a, b) = spread(1, 0.01);
    assert!(a + b >= 11 && a.abs_diff(b) <= 1, "{a} / {b}");
    let (a, b) = spread(1440, 0.01);
    assert!(a == 0 || b == 0, "{a} / {b}");
    let (a, b) = spread(1, 0.02);
    assert!(a == 0 || b == 0, "{a} / {b}");
}

/// A VPC channel body that drops a member and a later one that brings it back: the member
/// returns under a new index, and the events after that (here: its weight set to 0) must reach
/// the new one. They reached the removed copy, so the live member kept its full share.
#[test]
fn channel_events_reach_a_re_added_member() {
    let channel = |members: &str| {
        format!(
            r#"{{"name": "chan", "port": 8080, "balance_strategy": 1, "member_type": "ip", "members": [{members}]}}"#
        )
    };
    let (five, six, six_idle) = (
        r#"{"host": "192.168.0.5"}"#,
        r#"{"host": "192.168.0.6"}"#,
        r#"{"host": "192.168.0.6", "weight": 0}"#,
    );
    let text = format!(
        r#"{{"seed": 1, "duration_s": 90, "vpc_channel": {both},
            "workload": {{"arrivals": {{"rate_per_s": 100}}}},
            "events": [{{"at_s": 20, "update_vpc_channel": {alone}}},
                       {{"at_s": 40, "update_vpc_channel": {both}}},
                       {{"at_s": 60, "update_vpc_channel": {idle}}}]}}"#,
        both = channel(&format!("{five}, {six}")),
        alone = channel(five),
        idle = channel(&format!("{five}, {six_idle}")),
    );
    let (_, log) = super::degenerate::run_text(&text);
    let to = |m: u32, from_s: u64| {
        log.requests
            .iter()
            .filter(|r| r.member == Some(m) && r.arrival >= SimTime::from_secs(from_s))
            .count()
    };
    assert_eq!(to(1, 21), 0, "the removed copy");
    assert!(to(2, 41) > 500, "the re-added member serves from 40 s");
    assert_eq!(to(2, 61), 0, "weight 0 reaches the re-added member");
}

/// A channel update that turns a standby node into an ordinary one (`is_backup` true → false)
/// was dropped: the node stayed standby and idle.
#[test]
fn channel_updates_change_is_backup() {
    let channel = |backup: bool| {
        format!(
            r#"{{"name": "chan", "port": 8080, "balance_strategy": 1, "member_type": "ip",
                "members": [{{"host": "192.168.0.5"}}, {{"host": "192.168.0.6", "is_backup": {backup}}}]}}"#
        )
    };
    let text = format!(
        r#"{{"seed": 1, "duration_s": 60, "vpc_channel": {},
            "workload": {{"arrivals": {{"rate_per_s": 100}}}},
            "events": [{{"at_s": 30, "update_vpc_channel": {}}}]}}"#,
        channel(true),
        channel(false)
    );
    let (out, log) = super::degenerate::run_text(&text);
    let to_six = |from_30s: bool| {
        log.requests
            .iter()
            .filter(|r| r.member == Some(1) && (r.arrival >= SimTime::from_secs(30)) == from_30s)
            .count()
    };
    assert_eq!(to_six(false), 0, "standby while the primary is up");
    // round robin over two primaries: half of ≈ 3000 requests
    let moved = to_six(true);
    assert!((1300..=1700).contains(&moved), "{moved}");
    assert_eq!(out.members[1].member.tier, lbsim::model::Tier::Primary);
}

/// Connection drain of a member set to weight 0 took it out of its AZ's healthy count for the
/// drain timeout, so AZ affinity fell back to the remote AZ for exactly those 30 s; without
/// drain the same member counted. Drain concerns open connections only: az1 keeps its
/// affinity (count threshold 2: a1 and the weight-0, still healthy a2) either way.
#[test]
fn drain_does_not_change_az_affinity() {
    let text = r#"{"seed": 1, "duration_s": 80,
        "pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
          "connection_drain": {"enable": true, "timeout": 30},
          "az_affinity": {"enable": true, "az_minimum_healthy_member_percentage": -1, "az_minimum_healthy_member_count": 2,
                          "az_unhealthy_fallback_strategy": "forward_to_healthy_member_of_remote_az"},
          "members": [
            {"address": "10.0.0.1", "protocol_port": 80, "availability_zone": "az1"},
            {"address": "10.0.0.2", "protocol_port": 80, "availability_zone": "az1"},
            {"address": "10.0.1.1", "protocol_port": 80, "availability_zone": "az2"}],
          "healthmonitor": {"type": "TCP", "delay": 2, "timeout": 1, "max_retries": 2, "max_retries_down": 2}},
        "loadbalancer": {"availability_zones": ["az1"]},
        "workload": {"arrivals": {"rate_per_s": 20}, "requests_per_connection": 20, "think_time_ms": 200},
        "events": [{"at_s": 10, "set_weight": {"member": "10.0.0.2", "weight": 0}}]}"#;
    for drain in [true, false] {
        let text = text.replace(
            r#""enable": true, "timeout": 30"#,
            &format!(r#""enable": {drain}, "timeout": 30"#),
        );
        let (_, log) = super::degenerate::run_text(&text);
        let remote = log.requests.iter().filter(|r| r.member == Some(2)).count();
        assert_eq!(remote, 0, "drain {drain}");
        assert!(log.requests.iter().filter(|r| r.member == Some(0)).count() > 1000);
    }
}

/// Seed 004: adding a member whose address the channel already has updates it. The body was
/// dropped (the weight stayed 1); and a member added by `add_members` was unknown to a later
/// channel update, which added it a second time.
#[test]
fn channel_add_members_updates_and_later_updates_know_the_added() {
    let text = |events: &str| {
        format!(
            r#"{{"seed": 1, "duration_s": 60,
                "vpc_channel": {{"name": "chan", "port": 8080, "balance_strategy": 1, "member_type": "ip",
                  "members": [{{"host": "192.168.0.5"}}, {{"host": "192.168.0.6"}}]}},
                "workload": {{"arrivals": {{"rate_per_s": 100}}}}, "events": [{events}]}}"#
        )
    };
    let updated =
        text(r#"{"at_s": 10, "add_members": {"members": [{"host": "192.168.0.6", "weight": 9}]}}"#);
    let (out, log) = super::degenerate::run_text(&updated);
    assert_eq!(out.members.len(), 2, "updated, not added");
    assert_eq!(out.members[1].member.weight, 9);
    let late = |m: u32| {
        log.requests
            .iter()
            .filter(|r| r.member == Some(m) && r.arrival >= SimTime::from_secs(10))
            .count() as f64
    };
    let share = late(1) / (late(0) + late(1));
    assert!((share - 0.9).abs() < 0.02, "{share}");

    let readded = text(
        r#"{"at_s": 10, "add_members": {"members": [{"host": "192.168.0.7"}]}},
           {"at_s": 30, "update_vpc_channel": {"name": "chan", "port": 8080, "balance_strategy": 1,
              "member_type": "ip", "members": [{"host": "192.168.0.7"}]}}"#,
    );
    let (out, log) = super::degenerate::run_text(&readded);
    assert_eq!(out.members.len(), 3, "192.168.0.7 once");
    assert!(out.members[0].removed && out.members[1].removed && !out.members[2].removed);
    let after = log
        .requests
        .iter()
        .filter(|r| r.arrival >= SimTime::from_secs(31));
    assert!(after.clone().count() > 2500);
    assert!(after.clone().all(|r| r.member == Some(2)));
}

/// A channel update is compared with the channel as earlier events left it: after
/// `remove_member` the body listing the member adds it back, after `set_weight` 0 the body's
/// weight 1 restores it. Both were compared with the channel before those events, so nothing
/// changed and the member stayed out.
#[test]
fn channel_updates_follow_remove_and_set_weight_events() {
    let channel = r#"{"name": "chan", "port": 8080, "balance_strategy": 1, "member_type": "ip",
        "members": [{"host": "192.168.0.5"}, {"host": "192.168.0.6"}]}"#;
    for event in [
        r#"{"at_s": 10, "remove_member": "192.168.0.6"}"#,
        r#"{"at_s": 10, "set_weight": {"member": "192.168.0.6", "weight": 0}}"#,
    ] {
        let text = format!(
            r#"{{"seed": 1, "duration_s": 60, "vpc_channel": {channel},
                "workload": {{"arrivals": {{"rate_per_s": 100}}}},
                "events": [{event}, {{"at_s": 30, "update_vpc_channel": {channel}}}]}}"#
        );
        let (_, log) = super::degenerate::run_text(&text);
        let (mut five, mut six) = (0u32, 0u32);
        for r in log
            .requests
            .iter()
            .filter(|r| r.arrival >= SimTime::from_secs(31))
        {
            if r.member == Some(0) {
                five += 1;
            } else {
                six += 1;
            }
        }
        assert!(five.abs_diff(six) < 100, "{event}: {five} / {six}");
    }
}

/// Switching an HTTP pool from LB cookies (HTTP_COOKIE) to backend cookies (APP_COOKIE) left
/// every client holding its old cookie, which the run then followed as if the backend had set
/// it. A new kind of cookie (or a new cookie name) starts without bindings.
#[test]
fn a_new_cookie_kind_starts_without_bindings() {
    // 50 clients bound by a 24-hour LB cookie; at 600 s the persistence changes
    let moved = |update: &str| {
        let text = format!(
            r#"{{"seed": 1, "duration_s": 1200,
                "pool": {{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                  "session_persistence": {{"type": "HTTP_COOKIE", "persistence_timeout": 1440}},
                  "members": [{{"address": "10.0.0.1", "protocol_port": 80}},
                              {{"address": "10.0.0.2", "protocol_port": 80}}]}},
                "workload": {{"clients": {{"count": 50}}, "arrivals": {{"rate_per_s": 1}}}},
                "events": [{{"at_s": 600, "update_pool": {{"pool": {{"session_persistence": {update}}}}}}}]}}"#
        );
        let (_, log) = super::degenerate::run_text(&text);
        let (mut first, mut last) = (vec![None; 50], vec![None; 50]);
        for r in &log.requests {
            let c = r.client as usize;
            if r.arrival < SimTime::from_secs(600) {
                first[c] = first[c].or(r.member);
            } else {
                last[c] = r.member;
            }
        }
        first
            .iter()
            .zip(&last)
            .filter(|(a, b)| a.is_some() && b.is_some() && a != b)
            .count()
    };
    // the same LB cookie with a new timeout keeps every binding
    assert_eq!(
        moved(r#"{"type": "HTTP_COOKIE", "persistence_timeout": 60}"#),
        0
    );
    // backend cookies start afresh: round robin rebinds about half of the clients elsewhere
    let rebound = moved(r#"{"type": "APP_COOKIE", "cookie_name": "sid"}"#);
    assert!((10..=40).contains(&rebound), "{rebound}");
}

/// Member references were resolved in file order by validation and in time order by the run:
/// a `member_down` at 1 s naming a member that an earlier-listed `add_members` creates at 5 s
/// validated, and the run crashed member 0 instead. References now resolve at the event's time.
#[test]
fn a_member_is_named_only_once_it_exists() {
    let pool = r#""pool": {"protocol": "TCP", "members": [
          {"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.2", "protocol_port": 80}]}"#;
    let add = r#"{"at_s": 5, "add_members": {"members": [{"address": "10.0.0.9", "protocol_port": 80}]}}"#;
    let early =
        format!(r#"{{{pool}, "events": [{add}, {{"at_s": 1, "member_down": "10.0.0.9"}}]}}"#);
    let loaded = scenario::parse("r.json", &early, None, &[]).expect("parses");
    let errors: Vec<String> = loaded.findings.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        ["r.json: events[1].member_down: \"10.0.0.9\" names no member of the pool (did you mean 10.0.0.1?)"]
    );
    // listed first, but later in time than the addition: it names the added member
    let late =
        format!(r#"{{{pool}, "events": [{{"at_s": 9, "member_down": "10.0.0.9"}}, {add}]}}"#);
    let loaded = scenario::parse("r.json", &late, None, &[]).expect("parses");
    let valid = loaded.scenario.as_ref().expect("valid");
    let actions: Vec<&EventAction> = valid.events.iter().map(|e| &e.action).collect();
    assert!(
        matches!(
            actions[..],
            [EventAction::AddMembers(_), EventAction::MemberDown(2)]
        ),
        "{actions:?}"
    );
}

/// A member added by a channel update can be named by later events (validation refused it).
#[test]
fn a_member_added_by_a_channel_update_can_be_named() {
    let text = r#"{"vpc_channel": {"name": "ch1", "port": 80, "balance_strategy": 1, "member_type": "ip",
          "members": [{"host": "10.0.0.1"}, {"host": "10.0.0.2"}]},
        "events": [{"at_s": 5, "update_vpc_channel": {"name": "ch1", "port": 80, "balance_strategy": 1,
                       "member_type": "ip", "members": [{"host": "10.0.0.2"}, {"host": "10.0.0.3"}]}},
                   {"at_s": 10, "member_down": "10.0.0.3"},
                   {"at_s": 11, "member_down": "10.0.0.2"}]}"#;
    let config = config("r.json", text);
    let actions: Vec<&Action> = config.timeline.iter().map(|e| &e.action).collect();
    assert!(
        matches!(
            actions[..],
            [
                Action::RemoveMember(0),
                Action::AddMembers(_),
                Action::UpdatePool(_),
                Action::SetFailure {
                    member: 2,
                    failure: Failure::Refuse
                },
                Action::SetFailure {
                    member: 1,
                    failure: Failure::Refuse
                }
            ]
        ),
        "{actions:?}"
    );
}

/// Errors of `text` as validation reports them.
fn errors(text: &str) -> Vec<String> {
    let loaded = scenario::parse("r.json", text, None, &[]).expect("parses");
    let errors = loaded
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error);
    errors.map(ToString::to_string).collect()
}

const TWO_MEMBERS: &str = r#""pool": {"protocol": "TCP", "members": [
      {"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.2", "protocol_port": 80}]}"#;

/// Addresses are compared as the API compares them, not as strings: `2001:DB8:0::1` is
/// `2001:db8::1` (an ELB pool refuses the second; a channel keeps the first definition).
#[test]
fn ipv6_members_are_compared_as_addresses() {
    let pool = r#"{"pool": {"protocol": "TCP", "members": [
          {"address": "2001:db8::1", "protocol_port": 80}, {"address": "2001:DB8:0::1", "protocol_port": 80}]}}"#;
    assert_eq!(
        errors(pool),
        ["r.json: pool.members[1].address: \"2001:DB8:0::1\" with port 80 duplicates pool.members[0]"]
    );
    let channel = r#"{"vpc_channel": {"name": "ch1", "port": 80, "balance_strategy": 1, "member_type": "ip",
          "members": [{"host": "2001:db8::1"}, {"host": "2001:DB8:0::1"}, {"host": "2001:db8::2"}]}}"#;
    let keys: Vec<String> = config("r.json", channel)
        .pool
        .members
        .iter()
        .map(|m| m.key.clone())
        .collect();
    assert_eq!(keys, ["2001:db8::1", "2001:db8::2"]);
}

/// The same member added twice was dropped without a word; added again after its removal it
/// was dropped too. A member the pool has at the event's time is an error; a removed one may
/// come back (with a new index).
#[test]
fn a_member_is_added_once_while_it_exists() {
    let add = |t: u32| {
        format!(
            r#"{{"at_s": {t}, "add_members": {{"members": [{{"address": "10.0.0.9", "protocol_port": 80}}]}}}}"#
        )
    };
    let twice = format!(r#"{{{TWO_MEMBERS}, "events": [{}, {}]}}"#, add(1), add(2));
    assert_eq!(
        errors(&twice),
        ["r.json: events[1].add_members.members[0].address: \"10.0.0.9\" with port 80 is already a member of the pool (10.0.0.9)"]
    );
    let again = format!(
        r#"{{{TWO_MEMBERS}, "events": [{}, {{"at_s": 2, "remove_member": "10.0.0.9"}}, {},
               {{"at_s": 4, "member_down": "10.0.0.9"}}]}}"#,
        add(1),
        add(3)
    );
    let actions = actions(&again);
    assert!(
        matches!(
            actions[..],
            [
                Action::AddMembers(_),
                Action::RemoveMember(2),
                Action::AddMembers(_),
                Action::SetFailure {
                    member: 3,
                    failure: Failure::Refuse
                }
            ]
        ),
        "{actions:?}"
    );
}

/// An event naming a member removed before it names nothing.
#[test]
fn a_removed_member_cannot_be_named() {
    let text = format!(
        r#"{{{TWO_MEMBERS}, "events": [{{"at_s": 1, "remove_member": "10.0.0.2"}},
               {{"at_s": 2, "member_up": "10.0.0.2"}}]}}"#
    );
    assert_eq!(
        errors(&text),
        ["r.json: events[1].member_up: \"10.0.0.2\" names no member of the pool at its time (it was removed before)"]
    );
}

/// A second master added to a master-slave pool shared the traffic with the first.
#[test]
fn a_master_slave_pool_keeps_one_master() {
    let text = r#"{"pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "type": "instance",
          "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3},
          "members": [{"address": "10.0.0.1", "protocol_port": 80, "role": "master"},
                      {"address": "10.0.0.2", "protocol_port": 80, "role": "slave"}]},
        "events": [{"at_s": 1, "add_members": {"members": [
          {"address": "10.0.0.3", "protocol_port": 80, "role": "master"}]}}]}"#;
    assert_eq!(
        errors(text),
        ["r.json: events[0].add_members.members[0].role: \"master\" adds a second master: a master-slave pool has one master and one slave (seed 002)"]
    );
}

/// Two members with one key: events and `backends.members` could name either.
#[test]
fn two_members_cannot_share_a_key() {
    let text = r#"{"pool": {"protocol": "TCP", "members": [
          {"address": "10.0.0.1", "protocol_port": 80, "name": "10.0.0.2:81"},
          {"address": "10.0.0.2", "protocol_port": 81}, {"address": "10.0.0.2", "protocol_port": 82}]}}"#;
    assert_eq!(
        errors(text),
        ["r.json: pool.members[1]: \"10.0.0.2:81\" has the key of pool.members[0]: give it another name"]
    );
}

/// Responses that reach their clients after the end of the run (here 5 s of cross-AZ latency
/// in a 2 s run) were counted in the time-average number in the system, which then exceeded
/// the requests ever sent. Each client waits at most until the run ends or it gives up.
#[test]
fn the_number_in_the_system_is_bounded_by_the_run() {
    let text = r#"{"duration_s": 2, "loadbalancer": {"availability_zones": ["az1"], "cross_az_latency_ms": 5000},
        "pool": {"protocol": "HTTP", "members": [{"address": "10.0.0.1", "protocol_port": 80, "availability_zone": "az2"}]},
        "backends": {"default": {"service_time_ms": {"constant": {"value": 1}}}},
        "workload": {"arrivals": {"process": "constant", "rate_per_s": 100}}}"#;
    let config = config("r.json", text);
    let run = pipeline::simulate(&config, Limits::default(), ()).expect("runs");
    let l = run.output.mean_in_system;
    // a request arriving at t waits until the end: L = 100/s × ∫₀² (2 − t) dt / 2 s = 100
    assert!((99.0..=101.0).contains(&l), "L = {l}");
    let with_timeout = text.replace(
        r#""rate_per_s": 100}"#,
        r#""rate_per_s": 100}, "timeout_ms": 500"#,
    );
    let config = self::config("r.json", &with_timeout);
    let l = pipeline::simulate(&config, Limits::default(), ())
        .expect("runs")
        .output
        .mean_in_system;
    // every client gives up after 0.5 s or at the end: 100/s × (1.5 s × 0.5 s + 0.125 s²) / 2 s
    assert!((43.0..=44.5).contains(&l), "L = {l}");
}

/// Names have the vendor's limit (ELB: 255 characters); lbsim's own names (AZs, the scenario)
/// keep it too. A 70,000-character member key panicked the text report.
#[test]
fn names_have_the_vendors_length_limit() {
    let long = "n".repeat(70_000);
    let text = format!(
        r#"{{"name": "{long}", "pool": {{"protocol": "TCP", "members": [
              {{"address": "10.0.0.1", "protocol_port": 80, "name": "{long}", "availability_zone": "{long}"}}]}}}}"#
    );
    let short = "n".repeat(32);
    assert_eq!(
        errors(&text),
        [
            format!("r.json: pool.members[0].name: \"{short}\" is 70000 characters long; at most 255 are allowed"),
            format!("r.json: pool.members[0].availability_zone: \"{short}\" is 70000 characters long; at most 255 are allowed"),
            format!("r.json: name: \"{short}\" is 70000 characters long; at most 255 are allowed"),
        ]
    );
}

/// Weight toggles on a source-IP pool behind 1,000 LB nodes took minutes of table rebuilds
/// that the work estimate did not count. Nodes with equal candidates now share one table, so
/// each change fills one and the estimate counts that; with AZ affinity every node has its own
/// candidates and table, and the run is refused up front.
#[test]
fn table_rebuilds_count_in_the_work_estimate() {
    let members: Vec<String> = (0..4_000)
        .map(|i| {
            format!(
                r#"{{"address": "10.0.{}.{}", "protocol_port": 80}}"#,
                i / 250,
                i % 250
            )
        })
        .collect();
    let zones: Vec<String> = (0..1000).map(|i| format!(r#""z{i}""#)).collect();
    let events: Vec<String> = (0..20)
        .map(|i| {
            format!(
                r#"{{"at_s": {}, "set_weight": {{"member": "10.0.0.1", "weight": {}}}}}"#,
                i + 1,
                i % 2
            )
        })
        .collect();
    let scenario = |affinity: &str| {
        format!(
            r#"{{"duration_s": 30, "loadbalancer": {{"availability_zones": [{}]}},
                "pool": {{"protocol": "TCP", "lb_algorithm": "SOURCE_IP", "members": [{}] {affinity}}},
                "workload": {{"arrivals": {{"rate_per_s": 10}}}}, "events": [{}]}}"#,
            zones.join(","),
            members.join(","),
            events.join(",")
        )
    };
    let work = |text: &str, max_events: Option<u64>| {
        lbsim::sim::check_work(&config("r.json", text), Limits { max_events })
    };
    // 20 changes × 4,000 members × (1,000 candidate lists × 3 + one table × 25)
    let shared = scenario("");
    assert!(work(&shared, None).is_ok());
    let counted = work(&shared, Some(20 * 4_000 * 3_025));
    assert!(
        matches!(counted, Err(lbsim::sim::SimError::TooMuchWork { .. })),
        "{counted:?}"
    );
    let affinity = r#", "az_affinity": {"enable": true, "az_minimum_healthy_member_percentage": -1,
                       "az_minimum_healthy_member_count": 1}"#;
    let own = work(&scenario(affinity), None);
    assert!(
        matches!(own, Err(lbsim::sim::SimError::TooMuchWork { estimated, .. }) if estimated > 20 * 4_000 * 28_000),
        "{own:?}"
    );
}

/// Control characters from a file (an unknown key, a name) reached the terminal raw; numbers a
/// reader would count digits in are shown in exponent notation.
#[test]
fn findings_are_printable() {
    let lines = |text: &str| -> Vec<String> {
        let loaded = scenario::parse("r.json", text, None, &[]).expect("parses");
        loaded.findings.iter().map(ToString::to_string).collect()
    };
    let key = lines("{\"pool\": {\"protocol\": \"TCP\", \"x\\u001b[31m\": 1}}");
    assert_eq!(key, ["r.json: pool.x\\u{1b}[31m: is not a known field"]);
    // C1 controls (an 8-bit CSI) in a value, and controls in the file's name
    let value = lines(
        r#"{"pool": {"protocol": "TCP", "members": [{"address": "10.0.0.1", "protocol_port": 80}]},
            "events": [{"at_s": 1, "member_down": "\u009b2J"}]}"#,
    );
    assert!(
        value[0].contains("\"\\u{9b}2J\" names no member"),
        "{value:?}"
    );
    let loaded = scenario::parse("e\u{1b}[31m.json", "{}", None, &[]).expect("parses");
    assert!(loaded.findings[0]
        .to_string()
        .starts_with("e\\u{1b}[31m.json: "));
    let late = lines(
        r#"{"duration_s": 1e-300, "pool": {"protocol": "TCP", "members": [{"address": "10.0.0.1", "protocol_port": 80}]},
            "events": [{"at_s": 1, "member_down": "10.0.0.1"}]}"#,
    );
    assert!(
        late.iter()
            .any(|l| l.contains("is after the end of the run (1e-300 s)")),
        "{late:?}"
    );
}

/// A channel update that spelt a member's address another way (`2001:DB8::1`) kept the member
/// under its first spelling, and a later update's removal of it was dropped without a word.
#[test]
fn a_respelt_channel_address_is_the_same_member() {
    let channel = |hosts: &[&str]| {
        let members: Vec<String> = hosts
            .iter()
            .map(|h| format!(r#"{{"host": "{h}"}}"#))
            .collect();
        format!(
            r#"{{"name": "ch1", "port": 80, "balance_strategy": 1, "member_type": "ip", "members": [{}]}}"#,
            members.join(", ")
        )
    };
    let text = format!(
        r#"{{"vpc_channel": {}, "events": [{{"at_s": 1, "update_vpc_channel": {}}},
               {{"at_s": 2, "update_vpc_channel": {}}}]}}"#,
        channel(&["2001:db8::1", "2001:db8::2"]),
        channel(&["2001:DB8::1", "2001:db8::2"]),
        channel(&["2001:db8::2"])
    );
    let actions = actions(&text);
    assert!(
        matches!(
            actions[..],
            [
                Action::UpdatePool(_),
                Action::RemoveMember(0),
                Action::UpdatePool(_)
            ]
        ),
        "{actions:?}"
    );
}

/// Pool and channel rules that an event's body meets are the pool's or the channel's at the
/// event's time, as earlier events (in time order, not file order) left it: an update that
/// turns on `any_port_enable`, changes the algorithm, enables deletion protection or adds a
/// member group changes what a later event may do. Each was judged against the file's pool.
#[test]
fn event_bodies_meet_the_rules_of_the_pool_at_their_time() {
    let pool = |events: &str| {
        format!(
            r#"{{"pool": {{"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
                  "members": [{{"address": "10.0.0.1", "protocol_port": 80}},
                              {{"address": "10.0.0.2", "protocol_port": 80}}]}},
                "events": [{events}]}}"#
        )
    };
    // listed first, at 20 s: persistence after the algorithm became SOURCE_IP at 10 s
    let text = pool(
        r#"{"at_s": 20, "update_pool": {"pool": {"session_persistence": {"type": "SOURCE_IP"}}}},
           {"at_s": 10, "update_pool": {"pool": {"lb_algorithm": "SOURCE_IP"}}}"#,
    );
    let findings = survives(&text);
    assert!(
        findings.iter().any(|f| f.starts_with(
            "r.json: events[0].update_pool.pool.session_persistence: cannot be set with lb_algorithm SOURCE_IP"
        )),
        "{findings:?}"
    );
    // a member without a port, after an update turned on any_port_enable
    let added = r#"{"at_s": 10, "add_members": {"members": [{"address": "10.0.0.3"}]}}"#;
    let findings = survives(&pool(added));
    assert!(
        findings
            .iter()
            .any(|f| f.contains("protocol_port: is required")),
        "{findings:?}"
    );
    let text = pool(&format!(
        r#"{added}, {{"at_s": 5, "update_pool": {{"pool": {{"any_port_enable": true}}}}}}"#
    ));
    assert_eq!(survives(&text), Vec::<String>::new());
    // a removal after deletion protection was turned on is refused by the run, and said so
    let text = pool(
        r#"{"at_s": 10, "remove_member": "10.0.0.2"},
           {"at_s": 5, "update_pool": {"pool": {"member_deletion_protection_enable": true}}}"#,
    );
    let findings = survives(&text);
    assert!(
        findings
            .iter()
            .any(|f| f.contains("events[0].remove_member: will be refused")),
        "{findings:?}"
    );
    // a channel member naming a group that an earlier update created
    let text = r#"{"vpc_channel": {"name": "chan", "port": 80, "balance_strategy": 1,
          "member_type": "ip", "member_groups": [{"member_group_name": "grpa"}],
          "members": [{"host": "10.0.0.1", "member_group_name": "grpa"}]},
        "events": [
          {"at_s": 10, "add_members": {"members": [{"host": "10.0.0.2", "member_group_name": "grpb"}]}},
          {"at_s": 5, "update_vpc_channel": {"name": "chan", "port": 80, "balance_strategy": 1,
            "member_type": "ip",
            "member_groups": [{"member_group_name": "grpa"}, {"member_group_name": "grpb"}],
            "members": [{"host": "10.0.0.1", "member_group_name": "grpa"}]}}]}"#;
    let errors: Vec<String> = survives(text)
        .into_iter()
        .filter(|f| !f.contains("warning"))
        .collect();
    assert_eq!(errors, Vec::<String>::new());
}

/// A trace was held as strings per row and again as lowered arrivals, once per configuration
/// replaying it (every `compare` variant): preparations sharing a cache now share one trace.
#[test]
fn configurations_replaying_one_trace_share_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.csv"),
        "0.1,0,/a,c\n0.2,1,/b\n0.3,0,/c,c\n",
    )
    .unwrap();
    let path = dir.path().join("s.json");
    std::fs::write(
        &path,
        r#"{"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
                      "members": [{"address": "10.0.0.1", "protocol_port": 80}]},
            "workload": {"arrivals": {"trace": "a.csv"}}}"#,
    )
    .unwrap();
    let cache = scenario::trace::Cache::default();
    let prepare = |seed: u64| {
        let sets = [scenario::patch::Setting {
            path: "seed".into(),
            value: seed.into(),
        }];
        let prepared =
            pipeline::prepare(&Source::Shared(&path, &cache), &sets, Overrides::default());
        prepared
            .expect("runnable")
            .config
            .workload
            .trace
            .expect("a trace")
    };
    let (one, two) = (prepare(1), prepare(2));
    assert!(std::sync::Arc::ptr_eq(&one, &two), "one trace for both");
    assert_eq!(one.connections.len(), 2);
    assert_eq!(one.request_uris, [0, 2, 1]);
}

/// A pool member removed and added again took the key `address:port`, because the pool's own
/// members' keys were reserved for the whole run: a later event naming it by its address was
/// refused ("it was removed before"), against the documented rule that a key names the newest
/// member. Keys now yield only to live members.
#[test]
fn a_re_added_pool_member_takes_its_key_again() {
    let text = r#"{"pool": {"protocol": "TCP", "members": [
          {"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.2", "protocol_port": 80}]},
        "events": [{"at_s": 5, "remove_member": "10.0.0.1"},
                   {"at_s": 10, "add_members": {"members": [{"address": "10.0.0.1", "protocol_port": 80}]}},
                   {"at_s": 15, "member_down": "10.0.0.1"}]}"#;
    let config = config("r.json", text);
    let actions: Vec<&Action> = config.timeline.iter().map(|e| &e.action).collect();
    let [Action::RemoveMember(0), Action::AddMembers(added), Action::SetFailure { member: 2, .. }] =
        actions[..]
    else {
        panic!("{actions:?}");
    };
    assert_eq!(added[0].0.key, "10.0.0.1");
}

/// `backends.members` could name only the pool's own members: a member added by an event was
/// refused ("names no member of the pool"), so it could only behave as the default.
#[test]
fn backends_may_name_members_added_by_events() {
    let text = r#"{"pool": {"protocol": "TCP", "members": [{"address": "10.0.0.1", "protocol_port": 80}]},
        "backends": {"members": {"web": {"speed": 0.5, "capacity": 3}}},
        "events": [{"at_s": 5, "add_members": {"members": [{"name": "web", "address": "10.0.0.5", "protocol_port": 80}]}},
                   {"at_s": 8, "remove_member": "web"},
                   {"at_s": 10, "add_members": {"members": [{"name": "web", "address": "10.0.0.6", "protocol_port": 80}]}}]}"#;
    let config = config("r.json", text);
    let added: Vec<_> = config
        .timeline
        .iter()
        .filter_map(|e| match &e.action {
            Action::AddMembers(added) => Some(&added[0]),
            _ => None,
        })
        .collect();
    assert_eq!(added.len(), 2);
    for (member, backend) in added {
        assert_eq!(member.key, "web");
        assert_eq!((backend.speed, backend.capacity), (0.5, 3));
    }
}

/// IPv6 addresses were compared as text when keys were built: `2001:db8::1` and `2001:DB8::1`
/// on two ports kept their spellings as two keys, so `member_down: "2001:db8::1"` took one of
/// them silently, and `2001:0db8::1` named neither. Keys are built from canonical addresses
/// (`[address]:port` for IPv6 on several ports), and references and backends may spell an
/// address any way.
#[test]
fn ipv6_member_keys_compare_addresses() {
    let text = r#"{"pool": {"protocol": "TCP", "ip_version": "dualstack", "members": [
          {"address": "2001:db8::1", "protocol_port": 80}, {"address": "2001:DB8::1", "protocol_port": 81},
          {"address": "2001:DB8::5", "protocol_port": 81}]},
        "backends": {"members": {"[2001:0db8::1]:81": {"speed": 0.5}}},
        "events": [{"at_s": 3, "member_down": "[2001:DB8::1]:80"}, {"at_s": 4, "member_down": "2001:0db8::5"}]}"#;
    let config = config("r.json", text);
    let keys: Vec<&str> = config.pool.members.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(
        keys,
        ["[2001:db8::1]:80", "[2001:db8::1]:81", "2001:db8::5"]
    );
    assert_eq!(config.backends[1].speed, 0.5);
    let downs: Vec<u32> = actions(text)
        .iter()
        .filter_map(|a| match a {
            Action::SetFailure { member, .. } => Some(*member),
            _ => None,
        })
        .collect();
    assert_eq!(downs, [0, 2]);
    let loaded = scenario::parse(
        "r.json",
        &text.replace("2001:0db8::5", "2001:db8::1"),
        None,
        &[],
    )
    .expect("parses");
    let errors: Vec<String> = loaded.findings.iter().map(ToString::to_string).collect();
    assert!(
        errors.iter().any(|e| e.contains(
            "events[1].member_down: \"2001:db8::1\" is the name or address of 2 members"
        )),
        "an address on two ports names both: {errors:?}"
    );
}

/// A name two live members share (the API allows it; their keys are told apart) was resolved
/// silently: `member_down: "a"` after an `add_members` of another "a" crashed the first, and
/// two pool members named "x" made "x" name "no member". A shared name or address is an error
/// listing the keys to use, while more than one live member has it.
#[test]
fn a_name_live_members_share_is_ambiguous() {
    let errors = |events: &str| -> Vec<String> {
        let text = format!(
            r#"{{"pool": {{"protocol": "TCP", "members": [
                  {{"name": "a", "address": "10.0.0.1", "protocol_port": 80}},
                  {{"name": "x", "address": "10.0.0.2", "protocol_port": 80}},
                  {{"name": "x", "address": "10.0.0.3", "protocol_port": 80}}]}},
                "events": [{events}]}}"#
        );
        let loaded = scenario::parse("r.json", &text, None, &[]).expect("parses");
        loaded.findings.iter().map(ToString::to_string).collect()
    };
    assert_eq!(
        errors(r#"{"at_s": 1, "member_down": "x"}"#),
        ["r.json: events[0].member_down: \"x\" is the name or address of 2 members at its time: name one by its key (10.0.0.2:80, 10.0.0.3:80)"]
    );
    let added = r#"{"at_s": 1, "add_members": {"members": [{"name": "a", "address": "10.0.0.7", "protocol_port": 80}]}}"#;
    assert_eq!(
        errors(&format!(r#"{added}, {{"at_s": 2, "member_down": "a"}}"#)),
        ["r.json: events[1].member_down: \"a\" is the name or address of 2 members at its time: name one by its key (a, 10.0.0.7:80)"]
    );
    // by key, or once one of them is gone, the name is a member's again
    assert!(errors(&format!(
        r#"{added}, {{"at_s": 2, "member_down": "10.0.0.7:80"}}, {{"at_s": 3, "remove_member": "10.0.0.2:80"}},
           {{"at_s": 4, "member_down": "x"}}"#
    ))
    .is_empty());
}
