use super::*;
use crate::model::Algorithm;
use crate::sim::{AttemptObs, MemberOutput, Observer};
use crate::table::Width;
use crate::testkit;
use crate::time::SimTime;
use serde_json::json;

/// Two members; a retried request ending in 504, one retried to success, a refused one and a
/// dropped one behind an ELB L7 listener, 10 s in 1 s buckets.
pub(super) fn report() -> Report {
    let pool = testkit::pool(
        Algorithm::RoundRobin,
        vec![testkit::member("a"), testkit::member("b")],
    );
    let mut config =
        testkit::sim_config(pool, testkit::backend(1, 1.0), 1.0, SimTime::from_secs(10));
    config.front = crate::sim::FrontConfig::elb_default(crate::model::Protocol::Http);
    let mut rec = Recorder::new(&config);
    let obs = |at_ms, member, outcome: Outcome, attempts| {
        testkit::request_obs(SimTime::from_millis(at_ms), member, outcome, attempts)
    };
    let away = |at_ms, member, outcome| AttemptObs {
        arrival: SimTime::from_millis(at_ms),
        request: 0,
        member,
        outcome,
        ended: SimTime::from_millis(at_ms + 5000),
    };
    rec.attempt(&away(1500, 0, Outcome::ConnectTimeout));
    rec.request(&obs(1500, Some(1), Outcome::ResponseTimeout, 2));
    rec.attempt(&away(2500, 0, Outcome::Refused));
    rec.request(&obs(2500, Some(1), Outcome::Ok, 2));
    rec.request(&obs(2600, Some(0), Outcome::Refused, 1));
    rec.request(&obs(3500, None, Outcome::Dropped, 0));
    rec.end();
    let out = RunOutput {
        members: config
            .pool
            .members
            .iter()
            .map(|m| MemberOutput {
                member: m.clone(),
                removed: false,
                peak_connections: 1,
            })
            .collect(),
        events: 10,
        connections: 4,
        drain_resets: 0,
        cuts: 0,
        migrations: 0,
        migration_resets: 0,
        dropped: 1,
        idle_closes: 0,
        mean_in_system: 0.0,
        balancer: crate::balancer::BalancerCounters {
            az_fallbacks: 3,
            ..Default::default()
        },
    };
    Report::new(&config, &out, &rec)
}

#[test]
fn json_report_has_statuses_attempts_and_failures_over_time() {
    let v: serde_json::Value = serde_json::from_str(&report().to_json()).expect("json");
    assert_eq!(v["format_version"], 2);
    let s = &v["summary"];
    assert_eq!(
        (&s["requests"], &s["completed"], &s["failed"]),
        (&json!(4), &json!(1), &json!(3))
    );
    assert_eq!(s["client_errors"], 3);
    assert_eq!(s["client_error_share"], 0.75);
    assert_eq!(
        s["status_codes"],
        json!({"200": 1, "502": 1, "504": 1, "none": 1})
    );
    let outcomes = s["outcomes"].as_object().expect("outcomes");
    assert_eq!(outcomes.len(), Outcome::ALL.len(), "every cause, zeros too");
    assert_eq!(outcomes["response_timeout"], 1);
    assert_eq!(outcomes["server_error"], 0);
    assert_eq!((&s["attempts"], &s["retries"]), (&json!(5), &json!(2)));
    assert_eq!(s["retried_ok"], 1);
    assert_eq!(
        s["picks"],
        json!({"quic_cid_fallbacks": 0, "az_fallbacks": 3, "fail_open_picks": 0,
               "persistence_hits": 0, "persistence_rebinds": 0})
    );
    let m = &v["members"];
    assert_eq!(
        (&m[0]["attempts"], &m[1]["attempts"]),
        (&json!(3), &json!(2))
    );
    assert_eq!(
        m[0]["attempt_failures"],
        json!({"connect_timeout": 1, "refused": 2})
    );
    assert_eq!(m[1]["attempt_failures"], json!({"response_timeout": 1}));
    let c = &v["timeline"]["clients"];
    assert_eq!(c["bucket_s"], 1.0);
    assert_eq!(c["requests"], json!([0, 1, 2, 1, 0, 0, 0, 0, 0, 0]));
    assert_eq!(
        c["failures"],
        json!({
            "refused": [0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
            "response_timeout": [0, 1, 0, 0, 0, 0, 0, 0, 0, 0],
            "dropped": [0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        })
    );
}

#[test]
fn text_report_leads_with_what_the_clients_saw() {
    let text = report().to_text(Width::Full);
    assert!(
        text.contains("\nclients: 1 × 200, 1 × 502, 1 × 504, 1 × no response (75.0 % errors)\n"),
        "{text}"
    );
    assert!(
        text.contains("\nattempts 5  retries 2  retried then ok 1\n"),
        "{text}"
    );
    let header = text
        .lines()
        .find(|l| l.starts_with("member "))
        .expect("table");
    assert!(header.contains(" attempts "), "{header}");
    // member a completed nothing: no latency, rather than a latency of 0
    let a = text.lines().find(|l| l.starts_with("a ")).expect("a's row");
    assert!(a.ends_with("—       —"), "{a}");
    let causes = text
        .lines()
        .skip_while(|l| *l != "failed attempts by cause")
        .nth(1)
        .expect("cause table");
    let names: Vec<&str> = causes.split_whitespace().collect();
    assert_eq!(
        names,
        ["member", "refused", "connect_timeout", "response_timeout"]
    );
    assert_eq!(report().to_text(Width::Full), text, "deterministic");
}
