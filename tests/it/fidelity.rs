//! The vendor's API and load balancers, rule by rule: what the API accepts is accepted (with a
//! warning where the docs say a setting has no effect), and the run behaves as the vendor does.
//! Each test names its source.

use lbsim::pipeline::{self, Overrides, Source};
use lbsim::scenario::Severity;

/// `text` prepared as a scenario: its findings (rendered) and, when valid, whether the pool
/// the run simulates has session persistence.
fn prepare(text: &str) -> (Vec<String>, Option<bool>) {
    let source = Source::Text {
        file: "f.json",
        text,
        trace: None,
    };
    match pipeline::prepare(&source, &[], Overrides::default()) {
        Ok(p) => {
            let errors = p.findings.iter().filter(|f| f.severity == Severity::Error);
            assert_eq!(errors.count(), 0);
            let findings = p.findings.iter().map(ToString::to_string).collect();
            (findings, Some(p.config.pool.persistence.is_some()))
        }
        Err(e) => (vec![format!("{e:?}")], None),
    }
}

/// huawei-semantics §3 and the SDKs' `SessionPersistence.type`: "when the pool's protocol is
/// HTTP, only HTTP_COOKIE or APP_COOKIE take effect" — the API accepts SOURCE_IP on an HTTP,
/// HTTPS or GRPC pool, and the pool then has no persistence.
#[test]
fn source_ip_persistence_on_an_http_pool_is_accepted_without_effect() {
    for protocol in ["HTTP", "HTTPS", "GRPC"] {
        let text = format!(
            r#"{{"pool": {{"protocol": "{protocol}", "lb_algorithm": "ROUND_ROBIN",
                  "session_persistence": {{"type": "SOURCE_IP"}},
                  "members": [{{"address": "10.0.0.1", "protocol_port": 80}}]}}}}"#
        );
        let (findings, persistent) = prepare(&text);
        assert_eq!(persistent, Some(false), "{protocol}: {findings:?}");
        assert!(
            findings.iter().any(|f| f.contains("warning")
                && f.contains("pool.session_persistence.type")
                && f.contains("has no effect")),
            "{protocol}: {findings:?}"
        );
    }
    // the cookie types do take effect
    let (_, persistent) = prepare(
        r#"{"pool": {"protocol": "HTTP", "session_persistence": {"type": "HTTP_COOKIE"},
              "members": [{"address": "10.0.0.1", "protocol_port": 80}]}}"#,
    );
    assert_eq!(persistent, Some(true));
}

/// Seed 004 (adding or updating backend servers of a VPC channel): "If the request body contains
/// multiple backend instance definitions with duplicate addresses, the first definition is
/// used." An `add_members` body repeating an address added the last definition (weight 9)
/// without a word; an address the channel has is updated by the body's first definition.
#[test]
fn add_members_to_a_channel_uses_the_first_of_duplicate_definitions() {
    let text = r#"{"vpc_channel": {"name": "chan", "port": 80, "balance_strategy": 1,
          "member_type": "ip", "type": 2,
          "members": [{"host": "10.0.0.1", "weight": 1}, {"host": "10.0.0.2", "weight": 1}]},
        "events": [{"at_s": 1, "add_members": {"members": [
            {"host": "10.0.0.3", "weight": 1}, {"host": "10.0.0.3", "weight": 9},
            {"host": "10.0.0.2", "weight": 5}, {"host": "10.0.0.2", "weight": 7}]}}]}"#;
    let source = Source::Text {
        file: "f.json",
        text,
        trace: None,
    };
    let prepared = pipeline::prepare(&source, &[], Overrides::default()).expect("valid");
    let warned: Vec<String> = prepared
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning && f.rule.contains("first definition wins"))
        .map(|f| f.path.clone())
        .collect();
    assert_eq!(
        warned,
        [
            "events[0].add_members.members[1]",
            "events[0].add_members.members[3]"
        ]
    );
    let mut weights: Vec<(String, u32)> = prepared
        .config
        .timeline
        .iter()
        .flat_map(|e| match &e.action {
            lbsim::sim::Action::AddMembers(added) => added
                .iter()
                .map(|(m, _)| (m.key.clone(), m.weight))
                .collect(),
            lbsim::sim::Action::SetWeight { member, weight } => {
                vec![(format!("#{member}"), *weight)]
            }
            _ => Vec::new(),
        })
        .collect();
    weights.sort();
    // 10.0.0.3 joins with its first weight; 10.0.0.2 (member 1) takes the body's first, 5
    assert_eq!(
        weights,
        [("#1".to_string(), 5), ("10.0.0.3".to_string(), 1)]
    );
}

