//! Legal but degenerate scenarios: not errors, and each behaves as documented.

use crate::support::{json, lbsim};
use lbsim::pipeline::{self, Overrides, Source};
use lbsim::sim::{self, Limits, Notice, NoticeKind, Observer, Outcome, RequestObs};

/// Every observation of a run, in order.
#[derive(Default)]
pub struct Log {
    pub requests: Vec<RequestObs>,
    pub notices: Vec<Notice>,
}

impl Observer for Log {
    fn request(&mut self, obs: &RequestObs) {
        self.requests.push(*obs);
    }
    fn notice(&mut self, notice: &Notice) {
        self.notices.push(notice.clone());
    }
}

/// Prepares (no errors allowed) and runs scenario text.
pub fn run_text(text: &str) -> (sim::RunOutput, Log) {
    let source = Source::Text {
        file: "t.json",
        text,
        trace: None,
    };
    let prepared = pipeline::prepare(&source, &[], Overrides::default())
        .unwrap_or_else(|refusal| panic!("{:?}", refusal.lines()));
    let run =
        pipeline::simulate(&prepared.config, Limits::default(), Log::default()).expect("runs");
    (run.output, run.observer)
}

#[test]
fn all_weights_zero_fails_every_request_with_no_eligible_member() {
    let (_, log) = run_text(
        r#"{"duration_s": 5, "pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": "10.0.0.1", "protocol_port": 80, "weight": 0},
                        {"address": "10.0.0.2", "protocol_port": 80, "weight": 0}]},
            "workload": {"arrivals": {"rate_per_s": 200}}}"#,
    );
    assert!(log.requests.len() > 500, "{} requests", log.requests.len());
    for r in &log.requests {
        assert_eq!((r.member, r.outcome), (None, Outcome::NoMember), "{r:?}");
    }
}

#[test]
fn all_weights_zero_is_counted_as_failed_by_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("zero.json");
    std::fs::write(
        &path,
        r#"{"duration_s": 5, "pool": {"protocol": "TCP", "lb_algorithm": "LEAST_CONNECTIONS",
            "members": [{"address": "10.0.0.1", "protocol_port": 80, "weight": 0}]},
            "workload": {"arrivals": {"rate_per_s": 100}}}"#,
    )
    .expect("write");
    let report = json(lbsim(&["run", "--json", &path.display().to_string()]));
    let summary = &report["summary"];
    assert!(summary["requests"].as_u64().unwrap_or(0) > 300, "{summary}");
    assert_eq!(summary["failed"], summary["requests"], "{summary}");
    assert_eq!(summary["completed"], 0, "{summary}");
}

#[test]
fn all_members_standby_are_served_by_the_standby_tier() {
    // "Standby nodes receive traffic only when all non-standby nodes are faulty": with no
    // non-standby node that condition holds from the start.
    let (_, log) = run_text(
        r#"{"duration_s": 5, "name": "standby-only", "port": 80, "balance_strategy": 1,
            "member_type": "ip",
            "members": [{"host": "10.0.0.1", "is_backup": true, "weight": 3},
                        {"host": "10.0.0.2", "is_backup": true, "weight": 1}],
            "workload": {"arrivals": {"rate_per_s": 400}}}"#,
    );
    let ok = log.requests.iter().filter(|r| r.outcome == Outcome::Ok);
    let mut per_member = [0usize; 2];
    for r in ok {
        per_member[r.member.expect("ok requests have a member") as usize] += 1;
    }
    let total = per_member[0] + per_member[1];
    assert_eq!(total, log.requests.len(), "every request served");
    // weighted round robin among the standby members: 3:1
    assert!(
        per_member[0].abs_diff(3 * per_member[1]) <= 4,
        "{per_member:?}"
    );
}

