//! API changes reach each LB node after its own delay (elb_faq_0125: "within 5 s"), in the order
//! they were made.

use crate::degenerate::run_text;
use lbsim::sim::NoticeKind;
use lbsim::time::SimTime;

/// Four LB nodes (one per AZ) in front of two HTTP members; `events` and `lb` are spliced in.
fn scenario(events: &str, lb: &str) -> String {
    format!(
        r#"{{"duration_s": 30, "seed": 7,
            "pool": {{"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
              "members": [{{"address": "10.0.0.1", "protocol_port": 80, "availability_zone": "az1"}},
                          {{"address": "10.0.0.2", "protocol_port": 80, "availability_zone": "az1"}}]}},
            "loadbalancer": {{"availability_zones": ["az1", "az2", "az3", "az4"] {lb}}},
            "workload": {{"arrivals": {{"rate_per_s": 2000}}}},
            "events": [{events}]}}"#
    )
}

/// Per LB node, the arrival of the last request sent to member 1.
fn last_to_second_member(events: &str, lb: &str) -> Vec<SimTime> {
    let (_, log) = run_text(&scenario(events, lb));
    let mut last = vec![SimTime::ZERO; 4];
    for r in log.requests.iter().filter(|r| r.member == Some(1)) {
        let node = usize::from(r.lb_node);
        last[node] = last[node].max(r.arrival);
    }
    last
}

#[test]
fn a_weight_change_reaches_each_node_within_five_seconds() {
    let zero = r#"{"at_s": 10, "set_weight": {"member": "10.0.0.2", "weight": 0}}"#;
    let t10 = SimTime::from_secs(10);
    // the default for an ELB pool: each node within 5 s, not all at once
    let last = last_to_second_member(zero, "");
    for t in &last {
        assert!(*t > t10 && *t <= SimTime::from_secs(15), "{last:?}");
    }
    assert!(
        last.iter().any(|t| *t != last[0]),
        "every node at once: {last:?}"
    );
    // 0: at once, on every node
    let last = last_to_second_member(zero, r#", "propagation_s": 0"#);
    assert!(last.iter().all(|t| *t <= t10), "{last:?}");
    // the longest delay is a setting
    let last = last_to_second_member(zero, r#", "propagation_s": 1"#);
    assert!(
        last.iter().all(|t| *t <= SimTime::from_secs(11)),
        "{last:?}"
    );
}

/// A node applies changes in the order they were made: a weight set to 0 and back 0.1 s later
/// ends at 1 on every node, although the second change's delay is often the shorter.
#[test]
fn each_node_applies_changes_in_order() {
    let events = r#"{"at_s": 10, "set_weight": {"member": "10.0.0.2", "weight": 0}},
                    {"at_s": 10.1, "set_weight": {"member": "10.0.0.2", "weight": 1}}"#;
    let last = last_to_second_member(events, "");
    // member 1 serves to the end of the run on every node
    for t in &last {
        assert!(*t > SimTime::from_secs(29), "{last:?}");
    }
}

/// The change is announced when it is made; the pool follows (here a drain starts) when the
/// last node has it, as no node sends new connections the old way any longer.
#[test]
fn the_pool_follows_when_the_last_node_has_the_change() {
    let text = r#"{"duration_s": 30, "seed": 3,
        "pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
          "connection_drain": {"enable": true, "timeout": 60},
          "members": [{"address": "10.0.0.1", "protocol_port": 80},
                      {"address": "10.0.0.2", "protocol_port": 80}]},
        "workload": {"arrivals": {"rate_per_s": 200}},
        "events": [{"at_s": 10, "remove_member": "10.0.0.2"}]}"#;
    let (_, log) = run_text(text);
    let at = |kind: fn(&NoticeKind) -> bool| {
        log.notices
            .iter()
            .find(|n| kind(&n.kind))
            .map(|n| n.at)
            .expect("noticed")
    };
    let removed = at(|k| matches!(k, NoticeKind::MemberRemoved));
    let drain = at(|k| matches!(k, NoticeKind::DrainStarted(_)));
    assert_eq!(removed, SimTime::from_secs(10));
    assert!(
        drain > removed && drain <= SimTime::from_secs(15),
        "{drain:?}"
    );
    // the last connection opened to the removed member opened before the drain began
    let mut opened = std::collections::BTreeMap::new();
    for r in log.requests.iter().filter(|r| r.member == Some(1)) {
        let first = opened.entry(r.connection).or_insert(r.arrival);
        *first = (*first).min(r.arrival);
    }
    let last_new = opened.values().max().copied().expect("served");
    assert!(last_new > removed, "no node took the change late");
    assert!(
        last_new <= drain,
        "{last_new:?} after the drain began at {drain:?}"
    );
}