/// In the vendor's `PUT …/pools/{id}` (seed 000, whose own example answers
/// `"session_persistence": null` for a pool without it) a null turns session persistence off;
/// a field left out keeps the pool's. The update was read as if the field were absent, and
/// persistence stayed on.
#[test]
fn update_pool_with_null_session_persistence_turns_it_off() {
    let persistence_after = |update: &str| {
        let text = format!(
            r#"{{"pool": {{"protocol": "HTTP", "session_persistence": {{"type": "HTTP_COOKIE"}},
                  "members": [{{"address": "10.0.0.1", "protocol_port": 80}}]}},
                "events": [{{"at_s": 1, "update_pool": {{"pool": {update}}}}}]}}"#
        );
        let source = Source::Text {
            file: "f.json",
            text: &text,
            trace: None,
        };
        let config = pipeline::prepare(&source, &[], Overrides::default())
            .expect("valid")
            .config;
        let [lbsim::sim::Action::UpdatePool(pool)] = &config
            .timeline
            .iter()
            .map(|e| e.action.clone())
            .collect::<Vec<_>>()[..]
        else {
            panic!("one update");
        };
        pool.persistence.is_some()
    };
    assert!(!persistence_after(r#"{"session_persistence": null}"#));
    assert!(persistence_after(r#"{"name": "renamed"}"#), "absent: kept");
    assert!(persistence_after(
        r#"{"session_persistence": {"type": "APP_COOKIE", "cookie_name": "s"}}"#
    ));
}

/// Seed 003 (updating a VPC channel): "If the VPC channel is overwritten with an empty backend
/// instance list, all the existing backend instances will be deleted", `members` optional, yet
/// its own 400 example answers APIG.2001 "parameter name:members". A body without `members`
/// deleted every member silently, as `[]` does; it now keeps them, with a warning naming the
/// disagreement, while `[]` still deletes them all.
#[test]
fn update_vpc_channel_without_members_keeps_them() {
    let run = |update: &str| {
        let text = format!(
            r#"{{"vpc_channel": {{"name": "chan", "port": 80, "balance_strategy": 1,
                  "member_type": "ip", "type": 2,
                  "members": [{{"host": "10.0.0.1"}}, {{"host": "10.0.0.2"}}]}},
                "events": [{{"at_s": 1, "update_vpc_channel": {update}}}]}}"#
        );
        let source = Source::Text {
            file: "f.json",
            text: &text,
            trace: None,
        };
        let prepared = pipeline::prepare(&source, &[], Overrides::default()).expect("valid");
        let removed = prepared
            .config
            .timeline
            .iter()
            .filter(|e| matches!(e.action, lbsim::sim::Action::RemoveMember(_)))
            .count();
        let warned = prepared.findings.iter().any(|f| {
            f.severity == Severity::Warning
                && f.path == "events[0].update_vpc_channel"
                && f.rule.contains("has no members")
        });
        (removed, warned)
    };
    let body = |members: &str| {
        format!(
            r#"{{"name": "chan", "port": 80, "balance_strategy": 2, "member_type": "ip",
                 "type": 2{members}}}"#
        )
    };
    assert_eq!(run(&body("")), (0, true));
    assert_eq!(run(&body(r#", "members": []"#)), (2, false));
}