#[test]
fn every_member_down_fails_every_later_request() {
    let (_, log) = run_text(
        r#"{"duration_s": 20, "pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
            "members": [{"address": "10.0.0.1", "protocol_port": 80},
                        {"address": "10.0.0.2", "protocol_port": 80}],
            "healthmonitor": {"type": "TCP", "delay": 1, "timeout": 1, "max_retries": 2}},
            "workload": {"arrivals": {"rate_per_s": 100}, "timeout_ms": 500},
            "events": [{"at_s": 5, "member_down": "10.0.0.1"}, {"at_s": 5, "member_down": "10.0.0.2"}]}"#,
    );
    let down = lbsim::time::SimTime::from_secs(5);
    let trip = lbsim::sim::DEFAULT_FORWARDING_LATENCY;
    // before the crash every request succeeds, except those still held at the crash: their
    // connections reset at that instant, the listener retries the GET on the other member,
    // which refuses it one round trip later: 502
    let before = log.requests.iter().filter(|r| r.arrival < down);
    assert!(before.clone().all(|r| r.outcome == Outcome::Ok
        || (r.outcome == Outcome::Refused
            && r.status == 502
            && r.attempts == 2
            && r.arrival + r.latency == down + trip)));
    assert!(before.filter(|r| r.outcome == Outcome::Ok).count() > 400);
    let after: Vec<_> = log.requests.iter().filter(|r| r.arrival >= down).collect();
    assert!(after.len() > 1000, "{}", after.len());
    // until health checks notice, each is refused by every member still ONLINE (by both, the
    // retry included, until the first is marked OFFLINE): 502
    assert!(after.iter().all(|r| (r.outcome == Outcome::Refused
        && r.status == 502
        && (1..=2).contains(&r.attempts))
        || r.outcome == Outcome::NoMember));
    assert!(after.iter().any(|r| r.attempts == 2));
    // once health checks have taken both OFFLINE there is no eligible member at all
    let offline = log
        .notices
        .iter()
        .filter(|n| n.kind == NoticeKind::HealthOffline)
        .map(|n| n.at)
        .max()
        .expect("health checks detect the crashes");
    let late: Vec<_> = after.iter().filter(|r| r.arrival > offline).collect();
    assert!(!late.is_empty());
    assert!(
        late.iter()
            .all(|r| r.member.is_none() && r.outcome == Outcome::NoMember && r.status == 503),
        "{:?}",
        late[0]
    );
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/weight-zero-drain.json"
    ))
    .expect("scenario");
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain.json");
    let bom = dir.path().join("bom.json");
    std::fs::write(&plain, &text).expect("write");
    std::fs::write(&bom, format!("\u{feff}{text}")).expect("write");
    let bom = bom.display().to_string();
    let v = lbsim(&["validate", &bom]);
    assert_eq!(v.status.code(), Some(0), "{v:?}");
    let args =
        |p: &str| ["run", "--json", "--duration", "5", "--set", "name=x", p].map(String::from);
    let a = lbsim(
        &args(&plain.display().to_string())
            .each_ref()
            .map(String::as_str),
    );
    let b = lbsim(&args(&bom).each_ref().map(String::as_str));
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout, "a BOM changes nothing");
}

#[test]
fn events_after_the_end_are_a_warning_and_never_happen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("late.json");
    std::fs::write(
        &path,
        r#"{"duration_s": 2, "pool": {"protocol": "HTTP",
            "members": [{"address": "10.0.0.1", "protocol_port": 80}]},
            "events": [{"at_s": 10, "member_down": "10.0.0.1"}]}"#,
    )
    .expect("write");
    let file = path.display().to_string();
    let v = lbsim(&["validate", &file]);
    assert_eq!(v.status.code(), Some(0));
    let text = String::from_utf8_lossy(&v.stdout);
    assert_eq!(
        text.lines().next(),
        Some(format!("{file}: warning: events[0].at_s: 10 is after the end of the run (2 s); the event never happens").as_str())
    );
    let report = json(lbsim(&["run", "--json", &file]));
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(
        report["summary"]["completed"],
        report["summary"]["requests"]
    );
}
